"""Typed request parameters shared by routes: arXiv ids and database ids in paths and forms.

Row ids are INTEGER columns: 32 bits on PostgreSQL (SERIAL), 64 on SQLite. A larger number
cannot name a row, and the drivers cannot even send it (psycopg: "integer out of range";
SQLite: `OverflowError` past 2^63). Routes declare `comment_id: DbId` (or `DbIdForm` for a form
field) so that such a number is refused with 422 and a sentence naming the parameter, before
any query is made.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path

MAX_DB_ID = 2**31 - 1  # the largest id an INTEGER column holds in both databases

DbId = Annotated[int, Path(ge=1, le=MAX_DB_ID, description=f"A row id (1 to {MAX_DB_ID}).")]
DbIdForm = Annotated[int | None, Form(ge=1, le=MAX_DB_ID)]

# An arXiv id in a path, in any form; routes declare it as `{arxiv_id:path}`, since old-style
# ids hold a slash (hep-th/9901001).
ArxivIdPath = Annotated[
    str,
    Path(
        description="An arXiv id in any form: 2510.00184, 2510.00184v2, arXiv:2510.00184, "
        "hep-th/9901001.",
        examples=["2510.00184"],
    ),
]
