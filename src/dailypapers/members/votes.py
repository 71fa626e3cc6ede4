"""Upvotes: one per member per paper, and `papers.vote_count` always equal to the votes rows.

The vote row and the count change in one transaction: the row is inserted (or deleted) first
and the count moves only if that changed a row, so a double click, two tabs or a retry can
never count twice. SQLite runs write transactions one at a time; on PostgreSQL the row lock
taken by `UPDATE … SET vote_count = vote_count + 1` orders concurrent votes on one paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from dailypapers.database import insert_or_ignore
from dailypapers.members.models import Vote
from dailypapers.papers.models import Paper
from dailypapers.revisions import bump_revision

VOTES = cast(Table, Vote.__table__)


@dataclass(frozen=True, slots=True)
class VoteResult:
    upvoted: bool
    upvotes: int  # shown count: imported upvotes plus votes cast here


def set_vote(session: Session, member_id: int, paper_id: int, *, up: bool) -> VoteResult:
    """Upvote (or take back the upvote); idempotent. Commit is the caller's."""
    if up:
        # RETURNING tells whether a row was added (rowcount is not reported for this statement
        # by every driver: psycopg gives -1).
        added = session.execute(
            insert_or_ignore(session.connection(), VOTES)
            .values(member_id=member_id, paper_id=paper_id)
            .returning(VOTES.c.paper_id)
        ).first()
        changed = 1 if added is not None else 0
        step = 1
    else:
        changed = session.execute(
            delete(Vote).where(Vote.member_id == member_id, Vote.paper_id == paper_id)
        ).rowcount  # type: ignore[attr-defined]
        step = -1
    if changed:
        session.execute(
            update(Paper).where(Paper.id == paper_id).values(vote_count=Paper.vote_count + step)
        )
        bump_revision(session)
    imported, cast_here = session.execute(
        select(Paper.imported_upvotes, Paper.vote_count).where(Paper.id == paper_id)
    ).one()
    return VoteResult(upvoted=up, upvotes=imported + cast_here)
