"""Several `dailypapers worker` processes on one database: every digest exactly once, even when
a worker is killed mid-way, and a job lease held by one process at a time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dailypapers.database import utcnow
from dailypapers.digests.models import Subscriber, Topic
from dailypapers.leases import process_alive, release_lease, take_lease, this_process
from dailypapers.papers.importing import load_file

from .conftest import BACKEND, MailSink, cli_env, make_settings, prepare_database, rows_of

READERS = 40


def test_three_workers_send_every_digest_exactly_once_and_survive_a_kill(
    tmp_path: Path, hf_rows: list[dict[str, Any]], mail_sink: MailSink
) -> None:
    site_dir = tmp_path / "site"
    settings = make_settings(site_dir, smtp_url=mail_sink.url)
    engine, factory = prepare_database(settings)
    # Yesterday's list: real papers, featured yesterday, so that today's daily digest is due.
    yesterday = date.today() - timedelta(days=1)
    rows = [dict(row, featured_date=yesterday.isoformat(), published=yesterday.isoformat())
            for row in hf_rows if row.get("abstract")][-12:]  # fmt: skip
    source = tmp_path / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    load_file(factory, source, settings.zone)
    with factory() as session, session.begin():
        for i in range(READERS):
            reader = Subscriber(email=f"reader{i}@example.org", frequency="daily", min_upvotes=0,
                                bounces=0, confirmed_at=utcnow())  # fmt: skip
            session.add(reader)
            session.flush()
            session.add(Topic(subscriber_id=reader.id, query=rows[i % len(rows)]["title"]))
    engine.dispose()

    def start(n: int) -> subprocess.Popen[bytes]:
        # On PostgreSQL each worker has its own data folder, as on separate machines; SQLite
        # workers share the machine (and the database file).
        folder = tmp_path / f"worker{n}" if BACKEND == "postgresql" else site_dir
        env = cli_env(folder, DAILYPAPERS_DATABASE_URL=settings.database_url,
                      DAILYPAPERS_SMTP_URL=mail_sink.url, DAILYPAPERS_SECRET_KEY="shared",
                      DAILYPAPERS_DIGEST_DAYS="mon,tue,wed,thu,fri,sat,sun",
                      DAILYPAPERS_DIGEST_SEND_HOUR="0", DAILYPAPERS_DENSE_SEARCH="false",
                      DAILYPAPERS_TIMEZONE="UTC")  # fmt: skip
        log = (tmp_path / f"worker{n}.log").open("wb")  # a pipe nobody reads could fill up
        return subprocess.Popen([sys.executable, "-m", "dailypapers", "worker", "--every", "0.5"],
                                env=env, stdout=subprocess.DEVNULL, stderr=log,
                                start_new_session=True)  # fmt: skip

    killed: list[int] = []
    workers = [start(n) for n in range(3)]

    def reply(message: Any) -> str | None:
        # While the 10th digest is being accepted, kill the first worker outright.
        if len(mail_sink.messages) == 9 and not killed:
            os.killpg(workers[0].pid, signal.SIGKILL)
            killed.append(workers[0].pid)
        return None

    mail_sink.reply = reply
    try:
        deadline = time.monotonic() + 120
        while len(mail_sink.messages) < READERS and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2.0)  # anything sent twice would arrive now
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    logs = [(tmp_path / f"worker{n}.log").read_text() for n in range(3)]
    assert killed, "the first worker should have been killed mid-way"
    received = Counter(message["To"] for message in mail_sink.messages)
    assert len(received) == READERS and set(received.values()) == {1}, received
    assert len({message["Message-ID"] for message in mail_sink.messages}) == READERS
    statuses = rows_of(site_dir, "SELECT status, count(*) FROM digest_ledger GROUP BY status")
    assert statuses == [("sent", READERS)]
    for n, worker in enumerate(workers[1:], start=1):  # stopped cleanly by SIGTERM
        assert worker.returncode == 0 and "worker stopped" in logs[n], logs[n][-2000:]
        assert "Traceback" not in logs[n], logs[n][-2000:]


def test_a_job_lease_has_one_holder_until_released_or_expired(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    assert take_lease(factory, "harvest", 60, holder="host-a:1")
    assert not take_lease(factory, "harvest", 60, holder="host-b:2")
    assert take_lease(factory, "harvest", 60, holder="host-a:1")  # renewing is allowed
    release_lease(factory, "harvest", holder="host-a:1")
    assert take_lease(factory, "harvest", 0.0, holder="host-b:2")
    time.sleep(0.05)  # expired at once: free for the next
    assert take_lease(factory, "harvest", 60, holder="host-c:3")
    assert take_lease(factory, "index", 60)  # leases are per job
    engine.dispose()
    assert process_alive(this_process()) is True
    assert process_alive("another-machine:1") is None
    assert process_alive(None) is False
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    time.sleep(1.0)  # exited, not reaped yet
    assert process_alive(f"{this_process().rpartition(':')[0]}:{zombie.pid}") is False
    zombie.wait()
