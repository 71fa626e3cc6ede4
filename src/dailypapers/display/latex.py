"""Showing LaTeX from titles and abstracts as readable, escaped HTML (no JavaScript needed).

Math between `$...$` becomes Unicode (`$\\alpha$` → α) in a `<span class="math">`, with
`^`/`_` as superscripts and subscripts; common text escapes (`\\%`, `--`, ``` `` ''```) are
turned into their characters. Everything that came from outside is escaped first-hand here.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape
from pylatexenc.latex2text import LatexNodes2Text

_MATH = re.compile(r"(?<!\\)\$\$?(.+?)(?<!\\)\$\$?", re.DOTALL)
_TEXT_MACRO = re.compile(r"\\(?:emph|textit|textbf|texttt|textsc|mathrm|text)\{([^{}]*)\}")
_TEXT_REPLACEMENTS = (
    ("\\%", "%"),
    ("\\&", "&"),
    ("\\_", "_"),
    ("\\#", "#"),
    ("\\$", "$"),
    ("\\{", "{"),
    ("\\}", "}"),
    ("---", "\u2014"),
    ("--", "\u2013"),
    ("``", "\u201c"),
    ("''", "\u201d"),
    ("~", "\u00a0"),
    ("\\ldots", "\u2026"),
    ("\\dots", "\u2026"),
)
_MAX_MATH_CHARS = 300


def render_latex(text: str | None) -> Markup:
    """Escaped HTML for a title or abstract, with its LaTeX shown sensibly."""
    if not text:
        return Markup("")
    return _render_cached(text)


@lru_cache(maxsize=50_000)
def _render_cached(text: str) -> Markup:
    parts: list[str] = []
    position = 0
    for match in _MATH.finditer(text):
        parts.append(_text(text[position : match.start()]))
        body = match.group(1)
        if len(body) > _MAX_MATH_CHARS or "\n\n" in body:
            parts.append(str(escape(match.group(0))))
        else:
            parts.append(f'<span class="math">{_math(body)}</span>')
        position = match.end()
    parts.append(_text(text[position:]))
    return Markup("".join(parts))


def _text(text: str) -> str:
    text = _TEXT_MACRO.sub(r"\1", text)
    for latex, character in _TEXT_REPLACEMENTS:
        text = text.replace(latex, character)
    return str(escape(text))


def _math(body: str) -> str:
    """Math as escaped HTML: top-level `^x`, `_{...}` become <sup>/<sub>, the rest Unicode."""
    pieces: list[str] = []
    plain: list[str] = []
    index = 0
    depth = 0
    while index < len(body):
        char = body[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        if depth == 0 and char in "^_" and (index == 0 or body[index - 1] != "\\"):
            script, index = _script(body, index + 1)
            pieces.append(_unicode("".join(plain)))
            plain = []
            tag = "sup" if char == "^" else "sub"
            pieces.append(f"<{tag}>{_math(script)}</{tag}>")
            continue
        plain.append(char)
        index += 1
    pieces.append(_unicode("".join(plain)))
    return "".join(pieces)


def _script(body: str, index: int) -> tuple[str, int]:
    """The argument of ^ or _ starting at `index`, and the index after it."""
    if index >= len(body):
        return "", index
    if body[index] == "{":
        depth, end = 0, index
        while end < len(body):
            depth += {"{": 1, "}": -1}.get(body[end], 0)
            if depth == 0:
                return body[index + 1 : end], end + 1
            end += 1
        return body[index + 1 :], len(body)
    if body[index] == "\\":
        match = re.match(r"\\[A-Za-z]+", body[index:])
        if match:
            return match.group(0), index + match.end()
    return body[index], index + 1


def _unicode(latex: str) -> str:
    if not latex:
        return ""
    if "\\" not in latex and "{" not in latex:
        return str(escape(latex))
    try:
        converted = LatexNodes2Text(math_mode="text").latex_to_text(latex)
    except Exception:  # pylatexenc is tolerant, but never let odd input break a page
        converted = latex
    return str(escape(converted))
