"""Keyword search on PostgreSQL: a weighted `tsvector` of each paper with a GIN index.

Every web and worker process of a scaled-out site searches the same database, so there is no
index to keep in step: the column is computed by PostgreSQL itself (migration 0009) from the
title (weight A), the abstract (B) and the authors (C), with the `english` configuration
(stemming: "structures" finds "structure") for text and `simple` for names. Filters are the
same SQL conditions the SQLite side uses.

Ranking is bounded, and so is the index work. `ts_rank` must read each candidate's vector, and
a common word matches a large share of a million papers (ranking all of them took most of a
second at 181k); even listing a common word's papers from the GIN index costs tens of
milliseconds at 1M. So candidates come only from sets that are cheap to read and likely to
hold the best papers, each cut at a bound: the papers with the `AND_WORDS` rarest words (all
the papers with every word are among them; `CANDIDATES`); with the next rarest ones (so that a
stray or misspelt word, the rarest of all, does not hide the papers that have the others);
with each of the `RARE_WORDS` rarest words; and with any of the words among the newest
`COMMON_WINDOW` papers (a range of the primary key), so that new work is always in the
running. A set whose words are all common (in more than `COMMON_MATCHES` papers, by the
statistics below) is left out: listing hundreds of thousands of matches costs more than the
whole search may, and such words say little (dense search, fused after, brings the papers
nearest in meaning). With filters (category, dates, code, featured) every set is kept, since
the newest papers may hold no match: such searches cost more. A query whose matches all fit
in the bounds is ranked exactly. Plans are pinned to the GIN index (bitmap scans, custom
plans): the planner's guess of how common a word is in one part of the table made it walk the
primary key. Each set's words are a sub-select, so that planning does not look them up in the
column's statistics (a 100,000-word array, read afresh for every word: 2.5 ms each at 1M).

The score is BM25's shape built from PostgreSQL's parts: for each query word, `ts_rank` of that
word alone with the field weights and normalisation 32 (rank / (rank + 1): repeating a word
helps less and less), times the word's inverse document frequency. The frequencies are those
`ANALYZE` keeps for the column (its most common words, 100,000 of them since migration 0012),
read once per `STATISTICS_SECONDS` per process; a word not among them is rarer than all of
them. On SciFact this scores nDCG@10 0.694 against 0.564 for plain `ts_rank`, Tantivy's BM25
0.699 (bench/bench_search_quality.py --postgresql).

`PostgresKeywordIndex` answers `search.protocols.KeywordSearch`, as Tantivy does next to
SQLite, so the rest of the site does not know which backend it talks to. Its upkeep is
PostgreSQL's own (the column is computed on write), but for the statistics, refreshed after
large loads (`papers_stored`).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.search.query import SearchFilters, idf

# ts_rank weights for {D, C, B, A}: authors (C) and abstract (B) below the title (A); small, so
# that normalisation 32 saturates slowly (tuned on SciFact).
WEIGHTS = "{0.1, 0.2, 0.4, 0.6}"
STATISTICS_SECONDS = 600.0
CANDIDATES = 500  # papers with every word ranked at most
WORD_CANDIDATES = 150  # ranked at most per other set
RARE_WORDS = 2  # the words whose papers are candidates
AND_WORDS = 3  # the rarest words that candidates with "every word" are looked up by
COMMON_MATCHES = 20_000  # words in more papers than this are not listed from the index
COMMON_WINDOW = 4_000  # the newest papers, in which any word makes a candidate
STEM_CACHE = 1_024  # queries whose stemmed words are kept
RARE_COUNTED = 1_000  # papers counted at most for a word the statistics do not list
# For this transaction: reach papers through the GIN index's bitmap only, planned for these words.
PIN_PLAN = (
    "SELECT set_config('enable_seqscan', 'off', true), "
    "set_config('enable_indexscan', 'off', true), "
    "set_config('plan_cache_mode', 'force_custom_plan', true)"
)


_LEXEME = re.compile(r"'((?:[^']|'')*)'")


_WORD_STATISTICS = text(
    "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
    "WHERE tablename = 'papers' AND attname = 'search_vector' AND schemaname = current_schema()"
)
_PAPER_ESTIMATE = text("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'papers'::regclass")


class WordStatistics:
    """Inverse document frequencies from the planner's statistics of `papers.search_vector`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.shares: dict[str, float] = {}
        self.rarest = 1.0  # share of papers of the rarest listed word
        self.papers = 0.0  # as of the last analysis
        self.read_at = -math.inf
        self.lock = threading.Lock()

    def share(self, lexemes: list[str]) -> float | None:
        """The share of papers that have a query word (all its lexemes: the rarest counts), or
        None before the column was first analysed."""
        if time.monotonic() - self.read_at > STATISTICS_SECONDS:
            self._read()
        if not self.shares:
            return None
        return min((self.shares.get(lexeme, self.rarest / 2) for lexeme in lexemes), default=1.0)

    def listed(self) -> dict[str, float]:
        """The share of papers of each word the statistics list (none before the first
        analysis)."""
        if time.monotonic() - self.read_at > STATISTICS_SECONDS:
            self._read()
        return self.shares

    def matches(self, lexemes: list[str]) -> float:
        """About how many papers have a query word (0 before the first analysis)."""
        share = self.share(lexemes)
        return 0.0 if share is None else share * self.papers

    def idf(self, lexemes: list[str]) -> float:
        share = self.share(lexemes)
        if share is None:  # every word weighs the same
            return 1.0
        return math.log(1 + (1 - share) / share)

    def _read(self) -> None:
        with self.lock:
            if time.monotonic() - self.read_at <= STATISTICS_SECONDS:
                return
            with self.engine.connect() as connection:
                row = connection.execute(_WORD_STATISTICS).first()
                self.papers = float(connection.execute(_PAPER_ESTIMATE).scalar() or 0)
            words, shares = (row[0] or [], row[1] or []) if row is not None else ([], [])
            # The frequency array ends with the minimum, maximum and null share: not words.
            listed = shares[: len(words)]
            pairs = zip(words, listed, strict=True)
            self.shares = {word: max(share, 1e-9) for word, share in pairs}
            self.rarest = min(self.shares.values(), default=1.0)
            self.read_at = time.monotonic()


@dataclass(slots=True)
class _QueryWords:
    """A query's words for ranking: word i's tsquery SQL and lexemes, the distinct words (by
    index) rarest first with their weights (inverse document frequency, times repeats)."""

    sql: list[str]
    lexemes: list[list[str]]
    idf: dict[int, float]
    rarest_first: list[int]
    newest: int  # the highest paper id


class PostgresKeywordIndex:
    """Keyword search answered by PostgreSQL, for every process of the site alike."""

    rebuild_needed = False
    generation = 0  # nothing cached per process: results follow the database at once

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statistics = WordStatistics(engine)
        # Each query's words as stemmed (a query's search and then its hybrid scoring of the
        # papers found by meaning alone stem the same words: the second asks no round trip).
        self._stems: dict[tuple[str, ...], list[list[str]]] = {}

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
        with self.engine.connect() as connection:
            words = self._words(connection, terms, params)
            if words is None:  # stop words only
                return []
            matches = {i: self.statistics.matches(words.lexemes[i]) for i in words.rarest_first}
            if conditions:  # filtered: the newest papers may hold no match, so every word is
                matches = dict.fromkeys(matches, 0.0)  # listed from the index, with the filters
            params["newest"] = words.newest - COMMON_WINDOW
            connection.execute(text(PIN_PLAN))  # for this transaction only
            found = connection.scalars(
                text(_candidates_sql(words.sql, matches, words.rarest_first, conditions)), params
            ).all()
            connection.commit()
            if not found:
                return []
            return self._ranked(connection, words, params, list(found), limit)

    def score_papers(self, terms: list[str], paper_ids: list[int]) -> dict[int, float]:
        """The ranks of those of `paper_ids` that match `terms`, as `search` ranks them: hybrid
        search scores the papers found by meaning alone this way (bounded candidate sets may
        miss them), reading only these papers' vectors."""
        if not terms or not paper_ids:
            return {}
        params: dict[str, object] = {}
        with self.engine.connect() as connection:
            words = self._words(connection, terms, params, newest=False)
            if words is None:
                return {}
            hits = self._ranked(connection, words, params, list(paper_ids), len(paper_ids))
        return {paper_id: score for paper_id, score in hits if score > 0}

    def word_weights(self, terms: list[str]) -> list[float]:
        """Each query word's inverse document frequency in BM25's form (as Tantivy's): from the
        statistics for a word they list, else counted through the GIN index (a word they do not
        list is rare: at most RARE_COUNTED papers are counted); a word no paper has weighs the
        most, a stop word 0."""
        if not terms:
            return []
        params: dict[str, object] = {}
        with self.engine.connect() as connection:
            lexemes = self._lexemes(connection, terms, params)
            listed = self.statistics.listed()
            papers = int(self.statistics.papers) or int(
                connection.execute(text("SELECT count(*) FROM papers")).scalar() or 0
            )
            counted = [
                i
                for i, found in enumerate(lexemes)
                if found and not all(w in listed for w in found)
            ]
            counts: dict[int, int] = {}
            if counted:
                connection.execute(text(PIN_PLAN))
                row = connection.execute(
                    text(
                        "SELECT "
                        + ", ".join(
                            "(SELECT count(*) FROM (SELECT 1 FROM papers WHERE search_vector @@ "
                            f"plainto_tsquery('english', :t{i}) AND NOT hidden "
                            f"LIMIT {RARE_COUNTED}) AS found)"
                            for i in counted
                        )
                    ),
                    params,
                ).one()
                connection.commit()
                counts = dict(zip(counted, (int(count) for count in row), strict=True))
        weights = []
        for i, found in enumerate(lexemes):
            if not found:
                weights.append(0.0)
            elif i in counts:
                weights.append(idf(counts[i], papers))
            else:
                matching = round(min(listed[word] for word in found) * papers)
                weights.append(idf(matching, papers))
        return weights

    def matched_words(self, terms: list[str], paper_ids: list[int]) -> dict[int, int]:
        """Which of `terms` each of `paper_ids` has (bit i for terms[i]), in one query over
        these papers' vectors."""
        if not terms or not paper_ids:
            return {}
        params: dict[str, object] = {f"t{i}": term for i, term in enumerate(terms)}
        mask = " + ".join(
            f"CASE WHEN v @@ plainto_tsquery('english', :t{i}) THEN {1 << i} ELSE 0 END"
            for i in range(len(terms))
        )
        with self.engine.connect() as connection:
            rows = connection.execute(
                text(
                    f"SELECT id, CAST({mask} AS bigint) FROM (SELECT id, "
                    "search_vector || ''::tsvector AS v FROM papers WHERE id = ANY(:found) "
                    "AND NOT hidden OFFSET 0) AS found"
                ),
                {**params, "found": list(paper_ids)},
            )
            return {int(paper_id): int(bits) for paper_id, bits in rows if bits}

    def _lexemes(
        self, connection: Connection, terms: list[str], params: dict[str, object]
    ) -> list[list[str]]:
        """Each word's lexemes as PostgreSQL stems it (kept for the next asking); sets the
        words' parameters (:t0, :t1, ...) in `params`."""
        params.update({f"t{i}": term for i, term in enumerate(terms)})
        key = tuple(terms)
        lexemes = self._stems.get(key)
        if lexemes is None:
            stemmed = connection.execute(
                text(
                    "SELECT "
                    + ", ".join(
                        f"CAST(plainto_tsquery('english', :t{i}) AS text)"
                        for i in range(len(terms))
                    )
                ),
                params,
            ).one()
            lexemes = [
                [found.replace("''", "'") for found in _LEXEME.findall(query)] for query in stemmed
            ]
            if len(self._stems) >= STEM_CACHE:
                self._stems.clear()
            self._stems[key] = lexemes
        return lexemes

    def _words(
        self,
        connection: Connection,
        terms: list[str],
        params: dict[str, object],
        *,
        newest: bool = True,
    ) -> _QueryWords | None:
        """The query's words as PostgreSQL stems them (one plainto_tsquery per word: the words
        are data, never query syntax); None when all are stop words. Sets the words' parameters
        in `params`; `newest`: look up the highest paper id too (else 0)."""
        names = [f"t{i}" for i in range(len(terms))]
        params.update(dict(zip(names, terms, strict=True)))
        sql = [f"plainto_tsquery('english', :{name})" for name in names]
        key = tuple(terms)
        lexemes = self._stems.get(key)
        highest = 0
        if lexemes is None or newest:
            stemmed = connection.execute(
                text(
                    f"SELECT (SELECT max(id) FROM papers), "
                    f"{', '.join(f'CAST({word} AS text)' for word in sql)}"
                ),
                params,
            ).one()
            highest = stemmed[0] or 0
            lexemes = [
                [found.replace("''", "'") for found in _LEXEME.findall(query)]
                for query in stemmed[1:]
            ]
            if len(self._stems) >= STEM_CACHE:
                self._stems.clear()
            self._stems[key] = lexemes
        unique = [i for i, found in enumerate(lexemes) if found and found not in lexemes[:i]]
        if not unique:
            return None
        # Words that stem alike ("inductive", "induction") count as often as the query has them,
        # as in Tantivy's query: a word the query repeats weighs more.
        repeats = {i: sum(1 for found in lexemes if found == lexemes[i]) for i in unique}
        idf = {i: repeats[i] * self.statistics.idf(lexemes[i]) for i in unique}
        return _QueryWords(
            sql=sql,
            lexemes=lexemes,
            idf=idf,
            rarest_first=sorted(unique, key=lambda i: -idf[i] / repeats[i]),
            newest=highest,
        )

    def _ranked(
        self,
        connection: Connection,
        words: _QueryWords,
        params: dict[str, object],
        paper_ids: list[int],
        limit: int,
    ) -> list[tuple[int, float]]:
        """(paper id, rank) of the best `limit` of `paper_ids`, best first."""
        rank = " + ".join(
            f"{words.idf[i]:.5f} * ts_rank('{WEIGHTS}', v, {words.sql[i]}, 32)"
            for i in words.rarest_first
        )
        # Each vector is read (and decompressed) once for all the words, not once per word.
        rows = connection.execute(
            text(
                f"SELECT id, {rank} AS rank FROM (SELECT id, "
                "search_vector || ''::tsvector AS v FROM papers WHERE id = ANY(:found) "
                "AND NOT hidden OFFSET 0) AS found ORDER BY rank DESC, id DESC LIMIT :limit"
            ),
            {**params, "found": paper_ids, "limit": limit},
        )
        return [(int(paper_id), float(score)) for paper_id, score in rows]

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

    # --- upkeep: PostgreSQL keeps the column current itself -------------------------------
    def pending(self, session: Session) -> int:
        return 0

    def sync(
        self,
        sessions: sessionmaker[Session],
        *,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> int:
        return 0

    def reload(self) -> None:
        pass  # every search reads the database as it is

    def papers_stored(self, sessions: sessionmaker[Session], count: int) -> None:
        """After `count` papers were added or changed, refresh the statistics that keyword
        ranking reads (and the planner uses) when they are missing or the load wrote a tenth of
        the papers or more; autovacuum would, but only a minute or more later."""
        if count == 0:
            return
        with self.engine.connect() as connection:
            analysed, papers = connection.execute(
                text(
                    "SELECT coalesce(last_analyze, last_autoanalyze) IS NOT NULL, n_live_tup "
                    "FROM pg_stat_user_tables WHERE relname = 'papers' "
                    "AND schemaname = current_schema()"
                )
            ).one()
        if analysed and count * 10 < papers:
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE papers"))

    def close(self) -> None:
        pass  # the connections are the site's engine's


def _candidates_sql(
    words: list[str], matches: dict[int, float], rarest_first: list[int], conditions: str
) -> str:
    """The ids of the candidate sets (see the module doc); `words[i]` is the SQL of word i's
    tsquery, `rarest_first` the distinct words, rarest first."""

    def candidates(indexes: list[int], limit: int) -> str:
        # A sub-select: the planner sees a value it cannot read before running, so it does not
        # look the words up in the column's statistics (100,000 words: ~2.5 ms per word).
        query = " && ".join(words[i] for i in indexes)
        return (
            f"(SELECT papers.id FROM papers WHERE papers.search_vector @@ (SELECT {query}) "
            f"AND NOT papers.hidden{conditions} LIMIT {limit})"
        )

    def rare(indexes: list[int]) -> bool:  # cheap to list from the index
        return min(matches[i] for i in indexes) <= COMMON_MATCHES

    def rare_only(indexes: list[int]) -> bool:  # every one cheap to list from the index
        return max(matches[i] for i in indexes) <= COMMON_MATCHES

    # Papers with all words have the rarest ones: asking the index for those few is as good
    # and far cheaper (every further word makes it read another, longer posting list).
    rarest, but_the_rarest = rarest_first[:AND_WORDS], rarest_first[1 : AND_WORDS + 1]
    sets = []
    if rare(rarest):
        sets.append(candidates(rarest, CANDIDATES))
    if len(rarest_first) > 2 and rare(but_the_rarest):  # a stray (rarest) word must not hide
        sets.append(candidates(but_the_rarest, CANDIDATES))  # the others
    for i in rarest_first[:RARE_WORDS]:
        if rare([i]):
            sets.append(candidates([i], WORD_CANDIDATES))
    # Any word among the newest papers. When every word is rare, the index lists their papers
    # and the primary key the newest, and the two lists are intersected (a few ms); otherwise
    # the newest papers are read through the primary key and their words checked (the function
    # form of @@ keeps the planner from listing a common word's matches from the index), which
    # finds enough of them quickly, as a common word is in many.
    any_word = " || ".join(words[i] for i in rarest_first)
    match = (
        f"papers.search_vector @@ (SELECT {any_word})"
        if rare_only(rarest_first)
        else f"ts_match_vq(papers.search_vector, {any_word})"
    )
    sets.append(
        f"(SELECT papers.id FROM papers WHERE papers.id > :newest AND {match} "
        f"AND NOT papers.hidden{conditions} LIMIT {WORD_CANDIDATES})"
    )
    return " UNION ".join(sets)
