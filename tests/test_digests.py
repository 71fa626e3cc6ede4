"""Digests over a real SMTP server (aiosmtpd on loopback): double opt-in, composition, delivery
exactly once (also across a killed run), retries and bounces, one-click unsubscribe."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from dailypapers.database import utcnow
from dailypapers.digests.delivery import send_digests
from dailypapers.digests.letters import DigestTokens
from dailypapers.digests.models import DigestSend, SentPaper, Subscriber, Topic
from dailypapers.digests.schedule import daily_period, parse_days, weekly_period
from dailypapers.mail.sender import MailSender
from dailypapers.papers.importing import load_file
from dailypapers.search.backends import open_keyword_search
from dailypapers.signing import Signer

from .conftest import (
    LiveServer,
    MailSink,
    database_url_for,
    eventually,
    free_port,
    make_settings,
    prepare_database,
    rows_of,
)
from .test_accounts import csrf_of

WEEKDAYS = parse_days("mon,tue,wed,thu,fri")


def test_digest_days_and_periods() -> None:
    monday, tuesday, saturday = date(2026, 8, 24), date(2026, 8, 25), date(2026, 8, 22)
    covers = daily_period(monday, WEEKDAYS)
    assert covers is not None and (covers.start, covers.end) == (
        date(2026, 8, 21),
        date(2026, 8, 23),
    )
    tuesday_period = daily_period(tuesday, WEEKDAYS)
    assert tuesday_period is not None and tuesday_period.start == tuesday_period.end == monday
    assert daily_period(saturday, WEEKDAYS) is None  # no weekend issue
    week = weekly_period(monday, 0)
    assert week is not None and week.key == "weekly:2026-W34"
    assert (week.start, week.end) == (date(2026, 8, 17), date(2026, 8, 23))
    with pytest.raises(ValueError, match="'funday' is not a day"):
        parse_days("mon,funday")


class Site:
    def __init__(self, folder: Path, rows: list[dict[str, Any]], sink: MailSink) -> None:
        self.port = free_port()
        self.settings = make_settings(
            folder,
            smtp_url=sink.url,
            base_url=f"http://127.0.0.1:{self.port}",
            digest_scheduler=False,
        )
        self.engine, self.factory = prepare_database(self.settings)
        source = folder / "papers.jsonl"
        source.write_text("".join(json.dumps(row) + "\n" for row in rows))
        load_file(self.factory, source, self.settings.zone)
        self.keyword_index = open_keyword_search(self.engine, self.settings.keyword_index_dir)
        self.keyword_index.sync(self.factory)
        self.sink = sink
        # What sending digests needs of a site (delivery.DigestSite): settings, signer, mail.
        self.signer = Signer(self.settings.resolved_secret_key())
        self.mail = MailSender(sink.url, self.settings.mail_from)

    def subscribers(self, count: int, topics: tuple[str, ...] = (), **fields: Any) -> list[int]:
        with self.factory() as session, session.begin():
            made = [
                Subscriber(
                    email=f"reader{i}@example.org",
                    frequency="daily",
                    min_upvotes=0,
                    bounces=0,
                    confirmed_at=utcnow(),
                    **fields,
                )
                for i in range(count)
            ]
            session.add_all(made)
            session.flush()
            for subscriber in made:
                session.add_all(Topic(subscriber_id=subscriber.id, query=q) for q in topics)
            return [s.id for s in made]

    def send(self, day: date, **options: Any):  # type: ignore[no-untyped-def]
        period = daily_period(day, WEEKDAYS)
        assert period is not None
        return send_digests(
            self.factory,
            period,
            self,
            keyword=self.keyword_index,
            sleep=lambda seconds: None,
            **options,
        )


@pytest.fixture
def recent_rows(hf_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The real papers of the last five featured days of the shared file."""
    days = sorted({row["featured_date"] for row in hf_rows if row.get("featured_date")})[-5:]
    return [row for row in hf_rows if row.get("featured_date") in days]


def digest_day(rows: list[dict[str, Any]]) -> date:
    """The first digest day after the latest featured day (its digest covers that day)."""
    latest = max(date.fromisoformat(row["featured_date"]) for row in rows)
    day = latest + timedelta(days=1)
    while day.weekday() not in WEEKDAYS:
        day += timedelta(days=1)
    return day


def common_topic(rows: list[dict[str, Any]]) -> str:
    """The phrase of several words that most of the rows' keywords carry: a topic with papers."""
    counts = Counter(
        keyword.lower()
        for row in rows
        for keyword in {k.lower() for k in row.get("ai_keywords") or ()}
        if len(keyword.split()) >= 2
    )
    return counts.most_common(1)[0][0]


def test_compose_and_deliver_a_digest(tmp_path: Path, recent_rows, mail_sink: MailSink) -> None:  # type: ignore[no-untyped-def]
    site = Site(tmp_path, recent_rows, mail_sink)
    topic = common_topic(recent_rows)
    [reader] = site.subscribers(1, topics=(topic,))
    day = digest_day(recent_rows)
    report = site.send(day)
    assert (report.sent, report.empty, report.failed) == (1, 0, 0)
    [message] = mail_sink.wait_for("reader0@example.org")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(http://\S+/unsubscribe/\S+)>", message["List-Unsubscribe"])
    assert unsubscribe is not None
    assert message["Message-ID"] == f"<digest.daily.{day.isoformat()}.{reader}@127.0.0.1>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "TRENDING ON THE DAILY LIST" in text and f'NEW ON "{topic}"' in text
    assert "You get this because reader0@example.org subscribed" in text
    assert "<script" not in html and "style=" in html and "fonts.googleapis" not in html
    latest = max(recent_rows, key=lambda r: (r["featured_date"], r.get("upvotes") or 0))
    assert latest["title"].split()[0] in text

    with LiveServer(site.settings, port=site.port) as server:
        links = set(re.findall(rf"{re.escape(server.url)}/\S+", text))
        assert any("/papers/" in link for link in links)
        for link in links:
            if "/unsubscribe/" in link:
                page = httpx.get(link)  # a GET asks, it does not unsubscribe
                assert page.status_code == 200 and "Stop all digests" in page.text
                continue
            assert httpx.get(link).status_code == 200, link
        one_click = httpx.post(unsubscribe.group(1), data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 200 and one_click.json() == {"unsubscribed": True}

    # Sent papers are remembered, and an unsubscribed reader gets nothing more.
    with site.factory() as session:
        sent = session.scalar(select(func.count()).select_from(SentPaper))
        assert sent == len(message.get_body(("plain",)).get_content().split("/papers/")) - 1
        assert session.scalar(select(Subscriber.unsubscribed_at)) is not None
    later = site.send(day + timedelta(days=1))
    assert later.sent == 0 and len(mail_sink.messages) == 1
    again = site.send(day)  # the same period again: already done
    assert again.sent == 0 and len(mail_sink.messages) == 1
    site.engine.dispose()


def test_topic_sections_carry_only_matches_and_the_browser_copy_shows_the_same(
    tmp_path: Path, recent_rows, mail_sink: MailSink
) -> None:  # type: ignore[no-untyped-def]
    site = Site(tmp_path, recent_rows, mail_sink)
    topic = common_topic(recent_rows)
    site.subscribers(1, topics=(topic, "xqzzyv plorbington"))
    day = digest_day(recent_rows)
    assert site.send(day).sent == 1
    [message] = mail_sink.wait_for("reader0@example.org")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    # Nonsense finds nothing, and the digest says so in one line instead of a section.
    assert 'NEW ON "xqzzyv plorbington"' not in text
    assert 'Nothing new this time on "xqzzyv plorbington".' in text
    # Every paper of the topic's section carries the topic's phrase (a plural or -ing form too)
    # in its title or keywords, or twice in its abstract.
    by_id = {row["arxiv_id"]: row for row in recent_rows}
    section = text.split(f'NEW ON "{topic}"', 1)[1].split("Nothing new this time", 1)[0]
    shown = re.findall(r"/papers/(\d{4}\.\d{4,5})", section)
    assert shown, "the topic matched no paper of the period: pick another topic"
    for arxiv_id in shown:
        row = by_id[arxiv_id]
        head = " ".join([row["title"], *(row.get("ai_keywords") or ())]).lower()
        prefix = topic.lower().removesuffix("s")  # "... models" also as "... model"
        assert prefix in head or (row["abstract"] or "").lower().count(prefix) >= 2, arxiv_id
    # "View in a browser" shows the sections and dates of the email, not one list of today.
    view_url = re.search(r"View in a browser: (\S+)", text)
    assert view_url is not None
    with LiveServer(site.settings, port=site.port) as server:
        page = httpx.get(view_url.group(1).replace(site.settings.base_url, server.url))
    assert page.status_code == 200
    dates = re.search(r"Your daily digest · ([^<]+)</p>", html)
    assert dates is not None and dates.group(1) in page.text
    assert page.text.count("New on “") == html.count("New on “") == 1
    assert page.text.count("/papers/") == html.count("/papers/")
    assert "Nothing new this time on “xqzzyv plorbington”." in page.text
    site.engine.dispose()


def test_never_the_same_paper_twice_and_no_empty_digest(
    tmp_path: Path, recent_rows, mail_sink: MailSink
) -> None:  # type: ignore[no-untyped-def]
    site = Site(tmp_path, recent_rows, mail_sink)
    site.subscribers(2)
    day = digest_day(recent_rows)
    assert site.send(day).sent == 2
    # The next digest day covers no new featured papers: nothing new, so nothing is sent.
    next_day = day + timedelta(days=1)
    while next_day.weekday() not in WEEKDAYS:
        next_day += timedelta(days=1)
    report = site.send(next_day)
    assert (report.sent, report.empty) == (0, 2)
    assert len(mail_sink.messages) == 2
    with site.factory() as session:
        statuses = Counter(session.scalars(select(DigestSend.status)))
        assert statuses == {"sent": 2, "empty": 2}
    site.engine.dispose()


def test_temporary_failures_are_retried_and_bounces_stop_an_address(
    tmp_path: Path,
    recent_rows,
    mail_sink: MailSink,  # type: ignore[no-untyped-def]
) -> None:
    site = Site(tmp_path, recent_rows, mail_sink)
    site.subscribers(3)
    refused_once: set[str] = set()

    def reply(message: Any) -> str | None:
        to = message["To"]
        if to == "reader0@example.org" and to not in refused_once:
            refused_once.add(to)
            return "451 4.3.0 try again later"
        if to == "reader1@example.org":
            return "550 5.1.1 no such user"
        return None

    mail_sink.reply = reply
    day = digest_day(recent_rows)
    report = site.send(day)
    assert (report.sent, report.failed, report.deferred) == (2, 1, 0)
    assert sorted(m["To"] for m in mail_sink.messages) == [
        "reader0@example.org",
        "reader2@example.org",
    ]
    with site.factory() as session:
        bounced = session.scalar(
            select(Subscriber).where(Subscriber.email == "reader1@example.org")
        )
        assert bounced is not None and bounced.bounces == 1 and bounced.stopped_reason is None
        row = session.scalar(select(DigestSend).where(DigestSend.subscriber_id == bounced.id))
        assert row is not None and row.status == "failed" and "550" in (row.last_error or "")
        bounced.bounces = 2  # two earlier permanent failures in a row
        session.delete(row)  # and this period's digest not yet tried
        session.commit()
    assert site.send(day).failed == 1
    with site.factory() as session:
        bounced = session.scalar(
            select(Subscriber).where(Subscriber.email == "reader1@example.org")
        )
        assert bounced is not None and bounced.bounces == 3
        assert bounced.stopped_reason == "3 permanent delivery failures in a row"
    assert site.send(day).failed == 0  # a stopped address is not tried again
    site.engine.dispose()


def test_smtp_down_defers_and_a_later_run_delivers(tmp_path: Path, recent_rows) -> None:  # type: ignore[no-untyped-def]
    sink = MailSink()
    site = Site(tmp_path, recent_rows, sink)  # the sink is not started: connection refused
    site.subscribers(2)
    day = digest_day(recent_rows)
    report = site.send(day)
    assert (report.sent, report.deferred) == (0, 2)
    sink.controller.start()
    try:
        report = site.send(day)
        assert report.sent == 2
        assert sorted(m["To"] for m in sink.messages) == [
            "reader0@example.org",
            "reader1@example.org",
        ]
    finally:
        sink.controller.stop()
    site.engine.dispose()


@pytest.mark.parametrize("workers", [1, 3])
def test_a_killed_send_resumes_without_duplicates(
    tmp_path: Path, recent_rows, mail_sink: MailSink, workers: int
) -> None:  # type: ignore[no-untyped-def]
    site = Site(tmp_path, recent_rows, mail_sink)
    site.subscribers(30, topics=("reinforcement learning",))
    day = digest_day(recent_rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(
        DAILYPAPERS_DATA_DIR=str(site.settings.data_dir),
        DAILYPAPERS_DATABASE_URL=database_url_for(site.settings.data_dir),
        DAILYPAPERS_SMTP_URL=mail_sink.url,
        DAILYPAPERS_BASE_URL=site.settings.base_url,
        DAILYPAPERS_DENSE_SEARCH="false",
    )
    command = [sys.executable, "-m", "dailypapers", "digest", "send", "--date", day.isoformat()]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed = threading.Event()

    def reply(message: Any) -> str | None:
        # Kill the sender while it waits for the server's answer to its 12th message (which the
        # server accepts, as a real one would once it has the final ".").
        if len(mail_sink.messages) == 11 and not killed.is_set():
            process.send_signal(signal.SIGKILL)
            killed.set()
            time.sleep(0.2)
        return None

    mail_sink.reply = reply
    process.wait(timeout=120)
    assert killed.is_set() and process.returncode == -signal.SIGKILL, (
        process.returncode,
        len(mail_sink.messages),
        process.stderr.read().decode()[-3000:] if process.stderr else "",
    )
    if workers == 1:
        assert eventually(lambda: len(mail_sink.messages) == 12)
    else:  # the other senders finish the message they were writing, then stop: wait until
        # nothing is half-sent and the ledger agrees with the mailbox (however slow the machine)

        def settled() -> bool:
            statuses = dict(
                rows_of(
                    site.settings.data_dir,
                    "SELECT status, count(*) FROM digest_ledger GROUP BY status",
                )
            )
            return "sending" not in statuses and statuses.get("sent") == len(mail_sink.messages)

        assert eventually(settled, timeout=60)
        time.sleep(0.5)
        assert settled() and 12 <= len(mail_sink.messages) < 30
    delivered = len(mail_sink.messages)
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"sent {30 - delivered}," in rerun.stderr
    assert f"already done {delivered}," in rerun.stderr
    received = Counter(m["To"] for m in mail_sink.messages)
    assert len(received) == 30 and set(received.values()) == {1}
    assert len({m["Message-ID"] for m in mail_sink.messages}) == 30
    site.engine.dispose()


def test_subscribe_needs_confirmation(tmp_path: Path, recent_rows, mail_sink: MailSink) -> None:  # type: ignore[no-untyped-def]
    site = Site(tmp_path, recent_rows, mail_sink)
    with (
        LiveServer(site.settings, port=site.port) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        form = http.get("/subscribe", params={"email": "ada@example.org"})
        assert 'value="ada@example.org"' in form.text
        bad = http.post("/subscribe", data={"csrf_token": csrf_of(form.text), "email": "nope"})
        assert bad.status_code == 422 and "Enter an email address" in bad.text
        too_many = "\n".join(f"topic {i}" for i in range(21))
        refused = http.post(
            "/subscribe",
            data={"csrf_token": csrf_of(form.text), "email": "ada@example.org", "topics": too_many},
        )
        assert refused.status_code == 422 and "at most 20 topics" in refused.text
        done = http.post(
            "/subscribe",
            data={
                "csrf_token": csrf_of(form.text),
                "email": "ada@example.org",
                "frequency": "daily",
                "topics": "agents\ndiffusion",
            },
        )
        assert done.status_code == 200 and "Check your inbox" in done.text
        [confirmation] = mail_sink.wait_for("ada@example.org")
        day = digest_day(recent_rows)
        assert site.send(day).sent == 0  # nothing before the link is followed
        link = mail_sink.link(confirmation, f"{server.url}/subscribe/confirm/")
        confirmed = http.get(link.removeprefix(server.url))
        assert "You are subscribed" in confirmed.text
        assert http.get("/subscribe/confirm/garbage").status_code == 400
        assert site.send(day).sent == 1
        with site.factory() as session:
            topics = session.scalars(select(Topic.query).order_by(Topic.id)).all()
            assert topics == ["agents", "diffusion"]
    site.engine.dispose()


def test_subscribe_bad_input_and_no_flood(tmp_path: Path, recent_rows, mail_sink: MailSink) -> None:  # type: ignore[no-untyped-def]
    site = Site(tmp_path, recent_rows, mail_sink)
    with (
        LiveServer(site.settings, port=site.port) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        token = csrf_of(http.get("/subscribe").text)

        def post(**data: str) -> httpx.Response:
            return http.post("/subscribe", data={"csrf_token": token, **data})

        injected = post(email="a@b.c\r\nBcc: x@y.z")
        assert injected.status_code == 422 and "Enter an email address" in injected.text
        huge = post(email="ada@example.org", topics="x" * 10_000)
        assert huge.status_code == 422 and "topics" in huge.text
        many = post(
            email="ada@example.org", topics="\n".join(f"t{i}" for i in range(10_000))[:5999]
        )
        assert many.status_code == 422 and "at most 20 topics" in many.text
        assert post(email="ada@example.org").status_code == 200
        assert post(email="ada@example.org").status_code == 200  # the same page again …
        time.sleep(0.3)
        assert len(mail_sink.to("ada@example.org")) == 1  # … but one pending confirmation
        statuses = [post(email=f"flood{i}@example.org").status_code for i in range(6)]
        assert statuses[-1] == 429  # per-address-of-the-requester limit on subscriptions
        assert http.get("/unsubscribe/tampered.token").status_code == 404
        assert http.get("/subscribe/manage/tampered").status_code == 404
        assert http.get("/digest/tampered").status_code == 404
    site.engine.dispose()


def test_the_app_sends_due_digests_itself(tmp_path: Path, recent_rows, mail_sink: MailSink) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from dailypapers.digests.scheduler import DigestScheduler, due_periods

    site = Site(tmp_path, recent_rows, mail_sink)
    site.subscribers(2)
    day = digest_day(recent_rows)
    early = datetime.combine(day, datetime.min.time()).replace(hour=6)
    assert due_periods(site.settings, early) == []  # before DIGEST_SEND_HOUR (7)
    scheduler = DigestScheduler(site.factory, site.settings, site, site.keyword_index)
    scheduler.run_once(early.replace(hour=8))
    assert sorted(m["To"] for m in mail_sink.messages) == [
        "reader0@example.org",
        "reader1@example.org",
    ]
    scheduler.run_once(early.replace(hour=9))  # done for today: nothing more
    saturday = day + timedelta(days=(5 - day.weekday()) % 7)
    assert [
        p.frequency
        for p in due_periods(
            site.settings, datetime.combine(saturday, datetime.min.time()).replace(hour=8)
        )
    ] == []
    assert len(mail_sink.messages) == 2
    site.engine.dispose()


def test_links_in_digests_already_sent_keep_working() -> None:
    """Digests sent before the site had one signer carry tokens made by itsdangerous directly
    (no time stamp, one salt per purpose): they still read, and new ones are the same."""
    from itsdangerous import URLSafeSerializer

    secret = "test-secret-key-not-for-production"
    before = URLSafeSerializer(secret)
    tokens = DigestTokens(Signer(secret))
    assert tokens.read_unsubscribe(before.dumps(42, salt="unsubscribe")) == 42
    view = before.dumps([42, "daily:2026-11-27"], salt="digest-view")
    assert tokens.read_view(view) == (42, "daily:2026-11-27")
    assert tokens.unsubscribe(42) == before.dumps(42, salt="unsubscribe")
    assert tokens.read_unsubscribe(before.dumps(42, salt="digest-view")) is None
    assert tokens.read_view("tampered") is None


def test_subscribing_queues_mail_in_the_same_transaction(database: Any) -> None:
    from itsdangerous import URLSafeTimedSerializer

    from dailypapers.digests.subscriptions import Subscriptions
    from dailypapers.mail.models import OutboxMessage

    secret = "test-secret-key-not-for-production"
    service = Subscriptions(Signer(secret), "http://papers.example", "Papers")
    with database() as session:
        service.subscribe(session, "Ada@Example.org", "weekly", "agents\n\nagents\ndiffusion")
        session.rollback()  # the request failed after all: no row, no mail
    with database() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        address = service.subscribe(session, "Ada@Example.org", "weekly", "agents\ndiffusion")
        session.commit()
        [queued] = session.scalars(select(OutboxMessage)).all()
        assert address == queued.recipient == "ada@example.org"
        assert queued.subject == "Confirm your Papers digest"
        assert "http://papers.example/subscribe/confirm/" in queued.text_body
        assert queued.html_body and "http://papers.example/subscribe/confirm/" in queued.html_body
        # A confirmation link signed before the one signer existed still works.
        subscriber = session.scalar(select(Subscriber))
        assert subscriber is not None
        link = URLSafeTimedSerializer(secret).dumps(
            [subscriber.id, "weekly", ["agents"]], salt="confirm-subscription"
        )
        assert service.confirm(session, link).active
        session.commit()
        topics = session.scalars(select(Topic.query)).all()
        assert topics == ["agents"]


def test_the_settings_page_links_to_the_members_digest(
    tmp_path: Path, recent_rows: list[dict[str, Any]], mail_sink: MailSink
) -> None:
    from dailypapers.members.accounts import create_member

    from .test_accounts import PASSWORD, log_in

    site = Site(tmp_path, recent_rows[:5], mail_sink)
    with site.factory() as session, session.begin():
        create_member(session, "ada", "ada@example.org", PASSWORD)
    with (
        LiveServer(site.settings, port=site.port) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        assert log_in(http, "ada").status_code == 303
        assert 'href="/subscribe"' in http.get("/settings").text
        with site.factory() as session, session.begin():
            session.add(
                Subscriber(
                    email="ada@example.org",
                    frequency="weekly",
                    confirmed_at=utcnow(),
                    min_upvotes=0,
                    bounces=0,
                )
            )
        manage = re.search(r'href="(/subscribe/manage/[^"]+)"', http.get("/settings").text)
        assert manage is not None
        assert "ada@example.org" in http.get(manage.group(1)).text
    site.engine.dispose()
