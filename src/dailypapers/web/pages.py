"""Rendering a page from a template, and the one-paragraph message page most forms end on."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response


def render_page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )


def message_page(request: Request, title: str, message: str, status_code: int = 200) -> Response:
    return render_page(request, "message.html", {"title": title, "message": message}, status_code)


def client_address(request: Request) -> str:
    """The client's IP address (behind a proxy, uvicorn's --proxy-headers supplies it)."""
    return request.client.host if request.client else "unknown"
