"""`dailypapers db copy --to postgresql://…`: an embedded SQLite site moved to a real PostgreSQL
server, every table's count checked, the same API answers on both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from dailypapers.database import make_engine, make_session_factory, utcnow
from dailypapers.digests.models import DigestSend, Subscriber, Topic
from dailypapers.discussion.service import add_comment
from dailypapers.members.accounts import create_member
from dailypapers.members.votes import set_vote
from dailypapers.papers.importing import load_file
from dailypapers.papers.models import Paper
from dailypapers.search.dense_pgvector import PgVectorIndex
from dailypapers.search.models import PaperEmbedding

from .conftest import LiveServer, fresh_database_url, make_settings, prepare_database


def test_a_sqlite_site_copies_to_postgresql_with_every_count_checked(
    tmp_path: Path, hf_rows: list[dict[str, Any]]
) -> None:
    source_dir = tmp_path / "site"
    settings = make_settings(source_dir, database_url=f"sqlite:///{source_dir / 'site.db'}")
    engine, factory = prepare_database(settings)
    rows = [row for row in hf_rows if row.get("featured_date") and row.get("abstract")][-60:]
    papers_file = tmp_path / "papers.jsonl"
    papers_file.write_text("".join(json.dumps(row) + "\n" for row in rows))
    load_file(factory, papers_file, settings.zone)
    with factory() as session:
        ada = create_member(session, "ada", "ada@example.org", "a long password 1")
        paper_ids = session.scalars(select(Paper.id).order_by(Paper.id).limit(3)).all()
        for paper_id in paper_ids:
            set_vote(session, ada.id, paper_id, up=True)
        add_comment(session, ada, paper_ids[0], "Nice **work** with $\\alpha < 1$")
        commented = session.scalars(select(Paper.arxiv_id).where(Paper.id == paper_ids[0])).one()
        reader = Subscriber(email="r@example.org", frequency="daily", min_upvotes=0, bounces=0,
                            confirmed_at=utcnow())  # fmt: skip
        session.add(reader)
        session.flush()
        session.add(Topic(subscriber_id=reader.id, query="diffusion models"))
        session.add(DigestSend(subscriber_id=reader.id, period="daily:2026-08-24", status="sent",
                               message_id="<m@x>", papers="1,2", attempts=1))  # fmt: skip
        vector = np.random.default_rng(1).standard_normal(384).astype(np.float32)
        session.add(PaperEmbedding(paper_id=paper_ids[0], model="m", content_hash="h",
                                   vector=vector.tobytes()))  # fmt: skip
        session.commit()
    engine.dispose()

    target = fresh_database_url()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(DAILYPAPERS_DATA_DIR=str(source_dir), DAILYPAPERS_DATABASE_URL=settings.database_url,
               COLUMNS="200")  # fmt: skip

    def copy(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dailypapers", "db", "copy", *args],
                              env=env, capture_output=True, text=True, timeout=300)  # fmt: skip

    done = copy("--to", target)
    assert done.returncode == 0, done.stderr
    assert "every count matches" in done.stderr and "papers: 60 rows" in done.stderr

    copied = make_engine(target.replace("postgresql://", "postgresql+psycopg://", 1))
    copied_factory = make_session_factory(copied)
    with copied_factory() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == len(rows)
        voted = session.scalars(select(Paper).where(Paper.id.in_(paper_ids))).all()
        assert all(paper.vote_count == 1 for paper in voted)
        stored = session.scalars(select(PaperEmbedding)).one()
        assert np.array_equal(np.frombuffer(stored.vector, dtype=np.float32), vector)
        # ... and searchable through pgvector's index there
        assert PgVectorIndex(copied, "m").search(vector, 1) == [(paper_ids[0], pytest.approx(1.0))]
        ledger = session.scalars(select(DigestSend)).one()
        assert ledger.created_at.utcoffset() is not None and ledger.status == "sent"
        # New rows continue after the copied ids.
        session.add(Paper(arxiv_id="2601.00001", title="After the move", authors=[],
                          categories=[]))  # fmt: skip
        session.commit()
        assert session.scalar(select(func.max(Paper.id))) > max(paper_ids)

    # The same API answers on both databases.
    arxiv_id = rows[-1]["arxiv_id"]
    paths = [f"/api/papers/{arxiv_id}", f"/api/papers/{commented}/comments",
             f"/api/daily_papers?date={rows[-1]['featured_date']}"]  # fmt: skip
    with LiveServer(settings) as before:
        expected = [httpx.get(before.url + path).json() for path in paths]
    moved = make_settings(tmp_path / "moved", database_url=target)
    with LiveServer(moved) as after:
        assert [httpx.get(after.url + path).json() for path in paths] == expected
    assert "alpha" in json.dumps(expected[1])

    refused = copy("--to", target)
    assert (
        refused.returncode == 1 and "not empty" in refused.stderr and "61 papers" in refused.stderr
    )
    replaced = copy("--to", target, "--replace")
    assert replaced.returncode == 0, replaced.stderr
    with copied_factory() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == len(rows)
    copied.dispose()
    bad = copy("--to", "mysql://nowhere/db")
    assert bad.returncode == 1 and "not a sqlite:// or postgresql:// URL" in bad.stderr
