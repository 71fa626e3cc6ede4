"""Who is making a request: a member signed in by session cookie, a program with an API token,
or an anonymous visitor.

The session cookie (Starlette's SessionMiddleware: signed with the site's secret, HttpOnly,
SameSite=Lax, Secure on https sites) holds the member id and their `session_version`; bumping
that version (password change) ends every older session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.members.models import ApiToken, Member, Vote
from dailypapers.web.errors import Forbidden, NotSignedIn

SESSION_COOKIE = "dp_session"
SESSION_DAYS = 30
TOKEN_PREFIX = "dp_"


@dataclass(slots=True)
class Viewer:
    """The requester, as the pages and routes see it."""

    member: Member | None = None
    by_token: bool = False  # authenticated by `Authorization: Bearer`, not by a cookie
    _session: Session | None = field(default=None, repr=False)
    _sessions: Any = field(default=None, repr=False)  # opens one when the above is closed
    _voted: set[int] | None = field(default=None, repr=False)

    @property
    def signed_in(self) -> bool:
        return self.member is not None

    def has_voted(self, paper_id: int) -> bool:
        """Whether this member upvoted the paper (their votes are read once per request)."""
        if self.member is None:
            return False
        if self._voted is None:
            query = select(Vote.paper_id).where(Vote.member_id == self.member.id)
            if self._session is not None:
                self._voted = set(self._session.scalars(query))
            else:
                with self._sessions() as session:
                    self._voted = set(session.scalars(query))
        return paper_id in self._voted


def log_in(request: Request, member: Member) -> None:
    """Start a fresh session for the member (a new CSRF token too: no fixation)."""
    request.session.clear()
    request.session.update({"m": member.id, "v": member.session_version})
    request.state.viewer = None


def log_out(request: Request) -> None:
    request.session.clear()
    request.state.viewer = None


def load_viewer(request: Request, session: Session) -> Viewer:
    """Who is asking, read with the request's database session: a member by API token or by
    session cookie (refused when it was ended elsewhere: password change, disabled), or an
    anonymous visitor."""
    viewer = Viewer(_session=session)
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        viewer.member = _member_by_token(session, authorization[7:].strip())
        viewer.by_token = viewer.member is not None
    elif "session" in request.scope and request.session.get("m"):
        member = session.get(Member, request.session["m"])
        if (
            member is not None
            and not member.disabled
            and member.session_version == request.session.get("v")
        ):
            viewer.member = member
        else:
            request.session.clear()  # ended elsewhere (password change, disabled)
    return viewer


def require_member(viewer: Viewer, *, confirmed: bool = True) -> Member:
    """The signed-in member (with a confirmed address unless told otherwise)."""
    if viewer.member is None:
        raise NotSignedIn("Log in first.")
    if confirmed and not viewer.member.confirmed:
        raise Forbidden("Confirm your email address first (see the link we sent you).")
    return viewer.member


def new_api_token(session: Session, member: Member, name: str) -> str:
    """Create a token; the plain value is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(member_id=member.id, name=name[:100] or "token", token_hash=_token_hash(token))
    )
    return token


def _member_by_token(session: Session, token: str) -> Member | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    return session.scalar(
        select(Member)
        .join(ApiToken, ApiToken.member_id == Member.id)
        .where(ApiToken.token_hash == _token_hash(token), Member.disabled.is_(False))
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
