"""RSS 2.0 and Atom feeds, read back with feedparser, with conditional GET."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
import httpx
import pytest
from sqlalchemy import select, update

from dailypapers.papers.importing import load_file
from dailypapers.papers.models import Paper

from .conftest import LiveServer, make_settings, prepare_database


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_daily_and_trending_feeds(
    client: httpx.Client, hf_rows: list[dict[str, Any]], kind: str
) -> None:
    response = client.get(f"/feeds/daily.{kind}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(f"application/{kind}+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == ("rss20" if kind == "rss" else "atom10")
    latest = max(row["featured_date"] for row in hf_rows if row.get("featured_date"))
    top = max(
        (r for r in hf_rows if r.get("featured_date") == latest),
        key=lambda r: (r.get("upvotes") or 0, [-ord(c) for c in r["arxiv_id"]]),
    )
    first = feed.entries[0]
    assert first.link.endswith(f"/papers/{top['arxiv_id']}")
    assert first.id == f"tag:127.0.0.1,2025:paper/{top['arxiv_id']}"  # stable GUID
    assert len(feed.entries) == 50
    again = feedparser.parse(client.get(f"/feeds/daily.{kind}").content)
    assert [e.id for e in again.entries] == [e.id for e in feed.entries]

    trending = feedparser.parse(client.get(f"/feeds/trending.{kind}").content)
    assert not trending.bozo and trending.entries


def test_topic_and_category_feeds(client: httpx.Client) -> None:
    topic = client.get("/feeds/search.atom", params={"q": "multiplication transformers"})
    assert topic.status_code == 200
    parsed = feedparser.parse(topic.content)
    assert not parsed.bozo and "multiplication transformers" in parsed.feed.title
    # Only the last 90 days count: the shared site's papers are older than today, so possibly
    # empty; the feed is still valid.
    category = feedparser.parse(client.get("/feeds/category/cs.CL.rss").content)
    assert not category.bozo and len(category.entries) == 50
    dates = [entry.published_parsed for entry in category.entries]
    assert dates == sorted(dates, reverse=True)
    assert client.get("/feeds/category/not a category!.rss").status_code == 404
    assert client.get("/feeds/search.rss", params={"q": "x" * 2001}).status_code == 422
    assert client.get("/feeds/daily.json").status_code == 422


def test_conditional_get(client: httpx.Client) -> None:
    first = client.get("/feeds/daily.rss")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/feeds/daily.rss", headers={"If-None-Match": etag}).status_code == 304
    assert (
        client.get("/feeds/daily.rss", headers={"If-Modified-Since": modified}).status_code == 304
    )
    older = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get("/feeds/daily.rss", headers={"If-Modified-Since": older}).status_code == 200
    assert (
        client.get("/feeds/daily.rss", headers={"If-Modified-Since": "garbage"}).status_code == 200
    )


CONTROL = "\x01\x0b\x1b\x1f\ufffe"  # characters XML 1.0 forbids


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_feeds_stay_valid_xml_whatever_a_title_holds(
    tmp_path: Path, hf_rows: list[dict[str, Any]], kind: str
) -> None:
    settings = make_settings(tmp_path)
    engine, factory = prepare_database(settings)
    rows = [dict(row) for row in hf_rows if row.get("featured_date")][-5:]
    rows[0]["title"] = f"Cleaned{CONTROL}on the way in"
    rows[1]["authors"] = [f"Ann{CONTROL}Lee", *rows[1]["authors"]]
    source = tmp_path / "papers.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert load_file(factory, source, settings.zone).counts.new == 5
    with factory() as session, session.begin():  # a row stored before titles were cleaned
        session.execute(
            update(Paper)
            .where(Paper.arxiv_id == rows[2]["arxiv_id"])
            .values(title=f"Stored{CONTROL}long ago", abstract=f"An{CONTROL}abstract")
        )
    engine.dispose()

    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        for path in (f"/feeds/daily.{kind}", f"/feeds/trending.{kind}"):
            body = http.get(path).content
            ElementTree.fromstring(body)  # well-formed XML 1.0
            feed = feedparser.parse(body)
            assert not feed.bozo, feed.get("bozo_exception")
            titles = {" ".join(entry.title.split()) for entry in feed.entries}
            assert {"Cleaned on the way in", "Stored long ago"} <= titles
    with factory() as session:
        authors = session.scalar(select(Paper.authors).where(Paper.arxiv_id == rows[1]["arxiv_id"]))
    assert authors is not None and authors[0] == "Ann Lee"
