"""`dailypapers load`: every format, idempotence, versions, bad rows, broken files, kills."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from dailypapers.papers.importing import load_file
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.settings import Settings

from .conftest import SHARED_DATA, cli_env, rows_of

CORPUS_FILE = SHARED_DATA / "arxiv_corpus.jsonl.gz"


def corpus_rows(count: int, skip: int = 0) -> list[dict[str, Any]]:
    rows = []
    with gzip.open(CORPUS_FILE, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number < skip:
                continue
            rows.append(json.loads(line))
            if len(rows) == count:
                break
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]], *, compress: bool = False) -> Path:
    data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def stored(factory) -> dict[str, Paper]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return {paper.arxiv_id: paper for paper in session.scalars(select(Paper))}


def test_our_schema_loads_and_a_second_load_changes_nothing(
    tmp_path: Path, database, settings: Settings
) -> None:
    rows = corpus_rows(300)
    path = write_jsonl(tmp_path / "papers.jsonl.gz", rows, compress=True)

    first = load_file(database, path, settings.zone)
    assert (first.counts.new, first.counts.updated, first.counts.rejected) == (300, 0, 0)
    papers = stored(database)
    assert set(papers) == {row["arxiv_id"] for row in rows}
    for row in rows[:50]:
        paper = papers[row["arxiv_id"]]
        assert paper.title == row["title"]
        assert paper.authors == row["authors"]
        assert paper.categories == (row["categories"] or [])
        assert paper.published_date == date.fromisoformat(row["published"])

    second = load_file(database, path, settings.zone)
    assert (second.counts.new, second.counts.updated, second.counts.unchanged) == (0, 0, 300)
    assert {k: v.updated_at for k, v in stored(database).items()} == {
        k: v.updated_at for k, v in papers.items()
    }


def test_featured_rows_join_the_daily_list_once(
    tmp_path: Path, database, settings: Settings, hf_rows
) -> None:
    rows = [row for row in hf_rows if row["featured_date"]][-200:]
    path = write_jsonl(tmp_path / "hf.jsonl", rows)
    load_file(database, path, settings.zone)
    load_file(database, path, settings.zone)
    with database() as session:
        entries = {
            paper.arxiv_id: entry.featured_date
            for entry, paper in session.execute(select(DailyEntry, Paper).join(Paper))
        }
    assert entries == {row["arxiv_id"]: date.fromisoformat(row["featured_date"]) for row in rows}


def hf_api_item(row: dict[str, Any]) -> dict[str, Any]:
    """A row in the shape of Hugging Face's /api/daily_papers response."""
    featured = f"{row['featured_date']}T13:05:41.000Z"
    return {
        "paper": {
            "id": row["arxiv_id"],
            "authors": [{"_id": "x", "name": name, "hidden": False} for name in row["authors"]],
            "publishedAt": f"{row['published']}T17:59:01.000Z",
            "submittedOnDailyAt": featured,
            "title": row["title"],
            "summary": row["abstract"],
            "upvotes": row["upvotes"],
            "discussionId": "abc",
            "githubRepo": row["github_url"],
            "githubStars": row.get("github_stars"),
            "projectPage": row.get("project_page"),
            "ai_summary": row.get("ai_summary"),
            "ai_keywords": row.get("ai_keywords"),
        },
        "publishedAt": featured,
        "title": row["title"],
        "summary": row["abstract"],
        "thumbnail": "https://cdn-thumbnails.huggingface.co/x.png",
        "numComments": row.get("num_comments") or 0,
        "submittedBy": {"_id": "u", "avatarUrl": "", "fullname": "AK", "name": "akhaliq",
                        "type": "user", "isPro": False},
        "isAuthorParticipating": False,
    }  # fmt: skip


def test_raw_hugging_face_response_loads(
    tmp_path: Path, database, settings: Settings, hf_rows
) -> None:
    rows = [r for r in hf_rows if r["abstract"] and r["published"] and r["authors"]][-40:]
    path = tmp_path / "2026-08-21.json"
    path.write_text(json.dumps([hf_api_item(row) for row in rows], indent=2))

    result = load_file(database, path, settings.zone)
    assert (result.counts.new, result.counts.rejected, result.error) == (40, 0, None)
    papers = stored(database)
    for row in rows:
        paper = papers[row["arxiv_id"]]
        assert paper.title == row["title"]
        assert paper.authors == row["authors"]
        assert paper.imported_upvotes == (row["upvotes"] or 0)
        assert paper.published_date == date.fromisoformat(row["published"])
    with database() as session:
        entries = session.execute(
            select(Paper.arxiv_id, DailyEntry.featured_date, DailyEntry.submitter_name).join(Paper)
        ).all()
    assert {(arxiv_id, featured) for arxiv_id, featured, _ in entries} == {
        (row["arxiv_id"], date.fromisoformat(row["featured_date"])) for row in rows
    }
    assert {submitter for _, _, submitter in entries} == {"akhaliq"}


def snapshot_item(row: dict[str, Any], versions: int = 1) -> dict[str, Any]:
    """A row in the shape of arXiv's metadata snapshot (arxiv-metadata-oai-snapshot.json)."""
    parsed = [[name.split()[-1], " ".join(name.split()[:-1]), ""] for name in row["authors"]]
    return {
        "id": row["arxiv_id"],
        "submitter": row["authors"][0],
        "authors": ", ".join(row["authors"]),
        "title": row["title"].replace(" ", "\n  ", 1),
        "comments": row.get("comment"),
        "journal-ref": None,
        "doi": None,
        "categories": " ".join(row["categories"] or []),
        "license": None,
        "abstract": "  " + row["abstract"].replace(". ", ".\n", 2) + "\n",
        "versions": [
            {"version": f"v{n}", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}
            for n in range(1, versions + 1)
        ],
        "update_date": "2008-11-13",
        "authors_parsed": parsed,
    }


def test_arxiv_snapshot_loads_with_versions_and_latex_names(
    tmp_path: Path, database, settings: Settings
) -> None:
    rows = [r for r in corpus_rows(60) if r["categories"] and r["authors"]]
    items = [snapshot_item(row, versions=2) for row in rows]
    items[0]["authors_parsed"] = [["Bal\\'azs", "C.", ""], ["Berger", "E. L.", ""]]
    path = write_jsonl(tmp_path / "snapshot.json", items)

    result = load_file(database, path, settings.zone)
    assert result.counts.new == len(rows) and result.counts.rejected == 0
    papers = stored(database)
    first = papers[rows[0]["arxiv_id"]]
    assert first.authors == ["C. Balázs", "E. L. Berger"]
    for row in rows[1:]:
        paper = papers[row["arxiv_id"]]
        assert paper.version == 2
        assert paper.title == row["title"]  # line breaks collapsed
        assert paper.abstract == row["abstract"]
        assert paper.categories == row["categories"]
        assert paper.primary_category == row["categories"][0]
        assert paper.published_date == date(2007, 4, 2)


def test_the_newest_version_wins_and_an_older_one_never_overwrites(
    tmp_path: Path, database, settings: Settings
) -> None:
    row = corpus_rows(1)[0]
    v2 = dict(row, arxiv_id=f"{row['arxiv_id']}v2", title="Second version title")
    v1 = dict(row, arxiv_id=f"arXiv:{row['arxiv_id']}v1", title="First version title")
    v3 = dict(row, arxiv_id=f"https://arxiv.org/abs/{row['arxiv_id']}v3", title="Third")

    assert load_file(database, write_jsonl(tmp_path / "a", [v2]), settings.zone).counts.new == 1
    older = load_file(database, write_jsonl(tmp_path / "b", [v1]), settings.zone)
    assert older.counts.unchanged == 1
    assert stored(database)[row["arxiv_id"]].title == "Second version title"
    newer = load_file(database, write_jsonl(tmp_path / "c", [v3]), settings.zone)
    assert newer.counts.updated == 1
    paper = stored(database)[row["arxiv_id"]]
    assert (paper.title, paper.version) == ("Third", 3)
    assert len(stored(database)) == 1


def test_malformed_rows_are_rejected_with_line_and_reason_and_the_rest_loads(
    tmp_path: Path, database, settings: Settings
) -> None:
    good = corpus_rows(5)
    lines = [json.dumps(good[0]).encode()]
    lines.append(b'{"arxiv_id": "2501.00001", "title": ')  # line 2: truncated JSON
    lines.append(json.dumps(good[1]).encode())
    lines.append(b'{"arxiv_id": "2501.00002", "title": "caf\xe9"}')  # line 4: Latin-1 byte
    lines.append(json.dumps(dict(good[2], arxiv_id="../../etc/passwd")).encode())  # 5
    lines.append(json.dumps(dict(good[3], abstract="x" * 1_048_576)).encode())  # 6: 1 MB abstract
    lines.append(json.dumps(dict(good[4], published="2025-13-45")).encode())  # 7
    lines.append(json.dumps({"arxiv_id": "2501.00003", "title": "  "}).encode())  # 8
    lines.append(json.dumps({"arxiv_id": "2501.00004", "title": "T", "upvotes": -3}).encode())
    lines.append(b"[1, 2]")  # 10
    lines.append(json.dumps({"hello": "world"}).encode())  # 11
    lines.append(json.dumps(dict(good[4], github_url="javascript:alert(1)")).encode())  # 12
    lines.append(json.dumps(good[4]).encode())  # 13: fine
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    result = load_file(database, path, settings.zone)
    reasons = {line: reason for _, line, reason in result.counts.rejections}
    assert set(reasons) == {2, 4, 5, 6, 7, 8, 9, 10, 11, 12}
    assert "not valid JSON" in reasons[2]
    assert "UTF-8" in reasons[4]
    assert "not an arXiv id" in reasons[5]
    assert "abstract is 1,048,576 characters long" in reasons[6]
    assert "2025-13-45" in reasons[7]
    assert "title is missing" in reasons[8]
    assert "upvotes" in reasons[9]
    assert "JSON object" in reasons[10]
    assert "unknown row format" in reasons[11]
    assert "github_url" in reasons[12]
    assert set(stored(database)) == {good[0]["arxiv_id"], good[1]["arxiv_id"], good[4]["arxiv_id"]}


def test_a_truncated_gzip_keeps_what_was_read_and_a_rerun_completes(
    tmp_path: Path, database, settings: Settings
) -> None:
    rows = corpus_rows(3000)
    full = write_jsonl(tmp_path / "full.jsonl.gz", rows, compress=True)
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(full.read_bytes()[: full.stat().st_size // 2])

    partial = load_file(database, truncated, settings.zone)
    assert partial.error is not None and "ends early" in partial.error
    kept = len(stored(database))
    assert 1000 <= kept < 3000  # every complete row before the cut is stored
    assert partial.counts.new == kept

    rerun = load_file(database, full, settings.zone)
    assert rerun.error is None
    assert (rerun.counts.new, rerun.counts.unchanged) == (3000 - kept, kept)
    assert set(stored(database)) == {row["arxiv_id"] for row in rows}


def test_a_json_document_that_is_not_json_is_reported(
    tmp_path: Path, database, settings: Settings
) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"paper": {"id": "2501.00001"}}, ')
    result = load_file(database, path, settings.zone)
    assert result.error is not None and "not valid JSON" in result.error
    assert stored(database) == {}


def run_cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dailypapers", *args],
        env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def count_rows(data_dir: Path) -> int:
    rows = rows_of(data_dir, "SELECT count(*) FROM papers")
    return rows[0][0] if rows else 0


def test_cli_load_reports_counts_and_exit_status(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "var")
    path = write_jsonl(tmp_path / "p.jsonl", corpus_rows(20))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"arxiv_id": "nope", "title": "x"}\n')

    first = run_cli("load", str(path), env=env)
    assert first.returncode == 0, first.stderr
    assert "20 rows in" in first.stderr and "│ 20 " in first.stdout
    again = run_cli("load", str(path), env=env)
    assert again.returncode == 0 and "│ 0   │ 0       │ 20 " in again.stdout

    rejected = run_cli("load", str(bad), env=env)
    assert rejected.returncode == 1
    assert "bad.jsonl:1" in rejected.stderr and "not an arXiv id" in rejected.stderr
    assert "Traceback" not in rejected.stderr

    missing = run_cli("load", str(tmp_path / "missing.jsonl"), env=env)
    assert missing.returncode == 1 and "no such file" in missing.stderr
    assert run_cli("load", env=env).returncode == 2  # bad usage


def test_killing_a_load_loses_nothing_and_a_rerun_completes_without_duplicates(
    tmp_path: Path,
) -> None:
    rows = corpus_rows(20_000)
    path = write_jsonl(tmp_path / "big.jsonl.gz", rows, compress=True)
    data_dir = tmp_path / "var"
    process = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "load", str(path)],
        env=cli_env(data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while count_rows(data_dir) == 0 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    after_kill = count_rows(data_dir)
    assert 0 < after_kill < len(rows), "the kill should land mid-file"

    rerun = run_cli("load", str(path), env=cli_env(data_dir))
    assert rerun.returncode == 0, rerun.stderr
    ids = [row[0] for row in rows_of(data_dir, "SELECT arxiv_id FROM papers")]
    assert len(ids) == len(set(ids)) == len(rows)
    assert set(ids) == {row["arxiv_id"] for row in rows}


def test_counts_match_the_whole_hf_file(site_settings: Settings, hf_rows) -> None:
    from dailypapers.database import make_engine, make_session_factory

    engine = make_engine(site_settings.resolved_database_url)
    with make_session_factory(engine)() as session:
        papers = session.scalar(select(func.count()).select_from(Paper))
        entries = session.scalar(select(func.count()).select_from(DailyEntry))
    engine.dispose()
    assert papers == len({row["arxiv_id"] for row in hf_rows})
    assert entries == sum(1 for row in hf_rows if row["featured_date"])


@pytest.mark.parametrize("content", [b"\x1f\x8b\x08\x00garbage", b"\xff\xfe\x00\x00"])
def test_corrupt_files_get_a_message_not_a_traceback(
    tmp_path: Path, database, settings: Settings, content: bytes
) -> None:
    path = tmp_path / "corrupt.jsonl.gz"
    path.write_bytes(content)
    result = load_file(database, path, settings.zone)
    assert result.error is not None or result.counts.rejected == 1
    assert stored(database) == {}


def test_rows_that_would_overflow_or_recurse_are_rejected_and_the_rest_loads(
    tmp_path: Path, database, settings: Settings
) -> None:
    good = corpus_rows(4)

    def snapshot(number: int, label: str = "v1", authors: str | None = None) -> dict[str, Any]:
        item = snapshot_item(dict(good[1], arxiv_id=f"2501.{number:05d}"))
        item["versions"][0]["version"] = label
        if authors is not None:
            item["authors"], item["authors_parsed"] = authors, [[authors, "", ""]]
        return item

    def nested(depth: int) -> str:
        return "{" * depth + "Ann" + "}" * depth

    hostile = [  # each with the reason it must be refused for
        (dict(good[1], arxiv_id="2501.00001v99999999999999999999999"), "versions go up to v9999"),
        (snapshot(2, "v²"), "'v²' is not a version like v2"),
        (snapshot(3, "v" + "9" * 5_000), "'v9999999999999999999' is not a version like v2"),
        (snapshot(4, "v0"), "version: '0' is not a version from 1 to 9999"),
        (snapshot(5, authors=nested(3_000)), "authors has an entry 6,003 characters long"),
        (snapshot(6, authors=nested(450)), "nests too deeply to read"),
        (dict(good[1], arxiv_id="2501.00007", upvotes=2**63), "from 0 to 2,147,483,647"),
        (dict(good[1], arxiv_id="2501.00008", featured_date="9999-12-31"), "out of range"),
        (dict(good[1], arxiv_id="2501.00009", categories=["x" * 33]), "33 characters long"),
        (dict(good[1], arxiv_id="２５０１.00010"), "not an arXiv id"),  # full-width digits
    ]
    rows = [good[0], *(row for row, _ in hostile), good[2], snapshot_item(good[3])]
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))

    result = load_file(database, path, settings.zone)
    assert result.error is None
    reasons = {line: reason for _, line, reason in result.counts.rejections}
    assert set(reasons) == set(range(2, 2 + len(hostile))), reasons
    for line, (_, expected) in enumerate(hostile, start=2):
        assert expected in reasons[line], (line, reasons[line])
    assert set(stored(database)) == {row["arxiv_id"] for row in (good[0], good[2], good[3])}
