"""What routes are handed: the site's parts, one database session, and who is asking.

The one module of `web/` that knows the domains: it hands routes the `Site` (the composition
root's parts), the request's session, the viewer and the member, and applies rate limits.
Routes declare what they need in their signature and never read `request.app.state`:

    @router.post("/api/papers/{arxiv_id:path}/upvote")
    def upvote(session: SessionDep, member: Annotated[Member, ApiMember("vote")],
               _: Annotated[Decision, RateLimited(ratelimit.VOTE, per="member")], ...)

Dependencies are resolved once per request (FastAPI caches them), so the member is loaded
once, with the same session the route uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dailypapers.members.auth import Viewer, load_viewer, require_member, require_scope
from dailypapers.members.models import Member
from dailypapers.settings import Settings
from dailypapers.site import Site
from dailypapers.web import ratelimit, routemap
from dailypapers.web.csrf import HEADER, check_csrf
from dailypapers.web.errors import Forbidden


def get_site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


SiteDep = Annotated[Site, Depends(get_site)]


def get_settings(site: SiteDep) -> Settings:
    return site.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(site: SiteDep) -> Iterator[Session]:
    with site.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_viewer(request: Request, session: SessionDep) -> Viewer:
    """Who is asking, read once per request with the request's session."""
    cached = getattr(request.state, "viewer", None)
    if cached is None:
        cached = request.state.viewer = load_viewer(request, session)
    return cached  # type: ignore[no-any-return]


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def _signed_in(viewer: ViewerDep) -> Member:
    return require_member(viewer, confirmed=False)


def _confirmed(viewer: ViewerDep) -> Member:
    return require_member(viewer)


def _curator(member: Annotated[Member, Depends(_confirmed)]) -> Member:
    if not member.is_curator:
        raise Forbidden("Only curators and admins can open the admin pages.")
    return member


def _admin(member: Annotated[Member, Depends(_confirmed)]) -> Member:
    if not member.is_admin:
        raise Forbidden("Only admins can change members.")
    return member


def ApiMember(scope: Literal["read", "vote", "comment", "submit"]) -> Any:  # noqa: N802
    """A dependency: the member calling the API, by an API token made with `scope` (403
    saying which scope is missing otherwise), or by session cookie plus the X-CSRF-Token
    header that pages send (401 before 403: a visitor is told to log in). Use it as
    `member: Annotated[Member, ApiMember("vote")]`."""

    def api_member(request: Request, viewer: ViewerDep) -> Member:
        require_member(viewer, confirmed=False)
        if viewer.by_token:
            require_scope(viewer, scope)
        else:
            check_csrf(request, request.headers.get(HEADER))
        return require_member(viewer)

    routemap.declare(api_member, needs_member=True)  # no credentials: 401 before the body
    return Depends(api_member)


SignedInMember = Annotated[Member, Depends(_signed_in)]  # address confirmed or not
CurrentMember = Annotated[Member, Depends(_confirmed)]
CuratorRequired = Annotated[Member, Depends(_curator)]
AdminRequired = Annotated[Member, Depends(_admin)]


def _csrf_form(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> None:
    check_csrf(request, csrf_token)


# A form post from a page: its `csrf_token` field must match the session's. Put it first in
# the route's signature, so that a forged form is refused before anything else is looked at.
CsrfChecked = Annotated[None, Depends(_csrf_form)]


def client_address(request: Request) -> str:
    """The client's IP address (behind a proxy, uvicorn's --proxy-headers supplies it)."""
    return request.client.host if request.client else "unknown"


def RateLimited(  # noqa: N802 - reads as a type in a signature, like Depends
    limit: ratelimit.Limit | Callable[[Settings], ratelimit.Limit | None],
    *,
    per: Literal["ip", "member"] = "ip",
    only_with: str | None = None,
) -> Any:
    """A dependency that counts one use of `limit` by the client (its IP address, or the
    signed-in member) and refuses past it with 429 and Retry-After. `limit` may be a function
    of the settings (a limit the operator sets; None: no limit). With `only_with`, a request
    without that query parameter (or with it empty) counts nothing. Every answer of the route
    carries the RateLimit headers (`ratelimit.RateLimitHeadersMiddleware`), and the response
    cache lets every counted request reach the route (`routemap.py`)."""

    # Async, so that a limit counted in memory costs no trip to the thread pool.
    async def count(request: Request, site: Site, client: str) -> ratelimit.Decision | None:
        applied = limit(site.settings) if callable(limit) else limit
        if applied is None or (only_with and not request.query_params.get(only_with)):
            return None
        if applied.in_memory:
            decision = site.rate_counts.hit(applied, client)
        else:
            decision = await run_in_threadpool(ratelimit.hit, site.database, applied, client)
        request.state.rate_limit = decision
        if not decision.allowed:
            raise ratelimit.RateLimited(decision)
        return decision

    if per == "member":

        async def by_member(
            request: Request, site: SiteDep, member: SignedInMember
        ) -> ratelimit.Decision | None:
            return await count(request, site, f"member:{member.id}")

        routemap.declare(by_member, counted=True, counted_only_with=only_with)
        return Depends(by_member)

    async def by_address(request: Request, site: SiteDep) -> ratelimit.Decision | None:
        return await count(request, site, client_address(request))

    routemap.declare(by_address, counted=True, counted_only_with=only_with)
    return Depends(by_address)


# A search: counted per IP address in the process's memory (DAILYPAPERS_SEARCHES_PER_MINUTE).
SearchCounted = Annotated[ratelimit.Decision | None, RateLimited(ratelimit.searches)]


def viewer_context(request: Request) -> dict[str, object]:
    """Template context of every page: who is looking (read now if the route did not ask)."""
    viewer = getattr(request.state, "viewer", None)
    if viewer is None:
        sessions = get_site(request).sessions
        with sessions() as session:
            viewer = load_viewer(request, session)
            if viewer.member is not None:
                session.expunge(viewer.member)
        viewer._session, viewer._sessions = None, sessions
        request.state.viewer = viewer
    return {"viewer": viewer}
