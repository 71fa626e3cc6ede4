"""Accounts: sign-up with a confirmation link, log-in, password reset, roles.

Nothing here tells a stranger whether an address has an account: sign-up with a known address
and a reset request for an unknown one answer exactly like the other case (the owner of a known
address gets an email saying what happened instead), and in the same time: both branches of a
sign-up hash the password and queue one email, and a reset request is looked up after the
answer has gone (`request_reset` runs as the route's background task).

Emails are queued in the outbox in the caller's transaction: they leave once it commits (and
never for a sign-up that rolls back). The caller nudges the outbox after its commit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dailypapers.database import utcnow
from dailypapers.mail.addresses import BadAddress, mailbox, same_mailbox
from dailypapers.mail.outbox import queue_mail
from dailypapers.members import emails
from dailypapers.members.auth import end_every_session
from dailypapers.members.models import ROLES, Member
from dailypapers.members.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from dailypapers.signing import BadLink, Signer

CONFIRM_MAX_AGE = 3 * 24 * 3600
RESET_MAX_AGE = 3600
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$")
RESERVED_USERNAMES = frozenset({"admin", "api", "login", "logout", "signup", "settings", "root"})


class AccountError(ValueError):
    """A sign-up, log-in or reset that cannot go ahead; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class SignUp:
    username: str
    email: str
    password: str

    def problems(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        if not USERNAME.match(self.username):
            problems["username"] = (
                "Use 3 to 32 letters, digits, '-' or '_', starting with a letter or digit."
            )
        elif self.username.lower() in RESERVED_USERNAMES:
            problems["username"] = "That user name is reserved; choose another."
        try:
            mailbox(self.email)
        except BadAddress as error:
            problems["email"] = str(error)
        if problem := password_problem(self.password):
            problems["password"] = problem
        return problems


def normalise_email(email: str) -> str:
    """The key an address is stored and looked up under: its canonical mailbox (see
    mail/addresses.py), or, for text that is not one address, the text in lower case (so that
    it finds nothing rather than something else)."""
    return same_mailbox(email) or email.strip().lower()


class Accounts:
    """Account operations for one site: the signer of its emailed links, and the address and
    name its emails give."""

    def __init__(self, signer: Signer, base_url: str, site_name: str) -> None:
        self.signer = signer
        self.base_url = base_url
        self.site_name = site_name

    # --- signed links ----------------------------------------------------------------------
    def confirm_token(self, member: Member) -> str:
        return self.signer.sign({"m": member.id, "e": member.email}, "confirm-email")

    def reset_token(self, member: Member) -> str:
        # Tied to the current password hash: once used (or the password changed), it is dead.
        return self.signer.sign(
            {"m": member.id, "p": _fingerprint(member.password_hash)}, "reset-password"
        )

    def _read(self, token: str, purpose: str, max_age: int) -> dict[str, Any]:
        try:
            data = self.signer.read(token, purpose, max_age=max_age)
        except BadLink as error:
            raise AccountError(str(error)) from None
        if not isinstance(data, dict):
            raise AccountError("This link is not valid.")
        return data

    # --- sign-up and confirmation ----------------------------------------------------------
    def sign_up(self, session: Session, form: SignUp) -> Member | None:
        """Create an unconfirmed member and email the confirmation link. Returns None (and
        emails the owner instead) when the address already has an account.

        Both branches do the same costly work (the user name looked up, the password hashed,
        one email rendered and queued), so that the time of the answer does not tell whether
        the address has an account. AccountError when the user name is taken, whichever the
        address."""
        try:
            email = mailbox(form.email)
        except BadAddress as problem:
            raise AccountError(str(problem)) from None
        if session.scalar(
            select(Member.id).where(func.lower(Member.username) == form.username.lower())
        ):
            raise AccountError("That user name is taken; choose another.")
        password_hash = hash_password(form.password)
        existing = session.scalar(select(Member).where(Member.email == email))
        if existing is not None:
            queue_mail(
                session,
                emails.sign_up_attempt(
                    email,
                    username=existing.username,
                    base_url=self.base_url,
                    site_name=self.site_name,
                ),
            )
            return None
        member = Member(
            username=form.username,
            email=email,
            display_name=form.username,
            password_hash=password_hash,
        )
        session.add(member)
        session.flush()
        self.send_confirmation(session, member)
        return member

    def send_confirmation(self, session: Session, member: Member) -> None:
        """Queue the email with the member's confirmation link."""
        assert member.email is not None
        queue_mail(
            session,
            emails.confirm_address(
                member.email,
                username=member.username,
                site_name=self.site_name,
                confirm_url=f"{self.base_url}/confirm/{self.confirm_token(member)}",
            ),
        )

    def confirm(self, session: Session, token: str) -> tuple[Member, bool]:
        """The member the link confirms, and whether this click confirmed the address (the
        first use of the link, which may log the member in)."""
        data = self._read(token, "confirm-email", CONFIRM_MAX_AGE)
        member = session.get(Member, data.get("m"))
        if member is None or member.email != data.get("e"):
            raise AccountError("This link is not valid any more.")
        if member.email_confirmed_at is not None:
            return member, False
        member.email_confirmed_at = utcnow()
        return member, True

    # --- log-in ----------------------------------------------------------------------------
    def authenticate(self, session: Session, login: str, password: str) -> Member:
        """The member with this email (or user name) and password; one message for every
        mismatch."""
        login = login.strip()
        member = session.scalar(
            select(Member).where(
                or_(Member.email == normalise_email(login), Member.username == login)
            )
        )
        if not verify_password(member.password_hash if member else None, password[:1000]):
            raise AccountError("Wrong email or password.")
        assert member is not None
        if member.disabled:
            raise AccountError("This account is disabled. Contact the site's curators.")
        if not member.confirmed:
            self.send_confirmation(session, member)
            raise AccountError("Confirm your email address first: we just sent you a new link.")
        if member.password_hash and needs_rehash(member.password_hash):
            member.password_hash = hash_password(password)
        member.last_login_at = utcnow()
        return member

    # --- password reset --------------------------------------------------------------------
    def request_reset(self, session: Session, email: str) -> None:
        """Queue a reset link to the address's member, if there is one (the page says the
        same either way, and is sent before this runs)."""
        member = session.scalar(select(Member).where(Member.email == normalise_email(email)))
        if member is None or member.disabled or member.email is None:
            return
        queue_mail(
            session,
            emails.reset_password(
                member.email,
                username=member.username,
                site_name=self.site_name,
                reset_url=f"{self.base_url}/reset/{self.reset_token(member)}",
            ),
        )

    def member_for_reset(self, session: Session, token: str) -> Member:
        data = self._read(token, "reset-password", RESET_MAX_AGE)
        member = session.get(Member, data.get("m"))
        if member is None or member.disabled or data.get("p") != _fingerprint(member.password_hash):
            raise AccountError("This link has already been used or is no longer valid.")
        return member

    def reset_password(self, session: Session, token: str, password: str) -> Member:
        member = self.member_for_reset(session, token)
        if problem := password_problem(password):
            raise AccountError(problem)
        set_password(member, password)
        if member.email_confirmed_at is None:
            member.email_confirmed_at = utcnow()  # the link proved the address
        return member


def set_password(member: Member, password: str) -> None:
    """The new password; every session and API token of the member ends with the old one."""
    member.password_hash = hash_password(password)
    end_every_session(member)


def create_member(
    session: Session, username: str, email: str, password: str, role: str = "member"
) -> Member:
    """A confirmed member (for `dailypapers users create-admin` and tests)."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    form = SignUp(username, email, password)
    if problems := form.problems():
        raise AccountError(" ".join(problems.values()))
    email = mailbox(email)
    if session.scalar(
        select(Member.id).where(
            or_(Member.email == email, func.lower(Member.username) == username.lower())
        )
    ):
        raise AccountError("a member with that user name or email already exists")
    member = Member(
        username=username,
        email=email,
        display_name=username,
        role=role,
        password_hash=hash_password(password),
        email_confirmed_at=utcnow(),
    )
    session.add(member)
    session.flush()
    return member


def _fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]
