"""`/healthz`: is the database reachable, what the search indexes hold, the last harvest."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from dailypapers import __version__
from dailypapers.web.deps import SiteDep
from dailypapers.web.responses import JSONBytesResponse

router = APIRouter(tags=["operations"])

# A refused write keeps the site "degraded" this long: on a full disk some writes fail and
# others still pass, so one success does not mean the problem is gone.
DEGRADED_AFTER_FAILURE_SECONDS = 300


class SearchHealth(BaseModel):
    keyword_papers: int = Field(description="Papers in the keyword index.")
    dense_vectors: int = Field(description="Papers with a vector (search by meaning).")
    dense_ann: bool = Field(description="Whether the HNSW graph is in use.")


class HarvestHealth(BaseModel):
    started_at: str
    status: str
    new: int


class HealthPublic(BaseModel):
    """The site's health; 503 carries only `status` and `database`."""

    status: str = Field(description="`ok`, `degraded` (writes failing) or `error`.")
    database: str = Field(description="`ok`, `writes failing` or `unreachable`.")
    problem: str | None = Field(None, description="While degraded: what the database said.")
    version: str | None = None
    search: SearchHealth | None = None
    last_harvest: HarvestHealth | None = Field(None, description="The newest arXiv harvest.")


@router.get(
    "/healthz",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "The database cannot be reached."}},
    summary="Liveness and database reachability",
)
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
    failure = site.storage_failures.recent(DEGRADED_AFTER_FAILURE_SECONDS)
    meaning = site.meaning
    search = {
        "keyword_papers": len(site.keyword),
        "dense_vectors": len(meaning) if meaning is not None else 0,
        "dense_ann": bool(meaning is not None and meaning.uses_ann),
    }
    body: dict[str, object] = {
        "status": "ok",
        "database": "ok",
        "version": __version__,
        "search": search,
        "last_harvest": harvest,
    }
    if failure is not None:
        # Reads still work, so 200: a load balancer must not take every instance out.
        seconds_ago, problem = failure
        body.update(
            status="degraded",
            database="writes failing",
            problem=f"the database refused a write {seconds_ago:.0f} s ago: {problem}",
        )
    return JSONBytesResponse(body)
