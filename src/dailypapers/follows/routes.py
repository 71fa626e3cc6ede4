"""/following: what the member follows, by kind, each with a link and an "Unfollow" button;
and the form every "Follow" button posts (POST /following), which works without JavaScript
(it follows or unfollows, then goes back to the page). app.js sends the same forms to the JSON
API instead (`follows/api.py`), so that the page stays where it is.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from dailypapers.follows import service
from dailypapers.follows.service import FollowConflict, FollowNotFound, FollowRefused
from dailypapers.web import ratelimit
from dailypapers.web.deps import CsrfChecked, CurrentMember, RateLimited, SessionDep
from dailypapers.web.errors import safe_next
from dailypapers.web.flash import flash
from dailypapers.web.pages import render_page

router = APIRouter(include_in_schema=False)

FollowLimit = Annotated[ratelimit.Decision, RateLimited(ratelimit.API_WRITE, per="member")]


def refusal(error: FollowRefused | FollowNotFound) -> HTTPException:
    """The status a refusal is answered with: 404 (no such public collection), 409 (too many
    follows) or 422 (a value that cannot be followed)."""
    if isinstance(error, FollowNotFound):
        return HTTPException(404, str(error))
    return HTTPException(409 if isinstance(error, FollowConflict) else 422, str(error))


@router.get("/following", response_class=HTMLResponse)
def following_page(member: CurrentMember, request: Request, session: SessionDep) -> Response:
    follows = service.follows_of(session, member.id)
    values = {
        "title": "Following",
        "groups": service.grouped(follows),
        "total": len(follows),
        "max_follows": service.MAX_FOLLOWS,
        "max_author": service.MAX_AUTHOR_CHARS,
        "max_topic": service.MAX_TOPIC_CHARS,
    }
    return render_page(request, "following.html", values)


@router.post("/following")
def follow_form(
    _csrf: CsrfChecked,
    member: CurrentMember,
    _: FollowLimit,
    request: Request,
    session: SessionDep,
    kind: Annotated[str, Form(max_length=40)] = "",
    value: Annotated[str, Form(max_length=service.MAX_TOPIC_CHARS + 100)] = "",
    action: Annotated[Literal["follow", "unfollow"], Form()] = "follow",
    next: Annotated[str, Form(max_length=20_000)] = "",  # a search of 2,000 characters, encoded
) -> Response:
    """A "Follow" (or "Unfollow") button: change the follow, then back to the page it was on
    (a refusal is a page that says why, with its 4xx status)."""
    try:
        if action == "follow":
            cleaned, changed = service.follow(session, member, kind, value)
        else:
            cleaned, changed = service.unfollow(session, member, kind, value)
    except (FollowRefused, FollowNotFound) as error:  # refused before anything is written
        raise refusal(error) from None
    session.commit()
    target = safe_next(next, fallback="/following")
    if target.split("?")[0] == "/following" and changed:
        what = cleaned if kind != "collection" else f"collection {cleaned}"
        flash(request, f"Following {what}." if action == "follow" else f"Unfollowed {what}.")
    return RedirectResponse(target, status_code=303)
