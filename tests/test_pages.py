"""Server-rendered pages over real HTTP: the feed, navigation, paper pages, escaping, 404s."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dailypapers.papers.importing import load_file

from .conftest import LiveServer, make_settings, prepare_database


def card_ids(html: str) -> list[str]:
    return re.findall(r'<article class="card" data-arxiv-id="([^"]+)"', html)


def iso_week(day: str) -> tuple[int, int]:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return year, week


def featured_dates(hf_rows: list[dict[str, Any]]) -> list[str]:
    return sorted({row["featured_date"] for row in hf_rows if row["featured_date"]})


def expected_order(hf_rows: list[dict[str, Any]], day: str) -> list[str]:
    rows = [row for row in hf_rows if row["featured_date"] == day]
    return [
        r["arxiv_id"] for r in sorted(rows, key=lambda r: (-(r["upvotes"] or 0), r["arxiv_id"]))
    ]


def test_home_shows_the_latest_day_by_upvotes(client: httpx.Client, hf_rows) -> None:
    latest = featured_dates(hf_rows)[-1]
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert card_ids(response.text) == expected_order(hf_rows, latest)[:50]


def test_previous_and_next_skip_days_without_papers(client: httpx.Client, hf_rows) -> None:
    days = featured_dates(hf_rows)
    # a featured day whose calendar neighbours have no papers, so skipping is visible
    index = next(
        i for i in range(1, len(days) - 1)
        if date.fromisoformat(days[i]) - date.fromisoformat(days[i - 1]) > timedelta(days=1)
        and date.fromisoformat(days[i + 1]) - date.fromisoformat(days[i]) > timedelta(days=1)
    )  # fmt: skip
    html = client.get(f"/papers/date/{days[index]}").text
    assert card_ids(html) == expected_order(hf_rows, days[index])[:50]
    assert f'rel="prev" href="/papers/date/{days[index - 1]}"' in html
    assert f'rel="next" href="/papers/date/{days[index + 1]}"' in html


def test_a_day_without_papers_says_so_and_links_onwards(client: httpx.Client, hf_rows) -> None:
    days = set(featured_dates(hf_rows))
    empty = next(
        d for d in (date(2025, 1, 1) + timedelta(days=n) for n in range(400))
        if d.isoformat() not in days
    )  # fmt: skip
    response = client.get(f"/papers/date/{empty.isoformat()}")
    assert response.status_code == 200
    assert card_ids(response.text) == []
    assert "No papers were featured on this day" in response.text
    assert 'rel="prev"' in response.text and 'rel="next"' in response.text


def test_week_and_month_pages_count_their_papers(client: httpx.Client, hf_rows) -> None:
    in_month = [r for r in hf_rows if (r["featured_date"] or "").startswith("2025-09")]
    html = client.get("/papers/month/2025-09").text
    assert f"{len(in_month)} papers" in html
    assert len(card_ids(html)) == min(len(in_month), 50)
    page2 = client.get("/papers/month/2025-09", params={"page": 2}).text
    assert not set(card_ids(html)) & set(card_ids(page2))

    in_week = [
        r for r in hf_rows
        if r["featured_date"] and iso_week(r["featured_date"]) == (2025, 40)
    ]  # fmt: skip
    assert f"{len(in_week)} papers" in client.get("/papers/week/2025-W40").text


def test_latest_week_and_month_redirect(client: httpx.Client, hf_rows) -> None:
    latest = date.fromisoformat(featured_dates(hf_rows)[-1])
    year, week, _ = latest.isocalendar()
    assert client.get("/papers/week").headers["location"] == f"/papers/week/{year}-W{week:02d}"
    assert client.get("/papers/month").headers["location"] == f"/papers/month/{latest:%Y-%m}"


def test_sorting_options(client: httpx.Client, hf_rows) -> None:
    day = featured_dates(hf_rows)[-1]
    newest = client.get(f"/papers/date/{day}", params={"sort": "trending"})
    assert newest.status_code == 200 and set(card_ids(newest.text)) == set(
        expected_order(hf_rows, day)[:50]
    )
    bad = client.get(f"/papers/date/{day}", params={"sort": "random"})
    assert bad.status_code == 400 and "sort must be one of" in bad.text and "<html" in bad.text


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("/papers/date/2025-13-45", "YYYY-MM-DD"),
        ("/papers/date/2025-02-30", "not a date on the calendar"),
        ("/papers/week/2025-W60", "has no week 60"),
        ("/papers/month/2025-13", "YYYY-MM"),
        ("/papers/9999.99999", "not a month"),
        ("/papers/..%2F..%2Fetc%2Fpasswd", "not an arXiv id"),
        ("/no/such/page", "There is no page"),
    ],
)
def test_bad_urls_get_a_helpful_404(client: httpx.Client, path: str, hint: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert hint in response.text
    assert 'href="/"' in response.text
    assert "Traceback" not in response.text


def test_paper_page_and_canonical_redirect(client: httpx.Client, hf_rows) -> None:
    row = next(r for r in hf_rows if r["arxiv_id"] == "2510.00184")
    page = client.get("/papers/2510.00184")
    assert page.status_code == 200
    assert "Why Can&#39;t Transformers Learn Multiplication?" in page.text
    assert all(name in page.text for name in row["authors"])
    assert 'href="https://arxiv.org/pdf/2510.00184"' in page.text
    assert f'href="/papers/date/{row["featured_date"]}"' in page.text
    redirect = client.get("/papers/2510.00184v2")
    assert redirect.status_code == 301 and redirect.headers["location"] == "/papers/2510.00184"
    missing = client.get("/papers/2501.99999")
    assert missing.status_code == 404 and "https://arxiv.org/abs/2501.99999" in missing.text


def test_trending_and_its_explanation(client: httpx.Client) -> None:
    trending = client.get("/papers/trending")
    assert trending.status_code == 200 and len(card_ids(trending.text)) > 0
    about = client.get("/about/trending")
    assert about.status_code == 200 and "log₁₀(1 + GitHub stars)" in about.text


HOSTILE = {
    "arxiv_id": "2501.00001",
    "title": "<script>alert('title')</script> Bounds for $x<y$ and $\\alpha^{2}$",
    "abstract": "We show <img src=x onerror=alert(1)> that $O(n^2)$ holds for 97\\% of </p>cases.",
    "authors": ["<b onmouseover=alert(1)>Eve</b>", "Zoë Ω"],
    "published": "2025-01-02",
    "featured_date": "2025-01-03",
    "upvotes": 3,
    "github_url": 'https://github.com/x/y"><script>alert(2)</script>',
    "categories": ["cs.LG"],
}


def test_text_from_outside_is_escaped_and_latex_shown(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    source = tmp_path / "hostile.jsonl"
    source.write_text(json.dumps(HOSTILE) + "\n")
    assert load_file(factory, source, settings.zone).counts.new == 1
    engine.dispose()
    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        for path in ("/", "/papers/2501.00001", "/papers/date/2025-01-03"):
            html = http.get(path).text
            assert "<script>alert" not in html and "<img src=x" not in html
            assert "<b onmouseover" not in html
            assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
        paper = http.get("/papers/2501.00001").text
        assert '<span class="math">x&lt;y</span>' in paper
        assert '<span class="math">α<sup>2</sup></span>' in paper
        assert "97% of &lt;/p&gt;cases" in paper
        assert "Zoë Ω" in paper
        api = http.get("/api/papers/2501.00001").json()
        assert api["title"] == HOSTILE["title"]  # stored and served as given
