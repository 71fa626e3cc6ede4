"""What routes are handed: the site's parts, one database session, and who is asking.

The one module of `web/` that knows the domains: it hands routes the `Site` (the composition
root's parts), the request's session, the viewer and the member, and applies rate limits.
Routes declare what they need in their signature and never read `request.app.state`:

    @router.post("/api/papers/{arxiv_id}/upvote")
    def upvote(session: SessionDep, member: ApiMember,
               _: Annotated[Decision, RateLimited(ratelimit.VOTE, per="member")], ...)

Dependencies are resolved once per request (FastAPI caches them), so the member is loaded
once, with the same session the route uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session

from dailypapers.members.auth import Viewer, load_viewer, require_member
from dailypapers.members.models import Member
from dailypapers.settings import Settings
from dailypapers.site import Site
from dailypapers.web import ratelimit
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


def _api_member(request: Request, viewer: ViewerDep) -> Member:
    """A member calling the API: by API token, or by session cookie plus the X-CSRF-Token
    header that pages send (401 before 403: a visitor is told to log in)."""
    require_member(viewer, confirmed=False)
    if not viewer.by_token:
        check_csrf(request, request.headers.get(HEADER))
    return require_member(viewer)


SignedInMember = Annotated[Member, Depends(_signed_in)]  # address confirmed or not
CurrentMember = Annotated[Member, Depends(_confirmed)]
CuratorRequired = Annotated[Member, Depends(_curator)]
AdminRequired = Annotated[Member, Depends(_admin)]
ApiMember = Annotated[Member, Depends(_api_member)]


def _csrf_form(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> None:
    check_csrf(request, csrf_token)


# A form post from a page: its `csrf_token` field must match the session's. Put it first in
# the route's signature, so that a forged form is refused before anything else is looked at.
CsrfChecked = Annotated[None, Depends(_csrf_form)]


def client_address(request: Request) -> str:
    """The client's IP address (behind a proxy, uvicorn's --proxy-headers supplies it)."""
    return request.client.host if request.client else "unknown"


def RateLimited(  # noqa: N802 - reads as a type in a signature, like Depends
    limit: ratelimit.Limit, *, per: Literal["ip", "member"] = "ip"
) -> Any:
    """A dependency that counts one use of `limit` by the client (its IP address, or the
    signed-in member) and refuses past it with 429 and Retry-After."""
    if per == "member":

        def by_member(site: SiteDep, member: SignedInMember) -> ratelimit.Decision:
            return ratelimit.enforce(site.database, limit, f"member:{member.id}")

        return Depends(by_member)

    def by_address(request: Request, site: SiteDep) -> ratelimit.Decision:
        return ratelimit.enforce(site.database, limit, client_address(request))

    return Depends(by_address)


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
