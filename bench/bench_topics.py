"""Topic digests: do a followed topic's papers match it? Precision@5 and recall of the section.

    .venv/bin/python bench/bench_topics.py [--days 30] [--dense]

Topics are Hugging Face's `ai_keywords` phrases of the bundled demo data (several words, on at
least 5 papers); a paper is relevant to a topic when it carries the phrase. For every daily
digest of the last `--days` days of the data, the digest's own code (`digests.compose.Composer`)
picks each topic's section; a section shows at most 5 papers. Reported, over the sections shown:
precision@5 (relevant papers shown / papers shown), and recall (relevant shown / the relevant
papers of the period, at most 5) over the (topic, period) pairs that had a relevant paper, and
how many sections were left out because nothing matched. "before" is the search's top 5 with no
cut-off (what digests sent until now), "after" the sections with the cut-off. Phrases are split
in two halves (alternating by frequency): the rule was designed looking at the first ("tune")
only; the second ("held-out") checks it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "src" / "dailypapers" / "demo" / "daily_papers_demo.jsonl.gz"
RESULTS = ROOT / "bench" / "results"
MIN_PAPERS = 5
TOPICS = 80
SHOWN = 5


def phrases(rows: list[dict[str, Any]]) -> list[str]:
    counts = Counter(
        k.strip().lower() for row in rows for k in {k.lower() for k in row.get("ai_keywords") or ()}
    )
    multiword = [p for p, n in counts.items() if n >= MIN_PAPERS and len(p.split()) >= 2]
    multiword.sort(key=lambda p: (-counts[p], p))
    return multiword[:TOPICS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--dense", action="store_true", help="hybrid search (embeds the data)")
    args = parser.parse_args()

    from dailypapers.digests.compose import PAPERS_PER_TOPIC, TOPIC_LOOKBACK_DAYS, Composer
    from dailypapers.digests.schedule import daily_period, parse_days
    from dailypapers.papers.importing import load_file
    from dailypapers.search.query import SearchFilters
    from dailypapers.search.service import search_papers
    from dailypapers.settings import Settings
    from dailypapers.site import Site

    rows = [json.loads(line) for line in gzip.open(DEMO, "rt", encoding="utf-8")]
    topics = phrases(rows)
    halves = {"tune": topics[0::2], "held-out": topics[1::2]}
    carrying: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for keyword in {k.strip().lower() for k in row.get("ai_keywords") or ()}:
            carrying[keyword].add(row["arxiv_id"])

    folder = Path(tempfile.mkdtemp(prefix="dp-topics-"))
    settings = Settings(data_dir=folder, dense_search=args.dense)  # type: ignore[call-arg]
    site = Site.open(settings)
    load_file(site.sessions, DEMO, settings.zone)
    site.keyword.sync(site.sessions)
    meaning = None
    if args.dense:
        from dailypapers.search.embedder import Embedder
        from dailypapers.search.indexing import index_papers

        index_papers(site.sessions, Embedder.load(threads=2))
        meaning = site.meaning

    days = parse_days("mon,tue,wed,thu,fri")
    newest = max(date.fromisoformat(r["featured_date"][:10]) for r in rows if r["featured_date"])
    published = {r["arxiv_id"]: r["published"] for r in rows}
    periods = []
    day = newest + timedelta(days=1)
    while day > newest - timedelta(days=args.days):
        period = daily_period(day, days)
        if period is not None:
            periods.append(period)
        day -= timedelta(days=1)

    figures: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    with site.sessions() as session:
        for half, names in halves.items():
            shown: dict[str, list[float]] = {"before": [], "after": []}
            recall: dict[str, list[float]] = {"before": [], "after": []}
            left_out = 0
            for period in periods:
                composer = Composer(session, period, site.keyword, meaning)
                first = (period.start - timedelta(days=TOPIC_LOOKBACK_DAYS)).isoformat()
                for topic in names:
                    window = {
                        i
                        for i in carrying[topic]
                        if first <= (published[i] or "") <= period.end.isoformat()
                    }
                    filters = SearchFilters(
                        published_from=period.start - timedelta(days=TOPIC_LOOKBACK_DAYS),
                        published_to=period.end,
                    )
                    hits = search_papers(
                        session, topic, keyword=site.keyword, limit=50, filters=filters,
                        meaning=meaning,
                    ).hits  # fmt: skip
                    before = [h.item.paper.arxiv_id for h in hits][:PAPERS_PER_TOPIC]
                    picked = composer.topic(topic)[:PAPERS_PER_TOPIC]
                    by_id = {h.item.paper.id: h.item.paper.arxiv_id for h in hits}
                    after = [by_id[i] for i in picked]
                    for label, section in (("before", before), ("after", after)):
                        if section:
                            hit = sum(1 for i in section if i in carrying[topic])
                            shown[label].append(hit / len(section))
                        if window:
                            found = sum(1 for i in section if i in window)
                            recall[label].append(found / min(len(window), SHOWN))
                    if not after:
                        left_out += 1
            figures[half] = {
                "topics": len(names),
                "periods": len(periods),
                "sections_before": len(shown["before"]),
                "sections_after": len(shown["after"]),
                "left_out_after": left_out,
                "precision@5_before": statistics.fmean(shown["before"] or [0.0]),
                "precision@5_after": statistics.fmean(shown["after"] or [0.0]),
                "recall_before": statistics.fmean(recall["before"] or [0.0]),
                "recall_after": statistics.fmean(recall["after"] or [0.0]),
                "pairs_with_relevant": len(recall["after"]),
            }
    seconds = time.perf_counter() - started
    mode = "hybrid" if args.dense else "keyword"
    lines = [
        f"# bench_topics ({mode}) {time.strftime('%Y-%m-%d %H:%M:%S')}",
        f"command: {' '.join(sys.argv)}",
        f"data: {DEMO.name}, {len(rows)} papers; {len(topics)} phrases (>= {MIN_PAPERS} papers, "
        f">= 2 words); {len(periods)} daily periods ending {newest + timedelta(days=1)}",
        f"seconds: {seconds:.1f}",
        "",
        "| half | topics | sections before → after | left out | precision@5 before → after "
        "| recall before → after |",
        "|---|---|---|---|---|---|",
    ]
    for half, f in figures.items():
        lines.append(
            f"| {half} | {f['topics']} | {f['sections_before']} → {f['sections_after']} | "
            f"{f['left_out_after']} | {f['precision@5_before']:.3f} → {f['precision@5_after']:.3f} "
            f"| {f['recall_before']:.3f} → {f['recall_after']:.3f} |"
        )
    lines += ["", "tune topics: " + "; ".join(halves["tune"]),
              "held-out topics: " + "; ".join(halves["held-out"])]  # fmt: skip
    report = "\n".join(lines) + "\n"
    print(report)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"topics-{mode}-{time.strftime('%Y%m%d-%H%M%S')}.md"
    out.write_text(report)
    print(f"written to {out.relative_to(ROOT)}")
    site.close()


if __name__ == "__main__":
    main()
