"""`dailypapers digest send`: the due digests of a day, each exactly once."""

from __future__ import annotations

from typing import Annotated

import typer

from dailypapers.cli.common import console, fail, opened_site, prepare_search, settings

app = typer.Typer(help="Email digests.", no_args_is_help=True)


@app.command("send")
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
    from datetime import datetime
    from functools import partial

    from dailypapers.digests.delivery import send_digests
    from dailypapers.digests.parallel import can_run_in_parallel, send_in_parallel
    from dailypapers.digests.schedule import DAY_NAMES, daily_period, parse_days, weekly_period
    from dailypapers.foryou.digest import personal_sections
    from dailypapers.papers.periods import InvalidPeriod, parse_day
    from dailypapers.site import Site

    site_settings = settings()
    if period not in ("daily", "weekly"):
        fail("--period must be daily or weekly")
    try:
        today = parse_day(day) if day else datetime.now(site_settings.zone).date()
    except InvalidPeriod as error:
        fail(f"--date: {error}")
    due = (
        daily_period(today, parse_days(site_settings.digest_days))
        if period == "daily"
        else weekly_period(today, DAY_NAMES.index(site_settings.digest_weekly_day))
    )
    if due is None:
        console.print(f"No {period} digest is due on {today:%A %Y-%m-%d} (see DIGEST_DAYS).")
        return
    with opened_site(site_settings) as site:
        if workers > 1 and can_run_in_parallel():
            prepare_search(site, meaning=False)  # once, before the senders open the index
            try:
                report = send_in_parallel(
                    partial(Site.open, migrate=False),
                    site.settings_values(),
                    due,
                    workers,
                    dry_run=dry_run,
                    personal=personal_sections,
                )
            except RuntimeError as error:
                fail(f"sending stopped: {error}; run again to send the rest")
        else:
            prepare_search(site)
            report = send_digests(
                site.sessions,
                due,
                site,
                keyword=site.keyword,
                meaning=site.meaning,
                personal=personal_sections(site),
                dry_run=dry_run,
            )
    verb = "would send" if dry_run else "sent"
    console.print(
        f"{due.key}: {verb} {report.sent:,}, empty {report.empty:,}, already done "
        f"{report.already_done:,}, failed {report.failed:,}, deferred {report.deferred:,} "
        f"in {report.seconds:.1f} s"
        + (f"; {report.in_progress:,} being sent by another sender" if report.in_progress else "")
    )
    if report.deferred:
        fail(f"{report.deferred} digests could not be sent yet (temporary failures); run again")
