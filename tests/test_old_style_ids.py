"""Old-style arXiv ids (`hep-th/9901001`, with a slash) work on every route that takes an id:
the paper, votes, comments, links and similar papers, from the API and from the page's forms."""

from __future__ import annotations

import json
import re

import httpx

from dailypapers.members.accounts import create_member
from dailypapers.papers.importing import load_file

from .conftest import Community
from .test_accounts import PASSWORD, csrf_of, log_in

OLD_STYLE = "hep-th/9901001"


def add_old_style_paper(community: Community) -> None:
    source = community.settings.data_dir / "old-style.jsonl"
    row = {
        "arxiv_id": f"{OLD_STYLE}v2",
        "title": "Large N field theories, string theory and gravity",
        "authors": ["Ann Lee"],
        "published": "1999-01-01",
        "featured_date": "2025-01-06",
        "categories": ["hep-th"],
    }
    source.write_text(json.dumps(row) + "\n")
    assert load_file(community.factory, source, community.settings.zone).counts.new == 1


def test_every_route_with_an_id_takes_an_old_style_one(community: Community) -> None:
    add_old_style_paper(community)
    with community.factory() as session, session.begin():
        create_member(session, "curie", "curie@example.org", PASSWORD, "curator")
    with httpx.Client(base_url=community.url) as http:
        assert http.get(f"/api/papers/{OLD_STYLE}").json()["id"] == OLD_STYLE
        page = http.get(f"/papers/{OLD_STYLE}")
        assert page.status_code == 200 and "Large N field theories" in page.text
        assert http.get(f"/api/papers/{OLD_STYLE}/similar").json() == []
        assert http.get(f"/api/papers/{OLD_STYLE}/comments").json() == []

        log_in(http, "curie")
        page = http.get(f"/papers/{OLD_STYLE}").text
        token = csrf_of(page)
        headers = {"X-CSRF-Token": token}
        for action in ("upvote", "comments", "links"):
            assert f'action="/papers/{OLD_STYLE}/{action}"' in page

        # Votes: the API (as app.js calls it, the slash escaped, and plainly) and the form.
        voted = http.post(f"/api/papers/{OLD_STYLE.replace('/', '%2F')}/upvote", headers=headers)
        assert voted.status_code == 200 and voted.json() == {"upvoted": True, "upvotes": 1}
        taken_back = http.delete(f"/api/papers/{OLD_STYLE}/upvote", headers=headers)
        assert taken_back.json() == {"upvoted": False, "upvotes": 0}
        form = http.post(f"/papers/{OLD_STYLE}/upvote", data={"csrf_token": token})
        assert form.status_code == 303 and form.headers["location"] == f"/papers/{OLD_STYLE}"
        assert http.get(f"/api/papers/{OLD_STYLE}").json()["upvotes"] == 1

        # Comments: the API and the form.
        made = http.post(
            f"/api/papers/{OLD_STYLE}/comments", json={"body": "From the API"}, headers=headers
        )
        assert made.status_code == 201
        reply = http.post(
            f"/papers/{OLD_STYLE}/comments",
            data={"csrf_token": token, "body": "From the form", "parent_id": made.json()["id"]},
        )
        assert reply.status_code == 303
        assert re.fullmatch(rf"/papers/{OLD_STYLE}#comment-\d+", reply.headers["location"])
        thread = http.get(f"/api/papers/{OLD_STYLE}/comments").json()
        assert [c["body"] for c in thread] == ["From the API"]
        assert [r["body"] for r in thread[0]["replies"]] == ["From the form"]

        # Links (a curator may set them).
        links = http.post(
            f"/papers/{OLD_STYLE}/links",
            data={"csrf_token": token, "github_url": "https://github.com/x/adscft"},
        )
        assert links.status_code == 303
        assert http.get(f"/api/papers/{OLD_STYLE}").json()["githubRepo"] == (
            "https://github.com/x/adscft"
        )
        # An id that is no paper still gets the usual answers.
        assert http.get("/api/papers/hep-th/9901002/comments").status_code == 404
        assert http.post("/api/papers/nope/x/upvote", headers=headers).status_code == 400
