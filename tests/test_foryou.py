"""For you over real HTTP and through its service: the picks' reasons come from the member's
own signals (a collection, follows), "not interested" removes a paper and teaches the model,
a cold start says so, a member with nothing yet is told how to start, the API's shape and
auth, the settings, privacy (export and deletion), and the refit off the request path.

The site holds the last 400 featured rows of the shared Hugging Face file; expectations come
from those papers (their window, authors, categories and keywords), never from fixed values.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from dailypapers.digests.topics import topic_rank, topic_stems
from dailypapers.foryou import service
from dailypapers.foryou.memo import ForYouMemo, window_of
from dailypapers.foryou.models import NotInterested, PaperChange
from dailypapers.foryou.signals import signals_of
from dailypapers.library.service import add_paper, create_collection
from dailypapers.members.accounts import create_member
from dailypapers.members.models import Member
from dailypapers.members.votes import set_vote
from dailypapers.papers.importing import load_file
from dailypapers.papers.models import DailyEntry, Paper

from .conftest import Community, LiveServer, free_port, make_settings, prepare_database
from .test_accounts import PASSWORD, csrf_of
from .test_library import token_for

ROWS = 400
SAVED = 4  # papers a member saves to teach For you


@dataclass
class ForYouSite:
    community: Community
    server: LiveServer

    @property
    def memo(self) -> ForYouMemo:
        return self.server.app.state.site.for_you_memo  # type: ignore[no-any-return]

    @property
    def factory(self) -> Any:
        return self.community.factory


@contextmanager
def for_you_site(tmp_path: Path, hf_rows: list[dict[str, Any]]) -> Iterator[ForYouSite]:
    port = free_port()
    settings = make_settings(tmp_path, base_url=f"http://127.0.0.1:{port}")
    engine, factory = prepare_database(settings)
    rows = sorted((r for r in hf_rows if r.get("featured_date")), key=lambda r: r["featured_date"])
    source = tmp_path / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows[-ROWS:]))
    load_file(factory, source, settings.zone)
    with LiveServer(settings, port=port) as server:
        ids = [r["arxiv_id"] for r in rows]
        community = Community(server.url, factory, None, ids, settings)  # type: ignore[arg-type]
        yield ForYouSite(community, server)
    engine.dispose()


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, hf_rows: list[dict[str, Any]]
) -> Iterator[ForYouSite]:
    with for_you_site(tmp_path_factory.mktemp("foryou"), hf_rows) as found:
        yield found


def window_papers(site: ForYouSite, days: int = 7) -> list[Paper]:
    """The papers of a member's default window, as the site holds them."""
    with site.factory() as session:
        start, end = window_of(session, days)
        papers = list(
            session.scalars(
                select(Paper)
                .join(DailyEntry, DailyEntry.paper_id == Paper.id)
                .where(DailyEntry.featured_date >= start, DailyEntry.featured_date <= end)
                .order_by(Paper.id)
            )
        )
        session.expunge_all()
    return papers


def older_papers(site: ForYouSite, days: int = 7) -> list[Paper]:
    """Papers featured before the window: what a member saved earlier."""
    with site.factory() as session:
        start, _ = window_of(session, days)
        papers = list(
            session.scalars(
                select(Paper)
                .join(DailyEntry, DailyEntry.paper_id == Paper.id)
                .where(DailyEntry.featured_date < start)
                .order_by(DailyEntry.featured_date.desc(), Paper.id)
            )
        )
        session.expunge_all()
    return papers


def member_id_of(site: ForYouSite, name: str) -> int:
    with site.factory() as session:
        found = session.scalar(select(Member.id).where(Member.username == name))
        assert found is not None
        return found


def new_member(site: ForYouSite, name: str) -> int:
    with site.factory() as session:
        member = create_member(session, name, f"{name}@example.org", PASSWORD)
        session.commit()
        return member.id


def save_papers(site: ForYouSite, member_id: int, name: str, papers: list[Paper]) -> int:
    with site.factory() as session:
        member = session.get(Member, member_id)
        assert member is not None
        collection = create_collection(session, member, name)
        for paper in papers:
            add_paper(session, collection, paper.id)
        session.commit()
        return collection.id


def follow(site: ForYouSite, member_id: int, kind: str, value: str) -> None:
    from dailypapers.follows.service import follow as follow_it

    with site.factory() as session:
        member = session.get(Member, member_id)
        assert member is not None
        follow_it(session, member, kind, value)
        session.commit()


def picks_for(site: ForYouSite, member_id: int, **options: Any) -> service.ForYou:
    with site.factory() as session:
        return service.for_you(session, site.memo, member_id, **options)


def picks_on_page(page: str) -> list[str]:
    """The arXiv ids of the page's picks, in order."""
    return re.findall(r'<div class="pick" data-arxiv-id="([^"]+)"', page)


def test_reasons_come_from_the_members_collection_and_follows(site: ForYouSite) -> None:
    member_id = new_member(site, "reasons")
    saved = older_papers(site)[:SAVED]
    collection_id = save_papers(site, member_id, "Saved for later", saved)
    candidates = window_papers(site)
    # An author of a candidate (one with a short name), a category and a keyword phrase.
    author = next(a for p in candidates for a in p.authors if 4 < len(a) < 40)
    by_author = {p.id for p in candidates if author in p.authors}
    keyword_paper = next(p for p in candidates if p.ai_keywords and author not in p.authors)
    topic = (keyword_paper.ai_keywords or [""])[0]
    wanted = topic_stems(topic)
    on_topic = {
        p.id for p in candidates if topic_rank(wanted, p.title, p.abstract, p.ai_keywords or ())
    }
    follow(site, member_id, "author", author)
    follow(site, member_id, "topic", topic)

    found = picks_for(site, member_id, limit=100)
    assert not found.cold_start and found.window == window_of_site(site)
    assert (f"collection:{collection_id}", "your collection Saved for later") in found.profiles
    picked = {pick.paper_id: pick for pick in found.picks}
    assert picked and not picked.keys() & {p.id for p in saved}  # saved papers never picked
    assert picked.keys() <= {p.id for p in candidates}
    saved_titles = {p.title for p in saved}
    likes = [r for pick in found.picks for r in pick.reasons if r.startswith("Like ")]
    assert likes, "no pick says which saved paper it is like"
    for reason in likes:
        title = re.fullmatch(r'Like "(.+)" in your collection Saved for later', reason)
        assert title and any(t.startswith(title.group(1).rstrip("…")) for t in saved_titles)
    for paper_id in by_author:
        assert f"By {author}, whom you follow" in picked[paper_id].reasons
    for paper_id in on_topic:
        assert f'Matches your topic "{topic}"' in picked[paper_id].reasons
    # Followed authors rise: each of their papers is in the first half.
    order = [pick.paper_id for pick in found.picks]
    assert all(order.index(paper_id) < len(order) / 2 for paper_id in by_author)
    # Every pick says why it is there.
    assert all(pick.reasons for pick in found.picks)

    with member_client_for(site, "reasons") as http:
        page = http.get("/for-you")
        assert page.status_code == 200
        assert "in your collection Saved for later" in page.text
        assert f"By {author}, whom you follow" in page.text
        assert picks_on_page(page.text)[0] == arxiv_of(site, found.picks[0].paper_id)
        one = http.get(f"/for-you?profile=collection:{collection_id}")
        assert one.status_code == 200 and 'aria-current="page">Saved for later' in one.text
        unknown = http.get("/for-you?profile=collection:999999")
        assert unknown.status_code == 400 and "is not one of your interests" in unknown.text


def window_of_site(site: ForYouSite, days: int = 7) -> tuple[Any, Any]:
    with site.factory() as session:
        return window_of(session, days)


def arxiv_of(site: ForYouSite, paper_id: int) -> str:
    with site.factory() as session:
        found = session.scalar(select(Paper.arxiv_id).where(Paper.id == paper_id))
        assert found is not None
        return found


@contextmanager
def member_client_for(site: ForYouSite, name: str) -> Iterator[httpx.Client]:
    """A logged-in client of an existing member."""
    from .test_accounts import log_in

    with httpx.Client(base_url=site.community.url, timeout=60) as http:
        assert log_in(http, name).status_code == 303
        yield http


def test_not_interested_removes_the_paper_and_teaches_the_model(site: ForYouSite) -> None:
    member_id = new_member(site, "dismisser")
    save_papers(site, member_id, "Reading list", older_papers(site)[:SAVED])
    with member_client_for(site, "dismisser") as http:
        page = http.get("/for-you").text
        shown = picks_on_page(page)
        first = shown[0]
        dismissed = http.post(
            "/for-you/not-interested",
            data={
                "csrf_token": csrf_of(page),
                "arxiv_id": first,
                "action": "dismiss",
                "next": "/for-you",
            },
        )
        assert dismissed.status_code == 303 and dismissed.headers["location"] == "/for-you"
        after = http.get("/for-you").text
        assert first not in picks_on_page(after)
        assert "in For you again" in after and 'name="action" value="undo"' in after
        # it stays gone, and the model learnt from it: once refitted, it knows the dismissal
        assert site.memo.wait(30)
        assert first not in picks_on_page(http.get("/for-you").text)
        with site.factory() as session:
            signals = signals_of(session, member_id)
            dismissed_id = session.scalar(select(Paper.id).where(Paper.arxiv_id == first))
        assert signals.dismissed == (dismissed_id,)
        kept = site.memo._fitted[member_id]
        assert kept.fingerprint == signals.fingerprint  # refitted with the dismissal
        # undo brings it back
        undone = http.post(
            "/for-you/not-interested",
            data={"csrf_token": csrf_of(after), "arxiv_id": first, "action": "undo"},
        )
        assert undone.status_code == 303
        assert site.memo.wait(30)  # the undo refits at once, off the request path
        assert picks_on_page(http.get("/for-you").text)[0] == first
        bad = http.post(
            "/for-you/not-interested",
            data={"csrf_token": csrf_of(after), "arxiv_id": "1501.00001", "action": "dismiss"},
        )
        assert bad.status_code == 404 and "No paper 1501.00001 here" in bad.text
        forged = http.post("/for-you/not-interested", data={"arxiv_id": first})
        assert forged.status_code == 403


def test_dismissing_pushes_similar_papers_down(site: ForYouSite) -> None:
    """The model's own score of the paper most like a dismissed one falls."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    member_id = new_member(site, "teacher")
    save_papers(site, member_id, "Reading list", older_papers(site)[:SAVED])
    candidates = window_papers(site)
    texts = [f"{p.title}\n{p.abstract or ''}" for p in candidates]
    matrix = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    similarity = (matrix @ matrix.T).toarray()
    for index in range(len(candidates)):
        similarity[index, index] = -1
    # the candidate pair most alike: dismiss one, watch the other
    gone, watched = divmod(int(similarity.argmax()), len(candidates))

    def score_of(paper_id: int) -> float:
        with site.factory() as session:
            signals = signals_of(session, member_id)
            pool = site.memo.pool(session, 7, wait=True)
            model = site.memo.model(session, member_id, signals, pool)
        return next(p.score for p in model.rank() if p.paper_id == paper_id)

    before = score_of(candidates[watched].id)
    with site.factory() as session:
        service.dismiss(session, member_id, candidates[gone].id)
        session.commit()
    score_of(candidates[watched].id)  # the stale model answers; the refit starts
    assert site.memo.wait(30)
    assert score_of(candidates[watched].id) < before
    found = picks_for(site, member_id, limit=100)
    assert candidates[gone].id not in {pick.paper_id for pick in found.picks}


def test_cold_start_ranks_by_follows_and_says_so(site: ForYouSite) -> None:
    member_id = new_member(site, "newcomer")
    with member_client_for(site, "newcomer") as http:
        empty = http.get("/for-you")
        assert empty.status_code == 200
        assert "Start your For you" in empty.text and picks_on_page(empty.text) == []
        assert 'href="/following"' in empty.text
    candidates = window_papers(site)
    categories = sorted({c for p in candidates for c in p.categories})
    category = max(categories, key=lambda c: sum(c in p.categories for p in candidates))
    follow(site, member_id, "category", category)
    found = picks_for(site, member_id, limit=100)
    assert found.cold_start and found.follows
    expected = {p.id for p in candidates if category in p.categories}
    assert {pick.paper_id for pick in found.picks} <= expected
    assert len(found.picks) == min(100, len(expected))
    assert all(f"In {category}, which you follow" in pick.reasons for pick in found.picks)
    with member_client_for(site, "newcomer") as http:
        page = http.get("/for-you").text
        assert "Ranked by what you follow alone" in page
        assert "Save or upvote papers to teach For you" in page
    # a category with no paper in the window: an empty list that says why, not an error
    absent = "astro-ph.EP" if "astro-ph.EP" not in categories else "nucl-th"
    other = new_member(site, "stargazer")
    follow(site, other, "category", absent)
    with member_client_for(site, "stargazer") as http:
        quiet = http.get("/for-you")
        assert quiet.status_code == 200 and "Nothing in these days matches" in quiet.text


def test_api_shape_auth_and_refusals(site: ForYouSite) -> None:
    member_id = new_member(site, "reader")
    saved = older_papers(site)[:SAVED]
    save_papers(site, member_id, "Reading list", saved)
    base = site.community.url
    community = site.community
    read = token_for(community, "reader", ["read"])
    vote = token_for(community, "reader", ["vote"])
    with httpx.Client(base_url=base, timeout=60) as http:
        assert http.get("/api/papers/for-you").status_code == 401
        page = http.get("/for-you", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/for-you"
        got = http.get("/api/papers/for-you?limit=5", headers={"Authorization": f"Bearer {read}"})
        assert got.status_code == 200, got.text
        start, end = window_of_site(site)
        assert got.headers["X-For-You-Window"] == f"{start.isoformat()}/{end.isoformat()}"
        assert got.headers["X-For-You-Cold-Start"] == "false"
        items = got.json()
        assert 1 <= len(items) <= 5
        for item in items:
            assert set(item) == {"paper", "score", "reasons", "profile"}
            assert item["paper"]["id"] and item["paper"]["title"]
            assert item["reasons"] and all(isinstance(r, str) for r in item["reasons"])
        scores = [item["score"] for item in items]
        assert scores == sorted(scores, reverse=True)
        assert http.get(
            "/api/papers/for-you", headers={"Authorization": f"Bearer {vote}"}
        ).status_code == 403  # fmt: skip
        first = items[0]["paper"]["id"]
        as_reader = {"Authorization": f"Bearer {read}"}
        as_voter = {"Authorization": f"Bearer {vote}"}
        assert (
            http.post(f"/api/papers/{first}/not-interested", headers=as_reader).status_code == 403
        )
        done = http.post(f"/api/papers/{first}/not-interested", headers=as_voter)
        assert done.status_code == 200 and done.json() == {"paperId": first, "notInterested": True}
        again = http.post(f"/api/papers/{first}/not-interested", headers=as_voter)
        assert again.status_code == 200  # idempotent
        ids = [i["paper"]["id"] for i in http.get("/api/papers/for-you", headers=as_reader).json()]
        assert first not in ids
        back = http.delete(f"/api/papers/{first}/not-interested", headers=as_voter)
        assert back.status_code == 200 and back.json()["notInterested"] is False
        assert site.memo.wait(30)  # refitted without the dismissal, off the request path
        ids = [i["paper"]["id"] for i in http.get("/api/papers/for-you", headers=as_reader).json()]
        assert first in ids
        refusals = {
            "/api/papers/for-you?profile=collection:0": 400,
            "/api/papers/for-you?limit=0": 422,
            "/api/papers/for-you?limit=101": 422,
        }
        for url, status in refusals.items():
            refused = http.get(url, headers=as_reader)
            assert refused.status_code == status and refused.json()["error"], url
        unknown = http.get("/api/papers/for-you?profile=collection:0", headers=as_reader)
        assert unknown.json()["error"].startswith("profile: 'collection:0' is not one of your")
        missing = http.post("/api/papers/1501.00001/not-interested", headers=as_voter)
        assert missing.status_code == 404 and missing.json()["error"]
        malformed = http.post("/api/papers/not-an-id/not-interested", headers=as_voter)
        assert malformed.status_code == 400 and "arxiv_id" in malformed.json()["error"]
        one = http.get("/api/papers/for-you?profile=upvotes", headers=as_reader)
        assert one.status_code == 400  # no upvotes yet: not one of this member's interests
    spec = httpx.get(f"{base}/openapi.json").json()
    assert "/api/papers/for-you" in spec["paths"]
    assert "/api/papers/{arxiv_id}/not-interested" in spec["paths"]


def test_settings_change_the_window_and_the_digest(site: ForYouSite) -> None:
    member_id = new_member(site, "settler")
    save_papers(site, member_id, "Reading list", older_papers(site)[:SAVED])
    with member_client_for(site, "settler") as http:
        token = csrf_of(http.get("/for-you").text)
        changed = http.post(
            "/for-you/settings", data={"csrf_token": token, "days": "3", "personal_digest": "true"}
        )
        assert changed.status_code == 303
        page = http.get("/for-you").text
        assert "looks back 3 days and opens your digest" in page
        start, end = window_of_site(site, 3)
        assert end - start == timedelta(days=2)
        assert {pick.paper_id for pick in picks_for(site, member_id, limit=100).picks} <= {
            p.id for p in window_papers(site, 3)
        }
        for days in ("0", "31", "seven", ""):
            refused = http.post("/for-you/settings", data={"csrf_token": token, "days": days})
            assert refused.status_code == 422 and "days: For you looks back 1 to 30" in refused.text
    with site.factory() as session:
        member = session.get(Member, member_id)
        assert member is not None and member.for_you_days == 3 and member.personal_digest


def test_download_my_data_and_deletion_include_not_interested(site: ForYouSite) -> None:
    member_id = new_member(site, "leaver")
    paper = window_papers(site)[0]
    with site.factory() as session:
        service.dismiss(session, member_id, paper.id)
        session.commit()
    with member_client_for(site, "leaver") as http:
        data = http.get("/settings/data.json").json()
        assert data["forYou"]["days"] == 7 and data["forYou"]["personalDigest"] is False
        assert [row["paper"] for row in data["forYou"]["notInterested"]] == [paper.arxiv_id]
        token = csrf_of(http.get("/settings").text)
        deleted = http.post(
            "/settings/delete", data={"csrf_token": token, "password": PASSWORD, "comments": "keep"}
        )
        assert deleted.status_code == 200
    with site.factory() as session:
        left = session.scalar(
            select(func.count())
            .select_from(NotInterested)
            .where(NotInterested.member_id == member_id)
        )
        assert left == 0


def test_the_refit_happens_off_the_request_path(site: ForYouSite) -> None:
    member_id = new_member(site, "voter")
    save_papers(site, member_id, "Reading list", older_papers(site)[:SAVED])
    memo = site.memo
    first = picks_for(site, member_id, limit=100)  # a first visit fits inline
    inline, background = memo.inline_fits, memo.background_fits
    voted = first.picks[0].paper_id
    with site.factory() as session:
        set_vote(session, member_id, voted, up=True)
        session.commit()
    stale = picks_for(site, member_id, limit=100)
    assert memo.inline_fits == inline  # the request did not fit: it used the stale model
    order = [pick.paper_id for pick in first.picks if pick.paper_id != voted]
    assert [pick.paper_id for pick in stale.picks][:50] == order[:50]
    assert memo.wait(30) and memo.background_fits == background + 1
    fresh = picks_for(site, member_id, limit=100)
    assert memo.inline_fits == inline
    assert ("upvotes", "your upvotes") in fresh.profiles
    assert voted not in {pick.paper_id for pick in fresh.picks}
    reasons = [r for pick in fresh.picks for r in pick.reasons]
    assert any(r.endswith(", which you upvoted") for r in reasons)
    only = picks_for(site, member_id, profile="upvotes", limit=10)
    assert only.picks and all(
        r.endswith(", which you upvoted") for pick in only.picks for r in pick.reasons
    )


def test_a_profile_newer_than_the_kept_model_is_fitted_at_once(site: ForYouSite) -> None:
    """A first upvote makes the "upvotes" profile; asked for before the refit, it is fitted
    then (the stale model does not know it), not refused."""
    member_id = new_member(site, "firstvote")
    save_papers(site, member_id, "Reading list", older_papers(site)[:SAVED])
    first = picks_for(site, member_id)
    with site.factory() as session:
        set_vote(session, member_id, first.picks[0].paper_id, up=True)
        session.commit()
    only = picks_for(site, member_id, profile="upvotes", limit=10)
    assert ("upvotes", "your upvotes") in only.profiles and only.picks
    assert all(pick.reasons[0].endswith(", which you upvoted") for pick in only.picks)
    assert site.memo.wait(30)


def test_changed_papers_of_the_members_collections_are_listed(site: ForYouSite) -> None:
    member_id = new_member(site, "watcher")
    kept = older_papers(site)[SAVED : SAVED + 2]
    save_papers(site, member_id, "Watched", kept)
    with site.factory() as session:
        session.add(PaperChange(paper_id=kept[0].id, kind="version", detail="v3"))
        session.add(PaperChange(paper_id=kept[1].id, kind="code", detail="https://github.com/x/y"))
        session.commit()
    with member_client_for(site, "watcher") as http:
        page = http.get("/for-you").text
    changed = page[
        page.index('id="changed-heading"') : page.index("</section>", page.index("changed-heading"))
    ]
    assert html.escape(kept[0].title) in changed and "new version v3" in changed
    assert html.escape(kept[1].title) in changed and 'href="https://github.com/x/y"' in changed
    assert changed.count("in your collection Watched") == 2
    new_member(site, "unwatched")
    with member_client_for(site, "unwatched") as http:  # another member's page has none
        assert 'id="changed-heading"' not in http.get("/for-you").text


def test_each_process_builds_the_candidates_before_any_visit(
    tmp_path: Path, hf_rows: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web processes' "for-you-pool" job builds the candidates of the windows members use,
    so a member's first visit only fits their model."""
    import threading

    from dailypapers.foryou import memo as memo_module
    from dailypapers.jobs.table import warm_for_you, web_jobs
    from dailypapers.site import Site

    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    rows = [r for r in hf_rows if r.get("featured_date")][-60:]
    source = tmp_path / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    load_file(factory, source, settings.zone)
    built: list[int] = []
    load_papers = memo_module.load_papers

    def counting(session: Any, ids: Any) -> Any:
        built.append(len(ids))
        return load_papers(session, ids)

    monkeypatch.setattr(memo_module, "load_papers", counting)
    with Site.open(settings) as site:
        assert "for-you-pool" in [job.name for job in web_jobs(site)]
        warm_for_you(site, threading.Event())
        assert built == []  # no member yet: nothing to build
        with site.sessions() as session:
            member = create_member(session, "early", "early@example.org", PASSWORD)
            member.for_you_days = 5
            session.commit()
            warm_for_you(site, threading.Event())
            assert len(built) == 1 and built[0] > 0
            window = window_of(session, 5)
            found = service.for_you(session, site.for_you_memo, member.id)
            assert found.window == window
        assert len(built) == 1  # the visit used the candidates the job built
    engine.dispose()


def test_a_digest_batch_ranks_as_the_page_and_leaves_out_what_was_sent(site: ForYouSite) -> None:
    """A digest run prepares its readers a batch at a time (signals read together, models
    fitted together): each reader gets the picks and reasons the page gives them, and papers
    already sent to them give way to the next best."""
    from types import SimpleNamespace

    from dailypapers.foryou.digest import PersonalDigest

    older = older_papers(site)
    members = [new_member(site, f"batch{i}") for i in range(3)]
    for i, member_id in enumerate(members):
        save_papers(site, member_id, "Interest", older[i * 7 : i * 7 + 7])
    follow(site, members[1], "category", older[7].primary_category or "cs.CL")
    pages = {member_id: picks_for(site, member_id, limit=10) for member_id in members}
    for member_id in members:
        site.memo.forget(member_id)

    digest = PersonalDigest(SimpleNamespace(for_you_memo=site.memo))  # type: ignore[arg-type]
    with site.factory() as session:
        batch_fits, inline_fits = site.memo.batch_fits, site.memo.inline_fits
        digest.prepare(session, members)
        assert site.memo.batch_fits == batch_fits + len(members)
        for member_id in members:
            notes = digest.for_you(session, member_id, None, (), 10)  # type: ignore[arg-type]
            page = pages[member_id].picks
            assert [n.paper_id for n in notes] == [p.paper_id for p in page]
            assert [n.note for n in notes] == [p.reasons[0] for p in page]
        assert site.memo.inline_fits == inline_fits  # the batch's models were used

        reader = members[0]
        sent = {pages[reader].picks[0].paper_id, pages[reader].picks[2].paper_id}
        notes = digest.for_you(session, reader, None, sent, 5)  # type: ignore[arg-type]
        expected = [p.paper_id for p in pages[reader].picks if p.paper_id not in sent][:5]
        assert [n.paper_id for n in notes] == expected
