"""Each email is a function plus templates: the function picks the values, `templates/email/`
holds a text part (`<name>.txt`) and an HTML part (`<name>.html`, inline styles only) that
render them. This module renders them into an `Email`, ready for the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

EMAIL_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"


@dataclass(frozen=True, slots=True)
class Email:
    """One message to one address: what an email function returns and the outbox keeps."""

    to: str
    subject: str
    text: str
    html: str | None = None


def email_environment() -> Environment:
    """The Jinja environment of the email templates (HTML autoescaped, text as written)."""
    return Environment(
        loader=FileSystemLoader(EMAIL_TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


_environment = email_environment()


def render_email(to: str, subject: str, template: str, **values: Any) -> Email:
    """`template`.txt and `template`.html rendered with `values` (and the subject)."""
    values = {"subject": subject, **values}
    text = _environment.get_template(f"{template}.txt").render(values)
    html = _environment.get_template(f"{template}.html").render(values)
    return Email(to=to, subject=subject, text=text, html=html)
