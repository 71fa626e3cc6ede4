"""Collections for programs and for the pages' scripts: `/api/collections…`.

Reading one's own list takes an API token with the scope `read`; making, changing and deleting
collections and saving papers into them take the scope `vote` (saving is a reader's light
personal action, as upvoting is). A public collection can be read by anyone; someone else's
private one is answered 404, as a collection that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from dailypapers.library import service
from dailypapers.library.models import Collection
from dailypapers.library.service import (
    CollectionConflict,
    CollectionNotFound,
    CollectionRefused,
    CollectionSummary,
)
from dailypapers.members.models import Member
from dailypapers.papers.connections import papers_in_order
from dailypapers.papers.lookup import visible_paper
from dailypapers.papers.schemas import PaperPublic, paper_json
from dailypapers.web import ratelimit
from dailypapers.web.deps import ApiMember, RateLimited, SessionDep, ViewerDep
from dailypapers.web.openapi import MEMBER_AUTH, MEMBER_REFUSALS, errors
from dailypapers.web.params import ArxivIdPath, DbId
from dailypapers.web.responses import JSONBytesResponse

router = APIRouter(tags=["collections"])

Reader = Annotated[Member, ApiMember("read")]
Saver = Annotated[Member, ApiMember("vote")]
WriteLimit = Annotated[ratelimit.Decision, RateLimited(ratelimit.API_WRITE, per="member")]
PAPERS_SHOWN = 100  # a collection's latest papers in `GET /api/collections/{id}`


class CollectionPublic(BaseModel):
    id: int
    name: str
    description: str
    public: bool = Field(description="Whether anyone may read it (private until made public).")
    owner: str = Field(description="The owner's user name.")
    numPapers: int = Field(description="Papers in it that readers can see.")
    url: str = Field(description="Its page; `.bib`, `.ris` and `.json` after it: its exports.")
    createdAt: str
    updatedAt: str


class CollectionItemPublic(BaseModel):
    paper: PaperPublic
    addedAt: str = Field(description="When the paper was put in the collection.")


class CollectionDetailPublic(CollectionPublic):
    papers: list[CollectionItemPublic] = Field(
        description=f"The latest {PAPERS_SHOWN} papers added, the latest first."
    )


class CollectionCreate(BaseModel):
    name: str = Field(min_length=1, max_length=service.MAX_NAME_CHARS)
    description: str = Field("", max_length=service.MAX_DESCRIPTION_CHARS)
    public: bool = False


class CollectionUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=service.MAX_NAME_CHARS)
    description: str | None = Field(None, max_length=service.MAX_DESCRIPTION_CHARS)
    public: bool | None = None


class CollectionDeleted(BaseModel):
    id: int
    deleted: bool = True


class SavedState(BaseModel):
    collectionId: int
    paperId: str = Field(description="The paper's normalised arXiv id.")
    saved: bool = Field(description="Whether the collection holds the paper now.")
    numPapers: int


def collection_json(summary: CollectionSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "name": summary.name,
        "description": summary.description,
        "public": summary.public,
        "owner": summary.owner,
        "numPapers": summary.papers,
        "url": f"/collections/{summary.id}",
        "createdAt": summary.created_at.isoformat(),
        "updatedAt": summary.updated_at.isoformat(),
    }


def _detail_json(session: Session, collection: Collection) -> dict[str, Any]:
    added = service.added_papers(session, collection.id, limit=PAPERS_SHOWN)
    items = papers_in_order(session, [paper_id for paper_id, _ in added])
    moments = dict(added)
    return {
        **collection_json(service.summary_of(session, collection)),
        "papers": [
            {
                "paper": paper_json(item.paper, item.entry),
                "addedAt": moments[item.paper.id].isoformat(),
            }
            for item in items
        ],
    }


def _refused(error: CollectionRefused) -> HTTPException:
    return HTTPException(409 if isinstance(error, CollectionConflict) else 422, str(error))


def _own(session: Session, collection_id: int, member: Member) -> Collection:
    try:
        return service.own_collection(session, collection_id, member)
    except CollectionNotFound as error:
        raise HTTPException(404, str(error)) from None


@router.get(
    "/api/collections",
    response_model=list[CollectionPublic],
    responses=errors(*MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Your collections, by name",
)
def list_collections(member: Reader, session: SessionDep) -> Response:
    """Needs an API token with the scope `read` (or a session cookie plus `X-CSRF-Token`)."""
    found = service.summaries(session, member_id=member.id)
    return JSONBytesResponse([collection_json(summary) for summary in found])


@router.post(
    "/api/collections",
    status_code=201,
    response_model=CollectionPublic,
    responses=errors(400, 409, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Make a collection (private unless `public` is true)",
)
def create_collection(
    member: Saver, _: WriteLimit, session: SessionDep, body: CollectionCreate
) -> Response:
    """Needs an API token with the scope `vote`. 409 when you have a collection of that name
    (case does not count) or as many collections as a member may have."""
    try:
        collection = service.create_collection(
            session, member, body.name, body.description, public=body.public
        )
    except CollectionRefused as error:
        raise _refused(error) from None
    session.commit()
    return JSONBytesResponse(
        collection_json(service.summary_of(session, collection)), status_code=201
    )


@router.get(
    "/api/collections/{collection_id}",
    response_model=CollectionDetailPublic,
    responses=errors(404, 422),
    summary="A collection and its latest papers (public ones: anyone; private: the owner)",
)
def get_collection(viewer: ViewerDep, session: SessionDep, collection_id: DbId) -> Response:
    try:
        collection = service.readable_collection(session, collection_id, viewer.member)
    except CollectionNotFound as error:
        raise HTTPException(404, str(error)) from None
    return JSONBytesResponse(_detail_json(session, collection))


@router.patch(
    "/api/collections/{collection_id}",
    response_model=CollectionPublic,
    responses=errors(400, 404, 409, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Rename a collection, describe it, or make it public or private",
)
def update_collection(
    member: Saver,
    _: WriteLimit,
    session: SessionDep,
    collection_id: DbId,
    body: CollectionUpdate,
) -> Response:
    collection = _own(session, collection_id, member)
    try:
        service.update_collection(
            session, collection, name=body.name, description=body.description, public=body.public
        )
    except CollectionRefused as error:
        raise _refused(error) from None
    session.commit()
    return JSONBytesResponse(collection_json(service.summary_of(session, collection)))


@router.delete(
    "/api/collections/{collection_id}",
    response_model=CollectionDeleted,
    responses=errors(404, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Delete a collection (the papers stay on the site)",
)
def delete_collection(
    member: Saver, _: WriteLimit, session: SessionDep, collection_id: DbId
) -> Response:
    collection = _own(session, collection_id, member)
    service.delete_collection(session, collection)
    session.commit()
    return JSONBytesResponse({"id": collection_id, "deleted": True})


def _save(
    session: Session, member: Member, collection_id: int, arxiv_id: str, *, saved: bool
) -> Response:
    collection = _own(session, collection_id, member)
    paper = visible_paper(session, arxiv_id)
    try:
        if saved:
            service.add_paper(session, collection, paper.id)
        else:
            service.remove_paper(session, collection, paper.id)
    except CollectionRefused as error:
        raise HTTPException(409, str(error)) from None
    session.commit()
    return JSONBytesResponse(
        {
            "collectionId": collection.id,
            "paperId": paper.arxiv_id,
            "saved": saved,
            "numPapers": service.visible_count(session, collection.id),
        }
    )


@router.put(
    "/api/collections/{collection_id}/papers/{arxiv_id:path}",
    response_model=SavedState,
    responses=errors(400, 404, 409, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Put a paper in a collection (idempotent)",
)
def save_paper(
    member: Saver,
    _: WriteLimit,
    session: SessionDep,
    collection_id: DbId,
    arxiv_id: ArxivIdPath,
) -> Response:
    return _save(session, member, collection_id, arxiv_id, saved=True)


@router.delete(
    "/api/collections/{collection_id}/papers/{arxiv_id:path}",
    response_model=SavedState,
    responses=errors(400, 404, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Take a paper out of a collection (idempotent)",
)
def unsave_paper(
    member: Saver,
    _: WriteLimit,
    session: SessionDep,
    collection_id: DbId,
    arxiv_id: ArxivIdPath,
) -> Response:
    return _save(session, member, collection_id, arxiv_id, saved=False)
