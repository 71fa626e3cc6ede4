"""/healthz tells the truth when the database still reads but refuses writes (a full disk, a
read-only database): `degraded`, with what the database said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError

from dailypapers.papers.importing import load_file

from .conftest import BACKEND, LiveServer, make_settings, prepare_database
from .test_accounts import csrf_of


def refuse_writes(engine: Any) -> str:
    """Make the database refuse writes as a full disk (SQLite) or a read-only standby
    (PostgreSQL) does; returns what the database will say."""
    if BACKEND == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            name = connection.execute(text("SELECT current_database()")).scalar()
            connection.execute(
                text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            )
        engine.dispose()  # new connections start read-only
        return "read-only transaction"
    with engine.connect() as connection:
        pages = connection.execute(text("PRAGMA page_count")).scalar()

    def full_disk(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(engine, "connect", full_disk)
    engine.dispose()  # new connections cannot grow the file
    return "database or disk is full"


def test_healthz_is_degraded_while_writes_fail(
    tmp_path: Path, hf_rows: list[dict[str, Any]]
) -> None:
    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    source = tmp_path / "first.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in hf_rows[:20]))
    load_file(factory, source, settings.zone)
    engine.dispose()
    more = tmp_path / "more.jsonl"
    more.write_text("".join(json.dumps(row) + "\n" for row in hf_rows[20:2_020]))

    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        healthy = http.get("/healthz").json()
        assert (healthy["status"], healthy["database"]) == ("ok", "ok")
        assert "problem" not in healthy

        site = server.app.state.site
        said = refuse_writes(site.database)
        with pytest.raises(SQLAlchemyError, match=said):
            load_file(site.sessions, more, settings.zone)  # a write of this process fails

        health = http.get("/healthz")
        assert health.status_code == 200  # reads still work: keep serving them
        body = health.json()
        assert (body["status"], body["database"]) == ("degraded", "writes failing")
        assert said in body["problem"] and "refused a write" in body["problem"]
        assert body["search"]["keyword_papers"] == 20

        # A request that writes (a log-in attempt counts toward its rate limit) is told so.
        token = csrf_of(http.get("/login").text)
        attempt = http.post("/login", data={"csrf_token": token, "login": "x", "password": "y"})
        assert attempt.status_code != 500
        if BACKEND == "postgresql":  # every write fails there; SQLite's may still fit a page
            assert attempt.status_code == 503 and "cannot store changes" in attempt.text
