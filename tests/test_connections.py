"""Pages that connect: authors, categories, members and Hugging Face's submitters, and the
API's `submittedBy` (read by huggingface_hub)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from huggingface_hub import HfApi
from sqlalchemy import select

from dailypapers.display.filters import author_url, category_url, member_url
from dailypapers.members.accounts import create_member
from dailypapers.members.auth import new_api_token
from dailypapers.members.models import Member
from dailypapers.papers.importing import load_file

from .conftest import Community, MailSink, running_community
from .test_accounts import PASSWORD, csrf_of, log_in


def card_ids(html: str) -> list[str]:
    return re.findall(r'<article class="card[^"]*" data-arxiv-id="([^"]+)"', html)


def newest_first(rows: list[dict[str, Any]]) -> list[str]:
    """The order of the author and category pages: publication date, then featured date,
    newest first, undated last; then the arXiv id."""
    ordered = sorted(rows, key=lambda row: row["arxiv_id"])
    ordered.sort(key=lambda row: row["featured_date"] or "", reverse=True)
    ordered.sort(key=lambda row: row["published"] or "", reverse=True)
    return [row["arxiv_id"] for row in ordered]


def papers_by(hf_rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [row for row in hf_rows if name in (row["authors"] or [])]


# --- authors -----------------------------------------------------------------------------------
def test_author_page_lists_exactly_their_papers_newest_first(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    counts = Counter(name for row in hf_rows for name in row["authors"] or [])
    name = next(name for name, n in counts.most_common() if 10 <= n <= 40)
    theirs = papers_by(hf_rows, name)
    page = client.get(author_url(name))
    assert page.status_code == 200
    assert card_ids(page.text) == newest_first(theirs)
    assert f"{len(theirs)} papers by {name} here" in page.text
    # The most frequent co-author is linked first.
    together = Counter(other for row in theirs for other in set(row["authors"]) - {name})
    top = sorted(together.items(), key=lambda pair: (-pair[1], pair[0]))[0][0]
    links = re.findall(r'<li><a href="(/authors/[^"]+)">', page.text)
    assert links[0] == author_url(top).replace("'", "&#39;")
    assert "https://arxiv.org/search/?searchtype=author&amp;query=" in page.text


def test_author_pages_page_through_many_papers(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    counts = Counter(name for row in hf_rows for name in row["authors"] or [])
    name, total = counts.most_common(1)[0]
    assert total > 50  # more than one page (page_size 50)
    expected = newest_first(papers_by(hf_rows, name))
    first = card_ids(client.get(author_url(name)).text)
    second = card_ids(client.get(author_url(name), params={"page": 2}).text)
    assert first + second == expected[:100]
    past = client.get(author_url(name), params={"page": 99})
    assert past.status_code == 404 and "There is no page 99" in past.text


@pytest.mark.parametrize("name", ["Marc'Aurelio Ranzato", "Bernhard Schölkopf", "Ivan Vulić"])
def test_author_names_with_apostrophes_and_accents(
    client: httpx.Client, hf_rows: list[dict[str, Any]], name: str
) -> None:
    page = client.get(author_url(name))
    assert page.status_code == 200
    assert sorted(card_ids(page.text)) == sorted(r["arxiv_id"] for r in papers_by(hf_rows, name))


def test_unknown_author_is_404_with_a_link_to_search(client: httpx.Client) -> None:
    page = client.get(author_url("Nobody Atall"))
    assert page.status_code == 404
    assert "No paper on this site lists an author named exactly" in page.text
    assert 'href="/papers?q=Nobody+Atall"' in page.text
    # A name differing only in case is another name.
    assert client.get(author_url("ziwei liu")).status_code == 404
    too_long = client.get(author_url("x" * 1001))
    assert too_long.status_code == 404 and "longer than 1000 characters" in too_long.text


# --- categories --------------------------------------------------------------------------------
def test_category_page_counts_and_orders_the_papers(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    listed = [row for row in hf_rows if "cs.RO" in (row["categories"] or [])]
    assert len(listed) > 50
    page = client.get(category_url("cs.RO"))
    assert page.status_code == 200
    assert "Robotics" in page.text
    assert f"{len(listed)} papers listed in cs.RO" in page.text
    assert card_ids(page.text) == newest_first(listed)[:50]
    assert 'href="/feeds/category/cs.RO.rss"' in page.text
    assert client.get("/feeds/category/cs.RO.rss").status_code == 200
    last = (len(listed) + 49) // 50
    assert client.get(category_url("cs.RO"), params={"page": last}).status_code == 200
    assert client.get(category_url("cs.RO"), params={"page": last + 1}).status_code == 404


def test_cross_listed_papers_are_in_the_category(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    crossed = [r for r in hf_rows if "stat.ML" in (r["categories"] or [])[1:]]
    primary = [r for r in hf_rows if (r["categories"] or [None])[0] == "stat.ML"]
    assert crossed
    page = client.get(category_url("stat.ML"))
    assert sorted(card_ids(page.text)) == sorted(r["arxiv_id"] for r in crossed + primary)


@pytest.mark.parametrize("text", ["not a category", "cs.LG;drop", "CS.LG", "x" * 40, "cs..LG"])
def test_what_is_not_a_category_is_404(client: httpx.Client, text: str) -> None:
    page = client.get(f"/papers/category/{text}")
    assert page.status_code == 404
    assert "is not an arXiv category" in page.text


def test_a_category_without_papers_says_so(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    held = {category for row in hf_rows for category in row["categories"] or []}
    empty = [c for c in ("cs.XX", "hep-th", "hep-lat", "cond-mat.supr-con") if c not in held]
    assert len(empty) >= 2
    for category in empty:
        page = client.get(category_url(category))
        assert page.status_code == 200
        assert f"No papers in {category} yet" in page.text and not card_ids(page.text)


# --- members and submitters --------------------------------------------------------------------
IMPORTED = "akhaliq"
ODD_AUTHOR = "Renée O'Neil/Team Ω"


@pytest.fixture
def site(tmp_path: Path, hf_rows: list[dict[str, Any]], mail_sink: MailSink, arxiv_replay: Any):  # type: ignore[no-untyped-def]
    """20 featured papers, 3 more imported as submitted by Hugging Face's `akhaliq` (one with
    an author whose name holds a slash), papers of any age submittable."""
    lenient = {"submission_max_age_days": 36500}
    with running_community(tmp_path, hf_rows, mail_sink, arxiv_replay, **lenient) as community:
        rows = [dict(row) for row in hf_rows if row.get("featured_date")][-23:-20]
        for row in rows:
            row["submitted_by"] = IMPORTED
        rows[0]["authors"] = [*(rows[0]["authors"] or []), ODD_AUTHOR]
        source = tmp_path / "imported.jsonl"
        source.write_text("".join(json.dumps(row) + "\n" for row in rows))
        load_file(community.factory, source, community.settings.zone)
        community.arxiv_ids[:0] = [row["arxiv_id"] for row in rows]
        yield community


def test_imported_submitter_page_and_odd_author_names(site: Community) -> None:
    imported = site.arxiv_ids[:3]
    page = httpx.get(site.url + member_url(IMPORTED))
    assert page.status_code == 200
    assert f"Papers submitted by {IMPORTED} on Hugging Face" in page.text
    assert sorted(card_ids(page.text)) == sorted(imported)
    assert httpx.get(site.url + member_url("nobody-here")).status_code == 404
    odd = httpx.get(site.url + author_url(ODD_AUTHOR))
    assert odd.status_code == 200 and card_ids(odd.text) == [imported[0]]
    # The API names the submitter under both keys, as Hugging Face does.
    day = httpx.get(f"{site.url}/api/papers/{imported[0]}").json()
    assert day["submittedOnDailyBy"]["user"] == day["submittedOnDailyBy"]["name"] == IMPORTED


def test_member_page_submissions_comments_and_upvotes(site: Community) -> None:
    with site.factory() as session, session.begin():
        ada = create_member(session, "ada", "ada@example.org", PASSWORD)
        token = new_api_token(session, ada, "tests")
        create_member(session, "bob", "bob@example.org", PASSWORD)
        gone = create_member(session, "gone", "gone@example.org", PASSWORD)
        gone.disabled = True
    submitted = httpx.post(
        f"{site.url}/api/papers/submit",
        json={"arxiv_id": "1605.08386"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert submitted.status_code == 201, submitted.text
    commented, upvoted = site.arxiv_ids[5], site.arxiv_ids[6]
    with httpx.Client(base_url=site.url) as member, httpx.Client(base_url=site.url) as other:
        log_in(member, "ada")
        log_in(other, "bob")
        csrf = csrf_of(member.get(f"/papers/{commented}").text)
        posted = member.post(
            f"/papers/{commented}/comments", data={"csrf_token": csrf, "body": "Lovely *proof*"}
        )
        comment_id = posted.headers["location"].rsplit("-", 1)[1]
        removed = member.post(
            f"/papers/{commented}/comments", data={"csrf_token": csrf, "body": "Oops, wrong"}
        )
        member.post(
            f"/comments/{removed.headers['location'].rsplit('-', 1)[1]}/delete",
            data={"csrf_token": csrf},
        )
        voted = member.post(
            f"/papers/{upvoted}/upvote", data={"csrf_token": csrf, "action": "up", "next": "/"}
        )
        assert voted.status_code in (200, 303)

        public = httpx.get(site.url + member_url("ada"))
        assert public.status_code == 200
        assert "joined" in public.text and "@ada" in public.text
        submissions = public.text.split('id="submissions"')[1].split('id="comments"')[0]
        assert card_ids(submissions) == ["1605.08386"]
        assert f'href="/papers/{commented}#comment-{comment_id}"' in public.text
        assert "Lovely *proof*" in public.text and "Oops, wrong" not in public.text
        assert 'id="upvotes"' not in public.text  # private until she says otherwise
        assert 'id="upvotes"' not in other.get(member_url("ada")).text

        own = member.get(member_url("ada"))
        assert "My upvotes" in own.text and "Only you can see this list" in own.text
        assert card_ids(own.text.split('id="upvotes"')[1]) == [upvoted]

        # Making them public takes the form's CSRF token.
        refused = member.post("/settings/privacy", data={"public_upvotes": "true"})
        assert refused.status_code in (400, 403)
        assert 'id="upvotes"' not in httpx.get(site.url + member_url("ada")).text
        made = member.post("/settings/privacy", data={"csrf_token": csrf, "public_upvotes": "true"})
        assert made.status_code == 303
        shown = httpx.get(site.url + member_url("ada"))
        assert card_ids(shown.text.split('id="upvotes"')[1]) == [upvoted]
        assert "Only you can see" not in shown.text
        member.post("/settings/privacy", data={"csrf_token": csrf})  # unticked: private again
        assert 'id="upvotes"' not in httpx.get(site.url + member_url("ada")).text
    with site.factory() as session:
        assert (
            session.scalar(select(Member.public_upvotes).where(Member.username == "ada")) is False
        )

    # The API and huggingface_hub name the member who submitted.
    today = submitted.json()["submittedOnDailyAt"][:10]
    [item] = httpx.get(f"{site.url}/api/daily_papers", params={"date": today}).json()
    assert item["submittedBy"]["user"] == item["submittedBy"]["name"] == "ada"
    api = HfApi(endpoint=site.url, token=False)
    [paper] = api.list_daily_papers(date=today)
    assert paper.submitted_by is not None and paper.submitted_by.username == "ada"
    assert date.fromisoformat(today) == paper.submitted_at.date()  # type: ignore[union-attr]

    # A paper stored by a submission is found by its authors at once (the triggers).
    by_author = httpx.get(site.url + author_url("Caprice Stanley"))
    assert card_ids(by_author.text) == ["1605.08386"]

    assert httpx.get(site.url + member_url("gone")).status_code == 404
    again = httpx.get(site.url + member_url("ADA"), follow_redirects=False)
    assert again.status_code == 301 and again.headers["location"] == "/members/ada"
