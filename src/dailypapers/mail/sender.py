"""Sending one email, through SMTP or to the console.

`DAILYPAPERS_SMTP_URL` picks the transport:

* empty: the console backend — the message is written to the log (development);
* `smtp://user:password@host:587`: plain connection upgraded with STARTTLS when the server
  offers it (add `?starttls=required` to refuse a server that does not);
* `smtps://user:password@host:465`: TLS from the first byte.

Temporary failures (connection refused, 4xx replies) raise `TemporaryMailError`; permanent
ones (5xx) raise `PermanentMailError`, so callers can retry or give up.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 30


class MailError(Exception):
    pass


class TemporaryMailError(MailError):
    """Worth trying again later."""


class PermanentMailError(MailError):
    """The server refused the message for good (5xx)."""


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls: str  # "auto" or "required"
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("must look like smtp://user:password@host:587 or smtps://host:465")
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            implicit_tls=parts.scheme == "smtps",
            starttls=query.get("starttls", ["auto"])[0],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class MailSender:
    def __init__(self, smtp_url: str, sender: str) -> None:
        self.target = SmtpTarget.from_url(smtp_url) if smtp_url else None
        self.sender = sender

    def message(self, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    def send(self, message: EmailMessage) -> None:
        if "From" not in message:
            message["From"] = self.sender
        if self.target is None:
            log.info("email (console backend):\n%s", message.as_string())
            return
        try:
            with self._connect() as smtp:
                smtp.send_message(message)
        except smtplib.SMTPResponseException as error:
            kind = PermanentMailError if 500 <= error.smtp_code < 600 else TemporaryMailError
            raise kind(f"{error.smtp_code} {error.smtp_error!r}") from error
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            kind = PermanentMailError if all(code >= 500 for code in codes) else TemporaryMailError
            raise kind(f"recipient refused: {codes}") from error
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryMailError(f"{type(error).__name__}: {error}") from error

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        assert target is not None
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if target.implicit_tls:
            smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=TIMEOUT_SECONDS,
                                    context=context)  # fmt: skip
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=TIMEOUT_SECONDS)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif target.starttls == "required":
                smtp.close()
                raise TemporaryMailError("the SMTP server does not offer STARTTLS")
        if target.username:
            smtp.login(target.username, target.password or "")
        return smtp
