"""The template filters of pages and emails (one Jinja environment each, the same filters)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from dailypapers.display.highlight import highlight
from dailypapers.display.latex import render_latex

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
AUTHORS_SHOWN = 3
ABSTRACT_PREVIEW_CHARS = 280


def authors_short(authors: list[str]) -> str:
    """'A, B, C and 12 more' for cards."""
    if len(authors) <= AUTHORS_SHOWN + 1:
        return ", ".join(authors)
    return f"{', '.join(authors[:AUTHORS_SHOWN])} and {len(authors) - AUTHORS_SHOWN} more"


def split_abstract(text: str | None) -> tuple[str, str]:
    """The preview shown on a card and the rest, split at a word boundary."""
    if not text or len(text) <= ABSTRACT_PREVIEW_CHARS:
        return text or "", ""
    cut = text.rfind(" ", 0, ABSTRACT_PREVIEW_CHARS)
    cut = cut if cut > ABSTRACT_PREVIEW_CHARS // 2 else ABSTRACT_PREVIEW_CHARS
    # Never cut inside $...$ math: move the cut after the closing dollar.
    if text[:cut].count("$") % 2 == 1:
        closing = text.find("$", cut)
        cut = closing + 1 if closing != -1 else len(text)
    return text[:cut], text[cut:]


def long_date(day: date | None) -> str:
    return day.strftime("%b %-d, %Y") if day else ""


def thousands(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value / 1000:.1f}k" if value >= 1000 else str(value)


def highlight_terms(text: str | None, terms: tuple[str, ...] = ()) -> Markup:
    """Title or abstract HTML, with the search query's words marked when there is a query."""
    return highlight(text, tuple(terms)) if terms else render_latex(text)


def author_url(name: str) -> str:
    """The author's page: /authors/{name}, the name escaped whole (slashes included)."""
    return f"/authors/{quote(name, safe='')}"


def member_url(name: str) -> str:
    """A member's (or an imported submitter's) page: /members/{name}."""
    return f"/members/{quote(name, safe='')}"


def category_url(category: str) -> str:
    """An arXiv category's page: /papers/category/cs.LG."""
    return f"/papers/category/{quote(category, safe='.-')}"


FILTERS: dict[str, Any] = {
    "latex": render_latex,
    "highlight": highlight_terms,
    "authors_short": authors_short,
    "long_date": long_date,
    "thousands": thousands,
    "author_url": author_url,
    "member_url": member_url,
    "category_url": category_url,
}
