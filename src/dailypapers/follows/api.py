"""Follows for programs and for the pages' scripts: `/api/following`.

Reading one's follows takes an API token with the scope `read`; following and unfollowing take
the scope `vote` (a reader's light personal action, as upvoting and saving are), or a session
cookie plus the page's `X-CSRF-Token` header. Both are idempotent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from dailypapers.follows import service
from dailypapers.follows.routes import refusal
from dailypapers.follows.service import Followed, FollowNotFound, FollowRefused, Kind
from dailypapers.members.models import Member
from dailypapers.web import ratelimit
from dailypapers.web.deps import ApiMember, RateLimited, SessionDep
from dailypapers.web.openapi import MEMBER_AUTH, MEMBER_REFUSALS, errors
from dailypapers.web.responses import JSONBytesResponse

router = APIRouter(tags=["following"])

Reader = Annotated[Member, ApiMember("read")]
Follower = Annotated[Member, ApiMember("vote")]
WriteLimit = Annotated[ratelimit.Decision, RateLimited(ratelimit.API_WRITE, per="member")]

KIND_HELP = (
    "`author` (a name as papers list it, at most 200 characters), `category` (an arXiv "
    "category such as `cs.LG`), `topic` (a search's text, at most 2,000 characters) or "
    "`collection` (another member's public collection, by its id)."
)


class FollowPublic(BaseModel):
    kind: Kind = Field(description="What is followed: " + KIND_HELP)
    value: str = Field(description="The name, category, search text, or collection id.")
    label: str = Field(description="How pages name it (a collection: its name and owner).")
    url: str | None = Field(
        description="Its page on this site; null for a collection its owner no longer shares."
    )
    createdAt: str


class FollowRequest(BaseModel):
    kind: Kind = Field(description=KIND_HELP)
    value: str = Field(min_length=1, max_length=service.MAX_TOPIC_CHARS)


class FollowState(BaseModel):
    kind: Kind
    value: str = Field(description="The value as stored (spaces trimmed).")
    following: bool = Field(description="Whether you follow it now.")
    numFollows: int = Field(
        description=f"How many things you follow (at most {service.MAX_FOLLOWS})."
    )


def follow_json(item: Followed) -> dict[str, object]:
    return {
        "kind": item.kind,
        "value": item.value,
        "label": item.label,
        "url": item.url,
        "createdAt": item.created_at.isoformat(),
    }


@router.get(
    "/api/following",
    response_model=list[FollowPublic],
    responses=errors(*MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="What you follow: authors, categories, topics, then collections",
)
def list_follows(member: Reader, session: SessionDep) -> Response:
    """Needs an API token with the scope `read` (or a session cookie plus `X-CSRF-Token`)."""
    return JSONBytesResponse([follow_json(item) for item in service.follows_of(session, member.id)])


def _change(session: Session, member: Member, body: FollowRequest, *, following: bool) -> Response:
    try:
        if following:
            cleaned, _ = service.follow(session, member, body.kind, body.value)
        else:
            cleaned, _ = service.unfollow(session, member, body.kind, body.value)
    except (FollowRefused, FollowNotFound) as error:
        raise refusal(error) from None
    session.commit()
    return JSONBytesResponse(
        {
            "kind": body.kind,
            "value": cleaned,
            "following": following,
            "numFollows": service.count_follows(session, member.id),
        }
    )


@router.put(
    "/api/following",
    response_model=FollowState,
    responses=errors(400, 404, 409, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Follow an author, a category, a topic or a public collection (idempotent)",
)
def follow(member: Follower, _: WriteLimit, session: SessionDep, body: FollowRequest) -> Response:
    """Needs an API token with the scope `vote`. 404: no public collection of that id; 409: you
    follow as many things as a member may; 422: a value that cannot be followed (your own
    collection, a name too long, not an arXiv category)."""
    return _change(session, member, body, following=True)


@router.delete(
    "/api/following",
    response_model=FollowState,
    responses=errors(400, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Stop following it (idempotent)",
)
def unfollow(member: Follower, _: WriteLimit, session: SessionDep, body: FollowRequest) -> Response:
    """Needs an API token with the scope `vote`. A collection its owner no longer shares can
    be unfollowed too."""
    return _change(session, member, body, following=False)
