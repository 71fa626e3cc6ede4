"""Upvotes for programs and pages: `POST`/`DELETE /api/papers/{id}/upvote`, and the card's
form (`POST /papers/{id}/upvote`) that works without JavaScript."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.responses import Response

from dailypapers.members.auth import require_member, viewer_of
from dailypapers.members.votes import VoteResult, set_vote
from dailypapers.papers.lookup import visible_paper
from dailypapers.web import ratelimit
from dailypapers.web.csrf import HEADER, check_csrf
from dailypapers.web.deps import SessionDep
from dailypapers.web.errors import safe_next
from dailypapers.web.responses import JSONBytesResponse

router = APIRouter(tags=["votes"])
pages = APIRouter(include_in_schema=False)


class UpvoteState(BaseModel):
    upvoted: bool
    upvotes: int


def _vote(request: Request, session: SessionDep, arxiv_id: str, *, up: bool) -> VoteResult:
    member = require_member(request)
    ratelimit.enforce(request.app.state.engine, ratelimit.VOTE, f"member:{member.id}")
    paper_id = visible_paper(session, arxiv_id).id
    result = set_vote(session, member.id, paper_id, up=up)
    session.commit()
    return result


def _api_vote(request: Request, session: SessionDep, arxiv_id: str, *, up: bool) -> Response:
    require_member(request)  # 401 before 403: say "log in" to a visitor
    if not viewer_of(request).by_token:
        check_csrf(request, request.headers.get(HEADER))
    result = _vote(request, session, arxiv_id, up=up)
    return JSONBytesResponse({"upvoted": result.upvoted, "upvotes": result.upvotes})


@router.post("/api/papers/{arxiv_id}/upvote", response_model=UpvoteState,
             summary="Upvote a paper (idempotent)")  # fmt: skip
def upvote(request: Request, session: SessionDep, arxiv_id: str) -> Response:
    """Needs a signed-in member: a session cookie plus the `X-CSRF-Token` header, or an API
    token (`Authorization: Bearer dp_…`, made in /settings)."""
    return _api_vote(request, session, arxiv_id, up=True)


@router.delete("/api/papers/{arxiv_id}/upvote", response_model=UpvoteState,
               summary="Take back an upvote (idempotent)")  # fmt: skip
def remove_upvote(request: Request, session: SessionDep, arxiv_id: str) -> Response:
    return _api_vote(request, session, arxiv_id, up=False)


@pages.post("/papers/{arxiv_id}/upvote")
def upvote_form(
    request: Request, session: SessionDep, arxiv_id: str,
    csrf: Annotated[str, Form(alias="csrf_token", max_length=200)] = "",
    action: Annotated[str, Form(max_length=10)] = "up",
    next: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    check_csrf(request, csrf)
    _vote(request, session, arxiv_id, up=action != "down")
    return RedirectResponse(safe_next(next, fallback=f"/papers/{arxiv_id}"), status_code=303)
