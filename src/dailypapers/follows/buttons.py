"""What a page's "Follow" buttons need to know: what the viewer follows, read at most once per
page (and only when a signed-in member sees a button)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from dailypapers.follows.service import followed_keys
from dailypapers.web.deps import get_site


class Following:
    def __init__(self, request: Request) -> None:
        self.request = request
        self._keys: set[tuple[str, str]] | None = None

    @property
    def member_id(self) -> int | None:
        viewer = getattr(self.request.state, "viewer", None)
        member = getattr(viewer, "member", None)
        return None if member is None else int(member.id)

    def has(self, kind: str, value: object) -> bool:
        """Whether the viewer follows it (`value` as stored: a collection's id may be a number)."""
        if self._keys is None:
            member_id = self.member_id
            if member_id is None:
                self._keys = set()
            else:
                with get_site(self.request).sessions() as session:
                    self._keys = followed_keys(session, member_id)
        text = str(value)
        text = " ".join(text.split()) if kind == "topic" else text.strip()
        return (kind, text) in self._keys


def following_context(request: Request) -> dict[str, Any]:
    """Template context of every page (app.py lists it after the viewer's)."""
    return {"following": Following(request)}
