"""One harvest as the CLI and the scheduler run it: fetch and store, make the new papers
searchable by meaning, propose the best for today's list."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from dailypapers.arxiv.client import PoliteClient
from dailypapers.arxiv.oai import set_spec
from dailypapers.harvest.proposals import propose
from dailypapers.harvest.run import Harvester, HarvestReport, SetReport
from dailypapers.search.indexing import TextEmbedder, index_papers
from dailypapers.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class HarvestOutcome:
    report: HarvestReport
    embedded: int = 0
    proposed: int = 0


def harvest_arxiv(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    today: date,
    client: PoliteClient | None = None,
    categories: list[str] | None = None,
    from_date: date | None = None,
    until: date | None = None,
    embedder: TextEmbedder | None = None,
    on_page: Callable[[SetReport], None] = lambda report: None,
    on_stored: Callable[[Sequence[int]], None] | None = None,
    now: datetime | None = None,
) -> HarvestOutcome:
    """Harvest arXiv's new papers; `on_stored` is told the new ones once they are committed
    (`Site.papers_stored`), before they are embedded and the best proposed."""
    own_client = client is None
    client = client or PoliteClient(
        interval=settings.arxiv_request_interval, contact_url=settings.base_url
    )
    try:
        harvester = Harvester(
            factory,
            client,
            settings.arxiv_oai_url,
            extra_holidays=settings.holiday_dates,
            on_page=on_page,
        )
        sets = [set_spec(c) for c in categories or settings.harvest_category_list]
        report = harvester.run(sets, today=today, from_date=from_date, until=until, now=now)
    finally:
        if own_client:
            client.close()
    outcome = HarvestOutcome(report)
    new_ids = report.new_paper_ids
    if on_stored is not None:
        on_stored(new_ids)
    if embedder is not None and new_ids:
        outcome.embedded = index_papers(factory, embedder, paper_ids=new_ids).embedded
    if settings.harvest_proposals and new_ids:
        with factory() as session, session.begin():
            outcome.proposed = propose(session, new_ids, today, settings.harvest_proposals)
    return outcome
