"""A polite HTTP client for arXiv: one connection, one request at a time, at least
`interval` seconds between requests (arXiv asks for 3), a User-Agent that says who we are.

Failures become two exceptions with messages fit for users: `ArxivUnavailable` (arXiv did not
answer properly: connection refused or reset, timeout, 5xx, HTML instead of XML) and, from the
parsers, `ArxivError` for answers that say the request itself was wrong.

The web app fetches through `within(deadline, work)`: on the client's own few threads (never
one that serves pages), for `deadline` seconds at most in all (its turn and the politeness
interval included), and with at most `max_waiting` fetches under way: one more raises
`ArxivBusy` at once instead of queueing. The harvest and the commands call `get` directly.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

from dailypapers import __version__

TIMEOUT_SECONDS = 30.0


class ArxivUnavailable(Exception):
    """arXiv could not be reached or did not answer properly; worth trying later.

    `retry_after` is the wait in seconds arXiv asked for (its 503 flow control), if it did."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ArxivBusy(ArxivUnavailable):
    """As many fetches as allowed are already waiting on arXiv; try again in `retry_after` s."""


class ArxivError(Exception):
    """arXiv answered that the request was wrong (e.g. a malformed id)."""


T = TypeVar("T")


class PoliteClient:
    def __init__(self, *, interval: float, contact_url: str, max_waiting: int = 2) -> None:
        self.interval = interval
        self.max_waiting = max_waiting
        self._slots = threading.BoundedSemaphore(max_waiting)  # fetches under way, `within`
        self._threads: ThreadPoolExecutor | None = None
        self._http = httpx.Client(
            timeout=TIMEOUT_SECONDS,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"User-Agent": f"dailypapers/{__version__} (+{contact_url})"},
            follow_redirects=True,
        )
        self._lock = threading.Lock()
        self._last_request = 0.0

    def get(
        self, url: str, params: dict[str, str] | None = None, *, deadline: float | None = None
    ) -> httpx.Response:
        """GET after waiting for our turn; raises ArxivUnavailable on network errors and 5xx.
        With `deadline`, gives up (ArxivUnavailable) when the turn, the politeness interval
        and the answer would take longer than that many seconds."""
        end = None if deadline is None else time.monotonic() + deadline
        if not self._lock.acquire(timeout=-1 if deadline is None else deadline):
            raise ArxivUnavailable(_too_slow(deadline))
        try:  # one request at a time, spaced
            wait = self._last_request + self.interval - time.monotonic()
            if end is not None and time.monotonic() + max(wait, 0) >= end:
                raise ArxivUnavailable(_too_slow(deadline))
            if wait > 0:
                time.sleep(wait)
            timeout = TIMEOUT_SECONDS if end is None else max(end - time.monotonic(), 0.1)
            try:
                response = self._http.get(url, params=params, timeout=timeout)
            except httpx.TimeoutException as error:
                message = _too_slow(deadline) if deadline else _unreachable(error)
                raise ArxivUnavailable(message) from error
            except httpx.HTTPError as error:
                raise ArxivUnavailable(_unreachable(error)) from error
            finally:
                self._last_request = time.monotonic()
        finally:
            self._lock.release()
        if response.status_code >= 500:
            raise ArxivUnavailable(
                f"arXiv answered {response.status_code}; try again later",
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        return response

    async def within(self, deadline: float, work: Callable[[], T]) -> T:
        """Run `work` (which calls `get` with the same deadline) on one of this client's
        threads and wait `deadline` seconds at most for its result (ArxivUnavailable past it:
        the thread stops at its own deadline). With `max_waiting` runs under way, raise
        ArxivBusy at once: a web request never queues behind others waiting on arXiv."""
        if not self._slots.acquire(blocking=False):
            raise ArxivBusy(
                f"{self.max_waiting} requests are already waiting on arXiv",
                retry_after=math.ceil(deadline),
            )
        try:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.max_waiting, thread_name_prefix="arxiv")
            running = self._threads.submit(work)
        except BaseException:
            self._slots.release()
            raise
        running.add_done_callback(lambda _: self._slots.release())  # ran, failed or cancelled
        try:
            return await asyncio.wait_for(asyncio.wrap_future(running), deadline)
        except TimeoutError:
            raise ArxivUnavailable(_too_slow(deadline)) from None

    def close(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
        self._http.close()


def _too_slow(deadline: float | None) -> str:
    return f"arXiv did not answer within {deadline:g} s"


def _unreachable(error: Exception) -> str:
    return f"arXiv could not be reached ({type(error).__name__})"


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
