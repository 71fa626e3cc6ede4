"""Setting a paper's code repository and project page: its submitter, curators and admins.

A link set by a person is marked `member` and always wins over one found automatically
(`auto`) or imported (`import`); the paper page says which it is.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.responses import Response

from dailypapers.curation.models import record
from dailypapers.members.auth import Forbidden, require_member
from dailypapers.papers.lookup import visible_paper
from dailypapers.papers.models import DailyEntry
from dailypapers.papers.records import RejectedRecord, check_url
from dailypapers.revisions import bump_revision
from dailypapers.web.csrf import check_csrf
from dailypapers.web.deps import SessionDep
from dailypapers.web.flash import flash

pages = APIRouter(include_in_schema=False)


@pages.post("/papers/{arxiv_id}/links")
def set_links(
    request: Request, session: SessionDep, arxiv_id: str,
    csrf: Annotated[str, Form(alias="csrf_token", max_length=200)] = "",
    github_url: Annotated[str, Form(max_length=600)] = "",
    project_page: Annotated[str, Form(max_length=600)] = "",
) -> Response:  # fmt: skip
    check_csrf(request, csrf)
    member = require_member(request)
    paper = visible_paper(session, arxiv_id)
    submitter = session.scalar(
        select(DailyEntry.submitted_by_id).where(DailyEntry.paper_id == paper.id)
    )
    if not (member.is_curator or submitter == member.id):
        raise Forbidden("Only the paper's submitter and curators can change its links.")
    try:
        code = check_url("code repository", github_url.strip() or None)
        page = check_url("project page", project_page.strip() or None)
    except RejectedRecord as error:
        flash(request, f"The links were not saved: {error}.")
        return RedirectResponse(f"/papers/{paper.arxiv_id}", status_code=303)
    if (code, page) != (paper.github_url, paper.project_page):
        paper.github_url, paper.github_url_source = code, "member" if code else None
        paper.project_page, paper.project_page_source = page, "member" if page else None
        if code is None:
            paper.github_stars = None
        record(session, member.id, "set links", paper.arxiv_id, f"code={code} page={page}")
        bump_revision(session)
        session.commit()
    return RedirectResponse(f"/papers/{paper.arxiv_id}", status_code=303)
