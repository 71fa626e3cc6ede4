"""Keyword search: BM25 over titles, abstracts and authors in a Tantivy index.

Why Tantivy and not SQLite's FTS5: FTS5 computes `bm25()` for *every* paper that matches a query
before it can sort, so "learning" at a million papers takes seconds. Tantivy (the search library
behind Quickwit, in Rust) finds the top hits with block-max WAND without scoring most matches:
a few milliseconds at a million papers.

The index is derived data, kept in `<data_dir>/keyword-index/` next to the database:

* SQLite triggers (migration 0005) append the id of every paper whose searchable fields changed,
  and of every paper featured or unfeatured, to `search_queue`.
* `KeywordIndex.sync` reads the queue, re-indexes those papers (delete by id, then add), commits
  the index, and only then deletes the queue rows it handled. A crash in between re-does a few
  papers, which is harmless; nothing is lost or duplicated.
* `dailypapers load` syncs before it exits, and the web app syncs every second, so loaded or
  submitted papers are searchable by keyword at once. Tantivy's own lock file lets one process
  write at a time; the others skip that round.
* A missing or incompatible index folder is rebuilt from the papers table.

User text never reaches the query parser as syntax: it is cut into words (\\w+), lower-cased,
joined by spaces (so `NEAR`, `*`, quotes, `AND`, parentheses are words or nothing).
"""

from __future__ import annotations

import fcntl
import logging
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import tantivy
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

# BM25 field boosts. `body` is the title followed by the abstract, so a title word counts in
# both `body` and `title`: titles weigh above abstracts. Tuned on SciFact (docs/benchmarks.md).
BODY_BOOST = 1.0
TITLE_BOOST = 0.3
AUTHORS_BOOST = 1.0
FIELD_BOOSTS = {"body": BODY_BOOST, "title": TITLE_BOOST, "authors": AUTHORS_BOOST}
MAX_QUERY_TERMS = 32
SCHEMA_VERSION = "1"  # bump when the fields change: the index is then rebuilt
SYNC_CHUNK = 50_000
WRITER_HEAP_BYTES = 256_000_000

_WORD = re.compile(r"\w+")
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z\-]+)?$")


class InvalidFilter(ValueError):
    """A search filter with a bad value; the message names it."""


@dataclass(frozen=True, slots=True)
class SearchFilters:
    published_from: date | None = None
    published_to: date | None = None
    category: str | None = None
    has_code: bool = False
    featured_only: bool = False

    def __post_init__(self) -> None:
        if self.category is not None and not _CATEGORY.match(self.category):
            raise InvalidFilter(f"category: {self.category[:40]!r} is not an arXiv category")
        if self.published_from and self.published_to and self.published_from > self.published_to:
            raise InvalidFilter("from: the start date is after the end date")

    def sql(self) -> tuple[str, dict[str, Any]]:
        """SQL conditions on `papers` and their parameters."""
        conditions: list[str] = []
        params: dict[str, Any] = {}
        if self.published_from:
            conditions.append("papers.published_date >= :published_from")
            params["published_from"] = self.published_from
        if self.published_to:
            conditions.append("papers.published_date <= :published_to")
            params["published_to"] = self.published_to
        if self.category:
            # categories are stored as a JSON list of strings
            conditions.append("papers.categories LIKE :category_pattern")
            params["category_pattern"] = f'%"{self.category}"%'
        if self.has_code:
            conditions.append("papers.github_url IS NOT NULL")
        if self.featured_only:
            conditions.append(
                "EXISTS (SELECT 1 FROM daily_entries WHERE daily_entries.paper_id = papers.id)"
            )
        return "".join(f" AND {condition}" for condition in conditions), params


# Words that match nearly every abstract: they add no ranking signal, only work.
STOPWORDS = frozenset(
    "a about above after again against all am an and any are as at be because been before being"
    " below between both but by can could did do does doing down during each few for from"
    " further had has have having he her here hers him his how i if in into is it its itself"
    " just me more most my no nor not of off on once only or other our ours out over own same"
    " she should so some such than that the their theirs them then there these they this those"
    " through to too under until up very was we were what when where which while who whom why"
    " will with you your".split()
)


def query_terms(query: str) -> list[str]:
    """The distinct words of a query, lower-cased, in order, at most MAX_QUERY_TERMS.

    Stopwords are dropped unless the query has nothing else (e.g. the title "Why Not").
    """
    words = list(dict.fromkeys(_WORD.findall(query.lower())))
    content = [word for word in words if word not in STOPWORDS]
    return (content or words)[:MAX_QUERY_TERMS]


def filter_paper_ids(session: Session, paper_ids: list[int], filters: SearchFilters) -> set[int]:
    """Those of `paper_ids` that pass the filters."""
    conditions, params = filters.sql()
    if not paper_ids or not conditions:
        return set(paper_ids)
    rows = session.execute(
        text(f"SELECT papers.id FROM papers WHERE papers.id IN :ids{conditions}").bindparams(
            bindparam("ids", expanding=True)
        ),
        {"ids": paper_ids, **params},
    )
    return {paper_id for (paper_id,) in rows}


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", indexed=True, fast=True)
    for name in ("title", "body", "authors"):
        builder.add_text_field(name, tokenizer_name="words")
    builder.add_text_field("category", tokenizer_name="raw")  # lower-cased, one term each
    builder.add_integer_field("published", indexed=True, fast=True)  # date.toordinal()
    builder.add_integer_field("has_code", indexed=True)
    builder.add_integer_field("featured", indexed=True)
    return builder.build()


# Words: split on non-alphanumerics, accents folded ("Balazs" finds "Balázs"), English stems
# ("structures" finds "structure").
_ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.ascii_fold())
    .filter(tantivy.Filter.stemmer("english"))
    .build()
)

_DOCUMENT_ROWS = text(
    "SELECT papers.id, papers.title, papers.abstract, papers.authors, papers.categories,"
    " papers.published_date, papers.github_url IS NOT NULL,"
    " EXISTS (SELECT 1 FROM daily_entries WHERE daily_entries.paper_id = papers.id)"
    " FROM papers WHERE papers.id IN :ids"
).bindparams(bindparam("ids", expanding=True))


class KeywordIndex:
    """One process's handle on the keyword index: searching, and catching up with the queue."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.schema = _schema()
        self._index = self._open()
        self._sync_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.generation = 0  # grows whenever this process sees new index contents
        self._seen_commit: tuple[int, int, int] = (0, 0, 0)

    def _open(self) -> tantivy.Index:
        # Several processes may open the index at once (web workers, `worker`, commands): one
        # at a time checks, removes or creates it, so none deletes an index another is making.
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        with (self.folder.parent / "keyword-index.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            version_file = self.folder / "dailypapers-schema"
            if self.folder.exists() and (
                not version_file.exists() or version_file.read_text() != SCHEMA_VERSION
            ):
                shutil.rmtree(self.folder)  # made by another version: rebuilt below
            self.rebuild_needed = not self.folder.exists()
            self.folder.mkdir(parents=True, exist_ok=True)
            index = tantivy.Index(self.schema, path=str(self.folder), reuse=True)
            index.register_tokenizer("words", _ANALYZER)
            version_file.write_text(SCHEMA_VERSION)
            return index

    # --- searching -------------------------------------------------------------------------
    def search(
        self,
        terms: list[str],
        *,
        limit: int,
        filters: SearchFilters | None = None,
        boosts: dict[str, float] | None = None,
    ) -> list[tuple[int, float]]:
        """(paper id, BM25 score) of the best matches, best first."""
        if not terms or limit <= 0:
            return []
        boosts = boosts or FIELD_BOOSTS
        words, _errors = self._index.parse_query_lenient(
            " ".join(terms), list(boosts), field_boosts=boosts
        )
        query = self._with_filters(words, filters or SearchFilters())
        searcher = self._index.searcher()
        hits = searcher.search(query, limit, count=False).hits
        ids = searcher.fast_field_values("id", [address for _, address in hits])
        return [(int(paper_id or 0), score) for (score, _), paper_id in zip(hits, ids, strict=True)]

    def _with_filters(self, query: tantivy.Query, filters: SearchFilters) -> tantivy.Query:
        must = [query]
        if filters.published_from or filters.published_to:
            must.append(
                tantivy.Query.range_query(
                    self.schema,
                    "published",
                    tantivy.FieldType.Integer,
                    filters.published_from.toordinal() if filters.published_from else None,
                    filters.published_to.toordinal() if filters.published_to else None,
                )
            )
        if filters.category:
            must.append(tantivy.Query.term_query(self.schema, "category", filters.category.lower()))
        if filters.has_code:
            must.append(tantivy.Query.term_query(self.schema, "has_code", 1))
        if filters.featured_only:
            must.append(tantivy.Query.term_query(self.schema, "featured", 1))
        if len(must) == 1:
            return query
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, part) for part in must])

    def newest_in_category(self, category: str, limit: int) -> list[int]:
        """Paper ids of the category, newest publication first (a fast-field sort)."""
        query = tantivy.Query.term_query(self.schema, "category", category.lower())
        searcher = self._index.searcher()
        hits = searcher.search(query, limit, count=False, order_by_field="published",
                               order=tantivy.Order.Desc).hits  # fmt: skip
        ids = searcher.fast_field_values("id", [address for _, address in hits])
        return [int(paper_id) for paper_id in ids if paper_id is not None]

    def __len__(self) -> int:
        return int(self._index.searcher().num_docs)

    # --- keeping current -------------------------------------------------------------------
    def sync(
        self,
        factory: sessionmaker[Session],
        *,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Index the papers waiting in the queue; returns how many were (re-)indexed.

        Returns 0 at once if another process or thread is writing the index."""
        if not self._sync_lock.acquire(blocking=False):
            return 0
        try:
            if self.rebuild_needed:
                self._queue_all(factory)
            try:
                writer = self._index.writer(WRITER_HEAP_BYTES, 2)
            except ValueError as error:
                if "LockBusy" in str(error):
                    return 0
                raise
            done = 0
            try:
                done = self._drain(factory, writer, on_progress)
            finally:
                writer.wait_merging_threads()
            self.reload()
            return done
        finally:
            self._sync_lock.release()

    def _queue_all(self, factory: sessionmaker[Session]) -> None:
        with factory() as session, session.begin():
            session.execute(text("DELETE FROM search_queue"))
            session.execute(
                text("INSERT INTO search_queue(paper_id) SELECT id FROM papers ORDER BY id")
            )
        self.rebuild_needed = False

    def _drain(
        self,
        factory: sessionmaker[Session],
        writer: tantivy.IndexWriter,
        on_progress: Callable[[int, int], None] | None,
    ) -> int:
        done = 0
        with factory() as session:
            total = session.scalar(text("SELECT count(*) FROM search_queue")) or 0
        while True:
            with factory() as session:
                queued = session.execute(
                    text("SELECT seq, paper_id FROM search_queue ORDER BY seq LIMIT :n"),
                    {"n": SYNC_CHUNK},
                ).all()
                if not queued:
                    return done
                paper_ids = list(dict.fromkeys(paper_id for _, paper_id in queued))
                rows = session.execute(_DOCUMENT_ROWS, {"ids": paper_ids}).all()
            for paper_id in paper_ids:
                writer.delete_documents_by_term("id", paper_id)
            for row in rows:
                writer.add_document(_document(row))
            writer.commit()
            # Only now that the index holds them: crash before this line, and they are redone.
            with factory() as session, session.begin():
                session.execute(
                    text("DELETE FROM search_queue WHERE seq <= :last"), {"last": queued[-1][0]}
                )
            done += len(paper_ids)
            if on_progress is not None:
                on_progress(min(done, total), max(total, done))

    def reload(self) -> None:
        """See what was committed since the last look, by this or another process."""
        try:
            stat = (self.folder / "meta.json").stat()  # rewritten by every commit
        except FileNotFoundError:
            return
        if (stat.st_mtime_ns, stat.st_size, stat.st_ino) != self._seen_commit:
            self._seen_commit = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            self._index.reload()
            self.generation += 1

    def start(
        self,
        factory: sessionmaker[Session],
        *,
        every_seconds: float = 1.0,
        wait_seconds: float = 3.0,
    ) -> None:
        """Keep the index current from a background thread. Waits up to `wait_seconds` for the
        first round, so a small site starts with its index built; a large one is served at once
        while its index catches up."""
        first_round = threading.Event()

        def upkeep() -> None:
            while not self._stop.is_set():
                try:
                    if self.sync(factory):
                        log.info("keyword index: papers re-indexed")
                    else:
                        self.reload()
                except Exception:  # keep serving; the next round tries again
                    log.exception("keyword index upkeep failed")
                first_round.set()
                self._stop.wait(every_seconds)

        self._thread = threading.Thread(target=upkeep, name="keyword-upkeep", daemon=True)
        self._thread.start()
        first_round.wait(wait_seconds)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def pending_count(session: Session) -> int:
    """Papers waiting to be (re-)indexed."""
    return session.scalar(text("SELECT count(*) FROM search_queue")) or 0


def _document(row: Any) -> tantivy.Document:
    paper_id, title, abstract, authors, categories, published, has_code, featured = row
    authors_list = _json_list(authors)
    return tantivy.Document(
        id=paper_id,
        title=title,
        body=f"{title}\n{abstract or ''}",
        authors=" ; ".join(authors_list),
        category=[category.lower() for category in _json_list(categories)],
        published=_ordinal(published),
        has_code=int(bool(has_code)),
        featured=int(bool(featured)),
    )


def _json_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item) for item in value]
    loaded = orjson.loads(value)
    return [str(item) for item in loaded] if isinstance(loaded, list) else []


def _ordinal(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, date):
        return value.toordinal()
    return date.fromisoformat(str(value)[:10]).toordinal()
