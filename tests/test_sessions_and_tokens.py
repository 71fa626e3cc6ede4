"""Sessions end on the server, and API tokens are for the API only, scoped, and die with the
password: a logged-out cookie (or a copy of it) is refused, "log out everywhere" ends every
browser and token, a bearer token never drives a page's form, a token does only what its
scopes allow, and /settings lists each token with its last use."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select

from dailypapers.members.accounts import create_member
from dailypapers.members.admin import set_disabled
from dailypapers.members.auth import new_api_token
from dailypapers.members.models import ApiToken, Member

from .conftest import Community
from .test_accounts import PASSWORD, csrf_of, log_in, sign_up_and_confirm


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def member_with_token(community: Community, username: str, role: str = "member") -> tuple[int, str]:
    """A confirmed member and an API token of theirs (all scopes, as a token made without
    naming any)."""
    with community.factory() as session, session.begin():
        member = create_member(session, username, f"{username}@example.org", PASSWORD, role)
        return member.id, new_api_token(session, member, "tests")


def upvote(community: Community, token: str, which: int = 0) -> httpx.Response:
    arxiv_id = community.arxiv_ids[which]
    return httpx.post(f"{community.url}/api/papers/{arxiv_id}/upvote", headers=bearer(token))


def new_token(http: httpx.Client, name: str, *scopes: str) -> str:
    """A token made from the settings page's form (its hidden field always asks for "read")."""
    form = http.get("/settings").text
    created = http.post(
        "/settings/tokens",
        data={"csrf_token": csrf_of(form), "name": name, "scope": ["read", *scopes]},
    )
    assert created.status_code == 200, created.text
    found = re.search(r'id="new-token">([^<]+)<', created.text)
    assert found is not None
    return found.group(1)


def test_a_cookie_copied_before_logging_out_is_refused_after(community: Community) -> None:
    with httpx.Client(base_url=community.url) as http:
        sign_up_and_confirm(community, http, "lena")
        assert log_in(http, "lena").status_code == 303
        copied = http.cookies["dp_session"]
        csrf_before = csrf_of(http.get("/").text)
        assert http.post("/logout", data={"csrf_token": csrf_before}).status_code == 303
        assert csrf_of(http.get("/login").text) != csrf_before  # the CSRF token rotates
    with httpx.Client(base_url=community.url, cookies={"dp_session": copied}) as thief:
        settings = thief.get("/settings")
        assert settings.status_code == 303 and settings.headers["location"].startswith("/login")
        arxiv_id = community.arxiv_ids[0]
        voted = thief.post(f"/api/papers/{arxiv_id}/upvote", headers={"X-CSRF-Token": csrf_before})
        assert voted.status_code == 401


def test_log_out_everywhere_ends_every_browser_and_token(community: Community) -> None:
    with (
        httpx.Client(base_url=community.url) as laptop,
        httpx.Client(base_url=community.url) as phone,
    ):
        sign_up_and_confirm(community, laptop, "mira")
        assert log_in(laptop, "mira").status_code == 303
        assert log_in(phone, "mira").status_code == 303
        token = new_token(laptop, "bot", "vote")
        assert upvote(community, token).status_code == 200
        page = laptop.get("/settings").text
        assert "Signed in on 2 browsers" in page
        done = laptop.post("/settings/logout-everywhere", data={"csrf_token": csrf_of(page)})
        assert done.status_code == 200 and "Logged out everywhere" in done.text
        for browser in (laptop, phone):
            assert browser.get("/settings").status_code == 303
        assert upvote(community, token).status_code == 401
        assert log_in(phone, "mira").status_code == 303
        assert "Signed in on 1 browser." in phone.get("/settings").text


def test_tokens_die_with_the_password_and_when_the_member_is_disabled(
    community: Community,
) -> None:
    with httpx.Client(base_url=community.url) as http:
        sign_up_and_confirm(community, http, "pat")
        assert log_in(http, "pat").status_code == 303
        token = new_token(http, "bot", "vote")
        assert upvote(community, token).status_code == 200
        form = http.get("/settings").text
        changed = http.post(
            "/settings/password",
            data={"csrf_token": csrf_of(form), "current": PASSWORD, "password": "a new password!"},
        )
        assert changed.status_code == 200 and "API tokens revoked" in changed.text
        assert upvote(community, token).status_code == 401
        assert http.get("/settings").status_code == 200  # this browser's session goes on

    member_id, token = member_with_token(community, "quinn")
    assert upvote(community, token).status_code == 200
    for disabled in (True, False):  # disabled, then enabled again: the token stays dead
        with community.factory() as session, session.begin():
            member = session.get(Member, member_id)
            assert member is not None
            set_disabled(member, disabled)
        assert upvote(community, token).status_code == 401


def test_a_bearer_token_never_drives_the_pages_or_makes_tokens(community: Community) -> None:
    _, admin_token = member_with_token(community, "boss", role="admin")
    ada_id, _ = member_with_token(community, "ada")
    with httpx.Client(base_url=community.url, headers=bearer(admin_token)) as program:
        csrf = csrf_of(program.get("/login").text)  # an anonymous session's token
        promoted = program.post(
            f"/admin/members/{ada_id}",
            data={"csrf_token": csrf, "action": "role", "role": "curator"},
        )
        assert promoted.status_code == 403 and "/api/" in promoted.text
        minted = program.post("/settings/tokens", data={"csrf_token": csrf, "name": "more"})
        assert minted.status_code == 403
        assert program.get("/settings").status_code == 403
        assert program.post(f"/api/papers/{community.arxiv_ids[0]}/upvote").status_code == 200
    with community.factory() as session:
        assert session.scalar(select(Member.role).where(Member.id == ada_id)) == "member"
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 2


def test_a_token_does_only_what_its_scopes_allow(community: Community) -> None:
    with httpx.Client(base_url=community.url) as http:
        sign_up_and_confirm(community, http, "sam")
        assert log_in(http, "sam").status_code == 303
        reader = new_token(http, "reader")
        voter = new_token(http, "voter", "vote")
        new_token(http, "unused", "comment", "submit")
        refused = upvote(community, reader)
        assert refused.status_code == 403
        assert "may not vote" in refused.json()["error"] and "/settings" in refused.json()["error"]
        assert upvote(community, voter).status_code == 200
        arxiv_id = community.arxiv_ids[0]
        comment = httpx.post(
            f"{community.url}/api/papers/{arxiv_id}/comments",
            json={"body": "Nice."},
            headers=bearer(voter),
        )
        assert comment.status_code == 403 and "may not comment" in comment.json()["error"]
        submitted = httpx.post(
            f"{community.url}/api/papers/submit", json={"arxiv_id": arxiv_id}, headers=bearer(voter)
        )
        assert submitted.status_code == 403 and "may not submit" in submitted.json()["error"]

        form = http.get("/settings").text
        bad = http.post(
            "/settings/tokens",
            data={"csrf_token": csrf_of(form), "name": "x", "scope": ["read", "admin"]},
        )
        assert bad.status_code == 400 and "Unknown scope" in bad.text
        # A program that names no scope (as before scopes existed) gets all four.
        legacy = http.post("/settings/tokens", data={"csrf_token": csrf_of(form), "name": "old"})
        assert legacy.status_code == 200

        page = http.get("/settings").text
        listed = {
            name: line
            for line in page.split("<li>")[1:]
            for name in ("reader", "voter", "unused", "old")
            if line.strip().startswith(name + " ")
        }
        assert "read · created" in listed["reader"] and "last used" in listed["reader"]
        assert "read, vote · created" in listed["voter"] and "last used" in listed["voter"]
        assert "read, comment, submit" in listed["unused"] and "never used" in listed["unused"]
        assert "read, vote, comment, submit" in listed["old"]
