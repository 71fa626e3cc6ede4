"""Comment Markdown → safe HTML: markdown-it-py (CommonMark, raw HTML off) then nh3 (the Rust
`ammonia` sanitiser) with a short allow-list. Links get rel="nofollow noopener ugc"; only
http, https and mailto links survive."""

from __future__ import annotations

from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.enable(["strikethrough", "table"])

# A comment's headings sit below the page's own (h1 the paper, h2 "Discussion"): `#` is h3,
# `##` h4, and so on down to h6, so every Markdown heading stays a heading.
HEADING_OFFSET = 2


def _heading(self: RendererHTML, tokens: list[Token], index: int, options: Any, env: Any) -> str:
    token = tokens[index]
    token.tag = f"h{min(int(token.tag[1]) + HEADING_OFFSET, 6)}"
    return self.renderToken(tokens, index, options, env)


_markdown.add_render_rule("heading_open", _heading)
_markdown.add_render_rule("heading_close", _heading)

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "s",  # markdown-it's ~~strikethrough~~
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_CHARS = 10_000


def render(markdown: str) -> str:
    html = _markdown.render(markdown)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener ugc",
    )
