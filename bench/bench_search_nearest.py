"""How near by meaning real and nonsense queries come to the bundled arXiv papers: the best
cosine similarity of each query over a sample of 2,500 HF Daily Papers (the cut-off check of
bench/bench_search_cutoff.py, on the site's own domain). In-domain queries are the papers' own
`ai_keywords` phrases.

    .venv/bin/python bench/bench_search_nearest.py
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np

from dailypapers.search.embedder import Embedder
from dailypapers.search.indexing import embedding_text
from dailypapers.search.query import query_terms

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
QUERIES = [
    "xqzzyv plorbington", "asdf qwerty zxcv", "blorft snizzle wumpus", "zzzz",
    "qwpeoriu zmxncbv", "flibbertigibbet quux", "lorem ipsum dolor sit amet",
    "best pizza recipe with pineapple", "football transfer news today",
    "how to fix a leaking kitchen tap", "cheap flights to lisbon in june",
    "taylor swift concert tickets", "GRPO", "qwen3 technical report", "KV cache compression",
    "speculative decoding", "Xiaoyan Bai",
]  # fmt: skip


def main() -> None:
    with gzip.open(DATA / "hf_daily_papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        rows = [row for row in map(json.loads, lines) if row["abstract"]]
    random.seed(1)
    sample = random.sample(rows, 2500)
    embedder = Embedder.load(threads=2)
    matrix = embedder.embed([embedding_text(r["title"], r["abstract"]) for r in sample])
    keywords = {k for r in sample for k in (r.get("ai_keywords") or [])}
    long = sorted(k for k in keywords if len(query_terms(k)) >= 3)
    short = sorted(k for k in keywords if len(query_terms(k)) <= 2)
    random.shuffle(long)
    random.shuffle(short)
    for name, queries in (("phrases>=3 words", long[:400]), ("phrases<=2 words", short[:400])):
        best = (embedder.embed(queries) @ matrix.T).max(1)
        print(name, len(queries), "pct 1,5,10,50", np.percentile(best, [1, 5, 10, 50]).round(3),
              "below .30", (best < 0.30).mean().round(4))  # fmt: skip
        lowest = [(queries[i], round(float(best[i]), 3)) for i in np.argsort(best)[:8]]
        print("  lowest", lowest)
    best = (embedder.embed(QUERIES) @ matrix.T).max(1)
    for query, similarity in zip(QUERIES, best, strict=True):
        print(f"{query!r}: {similarity:.3f}")


if __name__ == "__main__":
    main()
