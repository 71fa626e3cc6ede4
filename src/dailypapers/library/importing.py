"""Importing a reference manager's export into a collection: each entry is found among the
site's papers by the arXiv id it names (eprint, url, doi `10.48550/arXiv.…`, note, journal …),
else by its title: the same title once normalised (case, punctuation, LaTeX braces and accents
do not count), else a nearly identical one (a strict similarity threshold) among the few
papers the keyword index ranks first for the title's words.

The whole import is one transaction, made by the caller after `import_references` returns: a
refused file (too large, too many entries, a line that cannot be read) changes nothing.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pylatexenc.latex2text import LatexNodes2Text
from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.library.bibliography import (
    BadReferenceFile,
    ImportFormat,
    Reference,
    guess_format,
    read_references,
)
from dailypapers.library.models import Collection
from dailypapers.library.service import add_papers
from dailypapers.papers.arxiv_ids import InvalidArxivId, parse_arxiv_id
from dailypapers.papers.models import Paper
from dailypapers.search.protocols import KeywordSearch
from dailypapers.search.query import query_terms, title_key

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ENTRIES = 5_000
TITLE_CANDIDATES = 5  # the keyword index's best matches compared with an entry's title
SIMILAR_TITLE = 0.93  # difflib's ratio of the normalised titles, from which a title matches
MIN_TITLE_CHARS = 12  # shorter titles are matched only exactly
TITLE_BOOSTS = {"title": 1.0}  # the keyword index searched in titles only
IDS_PER_QUERY = 500

Outcome = Literal["matched", "present", "unmatched"]
_ARXIV_IN_TEXT = re.compile(
    r"(?<![\w])((?:\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?)(?![\w])"
)
_latex = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=False)


@dataclass(slots=True)
class ImportedEntry:
    line: int
    title: str
    outcome: Outcome = "unmatched"
    how: str = ""  # "arXiv id in eprint", "same title", "similar title (96%)"
    arxiv_id: str | None = None
    paper_title: str | None = None


@dataclass(slots=True)
class ImportReport:
    collection_id: int
    collection_name: str
    format: ImportFormat
    entries: list[ImportedEntry] = field(default_factory=list)

    def of(self, outcome: Outcome) -> list[ImportedEntry]:
        return [entry for entry in self.entries if entry.outcome == outcome]

    @property
    def matched(self) -> list[ImportedEntry]:
        return self.of("matched")

    @property
    def present(self) -> list[ImportedEntry]:
        return self.of("present")

    @property
    def unmatched(self) -> list[ImportedEntry]:
        return self.of("unmatched")


def read_upload(data: bytes, filename: str) -> tuple[str, ImportFormat]:
    """The file's text and format; BadReferenceFile for one too large or not text."""
    if len(data) > MAX_FILE_BYTES:
        raise BadReferenceFile(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; at most "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB are imported at once. "
            "Split it into smaller files."
        )
    if not data.strip():
        raise BadReferenceFile("The file is empty.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise BadReferenceFile(
            f"line {line}: not UTF-8 text (export the file as UTF-8 from your reference manager)."
        ) from None
    if "\x00" in text:
        raise BadReferenceFile(f"line {text[: text.index(chr(0))].count(chr(10)) + 1}: not text.")
    return text, guess_format(filename, text)


def arxiv_id_in(name: str, text: str) -> str | None:
    """The arXiv id a field names: the whole field (an eprint), or one written after "arXiv"
    or in an arXiv URL or DOI (so that another DOI's digits are never taken for one)."""
    text = text.strip()
    try:
        return parse_arxiv_id(text).id
    except InvalidArxivId:
        pass
    lowered = text.lower()
    if "arxiv" not in lowered:
        return None
    for found in _ARXIV_IN_TEXT.finditer(text[lowered.index("arxiv") :]):
        try:
            return parse_arxiv_id(found.group(1)).id
        except InvalidArxivId:
            continue
    return None


def normalised_title(title: str) -> str:
    """Lower-case words only: LaTeX markup ({Braces}, \\"o, \\emph{…}) and punctuation gone."""
    if "\\" in title or "{" in title:
        try:
            title = _latex.latex_to_text(title)
        except Exception:  # pylatexenc refuses some malformed markup: keep the text as it is
            title = title.replace("{", "").replace("}", "")
    return title_key(title)


def import_references(
    session: Session,
    collection: Collection,
    references: list[Reference],
    *,
    keyword: KeywordSearch,
    format: ImportFormat,
) -> ImportReport:
    """Find each reference's paper and add the found ones to the collection (no commit)."""
    report = ImportReport(collection.id, collection.name, format)
    found: dict[int, tuple[int, str, str]] = {}  # entry index: (paper id, arXiv id, how)
    named: dict[int, tuple[str, str]] = {}
    for index, reference in enumerate(references):
        for name, text in reference.clues:
            arxiv_id = arxiv_id_in(name, text)
            if arxiv_id is not None:
                named[index] = (arxiv_id, f"arXiv id in {name}")
                break
    by_id = _papers_by_arxiv_id(session, [arxiv_id for arxiv_id, _ in named.values()])
    for index, (arxiv_id, how) in named.items():
        if arxiv_id in by_id:
            found[index] = (by_id[arxiv_id][0], arxiv_id, how)
    by_title = {
        index: reference
        for index, reference in enumerate(references)
        if index not in found and reference.title.strip()
    }
    found.update(_by_titles(session, keyword, by_title))
    titles = _titles(session, [paper_id for paper_id, _, _ in found.values()])
    added = set(add_papers(session, collection, [found[i][0] for i in sorted(found)]))
    for index, reference in enumerate(references):
        entry = ImportedEntry(reference.line, _shown_title(reference.title))
        if index in found:
            paper_id, arxiv_id, how = found[index]
            entry.arxiv_id, entry.how, entry.paper_title = arxiv_id, how, titles.get(paper_id)
            entry.outcome = "matched" if paper_id in added else "present"
            added.discard(paper_id)  # a second entry of the same paper: already present
        elif index in named:
            entry.arxiv_id, entry.how = named[index][0], "not on this site"
        report.entries.append(entry)
    return report


def _shown_title(title: str) -> str:
    text = " ".join(title.replace("{", "").replace("}", "").split())
    return text[:300] or "(no title)"


def _papers_by_arxiv_id(session: Session, arxiv_ids: list[str]) -> dict[str, tuple[int, str]]:
    wanted = list(dict.fromkeys(arxiv_ids))
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(wanted), IDS_PER_QUERY):
        rows = session.execute(
            select(Paper.arxiv_id, Paper.id, Paper.title).where(
                Paper.arxiv_id.in_(wanted[start : start + IDS_PER_QUERY]), Paper.hidden.is_(False)
            )
        )
        found.update({arxiv_id: (paper_id, title) for arxiv_id, paper_id, title in rows})
    return found


def _titles(session: Session, paper_ids: list[int]) -> dict[int, str]:
    titles: dict[int, str] = {}
    unique = list(dict.fromkeys(paper_ids))
    for start in range(0, len(unique), IDS_PER_QUERY):
        rows = session.execute(
            select(Paper.id, Paper.title).where(Paper.id.in_(unique[start : start + IDS_PER_QUERY]))
        )
        titles.update({paper_id: title for paper_id, title in rows})
    return titles


def _by_titles(
    session: Session, keyword: KeywordSearch, references: dict[int, Reference]
) -> dict[int, tuple[int, str, str]]:
    """Each reference's paper by title (entry index: paper id, arXiv id, how): the keyword
    index proposes a few papers per title, read from the database in batches, then compared."""
    wanted: dict[int, str] = {}
    proposed: dict[int, list[int]] = {}
    for index, reference in references.items():
        title = normalised_title(reference.title)
        if title:
            wanted[index] = title
            hits = keyword.search(query_terms(title), limit=TITLE_CANDIDATES, boosts=TITLE_BOOSTS)
            proposed[index] = [paper_id for paper_id, _ in hits]
    papers: dict[int, tuple[str, str, date | None]] = {}  # id: arXiv id, normalised title, date
    every = list(dict.fromkeys(paper_id for ids in proposed.values() for paper_id in ids))
    for start in range(0, len(every), IDS_PER_QUERY):
        rows = session.execute(
            select(Paper.id, Paper.arxiv_id, Paper.title, Paper.published_date).where(
                Paper.id.in_(every[start : start + IDS_PER_QUERY]), Paper.hidden.is_(False)
            )
        )
        for paper_id, arxiv_id, title, published in rows:
            papers[paper_id] = (arxiv_id, normalised_title(title), published)
    found = {}
    for index, title in wanted.items():
        candidates = [
            (paper_id, *papers[paper_id]) for paper_id in proposed[index] if paper_id in papers
        ]
        match = _best_title(title, references[index].year, candidates)
        if match is not None:
            found[index] = match
    return found


def _best_title(
    wanted: str, year: int | None, candidates: list[tuple[int, str, str, date | None]]
) -> tuple[int, str, str] | None:
    """The paper with the same normalised title, else the most similar one past the threshold
    (and, when the entry gives a year, published within a year of it)."""
    best: tuple[float, int, str] | None = None
    for paper_id, arxiv_id, theirs, published in candidates:
        if theirs == wanted:
            return paper_id, arxiv_id, "same title"
        if len(wanted) < MIN_TITLE_CHARS:
            continue
        if year and published and abs(published.year - year) > 1:
            continue
        matcher = difflib.SequenceMatcher(None, wanted, theirs, autojunk=False)
        if matcher.real_quick_ratio() < SIMILAR_TITLE or matcher.quick_ratio() < SIMILAR_TITLE:
            continue
        ratio = matcher.ratio()
        if ratio >= SIMILAR_TITLE and (best is None or ratio > best[0]):
            best = (ratio, paper_id, arxiv_id)
    if best is None:
        return None
    return best[1], best[2], f"similar title ({best[0]:.0%})"


def import_file(
    session: Session,
    collection: Collection,
    data: bytes,
    filename: str,
    *,
    keyword: KeywordSearch,
) -> ImportReport:
    """Read, match and add (the caller commits); BadReferenceFile before anything is added."""
    text, format = read_upload(data, filename)
    references = read_references(text, format, max_entries=MAX_ENTRIES)
    return import_references(session, collection, references, keyword=keyword, format=format)
