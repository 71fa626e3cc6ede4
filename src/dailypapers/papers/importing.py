"""`dailypapers load`: read files of papers and store them, reporting what happened to each row.

Parsing and validating rows costs as much CPU as storing them, so for large files a second
process parses while this one writes (about twice the throughput on two cores).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from dailypapers.papers.formats import Row, UnreadableFile, open_input, read_rows
from dailypapers.papers.loader import LoadCounts, store_records
from dailypapers.papers.records import PaperRecord

PARSER_PROCESS_MIN_BYTES = 2 * 1024 * 1024
ROWS_PER_MESSAGE = 500

Progress = Callable[[int], None]  # told how many bytes of the file have been read so far


class FileResult:
    """What loading one file did; `error` is set when the file could not be read to its end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.counts = LoadCounts()
        self.error: str | None = None


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
    rows = _rows_in_subprocess if size >= PARSER_PROCESS_MIN_BYTES else _rows_here
    result.counts.add(store_records(factory, _records(rows(path, zone, on_progress), result)))
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


def _rows_here(path: Path, zone: ZoneInfo, on_progress: Progress) -> Iterator[Row]:
    with path.open("rb") as raw:
        for number, row in enumerate(read_rows(open_input(raw), zone)):
            if number % ROWS_PER_MESSAGE == 0:
                on_progress(raw.tell())
            yield row
        on_progress(raw.tell())


def _rows_in_subprocess(path: Path, zone: ZoneInfo, on_progress: Progress) -> Iterator[Row]:
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    parser = context.Process(target=_parse_file, args=(path, zone, sender), daemon=True)
    parser.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload, position = receiver.recv()
            except EOFError:
                raise UnreadableFile("the parser process ended unexpectedly") from None
            on_progress(position)
            if kind == "rows":
                yield from payload
            elif kind == "error":
                raise UnreadableFile(payload)
            else:
                return
    finally:
        receiver.close()
        parser.join(timeout=5)
        if parser.is_alive():
            parser.terminate()


def _parse_file(path: Path, zone: ZoneInfo, sender) -> None:  # type: ignore[no-untyped-def]
    """Runs in the parser process: sends rows in chunks, then "done" or the read error."""
    with sender:
        position = 0
        try:
            with path.open("rb") as raw:
                chunk: list[Row] = []
                for row in read_rows(open_input(raw), zone):
                    chunk.append(row)
                    if len(chunk) >= ROWS_PER_MESSAGE:
                        position = raw.tell()
                        sender.send(("rows", chunk, position))
                        chunk = []
                position = raw.tell()
                sender.send(("rows", chunk, position))
            sender.send(("done", None, position))
        except UnreadableFile as error:
            sender.send(("rows", chunk, position))
            sender.send(("error", str(error), position))
        except OSError as error:
            sender.send(("error", f"cannot read: {error.strerror or error}", position))
