"""Each paper as Markdown at /papers/{arxiv_id}.md, the URL `hf papers read ID` fetches from
its endpoint (huggingface_hub's `HfApi.read_paper`): with HF_ENDPOINT set to this site, the
command prints our page. Old-style ids work too (/papers/hep-th/9901001.md).

Plain text for terminals and language models: the title, who wrote it, its dates and counts,
the abstract, the AI summary and keywords when there are any, and the links. The text is
written as stored (TeX included); only line breaks inside a title are folded.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import PlainTextResponse, Response

from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.lookup import paper_by_arxiv_id
from dailypapers.papers.models import Paper
from dailypapers.web.deps import SessionDep, SettingsDep

MEDIA_TYPE = "text/markdown; charset=utf-8"

# Registered before reading/pages.py's /papers/{arxiv_id:path}, which would take these URLs.
router = APIRouter()


@router.get("/papers/{arxiv_id:path}.md", include_in_schema=False)
def paper_as_markdown(arxiv_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    try:
        parsed = parse_arxiv_id(arxiv_id)
    except InvalidArxivId as error:
        return PlainTextResponse(f"{error}. Try /papers/2510.00184.md.\n", status_code=404)
    paper = paper_by_arxiv_id(session, parsed.id)
    if paper is None:
        return PlainTextResponse(f"No paper {parsed.id} here.\n", status_code=404)
    return Response(paper_markdown(paper, settings.base_url), media_type=MEDIA_TYPE)


def paper_markdown(paper: Paper, site_url: str) -> str:
    """The paper's page as Markdown; `site_url` is this site's base URL (links back to it)."""
    entry = paper.daily_entry
    version = f"v{paper.version}" if paper.version else ""
    facts = [f"- **arXiv:** [{paper.arxiv_id}{version}]({_abs_url(paper)})"]
    if paper.published_date:
        facts.append(f"- **Published:** {paper.published_date.isoformat()}")
    if entry is not None:
        featured = f"- **Featured:** {entry.featured_date.isoformat()}"
        if entry.submitter_name:
            featured += f" (submitted by {entry.submitter_name})"
        facts.append(featured)
    facts.append(f"- **Upvotes:** {paper.upvotes}")
    comments = f"- **Comments:** {paper.num_comments}"
    if paper.imported_comments:
        comments += (
            f" here · {paper.imported_comments} on Hugging Face "
            f"(https://huggingface.co/papers/{paper.arxiv_id})"
        )
    facts.append(comments)
    if paper.categories:
        facts.append(f"- **Categories:** {', '.join(paper.categories)}")
    if paper.withdrawn:
        facts.append("- **Withdrawn** by its authors.")

    parts = [f"# {_one_line(paper.title)}", ""]
    if paper.authors:
        parts += [f"**Authors:** {', '.join(_one_line(name) for name in paper.authors)}", ""]
    parts += [*facts, ""]
    if paper.abstract:
        parts += ["## Abstract", "", *_paragraphs(paper.abstract)]
    if paper.ai_summary:
        parts += ["## AI summary", "", *_paragraphs(paper.ai_summary)]
    if paper.ai_keywords:
        parts += [f"**AI keywords:** {', '.join(paper.ai_keywords)}", ""]
    parts += ["## Links", "", *_links(paper, site_url), ""]
    return "\n".join(parts)


def _links(paper: Paper, site_url: str) -> list[str]:
    links = [
        f"- arXiv: {_abs_url(paper)}",
        f"- PDF: https://arxiv.org/pdf/{paper.arxiv_id}",
    ]
    if paper.github_url:
        stars = f" (★ {paper.github_stars:,})" if paper.github_stars else ""
        links.append(f"- Code: {paper.github_url}{stars}")
    if paper.project_page:
        links.append(f"- Project page: {paper.project_page}")
    links.append(f"- On this site: {site_url}/papers/{paper.arxiv_id}")
    return links


def _abs_url(paper: Paper) -> str:
    return f"https://arxiv.org/abs/{paper.arxiv_id}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _paragraphs(text: str) -> list[str]:
    """Each paragraph on one line (arXiv wraps abstracts at ~80 columns), a blank line after."""
    lines: list[str] = []
    for block in text.strip().split("\n\n"):
        if block.strip():
            lines += [_one_line(block), ""]
    return lines
