"""Proposing harvested papers for the daily list, for curators to accept in /admin.

The rule (also in docs/harvest.md): among the papers a harvest added that are not withdrawn,
hidden or already on a list, score each by how close its text is to what this community
upvotes — the cosine similarity of its embedding to the upvote-weighted mean embedding of the
papers featured in the `PROFILE_DAYS` days up to the latest featured day — plus `CODE_BONUS`
when it links to code; the best `limit` are proposed for today's list. Without embeddings
(dense search off) only the code bonus counts, and the newest papers come first among equals.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.database import insert_ignoring_duplicates, utcnow
from dailypapers.harvest.models import Proposal
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.search.models import PaperEmbedding

PROFILE_DAYS = 60
PROFILE_PAPERS = 300
CODE_BONUS = 0.05


def community_profile(session: Session) -> np.ndarray | None:
    """The upvote-weighted mean vector of the papers featured in the `PROFILE_DAYS` up to the
    latest featured day (None without vectors)."""
    latest = session.scalar(select(func.max(DailyEntry.featured_date)))
    if latest is None:
        return None
    upvotes = Paper.imported_upvotes + Paper.vote_count
    rows = session.execute(
        select(PaperEmbedding.vector, upvotes)
        .join(Paper, Paper.id == PaperEmbedding.paper_id)
        .join(DailyEntry, DailyEntry.paper_id == Paper.id)
        .where(DailyEntry.featured_date > latest - timedelta(days=PROFILE_DAYS))
        .order_by(upvotes.desc())
        .limit(PROFILE_PAPERS)
    ).all()
    if not rows:
        return None
    vectors = np.stack([np.frombuffer(row[0], dtype=np.float32) for row in rows])
    weights = np.array([1.0 + row[1] for row in rows], dtype=np.float32)
    profile = (vectors * weights[:, None]).sum(axis=0)
    norm = float(np.linalg.norm(profile))
    return profile / norm if norm else None


def propose(session: Session, paper_ids: Collection[int], today: date, limit: int) -> int:
    """Propose the best of `paper_ids` for today's list; returns how many were proposed."""
    if limit <= 0 or not paper_ids:
        return 0
    candidates = session.execute(
        select(Paper.id, Paper.github_url)
        .outerjoin(DailyEntry, DailyEntry.paper_id == Paper.id)
        .where(Paper.id.in_(paper_ids), DailyEntry.id.is_(None))
        .where(Paper.withdrawn.is_(False), Paper.hidden.is_(False))
    ).all()
    if not candidates:
        return 0
    profile = community_profile(session)
    affinity: dict[int, float] = {}
    if profile is not None:
        for paper_id, vector in session.execute(
            select(PaperEmbedding.paper_id, PaperEmbedding.vector).where(
                PaperEmbedding.paper_id.in_([c.id for c in candidates])
            )
        ):
            affinity[paper_id] = float(np.frombuffer(vector, dtype=np.float32) @ profile)
    scored = []
    for paper_id, github_url in candidates:
        close = affinity.get(paper_id)
        score = (close or 0.0) + (CODE_BONUS if github_url else 0.0)
        reasons = []
        if close is not None:
            reasons.append(f"close to what this community upvotes ({close:.2f})")
        if github_url:
            reasons.append("links to code")
        scored.append((score, paper_id, "; ".join(reasons) or "new in a followed category"))
    scored.sort(key=lambda item: (-item[0], -item[1]))
    now = utcnow()
    rows = [
        {
            "paper_id": paper_id,
            "proposed_for": today,
            "score": round(score, 4),
            "reason": reason,
            "status": "proposed",
            "created_at": now,
        }
        for score, paper_id, reason in scored[:limit]
    ]
    insert_ignoring_duplicates(session.connection(), Proposal.__table__, rows)  # type: ignore[arg-type]
    return len(rows)
