"""A polite HTTP client for arXiv: one connection, one request at a time, at least
`interval` seconds between requests (arXiv asks for 3), a User-Agent that says who we are.

Failures become two exceptions with messages fit for users: `ArxivUnavailable` (arXiv did not
answer properly: connection refused or reset, timeout, 5xx, HTML instead of XML) and, from the
parsers, `ArxivError` for answers that say the request itself was wrong.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from dailypapers import __version__

TIMEOUT_SECONDS = 30.0


class ArxivUnavailable(Exception):
    """arXiv could not be reached or did not answer properly; worth trying later.

    `retry_after` is the wait in seconds arXiv asked for (its 503 flow control), if it did."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ArxivError(Exception):
    """arXiv answered that the request was wrong (e.g. a malformed id)."""


class PoliteClient:
    def __init__(self, *, interval: float, contact_url: str) -> None:
        self.interval = interval
        self._http = httpx.Client(
            timeout=TIMEOUT_SECONDS,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"User-Agent": f"dailypapers/{__version__} (+{contact_url})"},
            follow_redirects=True,
        )
        self._lock = threading.Lock()
        self._last_request = 0.0

    def get(self, url: str, params: dict[str, str] | None = None) -> httpx.Response:
        """GET after waiting for our turn; raises ArxivUnavailable on network errors and 5xx."""
        with self._lock:  # one request at a time, spaced
            wait = self._last_request + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                response = self._http.get(url, params=params)
            except httpx.HTTPError as error:
                raise ArxivUnavailable(
                    f"arXiv could not be reached ({type(error).__name__})"
                ) from error
            finally:
                self._last_request = time.monotonic()
        if response.status_code >= 500:
            raise ArxivUnavailable(
                f"arXiv answered {response.status_code}; try again later",
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        return response

    def close(self) -> None:
        self._http.close()


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
