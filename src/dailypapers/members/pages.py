"""Account pages: sign up, confirm, log in and out, reset a password, settings and API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from starlette.responses import Response

from dailypapers.members.accounts import AccountError, Accounts, SignUp
from dailypapers.members.auth import log_in, log_out, new_api_token, require_member
from dailypapers.members.models import ApiToken, Member
from dailypapers.members.passwords import password_problem
from dailypapers.web import ratelimit
from dailypapers.web.csrf import check_csrf
from dailypapers.web.deps import SessionDep
from dailypapers.web.errors import safe_next
from dailypapers.web.pages import client_address, message_page, render_page

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form(max_length=1000)]
CsrfField = Annotated[str, Form(alias="csrf_token", max_length=200)]


def _accounts(request: Request) -> Accounts:
    return request.app.state.accounts


# --- sign up ---------------------------------------------------------------------------------
@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request) -> Response:
    return render_page(request, "signup.html", {"title": "Sign up", "values": {}, "problems": {}})


@router.post("/signup")
def signup(
    request: Request,
    session: SessionDep,
    csrf: CsrfField = "",
    username: FormText = "",
    email: FormText = "",
    password: FormText = "",
) -> Response:
    check_csrf(request, csrf)
    ratelimit.enforce(request.app.state.engine, ratelimit.SIGNUP, client_address(request))
    form = SignUp(username.strip(), email.strip(), password)
    problems = form.problems()
    if not problems:
        try:
            _accounts(request).sign_up(session, form)
            session.commit()
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
def confirm(request: Request, session: SessionDep, token: str) -> Response:
    try:
        member = _accounts(request).confirm(session, token[:500])
    except AccountError as error:
        return message_page(request, "This link does not work", str(error), 400)
    session.commit()
    return RedirectResponse(f"/login?confirmed=1&login={member.username}", status_code=303)


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
    request: Request,
    session: SessionDep,
    csrf: CsrfField = "",
    login: FormText = "",
    password: FormText = "",
    next: FormText = "/",
) -> Response:
    check_csrf(request, csrf)
    decision = ratelimit.enforce(request.app.state.engine, ratelimit.LOGIN, client_address(request))
    try:
        member = _accounts(request).authenticate(session, login, password)
    except AccountError as error:
        session.commit()  # a new confirmation link may have been sent
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
    session.commit()
    log_in(request, member)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: CsrfField = "") -> Response:
    check_csrf(request, csrf)
    log_out(request)
    return RedirectResponse("/", status_code=303)


# --- password reset --------------------------------------------------------------------------
@router.get("/reset", response_class=HTMLResponse)
def reset_request_form(request: Request) -> Response:
    return render_page(request, "reset_request.html", {"title": "Reset your password"})


@router.post("/reset")
def reset_request(
    request: Request, session: SessionDep, csrf: CsrfField = "", email: FormText = ""
) -> Response:
    check_csrf(request, csrf)
    ratelimit.enforce(request.app.state.engine, ratelimit.PASSWORD_RESET, client_address(request))
    _accounts(request).request_reset(session, email)
    return message_page(
        request,
        "Check your inbox",
        "If an account uses that address, we sent it a link to choose a new password. "
        "The link works for an hour.",
    )


@router.get("/reset/{token}", response_class=HTMLResponse)
def reset_form(request: Request, session: SessionDep, token: str) -> Response:
    try:
        member = _accounts(request).member_for_reset(session, token[:500])
    except AccountError as error:
        return message_page(request, "This link does not work", str(error), 400)
    return render_page(
        request,
        "reset_form.html",
        {"title": "Choose a new password", "token": token, "member": member, "problem": ""},
    )


@router.post("/reset/{token}")
def reset_password(
    request: Request,
    session: SessionDep,
    token: str,
    csrf: CsrfField = "",
    password: FormText = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        _accounts(request).reset_password(session, token[:500], password)
    except AccountError as error:
        return message_page(request, "The password was not changed", str(error), 400)
    session.commit()
    log_out(request)
    return message_page(request, "Password changed", "Your new password is set. Log in with it.")


# --- settings --------------------------------------------------------------------------------
@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, session: SessionDep) -> Response:
    member = require_member(request, confirmed=False)
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.member_id == member.id).order_by(ApiToken.id)
    ).all()
    return render_page(
        request,
        "settings.html",
        {"title": "Settings", "tokens": tokens, "new_token": None, "problem": "",
         "digest_url": _digest_url(request, session, member)},
    )  # fmt: skip


def _digest_url(request: Request, session: SessionDep, member: Member) -> str:
    """The member's digest settings (by their address), or the page to subscribe."""
    from dailypapers.digests.models import Subscriber

    subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.email == member.email))
    if subscriber_id is None:
        return "/subscribe"
    return f"/subscribe/manage/{request.app.state.digest_tokens.unsubscribe(subscriber_id)}"


@router.post("/settings/profile")
def update_profile(
    request: Request, session: SessionDep, csrf: CsrfField = "", display_name: FormText = ""
) -> Response:
    check_csrf(request, csrf)
    member = require_member(request, confirmed=False)
    stored = session.get(Member, member.id)
    assert stored is not None
    stored.display_name = " ".join(display_name.split())[:200] or stored.username
    session.commit()
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/password")
def change_password(
    request: Request,
    session: SessionDep,
    csrf: CsrfField = "",
    current: FormText = "",
    password: FormText = "",
) -> Response:
    from dailypapers.members.accounts import set_password
    from dailypapers.members.passwords import verify_password

    check_csrf(request, csrf)
    member = require_member(request, confirmed=False)
    ratelimit.enforce(request.app.state.engine, ratelimit.LOGIN, f"member:{member.id}")
    stored = session.get(Member, member.id)
    assert stored is not None
    if not verify_password(stored.password_hash, current):
        return message_page(
            request, "The password was not changed", "The current password is not right.", 400
        )
    if problem := password_problem(password):
        return message_page(request, "The password was not changed", problem, 400)
    set_password(stored, password)  # ends every other session
    session.commit()
    log_in(request, stored)
    return message_page(request, "Password changed", "Your other sessions have been logged out.")


@router.post("/settings/tokens")
def create_token(
    request: Request, session: SessionDep, csrf: CsrfField = "", name: FormText = ""
) -> Response:
    check_csrf(request, csrf)
    member = require_member(request)
    token = new_api_token(session, member, " ".join(name.split()))
    session.commit()
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.member_id == member.id).order_by(ApiToken.id)
    ).all()
    return render_page(
        request,
        "settings.html",
        {"title": "Settings", "tokens": tokens, "new_token": token, "problem": ""},
    )


@router.post("/settings/tokens/{token_id}/delete")
def delete_token(
    request: Request, session: SessionDep, token_id: int, csrf: CsrfField = ""
) -> Response:
    check_csrf(request, csrf)
    member = require_member(request, confirmed=False)
    token = session.get(ApiToken, token_id)
    if token is not None and token.member_id == member.id:
        session.delete(token)
        session.commit()
    return RedirectResponse("/settings", status_code=303)
