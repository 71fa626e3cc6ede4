"""Members, their votes, their signed-in sessions and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.database import Base, UTCDateTime, utcnow

ROLES = ("member", "curator", "admin")
# What an API token may do, chosen when it is made (`read` alone: only reading).
SCOPES = ("read", "vote", "comment", "submit")


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default="member")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session cookie; bumping it (password change, disabled, log out
    # everywhere) ends all older sessions (their rows in member_sessions go too).
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whether /members/{username} lists this member's upvotes to everyone (off until they say).
    public_upvotes: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # For you: how many days back it looks, and whether the digest opens with it (foryou/).
    for_you_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    personal_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    @property
    def is_curator(self) -> bool:
        return self.role in ("curator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def confirmed(self) -> bool:
        return self.email_confirmed_at is not None


class Vote(Base):
    """One member's upvote of one paper; `papers.vote_count` always equals these rows."""

    __tablename__ = "votes"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[int] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberSession(Base):
    """One signed-in browser: its cookie names this row (by the SHA-256 of a random key), so
    logging out deletes the row and a copy of the cookie stops working too."""

    __tablename__ = "member_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A member's token for programs (`Authorization: Bearer …` on /api/… only); only its
    SHA-256 is stored. `scopes`: what it may do, space-separated words of SCOPES."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100), default=" ".join(SCOPES))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()
