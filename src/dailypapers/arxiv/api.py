"""Fetching single papers from the arXiv API (Atom, parsed with feedparser)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import feedparser

from dailypapers.arxiv.client import ArxivError, ArxivUnavailable, PoliteClient
from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.records import PaperRecord, RejectedRecord, build_record

_ABS_ID = re.compile(r"arxiv\.org/abs/(.+?)(v\d+)?$")


def fetch_papers(
    client: PoliteClient, api_url: str, arxiv_ids: list[str], *, deadline: float | None = None
) -> dict[str, PaperRecord | RejectedRecord]:
    """The papers arXiv knows among `arxiv_ids`, validated like any import, by id (a record
    that fails validation is given as the RejectedRecord saying why).

    Ids arXiv does not know are simply missing; a malformed id raises ArxivError. With
    `deadline`, the request gives up after that many seconds (`PoliteClient.get`)."""
    response = client.get(
        api_url,
        params={"id_list": ",".join(arxiv_ids), "max_results": str(len(arxiv_ids))},
        deadline=deadline,
    )
    content_type = response.headers.get("content-type", "")
    if "html" in content_type and "xml" not in content_type:
        raise ArxivUnavailable("arXiv answered with a web page instead of data; try again later")
    feed = feedparser.parse(response.content)
    entries = list(feed.entries)
    if response.status_code == 400 or any(e.get("title") == "Error" for e in entries):
        reason = entries[0].get("summary", "bad request") if entries else "bad request"
        raise ArxivError(f"arXiv refused the request: {reason}")
    if response.status_code != 200:
        raise ArxivUnavailable(f"arXiv answered {response.status_code}; try again later")
    if feed.bozo and not entries:
        raise ArxivUnavailable("arXiv's answer could not be read; try again later")
    papers: dict[str, PaperRecord | RejectedRecord] = {}
    for entry in entries:
        match = _ABS_ID.search(entry.get("id", ""))
        if not match:
            continue
        try:
            arxiv_id = parse_arxiv_id(match.group(1)).id
        except InvalidArxivId:
            continue
        try:
            papers[arxiv_id] = entry_record(entry, match.group(1) + (match.group(2) or ""))
        except RejectedRecord as error:
            papers[arxiv_id] = error
    return papers


def entry_record(entry: Any, versioned_id: str) -> PaperRecord:
    published = entry.get("published_parsed")
    return build_record(
        arxiv_id=versioned_id,
        title=entry.get("title"),
        abstract=entry.get("summary"),
        authors=[author["name"] for author in entry.get("authors", []) if author.get("name")],
        categories=[tag["term"] for tag in entry.get("tags", []) if tag.get("term")],
        published_date=date(*published[:3]).isoformat() if published else None,
        comment=entry.get("arxiv_comment"),
    )
