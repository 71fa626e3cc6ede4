"""Reading the metadata of harvested records: arXiv's `arXivRaw` format (every version with its
date and size; what the harvest asks for) and its `arXiv` format (what the newer OAI service's
examples use), into the site's validated `PaperRecord` plus the version history."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from dailypapers.harvest.codelinks import find_code_link
from dailypapers.papers.records import PaperRecord, RejectedRecord, build_record

RAW = "{http://arxiv.org/OAI/arXivRaw/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
# arXiv's own wording for a withdrawal ("This paper has been withdrawn by the author ...").
_WITHDRAWN = re.compile(
    r"\b(?:has been|have been|is|was|been)\s+withdrawn\b|^\s*withdrawn\b", re.IGNORECASE
)
# Author lists are one string: "A. One, B. Two (Univ. X, Y), and C. Three".
_AUTHOR_SEPARATOR = re.compile(r",\s*and\s+|\s+and\s+|,\s*")


@dataclass(slots=True)
class Version:
    number: int
    submitted_at: datetime | None
    size: str | None


@dataclass(slots=True)
class HarvestedPaper:
    record: PaperRecord
    versions: list[Version] = field(default_factory=list)


def read_metadata(element: ET.Element) -> HarvestedPaper:
    """The paper an OAI `<metadata>` child describes; raises RejectedRecord saying why not."""
    if element.tag == f"{RAW}arXivRaw":
        return _from_arxiv_raw(element)
    if element.tag == f"{ARXIV}arXiv":
        return _from_arxiv(element)
    raise RejectedRecord(f"unknown metadata format {element.tag[:80]}")


def _from_arxiv_raw(element: ET.Element) -> HarvestedPaper:
    def text(name: str) -> str | None:
        return element.findtext(f"{RAW}{name}")

    versions = []
    for version in element.iterfind(f"{RAW}version"):
        label = version.get("version", "")
        if not re.fullmatch(r"v\d{1,4}", label):
            raise RejectedRecord(f"bad version label {label[:20]!r}")
        versions.append(
            Version(
                number=int(label[1:]),
                submitted_at=_rfc2822(version.findtext(f"{RAW}date"), label),
                size=(version.findtext(f"{RAW}size") or "").strip()[:16] or None,
            )
        )
    versions.sort(key=lambda v: v.number)
    comment = text("comments")
    newest = versions[-1] if versions else None
    first = versions[0] if versions else None
    withdrawn = bool(comment and _WITHDRAWN.search(comment)) or (
        newest is not None and newest.size == "0kb"
    )
    abstract = text("abstract")
    record = build_record(
        arxiv_id=(text("id") or "").strip(),
        version=newest.number if newest else None,
        title=text("title"),
        abstract=abstract,
        authors=split_authors(text("authors") or ""),
        categories=(text("categories") or "").split(),
        published_date=first.submitted_at.date() if first and first.submitted_at else None,
        comment=comment,
        github_url=find_code_link(abstract, comment),
    )
    return HarvestedPaper(_mark(record, withdrawn), versions)


def _from_arxiv(element: ET.Element) -> HarvestedPaper:
    def text(name: str) -> str | None:
        return element.findtext(f"{ARXIV}{name}")

    authors = []
    for author in element.iterfind(f"{ARXIV}authors/{ARXIV}author"):
        parts = [author.findtext(f"{ARXIV}{part}") for part in ("forenames", "keyname", "suffix")]
        name = " ".join(" ".join(p.split()) for p in parts if p and p.strip())
        if name:
            authors.append(name)
    comment = text("comments")
    abstract = text("abstract")
    record = build_record(
        arxiv_id=(text("id") or "").strip(),
        title=text("title"),
        abstract=abstract,
        authors=authors,
        categories=(text("categories") or "").split(),
        published_date=(text("created") or "").strip() or None,
        comment=comment,
        github_url=find_code_link(abstract, comment),
    )
    return HarvestedPaper(_mark(record, bool(comment and _WITHDRAWN.search(comment))))


def _mark(record: PaperRecord, withdrawn: bool) -> PaperRecord:
    record.withdrawn = withdrawn
    if record.github_url:
        record.github_url_source = "auto"
    return record


def _rfc2822(value: str | None, label: str) -> datetime:
    try:
        when = parsedate_to_datetime((value or "").strip())
    except (TypeError, ValueError, IndexError):
        raise RejectedRecord(f"version {label} has a bad date {(value or '')[:40]!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def split_authors(authors: str) -> list[str]:
    """Names from arXiv's one-string author list; parenthesised affiliations are dropped."""
    depth, kept = 0, []
    for char in authors:  # affiliations may themselves contain commas and "and"
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            kept.append(char)
    names = _AUTHOR_SEPARATOR.split(" ".join("".join(kept).split()))
    return [name.strip() for name in names if name.strip()]
