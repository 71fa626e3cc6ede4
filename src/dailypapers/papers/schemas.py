"""The JSON shapes of the API, with Hugging Face's field names so `huggingface_hub` works.

The `*_json` functions build plain dicts (the fast path for responses); the pydantic models
describe the same shapes for the OpenAPI document.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from dailypapers.papers.feed import EntryCard, FeedItem, PaperCard
from dailypapers.papers.models import DailyEntry, Paper


class AuthorPublic(BaseModel):
    name: str
    hidden: bool = False


class SubmitterPublic(BaseModel):
    name: str = Field(description="User name of the member who put the paper on the list.")
    user: str = Field(description="The same user name, under Hugging Face's key for it.")
    fullname: str
    type: str = "user"
    avatarUrl: str = ""


class PaperPublic(BaseModel):
    """A paper, as `GET /api/papers/{arxiv_id}` returns it."""

    id: str = Field(description="Normalised arXiv id, e.g. 2510.00184 or hep-th/9901001.")
    version: int | None = Field(description="Newest arXiv version known here.")
    title: str
    summary: str | None = Field(description="The abstract, as given (LaTeX left as-is).")
    authors: list[AuthorPublic]
    publishedAt: str | None = Field(description="arXiv publication date (midnight UTC).")
    submittedOnDailyAt: str | None = Field(description="Featured date on the daily list.")
    submittedOnDailyBy: SubmitterPublic | None = None
    featuredDate: str | None = Field(description="Featured date as YYYY-MM-DD (site time zone).")
    upvotes: int
    numComments: int = Field(description="Comments written on this site (all readable here).")
    importedComments: int = Field(
        0, description="Comments counted on the source it was imported from (Hugging Face)."
    )
    githubRepo: str | None
    githubRepoAddedBy: str | None = Field(description="import, auto or member.")
    githubStars: int | None
    projectPage: str | None
    categories: list[str]
    comment: str | None
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    withdrawn: bool = False


class DailyPaperPublic(BaseModel):
    """One entry of `GET /api/daily_papers`."""

    paper: PaperPublic
    publishedAt: str = Field(description="When the paper was put on the daily list.")
    submittedOnDailyAt: str = Field(description="The same, under the paper's name for it.")
    title: str
    summary: str | None
    numComments: int
    submittedBy: SubmitterPublic | None
    isAuthorParticipating: bool = False


def timestamp(day: date | None) -> str | None:
    """A calendar date as Hugging Face's timestamp format, at midnight UTC."""
    return None if day is None else f"{day.isoformat()}T00:00:00.000Z"


def _submitter(entry: DailyEntry | EntryCard | None) -> dict[str, Any] | None:
    if entry is None or not entry.submitter_name:
        return None
    return {
        "name": entry.submitter_name,
        "user": entry.submitter_name,  # what huggingface_hub's User reads as `username`
        "fullname": entry.submitter_name,
        "type": "user",
        "avatarUrl": "",
    }


def paper_json(paper: Paper | PaperCard, entry: DailyEntry | EntryCard | None) -> dict[str, Any]:
    featured = entry.featured_date if entry is not None else None
    return {
        "id": paper.arxiv_id,
        "version": paper.version,
        "title": paper.title,
        "summary": paper.abstract,
        "authors": [{"name": name, "hidden": False} for name in paper.authors],
        "publishedAt": timestamp(paper.published_date),
        "submittedOnDailyAt": timestamp(featured),
        "submittedOnDailyBy": _submitter(entry),
        "featuredDate": featured.isoformat() if featured else None,
        "upvotes": paper.upvotes,
        "numComments": paper.num_comments,
        "importedComments": paper.imported_comments,
        "githubRepo": paper.github_url,
        "githubRepoAddedBy": paper.github_url_source,
        "githubStars": paper.github_stars,
        "projectPage": paper.project_page,
        "categories": paper.categories,
        "comment": paper.comment,
        "ai_summary": paper.ai_summary,
        "ai_keywords": paper.ai_keywords,
        "withdrawn": paper.withdrawn,
    }


def daily_paper_json(item: FeedItem) -> dict[str, Any]:
    paper = item.paper
    return {
        "paper": paper_json(paper, item.entry),
        "publishedAt": timestamp(item.entry.featured_date),
        # Also here so clients that read it at the top level find it when the arXiv date is unknown.
        "submittedOnDailyAt": timestamp(item.entry.featured_date),
        "title": paper.title,
        "summary": paper.abstract,
        "numComments": paper.num_comments,
        "submittedBy": _submitter(item.entry),
        "isAuthorParticipating": False,
    }
