"""`dailypapers serve`: the web app (loading the bundled demo papers into an empty site)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from dailypapers.cli.common import console, opened_site, settings
from dailypapers.settings import get_settings

DEMO_DATA = Path(__file__).parent.parent / "demo" / "daily_papers_demo.jsonl.gz"


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Web processes.")] = 1,
) -> None:
    """Run the web app. On an empty database, first load the bundled demo papers."""
    import uvicorn

    from dailypapers.cli.papers import load_files
    from dailypapers.papers.feed import count_papers

    site_settings = settings()
    with opened_site(site_settings) as site:  # migrated here: the web processes do not
        with site.sessions() as session:
            empty = count_papers(session) == 0
        if empty and site_settings.load_demo_data:
            console.print("Empty database: loading the bundled demo papers (real HF Daily Papers).")
            load_files(site, [DEMO_DATA])
    listening = listening_url(host, port)
    if "base_url" not in site_settings.model_fields_set:
        # Links in emails and feeds name the address served here; the web processes (this
        # one, or those uvicorn starts) read their settings from the environment.
        os.environ["DAILYPAPERS_BASE_URL"] = listening
        get_settings.cache_clear()
    if not site_settings.smtp_url:
        console.print(
            "No DAILYPAPERS_SMTP_URL: emails are written here, on standard error, instead."
        )
    console.print(f"Serving {site_settings.site_name} on {listening}")
    uvicorn.run(
        "dailypapers.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=site_settings.log_level,
        proxy_headers=True,
    )


def listening_url(host: str, port: int) -> str:
    """The address a browser on this machine reaches `serve` at (a wildcard address means
    this machine too)."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:  # an IPv6 address
        host = f"[{host.strip('[]')}]"
    return f"http://{host}:{port}"
