"""Spelling suggestions for a search that found nothing, from the words the site's papers use.

A query word the keyword index does not know is compared with the words of the papers nearest
to the query by meaning (their titles and abstracts: the subject's own vocabulary), of the
newest titles, and of common English (the embedder's vocabulary); a word one edit away (a
letter added, dropped, changed, or two swapped) replaces it, when the index knows that word.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.papers.models import Paper
from dailypapers.search.protocols import KeywordSearch
from dailypapers.search.query import english_ranks, query_terms

SUGGESTIONS = 3  # at most, offered per search
MAX_QUERY_WORDS = 8  # a longer query is prose: no word-by-word suggestions
NEIGHBOUR_PAPERS = 30  # the nearest by meaning whose words are candidates
TITLE_SAMPLE = 5_000  # the newest titles whose words are candidates
TITLES_SECONDS = 600.0  # how long a process keeps the newest titles' words
CHECKED_PER_WORD = 4  # candidates asked of the keyword index per unknown word
_WORD = re.compile(r"[^\W\d_]{3,}")
_titles: tuple[float, Counter[str]] = (-TITLES_SECONDS, Counter())
_titles_lock = threading.Lock()


def spelling_suggestions(
    session: Session,
    keyword: KeywordSearch,
    query: str,
    *,
    neighbours: list[int],
) -> list[str]:
    """Up to SUGGESTIONS corrected queries, best first: each word the index does not know
    replaced by a known one (the filters are kept by the links, and can be dropped there)."""
    words = query_terms(query)
    if not words or len(words) > MAX_QUERY_WORDS:
        return []
    unknown = [word for word in words if not keyword.search([word], limit=1)]
    if not unknown:
        return []  # every word is known: the combination (or the filters) found nothing
    near = _words_of(session, neighbours[:NEIGHBOUR_PAPERS])
    newest = _newest_title_words(session)
    ranks = english_ranks()

    def preference(word: str) -> tuple[int, int, int]:
        return (-near[word], -newest[word], ranks.get(word, len(ranks) + 1))

    replacements: dict[str, list[str]] = {}
    for word in unknown:
        candidates = sorted(_one_edit_away(word, [*near, *newest, *ranks]), key=preference)
        known = [c for c in candidates[:CHECKED_PER_WORD] if keyword.search([c], limit=1)]
        if known:
            replacements[word] = known
    if not replacements:
        return []
    suggestions: list[str] = []
    for choice in range(CHECKED_PER_WORD):
        corrected = query
        for word, known in replacements.items():
            corrected = _replace(corrected, word, known[min(choice, len(known) - 1)])
        if corrected not in suggestions and corrected != query:
            suggestions.append(corrected)
        if len(suggestions) == SUGGESTIONS:
            break
    return suggestions


def one_edit_apart(a: str, b: str) -> bool:
    """Whether `b` is `a` with one letter added, dropped or changed, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    if a[i + 1 :] == b[i + 1 :]:
        return True
    return i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]


def _one_edit_away(word: str, vocabulary: Iterable[str]) -> set[str]:
    length = len(word)
    return {
        other
        for other in vocabulary
        if abs(len(other) - length) <= 1 and one_edit_apart(word, other)
    }


def _words_of(session: Session, paper_ids: list[int]) -> Counter[str]:
    """How often each word appears in the titles and abstracts of these papers."""
    if not paper_ids:
        return Counter()
    rows = session.execute(
        select(Paper.title, Paper.abstract).where(Paper.id.in_(paper_ids), Paper.hidden.is_(False))
    )
    return Counter(
        word
        for title, abstract in rows
        for word in _WORD.findall(f"{title} {abstract or ''}".lower())
    )


def _newest_title_words(session: Session) -> Counter[str]:
    """The words of the newest titles, read again every TITLES_SECONDS."""
    global _titles
    read_at, words = _titles
    if time.monotonic() - read_at < TITLES_SECONDS:
        return words
    with _titles_lock:
        if time.monotonic() - _titles[0] < TITLES_SECONDS:
            return _titles[1]
        titles = session.scalars(select(Paper.title).order_by(Paper.id.desc()).limit(TITLE_SAMPLE))
        words = Counter(word for title in titles for word in _WORD.findall(title.lower()))
        _titles = (time.monotonic(), words)
        return words


def _replace(query: str, word: str, replacement: str) -> str:
    """The query with `word` (any case, whole words only) replaced."""
    return re.sub(rf"\b{re.escape(word)}\b", replacement, query, flags=re.IGNORECASE)
