"""End-to-end search latency through the API at 180k real papers and at 1M papers.

    .venv/bin/python bench/bench_search_speed.py --data-dir /tmp/dp-180k
    .venv/bin/python bench/bench_search_speed.py --data-dir /tmp/dp-1m --papers 1000000

Uses (or builds) a data dir with the three shared files loaded; with `--papers` above their
~181k, adds synthetic papers recombined from real ones (the title of one real paper, the
abstract, authors and categories of another). Every paper without a vector gets a *perturbed
real vector*: a mix of two of 20,000 real MiniLM title vectors (weights 0.6-1 and the rest)
plus Gaussian noise σ = 0.02, re-normalised
(embedding a million abstracts takes ~27 h on this CPU and no GPU was lent). Then it builds the
HNSW graph as the server would (timed), measures ANN recall@10 against exact search with real
query embeddings, starts `dailypapers serve`, waits until search answers in hybrid mode from
the graph, and times queries of 1 to 12 words (including the very common "learning" and
"model"), one client, each query once with the response cache bypassed (a cookie), query
embedding included.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import delete, func, select

from dailypapers.database import insert_many, make_engine, make_session_factory, upgrade
from dailypapers.papers.models import Paper
from dailypapers.search.dense_memory import MemoryDenseIndex
from dailypapers.search.embedder import Embedder
from dailypapers.search.keyword_tantivy import TantivyKeywordIndex
from dailypapers.search.models import PaperEmbedding
from dailypapers.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
FILES = ("hf_daily_papers.jsonl.gz", "arxiv_corpus.jsonl.gz", "arxiv_corpus_other.jsonl.gz")
NOISE = 0.02
POOL_SIZE = 20_000
WARM_UP = (
    "neural networks", "image segmentation", "protein folding", "robot control policy",
    "speech recognition", "graph", "transformer attention", "quantum error correction",
)  # fmt: skip


def synthetic_papers(path: Path, count: int) -> None:
    """`count` papers recombined from real ones, with ids 2701.00001 onwards (no real paper
    has them)."""
    real: list[dict] = []
    for name in FILES[1:]:
        with gzip.open(SHARED / name, "rt", encoding="utf-8") as lines:
            real += [json.loads(line) for line in lines]
    real = [r for r in real if r.get("title") and r.get("abstract")]
    rng = random.Random(5)
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for i in range(count):
            a, b = rng.choice(real), rng.choice(real)
            month = i // 99_999
            arxiv_id = f"{27 + month // 12:02d}{month % 12 + 1:02d}.{i % 99_999 + 1:05d}"
            row = {"arxiv_id": arxiv_id, "title": a["title"], "abstract": b["abstract"],
                   "authors": b.get("authors"), "categories": b.get("categories"),
                   "published": b.get("published")}  # fmt: skip
            out.write(json.dumps({k: v for k, v in row.items() if v}) + "\n")


def title_pool(factory, embedder: Embedder) -> np.ndarray:  # type: ignore[no-untyped-def]
    """MiniLM vectors of POOL_SIZE real titles, cached in bench/results/."""
    cache = ROOT / "bench" / "results" / f"title-pool-{POOL_SIZE}-{embedder.model_name}.npy"
    if cache.exists():
        return np.load(cache)
    with factory() as session:
        titles = session.scalars(
            select(Paper.title).where(~Paper.arxiv_id.startswith("27"))  # real papers only
            .order_by(func.random()).limit(POOL_SIZE)
        ).all()  # fmt: skip
    started = time.perf_counter()
    pool = embedder.embed(list(titles))
    print(f"embedded {len(titles):,} real titles in {time.perf_counter() - started:.0f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, pool)
    return pool


def fill_vectors(factory, embedder: Embedder, *, again: bool = False) -> int:  # type: ignore[no-untyped-def]
    if again:
        with factory() as session, session.begin():
            session.execute(
                delete(PaperEmbedding).where(PaperEmbedding.content_hash == "synthetic")
            )
    with factory() as session:
        missing = session.scalars(
            select(Paper.id)
            .outerjoin(PaperEmbedding, PaperEmbedding.paper_id == Paper.id)
            .where(PaperEmbedding.id.is_(None))
        ).all()
    if not missing:
        return 0
    pool = title_pool(factory, embedder)
    print(f"{len(pool):,} real title vectors are the pool for {len(missing):,} perturbed vectors")
    rng = np.random.default_rng(7)
    now = datetime.now(UTC)
    for start in range(0, len(missing), 20_000):
        chunk = missing[start : start + 20_000]
        mix = rng.uniform(0.6, 1.0, (len(chunk), 1)).astype(np.float32)
        vectors = mix * pool[rng.integers(0, len(pool), len(chunk))]
        vectors += (1 - mix) * pool[rng.integers(0, len(pool), len(chunk))]
        vectors += rng.normal(0, NOISE, vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with factory() as session, session.begin():
            insert_many(
                session.connection(),
                PaperEmbedding.__table__,
                [
                    {"paper_id": pid, "model": embedder.model_name, "content_hash": "synthetic",
                     "vector": vectors[i].astype(np.float32).tobytes(), "created_at": now}
                    for i, pid in enumerate(chunk)
                ],
            )  # fmt: skip
    return len(missing)


def build_graph(factory, embedder: Embedder, data_dir: Path, texts: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Build and save the HNSW graph as the server's upkeep would; report time and recall."""
    index = MemoryDenseIndex(embedder.model_name)
    with factory() as session:
        started = time.perf_counter()
        index.refresh(session)
    print(f"read {len(index):,} vectors in {time.perf_counter() - started:.1f} s")
    matrix, paper_ids = index._matrix, index._paper_ids

    def exact_top10(vector: np.ndarray) -> set[int]:
        return set(paper_ids[np.argpartition(-(matrix @ vector), 10)[:10]].tolist())

    started = time.perf_counter()
    index.maintain_ann(factory, data_dir / "dense-ann", min_vectors=1)
    elapsed = time.perf_counter() - started
    print(f"HNSW graph: {len(index):,} vectors loaded or built in {elapsed:.1f} s")
    vectors = embedder.embed(texts)
    recall = []
    ann_ms, exact_ms = [], []
    for vector in vectors:
        t0 = time.perf_counter()
        approximate = {p for p, _ in index.search(vector, 10)}
        t1 = time.perf_counter()
        truth = exact_top10(vector)
        t2 = time.perf_counter()
        recall.append(len(approximate & truth) / 10)
        ann_ms.append((t1 - t0) * 1000)
        exact_ms.append((t2 - t1) * 1000)
    worst = sorted(zip(recall, texts, strict=True))[:3]
    print("lowest recall: " + ", ".join(f"{r:.1f} {t!r}" for r, t in worst))
    print(f"ANN recall@10 vs exact over {len(texts)} real queries: {np.mean(recall):.3f}"
          f" (min {min(recall):.1f}); dense search p50 {statistics.median(ann_ms):.2f} ms with"
          f" the graph, {statistics.median(exact_ms):.1f} ms exact")  # fmt: skip


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
    parser.add_argument("--papers", type=int, default=0, help="total papers (adds synthetic)")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--revector", action="store_true", help="make the perturbed vectors anew")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="dp-search-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(DAILYPAPERS_DATA_DIR=str(data_dir), DAILYPAPERS_EMBED_IN_BACKGROUND="false",
               DAILYPAPERS_LOG_LEVEL="warning",
               # one client searching far faster than a person: counted, never refused
               DAILYPAPERS_SEARCHES_PER_MINUTE="1000000")  # fmt: skip
    cli = [sys.executable, "-m", "dailypapers"]
    if not (data_dir / "dailypapers.db").exists():
        subprocess.run([*cli, "load", *(str(SHARED / f) for f in FILES)], env=env, check=True)
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        stored = session.scalar(select(func.count()).select_from(Paper)) or 0
    if args.papers > stored:
        synthetic = data_dir / "synthetic.jsonl.gz"
        print(f"writing {args.papers - stored:,} synthetic papers")
        synthetic_papers(synthetic, args.papers - stored)
        subprocess.run([*cli, "load", str(synthetic)], env=env, check=True)
    keyword_index = TantivyKeywordIndex(settings.keyword_index_dir, factory)
    started = time.perf_counter()
    synced = keyword_index.sync(factory)
    elapsed = time.perf_counter() - started
    print(
        f"keyword index: {synced:,} papers indexed in {elapsed:.1f} s "
        f"({len(keyword_index):,} in the index)"
    )
    embedder = Embedder.load(threads=2)
    added = fill_vectors(factory, embedder, again=args.revector)
    print(f"perturbed vectors added: {added:,}")
    if added:
        shutil.rmtree(data_dir / "dense-ann", ignore_errors=True)  # the graph of old vectors
    sample = queries(data_dir, args.queries)
    build_graph(factory, embedder, data_dir, sample)
    engine.dispose()

    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60, headers={"Cookie": "bench=1"}) as http:
            deadline = time.monotonic() + 900
            while True:
                try:
                    health = http.get("/healthz").json()
                    response = http.get("/api/papers/search", params={"q": "warm up"})
                    ready = (
                        health["search"]["dense_ann"] or health["search"]["dense_vectors"] < 50_000
                    )
                    if response.headers.get("x-search-mode") == "hybrid" and ready:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the dense index did not load in 15 minutes")
                time.sleep(2)
            for query in WARM_UP:  # first touches of the index files, not measured
                http.get("/api/papers/search", params={"q": query, "limit": 20})
            timings: list[tuple[float, str]] = []
            for query in sample:
                started = time.perf_counter()
                response = http.get("/api/papers/search", params={"q": query, "limit": 20})
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200 and response.headers["x-search-mode"] == "hybrid"
                timings.append((elapsed, query))
            health = http.get("/healthz").json()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)

    values = sorted(t for t, _ in timings)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    print(f"health: {health}")
    print(f"{len(values)} queries, one client, cache bypassed, hybrid mode")
    print(f"p50 {statistics.median(values):.1f} ms, p99 {p99:.1f} ms, max {values[-1]:.1f} ms")
    print("slowest:")
    for elapsed, query in sorted(timings, reverse=True)[:5]:
        print(f"  {elapsed:7.1f} ms  {query!r}")


if __name__ == "__main__":
    main()
