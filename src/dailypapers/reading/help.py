"""The help page: how to read the site, and its keyboard shortcuts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from dailypapers.web.pages import render_page

router = APIRouter(include_in_schema=False)

# (keys, what they do): the shortcuts app.js knows, listed on /help.
SHORTCUTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("/",), "Search: moves to the search box"),
    (("j",), "Next paper in the list"),
    (("k",), "Previous paper in the list"),
    (("o",), "Open the current paper's page"),
    (("u",), "Upvote the current paper (or take the upvote back); asks you to log in first"),
    (("?",), "This help page"),
)


@router.get("/help", response_class=HTMLResponse)
def help_page(request: Request) -> Response:
    return render_page(request, "help.html", {"title": "Help", "shortcuts": SHORTCUTS})
