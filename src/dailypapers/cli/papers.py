"""Papers in and out: `load` files, `index` for search, `search`, `submit` from arXiv."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from dailypapers.cli.common import (
    MAX_REJECTIONS_SHOWN,
    console,
    fail,
    opened_site,
    prepare_search,
    sync_keyword_index,
)

if TYPE_CHECKING:
    from dailypapers.site import Site


def load(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="JSONL(.gz) of our schema, HF daily_papers JSON, or arXiv snapshot JSON lines."
        ),
    ],
) -> None:
    """Import papers from files. Safe to re-run: a second load changes nothing."""
    with opened_site() as site:
        failures = load_files(site, files)
    if failures:
        fail(failures)


def load_files(site: Site, files: list[Path]) -> str | None:
    """Load each file with a progress bar; print the counts. Returns a failure summary or None."""
    from dailypapers.papers.importing import load_file
    from dailypapers.papers.loader import LoadCounts

    totals = LoadCounts()
    unreadable: list[str] = []
    table = Table("file", "new", "updated", "unchanged", "rejected", title="Loaded")
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    started = time.perf_counter()
    with progress:
        for path in files:
            if not path.is_file():
                reason = "no such file" if not path.exists() else "not a file"
                unreadable.append(f"{path}: {reason}")
                console.print(f"[red]{path}[/red]: {reason}", highlight=False)
                continue
            task = progress.add_task(path.name, total=path.stat().st_size)

            def advance(position: int, task: TaskID = task) -> None:
                progress.update(task, completed=position)

            result = load_file(site.sessions, path, site.settings.zone, on_progress=advance)
            site.papers_stored(result.stored_paper_ids)
            progress.remove_task(task)
            counts = result.counts
            totals.add(counts)
            for file, line, reason in counts.rejections[:MAX_REJECTIONS_SHOWN]:
                console.print(f"[yellow]{file}:{line}[/yellow]: {reason}", highlight=False)
            if len(counts.rejections) > MAX_REJECTIONS_SHOWN:
                console.print(
                    f"… and {len(counts.rejections) - MAX_REJECTIONS_SHOWN} more rejected rows"
                )
            if result.error:
                unreadable.append(f"{path}: {result.error}")
                console.print(
                    f"[red]{path}[/red]: {result.error}; the rows before were stored",
                    highlight=False,
                )
            table.add_row(
                str(path),
                f"{counts.new:,}",
                f"{counts.updated:,}",
                f"{counts.unchanged:,}",
                f"{counts.rejected:,}",
            )
    if len(files) > 1:
        table.add_row(
            "total",
            f"{totals.new:,}",
            f"{totals.updated:,}",
            f"{totals.unchanged:,}",
            f"{totals.rejected:,}",
            style="bold",
        )
    Console().print(table)
    elapsed = time.perf_counter() - started
    console.print(
        f"{totals.total:,} rows in {elapsed:.1f} s "
        f"({totals.total / max(elapsed, 1e-9):,.0f} rows/s)"
    )
    sync_keyword_index(site)
    if unreadable:
        return "; ".join(unreadable)
    if totals.rejected:
        return (
            f"{totals.rejected:,} of {totals.total:,} rows rejected (reasons above); "
            "the rest were stored"
        )
    return None


def index() -> None:
    """Bring the search indexes up to date: the keyword index, and vectors for papers that are
    new or whose text changed.

    Safe to stop at any time; the next run continues where this one stopped.
    """
    from dailypapers.search.embedder import Embedder
    from dailypapers.search.indexing import count_pending, index_papers

    with opened_site() as site:
        sync_keyword_index(site)
        embedder = Embedder.load(threads=2)
        with site.sessions() as session:
            pending = count_pending(session, embedder.model_name)
        if pending == 0:
            console.print("Every paper has an up-to-date vector; nothing to embed.")
            return
        progress = Progress(
            TextColumn("embedding"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:,.1f} papers/s"),
            TimeRemainingColumn(),
            console=console,
        )
        with progress:
            task = progress.add_task("embedding", total=pending, rate=0.0)
            counts = index_papers(
                site.sessions,
                embedder,
                on_batch=lambda c: progress.update(
                    task, completed=c.embedded + c.unchanged, rate=c.papers_per_second
                ),
            )
    console.print(
        f"Embedded {counts.embedded:,} papers ({counts.unchanged:,} unchanged) in "
        f"{counts.seconds:.1f} s ({counts.papers_per_second:,.1f} papers/s)."
    )


def search(
    query: Annotated[str, typer.Argument(help="Words, a title, an author or an arXiv id.")],
    limit: Annotated[int, typer.Option(min=1, max=120, help="How many results.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the API's shape).")] = False,
) -> None:
    """Search papers as the web does."""
    import orjson

    from dailypapers.search.api import search_result_json
    from dailypapers.search.service import QueryTooLong, search_papers

    with opened_site() as site:
        prepare_search(site)
        try:
            with site.sessions() as session:
                results = search_papers(
                    session, query, keyword=site.keyword, limit=limit, meaning=site.meaning
                )
        except QueryTooLong as error:
            fail(str(error).removeprefix("q: "))
    if as_json:
        sys.stdout.write(
            orjson.dumps([search_result_json(hit) for hit in results.hits]).decode() + "\n"
        )
        return
    table = Table("#", "arXiv id", "title", "featured", "upvotes", title=f"Results for {query!r}")
    for rank, hit in enumerate(results.hits, start=1):
        paper, entry = hit.item.paper, hit.item.entry
        table.add_row(
            str(rank),
            paper.arxiv_id,
            paper.title,
            entry.featured_date.isoformat() if entry else "",
            str(paper.upvotes),
        )
    Console().print(table if results.hits else "No papers match.")


def submit(
    arxiv_ids: Annotated[list[str], typer.Argument(help="arXiv ids or URLs.")],
    as_member: Annotated[
        str | None, typer.Option("--as", help="Record this member (user name) as the submitter.")
    ] = None,
) -> None:
    """Fetch papers from arXiv (unless known) and put them on today's list.

    Run by the site's operator, so the age and daily-limit rules do not apply.
    """
    from datetime import datetime

    from dailypapers.curation.submissions import SubmissionRefused, SubmissionRules
    from dailypapers.curation.submissions import submit as submit_paper
    from dailypapers.members.admin import MemberChangeRefused, member_named

    refused = 0
    with opened_site() as site, site.sessions() as session:
        settings = site.settings
        today = datetime.now(settings.zone).date()
        submitter = None
        if as_member is not None:
            try:
                submitter = member_named(session, as_member)
            except MemberChangeRefused as error:
                fail(str(error))
        for text in arxiv_ids:
            try:
                done = submit_paper(
                    session,
                    site.arxiv,
                    settings.arxiv_api_url,
                    text,
                    member=None,
                    submitter=submitter,
                    today=today,
                    rules=SubmissionRules(0, 0),
                )
                session.commit()
            except SubmissionRefused as error:
                session.rollback()
                refused += 1
                console.print(f"[yellow]{text}[/yellow]: {error}", highlight=False)
                continue
            site.papers_stored([done.paper_id])
            console.print(f"{done.arxiv_id}: {done.title} — on the list of {done.featured_date}")
    if refused:
        fail(f"{refused} of {len(arxiv_ids)} papers were not submitted (reasons above)")
