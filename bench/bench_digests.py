"""Digests at scale: 100,000 subscribers with 3 topics each get one daily digest.

    .venv/bin/python bench/bench_digests.py [--subscribers 100000] [--kill-after 60] [--workers 2]
        [--personal 1.0]

Builds a fresh site with the real HF Daily Papers of ../shared/data, adds the subscribers (each
following 3 of 300 topics cut from real paper titles), starts an SMTP sink on loopback (aiosmtpd,
counting what it accepts), runs `dailypapers digest send` for the first digest day after the
newest featured day, kills it with SIGKILL after `--kill-after` seconds (a random point of the
run), runs it again to the end, and checks that every subscriber got exactly one digest.
Reports the total time, messages/s and the peak RSS of the processes of `digest send` (its
senders included; read from /proc).

With `--personal SHARE`, that share of the subscribers are members who asked for the personal
digest, each keeping 20 papers (two collections of 10, each from one arXiv category: two
interests), so that their digest opens with For you (their own model, fitted in the sender) and,
for those keeping one of the 2% of kept papers given a code link after they were saved, Changed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from dailypapers.database import insert_many, make_engine, make_session_factory, upgrade, utcnow
from dailypapers.digests.models import Subscriber, Topic
from dailypapers.library.models import Collection, CollectionPaper
from dailypapers.members.models import Member
from dailypapers.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
HF_FILE = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl.gz"


class Sink:
    """Counts accepted messages by recipient (and Message-ID); keeps no bodies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.recipients: Counter[str] = Counter()
        self.message_ids: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        head = envelope.content[:4000].decode("utf-8", "replace")
        message_id = next((line[12:].strip() for line in head.splitlines()
                           if line.lower().startswith("message-id:")), "")  # fmt: skip
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.recipients[recipient] += 1
            self.message_ids[message_id] += 1
        return "250 OK"


class PeakMemory:
    """The largest resident set of any process under `digest send` (its senders included),
    read from /proc (VmHWM, each process's high-water mark) twice a second. getrusage's
    RUSAGE_CHILDREN would count the benchmark's own memory too: a child's maximum includes the
    image it was forked from, before it ran `dailypapers`."""

    def __init__(self) -> None:
        self.peak_kib: dict[int, int] = {}
        self.roots: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def watch(self, pid: int) -> None:
        self.roots.add(pid)

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            table: dict[int, tuple[int, str | None]] = {}  # pid -> (parent pid, VmHWM)
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    lines = status.read_text().splitlines()
                except OSError:  # gone meanwhile
                    continue
                fields = dict(line.split(":", 1) for line in lines if ":" in line)
                table[int(fields["Pid"])] = (int(fields["PPid"]), fields.get("VmHWM"))
            for pid, (_, high) in table.items():
                if high is not None and self._descends(pid, table):
                    kib = int(high.split()[0])
                    self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), kib)

    def _descends(self, pid: int, table: dict[int, tuple[int, str | None]]) -> bool:
        for _ in range(10):
            if pid in self.roots:
                return True
            if pid not in table:
                return False
            pid = table[pid][0]
        return False

    def stop(self) -> float:
        """The largest high-water mark seen, in MiB."""
        self._stop.set()
        self._thread.join()
        return max(self.peak_kib.values(), default=0) / 1024


KEPT_PER_COLLECTION = 10
CHANGED_SHARE = 0.02


def add_personal_members(session: Any, count: int, rng: random.Random, now: Any) -> None:
    """Members 1..count (subscribers 1..count are theirs) with the personal digest on, each
    keeping two collections of 10 papers of one category each; then 2% of the kept papers get
    a code link (the watchers' trigger records each change)."""
    from sqlalchemy import select, text

    from dailypapers.papers.models import Paper

    by_category: dict[str, list[int]] = {}
    for paper_id, category in session.execute(select(Paper.id, Paper.primary_category)):
        by_category.setdefault(category or "", []).append(paper_id)
    categories = [c for c, ids in by_category.items() if len(ids) >= 4 * KEPT_PER_COLLECTION]
    connection = session.connection()
    insert_many(connection, Member.__table__, [
        {"id": i + 1, "username": f"reader{i}", "email": f"reader{i}@example.org",
         "display_name": "", "role": "member", "password_hash": None, "disabled": False,
         "created_at": now, "email_confirmed_at": now, "session_version": 0,
         "public_upvotes": False, "for_you_days": 7, "personal_digest": True}
        for i in range(count)
    ])  # fmt: skip
    session.execute(text("UPDATE subscribers SET member_id = id WHERE id <= :n"), {"n": count})
    collections, kept = [], []
    for i in range(count):
        for k, category in enumerate(rng.sample(categories, 2)):
            collection_id = 2 * i + k + 1
            collections.append({"id": collection_id, "member_id": i + 1, "name": f"Interest {k}",
                                "description": "", "public": False, "created_at": now,
                                "updated_at": now})  # fmt: skip
            chosen = rng.sample(by_category[category], KEPT_PER_COLLECTION)
            kept += [{"collection_id": collection_id, "paper_id": paper_id,
                      "added_at": now - timedelta(days=1)} for paper_id in chosen]  # fmt: skip
    insert_many(connection, Collection.__table__, collections)
    insert_many(connection, CollectionPaper.__table__, kept)
    papers = sorted({row["paper_id"] for row in kept})
    changed = rng.sample(papers, max(1, int(len(papers) * CHANGED_SHARE)))
    session.execute(
        text("UPDATE papers SET github_url = 'https://github.com/example/p' || id WHERE id = :id"),
        [{"id": paper_id} for paper_id in changed],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--kill-after", type=float, default=None, help="seconds (default random)")
    parser.add_argument("--workers", type=int, default=2, help="digest send --workers")
    parser.add_argument("--personal", type=float, default=0.0,
                        help="share of subscribers with a personal digest (0 to 1)")  # fmt: skip
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="dp-digests-"))
    rng = random.Random(17)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    sink = Sink()
    port = 19500 + os.getpid() % 400
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    env.update(DAILYPAPERS_DATA_DIR=str(data_dir), DAILYPAPERS_SMTP_URL=f"smtp://127.0.0.1:{port}",
               DAILYPAPERS_DENSE_SEARCH="false", DAILYPAPERS_LOG_LEVEL="warning")  # fmt: skip
    cli = [sys.executable, "-m", "dailypapers"]
    try:
        subprocess.run([*cli, "load", str(HF_FILE)], env=env, check=True, capture_output=True)
        with gzip.open(HF_FILE, "rt", encoding="utf-8") as lines:
            rows = [json.loads(line) for line in lines]
        latest = max(date.fromisoformat(r["featured_date"]) for r in rows if r.get("featured_date"))
        day = latest + timedelta(days=1)
        while day.weekday() > 4:
            day += timedelta(days=1)
        words = [r["title"].split() for r in rows if r.get("title")]
        topics = []
        while len(topics) < 300:
            title = rng.choice(words)
            start = rng.randrange(max(len(title) - 2, 1))
            topics.append(" ".join(title[start : start + rng.randint(1, 3)]))

        settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        factory = make_session_factory(engine)
        now = utcnow()
        with factory() as session, session.begin():
            connection = session.connection()
            insert_many(connection, Subscriber.__table__, [
                {"id": i + 1, "email": f"reader{i}@example.org", "frequency": "daily",
                 "min_upvotes": 0, "bounces": 0, "created_at": now, "confirmed_at": now}
                for i in range(args.subscribers)
            ])  # fmt: skip
            insert_many(connection, Topic.__table__, [
                {"subscriber_id": i + 1, "query": query}
                for i in range(args.subscribers) for query in rng.sample(topics, 3)
            ])  # fmt: skip
            personal = int(args.subscribers * args.personal)
            if personal:
                add_personal_members(session, personal, rng, now)
        engine.dispose()

        command = [*cli, "digest", "send", "--date", day.isoformat(), "--workers",
                   str(args.workers)]  # fmt: skip
        kill_after = args.kill_after if args.kill_after is not None else rng.uniform(10, 120)
        memory = PeakMemory()
        started = time.perf_counter()
        first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)  # fmt: skip
        memory.watch(first.pid)
        try:
            first.wait(timeout=kill_after)
            killed_at = None
        except subprocess.TimeoutExpired:
            first.send_signal(signal.SIGKILL)
            first.wait()
            killed_at = sum(sink.recipients.values())
        second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)  # fmt: skip
        memory.watch(second.pid)
        _, rerun_stderr = second.communicate()
        elapsed = time.perf_counter() - started
        peak_mib = memory.stop()
    finally:
        controller.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    delivered = sum(sink.recipients.values())
    twice = sum(1 for n in sink.recipients.values() if n > 1)
    print(rerun_stderr.strip().splitlines()[-1] if rerun_stderr.strip() else "")
    when = killed_at if killed_at is not None else "none: finished first"
    print(
        f"{args.subscribers:,} subscribers × 3 topics, digest of {day}: {delivered:,} delivered "
        f"in {elapsed:.0f} s ({delivered / elapsed:,.0f} messages/s) including a SIGKILL after "
        f"{kill_after:.0f} s ({when} delivered by then) and the re-run; "
        f"peak RSS of a process of digest send {peak_mib:,.0f} MiB"
    )
    if args.personal:
        print(f"personal digests (For you, Changed): {int(args.subscribers * args.personal):,} "
              f"subscribers ({args.personal:.0%}), each a member keeping 20 papers")  # fmt: skip
    print(
        f"recipients: {len(sink.recipients):,} distinct, {twice} got more than one; "
        f"Message-IDs: {len(sink.message_ids):,} distinct"
    )
    if twice or len(sink.recipients) != args.subscribers:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
