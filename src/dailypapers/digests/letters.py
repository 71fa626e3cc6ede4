"""The digest email: a text part, an HTML part with inline styles (no scripts, no remote fonts
or images), and the headers of RFC 8058 one-click unsubscribe; and the same digest as a page,
for its "view in a browser" link.

Digests are not queued in the outbox (mail/outbox.py): the ledger (delivery.py) is their outbox.
"""

from __future__ import annotations

import uuid
from email.utils import format_datetime, formataddr
from urllib.parse import urlsplit

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.database import utcnow
from dailypapers.digests.compose import Composer, Digest
from dailypapers.digests.models import DigestSend, Subscriber
from dailypapers.digests.schedule import DigestPeriod
from dailypapers.display.filters import FILTERS, long_date
from dailypapers.mail.raw import RawMessage, multipart_alternative
from dailypapers.mail.rendering import email_environment
from dailypapers.papers.feed import PaperItem
from dailypapers.signing import BadLink, Signer

ABSTRACT_CHARS = 300

_env = email_environment()
_env.filters.update(FILTERS)


def short_abstract(text: str | None) -> str:
    if not text or len(text) <= ABSTRACT_CHARS:
        return text or ""
    return text[: text.rfind(" ", 0, ABSTRACT_CHARS)] + " …"


_env.filters["short_abstract"] = short_abstract


class DigestTokens:
    """The signed values in a digest's links (unsubscribe, manage, view in a browser). They
    never expire and keep their salts, so the links in digests already sent keep working."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def unsubscribe(self, subscriber_id: int) -> str:
        return self.signer.sign(subscriber_id, "unsubscribe", lasting=True)

    def read_unsubscribe(self, token: str) -> int | None:
        try:
            value = self.signer.read(token, "unsubscribe", lasting=True)
        except BadLink:
            return None
        return value if isinstance(value, int) else None

    def view(self, subscriber_id: int, period: str) -> str:
        return self.signer.sign([subscriber_id, period], "digest-view", lasting=True)

    def read_view(self, token: str) -> tuple[int, str] | None:
        try:
            value = self.signer.read(token, "digest-view", lasting=True)
        except BadLink:
            return None
        if isinstance(value, list) and len(value) == 2:
            return int(value[0]), str(value[1])
        return None


class Cards:
    """Each paper's block of a digest, rendered once and shared by every letter of a run (most
    papers go to many readers): rendering them per letter took most of a letter's time."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._rendered: dict[tuple[str, int], str] = {}

    def __call__(self, kind: str, item: PaperItem) -> str:
        key = (kind, item.paper.id)
        block = self._rendered.get(key)
        if block is None:
            block = _env.get_template(f"_{kind}").render(item=item, base_url=self.base_url)
            if kind.endswith(".html"):
                block = Markup(block)
            self._rendered[key] = block
        return block


def context(
    digest: Digest,
    items: dict[int, PaperItem],
    *,
    base_url: str,
    site_name: str,
    tokens: DigestTokens,
    cards: Cards | None = None,
) -> dict[str, object]:
    subscriber, period = digest.subscriber, digest.period
    return {
        "card": cards or Cards(base_url),
        "site_name": site_name,
        "base_url": base_url,
        "period": period,
        "subscriber": subscriber,
        "for_you": [(items[n.paper_id], n.note) for n in digest.for_you if n.paper_id in items],
        "changed": [(items[n.paper_id], n.note) for n in digest.changed if n.paper_id in items],
        "trending": [items[i] for i in digest.trending if i in items],
        "topics": [(t.query, [items[i] for i in t.paper_ids if i in items]) for t in digest.topics],
        "quiet_topics": digest.quiet_topics,
        "unsubscribe_url": f"{base_url}/unsubscribe/{tokens.unsubscribe(subscriber.id)}",
        "view_url": f"{base_url}/digest/{tokens.view(subscriber.id, period.key)}",
        "settings_url": f"{base_url}/subscribe/manage/{tokens.unsubscribe(subscriber.id)}",
    }


def render_html(values: dict[str, object]) -> str:
    return _env.get_template("digest.html").render(values)


def letter(
    digest: Digest,
    items: dict[int, PaperItem],
    *,
    base_url: str,
    site_name: str,
    sender: str,
    tokens: DigestTokens,
    message_id: str,
    cards: Cards | None = None,
) -> RawMessage:
    values = context(
        digest, items, base_url=base_url, site_name=site_name, tokens=tokens, cards=cards
    )
    period = digest.period
    count = len(digest.paper_ids)
    when = (
        long_date(period.sent_on)
        if period.frequency == "daily"
        else f"week of {long_date(period.start)}"
    )
    text, html = _env.get_template("digest.txt").render(values), render_html(values)
    # Written out by hand (mail/raw.py): the `email` package's generator took longer than
    # composing the digest. Headers stay on one line: a folded or encoded List-Unsubscribe is
    # not understood by mail clients.
    mime_headers, body = multipart_alternative(text, html, f"=_digest_{uuid.uuid4().hex}")
    headers = [
        ("From", sender),
        ("To", digest.subscriber.email),
        ("Subject", f"{site_name}: {count} paper{'s' if count != 1 else ''} for you, {when}"),
        ("Date", format_datetime(utcnow())),
        ("Message-ID", message_id),
        ("List-Id", formataddr((f"{site_name} digest", f"digest.{urlsplit(base_url).hostname}"))),
        ("List-Unsubscribe", f"<{values['unsubscribe_url']}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        *mime_headers,
    ]
    return RawMessage(headers, body)


def message_id(subscriber_id: int, period: str, base_url: str) -> str:
    """The same for every attempt at one digest, so mail systems drop a duplicate."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"<digest.{period.replace(':', '.')}.{subscriber_id}@{host}>"


def browser_copy(
    session: Session, token: str, *, base_url: str, site_name: str, tokens: DigestTokens
) -> str | None:
    """The HTML of a digest as it was sent (its "view in a browser" link), or None when the
    token names no digest."""
    found = tokens.read_view(token)
    if found is None:
        return None
    subscriber_id, period_key = found
    row = session.scalar(
        select(DigestSend).where(
            DigestSend.subscriber_id == subscriber_id, DigestSend.period == period_key
        )
    )
    if row is None:
        return None
    subscriber = session.get(Subscriber, row.subscriber_id)
    assert subscriber is not None
    frequency = row.period.partition(":")[0]
    if row.sections:
        digest = Digest.from_layout(subscriber, frequency, row.period, row.sections)
    else:  # a digest sent before the ledger kept its layout: its papers, in one list
        day = row.created_at.date()
        period = DigestPeriod(frequency, row.period, day, day, day)
        digest = Digest(subscriber, period, [int(i) for i in row.papers.split(",") if i])
    composer = Composer(session, digest.period, None)  # the papers are known: no search
    values = context(
        digest, composer.items(digest), base_url=base_url, site_name=site_name, tokens=tokens
    )
    return render_html(values)
