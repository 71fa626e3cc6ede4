"""Upvotes for programs and pages: `POST`/`DELETE /api/papers/{id}/upvote`, and the card's
form (`POST /papers/{id}/upvote`) that works without JavaScript."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.responses import Response

from dailypapers.members.models import Member
from dailypapers.members.votes import VoteResult, set_vote
from dailypapers.papers.lookup import visible_paper
from dailypapers.web import ratelimit
from dailypapers.web.deps import ApiMember, CsrfChecked, CurrentMember, RateLimited, SessionDep
from dailypapers.web.errors import safe_next
from dailypapers.web.openapi import MEMBER_AUTH, MEMBER_REFUSALS, errors
from dailypapers.web.params import ArxivIdPath
from dailypapers.web.responses import JSONBytesResponse

router = APIRouter(tags=["votes"])
pages = APIRouter(include_in_schema=False)

VoteLimit = Annotated[ratelimit.Decision, RateLimited(ratelimit.VOTE, per="member")]
Voter = Annotated[Member, ApiMember("vote")]  # an API token needs the "vote" scope


class UpvoteState(BaseModel):
    upvoted: bool
    upvotes: int


def _vote(session: Session, member: Member, arxiv_id: str, *, up: bool) -> VoteResult:
    paper_id = visible_paper(session, arxiv_id).id
    result = set_vote(session, member.id, paper_id, up=up)
    session.commit()
    return result


def _vote_json(result: VoteResult) -> Response:
    return JSONBytesResponse({"upvoted": result.upvoted, "upvotes": result.upvotes})


@router.post(
    "/api/papers/{arxiv_id:path}/upvote",
    response_model=UpvoteState,
    responses=errors(400, 404, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Upvote a paper (idempotent)",
)
def upvote(member: Voter, _: VoteLimit, session: SessionDep, arxiv_id: ArxivIdPath) -> Response:
    """Needs a signed-in member: a session cookie plus the `X-CSRF-Token` header, or an API
    token (`Authorization: Bearer dp_…`, made in /settings)."""
    return _vote_json(_vote(session, member, arxiv_id, up=True))


@router.delete(
    "/api/papers/{arxiv_id:path}/upvote",
    response_model=UpvoteState,
    responses=errors(400, 404, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Take back an upvote (idempotent)",
)
def remove_upvote(
    member: Voter, _: VoteLimit, session: SessionDep, arxiv_id: ArxivIdPath
) -> Response:
    return _vote_json(_vote(session, member, arxiv_id, up=False))


@pages.post("/papers/{arxiv_id:path}/upvote")
def upvote_form(
    _csrf: CsrfChecked,
    member: CurrentMember,
    _: VoteLimit,
    session: SessionDep,
    arxiv_id: str,
    action: Annotated[str, Form(max_length=10)] = "up",
    next: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    _vote(session, member, arxiv_id, up=action != "down")
    return RedirectResponse(safe_next(next, fallback=f"/papers/{arxiv_id}"), status_code=303)
