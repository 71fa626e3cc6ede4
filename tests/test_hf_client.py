"""The real `huggingface_hub` client talks to our server as if it were Hugging Face."""

from __future__ import annotations

from datetime import date

from huggingface_hub import HfApi


def test_list_daily_papers_and_paper_info(live_server, hf_rows) -> None:
    api = HfApi(endpoint=live_server.url, token=False)
    day = "2025-10-02"
    expected = {row["arxiv_id"]: row for row in hf_rows if row["featured_date"] == day}

    papers = list(api.list_daily_papers(date=day, limit=100))
    assert {paper.id for paper in papers} == set(expected)
    for paper in papers:
        row = expected[paper.id]
        assert paper.title == row["title"]
        assert [author.name for author in paper.authors or []] == row["authors"]
        assert (paper.upvotes or 0) == (row["upvotes"] or 0)
        assert paper.submitted_at is not None and paper.submitted_at.date() == date(2025, 10, 2)
        if row["published"]:
            assert paper.published_at is not None
            assert paper.published_at.date() == date.fromisoformat(row["published"])

    info = api.paper_info("2510.00184")
    row = expected["2510.00184"]
    assert info.id == "2510.00184"
    assert info.title == row["title"]
    assert [author.name for author in info.authors or []] == row["authors"]
    assert info.upvotes == row["upvotes"]
    assert (
        info.published_at is not None and info.published_at.date().isoformat() == row["published"]
    )
    assert info.submitted_at is not None and info.submitted_at.date() == date(2025, 10, 2)


def test_week_month_and_trending_through_the_client(live_server, hf_rows) -> None:
    api = HfApi(endpoint=live_server.url, token=False)
    week = list(api.list_daily_papers(week="2025-W40", limit=100))
    assert week and all(p.submitted_at and p.submitted_at.isocalendar()[:2] == (2025, 40)
                        for p in week)  # fmt: skip
    month = list(api.list_daily_papers(month="2025-09", limit=5, sort="trending"))
    assert len(month) == 5


def test_unknown_paper_raises_not_found(live_server) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(endpoint=live_server.url, token=False)
    try:
        api.paper_info("2501.99999")
    except HfHubHTTPError as error:
        assert error.response.status_code == 404
    else:
        raise AssertionError("paper_info should raise for an unknown paper")


def test_list_papers_searches(live_server) -> None:
    api = HfApi(endpoint=live_server.url, token=False)
    papers = list(api.list_papers(query="transformers learn multiplication reverse", limit=5))
    assert papers and papers[0].id == "2510.00184"
    assert papers[0].title is not None and "Multiplication" in papers[0].title
