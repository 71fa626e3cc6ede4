"""Who is making a request: a member signed in by session cookie, a program with an API token,
or an anonymous visitor.

The session cookie (Starlette's SessionMiddleware: signed with the site's secret, HttpOnly,
SameSite=Lax, Secure on https sites) holds the member id, their `session_version` and the key
of a row in `member_sessions`. Logging out deletes that row, so a copy of the cookie taken
before is refused; bumping the version (password change, disabled, log out everywhere) ends
every session and deletes the member's API tokens (`end_every_session`).

API tokens (`Authorization: Bearer dp_…`) are read on `/api/…` only, never on the pages and
their forms; each carries the scopes chosen when it was made (`ApiMember(scope)` in
web/deps.py checks them).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.orm import Session, object_session

from dailypapers.database import utcnow
from dailypapers.members.models import SCOPES, ApiToken, Member, MemberSession, Vote
from dailypapers.web.errors import Forbidden, NotSignedIn

SESSION_COOKIE = "dp_session"
SESSION_DAYS = 30
TOKEN_PREFIX = "dp_"
API_PREFIX = "/api/"
# Last use is written at most this often (one UPDATE a minute per token, an hour per session).
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
SESSION_SEEN_RESOLUTION = timedelta(hours=1)


@dataclass(slots=True)
class Viewer:
    """The requester, as the pages and routes see it."""

    member: Member | None = None
    by_token: bool = False  # authenticated by `Authorization: Bearer`, not by a cookie
    scopes: frozenset[str] = frozenset(SCOPES)  # what a token may do (a cookie: everything)
    token_off_api: bool = False  # a bearer token was sent to a page: not accepted there
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


def log_in(request: Request, session: Session, member: Member) -> None:
    """Start a fresh session for the member (a new CSRF token too: no fixation), recorded in
    `member_sessions` in the caller's transaction (the caller commits)."""
    now = utcnow()
    session.execute(  # sessions unused for longer than a cookie lives are gone for good
        delete(MemberSession).where(
            MemberSession.member_id == member.id,
            MemberSession.last_seen_at < now - timedelta(days=SESSION_DAYS),
        )
    )
    log_out(request, session)  # the session this browser had before, if any
    key = secrets.token_urlsafe(32)
    session.add(
        MemberSession(member_id=member.id, key_hash=_hash(key), created_at=now, last_seen_at=now)
    )
    request.session.clear()
    request.session.update({"m": member.id, "v": member.session_version, "s": key})
    request.state.viewer = None


def log_out(request: Request, session: Session | None = None) -> None:
    """End this browser's session: its row is deleted (when a database session is given; the
    caller commits), so the cookie, or a copy of it, is refused from now on."""
    key = request.session.get("s")
    if session is not None and isinstance(key, str):
        session.execute(delete(MemberSession).where(MemberSession.key_hash == _hash(key)))
    request.session.clear()
    request.state.viewer = None


def end_every_session(member: Member) -> None:
    """Log the member out everywhere and revoke their API tokens (password changed, disabled,
    "log out everywhere"): in the session the member was loaded with; the caller commits."""
    member.session_version += 1
    session = object_session(member)
    if session is not None and member.id is not None:
        session.execute(delete(MemberSession).where(MemberSession.member_id == member.id))
        session.execute(delete(ApiToken).where(ApiToken.member_id == member.id))


def load_viewer(request: Request, session: Session) -> Viewer:
    """Who is asking, read with the request's database session: a member by API token (on
    /api/… only) or by session cookie (refused when it was ended: logged out, password
    changed, disabled), or an anonymous visitor."""
    viewer = Viewer(_session=session)
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        if request.url.path.startswith(API_PREFIX):
            found = _token(session, authorization[7:].strip())
            if found is not None:
                viewer.member, token = found
                viewer.by_token = True
                viewer.scopes = frozenset(token.scope_list)
            return viewer
        viewer.token_off_api = True
    if "session" in request.scope and request.session.get("m"):
        viewer.member = _member_of_cookie(session, request.session)
        if viewer.member is None:
            request.session.clear()  # ended (logged out, password change, disabled)
    return viewer


def require_member(viewer: Viewer, *, confirmed: bool = True) -> Member:
    """The signed-in member (with a confirmed address unless told otherwise)."""
    if viewer.member is None:
        if viewer.token_off_api:
            raise Forbidden(
                "API tokens are accepted on /api/… only; log in to use the pages and their forms."
            )
        raise NotSignedIn("Log in first.")
    if confirmed and not viewer.member.confirmed:
        raise Forbidden("Confirm your email address first (see the link we sent you).")
    return viewer.member


def require_scope(viewer: Viewer, scope: str) -> None:
    """Refuse (403) a token that was not made for this kind of call."""
    if viewer.by_token and scope not in viewer.scopes:
        raise Forbidden(
            f"This API token may not {scope}: make a token with the '{scope}' scope in /settings."
        )


def parse_scopes(words: list[str] | None) -> list[str]:
    """The scopes a new token asks for, in the canonical order; all of them when none are
    named (what a token could do before scopes existed). ValueError naming an unknown one."""
    if not words:
        return list(SCOPES)
    unknown = sorted(set(words) - set(SCOPES))
    if unknown:
        raise ValueError(f"Unknown scope {unknown[0][:20]!r}: choose among {', '.join(SCOPES)}.")
    return [scope for scope in SCOPES if scope in words]


def new_api_token(
    session: Session, member: Member, name: str, scopes: list[str] | None = None
) -> str:
    """Create a token; the plain value is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            member_id=member.id,
            name=name[:100] or "token",
            token_hash=_hash(token),
            scopes=" ".join(parse_scopes(scopes)),
        )
    )
    return token


def _token(session: Session, token: str) -> tuple[Member, ApiToken] | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    found = session.execute(
        select(Member, ApiToken)
        .join(ApiToken, ApiToken.member_id == Member.id)
        .where(ApiToken.token_hash == _hash(token), Member.disabled.is_(False))
    ).first()
    if found is None:
        return None
    member, api_token = found
    now = utcnow()
    if api_token.last_used_at is None or now - api_token.last_used_at >= TOKEN_USE_RESOLUTION:
        _touch(session, ApiToken, api_token.id, ApiToken.last_used_at, now, TOKEN_USE_RESOLUTION)
    return member, api_token


def _member_of_cookie(session: Session, cookie: Any) -> Member | None:
    member_id, version, key = cookie.get("m"), cookie.get("v"), cookie.get("s")
    if not isinstance(member_id, int) or not isinstance(version, int) or not isinstance(key, str):
        return None  # a cookie from before sessions were kept on the server, or mangled
    found = session.execute(
        select(Member, MemberSession.id, MemberSession.last_seen_at)
        .join(MemberSession, MemberSession.member_id == Member.id)
        .where(
            Member.id == member_id,
            MemberSession.key_hash == _hash(key),
            Member.disabled.is_(False),
            Member.session_version == version,
        )
    ).first()
    if found is None:
        return None
    member, row_id, last_seen = found
    now = utcnow()
    if now - last_seen >= SESSION_SEEN_RESOLUTION:
        _touch(
            session, MemberSession, row_id, MemberSession.last_seen_at, now, SESSION_SEEN_RESOLUTION
        )
    return member  # type: ignore[no-any-return]


def _touch(
    session: Session, model: Any, row_id: int, column: Any, now: datetime, resolution: timedelta
) -> None:
    """Record a use in a short transaction of its own (the request's may never commit, as a
    GET's does not), and at most once per `resolution` whatever the number of processes.
    Skipped while the request's own SQLite connection holds the write lock: waiting for it
    here would wait for ourselves."""
    engine = session.get_bind()
    own = session.connection().connection.dbapi_connection
    if engine.dialect.name == "sqlite" and getattr(own, "in_transaction", False):
        return
    assert isinstance(engine, Engine)
    with engine.connect() as connection:
        connection.execute(
            update(model)
            .where(model.id == row_id, or_(column.is_(None), column < now - resolution))
            .values({column.key: now})
        )
        connection.commit()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
