"""The application factory: wires settings, database, routes, templates and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response

from dailypapers import __version__
from dailypapers.arxiv.client import PoliteClient
from dailypapers.curation import routes as curation_routes
from dailypapers.database import make_engine, make_session_factory
from dailypapers.digests import feeds
from dailypapers.digests import routes as digest_routes
from dailypapers.digests.delivery import SiteMail
from dailypapers.digests.letters import Tokens
from dailypapers.digests.scheduler import DigestScheduler
from dailypapers.discussion import routes as discussion_routes
from dailypapers.harvest.scheduler import HarvestScheduler
from dailypapers.mail.sender import MailSender
from dailypapers.members import api as members_api
from dailypapers.members import pages as members_pages
from dailypapers.members.accounts import Accounts
from dailypapers.members.auth import SESSION_COOKIE, SESSION_DAYS
from dailypapers.papers import api as papers_api
from dailypapers.papers import links, submit_routes
from dailypapers.papers import pages as papers_pages
from dailypapers.revisions import RevisionReader
from dailypapers.search import api as search_api
from dailypapers.search import pages as search_pages
from dailypapers.search.engine import SearchEngine
from dailypapers.search.keyword_pg import keyword_index_for
from dailypapers.settings import Settings, get_settings
from dailypapers.web.cache import ResponseCacheMiddleware
from dailypapers.web.errors import install_error_handlers
from dailypapers.web.responses import JSONBytesResponse
from dailypapers.web.security import SecurityHeadersMiddleware
from dailypapers.web.templating import make_templates

THREADPOOL_SIZE = 4
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # lock files, search indexes
    engine = make_engine(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Routes are short and CPU-bound; a few threads serve them faster than 40 threads
        # taking turns on the interpreter lock.
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADPOOL_SIZE
        keyword_index.start(app.state.session_factory)
        search_engine = None
        if settings.dense_search:
            search_engine = SearchEngine(
                app.state.session_factory,
                embed_in_background=settings.embed_in_background,
                lock_path=settings.data_dir / "embedding.lock",
                ann_folder=settings.data_dir / "dense-ann",
            )
            search_engine.start()
        app.state.search_engine = search_engine
        scheduler = None
        if settings.digest_scheduler:
            scheduler = DigestScheduler(app.state.session_factory, settings, site_mail,
                                        keyword_index, search_engine)  # fmt: skip
            scheduler.start()
        harvests = None
        if settings.harvest_scheduler:
            embedder = search_engine.embedder if search_engine is not None else None
            harvests = HarvestScheduler(app.state.session_factory, settings, embedder)
            harvests.start()
        yield
        if harvests is not None:
            harvests.stop()
        if scheduler is not None:
            scheduler.stop()
        if search_engine is not None:
            search_engine.stop()
        keyword_index.stop()
        app.state.arxiv.close()
        read_revision.close()
        engine.dispose()

    app = FastAPI(
        title=settings.site_name,
        version=__version__,
        description="The daily papers of a research community. Field names follow Hugging "
        "Face's papers API, so `huggingface_hub.HfApi(endpoint=...)` works against this server.",
        lifespan=lifespan,
        default_response_class=JSONBytesResponse,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.search_engine = None  # set at start-up (see lifespan)
    keyword_index = keyword_index_for(engine, settings.keyword_index_dir)
    app.state.keyword_index = keyword_index
    app.state.templates = make_templates()
    app.state.arxiv = PoliteClient(
        interval=settings.arxiv_request_interval, contact_url=settings.base_url
    )
    mail = MailSender(settings.smtp_url, settings.mail_from)
    app.state.accounts = Accounts(
        settings.resolved_secret_key(), mail, settings.base_url, settings.site_name
    )
    app.state.digest_tokens = Tokens(settings.resolved_secret_key())
    site_mail = SiteMail(settings.base_url, settings.site_name, app.state.digest_tokens, mail)
    app.state.templates.env.globals.update(site_name=settings.site_name, version=__version__)

    read_revision = RevisionReader(engine)

    def current_revision() -> tuple[int, int, int]:
        """What cached responses depend on: the data, and what the search indexes of this
        process hold (search results change as they catch up with the data)."""
        search_engine = app.state.search_engine
        dense = search_engine.dense.generation if search_engine is not None else 0
        return read_revision(), dense, keyword_index.generation

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_DAYS * 24 * 3600,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
    app.add_middleware(
        ResponseCacheMiddleware,
        revision=current_revision,
        today=lambda: datetime.now(settings.zone).date(),
    )
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: cached responses get it too
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(search_api.router)  # before papers_api: /api/papers/{id} would take it
    app.include_router(discussion_routes.router)
    app.include_router(discussion_routes.pages)
    app.include_router(links.pages)
    app.include_router(curation_routes.pages)
    app.include_router(digest_routes.pages)
    app.include_router(feeds.router)
    app.include_router(submit_routes.router)
    app.include_router(submit_routes.pages)
    app.include_router(papers_api.router)
    app.include_router(members_api.router)
    app.include_router(members_api.pages)
    app.include_router(members_pages.router)
    app.include_router(search_pages.router)
    app.include_router(papers_pages.router)

    @app.get("/healthz", tags=["operations"], summary="Liveness and database reachability")
    def healthz(request: Request) -> Response:
        try:
            with request.app.state.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                last = connection.execute(
                    text("SELECT started_at, status, new FROM harvest_runs "
                         "ORDER BY id DESC LIMIT 1")
                ).first()  # fmt: skip
        except SQLAlchemyError:
            return JSONBytesResponse({"status": "error", "database": "unreachable"}, 503)
        harvest = None
        if last is not None:
            harvest = {"started_at": str(last[0]), "status": last[1], "new": last[2]}
        search_engine = request.app.state.search_engine
        search = {
            "keyword_papers": len(keyword_index),
            "dense_vectors": len(search_engine.dense) if search_engine else 0,
            "dense_ann": bool(search_engine and search_engine.dense.uses_ann),
        }
        return JSONBytesResponse(
            {
                "status": "ok",
                "database": "ok",
                "version": __version__,
                "search": search,
                "last_harvest": harvest,
            }  # fmt: skip
        )

    return app
