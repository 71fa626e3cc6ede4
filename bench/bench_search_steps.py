"""Where the time of one search goes, step by step, in-process (PostgreSQL or SQLite site).

    .venv/bin/python bench/bench_search_steps.py --data-dir /tmp/dp-1m \\
        --database-url 'postgresql://postgres:@/bench?host=/tmp/pg-1m/data'

Runs the steps of `search_papers` one after another for queries made as `bench_search_speed.py`
makes them (titles from `--data-dir`, skipping the first `--skip` so that they are new to the
server): the exact-match lookup, keyword search (100 candidates), the query embedding, dense
search (100 nearest), and loading 20 papers. Prints median, p90 and p99 per step. In the site
the embedding and dense search run beside the keyword search; here they run in turn, so that
each is timed alone. Just after PostgreSQL starts, its buffers are empty and every step reads
from disk: read the tables in first (`pg_prewarm`, as `bench_backends.py` does) or run twice.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search_speed import queries  # noqa: E402
from dailypapers.database import make_engine, make_session_factory  # noqa: E402
from dailypapers.papers.feed import paper_items  # noqa: E402
from dailypapers.search import service  # noqa: E402
from dailypapers.search.backends import open_dense_index, open_keyword_search  # noqa: E402
from dailypapers.search.embedder import Embedder  # noqa: E402
from dailypapers.search.query import query_terms  # noqa: E402
from dailypapers.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", help="default: the data dir's SQLite database")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip", type=int, default=200)
    args = parser.parse_args()
    settings = Settings(_env_file=None, data_dir=args.data_dir)  # type: ignore[call-arg]
    engine = make_engine(args.database_url or settings.resolved_database_url)
    factory = make_session_factory(engine)
    keyword = open_keyword_search(engine, settings.keyword_index_dir)
    keyword.sync(factory)
    embedder = Embedder.load(threads=1)
    dense = open_dense_index(engine, embedder.model_name, embedder.dimension)
    with factory() as session:
        dense.refresh(session)
    dense.maintain_ann(factory, settings.data_dir / "dense-ann")  # the graph the site searches
    sample = queries(args.data_dir, args.skip + args.queries)[args.skip :]
    keyword.search(["warm"], limit=100)  # reads the word statistics once
    steps: dict[str, list[float]] = {}
    for text in sample:
        with factory() as session:
            marks = [time.perf_counter()]
            service._exact_matches(session, text)
            marks.append(time.perf_counter())
            found = [p for p, _ in keyword.search(list(query_terms(text)), limit=100)]
            marks.append(time.perf_counter())
            vector = embedder.embed([text])[0]
            marks.append(time.perf_counter())
            near = [p for p, _ in dense.search(vector, 100)]
            marks.append(time.perf_counter())
            paper_items(session, found[:10] + near[:10])
            marks.append(time.perf_counter())
        names = ("exact match", "keyword", "query embedding", "dense", "20 papers")
        for name, start, end in zip(names, marks, marks[1:], strict=False):
            steps.setdefault(name, []).append((end - start) * 1000)
        steps.setdefault("all, in turn", []).append((marks[-1] - marks[0]) * 1000)
    keyword.stop()
    print(f"{len(sample)} queries, {engine.dialect.name}; ms per step")
    print("| step | p50 | p90 | p99 |")
    print("| --- | ---: | ---: | ---: |")
    for name, values in steps.items():
        values.sort()
        p90, p99 = values[int(len(values) * 0.9)], values[int(len(values) * 0.99)]
        print(f"| {name} | {statistics.median(values):.1f} | {p90:.1f} | {p99:.1f} |")


if __name__ == "__main__":
    main()
