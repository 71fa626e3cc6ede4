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

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/query"

    def start(self) -> ArxivReplay:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
