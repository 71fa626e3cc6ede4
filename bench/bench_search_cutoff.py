"""The relevance cut-off of search, fit on SciFact (train split, ../shared/eval-dev) and an arXiv
sample built from ../shared/data, measured through the app's own search code (`search_papers`).

A result must be a match (`service.is_match`): near enough in meaning (cosine
`DENSE_MATCH_SIMILARITY`), or having words that carry `KEYWORD_MATCH_SHARE` of the query's
weight (each word weighs its inverse document frequency; a word no paper has, the most), or
`NEAR_MATCH_SHARE` of it at cosine `NEAR_SIMILARITY` or more. For the cut-off as shipped, the
one of session 7 (cosine 0.40 or any query word) and a grid around it:

* SciFact claims on SciFact: nDCG@10 and Recall@100 (recall lost to the cut-off), and the share
  of claims that still get matches once their relevant abstracts are taken out (a claim about
  something the site does not have, on the site's own subject);
* the arXiv sample (6,000 abstracts, every 18th of arxiv_corpus, loaded without titles as
  bench_search_heldout.py does): 500 titles -> their abstract (nDCG@10, Recall@100), and HF
  `ai_keywords` phrases -> the sample's papers carrying them (Recall@100);
* out of domain: SciFact claims on the arXiv sample, arXiv titles and phrases on SciFact (the
  share that get any match), and nonsense and everyday queries on both (how many get any).

    .venv/bin/python bench/bench_search_cutoff.py [--dense-grid]

`--dense-grid` also prints how the cosine cut-off (0.40) was chosen. Document vectors are cached
in bench/results/ (bench_search_quality.py and bench_search_heldout.py make them).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.database import make_engine, make_session_factory, upgrade
from dailypapers.papers.importing import load_file
from dailypapers.papers.models import Paper
from dailypapers.search import service
from dailypapers.search.dense_memory import MemoryDenseIndex
from dailypapers.search.embedder import Embedder
from dailypapers.search.indexing import embedding_text
from dailypapers.search.keyword_tantivy import TantivyKeywordIndex
from dailypapers.search.meaning import MeaningSearch
from dailypapers.search.query import query_terms
from dailypapers.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
SCIFACT = ROOT / "shared" / "eval-dev" / "scifact"
DATA = ROOT / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"
NONSENSE = [
    "xqzzyv plorbington", "asdf qwerty zxcv", "blorft snizzle wumpus", "zzzz",
    "qwpeoriu zmxncbv", "flibbertigibbet quux", "lorem ipsum dolor sit amet",
    "best pizza recipe with pineapple", "football transfer news today",
    "how to fix a leaking kitchen tap", "cheap flights to lisbon in june",
    "taylor swift concert tickets", "recipe for banana bread with walnuts",
    "football world cup 2022 final score", "best hiking trails near denver",
    "how to train a puppy to sit", "stock price of tesla today",
    "weather forecast london tomorrow",
]  # fmt: skip
# (name, KEYWORD_MATCH_SHARE, NEAR_MATCH_SHARE, NEAR_SIMILARITY); the shipped one is marked
CUT_OFFS = [
    ("session 7: cosine >= 0.40 or any query word", 1e-9, 1.0, 2.0),
    ("share >= 0.3", 0.3, 1.0, 2.0),
    ("share >= 0.4", 0.4, 1.0, 2.0),
    ("share >= 0.5", 0.5, 1.0, 2.0),
    ("share >= 0.4, or >= 0.3 at cosine >= 0.30", 0.4, 0.3, 0.30),
    ("share >= 0.5, or >= 0.3 at cosine >= 0.30", 0.5, 0.3, 0.30),
    ("share >= 0.6, or >= 0.3 at cosine >= 0.30", 0.6, 0.3, 0.30),
]


def ndcg_at_10(ranked: list[str], relevant: set[str]) -> float:
    gains = sum(1 / math.log2(rank + 2) for rank, doc in enumerate(ranked[:10]) if doc in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), 10)))
    return gains / ideal


class CachedEmbedder:
    """The bundled embedder, each query embedded once for all the cut-offs compared."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.model_name = embedder.model_name
        self.vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.embedder.embed(missing), strict=True))
        return np.stack([self.vectors[text] for text in texts])


@dataclass
class Site:
    """A fresh SQLite site holding a corpus, searched as the app searches."""

    factory: sessionmaker[Session]
    keyword: TantivyKeywordIndex
    meaning: MeaningSearch
    key_of: dict[int, str]  # paper id -> the corpus's document key


@contextmanager
def open_site(
    rows: list[dict[str, Any]], matrix: np.ndarray, embedder: CachedEmbedder
) -> Iterator[Site]:
    """`rows` ({"arxiv_id", "title", "abstract", "key"}) loaded, `matrix` their vectors."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        source = data / "papers.jsonl"
        source.write_text(
            "".join(json.dumps({k: v for k, v in row.items() if k != "key"}) + "\n" for row in rows)
        )
        settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        factory = make_session_factory(engine)
        load_file(factory, source, settings.zone)
        with factory() as session:
            paper_of = {aid: pid for pid, aid in session.execute(select(Paper.id, Paper.arxiv_id))}
        dense = MemoryDenseIndex(embedder.model_name)
        dense._add([(i + 1, paper_of[row["arxiv_id"]], matrix[i].tobytes())
                    for i, row in enumerate(rows)])  # fmt: skip
        dense.loaded = True  # filled by hand, as if refreshed
        keyword = TantivyKeywordIndex(settings.keyword_index_dir, factory)
        keyword.sync(factory)
        meaning = MeaningSearch(factory, embedder, dense, budget_seconds=30.0)  # type: ignore[arg-type]
        yield Site(factory, keyword, meaning, {paper_of[r["arxiv_id"]]: r["key"] for r in rows})
        meaning.close()
        engine.dispose()


def run(
    site: Site, queries: dict[str, str], relevant: dict[str, set[str]] | None = None
) -> dict[str, float]:
    """nDCG@10 and Recall@100 (when judged), the share of queries answered, and of queries with
    a match other than their relevant documents."""
    ndcg = recall = answered = beyond = 0.0
    with site.factory() as session:
        for query_id, text in queries.items():
            found = service.search_papers(session, text, keyword=site.keyword,
                                          meaning=site.meaning, limit=100)  # fmt: skip
            assert found.mode == "hybrid"
            ranked = [site.key_of[hit.item.paper.id] for hit in found.hits]
            wanted = (relevant or {}).get(query_id, set())
            if wanted:
                ndcg += ndcg_at_10(ranked, wanted)
                recall += len(set(ranked) & wanted) / len(wanted)
            answered += bool(ranked)
            beyond += any(key not in wanted for key in ranked)
    count = len(queries)
    return {"ndcg": ndcg / count, "recall": recall / count, "answered": answered / count,
            "beyond": beyond / count}  # fmt: skip


@contextmanager
def cut_off(share: float, near_share: float, near_similarity: float) -> Iterator[None]:
    saved = (service.KEYWORD_MATCH_SHARE, service.NEAR_MATCH_SHARE, service.NEAR_SIMILARITY)
    service.KEYWORD_MATCH_SHARE, service.NEAR_MATCH_SHARE = share, near_share
    service.NEAR_SIMILARITY = near_similarity
    try:
        yield
    finally:
        service.KEYWORD_MATCH_SHARE, service.NEAR_MATCH_SHARE, service.NEAR_SIMILARITY = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dense-grid", action="store_true")
    args = parser.parse_args()
    embedder = CachedEmbedder(Embedder.load(threads=2))

    with gzip.open(SCIFACT / "corpus.jsonl.gz", "rt", encoding="utf-8") as lines:
        corpus = [json.loads(line) for line in lines]
    claim_text = {
        row["id"]: row["text"]
        for row in map(json.loads, (SCIFACT / "queries.jsonl").read_text().splitlines())
    }
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in (SCIFACT / "qrels.tsv").read_text().splitlines()[1:]:
        query_id, doc_id, _ = line.split("\t")
        qrels[query_id].add(doc_id)
    claims = {query_id: claim_text[query_id] for query_id in qrels}
    scifact_rows = [
        {"arxiv_id": f"2001.{i:05d}", "title": d["title"] or d["id"], "abstract": d["text"],
         "key": d["id"]}
        for i, d in enumerate(corpus)
    ]  # fmt: skip
    scifact_matrix = np.load(RESULTS / f"scifact-{embedder.model_name}.npy")

    with gzip.open(DATA / "arxiv_corpus.jsonl.gz", "rt", encoding="utf-8") as lines:
        every = [row for row in map(json.loads, lines) if row.get("abstract")]
    sample = every[:: max(len(every) // 6_000, 1)][:6_000]  # as bench_search_heldout.py
    asked = sample[:: max(len(sample) // 500, 1)][:500]
    titles = {row["arxiv_id"]: row["title"] for row in asked}
    arxiv_rows = [
        {"arxiv_id": row["arxiv_id"], "title": row["arxiv_id"], "abstract": row["abstract"],
         "key": row["arxiv_id"]}
        for row in sample
    ]  # fmt: skip
    arxiv_cache = RESULTS / f"heldout-title-6000-{embedder.model_name}.npy"
    if arxiv_cache.exists():
        arxiv_matrix = np.load(arxiv_cache)
    else:
        arxiv_matrix = embedder.embedder.embed(
            [embedding_text(row["arxiv_id"], row["abstract"]) for row in sample]
        )
        np.save(arxiv_cache, arxiv_matrix)
    with gzip.open(DATA / "hf_daily_papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        keywords = {row["arxiv_id"]: row.get("ai_keywords") or [] for row in map(json.loads, lines)}
    carrying: dict[str, set[str]] = defaultdict(set)
    for row in sample:
        for phrase in keywords.get(row["arxiv_id"], []):
            carrying[phrase.lower()].add(row["arxiv_id"])
    random.seed(1)
    phrases = sorted(carrying)
    random.shuffle(phrases)
    phrase_queries = {phrase: phrase for phrase in phrases[:400]}
    nonsense = {query: query for query in NONSENSE}

    print(f"SciFact train: {len(corpus):,} abstracts, {len(claims)} judged claims; arXiv sample: "
          f"{len(sample):,} abstracts (no titles), {len(titles)} titles, "
          f"{len(phrase_queries)} HF keyword phrases\n")  # fmt: skip
    results: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    started = time.perf_counter()
    with open_site(scifact_rows, scifact_matrix, embedder) as scifact:
        if args.dense_grid:
            dense_grid(scifact, claims, qrels)
        for name, *values in CUT_OFFS:
            with cut_off(*values):
                results[name]["scifact"] = run(scifact, claims, qrels)
                results[name]["titles on scifact"] = run(scifact, titles)
                results[name]["phrases on scifact"] = run(scifact, phrase_queries)
                results[name]["nonsense on scifact"] = run(scifact, nonsense)
    with open_site(arxiv_rows, arxiv_matrix, embedder) as arxiv:
        for name, *values in CUT_OFFS:
            with cut_off(*values):
                results[name]["titles"] = run(arxiv, titles, {aid: {aid} for aid in titles})
                results[name]["phrases"] = run(
                    arxiv, phrase_queries, {p: carrying[p] for p in phrase_queries}
                )
                results[name]["claims on arxiv"] = run(arxiv, claims)
                results[name]["nonsense on arxiv"] = run(arxiv, nonsense)
    searches = sum(len(q) for q in (claims, titles, phrase_queries, nonsense)) * 2 * len(CUT_OFFS)
    print(f"({searches:,} searches in {time.perf_counter() - started:.0f} s)\n")

    shipped = (service.KEYWORD_MATCH_SHARE, service.NEAR_MATCH_SHARE, service.NEAR_SIMILARITY)
    print("Matches where the answer is there (nDCG@10 / Recall@100):\n")
    print("| cut-off | SciFact claims | arXiv titles -> abstract | HF phrases -> arXiv (R@100) |")
    print("| --- | ---: | ---: | ---: |")
    for name, *values in CUT_OFFS:
        got = results[name]
        mark = " **(shipped)**" if tuple(values) == shipped else ""
        print(f"| {name}{mark} | {got['scifact']['ndcg']:.3f} / {got['scifact']['recall']:.3f} "
              f"| {got['titles']['ndcg']:.3f} / {got['titles']['recall']:.3f} "
              f"| {got['phrases']['recall']:.3f} |")  # fmt: skip
    print("\nMatches where the answer is not there (share of queries that get any):\n")
    print("| cut-off | SciFact claims, their abstracts removed | SciFact claims on arXiv "
          "| arXiv titles on SciFact | HF phrases on SciFact | nonsense and everyday queries "
          "(of 36) |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, *values in CUT_OFFS:
        got = results[name]
        mark = " **(shipped)**" if tuple(values) == shipped else ""
        nonsense_count = round(
            (got["nonsense on scifact"]["answered"] + got["nonsense on arxiv"]["answered"])
            * len(NONSENSE)
        )
        print(f"| {name}{mark} | {got['scifact']['beyond']:.1%} "
              f"| {got['claims on arxiv']['answered']:.1%} "
              f"| {got['titles on scifact']['answered']:.1%} "
              f"| {got['phrases on scifact']['answered']:.1%} | {nonsense_count} |")  # fmt: skip


def dense_grid(site: Site, claims: dict[str, str], qrels: dict[str, set[str]]) -> None:
    """How the cosine cut-off was chosen (session 7): relevant abstracts found by meaning alone
    that each threshold drops, and claims that still match by meaning without their abstracts."""
    by_words: dict[str, set[int]] = {}
    by_meaning: dict[str, list[tuple[int, float]]] = {}
    for query_id, text in claims.items():
        hits = site.keyword.search(query_terms(text), limit=100)
        by_words[query_id] = {paper_id for paper_id, _ in hits}
        vector = site.meaning.embedder.embed([text])[0]
        by_meaning[query_id] = site.meaning.dense.search(vector, 100)
    print("| cut-off (cosine) | relevant found by meaning alone, dropped | claims without"
          " their abstracts that still match by meaning |")  # fmt: skip
    print("| ---: | ---: | ---: |")
    for threshold in (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
        alone = dropped = still = 0
        for query_id, relevant in qrels.items():
            for paper_id, score in by_meaning[query_id]:
                if site.key_of[paper_id] in relevant and paper_id not in by_words[query_id]:
                    alone += 1
                    dropped += score < threshold
            others = [s for p, s in by_meaning[query_id] if site.key_of[p] not in relevant]
            still += any(score >= threshold for score in others)
        print(f"| {threshold:.2f} | {dropped}/{alone} ({dropped / max(alone, 1):.1%}) "
              f"| {still / len(qrels):.1%} |")  # fmt: skip
    print()


if __name__ == "__main__":
    main()
