"""End-to-end search latency through the API at the 180k real papers of ../shared/data.

    .venv/bin/python bench/bench_search_speed.py --data-dir /tmp/dp-bench

Uses (or builds) a data dir with all three shared files loaded, gives every paper without a
vector a *perturbed real vector* (a real MiniLM vector of a SciFact abstract or arXiv title
plus Gaussian noise, re-normalised: embedding 180k abstracts takes ~5 h on this CPU and no GPU
was lent), starts `dailypapers serve`, waits until search answers in hybrid mode, then times
queries of 1 to 12 words (including the very common "learning" and "model"), one client,
each query once with the response cache bypassed (a cookie), query embedding included.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import func, select

from dailypapers.database import insert_many, make_engine, make_session_factory, upgrade
from dailypapers.papers.models import Paper
from dailypapers.search.embedder import Embedder
from dailypapers.search.models import PaperEmbedding
from dailypapers.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
FILES = ("hf_daily_papers.jsonl.gz", "arxiv_corpus.jsonl.gz", "arxiv_corpus_other.jsonl.gz")
NOISE = 0.03


def fill_vectors(data_dir: Path) -> int:
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    embedder = Embedder.load(threads=2)
    with factory() as session:
        missing = session.scalars(
            select(Paper.id)
            .outerjoin(PaperEmbedding, PaperEmbedding.paper_id == Paper.id)
            .where(PaperEmbedding.id.is_(None))
        ).all()
        titles = session.scalars(select(Paper.title).order_by(func.random()).limit(2000)).all()
    if not missing:
        return 0
    print(f"embedding 2,000 real titles as the pool for {len(missing):,} perturbed vectors")
    pool = embedder.embed(list(titles))
    rng = np.random.default_rng(7)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    for start in range(0, len(missing), 20_000):
        chunk = missing[start : start + 20_000]
        base = pool[rng.integers(0, len(pool), len(chunk))]
        vectors = base + rng.normal(0, NOISE, base.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with factory() as session, session.begin():
            insert_many(
                session.connection(),
                PaperEmbedding.__table__,
                [
                    {
                        "paper_id": pid,
                        "model": embedder.model_name,
                        "content_hash": "synthetic",
                        "vector": vectors[i].astype(np.float32).tobytes(),
                        "created_at": now,
                    }
                    for i, pid in enumerate(chunk)
                ],  # fmt: skip
            )
    engine.dispose()
    return len(missing)


def queries(data_dir: Path, count: int) -> list[str]:
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    engine = make_engine(settings.resolved_database_url)
    with make_session_factory(engine)() as session:
        titles = session.scalars(select(Paper.title).order_by(Paper.id).limit(50_000)).all()
    engine.dispose()
    rng = random.Random(11)
    chosen = ["learning", "model", "large language model", "diffusion", "graph neural network"]
    while len(chosen) < count:
        words = rng.choice(titles).replace(":", " ").split()
        size = rng.randint(1, 12)
        start = rng.randint(0, max(len(words) - size, 0))
        chosen.append(" ".join(words[start : start + size]))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="dp-search-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(DAILYPAPERS_DATA_DIR=str(data_dir), DAILYPAPERS_EMBED_IN_BACKGROUND="false",
               DAILYPAPERS_LOG_LEVEL="warning")  # fmt: skip
    cli = [sys.executable, "-m", "dailypapers"]
    if not (data_dir / "dailypapers.db").exists():
        subprocess.run([*cli, "load", *(str(SHARED / f) for f in FILES)], env=env, check=True)
    print(f"perturbed vectors added: {fill_vectors(data_dir):,}")

    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60, headers={"Cookie": "bench=1"}) as http:
            deadline = time.monotonic() + 300
            while True:
                try:
                    response = http.get("/api/papers/search", params={"q": "warm up"})
                    if response.headers.get("x-search-mode") == "hybrid":
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the dense index did not load in 5 minutes")
                time.sleep(1)
            papers = http.get("/healthz").json()
            timings: list[tuple[float, str]] = []
            for query in queries(data_dir, args.queries):
                started = time.perf_counter()
                response = http.get("/api/papers/search", params={"q": query, "limit": 20})
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200 and response.headers["x-search-mode"] == "hybrid"
                timings.append((elapsed, query))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    values = sorted(t for t, _ in timings)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    print(f"health: {papers}")
    print(f"{len(values)} queries, one client, cache bypassed, hybrid mode")
    print(f"p50 {statistics.median(values):.1f} ms, p99 {p99:.1f} ms, max {values[-1]:.1f} ms")
    print("slowest:")
    for elapsed, query in sorted(timings, reverse=True)[:5]:
        print(f"  {elapsed:7.1f} ms  {query!r}")


if __name__ == "__main__":
    main()
