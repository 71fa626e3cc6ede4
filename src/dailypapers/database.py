"""Engine, sessions and migrations for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import fcntl
import time
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always gives them back aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class JSONText(TypeDecorator[Any]):
    """JSON kept as text and (de)serialised with orjson: several times faster than `sa.JSON`
    when loading hundreds of thousands of papers, and the same on SQLite and PostgreSQL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else orjson.dumps(value).decode()

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else orjson.loads(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    """Create the engine; for SQLite switch on WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=20,
            max_overflow=20,
        )
        event.listen(engine, "connect", _configure_sqlite_connection)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: the full-text index writes many pages
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def insert_many(connection: Connection, table: FromClause, rows: list[dict[str, Any]]) -> None:
    """INSERT rows through the driver's executemany.

    Values still go through each column type's bind processor, but SQLAlchemy's per-row
    parameter compilation is skipped: bulk loads of papers spend a third of the CPU there.
    """
    if not rows:
        return
    dialect = connection.dialect
    names = list(rows[0])
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    quote = dialect.identifier_preparer.quote
    assert isinstance(table, Table), "insert_many writes to a table"
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) "
        f"VALUES ({', '.join([placeholder] * len(names))})"
    )
    values_of = itemgetter(*names)
    processed = [(i, process) for i, process in enumerate(processors) if process is not None]
    converted = []
    for row in rows:
        values = list(values_of(row)) if len(names) > 1 else [row[names[0]]]
        for i, process in processed:
            if values[i] is not None:
                values[i] = process(values[i])
        converted.append(tuple(values))
    connection.exec_driver_sql(sql, converted)


# Errors that say the database's storage refuses work (disk full, I/O error, read-only, corrupt),
# by SQLite's error name or PostgreSQL's SQLSTATE (53: insufficient resources, 53100 disk full;
# 58: system I/O; 25006: a read-only transaction, as on a standby; XX001/XX002: corrupt data).
_SQLITE_STORAGE_ERRORS = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CORRUPT")
_POSTGRES_STORAGE_STATES = ("53", "58", "25006", "XX001", "XX002")


def storage_problem(error: BaseException) -> str | None:
    """What the database said, when `error` means its storage refuses work; None otherwise
    (a constraint, a lock wait, a lost connection)."""
    name = getattr(error, "sqlite_errorname", None)
    if isinstance(name, str) and name.startswith(_SQLITE_STORAGE_ERRORS):
        return f"{str(error)[:200]} ({name})"
    state = getattr(error, "sqlstate", None)
    if isinstance(state, str) and state.startswith(_POSTGRES_STORAGE_STATES):
        return f"{str(error).splitlines()[0][:200]} (SQLSTATE {state})"
    return None


class StorageFailures:
    """The last statement or commit, in this process, that the database refused for a reason
    of storage: `SELECT 1` still works on a full disk, so /healthz asks this as well."""

    def __init__(self, engine: Engine) -> None:
        self._last: tuple[float, str] | None = None
        event.listen(engine, "handle_error", self._seen)

    def _seen(self, context: ExceptionContext) -> None:
        problem = storage_problem(context.original_exception)
        if problem is not None:
            self._last = (time.monotonic(), problem)

    def recent(self, within_seconds: float) -> tuple[float, str] | None:
        """(seconds ago, what the database said) of the last failure in that time, or None."""
        last = self._last
        if last is None or time.monotonic() - last[0] > within_seconds:
            return None
        return time.monotonic() - last[0], last[1]


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (safe to run again, and at once from several
    processes: on SQLite they take turns on a lock file next to the database, on PostgreSQL
    on an advisory lock, see migrations/env.py)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        with open(f"{url.database}.migrate-lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            command.upgrade(alembic_config(engine), "head")
        return
    command.upgrade(alembic_config(engine), "head")


def insert_ignoring_duplicates(
    connection: Connection, table: Table, rows: list[dict[str, Any]]
) -> None:
    """INSERT rows, skipping those that would break a unique constraint."""
    if rows:
        connection.execute(insert_or_ignore(connection, table), rows)


def insert_or_ignore(connection: Connection, table: Table) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` into `table` (add `.values()`, `.returning()`):
    SQLite and PostgreSQL spell it alike, but SQLAlchemy builds it per dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()
