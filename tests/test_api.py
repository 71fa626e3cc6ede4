"""The JSON API over real HTTP, checked against the real data the site was loaded from."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import date
from typing import Any

import httpx
import pytest

from .conftest import BACKEND


def iso_week(day: str) -> tuple[int, int]:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return year, week


def featured_on(hf_rows: list[dict[str, Any]], day: str) -> list[dict[str, Any]]:
    return [row for row in hf_rows if row["featured_date"] == day]


def latest_day(hf_rows: list[dict[str, Any]]) -> str:
    return max(row["featured_date"] for row in hf_rows if row["featured_date"])


def by_upvotes(rows: list[dict[str, Any]]) -> list[str]:
    return [
        r["arxiv_id"] for r in sorted(rows, key=lambda r: (-(r["upvotes"] or 0), r["arxiv_id"]))
    ]


def test_a_day_returns_exactly_that_days_papers_in_hf_shape(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    day = "2025-10-02"
    expected = {row["arxiv_id"]: row for row in featured_on(hf_rows, day)}
    response = client.get("/api/daily_papers", params={"date": day, "limit": 100})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    items = response.json()
    assert {item["paper"]["id"] for item in items} == set(expected)
    for item in items:
        row = expected[item["paper"]["id"]]
        paper = item["paper"]
        assert item["title"] == paper["title"] == row["title"]
        assert paper["summary"] == row["abstract"]
        assert [author["name"] for author in paper["authors"]] == row["authors"]
        assert paper["upvotes"] == (row["upvotes"] or 0)
        assert paper["githubRepo"] == row["github_url"]
        assert paper["submittedOnDailyAt"] == f"{day}T00:00:00.000Z"
        assert item["publishedAt"] == f"{day}T00:00:00.000Z"
        assert paper["featuredDate"] == day
        if row["published"]:
            assert paper["publishedAt"] == f"{row['published']}T00:00:00.000Z"
        # Only comments readable here are counted; Hugging Face's count is labelled apart.
        assert item["numComments"] == 0
        assert paper["importedComments"] == (row.get("num_comments") or 0)
        assert set(item) >= {"paper", "publishedAt", "title", "summary", "numComments",
                             "submittedBy", "isAuthorParticipating"}  # fmt: skip


def test_default_list_is_newest_featured_first_and_pages(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    first = client.get("/api/daily_papers", params={"limit": 10}).json()
    assert len(first) == 10
    assert {item["paper"]["featuredDate"] for item in first} == {latest_day(hf_rows)}
    second = client.get("/api/daily_papers", params={"limit": 10, "p": 1}).json()
    assert not {i["paper"]["id"] for i in first} & {i["paper"]["id"] for i in second}
    dates = [i["paper"]["featuredDate"] for i in first + second]
    assert dates == sorted(dates, reverse=True)


def test_week_and_month_cover_their_days(client: httpx.Client, hf_rows) -> None:
    week = client.get("/api/daily_papers", params={"week": "2025-W40", "limit": 100}).json()
    expected_week = [
        r for r in hf_rows
        if r["featured_date"] and iso_week(r["featured_date"]) == (2025, 40)
    ]  # fmt: skip
    assert len(week) == min(len(expected_week), 100)
    assert all(date.fromisoformat(i["paper"]["featuredDate"]).isocalendar()[:2] == (2025, 40)
               for i in week)  # fmt: skip

    month_rows = [r for r in hf_rows if (r["featured_date"] or "").startswith("2024-02")]
    seen: list[str] = []
    for page in range(0, 20):
        chunk = client.get(
            "/api/daily_papers", params={"month": "2024-02", "limit": 100, "p": page}
        ).json()
        seen += [item["paper"]["id"] for item in chunk]
        if len(chunk) < 100:
            break
    assert Counter(seen) == Counter(r["arxiv_id"] for r in month_rows)


def test_trending_ranks_by_documented_score(client: httpx.Client, hf_rows) -> None:
    from dailypapers.papers.trending import trending_score

    day = latest_day(hf_rows)
    items = client.get("/api/daily_papers", params={"sort": "trending", "limit": 100}).json()
    assert items
    anchor = date.fromisoformat(day)
    scores = [
        trending_score(
            i["paper"]["upvotes"], i["paper"]["githubStars"],
            date.fromisoformat(i["paper"]["featuredDate"]), anchor,
        )
        for i in items
    ]  # fmt: skip
    assert scores == sorted(scores, reverse=True)
    assert all((anchor - date.fromisoformat(i["paper"]["featuredDate"])).days < 14 for i in items)


def test_submitter_filter(client: httpx.Client) -> None:
    assert client.get("/api/daily_papers", params={"submitter": "nobody-here"}).json() == []


def test_paper_by_id_in_any_form(client: httpx.Client, hf_rows) -> None:
    row = next(r for r in hf_rows if r["arxiv_id"] == "2510.00184")
    for form in ("2510.00184", "2510.00184v2", "arXiv:2510.00184"):
        response = client.get(f"/api/papers/{form}")
        assert response.status_code == 200, form
        paper = response.json()
        assert paper["id"] == "2510.00184"
        assert paper["title"] == row["title"]
        assert paper["upvotes"] == row["upvotes"]


@pytest.mark.parametrize(
    ("path", "params", "status", "names"),
    [
        ("/api/daily_papers", {"date": "2025-13-45"}, 400, "date"),
        ("/api/daily_papers", {"date": "yesterday"}, 400, "date"),
        ("/api/daily_papers", {"week": "2025-W60"}, 400, "week"),
        ("/api/daily_papers", {"month": "2025-00"}, 400, "month"),
        ("/api/daily_papers", {"date": "2025-01-01", "week": "2025-W01"}, 400, "date, week"),
        ("/api/daily_papers", {"limit": "0"}, 422, "limit"),
        ("/api/daily_papers", {"limit": "10000"}, 422, "limit"),
        ("/api/daily_papers", {"limit": "ten"}, 422, "limit"),
        ("/api/daily_papers", {"p": "-1"}, 422, "p"),
        ("/api/daily_papers", {"sort": "random"}, 422, "sort"),
        ("/api/papers", {"cursor": "not-a-cursor"}, 400, "cursor"),
        ("/api/papers", {"limit": "101"}, 422, "limit"),
        ("/api/papers/9999.99999", {}, 400, "arxiv_id"),
        ("/api/papers/..%2F..%2Fetc%2Fpasswd", {}, 400, "arxiv_id"),
        ("/api/papers/%00", {}, 400, "arxiv_id"),
    ],
)
def test_bad_parameters_get_a_json_error_naming_them(
    client: httpx.Client, path: str, params: dict[str, str], status: int, names: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status
    assert response.json()["error"].startswith(names)


def test_unknown_paper_is_404(client: httpx.Client) -> None:
    response = client.get("/api/papers/2501.99999")
    assert response.status_code == 404
    assert "2501.99999" in response.json()["error"]


def test_cursor_pagination_walks_papers_by_publication_date(client: httpx.Client, hf_rows) -> None:
    seen: list[tuple[str, str]] = []
    url: str | None = "/api/papers?limit=100"
    for _ in range(3):
        assert url is not None
        response = client.get(url)
        assert response.status_code == 200
        seen += [(p["publishedAt"], p["id"]) for p in response.json()]
        url = response.links.get("next", {}).get("url")
    assert len(seen) == 300 and len(set(seen)) == 300
    assert seen == sorted(seen, reverse=True)
    newest = max(r["published"] for r in hf_rows if r["published"])
    assert seen[0][0] == f"{newest}T00:00:00.000Z"


def test_only_cursors_the_api_gave_are_accepted(client: httpx.Client) -> None:
    given = client.get("/api/papers?limit=2").links["next"]["url"]
    cursor = httpx.URL(given).params["cursor"]
    assert client.get("/api/papers", params={"cursor": cursor, "limit": 2}).status_code == 200
    # Well-formed positions nobody was given: the old unsigned form, and a signed one edited.
    forgeries = [base64.urlsafe_b64encode(b"2025-09-30|2510.00184").decode()]
    if "." in cursor:
        payload, signature = cursor.rsplit(".", 1)
        edited = base64.urlsafe_b64encode(b'["2099-01-01","2510.00184"]').decode().rstrip("=")
        forgeries += [f"{edited}.{signature}", f"{payload}.{signature[::-1]}"]
    for forged in forgeries:
        response = client.get("/api/papers", params={"cursor": forged})
        assert response.status_code == 400, forged
        assert response.json()["error"] == "cursor: not a cursor given by this API"
    assert len(forgeries) == 3


def test_openapi_and_health(client: httpx.Client, hf_rows: list[dict[str, Any]]) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/daily_papers", "/api/papers", "/api/papers/{arxiv_id}"} <= set(spec["paths"])
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    # the shared site's 13.7k papers are all in the keyword index; none is embedded in tests;
    # on PostgreSQL the dense index is pgvector's HNSW graph, on SQLite exact search
    assert health.json()["search"] == {
        "keyword_papers": len({row["arxiv_id"] for row in hf_rows}),
        "dense_vectors": 0,
        "dense_ann": BACKEND == "postgresql",
    }


def test_security_headers_on_api_and_pages(client: httpx.Client) -> None:
    for path in ("/api/daily_papers?limit=1", "/"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
