"""Cross-site request forgery protection for everything a browser session can change.

Each signed-in (or signing-in) browser session holds a random token. Every state-changing form
carries it in a hidden `csrf_token` field, and every JSON call made from a page sends it in the
`X-CSRF-Token` header; `check_csrf` refuses a request without the matching token, and refuses
outright any request the browser marks as cross-site (`Sec-Fetch-Site: cross-site`). Requests
authenticated by an API token (`Authorization: Bearer`) carry no ambient credential and need
no CSRF token.
"""

from __future__ import annotations

import secrets

from fastapi import Request

SESSION_KEY = "csrf"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


class CsrfError(Exception):
    def __init__(self) -> None:
        super().__init__(
            "This form expired or was sent from another site. Reload the page and try again."
        )


def csrf_token(request: Request) -> str:
    """This session's token, created on first use (templates call it for their forms)."""
    token = request.session.get(SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfError()
    expected = request.session.get(SESSION_KEY)
    if not expected or not submitted or not secrets.compare_digest(str(expected), submitted):
        raise CsrfError()
