"""Search quality on SciFact (train split, ../shared/eval-dev/scifact): nDCG@10 and Recall@100.

Loads the 5,183 SciFact abstracts into a fresh dailypapers SQLite database (each under a
made-up arXiv id), runs the 809 claims through the app's own search code and scores the
rankings against the judgements.

    .venv/bin/python bench/bench_search_quality.py

Modes measured: keyword (FTS5 BM25, as the site ranks it). Dense and hybrid are added with the
embedding index.
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

from sqlalchemy import select

from dailypapers.database import make_engine, make_session_factory, upgrade
from dailypapers.papers.importing import load_file
from dailypapers.papers.models import Paper
from dailypapers.search.keyword import SearchFilters, keyword_search, query_terms
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
        with factory() as session:
            arxiv_of = {pid: aid for pid, aid in session.execute(select(Paper.id, Paper.arxiv_id))}
            started = time.perf_counter()
            scores: dict[str, list[float]] = {"ndcg": [], "recall": []}
            for query_id, relevant in qrels.items():
                hits = keyword_search(
                    session, query_terms(queries[query_id]), limit=100, filters=SearchFilters()
                )
                ranked = [doc_of[arxiv_of[paper_id]] for paper_id, _ in hits]
                scores["ndcg"].append(ndcg_at_10(ranked, relevant))
                scores["recall"].append(recall_at_100(ranked, relevant))
            elapsed = time.perf_counter() - started
        engine.dispose()

    count = len(scores["ndcg"])
    print(f"SciFact train: {len(corpus):,} abstracts, {count} judged queries")
    print("| mode | nDCG@10 | Recall@100 | ms/query |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| keyword (FTS5 BM25) | {sum(scores['ndcg']) / count:.3f} | "
        f"{sum(scores['recall']) / count:.3f} | {elapsed / count * 1000:.1f} |"
    )


if __name__ == "__main__":
    main()
