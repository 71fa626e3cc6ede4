"""Curators put papers on a day's list and take them off: by arXiv id (fetched from arXiv
unless known) or by accepting a harvest proposal. Both go through the submission rules
(`submissions.py`: no duplicates, nothing hidden or withdrawn); every change is recorded in
the curation log. The caller commits, then tells search (`Site.papers_stored`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dailypapers.arxiv.client import PoliteClient
from dailypapers.curation.models import record
from dailypapers.curation.moderation import CurationRefused, curated_paper
from dailypapers.curation.submissions import (
    SubmissionRefused,
    SubmissionRules,
    Submitted,
    submit,
)
from dailypapers.database import utcnow
from dailypapers.harvest.models import Proposal
from dailypapers.members.models import Member
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.records import PaperRecord
from dailypapers.revisions import bump_revision

# Curators are exempt from the rules that take a number (age, submissions a day).
CURATORS_RULES = SubmissionRules(max_age_days=0, per_day=0)
DECISIONS = ("accept", "reject")


@dataclass(frozen=True, slots=True)
class Unfeatured:
    paper_id: int
    arxiv_id: str
    featured_date: date


@dataclass(frozen=True, slots=True)
class ProposalDecided:
    paper_id: int
    arxiv_id: str
    proposed_for: date
    accepted: bool


def feature(
    session: Session,
    curator: Member,
    text: str,
    day: date,
    *,
    arxiv: PoliteClient,
    api_url: str,
    fetched: PaperRecord | None = None,
) -> Submitted:
    """Put the paper (an arXiv id or URL) on the list of `day`, the curator as its submitter
    (`fetched`: its arXiv record, when the caller fetched it already)."""
    try:
        done = submit(
            session,
            arxiv,
            api_url,
            text,
            member=curator,
            today=day,
            rules=CURATORS_RULES,
            fetched=fetched,
        )
    except SubmissionRefused as error:
        raise CurationRefused(str(error)) from None
    record(session, curator.id, "feature", done.arxiv_id, day.isoformat())
    return done


def unfeature(session: Session, curator: Member, text: str) -> Unfeatured:
    """Take the paper off the list it is on."""
    paper = curated_paper(session, text)
    entry = None
    if paper is not None:
        entry = session.scalar(select(DailyEntry).where(DailyEntry.paper_id == paper.id))
    if paper is None or entry is None:
        raise CurationRefused(f"{text[:40]!r} is not on any list.")
    session.execute(delete(DailyEntry).where(DailyEntry.id == entry.id))
    record(session, curator.id, "unfeature", paper.arxiv_id, entry.featured_date.isoformat())
    bump_revision(session)
    return Unfeatured(paper.id, paper.arxiv_id, entry.featured_date)


def decide_proposal(
    session: Session,
    curator: Member,
    proposal_id: int,
    decision: str,
    *,
    arxiv: PoliteClient,
    api_url: str,
) -> ProposalDecided:
    """Accept a harvest proposal (the paper joins the list of the day it was proposed for, the
    curator as its submitter) or reject it."""
    if decision not in DECISIONS:
        raise CurationRefused("Proposals are accepted or rejected.")
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.status != "proposed":
        raise CurationRefused("That proposal was already decided or no longer exists.")
    paper = session.get(Paper, proposal.paper_id)
    assert paper is not None
    accepted = decision == "accept"
    if accepted:
        try:
            submit(
                session,
                arxiv,
                api_url,
                paper.arxiv_id,
                member=curator,
                today=proposal.proposed_for,
                rules=CURATORS_RULES,
            )
        except SubmissionRefused as error:
            raise CurationRefused(str(error)) from None
    proposal.status = "accepted" if accepted else "rejected"
    proposal.decided_by_id, proposal.decided_at = curator.id, utcnow()
    day = proposal.proposed_for
    record(session, curator.id, f"proposal-{decision}", paper.arxiv_id, day.isoformat())
    return ProposalDecided(paper.id, paper.arxiv_id, day, accepted)
