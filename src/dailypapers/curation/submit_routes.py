"""Submitting papers: the `/submit` page and `POST /api/papers/submit` for programs.

Both routes are async: the rules are checked and the paper stored on the threads that serve
pages, but a paper new to the site is fetched from arXiv on the arXiv client's own threads
while the route waits without holding one (`fetch_for_submission`): a slow arXiv cannot take
the site's threads. Too many submissions waiting on arXiv at once: 503 with Retry-After.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from dailypapers.curation.submissions import (
    FetchFailed,
    SubmissionRefused,
    SubmissionRules,
    Submitted,
    TryLater,
    check_submission,
    fetch_for_submission,
    note_failed_fetch,
    submit,
)
from dailypapers.members.models import Member
from dailypapers.papers.records import PaperRecord
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
from dailypapers.web.openapi import MEMBER_AUTH, MEMBER_REFUSALS, errors
from dailypapers.web.pages import render_page
from dailypapers.web.responses import JSONBytesResponse, json_error

router = APIRouter(tags=["submissions"])
pages = APIRouter(include_in_schema=False)
SubmitAllowed = Annotated[ratelimit.Decision, RateLimited(ratelimit.SUBMIT, per="member")]
Submitter = Annotated[Member, ApiMember("submit")]  # an API token needs "submit"


class SubmitRequest(BaseModel):
    arxiv_id: str = Field(max_length=300, description="An arXiv id or URL, e.g. 2501.00001")


class SubmitResult(BaseModel):
    id: str
    title: str
    submittedOnDailyAt: str


async def _submit(site: SiteDep, session: SessionDep, member: Member, text: str) -> Submitted:
    """Submit by the member's rules: the rules first; a paper new to the site fetched from
    arXiv off the page threads, with no database connection held meanwhile (a failed fetch
    counts toward the daily limit); then stored, listed and committed."""
    settings = site.settings
    rules = SubmissionRules(settings.submission_max_age_days, settings.submissions_per_day)
    today = datetime.now(settings.zone).date()
    record = await record_if_new(site, session, text, member=member, today=today, rules=rules)
    return await run_in_threadpool(_list, site, session, member, text, today, rules, record)


async def record_if_new(
    site: SiteDep,
    session: SessionDep,
    text: str,
    *,
    member: Member,
    today: date,
    rules: SubmissionRules,
) -> PaperRecord | None:
    """The rules that need no arXiv; then, for a paper new to the site, its arXiv record,
    fetched off the threads that serve pages with no database connection held meanwhile (a
    fetch that fails counts toward the member's daily limit). None when the site knows it."""
    candidate = await run_in_threadpool(
        check_submission, session, text, member=member, today=today, rules=rules
    )
    if candidate.paper is not None:
        return None
    await run_in_threadpool(session.close)  # the member stays loaded, detached
    try:
        return await fetch_for_submission(
            site.arxiv,
            site.settings.arxiv_api_url,
            candidate.arxiv_id,
            deadline=site.settings.arxiv_fetch_deadline,
        )
    except FetchFailed:
        await run_in_threadpool(note_failed_fetch, site.database, member, today)
        raise


def _list(
    site: SiteDep,
    session: SessionDep,
    member: Member,
    text: str,
    today: date,
    rules: SubmissionRules,
    record: PaperRecord | None,
) -> Submitted:
    """Submit with the record fetched (the rules checked again), commit, tell search."""
    settings = site.settings
    try:
        done = submit(
            session,
            site.arxiv,
            settings.arxiv_api_url,
            text,
            member=member,
            today=today,
            rules=rules,
            fetched=record,
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
    responses=errors(400, 409, *MEMBER_REFUSALS),
    openapi_extra=MEMBER_AUTH,
    summary="Put a paper on today's list",
)
async def submit_api(
    site: SiteDep, session: SessionDep, member: Submitter, _: SubmitAllowed, body: SubmitRequest
) -> Response:
    """Needs a signed-in member (session cookie plus `X-CSRF-Token`, or an API token). The
    paper's metadata is fetched from arXiv unless the site knows it. 409 with the reason when
    a rule refuses it (already listed, too old, daily limit) or arXiv cannot help (a fetch
    that fails counts toward the daily limit); 503 with Retry-After when too many
    submissions are waiting on arXiv already."""
    try:
        done = await _submit(site, session, member, body.arxiv_id)
    except TryLater as error:
        return json_error(503, str(error), {"Retry-After": str(error.retry_after)})
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
async def submit_page(
    _csrf: CsrfChecked,
    member: CurrentMember,
    _: SubmitAllowed,
    request: Request,
    site: SiteDep,
    session: SessionDep,
    arxiv_id: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    settings = site.settings
    try:
        done = await _submit(site, session, member, arxiv_id)
    except TryLater as error:
        page = await run_in_threadpool(
            _page, request, settings, problem=str(error), value=arxiv_id, status=503
        )
        page.headers["Retry-After"] = str(error.retry_after)
        return page
    except SubmissionRefused as error:
        return await run_in_threadpool(
            _page, request, settings, problem=str(error), value=arxiv_id, status=409
        )
    return await run_in_threadpool(_page, request, settings, submitted=done)


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
