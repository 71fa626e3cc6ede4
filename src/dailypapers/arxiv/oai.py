"""OAI-PMH, arXiv's interface for bulk harvesting: ListRecords pages by set and date window,
followed through resumption tokens, with arXiv's `503 Retry-After` flow control honoured.

The XML is read with the standard library's ElementTree (expat): it never fetches external
entities and, with expat ≥ 2.4, refuses entity-expansion bombs. No OAI-PMH client library is
used: the protocol part we need is one verb, and the well-known clients (Sickle, pyoaiharvester)
bring `requests` and their own retry loops, while arXiv's politeness rules (one connection,
spaced requests) live in our `PoliteClient`.
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from dailypapers.arxiv.client import ArxivError, ArxivUnavailable, PoliteClient

log = logging.getLogger(__name__)

OAI = "{http://www.openarchives.org/OAI/2.0/}"
MAX_RETRIES = 5  # of a request answered with 503 Retry-After
MAX_RETRY_AFTER_SECONDS = 600.0
# arXiv's groups: a category of any other archive (hep-th, astro-ph.GA, ...) is in "physics".
GROUPS = {"cs", "econ", "eess", "math", "q-bio", "q-fin", "stat"}


class OaiError(ArxivError):
    """arXiv answered the request with an OAI-PMH error (e.g. badArgument)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"arXiv refused the request ({code}): {message}")
        self.code = code


class ExpiredToken(Exception):
    """The resumption token is no longer valid: the list must be started again."""


@dataclass(slots=True)
class OaiRecord:
    identifier: str
    datestamp: str
    set_specs: list[str]
    deleted: bool
    metadata: ET.Element | None


@dataclass(slots=True)
class OaiPage:
    records: list[OaiRecord] = field(default_factory=list)
    token: str | None = None  # None: this was the last page
    complete_list_size: int | None = None


def set_spec(category: str) -> str:
    """The OAI-PMH set of an arXiv category: cs.LG → cs:cs:LG, stat.ML → stat:stat:ML,
    hep-th → physics:hep-th, astro-ph.GA → physics:astro-ph:GA. A value that already contains
    a colon is taken as a set as it is."""
    if ":" in category:
        return category
    archive, _, subject = category.partition(".")
    group = archive if archive in GROUPS else "physics"
    return f"{group}:{archive}:{subject}" if subject else f"{group}:{archive}"


def list_records(
    client: PoliteClient,
    url: str,
    *,
    metadata_prefix: str = "arXivRaw",
    set_spec: str | None = None,
    from_date: date | None = None,
    until: date | None = None,
    token: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> OaiPage:
    """One page of ListRecords: the first of a window, or the one `token` points to."""
    if token is not None:
        params = {"verb": "ListRecords", "resumptionToken": token}
    else:
        params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
        if set_spec:
            params["set"] = set_spec
        if from_date:
            params["from"] = from_date.isoformat()
        if until:
            params["until"] = until.isoformat()
    for attempt in range(MAX_RETRIES + 1):
        try:
            response = client.get(url, params=params)
            break
        except ArxivUnavailable as error:
            if error.retry_after is None or attempt == MAX_RETRIES:
                raise
            wait = min(error.retry_after, MAX_RETRY_AFTER_SECONDS)
            log.info("arXiv asked us to retry after %.0f s (503); waiting", wait)
            sleep(wait)
    content_type = response.headers.get("content-type", "")
    if "html" in content_type and "xml" not in content_type:
        raise ArxivUnavailable("arXiv answered with a web page instead of OAI-PMH XML")
    if response.status_code != 200:
        raise ArxivUnavailable(f"arXiv answered {response.status_code} to ListRecords")
    return parse_page(response.content)


def parse_page(content: bytes) -> OaiPage:
    """A ListRecords response; raises ArxivUnavailable for what is not OAI-PMH at all,
    ExpiredToken and OaiError for OAI errors. `noRecordsMatch` is an empty last page."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as error:
        raise ArxivUnavailable(f"arXiv's answer is not well-formed XML ({error})") from None
    if root.tag != f"{OAI}OAI-PMH":
        raise ArxivUnavailable(f"arXiv's answer is not OAI-PMH (root element {root.tag[:80]})")
    problem = root.find(f"{OAI}error")
    if problem is not None:
        code = problem.get("code", "unknown")
        if code == "noRecordsMatch":
            return OaiPage()
        if code == "badResumptionToken":
            raise ExpiredToken((problem.text or "").strip())
        raise OaiError(code, (problem.text or "").strip()[:200])
    listing = root.find(f"{OAI}ListRecords")
    if listing is None:
        raise ArxivUnavailable("arXiv's answer has neither records nor an error")
    page = OaiPage()
    for element in listing.iterfind(f"{OAI}record"):
        header = element.find(f"{OAI}header")
        if header is None:
            continue
        metadata = element.find(f"{OAI}metadata")
        page.records.append(
            OaiRecord(
                identifier=(header.findtext(f"{OAI}identifier") or "").strip(),
                datestamp=(header.findtext(f"{OAI}datestamp") or "").strip(),
                set_specs=[(s.text or "").strip() for s in header.iterfind(f"{OAI}setSpec")],
                deleted=header.get("status") == "deleted",
                metadata=next(iter(metadata), None) if metadata is not None else None,
            )
        )
    token = listing.find(f"{OAI}resumptionToken")
    if token is not None:
        page.token = (token.text or "").strip() or None  # an empty token ends the list
        size = token.get("completeListSize")
        page.complete_list_size = int(size) if size and size.isdigit() else None
    return page
