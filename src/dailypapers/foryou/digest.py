"""The personal sections of a member's digest: "For you" (the member's best picks, by their own
model, as on /for-you) and "Changed" (new versions, code links and project pages on the papers
in their collections). The digests call this through their `PersonalSections` protocol
(digests/compose.py): they know nothing of For you.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.digests.compose import Note
from dailypapers.digests.schedule import DigestPeriod
from dailypapers.foryou.changes import Change, changed_for, changes_by_member, newest_of_each
from dailypapers.foryou.memo import CandidatePool, ForYouMemo, clamp_days
from dailypapers.foryou.service import for_you
from dailypapers.foryou.signals import Signals, signals_of_many
from dailypapers.members.models import Member

# A run's changes are read once, from this long before the first reader's "since" (readers
# whose previous digest is older are read one by one).
CHANGES_READ_BEFORE = timedelta(days=1)
PICKED = "Picked for you"


def change_note(change: Change) -> str:
    """One line for a change: what is new, and in which of the reader's collections."""
    where = f" (in your collection {change.collection})"
    if change.kind == "version":
        return f"New version on arXiv: {change.detail}{where}"
    if change.kind == "code":
        return f"Code now available: {change.detail}{where}"
    if change.kind == "project_page":
        return f"Project page now available: {change.detail}{where}"
    return f"Changed: {change.detail}{where}"


class ForYouSite(Protocol):
    """What the personal sections need of a site (a `Site` is one): its For you memo."""

    @property
    def for_you_memo(self) -> ForYouMemo: ...


@dataclass(frozen=True, slots=True)
class _RunChanges:
    """The changes of one digest run (its `until`), by member."""

    since: datetime
    until: datetime
    by_member: dict[int, list[tuple[Change, datetime]]]


class PersonalDigest:
    """`PersonalSections` for the digests, over the site's For you memo (the same models as the
    /for-you page: a member's model is fitted once and kept while their signals stay). The memo
    is read from the site on first use: a run without a personal digest builds none."""

    def __init__(self, site: ForYouSite) -> None:
        self.site = site
        self._run: _RunChanges | None = None
        # The batch of readers prepared last (`prepare`): their signals and windows' pools.
        self._signals: dict[int, Signals] = {}
        self._pools: dict[int, CandidatePool] = {}  # member id -> the pool of their window

    @property
    def memo(self) -> ForYouMemo:
        return self.site.for_you_memo

    def prepare(self, session: Session, member_ids: Sequence[int]) -> None:
        """Read a batch of readers' signals in a few queries and their papers in one, and fit
        their models together, instead of reader by reader."""
        self._signals = signals_of_many(session, member_ids)
        days = {
            member_id: clamp_days(length)
            for member_id, length in session.execute(
                select(Member.id, Member.for_you_days).where(Member.id.in_(self._signals))
            )
        }
        pools = {length: self.memo.pool(session, length) for length in set(days.values())}
        self._pools = {member_id: pools[length] for member_id, length in days.items()}
        for length, pool in pools.items():
            members = {m: self._signals[m] for m, days_of in days.items() if days_of == length}
            self.memo.fit_many(session, members, pool)

    def for_you(
        self,
        session: Session,
        member_id: int,
        period: DigestPeriod,
        seen: Collection[int],
        limit: int,
    ) -> list[Note]:
        page = for_you(
            session,
            self.memo,
            member_id,
            limit=limit,
            signals=self._signals.get(member_id),
            pool=self._pools.get(member_id),
            skip=seen,
        )
        return [
            Note(pick.paper_id, pick.reasons[0] if pick.reasons else PICKED) for pick in page.picks
        ]

    def changed(
        self, session: Session, member_id: int, since: datetime, until: datetime, limit: int
    ) -> list[Note]:
        run = self._run
        if run is None or run.until != until:  # a new run: its changes, read once
            start = since - CHANGES_READ_BEFORE
            run = _RunChanges(start, until, changes_by_member(session, since=start, until=until))
            self._run = run
        if since >= run.since:
            kept = run.by_member.get(member_id, [])
            changes = newest_of_each(c for c in kept if c[0].noticed_at >= since)[:limit]
        else:
            changes = changed_for(session, member_id, since=since, until=until, limit=limit)
        return [Note(change.paper_id, change_note(change)) for change in changes]


def personal_sections(site: ForYouSite) -> PersonalDigest:
    """The personal sections over a site's memo; a module-level function, so that a digest
    sender in another process is handed it (digests/parallel.py)."""
    return PersonalDigest(site)
