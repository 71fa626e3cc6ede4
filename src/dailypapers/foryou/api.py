"""For you for programs and for the page's script: `GET /api/papers/for-you` (the member's
picks, each with its reasons) and `POST`/`DELETE /api/papers/{id}/not-interested`.

Reading takes an API token with the scope `read`; "not interested" takes the scope `vote` (a
reader's light personal action, as upvoting and saving are), or a session cookie plus the
page's `X-CSRF-Token` header. Both writes are idempotent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from dailypapers.foryou import service
from dailypapers.foryou.memo import ForYouMemo
from dailypapers.foryou.service import UnknownProfile
from dailypapers.members.models import Member
from dailypapers.papers.feed import paper_items
from dailypapers.papers.lookup import visible_paper
from dailypapers.papers.schemas import PaperPublic, paper_json
from dailypapers.web import ratelimit
from dailypapers.web.deps import ApiMember, RateLimited, SessionDep, SiteDep
from dailypapers.web.openapi import MEMBER_AUTH, MEMBER_REFUSALS, errors
from dailypapers.web.params import ArxivIdPath
from dailypapers.web.responses import JSONBytesResponse

router = APIRouter(tags=["for you"])

Reader = Annotated[Member, ApiMember("read")]
Dismisser = Annotated[Member, ApiMember("vote")]
DismissLimit = Annotated[ratelimit.Decision, RateLimited(ratelimit.VOTE, per="member")]
WINDOW_HEADER = "X-For-You-Window"
COLD_START_HEADER = "X-For-You-Cold-Start"


class ForYouItemPublic(BaseModel):
    """One pick of `GET /api/papers/for-you`."""

    paper: PaperPublic
    score: float = Field(
        description="Higher is better; comparable within one answer only (the model's place "
        "from 1 to 0 plus what follows add; a cold start: what follows add)."
    )
    reasons: list[str] = Field(
        description='Why it is there, in plain words: `Like "X" in your collection Y`, '
        "`By Z, whom you follow`, `In cs.LG, which you follow`, "
        '`Matches your topic "T"`.',
        examples=[['Like "Attention Is All You Need" in your collection Reading list']],
    )
    profile: str | None = Field(
        None, description="The profile asked for (`all` when they were mixed)."
    )


class NotInterestedState(BaseModel):
    paperId: str = Field(description="The paper's normalised arXiv id.")
    notInterested: bool = Field(description="Whether For you leaves the paper out now.")


@router.get(
    "/api/papers/for-you",
    response_model=list[ForYouItemPublic],
    responses={
        200: {
            "headers": {
                WINDOW_HEADER: {
                    "description": "The days looked at: `2025-10-01/2025-10-07`.",
                    "schema": {"type": "string"},
                },
                COLD_START_HEADER: {
                    "description": "`true` when ranked by what you follow alone (nothing "
                    "upvoted or saved yet).",
                    "schema": {"type": "string"},
                },
            }
        },
        **errors(400, *MEMBER_REFUSALS),
    },
    openapi_extra=MEMBER_AUTH,
    summary="The recent papers ranked for you, each with the reasons it is there",
)
def list_for_you(
    member: Reader,
    session: SessionDep,
    site: SiteDep,
    profile: Annotated[
        str,
        Query(
            max_length=60,
            description="`all` (every interest mixed), `upvotes`, `collection:N` (one of your "
            "collections), `following` (the collections you follow) or `follows` (followed "
            "authors, categories and topics alone).",
        ),
    ] = service.ALL,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = service.DEFAULT_LIMIT,
) -> Response:
    """Needs an API token with the scope `read` (or a session cookie plus `X-CSRF-Token`).
    400: a profile that is not one of yours."""
    try:
        found = service.for_you(session, site.for_you_memo, member.id, profile=profile, limit=limit)
    except UnknownProfile as error:
        raise HTTPException(400, str(error)) from None
    items = paper_items(session, [pick.paper_id for pick in found.picks])
    body = [
        {
            "paper": paper_json(items[pick.paper_id].paper, items[pick.paper_id].entry),
            "score": pick.score,
            "reasons": pick.reasons,
            "profile": profile,
        }
        for pick in found.picks
        if pick.paper_id in items
    ]
    start, end = found.window
    return JSONBytesResponse(
        body,
        headers={
            WINDOW_HEADER: f"{start.isoformat()}/{end.isoformat()}",
            COLD_START_HEADER: "true" if found.cold_start else "false",
        },
    )


def _change(
    memo: ForYouMemo, session: Session, member: Member, arxiv_id: str, *, dismissed: bool
) -> Response:
    paper = visible_paper(session, arxiv_id)
    service.mark_not_interested(session, memo, member.id, paper.id, dismissed=dismissed)
    return JSONBytesResponse({"paperId": paper.arxiv_id, "notInterested": dismissed})


@router.post(
    "/api/papers/{arxiv_id:path}/not-interested",
    response_model=NotInterestedState,
    responses=errors(400, 404, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Not interested: For you leaves the paper out and learns from it (idempotent)",
)
def not_interested(
    member: Dismisser, _: DismissLimit, session: SessionDep, site: SiteDep, arxiv_id: ArxivIdPath
) -> Response:
    """Needs an API token with the scope `vote`. 400: a malformed arXiv id; 404: no such
    paper here."""
    return _change(site.for_you_memo, session, member, arxiv_id, dismissed=True)


@router.delete(
    "/api/papers/{arxiv_id:path}/not-interested",
    response_model=NotInterestedState,
    responses=errors(400, 404, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary='Take a "not interested" back (idempotent)',
)
def interested_again(
    member: Dismisser, _: DismissLimit, session: SessionDep, site: SiteDep, arxiv_id: ArxivIdPath
) -> Response:
    """Needs an API token with the scope `vote`."""
    return _change(site.for_you_memo, session, member, arxiv_id, dismissed=False)
