"""One address, one mailbox: every address the site takes is exactly one addr-spec, in one
canonical form (the key of the limit of one email an hour), and mail goes to that one address
whatever its headers say."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.message import EmailMessage
from itertools import count
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from dailypapers.digests.models import Subscriber
from dailypapers.mail.addresses import BadAddress, mailbox
from dailypapers.mail.models import OutboxMessage
from dailypapers.mail.outbox import deliver_outbox, queue_mail
from dailypapers.mail.rendering import Email
from dailypapers.mail.sender import MailSender, PermanentMailError
from dailypapers.members.models import Member

from .conftest import Community, free_port
from .test_accounts import PASSWORD, csrf_of

# Each of these reached several recipients, and dodged the one-email-an-hour rule.
SEVERAL_RECIPIENTS = [
    "victim@example.org,attacker@example.net",
    "victim@example.org,attacker",
    "a;b@example.org",
    "=?utf-8?q?attacker=40evil=2Eorg=2C?=victim@example.org",
    "Victim <victim@example.org>",
    '"attacker@evil.org,"@example.org',
    "victim@example.org\r\nBcc: attacker@example.net",
]
_clients = count(1)


def as_new_client() -> dict[str, str]:
    """A client address of its own (the test server trusts X-Forwarded-For from loopback), so
    that the per-address limits on sign-up and subscribing stay out of the way."""
    client = next(_clients)
    return {"X-Forwarded-For": f"10.1.{client // 250}.{client % 250 + 1}"}


def post_form(community: Community, path: str, data: dict[str, str]) -> httpx.Response:
    with httpx.Client(base_url=community.url, headers=as_new_client(), timeout=30) as http:
        token = csrf_of(http.get(path).text)
        return http.post(path, data={"csrf_token": token, **data})


def sign_up(community: Community, username: str, email: str) -> httpx.Response:
    data = {"username": username, "email": email, "password": PASSWORD}
    return post_form(community, "/signup", data)


def subscribe(community: Community, email: str) -> httpx.Response:
    return post_form(community, "/subscribe", {"email": email, "frequency": "daily"})


@pytest.mark.parametrize("address", [*SEVERAL_RECIPIENTS, "jürgen@example.org", "", "a" * 400])
def test_anything_but_one_mailbox_is_refused_with_a_reason(address: str) -> None:
    with pytest.raises(BadAddress, match="Enter an email address such as ada@example.org"):
        mailbox(address)


def test_addresses_have_one_canonical_form() -> None:
    assert mailbox(" Ada@Example.ORG ") == "ada@example.org"
    assert mailbox("ada@Bücher.DE") == mailbox("ADA@xn--bcher-kva.de") == "ada@xn--bcher-kva.de"
    assert "outside ASCII" in str(pytest.raises(BadAddress, mailbox, "jürgen@example.org").value)


def test_sign_up_and_subscribe_refuse_several_recipients(community: Community) -> None:
    for i, address in enumerate([*SEVERAL_RECIPIENTS, "jürgen@example.org"]):
        refused = sign_up(community, f"someone{i}", address)
        assert refused.status_code == 422, address
        assert "Enter an email address such as ada@example.org" in refused.text
        refused = subscribe(community, address)
        assert refused.status_code == 422 and "Enter an email address" in refused.text, address
    time.sleep(0.5)  # the outbox would have sent by now
    assert community.mail.messages == []
    with community.factory() as session:  # nothing stored: no member, subscriber or email
        for model in (Member, Subscriber, OutboxMessage):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model


def test_a_non_ascii_local_part_is_refused_before_anything_is_stored(
    community: Community,
) -> None:
    refused = sign_up(community, "juergen", "jürgen@example.org")
    assert refused.status_code == 422 and "outside ASCII" in refused.text
    assert subscribe(community, "jürgen@example.org").status_code == 422
    with community.factory() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 0
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_one_email_an_hour_whatever_the_spelling_of_the_address(community: Community) -> None:
    for spelling in ("ada@bücher.de", "ADA@xn--bcher-kva.de", "Ada@BÜCHER.de"):
        answer = subscribe(community, spelling)
        assert answer.status_code == 200 and "ada@xn--bcher-kva.de" in answer.text
    community.mail.wait_for("ada@xn--bcher-kva.de")
    time.sleep(0.5)
    assert len(community.mail.messages) == 1
    assert sign_up(community, "ada", "Ada@Bücher.DE").status_code == 200
    with community.factory() as session:
        assert session.scalars(select(Subscriber.email)).all() == ["ada@xn--bcher-kva.de"]
        assert session.scalars(select(Member.email)).all() == ["ada@xn--bcher-kva.de"]


class Envelopes:
    """An SMTP server on loopback that keeps each message's envelope recipients."""

    def __init__(self, **smtp_options: Any) -> None:
        from aiosmtpd.controller import Controller

        self.recipients: list[list[str]] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **smtp_options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def envelopes() -> Iterator[Envelopes]:
    server = Envelopes()
    server.controller.start()
    yield server
    server.controller.stop()


def test_the_envelope_names_the_one_address_given_never_the_headers(
    envelopes: Envelopes,
) -> None:
    sender = MailSender(f"smtp://127.0.0.1:{envelopes.port}", "Papers <papers@example.org>")
    message = sender.message("victim@example.org, attacker@example.net", "Hello", "Text")
    sender.send(message, to="victim@example.org")
    encoded = EmailMessage()
    encoded["To"] = "=?utf-8?q?attacker=40evil=2Eorg=2C?=victim@example.org"
    encoded["Subject"] = "Hello"
    encoded.set_content("Text")
    sender.send(encoded, to="victim@example.org")
    assert envelopes.recipients == [["victim@example.org"], ["victim@example.org"]]


def test_an_address_stored_before_goes_out_with_smtputf8_or_fails_cleanly(
    envelopes: Envelopes, database: Any
) -> None:
    sender = MailSender(f"smtp://127.0.0.1:{envelopes.port}", "papers@example.org")
    sender.send(sender.message("jürgen@example.org", "Hallo", "Text"), to="jürgen@example.org")
    assert envelopes.recipients == [["jürgen@example.org"]]  # the server offers SMTPUTF8

    plain = Envelopes(enable_SMTPUTF8=False)
    plain.controller.start()
    try:
        sender = MailSender(f"smtp://127.0.0.1:{plain.port}", "papers@example.org")
        message = sender.message("jürgen@example.org", "Hallo", "Text")
        with pytest.raises(PermanentMailError, match="SMTPUTF8"):
            sender.send(message, to="jürgen@example.org")
        with database() as session:  # through the outbox: failed with the reason, no crash
            queue_mail(session, Email("jürgen@example.org", "Hallo", "Text"))
            session.commit()
        assert deliver_outbox(database, sender) == 0
        with database() as session:
            [row] = session.scalars(select(OutboxMessage)).all()
            assert row.status == "failed" and "SMTPUTF8" in (row.last_error or "")
        assert plain.recipients == []
    finally:
        plain.controller.stop()
