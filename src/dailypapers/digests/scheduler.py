"""Sending due digests from the running app, so the embedded default needs no cron.

Once a minute the job runner (`jobs/table.py`, job "digests", holding the database lease
"digests" so that one process anywhere does it) asks whether today's daily or weekly digest is
due (a digest day, at or after `digest_send_hour` in the site's time zone) and sends what the
ledger has not recorded as done. A period whose every digest is done is not looked at again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dailypapers.digests.compose import PersonalSections
from dailypapers.digests.delivery import DigestSite, send_digests
from dailypapers.digests.schedule import (
    DAY_NAMES,
    DigestPeriod,
    daily_period,
    parse_days,
    weekly_period,
)
from dailypapers.settings import Settings

log = logging.getLogger(__name__)


def due_periods(settings: Settings, now: datetime) -> list[DigestPeriod]:
    if now.hour < settings.digest_send_hour:
        return []
    today = now.date()
    periods = [
        daily_period(today, parse_days(settings.digest_days)),
        weekly_period(today, DAY_NAMES.index(settings.digest_weekly_day)),
    ]
    return [period for period in periods if period is not None]


class DigestScheduler:
    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        site: DigestSite,
        keyword: Any,
        meaning: Any = None,
        personal: PersonalSections | None = None,
    ) -> None:
        self.factory, self.settings, self.site = factory, settings, site
        self.keyword, self.meaning, self.personal = keyword, meaning, personal
        self._finished: set[str] = set()

    def run_once(self, now: datetime | None = None) -> None:
        now = now or datetime.now(self.settings.zone)
        for period in due_periods(self.settings, now):
            if period.key in self._finished:
                continue
            report = send_digests(
                self.factory,
                period,
                self.site,
                keyword=self.keyword,
                meaning=self.meaning,
                personal=self.personal,
            )
            if report.sent or report.failed or report.deferred:
                log.info("digests %s: %s", period.key, report)
            if report.deferred == 0 and report.in_progress == 0:
                self._finished.add(period.key)
