"""The outbox: account and subscription mail leaves after the transaction that wrote it.

A route queues its email with `queue_mail(session, email)` in the transaction that makes the
change the email tells of (a sign-up, a subscription), so the mail of a sign-up that rolls back
is never sent, and a request never waits for an SMTP server. The job runner's "outbox" job calls
`deliver_outbox` about once a second, and at once when a route calls `site.nudge("outbox")`
after its commit.

Digests do not pass through here: each digest's row in the ledger (digests/delivery.py) is its
outbox entry, written by the sender as it goes, so 100,000 digests are not written twice.

Each message is sent once, as digests are:

1. *claim*: one conditional UPDATE (queued → sending, naming this process) that only one
   process can win, so two runners never send the same message (the runner's lease "outbox"
   only spares them the contention; `deliver_outbox` is safe without it);
2. send; the row is marked `sent` in a commit made once the whole message is with the server,
   before the final "." that asks it to deliver (see MailSender.send): killed before that
   commit, the server drops the message and it is sent again; killed after, it is delivered
   and recorded;
3. a temporary failure (connection refused, 4xx) puts it back in the queue after a growing
   delay, up to MAX_ATTEMPTS; a permanent one (5xx) marks it `failed` with the reason.

A message left `sending` by a process that is gone (or by a claim older than SENDING_LEASE) is
put back in the queue.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import cast

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.database import utcnow
from dailypapers.leases import process_alive, this_process
from dailypapers.mail.models import OutboxMessage
from dailypapers.mail.rendering import Email
from dailypapers.mail.sender import (
    MailError,
    MailSender,
    PermanentMailError,
    TemporaryMailError,
)

log = logging.getLogger(__name__)

OUTBOX = cast(Table, OutboxMessage.__table__)

# At most this many messages per call: the runner calls again a second later.
BATCH_SIZE = 100
# A temporary failure is retried after 30 s, 2 min, 8 min, … (at most 6 h apart); after
# MAX_ATTEMPTS tries (about a day and a half) the message is given up as failed.
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)
MAX_ATTEMPTS = 10
# Sending one message takes seconds (SMTP timeouts are 30 s); a claim older than this was
# abandoned by a process stuck or on a machine that is gone.
SENDING_LEASE = timedelta(minutes=15)


def queue_mail(session: Session, email: Email) -> OutboxMessage:
    """Add the email to the outbox in the caller's transaction (sent once that commits)."""
    now = utcnow()
    message = OutboxMessage(
        recipient=email.to,
        subject=email.subject,
        text_body=email.text,
        html_body=email.html,
        status="queued",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    return message


def retry_delay(attempts: int) -> timedelta:
    """How long a message waits after its `attempts`-th temporary failure."""
    return min(FIRST_RETRY * 4 ** (attempts - 1), LONGEST_RETRY)


def deliver_outbox(sessions: sessionmaker[Session], sender: MailSender) -> int:
    """Send the messages that are due, over one SMTP connection; returns how many were sent.
    Stops at the first temporary failure (the server is likely down or busy: the next call
    tries again)."""
    sent = 0
    with sessions() as session:
        _take_back_abandoned(session)
        with sender.batch():
            for _ in range(BATCH_SIZE):
                message = _claim_next(session)
                if message is None:
                    break
                outcome = _send(session, sender, message)
                if outcome == "sent":
                    sent += 1
                elif outcome == "deferred":
                    break
    return sent


def _claim_next(session: Session) -> OutboxMessage | None:
    """The next due message, claimed for this process (committed); None when none is due."""
    me = this_process()
    while True:
        now = utcnow()
        candidate = session.scalar(
            select(OUTBOX.c.id)
            .where(OUTBOX.c.status == "queued", OUTBOX.c.next_attempt_at <= now)
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            .limit(1)
        )
        if candidate is None:
            session.rollback()
            return None
        claimed = session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id == candidate, OutboxMessage.status == "queued")
            .values(status="sending", claimed_by=me, claimed_at=now)
            .returning(OutboxMessage),
            execution_options={"populate_existing": True},
        ).first()
        session.commit()
        if claimed is not None:
            return claimed
        # Another process claimed it between the two statements: look again.


def _send(session: Session, sender: MailSender, message: OutboxMessage) -> str:
    """Send one claimed message and record the outcome: 'sent', 'deferred' or 'failed'."""
    email = sender.message(message.recipient, message.subject, message.text_body, message.html_body)

    def record_sent() -> None:
        """Runs just before the final "." of the SMTP conversation (see the module doc)."""
        _record(session, message, status="sent", sent_at=utcnow())

    try:
        sender.send(email, to=message.recipient, before_end=record_sent)
    except TemporaryMailError as error:
        attempts = message.attempts + 1
        if attempts < MAX_ATTEMPTS:
            retry_at = utcnow() + retry_delay(attempts)
            _record(
                session,
                message,
                error,
                status="queued",
                attempts=attempts,
                next_attempt_at=retry_at,
            )
        else:
            log.warning(
                "mail %s to %s given up after %s tries: %s",
                message.id,
                message.recipient,
                attempts,
                error,
            )
            _record(session, message, error, status="failed", attempts=attempts)
        return "deferred"
    except PermanentMailError as error:
        log.warning("mail %s to %s refused: %s", message.id, message.recipient, error)
        _record(session, message, error, status="failed")
        return "failed"
    return "sent"


def _record(
    session: Session, message: OutboxMessage, error: MailError | None = None, **values: object
) -> None:
    """Set the message's fields (after a failure: why, and that it is neither sent nor
    claimed any more) and commit."""
    if error is not None:
        values.update(sent_at=None, claimed_by=None, last_error=str(error)[:500])
    for name, value in values.items():
        setattr(message, name, value)
    session.commit()


def _take_back_abandoned(session: Session) -> None:
    """Put back in the queue the messages claimed by a process that is gone, or claimed too
    long ago (a process stuck, or on a machine that stopped)."""
    stale_before = utcnow() - SENDING_LEASE
    claims = session.execute(
        select(OUTBOX.c.claimed_by, func.min(OUTBOX.c.claimed_at))
        .where(OUTBOX.c.status == "sending")
        .group_by(OUTBOX.c.claimed_by)
    ).all()
    gone = [holder for holder, _ in claims if holder and process_alive(holder) is False]
    if gone or any(oldest < stale_before for _, oldest in claims):
        session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.status == "sending")
            .where(or_(OUTBOX.c.claimed_at < stale_before, OUTBOX.c.claimed_by.in_(gone)))
            .values(status="queued", claimed_by=None)
        )
        session.commit()
    else:
        session.rollback()
