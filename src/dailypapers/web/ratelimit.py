"""Rate limits in fixed windows, counted in the database (so every web process shares them).

Each limited action names a `Limit` (bucket, how many, per how many seconds). `hit` counts one
use by a client (an IP address or a member) with one upsert and answers whether it is allowed.
Responses carry the IETF draft headers (draft-ietf-httpapi-ratelimit-headers):

    RateLimit-Policy: "login";q=10;w=60
    RateLimit: "login";r=3;t=42

and a refused request gets 429 with `Retry-After`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine


@dataclass(frozen=True, slots=True)
class Limit:
    bucket: str
    count: int
    seconds: int


# Named, documented limits (docs/security.md).
LOGIN = Limit("login", 10, 60)  # attempts per IP address per minute
SIGNUP = Limit("signup", 5, 3600)  # accounts per IP address per hour
SUBSCRIBE = Limit("subscribe", 5, 3600)  # digest subscription requests per IP address per hour
PASSWORD_RESET = Limit("reset", 5, 3600)  # reset emails per IP address per hour
VOTE = Limit("vote", 120, 60)  # votes per member per minute
SUBMIT = Limit("submit", 20, 3600)  # submission attempts per member per hour
COMMENT = Limit("comment", 10, 60)  # comments per member per minute
API_WRITE = Limit("api-write", 300, 60)  # other writes per member per minute

_UPSERT = text(
    "INSERT INTO rate_limit_counters (bucket, client, window_start, count)"
    " VALUES (:bucket, :client, :window_start, 1)"
    " ON CONFLICT (bucket, client, window_start)"
    " DO UPDATE SET count = rate_limit_counters.count + 1"
    " RETURNING count"
)
_PURGE = text("DELETE FROM rate_limit_counters WHERE window_start < :before")


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
    counts, whatever happens to the request)."""
    now = time.time() if now is None else now
    window_start = int(now // limit.seconds * limit.seconds)
    with engine.begin() as connection:
        used = connection.execute(
            _UPSERT,
            {"bucket": limit.bucket, "client": client[:100], "window_start": window_start},
        ).scalar_one()
        if random.random() < 0.001:  # now and then, forget windows older than a day
            connection.execute(_PURGE, {"before": int(now) - 86_400})
    return Decision(limit, used, window_start + limit.seconds - int(now))


def enforce(engine: Engine, limit: Limit, client: str) -> Decision:
    """Like `hit`, raising RateLimited past the limit."""
    decision = hit(engine, limit, client)
    if not decision.allowed:
        raise RateLimited(decision)
    return decision
