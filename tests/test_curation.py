"""The curation and member-administration services on a real database: the rules that `/admin`
and `dailypapers users` / `dailypapers submit` share."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from dailypapers.backups import BackupFailed, back_up, find_pg_dump
from dailypapers.curation import featuring, moderation
from dailypapers.curation.models import CurationLogEntry
from dailypapers.curation.moderation import CurationRefused
from dailypapers.curation.submissions import SubmissionRules, submit
from dailypapers.harvest.models import Proposal
from dailypapers.members import admin
from dailypapers.members.accounts import create_member
from dailypapers.papers.models import DailyEntry, Paper

PASSWORD = "correct horse battery"
DAY = date(2026, 1, 5)


class NoArxiv:
    """Every paper these tests feature is already on the site: arXiv is never asked."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"arXiv was asked ({name})")


def _paper(session, arxiv_id: str, **values: object) -> Paper:  # type: ignore[no-untyped-def]
    paper = Paper(arxiv_id=arxiv_id, title=f"Paper {arxiv_id}", **values)
    session.add(paper)
    session.flush()
    return paper


def _log(session) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    entries = session.scalars(select(CurationLogEntry).order_by(CurationLogEntry.id))
    return [(entry.action, entry.target, entry.detail) for entry in entries]


def test_disabling_a_member_ends_their_sessions_whichever_way_it_is_done(database) -> None:  # type: ignore[no-untyped-def]
    with database() as session, session.begin():
        boss = admin.create_admin(session, "boss", "boss@example.org", PASSWORD)
        ada = create_member(session, "ada", "ada@example.org", PASSWORD)
        assert boss.is_admin and boss.confirmed and not ada.is_curator
        before = ada.session_version
        admin.set_disabled(admin.member_named(session, "ada"), True)  # `users disable ada`
        assert ada.disabled and ada.session_version == before + 1
        admin.set_disabled(ada, False)
        assert not ada.disabled and ada.session_version == before + 1
        moderation.change_member(session, boss, ada.id, "disable")  # /admin, logged
        assert ada.disabled and ada.session_version == before + 2
        moderation.change_member(session, boss, ada.id, "role", "curator")
        assert ada.role == "curator"
        with pytest.raises(CurationRefused, match="cannot change that member"):
            moderation.change_member(session, boss, boss.id, "disable")
        with pytest.raises(CurationRefused, match="Unknown change"):
            moderation.change_member(session, boss, ada.id, "role", "emperor")
        with pytest.raises(admin.MemberChangeRefused, match="role must be one of"):
            admin.set_role(ada, "emperor")
        with pytest.raises(admin.MemberChangeRefused, match="no member named 'nobody'"):
            admin.member_named(session, "nobody")
        assert [m.username for m in admin.all_members(session)] == ["boss", "ada"]
        assert [m.username for m in admin.newest_members(session, "ad")] == ["ada"]
        assert _log(session) == [("member disable", "ada", ""), ("member role", "ada", "curator")]


def test_featuring_and_accepting_proposals_follow_the_submission_rules(database) -> None:  # type: ignore[no-untyped-def]
    arxiv = NoArxiv()
    with database() as session, session.begin():
        curie = create_member(session, "curie", "curie@example.org", PASSWORD, "curator")
        listed = _paper(session, "2601.00001")
        hidden = _paper(session, "2601.00002", hidden=True)
        withdrawn = _paper(session, "2601.00003", withdrawn=True)
        proposed = _paper(session, "2601.00004")
        proposal = Proposal(paper_id=proposed.id, proposed_for=DAY, score=1.0)
        session.add(proposal)
        session.flush()

        done = featuring.feature(
            session, curie, "arXiv:2601.00001", DAY, arxiv=arxiv, api_url="unused"
        )
        assert (done.paper_id, done.featured_date, done.fetched) == (listed.id, DAY, False)
        entry = session.scalar(select(DailyEntry).where(DailyEntry.paper_id == listed.id))
        assert entry is not None and entry.submitted_by_id == curie.id
        for paper, reason in (
            (listed, "already on the list"),
            (hidden, "hidden by the curators"),
            (withdrawn, "withdrawn by its authors"),
        ):
            with pytest.raises(CurationRefused, match=reason):
                featuring.feature(
                    session, curie, paper.arxiv_id, DAY, arxiv=arxiv, api_url="unused"
                )

        decided = featuring.decide_proposal(
            session, curie, proposal.id, "accept", arxiv=arxiv, api_url="unused"
        )
        assert decided.accepted and proposal.status == "accepted"
        assert proposal.decided_by_id == curie.id
        with pytest.raises(CurationRefused, match="already decided"):
            featuring.decide_proposal(
                session, curie, proposal.id, "reject", arxiv=arxiv, api_url="unused"
            )

        removed = featuring.unfeature(session, curie, "2601.00001")
        assert removed.featured_date == DAY
        with pytest.raises(CurationRefused, match="is not on any list"):
            featuring.unfeature(session, curie, "2601.00001")
        moderation.set_paper_hidden(session, curie, "2601.00004", True)  # off its list too
        assert session.scalar(select(DailyEntry).where(DailyEntry.paper_id == proposed.id)) is None
        assert moderation.set_paper_hidden(session, curie, "2601.00004", False).hidden is False
        with pytest.raises(CurationRefused, match="No paper"):
            moderation.set_paper_hidden(session, curie, "not an id", True)
        assert [action for action, _, _ in _log(session)] == [
            "feature",
            "proposal-accept",
            "unfeature",
            "hide paper",
            "unhide paper",
        ]


def test_the_operator_submits_for_a_member_who_is_named_on_the_list(database) -> None:  # type: ignore[no-untyped-def]
    with database() as session, session.begin():
        lise = create_member(session, "lise", "lise@example.org", PASSWORD)
        paper = _paper(session, "2601.00005")
        done = submit(
            session,
            NoArxiv(),
            "unused",
            "2601.00005",
            member=None,
            submitter=lise,  # type: ignore[arg-type]
            today=DAY,
            rules=SubmissionRules(0, 0),
        )
        entry = session.scalar(select(DailyEntry).where(DailyEntry.paper_id == paper.id))
        assert done.paper_id == paper.id and entry is not None
        assert (entry.submitted_by_id, entry.submitter_name) == (lise.id, "lise")


def test_a_backup_never_overwrites_and_pg_dump_is_found_without_private_modules(
    tmp_path: Path,
) -> None:
    existing = tmp_path / "backup.db"
    existing.write_text("keep me")
    with pytest.raises(BackupFailed, match="already exists"):
        back_up(f"sqlite:///{tmp_path / 'site.db'}", existing)
    with pytest.raises(BackupFailed, match="no database at"):
        back_up(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "new.db")
    program = find_pg_dump()
    assert program is None or Path(program).name == "pg_dump"
