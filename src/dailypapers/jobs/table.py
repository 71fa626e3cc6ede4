"""The table of jobs: what runs in the background, how often, and under which lease.

`serve` runs `web_jobs` on threads of each web process (switched on and off by settings:
DIGEST_SCHEDULER, HARVEST_SCHEDULER, EMBED_IN_BACKGROUND); `dailypapers worker` runs
`worker_jobs`, the same functions, without serving pages.

| job            | every     | lease          | does                                            |
|----------------|-----------|----------------|-------------------------------------------------|
| keyword-index  | 1 s       | keyword-index  | indexes papers waiting in search_queue (Tantivy) |
| keyword-reload | 1 s       | (each process) | opens the keyword index's newest commit          |
| dense-upkeep   | 5 s       | (each process) | reads new vectors; loads/extends the HNSW graph  |
| embeddings     | 5 s       | index          | embeds new or changed papers                     |
| outbox         | 1 s       | outbox         | sends queued account and subscription mail       |
| digests        | 60 s      | digests        | sends the due digests, each exactly once; For    |
|                |           |                | you and Changed for members who asked for them   |
| harvest        | 60 s      | harvest        | harvests arXiv after each announcement           |
| for-you-pool   | 30 s      | (each process) | builds For you's candidates of the windows that  |
|                |           |                | members use, so no first visit waits for them    |
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from dailypapers.digests.scheduler import DigestScheduler
from dailypapers.foryou.digest import personal_sections
from dailypapers.harvest.scheduler import HarvestScheduler
from dailypapers.jobs.runner import Job
from dailypapers.mail.outbox import deliver_outbox
from dailypapers.members.models import Member
from dailypapers.search.indexing import index_papers
from dailypapers.site import Site


def sync_keyword_index(site: Site, stop: threading.Event) -> None:
    site.keyword.sync(site.sessions)


def reload_keyword_index(site: Site, stop: threading.Event) -> None:
    site.keyword.reload()


def dense_upkeep(site: Site, stop: threading.Event) -> None:
    if site.meaning is not None:
        site.meaning.refresh()
        site.meaning.maintain_ann()


def embed_new_papers(site: Site, stop: threading.Event) -> None:
    meaning = site.meaning
    if meaning is None:
        return

    def after_batch(_counts: object) -> None:
        meaning.refresh()  # this process searches the new vectors at once

    index_papers(
        site.sessions,
        meaning.embedder,
        dense=meaning.dense,
        should_stop=stop.is_set,
        on_batch=after_batch,
    )
    meaning.refresh()


def warm_for_you(site: Site, stop: threading.Event) -> None:
    """Each process's For you keeps the candidates of a window (their features take seconds to
    build for a few thousand papers): build those of the windows members use, and build them
    again in the background when the papers change, so that a request never waits for them."""
    with site.sessions() as session:
        lengths = session.scalars(
            select(Member.for_you_days).distinct().order_by(Member.for_you_days).limit(4)
        ).all()
        for days in lengths:
            if stop.is_set():
                return
            site.for_you_memo.pool(session, days)


def send_outbox(site: Site, stop: threading.Event) -> None:
    deliver_outbox(site.sessions, site.mail)


def _digests(site: Site, every: float = 60.0, first_after: float = 60.0) -> Job:
    scheduler = DigestScheduler(
        site.sessions,
        site.settings,
        site,
        site.keyword,
        site.meaning,
        personal=personal_sections(site),  # For you and Changed, for members who want them
    )
    return Job(
        "digests",
        every,
        lambda site, stop: scheduler.run_once(),
        lease="digests",
        first_after=first_after,
    )


def _harvest(site: Site, every: float = 60.0, first_after: float = 60.0) -> Job:
    meaning = site.meaning
    scheduler = HarvestScheduler(
        site.sessions,
        site.settings,
        meaning.embedder if meaning is not None else None,
        client=site.arxiv,
        on_stored=site.papers_stored,
    )
    # The scheduler takes the lease "harvest" itself, once it has seen a harvest is due.
    return Job("harvest", every, lambda site, stop: scheduler.run_once(), first_after=first_after)


def _embeddings(every: float) -> Job:
    return Job("embeddings", every, embed_new_papers, lease="index")


def web_jobs(site: Site) -> list[Job]:
    """What each web process runs beside serving pages."""
    settings = site.settings
    jobs = [
        Job("keyword-index", 1.0, sync_keyword_index, lease="keyword-index"),
        Job("keyword-reload", 1.0, reload_keyword_index),
        Job("outbox", 1.0, send_outbox, lease="outbox"),
        Job("for-you-pool", 30.0, warm_for_you),
    ]
    if site.meaning is not None:
        jobs.append(Job("dense-upkeep", 5.0, dense_upkeep))
        if settings.embed_in_background:
            jobs.append(_embeddings(5.0))
    if settings.digest_scheduler:
        jobs.append(_digests(site))
    if settings.harvest_scheduler:
        jobs.append(_harvest(site))
    return jobs


def worker_jobs(site: Site, every: float) -> list[Job]:
    """What `dailypapers worker` runs: the shared jobs, each looked at every `every` seconds
    (mail at least every second)."""
    jobs = [
        Job("keyword-index", every, sync_keyword_index, lease="keyword-index"),
        Job("outbox", min(every, 1.0), send_outbox, lease="outbox"),
        _digests(site, every, first_after=0.0),
    ]
    if site.settings.harvest_scheduler:
        jobs.append(_harvest(site, every, first_after=0.0))
    if site.meaning is not None:
        jobs.append(Job("dense-upkeep", every, dense_upkeep))
        jobs.append(_embeddings(every))
    return jobs
