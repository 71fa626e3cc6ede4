"""Submitting papers: the `/submit` page and `POST /api/papers/submit` for programs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from dailypapers.members.auth import require_member, viewer_of
from dailypapers.papers.submissions import SubmissionRefused, SubmissionRules, Submitted, submit
from dailypapers.web import ratelimit
from dailypapers.web.csrf import HEADER, check_csrf
from dailypapers.web.deps import SessionDep, SettingsDep
from dailypapers.web.responses import JSONBytesResponse, json_error

router = APIRouter(tags=["submissions"])
pages = APIRouter(include_in_schema=False)


class SubmitRequest(BaseModel):
    arxiv_id: str = Field(max_length=300, description="An arXiv id or URL, e.g. 2501.00001")


class SubmitResult(BaseModel):
    id: str
    title: str
    submittedOnDailyAt: str


def _submit(request: Request, session: SessionDep, settings: SettingsDep, text: str) -> Submitted:
    member = require_member(request)
    ratelimit.enforce(request.app.state.engine, ratelimit.SUBMIT, f"member:{member.id}")
    rules = SubmissionRules(settings.submission_max_age_days, settings.submissions_per_day)
    today = datetime.now(settings.zone).date()
    try:
        return submit(
            session, request.app.state.arxiv, settings.arxiv_api_url, text,
            member=member, today=today, rules=rules,
        )  # fmt: skip
    except IntegrityError:  # someone else submitted the same paper a moment earlier
        session.rollback()
        raise SubmissionRefused("That paper was just submitted by someone else.") from None


@router.post("/api/papers/submit", response_model=SubmitResult, status_code=201,
             summary="Put a paper on today's list")  # fmt: skip
def submit_api(
    request: Request, session: SessionDep, settings: SettingsDep, body: SubmitRequest
) -> Response:
    """Needs a signed-in member (session cookie plus `X-CSRF-Token`, or an API token). The
    paper's metadata is fetched from arXiv unless the site knows it. 409 with the reason when
    a rule refuses it (already listed, too old, daily limit) or arXiv cannot help."""
    require_member(request)
    if not viewer_of(request).by_token:
        check_csrf(request, request.headers.get(HEADER))
    try:
        done = _submit(request, session, settings, body.arxiv_id)
    except SubmissionRefused as error:
        return json_error(409, str(error))
    return JSONBytesResponse(
        {"id": done.arxiv_id, "title": done.title,
         "submittedOnDailyAt": done.featured_date.isoformat()},
        status_code=201,
    )  # fmt: skip


@pages.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request, settings: SettingsDep) -> Response:
    require_member(request, confirmed=False)
    return _page(request, settings)


@pages.post("/submit")
def submit_page(
    request: Request, session: SessionDep, settings: SettingsDep,
    csrf: Annotated[str, Form(alias="csrf_token", max_length=200)] = "",
    arxiv_id: Annotated[str, Form(max_length=300)] = "",
) -> Response:  # fmt: skip
    check_csrf(request, csrf)
    try:
        done = _submit(request, session, settings, arxiv_id)
    except SubmissionRefused as error:
        return _page(request, settings, problem=str(error), value=arxiv_id, status=409)
    return _page(request, settings, submitted=done)


def _page(
    request: Request, settings: SettingsDep, *, problem: str = "", value: str = "",
    submitted: Submitted | None = None, status: int = 200,
) -> Response:  # fmt: skip
    return request.app.state.templates.TemplateResponse(
        request, "submit.html",
        {"title": "Submit a paper", "problem": problem, "value": value, "submitted": submitted,
         "max_age_days": settings.submission_max_age_days,
         "per_day": settings.submissions_per_day},
        status_code=status,
    )  # fmt: skip
