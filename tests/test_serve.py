"""`dailypapers serve` from nothing: migrates, loads the bundled demo papers, serves real pages."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from dailypapers.cli.serve import DEMO_DATA

from .conftest import BACKEND, cli_env, database_url_for, free_port, rows_of


def wait_until_serving(server: subprocess.Popen[bytes], base: str, *, seconds: float) -> None:
    """Until `serve` answers its health check (it migrates and loads the demo papers first)."""
    deadline = time.monotonic() + seconds
    while True:
        assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "serve did not come up"
        time.sleep(0.2)


def test_serve_on_an_empty_database_shows_the_bundled_papers(tmp_path: Path) -> None:
    with gzip.open(DEMO_DATA, "rt", encoding="utf-8") as lines:
        demo = [json.loads(line) for line in lines]
    latest = max(row["featured_date"] for row in demo)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env["DAILYPAPERS_DATA_DIR"] = str(tmp_path / "var")
    env["DAILYPAPERS_DATABASE_URL"] = database_url_for(tmp_path / "var")
    env["DAILYPAPERS_HARVEST_SCHEDULER"] = "false"  # no arXiv here
    server = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_serving(server, f"http://127.0.0.1:{port}", seconds=90)
        home = httpx.get(f"http://127.0.0.1:{port}/").text
        shown = re.findall(r'data-arxiv-id="([^"]+)"', home)
        expected = {row["arxiv_id"] for row in demo if row["featured_date"] == latest}
        assert shown and set(shown) <= expected
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert rows_of(tmp_path / "var", "SELECT count(*) FROM papers") == [(len(demo),)]
    if BACKEND == "sqlite":
        assert rows_of(tmp_path / "var", "PRAGMA journal_mode") == [("wal",)]


def test_bundled_demo_data_is_recent_real_and_small() -> None:
    assert DEMO_DATA.stat().st_size < 10 * 1024 * 1024
    with gzip.open(DEMO_DATA, "rt", encoding="utf-8") as lines:
        demo = [json.loads(line) for line in lines]
    assert len(demo) > 1000
    assert all(row["abstract"] and row["featured_date"] for row in demo)


def test_db_backup_writes_a_consistent_copy(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "var")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dailypapers", *args],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps({"arxiv_id": "2501.00001", "title": "A paper"}) + "\n")
    assert cli("load", str(source)).returncode == 0
    backup = tmp_path / "backup.db"
    made = cli("db", "backup", str(backup))
    assert made.returncode == 0, made.stderr
    if BACKEND == "sqlite":
        with sqlite3.connect(backup) as connection:
            assert connection.execute("SELECT title FROM papers").fetchall() == [("A paper",)]
    else:  # restore the pg_dump archive into a new database and read it back
        from dailypapers.backups import find_pg_dump

        pg_dump = find_pg_dump()
        assert pg_dump is not None
        restored = tmp_path / "restored"
        url = database_url_for(restored)
        subprocess.run([str(Path(pg_dump).with_name("pg_restore")), f"--dbname={url}",
                        str(backup)], check=True, capture_output=True)  # fmt: skip
        assert rows_of(restored, "SELECT title FROM papers") == [("A paper",)]
    again = cli("db", "backup", str(backup))
    assert again.returncode == 1 and "already exists" in again.stderr


def test_two_db_upgrades_at_once_and_again_leave_one_current_schema(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "var")
    command = [sys.executable, "-m", "dailypapers", "db", "upgrade"]
    both = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]  # fmt: skip
    results = [(process.wait(timeout=120), process.communicate()[1]) for process in both]
    assert [code for code, _ in results] == [0, 0], results
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    versions = rows_of(tmp_path / "var", "SELECT version_num FROM alembic_version")
    assert len(versions) == 1 and versions[0][0] >= "0010"
    assert rows_of(tmp_path / "var", "SELECT count(*) FROM site_state") == [(1,)]


def test_several_web_processes_serve_one_site_and_agree(tmp_path: Path) -> None:
    """`serve --workers 2`: two processes answer, and a change made outside them (a load) shows
    in every answer at once, whichever process gives it (their response caches follow the
    database's revision)."""
    import psutil

    port = free_port()
    env = cli_env(tmp_path / "var", DAILYPAPERS_EMBED_IN_BACKGROUND="false")
    server = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(server, base, seconds=120)
        python_children = [p for p in psutil.Process(server.pid).children(recursive=True)
                           if "python" in p.name().lower()]  # fmt: skip
        assert len(python_children) >= 2
        latest = httpx.get(f"{base}/api/daily_papers").json()[0]["paper"]["featuredDate"]
        row = {"arxiv_id": "2601.99999", "title": "A paper loaded while two processes serve",
               "featured_date": latest, "upvotes": 10_000}  # fmt: skip
        (tmp_path / "new.jsonl").write_text(json.dumps(row) + "\n")
        loaded = subprocess.run([sys.executable, "-m", "dailypapers", "load",
                                 str(tmp_path / "new.jsonl")], env=env, capture_output=True,
                                text=True, timeout=120)  # fmt: skip
        assert loaded.returncode == 0, loaded.stderr
        for _ in range(20):  # a new connection each time: both processes answer some
            with httpx.Client(base_url=base) as http:
                titles = [i["title"] for i in http.get("/api/daily_papers",
                                                       params={"date": latest}).json()]  # fmt: skip
                assert row["title"] in titles
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
