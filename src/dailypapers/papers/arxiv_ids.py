"""Parsing and normalising arXiv identifiers in every form users paste them."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Archives that used old-style identifiers (archive/YYMMNNN) before April 2007.
OLD_STYLE_ARCHIVES = frozenset(
    {
        "acc-phys",
        "adap-org",
        "alg-geom",
        "ao-sci",
        "astro-ph",
        "atom-ph",
        "bayes-an",
        "chao-dyn",
        "chem-ph",
        "cmp-lg",
        "comp-gas",
        "cond-mat",
        "cs",
        "dg-ga",
        "funct-an",
        "gr-qc",
        "hep-ex",
        "hep-lat",
        "hep-ph",
        "hep-th",
        "math",
        "math-ph",
        "mtrl-th",
        "nlin",
        "nucl-ex",
        "nucl-th",
        "patt-sol",
        "physics",
        "plasm-ph",
        "q-alg",
        "q-bio",
        "quant-ph",
        "solv-int",
        "supr-con",
    }
)

_PREFIXES = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?(?:arxiv\.org|huggingface\.co)/(?:abs|pdf|papers)/",
    re.IGNORECASE,
)
# ASCII digits only: `\d` alone also matches other scripts' digits (２５１０, ٢٥١٠), which are
# not arXiv ids and must never be sent to arXiv.
_NEW_STYLE = re.compile(r"^(\d{2})(\d{2})\.(\d{4,5})(?:v(\d+))?$", re.ASCII)
_OLD_STYLE = re.compile(
    r"^([a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z]{2})?/(\d{2})(\d{2})(\d{3})(?:v(\d+))?$", re.ASCII
)
MAX_INPUT_LENGTH = 200
MAX_VERSION = 9_999  # arXiv's papers have a few versions; a larger number is not one


class InvalidArxivId(ValueError):
    """Raised for text that is not an arXiv identifier; the message says why."""


@dataclass(frozen=True, slots=True)
class ArxivId:
    """A normalised arXiv identifier (`2510.00184`, `math/0611800`) and the version, if given."""

    id: str
    version: int | None = None

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}v{self.version}"


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse `2510.00184v2`, `arXiv:2510.00184`, abs/pdf URLs, `hep-th/9901001` or
    `math.CA/0611800v2` into the normalised id and version."""
    if not isinstance(text, str):
        raise InvalidArxivId("an arXiv id must be text")
    raw = text.strip()
    if (match := _NEW_STYLE.match(raw)) and match.group(4) is None and len(raw) == 10:
        # The common case, a bare new-style id of today's five digits, without a version.
        if "01" <= raw[2:4] <= "12" and raw[:4] >= "1501":
            return ArxivId(raw)
    if not raw:
        raise InvalidArxivId("the arXiv id is empty")
    if len(raw) > MAX_INPUT_LENGTH:
        raise InvalidArxivId("too long to be an arXiv id")
    candidate = _PREFIXES.sub("", raw)
    if candidate[:6].lower() == "arxiv:":
        candidate = candidate[6:]
    candidate = candidate.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    if candidate.lower().endswith(".pdf"):
        candidate = candidate[:-4]

    if match := _NEW_STYLE.match(candidate):
        year, month, number, version = match.groups()
        _check_month(month, raw)
        if int(year) < 7 or (int(year) == 7 and int(month) < 4):
            raise InvalidArxivId(f"{raw!r}: new-style arXiv ids start in April 2007 (0704)")
        digits = 4 if (int(year), int(month)) < (15, 1) else 5
        if len(number) != digits:
            raise InvalidArxivId(
                f"{raw!r}: arXiv ids from {year}{month} have {digits} digits after the dot"
            )
        return ArxivId(f"{year}{month}.{number}", _version(version, raw))

    if match := _OLD_STYLE.match(candidate):
        archive, year, month, number, version = match.groups()
        archive = archive.lower()
        if archive not in OLD_STYLE_ARCHIVES:
            raise InvalidArxivId(f"{raw!r}: {archive!r} is not an arXiv archive")
        _check_month(month, raw)
        return ArxivId(f"{archive}/{year}{month}{number}", _version(version, raw))

    raise InvalidArxivId(
        f"{raw!r} is not an arXiv id "
        "(expected e.g. 2510.00184, arXiv:2510.00184v2 or hep-th/9901001)"
    )


def _check_month(month: str, raw: str) -> None:
    if not 1 <= int(month) <= 12:
        raise InvalidArxivId(f"{raw!r}: {month} is not a month (arXiv ids start with YYMM)")


def _version(version: str | None, raw: str) -> int | None:
    if version is None:
        return None
    number = int(version)  # at most MAX_INPUT_LENGTH digits
    if number < 1:
        raise InvalidArxivId(f"{raw!r}: versions start at v1")
    if number > MAX_VERSION:
        raise InvalidArxivId(f"{raw[:40]!r}: versions go up to v{MAX_VERSION}")
    return number
