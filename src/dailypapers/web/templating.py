"""The Jinja environment of the pages: autoescaping on, the shared filters (`display/`), the
CSRF token and flash messages; what every page is told about its viewer comes from the app."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from dailypapers.display.filters import FILTERS, TEMPLATES_DIR, split_abstract
from dailypapers.web.csrf import csrf_token
from dailypapers.web.flash import pop_flash
from dailypapers.web.fragments import kept_fragment

ContextProcessor = Callable[[Request], dict[str, Any]]


def make_templates(context_processors: Sequence[ContextProcessor] = ()) -> Jinja2Templates:
    templates = Jinja2Templates(
        directory=str(TEMPLATES_DIR), context_processors=list(context_processors)
    )
    env = templates.env
    env.filters.update(FILTERS)
    env.globals.update(
        split_abstract=split_abstract,
        csrf_token=csrf_token,
        pop_flash=pop_flash,
        kept_fragment=kept_fragment,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates
