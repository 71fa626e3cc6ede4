"""Readers for the files `dailypapers load` accepts.

* our JSON-lines schema (`arxiv_id`, `title`, `abstract`, ... as in shared/data/README.md),
* raw Hugging Face `/api/daily_papers` responses (a JSON array of `{"paper": {...}, ...}`),
* the arXiv metadata snapshot (JSON lines with `id`, `versions`, `authors_parsed`, ...),

each optionally gzip-compressed. The format is recognised per row from its keys, so a file
mixing them still loads.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

from dailypapers.papers.records import (
    MAX_AUTHOR_CHARS,
    PaperRecord,
    RejectedRecord,
    build_record,
)

GZIP_MAGIC = b"\x1f\x8b"
MAX_LINE_BYTES = 4 * 1024 * 1024
_VERSION_LABEL = re.compile(r"v\d{1,4}", re.ASCII)  # the snapshot's "v1", "v2", ...


class UnreadableFile(Exception):
    """The file as a whole cannot be read further (truncated, corrupt, not JSON)."""


@dataclass(slots=True)
class Row:
    """One row of an input file: where it was and what came of it."""

    line: int
    record: PaperRecord | None = None
    rejection: str | None = None


def open_input(raw: IO[bytes]) -> IO[bytes]:
    """Give back a binary stream of the file's content, decompressing gzip by its magic bytes."""
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[type-var]
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    return buffered


def read_rows(stream: IO[bytes], zone: ZoneInfo) -> Iterator[Row]:
    """Yield every row of the stream; raises `UnreadableFile` if reading must stop."""
    try:
        first = _first_significant_byte(stream)
        if first == b"[":
            yield from _read_json_document(stream, zone)
        else:
            yield from _read_json_lines(stream, zone)
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as error:
        raise UnreadableFile(f"the file ends early or is corrupt ({error})") from None


def _first_significant_byte(stream: IO[bytes]) -> bytes:
    peek = getattr(stream, "peek", None)
    head = peek(64) if peek else b""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]


def _read_json_document(stream: IO[bytes], zone: ZoneInfo) -> Iterator[Row]:
    try:
        document = orjson.loads(stream.read())
    except orjson.JSONDecodeError as error:
        raise UnreadableFile(f"not valid JSON: {error}") from None
    items = document if isinstance(document, list) else [document]
    for number, item in enumerate(items, start=1):
        yield _row(number, item, zone)


def _read_json_lines(stream: IO[bytes], zone: ZoneInfo) -> Iterator[Row]:
    for number, line in enumerate(stream, start=1):
        if len(line) > MAX_LINE_BYTES:
            yield Row(number, rejection=f"line is {len(line):,} bytes (at most {MAX_LINE_BYTES:,})")
            continue
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            yield Row(number, rejection=f"not valid UTF-8 (byte {error.start + 1} of the line)")
            continue
        try:
            item = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            yield Row(number, rejection=f"not valid JSON: {error}")
            continue
        yield _row(number, item, zone)


def _row(number: int, item: Any, zone: ZoneInfo) -> Row:
    if not isinstance(item, dict):
        return Row(number, rejection="expected a JSON object")
    reader = _reader_for(item)
    if reader is None:
        return Row(number, rejection="unknown row format (no arxiv_id, id or paper key)")
    try:
        return Row(number, record=reader(item, zone))
    except RejectedRecord as error:
        return Row(number, rejection=str(error))
    except (ValueError, OverflowError, RecursionError) as error:
        # A value the checks above did not foresee: still this row's problem, not the file's.
        return Row(number, rejection=f"unreadable value ({type(error).__name__}: {error})"[:300])


def _reader_for(item: dict[str, Any]) -> Callable[[dict[str, Any], ZoneInfo], PaperRecord] | None:
    if "arxiv_id" in item:
        return _from_our_schema
    if isinstance(item.get("paper"), dict):
        return _from_hf_daily_paper
    if "id" in item and ("versions" in item or "authors_parsed" in item or "abstract" in item):
        return _from_arxiv_snapshot
    return None


def _from_our_schema(item: dict[str, Any], zone: ZoneInfo) -> PaperRecord:
    return build_record(
        arxiv_id=item.get("arxiv_id"),
        title=item.get("title"),
        abstract=item.get("abstract"),
        authors=item.get("authors"),
        categories=item.get("categories"),
        published_date=item.get("published"),
        comment=item.get("comment"),
        github_url=item.get("github_url"),
        github_stars=item.get("github_stars"),
        project_page=item.get("project_page"),
        ai_summary=item.get("ai_summary"),
        ai_keywords=item.get("ai_keywords"),
        upvotes=item.get("upvotes"),
        num_comments=item.get("num_comments"),
        featured_date=item.get("featured_date"),
        submitter_name=item.get("submitted_by"),
    )


def _from_hf_daily_paper(item: dict[str, Any], zone: ZoneInfo) -> PaperRecord:
    paper = item["paper"]
    authors = paper.get("authors")
    if isinstance(authors, list):
        authors = [a.get("name") if isinstance(a, dict) else a for a in authors]
    submitter = item.get("submittedBy") or paper.get("submittedOnDailyBy") or {}
    featured_at = paper.get("submittedOnDailyAt") or item.get("publishedAt")
    return build_record(
        arxiv_id=paper.get("id"),
        title=paper.get("title") or item.get("title"),
        abstract=paper.get("summary") or item.get("summary"),
        authors=authors,
        published_date=_local_date(paper.get("publishedAt"), zone, "publishedAt"),
        github_url=paper.get("githubRepo"),
        github_stars=paper.get("githubStars"),
        project_page=paper.get("projectPage"),
        ai_summary=paper.get("ai_summary"),
        ai_keywords=paper.get("ai_keywords"),
        upvotes=paper.get("upvotes"),
        num_comments=item.get("numComments"),
        featured_date=_local_date(featured_at, zone, "submittedOnDailyAt"),
        # Hugging Face names the submitter `name` in some answers and `user` in others.
        submitter_name=(submitter.get("name") or submitter.get("user"))
        if isinstance(submitter, dict)
        else None,
    )


def _from_arxiv_snapshot(item: dict[str, Any], zone: ZoneInfo) -> PaperRecord:
    versions = item.get("versions") or []
    categories = item.get("categories")
    return build_record(
        arxiv_id=item.get("id"),
        version=_latest_version(versions),
        title=item.get("title"),
        abstract=item.get("abstract"),
        authors=_snapshot_authors(item),
        categories=categories.split() if isinstance(categories, str) else categories,
        published_date=_first_version_date(versions),
        comment=item.get("comments"),
    )


def _latest_version(versions: Any) -> int | None:
    numbers = []
    for entry in versions if isinstance(versions, list) else []:
        label = entry.get("version") if isinstance(entry, dict) else None
        if label is None or label == "":
            continue
        if not isinstance(label, str) or not _VERSION_LABEL.fullmatch(label):
            raise RejectedRecord(f"versions: {str(label)[:20]!r} is not a version like v2")
        numbers.append(int(label[1:]))
    return max(numbers) if numbers else None


def _first_version_date(versions: Any) -> date | None:
    if not isinstance(versions, list) or not versions or not isinstance(versions[0], dict):
        return None
    created = versions[0].get("created")
    if not isinstance(created, str):
        return None
    try:
        return parsedate_to_datetime(created).date()
    except (TypeError, ValueError):
        raise RejectedRecord(f"versions: {created[:40]!r} is not a date") from None


def _snapshot_authors(item: dict[str, Any]) -> list[str] | None:
    parsed = item.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = []
        for parts in parsed:
            if isinstance(parts, list):
                last, first, suffix = (list(parts) + ["", "", ""])[:3]
                names.append(" ".join(p for p in (first, last, suffix) if p))
        return [_latex_name(name) for name in names]
    authors = item.get("authors")
    if isinstance(authors, str):
        names = authors.replace(" and ", ", ").split(",")
        return [_latex_name(name) for name in names if name.strip()]
    return authors


def _latex_name(name: str) -> str:
    if "\\" not in name and "{" not in name:
        return name.strip()
    if len(name) > MAX_AUTHOR_CHARS:
        return name  # refused for its length by build_record, without parsing it
    from pylatexenc.latex2text import LatexNodes2Text

    try:
        return LatexNodes2Text().latex_to_text(name).strip()
    except RecursionError:  # pylatexenc recurses once per group: `{{{…}}}` 300 deep is enough
        raise RejectedRecord(f"authors: {name[:40]!r}… nests too deeply to read") from None


def _local_date(value: Any, zone: ZoneInfo, name: str) -> date | None:
    """The calendar date, in the site's time zone, of an ISO timestamp such as HF's."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RejectedRecord(f"{name} must be an ISO date-time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RejectedRecord(f"{name}: {value[:40]!r} is not an ISO date-time") from None
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(zone).date()
