"""gzip for what the site sends as text: pages, JSON, CSS, JavaScript, feeds, Markdown.

Starlette's GZipMiddleware does the work: an answer of at least `MINIMUM_SIZE` bytes, of a type
worth compressing, is gzipped when the client accepts it (streams chunk by chunk), and carries
`Vary: Accept-Encoding` either way. This wrapper adds what an HTTP cache needs on top:

- A strong ETag names the exact bytes of an answer, so a gzipped body cannot keep it; it
  becomes weak (`W/"…"`), as nginx does. Static files still answer 304: Starlette's StaticFiles
  compares If-None-Match with the `W/` taken off.
- The response cache (web/cache.py) sits outside this middleware and keeps each encoding apart:
  it keys on `accepts_gzip`, so a cached gzipped answer is never sent to a client that did not
  ask for one, and its ETags differ by encoding.

Level 4 rather than Starlette's 9: on the demo data's week page (144 KB before issue 15), the
fastest of 40 runs took 1.7 ms for 38.7 KB at level 4, against 4.1 ms for 36.7 KB at level 9
(level 6: 3.7 ms, 36.7 KB; level 1: 1.0 ms, 44.1 KB); on the home page 0.55 ms. Pages answered
by the response cache pay nothing: it keeps them compressed.
"""

from __future__ import annotations

from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 500  # bytes; a smaller answer fits in one packet either way
COMPRESS_LEVEL = 4
# Already compressed, or a stream whose events must not wait in a compressor's buffer.
NOT_COMPRESSED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf", "image/x-icon")


def accepts_gzip(scope: Scope) -> bool:
    """Whether the request's Accept-Encoding names gzip (as GZipMiddleware decides)."""
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return b"gzip" in value
    return False


class CompressionMiddleware:
    def __init__(
        self, app: ASGIApp, minimum_size: int = MINIMUM_SIZE, level: int = COMPRESS_LEVEL
    ) -> None:
        self.app = GZipMiddleware(
            app,
            minimum_size=minimum_size,
            compresslevel=level,
            exclude_content_types=NOT_COMPRESSED,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_weak_etag_when_gzipped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if any(name.lower() == b"content-encoding" for name, _ in headers):
                    message["headers"] = [_weakened(name, value) for name, value in headers]
            await send(message)

        await self.app(scope, receive, send_weak_etag_when_gzipped)


def _weakened(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    if name.lower() == b"etag" and not value.startswith(b"W/"):
        return name, b"W/" + value
    return name, value
