"""The job runner: each job of the table on its own thread, every `every` seconds.

The same runner serves `dailypapers serve` (started in the app's lifespan) and `dailypapers
worker` (run in the foreground until SIGTERM). A job that names a lease runs only while this
process holds that lease in the database (`leases.py`), so on any number of processes and
machines one of them does it; a job without a lease keeps this process's own state current
(its copy of the search indexes). A failing round is logged and tried again next time; a job
may be nudged to run at once (`Site.nudge`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from dailypapers.leases import release_lease, take_lease
from dailypapers.site import Site

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: float  # seconds between two rounds
    run: Callable[[Site, threading.Event], object]  # (site, stop) → anything; stop when set
    lease: str | None = None  # database lease held while running (one process anywhere)
    lease_seconds: float = 60.0  # renewed while running; a dead holder frees it after this long
    first_after: float = 0.0  # seconds before the first round


class JobRunner:
    def __init__(self, site: Site, jobs: list[Job]) -> None:
        self.site, self.jobs = site, jobs
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []
        self._first_round = {job.name: threading.Event() for job in jobs}

    def run_once(self, job: Job) -> bool:
        """One round of `job` (under its lease); False when another process holds the lease."""
        if job.lease is None:
            job.run(self.site, self.stop_event)
            return True
        sessions, lease = self.site.sessions, job.lease
        if not take_lease(sessions, lease, job.lease_seconds):
            return False
        done = threading.Event()

        def renew() -> None:  # while the job runs, however long: a third of the lease apart
            while not done.wait(job.lease_seconds / 3):
                try:
                    take_lease(sessions, lease, job.lease_seconds)
                except Exception:  # the database is away: the next renewal tries again
                    log.warning("could not renew the lease %s", lease, exc_info=True)

        heartbeat = threading.Thread(target=renew, name=f"lease-{lease}", daemon=True)
        heartbeat.start()
        try:
            job.run(self.site, self.stop_event)
        finally:
            done.set()
            heartbeat.join()
            release_lease(sessions, lease)
        return True

    def _loop(self, job: Job) -> None:
        nudged = self.site.nudge_event(job.name)
        if job.first_after and self.stop_event.wait(job.first_after):
            return
        while not self.stop_event.is_set():
            nudged.clear()
            try:
                self.run_once(job)
            except Exception:  # keep the site serving; the next round tries again
                log.exception("job %s failed", job.name)
            self._first_round[job.name].set()
            if nudged.wait(job.every):
                continue
        self._first_round[job.name].set()

    def start(self) -> None:
        for job in self.jobs:
            thread = threading.Thread(
                target=self._loop, args=(job,), name=f"job-{job.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wait_first_round(self, name: str, timeout: float) -> bool:
        event = self._first_round.get(name)
        return event is not None and event.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        for job in self.jobs:
            self.site.nudge(job.name)  # wake the ones waiting for their next round
        for thread in self._threads:
            thread.join(timeout)
