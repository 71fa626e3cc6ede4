"""Keyword search next to SQLite: BM25 over titles, abstracts and authors in a Tantivy index.

Why Tantivy and not SQLite's FTS5: FTS5 computes `bm25()` for *every* paper that matches a query
before it can sort, so "learning" at a million papers takes seconds. Tantivy (the search library
behind Quickwit, in Rust) finds the top hits with block-max WAND without scoring most matches:
a few milliseconds at a million papers.

The index is derived data, kept in `<data_dir>/keyword-index/` next to the database, and holds
the visible papers only (a hidden paper is taken out, as PostgreSQL's search leaves it out):

* SQLite triggers (migrations 0005 and 0015) append the id of every paper whose searchable
  fields or visibility changed, and of every paper featured or unfeatured, to `search_queue`.
* `TantivyKeywordIndex.sync` reads the queue, re-indexes those papers (delete by id, then add
  the visible ones), commits the index, and only then deletes the queue rows it handled. A crash
  in between re-does a few papers, which is harmless; nothing is lost or duplicated.
* The job runner syncs every second (holding the lease "keyword-index") and has every process
  `reload` the newest commit; `dailypapers load` syncs before it exits. Tantivy's own lock file
  lets one writer in at a time; another finds it busy and skips that round.
* A missing or incompatible index folder is rebuilt from the papers table.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import tantivy
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.leases import release_lease, take_lease
from dailypapers.search.query import SearchFilters, idf

# BM25 field boosts. `body` is the title followed by the abstract, so a title word counts in
# both `body` and `title`: titles weigh above abstracts. Tuned on SciFact (docs/benchmarks.md).
BODY_BOOST = 1.0
TITLE_BOOST = 0.3
AUTHORS_BOOST = 1.0
FIELD_BOOSTS = {"body": BODY_BOOST, "title": TITLE_BOOST, "authors": AUTHORS_BOOST}
MASK_WORDS = 20  # query words told apart per search by `matched_words` (float32: 24 bits)
SCHEMA_VERSION = "1"  # bump when the fields change: the index is then rebuilt
SCHEMA_FILE = "dailypapers-schema"  # written last: a folder with it holds a complete index
REBUILD_FILE = "dailypapers-rebuild"  # there until the whole papers table was queued
SYNC_CHUNK = 50_000
WRITER_HEAP_BYTES = 256_000_000
# Making or replacing the folder: one process at a time, by a database lease (a dead holder
# frees it after OPEN_LEASE_SECONDS), and one thread of this process at a time.
OPEN_LEASE = "keyword-index-open"
OPEN_LEASE_SECONDS = 60.0
_opening = threading.Lock()


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
    " FROM papers WHERE papers.id IN :ids AND NOT papers.hidden"
).bindparams(bindparam("ids", expanding=True))


class TantivyKeywordIndex:
    """One process's handle on the keyword index: searching, and catching up with the queue."""

    def __init__(self, folder: Path, sessions: sessionmaker[Session]) -> None:
        self.folder = folder
        self.schema = _schema()
        self._index = self._open(sessions)
        self.generation = 0  # grows whenever this process sees new index contents
        self._seen_commit: tuple[int, int, int] = (0, 0, 0)

    def _open(self, sessions: sessionmaker[Session]) -> tantivy.Index:
        """Open the index, first making it where it is missing or made by another version.
        Several processes may open it at once (web workers, `worker`, commands): one at a time
        removes or makes it, so none deletes an index another is making."""
        if not self._complete():
            with _opening:
                while not take_lease(sessions, OPEN_LEASE, OPEN_LEASE_SECONDS):
                    time.sleep(0.05)
                try:
                    if not self._complete():  # not made by another process meanwhile
                        self._make()
                finally:
                    release_lease(sessions, OPEN_LEASE)
        index = tantivy.Index(self.schema, path=str(self.folder), reuse=True)
        index.register_tokenizer("words", _ANALYZER)
        return index

    def _complete(self) -> bool:
        try:
            return (self.folder / SCHEMA_FILE).read_text() == SCHEMA_VERSION
        except (FileNotFoundError, NotADirectoryError):
            return False

    def _make(self) -> None:
        """An empty index of this version, to be rebuilt from the papers table."""
        if self.folder.exists():
            shutil.rmtree(self.folder)  # made by another version
        self.folder.mkdir(parents=True)
        (self.folder / REBUILD_FILE).touch()
        tantivy.Index(self.schema, path=str(self.folder), reuse=False)
        (self.folder / SCHEMA_FILE).write_text(SCHEMA_VERSION)

    @property
    def rebuild_needed(self) -> bool:
        """Whether the index waits for the whole papers table (made anew, not yet queued)."""
        return (self.folder / REBUILD_FILE).exists()

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

    def score_papers(self, terms: list[str], paper_ids: list[int]) -> dict[int, float]:
        """BM25 scores of those of `paper_ids` that match `terms` (the same query as `search`,
        held to these papers)."""
        if not terms or not paper_ids:
            return {}
        words, _errors = self._index.parse_query_lenient(
            " ".join(terms), list(FIELD_BOOSTS), field_boosts=FIELD_BOOSTS
        )
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, words), (tantivy.Occur.Must, self._papers(paper_ids))]
        )
        searcher = self._index.searcher()
        hits = searcher.search(query, len(paper_ids), count=False).hits
        ids = searcher.fast_field_values("id", [address for _, address in hits])
        return {int(paper_id or 0): score for (score, _), paper_id in zip(hits, ids, strict=True)}

    def word_weights(self, terms: list[str]) -> list[float]:
        """Each query word's weight: its inverse document frequency as BM25 has it (the papers
        with it in their title and abstract, or among their authors' names; the rarest piece of
        a word the analyzer cuts in several). A word no paper has weighs the most (BM25's at no
        paper), a word with nothing to index 0."""
        searcher = self._index.searcher()
        papers = int(searcher.num_docs)
        weights = []
        for term in terms:
            counts = [
                max(searcher.doc_freq(field, token) for field in ("body", "authors"))
                for token in _ANALYZER.analyze(term)
            ]
            weights.append(idf(min(counts), papers) if counts else 0.0)
        return weights

    def matched_words(self, terms: list[str], paper_ids: list[int]) -> dict[int, int]:
        """Which of `terms` each of `paper_ids` has, in its title and abstract or its authors'
        names: bit i set for terms[i] (papers with none are left out). One search per
        MASK_WORDS words: each word's query scores a constant 2**i, so that a paper's score is
        the sum of its words' bits (exact in float32)."""
        if not terms or not paper_ids:
            return {}
        searcher = self._index.searcher()
        papers = self._papers(paper_ids)
        found: dict[int, int] = {}
        for start in range(0, len(terms), MASK_WORDS):
            words = [
                (tantivy.Occur.Should, tantivy.Query.const_score_query(self._word(term), 2.0**bit))
                for bit, term in enumerate(terms[start : start + MASK_WORDS])
            ]
            query = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, papers),
                    (tantivy.Occur.Must, tantivy.Query.boolean_query(words)),
                ]
            )
            hits = searcher.search(query, len(paper_ids), count=False).hits
            ids = searcher.fast_field_values("id", [address for _, address in hits])
            for (score, _), paper_id in zip(hits, ids, strict=True):
                key = int(paper_id or 0)
                found[key] = found.get(key, 0) | (int(round(score)) << start)
        return found

    def _word(self, term: str) -> tantivy.Query:
        """Papers with a query word in their title and abstract (`body`: the title is in it) or
        their authors' names."""
        query, _errors = self._index.parse_query_lenient(term, ["body", "authors"])
        return query

    def _papers(self, paper_ids: list[int]) -> tantivy.Query:
        """These papers, adding nothing to the score: one term query per id (a term set query
        on the id field reads the whole field: 15 ms for 200 ids at 180k papers, against
        0.7 ms)."""
        return tantivy.Query.const_score_query(
            tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "id", paper_id))
                    for paper_id in dict.fromkeys(paper_ids)
                ]
            ),
            0.0,
        )

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
        hits = searcher.search(
            query, limit, count=False, order_by_field="published", order=tantivy.Order.Desc
        ).hits
        ids = searcher.fast_field_values("id", [address for _, address in hits])
        return [int(paper_id) for paper_id in ids if paper_id is not None]

    def __len__(self) -> int:
        return int(self._index.searcher().num_docs)

    # --- keeping current -------------------------------------------------------------------
    def pending(self, session: Session) -> int:
        """Papers waiting to be (re-)indexed."""
        return session.scalar(text("SELECT count(*) FROM search_queue")) or 0

    def sync(
        self,
        sessions: sessionmaker[Session],
        *,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Index the papers waiting in the queue; returns how many were (re-)indexed.

        Returns 0 at once if another process or thread is writing the index."""
        try:
            writer = self._index.writer(WRITER_HEAP_BYTES, 2)
        except ValueError as error:
            if "LockBusy" in str(error):
                return 0
            raise
        done = 0
        try:
            if self.rebuild_needed:
                self._queue_all(sessions)
            done = self._drain(sessions, writer, on_progress)
        finally:
            writer.wait_merging_threads()
        self.reload()
        return done

    def _queue_all(self, sessions: sessionmaker[Session]) -> None:
        with sessions() as session, session.begin():
            session.execute(text("DELETE FROM search_queue"))
            session.execute(
                text("INSERT INTO search_queue(paper_id) SELECT id FROM papers ORDER BY id")
            )
        (self.folder / REBUILD_FILE).unlink(missing_ok=True)

    def _drain(
        self,
        sessions: sessionmaker[Session],
        writer: tantivy.IndexWriter,
        on_progress: Callable[[int, int], None] | None,
    ) -> int:
        done = 0
        with sessions() as session:
            total = self.pending(session)
        while True:
            with sessions() as session:
                queued = session.execute(
                    text("SELECT seq, paper_id FROM search_queue ORDER BY seq LIMIT :n"),
                    {"n": SYNC_CHUNK},
                ).all()
                if not queued:
                    return done
                paper_ids = list(dict.fromkeys(paper_id for _, paper_id in queued))
                rows = session.execute(_DOCUMENT_ROWS, {"ids": paper_ids}).all()
            for paper_id in paper_ids:  # hidden or deleted papers are only taken out
                writer.delete_documents_by_term("id", paper_id)
            for row in rows:
                writer.add_document(_document(row))
            writer.commit()
            # Only now that the index holds them: crash before this line, and they are redone.
            with sessions() as session, session.begin():
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

    def papers_stored(self, sessions: sessionmaker[Session], count: int) -> None:
        """Nothing to do at once: the triggers queued the stored papers, and the next `sync`
        (within a second in a running site; before `dailypapers load` exits) indexes them."""

    def close(self) -> None:
        """Nothing to release: each sync closes its writer, and searchers end with the object."""


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
