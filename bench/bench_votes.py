"""Votes under load: 200 members upvoting and un-upvoting the same 20 papers for 30 s over HTTP.

    .venv/bin/python bench/bench_votes.py [--members 200] [--seconds 30] [--workers 2]

Builds a fresh site (the bundled demo data), creates the members with API tokens, starts
`dailypapers serve --workers N` on SQLite, and drives it with `wrk` (200 connections, a Lua
script that sends each request as a random member, on one of 20 papers, as an upvote or its
withdrawal). Reports votes/s, latency percentiles and the status codes, then checks that
every paper's count equals its rows in `votes`. Only 200 and 429 are acceptable answers.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select

from dailypapers.database import make_engine, make_session_factory, upgrade, utcnow
from dailypapers.members.auth import _token_hash
from dailypapers.members.models import ApiToken, Member, Vote
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.settings import Settings

LUA = """
local tokens = {%(tokens)s}
local papers = {%(papers)s}
counts = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
end

function request()
  local token = tokens[math.random(#tokens)]
  local paper = papers[math.random(#papers)]
  local method = "POST"
  if math.random() < 0.4 then method = "DELETE" end
  return wrk.format(method, "/api/papers/" .. paper .. "/upvote",
                    {["Authorization"] = "Bearer " .. token})
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for status, n in pairs(c) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do io.write(string.format("status %%d: %%d\\n", status, n)) end
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("latency p%%d: %%.1f ms\\n", p, latency:percentile(p) / 1000))
  end
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--papers", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=0, help="default: one per member")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk (apt-get install wrk)")
    data_dir = Path(tempfile.mkdtemp(prefix="dp-votes-"))
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(DAILYPAPERS_DATA_DIR=str(data_dir), DAILYPAPERS_DENSE_SEARCH="false",
               DAILYPAPERS_LOG_LEVEL="warning")  # fmt: skip
    port = 18500 + os.getpid() % 400
    cli = [sys.executable, "-m", "dailypapers"]
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", str(args.workers)], env=env,
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.5)
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        factory = make_session_factory(engine)
        rng = random.Random(3)
        tokens = [f"dp_bench{i:04d}{rng.getrandbits(64):x}" for i in range(args.members)]
        with factory() as session, session.begin():
            papers = session.scalars(
                select(Paper.arxiv_id).join(DailyEntry, DailyEntry.paper_id == Paper.id)
                .order_by(DailyEntry.featured_date.desc()).limit(args.papers)
            ).all()  # fmt: skip
            for i, token in enumerate(tokens):
                name = f"voter{i}"
                member = Member(username=name, email=f"{name}@example.org", display_name=name,
                                email_confirmed_at=utcnow())  # fmt: skip
                session.add(member)
                session.flush()
                session.execute(insert(ApiToken).values(member_id=member.id, name="bench",
                                                        token_hash=_token_hash(token)))  # fmt: skip
        script = data_dir / "votes.lua"
        script.write_text(LUA % {
            "tokens": ", ".join(f'"{t}"' for t in tokens),
            "papers": ", ".join(f'"{p}"' for p in papers),
        })  # fmt: skip
        connections = args.connections or args.members
        result = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{args.seconds}s", "-s", str(script), base],
            capture_output=True, text=True,
        )  # fmt: skip
        print(result.stdout, result.stderr)
        if result.returncode != 0:
            raise SystemExit("wrk failed")
        statuses = {int(s): int(n) for s, n in re.findall(r"status (\d+): (\d+)", result.stdout)}
        requests_per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))  # type: ignore[union-attr]
        with factory() as session:
            mismatched = [
                (arxiv_id, count, rows)
                for arxiv_id, count, rows in session.execute(
                    select(
                        Paper.arxiv_id,
                        Paper.vote_count,
                        select(func.count()).where(Vote.paper_id == Paper.id).scalar_subquery(),
                    )
                )  # fmt: skip
                if count != rows
            ]
            total_votes = session.scalar(select(func.count()).select_from(Vote))
        engine.dispose()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
    bad = {status: n for status, n in statuses.items() if status not in (200, 429)}
    print(f"{args.members} members, {len(papers)} papers, {args.seconds} s, "
          f"{args.workers} workers: {requests_per_second:,.0f} vote requests/s; "
          f"statuses {dict(sorted(statuses.items()))}; {total_votes} votes stand")  # fmt: skip
    print("every count equals its votes rows" if not mismatched else f"MISMATCH: {mismatched}")
    if bad or mismatched:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
