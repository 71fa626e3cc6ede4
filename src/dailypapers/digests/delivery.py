"""Sending the due digests exactly once.

For each active subscriber of the period's frequency, in id order:

1. a ledger row (subscriber, period) that is `sent`, `empty` or `failed` means done: skip;
2. compose; an empty digest is recorded as `empty` and not sent;
3. *claim*: insert the ledger row as `sending` (with the Message-ID and the papers) and commit,
   so that another worker skips it (the unique key refuses a second row);
4. send through SMTP, retrying temporary failures (connection refused, 4xx) with backoff;
5. on success mark it `sent` and record the papers as sent to this reader, in one commit; on a
   permanent failure (5xx) mark it `failed` and count a bounce (at `MAX_BOUNCES` in a row the
   address is stopped); after the last temporary failure leave it `sending` for the next run.

The ledger records `sent` in the middle of the SMTP conversation: after the whole message has
gone to the server, before the final "." that asks the server to deliver it. Killed before that
commit, the server drops the unfinished message and the next run sends it (same papers, same
Message-ID); killed after it, the message is delivered and recorded. The gap left is the end
of the COMMIT and the write of those three bytes: a kill landing exactly there loses that one
digest (recorded as sent, never delivered). Measured once at 100,000 digests with a random kill:
see docs/benchmarks.md.

The ledger is the digests' outbox: they do not pass through mail/outbox.py (which holds account
and subscription mail), so 100,000 digests are written once, by the sender, as it goes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.database import insert_ignoring_duplicates, utcnow
from dailypapers.digests.compose import Composer, Digest, PersonalSections, TopicSection
from dailypapers.digests.letters import Cards, DigestTokens, letter, message_id
from dailypapers.digests.models import DigestSend, SentPaper, Subscriber
from dailypapers.digests.schedule import DigestPeriod
from dailypapers.leases import process_alive, this_process
from dailypapers.mail.sender import MailSender, PermanentMailError, TemporaryMailError
from dailypapers.search.meaning import MeaningSearch
from dailypapers.search.protocols import KeywordSearch
from dailypapers.settings import Settings
from dailypapers.signing import Signer

log = logging.getLogger(__name__)

# Plain tables: the hot path writes with Core statements, not the ORM's unit of work.
LEDGER = cast(Table, DigestSend.__table__)
SUBSCRIBERS = cast(Table, Subscriber.__table__)
SENT_PAPERS = cast(Table, SentPaper.__table__)

MAX_BOUNCES = 3
# A digest claimed by a sender on another machine is taken over after this long (one on this
# machine as soon as its process is gone).
SENDING_LEASE = timedelta(minutes=15)
RETRY_DELAYS = (1.0, 4.0, 15.0)  # seconds between attempts after a temporary failure


@dataclass(slots=True)
class SendReport:
    sent: int = 0
    empty: int = 0
    already_done: int = 0
    failed: int = 0  # permanent failures
    deferred: int = 0  # temporary failures left for the next run
    in_progress: int = 0  # being sent by another sender that is still running
    seconds: float = 0.0


class DigestSite(Protocol):
    """What sending digests needs of its site (a `Site` is one): its settings (address and
    name), the signer of the letters' links, and the mail sender."""

    @property
    def settings(self) -> Settings: ...

    @property
    def signer(self) -> Signer: ...

    @property
    def mail(self) -> MailSender: ...


@dataclass(frozen=True, slots=True)
class SiteMail:
    """What one run writes into every letter, read once from the site."""

    base_url: str
    site_name: str
    tokens: DigestTokens
    sender: MailSender

    @classmethod
    def of(cls, site: DigestSite) -> SiteMail:
        settings = site.settings
        return cls(settings.base_url, settings.site_name, DigestTokens(site.signer), site.mail)


def send_digests(
    factory: sessionmaker[Session],
    period: DigestPeriod,
    site: DigestSite,
    *,
    keyword: KeywordSearch,
    meaning: MeaningSearch | None = None,
    personal: PersonalSections | None = None,
    dry_run: bool = False,
    on_progress: Callable[[SendReport], None] | None = None,
    sleep: Callable[[float], object] = time.sleep,
    share: tuple[int, int] = (0, 1),
    stopping: Callable[[], bool] = lambda: False,
) -> SendReport:
    """Send the period's due digests; with `share` (k, n), only those of subscribers whose id
    is k modulo n (one of n processes sending side by side). When `stopping()` turns true the
    message on the wire is finished and the run ends there (the rest is left for the next run).
    `personal` gives the personal sections (For you, Changed) of members who asked for them."""
    report = SendReport()
    mail = SiteMail.of(site)
    part, parts = share
    started = time.perf_counter()
    # expire_on_commit=False: the commit made just before the final SMTP dot returns at once.
    with factory(expire_on_commit=False) as session, mail.sender.batch():
        composer = Composer(session, period, keyword, meaning, personal)
        cards = Cards(mail.base_url)
        subscriber_ids = session.scalars(
            select(Subscriber.id)
            .where(
                Subscriber.frequency == period.frequency,
                Subscriber.confirmed_at.is_not(None),
                Subscriber.unsubscribed_at.is_(None),
                Subscriber.stopped_reason.is_(None),
                Subscriber.id % parts == part,
            )
            .order_by(Subscriber.id)
        ).all()
        done = {
            subscriber_id: status
            for subscriber_id, status in session.execute(
                select(DigestSend.subscriber_id, DigestSend.status).where(
                    DigestSend.period == period.key
                )
            )
        }
        finished = ("sent", "empty", "failed")
        composer.expect([i for i in subscriber_ids if done.get(i) not in finished])
        for subscriber_id in subscriber_ids:
            if stopping():
                break
            status = done.get(subscriber_id)
            if status in finished:
                report.already_done += 1
                continue
            subscriber = session.get(Subscriber, subscriber_id)
            assert subscriber is not None
            if status == "sending":  # claimed, not finished: ours to redo only if abandoned
                row = _take_over(session, subscriber_id, period)
                if row is None:
                    report.in_progress += 1
                    continue
                digest = _resumed(subscriber, period, row)
            else:
                digest = composer.compose(subscriber)
                if dry_run:
                    report.sent += 0 if digest.empty else 1
                    report.empty += 1 if digest.empty else 0
                    continue
                row = _claim(session, subscriber, period, digest, mail.base_url)
                if row is None:  # another sender claimed it since we looked: it may yet fail,
                    report.in_progress += 1  # so this period is not done for us
                    continue
                if row.status == "empty":
                    report.empty += 1
                    continue
            _deliver(session, composer, cards, row, digest, mail, report, sleep, stopping)
            if on_progress is not None:
                report.seconds = time.perf_counter() - started
                on_progress(report)
    report.seconds = time.perf_counter() - started
    return report


def _claim(
    session: Session, subscriber: Subscriber, period: DigestPeriod, digest: Digest, base_url: str
) -> DigestSend | None:
    """Insert the ledger row and commit (a plain INSERT: the ORM's unit of work cost more than
    the rest of the claim). The returned row is a detached copy of what was written."""
    row = DigestSend(
        subscriber_id=subscriber.id,
        period=period.key,
        status="empty" if digest.empty else "sending",
        message_id=message_id(subscriber.id, period.key, base_url),
        papers=",".join(str(paper_id) for paper_id in digest.paper_ids),
        sections=digest.layout(),
        attempts=0,
        created_at=utcnow(),
        claimed_by=this_process(),
        claimed_at=utcnow(),
    )
    values = {c.key: getattr(row, c.key) for c in LEDGER.columns if c.key != "id"}
    try:
        result = session.connection().execute(insert(LEDGER).values(values))
        session.commit()
    except IntegrityError:  # another worker claimed it first
        session.rollback()
        return None
    row.id = result.inserted_primary_key[0]  # type: ignore[index]
    return row


def _take_over(session: Session, subscriber_id: int, period: DigestPeriod) -> DigestSend | None:
    """A `sending` row this process may finish: its own, or one whose sender is gone (a process
    of this machine that no longer runs, or a claim older than SENDING_LEASE), claimed for this
    process; None if another sender still works on it or took it over first."""
    row = session.scalar(
        select(DigestSend).where(
            DigestSend.subscriber_id == subscriber_id, DigestSend.period == period.key
        )
    )
    if row is None or row.status != "sending":
        return None
    if row.claimed_by == this_process():  # left by an earlier run of this process (deferred)
        return row
    alive = process_alive(row.claimed_by)
    expired = row.claimed_at is None or row.claimed_at < utcnow() - SENDING_LEASE
    if alive or (alive is None and not expired):
        return None
    previous = (
        LEDGER.c.claimed_by.is_(None)
        if row.claimed_by is None
        else (LEDGER.c.claimed_by == row.claimed_by)
    )
    me, now = this_process(), utcnow()
    taken = session.execute(
        update(LEDGER)
        .where(LEDGER.c.id == row.id, previous)
        .values(claimed_by=me, claimed_at=now)
        .returning(LEDGER.c.id)
    ).first()
    session.commit()
    if taken is None:
        return None
    session.expunge(row)
    row.claimed_by, row.claimed_at = me, now
    return row


def _write(session: Session, item: DigestSend | Subscriber, **values: object) -> None:
    """Set fields on the object (what this run reads) and in its row (a plain UPDATE)."""
    for name, value in values.items():
        setattr(item, name, value)
    table = LEDGER if isinstance(item, DigestSend) else SUBSCRIBERS
    session.execute(update(table).where(table.c.id == item.id).values(values))


def _deliver(
    session: Session,
    composer: Composer,
    cards: Cards,
    row: DigestSend,
    digest: Digest,
    site: SiteMail,
    report: SendReport,
    sleep: Callable[[float], object],
    stopping: Callable[[], bool],
) -> None:
    items = composer.items(digest)
    if row.status == "sending" and not row.sections and not digest.topics:
        digest = _regroup(composer, digest)
    message = letter(
        digest,
        items,
        base_url=site.base_url,
        site_name=site.site_name,
        sender=site.sender.sender,
        tokens=site.tokens,
        message_id=row.message_id,
        cards=cards,
    )
    inserted: list[int] = []
    bounces_before = digest.subscriber.bounces

    def record_sent() -> None:
        """Runs just before the final "." of the SMTP conversation (see the module doc)."""
        _write(session, row, status="sent", sent_at=utcnow())
        if digest.subscriber.bounces:
            _write(session, digest.subscriber, bounces=0)
        # Composing left out every paper already sent to this reader, so these are all new
        # (a digest resent from the ledger may repeat some: those are ignored).
        inserted[:] = list(dict.fromkeys(digest.paper_ids))
        insert_ignoring_duplicates(
            session.connection(),
            SENT_PAPERS,
            [{"subscriber_id": row.subscriber_id, "paper_id": p} for p in inserted],
        )
        session.commit()  # only the COMMIT stands before the dot

    def undo_sent() -> None:
        if row.status == "sent":  # the server refused the message after all
            _write(session, row, status="sending", sent_at=None)
            if digest.subscriber.bounces != bounces_before:
                _write(session, digest.subscriber, bounces=bounces_before)
            if inserted:
                session.execute(
                    delete(SentPaper).where(
                        SentPaper.subscriber_id == row.subscriber_id,
                        SentPaper.paper_id.in_(inserted),
                    )
                )

    for delay in (*RETRY_DELAYS, None):
        try:
            site.sender.send(message, to=digest.subscriber.email, before_end=record_sent)
        except TemporaryMailError as error:
            undo_sent()
            _write(session, row, attempts=row.attempts + 1, last_error=str(error)[:500])
            session.commit()
            if delay is None or stopping():
                report.deferred += 1
                log.warning("digest to subscriber %s deferred: %s", row.subscriber_id, error)
                return
            sleep(delay)
            continue
        except PermanentMailError as error:
            undo_sent()
            _write(session, row, status="failed", last_error=str(error)[:500])
            subscriber = digest.subscriber
            bounces = subscriber.bounces + 1
            stopped = None
            if bounces >= MAX_BOUNCES:
                stopped = f"{MAX_BOUNCES} permanent delivery failures in a row"
            _write(session, subscriber, bounces=bounces, stopped_reason=stopped)
            session.commit()
            report.failed += 1
            return
        report.sent += 1
        return


def _resumed(subscriber: Subscriber, period: DigestPeriod, row: DigestSend) -> Digest:
    """A claimed digest to send again: as it was laid out, or (a row from before the ledger
    kept its layout) its papers in one list, regrouped when sent."""
    if row.sections:
        return Digest.from_layout(subscriber, period.frequency, period.key, row.sections)
    return Digest(subscriber, period, [int(i) for i in row.papers.split(",") if i])


def _regroup(composer: Composer, digest: Digest) -> Digest:
    """A digest read back from the ledger has only its paper ids: put the period's trending
    papers first and the rest under the reader's topics, as when it was composed."""
    trending = {paper_id for paper_id, _ in composer.trending()}
    first = [paper_id for paper_id in digest.trending if paper_id in trending]
    rest = [paper_id for paper_id in digest.trending if paper_id not in trending]
    regrouped = Digest(digest.subscriber, digest.period, first)
    if rest:
        regrouped.topics.append(TopicSection("your topics", rest))
    return regrouped
