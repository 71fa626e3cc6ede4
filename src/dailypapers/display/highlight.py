"""Marking the query's words in titles and abstracts, safely escaped, LaTeX still rendered."""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup

from dailypapers.display.latex import render_latex

# Private-use characters stand in for <mark> while the text is escaped and rendered.
_START, _END = "\ue000", "\ue001"
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "es", "ed", "s", "ly")


def _stem(term: str) -> str:
    """A crude stem, so "structures" marks "structure" (the keyword index stems)."""
    for suffix in _SUFFIXES:
        if term.endswith(suffix) and len(term) - len(suffix) >= 4:
            return term[: -len(suffix)]
    return term


@lru_cache(maxsize=256)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """Words starting with a term's stem; short terms (e.g. "gan") only as whole words."""
    stems = sorted({_stem(term) for term in terms if len(term) > 1}, key=len, reverse=True)
    if not stems:
        return None
    alternatives = [re.escape(s) + (r"\w*" if len(s) >= 4 else r"\b") for s in stems]
    return re.compile(r"\b(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


def highlight(text: str | None, terms: tuple[str, ...]) -> Markup:
    """HTML of `text` (escaped, LaTeX rendered) with the query's words in <mark>."""
    if not text:
        return Markup("")
    clean = text.replace(_START, "").replace(_END, "")
    pattern = _pattern(terms)
    if pattern is not None:
        clean = pattern.sub(lambda match: f"{_START}{match.group(0)}{_END}", clean)
    html = str(render_latex(clean))
    return Markup(html.replace(_START, "<mark>").replace(_END, "</mark>"))
