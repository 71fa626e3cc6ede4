"""Dates and ids out of range: a clear 4xx naming the parameter, never a 500, and no stray date
(a list on 9999-12-31) breaking the pages around it."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import select

from dailypapers.members.accounts import create_member
from dailypapers.papers.models import DailyEntry, Paper

from .conftest import Community
from .test_accounts import PASSWORD, csrf_of, log_in

FAR_FUTURE = "9999-12-31"
HUGE_ID = str(2**64)  # beyond 64 bits: SQLite's driver cannot even send it
LARGEST_ID = 2**31 - 1  # ids are INTEGER columns: 32 bits on PostgreSQL


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"month": "9999-12"}, "month"),
        ({"week": "9999-W52"}, "week"),
        ({"date": FAR_FUTURE}, "date"),
        ({"month": "0001-01"}, "month"),
        ({"date": "1900-01-01"}, "date"),
    ],
)
def test_api_periods_out_of_range_are_400(
    client: httpx.Client, params: dict[str, str], name: str
) -> None:
    response = client.get("/api/daily_papers", params=params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error.startswith(f"{name}:") and "out of range" in error and "2100-12-31" in error


@pytest.mark.parametrize(
    "path", ["/papers/month/9999-12", "/papers/week/9999-W52", f"/papers/date/{FAR_FUTURE}"]
)
def test_period_pages_out_of_range_are_404(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404 and "out of range" in response.text


def test_search_dates_out_of_range_are_refused(client: httpx.Client) -> None:
    api = client.get("/api/papers/search", params={"q": "model", "to": FAR_FUTURE})
    assert api.status_code == 400 and api.json()["error"].startswith("to: 9999-12-31 is out")
    page = client.get("/papers", params={"q": "model", "from": "0001-01-01"})
    assert page.status_code == 422 and "out of range" in page.text


def test_a_list_on_9999_12_31_neither_breaks_the_pages_nor_can_be_made(
    community: Community,
) -> None:
    # A far-future list as one could be stored before dates were checked: the pages around
    # it (the latest week and month link to their next list) must still open.
    with community.factory() as session, session.begin():
        paper = session.scalar(select(Paper).where(Paper.arxiv_id == community.arxiv_ids[0]))
        assert paper is not None
        session.execute(
            DailyEntry.__table__.update()
            .where(DailyEntry.paper_id == paper.id)
            .values(featured_date=date(9999, 12, 31))
        )
        create_member(session, "boss", "boss@example.org", PASSWORD, "admin")
    with httpx.Client(base_url=community.url) as http:
        for kind in ("week", "month"):
            latest = http.get(f"/papers/{kind}")
            assert latest.status_code == 302
            page = http.get(latest.headers["location"])
            assert page.status_code == 200, (kind, page.text[-500:])
        assert http.get("/").status_code == 200
        assert http.get("/papers/trending").status_code == 200

        log_in(http, "boss")
        token = csrf_of(http.get("/admin").text)
        refused = http.post(
            "/admin/feature",
            data={"csrf_token": token, "arxiv_id": community.arxiv_ids[1], "day": FAR_FUTURE},
            follow_redirects=True,
        )
        assert refused.status_code == 200
        assert "9999-12-31 is out of range (dates from 1991-01-01 to 2100-12-31)" in refused.text
    with community.factory() as session:
        featured = session.scalar(
            select(DailyEntry.featured_date)
            .join(Paper)
            .where(Paper.arxiv_id == community.arxiv_ids[1])
        )
        assert featured is not None and featured.year < 9999


def test_ids_beyond_64_bits_are_refused_by_name(community: Community) -> None:
    with community.factory() as session, session.begin():
        create_member(session, "boss", "boss@example.org", PASSWORD, "admin")
    arxiv_id = community.arxiv_ids[0]
    with httpx.Client(base_url=community.url) as http:
        log_in(http, "boss")
        token = csrf_of(http.get(f"/papers/{arxiv_id}").text)
        forms = {
            "/comments/{}/edit": "comment_id",
            "/comments/{}/delete": "comment_id",
            "/comments/{}/hide": "comment_id",
            "/comments/{}/unhide": "comment_id",
            "/admin/comments/{}/hide": "comment_id",
            "/admin/members/{}": "member_id",
            "/admin/proposals/{}/accept": "proposal_id",
            "/settings/tokens/{}/delete": "token_id",
        }
        for too_large in (HUGE_ID, str(LARGEST_ID + 1)):
            for path, name in forms.items():
                response = http.post(
                    path.format(too_large), data={"csrf_token": token, "body": "x", "action": "x"}
                )
                assert response.status_code == 422, (path, too_large, response.status_code)
                assert name in response.text and "Traceback" not in response.text, path
        reply = http.post(
            f"/papers/{arxiv_id}/comments",
            data={"csrf_token": token, "body": "a reply", "parent_id": HUGE_ID},
        )
        assert reply.status_code == 422 and "parent_id" in reply.text
        api_reply = http.post(
            f"/api/papers/{arxiv_id}/comments",
            json={"body": "a reply", "parentId": 2**64},
            headers={"X-CSRF-Token": token},
        )
        assert api_reply.status_code == 422 and "parentId" in api_reply.json()["error"]
        # The largest id is in range: unknown, so the usual 404.
        largest = http.post(f"/comments/{LARGEST_ID}/edit", data={"csrf_token": token})
        assert largest.status_code == 404 and "does not exist" in largest.text
