"""The arXiv harvest against recorded reality: OAI-PMH pages replayed from a local HTTP server
(real arXiv responses from ../shared/fixtures/arxiv), with scripted failures in between."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from dailypapers.arxiv.oai import set_spec
from dailypapers.harvest.calendar import (
    is_announcement_day,
    latest_announcement,
    quiet_reason,
    thanksgiving,
)
from dailypapers.harvest.codelinks import find_code_link
from dailypapers.harvest.job import harvest_arxiv
from dailypapers.harvest.metadata import split_authors
from dailypapers.harvest.models import HarvestCursor, HarvestRun, PaperVersion
from dailypapers.papers.models import Paper
from dailypapers.settings import Settings

from .arxiv_replay import (
    OAI_503,
    OAI_NO_RECORDS,
    OAI_PAGE_1,
    OAI_PAGE_1_TOKEN,
    Answer,
    ArxivReplay,
    oai_page_2,
)
from .conftest import SHARED_DIR, make_settings, prepare_database, rows_of
from .conftest import cli_env as site_env

FIXTURES = SHARED_DIR / "fixtures" / "arxiv"
PAGE_1_IDS = {"0704.0471", "0704.0716", "0704.0874", "0704.1109", "0704.1114", "0704.1586"}
ALL_IDS = PAGE_1_IDS | {"1302.2146"}
TODAY = date(2015, 1, 6)  # the day the recorded pages were served


@pytest.fixture
def site(tmp_path: Path, arxiv_replay: ArxivReplay) -> Any:
    settings = make_settings(
        tmp_path, arxiv_oai_url=arxiv_replay.oai_url, arxiv_request_interval=0,
        dense_search=False, harvest_categories="nucl-th", harvest_proposals=0,
    )  # fmt: skip
    engine, factory = prepare_database(settings)
    yield settings, factory
    engine.dispose()


def harvest(site: Any, **options: Any) -> Any:
    settings, factory = site
    return harvest_arxiv(factory, settings, today=options.pop("today", TODAY), **options)


def papers(factory: Any) -> dict[str, Paper]:
    with factory() as session:
        return {p.arxiv_id: p for p in session.scalars(select(Paper))}


def page_1() -> str:
    return (FIXTURES / OAI_PAGE_1).read_text()


def test_a_run_follows_the_token_and_stores_every_paper_once_at_its_newest_version(
    site: Any, arxiv_replay: ArxivReplay
) -> None:
    outcome = harvest(site, from_date=date(2014, 10, 1))
    assert outcome.report.ok and outcome.report.counts.new == len(ALL_IDS)
    first, second = arxiv_replay.requests
    assert first.query == {"verb": ["ListRecords"], "metadataPrefix": ["arXivRaw"],
                           "set": ["physics:nucl-th"], "from": ["2014-10-01"],
                           "until": [TODAY.isoformat()]}  # fmt: skip
    assert second.query == {"verb": ["ListRecords"], "resumptionToken": [OAI_PAGE_1_TOKEN]}
    stored = papers(site[1])
    assert set(stored) == ALL_IDS
    limit = stored["0704.0716"]
    assert limit.version == 4 and limit.title == "Limit distributions and scaling functions"
    assert limit.published_date == date(2007, 4, 5)  # the first version's date
    assert stored["0704.0471"].authors == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    assert stored["1302.2146"].categories == ["hep-ph", "hep-ex"]
    with site[1]() as session:
        versions = session.execute(
            select(PaperVersion.version, PaperVersion.submitted_at, PaperVersion.size)
            .join(Paper, Paper.id == PaperVersion.paper_id)
            .where(Paper.arxiv_id == "0704.0716")
            .order_by(PaperVersion.version)
        ).all()
        cursor = session.scalars(select(HarvestCursor)).one()
        run = session.scalars(select(HarvestRun)).one()
    assert [v[0] for v in versions] == [1, 2, 3, 4]
    assert versions[3][1] == datetime(2008, 11, 14, 9, 7, 25, tzinfo=UTC)
    assert versions[0][2] == "43kb"
    assert cursor.harvested_through == TODAY and cursor.resumption_token is None
    assert (run.status, run.new) == ("done", len(ALL_IDS))

    # The next run starts where this one ended, and finds nothing new.
    again = harvest(site, today=date(2015, 1, 7))
    assert arxiv_replay.requests[2].query["from"] == [TODAY.isoformat()]
    assert again.report.counts.new == 0 and again.report.counts.unchanged == len(ALL_IDS)
    with site[1]() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == len(ALL_IDS)
        assert session.scalar(select(func.count()).select_from(PaperVersion)) == 14  # 12 + 2


def test_cross_listed_papers_are_stored_once_with_all_their_categories(
    site: Any, arxiv_replay: ArxivReplay
) -> None:
    outcome = harvest(site, categories=["nucl-th", "nucl-ex"], from_date=date(2014, 10, 1))
    assert [r.set_spec for r in outcome.report.sets] == ["physics:nucl-th", "physics:nucl-ex"]
    assert outcome.report.counts.new == len(ALL_IDS)
    assert outcome.report.sets[1].counts.unchanged == len(ALL_IDS)
    assert papers(site[1])["0704.0471"].categories == ["nucl-ex", "nucl-th"]


def test_503_retry_after_is_honoured(site: Any, arxiv_replay: ArxivReplay) -> None:
    busy = (FIXTURES / OAI_503).read_bytes()  # recorded with Retry-After: 10; 1 s keeps it quick
    arxiv_replay.oai_script = [Answer(503, busy, "text/html", {"Retry-After": "1"})]
    outcome = harvest(site)
    assert outcome.report.ok and set(papers(site[1])) == ALL_IDS
    asked, again = arxiv_replay.requests[:2]
    assert again.at - asked.at >= 1.0 and again.query == asked.query


def test_a_server_error_mid_way_keeps_page_one_and_the_next_run_resumes_at_page_two(
    site: Any, arxiv_replay: ArxivReplay
) -> None:
    arxiv_replay.oai_script = [Answer(200, page_1().encode()), Answer(500, b"oops", "text/plain")]
    failed = harvest(site)
    assert not failed.report.ok and "500" in failed.report.sets[0].message
    assert set(papers(site[1])) == PAGE_1_IDS
    with site[1]() as session:
        assert session.scalars(select(HarvestCursor)).one().resumption_token == OAI_PAGE_1_TOKEN
        assert session.scalars(select(HarvestRun.status)).one() == "failed"
    resumed = harvest(site)
    assert resumed.report.ok
    assert arxiv_replay.requests[2].query == {"verb": ["ListRecords"],
                                             "resumptionToken": [OAI_PAGE_1_TOKEN]}  # fmt: skip
    assert set(papers(site[1])) == ALL_IDS


def test_an_expired_token_starts_the_window_again(site: Any, arxiv_replay: ArxivReplay) -> None:
    settings, factory = site
    with factory() as session, session.begin():
        cursor = HarvestCursor(set_spec="physics:nucl-th", window_from=date(2014, 10, 1),
                               window_until=TODAY, resumption_token="3", pages_done=1)  # fmt: skip
        session.add(cursor)
    outcome = harvest(site)
    assert outcome.report.ok and set(papers(factory)) == ALL_IDS
    tokens = [r.query.get("resumptionToken", [None])[0] for r in arxiv_replay.requests]
    assert tokens == ["3", None, OAI_PAGE_1_TOKEN]
    assert arxiv_replay.requests[1].query["from"] == ["2014-10-01"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(200, (FIXTURES / OAI_503).read_bytes(), "text/html"), "web page instead"),
        (Answer(200, (FIXTURES / OAI_PAGE_1).read_bytes()[:3000]), "not well-formed XML"),
        (Answer(200, (FIXTURES / OAI_PAGE_1).read_bytes(), reset_after=2000), "not be reached"),
        (Answer(200, b'<?xml version="1.0"?><feed/>'), "not OAI-PMH"),
    ],
    ids=["html", "truncated", "connection-reset", "not-oai"],
)
def test_broken_answers_fail_clearly_store_nothing_and_the_next_run_recovers(
    site: Any, arxiv_replay: ArxivReplay, answer: Answer, message: str
) -> None:
    arxiv_replay.oai_script = [answer]
    failed = harvest(site)
    assert not failed.report.ok and message in failed.report.sets[0].message
    assert papers(site[1]) == {}
    assert harvest(site).report.ok and set(papers(site[1])) == ALL_IDS


def test_malformed_records_are_skipped_with_a_reason_and_the_rest_is_stored(
    site: Any, arxiv_replay: ArxivReplay
) -> None:
    text = page_1()
    text = text.replace("<title>Limit distributions and scaling functions</title>", "")
    text = text.replace("<date>Tue, 3 Apr 2007 22:04:11 GMT</date>", "<date>yesterday</date>")
    text = text.replace("<id>0704.0874</id>", "<id>07O4.0874</id>")
    arxiv_replay.oai_page_1 = text.encode()
    outcome = harvest(site)
    reasons = " | ".join(reason for _, _, reason in outcome.report.counts.rejections)
    assert outcome.report.ok and outcome.report.counts.rejected == 3
    assert "0704.0716: the title is missing" in reasons
    assert "0704.0471: version v1 has a bad date 'yesterday'" in reasons
    assert "0704.0874" in reasons and "07O4.0874" in reasons
    assert set(papers(site[1])) == ALL_IDS - {"0704.0716", "0704.0471", "0704.0874"}


def test_code_links_are_found_withdrawn_papers_marked_and_a_members_link_wins(
    site: Any, arxiv_replay: ArxivReplay
) -> None:
    # Real texts: the MEGAHIT abstract's repository and the withdrawal comment of 1408.0570
    # (both from the recorded 897-record oai_dc answer), put into two records of page 1.
    text = page_1().replace(
        "implications for astrophysical and nuclear physics studies.",
        "implications for astrophysical and nuclear physics studies. MEGAHIT is available at\n"
        "https://github.com/voutcn/megahit.",
    )
    text = text.replace("<comments>5 pages, 4 figures, submitted to Phys. Rev. C</comments>",
                        "<comments>This paper has been withdrawn by the author due to a crucial"
                        " error in the proof</comments>")  # fmt: skip
    arxiv_replay.oai_page_1 = text.encode()
    harvest(site)
    stored = papers(site[1])
    assert stored["0704.0471"].github_url == "https://github.com/voutcn/megahit"
    assert stored["0704.0471"].github_url_source == "auto"
    assert stored["0704.1586"].withdrawn and not stored["0704.0716"].withdrawn
    with site[1]() as session, session.begin():
        paper = session.scalars(select(Paper).where(Paper.arxiv_id == "0704.0471")).one()
        paper.github_url, paper.github_url_source = "https://github.com/a/person", "member"
    harvest(site, from_date=date(2014, 10, 1))
    assert papers(site[1])["0704.0471"].github_url == "https://github.com/a/person"


def test_the_newer_oai_service_and_its_arxiv_format_are_read(
    site: Any, arxiv_replay: ArxivReplay
) -> None:
    name = "oai_new_listrecords_arxiv_set_plasm-ph_2026-01-05_complete_3_records.xml"
    arxiv_replay.oai_page_1 = (FIXTURES / name).read_bytes()
    outcome = harvest(site, today=date(2026, 1, 5))
    assert outcome.report.ok and outcome.report.counts.new == 3
    ions = papers(site[1])["2504.11237"]
    assert ions.authors == ["Chunhai Lyu", "Christoph H. Keitel", "Zoltán Harman"]
    assert ions.published_date == date(2025, 4, 15)
    assert "Mendeleev's periodic table" in (ions.abstract or "")
    assert len(arxiv_replay.requests) == 1  # no token: a complete list


def test_a_weekend_without_news_is_reported_as_such_by_the_cli(
    tmp_path: Path, arxiv_replay: ArxivReplay
) -> None:
    arxiv_replay.oai_script = [Answer(200, (FIXTURES / OAI_NO_RECORDS).read_bytes())]
    done = run_cli(tmp_path, arxiv_replay, "harvest", "--from", "2026-11-28", "--until",
                   "2026-11-28")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "no new papers" in done.stderr and "2026-11-27 was a Friday" in done.stderr


def cli_env(data_dir: Path, replay: ArxivReplay, **extra: str) -> dict[str, str]:
    return site_env(data_dir, DAILYPAPERS_ARXIV_OAI_URL=replay.oai_url,
                    DAILYPAPERS_ARXIV_REQUEST_INTERVAL="0", DAILYPAPERS_DENSE_SEARCH="false",
                    DAILYPAPERS_HARVEST_CATEGORIES="nucl-th", **extra)  # fmt: skip


def run_cli(data_dir: Path, replay: ArxivReplay, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dailypapers", *args], capture_output=True,
                          text=True, timeout=120, env=cli_env(data_dir, replay))  # fmt: skip


def test_killing_the_harvest_and_running_it_again_ends_with_every_paper_once(
    tmp_path: Path, arxiv_replay: ArxivReplay
) -> None:
    # Page 2 takes a minute the first time: the run is killed while waiting for it.
    arxiv_replay.oai_script = [Answer(200, page_1().encode()),
                               Answer(200, oai_page_2(FIXTURES), delay=60)]  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "dailypapers", "harvest"],
                               env=cli_env(tmp_path, arxiv_replay), start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(arxiv_replay.requests) < 2:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert rows_of(tmp_path, "SELECT count(*) FROM papers") == [(len(PAGE_1_IDS),)]
    done = run_cli(tmp_path, arxiv_replay, "harvest")
    assert done.returncode == 0, done.stderr
    assert arxiv_replay.requests[2].query["resumptionToken"] == [OAI_PAGE_1_TOKEN]
    ids = [row[0] for row in rows_of(tmp_path, "SELECT arxiv_id FROM papers")]
    assert sorted(ids) == sorted(ALL_IDS)
    assert rows_of(tmp_path, "SELECT count(*) FROM paper_versions") == [(14,)]
    assert "1 new" in done.stderr and "done" in done.stderr


def test_the_cli_refuses_bad_input_with_usage_errors(
    tmp_path: Path, arxiv_replay: ArxivReplay
) -> None:
    for args, message in [
        (["--from", "2026-13-01"], "not a date"),
        (["--from", "2026-11-01", "--until", "9999-12-31"], "out of range"),
        (["--from", "2026-11-10", "--until", "2026-11-01"], "after --until"),
        (["--category", "cs LG"], "not an arXiv category"),
        (["2026-11-01"], "only taken with --from-hf"),
        (["--from-hf"], "give at least one day"),
    ]:
        done = run_cli(tmp_path, arxiv_replay, "harvest", *args)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert arxiv_replay.requests == []


def test_set_specs_and_author_lists() -> None:
    assert [set_spec(c) for c in ("cs.LG", "stat.ML", "hep-th", "astro-ph.GA", "cs:cs:AI")] == [
        "cs:cs:LG", "stat:stat:ML", "physics:hep-th", "physics:astro-ph:GA", "cs:cs:AI"
    ]  # fmt: skip
    assert split_authors("A. One, B. Two (Univ. X, and Y), and C. Three") == [
        "A. One", "B. Two", "C. Three"
    ]  # fmt: skip
    assert find_code_link("see https://github.com/orgs/x and https://GitHub.com/a/b.git.") == (
        "https://github.com/a/b"
    )
    assert find_code_link("code: https://gitlab.com/group/tool)") == "https://gitlab.com/group/tool"
    assert find_code_link("https://github.com/only-a-user") is None


def test_arxivs_calendar() -> None:
    assert thanksgiving(2026) == date(2026, 11, 26)
    assert [is_announcement_day(date(2026, 11, d)) for d in range(22, 29)] == [
        True, True, True, True, False, False, False  # Sun..Sat; Thursday is Thanksgiving
    ]  # fmt: skip
    assert not is_announcement_day(date(2026, 12, 3), extra_holidays=(date(2026, 12, 3),))
    # Saturday noon UTC: the latest announcement was Wednesday evening (Thanksgiving week).
    latest = latest_announcement(datetime(2026, 11, 28, 12, tzinfo=UTC))
    assert latest.isoformat() == "2026-11-25T20:00:00-05:00"
    # Monday 00:30 UTC is Sunday 19:30 in New York: not announced yet.
    assert latest_announcement(datetime(2026, 11, 30, 0, 30, tzinfo=UTC)).day == 25
    assert latest_announcement(datetime(2026, 11, 30, 1, 30, tzinfo=UTC)).day == 29
    assert quiet_reason(date(2026, 11, 24), date(2026, 11, 24)) is None
    reason = quiet_reason(date(2026, 11, 27), date(2026, 11, 29)) or ""
    assert "2026-11-26 is an arXiv holiday" in reason and "2026-11-28 was a Saturday" in reason


def test_settings_refuse_bad_categories_and_holidays(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an arXiv category"):
        make_settings(tmp_path, harvest_categories="cs.LG,<script>")
    with pytest.raises(ValueError, match="not a date"):
        make_settings(tmp_path, arxiv_holidays="2026-12-24,tomorrow")
    assert isinstance(make_settings(tmp_path, arxiv_holidays="2026-12-24"), Settings)


def test_proposals_are_ranked_by_the_communitys_taste_and_accepted_in_admin(
    tmp_path: Path, hf_rows: list[dict[str, Any]], mail_sink: Any, arxiv_replay: ArxivReplay
) -> None:
    from dailypapers.harvest.models import Proposal
    from dailypapers.members.accounts import create_member
    from dailypapers.search.embedder import Embedder
    from dailypapers.search.indexing import index_papers

    from .conftest import running_community
    from .test_accounts import PASSWORD, csrf_of, log_in

    with running_community(tmp_path, hf_rows, mail_sink, arxiv_replay,
                           arxiv_oai_url=arxiv_replay.oai_url, harvest_categories="nucl-th",
                           harvest_proposals=3) as site:  # fmt: skip
        embedder = Embedder.load()
        index_papers(site.factory, embedder)  # the featured papers: the community's taste
        today = datetime.now(site.settings.zone).date()
        outcome = harvest_arxiv(site.factory, site.settings, today=today, embedder=embedder)
        assert outcome.embedded == len(ALL_IDS) and outcome.proposed == 3
        health = httpx.get(f"{site.url}/healthz").json()["last_harvest"]
        assert (health["status"], health["new"]) == ("done", len(ALL_IDS))
        with site.factory() as session:
            proposed = session.execute(
                select(Proposal, Paper.arxiv_id).join(Paper).order_by(Proposal.score.desc())
            ).all()
            create_member(session, "curie", "curie@example.org", PASSWORD, "curator")
            create_member(session, "ada", "ada@example.org", PASSWORD)
            session.commit()
        assert {arxiv_id for _, arxiv_id in proposed} <= ALL_IDS
        assert all("close to what this community upvotes" in p.reason for p, _ in proposed)
        assert all(p.proposed_for == today and p.status == "proposed" for p, _ in proposed)
        (best, best_id), (second, second_id) = proposed[0], proposed[1]

        with httpx.Client(base_url=site.url) as curie, httpx.Client(base_url=site.url) as ada:
            log_in(ada, "ada")
            token = csrf_of(ada.get("/").text)
            assert ada.post(f"/admin/proposals/{best.id}/accept",
                            data={"csrf_token": token}).status_code == 403  # fmt: skip
            log_in(curie, "curie")
            page = curie.get("/admin")
            assert page.status_code == 200 and "Proposed for the daily list" in page.text
            assert f"/papers/{best_id}" in page.text
            versions = curie.get("/papers/0704.0716").text  # the version history is shown
            assert "v1</a> (Apr 5, 2007)" in versions and "v4</a> (Nov 14, 2008)" in versions
            token = csrf_of(page.text)
            assert curie.post(f"/admin/proposals/{best.id}/accept").status_code == 403  # no CSRF
            accepted = curie.post(f"/admin/proposals/{best.id}/accept", data={"csrf_token": token})
            assert accepted.status_code == 303
            curie.post(f"/admin/proposals/{second.id}/reject", data={"csrf_token": token})
            again = curie.post(f"/admin/proposals/{best.id}/accept", data={"csrf_token": token},
                               follow_redirects=True)  # fmt: skip
            assert "already decided" in again.text
        day = httpx.get(f"{site.url}/api/daily_papers", params={"date": today.isoformat()}).json()
        listed = {item["paper"]["id"]: item for item in day}
        assert best_id in listed and second_id not in listed
        assert listed[best_id]["submittedBy"]["name"] == "curie"
        with site.factory() as session:
            states = dict(session.execute(select(Proposal.id, Proposal.status)).all())
        assert states[best.id] == "accepted" and states[second.id] == "rejected"


def test_hugging_face_days_are_imported_from_its_api(
    tmp_path: Path, hf_rows: list[dict[str, Any]], arxiv_replay: ArxivReplay
) -> None:
    """--from-hf reads a local server that answers like HF's /api/daily_papers?date=."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from .test_load import hf_api_item

    day = max(r["featured_date"] for r in hf_rows if r["featured_date"])
    rows = [r for r in hf_rows if r["featured_date"] == day and r["abstract"] and r["published"]]
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            asked.append(self.path)
            if f"date={day}" in self.path:
                body, status = json.dumps([hf_api_item(r) for r in rows]).encode(), 200
            else:
                body, status = b"<html>rate limited</html>", 429
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hf_url = f"http://127.0.0.1:{server.server_port}/api/daily_papers"
    env = cli_env(tmp_path, arxiv_replay, DAILYPAPERS_HF_DAILY_PAPERS_URL=hf_url)
    try:
        done = subprocess.run([sys.executable, "-m", "dailypapers", "harvest", "--from-hf", day],
                              capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"{day}: {len(rows)} new" in done.stderr
        refused = subprocess.run(
            [sys.executable, "-m", "dailypapers", "harvest", "--from-hf", "2023-01-02"],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert refused.returncode == 1 and "answered 429 for 2023-01-02" in refused.stderr
    finally:
        server.shutdown()
    joined = "SELECT p.arxiv_id FROM papers p JOIN daily_entries d ON d.paper_id = p.id"
    listed = {r[0] for r in rows_of(tmp_path, joined)}
    assert listed == {r["arxiv_id"] for r in rows}
    assert asked[0] == f"/api/daily_papers?date={day}"


def test_the_scheduler_harvests_once_after_each_announcement(site: Any) -> None:
    from dailypapers.harvest.scheduler import HarvestScheduler

    settings, factory = site
    scheduler = HarvestScheduler(factory, settings)
    wednesday_evening = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 20:00 New York, +60 min
    assert scheduler.run_once(datetime(2026, 11, 26, 0, 30, tzinfo=UTC)) is not None  # Tuesday's
    assert scheduler.run_once(datetime(2026, 11, 26, 0, 40, tzinfo=UTC)) is None
    assert scheduler.run_once(wednesday_evening) is None  # 45 minutes have not passed yet
    outcome = scheduler.run_once(datetime(2026, 11, 26, 1, 50, tzinfo=UTC))
    assert outcome is not None and outcome.report.ok
    # Thanksgiving, Friday and Saturday announce nothing: no harvest until Sunday evening.
    for hour in range(2, 90, 6):
        assert scheduler.run_once(datetime(2026, 11, 26, 1, 50, tzinfo=UTC).replace(
            day=26 + hour // 24, hour=hour % 24)) is None  # fmt: skip
    assert scheduler.run_once(datetime(2026, 11, 30, 1, 50, tzinfo=UTC)) is not None
