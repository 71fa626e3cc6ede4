"""Bounds on request bodies, as plain ASGI middleware (GET and HEAD pass untouched).

* A body larger than `max_bytes` (`DAILYPAPERS_MAX_BODY_KB`, 192 KiB) is answered 413: at once,
  before a byte of it is read, when its Content-Length says so; as soon as the bytes streamed
  in pass the limit otherwise (a chunked upload). No route ever holds more than that.
* A call to an API route that needs a member (`needs_member` in `routemap.py`) that comes with
  no credentials at all (neither an Authorization header nor the session cookie) is answered
  401 before its body is read: FastAPI reads and parses a body before it resolves the route's
  dependencies, so the route itself would refuse it only after the work.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.web.errors import error_page
from dailypapers.web.routemap import RouteMap

_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyTooLarge(HTTPException):
    """Raised while the body is read (the app's error handlers answer it)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, too_large(max_bytes))


def too_large(max_bytes: int) -> str:
    return (
        f"The request body is larger than {max_bytes // 1024} KB, the most this site accepts; "
        "nothing was changed."
    )


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_bytes: int, routes: RouteMap, session_cookie: str
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.routes = routes
        self.cookie = session_cookie.encode() + b"="

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _NO_BODY:
            await self.app(scope, receive, send)
            return
        length, credentials = None, False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"authorization" or (name == b"cookie" and self.cookie in value):
                credentials = True
        traits = self.routes.traits(scope)
        if not credentials and traits is not None and traits.needs_member:
            message = "Log in first. Send a session cookie or an API token."
            await _refuse(scope, receive, send, 401, message)
            return
        max_bytes = max(self.max_bytes, traits.max_body or 0) if traits else self.max_bytes
        if length is not None and length.isdigit() and int(length) > max_bytes:
            await _refuse(scope, receive, send, 413, too_large(max_bytes))
            return

        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge(max_bytes)
            return message

        started = False

        async def send_started(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_within_limit, send_started)
        except BodyTooLarge:  # read outside a route (its error handlers would have answered)
            if started:
                raise
            await _refuse(scope, receive, send, 413, too_large(max_bytes))


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    """Answer without reading the body; the connection is closed after the answer, since the
    rest of the body may still be on its way."""
    response: Response = error_page(Request(scope, receive), status, message)
    response.headers["Connection"] = "close"
    await response(scope, receive, send)
