"""`/admin`: curators feature and unfeature papers, decide the harvest's proposals, hide papers
and comments; admins also disable members and change roles. Every action is recorded in the
curation log (by the services in `featuring.py` and `moderation.py`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from dailypapers.curation import featuring, moderation
from dailypapers.curation.moderation import CurationRefused
from dailypapers.curation.overview import admin_overview
from dailypapers.curation.submissions import SubmissionRefused, Submitted
from dailypapers.curation.submit_routes import record_if_new
from dailypapers.discussion.service import CommentRefused
from dailypapers.members.models import ROLES, Member
from dailypapers.papers.records import PaperRecord
from dailypapers.web.deps import (
    AdminRequired,
    CsrfChecked,
    CuratorRequired,
    SessionDep,
    SettingsDep,
    SiteDep,
)
from dailypapers.web.flash import flash
from dailypapers.web.pages import render_page
from dailypapers.web.params import DbId

pages = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=300)]


def _done(request: Request, message: str) -> Response:
    flash(request, message)
    return RedirectResponse("/admin", status_code=303)


@pages.get("/admin", response_class=HTMLResponse)
def admin_page(
    request: Request,
    curator: CuratorRequired,
    session: SessionDep,
    settings: SettingsDep,
    q: str = "",
) -> Response:
    overview = admin_overview(session, with_members=curator.is_admin, name_contains=q[:64])
    return render_page(
        request,
        "admin.html",
        {
            "title": "Admin",
            "log": overview.log,
            "comments": overview.comments,
            "proposals": overview.proposals,
            "harvest_runs": overview.harvest_runs,
            "members": overview.members,
            "today": datetime.now(settings.zone).date(),
            "roles": ROLES,
            "q": q[:64],
        },
    )


@pages.post("/admin/feature")
async def feature(
    _csrf: CsrfChecked,
    curator: CuratorRequired,
    request: Request,
    site: SiteDep,
    session: SessionDep,
    arxiv_id: Text = "",
    day: Text = "",
) -> Response:
    """Async like submissions: a paper new to the site is fetched off the page threads."""
    try:
        featured_on = date.fromisoformat(day.strip())
    except ValueError:
        return _done(request, f"{day[:20]!r} is not a date (YYYY-MM-DD).")
    try:
        record = await record_if_new(
            site,
            session,
            arxiv_id,
            member=curator,
            today=featured_on,
            rules=featuring.CURATORS_RULES,
        )
        done = await run_in_threadpool(
            _feature, site, session, curator, arxiv_id, featured_on, record
        )
    except (CurationRefused, SubmissionRefused) as error:
        return _done(request, str(error))
    return _done(request, f"Featured {done.arxiv_id} on {featured_on.isoformat()}.")


def _feature(
    site: SiteDep,
    session: SessionDep,
    curator: Member,
    text: str,
    day: date,
    record: PaperRecord | None,
) -> Submitted:
    done = featuring.feature(
        session,
        curator,
        text,
        day,
        arxiv=site.arxiv,
        api_url=site.settings.arxiv_api_url,
        fetched=record,
    )
    session.commit()
    site.papers_stored([done.paper_id])
    return done


@pages.post("/admin/proposals/{proposal_id}/{decision}")
def decide_proposal(
    _csrf: CsrfChecked,
    curator: CuratorRequired,
    request: Request,
    site: SiteDep,
    session: SessionDep,
    proposal_id: DbId,
    decision: str,
) -> Response:
    """Accept (the paper joins the proposal's list, the curator as its submitter) or reject."""
    try:
        decided = featuring.decide_proposal(
            session,
            curator,
            proposal_id,
            decision,
            arxiv=site.arxiv,
            api_url=site.settings.arxiv_api_url,
        )
    except CurationRefused as error:
        return _done(request, str(error))
    session.commit()
    if not decided.accepted:
        return _done(request, f"Rejected {decided.arxiv_id}.")
    site.papers_stored([decided.paper_id])
    return _done(
        request, f"Accepted {decided.arxiv_id} for the list of {decided.proposed_for.isoformat()}."
    )


@pages.post("/admin/unfeature")
def unfeature(
    _csrf: CsrfChecked,
    curator: CuratorRequired,
    request: Request,
    site: SiteDep,
    session: SessionDep,
    arxiv_id: Text = "",
) -> Response:
    try:
        removed = featuring.unfeature(session, curator, arxiv_id)
    except CurationRefused as error:
        return _done(request, str(error))
    session.commit()
    site.papers_stored([removed.paper_id])
    return _done(request, f"Removed {removed.arxiv_id} from the list of {removed.featured_date}.")


@pages.post("/admin/hide-paper")
@pages.post("/admin/unhide-paper")
def hide_paper(
    _csrf: CsrfChecked,
    curator: CuratorRequired,
    request: Request,
    site: SiteDep,
    session: SessionDep,
    arxiv_id: Text = "",
) -> Response:
    hide = request.url.path.endswith("/hide-paper")
    try:
        paper = moderation.set_paper_hidden(session, curator, arxiv_id, hide)
    except CurationRefused as error:
        return _done(request, str(error))
    session.commit()
    site.papers_stored([paper.id])
    return _done(request, f"{'Hid' if hide else 'Showed again'} {paper.arxiv_id}.")


@pages.post("/admin/comments/{comment_id}/hide")
def hide_comment(
    _csrf: CsrfChecked,
    curator: CuratorRequired,
    request: Request,
    session: SessionDep,
    comment_id: DbId,
) -> Response:
    try:
        moderation.hide_comment(session, curator, comment_id, True)
    except CommentRefused as error:
        return _done(request, str(error))
    session.commit()
    return _done(request, f"Hid comment {comment_id}.")


@pages.post("/admin/members/{member_id}")
def change_member(
    _csrf: CsrfChecked,
    acting_admin: AdminRequired,
    request: Request,
    session: SessionDep,
    member_id: DbId,
    action: Text = "",
    role: Text = "",
) -> Response:
    try:
        member = moderation.change_member(session, acting_admin, member_id, action, role)
    except CurationRefused as error:
        return _done(request, str(error))
    session.commit()
    return _done(
        request, f"{member.username}: {action} {role if action == 'role' else ''}".strip() + "."
    )
