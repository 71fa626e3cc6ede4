"""Sending digests with several processes on one machine (`digest send --workers N`).

Composing and writing a digest is CPU work in Python, so one process keeps one core busy; N
processes each take the subscribers whose id is k modulo N, with their own database connection,
search indexes and SMTP connection. The ledger's unique (subscriber, period) key still makes
every send happen once. The processes stop with the command (Linux's parent-death signal, here
SIGTERM): each finishes the message it is writing, so that the ledger and the mailboxes agree,
and exits; a killed `digest send` leaves no sender running that could race the next run. Ctrl-C
reaches the command only, and its senders stop the same way.

Each sender opens the site itself, from the settings' values, with the opener it is handed
(`Site.open`, given by the command: the digests know nothing of the composition root), and
builds the personal sections (For you, Changed) over that site with the function it is handed
(foryou/digest.py's, likewise).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.queues import Queue
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from dailypapers.digests.compose import PersonalSections
from dailypapers.digests.delivery import DigestSite, SendReport
from dailypapers.digests.schedule import DigestPeriod
from dailypapers.settings import Settings

PR_SET_PDEATHSIG = 1


class SenderSite(DigestSite, Protocol):
    """What a sender needs of the site it opens (and what sending digests needs of it)."""

    sessions: sessionmaker[Session]

    @property
    def keyword(self) -> Any: ...

    @property
    def meaning(self) -> Any: ...

    def close(self) -> None: ...


# Opens the site in the sender's process; spawned processes receive it pickled, so it is a
# module-level function or class method (or a functools.partial of one).
OpenSite = Callable[[Settings], SenderSite]
# Builds the personal sections over the sender's site (pickled likewise).
OpenPersonal = Callable[[Any], PersonalSections]


def can_run_in_parallel() -> bool:
    return sys.platform.startswith("linux")


def send_in_parallel(
    open_site: OpenSite,
    settings_values: dict[str, Any],
    period: DigestPeriod,
    workers: int,
    *,
    dry_run: bool,
    personal: OpenPersonal | None = None,
) -> SendReport:
    context = multiprocessing.get_context("spawn")
    results: Queue[SendReport | str] = context.Queue()
    processes = [
        context.Process(
            target=_send_share,
            name=f"digest-sender-{k}",
            daemon=True,
            args=(
                open_site,
                settings_values,
                period,
                (k, workers),
                dry_run,
                results,
                os.getpid(),
                personal,
            ),
        )
        for k in range(workers)
    ]
    for process in processes:
        process.start()
    total, errors = SendReport(), []
    for _ in processes:
        outcome = results.get()
        if isinstance(outcome, str):
            errors.append(outcome)
            continue
        total.sent += outcome.sent
        total.empty += outcome.empty
        total.already_done += outcome.already_done
        total.failed += outcome.failed
        total.deferred += outcome.deferred
        total.in_progress += outcome.in_progress
        total.seconds = max(total.seconds, outcome.seconds)
    for process in processes:
        process.join()
    if errors:
        raise RuntimeError("; ".join(errors))
    return total


def _send_share(
    open_site: OpenSite,
    settings_values: dict[str, Any],
    period: DigestPeriod,
    share: tuple[int, int],
    dry_run: bool,
    results: Queue[SendReport | str],
    parent: int,
    personal: OpenPersonal | None = None,
) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the command's Ctrl-C stops us through SIGTERM
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # stop with the command
    if os.getppid() != parent:  # the command died before the line above
        return
    from dailypapers.digests.delivery import send_digests

    try:
        site = open_site(Settings(_env_file=None, **settings_values))
        try:
            if site.meaning is not None:
                site.meaning.refresh()
            report = send_digests(
                site.sessions,
                period,
                site,
                keyword=site.keyword,
                meaning=site.meaning,
                personal=personal(site) if personal is not None else None,
                dry_run=dry_run,
                share=share,
                sleep=stop.wait,
                stopping=stop.is_set,
            )
        finally:
            site.close()
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which exits 1
        results.put(f"sender {share[0] + 1} of {share[1]}: {error}")
        raise
    results.put(report)
