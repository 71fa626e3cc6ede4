"""The collections' pages: /collections (mine), /collections/{id} (one, with its exports
`.bib`, `.ris`, `.json` and, when public, its feeds), the forms that make, change and delete
them, the card's "Save" form, and /collections/import (a reference manager's file).

Every form works without JavaScript (it posts, then redirects back); app.js sends the card's
"Save" forms to the JSON API instead, so that the page stays where it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from dailypapers.digests.feeds import Format as FeedFormat
from dailypapers.digests.feeds import _render as render_feed
from dailypapers.library import service
from dailypapers.library.bibliography import MEDIA_TYPES, BadReferenceFile, ExportFormat, export
from dailypapers.library.importing import (
    MAX_ENTRIES,
    MAX_FILE_BYTES,
    import_references,
    read_references,
    read_upload,
)
from dailypapers.library.models import Collection
from dailypapers.library.service import CollectionNotFound, CollectionRefused
from dailypapers.members.models import Member
from dailypapers.papers.connections import papers_in_order
from dailypapers.papers.feed import PaperCard
from dailypapers.papers.lookup import visible_paper
from dailypapers.web import ratelimit, routemap
from dailypapers.web.deps import (
    CsrfChecked,
    CurrentMember,
    RateLimited,
    SessionDep,
    SettingsDep,
    SiteDep,
    ViewerDep,
)
from dailypapers.web.errors import safe_next
from dailypapers.web.flash import flash
from dailypapers.web.pages import render_page
from dailypapers.web.params import MAX_DB_ID

router = APIRouter(include_in_schema=False)

IMPORT = ratelimit.Limit("library-import", 30, 3600)  # imports per member per hour
SaveLimit = Annotated[ratelimit.Decision, RateLimited(ratelimit.VOTE, per="member")]
EditLimit = Annotated[ratelimit.Decision, RateLimited(ratelimit.API_WRITE, per="member")]
ImportLimit = Annotated[ratelimit.Decision, RateLimited(IMPORT, per="member")]
PageNumber = Annotated[int, Query(ge=1, le=10_000, description="Page, from 1.")]


def _upload_body() -> None:
    """An import's body may be as large as the largest file imported, and the form around it
    (the site's DAILYPAPERS_MAX_BODY_KB stays the limit of every other form)."""


routemap.declare(_upload_body, max_body=MAX_FILE_BYTES + 64 * 1024)
UploadBody = Annotated[None, Depends(_upload_body)]
EXPORT_BATCH = 500
FEED_ITEMS = 50


def _check_id(collection_id: int) -> None:
    """A number no row can have (past a 32-bit INTEGER) is no collection: 404, never a query."""
    if not 1 <= collection_id <= MAX_DB_ID:
        raise HTTPException(404, f"There is no collection {collection_id} here.")


def _readable(session: Session, collection_id: int, member: Member | None) -> Collection:
    _check_id(collection_id)
    try:
        return service.readable_collection(session, collection_id, member)
    except CollectionNotFound as error:
        raise HTTPException(404, str(error)) from None


def _own(session: Session, collection_id: int, member: Member) -> Collection:
    _check_id(collection_id)
    try:
        return service.own_collection(session, collection_id, member)
    except CollectionNotFound as error:
        raise HTTPException(404, str(error)) from None


@router.get("/collections", response_class=HTMLResponse)
def my_collections(member: CurrentMember, request: Request, session: SessionDep) -> Response:
    values = {
        "title": "My collections",
        "collections": service.summaries(session, member_id=member.id),
        "max_name": service.MAX_NAME_CHARS,
    }
    return render_page(request, "collections.html", values)


@router.post("/collections")
def create_collection(
    _csrf: CsrfChecked,
    member: CurrentMember,
    _: EditLimit,
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    public: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        collection = service.create_collection(
            session, member, name, description, public=bool(public)
        )
    except CollectionRefused as error:
        flash(request, str(error))
        return RedirectResponse("/collections", status_code=303)
    session.commit()
    flash(request, f"Collection {collection.name!r} made.")
    return RedirectResponse(f"/collections/{collection.id}", status_code=303)


@router.get("/collections/import", response_class=HTMLResponse)
def import_form(member: CurrentMember, request: Request, session: SessionDep) -> Response:
    return _import_page(request, session, member)


def _import_page(
    request: Request,
    session: Session,
    member: Member,
    *,
    problem: str = "",
    status_code: int = 200,
    report: object = None,
) -> Response:
    values = {
        "title": "Import into a collection" if report is None else "Import report",
        "collections": service.summaries(session, member_id=member.id),
        "problem": problem,
        "report": report,
        "max_mb": MAX_FILE_BYTES // 1024 // 1024,
        "max_entries": MAX_ENTRIES,
    }
    return render_page(request, "collection_import.html", values, status_code=status_code)


@router.post("/collections/import", response_class=HTMLResponse)
def import_upload(
    _csrf: CsrfChecked,
    member: CurrentMember,
    _: ImportLimit,
    _body: UploadBody,
    request: Request,
    session: SessionDep,
    site: SiteDep,
    file: Annotated[UploadFile, File()],
    collection_id: Annotated[str, Form(max_length=20)] = "",
    new_name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    data = file.file.read(MAX_FILE_BYTES + 1)
    filename = file.filename or ""
    try:
        text, format = read_upload(data, filename)
        references = read_references(text, format, max_entries=MAX_ENTRIES)
    except BadReferenceFile as error:
        status = 413 if len(data) > MAX_FILE_BYTES else 400
        return _import_page(request, session, member, problem=str(error), status_code=status)
    try:
        if collection_id.strip().isdigit():
            collection = _own(session, int(collection_id), member)
        else:
            collection = service.create_collection(
                session, member, new_name or f"Imported from {filename or 'a file'}"[:100]
            )
        report = import_references(
            session, collection, references, keyword=site.keyword, format=format
        )
    except CollectionRefused as error:
        session.rollback()
        return _import_page(request, session, member, problem=str(error), status_code=409)
    session.commit()
    return _import_page(request, session, member, report=report)


@router.get("/collections/{collection_id:int}", response_class=HTMLResponse)
def collection_page(
    collection_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    page: PageNumber = 1,
) -> Response:
    collection = _readable(session, collection_id, viewer.member)
    size = settings.page_size
    found = service.collection_page(session, collection.id, offset=(page - 1) * size, limit=size)
    pages = max((found.total + size - 1) // size, 1)
    if page > pages:
        raise HTTPException(404, f"There is no page {page} of this collection: it has {pages}.")
    own = viewer.member is not None and viewer.member.id == collection.member_id
    values = {
        "title": collection.name,
        "collection": service.summary_of(session, collection),
        "found": found,
        "own": own,
        "page_number": page,
        "pages": pages,
        "max_name": service.MAX_NAME_CHARS,
    }
    return render_page(request, "collection.html", values)


@router.post("/collections/{collection_id:int}/edit")
def edit_collection(
    _csrf: CsrfChecked,
    member: CurrentMember,
    _: EditLimit,
    request: Request,
    session: SessionDep,
    collection_id: int,
    name: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    public: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    collection = _own(session, collection_id, member)
    try:
        service.update_collection(
            session, collection, name=name, description=description, public=bool(public)
        )
    except CollectionRefused as error:
        session.rollback()
        flash(request, str(error))
    else:
        session.commit()
        flash(request, "Saved." + (" Anyone can read it now." if public else ""))
    return RedirectResponse(f"/collections/{collection_id}", status_code=303)


@router.post("/collections/{collection_id:int}/delete")
def delete_collection(
    _csrf: CsrfChecked,
    member: CurrentMember,
    _: EditLimit,
    request: Request,
    session: SessionDep,
    collection_id: int,
) -> Response:
    collection = _own(session, collection_id, member)
    name = collection.name
    service.delete_collection(session, collection)
    session.commit()
    flash(request, f"Collection {name!r} deleted; its papers stay on the site.")
    return RedirectResponse("/collections", status_code=303)


@router.post("/collections/save")
def save_form(
    _csrf: CsrfChecked,
    member: CurrentMember,
    _: SaveLimit,
    request: Request,
    session: SessionDep,
    arxiv_id: Annotated[str, Form(max_length=200)] = "",
    collection_id: Annotated[str, Form(max_length=20)] = "",
    action: Annotated[Literal["add", "remove"], Form()] = "add",
    next: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """The card's "Save" buttons: put the paper in a collection (the member's "Reading list"
    when none is named, made on first use) or take it out; then back to the page."""
    paper = visible_paper(session, arxiv_id)
    try:
        if collection_id.strip().isdigit():
            collection = _own(session, int(collection_id), member)
        else:
            collection = service.default_collection(session, member)
        if action == "add":
            service.add_paper(session, collection, paper.id)
        else:
            service.remove_paper(session, collection, paper.id)
    except CollectionRefused as error:
        session.rollback()
        flash(request, str(error))
    else:
        session.commit()
    return RedirectResponse(safe_next(next, fallback=f"/papers/{paper.arxiv_id}"), status_code=303)


def _all_papers(session: Session, collection_id: int) -> list[tuple[PaperCard, datetime]]:
    """Every visible paper of the collection with when it was added, the latest first."""
    added = service.added_papers(session, collection_id)
    found: list[tuple[PaperCard, datetime]] = []
    for start in range(0, len(added), EXPORT_BATCH):
        batch = added[start : start + EXPORT_BATCH]
        moments = dict(batch)
        items = papers_in_order(session, [paper_id for paper_id, _ in batch])
        found.extend((item.paper, moments[item.paper.id]) for item in items)
    return found


@router.get("/collections/{collection_id:int}.{kind}")
def export_collection(
    collection_id: int, kind: str, session: SessionDep, viewer: ViewerDep
) -> Response:
    """The collection as BibTeX (.bib), RIS (.ris) or CSL-JSON (.json), for Zotero & co."""
    if kind not in MEDIA_TYPES:
        raise HTTPException(404, "Collections are exported as .bib, .ris or .json.")
    collection = _readable(session, collection_id, viewer.member)
    fmt: ExportFormat = kind  # type: ignore[assignment]
    body = export([paper for paper, _ in _all_papers(session, collection.id)], fmt)
    filename = f"collection-{collection.id}.{kind}"
    return Response(
        body,
        media_type=MEDIA_TYPES[kind],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/feeds/collections/{collection_id:int}.{kind}")
def collection_feed(
    collection_id: int,
    kind: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """A public collection's latest papers, as RSS or Atom (feed readers send no cookie: only
    public collections have feeds)."""
    if kind not in ("rss", "atom"):
        raise HTTPException(404, "Collection feeds end in .rss or .atom.")
    collection = _readable(session, collection_id, None)
    added = service.added_papers(session, collection.id, limit=FEED_ITEMS)
    moments = dict(added)
    items = [
        (item, moments[item.paper.id])
        for item in papers_in_order(session, [paper_id for paper_id, _ in added])
    ]
    path = f"/feeds/collections/{collection.id}.{kind}"
    feed_kind: FeedFormat = kind  # type: ignore[assignment]
    return render_feed(request, settings, feed_kind, collection.name, path, items)
