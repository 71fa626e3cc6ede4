"""A response cache for anonymous reads, keyed on the site revision.

Pages and API lists change only when data changes, and every such write bumps the site
revision (see `dailypapers.revisions`). A GET without cookies or credentials is answered from
memory when the revision, the site's calendar day and the URL are the same as when the
response was made (the daily list's API answers the same to everyone, so it is shared with
signed-in readers and token holders too); otherwise the app renders it and the response is
kept. Each web process has its own cache; the revision keeps them all correct. Responses carry
an ETag built from the same key, so clients can revalidate with `If-None-Match` and get a 304.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHEABLE_PREFIXES = ("/api/daily_papers", "/api/papers", "/papers", "/about/", "/feeds/")
MAX_ENTRIES = 2_000
MAX_BODY_BYTES = 2 * 1024 * 1024
_PRIVATE_HEADERS = (b"cookie", b"authorization")
# Answers that do not depend on who asks: shared whatever cookies or credentials come with them.
SHARED_PREFIXES = ("/api/daily_papers",)


class ResponseCacheMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        revision: Callable[[], Hashable],
        today: Callable[[], date],
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.app = app
        self.revision = revision
        self.today = today
        self.max_entries = max_entries
        self.entries: OrderedDict[tuple[Any, ...], tuple[int, list[Any], bytes]] = OrderedDict()

    def _cacheable(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return False
        path: str = scope["path"]
        if path != "/" and not path.startswith(CACHEABLE_PREFIXES):
            return False
        if path.startswith(SHARED_PREFIXES):
            return True
        return not any(name in _PRIVATE_HEADERS for name, _ in scope["headers"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        try:
            revision = self.revision()
        except Exception:  # the database is unreachable: let the app answer (and fail) itself
            await self.app(scope, receive, send)
            return
        key = (revision, self.today(), scope["method"], scope["path"], scope["query_string"])
        digest = hashlib.blake2b(repr(key).encode(), digest_size=8).hexdigest()
        etag = f'W/"{digest}"'.encode()
        if_none_match = next((v for n, v in scope["headers"] if n == b"if-none-match"), None)
        if if_none_match == etag:  # same revision, day and URL: the client's copy is current
            await _send(send, 304, [(b"etag", etag)], b"")
            return
        cached = self.entries.get(key)
        if cached is not None:
            self.entries.move_to_end(key)
            if _not_modified_since(scope, cached[1]):
                await _send(send, 304, [(b"etag", etag)], b"")
                return
            await _send(send, *cached)
            return

        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    message["headers"] = [*message.get("headers", []), (b"etag", etag)]
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._store(key, started, b"".join(chunks))  # before the client has it
            await send(message)

        await self.app(scope, receive, capture)

    def _store(self, key: tuple[Any, ...], started: dict[str, Any], body: bytes) -> None:
        headers = started.get("headers", [])
        if (
            started.get("status") == 200
            and len(body) <= MAX_BODY_BYTES
            and not any(name == b"set-cookie" for name, _ in headers)
        ):
            self.entries[key] = (200, headers, body)
            if len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)


def _not_modified_since(scope: Scope, headers: list[Any]) -> bool:
    """Whether the request's If-Modified-Since covers the stored response's Last-Modified."""
    since = next((v for n, v in scope["headers"] if n == b"if-modified-since"), None)
    modified = next((v for n, v in headers if n.lower() == b"last-modified"), None)
    if since is None or modified is None:
        return False
    try:
        return parsedate_to_datetime(since.decode()) >= parsedate_to_datetime(modified.decode())
    except (TypeError, ValueError, UnicodeDecodeError):
        return False


async def _send(send: Send, status: int, headers: list[Any], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
