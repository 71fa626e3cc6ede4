"""Write the bundled demo extract: the last year of featured HF Daily Papers that have abstracts.

.venv/bin/python scripts/make_demo_data.py ../shared/data/hf_daily_papers.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import json
from datetime import date, timedelta
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "src/dailypapers/demo/daily_papers_demo.jsonl.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    with gzip.open(args.source, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    latest = max(date.fromisoformat(r["featured_date"]) for r in rows if r["featured_date"])
    first = (latest - timedelta(days=args.days - 1)).isoformat()
    keep = sorted(
        (r for r in rows if r["abstract"] and r["featured_date"] and r["featured_date"] >= first),
        key=lambda r: (r["featured_date"], r["arxiv_id"]),
    )
    with gzip.GzipFile(TARGET, "wb", compresslevel=9, mtime=0) as out:
        for row in keep:
            out.write((json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode())
    print(f"{len(keep)} papers featured {keep[0]['featured_date']} → {keep[-1]['featured_date']}")


if __name__ == "__main__":
    main()
