"""`dailypapers harvest --from-hf DATE…`: follow Hugging Face's curation by importing its daily
papers API (`?date=YYYY-MM-DD`, the same JSON `dailypapers load` reads from a file)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.orm import Session, sessionmaker

from dailypapers import __version__
from dailypapers.papers.formats import UnreadableFile, read_rows
from dailypapers.papers.loader import LoadCounts, store_records
from dailypapers.papers.records import PaperRecord

TIMEOUT_SECONDS = 30.0


class HfUnavailable(Exception):
    """Hugging Face's API could not be read; the message says why."""


@dataclass
class HfDay:
    day: date
    counts: LoadCounts = field(default_factory=LoadCounts)

    @property
    def stored_paper_ids(self) -> list[int]:
        """The papers added or changed (for `Site.papers_stored`)."""
        return self.counts.stored_ids


def import_hf_day(
    factory: sessionmaker[Session], url: str, day: date, zone: ZoneInfo, contact_url: str
) -> HfDay:
    """Fetch and store one featured day; raises HfUnavailable before storing anything. The
    caller tells the site what was stored (`Site.papers_stored(result.stored_paper_ids)`)."""
    headers = {"User-Agent": f"dailypapers/{__version__} (+{contact_url})"}
    try:
        response = httpx.get(
            url,
            params={"date": day.isoformat()},
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            follow_redirects=True,
        )
    except httpx.HTTPError as error:
        raise HfUnavailable(f"{url} could not be reached ({type(error).__name__})") from None
    if response.status_code != 200:
        raise HfUnavailable(f"{url} answered {response.status_code} for {day.isoformat()}")
    if not response.content.lstrip().startswith(b"["):
        raise HfUnavailable(f"{url} did not answer with a JSON list for {day.isoformat()}")
    result = HfDay(day)
    records: list[PaperRecord] = []
    try:
        for row in read_rows(io.BufferedReader(io.BytesIO(response.content)), zone):
            if row.record is not None:
                records.append(row.record)
            else:
                result.counts.rejected += 1
                result.counts.rejections.append((day.isoformat(), row.line, row.rejection or ""))
    except UnreadableFile as error:
        raise HfUnavailable(f"{url}: {error}") from None
    result.counts.add(store_records(factory, records))
    return result
