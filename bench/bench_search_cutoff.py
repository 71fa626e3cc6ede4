"""The relevance cut-off of search by meaning, fit on SciFact (train split, ../shared/eval-dev).

Dense search always has nearest neighbours, however far; a hybrid result must be a keyword match
or a paper at least `service.DENSE_MATCH_SIMILARITY` (cosine) from the query. This script shows
how that threshold was chosen and what it costs, through the app's own search code:

* for each candidate threshold: the share of relevant abstracts found by meaning alone (within
  the top 100, not by keywords) that the cut-off drops ("recall lost"), and the share of claims
  that still return matches by meaning once their relevant abstracts are taken out of the
  corpus (a claim about something the site does not have);
* nDCG@10 and Recall@100 of `search_papers` with and without the cut-off;
* the best dense similarity of nonsense and out-of-domain queries.

    .venv/bin/python bench/bench_search_cutoff.py
"""

from __future__ import annotations

import gzip
import json
import math
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from sqlalchemy import select

from dailypapers.database import make_engine, make_session_factory, upgrade
from dailypapers.papers.importing import load_file
from dailypapers.papers.models import Paper
from dailypapers.search import service
from dailypapers.search.dense_memory import MemoryDenseIndex
from dailypapers.search.embedder import Embedder
from dailypapers.search.keyword_tantivy import TantivyKeywordIndex
from dailypapers.search.meaning import MeaningSearch
from dailypapers.search.query import query_terms
from dailypapers.settings import Settings

SCIFACT = Path(__file__).resolve().parent.parent.parent / "shared" / "eval-dev" / "scifact"
RESULTS = Path(__file__).resolve().parent / "results"
NONSENSE = [
    "xqzzyv plorbington", "asdf qwerty zxcv", "blorft snizzle wumpus", "zzzz",
    "qwpeoriu zmxncbv", "flibbertigibbet quux", "lorem ipsum dolor sit amet",
    "best pizza recipe with pineapple", "football transfer news today",
    "how to fix a leaking kitchen tap", "cheap flights to lisbon in june",
    "taylor swift concert tickets",
]  # fmt: skip


def ndcg_at_10(ranked: list[str], relevant: set[str]) -> float:
    gains = sum(1 / math.log2(rank + 2) for rank, doc in enumerate(ranked[:10]) if doc in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), 10)))
    return gains / ideal


def main() -> None:
    with gzip.open(SCIFACT / "corpus.jsonl.gz", "rt", encoding="utf-8") as lines:
        corpus = [json.loads(line) for line in lines]
    queries = {
        row["id"]: row["text"]
        for row in map(json.loads, (SCIFACT / "queries.jsonl").read_text().splitlines())
    }
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in (SCIFACT / "qrels.tsv").read_text().splitlines()[1:]:
        query_id, doc_id, _ = line.split("\t")
        qrels[query_id].add(doc_id)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        source = data / "scifact.jsonl"
        source.write_text(
            "".join(
                json.dumps({"arxiv_id": f"2001.{i:05d}", "title": d["title"] or d["id"],
                            "abstract": d["text"]}) + "\n"
                for i, d in enumerate(corpus)
            )
        )  # fmt: skip
        settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        factory = make_session_factory(engine)
        load_file(factory, source, settings.zone)
        embedder = Embedder.load(threads=2)
        matrix = np.load(RESULTS / f"scifact-{embedder.model_name}.npy")  # bench_search_quality
        with factory() as session:
            arxiv_of = {pid: aid for pid, aid in session.execute(select(Paper.id, Paper.arxiv_id))}
        doc_of = {pid: corpus[int(aid.split(".")[1])]["id"] for pid, aid in arxiv_of.items()}
        dense = MemoryDenseIndex(embedder.model_name)
        dense._add([(i + 1, pid, matrix[i].tobytes()) for i, pid in enumerate(sorted(arxiv_of))])
        dense.loaded = True  # filled by hand, as if refreshed
        keyword = TantivyKeywordIndex(settings.keyword_index_dir, factory)
        keyword.sync(factory)
        meaning = MeaningSearch(factory, embedder, dense, budget_seconds=30.0)

        # The parts of each claim's ranking: keyword matches, and (paper, cosine) by meaning.
        by_words: dict[str, set[int]] = {}
        by_meaning: dict[str, list[tuple[int, float]]] = {}
        for query_id in qrels:
            hits = keyword.search(query_terms(queries[query_id]), limit=100)
            by_words[query_id] = {paper_id for paper_id, _ in hits}
            by_meaning[query_id] = dense.search(embedder.embed([queries[query_id]])[0], 100)

        print(f"SciFact train: {len(corpus):,} abstracts, {len(qrels)} judged claims\n")
        print(
            "| cut-off (cosine) | relevant found by meaning alone, dropped | claims without"
            " their abstracts that still match by meaning | claims with no keyword match left"
            " that still match by meaning |"
        )
        print("| ---: | ---: | ---: | ---: |")
        for threshold in (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
            alone = dropped = still = still_no_words = no_words = 0
            for query_id, relevant in qrels.items():
                for paper_id, score in by_meaning[query_id]:
                    if doc_of[paper_id] in relevant and paper_id not in by_words[query_id]:
                        alone += 1
                        dropped += score < threshold
                others = [s for p, s in by_meaning[query_id] if doc_of[p] not in relevant]
                still += any(score >= threshold for score in others)
                if not {p for p in by_words[query_id] if doc_of[p] not in relevant}:
                    no_words += 1
                    still_no_words += any(score >= threshold for score in others)
            print(f"| {threshold:.2f} | {dropped}/{alone} ({dropped / max(alone, 1):.1%}) "
                  f"| {still / len(qrels):.1%} | {still_no_words}/{no_words} |")  # fmt: skip

        print("\nBest cosine of nonsense and out-of-domain queries (SciFact corpus):")
        for query in NONSENSE:
            best = dense.search(embedder.embed([query])[0], 1)[0][1]
            print(f"- {query!r}: {best:.3f}, keyword matches: "
                  f"{len(keyword.search(query_terms(query), limit=100))}")  # fmt: skip

        print(f"\nThrough search_papers (limit 100), cut-off {service.DENSE_MATCH_SIMILARITY}:")
        print("| cut-off | nDCG@10 | Recall@100 | claims answered | nonsense answered |")
        print("| --- | ---: | ---: | ---: | ---: |")
        chosen = service.DENSE_MATCH_SIMILARITY
        for name, threshold in (("none", -1.0), (f"{chosen}", chosen)):
            service.DENSE_MATCH_SIMILARITY = threshold
            ndcg = recall = answered = 0.0
            with factory() as session:
                for query_id, relevant in qrels.items():
                    found = service.search_papers(session, queries[query_id], keyword=keyword,
                                                  meaning=meaning, limit=100)  # fmt: skip
                    assert found.mode == "hybrid"
                    ranked = [doc_of[hit.item.paper.id] for hit in found.hits]
                    ndcg += ndcg_at_10(ranked, relevant)
                    recall += len(set(ranked) & relevant) / len(relevant)
                    answered += bool(ranked)
                nonsense = sum(
                    bool(service.search_papers(session, query, keyword=keyword,
                                               meaning=meaning).hits)
                    for query in NONSENSE
                )  # fmt: skip
            print(f"| {name} | {ndcg / len(qrels):.3f} | {recall / len(qrels):.3f} "
                  f"| {answered / len(qrels):.1%} | {nonsense}/{len(NONSENSE)} |")  # fmt: skip
        service.DENSE_MATCH_SIMILARITY = chosen
        meaning.close()
        engine.dispose()


if __name__ == "__main__":
    main()
