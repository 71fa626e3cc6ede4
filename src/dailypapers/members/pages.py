"""Account pages: sign up, confirm, log in and out (here or everywhere), reset a password,
settings and API tokens."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import Response

from dailypapers.database import utcnow
from dailypapers.members.accounts import AccountError, Accounts, SignUp, set_password
from dailypapers.members.auth import (
    SESSION_DAYS,
    end_every_session,
    log_in,
    log_out,
    new_api_token,
    parse_scopes,
)
from dailypapers.members.models import SCOPES, ApiToken, Member, MemberSession
from dailypapers.members.passwords import password_problem, verify_password
from dailypapers.revisions import bump_revision
from dailypapers.web import ratelimit
from dailypapers.web.deps import (
    CsrfChecked,
    CurrentMember,
    RateLimited,
    SessionDep,
    SignedInMember,
    SiteDep,
)
from dailypapers.web.errors import safe_next
from dailypapers.web.pages import message_page, render_page
from dailypapers.web.params import DbId

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form(max_length=1000)]

# What packages above this one add to the settings page (digests: the link to the member's
# digest): each a function of (request, session, member) that gives template values. They
# register here, so that members never import them.
SettingsSection = Callable[[Request, Session, Member], Mapping[str, object]]
settings_sections: list[SettingsSection] = []


def _accounts(site: SiteDep) -> Accounts:
    return Accounts(site.signer, site.settings.base_url, site.settings.site_name)


AccountsDep = Annotated[Accounts, Depends(_accounts)]


# --- sign up ---------------------------------------------------------------------------------
@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request) -> Response:
    return render_page(request, "signup.html", {"title": "Sign up", "values": {}, "problems": {}})


@router.post("/signup")
def signup(
    _csrf: CsrfChecked,
    _limit: Annotated[ratelimit.Decision, RateLimited(ratelimit.SIGNUP)],
    request: Request,
    site: SiteDep,
    session: SessionDep,
    accounts: AccountsDep,
    username: FormText = "",
    email: FormText = "",
    password: FormText = "",
) -> Response:
    form = SignUp(username.strip(), email.strip(), password)
    problems = form.problems()
    if not problems:
        try:
            accounts.sign_up(session, form)
            session.commit()
            site.nudge("outbox")
        except AccountError as error:
            session.rollback()
            problems = {"username": str(error)}
    if problems:
        values = {"username": username, "email": email}
        return render_page(
            request,
            "signup.html",
            {"title": "Sign up", "values": values, "problems": problems},
            422,
        )
    return message_page(
        request,
        "Check your inbox",
        f"We sent a link to {form.email}. Follow it to confirm your address, then log in.",
    )


@router.get("/confirm/{token}")
def confirm(request: Request, session: SessionDep, accounts: AccountsDep, token: str) -> Response:
    try:
        member, first_use = accounts.confirm(session, token[:500])
    except AccountError as error:
        return message_page(request, "This link does not work", str(error), 400)
    if not first_use or member.disabled:  # a link logs in once: later clicks ask for the password
        session.commit()
        return RedirectResponse(f"/login?confirmed=1&login={member.username}", status_code=303)
    log_in(request, session, member)
    member.last_login_at = utcnow()
    session.commit()
    return message_page(
        request,
        "Your address is confirmed",
        f"Welcome, {member.display_name or member.username}: you are logged in. Upvote, "
        "comment and submit papers, or get the trending papers by email from /subscribe.",
    )


# --- log in and out --------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, next: str = "/", confirmed: bool = False, login: str = ""
) -> Response:
    notice = "Your address is confirmed. Log in to start." if confirmed else ""
    return render_page(
        request,
        "login.html",
        {
            "title": "Log in",
            "next": safe_next(next),
            "notice": notice,
            "login": login[:320],
            "problem": "",
        },
    )


@router.post("/login")
def login(
    _csrf: CsrfChecked,
    decision: Annotated[ratelimit.Decision, RateLimited(ratelimit.LOGIN)],
    request: Request,
    site: SiteDep,
    session: SessionDep,
    accounts: AccountsDep,
    login: FormText = "",
    password: FormText = "",
    next: FormText = "/",
) -> Response:
    try:
        member = accounts.authenticate(session, login, password)
    except AccountError as error:
        session.commit()  # a new confirmation link may have been queued
        site.nudge("outbox")
        response = render_page(
            request,
            "login.html",
            {
                "title": "Log in",
                "next": safe_next(next),
                "notice": "",
                "login": login[:320],
                "problem": str(error),
            },
            400,
        )
        response.headers.update(decision.headers())
        return response
    log_in(request, session, member)
    session.commit()
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(_csrf: CsrfChecked, request: Request, session: SessionDep) -> Response:
    """Ends this browser's session on the server too: a copy of its cookie is refused."""
    log_out(request, session)
    session.commit()
    return RedirectResponse("/", status_code=303)


@router.post("/settings/logout-everywhere")
def logout_everywhere(
    _csrf: CsrfChecked, member: SignedInMember, request: Request, session: SessionDep
) -> Response:
    end_every_session(member)  # every browser, and the API tokens
    session.commit()
    log_out(request)
    return message_page(
        request,
        "Logged out everywhere",
        "Every browser signed in to your account is logged out, and your API tokens are "
        "revoked. Log in again here to go on.",
    )


# --- password reset --------------------------------------------------------------------------
@router.get("/reset", response_class=HTMLResponse)
def reset_request_form(request: Request) -> Response:
    return render_page(request, "reset_request.html", {"title": "Reset your password"})


@router.post("/reset")
def reset_request(
    _csrf: CsrfChecked,
    _limit: Annotated[ratelimit.Decision, RateLimited(ratelimit.PASSWORD_RESET)],
    request: Request,
    background: BackgroundTasks,
    site: SiteDep,
    accounts: AccountsDep,
    email: FormText = "",
) -> Response:
    # Looked up once the answer has gone: a known and an unknown address answer in the same
    # time, whatever the lookup and the queued email cost.
    background.add_task(_queue_reset_link, site.sessions, site.nudge, accounts, email)
    return message_page(
        request,
        "Check your inbox",
        "If an account uses that address, we sent it a link to choose a new password. "
        "The link works for an hour.",
    )


def _queue_reset_link(
    sessions: sessionmaker[Session], nudge: Callable[[str], None], accounts: Accounts, email: str
) -> None:
    with sessions() as session:
        accounts.request_reset(session, email)
        session.commit()
    nudge("outbox")


@router.get("/reset/{token}", response_class=HTMLResponse)
def reset_form(
    request: Request, session: SessionDep, accounts: AccountsDep, token: str
) -> Response:
    try:
        member = accounts.member_for_reset(session, token[:500])
    except AccountError as error:
        return message_page(request, "This link does not work", str(error), 400)
    return render_page(
        request,
        "reset_form.html",
        {"title": "Choose a new password", "token": token, "member": member, "problem": ""},
    )


@router.post("/reset/{token}")
def reset_password(
    _csrf: CsrfChecked,
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    token: str,
    password: FormText = "",
) -> Response:
    try:
        accounts.reset_password(session, token[:500], password)
    except AccountError as error:
        return message_page(request, "The password was not changed", str(error), 400)
    session.commit()
    log_out(request)
    return message_page(request, "Password changed", "Your new password is set. Log in with it.")


# --- settings --------------------------------------------------------------------------------
def _settings_page(
    request: Request,
    session: Session,
    member: Member,
    new_token: str | None = None,
    problem: str = "",
) -> Response:
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.member_id == member.id).order_by(ApiToken.id)
    ).all()
    signed_in = session.scalar(
        select(func.count()).where(
            MemberSession.member_id == member.id,
            MemberSession.last_seen_at > utcnow() - timedelta(days=SESSION_DAYS),
        )
    )
    values: dict[str, object] = {
        "title": "Settings",
        "tokens": tokens,
        "scopes": SCOPES,
        "signed_in": signed_in,
        "new_token": new_token,
        "problem": problem,
    }
    for section in settings_sections:
        values.update(section(request, session, member))
    return render_page(request, "settings.html", values, 400 if problem else 200)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(member: SignedInMember, request: Request, session: SessionDep) -> Response:
    return _settings_page(request, session, member)


@router.post("/settings/profile")
def update_profile(
    _csrf: CsrfChecked, member: SignedInMember, session: SessionDep, display_name: FormText = ""
) -> Response:
    member.display_name = " ".join(display_name.split())[:200] or member.username
    bump_revision(session)  # cached pages show the name (comments, the member's page)
    session.commit()
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/privacy")
def update_privacy(
    _csrf: CsrfChecked,
    member: SignedInMember,
    session: SessionDep,
    public_upvotes: Annotated[bool, Form()] = False,
) -> Response:
    """Whether the member's public page (/members/{username}) lists their upvotes."""
    member.public_upvotes = public_upvotes
    bump_revision(session)  # cached copies of their public page change
    session.commit()
    return RedirectResponse("/settings#privacy", status_code=303)


@router.post("/settings/password")
def change_password(
    _csrf: CsrfChecked,
    member: SignedInMember,
    _limit: Annotated[ratelimit.Decision, RateLimited(ratelimit.LOGIN, per="member")],
    request: Request,
    session: SessionDep,
    current: FormText = "",
    password: FormText = "",
) -> Response:
    if not verify_password(member.password_hash, current):
        return message_page(
            request, "The password was not changed", "The current password is not right.", 400
        )
    if problem := password_problem(password):
        return message_page(request, "The password was not changed", problem, 400)
    set_password(member, password)  # ends every session and revokes the API tokens
    log_in(request, session, member)  # … but this one goes on
    session.commit()
    return message_page(
        request,
        "Password changed",
        "Your other sessions have been logged out and your API tokens revoked.",
    )


@router.post("/settings/tokens")
def create_token(
    _csrf: CsrfChecked,
    member: CurrentMember,  # a session cookie: API tokens are not accepted here
    request: Request,
    session: SessionDep,
    name: FormText = "",
    scope: Annotated[list[str] | None, Form(max_length=len(SCOPES))] = None,
) -> Response:
    """A new token with the scopes ticked (the form always sends "read"; a request naming
    none gets all four, what tokens could do before scopes existed)."""
    try:
        scopes = parse_scopes(scope)
    except ValueError as error:
        return _settings_page(request, session, member, problem=str(error))
    token = new_api_token(session, member, " ".join(name.split()), scopes)
    session.commit()
    return _settings_page(request, session, member, new_token=token)


@router.post("/settings/tokens/{token_id}/delete")
def delete_token(
    _csrf: CsrfChecked, member: SignedInMember, session: SessionDep, token_id: DbId
) -> Response:
    token = session.get(ApiToken, token_id)
    if token is not None and token.member_id == member.id:
        session.delete(token)
        session.commit()
    return RedirectResponse("/settings", status_code=303)
