"""Watchers (issue 17, point 5): a paper in one of a member's collections gets a new arXiv
version, a code link or a project page, and it is told in "Changed". The changes are recorded by
triggers on `papers` (migration 0022), so every writer is caught: plain SQL, the arXiv harvest
(replayed from recorded answers), the Hugging Face import and a curator's links (over HTTP)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.database import utcnow
from dailypapers.foryou.changes import changed_for
from dailypapers.foryou.models import PaperChange
from dailypapers.harvest.hf import import_hf_day
from dailypapers.harvest.job import harvest_arxiv
from dailypapers.library.models import Collection
from dailypapers.library.service import add_paper, create_collection
from dailypapers.members.accounts import create_member
from dailypapers.members.models import Member
from dailypapers.papers.loader import store_records
from dailypapers.papers.models import Paper
from dailypapers.papers.records import build_record

from .arxiv_replay import ArxivReplay
from .conftest import Community, free_port, make_settings, prepare_database
from .test_accounts import PASSWORD, csrf_of, log_in

HARVEST_DAY = date(2015, 1, 6)  # the day the recorded OAI pages were served
LIMIT_DISTRIBUTIONS = "0704.0716"  # stored by the recorded page at version 4


@pytest.fixture
def factory(database: sessionmaker[Session]) -> sessionmaker[Session]:
    return database


def a_paper(session: Session, arxiv_id: str, **fields: Any) -> Paper:
    paper = Paper(arxiv_id=arxiv_id, title=f"Paper {arxiv_id}", authors=[], categories=[])
    for name, value in fields.items():
        setattr(paper, name, value)
    session.add(paper)
    session.flush()
    return paper


def member_keeping(
    session: Session, username: str, paper_ids: list[int], collection: str = "Reading list"
) -> Member:
    member = create_member(session, username, f"{username}@example.org", PASSWORD)
    kept = create_collection(session, member, collection)
    for paper_id in paper_ids:
        add_paper(session, kept, paper_id)
    return member


def changes(factory: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    """Every recorded change, as (arXiv id, kind, detail), in the order noticed."""
    with factory() as session:
        return [
            tuple(row)  # type: ignore[misc]
            for row in session.execute(
                select(Paper.arxiv_id, PaperChange.kind, PaperChange.detail)
                .join(Paper, Paper.id == PaperChange.paper_id)
                .order_by(PaperChange.id)
            )
        ]


def test_plain_sql_updates_are_noticed_and_what_is_no_change_is_not(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, session.begin():
        versioned = a_paper(session, "2501.00001", version=2).id
        unversioned = a_paper(session, "2501.00002").id
        linked = a_paper(session, "2501.00003", github_url="https://github.com/a/b").id
    statements = [
        ("UPDATE papers SET version = 3 WHERE id = :id", versioned),  # up: "v3"
        ("UPDATE papers SET version = 3 WHERE id = :id", versioned),  # same: nothing
        ("UPDATE papers SET version = 2 WHERE id = :id", versioned),  # down: nothing
        ("UPDATE papers SET version = 1 WHERE id = :id", unversioned),  # first seen at v1
        ("UPDATE papers SET title = 'Renamed', abstract = 'New' WHERE id = :id", versioned),
        ("UPDATE papers SET github_url = 'https://github.com/A/b/' WHERE id = :id", linked),
        ("UPDATE papers SET github_url = NULL WHERE id = :id", linked),  # removed: nothing
        ("UPDATE papers SET github_url = '' WHERE id = :id", unversioned),  # empty: nothing
        ("UPDATE papers SET github_url = 'https://github.com/c/d' WHERE id = :id", linked),
        ("UPDATE papers SET project_page = 'https://p.example.org' WHERE id = :id", unversioned),
        ("UPDATE papers SET version = 5, project_page = 'https://q.example.org' WHERE id = :id",
         unversioned),
    ]  # fmt: skip
    with factory() as session:
        for statement, paper_id in statements:
            session.execute(text(statement), {"id": paper_id})
            session.commit()
    recorded = changes(factory)
    assert [c for c in recorded if c[0] != "2501.00002"] == [
        ("2501.00001", "version", "v3"),
        ("2501.00003", "code", "https://github.com/c/d"),  # taken away, then a new one
    ]
    # (one UPDATE of two watched columns makes two changes, in either order)
    assert sorted(c for c in recorded if c[0] == "2501.00002") == [
        ("2501.00002", "project_page", "https://p.example.org"),
        ("2501.00002", "project_page", "https://q.example.org"),
        ("2501.00002", "version", "v5"),
    ]
    with factory() as session:  # stamped by the database's clock, in the app's terms
        noticed = session.scalars(select(PaperChange.noticed_at)).all()
    assert all(abs(utcnow() - when) < timedelta(minutes=1) for when in noticed)


def test_changed_for_tells_a_members_kept_papers_newest_first_once_per_paper_and_kind(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, session.begin():
        kept = [a_paper(session, f"2502.0000{i}", version=1).id for i in range(1, 5)]
        elsewhere = a_paper(session, "2502.00009", version=1).id
        ada = member_keeping(session, "ada", kept[:3])
        second = create_collection(session, ada, "Another list")
        add_paper(session, second, kept[0])  # in two collections: told once, named by "A…"
        bob = member_keeping(session, "bob", [elsewhere, kept[3]], "Bob's")
        ada_id, bob_id = ada.id, bob.id
    before = utcnow() - timedelta(seconds=5)

    def write(paper_id: int, **values: Any) -> None:
        with factory() as session, session.begin():
            session.execute(update(Paper).where(Paper.id == paper_id).values(**values))

    write(kept[0], version=2)
    write(kept[0], version=3)  # the newer version is told, not both
    write(kept[1], github_url="https://github.com/ada/one")
    write(kept[2], project_page="https://two.example.org")
    write(kept[3], version=2)  # bob's only
    write(elsewhere, github_url="https://github.com/bob/nine")
    with factory() as session:
        told = changed_for(session, ada_id, since=before)
        assert [(c.paper_id, c.kind, c.detail) for c in told] == [
            (kept[2], "project_page", "https://two.example.org"),
            (kept[1], "code", "https://github.com/ada/one"),
            (kept[0], "version", "v3"),
        ]
        assert told[2].collection == "Another list"  # the first of its two, by name
        assert {c.collection for c in told[:2]} == {"Reading list"}
        assert all(c.noticed_at >= before for c in told)
        assert [c.detail for c in changed_for(session, ada_id, since=before, limit=1)] == [
            "https://two.example.org"
        ]
        assert changed_for(session, ada_id, since=utcnow() + timedelta(seconds=2)) == []
        assert changed_for(session, ada_id, since=before, until=before) == []
        bobs = changed_for(session, bob_id, since=before)
        assert {(c.paper_id, c.kind) for c in bobs} == {(kept[3], "version"), (elsewhere, "code")}
        assert changed_for(session, 10_000, since=before) == []
    # A hidden paper is told to no one; a paper added after its change was kept as it is now.
    with factory() as session, session.begin():
        session.execute(update(Paper).where(Paper.id == kept[1]).values(hidden=True))
        newcomer = a_paper(session, "2502.00010", version=1).id
    write(newcomer, version=2)
    with factory() as session, session.begin():  # noticed a while before it was kept
        session.execute(
            update(PaperChange)
            .where(PaperChange.paper_id == newcomer)
            .values(noticed_at=utcnow() - timedelta(seconds=3))
        )
        reading = session.scalars(
            select(Collection).where(
                Collection.member_id == ada_id, Collection.name == "Reading list"
            )
        ).one()
        add_paper(session, reading, newcomer)
    with factory() as session:
        told = changed_for(session, ada_id, since=before)
    assert kept[1] not in {c.paper_id for c in told}
    assert newcomer not in {c.paper_id for c in told}
    assert {c.paper_id for c in told} == {kept[0], kept[2]}


@pytest.fixture
def harvest_site(tmp_path: Path, arxiv_replay: ArxivReplay) -> Iterator[Any]:
    settings = make_settings(
        tmp_path, arxiv_oai_url=arxiv_replay.oai_url, arxiv_request_interval=0,
        dense_search=False, harvest_categories="nucl-th", harvest_proposals=0,
    )  # fmt: skip
    engine, factory = prepare_database(settings)
    yield settings, factory
    engine.dispose()


def test_the_arxiv_harvest_tells_a_kept_paper_has_a_new_version(harvest_site: Any) -> None:
    settings, factory = harvest_site
    older = build_record(arxiv_id=LIMIT_DISTRIBUTIONS, title="Limit distributions", version=2)
    store_records(factory, [older])
    with factory() as session, session.begin():
        paper_id = session.scalars(
            select(Paper.id).where(Paper.arxiv_id == LIMIT_DISTRIBUTIONS)
        ).one()
        ada = member_keeping(session, "ada", [paper_id], "Nuclear").id
    before = utcnow() - timedelta(seconds=1)
    outcome = harvest_arxiv(factory, settings, today=HARVEST_DAY, from_date=date(2014, 10, 1))
    assert outcome.report.ok and outcome.report.counts.updated >= 1
    with factory() as session:
        stored = session.scalars(select(Paper.version).where(Paper.id == paper_id)).one()
        told = changed_for(session, ada, since=before)
    assert stored is not None and stored > 2  # what the recorded page says, read back
    assert [(c.paper_id, c.kind, c.detail, c.collection) for c in told] == [
        (paper_id, "version", f"v{stored}", "Nuclear")
    ]
    # The papers the harvest stored for the first time are no changes.
    assert {arxiv_id for arxiv_id, *_ in changes(factory)} == {LIMIT_DISTRIBUTIONS}
    # Harvesting the same pages again changes nothing.
    harvest_arxiv(factory, settings, today=HARVEST_DAY, from_date=date(2014, 10, 1))
    assert len(changes(factory)) == 1


class HfDays(BaseHTTPRequestHandler):
    """Hugging Face's daily papers API, answering every day with `HfDays.answer`."""

    answer: bytes = b"[]"

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.answer)))
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *args: Any) -> None:
        pass


def hf_item(row: dict[str, Any], **paper: Any) -> dict[str, Any]:
    """A real row of the shared file as Hugging Face's API spells it."""
    authors = row["authors"] if isinstance(row["authors"], list) else eval(row["authors"])  # noqa: S307
    return {
        "paper": {
            "id": row["arxiv_id"],
            "title": row["title"],
            "summary": row["abstract"],
            "authors": [{"name": name} for name in authors],
            "publishedAt": f"{row['published']}T00:00:00.000Z",
            "submittedOnDailyAt": f"{row['featured_date']}T08:00:00.000Z",
            "upvotes": 1,
            **paper,
        },
        "numComments": 0,
    }


def test_the_hugging_face_import_tells_a_new_code_link_and_project_page(
    factory: sessionmaker[Session], settings: Any, hf_rows: list[dict[str, Any]]
) -> None:
    row = next(r for r in reversed(hf_rows) if r.get("github_url") and r.get("project_page"))
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), HfDays)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url, day = f"http://127.0.0.1:{port}/api/daily_papers", date.fromisoformat(row["featured_date"])
    try:
        HfDays.answer = json.dumps([hf_item(row)]).encode()  # first seen without links
        first = import_hf_day(factory, url, day, settings.zone, "https://example.org")
        assert first.counts.new == 1
        with factory() as session, session.begin():
            paper_id = session.scalars(
                select(Paper.id).where(Paper.arxiv_id == row["arxiv_id"])
            ).one()
            ada = member_keeping(session, "ada", [paper_id]).id
        before = utcnow() - timedelta(seconds=1)
        links = {"githubRepo": row["github_url"], "projectPage": row["project_page"]}
        HfDays.answer = json.dumps([hf_item(row, **links)]).encode()
        again = import_hf_day(factory, url, day, settings.zone, "https://example.org")
        assert again.counts.updated == 1
    finally:
        server.shutdown()
        server.server_close()
    with factory() as session:
        told = changed_for(session, ada, since=before)
    assert {(c.kind, c.detail) for c in told} == {
        ("code", row["github_url"]),
        ("project_page", row["project_page"]),
    }


def test_a_curators_links_are_told_to_the_members_who_keep_the_paper(
    community: Community,
) -> None:
    arxiv_id = community.arxiv_ids[3]
    with community.factory() as session, session.begin():
        paper = session.scalars(select(Paper).where(Paper.arxiv_id == arxiv_id)).one()
        paper_id, old_code = paper.id, paper.github_url
        ada = member_keeping(session, "ada", [paper_id]).id
        create_member(session, "curie", "curie@example.org", PASSWORD, "curator")
    before = utcnow() - timedelta(seconds=1)
    new_code = "https://github.com/curie/radium"
    assert old_code != new_code
    with httpx.Client(base_url=community.url) as curie:
        log_in(curie, "curie")
        page = curie.get(f"/papers/{arxiv_id}")
        done = curie.post(
            f"/papers/{arxiv_id}/links",
            data={
                "csrf_token": csrf_of(page.text),
                "github_url": new_code,
                "project_page": "https://radium.example.org",
            },
        )
        assert done.status_code == 303
    with community.factory() as session:
        told = changed_for(session, ada, since=before)
    assert {(c.paper_id, c.kind, c.detail) for c in told} == {
        (paper_id, "code", new_code),
        (paper_id, "project_page", "https://radium.example.org"),
    }
    assert datetime.now(UTC) - told[0].noticed_at < timedelta(minutes=1)
