"""Comment routes: forms on the paper page, and `/api/papers/{id}/comments` for programs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.responses import Response

from dailypapers.discussion import service
from dailypapers.discussion.models import Comment
from dailypapers.discussion.service import CommentRefused, ThreadComment
from dailypapers.members.models import Member
from dailypapers.papers.lookup import visible_paper
from dailypapers.papers.models import Paper
from dailypapers.web import ratelimit
from dailypapers.web.deps import ApiMember, CsrfChecked, CurrentMember, RateLimited, SessionDep
from dailypapers.web.flash import flash
from dailypapers.web.openapi import MEMBER_AUTH, MEMBER_REFUSALS, errors
from dailypapers.web.params import MAX_DB_ID, ArxivIdPath, DbId, DbIdForm
from dailypapers.web.responses import JSONBytesResponse, json_error

router = APIRouter(tags=["comments"])
pages = APIRouter(include_in_schema=False)

CommentLimit = Annotated[ratelimit.Decision, RateLimited(ratelimit.COMMENT, per="member")]
Commenter = Annotated[Member, ApiMember("comment")]  # an API token needs "comment"
BodyField = Annotated[str, Form(max_length=20_000)]


class NewComment(BaseModel):
    body: str = Field(max_length=20_000, description="Markdown")
    parentId: int | None = Field(None, ge=1, le=MAX_DB_ID, description="Reply to this comment")


class CommentAuthorPublic(BaseModel):
    name: str = Field(description="User name.")
    fullname: str = Field(description="Display name.")


class CommentPublic(BaseModel):
    """One comment of `GET /api/papers/{arxiv_id}/comments`, with its replies."""

    id: int
    author: CommentAuthorPublic
    body: str = Field(description="Markdown as written (empty once deleted).")
    html: str = Field(description="The sanitised HTML shown on the page (empty once deleted).")
    createdAt: str
    editedAt: str | None
    deleted: bool
    hidden: bool
    replies: list[CommentPublic]


class CommentCreated(BaseModel):
    id: int
    html: str


def comment_json(item: ThreadComment) -> dict[str, object]:
    return {
        "id": item.id,
        "author": {"name": item.author_username, "fullname": item.author},
        "body": "" if item.deleted else item.body,
        "html": "" if item.deleted else item.body_html,
        "createdAt": item.created_at.isoformat(),
        "editedAt": item.edited_at.isoformat() if item.edited_at else None,
        "deleted": item.deleted,
        "hidden": item.hidden,
        "replies": [comment_json(reply) for reply in item.replies],
    }


@router.get(
    "/api/papers/{arxiv_id:path}/comments",
    response_model=list[CommentPublic],
    responses=errors(400, 404, 422, 503),
    summary="A paper's comments, threaded",
)
def list_comments(session: SessionDep, arxiv_id: ArxivIdPath) -> Response:
    paper = visible_paper(session, arxiv_id)
    return JSONBytesResponse([comment_json(item) for item in service.thread(session, paper.id)])


@router.post(
    "/api/papers/{arxiv_id:path}/comments",
    status_code=201,
    response_model=CommentCreated,
    responses=errors(400, 404, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Comment on a paper",
)
def post_comment(
    member: Commenter,
    _: CommentLimit,
    session: SessionDep,
    arxiv_id: ArxivIdPath,
    body: NewComment,
) -> Response:
    """Markdown; raw HTML is not allowed and links get rel=nofollow. Needs a member (session
    cookie plus `X-CSRF-Token`, or an API token)."""
    paper = visible_paper(session, arxiv_id)
    try:
        comment = service.add_comment(session, member, paper.id, body.body, body.parentId)
    except CommentRefused as error:
        return json_error(422, str(error))
    session.commit()
    return JSONBytesResponse({"id": comment.id, "html": comment.body_html}, status_code=201)


def back_to_paper(
    request: Request, arxiv_id: str, comment_id: int | None = None, problem: str | None = None
) -> Response:
    if problem:
        flash(request, problem)
    anchor = f"#comment-{comment_id}" if comment_id else "#comments"
    return RedirectResponse(f"/papers/{arxiv_id}{anchor}", status_code=303)


@pages.post("/papers/{arxiv_id:path}/comments")
def comment_form(
    _csrf: CsrfChecked,
    member: CurrentMember,
    _: CommentLimit,
    request: Request,
    session: SessionDep,
    arxiv_id: str,
    body: BodyField = "",
    parent_id: DbIdForm = None,
) -> Response:
    paper = visible_paper(session, arxiv_id)
    try:
        comment = service.add_comment(session, member, paper.id, body, parent_id)
    except CommentRefused as error:
        return back_to_paper(request, paper.arxiv_id, problem=str(error))
    session.commit()
    return back_to_paper(request, paper.arxiv_id, comment.id)


def comment_paper(session: SessionDep, comment_id: int) -> tuple[Comment, str]:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise HTTPException(404, "That comment does not exist.")
    arxiv_id = session.scalar(select(Paper.arxiv_id).where(Paper.id == comment.paper_id))
    return comment, str(arxiv_id)


@pages.post("/comments/{comment_id}/edit")
def edit_form(
    _csrf: CsrfChecked,
    member: CurrentMember,
    request: Request,
    session: SessionDep,
    comment_id: DbId,
    body: BodyField = "",
) -> Response:
    _, arxiv_id = comment_paper(session, comment_id)
    try:
        service.edit_comment(session, member, comment_id, body)
    except CommentRefused as error:
        return back_to_paper(request, arxiv_id, comment_id, str(error))
    session.commit()
    return back_to_paper(request, arxiv_id, comment_id)


@pages.post("/comments/{comment_id}/delete")
def delete_form(
    _csrf: CsrfChecked,
    member: CurrentMember,
    request: Request,
    session: SessionDep,
    comment_id: DbId,
) -> Response:
    _, arxiv_id = comment_paper(session, comment_id)
    try:
        service.delete_comment(session, member, comment_id)
    except CommentRefused as error:
        return back_to_paper(request, arxiv_id, problem=str(error))
    session.commit()
    return back_to_paper(request, arxiv_id)
