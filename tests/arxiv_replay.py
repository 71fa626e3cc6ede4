"""A local HTTP server that answers like arXiv, from the real recorded responses in
../shared/fixtures/arxiv (see its README and manifest.json)."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id

EMPTY_FEED = "api_new_id_list_empty_nonexistent_0808.05394.xml"
OAI_PAGE_1 = "oai_old_listrecords_arxivraw_page1_with_token_TRIMMED.xml"  # token 726959|1001
OAI_PAGE_1_TOKEN = "726959|1001"
OAI_RECORD = "oai_old_getrecord_arxivraw_1302.2146.xml"
OAI_NO_RECORDS = "oai_old_error_noRecordsMatch_bad_set.xml"
OAI_BAD_TOKEN = "oai_old_error_badResumptionToken.xml"
OAI_503 = "oai_old_http503_retry_after.html"


@dataclass
class Answer:
    """One scripted answer of the replay server (status, body, content type, headers); with
    `reset_after` bytes set, the connection is closed after that much of the body."""

    status: int
    body: bytes
    kind: str = "text/xml"
    headers: dict[str, str] = field(default_factory=dict)
    reset_after: int | None = None
    delay: float = 0.0


def oai_page_2(folder: Path) -> bytes:
    """The last page after the recorded page 1's token: arXiv's recorded arXivRaw record of
    1302.2146 (a GetRecord answer) as a ListRecords page with an empty token, which is how
    OAI-PMH ends a list. (No recording of a real second page exists in the fixtures.)"""
    page_1 = (folder / OAI_PAGE_1).read_text()
    record = (folder / OAI_RECORD).read_text()
    body = record[record.index("<record>") : record.index("</GetRecord>")]
    head = page_1[: page_1.index("<ListRecords>") + len("<ListRecords>")]
    head = head.replace(
        'from="2014-10-01" metadataPrefix="arXivRaw"', f'resumptionToken="{OAI_PAGE_1_TOKEN}"'
    )
    return (head + "\n" + body + '<resumptionToken cursor="6" completeListSize="7"/>\n'
            "</ListRecords>\n</OAI-PMH>\n").encode()  # fmt: skip


@dataclass
class Seen:
    at: float
    path: str
    query: dict[str, list[str]]
    client_port: int


@dataclass
class ArxivReplay:
    folder: Path
    mode: str = "normal"  # or "down" (503 page) or "reset" (connection closed mid-way)
    requests: list[Seen] = field(default_factory=list)
    # OAI-PMH: answers to give before the recorded ones (each used once, in order), and the
    # answer for the page after the recorded page 1 (default: oai_page_2).
    oai_script: list[Answer] = field(default_factory=list)
    oai_page_1: bytes | None = None
    oai_page_2: bytes | None = None

    def __post_init__(self) -> None:
        manifest = json.loads((self.folder / "manifest.json").read_text())
        self.by_id: dict[str, tuple[str, int]] = {}
        for name, meta in manifest.items():
            if not name.startswith("api_") or "id_list=" not in meta["request"]:
                continue
            query = parse_qs(urlsplit(meta["request"].split()[1]).query)
            ids = query.get("id_list", [""])[0]
            if "," in ids or not ids:
                continue
            status = int(str(meta["http_status"]).split()[0])
            try:
                key = parse_arxiv_id(ids).id
            except InvalidArxivId:
                key = ids
            self.by_id.setdefault(key, (name, status))
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                replay.requests.append(Seen(time.monotonic(), parts.path, query,
                                            self.client_address[1]))  # fmt: skip
                if parts.path == "/oai":
                    return self._answer(replay.oai_answer(query))
                if replay.mode == "down":
                    body = (replay.folder / "oai_old_http503_retry_after.html").read_bytes()
                    return self._send(503, body, "text/html", {"Retry-After": "5"})
                if replay.mode == "reset":  # the connection dropped before any answer
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return None
                ids = query.get("id_list", [""])[0]
                try:
                    key = parse_arxiv_id(ids).id
                except InvalidArxivId:
                    key = ids
                name, status = replay.by_id.get(key, (EMPTY_FEED, 200))
                body = (replay.folder / name).read_bytes()
                return self._send(status, body, "application/atom+xml; charset=utf-8")

            def _answer(self, answer: Answer) -> None:
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.reset_after is None:
                    return self._send(answer.status, answer.body, answer.kind, answer.headers)
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.kind)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body[: answer.reset_after])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return None

            def _send(self, status: int, body: bytes, kind: str,
                      headers: dict[str, str] | None = None) -> None:  # fmt: skip
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def oai_answer(self, query: dict[str, list[str]]) -> Answer:
        if self.oai_script:
            return self.oai_script.pop(0)
        token = query.get("resumptionToken", [None])[0]
        if token == OAI_PAGE_1_TOKEN:
            return Answer(200, self.oai_page_2 or oai_page_2(self.folder))
        if token is not None:
            return Answer(200, (self.folder / OAI_BAD_TOKEN).read_bytes())
        return Answer(200, self.oai_page_1 or (self.folder / OAI_PAGE_1).read_bytes())

    @property
    def oai_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/oai"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/query"

    def start(self) -> ArxivReplay:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
