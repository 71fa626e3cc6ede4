"""What goes over the wire: gzip for every kind of text the site sends, with ETags and 304s
still right (pages from the response cache, static files from StaticFiles, streams); each
paper as Markdown at /papers/{id}.md, read by `hf papers read`; /docs from packaged files."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from huggingface_hub import HfApi
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from dailypapers.papers.importing import load_file
from dailypapers.web.compression import MINIMUM_SIZE, CompressionMiddleware

from .conftest import LiveServer, make_settings, prepare_database

GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}
HOME_BUDGET_BYTES = 25 * 1024  # issue 15: the home page, compressed
OLD_STYLE = "hep-th/9901001"


def raw(client: httpx.Client, path: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The answer and its bytes exactly as sent (httpx would decompress `.content`)."""
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def vary(response: httpx.Response) -> set[str]:
    return {part.strip().lower() for part in response.headers.get("vary", "").split(",")}


@pytest.fixture(scope="module")
def rows_by_id(hf_rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The shared site's papers that come from exactly one row (so the row is the paper)."""
    counts = Counter(row["arxiv_id"] for row in hf_rows)
    return {row["arxiv_id"]: row for row in hf_rows if counts[row["arxiv_id"]] == 1}


@pytest.fixture(scope="module")
def complete_row(rows_by_id: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A paper with everything a page can show: abstract, AI summary and keywords, links."""
    fields = ("abstract", "ai_summary", "ai_keywords", "github_url", "project_page", "published")
    return next(row for row in rows_by_id.values() if all(row.get(f) for f in fields))


# --- Compression ----------------------------------------------------------------------------


def text_answers(client: httpx.Client, row: dict[str, Any]) -> dict[str, str]:
    """One URL of each kind of text the site sends, by its media type."""
    return {
        "text/html": "/",
        "application/json": "/api/daily_papers?limit=20",
        "text/css": "/static/style.css",
        "text/javascript": "/static/app.js",
        "application/rss+xml": "/feeds/daily.rss",
        "application/atom+xml": "/feeds/daily.atom",
        "text/markdown": f"/papers/{row['arxiv_id']}.md",
    }


def test_every_kind_of_text_is_gzipped_to_the_same_bytes(
    client: httpx.Client, complete_row: dict[str, Any]
) -> None:
    for media_type, path in text_answers(client, complete_row).items():
        plain, plain_bytes = raw(client, path, PLAIN)
        zipped, zipped_bytes = raw(client, path, GZIP)
        assert plain.status_code == zipped.status_code == 200, path
        assert zipped.headers["content-type"].startswith(media_type), path
        assert len(plain_bytes) >= MINIMUM_SIZE, path  # big enough to be worth it
        assert "content-encoding" not in plain.headers, path
        assert zipped.headers["content-encoding"] == "gzip", path
        assert int(zipped.headers["content-length"]) == len(zipped_bytes), path
        assert gzip.decompress(zipped_bytes) == plain_bytes, path
        assert len(zipped_bytes) < len(plain_bytes), path
        # Caches between here and the reader keep the two apart.
        assert "accept-encoding" in vary(plain) and "accept-encoding" in vary(zipped), path


def test_small_answers_and_images_are_sent_as_they_are(client: httpx.Client) -> None:
    health, body = raw(client, "/healthz", GZIP)
    assert len(body) < MINIMUM_SIZE and "content-encoding" not in health.headers
    json.loads(body)  # plain JSON on the wire
    svg, _ = raw(client, "/static/favicon.svg", GZIP)
    assert svg.status_code == 200


def test_a_cached_page_answers_304_to_a_client_that_accepts_gzip(client: httpx.Client) -> None:
    for path in ("/", "/api/daily_papers?limit=5"):
        first, _ = raw(client, path, GZIP)
        etag = first.headers["etag"]
        assert etag.startswith('W/"')
        again, body = raw(client, path, {**GZIP, "If-None-Match": etag})
        assert again.status_code == 304 and body == b"", path
        assert again.headers["etag"] == etag
        # The plain answer is another representation: another ETag, and a 200 for it.
        plain, _ = raw(client, path, PLAIN)
        assert plain.headers["etag"] != etag
        assert raw(client, path, {**PLAIN, "If-None-Match": etag})[0].status_code == 200


def test_the_cache_never_sends_gzip_to_a_client_that_did_not_ask(client: httpx.Client) -> None:
    path = "/api/daily_papers?limit=7"
    raw(client, path, GZIP)  # kept, compressed
    plain, body = raw(client, path, PLAIN)
    assert "content-encoding" not in plain.headers
    assert len(json.loads(body)) == 7


def test_static_files_are_gzipped_and_still_answer_304(client: httpx.Client) -> None:
    for path in ("/static/style.css", "/static/app.js", "/static/docs/swagger-ui.css"):
        zipped, zipped_bytes = raw(client, path, GZIP)
        plain, plain_bytes = raw(client, path, PLAIN)
        assert zipped.headers["content-encoding"] == "gzip", path
        assert gzip.decompress(zipped_bytes) == plain_bytes, path
        # The gzipped bytes are not the file's: their ETag is weak, the plain one strong.
        assert zipped.headers["etag"] == "W/" + plain.headers["etag"], path
        for etag in (zipped.headers["etag"], plain.headers["etag"]):
            again, body = raw(client, path, {**GZIP, "If-None-Match": etag})
            assert again.status_code == 304 and body == b"", (path, etag)


def test_head_requests_still_work(client: httpx.Client) -> None:
    response = client.head("/static/style.css", headers=GZIP)
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) == len(client.get("/static/style.css").content)


def test_a_stream_is_gzipped_chunk_by_chunk() -> None:
    """No route streams today (feeds and lists are rendered whole); an export that streams
    must still arrive whole, and each chunk as it is made."""
    lines = [f"line {n}: " + "paper " * 40 + "\n" for n in range(200)]

    async def stream(request: Any) -> StreamingResponse:
        async def chunks() -> Any:
            for line in lines:
                yield line.encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    app = CompressionMiddleware(Starlette(routes=[Route("/export", stream)]))
    with TestClient(app) as http:
        response, body = raw(http, "/export", GZIP)
        assert response.headers["content-encoding"] == "gzip"
        assert "content-length" not in response.headers
        assert gzip.decompress(body).decode() == "".join(lines)
        assert http.get("/export", headers=PLAIN).text == "".join(lines)


def test_the_home_page_is_light(client: httpx.Client) -> None:
    response, body = raw(client, "/", GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert len(body) <= HOME_BUDGET_BYTES, f"home page: {len(body)} bytes gzipped"


# --- /papers/{id}.md --------------------------------------------------------------------------


def test_a_paper_as_markdown(
    client: httpx.Client, complete_row: dict[str, Any], live_server: LiveServer
) -> None:
    arxiv_id = complete_row["arxiv_id"]
    response = client.get(f"/papers/{arxiv_id}.md")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    text = response.text
    lines = text.splitlines()
    assert lines[0] == "# " + " ".join(complete_row["title"].split())
    assert f"**Authors:** {', '.join(complete_row['authors'])}" in lines
    assert f"- **Published:** {complete_row['published']}" in lines
    assert any(
        line.startswith(f"- **Featured:** {complete_row['featured_date']}") for line in lines
    )
    assert f"- **Upvotes:** {complete_row['upvotes'] or 0}" in lines
    if complete_row.get("num_comments"):  # Hugging Face's count, labelled as such
        assert f"{complete_row['num_comments']} on Hugging Face" in text
    # The sections in their order, each with its text.
    order = [lines.index(heading) for heading in ("## Abstract", "## AI summary", "## Links")]
    assert order == sorted(order)
    assert " ".join(complete_row["abstract"].split()) in lines
    assert complete_row["ai_summary"].strip() in lines
    assert f"**AI keywords:** {', '.join(complete_row['ai_keywords'])}" in lines
    for link in (
        f"https://arxiv.org/abs/{arxiv_id}",
        f"https://arxiv.org/pdf/{arxiv_id}",
        complete_row["github_url"],
        complete_row["project_page"],
        f"/papers/{arxiv_id}",
    ):
        assert link in text, link


def test_a_paper_without_ai_summary_has_no_such_section(
    client: httpx.Client, rows_by_id: dict[str, dict[str, Any]]
) -> None:
    row = next(r for r in rows_by_id.values() if not r.get("ai_summary") and not r.get("abstract"))
    text = client.get(f"/papers/{row['arxiv_id']}.md").text
    assert text.startswith("# ")
    assert "## AI summary" not in text and "## Abstract" not in text and "## Links" in text


def test_unknown_and_malformed_ids_are_404_with_a_sentence(
    client: httpx.Client, rows_by_id: dict[str, dict[str, Any]]
) -> None:
    known = set(rows_by_id)
    unknown = next(f"2501.{n:05d}" for n in range(99_999, 0, -1) if f"2501.{n:05d}" not in known)
    for path in (f"/papers/{unknown}.md", "/papers/not-an-id.md", "/papers/.md"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/plain"), path
        assert response.text.endswith(".\n") and len(response.text.split()) >= 3, path
    assert unknown in client.get(f"/papers/{unknown}.md").text


def test_a_versioned_id_reads_the_paper(client: httpx.Client, complete_row: dict[str, Any]) -> None:
    plain = client.get(f"/papers/{complete_row['arxiv_id']}.md")
    versioned = client.get(f"/papers/{complete_row['arxiv_id']}v1.md")
    assert versioned.status_code == 200 and versioned.text == plain.text


def test_hf_papers_read_prints_our_page(
    live_server: LiveServer, client: httpx.Client, complete_row: dict[str, Any]
) -> None:
    arxiv_id = complete_row["arxiv_id"]
    ours = client.get(f"/papers/{arxiv_id}.md").text
    assert HfApi(endpoint=live_server.url).read_paper(arxiv_id) == ours
    hf = Path(sys.executable).with_name("hf")
    env = {
        **os.environ,
        "HF_ENDPOINT": live_server.url,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HOME": str(Path(live_server.app.state.site.settings.data_dir) / "hf-home"),
        "NO_COLOR": "1",
    }
    env.pop("HF_TOKEN", None)
    done = subprocess.run(
        [str(hf), "papers", "read", arxiv_id], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ours.strip()
    missing = subprocess.run(
        [str(hf), "papers", "read", "2501.99999"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode != 0 and "not found" in missing.stderr


@pytest.fixture(scope="module")
def old_style_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("old-style"))
    engine, factory = prepare_database(settings)
    source = settings.data_dir / "old-style.jsonl"
    row = {
        "arxiv_id": f"{OLD_STYLE}v2",
        "title": "Large N field theories,\n  string theory and gravity",
        "authors": ["Ann Lee", "Bo Chen"],
        "published": "1999-01-01",
        "featured_date": "2025-01-06",
        "categories": ["hep-th", "gr-qc"],
        "abstract": "We review the holographic\n  correspondence. Then we test it.",
    }
    source.write_text(json.dumps(row) + "\n")
    assert load_file(factory, source, settings.zone).counts.new == 1
    with LiveServer(settings) as server:
        yield server
    engine.dispose()


def test_an_old_style_id_as_markdown(old_style_site: LiveServer) -> None:
    response = httpx.get(f"{old_style_site.url}/papers/{OLD_STYLE}.md", timeout=30)
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert lines[0] == "# Large N field theories, string theory and gravity"
    assert f"- **arXiv:** [{OLD_STYLE}v2](https://arxiv.org/abs/{OLD_STYLE})" in lines
    assert "- **Categories:** hep-th, gr-qc" in lines
    # The abstract on one line (the loader folds arXiv's line breaks), after its heading.
    start = lines.index("## Abstract")
    assert lines[start + 2] == "We review the holographic correspondence. Then we test it."
    # The HTML page is still there.
    assert httpx.get(f"{old_style_site.url}/papers/{OLD_STYLE}", timeout=30).status_code == 200


# --- /docs ----------------------------------------------------------------------------------


def test_docs_load_nothing_from_elsewhere(client: httpx.Client) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "https://" not in docs.text
    for asset in (
        "/static/docs/swagger-ui-bundle.js",
        "/static/docs/swagger-ui.css",
        "/static/swagger-init.js",
    ):
        assert f'"{asset}"' in docs.text
        assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 404
