"""Collections over real HTTP: private until made public, saved to from forms and the API,
exported as BibTeX, RIS and CSL-JSON (parsed back with bibtexparser, rispy and json), fed as
RSS/Atom, and filled by importing Zotero-style BibTeX, RIS and CSL-JSON files; bad files are
refused with the line and the reason, and nothing is half-imported.

Expectations come from the papers the small community site holds (the last 20 featured rows
of the shared Hugging Face file)."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import bibtexparser
import feedparser
import httpx
import pytest
import rispy
from alembic import command
from sqlalchemy import func, inspect, select

from dailypapers.database import alembic_config
from dailypapers.library import service
from dailypapers.library.bibliography import (
    BadReferenceFile,
    read_references,
    to_bibtex,
    to_csl_json,
    to_ris,
)
from dailypapers.library.importing import arxiv_id_in, normalised_title
from dailypapers.library.models import Collection, CollectionPaper
from dailypapers.members.accounts import create_member
from dailypapers.members.auth import new_api_token
from dailypapers.members.models import Member
from dailypapers.papers.models import Paper

from .conftest import Community, MailSink, running_community
from .test_accounts import PASSWORD, csrf_of, log_in

BIG_BODY_KB = 4096  # the site of these tests accepts uploads past the 2 MB import limit


@pytest.fixture
def site(
    tmp_path: Path, hf_rows: list[dict[str, Any]], mail_sink: MailSink, arxiv_replay: Any
) -> Iterator[Community]:
    with running_community(
        tmp_path, hf_rows, mail_sink, arxiv_replay, max_body_kb=BIG_BODY_KB
    ) as community:
        yield community


def papers_of(site: Community) -> list[Paper]:
    with site.factory() as session:
        papers = list(session.scalars(select(Paper).order_by(Paper.arxiv_id)))
        session.expunge_all()
    return papers


@contextmanager
def member_client(site: Community, name: str) -> Iterator[httpx.Client]:
    """A browser-like client of a new, confirmed member, logged in."""
    with site.factory() as session:
        create_member(session, name, f"{name}@example.org", PASSWORD)
        session.commit()
    with httpx.Client(base_url=site.url, timeout=60) as http:
        assert log_in(http, name).status_code == 303
        yield http


def token_for(site: Community, name: str, scopes: list[str] | None = None) -> str:
    with site.factory() as session:
        member = session.scalar(select(Member).where(Member.username == name))
        if member is None:
            member = create_member(session, name, f"{name}@example.org", PASSWORD)
        token = new_api_token(session, member, "tests", scopes)
        session.commit()
    return token


def page_csrf(http: httpx.Client, path: str = "/collections") -> str:
    return csrf_of(http.get(path).text)


def make_collection(http: httpx.Client, name: str, public: bool = False) -> int:
    data = {"csrf_token": page_csrf(http), "name": name, "description": "for tests"}
    if public:
        data["public"] = "true"
    made = http.post("/collections", data=data)
    assert made.status_code == 303, made.text
    found = re.fullmatch(r"/collections/(\d+)", made.headers["location"])
    assert found, made.headers["location"]
    return int(found.group(1))


def save(http: httpx.Client, arxiv_id: str, collection_id: int | str, action: str = "add") -> None:
    saved = http.post(
        "/collections/save",
        data={
            "csrf_token": page_csrf(http),
            "arxiv_id": arxiv_id,
            "collection_id": str(collection_id),
            "action": action,
            "next": f"/papers/{arxiv_id}",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/papers/{arxiv_id}"


def held(site: Community, collection_id: int) -> set[str]:
    with site.factory() as session:
        return set(
            session.scalars(
                select(Paper.arxiv_id)
                .join(CollectionPaper, CollectionPaper.paper_id == Paper.id)
                .where(CollectionPaper.collection_id == collection_id)
            )
        )


def test_collections_are_private_until_made_public(site: Community) -> None:
    papers = papers_of(site)
    first, second = papers[0], papers[1]
    with member_client(site, "ada") as ada, member_client(site, "bob") as bob:
        collection = make_collection(ada, "Diffusion, to read")
        save(ada, first.arxiv_id, collection)
        save(ada, second.arxiv_id, collection)
        save(ada, second.arxiv_id, collection)  # twice: still once
        assert held(site, collection) == {first.arxiv_id, second.arxiv_id}

        page = ada.get(f"/collections/{collection}")
        assert page.status_code == 200
        assert "Diffusion, to read" in page.text and "private" in page.text
        # the latest added first
        assert page.text.index(f'data-arxiv-id="{second.arxiv_id}"') < page.text.index(
            f'data-arxiv-id="{first.arxiv_id}"'
        )
        # the card's control says which of ada's collections hold the paper
        card = ada.get(f"/papers/{first.arxiv_id}").text
        assert re.search(r'aria-pressed="true">Diffusion, to read</button>', card)

        private = [
            f"/collections/{collection}",
            f"/collections/{collection}.bib",
            f"/feeds/collections/{collection}.rss",
            f"/api/collections/{collection}",
        ]
        for path in private:
            assert httpx.get(site.url + path).status_code == 404, path
            assert bob.get(path).status_code == 404, path
        assert "Diffusion, to read" not in httpx.get(f"{site.url}/members/ada").text
        assert "Diffusion, to read" in ada.get("/members/ada").text  # ada sees her own

        # bob cannot change ada's collection through the forms either
        refused = bob.post(
            f"/collections/{collection}/edit",
            data={"csrf_token": page_csrf(bob), "name": "mine now", "public": "true"},
        )
        assert refused.status_code == 404
        refused = bob.post(
            "/collections/save",
            data={"csrf_token": page_csrf(bob), "arxiv_id": papers[2].arxiv_id,
                  "collection_id": str(collection)},
        )  # fmt: skip
        assert refused.status_code == 404 and papers[2].arxiv_id not in held(site, collection)

        made_public = ada.post(
            f"/collections/{collection}/edit",
            data={"csrf_token": page_csrf(ada), "name": "Diffusion", "description": "",
                  "public": "true"},
        )  # fmt: skip
        assert made_public.status_code == 303
        anonymous = httpx.get(f"{site.url}/collections/{collection}")
        assert anonymous.status_code == 200 and "Diffusion" in anonymous.text
        assert f'data-arxiv-id="{first.arxiv_id}"' in anonymous.text
        assert f"/collections/{collection}" in httpx.get(f"{site.url}/members/ada").text

        feed = feedparser.parse(httpx.get(f"{site.url}/feeds/collections/{collection}.atom").text)
        assert not feed.bozo, feed.bozo_exception
        assert [entry.link.rsplit("/", 1)[-1] for entry in feed.entries] == [
            second.arxiv_id,
            first.arxiv_id,
        ]
        rss = feedparser.parse(httpx.get(f"{site.url}/feeds/collections/{collection}.rss").text)
        assert {entry.title for entry in rss.entries} == {first.title, second.title}

        # taking a paper out, then deleting the collection
        save(ada, first.arxiv_id, collection, action="remove")
        assert held(site, collection) == {second.arxiv_id}
        deleted = ada.post(f"/collections/{collection}/delete", data={"csrf_token": page_csrf(ada)})
        assert deleted.status_code == 303
        assert httpx.get(f"{site.url}/collections/{collection}").status_code == 404
        with site.factory() as session:
            assert session.get(Paper, second.id) is not None  # the paper stays


def test_one_click_save_makes_the_reading_list(site: Community) -> None:
    paper = papers_of(site)[3]
    with member_client(site, "cleo") as cleo:
        card = cleo.get(f"/papers/{paper.arxiv_id}").text
        assert ">Reading list</button>" in card  # no collection yet: the one button
        save(cleo, paper.arxiv_id, "")
        with site.factory() as session:
            [collection] = session.scalars(select(Collection))
            assert collection.name == service.DEFAULT_NAME and not collection.public
        assert held(site, collection.id) == {paper.arxiv_id}
        assert cleo.get("/collections").text.count(service.DEFAULT_NAME) >= 1
    anonymous = httpx.get(f"{site.url}/papers/{paper.arxiv_id}").text
    assert "collect-form" not in anonymous  # signed out: no control at all


def test_forms_need_csrf_and_a_member(site: Community) -> None:
    paper = papers_of(site)[0]
    with member_client(site, "dora") as dora:
        collection = make_collection(dora, "Mine")
        forged = dora.post(
            "/collections/save",
            data={"arxiv_id": paper.arxiv_id, "collection_id": str(collection)},
        )
        assert forged.status_code == 403
        forged = dora.post("/collections", data={"csrf_token": "wrong", "name": "x"})
        assert forged.status_code == 403
        bad = dora.post("/collections", data={"csrf_token": page_csrf(dora), "name": "  "})
        assert bad.status_code == 303
        assert "needs a name" in dora.get("/collections").text
        duplicate = dora.post("/collections", data={"csrf_token": page_csrf(dora), "name": "MINE"})
        assert duplicate.status_code == 303
        assert "already have a collection named" in dora.get("/collections").text
        unknown = dora.post(
            "/collections/save",
            data={"csrf_token": page_csrf(dora), "arxiv_id": "2501.99999",
                  "collection_id": str(collection)},
        )  # fmt: skip
        assert unknown.status_code == 404
    assert held(site, collection) == set()
    anonymous = httpx.get(f"{site.url}/collections", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_the_api_round_trip(site: Community) -> None:
    papers = papers_of(site)
    token = token_for(site, "eve")
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=site.url, headers=auth) as api:
        made = api.post("/api/collections", json={"name": "Agents", "description": "LLM agents"})
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["name"] == "Agents" and body["public"] is False and body["numPapers"] == 0
        collection = body["id"]
        assert api.post("/api/collections", json={"name": "agents"}).status_code == 409
        assert api.post("/api/collections", json={"name": ""}).status_code == 422
        assert api.post("/api/collections", json={"name": "a\x00b"}).status_code == 422
        assert api.post("/api/collections", json={"name": "x" * 101}).status_code == 422

        for paper in papers[:3]:
            saved = api.put(f"/api/collections/{collection}/papers/{paper.arxiv_id}")
            assert saved.status_code == 200 and saved.json()["saved"] is True
        again = api.put(f"/api/collections/{collection}/papers/arXiv:{papers[0].arxiv_id}v1")
        assert again.json() == {
            "collectionId": collection,
            "paperId": papers[0].arxiv_id,
            "saved": True,
            "numPapers": 3,
        }
        assert api.put(f"/api/collections/{collection}/papers/nonsense").status_code == 400
        assert api.put(f"/api/collections/{collection}/papers/2501.99999").status_code == 404
        assert api.put(f"/api/collections/999999/papers/{papers[0].arxiv_id}").status_code == 404

        detail = api.get(f"/api/collections/{collection}").json()
        assert [item["paper"]["id"] for item in detail["papers"]] == [
            paper.arxiv_id for paper in reversed(papers[:3])
        ]
        assert detail["papers"][0]["paper"]["title"] == papers[2].title
        assert [c["id"] for c in api.get("/api/collections").json()] == [collection]

        removed = api.delete(f"/api/collections/{collection}/papers/{papers[1].arxiv_id}")
        assert removed.json()["saved"] is False and removed.json()["numPapers"] == 2
        assert httpx.get(f"{site.url}/api/collections/{collection}").status_code == 404
        changed = api.patch(f"/api/collections/{collection}", json={"public": True})
        assert changed.status_code == 200 and changed.json()["public"] is True
        assert changed.json()["name"] == "Agents"  # what is not sent stays
        public = httpx.get(f"{site.url}/api/collections/{collection}")
        assert public.status_code == 200 and public.json()["numPapers"] == 2

        # another member's token sees the public one, changes nothing
        other = {"Authorization": f"Bearer {token_for(site, 'finn')}"}
        assert httpx.get(f"{site.url}/api/collections/{collection}", headers=other).is_success
        assert (
            httpx.patch(f"{site.url}/api/collections/{collection}", headers=other, json={})
        ).status_code == 404
        assert (
            httpx.delete(f"{site.url}/api/collections/{collection}", headers=other)
        ).status_code == 404

        assert api.delete(f"/api/collections/{collection}").json() == {
            "id": collection,
            "deleted": True,
        }
        assert api.get(f"/api/collections/{collection}").status_code == 404

    read_only = {"Authorization": f"Bearer {token_for(site, 'eve', ['read'])}"}
    refused = httpx.post(f"{site.url}/api/collections", headers=read_only, json={"name": "x"})
    assert refused.status_code == 403 and "vote" in refused.json()["error"]
    assert httpx.get(f"{site.url}/api/collections", headers=read_only).status_code == 200
    assert httpx.post(f"{site.url}/api/collections", json={"name": "x"}).status_code == 401


def test_exports_parse_back(site: Community) -> None:
    papers = papers_of(site)[:4]
    token = token_for(site, "gus")
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=site.url, headers=auth) as api:
        collection = api.post("/api/collections", json={"name": "Export"}).json()["id"]
        for paper in papers:
            api.put(f"/api/collections/{collection}/papers/{paper.arxiv_id}")
    by_id = {paper.arxiv_id: paper for paper in papers}
    with member_client(site, "gus2") as other, httpx.Client(base_url=site.url) as anonymous:
        assert other.get(f"/collections/{collection}.bib").status_code == 404
        assert anonymous.get(f"/collections/{collection}.ris").status_code == 404
    with httpx.Client(base_url=site.url) as gus:
        assert log_in(gus, "gus").status_code == 303
        bib = gus.get(f"/collections/{collection}.bib")
        assert bib.status_code == 200 and "attachment" in bib.headers["content-disposition"]
        assert bib.headers["content-type"].startswith("application/x-bibtex")
        library = bibtexparser.parse_string(bib.text)
        assert not library.failed_blocks
        assert {entry.fields_dict["eprint"].value for entry in library.entries} == set(by_id)
        for entry in library.entries:
            fields = {key: field.value for key, field in entry.fields_dict.items()}
            paper = by_id[fields["eprint"]]
            assert entry.entry_type == "misc" and fields["archivePrefix"] == "arXiv"
            assert fields["doi"] == f"10.48550/arXiv.{paper.arxiv_id}"
            assert fields["url"] == f"https://arxiv.org/abs/{paper.arxiv_id}"
            assert normalised_title(fields["title"]) == normalised_title(paper.title)
            assert fields["author"].split(" and ") == [
                name if "," not in name else "{" + name + "}" for name in paper.authors
            ]
            if paper.published_date:
                assert fields["year"] == str(paper.published_date.year)
            if paper.primary_category:
                assert fields["primaryClass"] == paper.primary_category

        ris = gus.get(f"/collections/{collection}.ris")
        records = rispy.loads(ris.text)
        assert len(records) == len(papers)
        for record in records:
            paper = by_id[record["doi"].removeprefix("10.48550/arXiv.")]
            assert record["type_of_reference"] == "UNPB"
            assert record["title"] == " ".join(paper.title.split())
            assert record["authors"] == paper.authors
            assert record["urls"] == [f"https://arxiv.org/abs/{paper.arxiv_id}"]

        csl = gus.get(f"/collections/{collection}.json")
        items = json.loads(csl.text)
        assert {item["id"] for item in items} == {f"arXiv:{i}" for i in by_id}
        for item in items:
            paper = by_id[item["id"].removeprefix("arXiv:")]
            assert item["type"] == "article" and item["title"] == paper.title
            names = [
                " ".join(filter(None, (name.get("given"), name.get("family")))) or name["literal"]
                for name in item["author"]
            ]
            assert names == [" ".join(name.split()) for name in paper.authors]
        assert gus.get(f"/collections/{collection}.pdf").status_code == 404


# Import -------------------------------------------------------------------------------------


def zotero_bibtex(papers: list[Paper]) -> str:
    """A Zotero-style export: an eprint entry (Better BibTeX), one with a URL only, one with
    arXiv's DOI only, one with a title alone (Zotero's braces, other case), one unknown, and the
    first paper again under another key."""
    eprint, url_only, doi_only, title_only = papers[:4]
    braced = " ".join("{" + word + "}" if word[:1].isupper() else word
                      for word in title_only.title.upper().split())  # fmt: skip
    return f"""
@misc{{first_2024,
\ttitle = {{{eprint.title}}},
\tauthor = {{{" and ".join(eprint.authors[:2])}}},
\tyear = {{2024}},
\teprint = {{{eprint.arxiv_id}}},
\tarchivePrefix = {{arXiv}},
\tprimaryClass = {{cs.CL}},
}}

@article{{second_2024,
\ttitle = {{Something else entirely}},
\turl = {{http://arxiv.org/abs/{url_only.arxiv_id}v2}},
\turldate = {{2024-05-01}},
\tjournal = {{Preprint}},
\tmonth = may,
\tyear = {{2024}},
}}

@misc{{third_2024,
\ttitle = {{Third}},
\tdoi = {{10.48550/arXiv.{doi_only.arxiv_id}}},
\tpublisher = {{arXiv}},
\tnote = {{Version Number: 1}},
}}

@inproceedings{{fourth_2024,
\ttitle = {{{braced}}},
\tbooktitle = {{Proceedings of a Conference}},
\tpages = {{1--10}},
\tyear = {{{title_only.published_date.year if title_only.published_date else 2024}}},
}}

@book{{unknown_1999,
\ttitle = {{A Treatise on Things Nobody Has Put on Arxiv}},
\tauthor = {{Nobody, N.}},
\tdoi = {{10.1000/182}},
\tyear = {{1999}},
}}

@misc{{first_again,
\ttitle = {{{eprint.title}}},
\tnote = {{arXiv:{eprint.arxiv_id} [cs]}},
}}
"""


def zotero_ris(papers: list[Paper]) -> str:
    eprint, url_only, doi_only, title_only = papers[4:8]
    records = [
        ("UNPB", eprint.title, [f"N1  - arXiv:{eprint.arxiv_id} [cs.LG]"]),
        ("JOUR", "A different title", [f"UR  - https://arxiv.org/pdf/{url_only.arxiv_id}.pdf"]),
        ("GEN", "Third", [f"DO  - 10.48550/ARXIV.{doi_only.arxiv_id}"]),
        ("CONF", title_only.title.lower() + ".", []),
        ("BOOK", "Nothing Here At All, Volume Two", ["DO  - 10.1000/182"]),
    ]
    lines = []
    for kind, title, extra in records:
        lines += [f"TY  - {kind}", f"TI  - {title}", "AU  - Someone, A.", *extra, "ER  - ", ""]
    return "\n".join(lines)


def upload(
    http: httpx.Client, name: str, content: str | bytes, into: str = "new", new_name: str = ""
) -> httpx.Response:
    return http.post(
        "/collections/import",
        data={"csrf_token": page_csrf(http, "/collections/import"), "collection_id": into,
              "new_name": new_name},
        files={"file": (name, content, "application/octet-stream")},
    )  # fmt: skip


def report_section(html: str, outcome: str) -> str:
    found = re.search(rf'<ul class="import-{outcome}">(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


def test_importing_zotero_bibtex_ris_and_csl_json(site: Community) -> None:
    papers = papers_of(site)
    with member_client(site, "hana") as hana:
        collection = make_collection(hana, "Library")
        save(hana, papers[0].arxiv_id, collection)  # present before the import

        page = upload(hana, "My Library.bib", zotero_bibtex(papers), into=str(collection))
        assert page.status_code == 200, page.text
        matched = report_section(page.text, "matched")
        present = report_section(page.text, "present")
        unmatched = report_section(page.text, "unmatched")
        for paper, how in ((papers[1], "arXiv id in url"), (papers[2], "arXiv id in doi"),
                           (papers[3], "same title")):  # fmt: skip
            assert paper.arxiv_id in matched and how in matched, (paper.arxiv_id, matched)
        assert papers[0].arxiv_id in present and "arXiv id in eprint" in present
        assert "arXiv id in note" in present  # the same paper again
        assert "A Treatise on Things Nobody Has Put on Arxiv" in unmatched
        assert held(site, collection) == {paper.arxiv_id for paper in papers[:4]}

        page = upload(hana, "export.ris", zotero_ris(papers), new_name="From RIS")
        assert page.status_code == 200, page.text
        matched = report_section(page.text, "matched")
        for paper, how in ((papers[4], "arXiv id in N1"), (papers[5], "arXiv id in UR"),
                           (papers[6], "arXiv id in DO"), (papers[7], "same title")):  # fmt: skip
            assert paper.arxiv_id in matched and how in matched, (paper.arxiv_id, matched)
        assert "Nothing Here At All, Volume Two" in report_section(page.text, "unmatched")
        with site.factory() as session:
            ris_collection = session.scalar(select(Collection).where(Collection.name == "From RIS"))
            assert ris_collection is not None
        assert held(site, ris_collection.id) == {paper.arxiv_id for paper in papers[4:8]}

        csl = [
            {"id": "a", "type": "article", "title": papers[8].title,
             "number": f"arXiv:{papers[8].arxiv_id}"},
            {"id": "b", "type": "article", "title": "x",
             "URL": f"https://arxiv.org/abs/{papers[9].arxiv_id}"},
            {"id": "c", "type": "book", "title": "Unknown Book About Nothing"},
        ]  # fmt: skip
        page = upload(hana, "items.json", json.dumps(csl, indent=2), new_name="From CSL")
        assert page.status_code == 200, page.text
        assert papers[8].arxiv_id in report_section(page.text, "matched")
        assert papers[9].arxiv_id in report_section(page.text, "matched")
        assert "Unknown Book About Nothing" in report_section(page.text, "unmatched")


BROKEN_BIBTEX = """@article{good,
  title = {Fine},
  year = 2020
}

@article{broken,
  title = {Never closed,
  year = 2021

@book{next, title = {After}}
"""


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.bib", BROKEN_BIBTEX, "line 6:"),
        ("dup.bib", "@misc{a, title={A}}\n@misc{a, title={B}}\n", "line 2: the key 'a'"),
        ("open.ris", "TY  - JOUR\nTI  - Never ended\n", "line 1: the record"),
        ("junk.ris", "TY  - JOUR\nER  - \nthis is not RIS\n", "line 3: expected a record"),
        ("bad.json", '[\n  {"title": "a"},\n  {"title": }\n]', "line 3:"),
        ("shape.json", '{"title": "not a list"}', "line 1: CSL-JSON is a list"),
        ("latin1.bib", "@misc{a, title={Caf\xe9}}".encode("latin-1"), "line 1: not UTF-8"),
        ("notes.txt", "just some words", "not a BibTeX, RIS or CSL-JSON file"),
        ("empty.bib", "   \n", "The file is empty."),
    ],
)
def test_bad_files_are_refused_with_the_line_and_nothing_is_imported(
    site: Community, name: str, content: str | bytes, expected: str
) -> None:
    with member_client(site, "ivan") as ivan:
        page = upload(ivan, name, content, new_name="Should not exist")
        assert page.status_code == 400, page.text
        text = html.unescape(page.text)
        assert expected in text and "Nothing was imported" in text
    with site.factory() as session:
        assert session.scalar(select(func.count()).select_from(Collection)) == 0


def test_limits_on_size_and_entries(site: Community) -> None:
    papers = papers_of(site)
    with member_client(site, "jack") as jack:
        entry = (
            "@misc{{k{0}, title = {{Entry number {0}}}, eprint = {{" + papers[0].arxiv_id + "}}}}\n"
        )
        many = "".join(entry.format(i) for i in range(5_001))
        refused = upload(jack, "many.bib", many)
        assert refused.status_code == 400 and "5,001 entries; at most 5,000" in refused.text
        ris = "".join(f"TY  - JOUR\nTI  - R{i}\nER  - \n" for i in range(5_001))
        assert "at most 5,000" in upload(jack, "many.ris", ris).text
        csl = json.dumps([{"title": f"c{i}"} for i in range(5_001)])
        assert "at most 5,000" in upload(jack, "many.json", csl).text
        padding = "% " + "x" * 1000 + "\n"
        large = padding * 2_200  # 2.2 MB
        refused = upload(jack, "large.bib", large)
        assert refused.status_code == 413 and "at most 2 MB" in refused.text
    with site.factory() as session:
        assert session.scalar(select(func.count()).select_from(Collection)) == 0


def test_two_thousand_entries_import_quickly(site: Community) -> None:
    papers = papers_of(site)
    entries = []
    for i in range(2_000):
        paper = papers[i % len(papers)]
        if i % 4 == 0:
            entries.append(
                f"@misc{{e{i}, title = {{{paper.title}}}, eprint = {{{paper.arxiv_id}}}}}"
            )
        elif i % 4 == 1:
            entries.append(f"@misc{{e{i}, title = {{{paper.title}}}}}")
        else:
            entries.append(f"@book{{e{i}, title = {{Unknown monograph number {i} on topology}}}}")
    with member_client(site, "kim") as kim:
        started = time.perf_counter()
        page = upload(kim, "big.bib", "\n".join(entries), new_name="Big")
        elapsed = time.perf_counter() - started
        assert page.status_code == 200, page.text[:500]
    assert elapsed < 30, f"2,000 entries took {elapsed:.1f} s"
    print(f"2,000 entries imported in {elapsed:.2f} s")
    with site.factory() as session:
        big = session.scalar(select(Collection).where(Collection.name == "Big"))
        assert big is not None
    named = {paper.arxiv_id for i, paper in enumerate(papers) if i % 4 in (0, 1)}
    assert held(site, big.id) == named


def test_deleting_a_member_deletes_their_collections(site: Community) -> None:
    paper = papers_of(site)[0]
    with site.factory() as session:
        member = create_member(session, "leo", "leo@example.org", PASSWORD)
        collection = service.create_collection(session, member, "Gone soon", public=True)
        service.add_paper(session, collection, paper.id)
        session.commit()
        session.delete(member)
        session.commit()
        assert session.scalar(select(func.count()).select_from(Collection)) == 0
        assert session.scalar(select(func.count()).select_from(CollectionPaper)) == 0
        assert session.get(Paper, paper.id) is not None


# Units -------------------------------------------------------------------------------------


def test_arxiv_ids_are_found_in_the_fields_that_name_them() -> None:
    assert arxiv_id_in("eprint", "1706.03762") == "1706.03762"
    assert arxiv_id_in("eprint", "hep-th/9901001v2") == "hep-th/9901001"
    assert arxiv_id_in("url", "http://arxiv.org/abs/2401.01234v3") == "2401.01234"
    assert arxiv_id_in("url", "https://arxiv.org/pdf/2401.01234.pdf") == "2401.01234"
    assert arxiv_id_in("doi", "10.48550/arXiv.2401.01234") == "2401.01234"
    assert arxiv_id_in("note", "arXiv:2401.01234 [cs.CL]") == "2401.01234"
    assert arxiv_id_in("journal", "arXiv preprint arXiv:2401.01234") == "2401.01234"
    assert arxiv_id_in("doi", "10.1145/2401.01234") is None  # another DOI's digits
    assert arxiv_id_in("note", "Version Number: 1") is None
    assert arxiv_id_in("url", "https://example.org/2401.01234") is None


def test_titles_compare_without_case_punctuation_and_latex() -> None:
    assert normalised_title("{Attention} {Is} {All} {You} {Need}.") == normalised_title(
        "Attention is all you need"
    )
    assert normalised_title(r"Sch{\"o}n's \emph{Theorem}") == normalised_title("Schön's theorem")


def test_names_are_checked() -> None:
    assert service.clean_name("  Reading   list ") == "Reading list"
    for bad in ("", "   ", "x" * 101, "tab\x07bell"):
        with pytest.raises(service.CollectionRefused):
            service.clean_name(bad)


def test_references_keep_their_line_numbers() -> None:
    text = "\n\n@misc{a,\n title={One}}\n\n@misc{b,\n title={Two}, eprint={1706.03762}}\n"
    [one, two] = read_references(text, "bibtex", max_entries=10)
    assert (one.line, one.title, two.line, two.title) == (3, "One", 6, "Two")
    assert two.clues == [("eprint", "1706.03762")]
    with pytest.raises(BadReferenceFile, match="at most 1"):
        read_references(text, "bibtex", max_entries=1)


def test_the_migration_goes_down_and_up(database: Any) -> None:
    engine = database.kw["bind"]
    command.downgrade(alembic_config(engine), "0018")
    assert not inspect(engine).has_table("collections")
    command.upgrade(alembic_config(engine), "head")
    assert inspect(engine).has_table("collection_papers")


def test_every_shared_paper_exports_and_reads_back(hf_rows: list[dict[str, Any]]) -> None:
    """All 13.7k real papers (LaTeX, braces, accents, any script in names) survive the three
    formats: each file parses whole, and titles and authors come back as they were."""
    papers = [
        SimpleNamespace(
            arxiv_id=row["arxiv_id"],
            title=row["title"],
            authors=row.get("authors") or [],
            abstract=row.get("abstract"),
            categories=row.get("categories") or [],
            primary_category=(row.get("categories") or [None])[0],
            published_date=None,
        )
        for row in hf_rows
    ]
    by_id = {paper.arxiv_id: paper for paper in papers}
    library = bibtexparser.parse_string(to_bibtex(papers))  # type: ignore[arg-type]
    assert not library.failed_blocks and len(library.entries) == len(by_id)
    for entry in library.entries:
        paper = by_id[entry.fields_dict["eprint"].value]
        assert entry.fields_dict["title"].value == " ".join(paper.title.split())
        if paper.authors:
            assert len(entry.fields_dict["author"].value.split(" and ")) == len(paper.authors)
    records = rispy.loads(to_ris(papers))  # type: ignore[arg-type]
    assert len(records) == len(by_id)
    for record in records:
        paper = by_id[record["doi"].removeprefix("10.48550/arXiv.")]
        assert record["title"] == " ".join(paper.title.split())
        assert record.get("authors", []) == [" ".join(name.split()) for name in paper.authors]
    items = json.loads(to_csl_json(papers))  # type: ignore[arg-type]
    assert [item["title"] for item in items] == [paper.title for paper in papers]


def test_cached_pages_follow_a_public_collection(site: Community) -> None:
    """Anonymous pages come from the response cache: a change to a public collection (a paper
    saved, the collection made private) must show at once."""
    papers = papers_of(site)
    with member_client(site, "mona") as mona:
        collection = make_collection(mona, "Shared", public=True)
        save(mona, papers[0].arxiv_id, collection)
        url = f"{site.url}/collections/{collection}"
        before = httpx.get(url).text
        assert papers[0].arxiv_id in before and papers[1].arxiv_id not in before
        assert httpx.get(url).text == before  # answered again (from the cache)
        assert papers[1].arxiv_id not in httpx.get(f"{url}.bib").text
        save(mona, papers[1].arxiv_id, collection)
        assert f'data-arxiv-id="{papers[1].arxiv_id}"' in httpx.get(url).text
        assert papers[1].arxiv_id in httpx.get(f"{url}.bib").text
        made_private = mona.post(
            f"/collections/{collection}/edit",
            data={"csrf_token": page_csrf(mona), "name": "Shared", "description": ""},
        )
        assert made_private.status_code == 303
        assert httpx.get(url).status_code == 404
        assert httpx.get(f"{url}.bib").status_code == 404
        assert "Shared" not in httpx.get(f"{site.url}/members/mona").text
