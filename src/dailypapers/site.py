"""The composition root: every part of a running site is built here, once, and closed here.

`Site.open(settings)` opens the database (migrated), and on first use the search indexes
(keyword, and dense search by meaning when it is on), the mail sender, the signer of emailed
links and the arXiv client. The web app's lifespan, every command, `dailypapers worker` and
the parallel digest senders take their parts from a Site; nothing else builds them.

    with Site.open(settings) as site:
        with site.sessions() as session:
            ...
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.database import StorageFailures, make_engine, make_session_factory, upgrade
from dailypapers.mail.sender import MailSender
from dailypapers.settings import Settings
from dailypapers.signing import Signer
from dailypapers.web.ratelimit import MemoryCounts

if TYPE_CHECKING:
    from dailypapers.arxiv.client import PoliteClient
    from dailypapers.foryou.memo import ForYouMemo
    from dailypapers.search.backends import KeywordSearch, MeaningSearch
    from dailypapers.search.similar import SimilarMemo

# A web request waits this long for the query's embedding before answering with keyword results
# alone; a command waits for the model.
WEB_QUERY_BUDGET_SECONDS = 0.25
COMMAND_QUERY_BUDGET_SECONDS = 5.0


class Site:
    """The parts of one site, for one process."""

    def __init__(self, settings: Settings, database: Engine, *, query_budget: float) -> None:
        self.settings = settings
        self.database = database  # the SQLAlchemy engine
        self.storage_failures = StorageFailures(database)  # writes refused: /healthz says so
        self.rate_counts = MemoryCounts()  # limits counted in memory (search): web/ratelimit.py
        self.sessions: sessionmaker[Session] = make_session_factory(database)
        self.query_budget = query_budget
        self._lock = threading.Lock()  # the nudge events
        self._loading_meaning = threading.Lock()
        self._meaning: MeaningSearch | None
        self._nudges: dict[str, threading.Event] = {}

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        migrate: bool = True,
        query_budget: float = COMMAND_QUERY_BUDGET_SECONDS,
    ) -> Site:
        """Open the site's database (migrating it to the newest schema unless told not to).
        Raises SQLAlchemyError or OSError when the database cannot be opened."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # search indexes live there
        database = make_engine(settings.resolved_database_url)
        try:
            if migrate:
                upgrade(database)
        except BaseException:
            database.dispose()
            raise
        return cls(settings, database, query_budget=query_budget)

    # --- the parts, built on first use ------------------------------------------------------
    @cached_property
    def keyword(self) -> KeywordSearch:
        from dailypapers.search.backends import open_keyword_search

        return open_keyword_search(self.database, self.settings.keyword_index_dir)

    @property
    def meaning(self) -> MeaningSearch | None:
        """Search by meaning (the embedder and the dense index), or None where it is off.
        Loaded once, by whichever thread asks first (loading the model takes a second)."""
        if "_meaning" not in self.__dict__:
            with self._loading_meaning:
                if "_meaning" not in self.__dict__:
                    self._meaning = self._open_meaning()
        return self._meaning

    def _open_meaning(self) -> MeaningSearch | None:
        if not self.settings.dense_search:
            return None
        from dailypapers.search.backends import open_meaning_search

        return open_meaning_search(
            self.sessions,
            self.database,
            ann_folder=self.settings.data_dir / "dense-ann",
            budget_seconds=self.query_budget,
        )

    @cached_property
    def similar_memo(self) -> SimilarMemo:
        """The similar papers of recent paper pages, until an index changes."""
        from dailypapers.search.similar import SimilarMemo

        return SimilarMemo()

    @cached_property
    def for_you_memo(self) -> ForYouMemo:
        """For you's candidate papers and each member's fitted model (one refit thread)."""
        from dailypapers.foryou.memo import ForYouMemo

        return ForYouMemo(self.sessions)

    @cached_property
    def mail(self) -> MailSender:
        return MailSender(self.settings.smtp_url, self.settings.mail_from)

    @cached_property
    def signer(self) -> Signer:
        """Signs the links sent by email (confirmation, reset, unsubscribe, view in browser)."""
        return Signer(self.settings.resolved_secret_key())

    @cached_property
    def arxiv(self) -> PoliteClient:
        from dailypapers.arxiv.client import PoliteClient

        return PoliteClient(
            interval=self.settings.arxiv_request_interval,
            contact_url=self.settings.base_url,
            max_waiting=self.settings.arxiv_concurrent_fetches,
        )

    # --- hooks ----------------------------------------------------------------------------
    def papers_stored(self, paper_ids: Sequence[int]) -> None:
        """Every writer of papers calls this after committing them (load, harvest, the HF
        import, submissions, featuring by a curator): the search indexes learn of them
        (PostgreSQL's statistics after a large load; Tantivy reads its queue, filled by
        triggers)."""
        if paper_ids:
            self.keyword.papers_stored(self.sessions, len(paper_ids))
            self.nudge("keyword-index")  # searchable by words now, not at the next round

    def nudge(self, job: str) -> None:
        """Ask this process's runner to run `job` now rather than at its next interval (after
        a commit that queued mail, say). Other processes find the work at their next round."""
        self.nudge_event(job).set()

    def nudge_event(self, job: str) -> threading.Event:
        with self._lock:
            return self._nudges.setdefault(job, threading.Event())

    # --- closing --------------------------------------------------------------------------
    def close(self) -> None:
        opened = self.__dict__
        if opened.get("_meaning") is not None:
            opened["_meaning"].close()
        if "keyword" in opened:
            opened["keyword"].close()
        if "arxiv" in opened:
            opened["arxiv"].close()
        if "for_you_memo" in opened:
            opened["for_you_memo"].close()
        self.database.dispose()

    def __enter__(self) -> Site:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Site({self.database.url.render_as_string(hide_password=True)!r})"

    # Settings values a spawned process needs to open the same site (secrets resolved).
    def settings_values(self) -> dict[str, Any]:
        values = self.settings.model_dump()
        values["secret_key"] = self.settings.resolved_secret_key()
        return values
