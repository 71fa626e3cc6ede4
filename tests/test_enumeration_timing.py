"""No user enumeration by timing: signing up with an address that has an account and with a
new one, and asking a reset link for a known and for an unknown address, answer in the same
time (medians within 20%, plus a little absolute slack for a busy test machine)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from itertools import count

import httpx

from .conftest import Community
from .test_accounts import PASSWORD, csrf_of, sign_up_and_confirm

ROUNDS = 15
RELATIVE_BOUND = 0.20
ABSOLUTE_SLACK = 0.005  # seconds
_clients = count(1)


def timed_post(community: Community, path: str, data: dict[str, str]) -> float:
    """Seconds until the answer to one form post, on a connection of its own, from a client
    address of its own (so that the per-address rate limits never answer instead)."""
    client = next(_clients)
    headers = {"X-Forwarded-For": f"10.14.{client // 250}.{client % 250 + 1}"}
    with httpx.Client(base_url=community.url, headers=headers, timeout=30) as http:
        token = csrf_of(http.get(path).text)
        started = time.perf_counter()
        response = http.post(path, data={"csrf_token": token, **data})
        elapsed = time.perf_counter() - started
    assert response.status_code == 200 and "Check your inbox" in response.text, response.text
    time.sleep(0.05)  # work left after the answer (the outbox, a reset lookup) is done
    return elapsed


def assert_same_time(first: Callable[[int], float], second: Callable[[int], float]) -> None:
    """Alternate the two cases ROUNDS times and compare their medians."""
    first(-1), second(-1)  # warm both paths up
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(ROUNDS):
        times[0].append(first(i))
        times[1].append(second(i))
    medians = [statistics.median(t) for t in times]
    allowed = RELATIVE_BOUND * max(medians) + ABSOLUTE_SLACK
    assert abs(medians[0] - medians[1]) <= allowed, (
        f"medians {medians[0] * 1000:.1f} ms and {medians[1] * 1000:.1f} ms differ by more "
        f"than {allowed * 1000:.1f} ms"
    )


def test_sign_up_takes_as_long_with_a_known_address_as_with_a_new_one(
    community: Community,
) -> None:
    with httpx.Client(base_url=community.url) as http:
        sign_up_and_confirm(community, http, "known")

    def sign_up(email: str, name: str) -> float:
        data = {"username": name, "email": email, "password": PASSWORD}
        return timed_post(community, "/signup", data)

    assert_same_time(
        lambda i: sign_up("known@example.org", f"again{i + 1}"),
        lambda i: sign_up(f"new{i + 1}@example.org", f"new{i + 1}"),
    )


def test_a_reset_request_takes_as_long_for_a_known_address_as_for_an_unknown_one(
    community: Community,
) -> None:
    with httpx.Client(base_url=community.url) as http:
        sign_up_and_confirm(community, http, "member")

    def reset(email: str) -> float:
        return timed_post(community, "/reset", {"email": email})

    assert_same_time(lambda i: reset("member@example.org"), lambda i: reset("nobody@example.org"))
    assert community.mail.to("nobody@example.org") == []
    community.mail.wait_for("member@example.org", ROUNDS + 2)  # confirmation + every reset
