"""Error responses: JSON `{"error": ...}` under /api, helpful HTML pages elsewhere."""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from dailypapers.database import storage_problem
from dailypapers.web.csrf import CsrfError
from dailypapers.web.ratelimit import RateLimited
from dailypapers.web.responses import json_error

log = logging.getLogger(__name__)


class NotSignedIn(Exception):
    """The request needs a member; the message says what to do (401, or the log-in page)."""


class Forbidden(Exception):
    """The member may not do this; the message says why (403)."""


TITLES = {
    400: "That request is not quite right",
    401: "Please log in",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    422: "That request is not quite right",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "Temporarily unavailable",
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def error_page(request: Request, status_code: int, message: str) -> Response:
    if wants_json(request):
        return json_error(status_code, message)
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status_code": status_code, "title": TITLES.get(status_code, "Error"), "message": message},
        status_code=status_code,
    )


def _here(request: Request) -> str:
    """Where to come back to after logging in: this page (or, for a form post, its page)."""
    if request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        return request.url.path + query
    return safe_next(request.headers.get("referer"), fallback="/")


def safe_next(target: str | None, fallback: str = "/") -> str:
    """A same-site path to redirect to; anything else (other hosts, `//evil`, `javascript:`)
    becomes the fallback."""
    if not target:
        return fallback
    parts = urlsplit(target)
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return fallback
    return path + (f"?{parts.query}" if parts.query else "")


def describe_validation_error(error: RequestValidationError) -> str:
    problems = []
    for problem in error.errors():
        location = [str(part) for part in problem.get("loc", ()) if part not in ("query", "path")]
        name = ".".join(location) or "request"
        problems.append(f"{name}: {problem.get('msg', 'invalid value')}")
    return "; ".join(problems)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if error.status_code == 404 and error.detail == "Not Found":
            message = f"There is no page at {request.url.path}."
        else:
            message = str(error.detail)
        response = error_page(request, error.status_code, message)
        if error.headers:
            response.headers.update(error.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        return error_page(request, 422, describe_validation_error(error))

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, error: NotSignedIn) -> Response:
        if wants_json(request):
            return json_error(401, f"{error} Send a session cookie or an API token.")
        return RedirectResponse(f"/login?next={quote(_here(request))}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> Response:
        return error_page(request, 403, str(error))

    @app.exception_handler(CsrfError)
    async def csrf_failed(request: Request, error: CsrfError) -> Response:
        return error_page(request, 403, str(error))

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, error: RateLimited) -> Response:
        response = error_page(request, 429, str(error))
        response.headers.update(error.decision.headers())
        return response

    @app.exception_handler(DBAPIError)
    async def database_refused(request: Request, error: DBAPIError) -> Response:
        # A full disk or a read-only database (PostgreSQL's standby answers "read-only
        # transaction", an InternalError): a 503 that says so, as /healthz does ("degraded").
        problem = storage_problem(error.orig) if error.orig is not None else None
        if problem is None:
            raise error  # any other database error: the 500 of `unexpected_error`, as before
        log.warning("database refused %s %s: %s", request.method, request.url.path, problem)
        response = error_page(
            request,
            503,
            "The database cannot store changes right now; nothing was changed. "
            "Please try again later.",
        )
        response.headers["Retry-After"] = "30"
        return response

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_unreachable(request: Request, error: Exception) -> Response:
        if isinstance(error, DBAPIError) and error.orig is not None:
            if storage_problem(error.orig) is not None:  # e.g. SQLite's "disk is full"
                return await database_refused(request, error)
        # The database restarts or is out of reach: say so at once; the pool reconnects (each
        # connection is tested before use), so the next requests succeed when it is back.
        log.warning(
            "database unreachable on %s %s: %s",
            request.method,
            request.url.path,
            str(error).splitlines()[0][:200],
        )
        response = error_page(
            request,
            503,
            "The database cannot be reached right now; nothing was changed. "
            "Please try again in a few seconds.",
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = error_page(request, 500, "The error has been logged. Please try again shortly.")
        # Starlette raises the exception again after this answer, and uvicorn then closes the
        # connection: say so, so that no client sends its next request on it.
        response.headers["Connection"] = "close"
        return response
