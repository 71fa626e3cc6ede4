"""What the bounds of issue 14 cost per request, measured in-process.

    .venv/bin/python bench/bench_bounds.py [--before-src /tmp/before/src] [--queries 300]

1. Each middleware layer on a trivial ASGI app (µs per request): the RateLimit headers, the
   body limit on a GET, and a cache hit keyed on the route's parameters (with `--before-src`,
   also the cache of that tree, keyed on the raw query string); the route lookup when it is
   not remembered; one count of an in-memory rate limit.
2. Search through HTTP, the server in this process on loopback, one client, cache bypassed:
   the 13.7k real HF papers, keyword search (dense off, so that the model's time does not hide
   the difference), with the search limit counted (`DAILYPAPERS_SEARCHES_PER_MINUTE` high) and
   switched off (0), alternating, two rounds. The raw output goes to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import importlib.util
import io
import json
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from starlette.responses import Response

from dailypapers.app import create_app
from dailypapers.papers.importing import load_file
from dailypapers.settings import Settings
from dailypapers.site import Site
from dailypapers.web.bodylimit import BodyLimitMiddleware
from dailypapers.web.cache import ResponseCacheMiddleware
from dailypapers.web.ratelimit import Limit, MemoryCounts, RateLimitHeadersMiddleware
from dailypapers.web.routemap import RouteMap

ROOT = Path(__file__).resolve().parent.parent
HF_FILE = ROOT.parent / "shared" / "data" / "hf_daily_papers.jsonl.gz"
BODY = b"x" * 20_000


def site_settings(data_dir: Path, **values: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, secret_key="bench", load_demo_data=False,
        embed_in_background=False, harvest_scheduler=False, digest_scheduler=False,
        dense_search=False, log_level="warning", **values,
    )  # fmt: skip


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on a loopback port, in a thread of this process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def bare(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": BODY})


def daily_scope() -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/api/daily_papers",
            "query_string": b"date=2026-08-21&limit=50", "root_path": "", "state": {},
            "headers": [(b"host", b"x"), (b"accept", b"*/*")]}  # fmt: skip


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Any) -> None:
    pass


async def per_request(app: Any, n: int = 20_000) -> float:
    for _ in range(200):
        await app(daily_scope(), receive, send)
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n):
            await app(daily_scope(), receive, send)
        runs.append((time.perf_counter() - started) / n * 1e6)
    return statistics.median(runs)


def routes_app() -> FastAPI:
    """60 other routes tried before the daily list's: the worst case of a route lookup."""
    api = FastAPI()
    for n in range(60):
        api.get(f"/other/{n}/{{x}}")(lambda x: None)

    @api.get("/api/daily_papers")
    def daily(date: str | None = None, limit: int = 50, sort: str = "publishedAt") -> Response:
        return Response(BODY)

    return api


async def layers(before_src: Path | None) -> None:
    base = await per_request(bare)
    print(f"bare ASGI app: {base:.2f} µs per request")
    headers = await per_request(RateLimitHeadersMiddleware(bare))
    print(f"+ RateLimitHeadersMiddleware: {headers - base:+.2f} µs")
    routes = RouteMap(routes_app())
    body = BodyLimitMiddleware(bare, max_bytes=65536, routes=routes, session_cookie="dp_session")
    print(f"+ BodyLimitMiddleware (a GET): {await per_request(body) - base:+.2f} µs")
    today = lambda: date(2026, 11, 30)  # noqa: E731
    now = ResponseCacheMiddleware(bare, revision=lambda: 1, today=today, routes=routes)
    print(f"cache hit, keyed on the route's parameters: {await per_request(now):.2f} µs")
    if before_src is not None:
        spec = importlib.util.spec_from_file_location(
            "before_cache", before_src / "dailypapers" / "web" / "cache.py"
        )
        assert spec is not None and spec.loader is not None
        before = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(before)
        old = before.ResponseCacheMiddleware(bare, revision=lambda: 1, today=today)
        print(f"cache hit, before (raw query string): {await per_request(old):.2f} µs")
    started, n = time.perf_counter(), 20_000
    for _ in range(n):
        routes._memo.clear()
        routes.traits(daily_scope())
    print(f"route lookup, not remembered: {(time.perf_counter() - started) / n * 1e6:.2f} µs")
    counts, limit = MemoryCounts(), Limit("search", 60, 60, in_memory=True)
    started, n = time.perf_counter(), 200_000
    for i in range(n):
        counts.hit(limit, f"10.0.{i % 200}.1")
    print(f"one in-memory rate-limit count: {(time.perf_counter() - started) / n * 1e6:.2f} µs")


def searches(queries: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="dp-bounds-"))
    settings = site_settings(data)
    with Site.open(settings) as site:
        result = load_file(site.sessions, HF_FILE, settings.zone)
        site.papers_stored(result.stored_paper_ids)
        site.keyword.sync(site.sessions)
    with gzip.open(HF_FILE, "rt") as lines:
        titles = [json.loads(line)["title"] for line in lines][: queries + 50]
    words = [" ".join(title.split()[: 1 + i % 5]) for i, title in enumerate(titles)]
    for round_ in (1, 2):
        for per_minute in (0, 1_000_000):
            settings = site_settings(data, searches_per_minute=per_minute)
            with (
                serving(settings) as url,
                httpx.Client(base_url=url, timeout=30, headers={"Cookie": "bypass=cache"}) as http,
            ):
                for q in words[:50]:
                    http.get("/api/papers/search", params={"q": q})
                took = []
                for q in words[50:]:
                    started = time.perf_counter()
                    answer = http.get("/api/papers/search", params={"q": q})
                    took.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200, answer.status_code
            took.sort()
            print(
                f"round {round_}, searches_per_minute={per_minute}: p50 "
                f"{statistics.median(took):.2f} ms, p99 {took[int(len(took) * 0.99)]:.2f} ms"
                f" (RateLimit: {answer.headers.get('ratelimit')})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before-src", type=Path, help="another tree's src/, to compare")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    output = io.StringIO()
    with redirect_stdout(output):
        asyncio.run(layers(args.before_src))
        searches(args.queries)
    print(output.getvalue(), end="")
    results = ROOT / "bench" / "results" / f"bounds-{time.strftime('%Y%m%d-%H%M%S')}.log"
    results.write_text(output.getvalue())
    print(f"(written to {results.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
