"""A response cache for anonymous reads, keyed on the site revision.

Pages and API lists change only when data changes, and every such write bumps the site
revision (see `dailypapers.revisions`). A GET without cookies or credentials is answered from
memory when the revision, the site's calendar day and the URL are the same as when the
response was made (the daily list's API answers the same to everyone, so it is shared with
signed-in readers and token holders too); otherwise the app renders it and the response is
kept. Each web process has its own cache; the revision keeps them all correct. Responses carry
an ETag built from the same key, so clients can revalidate with `If-None-Match` and get a 304.
The key says whether the client accepts gzip: the answers kept are the compressed ones for
clients that do (compression runs inside this middleware, once per kept answer).

Memory is bounded: the cache holds at most `max_bytes` (`DAILYPAPERS_RESPONSE_CACHE_MB`),
dropping the least recently used answers first. The key holds the query parameters the route
reads, sorted (`?a=1&b=2` and `?b=2&a=1` are one answer); a request with any other parameter
is answered by the app and not kept, so made-up parameters cannot fill the cache. Answers of
routes that count each use against a rate limit (search) are never kept either: each such
request reaches its route, is counted and carries its RateLimit headers.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.web.compression import accepts_gzip
from dailypapers.web.routemap import RouteMap

CACHEABLE_PREFIXES = ("/api/daily_papers", "/api/papers", "/papers", "/about/", "/feeds/")
MAX_ENTRIES = 2_000
MAX_BYTES = 64 * 1024 * 1024
MAX_BODY_BYTES = 2 * 1024 * 1024  # a larger answer is never kept (nor one over max_bytes / 8)
ENTRY_OVERHEAD_BYTES = 400  # the key, the tuples and the dictionary's slot, roughly
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
        max_bytes: int = MAX_BYTES,
        routes: RouteMap | None = None,
    ) -> None:
        self.app = app
        self.revision = revision
        self.today = today
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        # Without the app's routes, the parameters a route reads are not known: only answers
        # to URLs without a query string are kept.
        self.routes = routes
        self.entries: OrderedDict[tuple[Any, ...], tuple[int, list[Any], bytes, int]] = (
            OrderedDict()
        )
        self.bytes = 0  # what the entries hold, by the sizes `_store` counted

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
        query = self._query(scope) if self._cacheable(scope) else None
        if query is None:
            await self.app(scope, receive, send)
            return
        try:
            revision = self.revision()
        except Exception:  # the database is unreachable: let the app answer (and fail) itself
            await self.app(scope, receive, send)
            return
        # Compression (web/compression.py) runs inside: a gzipped answer is kept apart from
        # the plain one, and each has its own ETag.
        key = (revision, self.today(), scope["method"], scope["path"], query, accepts_gzip(scope))
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
            await _send(send, cached[0], cached[1], cached[2])
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

    def _query(self, scope: Scope) -> tuple[tuple[str, str], ...] | None:
        """The query parameters of the key (sorted by name), or None when the request must
        reach the app and its answer not be kept: a parameter the route does not read, or a
        route that counts each use against a rate limit."""
        raw: bytes = scope["query_string"]
        traits = self.routes.traits(scope) if self.routes is not None else None
        if traits is None or traits.query is None:
            return () if not raw else None
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True) if raw else []
        if traits.counts(pairs) or any(name not in traits.query for name, _ in pairs):
            return None
        return tuple(sorted(pairs, key=lambda pair: pair[0]))  # stable: repeated names keep order

    def _store(self, key: tuple[Any, ...], started: dict[str, Any], body: bytes) -> None:
        headers = started.get("headers", [])
        size = (
            len(body)
            + sum(len(name) + len(value) + 64 for name, value in headers)
            + len(repr(key))
            + ENTRY_OVERHEAD_BYTES
        )
        if (
            started.get("status") == 200
            and len(body) <= MAX_BODY_BYTES
            and size <= self.max_bytes // 8
            and not any(name == b"set-cookie" for name, _ in headers)
        ):
            old = self.entries.pop(key, None)
            if old is not None:
                self.bytes -= old[3]
            self.entries[key] = (200, headers, body, size)
            self.bytes += size
            while self.entries and (
                self.bytes > self.max_bytes or len(self.entries) > self.max_entries
            ):
                self.bytes -= self.entries.popitem(last=False)[1][3]


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
