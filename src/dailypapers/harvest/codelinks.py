"""Code links found in what authors wrote: GitHub and GitLab repositories in an abstract or
the arXiv comments field, attached as "auto" links (a link set by a person always wins)."""

from __future__ import annotations

import re

# owner/repository; a URL that names only a user or an organisation is not a code link.
_REPOSITORY = re.compile(
    r"https?://(?:www\.)?(github\.com|gitlab\.com)/([A-Za-z0-9][A-Za-z0-9_.-]*)/"
    r"([A-Za-z0-9_.-]+)",
    re.IGNORECASE,
)
_NOT_OWNERS = {"orgs", "topics", "features", "about", "marketplace", "sponsors", "explore"}


def find_code_link(*texts: str | None) -> str | None:
    """The first repository URL in `texts`, normalised to https://host/owner/repository."""
    for text in texts:
        if not text or "git" not in text.lower():
            continue
        for match in _REPOSITORY.finditer(text):
            host, owner, repository = match.groups()
            repository = repository.rstrip(".").removesuffix(".git")
            if owner.lower() in _NOT_OWNERS or not repository:
                continue
            return f"https://{host.lower()}/{owner}/{repository}"
    return None
