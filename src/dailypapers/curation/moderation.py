"""Moderation: curators hide papers and comments (and show them again), admins disable members
and change roles. Each change is recorded in the curation log; the caller commits.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dailypapers.curation.models import record
from dailypapers.discussion import service
from dailypapers.discussion.models import Comment
from dailypapers.members import admin
from dailypapers.members.models import Member
from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.lookup import paper_by_arxiv_id
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.revisions import bump_revision


class CurationRefused(Exception):
    """The curator's change cannot be made; the message says why, for the curator."""


def curated_paper(session: Session, text: str) -> Paper | None:
    """The paper with this id in any form, hidden or not; None when there is none."""
    try:
        arxiv_id = parse_arxiv_id(text.strip()).id
    except InvalidArxivId:
        return None
    return paper_by_arxiv_id(session, arxiv_id, hidden_too=True)


def set_paper_hidden(session: Session, curator: Member, text: str, hidden: bool) -> Paper:
    """Hide a paper everywhere (off its list too: the log keeps the date, for featuring it
    again), or show it again."""
    paper = curated_paper(session, text)
    if paper is None:
        raise CurationRefused(f"No paper {text[:40]!r} here.")
    paper.hidden = hidden
    detail = ""
    if hidden:
        entry = session.scalar(select(DailyEntry).where(DailyEntry.paper_id == paper.id))
        if entry is not None:
            detail = f"was featured {entry.featured_date.isoformat()}"
            session.execute(delete(DailyEntry).where(DailyEntry.id == entry.id))
    record(session, curator.id, "hide paper" if hidden else "unhide paper", paper.arxiv_id, detail)
    bump_revision(session)
    return paper


def hide_comment(session: Session, curator: Member, comment_id: int, hidden: bool) -> None:
    """Hide (or unhide) a comment, logged; CommentRefused when there is no such comment."""
    if not service.set_hidden(session, curator, comment_id, hidden):
        return
    comment = session.get(Comment, comment_id)
    assert comment is not None
    arxiv_id = session.scalar(select(Paper.arxiv_id).where(Paper.id == comment.paper_id))
    record(
        session,
        curator.id,
        "hide comment" if hidden else "unhide comment",
        f"comment {comment_id} on {arxiv_id}",
        comment.body[:200],
    )


def change_member(
    session: Session, acting_admin: Member, member_id: int, action: str, role: str = ""
) -> Member:
    """Disable a member (logged out everywhere), enable them again, or give them a role;
    admins cannot change themselves here."""
    member = session.get(Member, member_id)
    if member is None or member.id == acting_admin.id:
        raise CurationRefused("You cannot change that member here.")
    if action in ("disable", "enable"):
        admin.set_disabled(member, action == "disable")
    elif action == "role":
        try:
            admin.set_role(member, role)
        except admin.MemberChangeRefused:
            raise CurationRefused("Unknown change.") from None
    else:
        raise CurationRefused("Unknown change.")
    record(
        session,
        acting_admin.id,
        f"member {action}",
        member.username,
        role if action == "role" else "",
    )
    return member
