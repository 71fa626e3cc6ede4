"""For you: the recent papers ranked for one member, each with the reasons it is there.

The candidates are the papers of the member's window (the last `Member.for_you_days` days,
counted from the newest day with papers: `memo.window_of`), less the ones they already upvoted
or saved and the ones they said they are not interested in. A model of their own (`model.py`,
one profile per interest: `signals.py`) ranks them; followed authors, categories and topics are
blended in as boosts (named below). A member with nothing to learn from yet (no upvote, no saved
paper, no followed collection) is a cold start: the papers matching what they follow, ranked by
that alone, and the page says so. Every pick says why it is there.

Dismissing a paper ("not interested") and the member's For you settings are here too; all of
it is the member's own business: no site revision is bumped.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from dailypapers.database import insert_or_ignore, utcnow
from dailypapers.foryou.memo import (
    DEFAULT_DAYS,
    MAX_DAYS,
    MIN_DAYS,
    CandidatePool,
    ForYouMemo,
    Ranking,
    window_days,
)
from dailypapers.foryou.model import Pick
from dailypapers.foryou.models import NotInterested
from dailypapers.foryou.signals import FOLLOWED, FOLLOWS, UPVOTES, Signals, signals_of
from dailypapers.members.models import Member
from dailypapers.papers.models import Paper

DEFAULT_LIMIT = 30
MAX_LIMIT = 100
ALL = "all"
# What a follow adds to a paper's place in the member's model ranking (0 for the last, 1 for
# the first): a followed author's paper rises far, a followed topic's well, a followed
# category's a little (a category holds many papers of every interest).
AUTHOR_BOOST = 0.5
TOPIC_BOOST = 0.35  # the topic in the title or keywords (topic_rank 2 or more)
TOPIC_ABSTRACT_BOOST = 0.2  # the topic said twice in the abstract (topic_rank 1)
CATEGORY_BOOST = 0.1
# A pick says it is like a paper of the member's only when the model put it this high (the
# top fifth), or when nothing else explains it.
LIKE_REASON_FROM = 0.8
REASON_TITLE_CHARS = 90
NOT_INTERESTED = cast(Table, NotInterested.__table__)


class UnknownProfile(ValueError):
    """Not one of the member's interests (a 400 for the caller; the message says which are)."""


class SettingsRefused(ValueError):
    """A For you setting out of range; the message says which (422)."""


@dataclass(frozen=True, slots=True)
class Recommendation:
    paper_id: int
    score: float
    reasons: list[str]


@dataclass
class ForYou:
    picks: list[Recommendation]
    profiles: list[tuple[str, str]]  # (key, label) the member may pick; "all" implied
    cold_start: bool  # ranked by follows alone: the page says so
    window: tuple[date, date]  # the days looked at
    follows: bool = False  # whether the member follows any author, category or topic


def for_you(
    session: Session,
    memo: ForYouMemo,
    member_id: int,
    *,
    profile: str | None = None,
    limit: int = DEFAULT_LIMIT,
    signals: Signals | None = None,
    pool: CandidatePool | None = None,
    skip: Collection[int] = (),
) -> ForYou:
    """The member's For you: at most `limit` picks, best first, from one profile (a key of
    `ForYou.profiles`) or all of them (None or "all"). UnknownProfile for any other.
    A caller that read the member's `signals` and window's `pool` already (a digest run, a
    batch of readers at a time) passes them; papers in `skip` are not picked (a digest: the
    papers the reader was sent before)."""
    if pool is None:
        pool = memo.pool(session, window_days(session, member_id) or DEFAULT_DAYS)
    if signals is None:
        signals = signals_of(session, member_id)
    specs = signals.profiles()
    choices = [(spec.key, spec.label) for spec in specs]
    if signals.follows_anything:
        choices.append((FOLLOWS, "what you follow"))
    chosen = None if profile in (None, ALL) else profile
    if chosen is not None and chosen not in dict(choices):
        keys = ", ".join([ALL, *(key for key, _ in choices)])
        raise UnknownProfile(
            f"profile: {str(chosen)[:60]!r} is not one of your interests; choose one of {keys}."
        )
    limit = min(max(limit, 1), MAX_LIMIT)
    followed = follow_matches(pool, signals)
    shut = signals.kept | frozenset(signals.dismissed)
    cold_start = not specs
    if cold_start or chosen == FOLLOWS:
        picks = _by_follows(pool, followed, shut.union(skip) if skip else shut, limit)
    else:
        ranking = memo.ranked(session, member_id, signals, pool, chosen, shut)
        followed = followed if chosen is None else {}
        picks = _blended(session, memo, signals, ranking, followed, limit, skip)
    return ForYou(picks, choices, cold_start, pool.window, signals.follows_anything)


def follow_matches(pool: CandidatePool, signals: Signals) -> dict[int, tuple[float, list[str]]]:
    """{paper id: (boost, reasons)} of the candidates by a followed author, in a followed
    category or on a followed topic; found once per pool and set of follows."""
    key = ("follows", signals.authors, signals.categories, signals.topics)
    return pool.kept(key, lambda: _follow_matches(pool, signals))


def _follow_matches(pool: CandidatePool, signals: Signals) -> dict[int, tuple[float, list[str]]]:
    found: dict[int, tuple[float, list[str]]] = {}

    def add(paper_id: int, boost: float, reason: str) -> None:
        before, reasons = found.get(paper_id, (0.0, []))
        found[paper_id] = (before + boost, [*reasons, reason])

    if signals.authors:
        for paper_id, paper in pool.papers.items():
            for name in sorted(paper.authors & signals.authors):
                add(paper_id, AUTHOR_BOOST, f"By {name}, whom you follow")
    for topic in signals.topics:
        for paper_id, rank in sorted(pool.on_topic(topic).items()):
            boost = TOPIC_BOOST if rank >= 2 else TOPIC_ABSTRACT_BOOST
            add(paper_id, boost, f'Matches your topic "{_short(topic)}"')
    if signals.categories:
        for paper_id, paper in pool.papers.items():
            for category in sorted(paper.categories & signals.categories):
                add(paper_id, CATEGORY_BOOST, f"In {category}, which you follow")
    return found


def _by_follows(
    pool: CandidatePool,
    followed: dict[int, tuple[float, list[str]]],
    shut: frozenset[int] | set[int],
    limit: int,
) -> list[Recommendation]:
    """A cold start (or the "what you follow" profile): the papers matching a follow, the most
    matched first, then the most upvoted."""
    ranked = sorted(
        (paper_id for paper_id in followed if paper_id not in shut),
        key=lambda paper_id: (-followed[paper_id][0], -pool.papers[paper_id].upvotes, paper_id),
    )
    return [
        Recommendation(paper_id, round(followed[paper_id][0], 4), followed[paper_id][1])
        for paper_id in ranked[:limit]
    ]


def _blended(
    session: Session,
    memo: ForYouMemo,
    signals: Signals,
    ranking: Ranking,
    followed: dict[int, tuple[float, list[str]]],
    limit: int,
    skip: Collection[int] = (),
) -> list[Recommendation]:
    """The model's ranking as a place from 1 (first) to 0 (last), plus the follows' boosts;
    the reasons of the `limit` best not in `skip`. Past the model's first `limit`, only a
    followed paper can still climb among the best, so only those are scored."""
    count = max(len(ranking.picks), 1)
    scored: dict[int, tuple[float, float, int]] = {}  # paper id -> (score, place, index)
    for index, pick in enumerate(ranking.picks):
        if len(scored) >= limit:
            break
        if pick.paper_id in skip:
            continue
        place = 1.0 - index / count
        scored[pick.paper_id] = (place + followed.get(pick.paper_id, (0.0, []))[0], place, index)
    for paper_id, (boost, _) in followed.items():
        found = ranking.place.get(paper_id)
        if found is not None and paper_id not in scored and paper_id not in skip:
            place = 1.0 - found / count
            scored[paper_id] = (place + boost, place, found)
    best = heapq.nsmallest(limit, scored.values(), key=lambda item: (-item[0], item[2]))
    chosen = [(score, place, ranking.picks[index]) for score, place, index in best]
    titles = memo.titles(session, [pick.like for _, _, pick in chosen if pick.like is not None])
    picks = []
    for score, place, pick in chosen:
        reasons = list(followed.get(pick.paper_id, (0.0, []))[1])
        like = like_reason(signals, pick, titles)
        if like is not None and (place >= LIKE_REASON_FROM or not reasons):
            reasons.insert(0, like)
        picks.append(Recommendation(pick.paper_id, round(score, 4), reasons))
    return picks


def like_reason(signals: Signals, pick: Pick, titles: dict[int, str]) -> str | None:
    """'Like "X" in your collection Y' (or "which you upvoted", or a followed collection)."""
    if pick.like is None or pick.like not in titles:
        return None
    title = f'"{_short(titles[pick.like])}"'
    if pick.profile == UPVOTES:
        return f"Like {title}, which you upvoted"
    if pick.profile == FOLLOWED:
        followed = signals.followed_collection_of(pick.like)
        if followed is not None:
            return (
                f"Like {title} in {followed.owner}'s collection {followed.name}, which you follow"
            )
        return f"Like {title} in the collections you follow"
    if pick.profile.startswith("collection:"):
        number = pick.profile.partition(":")[2]
        for collection in signals.collections:
            if str(collection.id) == number:
                return f"Like {title} in your collection {collection.name}"
    return f"Like {title}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= REASON_TITLE_CHARS:
        return text
    return text[: REASON_TITLE_CHARS - 1].rstrip() + "…"


# --- "Not interested" -----------------------------------------------------------------------
def dismiss(session: Session, member_id: int, paper_id: int) -> bool:
    """Never show the paper in the member's For you again, and learn from it; idempotent
    (False: it was dismissed already). The commit is the caller's."""
    added = session.execute(
        insert_or_ignore(session.connection(), NOT_INTERESTED)
        .values(member_id=member_id, paper_id=paper_id, created_at=utcnow())
        .returning(NOT_INTERESTED.c.paper_id)
    ).first()
    return added is not None


def undo_dismiss(session: Session, member_id: int, paper_id: int) -> bool:
    """Take a "not interested" back; idempotent (False: there was none)."""
    removed = session.execute(
        delete(NotInterested).where(
            NotInterested.member_id == member_id, NotInterested.paper_id == paper_id
        )
    ).rowcount  # type: ignore[attr-defined]
    return bool(removed)


def mark_not_interested(
    session: Session, memo: ForYouMemo, member_id: int, paper_id: int, *, dismissed: bool
) -> None:
    """ "Not interested" (or its undo) from the page or the API: recorded and committed, then
    the member's model is refitted in the background."""
    if dismissed:
        dismiss(session, member_id, paper_id)
    else:
        undo_dismiss(session, member_id, paper_id)
    session.commit()
    memo.refit_soon(member_id)


def exported(session: Session, member_id: int) -> list[dict[str, str]]:
    """The member's "not interested" papers for "download my data", oldest first."""
    rows = session.execute(
        select(Paper.arxiv_id, NotInterested.created_at)
        .join(Paper, Paper.id == NotInterested.paper_id)
        .where(NotInterested.member_id == member_id)
        .order_by(NotInterested.created_at, NotInterested.id)
    )
    return [{"paper": arxiv_id, "at": created_at.isoformat()} for arxiv_id, created_at in rows]


def forget(session: Session, member_id: int) -> int:
    """Remove every "not interested" of the member (a deleted account): how many there were."""
    removed = session.execute(delete(NotInterested).where(NotInterested.member_id == member_id))
    return int(removed.rowcount)  # type: ignore[attr-defined]


# --- Settings -------------------------------------------------------------------------------
def check_days(value: str | int) -> int:
    """The window's length in days, from a form or the API: 1 to 30 (SettingsRefused else)."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not MIN_DAYS <= int(text) <= MAX_DAYS:
        raise SettingsRefused(
            f"days: For you looks back {MIN_DAYS} to {MAX_DAYS} days; {text[:20]!r} is not one "
            "of those."
        )
    return int(text)


def change_settings(
    session: Session, member: Member, *, days: str | int, personal_digest: bool
) -> None:
    """Set how many days For you looks back and whether the member's digest opens with it."""
    member.for_you_days = check_days(days)
    member.personal_digest = personal_digest
    session.flush()
