"""The application factory: a Site's parts behind FastAPI's routes, middleware and jobs.

`create_app(settings)` opens the Site (the composition root, `site.py`), stores it where the
route dependencies find it (`web/deps.py`), adds the middleware (sessions, gzip, the response
cache, security headers), the API's docs (`web/openapi.py`) and every domain's routers. The
lifespan starts the job runner (`jobs/`) and closes the Site on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from dailypapers import __version__, health
from dailypapers.curation import comment_routes, links, submit_routes
from dailypapers.curation import routes as curation_routes
from dailypapers.digests import feeds
from dailypapers.digests import routes as digest_routes
from dailypapers.discussion import routes as discussion_routes
from dailypapers.follows import api as follows_api
from dailypapers.follows import routes as follows_routes
from dailypapers.follows.buttons import following_context
from dailypapers.foryou import api as foryou_api
from dailypapers.foryou import routes as foryou_routes
from dailypapers.jobs import JobRunner, web_jobs
from dailypapers.library import api as library_api
from dailypapers.library import routes as library_routes
from dailypapers.library.shelf import shelf_context
from dailypapers.members import api as members_api
from dailypapers.members import pages as members_pages
from dailypapers.members.auth import SESSION_COOKIE, SESSION_DAYS
from dailypapers.privacy import routes as privacy_routes
from dailypapers.reading import api as reading_api
from dailypapers.reading import authors as reading_authors
from dailypapers.reading import categories as reading_categories
from dailypapers.reading import help as reading_help
from dailypapers.reading import markdown as reading_markdown
from dailypapers.reading import members as reading_members
from dailypapers.reading import pages as reading_pages
from dailypapers.revisions import RevisionReader
from dailypapers.search import api as search_api
from dailypapers.search import pages as search_pages
from dailypapers.settings import Settings, get_settings
from dailypapers.site import WEB_QUERY_BUDGET_SECONDS, Site
from dailypapers.web.bodylimit import BodyLimitMiddleware
from dailypapers.web.cache import ResponseCacheMiddleware
from dailypapers.web.compression import CompressionMiddleware
from dailypapers.web.deps import viewer_context
from dailypapers.web.errors import install_error_handlers
from dailypapers.web.fragments import Fragments
from dailypapers.web.openapi import install_docs, install_openapi
from dailypapers.web.ratelimit import RateLimitHeadersMiddleware
from dailypapers.web.responses import JSONBytesResponse
from dailypapers.web.routemap import RouteMap
from dailypapers.web.security import SecurityHeadersMiddleware
from dailypapers.web.templating import make_templates

THREADPOOL_SIZE = 4
FIRST_KEYWORD_ROUND_SECONDS = 3.0
STATIC_DIR = Path(__file__).resolve().parent / "static"


class DailyPapersApp(FastAPI):
    """FastAPI with the security headers outside everything: even outside the middleware that
    answers an unexpected exception with 500, which Starlette puts outside `add_middleware`'s."""

    def __init__(self, *, hsts: bool, **kwargs: Any) -> None:
        self.hsts = hsts
        super().__init__(**kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(super().build_middleware_stack(), hsts=self.hsts)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    site = Site.open(settings, migrate=False, query_budget=WEB_QUERY_BUDGET_SECONDS)
    read_revision = RevisionReader(site.database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Routes are short and CPU-bound; a few threads serve them faster than 40 threads
        # taking turns on the interpreter lock.
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADPOOL_SIZE
        runner = JobRunner(site, web_jobs(site))
        runner.start()
        # A small site starts with its keyword index built; a large one is served at once
        # while the index catches up.
        await anyio.to_thread.run_sync(
            runner.wait_first_round, "keyword-index", FIRST_KEYWORD_ROUND_SECONDS
        )
        yield
        await anyio.to_thread.run_sync(runner.stop)
        read_revision.close()
        site.close()

    app = DailyPapersApp(
        hsts=settings.base_url.startswith("https://"),
        title=settings.site_name,
        version=__version__,
        description="The daily papers of a research community. Field names follow Hugging "
        "Face's papers API, so `huggingface_hub.HfApi(endpoint=...)` works against this server.",
        lifespan=lifespan,
        default_response_class=JSONBytesResponse,
        docs_url=None,  # /docs comes from packaged files (web/openapi.py), not a CDN
        redoc_url=None,  # ReDoc wants inline styles and a logo from its CDN (web/openapi.py)
    )
    app.state.site = site
    app.state.templates = make_templates(
        context_processors=[viewer_context, shelf_context, following_context]
    )
    app.state.templates.env.globals.update(site_name=settings.site_name, version=__version__)
    app.state.fragments = Fragments(read_revision)  # cards and calendars kept per revision

    def current_revision() -> tuple[int, int, int]:
        """What cached responses depend on: the data, and what the search indexes of this
        process hold (search results change as they catch up with the data)."""
        dense = site.meaning.generation if site.meaning is not None else 0
        return read_revision(), dense, site.keyword.generation

    routes = RouteMap(app)  # what middleware knows of a request's route before it runs
    app.add_middleware(  # inside the sessions: its error pages show who is logged in
        BodyLimitMiddleware,
        max_bytes=settings.max_body_kb * 1024,
        routes=routes,
        session_cookie=SESSION_COOKIE,
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_DAYS * 24 * 3600,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
    # Inside the cache, which keeps answers compressed (one per encoding); outside sessions.
    app.add_middleware(CompressionMiddleware)
    app.add_middleware(
        ResponseCacheMiddleware,
        revision=current_revision,
        today=lambda: datetime.now(settings.zone).date(),
        max_bytes=settings.response_cache_mb * 1024 * 1024,
        routes=routes,
    )
    app.add_middleware(RateLimitHeadersMiddleware)  # on every answer of a rate-limited route
    # The security headers wrap all of this, cached answers and 500s included (DailyPapersApp).
    install_error_handlers(app)
    install_openapi(app, session_cookie=SESSION_COOKIE)
    install_docs(app, site_name=settings.site_name)  # mounts /static/docs: before /static
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (
        search_api.router,  # before reading_api: /api/papers/{id} would take it
        foryou_api.router,  # the same: /api/papers/for-you
        discussion_routes.router,
        discussion_routes.pages,
        comment_routes.pages,
        links.pages,
        curation_routes.pages,
        digest_routes.pages,
        feeds.router,
        submit_routes.router,
        submit_routes.pages,
        members_api.router,
        members_api.pages,
        # After every /api/papers/{arxiv_id:path}/… route (old-style ids hold a slash): its
        # /api/papers/{arxiv_id:path} would take their GETs, as /papers/{…:path} pages do last.
        reading_api.router,
        members_pages.router,
        search_pages.router,
        health.router,
        reading_markdown.router,  # before reading_pages: /papers/{arxiv_id:path} would take it
        reading_help.router,
        reading_authors.router,
        reading_categories.router,  # before reading_pages, as above
        reading_members.router,
        library_api.router,
        library_routes.router,
        follows_api.router,
        follows_routes.router,
        foryou_routes.router,
        privacy_routes.router,
        reading_pages.router,
    ):
        app.include_router(router)
    return app
