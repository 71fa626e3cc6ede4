"""Member administration: what an admin does to members, from `/admin` or `dailypapers users`.

One set of changes for both, so that disabling a member ends their sessions whichever way it
is done. The caller commits (and, on `/admin`, records the change in the curation log).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from dailypapers.members.accounts import create_member
from dailypapers.members.auth import end_every_session
from dailypapers.members.models import ROLES, Member
from dailypapers.revisions import bump_revision

MEMBERS_LISTED = 50  # on /admin, newest first


class MemberChangeRefused(Exception):
    """The change cannot be made; the message says why."""


def create_admin(
    session: Session, username: str, email: str, password: str, role: str = "admin"
) -> Member:
    """A member with a confirmed address, an admin by default (AccountError when refused)."""
    return create_member(session, username, email, password, role)


def member_named(session: Session, username: str) -> Member:
    member = session.scalar(select(Member).where(Member.username == username))
    if member is None:
        raise MemberChangeRefused(f"no member named {username!r}")
    return member


def all_members(session: Session) -> list[Member]:
    """Every member, oldest first (`dailypapers users list`)."""
    return list(session.scalars(select(Member).order_by(Member.id)))


def newest_members(session: Session, name_contains: str = "") -> list[Member]:
    """The newest members, those whose user name contains the text if one is given (`/admin`)."""
    query = select(Member).order_by(Member.id.desc()).limit(MEMBERS_LISTED)
    if name_contains:
        query = query.where(Member.username.contains(name_contains))
    return list(session.scalars(query))


def set_disabled(member: Member, disabled: bool) -> None:
    """Disable a member (logged out everywhere and their API tokens revoked, and they can no
    longer log in or act; their page is gone from cached answers), or enable them again."""
    if disabled:
        end_every_session(member)
    member.disabled = disabled
    session = object_session(member)
    if session is not None:
        bump_revision(session)


def set_role(member: Member, role: str) -> None:
    if role not in ROLES:
        raise MemberChangeRefused(f"role must be one of {', '.join(ROLES)}")
    member.role = role
