"""Keyword search on PostgreSQL: a weighted `tsvector` of each paper with a GIN index.

Every web and worker process of a scaled-out site searches the same database, so there is no
index to keep in step: the column is computed by PostgreSQL itself (migration 0009) from the
title (weight A), the abstract (B) and the authors (C), with the `english` configuration
(stemming: "structures" finds "structure") for text and `simple` for names. Matches are ranked
by `ts_rank` with those weights. Filters are the same SQL conditions the SQLite side uses.

The interface is `KeywordIndex`'s (search, newest_in_category, len, and no-op upkeep), so the
rest of the site does not know which backend it talks to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.search.keyword import SearchFilters

# ts_rank weights for {D, C, B, A}: authors (C) and abstract (B) below the title (A).
WEIGHTS = "{0.1, 0.5, 0.4, 1.0}"


class PostgresKeywordIndex:
    rebuild_needed = False
    generation = 0  # nothing cached per process: results follow the database at once

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def search(
        self,
        terms: list[str],
        *,
        limit: int,
        filters: SearchFilters | None = None,
        boosts: dict[str, float] | None = None,
    ) -> list[tuple[int, float]]:
        """(paper id, rank) of the best matches of any of `terms`, best first."""
        if not terms or limit <= 0:
            return []
        conditions, params = (filters or SearchFilters()).sql()
        # One plainto_tsquery per word, OR-ed: the words are data, never query syntax.
        names = [f"t{i}" for i in range(len(terms))]
        query = " || ".join(f"plainto_tsquery('english', :{name})" for name in names)
        sql = (
            f"SELECT papers.id, ts_rank('{WEIGHTS}', papers.search_vector, q) AS rank "
            f"FROM papers, ({'SELECT ' + query}) AS query(q) "
            f"WHERE papers.search_vector @@ q AND NOT papers.hidden{conditions} "
            "ORDER BY rank DESC, papers.id DESC LIMIT :limit"
        )
        params.update(dict(zip(names, terms, strict=True)), limit=limit)
        with self.engine.connect() as connection:
            rows = connection.execute(text(sql), params)
            return [(int(paper_id), float(rank)) for paper_id, rank in rows]

    def newest_in_category(self, category: str, limit: int) -> list[int]:
        conditions, params = SearchFilters(category=category).sql()
        sql = (
            f"SELECT papers.id FROM papers WHERE NOT papers.hidden{conditions} "
            "ORDER BY papers.published_date DESC NULLS LAST, papers.id DESC LIMIT :limit"
        )
        params["limit"] = limit
        with self.engine.connect() as connection:
            return [int(row[0]) for row in connection.execute(text(sql), params)]

    def __len__(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM papers")).scalar() or 0)

    def sync(
        self, factory: sessionmaker[Session], *,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> int:  # fmt: skip
        return 0  # PostgreSQL keeps the column current itself

    def start(self, factory: sessionmaker[Session], wait_seconds: float = 3.0) -> None:
        pass

    def stop(self) -> None:
        pass


def keyword_index_for(engine: Engine, folder: Any) -> Any:
    """The keyword index of this site: Tantivy files next to SQLite, or PostgreSQL's own."""
    if engine.dialect.name == "postgresql":
        return PostgresKeywordIndex(engine)
    from dailypapers.search.keyword import KeywordIndex

    return KeywordIndex(folder)
