"""Submitting papers: the `/submit` page and `POST /api/papers/submit` for programs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from dailypapers.curation.submissions import (
    SubmissionRefused,
    SubmissionRules,
    Submitted,
    submit,
)
from dailypapers.members.models import Member
from dailypapers.web import ratelimit
from dailypapers.web.deps import (
    ApiMember,
    CsrfChecked,
    CurrentMember,
    RateLimited,
    SessionDep,
    SettingsDep,
    SignedInMember,
    SiteDep,
)
from dailypapers.web.pages import render_page
from dailypapers.web.responses import JSONBytesResponse, json_error

router = APIRouter(tags=["submissions"])
pages = APIRouter(include_in_schema=False)
SubmitAllowed = Annotated[ratelimit.Decision, RateLimited(ratelimit.SUBMIT, per="member")]


class SubmitRequest(BaseModel):
    arxiv_id: str = Field(max_length=300, description="An arXiv id or URL, e.g. 2501.00001")


class SubmitResult(BaseModel):
    id: str
    title: str
    submittedOnDailyAt: str


def _submit(site: SiteDep, session: SessionDep, member: Member, text: str) -> Submitted:
    """Submit by the member's rules, commit, and tell search of a paper fetched just now."""
    settings = site.settings
    rules = SubmissionRules(settings.submission_max_age_days, settings.submissions_per_day)
    today = datetime.now(settings.zone).date()
    try:
        done = submit(
            session,
            site.arxiv,
            settings.arxiv_api_url,
            text,
            member=member,
            today=today,
            rules=rules,
        )
        session.commit()
    except IntegrityError:  # someone else submitted the same paper a moment earlier
        session.rollback()
        raise SubmissionRefused("That paper was just submitted by someone else.") from None
    site.papers_stored([done.paper_id])
    return done


@router.post(
    "/api/papers/submit",
    response_model=SubmitResult,
    status_code=201,
    summary="Put a paper on today's list",
)
def submit_api(
    site: SiteDep, session: SessionDep, member: ApiMember, _: SubmitAllowed, body: SubmitRequest
) -> Response:
    """Needs a signed-in member (session cookie plus `X-CSRF-Token`, or an API token). The
    paper's metadata is fetched from arXiv unless the site knows it. 409 with the reason when
    a rule refuses it (already listed, too old, daily limit) or arXiv cannot help."""
    try:
        done = _submit(site, session, member, body.arxiv_id)
    except SubmissionRefused as error:
        return json_error(409, str(error))
    return JSONBytesResponse(
        {
            "id": done.arxiv_id,
            "title": done.title,
            "submittedOnDailyAt": done.featured_date.isoformat(),
        },
        status_code=201,
    )


@pages.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request, settings: SettingsDep, _: SignedInMember) -> Response:
    return _page(request, settings)


@pages.post("/submit")
def submit_page(
    _csrf: CsrfChecked,
    member: CurrentMember,
    _: SubmitAllowed,
    request: Request,
    site: SiteDep,
    session: SessionDep,
    arxiv_id: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    try:
        done = _submit(site, session, member, arxiv_id)
    except SubmissionRefused as error:
        return _page(request, site.settings, problem=str(error), value=arxiv_id, status=409)
    return _page(request, site.settings, submitted=done)


def _page(
    request: Request,
    settings: SettingsDep,
    *,
    problem: str = "",
    value: str = "",
    submitted: Submitted | None = None,
    status: int = 200,
) -> Response:
    return render_page(
        request,
        "submit.html",
        {
            "title": "Submit a paper",
            "problem": problem,
            "value": value,
            "submitted": submitted,
            "max_age_days": settings.submission_max_age_days,
            "per_day": settings.submissions_per_day,
        },
        status_code=status,
    )
