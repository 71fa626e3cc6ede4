"""What a page's "Save" controls need to know: the viewer's collections and which of them hold
each paper, read at most once per page (and only when a signed-in member sees a card)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from dailypapers.library.service import CollectionSummary, saved_papers, summaries
from dailypapers.web.deps import get_site


class Shelf:
    def __init__(self, request: Request) -> None:
        self.request = request
        self._collections: list[CollectionSummary] | None = None
        self._saved: dict[int, set[int]] = {}

    @property
    def member_id(self) -> int | None:
        viewer = getattr(self.request.state, "viewer", None)
        member = getattr(viewer, "member", None)
        return None if member is None else int(member.id)

    def _load(self) -> list[CollectionSummary]:
        if self._collections is None:
            member_id = self.member_id
            if member_id is None:
                self._collections = []
            else:
                with get_site(self.request).sessions() as session:
                    self._collections = summaries(session, member_id=member_id)
                    self._saved = saved_papers(session, member_id)
        return self._collections

    @property
    def collections(self) -> list[CollectionSummary]:
        """The viewer's collections, by name."""
        return self._load()

    def holding(self, paper_id: int) -> set[int]:
        """The ids of the viewer's collections that hold the paper."""
        self._load()
        return self._saved.get(paper_id, set())


def shelf_context(request: Request) -> dict[str, Any]:
    """Template context of every page (app.py lists it after the viewer's)."""
    return {"shelf": Shelf(request)}
