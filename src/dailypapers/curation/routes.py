"""`/admin`: curators feature and unfeature papers, hide papers and comments; admins also
disable members and change roles. Every action is recorded in the curation log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import delete, select
from starlette.responses import Response

from dailypapers.curation.models import CurationLogEntry, record
from dailypapers.database import utcnow
from dailypapers.discussion.models import Comment
from dailypapers.discussion.service import CommentRefused, set_hidden
from dailypapers.harvest.models import HarvestRun, Proposal
from dailypapers.members.auth import Forbidden, require_member
from dailypapers.members.models import ROLES, Member
from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.submissions import SubmissionRefused, SubmissionRules, submit
from dailypapers.revisions import bump_revision
from dailypapers.web.csrf import check_csrf
from dailypapers.web.deps import SessionDep, SettingsDep
from dailypapers.web.flash import flash

pages = APIRouter(include_in_schema=False)
CsrfField = Annotated[str, Form(alias="csrf_token", max_length=200)]
Text = Annotated[str, Form(max_length=300)]


def _curator(request: Request, session: SessionDep) -> Member:
    viewer = require_member(request)
    if not viewer.is_curator:
        raise Forbidden("Only curators and admins can open the admin pages.")
    member = session.get(Member, viewer.id)
    assert member is not None
    return member


def _done(request: Request, message: str) -> Response:
    flash(request, message)
    return RedirectResponse("/admin", status_code=303)


@pages.get("/admin", response_class=HTMLResponse)
def admin_page(
    request: Request, session: SessionDep, settings: SettingsDep, q: str = ""
) -> Response:
    curator = _curator(request, session)
    log = session.execute(
        select(CurationLogEntry, Member.username)
        .outerjoin(Member, Member.id == CurationLogEntry.actor_id)
        .order_by(CurationLogEntry.id.desc())
        .limit(100)
    ).all()
    comments = session.execute(
        select(Comment, Member.username, Paper.arxiv_id)
        .join(Member, Member.id == Comment.member_id)
        .join(Paper, Paper.id == Comment.paper_id)
        .where(Comment.deleted_at.is_(None))
        .order_by(Comment.id.desc())
        .limit(50)
    ).all()
    proposals = session.execute(
        select(Proposal, Paper)
        .join(Paper, Paper.id == Proposal.paper_id)
        .where(Proposal.status == "proposed", Paper.hidden.is_(False))
        .order_by(Proposal.proposed_for.desc(), Proposal.score.desc())
        .limit(100)
    ).all()
    runs = session.scalars(select(HarvestRun).order_by(HarvestRun.id.desc()).limit(5)).all()
    members_query = select(Member).order_by(Member.id.desc()).limit(50)
    if q:
        members_query = members_query.where(Member.username.contains(q[:64]))
    context: dict[str, Any] = {
        "title": "Admin", "log": log, "comments": comments, "proposals": proposals,
        "harvest_runs": runs,
        "members": session.scalars(members_query).all() if curator.is_admin else [],
        "today": datetime.now(settings.zone).date(), "roles": ROLES, "q": q[:64],
    }  # fmt: skip
    return request.app.state.templates.TemplateResponse(request, "admin.html", context)


@pages.post("/admin/feature")
def feature(
    request: Request, session: SessionDep, settings: SettingsDep, csrf: CsrfField = "",
    arxiv_id: Text = "", day: Text = "",
) -> Response:  # fmt: skip
    check_csrf(request, csrf)
    curator = _curator(request, session)
    try:
        featured_on = date.fromisoformat(day.strip())
    except ValueError:
        return _done(request, f"{day[:20]!r} is not a date (YYYY-MM-DD).")
    try:
        done = submit(
            session, request.app.state.arxiv, settings.arxiv_api_url, arxiv_id, member=curator,
            today=featured_on, rules=SubmissionRules(0, 0),
        )  # fmt: skip
    except SubmissionRefused as error:
        return _done(request, str(error))
    record(session, curator.id, "feature", done.arxiv_id, featured_on.isoformat())
    session.commit()
    return _done(request, f"Featured {done.arxiv_id} on {featured_on.isoformat()}.")


@pages.post("/admin/proposals/{proposal_id}/{decision}")
def decide_proposal(
    request: Request, session: SessionDep, proposal_id: int, decision: str, csrf: CsrfField = ""
) -> Response:
    """Accept (the paper joins the proposal's list, the curator as its submitter) or reject."""
    check_csrf(request, csrf)
    curator = _curator(request, session)
    if decision not in ("accept", "reject"):
        return _done(request, "Proposals are accepted or rejected.")
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.status != "proposed":
        return _done(request, "That proposal was already decided or no longer exists.")
    paper = session.get(Paper, proposal.paper_id)
    assert paper is not None
    proposal.status = "accepted" if decision == "accept" else "rejected"
    proposal.decided_by_id, proposal.decided_at = curator.id, utcnow()
    day = proposal.proposed_for.isoformat()
    if decision == "accept":
        if session.scalar(select(DailyEntry.id).where(DailyEntry.paper_id == paper.id)):
            session.rollback()
            return _done(request, f"{paper.arxiv_id} is already on a list.")
        entry = DailyEntry(paper_id=paper.id, featured_date=proposal.proposed_for,
                           submitted_by_id=curator.id, submitter_name=curator.username)  # fmt: skip
        session.add(entry)
        bump_revision(session)
    record(session, curator.id, f"proposal-{decision}", paper.arxiv_id, day)
    session.commit()
    if decision == "accept":
        return _done(request, f"Accepted {paper.arxiv_id} for the list of {day}.")
    return _done(request, f"Rejected {paper.arxiv_id}.")


def _paper(session: SessionDep, arxiv_id: str) -> Paper | None:
    try:
        normalised = parse_arxiv_id(arxiv_id.strip()).id
    except InvalidArxivId:
        return None
    return session.scalar(select(Paper).where(Paper.arxiv_id == normalised))


@pages.post("/admin/unfeature")
def unfeature(
    request: Request, session: SessionDep, csrf: CsrfField = "", arxiv_id: Text = ""
) -> Response:
    check_csrf(request, csrf)
    curator = _curator(request, session)
    paper = _paper(session, arxiv_id)
    entry = None
    if paper is not None:
        entry = session.scalar(select(DailyEntry).where(DailyEntry.paper_id == paper.id))
    if paper is None or entry is None:
        return _done(request, f"{arxiv_id[:40]!r} is not on any list.")
    session.execute(delete(DailyEntry).where(DailyEntry.id == entry.id))
    record(session, curator.id, "unfeature", paper.arxiv_id, entry.featured_date.isoformat())
    bump_revision(session)
    session.commit()
    return _done(request, f"Removed {paper.arxiv_id} from the list of {entry.featured_date}.")


@pages.post("/admin/hide-paper")
@pages.post("/admin/unhide-paper")
def hide_paper(
    request: Request, session: SessionDep, csrf: CsrfField = "", arxiv_id: Text = ""
) -> Response:
    check_csrf(request, csrf)
    curator = _curator(request, session)
    paper = _paper(session, arxiv_id)
    if paper is None:
        return _done(request, f"No paper {arxiv_id[:40]!r} here.")
    hide = request.url.path.endswith("/hide-paper")
    paper.hidden = hide
    detail = ""
    if hide:  # off the lists too; the log keeps the date for re-featuring
        entry = session.scalar(select(DailyEntry).where(DailyEntry.paper_id == paper.id))
        if entry is not None:
            detail = f"was featured {entry.featured_date.isoformat()}"
            session.execute(delete(DailyEntry).where(DailyEntry.id == entry.id))
    record(session, curator.id, "hide paper" if hide else "unhide paper", paper.arxiv_id, detail)
    bump_revision(session)
    session.commit()
    return _done(request, f"{'Hid' if hide else 'Showed again'} {paper.arxiv_id}.")


@pages.post("/admin/comments/{comment_id}/hide")
def hide_comment(
    request: Request, session: SessionDep, comment_id: int, csrf: CsrfField = ""
) -> Response:
    check_csrf(request, csrf)
    curator = _curator(request, session)
    try:
        set_hidden(session, curator, comment_id, True)
    except CommentRefused as error:
        return _done(request, str(error))
    session.commit()
    return _done(request, f"Hid comment {comment_id}.")


@pages.post("/admin/members/{member_id}")
def change_member(
    request: Request, session: SessionDep, member_id: int, csrf: CsrfField = "",
    action: Text = "", role: Text = "",
) -> Response:  # fmt: skip
    check_csrf(request, csrf)
    admin = _curator(request, session)
    if not admin.is_admin:
        raise Forbidden("Only admins can change members.")
    member = session.get(Member, member_id)
    if member is None or member.id == admin.id:
        return _done(request, "You cannot change that member here.")
    if action == "disable":
        member.disabled, member.session_version = True, member.session_version + 1
    elif action == "enable":
        member.disabled = False
    elif action == "role" and role in ROLES:
        member.role = role
    else:
        return _done(request, "Unknown change.")
    record(session, admin.id, f"member {action}", member.username, role if action == "role" else "")
    session.commit()
    return _done(
        request, f"{member.username}: {action} {role if action == 'role' else ''}".strip() + "."
    )
