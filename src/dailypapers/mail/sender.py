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
import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

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
    def __init__(self, smtp_url: str, sender: str) -> None:
        self.target = SmtpTarget.from_url(smtp_url) if smtp_url else None
        self.sender = sender
        self._local = threading.local()  # a kept connection, per thread, inside `batch()`

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
        self, message: Message | RawMessage, *, before_end: Callable[[], None] | None = None
    ) -> None:
        """Send one message. `before_end`, if given, runs once the whole message is with the
        server but before the final "." that asks it to deliver: a caller records the send
        there, so that being killed at any moment leaves the message either recorded and
        delivered, or neither (a server drops a message whose DATA never ended)."""
        if "From" not in message:
            message["From"] = self.sender
        if self.target is None:
            log.info("email (console backend):\n%s", message.as_string())
            if before_end is not None:
                before_end()
            return
        keep = getattr(self._local, "keep", False)
        try:
            smtp = getattr(self._local, "smtp", None) if keep else None
            if smtp is None:
                smtp = self._connect()
            try:
                _send_in_two_steps(smtp, self.sender, message, before_end)
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
    message: Message | RawMessage,
    before_end: Callable[[], None] | None,
) -> None:
    """MAIL, RCPT, DATA and the message; then `before_end`; then the final "." (RFC 5321)."""
    recipients = [address for _, address in getaddresses(message.get_all("To", []))]
    envelope_from = parseaddr(str(message.get("From", sender)))[1] or parseaddr(sender)[1]
    smtp.ehlo_or_helo_if_needed()
    code, reply = smtp.mail(envelope_from)
    if code != 250:
        smtp.rset()
        raise smtplib.SMTPSenderRefused(code, reply, envelope_from)
    refused = {}
    for address in recipients:
        code, reply = smtp.rcpt(address)
        if code not in (250, 251):
            refused[address] = (code, reply)
    if len(refused) == len(recipients):
        smtp.rset()
        raise smtplib.SMTPRecipientsRefused(refused)
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        smtp.rset()
        raise smtplib.SMTPDataError(code, reply)
    if isinstance(message, RawMessage):
        body = message.as_bytes()
    else:
        body = message.as_bytes(policy=message.policy.clone(linesep="\r\n", max_line_length=998))
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
