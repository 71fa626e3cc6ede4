"""The personal digest (issue 17, point 6) over a real SMTP server: a member who asked for it
gets "For you" (their model's best picks) and "Changed" (what changed on the papers they keep)
before trending and topics; others get the digest as before; each paper and each change once,
also across a deferred send and a second run; the browser copy shows the same sections."""

from __future__ import annotations

import re
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from dailypapers.database import utcnow
from dailypapers.digests.compose import Digest, Note
from dailypapers.digests.models import DigestSend, SentPaper, Subscriber
from dailypapers.digests.schedule import daily_period
from dailypapers.foryou.changes import changed_for
from dailypapers.foryou.digest import PersonalDigest, change_note
from dailypapers.foryou.memo import ForYouMemo
from dailypapers.foryou.service import for_you
from dailypapers.library.service import add_paper, create_collection
from dailypapers.members.accounts import create_member
from dailypapers.members.models import Member
from dailypapers.papers.models import Paper

from .conftest import LiveServer, MailSink
from .test_accounts import PASSWORD
from .test_digests import WEEKDAYS, Site, digest_day

FOR_YOU = 5  # compose.FOR_YOU_PAPERS


@pytest.fixture
def recent_rows(hf_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The real papers of the last five featured days of the shared file."""
    days = sorted({row["featured_date"] for row in hf_rows if row.get("featured_date")})[-5:]
    return [row for row in hf_rows if row.get("featured_date") in days]


class PersonalSite(Site):
    """The digests' test site with For you's memo (what `personal_sections` needs of a Site)."""

    def __init__(self, folder: Path, rows: list[dict[str, Any]], sink: MailSink) -> None:
        super().__init__(folder, rows, sink)
        self.for_you_memo = ForYouMemo(self.factory)
        self.personal = PersonalDigest(self)

    def member(self, name: str, *, personal: bool, kept: list[int]) -> int:
        """A member subscribed to the daily digest, keeping `kept` in a collection."""
        with self.factory() as session, session.begin():
            member = create_member(session, name, f"{name}@example.org", PASSWORD)
            member.personal_digest = personal
            shelf = create_collection(session, member, "Reading list")
            for paper_id in kept:
                add_paper(session, shelf, paper_id)
            session.add(
                Subscriber(
                    email=f"{name}@example.org",
                    member_id=member.id,
                    frequency="daily",
                    min_upvotes=0,
                    bounces=0,
                    confirmed_at=utcnow(),
                )
            )
            return member.id

    def change(self, paper_id: int, **values: Any) -> None:
        with self.factory() as session, session.begin():
            session.execute(update(Paper).where(Paper.id == paper_id).values(**values))


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def titles(site: Site, paper_ids: list[int]) -> list[str]:
    with site.factory() as session:
        rows = session.execute(select(Paper.id, Paper.title).where(Paper.id.in_(paper_ids)))
        found = {paper_id: title for paper_id, title in rows}
    return [found[i] for i in paper_ids]


def section(text: str, heading: str) -> str:
    """The lines of a text digest's section, up to the next heading in capitals."""
    found = re.search(
        rf"^{re.escape(heading)}\n(.*?)(?=^[A-Z][A-Z ,\"']+\n|^--$)", text, re.S | re.M
    )
    assert found, f"no {heading} in {text[:400]!r}"
    return found.group(1)


def test_a_members_personal_digest_opens_with_for_you_and_changed_and_others_do_not(
    tmp_path: Path, recent_rows: list[dict[str, Any]], mail_sink: MailSink, artifacts_dir: Path
) -> None:
    site = PersonalSite(tmp_path, recent_rows, mail_sink)
    day = digest_day(recent_rows)
    with site.factory() as session:
        by_arxiv = {a: i for a, i in session.execute(select(Paper.arxiv_id, Paper.id))}
    # Three papers of the last featured day sharing a keyword phrase: a reader's interest.
    latest = max(row["featured_date"] for row in recent_rows)
    kept_rows = [r for r in recent_rows if r["featured_date"] == latest and not r.get("github_url")]
    kept = [by_arxiv[r["arxiv_id"]] for r in kept_rows[:3]]
    assert len(kept) == 3
    ada = site.member("ada", personal=True, kept=kept)
    site.member("bob", personal=False, kept=kept)
    site.subscribers(1)  # an address without an account

    # Expected picks: the member's own For you, as the page ranks it (nothing sent yet).
    with site.factory() as session:
        page = for_you(session, site.for_you_memo, ada, limit=FOR_YOU)
    assert not page.cold_start and len(page.picks) >= FOR_YOU
    expected = page.picks[:FOR_YOU]
    assert not {p.paper_id for p in expected} & set(kept)

    site.change(kept[0], github_url="https://github.com/example/watched")
    with site.factory() as session:
        [change] = changed_for(session, ada, since=utcnow() - timedelta(minutes=1))
    report = site.send(day, personal=site.personal)
    assert (report.sent, report.failed, report.deferred) == (3, 0, 0)

    [mail] = mail_sink.wait_for("ada@example.org")
    text, html = body(mail, "plain"), body(mail, "html")
    (artifacts_dir / "personal-digest.html").write_text(html)  # to look at
    (artifacts_dir / "personal-digest.txt").write_text(text)
    assert text.index("FOR YOU") < text.index("CHANGED") < text.index("TRENDING")
    picks = section(text, "FOR YOU")
    positions = [picks.index(title) for title in titles(site, [p.paper_id for p in expected])]
    assert positions == sorted(positions)  # the model's order
    for pick in expected:
        assert f"Why: {pick.reasons[0]}" in picks
    changed = section(text, "CHANGED, IN YOUR COLLECTIONS")
    assert titles(site, [kept[0]])[0] in changed and change_note(change) in changed
    assert "https://github.com/example/watched" in changed
    assert "For you</h2>" in html and "Changed, in your collections</h2>" in html
    assert html.index("For you</h2>") < html.index("Trending</h2>")
    assert "in your collection Reading list" in html
    # Each paper once in the letter: For you's picks are not repeated under trending.
    for title in titles(site, [p.paper_id for p in expected]):
        assert text.count(title) == 1

    for other in ("bob@example.org", "reader0@example.org"):
        [plain] = mail_sink.wait_for(other)
        other_text = body(plain, "plain")
        assert "FOR YOU" not in other_text and "CHANGED" not in other_text
        assert "TRENDING" in other_text and "For you</h2>" not in body(plain, "html")

    with site.factory() as session:
        ledger = session.scalars(
            select(DigestSend).join(Subscriber).where(Subscriber.member_id == ada)
        ).one()
        sent = set(
            session.scalars(
                select(SentPaper.paper_id)
                .join(Subscriber, Subscriber.id == SentPaper.subscriber_id)
                .where(Subscriber.member_id == ada)
            )
        )
    assert ledger.sections is not None
    assert [i for i, _ in ledger.sections["for_you"]] == [p.paper_id for p in expected]
    assert [i for i, _ in ledger.sections["changed"]] == [kept[0]]
    assert {p.paper_id for p in expected} | {kept[0]} <= sent

    # The browser copy shows the same sections.
    view = re.search(r"View in a browser: (\S+)", text)
    assert view is not None
    with LiveServer(site.settings, port=site.port) as server:
        copy = httpx.get(view.group(1).replace(site.settings.base_url, server.url))
    assert copy.status_code == 200
    assert "For you</h2>" in copy.text and "Changed, in your collections</h2>" in copy.text
    for title in titles(site, [p.paper_id for p in expected]):
        assert title.replace("&", "&amp;")[:40] in copy.text
    assert "https://github.com/example/watched" in copy.text

    # Exactly once: the same period again sends nothing.
    again = site.send(day, personal=site.personal)
    assert again.sent == 0 and again.already_done == 3 and len(mail_sink.messages) == 3

    # The next digest: no paper again, the told change not again, a new change told.
    site.change(kept[1], version=9)
    next_day = day + timedelta(days=1)
    while next_day.weekday() not in WEEKDAYS:
        next_day += timedelta(days=1)
    later = site.send(next_day, personal=site.personal)
    assert later.failed == 0
    [_, second] = mail_sink.wait_for("ada@example.org", 2)
    second_text = body(second, "plain")
    assert "New version on arXiv: v9" in second_text
    assert "https://github.com/example/watched" not in second_text
    for title in titles(site, [p.paper_id for p in expected]):
        assert title not in second_text
    with site.factory() as session:
        bob_digests = session.scalars(
            select(DigestSend.sections)
            .join(Subscriber)
            .join(Member, Member.id == Subscriber.member_id)
            .where(Member.username == "bob")
        ).all()
    assert all(not (s or {}).get("for_you") and not (s or {}).get("changed") for s in bob_digests)
    site.for_you_memo.close()
    site.engine.dispose()


def test_a_deferred_personal_digest_is_sent_later_as_it_was_composed(
    tmp_path: Path, recent_rows: list[dict[str, Any]], mail_sink: MailSink
) -> None:
    site = PersonalSite(tmp_path, recent_rows, mail_sink)
    with site.factory() as session:
        kept = list(session.scalars(select(Paper.id).order_by(Paper.id).limit(3)))
    ada = site.member("ada", personal=True, kept=kept)
    refusals = iter(range(4))  # the first attempt and its three retries: "try later"
    mail_sink.reply = lambda message: "451 try later" if next(refusals, None) is not None else None
    day = digest_day(recent_rows)
    first = site.send(day, personal=site.personal)
    assert (first.sent, first.deferred) == (0, 1) and mail_sink.messages == []
    with site.factory() as session:
        row = session.scalars(select(DigestSend)).one()
        assert row.status == "sending" and row.sections is not None
        composed = [i for i, _ in row.sections["for_you"]]
    assert len(composed) == FOR_YOU
    # Meanwhile the member changes their For you; the digest still goes out as composed.
    with site.factory() as session, session.begin():
        session.execute(update(Member).where(Member.id == ada).values(for_you_days=2))
    second = site.send(day, personal=site.personal)
    assert second.sent == 1
    [mail] = mail_sink.wait_for("ada@example.org")
    picks = section(body(mail, "plain"), "FOR YOU")
    positions = [picks.index(title) for title in titles(site, composed)]
    assert positions == sorted(positions)
    site.for_you_memo.close()
    site.engine.dispose()


def test_an_old_ledger_layout_without_personal_sections_still_reads() -> None:
    subscriber = Subscriber(id=1, email="old@example.org")
    layout = {
        "start": "2026-08-20",
        "end": "2026-08-20",
        "sent_on": "2026-08-21",
        "trending": [3, 4],
        "topics": [["kv cache", [5]]],
    }
    digest = Digest.from_layout(subscriber, "daily", "daily:2026-08-21", layout)
    assert (digest.for_you, digest.changed, digest.changes_until) == ([], [], None)
    assert digest.paper_ids == [3, 4, 5]
    period = daily_period(date(2026, 8, 21), WEEKDAYS)
    assert period is not None
    new = Digest(subscriber, period, [3], for_you=[Note(7, "Like X")], changed=[Note(3, "v2")])
    new.changes_until = utcnow()
    again = Digest.from_layout(subscriber, "daily", period.key, new.layout())
    assert (again.for_you, again.changed) == (new.for_you, new.changed)
    assert again.changes_until == new.changes_until
    assert again.paper_ids == [7, 3]  # personal first, each paper once


class BrokenSections:
    """Personal sections that fail (a bug, a database away): the digest goes out without them."""

    def prepare(self, *args: Any) -> None:
        pass

    def for_you(self, *args: Any) -> list[Note]:
        raise RuntimeError("the model is away")

    def changed(self, *args: Any) -> list[Note]:
        raise AssertionError("not reached")


def test_failing_personal_sections_leave_the_digest_as_before(
    tmp_path: Path, recent_rows: list[dict[str, Any]], mail_sink: MailSink
) -> None:
    site = PersonalSite(tmp_path, recent_rows, mail_sink)
    site.member("ada", personal=True, kept=[])
    report = site.send(digest_day(recent_rows), personal=BrokenSections())
    assert (report.sent, report.failed) == (1, 0)
    [mail] = mail_sink.wait_for("ada@example.org")
    text = body(mail, "plain")
    assert "FOR YOU" not in text and "TRENDING" in text
    with site.factory() as session:
        sections = session.scalars(select(DigestSend.sections)).one()
    assert sections is not None and sections["for_you"] == [] and sections["changes_until"] is None
    site.for_you_memo.close()
    site.engine.dispose()
