"""Harvest speed: parse-and-store throughput of OAI-PMH pages, and the time to make a day's
1,500 new papers searchable.

    .venv/bin/python bench/bench_harvest.py [--papers 20000] [--page-size 1000] [--day 1500]

The pages are arXivRaw ListRecords answers built from real papers of ../shared/data
(arxiv_corpus.jsonl.gz: real ids, titles, abstracts, authors, categories and comments),
1,000 records a page linked by resumption tokens like arXiv's, served from a loopback HTTP
server with no politeness delay (ARXIV_REQUEST_INTERVAL=0), so the figure is our parse and
store work. Reported:

1. papers/s of a whole harvest into an empty site (requests + XML parse + validation +
   upsert + versions + cursor, per page one transaction), and of the parse alone;
2. for a day of `--day` new papers harvested into a site that already holds the previous
   papers: the harvest itself, the keyword index sync, and embedding them with the bundled
   model (what makes them searchable by meaning), i.e. the wait from the announcement's
   pages to every new paper being findable both ways.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import tempfile
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from dailypapers.arxiv.oai import parse_page
from dailypapers.database import make_engine, make_session_factory, upgrade
from dailypapers.harvest.job import harvest_arxiv
from dailypapers.harvest.metadata import read_metadata
from dailypapers.search.embedder import Embedder
from dailypapers.search.keyword_tantivy import TantivyKeywordIndex
from dailypapers.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "arxiv_corpus.jsonl.gz"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
    '<responseDate>2026-11-27T02:00:00Z</responseDate><request verb="ListRecords">'
    "http://export.arxiv.org/oai2</request><ListRecords>\n"
)


def corpus(count: int) -> list[dict[str, Any]]:
    rows = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["abstract"] and row["published"] and row["authors"] and row["categories"]:
                rows.append(row)
                if len(rows) == count:
                    break
    return rows


def record_xml(row: dict[str, Any]) -> str:
    day = date.fromisoformat(row["published"])
    comment = f"<comments>{escape(row['comment'])}</comments>" if row.get("comment") else ""
    return (
        f"<record><header><identifier>oai:arXiv.org:{row['arxiv_id']}</identifier>"
        f"<datestamp>{row['published']}</datestamp><setSpec>cs</setSpec></header><metadata>"
        '<arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">'
        f"<id>{row['arxiv_id']}</id><submitter>{escape(row['authors'][0])}</submitter>"
        f'<version version="v1"><date>{day:%a, %d %b %Y} 17:59:01 GMT</date>'
        f"<size>1024kb</size></version><title>{escape(row['title'])}</title>"
        f"<authors>{escape(', '.join(row['authors']))}</authors>"
        f"<categories>{' '.join(row['categories'])}</categories>{comment}"
        f"<abstract>{escape(row['abstract'])}</abstract></arXivRaw></metadata></record>\n"
    )


def pages(rows: list[dict[str, Any]], size: int, prefix: str) -> dict[str, bytes]:
    """Pages keyed by the token that asks for them ("" for the first)."""
    out = {}
    chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
    for n, chunk in enumerate(chunks):
        token = f"{prefix}|{(n + 1) * size}" if n + 1 < len(chunks) else ""
        out["" if n == 0 else f"{prefix}|{n * size}"] = (
            HEAD + "".join(record_xml(r) for r in chunk)
            + f'<resumptionToken cursor="{n * size}" completeListSize="{len(rows)}">{token}'
            "</resumptionToken></ListRecords></OAI-PMH>"
        ).encode()  # fmt: skip
    return out


class Server:
    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                query = parse_qs(urlsplit(self.path).query)
                body = server.pages[query.get("resumptionToken", [""])[0]]
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_port}/oai"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=1_000)
    parser.add_argument("--day", type=int, default=1_500)
    args = parser.parse_args()
    rows = corpus(args.papers + args.day)
    bulk, day = rows[: args.papers], rows[args.papers :]
    server = Server()
    server.pages = pages(bulk, args.page_size, "bulk")

    parse_times = []
    for body in server.pages.values():
        started = time.perf_counter()
        for record in parse_page(body).records:
            assert record.metadata is not None
            read_metadata(record.metadata)
        parse_times.append(time.perf_counter() - started)
    parse_rate = args.page_size / statistics.median(parse_times)

    with tempfile.TemporaryDirectory(prefix="dp-harvest-") as folder:
        settings = Settings(_env_file=None, data_dir=Path(folder), arxiv_oai_url=server.url,  # type: ignore[call-arg]
                            arxiv_request_interval=0, harvest_categories="cs.LG",
                            harvest_proposals=0, secret_key="bench")  # fmt: skip
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        factory = make_session_factory(engine)
        started = time.perf_counter()
        outcome = harvest_arxiv(factory, settings, today=date(2026, 11, 27),
                                from_date=date(2026, 1, 1))  # fmt: skip
        bulk_seconds = time.perf_counter() - started
        assert outcome.report.ok and outcome.report.counts.new == len(bulk), outcome.report
        keyword = TantivyKeywordIndex(settings.keyword_index_dir, factory)
        started = time.perf_counter()
        keyword.sync(factory)
        bulk_keyword = time.perf_counter() - started
        embedder = Embedder.load(threads=2)

        server.pages = pages(day, args.page_size, "day")
        started = time.perf_counter()
        outcome = harvest_arxiv(factory, settings, today=date(2026, 11, 28))
        day_harvest = time.perf_counter() - started
        assert outcome.report.counts.new == len(day)
        started = time.perf_counter()
        synced = keyword.sync(factory)
        day_keyword = time.perf_counter() - started
        assert synced == len(day)
        from dailypapers.search.indexing import index_papers

        started = time.perf_counter()
        embedded = index_papers(factory, embedder, paper_ids=outcome.report.new_paper_ids)
        day_embed = time.perf_counter() - started
        assert embedded.embedded == len(day)
        engine.dispose()

    print(
        f"parse only (ElementTree + validation): {parse_rate:,.0f} papers/s "
        f"(median of {len(parse_times)} pages of {args.page_size})"
    )
    print(
        f"harvest into an empty site: {len(bulk):,} papers in {bulk_seconds:.1f} s = "
        f"{len(bulk) / bulk_seconds:,.0f} papers/s (keyword index after: {bulk_keyword:.1f} s)"
    )
    total = day_harvest + day_keyword + day_embed
    print(f"a day of {len(day):,} new papers: harvest {day_harvest:.1f} s, keyword index "
          f"{day_keyword:.2f} s, embeddings {day_embed:.1f} s "
          f"({len(day) / day_embed:,.0f} papers/s); searchable by words after "
          f"{day_harvest + day_keyword:.1f} s, by meaning after {total:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
