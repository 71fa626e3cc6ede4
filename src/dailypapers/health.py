"""`/healthz`: is the database reachable, what the search indexes hold, the last harvest."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from dailypapers import __version__
from dailypapers.web.deps import SiteDep
from dailypapers.web.responses import JSONBytesResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness and database reachability")
def healthz(site: SiteDep) -> Response:
    try:
        with site.database.connect() as connection:
            connection.execute(text("SELECT 1"))
            last = connection.execute(
                text("SELECT started_at, status, new FROM harvest_runs ORDER BY id DESC LIMIT 1")
            ).first()
    except SQLAlchemyError:
        return JSONBytesResponse({"status": "error", "database": "unreachable"}, 503)
    harvest = None
    if last is not None:
        harvest = {"started_at": str(last[0]), "status": last[1], "new": last[2]}
    meaning = site.meaning
    search = {
        "keyword_papers": len(site.keyword),
        "dense_vectors": len(meaning) if meaning is not None else 0,
        "dense_ann": bool(meaning is not None and meaning.uses_ann),
    }
    return JSONBytesResponse(
        {
            "status": "ok",
            "database": "ok",
            "version": __version__,
            "search": search,
            "last_harvest": harvest,
        }
    )
