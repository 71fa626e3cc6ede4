"""/for-you: the member's own list with its reasons, the papers of their collections that
changed, a profile picker, "Not interested" (and its "Undo") and the For you settings.

Every form works without JavaScript (it posts, then goes back to /for-you); static/foryou.js
sends "Not interested" to the JSON API instead (`foryou/api.py`), so the card goes at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from dailypapers.foryou import service
from dailypapers.foryou.changes import changed_for
from dailypapers.foryou.service import SettingsRefused, UnknownProfile
from dailypapers.foryou.signals import FOLLOWED, FOLLOWS, UPVOTES
from dailypapers.papers.feed import paper_items
from dailypapers.papers.lookup import visible_paper
from dailypapers.web import ratelimit
from dailypapers.web.deps import CsrfChecked, CurrentMember, RateLimited, SessionDep, SiteDep
from dailypapers.web.errors import safe_next
from dailypapers.web.flash import flash
from dailypapers.web.pages import render_page

router = APIRouter(include_in_schema=False)

DismissLimit = Annotated[ratelimit.Decision, RateLimited(ratelimit.VOTE, per="member")]
EditLimit = Annotated[ratelimit.Decision, RateLimited(ratelimit.API_WRITE, per="member")]
UNDO_KEY = "for_you_undo"  # the session remembers the paper last dismissed, for its "Undo"
CHANGES_SHOWN = 20


@router.get("/for-you", response_class=HTMLResponse)
def for_you_page(
    member: CurrentMember,
    request: Request,
    session: SessionDep,
    site: SiteDep,
    profile: Annotated[str, Query(max_length=60)] = service.ALL,
) -> Response:
    try:
        found = service.for_you(session, site.for_you_memo, member.id, profile=profile)
    except UnknownProfile as error:
        raise HTTPException(400, str(error)) from None
    items = paper_items(session, [pick.paper_id for pick in found.picks])
    since = datetime.combine(found.window[0], time.min, tzinfo=UTC)
    changes = changed_for(session, member.id, since=since, limit=CHANGES_SHOWN)
    changed_items = paper_items(session, [change.paper_id for change in changes])
    undo = request.session.pop(UNDO_KEY, None)
    values = {
        "title": "For you",
        "picks": [(items[pick.paper_id], pick) for pick in found.picks if pick.paper_id in items],
        "profiles": [(key, tab_name(key, label)) for key, label in found.profiles],
        "profile": profile if profile in dict(found.profiles) else service.ALL,
        "cold_start": found.cold_start,
        "follows": found.follows,
        "window": found.window,
        "changes": [(changed_items[c.paper_id], c) for c in changes if c.paper_id in changed_items],
        "undo": undo if isinstance(undo, dict) else None,
        "days": member.for_you_days,
        "personal_digest": member.personal_digest,
        "min_days": service.MIN_DAYS,
        "max_days": service.MAX_DAYS,
    }
    return render_page(request, "for_you.html", values)


def tab_name(key: str, label: str) -> str:
    """How the profile picker names an interest: a collection by its name."""
    names = {UPVOTES: "Upvoted", FOLLOWED: "Followed collections", FOLLOWS: "Follows"}
    return names.get(key, label.removeprefix("your collection "))


@router.post("/for-you/not-interested")
def not_interested_form(
    _csrf: CsrfChecked,
    member: CurrentMember,
    _: DismissLimit,
    request: Request,
    session: SessionDep,
    site: SiteDep,
    arxiv_id: Annotated[str, Form(max_length=100)] = "",
    action: Annotated[Literal["dismiss", "undo"], Form()] = "dismiss",
    next: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    """ "Not interested" (or its "Undo"), then back to the page, which offers to undo it."""
    paper = visible_paper(session, arxiv_id)
    dismissed = action == "dismiss"
    service.mark_not_interested(
        session, site.for_you_memo, member.id, paper.id, dismissed=dismissed
    )
    if dismissed:
        flash(request, f"You will not see “{paper.title}” in For you again.")
        request.session[UNDO_KEY] = {"arxiv_id": paper.arxiv_id}
    else:
        flash(request, f"“{paper.title}” is back in For you.")
    return RedirectResponse(safe_next(next, fallback="/for-you"), status_code=303)


@router.post("/for-you/settings")
def settings_form(
    _csrf: CsrfChecked,
    member: CurrentMember,
    _: EditLimit,
    request: Request,
    session: SessionDep,
    days: Annotated[str, Form(max_length=20)] = "",
    personal_digest: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        service.change_settings(session, member, days=days, personal_digest=bool(personal_digest))
    except SettingsRefused as error:
        raise HTTPException(422, str(error)) from None
    session.commit()
    digest = "opens your digest" if member.personal_digest else "stays out of your digest"
    days_back = member.for_you_days
    flash(
        request, f"For you looks back {days_back} day{'' if days_back == 1 else 's'} and {digest}."
    )
    return RedirectResponse("/for-you", status_code=303)
