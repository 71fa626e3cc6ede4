"""Search a reader can trust (issue 16): ids and titles go straight to the paper, every match can
be paged and sorted, a paragraph is a query, and "nothing found" is said plainly."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from dailypapers.papers.importing import load_file
from dailypapers.papers.models import Paper
from dailypapers.search.backends import open_keyword_search, open_meaning_search
from dailypapers.search.indexing import index_papers
from dailypapers.search.query import (
    MAX_QUERY_TERMS,
    PROSE_WORDS,
    STOPWORDS,
    named_arxiv_id,
    query_passages,
    query_terms,
    title_key,
)
from dailypapers.search.service import DENSE_MATCH_SIMILARITY, MAX_QUERY_CHARS, search_papers

from .conftest import make_settings, prepare_database


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["paper"]["id"] for item in response.json()]


def search(client: httpx.Client, q: str, **params: Any) -> httpx.Response:
    return client.get("/api/papers/search", params={"q": q, **params})


def page(client: httpx.Client, q: str, **params: Any) -> httpx.Response:
    return client.get("/papers", params={"q": q, **params}, follow_redirects=False)


# --- 1. ids and titles go straight to the paper ------------------------------------------------
ID_FORMS = [
    "2510.00184",
    "arXiv:2510.00184v2",
    "arxiv:2510.00184",
    "https://arxiv.org/abs/2510.00184",
    "https://arxiv.org/pdf/2510.00184v1",
    "https://arxiv.org/pdf/2510.00184v1.pdf",
    "arxiv.org/html/2510.00184v1",
    "https://huggingface.co/papers/2510.00184#community",
    "hf.co/papers/2510.00184",
    "  2510.00184  ",
]


@pytest.mark.parametrize("form", ID_FORMS)
def test_an_arxiv_id_in_any_form_opens_the_paper(client: httpx.Client, form: str) -> None:
    response = page(client, form)
    assert response.status_code == 303
    assert response.headers["location"] == "/papers/2510.00184"
    assert ids(search(client, form)) == ["2510.00184"]  # that paper alone, not 29 others


def test_old_style_ids_are_recognised() -> None:
    assert str(named_arxiv_id("hep-th/9901001")) == "hep-th/9901001"
    assert str(named_arxiv_id("math.CA/0611800v2")) == "math/0611800v2"
    assert str(named_arxiv_id("https://arxiv.org/abs/hep-th/9901001v3")) == "hep-th/9901001v3"
    for words in ("2024", "1706.03762 attention", "diffusion", "hep-th", "2510.00184.5"):
        assert named_arxiv_id(words) is None


@pytest.mark.parametrize("missing", ["2501.99999", "hep-th/9901001"])
def test_an_id_that_is_not_here_says_so_with_links(client: httpx.Client, missing: str) -> None:
    response = page(client, f"arXiv:{missing}v1")
    assert response.status_code == 200
    assert f"arXiv {missing} is not on this site yet" in response.text
    assert f'href="https://arxiv.org/abs/{missing}"' in response.text
    assert 'href="/submit"' in response.text
    assert ids(search(client, missing)) == []


def unique_titles(hf_rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    counts = Counter(title_key(row["title"]) for row in hf_rows)
    return {title_key(r["title"]): r for r in hf_rows if counts[title_key(r["title"])] == 1}


def test_an_exact_title_opens_the_paper_whatever_its_case_spacing_punctuation(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    titles = unique_titles(hf_rows)
    # a short, generic title, whose words are in many other papers, and a long one with colons
    short = min(
        (r for r in titles.values() if r["abstract"] and len(title_key(r["title"])) >= 12),
        key=lambda r: len(r["title"]),
    )
    long = next(r for r in titles.values() if ":" in r["title"] and len(r["title"]) > 60)
    for row in (short, long):
        for form in (
            row["title"],
            row["title"].upper(),
            "  " + row["title"].replace(" ", "   ").replace(":", " : ") + ".",
            row["title"].replace(":", "").lower(),
        ):
            response = page(client, form)
            assert response.status_code == 303, form
            assert response.headers["location"] == f"/papers/{row['arxiv_id']}"
            assert ids(search(client, form))[0] == row["arxiv_id"]


def test_a_title_two_papers_share_lists_both_first(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    counts = Counter(title_key(row["title"]) for row in hf_rows)
    shared = next(key for key, count in counts.items() if count == 2)
    both = {row["arxiv_id"] for row in hf_rows if title_key(row["title"]) == shared}
    title = next(row["title"] for row in hf_rows if title_key(row["title"]) == shared)
    assert page(client, title).status_code == 200  # no single paper to go to
    assert set(ids(search(client, title))[:2]) == both


def test_words_of_a_title_are_a_search_not_a_redirect(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    row = next(r for r in unique_titles(hf_rows).values() if len(r["title"].split()) >= 6)
    some_words = " ".join(row["title"].split()[:-2])
    assert page(client, some_words).status_code == 200


# --- 2. paging and sorting ---------------------------------------------------------------------
def every_page(client: httpx.Client, q: str, **params: Any) -> list[dict[str, Any]]:
    """All the matches of a search, following the API's `Link: <…>; rel="next"` pages."""
    found: list[dict[str, Any]] = []
    response = search(client, q, **params)
    while True:
        assert response.status_code == 200, response.text
        found += response.json()
        if "link" not in response.headers:
            return found
        following = response.headers["link"].split(">", 1)[0].lstrip("<")
        assert following.startswith("/api/papers/search?")
        assert parse_qs(urlsplit(following).query)["q"] == [q]
        response = client.get(following)


def test_the_api_pages_through_every_match_in_each_order(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    def text_of(row: dict[str, Any]) -> str:
        return f"{row['title']} {row['abstract'] or ''}".lower()

    # Every paper with the word must be found, and only papers with a word of its stem.
    with_word = {r["arxiv_id"] for r in hf_rows if "quantization" in text_of(r)}
    with_stem = {r["arxiv_id"] for r in hf_rows if "quantiz" in text_of(r)}
    assert 100 < len(with_word) <= len(with_stem) < 1000  # more than one page of 100
    by_relevance = every_page(client, "quantization", limit=100)
    found = [item["paper"]["id"] for item in by_relevance]
    assert len(found) == len(set(found))  # no paper on two pages
    assert with_word <= set(found) <= with_stem
    for sort, value in (("newest", "publishedAt"), ("upvotes", "upvotes")):
        in_order = every_page(client, "quantization", limit=100, sort=sort)
        assert sorted(item["paper"]["id"] for item in in_order) == sorted(found)
        values = [item["paper"][value] for item in in_order]
        if sort == "newest":  # papers without a publication date come last
            values = [day or "" for day in values]
        assert values == sorted(values, reverse=True), sort


def test_pages_are_cut_from_one_ranking(client: httpx.Client) -> None:
    first_thirty = ids(search(client, "diffusion image editing", limit=30))
    pages = [ids(search(client, "diffusion image editing", limit=10, p=p)) for p in range(3)]
    assert [paper for one in pages for paper in one] == first_thirty
    assert ids(search(client, "diffusion image editing", limit=10, p=999)) == []
    assert "link" not in search(client, "diffusion image editing", limit=10, p=999).headers


def test_a_bad_sort_or_page_is_refused_with_a_sentence(client: httpx.Client) -> None:
    api = search(client, "diffusion", sort="random")
    assert api.status_code == 400
    assert api.json()["error"].startswith("sort: 'random' is not a sort")
    assert search(client, "diffusion", p=-1).status_code == 422
    html = page(client, "diffusion", sort="random")
    assert html.status_code == 400 and "text/html" in html.headers["content-type"]
    assert "is not a sort (one of relevance, newest, upvotes)" in html.text
    assert page(client, "diffusion", page=0).status_code == 422


def test_the_page_keeps_query_filters_and_sort_in_its_links(client: httpx.Client) -> None:
    params = {"category": "cs.CV", "code": "true", "sort": "newest"}
    first = page(client, "diffusion", **params)
    assert first.status_code == 200
    assert 'aria-current="true">Newest<' in first.text
    following = first.text.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    asked = parse_qs(urlsplit(following).query)
    assert asked == {"q": ["diffusion"], "category": ["cs.CV"], "code": ["true"],
                     "sort": ["newest"], "page": ["2"]}  # fmt: skip
    second = client.get(following)
    assert second.status_code == 200 and "Page 2" in second.text

    # the second page continues the first: no card on both
    def cards(html: str) -> set[str]:
        return {part.split('"', 1)[0] for part in html.split('data-arxiv-id="')[1:]}

    assert cards(first.text) and cards(second.text) and not cards(first.text) & cards(second.text)
    by_votes = first.text.split(">Most upvoted<", 1)[0].rsplit('href="', 1)[1].split('"')[0]
    assert parse_qs(urlsplit(by_votes.replace("&amp;", "&")).query)["sort"] == ["upvotes"]
    assert "page=" not in by_votes  # another order starts at its first page


# --- 3. a paragraph is a query -----------------------------------------------------------------
def pasted_abstracts(hf_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Papers whose whole abstract fits in a query: the longest (more words than the embedder
    reads at once, so its meaning is the mean of its passages'), and the multiplication paper."""
    fitting = [r for r in hf_rows if r["abstract"] and len(r["abstract"]) <= MAX_QUERY_CHARS]
    longest = max(fitting, key=lambda r: len(r["abstract"].split()))
    assert len(query_passages(longest["abstract"])) > 1
    return [longest, next(r for r in fitting if r["arxiv_id"] == "2510.00184")]


def test_a_paragraph_of_up_to_2000_characters_is_a_query(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    for row in pasted_abstracts(hf_rows):
        assert ids(search(client, row["abstract"], limit=5))[0] == row["arxiv_id"]
        html = page(client, row["abstract"])
        assert html.status_code == 200
        assert html.text.index(f'data-arxiv-id="{row["arxiv_id"]}"') == html.text.index(
            "data-arxiv-id="
        )  # the first card
    too_long = "word " * (MAX_QUERY_CHARS // 5) + "x"
    refused = search(client, too_long)
    assert refused.status_code == 422
    assert refused.json()["error"] == "q: the query is 2,001 characters long (at most 2,000)"
    refused_page = page(client, too_long)
    assert refused_page.status_code == 422 and "(at most 2,000)" in refused_page.text
    assert search(client, "x" * 250).status_code == 200  # as Hugging Face's clients send


def test_a_paragraph_is_searched_by_its_informative_words(hf_rows: list[dict[str, Any]]) -> None:
    row = next(r for r in hf_rows if r["arxiv_id"] == "2510.00184")
    terms = query_terms(row["abstract"])
    assert len(terms) == MAX_QUERY_TERMS < len(set(row["abstract"].lower().split()))
    assert not set(terms) & (STOPWORDS | PROSE_WORDS)
    assert {"multiplication", "digit", "transformers"} <= set(terms)  # its subject
    assert not {"one", "however", "also", "model", "show"} & set(terms)
    # a short query keeps every word but the stop words, in order
    assert query_terms("The speculative decoding of large models") == [
        "speculative", "decoding", "large", "models"
    ]  # fmt: skip


@pytest.fixture(scope="module")
def meaning_site(tmp_path_factory: pytest.TempPathFactory, hf_rows: list[dict[str, Any]]):
    """80 real papers with abstracts, embedded by the bundled model, on the test backend."""
    folder = tmp_path_factory.mktemp("trust")
    settings = make_settings(folder)
    engine, factory = prepare_database(settings)
    wanted = {row["arxiv_id"] for row in pasted_abstracts(hf_rows)}
    rows = [r for r in hf_rows if r["arxiv_id"] in wanted]
    rows += [r for r in hf_rows if r["abstract"] and r["arxiv_id"] not in wanted][-78:]
    source = folder / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    load_file(factory, source, settings.zone)
    meaning = open_meaning_search(factory, engine, budget_seconds=10.0, threads=2)
    assert index_papers(factory, meaning.embedder).embedded == len(rows)
    meaning.refresh()
    keyword = open_keyword_search(engine, settings.keyword_index_dir)
    keyword.sync(factory)
    keyword.reload()
    yield factory, keyword, meaning, rows
    meaning.close()
    keyword.close()
    engine.dispose()


def test_a_pasted_abstract_finds_its_paper_first_by_meaning_too(
    meaning_site: Any, hf_rows: list[dict[str, Any]]
) -> None:
    factory, keyword, meaning, _ = meaning_site
    with factory() as session:
        for row in pasted_abstracts(hf_rows):
            found = search_papers(session, row["abstract"], keyword=keyword, meaning=meaning)
            assert found.mode == "hybrid"
            assert found.hits[0].item.paper.arxiv_id == row["arxiv_id"]
            # by meaning alone as well: the abstract without a word the keyword side keeps
            words = set(query_terms(row["abstract"]))
            blind = " ".join(
                w for w in row["abstract"].split() if w.lower().strip(".,;:()") not in words
            )
            vague = search_papers(session, blind, keyword=keyword, meaning=meaning, limit=3)
            assert row["arxiv_id"] in [hit.item.paper.arxiv_id for hit in vague.hits]


def test_hybrid_pages_are_cut_from_one_ranking(meaning_site: Any) -> None:
    factory, keyword, meaning, _ = meaning_site
    with factory() as session:

        def page_of(offset: int, limit: int) -> list[str]:
            found = search_papers(
                session, "language model reasoning", keyword=keyword, meaning=meaning,
                limit=limit, offset=offset,
            )  # fmt: skip
            assert found.mode == "hybrid"
            return [hit.item.paper.arxiv_id for hit in found.hits]

        whole = page_of(0, 30)
        assert [paper for offset in (0, 10, 20) for paper in page_of(offset, 10)] == whole


# --- 4. no match, no results -------------------------------------------------------------------
def test_nonsense_finds_nothing_and_says_so(client: httpx.Client) -> None:
    assert ids(search(client, "xqzzyv plorbington")) == []
    response = page(client, "xqzzyv plorbington")
    assert response.status_code == 200
    assert "No papers match “xqzzyv plorbington”." in response.text
    assert "data-arxiv-id=" not in response.text and "Did you mean" not in response.text


def test_a_misspelt_word_gets_a_suggestion_from_the_papers_words(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    texts = [
        f"{r['title']} {r['abstract'] or ''} {' '.join(r['authors'] or [])}".lower()
        for r in hf_rows
    ]
    everything = " ".join(texts)
    # a word of many titles, misspelt by dropping a letter into a word no paper has
    title_words = Counter(w for r in hf_rows for w in re.findall(r"[a-z]{9,}", r["title"].lower()))
    word, misspelt = next(
        (word, word[:3] + word[4:])
        for word, _ in title_words.most_common()
        if word[:3] + word[4:] not in everything
    )
    alone = page(client, misspelt)
    assert f"No papers match “{misspelt}”." in alone.text
    assert suggested(alone.text) == (word, f"/papers?q={word}")
    assert "data-arxiv-id=" in client.get(f"/papers?q={word}").text  # it finds papers
    # beside a common word, the unknown one weighs the most (the query may ask for something
    # the site does not have): nothing matches, and the suggestion is offered
    with_other = page(client, f"{misspelt} models")
    assert f"No papers match “{misspelt} models”." in with_other.text
    assert "data-arxiv-id=" not in with_other.text
    assert suggested(with_other.text) == (f"{word} models", f"/papers?q={word}+models")
    assert "data-arxiv-id=" in client.get(f"/papers?q={word}+models").text


def suggested(html: str) -> tuple[str, str]:
    """The first spelling suggestion of a search page: its text and address."""
    suggestion = html.split('class="suggestions">Did you mean <a href="', 1)[1]
    href, text = suggestion.split('"', 1)[0].replace("&amp;", "&"), suggestion.split(">", 1)[1]
    return text.split("<", 1)[0], href


def test_filters_that_leave_nothing_can_be_dropped_one_by_one(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    row = next(r for r in hf_rows if r["arxiv_id"] == "2510.00184")
    assert "astro-ph.GA" not in (row["categories"] or [])
    params = {"category": "astro-ph.GA", "from": "2025-01-01", "code": "true"}
    response = page(client, "multiplication transformers", **params)
    assert "No papers match “multiplication transformers” with these filters." in response.text
    relax = response.text.split('<ul class="relax-filters">', 1)[1].split("</ul>", 1)[0]
    links = {
        label.strip(): parse_qs(urlsplit(href.replace("&amp;", "&")).query)
        for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)<', relax)
    }
    assert links == {
        "in astro-ph.GA": {"q": ["multiplication transformers"], "from": ["2025-01-01"],
                           "code": ["true"]},
        "published from 2025-01-01": {"q": ["multiplication transformers"],
                                      "category": ["astro-ph.GA"], "code": ["true"]},
        "with code": {"q": ["multiplication transformers"], "category": ["astro-ph.GA"],
                      "from": ["2025-01-01"]},
    }  # fmt: skip
    without_any = page(client, "multiplication transformers")
    assert 'data-arxiv-id="2510.00184"' in without_any.text


@pytest.mark.parametrize(
    "nonsense", ["xqzzyv plorbington", "qwpeoriu zmxncbv", "blorft snizzle wumpus"]
)
def test_search_by_meaning_has_a_relevance_cut_off(meaning_site: Any, nonsense: str) -> None:
    factory, keyword, meaning, rows = meaning_site
    with factory() as session:
        # dense search has nearest neighbours for anything; none is near enough to be a match
        nearest = meaning.dense.search(meaning.embedder.embed([nonsense])[0], 1)
        assert nearest and nearest[0][1] < DENSE_MATCH_SIMILARITY
        found = search_papers(session, nonsense, keyword=keyword, meaning=meaning)
        assert found.mode == "hybrid" and found.hits == [] and found.total == 0
        # while a paper's subject in other words is found by meaning alone
        row = next(r for r in rows if r["arxiv_id"] == "2510.00184")
        paraphrase = "why can't a transformer learn to multiply long numbers"
        assert not {"multiplication", "digit"} & set(query_terms(paraphrase))
        by_meaning = search_papers(session, paraphrase, keyword=keyword, meaning=meaning, limit=3)
        assert row["arxiv_id"] in [hit.item.paper.arxiv_id for hit in by_meaning.hits]


# --- a keyword match has the query's informative words -----------------------------------------
def words_of(row: dict[str, Any]) -> set[str]:
    return set(re.findall(r"\w+", f"{row['title']} {row['abstract'] or ''}".lower()))


OUT_OF_DOMAIN = ["recipe for banana bread with walnuts", "football world cup 2022 final score"]


@pytest.mark.parametrize(
    ("query", "subject"),
    [("recipe for banana bread with walnuts", None), ("football world cup 2022 final score",
                                                      "football")],
)  # fmt: skip
def test_out_of_domain_queries_find_nothing_but_papers_on_their_subject(
    client: httpx.Client, hf_rows: list[dict[str, Any]], query: str, subject: str | None
) -> None:
    """Each shares a word with many papers ("world", "score", "recipe": "a training recipe",
    even "banana": Nano Banana); only papers on the subject itself may come back (a benchmark
    of football World Cup predictions is one)."""
    sharing = [r for r in hf_rows if words_of(r) & set(query_terms(query))]
    assert len(sharing) > 100
    on_subject = {r["arxiv_id"] for r in sharing if subject and subject in words_of(r)}
    assert len(on_subject) < 10
    found = ids(search(client, query, limit=100))
    assert set(found) <= on_subject
    if not found:
        assert f"No papers match “{query}”." in page(client, query).text


def test_every_paper_with_all_the_words_is_a_match(
    client: httpx.Client, hf_rows: list[dict[str, Any]]
) -> None:
    for query in ("speculative decoding", "kv cache compression", "graph neural network"):
        terms = set(query_terms(query))
        having = {r["arxiv_id"] for r in hf_rows if terms <= words_of(r)}
        assert 5 < len(having) < 100
        found = {row["paper"]["id"] for row in every_page(client, query)}
        assert having <= found


@pytest.mark.parametrize("query", [*OUT_OF_DOMAIN, "football transfer news today"])
def test_hybrid_search_finds_nothing_out_of_domain(meaning_site: Any, query: str) -> None:
    factory, keyword, meaning, rows = meaning_site
    on_subject = {r["arxiv_id"] for r in rows if "football" in query and "football" in words_of(r)}
    sharing = {r["arxiv_id"] for r in rows if words_of(r) & set(query_terms(query))}
    assert len(on_subject) <= 2 and len(sharing - on_subject) >= (0 if "banana" in query else 5)
    with factory() as session:
        found = search_papers(session, query, keyword=keyword, meaning=meaning)
        assert found.mode == "hybrid"
        assert {hit.item.paper.arxiv_id for hit in found.hits} <= on_subject
        assert found.total == len(found.hits)


def test_word_weights_and_matches_agree_with_the_papers_text(meaning_site: Any) -> None:
    """Both backends weigh a query's words by how rare they are (a word no paper has: the most)
    and tell which papers have which words."""
    factory, keyword, _, rows = meaning_site
    counts = Counter(word for row in rows for word in words_of(row))
    common = next(
        w for w, _ in counts.most_common() if w.isalpha() and len(w) > 5 and w not in STOPWORDS
    )
    rare = next(w for w, n in counts.items() if n == 2 and w.isalpha() and len(w) > 8)
    terms = [common, rare, "xqzzyv"]
    weights = keyword.word_weights(terms)
    assert weights[2] > weights[1] > weights[0] > 0
    with factory() as session:
        paper_of = dict(session.execute(select(Paper.arxiv_id, Paper.id)).all())
    matched = keyword.matched_words(terms, list(paper_of.values()))
    for row in rows:
        bits = matched.get(paper_of[row["arxiv_id"]], 0)
        assert bits & 4 == 0  # no paper has "xqzzyv"
        assert bits & 1 or common not in words_of(row)
        assert bits & 2 or rare not in words_of(row)
    # Stemming may find a word in more papers (PostgreSQL's Snowball stems "generalization" as
    # "general"), but a rare word stays far rarer than the most common one.
    having_rare = sum(1 for bits in matched.values() if bits & 2)
    having_common = sum(1 for bits in matched.values() if bits & 1)
    assert 2 <= having_rare < having_common / 2
    assert sum(1 for bits in matched.values() if bits & 1) >= counts[common]
