"""The digest email: a text part, an HTML part with inline styles (no scripts, no remote fonts
or images), and the headers of RFC 8058 one-click unsubscribe."""

from __future__ import annotations

import uuid
from email.utils import format_datetime, formataddr
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from dailypapers.database import utcnow
from dailypapers.digests.compose import Digest
from dailypapers.mail.raw import RawMessage, multipart_alternative
from dailypapers.papers.feed import PaperItem
from dailypapers.web.templating import TEMPLATES_DIR, authors_short, long_date

ABSTRACT_CHARS = 300

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR / "email"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(authors_short=authors_short, long_date=long_date)


def short_abstract(text: str | None) -> str:
    if not text or len(text) <= ABSTRACT_CHARS:
        return text or ""
    return text[: text.rfind(" ", 0, ABSTRACT_CHARS)] + " …"


_env.filters["short_abstract"] = short_abstract


class Tokens:
    """Signed, non-expiring tokens in digest links (unsubscribe, view in browser)."""

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key)

    def unsubscribe(self, subscriber_id: int) -> str:
        return self._serializer.dumps(subscriber_id, salt="unsubscribe")

    def read_unsubscribe(self, token: str) -> int | None:
        try:
            value = self._serializer.loads(token, salt="unsubscribe")
        except BadSignature:
            return None
        return value if isinstance(value, int) else None

    def view(self, subscriber_id: int, period: str) -> str:
        return self._serializer.dumps([subscriber_id, period], salt="digest-view")

    def read_view(self, token: str) -> tuple[int, str] | None:
        try:
            value = self._serializer.loads(token, salt="digest-view")
        except BadSignature:
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


def context(digest: Digest, items: dict[int, PaperItem], *, base_url: str, site_name: str,
            tokens: Tokens, cards: Cards | None = None) -> dict[str, object]:  # fmt: skip
    subscriber, period = digest.subscriber, digest.period
    return {
        "card": cards or Cards(base_url),
        "site_name": site_name,
        "base_url": base_url,
        "period": period,
        "subscriber": subscriber,
        "trending": [items[i] for i in digest.trending if i in items],
        "topics": [(t.query, [items[i] for i in t.paper_ids if i in items]) for t in digest.topics],
        "unsubscribe_url": f"{base_url}/unsubscribe/{tokens.unsubscribe(subscriber.id)}",
        "view_url": f"{base_url}/digest/{tokens.view(subscriber.id, period.key)}",
        "settings_url": f"{base_url}/subscribe/manage/{tokens.unsubscribe(subscriber.id)}",
    }


def render_html(values: dict[str, object]) -> str:
    return _env.get_template("digest.html").render(values)


def letter(digest: Digest, items: dict[int, PaperItem], *, base_url: str, site_name: str,
           sender: str, tokens: Tokens, message_id: str,
           cards: Cards | None = None) -> RawMessage:  # fmt: skip
    values = context(digest, items, base_url=base_url, site_name=site_name, tokens=tokens,
                     cards=cards)  # fmt: skip
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
