"""Submitting papers by arXiv id or URL, with arXiv replayed from real recorded responses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from dailypapers.arxiv.api import fetch_papers
from dailypapers.arxiv.client import ArxivError, ArxivUnavailable, PoliteClient
from dailypapers.members.accounts import create_member
from dailypapers.members.auth import new_api_token
from dailypapers.papers.records import PaperRecord

from .conftest import Community, MailSink, database_url_for, eventually, running_community
from .test_accounts import PASSWORD, csrf_of, log_in


def member_token(site: Community, username: str, role: str = "member") -> str:
    with site.factory() as session, session.begin():
        member = create_member(session, username, f"{username}@example.org", PASSWORD, role)
        return new_api_token(session, member, "tests")


def submit(site: Community, token: str, arxiv_id: str) -> httpx.Response:
    return httpx.post(f"{site.url}/api/papers/submit", json={"arxiv_id": arxiv_id},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip


@pytest.fixture
def lenient_site(
    tmp_path: Path, hf_rows: list[dict[str, Any]], mail_sink: MailSink, arxiv_replay: Any
):  # type: ignore[no-untyped-def]
    """A site that takes papers of any age and 2 submissions a day per member."""
    lenient = {"submission_max_age_days": 36500, "submissions_per_day": 2}
    with running_community(tmp_path, hf_rows, mail_sink, arxiv_replay, **lenient) as site:
        yield site


def test_submit_fetches_from_arxiv_and_lists_today(lenient_site: Community, arxiv_replay) -> None:
    site = lenient_site
    token = member_token(site, "ada")
    done = submit(site, token, "https://arxiv.org/abs/1605.08386v1")
    assert done.status_code == 201, done.text
    assert done.json()["id"] == "1605.08386"
    assert done.json()["title"] == "Heat-bath random walks with Markov bases"
    [request] = arxiv_replay.requests
    assert request.query["id_list"] == ["1605.08386"]

    paper = httpx.get(f"{site.url}/api/papers/1605.08386").json()
    assert [a["name"] for a in paper["authors"]] == ["Caprice Stanley", "Tobias Windisch"]
    assert paper["submittedOnDailyAt"].startswith(done.json()["submittedOnDailyAt"])
    today = httpx.get(
        f"{site.url}/api/daily_papers", params={"date": done.json()["submittedOnDailyAt"]}
    )
    assert [(i["paper"]["id"], i["submittedBy"]["name"]) for i in today.json()] == [
        ("1605.08386", "ada")
    ]

    again = submit(site, token, "1605.08386")
    assert again.status_code == 409 and "already on the list" in again.json()["error"]
    assert len(arxiv_replay.requests) == 1  # known papers are not fetched again

    def first_hit() -> str | None:
        params = {"q": "heat-bath random walks markov bases"}
        hits = httpx.get(f"{site.url}/api/papers/search", params=params).json()
        return hits[0]["paper"]["id"] if hits else None

    assert eventually(lambda: first_hit() == "1605.08386")  # keyword-searchable within ~1 s


def test_submission_rules_and_arxiv_answers(lenient_site: Community, arxiv_replay) -> None:
    site = lenient_site
    token = member_token(site, "grace")
    # arXiv answers an empty feed for a well-formed id it does not have (recorded response)
    unknown = submit(site, token, "2101.99999")
    assert unknown.status_code == 409 and "arXiv has no paper 2101.99999" in unknown.json()["error"]
    malformed = submit(site, token, "../../etc/passwd")
    assert malformed.status_code == 409 and "arXiv id" in malformed.json()["error"]
    assert len(arxiv_replay.requests) == 1  # a malformed id never reaches arXiv

    assert submit(site, token, "astro-ph/0601001").status_code == 201
    assert submit(site, token, "1707.08567").status_code == 201  # 34 authors, non-ASCII names
    third = submit(site, token, "2104.12255")
    assert third.status_code == 409 and "submitted 2 papers today" in third.json()["error"]
    curator = member_token(site, "curie", role="curator")
    assert submit(site, curator, "2104.12255").status_code == 201  # curators are exempt

    arxiv_replay.mode = "down"
    down = submit(site, curator, "1312.2021")
    assert down.status_code == 409 and "arXiv is not answering" in down.json()["error"]
    arxiv_replay.mode = "reset"
    reset = submit(site, curator, "1312.2021")
    assert reset.status_code == 409 and "arXiv is not answering" in reset.json()["error"]
    arxiv_replay.mode = "normal"
    assert submit(site, curator, "1312.2021").status_code == 201

    # Politeness: at least the configured interval between requests, one connection.
    times = [seen.at for seen in arxiv_replay.requests]
    assert all(b - a >= 0.19 for a, b in zip(times, times[1:], strict=False))
    normal = [seen.client_port for seen in arxiv_replay.requests if seen.query]
    assert len(set(normal[:4])) == 1


def test_old_papers_are_refused_to_members(community: Community) -> None:
    token = member_token(community, "alan")
    old = submit(community, token, "1605.08386")
    assert old.status_code == 409
    assert "first published on May 26, 2016" in old.json()["error"]
    assert "older than 14 days" in old.json()["error"]
    # The fetched paper is kept (it is real), but not on the list.
    assert httpx.get(f"{community.url}/api/papers/1605.08386").status_code == 200


def test_submit_page(community: Community) -> None:
    with httpx.Client(base_url=community.url) as http:
        assert http.get("/submit").headers.get("location", "").startswith("/login?next=/submit")
        with community.factory() as session, session.begin():
            create_member(session, "lise", "lise@example.org", PASSWORD, "curator")
        log_in(http, "lise")
        form = http.get("/submit")
        assert form.status_code == 200 and "arXiv id or URL" in form.text
        done = http.post(
            "/submit", data={"csrf_token": csrf_of(form.text), "arxiv_id": "arXiv:1605.08386"}
        )
        assert done.status_code == 200 and "Heat-bath random walks with Markov bases" in done.text
        refused = http.post(
            "/submit", data={"csrf_token": csrf_of(form.text), "arxiv_id": "1605.08386"}
        )
        assert refused.status_code == 409 and "already on the list" in refused.text
        forged = http.post("/submit", data={"arxiv_id": "1707.08567"})
        assert forged.status_code == 403


def test_arxiv_api_parsing(arxiv_replay) -> None:
    client = PoliteClient(interval=0, contact_url="http://test")
    try:
        with pytest.raises(ArxivError, match="incorrect id format for abc"):
            fetch_papers(client, arxiv_replay.api_url, ["abc"])
        found = fetch_papers(client, arxiv_replay.api_url, ["hep-ex/0406020"])
        record = found["hep-ex/0406020"]
        assert isinstance(record, PaperRecord) and record.version == 1 and record.authors
        assert fetch_papers(client, arxiv_replay.api_url, ["2101.99999"]) == {}
        arxiv_replay.mode = "down"
        with pytest.raises(ArxivUnavailable, match="503"):
            fetch_papers(client, arxiv_replay.api_url, ["1605.08386"])
    finally:
        client.close()


def test_cli_submit(community: Community, arxiv_replay) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    with community.factory() as session, session.begin():
        create_member(session, "lise", "lise@example.org", PASSWORD)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(DAILYPAPERS_DATA_DIR=str(community.settings.data_dir),
        DAILYPAPERS_DATABASE_URL=database_url_for(community.settings.data_dir),
               DAILYPAPERS_ARXIV_API_URL=arxiv_replay.api_url, COLUMNS="200")  # fmt: skip

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dailypapers", "submit", *args], env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    done = cli("1605.08386", "arXiv:astro-ph/0601001", "--as", "lise")
    assert done.returncode == 0, done.stderr
    assert "Heat-bath random walks with Markov bases" in done.stderr
    paper = httpx.get(f"{community.url}/api/papers/astro-ph/0601001").json()
    assert paper["submittedOnDailyBy"]["name"] == "lise"
    again = cli("1605.08386", "not-an-id")
    assert again.returncode == 1
    assert "already on the list" in again.stderr and "not-an-id" in again.stderr
    assert "2 of 2 papers were not submitted" in again.stderr
    assert cli("1605.08386", "--as", "nobody").returncode == 1
