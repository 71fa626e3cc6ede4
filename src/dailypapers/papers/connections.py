"""Papers that belong together: one author's, one arXiv category's, one submitter's.

Authors and categories are JSON lists kept as text in `papers`; the tables `paper_authors` and
`paper_categories` (one row per name, kept equal to those lists by the triggers of migration
0017) find a name's papers through an index on either database. They keep the first 200
characters of a name, so the paper's own list decides (a whole-name comparison in Python).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, String, column, func, or_, select, table
from sqlalchemy.orm import Session

from dailypapers.papers.feed import PaperItem, paper_items
from dailypapers.papers.models import DailyEntry, Paper

# An arXiv category: an archive (cs, hep-th, q-bio, cond-mat, math-ph) and, for most archives,
# a subject class after a dot (cs.LG, math.AG, cond-mat.mtrl-sci, physics.soc-ph).
CATEGORY_PATTERN = re.compile(r"[a-z]{1,8}(?:-[a-z]{2,5})?(?:\.[A-Za-z]{2,6}(?:-[a-z]{2,6})?)?")
MAX_NAME_CHARS = 1_000  # as records.MAX_AUTHOR_CHARS: no stored author name is longer
NAME_KEY_CHARS = 200  # the lookup tables keep this much of a name (an index entry's limit)
TOP_COAUTHORS = 10

CATEGORY_NAMES = {
    "cs.AI": "Artificial Intelligence",
    "cs.AR": "Hardware Architecture",
    "cs.CC": "Computational Complexity",
    "cs.CE": "Computational Engineering, Finance, and Science",
    "cs.CG": "Computational Geometry",
    "cs.CL": "Computation and Language",
    "cs.CR": "Cryptography and Security",
    "cs.CV": "Computer Vision and Pattern Recognition",
    "cs.CY": "Computers and Society",
    "cs.DB": "Databases",
    "cs.DC": "Distributed, Parallel, and Cluster Computing",
    "cs.DL": "Digital Libraries",
    "cs.DS": "Data Structures and Algorithms",
    "cs.GR": "Graphics",
    "cs.GT": "Computer Science and Game Theory",
    "cs.HC": "Human-Computer Interaction",
    "cs.IR": "Information Retrieval",
    "cs.IT": "Information Theory",
    "cs.LG": "Machine Learning",
    "cs.LO": "Logic in Computer Science",
    "cs.MA": "Multiagent Systems",
    "cs.MM": "Multimedia",
    "cs.NE": "Neural and Evolutionary Computing",
    "cs.NI": "Networking and Internet Architecture",
    "cs.PF": "Performance",
    "cs.PL": "Programming Languages",
    "cs.RO": "Robotics",
    "cs.SD": "Sound",
    "cs.SE": "Software Engineering",
    "cs.SI": "Social and Information Networks",
    "cs.SY": "Systems and Control",
    "eess.AS": "Audio and Speech Processing",
    "eess.IV": "Image and Video Processing",
    "eess.SP": "Signal Processing",
    "eess.SY": "Systems and Control",
    "stat.ML": "Machine Learning (Statistics)",
    "stat.ME": "Methodology",
    "math.OC": "Optimization and Control",
    "math.AP": "Analysis of PDEs",
    "math.NA": "Numerical Analysis",
    "quant-ph": "Quantum Physics",
    "hep-th": "High Energy Physics - Theory",
    "cond-mat.mtrl-sci": "Materials Science",
    "q-bio.NC": "Neurons and Cognition",
    "q-bio.BM": "Biomolecules",
    "physics.soc-ph": "Physics and Society",
}


def is_category(text: str) -> bool:
    """Whether `text` is shaped like an arXiv category (cs.LG, hep-th, math.AG)."""
    return len(text) <= 32 and CATEGORY_PATTERN.fullmatch(text) is not None


def category_name(category: str) -> str | None:
    return CATEGORY_NAMES.get(category)


@dataclass(slots=True)
class PapersPage:
    """One page of papers as cards (featured or not), and how many there are in all."""

    items: list[PaperItem]
    total: int


@dataclass(slots=True)
class AuthorPapers(PapersPage):
    coauthors: list[tuple[str, int]]  # the most frequent first, with their papers together


# Derived from papers.authors and papers.categories by triggers (migration 0017); not models,
# so that `db copy` leaves them to the target's triggers.
PAPER_AUTHORS = table("paper_authors", column("name", String), column("paper_id", Integer))
PAPER_CATEGORIES = table(
    "paper_categories", column("category", String), column("paper_id", Integer)
)


def _with_author(name: str) -> ColumnElement[bool]:
    named = select(PAPER_AUTHORS.c.paper_id).where(PAPER_AUTHORS.c.name == name[:NAME_KEY_CHARS])
    return Paper.id.in_(named)


def _in_category(category: str) -> ColumnElement[bool]:
    listed = select(PAPER_CATEGORIES.c.paper_id).where(PAPER_CATEGORIES.c.category == category)
    return Paper.id.in_(listed)


def _newest_first(rows: list[Any]) -> list[Any]:
    """Rows of (id, arxiv_id, published_date, featured_date, ...): newest publication first,
    then newest featured; papers without either date last."""
    oldest = date.min.toordinal()

    def key(row: Any) -> tuple[int, int, str]:
        published = row.published_date.toordinal() if row.published_date else oldest
        featured = row.featured_date.toordinal() if row.featured_date else oldest
        return (-published, -featured, row.arxiv_id)

    return sorted(rows, key=key)


def _matching(where: ColumnElement[bool], *extra: Any) -> Select:  # type: ignore[type-arg]
    return (
        select(Paper.id, Paper.arxiv_id, Paper.published_date, DailyEntry.featured_date, *extra)
        .join_from(Paper, DailyEntry, DailyEntry.paper_id == Paper.id, isouter=True)
        .where(where, Paper.hidden.is_(False))
    )


def _page(session: Session, rows: list[Any], offset: int, limit: int) -> list[PaperItem]:
    ids = [row.id for row in rows[offset : offset + limit]]
    items = paper_items(session, ids)
    return [items[paper_id] for paper_id in ids if paper_id in items]


def papers_by_author(
    session: Session, name: str, *, offset: int = 0, limit: int = 50
) -> AuthorPapers:
    """The author's visible papers, newest first, and their most frequent co-authors."""
    if not name or len(name) > MAX_NAME_CHARS:
        return AuthorPapers([], 0, [])
    found = session.execute(_matching(_with_author(name), Paper.authors)).all()
    rows = _newest_first([row for row in found if name in (row.authors or ())])
    together: Counter[str] = Counter()
    for row in rows:
        together.update({other for other in row.authors if other != name})
    coauthors = sorted(together.items(), key=lambda pair: (-pair[1], pair[0]))[:TOP_COAUTHORS]
    return AuthorPapers(_page(session, rows, offset, limit), len(rows), coauthors)


def papers_in_category(
    session: Session, category: str, *, offset: int = 0, limit: int = 50
) -> PapersPage:
    """Visible papers listed in the category (primary or cross-list), newest first."""
    listed = _in_category(category)
    query = (
        _matching(listed, func.count().over().label("total"))  # one pass: the page and the count
        .order_by(
            Paper.published_date.desc().nulls_last(),
            DailyEntry.featured_date.desc().nulls_last(),
            Paper.arxiv_id,
        )
        .offset(offset)
        .limit(limit)
    )
    rows = list(session.execute(query))
    if rows:
        total = rows[0].total
    else:  # past the last page (or none at all): count them alone
        where = (listed, Paper.hidden.is_(False))
        total = session.scalar(select(func.count()).select_from(Paper).where(*where)) or 0
    return PapersPage(_page(session, rows, 0, limit), total)


def submitted_entries(
    session: Session,
    *,
    name: str,
    member_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> PapersPage:
    """Papers on the daily list submitted by a member here (`member_id`) or under the user
    name `name` (an import names Hugging Face's submitter so), newest featured first."""
    who = DailyEntry.submitter_name == name
    if member_id is not None:
        who = or_(who, DailyEntry.submitted_by_id == member_id)
    total = session.scalar(select(func.count()).select_from(DailyEntry).where(who)) or 0
    ids = list(
        session.scalars(
            select(DailyEntry.paper_id)
            .join(Paper, Paper.id == DailyEntry.paper_id)
            .where(who)
            .order_by(DailyEntry.featured_date.desc(), Paper.arxiv_id.desc())
            .offset(offset)
            .limit(limit)
        )
    )
    items = paper_items(session, ids)
    return PapersPage([items[paper_id] for paper_id in ids if paper_id in items], total)


def papers_in_order(session: Session, paper_ids: list[int]) -> list[PaperItem]:
    """Cards for these papers in this order, the hidden ones left out."""
    items = paper_items(session, paper_ids)
    return [items[paper_id] for paper_id in paper_ids if paper_id in items]
