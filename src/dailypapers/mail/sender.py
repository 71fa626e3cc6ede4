"""Sending one email, through SMTP or to the console.

`DAILYPAPERS_SMTP_URL` picks the transport:

* empty: the console backend — each message is written to standard error, its text part
  decoded so that links can be followed (development);
* `smtp://user:password@host:587`: plain connection upgraded with STARTTLS when the server
  offers it (add `?starttls=required` to refuse a server that does not);
* `smtps://user:password@host:465`: TLS from the first byte.

Temporary failures (connection refused, 4xx replies) raise `TemporaryMailError`; permanent
ones (5xx) raise `PermanentMailError`, so callers can retry or give up.

The envelope recipient is the one address the caller names (checked by mail/addresses.py when
it was taken), never read back from the message's headers: a `To:` header that a mail program
would read as several addresses still reaches one mailbox.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from email.utils import parseaddr
from typing import TextIO

from dailypapers.mail.raw import RawMessage
from dailypapers.settings import SmtpTarget

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 30


class MailError(Exception):
    pass


class TemporaryMailError(MailError):
    """Worth trying again later."""


class PermanentMailError(MailError):
    """The server refused the message for good (5xx)."""


class MailSender:
    def __init__(self, smtp_url: str, sender: str, *, console: TextIO | None = None) -> None:
        self.target = SmtpTarget.from_url(smtp_url) if smtp_url else None
        self.sender = sender
        self.console = console  # where the console backend writes (None: standard error)
        self._local = threading.local()  # a kept connection, per thread, inside `batch()`
        self._console_lock = threading.Lock()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Send many messages over one SMTP connection (reopened after a failure)."""
        self._local.keep = True
        try:
            yield
        finally:
            self._local.keep = False
            self._drop()

    def _drop(self) -> None:
        smtp = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def message(self, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    def send(
        self,
        message: Message | RawMessage,
        *,
        to: str,
        before_end: Callable[[], None] | None = None,
    ) -> None:
        """Send one message to the one address `to` (the envelope recipient). `before_end`,
        if given, runs once the whole message is with the server but before the final "."
        that asks it to deliver: a caller records the send there, so that being killed at any
        moment leaves the message either recorded and delivered, or neither (a server drops
        a message whose DATA never ended)."""
        if "From" not in message:
            message["From"] = self.sender
        if self.target is None:
            self._write_to_console(message, to)
            if before_end is not None:
                before_end()
            return
        keep = getattr(self._local, "keep", False)
        try:
            smtp = getattr(self._local, "smtp", None) if keep else None
            if smtp is None:
                smtp = self._connect()
            try:
                _send_in_two_steps(smtp, self.sender, to, message, before_end)
            except BaseException:
                self._local.smtp = smtp
                self._drop()  # a failed conversation: start the next one afresh
                raise
            if keep:
                self._local.smtp = smtp
            else:
                smtp.quit()
        except smtplib.SMTPResponseException as error:
            kind = PermanentMailError if 500 <= error.smtp_code < 600 else TemporaryMailError
            raise kind(f"{error.smtp_code} {error.smtp_error!r}") from error
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            kind = PermanentMailError if all(code >= 500 for code in codes) else TemporaryMailError
            raise kind(f"recipient refused: {codes}") from error
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryMailError(f"{type(error).__name__}: {error}") from error

    def _write_to_console(self, message: Message | RawMessage, to: str) -> None:
        """The console backend: the message as a person reads it (its text part decoded, not
        quoted-printable), so that a link in it can be followed."""
        text = None
        if isinstance(message, EmailMessage):
            part = message.get_body(("plain",))
            text = part.get_content() if isinstance(part, EmailMessage) else None
        if text is None:
            shown = message.as_string()
        else:
            head = "".join(f"{name}: {message.get(name)}\n" for name in ("From", "To", "Subject"))
            shown = f"{head}\n{text}"
        stream = self.console or sys.stderr
        with self._console_lock:
            stream.write(
                f"----- email to {to} (console backend: DAILYPAPERS_SMTP_URL is not set) -----\n"
                f"{shown.rstrip()}\n----- end of email -----\n"
            )
            stream.flush()
        log.info("email to %s written to the console", to)

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        assert target is not None
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if target.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                target.host, target.port, timeout=TIMEOUT_SECONDS, context=context
            )
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
        if smtp.sock is not None:  # the final "." goes out alone: do not wait for an ACK first
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return smtp


def _send_in_two_steps(
    smtp: smtplib.SMTP,
    sender: str,
    recipient: str,
    message: Message | RawMessage,
    before_end: Callable[[], None] | None,
) -> None:
    """MAIL, RCPT, DATA and the message; then `before_end`; then the final "." (RFC 5321)."""
    envelope_from = parseaddr(str(message.get("From", sender)))[1] or parseaddr(sender)[1]
    smtp.ehlo_or_helo_if_needed()
    options: list[str] = []
    if not (recipient.isascii() and envelope_from.isascii()):
        # Addresses taken now are ASCII (mail/addresses.py); one stored before needs SMTPUTF8.
        if not smtp.has_extn("smtputf8"):
            raise PermanentMailError(
                f"{recipient!r} has letters outside ASCII and the server does not offer SMTPUTF8"
            )
        options.append("SMTPUTF8")
    code, reply = smtp.mail(envelope_from, options)
    if code != 250:
        smtp.rset()
        raise smtplib.SMTPSenderRefused(code, reply, envelope_from)
    code, reply = smtp.rcpt(recipient)
    if code not in (250, 251):
        smtp.rset()
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        smtp.rset()
        raise smtplib.SMTPDataError(code, reply)
    if isinstance(message, RawMessage):
        body = message.as_bytes()
    else:
        policy = message.policy.clone(linesep="\r\n", max_line_length=998)
        if options and isinstance(policy, EmailPolicy):  # SMTPUTF8: UTF-8 headers as they are
            policy = policy.clone(utf8=True)
        body = message.as_bytes(policy=policy)
    body = re.sub(rb"(?m)^\.", b"..", body)  # dot-stuffing
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    smtp.send(body)
    if before_end is not None:
        before_end()
    smtp.send(b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
