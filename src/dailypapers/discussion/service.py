"""Writing and moderating comments, keeping `papers.comment_count` equal to the visible ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dailypapers.database import utcnow
from dailypapers.discussion.markdown import MAX_CHARS, render
from dailypapers.discussion.models import Comment
from dailypapers.members.models import Member
from dailypapers.papers.models import Paper
from dailypapers.revisions import bump_revision


class CommentRefused(Exception):
    """The comment cannot be written or changed; the message says why."""


@dataclass(slots=True)
class ThreadComment:
    id: int
    author: str
    author_username: str
    member_id: int
    body: str
    body_html: str
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    hidden: bool
    replies: list[ThreadComment] = field(default_factory=list)


def _count(session: Session, paper_id: int, step: int) -> None:
    session.execute(
        update(Paper).where(Paper.id == paper_id).values(comment_count=Paper.comment_count + step)
    )
    bump_revision(session)


def _clean_body(body: str) -> str:
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise CommentRefused("Write something first: the comment is empty.")
    if len(body) > MAX_CHARS:
        raise CommentRefused(
            f"A comment may have at most {MAX_CHARS:,} characters ({len(body):,})."
        )
    return body


def add_comment(
    session: Session, member: Member, paper_id: int, body: str, parent_id: int | None = None
) -> Comment:
    body = _clean_body(body)
    if parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or parent.paper_id != paper_id or not parent.visible:
            raise CommentRefused("The comment you replied to is gone.")
        if parent.parent_id is not None:
            parent_id = parent.parent_id  # threads are one level deep: reply to the thread
    comment = Comment(
        paper_id=paper_id,
        member_id=member.id,
        parent_id=parent_id,
        body=body,
        body_html=render(body),
    )
    session.add(comment)
    _count(session, paper_id, +1)
    session.flush()
    return comment


def _own(session: Session, member: Member, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None:
        raise CommentRefused("That comment does not exist.")
    if comment.member_id != member.id:
        raise CommentRefused("Only its author can change a comment.")
    return comment


def edit_comment(session: Session, member: Member, comment_id: int, body: str) -> Comment:
    comment = _own(session, member, comment_id)
    comment.body = _clean_body(body)
    comment.body_html = render(comment.body)
    comment.edited_at = utcnow()
    bump_revision(session)
    return comment


def delete_comment(session: Session, member: Member, comment_id: int) -> Comment:
    comment = _own(session, member, comment_id)
    if comment.visible:
        _count(session, comment.paper_id, -1)
    comment.deleted_at = utcnow()
    return comment


def set_hidden(session: Session, curator: Member, comment_id: int, hidden: bool) -> bool:
    """Hide a comment (or show it again); whether it changed. Curators do this (see
    `curation/moderation.py`, which records it in the curation log)."""
    comment = session.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None:
        raise CommentRefused("That comment does not exist.")
    if hidden == (comment.hidden_at is not None):
        return False
    comment.hidden_at = utcnow() if hidden else None
    comment.hidden_by_id = curator.id if hidden else None
    _count(session, comment.paper_id, -1 if hidden else +1)
    return True


def thread(session: Session, paper_id: int, *, show_hidden: bool = False) -> list[ThreadComment]:
    """The paper's comments, oldest first, replies under their comment. Deleted comments and
    hidden ones (except for curators) are left out, unless replies hang below them."""
    rows = session.execute(
        select(Comment, Member.display_name, Member.username)
        .join(Member, Member.id == Comment.member_id)
        .where(Comment.paper_id == paper_id)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    top: dict[int, ThreadComment] = {}
    replies: list[tuple[int, ThreadComment]] = []
    for comment, display_name, username in rows:
        item = ThreadComment(
            comment.id,
            display_name or username,
            username,
            comment.member_id,
            comment.body,
            comment.body_html,
            comment.created_at,
            comment.edited_at,
            deleted=comment.deleted_at is not None,
            hidden=comment.hidden_at is not None,
        )
        if comment.parent_id is None:
            top[comment.id] = item
        else:
            replies.append((comment.parent_id, item))
    for parent_id, item in replies:
        if parent_id in top and (not item.deleted) and (show_hidden or not item.hidden):
            top[parent_id].replies.append(item)
    return [
        item
        for item in top.values()
        if item.replies or (not item.deleted and (show_hidden or not item.hidden))
    ]
