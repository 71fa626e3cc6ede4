"""Papers as reference managers read them (BibTeX, RIS, CSL-JSON), and the references of such
a file read back: what each entry says about its arXiv id and title, with its line number.

Export: each paper is an arXiv preprint, as Zotero describes one: BibTeX `@misc` with `eprint`,
`archivePrefix = {arXiv}`, `primaryClass`, `url` and arXiv's DOI (`10.48550/arXiv.<id>`); RIS
`TY  - UNPB`; CSL-JSON `"type": "article"` with the same DOI and URL. Authors are kept as
arXiv gives them ("Ada Lovelace"), joined by " and " in BibTeX.

Import: `read_references` parses a file (its format told by its name or its first character)
with bibtexparser, rispy or json, and refuses a broken one with "line N: reason".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import bibtexparser
import rispy
from bibtexparser import model

from dailypapers.papers.feed import PaperCard

ExportFormat = Literal["bib", "ris", "json"]
MEDIA_TYPES: dict[str, str] = {
    "bib": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "json": "application/vnd.citationstyles.csl+json; charset=utf-8",
}
ARXIV_DOI_PREFIX = "10.48550/arXiv."


def arxiv_doi(arxiv_id: str) -> str:
    return ARXIV_DOI_PREFIX + arxiv_id


def _braces_balanced(text: str) -> bool:
    if "{" not in text and "}" not in text:
        return True
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _bibtex_value(text: str) -> str:
    """A value that cannot end its field early: unbalanced braces are escaped."""
    text = " ".join(text.split())
    if not _braces_balanced(text):
        text = text.replace("{", r"\{").replace("}", r"\}")
    return text


def _bibtex_author(name: str) -> str:
    """A name BibTeX reads as one person ("A and B Lab" would be two)."""
    name = _bibtex_value(name)
    return f"{{{name}}}" if re.search(r"\sand\s", name, re.IGNORECASE) or "," in name else name


def citation_key(paper: PaperCard) -> str:
    """`lovelace2017_1706.03762`: the first author's last name, the year, the arXiv id."""
    last = re.sub(r"[^a-z]", "", (paper.authors[0].split()[-1] if paper.authors else "").lower())
    year = paper.published_date.year if paper.published_date else ""
    return f"{last or 'arxiv'}{year}_{paper.arxiv_id.replace('/', '_')}"


def to_bibtex(papers: Iterable[PaperCard]) -> str:
    """One `@misc` entry per paper. Written directly (values are brace-balanced by
    `_bibtex_value`): bibtexparser's writer takes ~0.3 ms per entry, seconds for a large
    collection; the tests read the file back with bibtexparser."""
    entries = []
    for paper in papers:
        fields = [
            ("title", _bibtex_value(paper.title)),
            ("author", " and ".join(_bibtex_author(name) for name in paper.authors)),
            ("year", str(paper.published_date.year) if paper.published_date else ""),
            ("eprint", paper.arxiv_id),
            ("archivePrefix", "arXiv"),
            ("primaryClass", paper.primary_category or ""),
            ("url", f"https://arxiv.org/abs/{paper.arxiv_id}"),
            ("doi", arxiv_doi(paper.arxiv_id)),
            ("abstract", _bibtex_value(paper.abstract or "")),
        ]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
        entries.append(f"@misc{{{citation_key(paper)},\n{body}\n}}\n")
    return "\n".join(entries)


def to_ris(papers: Iterable[PaperCard]) -> str:
    records = []
    for paper in papers:
        record: dict[str, Any] = {
            "type_of_reference": "UNPB",
            "title": " ".join(paper.title.split()),
            "authors": [" ".join(name.split()) for name in paper.authors],
            "urls": [f"https://arxiv.org/abs/{paper.arxiv_id}"],
            "doi": arxiv_doi(paper.arxiv_id),
            "publisher": "arXiv",
            "notes": [f"arXiv:{paper.arxiv_id}"],
            "keywords": list(paper.categories),
        }
        if paper.published_date:
            record["year"] = str(paper.published_date.year)
            record["date"] = paper.published_date.strftime("%Y/%m/%d")
        if paper.abstract:
            record["abstract"] = " ".join(paper.abstract.split())
        records.append(record)
    return str(rispy.dumps(records))


def _csl_name(name: str) -> dict[str, str]:
    """As BibTeX reads "First Last": the last word is the family name."""
    given, _, family = name.strip().rpartition(" ")
    return {"family": family, "given": given} if given else {"literal": name}


def csl_item(paper: PaperCard) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"arXiv:{paper.arxiv_id}",
        "type": "article",
        "title": paper.title,
        "author": [_csl_name(name) for name in paper.authors],
        "publisher": "arXiv",
        "number": f"arXiv:{paper.arxiv_id}",
        "DOI": arxiv_doi(paper.arxiv_id),
        "URL": f"https://arxiv.org/abs/{paper.arxiv_id}",
    }
    if paper.published_date:
        day = paper.published_date
        item["issued"] = {"date-parts": [[day.year, day.month, day.day]]}
    if paper.abstract:
        item["abstract"] = paper.abstract
    if paper.primary_category:
        item["keyword"] = ", ".join(paper.categories)
    return item


def to_csl_json(papers: Iterable[PaperCard]) -> str:
    return json.dumps([csl_item(paper) for paper in papers], ensure_ascii=False, indent=2) + "\n"


def export(papers: Iterable[PaperCard], kind: ExportFormat) -> str:
    return {"bib": to_bibtex, "ris": to_ris, "json": to_csl_json}[kind](papers)


# Import ---------------------------------------------------------------------------------------

ImportFormat = Literal["bibtex", "ris", "csl-json"]


class BadReferenceFile(ValueError):
    """The file cannot be read; the message says where ("line 12: ...") and why."""


@dataclass(slots=True)
class Reference:
    """One entry of an imported file: where it starts, its title, and the texts that may name
    its arXiv id (eprint, url, doi, note, journal, …), in the order they are tried."""

    line: int
    title: str
    clues: list[tuple[str, str]] = field(default_factory=list)  # (field name, its text)
    year: int | None = None


def guess_format(filename: str, text: str) -> ImportFormat:
    name = filename.lower()
    if name.endswith((".bib", ".bibtex")):
        return "bibtex"
    if name.endswith(".ris"):
        return "ris"
    if name.endswith(".json"):
        return "csl-json"
    start = text.lstrip("\ufeff \t\r\n")[:1]
    if start in ("[", "{"):
        return "csl-json"
    if re.match(r"\s*TY  -", text.lstrip("\ufeff")):
        return "ris"
    if start in ("@", "%"):
        return "bibtex"
    raise BadReferenceFile(
        "line 1: this is not a BibTeX, RIS or CSL-JSON file (they start with '@', 'TY  - ' or '[')."
    )


def read_references(text: str, format: ImportFormat, *, max_entries: int) -> list[Reference]:
    readers = {"bibtex": _read_bibtex, "ris": _read_ris, "csl-json": _read_csl_json}
    references = readers[format](text.lstrip("\ufeff"), max_entries)
    return references


def _too_many(count: int, max_entries: int) -> BadReferenceFile:
    return BadReferenceFile(
        f"The file holds {count:,} entries; at most {max_entries:,} are imported at once. "
        "Split it into smaller files."
    )


_BIBTEX_CLUES = ("eprint", "arxivid", "url", "doi", "note", "journal", "howpublished", "number")
_BIBTEX_BLOCK_START = re.compile(r"^\s*@", re.MULTILINE)


def _read_bibtex(text: str, max_entries: int) -> list[Reference]:
    if len(_BIBTEX_BLOCK_START.findall(text)) > max_entries + 100:  # before parsing it all
        raise _too_many(len(_BIBTEX_BLOCK_START.findall(text)), max_entries)
    library = bibtexparser.parse_string(text)
    for block in library.failed_blocks:
        raise BadReferenceFile(f"line {(block.start_line or 0) + 1}: {_bibtex_problem(block)}")
    if len(library.entries) > max_entries:
        raise _too_many(len(library.entries), max_entries)
    if not library.entries and text.strip():
        raise BadReferenceFile("line 1: no BibTeX entry (such as @article{key, …}) in this file.")
    references = []
    for entry in library.entries:
        fields = {key.lower(): str(value.value) for key, value in entry.fields_dict.items()}
        clues = [(name, fields[name]) for name in _BIBTEX_CLUES if fields.get(name)]
        year = fields.get("year", "")
        references.append(
            Reference(
                line=(entry.start_line or 0) + 1,
                title=fields.get("title", ""),
                clues=clues,
                year=int(year) if year.isdigit() else None,
            )
        )
    return references


def _bibtex_problem(block: model.ParsingFailedBlock) -> str:
    error = block.error
    if isinstance(block, model.DuplicateBlockKeyBlock):
        return f"the key {block.key!r} is used by an earlier entry too."
    reason = getattr(error, "abort_reason", None) or str(error) or type(error).__name__
    return f"this entry cannot be read ({' '.join(str(reason).split())[:200]})."


_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")


def _read_ris(text: str, max_entries: int) -> list[Reference]:
    """Records from `TY  - ` to `ER  - `; anything else outside a record is refused (rispy
    itself skips it silently)."""
    references: list[Reference] = []
    record: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        tag = _RIS_TAG.match(line)
        if not record:
            if not line.strip():
                continue
            if tag is None or tag.group(1) != "TY":
                raise BadReferenceFile(
                    f"line {number}: expected a record to start with 'TY  - ', "
                    f"found {line.strip()[:60]!r}."
                )
            record, start = [line], number
            continue
        if tag is not None and tag.group(1) == "TY":
            raise BadReferenceFile(
                f"line {number}: a new record starts before the one of line {start} "
                "ended with 'ER  - '."
            )
        record.append(line)
        if tag is not None and tag.group(1) == "ER":
            references.append(_ris_reference(record, start))
            record = []
            if len(references) > max_entries:
                raise _too_many(len(references) + text.count("\nER  -"), max_entries)
    if record:
        raise BadReferenceFile(
            f"line {start}: the record that starts here does not end with 'ER  - '."
        )
    return references


def _ris_reference(lines: list[str], start: int) -> Reference:
    (parsed,) = rispy.loads("\n".join(lines)) or [{}]
    title = parsed.get("title") or parsed.get("primary_title") or parsed.get("secondary_title")
    clues = [
        *(("UR", url) for url in parsed.get("urls") or []),
        ("DO", parsed.get("doi") or ""),
        *(("N1", note) for note in parsed.get("notes") or []),
        ("AN", parsed.get("accession_number") or ""),
        ("M1", parsed.get("number") or ""),
        ("JO", parsed.get("journal_name") or ""),
        ("T2", parsed.get("secondary_title") or ""),
    ]
    year = str(parsed.get("year") or parsed.get("publication_year") or "")[:4]
    return Reference(
        line=start,
        title=str(title or ""),
        clues=[(tag, str(clue)) for tag, clue in clues if clue],
        year=int(year) if year.isdigit() else None,
    )


_CSL_CLUES = ("number", "URL", "DOI", "note", "archive_location", "container-title", "id")


def _read_csl_json(text: str, max_entries: int) -> list[Reference]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadReferenceFile(f"line {error.lineno}: {error.msg}.") from None
    if isinstance(items, dict) and isinstance(items.get("items"), list):
        items = items["items"]
    if not isinstance(items, list):
        raise BadReferenceFile("line 1: CSL-JSON is a list of items ([{…}, …]).")
    if len(items) > max_entries:
        raise _too_many(len(items), max_entries)
    lines = _item_lines(text)
    references = []
    for index, item in enumerate(items):
        line = lines[index] if index < len(lines) else 1
        if not isinstance(item, dict):
            raise BadReferenceFile(f"line {line}: item {index + 1} is not an object ({{…}}).")
        clues = [(name, str(item[name])) for name in _CSL_CLUES if isinstance(item.get(name), str)]
        title = item.get("title")
        references.append(
            Reference(
                line=line,
                title=title if isinstance(title, str) else "",
                clues=clues,
                year=_csl_year(item.get("issued")),
            )
        )
    return references


def _item_lines(text: str) -> list[int]:
    """The line each top-level item of a JSON list starts on (for messages)."""
    lines, depth, number, in_string, escaped = [], 0, 1, False, False
    for char in text:
        if char == "\n":
            number += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth == 2:
                lines.append(number)
        elif char in "]}":
            depth -= 1
    return lines


def _csl_year(issued: Any) -> int | None:
    """The year of CSL's `{"date-parts": [[2017, 6, 12]]}`."""
    parts = issued.get("date-parts") if isinstance(issued, dict) else None
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        year = parts[0][0]
        if isinstance(year, int) or (isinstance(year, str) and year.isdigit()):
            return int(year)
    return None
