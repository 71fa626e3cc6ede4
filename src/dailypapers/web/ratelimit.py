"""Rate limits in fixed windows, counted in the database (so every web process shares them).

Each limited action names a `Limit` (bucket, how many, per how many seconds). `hit` counts one
use by a client (an IP address or a member) with one upsert and answers whether it is allowed.
Responses carry the IETF draft headers (draft-ietf-httpapi-ratelimit-headers):

    RateLimit-Policy: "login";q=10;w=60
    RateLimit: "login";r=3;t=42

and a refused request gets 429 with `Retry-After`. The limit a request was counted against is
left in `request.state.rate_limit`, and `RateLimitHeadersMiddleware` puts those headers on its
answer whatever it is (results, a 4xx, the 429).

Limits checked on every read (search) are counted in the process's memory instead
(`MemoryCounts`): a database write per search would cost more than many searches (a commit is
~4 ms on PostgreSQL) and would queue readers behind SQLite's one writer.
"""

from __future__ import annotations

import calendar
import math
import random
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.settings import Settings


@dataclass(frozen=True, slots=True)
class Limit:
    bucket: str
    count: int
    seconds: int
    in_memory: bool = False  # counted by each process in its memory (MemoryCounts), not shared


# Named, documented limits (docs/security.md).
LOGIN = Limit("login", 10, 60)  # attempts per IP address per minute
SIGNUP = Limit("signup", 5, 3600)  # accounts per IP address per hour
SUBSCRIBE = Limit("subscribe", 5, 3600)  # digest subscription requests per IP address per hour
PASSWORD_RESET = Limit("reset", 5, 3600)  # reset emails per IP address per hour
VOTE = Limit("vote", 120, 60)  # votes per member per minute
SUBMIT = Limit("submit", 20, 3600)  # submission attempts per member per hour
COMMENT = Limit("comment", 10, 60)  # comments per member per minute
API_WRITE = Limit("api-write", 300, 60)  # other writes per member per minute


def searches(settings: Settings) -> Limit | None:
    """Searches (the search page, its API and feeds, similar papers) per IP address per minute:
    `DAILYPAPERS_SEARCHES_PER_MINUTE` (0: no limit), counted in each web process's memory."""
    if settings.searches_per_minute == 0:
        return None
    return Limit("search", settings.searches_per_minute, 60, in_memory=True)


_UPSERT = text(
    "INSERT INTO rate_limit_counters (bucket, client, window_start, count)"
    " VALUES (:bucket, :client, :window_start, 1)"
    " ON CONFLICT (bucket, client, window_start)"
    " DO UPDATE SET count = rate_limit_counters.count + 1"
    " RETURNING count"
)
_PURGE = text("DELETE FROM rate_limit_counters WHERE window_start < :before")
_READ = text(
    "SELECT count FROM rate_limit_counters"
    " WHERE bucket = :bucket AND client = :client AND window_start = :window_start"
)


@dataclass(frozen=True, slots=True)
class Decision:
    limit: Limit
    used: int
    reset_seconds: int

    @property
    def allowed(self) -> bool:
        return self.used <= self.limit.count

    @property
    def remaining(self) -> int:
        return max(self.limit.count - self.used, 0)

    def headers(self) -> dict[str, str]:
        name = self.limit.bucket
        headers = {
            "RateLimit-Policy": f'"{name}";q={self.limit.count};w={self.limit.seconds}',
            "RateLimit": f'"{name}";r={self.remaining};t={self.reset_seconds}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class RateLimited(Exception):
    def __init__(self, decision: Decision) -> None:
        super().__init__(
            f"too many requests ({decision.limit.bucket}); try again in {decision.reset_seconds} s"
        )
        self.decision = decision


def hit(engine: Engine, limit: Limit, client: str, *, now: float | None = None) -> Decision:
    """Count one use of `limit` by `client` in its own transaction (a refused login still
    counts, whatever happens to the request).

    The count is that of a sliding window, estimated from two fixed ones: this window's uses
    plus the previous window's, weighted by how much of it the sliding window still covers. So
    eleven log-in attempts in a few seconds are refused the eleventh even when a window ends
    among them (fixed windows alone would allow twice the limit across a boundary)."""
    now = time.time() if now is None else now
    window_start = int(now // limit.seconds * limit.seconds)
    keys = {"bucket": limit.bucket, "client": client[:100], "window_start": window_start}
    with engine.begin() as connection:
        used = connection.execute(_UPSERT, keys).scalar_one()
        previous = connection.execute(
            _READ, {**keys, "window_start": window_start - limit.seconds}
        ).scalar()
        if previous:
            still_covered = 1 - (now - window_start) / limit.seconds
            used += math.ceil(previous * still_covered)
        if random.random() < 0.001:  # now and then, forget windows older than a day
            connection.execute(_PURGE, {"before": int(now) - 86_400})
    return Decision(limit, used, window_start + limit.seconds - int(now))


# --- per-day counters ---------------------------------------------------------------------
# Events of a calendar day of the site (say, a member's failed submissions) in the same table:
# a day's row is keyed on the UTC midnight *after* it, so the purge of windows older than a day
# keeps it until that day is over in every time zone.
def _day_key(day: date) -> int:
    return calendar.timegm((day + timedelta(days=1)).timetuple())


def add_for_day(engine: Engine, bucket: str, client: str, day: date) -> int:
    """Count one event of `client` on `day` in a transaction of its own (it stays counted
    whatever happens to the request); returns the day's count."""
    with engine.begin() as connection:
        return int(
            connection.execute(
                _UPSERT, {"bucket": bucket, "client": client[:100], "window_start": _day_key(day)}
            ).scalar_one()
        )


def count_for_day(reader: Session | Connection, bucket: str, client: str, day: date) -> int:
    """How many events of `client` were counted on `day`."""
    found = reader.scalar(
        _READ, {"bucket": bucket, "client": client[:100], "window_start": _day_key(day)}
    )
    return int(found or 0)


# --- limits counted in memory -------------------------------------------------------------
class MemoryCounts:
    """Fixed windows counted in this process's memory, for `Limit(..., in_memory=True)`: about
    a microsecond a request, nothing written. Each web process counts for itself (a client
    whose requests reach two processes may get up to twice the limit). Memory stays bounded:
    at most `max_clients` clients are told apart per bucket and window; past that, new ones
    share one count (that many clients in one window is an attack spread over addresses)."""

    OVERFLOW = "(others)"

    def __init__(self, max_clients: int = 50_000) -> None:
        self.max_clients = max_clients
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, dict[str, int]]] = {}  # bucket → (start, counts)

    def hit(self, limit: Limit, client: str, *, now: float | None = None) -> Decision:
        now = time.time() if now is None else now
        window_start = int(now // limit.seconds * limit.seconds)
        client = client[:100]
        with self._lock:
            start, counts = self._windows.get(limit.bucket, (None, {}))
            if start != window_start:  # a new window: the old one's counts are dropped
                counts = {}
                self._windows[limit.bucket] = (window_start, counts)
            if client not in counts and len(counts) >= self.max_clients:
                client = self.OVERFLOW
            used = counts[client] = counts.get(client, 0) + 1
        return Decision(limit, used, window_start + limit.seconds - int(now))

    def clients(self, bucket: str) -> int:
        """How many clients the current window of `bucket` tells apart."""
        with self._lock:
            return len(self._windows.get(bucket, (0, {}))[1])


class RateLimitHeadersMiddleware:
    """Puts the RateLimit headers of the limit a request was counted against (left in
    `request.state.rate_limit` by the `RateLimited` dependency) on its answer, whatever the
    answer is; an answer that has them already (the 429) is left as it is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                decision = scope.get("state", {}).get("rate_limit")
                if isinstance(decision, Decision):
                    headers = list(message.get("headers", []))
                    if not any(name.lower() == b"ratelimit" for name, _ in headers):
                        headers.extend(
                            (name.lower().encode(), value.encode())
                            for name, value in decision.headers().items()
                        )
                        message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
