"""Submitting a paper to today's list: by arXiv id or URL, fetched from arXiv unless known.

The rules, each a setting (docs/configuration.md), with the message a member sees:

* no duplicates: a paper already on a list is not added again;
* papers first published more than `submission_max_age_days` ago are refused;
* at most `submissions_per_day` submissions per member per (site) day.

Curators and admins, and the site's operator (`dailypapers submit`), are exempt from the last
two. Featuring a paper on a day and accepting a harvest proposal go through the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.arxiv.api import fetch_papers
from dailypapers.arxiv.client import ArxivError, ArxivUnavailable, PoliteClient
from dailypapers.members.models import Member
from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.loader import store_batch
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.records import RejectedRecord
from dailypapers.revisions import bump_revision


class SubmissionRefused(Exception):
    """The paper cannot be put on the list; the message says why, for the submitter."""


@dataclass(frozen=True, slots=True)
class SubmissionRules:
    max_age_days: int
    per_day: int


@dataclass(frozen=True, slots=True)
class Submitted:
    paper_id: int
    arxiv_id: str
    title: str
    featured_date: date
    fetched: bool  # metadata came from arXiv just now


def submit(
    session: Session,
    arxiv: PoliteClient,
    api_url: str,
    text: str,
    *,
    member: Member | None,
    today: date,
    rules: SubmissionRules,
    submitter: Member | None = None,
) -> Submitted:
    """Put the paper on `today`'s list, in the caller's transaction (the caller commits; a
    paper fetched from arXiv but refused as too old is committed here, so it stays
    searchable). `member` is who submits, None for the site's operator (`dailypapers
    submit`); `submitter` is who the list names, `member` unless given."""
    try:
        arxiv_id = parse_arxiv_id(text.strip()[:300]).id
    except InvalidArxivId as error:
        raise SubmissionRefused(str(error)) from None
    exempt = member is None or member.is_curator

    paper = session.scalar(select(Paper).where(Paper.arxiv_id == arxiv_id))
    if paper is not None:
        entry = session.scalar(select(DailyEntry).where(DailyEntry.paper_id == paper.id))
        if entry is not None:
            raise SubmissionRefused(
                f"{arxiv_id} is already on the list of {entry.featured_date:%b %-d, %Y}."
            )
        if paper.hidden:
            raise SubmissionRefused(f"{arxiv_id} was hidden by the curators.")
        if paper.withdrawn:
            raise SubmissionRefused(f"{arxiv_id} was withdrawn by its authors.")
    if not exempt:
        assert member is not None
        _check_daily_quota(session, member, today, rules.per_day)

    fetched = False
    if paper is None:
        paper = _fetch_and_store(session, arxiv, api_url, arxiv_id)
        fetched = True
    if not exempt and paper.published_date is not None:
        oldest = today - timedelta(days=rules.max_age_days)
        if paper.published_date < oldest:
            session.commit()  # keep what we fetched: it is a real paper, searchable now
            raise SubmissionRefused(
                f"{arxiv_id} was first published on {paper.published_date:%b %-d, %Y}; papers "
                f"older than {rules.max_age_days} days cannot be submitted."
            )
    submitter = submitter or member
    session.add(
        DailyEntry(
            paper_id=paper.id,
            featured_date=today,
            submitted_by_id=submitter.id if submitter else None,
            submitter_name=submitter.username if submitter else None,
        )
    )
    bump_revision(session)
    session.flush()  # a paper submitted by someone else a moment earlier: IntegrityError now
    return Submitted(paper.id, arxiv_id, paper.title, today, fetched)


def _check_daily_quota(session: Session, member: Member, today: date, per_day: int) -> None:
    submitted = session.scalar(
        select(func.count())
        .select_from(DailyEntry)
        .where(DailyEntry.submitted_by_id == member.id, DailyEntry.featured_date == today)
    )
    if (submitted or 0) >= per_day:
        raise SubmissionRefused(
            f"You have submitted {per_day} papers today, the most a member may; try again tomorrow."
        )


def _fetch_and_store(session: Session, arxiv: PoliteClient, api_url: str, arxiv_id: str) -> Paper:
    try:
        found = fetch_papers(arxiv, api_url, [arxiv_id])
    except ArxivUnavailable as error:
        raise SubmissionRefused(f"arXiv is not answering right now ({error}).") from None
    except ArxivError as error:
        raise SubmissionRefused(str(error)) from None
    record = found.get(arxiv_id)
    if record is None:
        raise SubmissionRefused(f"arXiv has no paper {arxiv_id}; check the id.")
    if isinstance(record, RejectedRecord):
        raise SubmissionRefused(f"arXiv's record of {arxiv_id} cannot be used: {record}.")
    store_batch(session, [record])
    paper = session.scalar(select(Paper).where(Paper.arxiv_id == arxiv_id))
    assert paper is not None
    return paper
