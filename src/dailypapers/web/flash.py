"""One-time messages carried to the next page in the session (after a form's redirect)."""

from __future__ import annotations

from fastapi import Request


def flash(request: Request, message: str) -> None:
    request.session["flash"] = message[:500]


def pop_flash(request: Request) -> str:
    if "session" not in request.scope:
        return ""
    return str(request.session.pop("flash", ""))
