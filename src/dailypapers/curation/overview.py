"""What `/admin` shows: the curation log, the latest comments, the harvest's proposals and
runs, and (to admins) the members."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.curation.models import CurationLogEntry
from dailypapers.discussion.models import Comment
from dailypapers.harvest.models import HarvestRun, Proposal
from dailypapers.members.admin import newest_members
from dailypapers.members.models import Member
from dailypapers.papers.models import Paper

LOG_ENTRIES = 100
COMMENTS = 50
PROPOSALS = 100
HARVEST_RUNS = 5


@dataclass(slots=True)
class AdminOverview:
    log: list[Any]  # (CurationLogEntry, actor's user name or None)
    comments: list[Any]  # (Comment, author's user name, the paper's arXiv id)
    proposals: list[Any]  # (Proposal, Paper)
    harvest_runs: list[HarvestRun]
    members: list[Member] = field(default_factory=list)


def admin_overview(
    session: Session, *, with_members: bool, name_contains: str = ""
) -> AdminOverview:
    log = session.execute(
        select(CurationLogEntry, Member.username)
        .outerjoin(Member, Member.id == CurationLogEntry.actor_id)
        .order_by(CurationLogEntry.id.desc())
        .limit(LOG_ENTRIES)
    ).all()
    comments = session.execute(
        select(Comment, Member.username, Paper.arxiv_id)
        .join(Member, Member.id == Comment.member_id)
        .join(Paper, Paper.id == Comment.paper_id)
        .where(Comment.deleted_at.is_(None))
        .order_by(Comment.id.desc())
        .limit(COMMENTS)
    ).all()
    proposals = session.execute(
        select(Proposal, Paper)
        .join(Paper, Paper.id == Proposal.paper_id)
        .where(Proposal.status == "proposed", Paper.hidden.is_(False))
        .order_by(Proposal.proposed_for.desc(), Proposal.score.desc())
        .limit(PROPOSALS)
    ).all()
    runs = session.scalars(select(HarvestRun).order_by(HarvestRun.id.desc()).limit(HARVEST_RUNS))
    return AdminOverview(
        list(log),
        list(comments),
        list(proposals),
        list(runs),
        newest_members(session, name_contains) if with_members else [],
    )
