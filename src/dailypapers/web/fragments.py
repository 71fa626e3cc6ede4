"""Parts of pages kept until the site revision changes: a paper card's text, a month's calendar.

The response cache answers anonymous readers from memory, but a page rendered afresh (a
signed-in member, a new query string, the first reader after a vote) rendered every card
again. Most of a card is the same for everyone until the data behind it changes: its title,
authors, metadata line and abstract. `Fragments` keeps such parts, keyed on what they show,
for as long as the revision (`dailypapers.revisions`) stays the same; the parts that depend on
the reader (the vote button, Save) are rendered each time around them.

The revision is read once per request (`revision_of`), on the kept connection the response
cache uses, so a page of fifty cards asks the database once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request

T = TypeVar("T")

MAX_FRAGMENTS = 20_000  # about 2 KB each: a week page's cards, many times over


class Fragments:
    """Values computed from what readers see, kept until the site revision changes."""

    def __init__(self, revision: Callable[[], Hashable], max_entries: int = MAX_FRAGMENTS) -> None:
        self.revision = revision
        self.max_entries = max_entries
        self._revision: Hashable = None
        self._kept: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def revision_of(self, request: Request) -> Hashable:
        """The revision a request sees: read on its first use, then the same for the whole
        request (a page never mixes parts of two revisions)."""
        state = request.state
        if not hasattr(state, "fragments_revision"):
            state.fragments_revision = self.revision()
        return state.fragments_revision

    def get(self, request: Request, key: Hashable, compute: Callable[[], T]) -> T:
        revision = self.revision_of(request)
        with self._lock:
            if revision != self._revision:  # the data changed: nothing kept holds
                self._kept.clear()
                self._revision = revision
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]  # type: ignore[no-any-return]
        value = compute()  # outside the lock: two threads may both compute; both are right
        with self._lock:
            if revision == self._revision:
                self._kept[key] = value
                if len(self._kept) > self.max_entries:
                    self._kept.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._kept)


def kept(request: Request, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, kept until the revision changes by the app's `Fragments` (where there is
    none, as in a test's bare app, computed each time)."""
    fragments = getattr(request.app.state, "fragments", None)
    if fragments is None:
        return compute()
    return fragments.get(request, key, compute)  # type: ignore[no-any-return]


@pass_context
def kept_fragment(context: Context, key: Hashable, macro: Callable[..., T], *args: Any) -> T:
    """In a template: `kept_fragment(key, some_macro, arg, ...)` renders `some_macro(arg, ...)`
    once per revision and key. The macro must show only what `key` and the data determine,
    nothing of the reader. Without the app's `Fragments` (a template rendered elsewhere, such
    as an email) it simply renders."""
    request = context.get("request")
    if request is None:
        return macro(*args)
    return kept(request, key, lambda: macro(*args))
