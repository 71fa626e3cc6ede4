"""`PaperRecord`: one incoming paper, validated and normalised, whatever file it came from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dailypapers.papers.arxiv_ids import MAX_VERSION, InvalidArxivId, parse_arxiv_id
from dailypapers.papers.periods import InvalidPeriod, check_day

MAX_TITLE_CHARS = 2_000
MAX_ABSTRACT_CHARS = 20_000  # arXiv caps abstracts at 1,920 characters; leave ample room
MAX_AUTHORS = 5_000
MAX_AUTHOR_CHARS = 1_000  # some sources glue a whole author list into one entry
MAX_URL_CHARS = 500
MAX_COMMENT_CHARS = 5_000
MAX_CATEGORY_CHARS = 32  # papers.primary_category is VARCHAR(32)
MAX_COUNT = 2**31 - 1  # counts are INTEGER columns (32 bits on PostgreSQL)

# Characters XML 1.0 forbids (C0 controls but tab, line feed and carriage return; lone
# surrogates; U+FFFE, U+FFFF): one of them in a title would make every feed listing it invalid.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_C0_FORBIDDEN = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


class RejectedRecord(ValueError):
    """The record cannot be stored; the message is the reason shown to the user."""


@dataclass(slots=True)
class PaperRecord:
    arxiv_id: str
    version: int | None
    title: str
    abstract: str | None = None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    published_date: date | None = None
    comment: str | None = None
    github_url: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    upvotes: int | None = None
    num_comments: int | None = None
    featured_date: date | None = None
    submitter_name: str | None = None
    # "import" for links a source's people set (e.g. Hugging Face), "auto" for links the
    # harvest found in an abstract; a member's link on this site always wins over both.
    github_url_source: str = "import"
    withdrawn: bool | None = None  # None: the source does not say


def xml_safe(text: str) -> str:
    """`text` with each character XML 1.0 forbids replaced by a space."""
    try:
        # The common case, checked in C at a byte a nanosecond: no C0 control in the UTF-8 (its
        # multi-byte sequences never hold one), no U+FFFE/U+FFFF, no lone surrogate (unencodable).
        encoded = text.encode()
        if len(encoded.translate(None, _C0_FORBIDDEN)) == len(encoded) and (
            text.isascii() or ("\ufffe" not in text and "\uffff" not in text)
        ):
            return text
    except UnicodeEncodeError:
        pass
    return _XML_FORBIDDEN.sub(" ", text)


def collapse_whitespace(text: str) -> str:
    """Line breaks and runs of spaces become one space (fast substring scans decide if needed)."""
    if "  " in text or "\n" in text or "\t" in text or "\r" in text:
        return " ".join(text.split())
    return text.strip()


def build_record(
    *,
    arxiv_id: Any,
    title: Any,
    version: int | None = None,
    abstract: Any = None,
    authors: Any = None,
    categories: Any = None,
    published_date: Any = None,
    comment: Any = None,
    github_url: Any = None,
    github_stars: Any = None,
    project_page: Any = None,
    ai_summary: Any = None,
    ai_keywords: Any = None,
    upvotes: Any = None,
    num_comments: Any = None,
    featured_date: Any = None,
    submitter_name: Any = None,
) -> PaperRecord:
    """Check every field and return the normalised record, or raise `RejectedRecord`."""
    if arxiv_id is None or arxiv_id == "":
        raise RejectedRecord("the arXiv id is missing")
    if not isinstance(arxiv_id, str):
        raise RejectedRecord("the arXiv id must be text")
    try:
        parsed = parse_arxiv_id(arxiv_id)
    except InvalidArxivId as error:
        raise RejectedRecord(str(error)) from None

    if version is not None and not (type(version) is int and 1 <= version <= MAX_VERSION):
        raise RejectedRecord(
            f"version: {str(version)[:20]!r} is not a version from 1 to {MAX_VERSION}"
        )
    return PaperRecord(
        arxiv_id=parsed.id,
        version=parsed.version if parsed.version is not None else version,
        title=_title(title),
        abstract=_text("abstract", abstract, MAX_ABSTRACT_CHARS, collapse=True),
        authors=_authors(authors),
        categories=_string_list("categories", categories, 50, MAX_CATEGORY_CHARS) or [],
        published_date=_date("published", published_date),
        comment=_text("comment", comment, MAX_COMMENT_CHARS, collapse=True),
        github_url=check_url("github_url", github_url),
        github_stars=_count("github_stars", github_stars),
        project_page=check_url("project_page", project_page),
        ai_summary=_text("ai_summary", ai_summary, MAX_ABSTRACT_CHARS, collapse=True),
        ai_keywords=_string_list("ai_keywords", ai_keywords, 200, 300),
        upvotes=_count("upvotes", upvotes),
        num_comments=_count("num_comments", num_comments),
        featured_date=_date("featured_date", featured_date),
        submitter_name=_text("submitter", submitter_name, 100, collapse=True),
    )


def _title(value: Any) -> str:
    title = _text("title", value, MAX_TITLE_CHARS, collapse=True)
    if not title:
        raise RejectedRecord("the title is missing")
    return title


def _text(name: str, value: Any, limit: int, *, collapse: bool) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RejectedRecord(f"{name} must be text, not {type(value).__name__}")
    if len(value) > limit:
        raise RejectedRecord(f"{name} is {len(value):,} characters long (at most {limit:,})")
    if "\x00" in value:
        raise RejectedRecord(f"{name} contains a NUL character")
    text = xml_safe(value)
    text = collapse_whitespace(text) if collapse else text
    return text or None


def _authors(value: Any) -> list[str]:
    return _string_list("authors", value, MAX_AUTHORS, MAX_AUTHOR_CHARS) or []


def _string_list(name: str, value: Any, max_items: int, max_chars: int) -> list[str] | None:
    if value is None:
        return None
    if type(value) is not list:
        raise RejectedRecord(f"{name} must be a list of text")
    if len(value) > max_items:
        raise RejectedRecord(f"{name} has {len(value):,} entries (at most {max_items:,})")
    cleaned = []
    for item in value:
        if type(item) is not str:
            raise RejectedRecord(f"{name} must be a list of text")
        if len(item) > max_chars:
            raise RejectedRecord(f"{name} has an entry {len(item):,} characters long")
        item = collapse_whitespace(xml_safe(item))
        if item:
            cleaned.append(item)
    return cleaned


def _date(name: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif not isinstance(value, str):
        raise RejectedRecord(f"{name} must be a date like 2025-09-30")
    else:
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            raise RejectedRecord(
                f"{name}: {value[:40]!r} is not a date (expected YYYY-MM-DD)"
            ) from None
    try:
        return check_day(day)
    except InvalidPeriod as error:
        raise RejectedRecord(f"{name}: {error}") from None


def _count(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise RejectedRecord(
            f"{name} must be a whole number from 0 to {MAX_COUNT:,}, not {str(value)[:40]!r}"
        )
    return value


def check_url(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RejectedRecord(f"{name} must be a URL")
    url = "".join(value.split())  # archives sometimes wrap long URLs across lines
    if len(url) > MAX_URL_CHARS:
        raise RejectedRecord(f"{name} is longer than {MAX_URL_CHARS} characters")
    if not url.lower().startswith(("https://", "http://")):
        raise RejectedRecord(f"{name}: {url[:60]!r} is not an http(s) URL")
    return url
