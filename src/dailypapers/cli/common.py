"""What every command shares: the console, failing with a reason, opening the site, and the
keyword index brought up to date with a progress bar."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from dailypapers.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from dailypapers.site import Site

MAX_REJECTIONS_SHOWN = 20

console = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """Exit 1 with a one-line reason on stderr."""
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        fail(str(error))


def open_site(site_settings: Settings) -> Site:
    """The site, its database migrated to the newest schema; exit 1 saying why when it cannot
    be opened."""
    from sqlalchemy.exc import SQLAlchemyError

    from dailypapers.site import Site

    try:
        return Site.open(site_settings)
    except (SQLAlchemyError, OSError) as error:
        fail(f"cannot open the database {site_settings.resolved_database_url}: {error}")


@contextmanager
def opened_site(site_settings: Settings | None = None) -> Iterator[Site]:
    """`open_site`, closed at the end of the block."""
    site = open_site(site_settings or settings())
    try:
        yield site
    finally:
        site.close()


def prepare_search(site: Site, *, meaning: bool = True) -> None:
    """Search as up to date as the database: the keyword index synced, and the vectors of
    search by meaning read (where it is on)."""
    sync_keyword_index(site)
    if meaning and site.meaning is not None:
        site.meaning.refresh()


def sync_keyword_index(site: Site) -> None:
    """Bring the keyword index up to date, with a progress bar (a running server does it too,
    within a second)."""
    keyword = site.keyword
    with site.sessions() as session:
        pending = keyword.pending(session)
    if not pending and not keyword.rebuild_needed:
        return
    started = time.perf_counter()
    progress = Progress(
        TextColumn("keyword index"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with progress:
        task = progress.add_task("keyword index", total=pending or None)
        done = keyword.sync(
            site.sessions,
            on_progress=lambda n, total: progress.update(task, completed=n, total=total),
        )
    if done:
        elapsed = time.perf_counter() - started
        console.print(
            f"Keyword index: {done:,} papers indexed in {elapsed:.1f} s "
            f"({done / max(elapsed, 1e-9):,.0f} papers/s)."
        )
    elif pending:
        console.print("Keyword index: the running server is updating it.")
