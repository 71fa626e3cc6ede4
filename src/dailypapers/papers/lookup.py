"""Finding the paper a route's `{arxiv_id}` names, or the HTTP error that says why not."""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.models import Paper


def paper_by_arxiv_id(session: Session, arxiv_id: str, *, hidden_too: bool = False) -> Paper | None:
    """The visible paper with this normalised id (its daily entry loaded), or None; hidden
    ones too when asked (curators hide and unhide them)."""
    query = select(Paper).where(Paper.arxiv_id == arxiv_id)
    if not hidden_too:
        query = query.where(Paper.hidden.is_(False))
    return session.scalar(query.options(selectinload(Paper.daily_entry)))


def visible_paper(session: Session, arxiv_id: str) -> Paper:
    """The paper with this id in any form, unless hidden: 400 for a malformed id, 404 when the
    site has no such paper. The one lookup of a paper by the id in a URL."""
    try:
        normalised = parse_arxiv_id(arxiv_id).id
    except InvalidArxivId as error:
        raise HTTPException(400, f"arxiv_id: {error}") from None
    paper = paper_by_arxiv_id(session, normalised)
    if paper is None:
        raise HTTPException(404, f"No paper {normalised} here.")
    return paper
