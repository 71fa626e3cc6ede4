"""`dailypapers load`: read files of papers and store them, reporting what happened to each row.

Rows are parsed and stored in one process: a parser process was tried and was slower, since
handing the rows over costs about as much as parsing them. The caller tells the site what was
stored (`Site.papers_stored(result.stored_paper_ids)`), so that search catches up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from dailypapers.papers.formats import Row, UnreadableFile, open_input, read_rows
from dailypapers.papers.loader import LoadCounts, store_records
from dailypapers.papers.records import PaperRecord

PROGRESS_EVERY_ROWS = 500

Progress = Callable[[int], None]  # told how many bytes of the file have been read so far


class FileResult:
    """What loading one file did; `error` is set when the file could not be read to its end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.counts = LoadCounts()
        self.error: str | None = None

    @property
    def stored_paper_ids(self) -> list[int]:
        """The papers this file added or changed."""
        return self.counts.stored_ids


def load_file(
    factory: sessionmaker[Session],
    path: Path,
    zone: ZoneInfo,
    on_progress: Progress = lambda position: None,
) -> FileResult:
    """Load one file; every complete batch is committed, so a killed run loses nothing stored."""
    result = FileResult(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        result.error = f"cannot open: {error.strerror or error}"
        return result
    if size == 0:
        result.error = "the file is empty"
        return result
    rows = _rows(path, zone, on_progress)
    result.counts.add(store_records(factory, _records(rows, result)))
    return result


def _records(rows: Iterator[Row], result: FileResult) -> Iterator[PaperRecord]:
    """The good records of a file; rejections and a read error are noted on `result`."""
    try:
        for row in rows:
            if row.record is not None:
                yield row.record
            else:
                result.counts.rejected += 1
                result.counts.rejections.append((str(result.path), row.line, row.rejection or ""))
    except UnreadableFile as error:
        result.error = str(error)
    except OSError as error:
        result.error = f"cannot read: {error.strerror or error}"


def _rows(path: Path, zone: ZoneInfo, on_progress: Progress) -> Iterator[Row]:
    with path.open("rb") as raw:
        for number, row in enumerate(read_rows(open_input(raw), zone)):
            if number % PROGRESS_EVERY_ROWS == 0:
                on_progress(raw.tell())
            yield row
        on_progress(raw.tell())
