"""Harvesting from the running app after each arXiv announcement, so the embedded default needs
no cron.

Once a minute the job runner (`jobs/table.py`, job "harvest") looks at arXiv's calendar:
when the latest announcement (Sunday to Thursday, 20:00 US Eastern) is `harvest_delay_minutes`
old and no harvest has finished since, it harvests, holding the database lease "harvest" so
that one process, on any machine, does it. A failed harvest is tried again after
`RETRY_MINUTES`; it resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.arxiv.client import PoliteClient
from dailypapers.harvest.calendar import latest_announcement
from dailypapers.harvest.job import HarvestOutcome, harvest_arxiv
from dailypapers.harvest.models import HarvestRun
from dailypapers.leases import release_lease, take_lease
from dailypapers.search.indexing import TextEmbedder
from dailypapers.settings import Settings

log = logging.getLogger(__name__)
RETRY_MINUTES = 30
LEASE_SECONDS = 3600.0  # a harvest and its embeddings take minutes; a dead holder frees it


class HarvestScheduler:
    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        embedder: TextEmbedder | None = None,
        *,
        client: PoliteClient | None = None,
        on_stored: Callable[[Sequence[int]], None] | None = None,
    ) -> None:
        self.factory, self.settings, self.embedder = factory, settings, embedder
        self.client, self.on_stored = client, on_stored

    def due(self, now: datetime) -> bool:
        """Whether the latest announcement (old enough) has no finished harvest after it, and
        no harvest failed in the last RETRY_MINUTES."""
        delay = timedelta(minutes=self.settings.harvest_delay_minutes)
        announced = latest_announcement(now - delay, self.settings.holiday_dates)
        with self.factory() as session:
            finished = session.scalar(
                select(func.max(HarvestRun.started_at)).where(
                    HarvestRun.source == "arxiv", HarvestRun.status.in_(("done", "no-news"))
                )
            )
            failed = session.scalar(
                select(func.max(HarvestRun.started_at)).where(
                    HarvestRun.source == "arxiv", HarvestRun.status == "failed"
                )
            )
        if finished is not None and finished >= announced + delay:
            return False
        return failed is None or failed < now - timedelta(minutes=RETRY_MINUTES)

    def run_once(self, now: datetime | None = None) -> HarvestOutcome | None:
        now = now or datetime.now(UTC)
        if not self.due(now):
            return None
        if not take_lease(self.factory, "harvest", LEASE_SECONDS):
            return None  # another process (on any machine) is harvesting
        try:
            if not self.due(now):  # it may have just finished
                return None
            outcome = harvest_arxiv(
                self.factory,
                self.settings,
                today=now.astimezone(self.settings.zone).date(),
                embedder=self.embedder,
                now=now,
                client=self.client,
                on_stored=self.on_stored,
            )
        finally:
            release_lease(self.factory, "harvest")
        counts = outcome.report.counts
        log.info(
            "harvest %s: %d new, %d updated, %d skipped, %d proposed",
            outcome.report.status,
            counts.new,
            counts.updated,
            counts.rejected,
            outcome.proposed,
        )
        return outcome
