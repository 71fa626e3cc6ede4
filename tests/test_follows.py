"""Following over real HTTP: authors, categories, topics and other members' public collections,
followed from the pages' forms (no JavaScript) and the JSON API, listed and unfollowed at
/following; values checked, a private or own collection refused, at most 500 follows, both
idempotent, and CSRF and scopes enforced.

Expectations come from the papers the small community site holds (the last 20 featured rows
of the shared Hugging Face file)."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from alembic import command
from sqlalchemy import func, inspect, select

from dailypapers.database import alembic_config, utcnow
from dailypapers.display.filters import author_url, category_url
from dailypapers.follows import service
from dailypapers.follows.buttons import Following
from dailypapers.follows.models import Follow
from dailypapers.members.accounts import create_member
from dailypapers.members.models import Member
from dailypapers.papers.models import Paper

from .conftest import Community, MailSink, running_community
from .test_accounts import PASSWORD, csrf_of
from .test_library import make_collection, member_client, token_for


@pytest.fixture
def site(
    tmp_path: Path, hf_rows: list[dict[str, Any]], mail_sink: MailSink, arxiv_replay: Any
) -> Iterator[Community]:
    with running_community(tmp_path, hf_rows, mail_sink, arxiv_replay) as community:
        yield community


def papers_of(site: Community) -> list[Paper]:
    with site.factory() as session:
        papers = list(session.scalars(select(Paper).order_by(Paper.arxiv_id)))
        session.expunge_all()
    return papers


def busiest_author(site: Community) -> str:
    """The author with the most papers on the site (the first by name among equals)."""
    counts = Counter(name for paper in papers_of(site) for name in paper.authors or ())
    return min(counts, key=lambda name: (-counts[name], name))


def a_category(site: Community) -> str:
    return sorted({c for paper in papers_of(site) for c in paper.categories or ()})[0]


def follows_in_db(site: Community, name: str) -> set[tuple[str, str]]:
    with site.factory() as session:
        member_id = session.scalar(select(Member.id).where(Member.username == name))
        assert member_id is not None
        return service.followed_keys(session, member_id)


def follow_form(
    http: httpx.Client, page: str, kind: str, value: str, action: str = "follow"
) -> httpx.Response:
    return http.post(
        "/following",
        data={
            "csrf_token": csrf_of(http.get(page).text),
            "kind": kind,
            "value": value,
            "action": action,
            "next": page,
        },
    )


def button_state(page_html: str, kind: str, value: str) -> str:
    """aria-pressed of the page's follow button for (kind, value)."""
    forms = re.findall(r'<form class="follow-form".*?</form>', page_html, flags=re.S)
    for form in forms:
        if (
            f'name="kind" value="{kind}"' in form
            and f'name="value" value="{html.escape(value)}"' in form
        ):
            found = re.search(r'aria-pressed="(true|false)"', form)
            assert found
            return found.group(1)
    raise AssertionError(f"no follow button for {kind} {value!r}")


def test_following_from_the_pages_without_javascript(site: Community) -> None:
    author = busiest_author(site)
    category = a_category(site)
    paper = next(p for p in papers_of(site) if author in (p.authors or ()))
    author_page, category_page = author_url(author), category_url(category)
    with member_client(site, "ada") as ada:
        assert button_state(ada.get(author_page).text, "author", author) == "false"
        followed = follow_form(ada, author_page, "author", author)
        assert followed.status_code == 303 and followed.headers["location"] == author_page
        page = ada.get(author_page).text
        assert button_state(page, "author", author) == "true" and ">Following<" in page
        # the paper's page knows it too, for every author it lists
        paper_page = ada.get(f"/papers/{paper.arxiv_id}").text
        assert button_state(paper_page, "author", author) == "true"
        others = [name for name in paper.authors if name != author and len(name) <= 200][:3]
        for other in others:
            assert button_state(paper_page, "author", other) == "false"

        assert follow_form(ada, category_page, "category", category).status_code == 303
        assert button_state(ada.get(category_page).text, "category", category) == "true"
        topic = paper.title.split()[0] + " " + paper.title.split()[1]
        search = f"/papers?q={quote(topic)}"
        assert button_state(ada.get(search).text, "topic", topic) == "false"
        assert follow_form(ada, search, "topic", f"  {topic}  ").status_code == 303
        assert button_state(ada.get(search).text, "topic", topic) == "true"
        assert follows_in_db(site, "ada") == {
            ("author", author),
            ("category", category),
            ("topic", topic),
        }

        listing = ada.get("/following")
        assert listing.status_code == 200
        text = listing.text
        assert f'href="{html.escape(author_page)}"' in text
        assert f'href="{category_page}"' in text
        assert f'href="{html.escape("/papers?q=" + quote_plus(topic))}"' in text
        # grouped: authors, then categories, then topics
        assert text.index(">Authors") < text.index(">Categories") < text.index(">Topics")
        assert button_state(text, "author", author) == "true" and ">Unfollow<" in text

        unfollowed = follow_form(ada, "/following", "author", author, action="unfollow")
        assert unfollowed.status_code == 303 and unfollowed.headers["location"] == "/following"
        text = ada.get("/following").text
        assert f"Unfollowed {author}." in text and f'href="{html.escape(author_page)}"' not in text
        assert button_state(ada.get(author_page).text, "author", author) == "false"
        # following twice, or unfollowing what is not followed, changes nothing
        follow_form(ada, category_page, "category", category)
        follow_form(ada, author_page, "author", author, action="unfollow")
        assert follows_in_db(site, "ada") == {("category", category), ("topic", topic)}

    anonymous = httpx.get(site.url + author_page).text
    assert "follow-form" not in anonymous
    assert f'href="/login?next={quote("/authors/" + author)}"' in anonymous
    signed_out = httpx.get(f"{site.url}/following", follow_redirects=False)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/login?next=/following"


def test_forms_need_csrf_and_say_what_is_wrong(site: Community) -> None:
    author = busiest_author(site)
    with member_client(site, "bea") as bea:
        forged = bea.post("/following", data={"kind": "author", "value": author})
        assert forged.status_code == 403
        wrong = bea.post(
            "/following", data={"csrf_token": "nope", "kind": "author", "value": author}
        )
        assert wrong.status_code == 403
        bad = follow_form(bea, "/following", "category", "not a category")
        assert bad.status_code == 422 and "is not an arXiv category" in bad.text
        unknown = follow_form(bea, "/following", "institution", "MIT")
        assert unknown.status_code == 422 and "cannot be followed" in unknown.text
        missing = follow_form(bea, "/following", "collection", "999999")
        assert missing.status_code == 404 and "no public collection" in missing.text
        assert follows_in_db(site, "bea") == set()
        # the form on /following follows what is typed there
        made = follow_form(bea, "/following", "topic", "diffusion   models")
        assert made.status_code == 303
        assert "Following diffusion models." in bea.get("/following").text
        assert follows_in_db(site, "bea") == {("topic", "diffusion models")}


def test_the_api_round_trip(site: Community) -> None:
    author = busiest_author(site)
    category = a_category(site)
    auth = {"Authorization": f"Bearer {token_for(site, 'cai')}"}
    with httpx.Client(base_url=site.url, headers=auth) as api:
        assert api.get("/api/following").json() == []
        first = api.put("/api/following", json={"kind": "author", "value": f" {author} "})
        assert first.status_code == 200, first.text
        assert first.json() == {
            "kind": "author",
            "value": author,
            "following": True,
            "numFollows": 1,
        }
        again = api.put("/api/following", json={"kind": "author", "value": author})
        assert again.json()["numFollows"] == 1  # idempotent
        assert api.put("/api/following", json={"kind": "category", "value": category}).is_success
        listed = api.get("/api/following").json()
        assert [(item["kind"], item["value"], item["url"]) for item in listed] == [
            ("author", author, author_url(author)),
            ("category", category, category_url(category)),
        ]
        assert all(item["createdAt"] for item in listed)

        gone = api.request("DELETE", "/api/following", json={"kind": "author", "value": author})
        assert gone.json() == {"kind": "author", "value": author, "following": False,
                               "numFollows": 1}  # fmt: skip
        twice = api.request("DELETE", "/api/following", json={"kind": "author", "value": author})
        assert twice.status_code == 200 and twice.json()["following"] is False

        refused = {
            ("institution", "MIT"): "Input should be",
            ("category", "machine learning"): "is not an arXiv category",
            ("category", "cs.LG; drop table"): "is not an arXiv category",
            ("author", "x" * 201): "at most 200 characters",
            ("author", "   "): "needs a name",
            ("author", "tab\x07bell"): "control characters",
            ("topic", "y" * 2001): "at most 2000",
            ("collection", "twelve"): "is not a collection's number",
            ("collection", str(2**31)): "is not a collection's number",
        }
        for (kind, value), reason in refused.items():
            answer = api.put("/api/following", json={"kind": kind, "value": value})
            assert answer.status_code == 422, (kind, value, answer.text)
            assert reason in answer.json()["error"], (kind, answer.json())
        assert api.put("/api/following", json={"kind": "author"}).status_code == 422
        assert api.put("/api/following", content=b"not json").status_code == 422
        assert {item["kind"] for item in api.get("/api/following").json()} == {"category"}

    read_only = {"Authorization": f"Bearer {token_for(site, 'cai', ['read'])}"}
    body = {"kind": "author", "value": author}
    refused_scope = httpx.put(f"{site.url}/api/following", headers=read_only, json=body)
    assert refused_scope.status_code == 403 and "vote" in refused_scope.json()["error"]
    assert httpx.get(f"{site.url}/api/following", headers=read_only).status_code == 200
    assert httpx.put(f"{site.url}/api/following", json=body).status_code == 401
    assert httpx.get(f"{site.url}/api/following").status_code == 401


def test_cookie_calls_need_the_csrf_header(site: Community) -> None:
    author = busiest_author(site)
    with member_client(site, "dan") as dan:
        body = {"kind": "author", "value": author}
        assert dan.put("/api/following", json=body).status_code == 403
        token = csrf_of(dan.get("/following").text)
        sent = dan.put("/api/following", json=body, headers={"X-CSRF-Token": token})
        assert sent.status_code == 200 and sent.json()["following"] is True
        assert dan.get("/api/following", headers={"X-CSRF-Token": token}).json()[0]["value"] == (
            author
        )


def test_collections_others_share_can_be_followed(site: Community) -> None:
    paper = papers_of(site)[0]
    with member_client(site, "eli") as eli, member_client(site, "fay") as fay:
        shared = make_collection(eli, "Eli's picks", public=True)
        private = make_collection(eli, "Eli's secrets")
        own = make_collection(fay, "Fay's own", public=True)
        fay_token = csrf_of(fay.get("/following").text)
        headers = {"X-CSRF-Token": fay_token}

        def put(value: object) -> httpx.Response:
            body = {"kind": "collection", "value": str(value)}
            return fay.put("/api/following", json=body, headers=headers)

        assert put(private).status_code == 404  # a private one is no collection at all
        refused_own = put(own)
        assert refused_own.status_code == 422 and "your own" in refused_own.json()["error"]
        assert put(999_999).status_code == 404

        # the public one's page has the button (not for its owner), and it follows
        page = fay.get(f"/collections/{shared}").text
        assert button_state(page, "collection", str(shared)) == "false"
        assert "follow-form" not in eli.get(f"/collections/{shared}").text
        followed = follow_form(fay, f"/collections/{shared}", "collection", str(shared))
        assert followed.status_code == 303
        assert button_state(fay.get(f"/collections/{shared}").text, "collection", str(shared)) == (
            "true"
        )
        [item] = fay.get("/api/following", headers=headers).json()
        assert item == {**item, "kind": "collection", "value": str(shared),
                        "label": "Eli's picks by eli", "url": f"/collections/{shared}"}  # fmt: skip
        listing = fay.get("/following").text
        assert f'href="/collections/{shared}"' in listing and ">Collections" in listing

        # made private: still listed (to be unfollowed), with no link
        made_private = eli.post(
            f"/collections/{shared}/edit",
            data={"csrf_token": csrf_of(eli.get(f"/collections/{shared}").text),
                  "name": "Eli's picks", "description": ""},
        )  # fmt: skip
        assert made_private.status_code == 303
        [item] = fay.get("/api/following", headers=headers).json()
        assert item["url"] is None and "no longer shared" in item["label"]
        listing = fay.get("/following").text
        assert f'href="/collections/{shared}"' not in listing and "no longer shared" in listing
        assert put(shared).status_code == 404  # not followed again
        gone = fay.request(
            "DELETE",
            "/api/following",
            json={"kind": "collection", "value": str(shared)},
            headers=headers,
        )
        assert gone.status_code == 200 and gone.json()["numFollows"] == 0
        assert paper.id  # the site's papers are untouched by any of this


def test_at_most_five_hundred_follows(site: Community) -> None:
    with site.factory() as session:
        member = create_member(session, "gil", "gil@example.org", PASSWORD)
        for number in range(service.MAX_FOLLOWS - 1):
            value = f"topic {number}"
            session.add(
                Follow(
                    member_id=member.id,
                    kind="topic",
                    value=value,
                    value_key=service.value_key(value),
                    created_at=utcnow(),
                )
            )
        session.commit()
    auth = {"Authorization": f"Bearer {token_for(site, 'gil')}"}
    with httpx.Client(base_url=site.url, headers=auth) as api:
        last = api.put("/api/following", json={"kind": "topic", "value": "one more"})
        assert last.status_code == 200 and last.json()["numFollows"] == service.MAX_FOLLOWS
        over = api.put("/api/following", json={"kind": "topic", "value": "one too many"})
        assert over.status_code == 409
        assert f"You follow {service.MAX_FOLLOWS} things" in over.json()["error"]
        # what is followed already can be followed again (nothing new), and unfollowed
        assert api.put("/api/following", json={"kind": "topic", "value": "topic 7"}).is_success
        api.request("DELETE", "/api/following", json={"kind": "topic", "value": "topic 7"})
        assert api.put("/api/following", json={"kind": "topic", "value": "one too many"}).is_success
        assert len(api.get("/api/following").json()) == service.MAX_FOLLOWS


def test_follows_go_with_their_member(site: Community) -> None:
    with site.factory() as session:
        member = create_member(session, "hal", "hal@example.org", PASSWORD)
        service.follow(session, member, "category", "cs.LG")
        service.follow(session, member, "topic", "protein folding")
        session.commit()
        assert service.count_follows(session, member.id) == 2
        assert [(row["kind"], row["value"]) for row in service.exported(session, member.id)] == [
            ("category", "cs.LG"),
            ("topic", "protein folding"),
        ]
        other = create_member(session, "hap", "hap@example.org", PASSWORD)
        service.follow(session, other, "category", "cs.LG")
        assert service.forget(session, other.id) == 1  # a deleted account's tombstone keeps none
        assert service.count_follows(session, other.id) == 0
        assert service.count_follows(session, member.id) == 2
        session.delete(member)
        session.commit()
        assert session.scalar(select(func.count()).select_from(Follow)) == 0


def test_long_topics_in_any_script_are_one_follow_each(site: Community) -> None:
    """The unique key holds the value's hash: 2,000 characters of CJK (6,000 bytes, past a
    PostgreSQL index entry's limit) follow fine, and twice is once."""
    topic = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(service.MAX_TOPIC_CHARS))
    with site.factory() as session:
        member = create_member(session, "ivy", "ivy@example.org", PASSWORD)
        assert service.follow(session, member, "topic", topic) == (topic, True)
        assert service.follow(session, member, "topic", topic) == (topic, False)
        near = topic[:-1] + "x"
        assert service.follow(session, member, "topic", near) == (near, True)
        session.commit()
        assert service.followed_keys(session, member.id) == {("topic", topic), ("topic", near)}


def test_a_page_reads_the_follows_once(site: Community) -> None:
    """However many buttons a page has, what the viewer follows is read in one query (and not
    at all for a visitor)."""
    with site.factory() as session:
        member = create_member(session, "jon", "jon@example.org", PASSWORD)
        service.follow(session, member, "author", "Ada Lovelace")
        session.commit()
        member_id = member.id
    opened: list[int] = []

    def sessions() -> Any:
        opened.append(1)
        return site.factory()

    def request_of(member: object) -> Any:
        return SimpleNamespace(
            state=SimpleNamespace(viewer=SimpleNamespace(member=member)),
            app=SimpleNamespace(state=SimpleNamespace(site=SimpleNamespace(sessions=sessions))),
        )

    following = Following(request_of(SimpleNamespace(id=member_id)))
    answers = [following.has("author", f"Author {n}") for n in range(50)]
    assert not any(answers) and following.has("author", " Ada Lovelace ")
    assert opened == [1]
    visitor = Following(request_of(None))
    assert not visitor.has("author", "Ada Lovelace") and opened == [1]


# Units -------------------------------------------------------------------------------------


def test_values_are_cleaned() -> None:
    assert service.clean_value("author", "  Ada  Lovelace ") == "Ada  Lovelace"  # as papers list
    assert service.clean_value("topic", " graph\n neural\tnetworks ") == "graph neural networks"
    assert service.clean_value("category", " hep-th ") == "hep-th"
    assert service.clean_value("category", "math.AG") == "math.AG"
    assert service.clean_value("collection", "007") == "7"
    for kind, bad in [
        ("category", "cs..LG"),
        ("collection", "0"),
        ("collection", "-3"),
        ("collection", "١٢"),  # digits, but not ASCII ones
        ("topic", "\t \n"),
        ("topic", "a\x00b"),
    ]:
        with pytest.raises(service.FollowRefused):
            service.clean_value(kind, bad)  # type: ignore[arg-type]
    with pytest.raises(service.FollowRefused, match="cannot be followed"):
        service.check_kind("paper")
    assert service.value_key("x") == service.value_key("x") != service.value_key("y")


def test_the_migration_goes_down_and_up(database: Any) -> None:
    engine = database.kw["bind"]
    command.downgrade(alembic_config(engine), "0019")
    assert not inspect(engine).has_table("follows")
    command.upgrade(alembic_config(engine), "head")
    assert inspect(engine).has_table("follows")
    keys = inspect(engine).get_unique_constraints("follows")
    assert [key["column_names"] for key in keys] == [["member_id", "kind", "value_key"]]
