"""A JSON response serialised by orjson (several times faster than the standard library).

A `JSONResponse` subclass, so that FastAPI documents a route's `response_model` as its body
(routes build the dict themselves and return this; FastAPI does not validate it again)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse, Response


class JSONBytesResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_error(status_code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONBytesResponse({"error": message}, status_code=status_code, headers=headers)
