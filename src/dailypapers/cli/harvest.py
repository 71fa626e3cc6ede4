"""`dailypapers harvest`: new and updated arXiv papers (OAI-PMH), or Hugging Face's days."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from dailypapers.cli.common import (
    MAX_REJECTIONS_SHOWN,
    console,
    fail,
    opened_site,
    settings,
    sync_keyword_index,
)
from dailypapers.settings import check_categories

if TYPE_CHECKING:
    from dailypapers.settings import Settings


def _date_option(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    from dailypapers.papers.periods import InvalidPeriod, parse_day

    try:
        return parse_day(value)
    except InvalidPeriod as error:
        raise typer.BadParameter(str(error), param_hint=name) from None


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
    site_settings = settings()
    start, end = _date_option("--from", from_date), _date_option("--until", until)
    if from_hf:
        if not dates:
            raise typer.BadParameter("give at least one day (YYYY-MM-DD)", param_hint="DATES")
        _harvest_hf(site_settings, [_date_option("DATES", d) for d in dates])  # type: ignore[misc]
        return
    if dates:
        raise typer.BadParameter("days are only taken with --from-hf", param_hint="DATES")
    if start and end and start > end:
        raise typer.BadParameter(f"{start} is after --until {end}", param_hint="--from")
    categories = None
    if category:
        try:
            categories = check_categories(",".join(category))
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--category") from None
    _harvest_arxiv(site_settings, categories, start, end)


def _harvest_arxiv(
    site_settings: Settings, categories: list[str] | None, start: date | None, end: date | None
) -> None:
    from datetime import datetime

    from dailypapers.harvest.job import harvest_arxiv
    from dailypapers.harvest.run import SetReport

    def on_page(report: SetReport) -> None:
        counts = report.counts
        console.print(
            f"{report.set_spec}: page {report.pages} stored ({counts.new:,} new, "
            f"{counts.updated:,} updated, {counts.rejected:,} skipped so far)",
            highlight=False,
        )

    with opened_site(site_settings) as site:
        embedder = None
        if site_settings.dense_search:  # the model alone: this command searches nothing
            from dailypapers.search.embedder import Embedder

            embedder = Embedder.load(threads=2)
        today = datetime.now(site_settings.zone).date()
        outcome = harvest_arxiv(
            site.sessions,
            site_settings,
            today=today,
            client=site.arxiv,
            categories=categories,
            from_date=start,
            until=end,
            embedder=embedder,
            on_page=on_page,
            on_stored=site.papers_stored,
        )
        if outcome.report.counts.new or outcome.report.counts.updated:
            sync_keyword_index(site)
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
        console.print(
            f"{outcome.embedded:,} new papers embedded for search by meaning; "
            f"{outcome.proposed:,} proposed for today's list (see /admin)."
        )
    if not report.ok:
        failed = [item.set_spec for item in report.sets if item.status == "failed"]
        fail(f"the harvest of {', '.join(failed)} failed (reasons above); run it again to resume")


def _harvest_hf(site_settings: Settings, days: list[date]) -> None:
    from dailypapers.harvest.hf import HfUnavailable, import_hf_day

    with opened_site(site_settings) as site:
        for day in days:
            try:
                result = import_hf_day(
                    site.sessions,
                    site_settings.hf_daily_papers_url,
                    day,
                    site_settings.zone,
                    site_settings.base_url,
                )
            except HfUnavailable as error:
                fail(str(error))
            site.papers_stored(result.stored_paper_ids)
            counts = result.counts
            console.print(
                f"{day}: {counts.new:,} new, {counts.updated:,} updated, "
                f"{counts.unchanged:,} unchanged, {counts.rejected:,} skipped",
                highlight=False,
            )
            for _where, line, reason in counts.rejections[:MAX_REJECTIONS_SHOWN]:
                console.print(f"  item {line}: {reason}", highlight=False)
        sync_keyword_index(site)
