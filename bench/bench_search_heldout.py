"""Held-out check of hybrid ranking: arXiv titles, or half abstracts, as queries (bundled corpus).

Nothing here was tuned on: the fusion constants were chosen on SciFact (bench_search_quality.py).
From ../shared/data/arxiv_corpus.jsonl.gz, every n-th paper with an abstract makes a corpus of
`--papers` abstracts, loaded into a fresh SQLite site *without their titles* (each paper's title
is its arXiv id, as SciFact's untitled abstracts are loaded under their id); `--queries` of
them, evenly spread, give their real title as the query, and the one relevant paper is that
paper. With `--task half`, each abstract is cut in two at a sentence end near its middle: the
first half is loaded (the document), the second half is the query (a paragraph: the long-query
path of the site). nDCG@10 (one relevant paper: 1/log2(1 + its rank) within the first 10) and
Recall@100 per mode: keyword, dense, plain reciprocal rank fusion, and hybrid as the site ranks
(`service.hybrid_ranking`) at several dense shares.

    .venv/bin/python bench/bench_search_heldout.py [--task title|half] [--papers N] [--queries N]

Document vectors are cached in bench/results/ (git-ignored .npy).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search_quality import _hybrid_runs, ndcg_at_10, recall_at_100  # noqa: E402
from dailypapers.database import make_engine, make_session_factory, upgrade  # noqa: E402
from dailypapers.papers.importing import load_file  # noqa: E402
from dailypapers.papers.models import Paper  # noqa: E402
from dailypapers.search.dense_memory import MemoryDenseIndex  # noqa: E402
from dailypapers.search.embedder import Embedder  # noqa: E402
from dailypapers.search.fusion import CANDIDATES, DENSE_SHARE, DENSE_WEIGHT, RRF_K, fuse  # noqa: E402
from dailypapers.search.indexing import embedding_text  # noqa: E402
from dailypapers.search.keyword_tantivy import TantivyKeywordIndex  # noqa: E402
from dailypapers.search.query import query_passages, query_terms  # noqa: E402
from dailypapers.settings import Settings  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "arxiv_corpus.jsonl.gz")
    parser.add_argument("--papers", type=int, default=6_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--task", choices=("title", "half"), default="title")
    parser.add_argument("--cache-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()

    with gzip.open(args.data, "rt", encoding="utf-8") as lines:
        every = [row for row in map(json.loads, lines) if row.get("abstract")]
    step = max(len(every) // args.papers, 1)
    corpus = every[::step][: args.papers]
    asked = corpus[:: max(len(corpus) // args.queries, 1)][: args.queries]
    if args.task == "half":
        halves = {row["arxiv_id"]: _halves(row["abstract"]) for row in corpus}
        corpus = [{**row, "abstract": halves[row["arxiv_id"]][0]} for row in corpus]
        queries = {row["arxiv_id"]: halves[row["arxiv_id"]][1] for row in asked}
    else:
        queries = {row["arxiv_id"]: row["title"] for row in asked}

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        source = data / "heldout.jsonl"
        source.write_text(
            "".join(
                json.dumps(
                    {
                        "arxiv_id": row["arxiv_id"],
                        "title": row["arxiv_id"],
                        "abstract": row["abstract"],
                    }
                )
                + "\n"
                for row in corpus
            )  # fmt: skip
        )
        settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        factory = make_session_factory(engine)
        load_file(factory, source, settings.zone)
        embedder = Embedder.load(threads=2)
        cache = args.cache_dir / f"heldout-{args.task}-{len(corpus)}-{embedder.model_name}.npy"
        with factory() as session:
            arxiv_of = {pid: aid for pid, aid in session.execute(select(Paper.id, Paper.arxiv_id))}
        paper_of = {arxiv_id: paper_id for paper_id, arxiv_id in arxiv_of.items()}
        if cache.exists():
            matrix = np.load(cache)
        else:
            started = time.perf_counter()
            matrix = embedder.embed(
                [embedding_text(row["arxiv_id"], row["abstract"]) for row in corpus]
            )
            rate = len(corpus) / (time.perf_counter() - started)
            print(f"embedded {len(corpus):,} abstracts at {rate:.1f}/s")
            args.cache_dir.mkdir(parents=True, exist_ok=True)
            np.save(cache, matrix)
        index = MemoryDenseIndex(embedder.model_name)
        index._add(
            [
                (i + 1, paper_of[row["arxiv_id"]], matrix[i].tobytes())
                for i, row in enumerate(corpus)
            ]
        )
        keyword_index = TantivyKeywordIndex(settings.keyword_index_dir, factory)
        keyword_index.sync(factory)
        keyword_runs = {
            query_id: keyword_index.search(query_terms(title), limit=CANDIDATES)
            for query_id, title in queries.items()
        }
        dense_runs = {
            query_id: index.search(_query_vector(embedder, text), CANDIDATES)
            for query_id, text in queries.items()
        }
        shares = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8)
        hybrid_runs, _ = _hybrid_runs(keyword_index, queries, keyword_runs, dense_runs, shares)
        engine.dispose()

    def score(run: dict[str, list[int]]) -> tuple[float, float]:
        ndcg = recall = 0.0
        for query_id, ranked in run.items():
            found = [arxiv_of[paper_id] for paper_id in ranked]
            ndcg += ndcg_at_10(found, {query_id})
            recall += recall_at_100(found, {query_id})
        return ndcg / len(run), recall / len(run)

    def ids(run: dict[str, list[tuple[int, float]]]) -> dict[str, list[int]]:
        return {query_id: [paper_id for paper_id, _ in hits] for query_id, hits in run.items()}

    rrf = {
        query_id: [
            paper_id for paper_id, _ in fuse(ids(keyword_runs)[query_id], ids(dense_runs)[query_id])
        ][:100]
        for query_id in queries
    }
    asking = "arXiv titles" if args.task == "title" else "second halves of abstracts"
    print(
        f"Held-out: {len(queries)} {asking} against {len(corpus):,} abstracts loaded without"
        f" titles (every {step}th paper with an abstract of {args.data.name})"
    )
    print("| mode | nDCG@10 | Recall@100 |")
    print("| --- | ---: | ---: |")
    for name, run in (
        ("keyword (Tantivy BM25)", ids(keyword_runs)),
        ("dense (MiniLM-L6 int8)", ids(dense_runs)),
        (f"plain RRF (k={RRF_K}, dense weight {DENSE_WEIGHT})", rrf),
        *((f"hybrid as the site ranks, dense share {share}"
           + (" (shipped)" if share == DENSE_SHARE else ""), hybrid_runs[share])
          for share in shares),
    ):  # fmt: skip
        ndcg, recall = score(run)
        print(f"| {name} | {ndcg:.3f} | {recall:.3f} |")


def _halves(abstract: str) -> tuple[str, str]:
    """The abstract cut at the sentence end nearest its middle (by words)."""
    sentences = [part for part in re.split(r"(?<=[.!?])\s+", abstract) if part]
    if len(sentences) < 2:
        words = abstract.split()
        return " ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])
    total = sum(len(sentence.split()) for sentence in sentences)
    size, cut = 0, 1
    for cut in range(1, len(sentences)):
        size += len(sentences[cut - 1].split())
        if size >= total / 2:
            break
    return " ".join(sentences[:cut]), " ".join(sentences[cut:])


def _query_vector(embedder: Embedder, text: str) -> np.ndarray:
    """The query's embedding as the site makes it: a long query is the mean of its passages'
    embeddings, weighted by their length (`service._start_dense`)."""
    passages = query_passages(text)
    vectors = embedder.embed(passages)
    weights = np.array([len(passage.split()) for passage in passages], dtype=np.float32)
    mean = weights @ vectors
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


if __name__ == "__main__":
    main()
