"""Subscribing to the digest: double opt-in, changing topics and frequency, unsubscribing.

Nothing is sent to an address before its owner follows the emailed link, and an address gets
at most one confirmation email an hour, whoever asks (a form cannot be used to flood it). The
answer to a request never says whether the address is subscribed already: its owner is told
by email instead.

The functions change rows and queue mail in the caller's session; the caller commits (and then
nudges the outbox).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dailypapers.database import utcnow
from dailypapers.digests import emails
from dailypapers.digests.letters import DigestTokens
from dailypapers.digests.models import FREQUENCIES, MAX_TOPICS, Subscriber, Topic
from dailypapers.mail.addresses import BadAddress, mailbox
from dailypapers.mail.outbox import queue_mail
from dailypapers.signing import BadLink, ExpiredLink, Signer

CONFIRM_MAX_AGE = 7 * 24 * 3600
CONFIRMATION_RESEND_AFTER = timedelta(hours=1)  # one pending confirmation email at a time


class SubscriptionProblem(ValueError):
    """A request that cannot go ahead; the message is safe to show next to the form."""


class LinkRefused(ValueError):
    """A confirmation link that does not work: a title and a sentence for the page."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title


def topic_lines(text: str) -> list[str]:
    """One topic per line, spaces tidied, blank lines and repeats dropped."""
    lines = [" ".join(line.split())[:250] for line in text.splitlines()]
    return list(dict.fromkeys(line for line in lines if line))


class Subscriptions:
    """Subscription operations for one site: the signer of its links, and the address and
    name its emails give."""

    def __init__(self, signer: Signer, base_url: str, site_name: str) -> None:
        self.signer = signer
        self.tokens = DigestTokens(signer)
        self.base_url = base_url
        self.site_name = site_name

    def manage_path(self, subscriber_id: int) -> str:
        """The page to change topics and frequency (its token is the unsubscribe token)."""
        return f"/subscribe/manage/{self.tokens.unsubscribe(subscriber_id)}"

    def subscribe(self, session: Session, email: str, frequency: str, topics: str) -> str:
        """Record the request and queue the confirmation email (or, to an address already
        subscribed, the link to its settings); the normalised address. SubscriptionProblem
        when the form is not right."""
        try:
            address = mailbox(email)  # one mailbox, in the form the hourly limit is keyed on
        except BadAddress as problem:
            raise SubscriptionProblem(str(problem)) from None
        queries = _form_topics(frequency, topics)
        subscriber, new = _subscriber_of(session, address, frequency)
        if new:
            session.add_all(Topic(subscriber_id=subscriber.id, query=q) for q in queries)
        sent_at = subscriber.confirmation_sent_at
        if sent_at is not None and utcnow() - sent_at < CONFIRMATION_RESEND_AFTER:
            return address  # at most one email an hour to an address, whoever asks
        subscriber.confirmation_sent_at = utcnow()
        if subscriber.active:  # say so to the owner only
            message = emails.already_subscribed(
                address,
                frequency=subscriber.frequency,
                manage_url=self.base_url + self.manage_path(subscriber.id),
                site_name=self.site_name,
            )
        else:
            token = self.signer.sign([subscriber.id, frequency, queries], "confirm-subscription")
            message = emails.confirm_subscription(
                address,
                frequency=frequency,
                confirm_url=f"{self.base_url}/subscribe/confirm/{token}",
                site_name=self.site_name,
            )
        queue_mail(session, message)
        return address

    def confirm(self, session: Session, token: str) -> Subscriber:
        """Start (or restart) the digest the link was sent for, with the topics and frequency
        asked for then. LinkRefused when the link does not work."""
        try:
            subscriber_id, frequency, queries = self.signer.read(
                token, "confirm-subscription", max_age=CONFIRM_MAX_AGE
            )
        except ExpiredLink:
            raise LinkRefused(
                "This link has expired", "Subscribe again to get a new one."
            ) from None
        except (BadLink, ValueError, TypeError):
            raise LinkRefused(
                "This link does not work", "Check that it was copied whole."
            ) from None
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise LinkRefused("This link does not work", "That subscription is gone.")
        _start(session, subscriber, frequency, queries)
        return subscriber

    def subscribe_confirmed(
        self, session: Session, address: str, frequency: str, topics: str
    ) -> Subscriber:
        """Start the digest at once for an address already proven: a signed-in member's own
        confirmed address needs no second confirmation email. SubscriptionProblem when the
        form is not right."""
        queries = _form_topics(frequency, topics)
        subscriber, _ = _subscriber_of(session, address, frequency)
        _start(session, subscriber, frequency, queries)
        return subscriber

    def subscriber(self, session: Session, token: str) -> Subscriber | None:
        """The subscriber an unsubscribe or manage link names (None for a broken link)."""
        subscriber_id = self.tokens.read_unsubscribe(token)
        return session.get(Subscriber, subscriber_id) if subscriber_id else None

    def settings_path(self, session: Session, email: str | None) -> str:
        """Where a member changes the digest of their address: its manage page, or the page
        to subscribe."""
        subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.email == email))
        return "/subscribe" if subscriber_id is None else self.manage_path(subscriber_id)


def topics_of(session: Session, subscriber: Subscriber) -> list[str]:
    return list(
        session.scalars(
            select(Topic.query).where(Topic.subscriber_id == subscriber.id).order_by(Topic.id)
        )
    )


def change(
    session: Session, subscriber: Subscriber, frequency: str, topics: str, min_upvotes: int
) -> None:
    """New frequency, topics and upvote threshold; SubscriptionProblem when not allowed."""
    queries = topic_lines(topics)
    if frequency not in FREQUENCIES or len(queries) > MAX_TOPICS:
        raise SubscriptionProblem(f"Choose daily or weekly, and at most {MAX_TOPICS} topics.")
    subscriber.frequency, subscriber.min_upvotes = frequency, min_upvotes
    _replace_topics(session, subscriber, queries)


def unsubscribe(subscriber: Subscriber) -> None:
    """No more digests to this address (idempotent)."""
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = utcnow()


def _replace_topics(session: Session, subscriber: Subscriber, queries: list[str]) -> None:
    session.execute(delete(Topic).where(Topic.subscriber_id == subscriber.id))
    session.add_all(Topic(subscriber_id=subscriber.id, query=q) for q in queries)


def _form_topics(frequency: str, topics: str) -> list[str]:
    """The topics of a subscribe form, one per line; SubscriptionProblem when the form is not
    right."""
    if frequency not in FREQUENCIES:
        raise SubscriptionProblem("Choose daily or weekly.")
    queries = topic_lines(topics)
    if len(queries) > MAX_TOPICS:
        raise SubscriptionProblem(f"Follow at most {MAX_TOPICS} topics ({len(queries)} given).")
    return queries


def _subscriber_of(session: Session, address: str, frequency: str) -> tuple[Subscriber, bool]:
    """The address's subscriber, and whether it was added now (not yet confirmed)."""
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == address))
    if subscriber is not None:
        return subscriber, False
    subscriber = Subscriber(email=address, frequency=frequency, min_upvotes=0, bounces=0)
    session.add(subscriber)
    session.flush()
    return subscriber, True


def _start(session: Session, subscriber: Subscriber, frequency: str, queries: list[str]) -> None:
    """Confirm (or restart) a digest with the frequency and topics asked for."""
    subscriber.confirmed_at = subscriber.confirmed_at or utcnow()
    if subscriber.unsubscribed_at is not None:  # subscribing again
        subscriber.unsubscribed_at, subscriber.stopped_reason, subscriber.bounces = None, None, 0
    subscriber.frequency = frequency if frequency in FREQUENCIES else "daily"
    if queries:
        _replace_topics(session, subscriber, queries[:MAX_TOPICS])
