"""Sending due digests from the running app, so the embedded default needs no cron.

Once a minute a thread checks whether today's daily or weekly digest is due (a digest day, at
or after `digest_send_hour` in the site's time zone) and, holding `DATA_DIR/digest.lock` so one
process on the machine does it, sends what the ledger has not recorded as done. A period whose
every digest is done is not looked at again.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dailypapers.digests.delivery import SiteMail, send_digests
from dailypapers.digests.schedule import (
    DAY_NAMES,
    DigestPeriod,
    daily_period,
    parse_days,
    weekly_period,
)
from dailypapers.settings import Settings

log = logging.getLogger(__name__)
CHECK_SECONDS = 60.0


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
    def __init__(self, factory: sessionmaker[Session], settings: Settings, site: SiteMail,
                 keyword_index: Any, engine: Any = None) -> None:  # fmt: skip
        self.factory, self.settings, self.site = factory, settings, site
        self.keyword_index, self.engine = keyword_index, engine
        self.lock_path: Path = settings.data_dir / "digest.lock"
        self._finished: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, now: datetime | None = None) -> None:
        now = now or datetime.now(self.settings.zone)
        for period in due_periods(self.settings, now):
            if period.key in self._finished:
                continue
            with self.lock_path.open("w") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # another process is sending
                report = send_digests(
                    self.factory, period, self.site,
                    keyword_index=self.keyword_index, engine=self.engine,
                )  # fmt: skip
            if report.sent or report.failed or report.deferred:
                log.info("digests %s: %s", period.key, report)
            if report.deferred == 0 and report.in_progress == 0:
                self._finished.add(period.key)

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(CHECK_SECONDS):
                try:
                    self.run_once()
                except Exception:  # keep the app serving; try again next minute
                    log.exception("sending digests failed")

        self._thread = threading.Thread(target=loop, name="digest-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
