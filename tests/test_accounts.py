"""Accounts and upvotes over real HTTP: sign-up with the emailed link, log-in, CSRF, rate
limits, password reset, API tokens, and vote counts that always equal the votes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from typing import Any

import httpx
from sqlalchemy import func, select

from dailypapers.members.accounts import create_member
from dailypapers.members.models import Member, Vote
from dailypapers.papers.models import Paper

from .conftest import Community, database_url_for

PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_up_and_confirm(community: Community, http: httpx.Client, username: str) -> None:
    email = f"{username}@example.org"
    token = csrf_of(http.get("/signup").text)
    page = http.post(
        "/signup",
        data={"csrf_token": token, "username": username, "email": email, "password": PASSWORD},
    )
    assert page.status_code == 200 and "Check your inbox" in page.text
    [message] = community.mail.wait_for(email)
    assert "Confirm your email address" in message["Subject"]
    link = community.mail.link(message, f"{community.url}/confirm/")
    confirmed = http.get(link.removeprefix(community.url), follow_redirects=True)
    assert "Your address is confirmed" in confirmed.text


def log_in(http: httpx.Client, login: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf_of(http.get("/login").text)
    return http.post("/login", data={"csrf_token": token, "login": login, "password": password})


def test_sign_up_confirm_log_in_and_vote(community: Community) -> None:
    with httpx.Client(base_url=community.url) as http:
        sign_up_and_confirm(community, http, "ada")
        response = log_in(http, "ada@example.org")
        assert response.status_code == 303 and response.headers["location"] == "/"
        cookie = response.headers["set-cookie"].lower()
        assert "dp_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie

        home = http.get("/")
        assert "Log out" in home.text and "ada" in home.text
        token = csrf_of(home.text)
        arxiv_id = community.arxiv_ids[0]
        before = http.get(f"/api/papers/{arxiv_id}").json()["upvotes"]
        voted = http.post(f"/api/papers/{arxiv_id}/upvote", headers={"X-CSRF-Token": token})
        assert voted.status_code == 200 and voted.json() == {"upvoted": True, "upvotes": before + 1}
        again = http.post(f"/api/papers/{arxiv_id}/upvote", headers={"X-CSRF-Token": token})
        assert again.json()["upvotes"] == before + 1  # idempotent
        assert http.get(f"/api/papers/{arxiv_id}").json()["upvotes"] == before + 1
        assert 'aria-pressed="true"' in http.get(f"/papers/{arxiv_id}").text
        taken_back = http.delete(f"/api/papers/{arxiv_id}/upvote", headers={"X-CSRF-Token": token})
        assert taken_back.json() == {"upvoted": False, "upvotes": before}

        # The card's form works without JavaScript too.
        form = http.post(
            f"/papers/{arxiv_id}/upvote", data={"csrf_token": token, "action": "up", "next": "/"}
        )
        assert form.status_code == 303 and form.headers["location"] == "/"
        assert http.get(f"/api/papers/{arxiv_id}").json()["upvotes"] == before + 1

        out = http.post("/logout", data={"csrf_token": token})
        assert out.status_code == 303 and "Log in" in http.get("/").text
    anonymous = httpx.post(f"{community.url}/api/papers/{arxiv_id}/upvote")
    assert anonymous.status_code == 401 and "Log in" in anonymous.json()["error"]


def test_no_user_enumeration(community: Community) -> None:
    with httpx.Client(base_url=community.url) as http:
        sign_up_and_confirm(community, http, "grace")
    with httpx.Client(base_url=community.url) as http:
        wrong_password = log_in(http, "grace@example.org", "not the password")
        unknown = log_in(http, "nobody@example.org", "not the password")
        assert wrong_password.status_code == unknown.status_code == 400
        assert "Wrong email or password." in wrong_password.text
        assert "Wrong email or password." in unknown.text

        # Signing up again with a known address looks the same; the owner is told by email.
        token = csrf_of(http.get("/signup").text)
        again = http.post(
            "/signup",
            data={
                "csrf_token": token,
                "username": "grace2",
                "email": "grace@example.org",
                "password": PASSWORD,
            },
        )
        assert again.status_code == 200 and "Check your inbox" in again.text
        messages = community.mail.wait_for("grace@example.org", 2)
        assert "tried to sign up" in messages[-1]["Subject"]

        def reset(email: str) -> str:
            token = csrf_of(http.get("/reset").text)
            return http.post("/reset", data={"csrf_token": token, "email": email}).text

        assert _main_text(reset("grace@example.org")) == _main_text(reset("nobody@example.org"))
        community.mail.wait_for("grace@example.org", 3)
        assert community.mail.to("nobody@example.org") == []


def _main_text(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def test_password_reset_ends_old_sessions(community: Community) -> None:
    with httpx.Client(base_url=community.url) as old, httpx.Client(base_url=community.url) as http:
        sign_up_and_confirm(community, old, "alan")
        assert log_in(old, "alan").status_code == 303
        token = csrf_of(http.get("/reset").text)
        http.post("/reset", data={"csrf_token": token, "email": "alan@example.org"})
        message = community.mail.wait_for("alan@example.org", 2)[-1]
        link = community.mail.link(message, f"{community.url}/reset/").removeprefix(community.url)
        form = http.get(link)
        assert form.status_code == 200 and "Choose a new password" in form.text
        short = http.post(link, data={"csrf_token": csrf_of(form.text), "password": "short"})
        assert short.status_code == 400 and "at least 10 characters" in short.text
        done = http.post(
            link, data={"csrf_token": csrf_of(form.text), "password": "a new long password"}
        )
        assert done.status_code == 200 and "Password changed" in done.text
        assert http.get(link).status_code == 400  # the link worked once
        assert "Log in" in old.get("/settings", follow_redirects=True).text  # old session ended
        assert log_in(http, "alan", PASSWORD).status_code == 400
        assert log_in(http, "alan", "a new long password").status_code == 303


def test_csrf_is_required_and_cross_site_posts_refused(community: Community) -> None:
    with httpx.Client(base_url=community.url) as http:
        sign_up_and_confirm(community, http, "barbara")
        no_token = http.post("/login", data={"login": "barbara", "password": PASSWORD})
        assert no_token.status_code == 403 and "another site" in no_token.text
        token = csrf_of(http.get("/login").text)
        cross_site = http.post(
            "/login",
            data={"csrf_token": token, "login": "barbara", "password": PASSWORD},
            headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        )
        assert cross_site.status_code == 403
        assert log_in(http, "barbara").status_code == 303
        arxiv_id = community.arxiv_ids[1]
        # A signed-in browser session without the header (what a cross-site fetch would send).
        forged = http.post(f"/api/papers/{arxiv_id}/upvote")
        assert forged.status_code == 403
        # Programs use an API token instead, without CSRF.
        settings_page = http.get("/settings")
        created = http.post(
            "/settings/tokens", data={"csrf_token": csrf_of(settings_page.text), "name": "bot"}
        )
        api_token = re.search(r'id="new-token">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    voted = httpx.post(
        f"{community.url}/api/papers/{arxiv_id}/upvote",
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert voted.status_code == 200 and voted.json()["upvoted"] is True
    bad = httpx.post(
        f"{community.url}/api/papers/{arxiv_id}/upvote",
        headers={"Authorization": "Bearer dp_not-a-token"},
    )
    assert bad.status_code == 401


def test_the_eleventh_rapid_login_attempt_is_limited(community: Community) -> None:
    with httpx.Client(base_url=community.url) as http:
        statuses = []
        for _ in range(11):
            response = log_in(http, "someone@example.org", "wrong password!")
            statuses.append(response.status_code)
        assert statuses[:10] == [400] * 10 and statuses[10] == 429
        assert response.headers["ratelimit-policy"] == '"login";q=10;w=60'
        assert response.headers["ratelimit"].startswith('"login";r=0;t=')
        assert int(response.headers["retry-after"]) <= 60
        assert "Too many requests" in response.text


def test_bad_input_gets_clear_errors(community: Community) -> None:
    with httpx.Client(base_url=community.url) as http:
        token = csrf_of(http.get("/signup").text)
        bad = http.post(
            "/signup",
            data={
                "csrf_token": token,
                "username": "<script>",
                "email": "not-an-email",
                "password": "short",
            },
        )
        assert bad.status_code == 422
        assert "Use 3 to 32 letters" in bad.text and "Enter an email address" in bad.text
        assert "at least 10 characters" in bad.text and "<script>" not in bad.text
        long_password = http.post(
            "/signup",
            data={
                "csrf_token": token,
                "username": "longpw",
                "email": "l@example.org",
                "password": "x" * 10_000,
            },
        )
        assert long_password.status_code == 422 and "password" in long_password.text
        assert http.get("/confirm/garbage").status_code == 400
        assert http.get("/reset/garbage").status_code == 400
        sign_up_and_confirm(community, http, "edsger")
        log_in(http, "edsger")
        token = csrf_of(http.get("/").text)
        headers = {"X-CSRF-Token": token}
        assert http.post("/api/papers/not-an-id/upvote", headers=headers).status_code == 400
        assert http.post("/api/papers/2101.99999/upvote", headers=headers).status_code == 404


def test_concurrent_votes_keep_counts_equal_to_votes(community: Community) -> None:
    with community.factory() as session, session.begin():
        members = [
            create_member(session, f"voter{i}", f"voter{i}@example.org", PASSWORD)
            for i in range(12)
        ]
        from dailypapers.members.auth import new_api_token

        tokens = [new_api_token(session, member, "bench") for member in members]
    targets = community.arxiv_ids[:3]

    def vote(token: str) -> None:
        with httpx.Client(
            base_url=community.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            for round_ in range(6):
                for arxiv_id in targets:
                    method = http.post if round_ % 2 == 0 else http.delete
                    assert method(f"/api/papers/{arxiv_id}/upvote").status_code == 200
                http.post(f"/api/papers/{targets[0]}/upvote")

    threads = [threading.Thread(target=vote, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with community.factory() as session:
        for paper in session.scalars(select(Paper)):
            votes = session.scalar(select(func.count()).where(Vote.paper_id == paper.id))
            assert paper.vote_count == votes
        first = session.scalar(select(Paper).where(Paper.arxiv_id == targets[0]))
        assert first is not None and first.vote_count == 12


def test_users_cli(community: Community) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(
        DAILYPAPERS_DATA_DIR=str(community.settings.data_dir),
        DAILYPAPERS_DATABASE_URL=database_url_for(community.settings.data_dir),
        COLUMNS="200",
    )

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dailypapers", "users", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    created = cli(
        "create-admin", "root2", "root@example.org", "--password-stdin", stdin="an admin password\n"
    )
    assert created.returncode == 0, created.stderr
    assert "Created admin root2" in created.stderr
    duplicate = cli(
        "create-admin",
        "root2",
        "other@example.org",
        "--password-stdin",
        stdin="an admin password\n",
    )
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    weak = cli("create-admin", "root3", "r3@example.org", "--password-stdin", stdin="short\n")
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
    listed = cli("list")
    assert "root2" in listed.stdout and "admin" in listed.stdout
    with httpx.Client(base_url=community.url) as http:
        assert log_in(http, "root2", "an admin password").status_code == 303
        assert cli("disable", "root2").returncode == 0
        assert "Log in" in http.get("/settings", follow_redirects=True).text  # session ended
        refused = log_in(http, "root2", "an admin password")
        assert refused.status_code == 400 and "disabled" in refused.text
    assert cli("disable", "nobody").returncode == 1
    assert cli("set-role", "root2", "emperor").returncode == 1
    with community.factory() as session:
        member = session.scalar(select(Member).where(Member.username == "root2"))
        assert member is not None and member.disabled and member.role == "admin"


def test_tampered_session_cookie_is_anonymous(community: Community) -> None:
    with httpx.Client(base_url=community.url) as http:
        http.cookies.set("dp_session", "eyJtIjogMX0=.forged.signature")
        home = http.get("/")
        assert home.status_code == 200 and "Log in" in home.text
        assert http.get("/settings").status_code == 303  # to the log-in page
        login = http.post("/login", data={"login": "x", "password": "y" * 10_000})
        assert login.status_code in (403, 422)


def test_account_mail_waits_for_the_commit_and_old_links_work(database: Any) -> None:
    from itsdangerous import URLSafeTimedSerializer

    from dailypapers.mail.models import OutboxMessage
    from dailypapers.members.accounts import Accounts, SignUp
    from dailypapers.signing import Signer

    secret = "test-secret-key-not-for-production"
    accounts = Accounts(Signer(secret), "http://papers.example", "Papers")
    with database() as session:
        accounts.sign_up(session, SignUp("ada", "ada@example.org", PASSWORD))
        session.rollback()  # the sign-up failed after all: no member, no mail
    with database() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        member = accounts.sign_up(session, SignUp("ada", "ada@example.org", PASSWORD))
        session.commit()
        assert member is not None
        [queued] = session.scalars(select(OutboxMessage)).all()
        assert queued.recipient == "ada@example.org"
        assert "Confirm your email address" in queued.subject
        assert "http://papers.example/confirm/" in queued.text_body
        # A link signed before the site had one signer still confirms.
        link = URLSafeTimedSerializer(secret).dumps(
            {"m": member.id, "e": member.email}, salt="confirm-email"
        )
        assert accounts.confirm(session, link)[0].confirmed


def test_the_confirmation_link_logs_in_once(community: Community) -> None:
    with httpx.Client(base_url=community.url) as http:
        sign_up_and_confirm(community, http, "hedy")  # the first click confirms ...
        assert "Log out" in http.get("/").text  # ... and logs in
        [message] = community.mail.to("hedy@example.org")
        link = community.mail.link(message, f"{community.url}/confirm/")
    with httpx.Client(base_url=community.url) as other:
        again = other.get(link.removeprefix(community.url))
        # A copy of the link used later (a forwarded email) asks for the password instead.
        assert again.status_code == 303 and again.headers["location"].startswith("/login")
        assert "Log out" not in other.get("/").text


def test_a_confirmed_member_subscribes_in_one_click(community: Community) -> None:
    with httpx.Client(base_url=community.url) as http:
        sign_up_and_confirm(community, http, "lise")
        form = http.get("/subscribe")
        assert 'value="lise@example.org"' in form.text  # the member's address is filled in
        subscribed = http.post(
            "/subscribe",
            data={
                "csrf_token": csrf_of(form.text),
                "email": "Lise@Example.org",
                "frequency": "weekly",
                "topics": "speculative decoding",
            },
        )
        assert subscribed.status_code == 200 and "You are subscribed" in subscribed.text
        assert "weekly digest will come to lise@example.org" in subscribed.text
        # No second confirmation email: the one sign-up message is all the mail.
        assert len(community.mail.to("lise@example.org")) == 1
        # Another address still needs its own confirmation.
        other = http.post(
            "/subscribe",
            data={"csrf_token": csrf_of(form.text), "email": "meitner@example.org"},
        )
        assert "Check your inbox" in other.text
        [confirmation] = community.mail.wait_for("meitner@example.org")
        assert "Confirm" in confirmation["Subject"]
