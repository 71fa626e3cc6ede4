"""A JSON response serialised by orjson (several times faster than the standard library)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONBytesResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_error(status_code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONBytesResponse({"error": message}, status_code=status_code, headers=headers)
