"""Accounts: sign-up with a confirmation link, log-in, password reset, roles.

Nothing here tells a stranger whether an address has an account: sign-up with a known address
and a reset request for an unknown one answer exactly like the other case (the owner of a known
address gets an email saying what happened instead).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dailypapers.database import utcnow
from dailypapers.mail.sender import MailSender
from dailypapers.members.models import ROLES, Member
from dailypapers.members.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)

CONFIRM_MAX_AGE = 3 * 24 * 3600
RESET_MAX_AGE = 3600
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$")
EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']+\.[^@\s<>\"']{2,}$")
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
        if len(self.email) > 320 or not EMAIL.match(self.email):
            problems["email"] = "Enter an email address such as ada@example.org."
        if problem := password_problem(self.password):
            problems["password"] = problem
        return problems


def normalise_email(email: str) -> str:
    return email.strip().lower()


class Accounts:
    """Account operations for one site: its secret (for signed links), mail and address."""

    def __init__(self, secret_key: str, mail: MailSender, base_url: str, site_name: str) -> None:
        self._tokens = URLSafeTimedSerializer(secret_key)
        self.mail = mail
        self.base_url = base_url
        self.site_name = site_name

    # --- signed links ----------------------------------------------------------------------
    def confirm_token(self, member: Member) -> str:
        return self._tokens.dumps({"m": member.id, "e": member.email}, salt="confirm-email")

    def reset_token(self, member: Member) -> str:
        # Tied to the current password hash: once used (or the password changed), it is dead.
        return self._tokens.dumps(
            {"m": member.id, "p": _fingerprint(member.password_hash)}, salt="reset-password"
        )

    def _load(self, token: str, salt: str, max_age: int) -> dict[str, Any]:
        try:
            data = self._tokens.loads(token, salt=salt, max_age=max_age)
        except SignatureExpired:
            raise AccountError("This link has expired; ask for a new one.") from None
        except BadSignature:
            raise AccountError("This link is not valid; check that it was copied whole.") from None
        if not isinstance(data, dict):
            raise AccountError("This link is not valid.")
        return data

    # --- sign-up and confirmation ----------------------------------------------------------
    def sign_up(self, session: Session, form: SignUp) -> Member | None:
        """Create an unconfirmed member and email the confirmation link. Returns None (and
        emails the owner instead) when the address already has an account."""
        email = normalise_email(form.email)
        existing = session.scalar(select(Member).where(Member.email == email))
        if existing is not None:
            self._send(
                email,
                f"Someone tried to sign up at {self.site_name} with your address",
                f"Someone (perhaps you) tried to create an account at {self.base_url} with this "
                f"address. You already have one, as {existing.username}.\n\n"
                f"To log in: {self.base_url}/login\n"
                f"Forgot your password? {self.base_url}/reset\n\n"
                "If this was not you, you can ignore this email.",
            )
            return None
        if session.scalar(
            select(Member.id).where(func.lower(Member.username) == form.username.lower())
        ):
            raise AccountError("That user name is taken; choose another.")
        member = Member(
            username=form.username,
            email=email,
            display_name=form.username,
            password_hash=hash_password(form.password),
        )
        session.add(member)
        session.flush()
        self.send_confirmation(member)
        return member

    def send_confirmation(self, member: Member) -> None:
        assert member.email is not None
        self._send(
            member.email,
            f"Confirm your email address for {self.site_name}",
            f"Welcome to {self.site_name}, {member.username}!\n\n"
            "Follow this link to confirm your address and start voting, submitting and "
            f"commenting:\n\n{self.base_url}/confirm/{self.confirm_token(member)}\n\n"
            "The link works for 3 days. If you did not sign up, ignore this email.",
        )

    def confirm(self, session: Session, token: str) -> Member:
        data = self._load(token, "confirm-email", CONFIRM_MAX_AGE)
        member = session.get(Member, data.get("m"))
        if member is None or member.email != data.get("e"):
            raise AccountError("This link is not valid any more.")
        if member.email_confirmed_at is None:
            member.email_confirmed_at = utcnow()
        return member

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
            self.send_confirmation(member)
            raise AccountError("Confirm your email address first: we just sent you a new link.")
        if member.password_hash and needs_rehash(member.password_hash):
            member.password_hash = hash_password(password)
        member.last_login_at = utcnow()
        return member

    # --- password reset --------------------------------------------------------------------
    def request_reset(self, session: Session, email: str) -> None:
        member = session.scalar(select(Member).where(Member.email == normalise_email(email)))
        if member is None or member.disabled or member.email is None:
            return  # the page says the same either way
        self._send(
            member.email,
            f"Reset your {self.site_name} password",
            f"To choose a new password for {member.username}, follow this link within an hour:"
            f"\n\n{self.base_url}/reset/{self.reset_token(member)}\n\n"
            "If you did not ask for this, ignore this email; your password stays as it is.",
        )

    def member_for_reset(self, session: Session, token: str) -> Member:
        data = self._load(token, "reset-password", RESET_MAX_AGE)
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

    def _send(self, to: str, subject: str, text: str) -> None:
        self.mail.send(self.mail.message(to, subject, text))


def set_password(member: Member, password: str) -> None:
    member.password_hash = hash_password(password)
    member.session_version += 1  # every older session ends


def create_member(
    session: Session, username: str, email: str, password: str, role: str = "member"
) -> Member:
    """A confirmed member (for `dailypapers users create-admin` and tests)."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    form = SignUp(username, email, password)
    if problems := form.problems():
        raise AccountError(" ".join(problems.values()))
    email = normalise_email(email)
    if session.scalar(
        select(Member.id).where(
            or_(Member.email == email, func.lower(Member.username) == username.lower())
        )
    ):
        raise AccountError("a member with that user name or email already exists")
    member = Member(
        username=username, email=email, display_name=username, role=role,
        password_hash=hash_password(password), email_confirmed_at=utcnow(),
    )  # fmt: skip
    session.add(member)
    session.flush()
    return member


def _fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]
