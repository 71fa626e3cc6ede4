"""Finding the paper a route's `{arxiv_id}` names, or the HTTP error that says why not."""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.models import Paper


def visible_paper(session: Session, arxiv_id: str) -> Paper:
    """The paper with this id in any form, unless hidden: 400 for a malformed id, 404 when the
    site has no such paper."""
    try:
        normalised = parse_arxiv_id(arxiv_id).id
    except InvalidArxivId as error:
        raise HTTPException(400, f"arxiv_id: {error}") from None
    paper = session.scalar(
        select(Paper).where(Paper.arxiv_id == normalised, Paper.hidden.is_(False))
    )
    if paper is None:
        raise HTTPException(404, f"No paper {normalised} here.")
    return paper
