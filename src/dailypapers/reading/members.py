"""/members/{name}: a member's public page (submissions, comments, upvotes when public), or the
papers Hugging Face's submitter of that name put on the list (imported entries name them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from dailypapers.discussion.models import Comment
from dailypapers.display.filters import member_url
from dailypapers.library.service import summaries as collection_summaries
from dailypapers.members.models import Member, Vote
from dailypapers.papers.connections import PapersPage, papers_in_order, submitted_entries
from dailypapers.papers.models import Paper
from dailypapers.reading.listing import PageNumber, check_page
from dailypapers.web.deps import SessionDep, SettingsDep, ViewerDep
from dailypapers.web.pages import render_page

router = APIRouter(include_in_schema=False)

LATEST_COMMENTS = 20
COMMENT_PREVIEW_CHARS = 280
MAX_NAME_CHARS = 200


@dataclass(slots=True)
class MemberComment:
    id: int
    arxiv_id: str
    paper_title: str
    preview: str
    created_at: datetime


def latest_comments(session: Session, member_id: int) -> list[MemberComment]:
    """The member's newest comments a reader can see (not deleted, not hidden, on a paper that
    is shown)."""
    rows = session.execute(
        select(Comment.id, Paper.arxiv_id, Paper.title, Comment.body, Comment.created_at)
        .join(Paper, Paper.id == Comment.paper_id)
        .where(
            Comment.member_id == member_id,
            Comment.deleted_at.is_(None),
            Comment.hidden_at.is_(None),
            Paper.hidden.is_(False),
        )
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(LATEST_COMMENTS)
    )
    return [
        MemberComment(comment_id, arxiv_id, title, _preview(body), created_at)
        for comment_id, arxiv_id, title, body, created_at in rows
    ]


def _preview(body: str) -> str:
    text = " ".join(body.split())
    if len(text) <= COMMENT_PREVIEW_CHARS:
        return text
    return text[:COMMENT_PREVIEW_CHARS].rsplit(" ", 1)[0] + "…"


def upvoted_papers(session: Session, member_id: int, limit: int) -> PapersPage:
    """The papers the member upvoted, the latest upvote first (hidden papers left out)."""
    total = session.scalar(
        select(func.count())
        .select_from(Vote)
        .join(Paper, Paper.id == Vote.paper_id)
        .where(Vote.member_id == member_id, Paper.hidden.is_(False))
    )
    ids = list(
        session.scalars(
            select(Vote.paper_id)
            .where(Vote.member_id == member_id)
            .order_by(Vote.created_at.desc(), Vote.paper_id.desc())
            .limit(limit)
        )
    )
    return PapersPage(papers_in_order(session, ids), total or 0)


@router.get("/members/{name:path}", response_class=HTMLResponse)
def member_page(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    page: PageNumber = 1,
) -> Response:
    if not name.strip() or len(name) > MAX_NAME_CHARS:
        raise HTTPException(404, "Member pages look like /members/ada.")
    member = session.scalar(select(Member).where(Member.username == name))
    if member is None:  # user names are unique whatever their case: lead to the real one
        member = session.scalar(select(Member).where(func.lower(Member.username) == name.lower()))
        if member is not None and not member.disabled:
            return RedirectResponse(member_url(member.username), status_code=301)
    if member is not None and member.disabled:
        raise HTTPException(404, f"There is no member {name!r} here.")
    size = settings.page_size
    offset = (page - 1) * size
    values: dict[str, Any] = {"name": name, "page_number": page}
    if member is None:
        submitted = submitted_entries(session, name=name, offset=offset, limit=size)
        if submitted.total == 0:
            raise HTTPException(
                404,
                f"There is no member {name!r} here, and no paper was submitted under that name.",
            )
        values.update(title=f"Papers submitted by {name} on Hugging Face", member=None)
    else:
        submitted = submitted_entries(
            session, name=member.username, member_id=member.id, offset=offset, limit=size
        )
        own = viewer.member is not None and viewer.member.id == member.id
        values.update(
            title=member.display_name or member.username,
            member=member,
            own=own,
            comments=latest_comments(session, member.id),
            collections=collection_summaries(session, member_id=member.id, public_only=not own),
            upvotes=upvoted_papers(session, member.id, size)
            if member.public_upvotes or own
            else None,
        )
    values.update(
        submitted=submitted,
        pages=check_page(page, submitted.total, size, f"{name}'s submissions"),
    )
    return render_page(request, "member.html", values)
