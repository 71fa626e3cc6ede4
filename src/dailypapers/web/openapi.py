"""What the OpenAPI document says about the answers routes share: the one error model, the
refusals a route can give, and how members authenticate; and the pages that show it.

Routes declare their answers: a pydantic `response_model` for the 2xx body (documented, not
re-validated: routes return pre-serialised `JSONBytesResponse`s) and `responses=errors(...)`
for every status code they can refuse with. `install_openapi` makes the document say the
rest: FastAPI's own 422 model (`HTTPValidationError`) is replaced by the body actually sent,
`{"error": "..."}`, and the members' ways of signing in are named.

`install_docs` serves Swagger UI at /docs from files in a package, never from a CDN, so it works
offline and under the site's strict Content-Security-Policy (web/security.py): the copy of
Swagger UI 5 (it reads OpenAPI 3.1, which swagger-ui-bundle's 4.x does not) in
`fastapi_offline`, started by a script file of ours instead of an inline script. ReDoc is left
out although the package has it: it needs inline styles and a blob: worker, and its menu loads
a logo from redoc.ly whatever its options say.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.responses import HTMLResponse

from dailypapers.web.csrf import HEADER as CSRF_HEADER


class ErrorPublic(BaseModel):
    """Every refusal of the API: one sentence, starting with the parameter at fault."""

    error: str = Field(description="What is wrong, e.g. `limit: Input should be ≥ 1`.")


_RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer"},
}
_RATE_LIMIT_HEADERS = {
    "Retry-After": _RETRY_AFTER,
    "RateLimit": {
        "description": 'What is left: `"bucket";r=0;t=42` (remaining, seconds to reset).',
        "schema": {"type": "string"},
    },
    "RateLimit-Policy": {
        "description": 'The limit: `"bucket";q=10;w=60` (requests per window of seconds).',
        "schema": {"type": "string"},
    },
}
REFUSALS: dict[int, dict[str, Any]] = {
    400: {
        "description": "A value that is not what it says (a malformed arXiv id, date or "
        "cursor), or a body that cannot be read."
    },
    401: {"description": "Not signed in: send an API token or a session cookie."},
    403: {
        "description": "Not allowed: an unconfirmed address, a missing or wrong CSRF token, a "
        "cross-site request, or an API token without the scope this call needs."
    },
    404: {"description": "No such paper (or comment)."},
    409: {"description": "A rule refuses it; the message says which."},
    413: {"description": "The request body is larger than the limit (docs/security.md)."},
    422: {
        "description": "A value out of range or missing (e.g. `limit=0`), or a body that is "
        "not JSON of the documented shape."
    },
    429: {"description": "Past a rate limit.", "headers": _RATE_LIMIT_HEADERS},
    503: {
        "description": "Temporarily unavailable (the database cannot be reached, or arXiv is "
        "busy); nothing was changed.",
        "headers": {"Retry-After": _RETRY_AFTER},
    },
}
# What a member's call can be refused with, besides what its own parameters allow.
MEMBER_REFUSALS = (401, 403, 413, 422, 429, 503)
# A member's call: an API token, or the session cookie plus the page's CSRF token.
MEMBER_AUTH: dict[str, Any] = {
    "security": [{"apiToken": []}, {"sessionCookie": [], "csrfToken": []}]
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route: each status code it can refuse with, as the one error model."""
    return {code: {"model": ErrorPublic, **REFUSALS[code]} for code in sorted(set(codes))}


def install_openapi(app: FastAPI, *, session_cookie: str) -> None:
    """Finish the document FastAPI generates, once, on its first request."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _tell_the_truth(generate(), session_cookie)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _tell_the_truth(document: dict[str, Any], session_cookie: str) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorPublic", ErrorPublic.model_json_schema())
    ours = {"$ref": "#/components/schemas/ErrorPublic"}
    fastapis = {"$ref": "#/components/schemas/HTTPValidationError"}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                for content in response.get("content", {}).values():
                    if content.get("schema") == fastapis:
                        content["schema"] = ours
                        response["description"] = REFUSALS[422]["description"]
    # The errors handler (web/errors.py) answers every validation error as ErrorPublic.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    document["components"]["securitySchemes"] = {
        "apiToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token made in /settings: `Authorization: Bearer dp_…`.",
        },
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": session_cookie,
            "description": "A browser's session (sent with the page's CSRF token).",
        },
        "csrfToken": {
            "type": "apiKey",
            "in": "header",
            "name": CSRF_HEADER,
            "description": "The CSRF token of the page that makes the call.",
        },
    }


DOCS_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
DOCS_ASSETS_URL = "/static/docs"  # the package's files; mounted before the site's /static
STARTER_URL = "/static/swagger-init.js"  # one of the site's own static files


def install_docs(app: FastAPI, *, site_name: str) -> None:
    """/docs: Swagger UI from packaged files. Call it before mounting the site's /static,
    which would otherwise answer (404) for the package's files."""
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    openapi_url = escape(app.openapi_url or "/openapi.json")
    title = escape(site_name)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title} API</title>"
            f'<link rel="stylesheet" href="{DOCS_ASSETS_URL}/swagger-ui.css">'
            '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
            f'</head><body><div id="swagger-ui" data-openapi-url="{openapi_url}"></div>'
            f'<script src="{DOCS_ASSETS_URL}/swagger-ui-bundle.js"></script>'
            f'<script src="{STARTER_URL}"></script></body></html>'
        )
