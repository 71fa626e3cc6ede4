"""What middleware knows of a request's route before the route runs.

Read once from the app's routes (FastAPI's tree of dependencies), then found per request by
method and path, as the router itself will find it:

* `query`: the query parameters the route reads (the response cache keys on these only);
* `counted`: the route counts each use against a rate limit (`RateLimited` in web/deps.py), so
  the response cache must let every request reach it; `counted_only_with` names the query
  parameter without which it counts nothing (the search page without `q` is an empty form);
* `needs_member`: an API route that refuses anyone without a member's credentials.

Dependencies declare the last two with `declare(function, ...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from re import Pattern
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Scope

_TRAITS = "_dailypapers_route_traits"
_MEMO_PATHS = 4096  # method and path pairs remembered (each a few hundred bytes at most)
_MEMO_PATH_CHARS = 200  # longer paths are matched every time, not remembered


@dataclass(frozen=True, slots=True)
class RouteTraits:
    query: frozenset[str] | None  # None: not known (not a FastAPI route)
    counted: bool = False
    counted_only_with: str | None = None
    needs_member: bool = False
    max_body: int | None = None  # a larger body limit than the site's (an upload form)

    def counts(self, query: list[tuple[str, str]]) -> bool:
        """Whether a request with these query parameters counts against the route's limit."""
        if not self.counted:
            return False
        if self.counted_only_with is None:
            return True
        return any(name == self.counted_only_with and value for name, value in query)


def declare(
    dependency: Callable[..., Any],
    *,
    counted: bool = False,
    counted_only_with: str | None = None,
    needs_member: bool = False,
    max_body: int | None = None,
) -> None:
    """Mark a dependency: a route that depends on it counts a rate limit, needs a member, or
    accepts bodies up to `max_body` bytes (more than the site's limit: an upload)."""
    setattr(dependency, _TRAITS, (counted, counted_only_with, needs_member, max_body))


def traits_of(route: BaseRoute) -> RouteTraits:
    if not isinstance(route, APIRoute):
        return RouteTraits(query=None)
    query: set[str] = set()
    counted, only_with, needs_member, max_body = False, None, False, None
    for dependant in _walk(route.dependant):
        query.update(field.alias for field in dependant.query_params)
        declared = getattr(dependant.call, _TRAITS, None)
        if declared is not None:
            counted = counted or declared[0]
            only_with = only_with or declared[1]
            needs_member = needs_member or declared[2]
            max_body = max_body or declared[3]
    return RouteTraits(frozenset(query), counted, only_with, needs_member, max_body)


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for dependency in dependant.dependencies:
        yield from _walk(dependency)


def _flat_routes(app: ASGIApp) -> Iterator[tuple[str, set[str] | None, BaseRoute]]:
    """Each route of the app in the order the router tries them: its whole path (the prefixes
    of the routers it was included with), its methods, the route itself."""
    for context in iter_route_contexts(getattr(app, "routes", [])):
        if context.path is not None and isinstance(context.original_route, APIRoute):
            yield context.path, context.methods, context.original_route


class RouteMap:
    """The traits of the route a request will reach; None when it reaches no FastAPI route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: list[tuple[Pattern[str], frozenset[str], RouteTraits]] | None = None
        self._memo: dict[tuple[str, str], RouteTraits | None] = {}

    def _compiled(self) -> list[tuple[Pattern[str], frozenset[str], RouteTraits]]:
        if self._routes is None:  # the routers are all included by the first request
            routes = []
            for path, methods, route in _flat_routes(self.app):
                allowed = set(methods or ())
                if "GET" in allowed:
                    allowed.add("HEAD")
                routes.append((compile_path(path)[0], frozenset(allowed), traits_of(route)))
            self._routes = routes
        return self._routes

    def traits(self, scope: Scope) -> RouteTraits | None:
        key = (scope["method"], scope["path"])
        try:
            return self._memo[key]
        except KeyError:
            pass
        path, root = key[1], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        found = None
        for pattern, methods, traits in self._compiled():
            if key[0] in methods and pattern.match(path):
                found = traits
                break
        if len(key[1]) <= _MEMO_PATH_CHARS:
            if len(self._memo) >= _MEMO_PATHS:
                self._memo.clear()
            self._memo[key] = found
        return found
