"""`dailypapers db copy --to URL`: move a site to another database (typically its embedded
SQLite to PostgreSQL): papers, members, votes, comments, subscriptions, the ledger, vectors.

The target gets the same migrations, then every table of the schema is copied in foreign-key
order, 5,000 rows per INSERT batch, through the models' column types (so times stay UTC and
lists stay lists on both sides). Identity sequences are moved past the copied ids, and the row
count of every table is compared at the end. Derived or passing data is not copied: the keyword
index queue (PostgreSQL computes its own index) and rate-limit counters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, Integer, Table, delete, func, insert, select, text

from dailypapers import all_models
from dailypapers.database import upgrade
from dailypapers.search.backends import copied_vectors_made_searchable

BATCH_ROWS = 5_000


class CopyRefused(Exception):
    """The copy cannot start or did not match; the message says why."""


@dataclass
class TableCount:
    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


def tables() -> list[Table]:
    return list(all_models.metadata.sorted_tables)


def copy_database(
    source: Engine,
    target: Engine,
    *,
    replace: bool = False,
    on_table: Callable[[str, int], None] = lambda name, rows: None,
) -> list[TableCount]:
    """Copy every table; refuses a target that already holds data unless `replace`."""
    upgrade(target)
    with target.connect() as connection:
        held = {
            t.name: connection.scalar(select(func.count()).select_from(t)) or 0 for t in tables()
        }
    held.pop("site_state", None)  # every migrated database has its one row
    filled = {name: rows for name, rows in held.items() if rows}
    if filled and not replace:
        listed = ", ".join(f"{rows:,} {name}" for name, rows in sorted(filled.items()))
        raise CopyRefused(
            f"the target database is not empty ({listed}); use --replace to overwrite it"
        )
    with target.begin() as connection:
        for table in reversed(tables()):
            connection.execute(delete(table))
    for table in tables():
        copied = _copy_table(source, target, table)
        on_table(table.name, copied)
    if target.dialect.name == "postgresql":
        _move_sequences(target)
    copied_vectors_made_searchable(target)  # e.g. pgvector's column, from the copied bytes
    if target.dialect.name == "postgresql":
        # Statistics for the planner and the visibility map for index-only reads, now rather
        # than whenever autovacuum comes by.
        with target.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE)"))
    counts = []
    with source.connect() as before, target.connect() as after:
        for table in tables():
            count = select(func.count()).select_from(table)
            counts.append(
                TableCount(table.name, before.scalar(count) or 0, after.scalar(count) or 0)
            )
    return counts


def _copy_table(source: Engine, target: Engine, table: Table) -> int:
    key = list(table.primary_key.columns)
    copied = 0
    with source.connect() as reading:
        rows = reading.execution_options(yield_per=BATCH_ROWS).execute(select(table).order_by(*key))
        for batch in rows.partitions(BATCH_ROWS):
            with target.begin() as writing:
                writing.execute(insert(table), [dict(row._mapping) for row in batch])
            copied += len(batch)
    return copied


def _move_sequences(target: Engine) -> None:
    """Identity columns must continue after the copied ids."""
    with target.begin() as connection:
        for table in tables():
            for column in table.primary_key.columns:
                if not isinstance(column.type, Integer) or len(table.primary_key.columns) != 1:
                    continue
                sequence = connection.scalar(
                    text("SELECT pg_get_serial_sequence(:table, :column)"),
                    {"table": table.name, "column": column.name},
                )
                if sequence:
                    next_id = f"(SELECT coalesce(max({column.name}), 0) + 1 FROM {table.name})"
                    connection.execute(
                        text(f"SELECT setval(:sequence, {next_id}, false)"), {"sequence": sequence}
                    )
