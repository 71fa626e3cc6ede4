"""The digest email: a text part, an HTML part with inline styles (no scripts, no remote fonts
or images), and the headers of RFC 8058 one-click unsubscribe."""

from __future__ import annotations

from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape

from dailypapers.database import utcnow
from dailypapers.digests.compose import Digest
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


def context(digest: Digest, items: dict[int, PaperItem], *, base_url: str, site_name: str,
            tokens: Tokens) -> dict[str, object]:  # fmt: skip
    subscriber, period = digest.subscriber, digest.period
    return {
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
           sender: str, tokens: Tokens, message_id: str) -> Message:  # fmt: skip
    values = context(digest, items, base_url=base_url, site_name=site_name, tokens=tokens)
    period = digest.period
    count = len(digest.paper_ids)
    when = (
        long_date(period.sent_on)
        if period.frequency == "daily"
        else f"week of {long_date(period.start)}"
    )
    # The classic MIME classes: five times faster to build than EmailMessage's header registry,
    # and a long List-Unsubscribe URL stays one unencoded line (clients do not decode RFC 2047
    # there).
    message = MIMEMultipart("alternative")
    message["From"] = sender
    message["To"] = digest.subscriber.email
    subject = f"{site_name}: {count} paper{'s' if count != 1 else ''} for you, {when}"
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id
    message["List-Id"] = formataddr(
        (f"{site_name} digest", f"digest.{urlsplit(base_url).hostname}")
    )
    message["List-Unsubscribe"] = f"<{values['unsubscribe_url']}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text, html = _env.get_template("digest.txt").render(values), render_html(values)
    message.attach(MIMEText(text, "plain", _UTF8_QP))  # type: ignore[arg-type]  # works
    message.attach(MIMEText(html, "html", _UTF8_QP))  # type: ignore[arg-type]
    return message


_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


def message_id(subscriber_id: int, period: str, base_url: str) -> str:
    """The same for every attempt at one digest, so mail systems drop a duplicate."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"<digest.{period.replace(':', '.')}.{subscriber_id}@{host}>"
