"""Sending digests with several processes on one machine (`digest send --workers N`).

Composing and writing a digest is CPU work in Python, so one process keeps one core busy; N
processes each take the subscribers whose id is k modulo N, with their own database connection,
search indexes and SMTP connection. The ledger's unique (subscriber, period) key still makes
every send happen once. The processes stop with the command (Linux's parent-death signal, here
SIGTERM): each finishes the message it is writing, so that the ledger and the mailboxes agree,
and exits; a killed `digest send` leaves no sender running that could race the next run. Ctrl-C
reaches the command only, and its senders stop the same way.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from multiprocessing.queues import Queue
from typing import Any

from dailypapers.digests.delivery import SendReport
from dailypapers.digests.schedule import DigestPeriod

PR_SET_PDEATHSIG = 1


def can_run_in_parallel() -> bool:
    return sys.platform.startswith("linux")


def send_in_parallel(
    settings_values: dict[str, Any], period: DigestPeriod, workers: int, *, dry_run: bool
) -> SendReport:
    context = multiprocessing.get_context("spawn")
    results: Queue[SendReport | str] = context.Queue()
    processes = [
        context.Process(target=_send_share, name=f"digest-sender-{k}", daemon=True,
                        args=(settings_values, period, (k, workers), dry_run, results,
                              os.getpid()))
        for k in range(workers)
    ]  # fmt: skip
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
    settings_values: dict[str, Any],
    period: DigestPeriod,
    share: tuple[int, int],
    dry_run: bool,
    results: Queue[SendReport | str],
    parent: int,
) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the command's Ctrl-C stops us through SIGTERM
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # stop with the command
    if os.getppid() != parent:  # the command died before the line above
        return
    from dailypapers.cli import _prepared_database, _search_indexes
    from dailypapers.digests.delivery import SiteMail, send_digests
    from dailypapers.digests.letters import Tokens
    from dailypapers.mail.sender import MailSender
    from dailypapers.settings import Settings

    try:
        settings = Settings(_env_file=None, **settings_values)  # type: ignore[call-arg]
        engine, factory = _prepared_database(settings)
        keyword_index, search_engine = _search_indexes(factory, settings)
        site = SiteMail(settings.base_url, settings.site_name,
                        Tokens(settings.resolved_secret_key()),
                        MailSender(settings.smtp_url, settings.mail_from))  # fmt: skip
        report = send_digests(factory, period, site, keyword_index=keyword_index,
                              engine=search_engine, dry_run=dry_run, share=share,
                              sleep=stop.wait, stopping=stop.is_set)  # fmt: skip
        engine.dispose()
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which exits 1
        results.put(f"sender {share[0] + 1} of {share[1]}: {error}")
        raise
    results.put(report)
