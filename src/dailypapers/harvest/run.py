"""`dailypapers harvest`: new and updated papers of the configured categories through OAI-PMH.

Exact and resumable: each page of records is stored in the same transaction that moves the set's
cursor past it, so a run killed anywhere resumes at the first page it had not stored; storing is
an upsert by arXiv id that never lets an older version overwrite a newer one, so pages seen twice
(an expired token restarts the window) change nothing. The next run starts from the last day a
run completed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.arxiv.client import ArxivError, ArxivUnavailable, PoliteClient
from dailypapers.arxiv.oai import ExpiredToken, OaiPage, list_records
from dailypapers.database import insert_ignoring_duplicates, utcnow
from dailypapers.harvest.calendar import quiet_reason
from dailypapers.harvest.metadata import HarvestedPaper, read_metadata
from dailypapers.harvest.models import HarvestCursor, HarvestRun, PaperVersion
from dailypapers.papers.loader import LoadCounts, store_batch
from dailypapers.papers.models import Paper
from dailypapers.papers.records import RejectedRecord

log = logging.getLogger(__name__)

FIRST_RUN_DAYS = 2  # a set never harvested before starts this many days back


@dataclass
class SetReport:
    set_spec: str
    window: tuple[date, date]
    status: str = "done"  # done, no-news or failed
    pages: int = 0
    counts: LoadCounts = field(default_factory=LoadCounts)
    new_ids: list[int] = field(default_factory=list)
    message: str = ""


@dataclass
class HarvestReport:
    sets: list[SetReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(report.status != "failed" for report in self.sets)

    @property
    def counts(self) -> LoadCounts:
        total = LoadCounts()
        for report in self.sets:
            total.add(report.counts)
        return total

    @property
    def new_paper_ids(self) -> list[int]:
        return sorted({i for report in self.sets for i in report.new_ids})

    @property
    def status(self) -> str:
        if not self.ok:
            return "failed"
        if all(report.status == "no-news" for report in self.sets):
            return "no-news"
        return "done"


class Harvester:
    def __init__(
        self,
        factory: sessionmaker[Session],
        client: PoliteClient,
        oai_url: str,
        *,
        extra_holidays: tuple[date, ...] = (),
        metadata_prefix: str = "arXivRaw",
        on_page: Callable[[SetReport], None] = lambda report: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.factory, self.client, self.oai_url = factory, client, oai_url
        self.extra_holidays = extra_holidays
        self.metadata_prefix = metadata_prefix
        self.on_page = on_page
        self.sleep = sleep

    def run(
        self,
        set_specs: list[str],
        *,
        today: date,
        from_date: date | None = None,
        until: date | None = None,
        now: datetime | None = None,
    ) -> HarvestReport:
        """Harvest each set in turn, logging the run (as started at `now`, default the clock's
        time); a failed set does not stop the others."""
        started = time.perf_counter()
        with self.factory() as session, session.begin():
            run = HarvestRun(
                source="arxiv",
                status="running",
                new=0,
                updated=0,
                unchanged=0,
                rejected=0,
                message="",
                started_at=now or utcnow(),
            )
            session.add(run)
        report = HarvestReport()
        for spec in set_specs:
            report.sets.append(
                self.harvest_set(spec, today=today, from_date=from_date, until=until)
            )
        report.seconds = time.perf_counter() - started
        counts = report.counts
        with self.factory() as session, session.begin():
            stored = session.get(HarvestRun, run.id)
            assert stored is not None
            stored.status = report.status
            stored.finished_at = utcnow()
            stored.new, stored.updated = counts.new, counts.updated
            stored.unchanged, stored.rejected = counts.unchanged, counts.rejected
            stored.message = "; ".join(
                f"{r.set_spec}: {r.message}" for r in report.sets if r.message
            )[:2000]
        return report

    def harvest_set(
        self,
        spec: str,
        *,
        today: date,
        from_date: date | None = None,
        until: date | None = None,
    ) -> SetReport:
        cursor = self._cursor(spec)
        explicit = from_date is not None or until is not None
        token = None
        if cursor.resumption_token and not explicit and cursor.window_from and cursor.window_until:
            window = (cursor.window_from, cursor.window_until)
            token = cursor.resumption_token
            log.info("%s: resuming the harvest of %s to %s", spec, *window)
        else:
            start = from_date or cursor.harvested_through or today - timedelta(FIRST_RUN_DAYS)
            window = (start, until or today)
            self._begin_window(cursor.id, window)
        report = SetReport(spec, window)
        restarted = False
        while True:
            try:
                page = list_records(
                    self.client,
                    self.oai_url,
                    metadata_prefix=self.metadata_prefix,
                    set_spec=spec,
                    from_date=window[0],
                    until=window[1],
                    token=token,
                    sleep=self.sleep,
                )
            except ExpiredToken:
                if restarted:
                    return _failed(report, "arXiv refused a fresh resumption token as expired")
                restarted = True
                log.warning("%s: the resumption token expired; starting the window again", spec)
                token = None
                continue
            except (ArxivUnavailable, ArxivError) as error:
                return _failed(report, str(error))
            self._store_page(cursor.id, page, window, report)
            self.on_page(report)
            if page.token is None:
                break
            token = page.token
        if report.counts.total == 0:
            report.status = "no-news"
            report.message = "no new papers from {} to {}".format(*window)
            reason = quiet_reason(*window, self.extra_holidays)
            if reason:
                report.message += f" ({reason})"
        return report

    def _cursor(self, spec: str) -> HarvestCursor:
        with self.factory() as session, session.begin():
            insert_ignoring_duplicates(
                session.connection(),
                HarvestCursor.__table__,  # type: ignore[arg-type]
                [{"set_spec": spec, "pages_done": 0, "updated_at": utcnow()}],
            )
            cursor = session.scalars(
                select(HarvestCursor).where(HarvestCursor.set_spec == spec)
            ).one()
            session.expunge(cursor)
            return cursor

    def _begin_window(self, cursor_id: int, window: tuple[date, date]) -> None:
        with self.factory() as session, session.begin():
            cursor = session.get(HarvestCursor, cursor_id)
            assert cursor is not None
            cursor.window_from, cursor.window_until = window
            cursor.resumption_token = None
            cursor.pages_done = 0

    def _store_page(
        self, cursor_id: int, page: OaiPage, window: tuple[date, date], report: SetReport
    ) -> None:
        """Store a page's papers and move the cursor past it, in one transaction."""
        papers: dict[str, HarvestedPaper] = {}
        for record in page.records:
            if record.deleted or record.metadata is None:
                continue
            try:
                paper = read_metadata(record.metadata)
            except RejectedRecord as error:
                report.counts.rejected += 1
                report.counts.rejections.append(
                    (report.set_spec, 0, f"{record.identifier}: {error}")
                )
                log.warning("%s: skipped %s: %s", report.set_spec, record.identifier, error)
                continue
            known = papers.get(paper.record.arxiv_id)
            if known is None or (paper.record.version or 0) >= (known.record.version or 0):
                papers[paper.record.arxiv_id] = paper
        with self.factory() as session, session.begin():
            if papers:
                before = set(
                    session.scalars(select(Paper.arxiv_id).where(Paper.arxiv_id.in_(papers)))
                )
                report.counts.add(store_batch(session, [p.record for p in papers.values()]))
                ids = dict(
                    session.execute(
                        select(Paper.arxiv_id, Paper.id).where(Paper.arxiv_id.in_(papers))
                    ).all()
                )
                report.new_ids.extend(ids[a] for a in papers if a not in before)
                versions = [
                    {
                        "paper_id": ids[arxiv_id],
                        "version": v.number,
                        "submitted_at": v.submitted_at,
                        "size": v.size,
                    }
                    for arxiv_id, paper in papers.items()
                    for v in paper.versions
                ]
                insert_ignoring_duplicates(
                    session.connection(),
                    PaperVersion.__table__,  # type: ignore[arg-type]
                    versions,
                )
            cursor = session.get(HarvestCursor, cursor_id)
            assert cursor is not None
            cursor.pages_done += 1
            cursor.resumption_token = page.token
            if page.token is None:
                end = window[1]
                if cursor.harvested_through is None or end > cursor.harvested_through:
                    cursor.harvested_through = end
                cursor.window_from = cursor.window_until = None
        report.pages += 1


def _failed(report: SetReport, message: str) -> SetReport:
    report.status = "failed"
    report.message = message
    log.error("%s: the harvest stopped: %s", report.set_spec, message)
    return report
