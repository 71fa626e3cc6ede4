"""The outbox over a real SMTP server (aiosmtpd on loopback): mail leaves only after its
transaction commits, once even with two senders, later after a temporary failure, never after
a permanent one; a message abandoned mid-send by a dead process is sent again."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from alembic import command
from sqlalchemy import inspect, select, update

from dailypapers.database import alembic_config, utcnow
from dailypapers.mail.models import OutboxMessage
from dailypapers.mail.outbox import MAX_ATTEMPTS, deliver_outbox, queue_mail, retry_delay
from dailypapers.mail.rendering import Email
from dailypapers.mail.sender import MailSender
from dailypapers.members.emails import confirm_address

from .conftest import MailSink


def _email(to: str, subject: str = "Hello") -> Email:
    return Email(to=to, subject=subject, text=f"Text for {to}", html=f"<p>HTML for {to}</p>")


def _rows(database: Any) -> list[OutboxMessage]:
    with database() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_mail_leaves_only_after_commit(database: Any, mail_sink: MailSink) -> None:
    sender = MailSender(mail_sink.url, "Daily Papers <papers@example.org>")
    with database() as session:
        queue_mail(session, _email("rolled-back@example.org"))
        session.rollback()
    with database() as session, session.begin():
        queue_mail(session, _email("ada@example.org"))
    assert deliver_outbox(database, sender) == 1
    [message] = mail_sink.wait_for("ada@example.org")
    assert message["Subject"] == "Hello"
    assert message.get_body(("plain",)).get_content().strip() == "Text for ada@example.org"
    assert "HTML for ada@example.org" in message.get_body(("html",)).get_content()
    assert mail_sink.to("rolled-back@example.org") == []
    [row] = _rows(database)
    assert row.status == "sent" and row.sent_at is not None
    assert deliver_outbox(database, sender) == 0  # nothing more to send


def test_an_email_function_renders_text_and_html() -> None:
    email = confirm_address(
        "<b>@example.org", username="ada<", confirm_url="http://x/confirm/t", site_name="Papers"
    )
    assert email.subject == "Confirm your email address for Papers"
    assert "http://x/confirm/t" in email.text and "Welcome to Papers, ada<!" in email.text
    html = email.html or ""
    assert "ada&lt;" in html and 'href="http://x/confirm/t"' in html and "<b>" not in html


def test_temporary_failures_wait_and_permanent_ones_stop(
    database: Any, mail_sink: MailSink
) -> None:
    sender = MailSender(mail_sink.url, "papers@example.org")
    refused_once: set[str] = set()

    def reply(message: Any) -> str | None:
        to = message["To"]
        if to == "later@example.org" and to not in refused_once:
            refused_once.add(to)
            return "451 4.3.0 try again later"
        if to == "nobody@example.org":
            return "550 5.1.1 no such user"
        return None

    mail_sink.reply = reply
    with database() as session, session.begin():
        for to in ("nobody@example.org", "later@example.org", "fine@example.org"):
            queue_mail(session, _email(to))
    # The permanent refusal is recorded; the temporary one ends the round.
    assert deliver_outbox(database, sender) == 0
    nobody, later, fine = _rows(database)
    assert nobody.status == "failed" and "550" in (nobody.last_error or "")
    assert later.status == "queued" and later.attempts == 1 and "451" in (later.last_error or "")
    assert later.next_attempt_at > utcnow() + retry_delay(1) - timedelta(seconds=5)
    assert fine.status == "queued" and fine.attempts == 0
    assert deliver_outbox(database, sender) == 1  # the next round: the one that is due
    assert [m["To"] for m in mail_sink.messages] == ["fine@example.org"]
    with database() as session, session.begin():
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    assert deliver_outbox(database, sender) == 1
    assert sorted(m["To"] for m in mail_sink.messages) == ["fine@example.org", "later@example.org"]
    assert deliver_outbox(database, sender) == 0  # the failed one is not tried again


def test_a_message_is_given_up_after_the_last_attempt(database: Any) -> None:
    down = MailSink()  # never started: connection refused
    sender = MailSender(down.url, "papers@example.org")
    with database() as session, session.begin():
        message = queue_mail(session, _email("ada@example.org"))
        message.attempts = MAX_ATTEMPTS - 1
    assert deliver_outbox(database, sender) == 0
    [row] = _rows(database)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS


def test_two_senders_send_each_message_once(database: Any, mail_sink: MailSink) -> None:
    with database() as session, session.begin():
        for i in range(30):
            queue_mail(session, _email(f"reader{i}@example.org"))
    counts: list[int] = []

    def send() -> None:
        counts.append(deliver_outbox(database, MailSender(mail_sink.url, "papers@example.org")))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 30
    received = [m["To"] for m in mail_sink.messages]
    assert len(received) == 30 and len(set(received)) == 30
    assert {row.status for row in _rows(database)} == {"sent"}


def test_a_message_abandoned_mid_send_is_sent_again(database: Any, mail_sink: MailSink) -> None:
    sender = MailSender(mail_sink.url, "papers@example.org")
    with database() as session, session.begin():
        gone = queue_mail(session, _email("gone@example.org"))
        gone.status, gone.claimed_by, gone.claimed_at = "sending", "no-such-host:1", utcnow()
        stale = queue_mail(session, _email("stale@example.org"))
        stale.status, stale.claimed_by = "sending", "another-machine:42"
        stale.claimed_at = utcnow() - timedelta(hours=1)
        busy = queue_mail(session, _email("busy@example.org"))
        busy.status, busy.claimed_by, busy.claimed_at = "sending", "another-machine:43", utcnow()
    # A process on another machine: left alone until its claim is old; one of this machine
    # that is gone: taken back at once (here the host name is not this machine's, so only the
    # stale claim comes back).
    assert deliver_outbox(database, sender) == 1
    assert [m["To"] for m in mail_sink.messages] == ["stale@example.org"]
    with database() as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.recipient == "gone@example.org")
            .values(claimed_by=_dead_process_here())
        )
    assert deliver_outbox(database, sender) == 1
    assert sorted(m["To"] for m in mail_sink.messages) == ["gone@example.org", "stale@example.org"]


def _dead_process_here() -> str:
    import subprocess
    import sys

    from dailypapers.leases import this_process

    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return f"{this_process().rpartition(':')[0]}:{finished.pid}"


def test_the_outbox_migration_goes_down_and_up(database: Any) -> None:
    engine = database.kw["bind"]
    command.downgrade(alembic_config(engine), "0013")
    assert not inspect(engine).has_table("mail_outbox")
    command.upgrade(alembic_config(engine), "head")
    assert inspect(engine).has_table("mail_outbox")
