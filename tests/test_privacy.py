"""Download my data and delete my account, over real HTTP on whichever backend runs: the JSON
holds what the member did, the BibTeX parses back, and deleting removes votes (counts follow),
collections, tokens, sessions and the digest, keeping or removing comments as chosen."""

from __future__ import annotations

import json
from typing import Any

import bibtexparser
import httpx
import pytest
from sqlalchemy import func, select

from dailypapers.digests.models import Subscriber
from dailypapers.discussion.models import Comment
from dailypapers.follows.models import Follow
from dailypapers.library.models import Collection
from dailypapers.members.auth import new_api_token
from dailypapers.members.models import ApiToken, Member, MemberSession, Vote
from dailypapers.papers.models import Paper

from .conftest import Community
from .test_accounts import PASSWORD, csrf_of
from .test_library import make_collection, member_client, save


def counts(community: Community, arxiv_id: str) -> tuple[int, int]:
    paper = httpx.get(f"{community.url}/api/papers/{arxiv_id}").json()
    return paper["upvotes"], paper["numComments"]


def an_active_member(community: Community, http: httpx.Client, name: str) -> dict[str, Any]:
    """The member votes on two papers, comments on one, saves both to a collection, holds an
    API token and a digest: what their data must show and their deletion must undo."""
    first, second = community.arxiv_ids[:2]
    token = csrf_of(http.get("/settings").text)
    headers = {"X-CSRF-Token": token}
    for arxiv_id in (first, second):
        assert http.post(f"/api/papers/{arxiv_id}/upvote", headers=headers).status_code == 200
    comment = http.post(
        f"/api/papers/{first}/comments", headers=headers, json={"body": f"{name} liked it"}
    )
    assert comment.status_code == 201, comment.text
    following = http.put(
        "/api/following", headers=headers, json={"kind": "category", "value": "cs.LG"}
    )
    assert following.status_code == 200, following.text
    collection = make_collection(http, "Agents")
    save(http, first, collection)
    save(http, second, collection)
    with community.factory() as session, session.begin():
        member = session.scalar(select(Member).where(Member.username == name))
        assert member is not None
        new_api_token(session, member, "bot")
        session.add(
            Subscriber(email=member.email, frequency="daily", min_upvotes=0, bounces=0,
                       member_id=member.id)
        )  # fmt: skip
        member_id = member.id
    return {"first": first, "second": second, "comment": comment.json()["id"], "member": member_id}


def test_download_my_data(community: Community) -> None:
    with member_client(community, "ada") as http:
        done = an_active_member(community, http, "ada")
        data = http.get("/settings/data.json")
        assert data.status_code == 200 and "attachment" in data.headers["content-disposition"]
        mine = json.loads(data.content)
        assert mine["account"]["username"] == "ada"
        assert mine["account"]["email"] == "ada@example.org"
        assert {vote["paper"] for vote in mine["upvotes"]} == {done["first"], done["second"]}
        [comment] = mine["comments"]
        assert comment["paper"] == done["first"] and comment["body"] == "ada liked it"
        [collection] = mine["collections"]
        assert collection["name"] == "Agents"
        assert set(collection["papers"]) == {done["first"], done["second"]}
        assert [token["name"] for token in mine["apiTokens"]] == ["bot"]
        assert "cs.LG" in json.dumps(mine["follows"])
        assert "hash" not in json.dumps(mine["apiTokens"])  # no secret leaves
        assert mine["digest"]["frequency"] == "daily"

        bib = http.get("/settings/data.bib")
        entries = bibtexparser.parse_string(bib.text).entries
        assert {entry["eprint"] for entry in entries} == {done["first"], done["second"]}
    # Only the member gets their data.
    assert httpx.get(f"{community.url}/settings/data.json").status_code in (303, 401, 403)


@pytest.mark.parametrize("comments", ["keep", "remove"])
def test_delete_my_account(community: Community, comments: str) -> None:
    name = f"grace{comments}"
    with member_client(community, name) as http:
        before = {arxiv_id: counts(community, arxiv_id) for arxiv_id in community.arxiv_ids[:2]}
        done = an_active_member(community, http, name)
        assert counts(community, done["first"]) == (before[done["first"]][0] + 1,
                                                     before[done["first"]][1] + 1)  # fmt: skip
        page = http.get("/settings").text
        wrong = http.post(
            "/settings/delete",
            data={"csrf_token": csrf_of(page), "password": "not it", "comments": comments},
        )
        assert wrong.status_code == 400 and "password is not right" in wrong.text
        no_csrf = http.post("/settings/delete", data={"password": PASSWORD, "comments": comments})
        assert no_csrf.status_code == 403
        assert http.get("/settings").status_code == 200  # nothing happened yet

        deleted = http.post(
            "/settings/delete",
            data={"csrf_token": csrf_of(page), "password": PASSWORD, "comments": comments},
        )
        assert deleted.status_code == 200 and "Your account is deleted" in deleted.text
        assert "Log out" not in http.get("/").text  # logged out

    # Votes are gone and the counts follow; the comment is kept or removed as chosen.
    upvotes, shown = counts(community, done["first"])
    assert upvotes == before[done["first"]][0]
    assert counts(community, done["second"])[0] == before[done["second"]][0]
    thread = httpx.get(f"{community.url}/api/papers/{done['first']}/comments").json()
    found = [c for c in thread if c["id"] == done["comment"]]
    if comments == "keep":
        [kept] = found
        assert shown == before[done["first"]][1] + 1
        assert kept["author"]["fullname"] == "deleted member" and not kept["deleted"]
        assert name not in json.dumps(kept["author"])  # the author is not named any more
    else:
        assert shown == before[done["first"]][1]
        # A removed comment without replies leaves the thread; its text is gone either way.
        assert "liked it" not in json.dumps(thread)
    with community.factory() as session:
        member = session.get(Member, done["member"])
        assert member is not None and member.username == f"deleted-{member.id}"
        assert member.display_name == "deleted member"
        assert member.email is None and member.password_hash is None
        assert member.disabled
        for model in (Vote, Collection, ApiToken, MemberSession, Follow):
            assert (
                session.scalar(
                    select(func.count()).select_from(model).where(model.member_id == member.id)
                )
                == 0
            ), model
        subscriber = session.scalar(select(Subscriber).where(Subscriber.member_id == member.id))
        assert subscriber is not None and subscriber.unsubscribed_at is not None
        stored = session.scalar(select(Paper.vote_count).where(Paper.arxiv_id == done["first"]))
        votes = session.scalar(
            select(func.count()).select_from(Vote).join(Paper, Paper.id == Vote.paper_id)
            .where(Paper.arxiv_id == done["first"])
        )  # fmt: skip
        assert stored == votes  # the count still equals the rows
        visible = session.scalar(
            select(func.count()).select_from(Comment).join(Paper, Paper.id == Comment.paper_id)
            .where(Paper.arxiv_id == done["first"], Comment.deleted_at.is_(None),
                   Comment.hidden_at.is_(None))
        )  # fmt: skip
        assert (
            session.scalar(select(Paper.comment_count).where(Paper.arxiv_id == done["first"]))
            == visible
        )
    # The name is free again, and the old member page is gone.
    assert httpx.get(f"{community.url}/members/{name}").status_code == 404
