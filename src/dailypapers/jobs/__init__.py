"""Background work: the table of jobs and the runner that runs them (in `serve` or `worker`)."""

from __future__ import annotations

import logging
import threading

from dailypapers.jobs.runner import Job, JobRunner
from dailypapers.jobs.table import web_jobs, worker_jobs
from dailypapers.site import Site

__all__ = ["Job", "JobRunner", "run_worker", "web_jobs", "worker_jobs"]

log = logging.getLogger("dailypapers.worker")


def run_worker(site: Site, *, every: float, stop: threading.Event) -> None:
    """Run the worker's jobs until `stop` is set (SIGTERM, Ctrl-C); each stops after the
    round at hand."""
    runner = JobRunner(site, worker_jobs(site, every))
    log.info("worker started: %s, every %.1f s", ", ".join(j.name for j in runner.jobs), every)
    runner.start()
    stop.wait()
    runner.stop()
    log.info("worker stopped")
