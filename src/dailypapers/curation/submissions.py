"""Submitting a paper to today's list: by arXiv id or URL, fetched from arXiv unless known.

The rules, each a setting (docs/configuration.md), with the message a member sees:

* no duplicates: a paper already on a list is not added again;
* papers first published more than `submission_max_age_days` ago are refused;
* at most `submissions_per_day` submissions per member per (site) day.

Curators and admins, and the site's operator (`dailypapers submit`), are exempt from the last
two. Featuring a paper on a day and accepting a harvest proposal go through the same rules.
A fetch from arXiv that fails (arXiv not answering, or not within the deadline) counts as one
of the member's submissions of the day, so nobody can make the site wait on arXiv all day.

The web app checks the rules (`check_submission`), then fetches a paper new to the site off the
threads that serve pages (`fetch_for_submission`, with no database transaction open), then
calls `submit` with the record; commands call `submit`, which fetches when it must.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dailypapers.arxiv.api import fetch_papers
from dailypapers.arxiv.client import ArxivBusy, ArxivError, ArxivUnavailable, PoliteClient
from dailypapers.members.models import Member
from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.loader import store_batch
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.papers.periods import InvalidPeriod, check_day
from dailypapers.papers.records import PaperRecord, RejectedRecord
from dailypapers.revisions import bump_revision
from dailypapers.web import ratelimit

FAILED_FETCHES = "submit-fetch-failed"  # a member's failed fetches of a day (rate_limit_counters)


class SubmissionRefused(Exception):
    """The paper cannot be put on the list; the message says why, for the submitter."""


class FetchFailed(SubmissionRefused):
    """arXiv did not answer (in time); counts toward the member's daily limit."""


class TryLater(SubmissionRefused):
    """Too many submissions are waiting on arXiv right now: nothing was tried (503)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


@dataclass(frozen=True, slots=True)
class Candidate:
    """A submission that passed the rules that need no answer from arXiv."""

    arxiv_id: str
    paper: Paper | None  # None: new to the site, its record must come from arXiv


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
    fetched: PaperRecord | None = None,
) -> Submitted:
    """Put the paper on `today`'s list, in the caller's transaction (the caller commits; a
    paper fetched from arXiv but refused as too old is committed here, so it stays
    searchable). `member` is who submits, None for the site's operator (`dailypapers
    submit`); `submitter` is who the list names, `member` unless given. `fetched` is the
    paper's arXiv record when the caller fetched it already (`fetch_for_submission`)."""
    candidate = check_submission(session, text, member=member, today=today, rules=rules)
    arxiv_id, paper = candidate.arxiv_id, candidate.paper
    exempt = member is None or member.is_curator

    fetched_now = False
    if paper is None:
        if fetched is None:
            try:
                fetched = fetch_record(arxiv, api_url, arxiv_id)
            except FetchFailed:
                engine = session.get_bind()
                assert isinstance(engine, Engine)
                note_failed_fetch(engine, member, today)
                raise
        paper = _store(session, fetched, arxiv_id)
        fetched_now = True
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
    return Submitted(paper.id, arxiv_id, paper.title, today, fetched_now)


def check_submission(
    session: Session, text: str, *, member: Member | None, today: date, rules: SubmissionRules
) -> Candidate:
    """The rules that need no answer from arXiv: the list's date, the id, duplicates, hidden
    and withdrawn papers, the daily limit. Raises SubmissionRefused saying which."""
    try:
        check_day(today)  # a list far in the future would break the pages around it
    except InvalidPeriod as error:
        raise SubmissionRefused(f"The list's date {error}.") from None
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
    return Candidate(arxiv_id, paper)


def _check_daily_quota(session: Session, member: Member, today: date, per_day: int) -> None:
    submitted = session.scalar(
        select(func.count())
        .select_from(DailyEntry)
        .where(DailyEntry.submitted_by_id == member.id, DailyEntry.featured_date == today)
    )
    failed = ratelimit.count_for_day(session, FAILED_FETCHES, f"member:{member.id}", today)
    if (submitted or 0) + failed >= per_day:
        unanswered = f" ({failed} of them while arXiv was not answering)" if failed else ""
        raise SubmissionRefused(
            f"You have submitted {per_day} papers today{unanswered}, the most a member may; "
            "try again tomorrow."
        )


def note_failed_fetch(engine: Engine, member: Member | None, today: date) -> None:
    """Count a failed fetch toward the member's daily limit (curators and the operator are
    exempt), in a transaction of its own: the submission itself is rolled back."""
    if member is not None and not member.is_curator:
        ratelimit.add_for_day(engine, FAILED_FETCHES, f"member:{member.id}", today)


def fetch_record(
    arxiv: PoliteClient, api_url: str, arxiv_id: str, *, deadline: float | None = None
) -> PaperRecord:
    """The paper's record from arXiv; SubmissionRefused saying why not (FetchFailed when
    arXiv did not answer)."""
    try:
        found = fetch_papers(arxiv, api_url, [arxiv_id], deadline=deadline)
    except ArxivUnavailable as error:
        raise FetchFailed(f"arXiv is not answering right now ({error}).") from None
    except ArxivError as error:
        raise SubmissionRefused(str(error)) from None
    record = found.get(arxiv_id)
    if record is None:
        raise SubmissionRefused(f"arXiv has no paper {arxiv_id}; check the id.")
    if isinstance(record, RejectedRecord):
        raise SubmissionRefused(f"arXiv's record of {arxiv_id} cannot be used: {record}.")
    return record


async def fetch_for_submission(
    arxiv: PoliteClient, api_url: str, arxiv_id: str, *, deadline: float
) -> PaperRecord:
    """`fetch_record` on the arXiv client's own threads, waiting `deadline` seconds at most:
    for the web app, whose few threads serve pages. TryLater when as many fetches as allowed
    are under way already (nothing was tried)."""
    try:
        return await arxiv.within(
            deadline, lambda: fetch_record(arxiv, api_url, arxiv_id, deadline=deadline)
        )
    except ArxivBusy as error:
        raise TryLater(
            f"arXiv is slow right now ({error}); please try again in a moment.",
            retry_after=int(error.retry_after or deadline),
        ) from None
    except ArxivUnavailable as error:  # the wait ran out
        raise FetchFailed(f"arXiv is not answering right now ({error}).") from None


def _store(session: Session, record: PaperRecord, arxiv_id: str) -> Paper:
    store_batch(session, [record])
    paper = session.scalar(select(Paper).where(Paper.arxiv_id == arxiv_id))
    assert paper is not None
    return paper
