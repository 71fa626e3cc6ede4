"""Setting a paper's code repository and project page: its submitter, curators and admins.

A link set by a person is marked `member` and always wins over one found automatically
(`auto`) or imported (`import`); the paper page says which it is.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from dailypapers.curation.models import record
from dailypapers.members.models import Member
from dailypapers.papers.lookup import visible_paper
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.records import RejectedRecord, check_url
from dailypapers.revisions import bump_revision
from dailypapers.web.deps import CsrfChecked, CurrentMember, SessionDep
from dailypapers.web.errors import Forbidden
from dailypapers.web.flash import flash

pages = APIRouter(include_in_schema=False)
LinkField = Annotated[str, Form(max_length=600)]


def may_change_links(session: Session, member: Member, paper: Paper) -> bool:
    submitter = session.scalar(
        select(DailyEntry.submitted_by_id).where(DailyEntry.paper_id == paper.id)
    )
    return member.is_curator or submitter == member.id


def set_links(
    session: Session, member: Member, paper: Paper, github_url: str, project_page: str
) -> None:
    """Set both links (an empty one is removed), recorded in the curation log when they
    change; RejectedRecord when one is not an http(s) URL (nothing is changed then)."""
    code = check_url("code repository", github_url.strip() or None)
    page = check_url("project page", project_page.strip() or None)
    if (code, page) == (paper.github_url, paper.project_page):
        return
    paper.github_url, paper.github_url_source = code, "member" if code else None
    paper.project_page, paper.project_page_source = page, "member" if page else None
    if code is None:
        paper.github_stars = None
    record(session, member.id, "set links", paper.arxiv_id, f"code={code} page={page}")
    bump_revision(session)


@pages.post("/papers/{arxiv_id:path}/links")
def links_form(
    _csrf: CsrfChecked,
    member: CurrentMember,
    request: Request,
    session: SessionDep,
    arxiv_id: str,
    github_url: LinkField = "",
    project_page: LinkField = "",
) -> Response:
    paper = visible_paper(session, arxiv_id)
    if not may_change_links(session, member, paper):
        raise Forbidden("Only the paper's submitter and curators can change its links.")
    try:
        set_links(session, member, paper, github_url, project_page)
    except RejectedRecord as error:
        flash(request, f"The links were not saved: {error}.")
    session.commit()
    return RedirectResponse(f"/papers/{paper.arxiv_id}", status_code=303)
