"""Comments, links and curation over real HTTP."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from dailypapers.curation.models import CurationLogEntry
from dailypapers.discussion.markdown import render
from dailypapers.discussion.models import Comment
from dailypapers.members.accounts import create_member
from dailypapers.members.auth import new_api_token
from dailypapers.members.models import Member
from dailypapers.papers.models import Paper

from .conftest import Community
from .test_accounts import PASSWORD, csrf_of, log_in


def test_markdown_is_rendered_and_sanitised() -> None:
    html = render("**bold** [ok](https://example.org) [bad](javascript:alert(1)) <b>raw</b>")
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.org" rel="nofollow noopener ugc">ok</a>' in html
    assert 'href="javascript' not in html and "<b>" not in html and "&lt;b&gt;raw" in html


def test_markdown_keeps_what_the_editor_promises() -> None:
    html = render("~~gone~~ and **kept**\n\n# Results\n\n## Setup\n\n###### Aside\n\nText")
    assert "<s>gone</s>" in html
    # Headings stay headings, below the page's own h1/h2: # → h3, ## → h4, down to h6.
    assert "<h3>Results</h3>" in html and "<h4>Setup</h4>" in html and "<h6>Aside</h6>" in html
    table = render("| a | b |\n|---|:-:|\n| 1 | 2 |")
    assert "<table>" in table and "<td>2</td>" in table and "style" not in table


def test_comment_thread_edit_delete_hide_and_counts(community: Community) -> None:
    arxiv_id = community.arxiv_ids[0]
    with community.factory() as session, session.begin():
        create_member(session, "ada", "ada@example.org", PASSWORD)
        create_member(session, "curie", "curie@example.org", PASSWORD, "curator")
    base = httpx.get(f"{community.url}/api/papers/{arxiv_id}").json()["numComments"]

    def num_comments() -> int:
        return httpx.get(f"{community.url}/api/papers/{arxiv_id}").json()["numComments"]

    with httpx.Client(base_url=community.url) as ada, httpx.Client(base_url=community.url) as curie:
        log_in(ada, "ada")
        log_in(curie, "curie")
        page = ada.get(f"/papers/{arxiv_id}")
        token = csrf_of(page.text)
        posted = ada.post(
            f"/papers/{arxiv_id}/comments", data={"csrf_token": token, "body": "Nice **result**"}
        )
        assert posted.status_code == 303 and "#comment-" in posted.headers["location"]
        first = int(posted.headers["location"].rsplit("-", 1)[1])
        reply = ada.post(
            f"/papers/{arxiv_id}/comments",
            data={"csrf_token": token, "body": "a reply", "parent_id": str(first)},
        )
        second = int(reply.headers["location"].rsplit("-", 1)[1])
        # A reply to a reply joins the thread (one level).
        ada.post(
            f"/papers/{arxiv_id}/comments",
            data={"csrf_token": token, "body": "deeper", "parent_id": str(second)},
        )
        thread = httpx.get(f"{community.url}/api/papers/{arxiv_id}/comments").json()
        assert [c["body"] for c in thread] == ["Nice **result**"]
        assert [r["body"] for r in thread[0]["replies"]] == ["a reply", "deeper"]
        assert "<strong>result</strong>" in thread[0]["html"]
        assert num_comments() == base + 3

        empty = ada.post(
            f"/papers/{arxiv_id}/comments",
            data={"csrf_token": token, "body": "  "},
            follow_redirects=True,
        )
        assert "the comment is empty" in empty.text
        assert (
            ada.post(
                f"/comments/{first}/edit", data={"csrf_token": token, "body": "Edited"}
            ).status_code
            == 303
        )
        not_mine = curie.post(
            f"/comments/{first}/edit",
            data={"csrf_token": csrf_of(curie.get("/").text), "body": "x"},
            follow_redirects=True,
        )
        assert "Only its author" in not_mine.text
        page = ada.get(f"/papers/{arxiv_id}").text
        assert "Edited" in page and "edited" in page

        curie_token = csrf_of(curie.get(f"/papers/{arxiv_id}").text)
        assert (
            curie.post(f"/comments/{second}/hide", data={"csrf_token": curie_token}).status_code
            == 303
        )
        assert num_comments() == base + 2
        assert "a reply" not in httpx.get(f"{community.url}/papers/{arxiv_id}").text
        assert "hidden by the curators" in curie.get(f"/papers/{arxiv_id}").text
        member_hide = ada.post(f"/comments/{first}/hide", data={"csrf_token": token})
        assert member_hide.status_code == 403
        assert ada.post(f"/comments/{first}/delete", data={"csrf_token": token}).status_code == 303
        assert num_comments() == base + 1
        # The deleted comment keeps its thread (its reply "deeper" is still there).
        thread = httpx.get(f"{community.url}/api/papers/{arxiv_id}/comments").json()
        assert thread[0]["deleted"] and [r["body"] for r in thread[0]["replies"]] == ["deeper"]

    with community.factory() as session:
        paper = session.scalar(select(Paper).where(Paper.arxiv_id == arxiv_id))
        visible = session.scalar(
            select(func.count()).where(
                Comment.paper_id == paper.id,
                Comment.deleted_at.is_(None),
                Comment.hidden_at.is_(None),
            )
        )
        assert paper.comment_count == visible == 1
        actions = session.scalars(select(CurationLogEntry.action)).all()
        assert actions == ["hide comment"]


def test_comment_api_with_token(community: Community) -> None:
    arxiv_id = community.arxiv_ids[2]
    with community.factory() as session, session.begin():
        member = create_member(session, "bot", "bot@example.org", PASSWORD)
        token = new_api_token(session, member, "t")
    headers = {"Authorization": f"Bearer {token}"}
    made = httpx.post(
        f"{community.url}/api/papers/{arxiv_id}/comments",
        json={"body": "from a program"},
        headers=headers,
    )
    assert made.status_code == 201 and made.json()["html"] == "<p>from a program</p>\n"
    too_long = httpx.post(
        f"{community.url}/api/papers/{arxiv_id}/comments",
        json={"body": "x" * 10_001},
        headers=headers,
    )
    assert too_long.status_code == 422 and "at most 10,000 characters" in too_long.json()["error"]
    anonymous = httpx.post(f"{community.url}/api/papers/{arxiv_id}/comments", json={"body": "x"})
    assert anonymous.status_code == 401


def test_links_by_submitter_or_curator(community: Community, arxiv_replay) -> None:  # type: ignore[no-untyped-def]
    arxiv_id = community.arxiv_ids[3]
    with community.factory() as session, session.begin():
        create_member(session, "ada", "ada@example.org", PASSWORD)
        create_member(session, "curie", "curie@example.org", PASSWORD, "curator")
    with httpx.Client(base_url=community.url) as ada, httpx.Client(base_url=community.url) as curie:
        log_in(ada, "ada")
        log_in(curie, "curie")
        token = csrf_of(ada.get("/").text)
        refused = ada.post(
            f"/papers/{arxiv_id}/links",
            data={"csrf_token": token, "github_url": "https://github.com/a/b"},
        )
        assert refused.status_code == 403
        page = curie.get(f"/papers/{arxiv_id}")
        assert "Edit the code and project links" in page.text
        bad = curie.post(
            f"/papers/{arxiv_id}/links",
            data={"csrf_token": csrf_of(page.text), "github_url": "javascript:alert(1)"},
            follow_redirects=True,
        )
        assert "The links were not saved" in bad.text and "is not an http(s) URL" in bad.text
        done = curie.post(
            f"/papers/{arxiv_id}/links",
            data={
                "csrf_token": csrf_of(page.text),
                "github_url": "https://github.com/curie/radium",
                "project_page": "https://radium.example.org",
            },
            follow_redirects=True,
        )
        assert "Code link added by a member" in done.text
    paper = httpx.get(f"{community.url}/api/papers/{arxiv_id}").json()
    assert paper["githubRepo"] == "https://github.com/curie/radium"
    assert paper["githubRepoAddedBy"] == "member"
    assert paper["projectPage"] == "https://radium.example.org"


def test_admin_curation(community: Community, arxiv_replay) -> None:  # type: ignore[no-untyped-def]
    with community.factory() as session, session.begin():
        create_member(session, "boss", "boss@example.org", PASSWORD, "admin")
        create_member(session, "ada", "ada@example.org", PASSWORD)
    with httpx.Client(base_url=community.url) as admin, httpx.Client(base_url=community.url) as ada:
        log_in(ada, "ada")
        assert ada.get("/admin").status_code == 403
        log_in(admin, "boss")
        page = admin.get("/admin")
        assert page.status_code == 200 and "Feature a paper" in page.text and "ada" in page.text
        token = csrf_of(page.text)
        featured = admin.post(
            "/admin/feature",
            data={"csrf_token": token, "arxiv_id": "1605.08386", "day": "2026-01-05"},
            follow_redirects=True,
        )
        assert "Featured 1605.08386 on 2026-01-05" in featured.text
        day = httpx.get(f"{community.url}/api/daily_papers", params={"date": "2026-01-05"}).json()
        assert [(i["paper"]["id"], i["submittedBy"]["name"]) for i in day] == [
            ("1605.08386", "boss")
        ]
        bad_day = admin.post(
            "/admin/feature",
            data={"csrf_token": token, "arxiv_id": "1605.08386", "day": "2026-13-40"},
            follow_redirects=True,
        )
        assert "is not a date" in bad_day.text
        admin.post("/admin/unfeature", data={"csrf_token": token, "arxiv_id": "1605.08386"})
        assert (
            httpx.get(f"{community.url}/api/daily_papers", params={"date": "2026-01-05"}).json()
            == []
        )

        victim = community.arxiv_ids[4]
        admin.post("/admin/hide-paper", data={"csrf_token": token, "arxiv_id": victim})
        assert httpx.get(f"{community.url}/api/papers/{victim}").status_code == 404
        admin.post("/admin/unhide-paper", data={"csrf_token": token, "arxiv_id": victim})
        assert httpx.get(f"{community.url}/api/papers/{victim}").status_code == 200

        with community.factory() as session:
            ada_member = session.scalar(select(Member).where(Member.username == "ada"))
            assert ada_member is not None
        admin.post(
            f"/admin/members/{ada_member.id}", data={"csrf_token": token, "action": "disable"}
        )
        assert "Log in" in ada.get("/settings", follow_redirects=True).text
        log = admin.get("/admin").text
        for action in ("feature", "unfeature", "hide paper", "unhide paper", "member disable"):
            assert f"<td>{action}</td>" in log
