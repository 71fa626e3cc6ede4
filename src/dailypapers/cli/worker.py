"""`dailypapers worker`: the background jobs of `serve`, without the web pages."""

from __future__ import annotations

from typing import Annotated

import typer

from dailypapers.cli.common import opened_site, settings


def worker(
    every: Annotated[
        float, typer.Option(min=0.1, max=3600, help="Seconds between two looks for due work.")
    ] = 60.0,
) -> None:
    """Run the scheduled jobs without serving web pages: send due digests and queued mail,
    harvest arXiv after each announcement, embed new papers for search by meaning.

    Run one or more next to `serve` (on PostgreSQL, on any machine): the jobs coordinate
    through the database, so no two workers run the same job or send the same digest. Turn the
    web app's own jobs off then (DIGEST_SCHEDULER, HARVEST_SCHEDULER, EMBED_IN_BACKGROUND).
    Stops on SIGTERM or Ctrl-C, after the job at hand.
    """
    import logging
    import signal
    import threading

    from dailypapers.jobs import run_worker

    site_settings = settings()
    logging.basicConfig(
        level=site_settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with opened_site(site_settings) as site:
        run_worker(site, every=every, stop=stop)
