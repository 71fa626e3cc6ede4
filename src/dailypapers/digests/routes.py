"""Subscribing (double opt-in), managing topics, one-click unsubscribe (RFC 8058) and the
"view in browser" page of a digest. The rules are in `subscriptions.py`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from dailypapers.digests import subscriptions
from dailypapers.digests.letters import browser_copy
from dailypapers.digests.models import FREQUENCIES, MAX_TOPICS, Subscriber
from dailypapers.digests.subscriptions import LinkRefused, SubscriptionProblem, Subscriptions
from dailypapers.mail.addresses import BadAddress, mailbox
from dailypapers.members import pages as member_pages
from dailypapers.members.models import Member
from dailypapers.web import ratelimit
from dailypapers.web.deps import CsrfChecked, RateLimited, SessionDep, SiteDep, ViewerDep, get_site
from dailypapers.web.pages import message_page, render_page
from dailypapers.web.responses import JSONBytesResponse

pages = APIRouter(include_in_schema=False)

FrequencyField = Annotated[str, Form(max_length=10)]
TopicsField = Annotated[str, Form(max_length=6000)]


def _subscriptions(site: SiteDep) -> Subscriptions:
    return Subscriptions(site.signer, site.settings.base_url, site.settings.site_name)


SubscriptionsDep = Annotated[Subscriptions, Depends(_subscriptions)]


def _digest_settings(request: Request, session: Session, member: Member) -> Mapping[str, object]:
    """The settings page's link to the member's digest (by their address)."""
    return {"digest_url": _subscriptions(get_site(request)).settings_path(session, member.email)}


member_pages.settings_sections.append(_digest_settings)


def _subscribe_page(request: Request, email: str, problem: str = "", status: int = 200) -> Response:
    values = {
        "title": "Get papers by email",
        "email": email,
        "problem": problem,
        "frequencies": FREQUENCIES,
    }
    return render_page(request, "subscribe.html", values, status)


@pages.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request, viewer: ViewerDep, email: str = "") -> Response:
    """The footer's form lands here (a GET, so pages stay cacheable); this page's form posts."""
    member = viewer.member
    return _subscribe_page(request, email[:320] or (member.email if member else "") or "")


@pages.post("/subscribe")
def subscribe(
    _csrf: CsrfChecked,
    _limit: Annotated[ratelimit.Decision, RateLimited(ratelimit.SUBSCRIBE)],
    request: Request,
    site: SiteDep,
    session: SessionDep,
    service: SubscriptionsDep,
    viewer: ViewerDep,
    email: Annotated[str, Form(max_length=400)] = "",
    frequency: FrequencyField = "daily",
    topics: TopicsField = "",
) -> Response:
    member = viewer.member
    try:
        if member is not None and member.confirmed and _same_address(email, member.email):
            # The member's own address is proven already: one click, no second email.
            subscriber = service.subscribe_confirmed(session, member.email or "", frequency, topics)
            session.commit()
            return _subscribed_page(request, service, subscriber)
        address = service.subscribe(session, email, frequency, topics)
    except SubscriptionProblem as problem:
        return _subscribe_page(request, email, str(problem), 422)
    session.commit()
    site.nudge("outbox")
    return message_page(
        request,
        "Check your inbox",
        f"We sent a confirmation link to {address}. Your digest starts once you follow it.",
    )


@pages.get("/subscribe/confirm/{token}")
def confirm(
    request: Request, session: SessionDep, service: SubscriptionsDep, token: str
) -> Response:
    try:
        subscriber = service.confirm(session, token[:4000])
    except LinkRefused as refused:
        return message_page(request, refused.title, str(refused), 400)
    session.commit()
    return _subscribed_page(request, service, subscriber)


def _subscribed_page(request: Request, service: Subscriptions, subscriber: Subscriber) -> Response:
    message = (
        f"The {subscriber.frequency} digest will come to {subscriber.email}. "
        "Change topics or frequency at any time from the link in each email."
    )
    values = {
        "title": "You are subscribed",
        "message": message,
        "link": service.manage_path(subscriber.id),
    }
    return render_page(request, "message.html", values)


def _same_address(typed: str, own: str | None) -> bool:
    try:
        return own is not None and mailbox(typed) == mailbox(own)
    except BadAddress:
        return False


def _subscriber(session: SessionDep, service: SubscriptionsDep, token: str) -> Subscriber:
    """The subscriber the link's token names, or 404."""
    subscriber = service.subscriber(session, token[:500])
    if subscriber is None:
        raise HTTPException(404, "This link does not work: check that it was copied whole.")
    return subscriber


SubscriberOfLink = Annotated[Subscriber, Depends(_subscriber)]


@pages.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, subscriber: SubscriberOfLink, token: str) -> Response:
    """A GET never unsubscribes (mail scanners follow links); it asks for a click."""
    values = {"title": "Unsubscribe", "subscriber": subscriber, "token": token}
    return render_page(request, "unsubscribe.html", values)


@pages.post("/unsubscribe/{token}")
def unsubscribe(request: Request, session: SessionDep, subscriber: SubscriberOfLink) -> Response:
    """One-click (RFC 8058): a POST with `List-Unsubscribe=One-Click`, no login, no CSRF token —
    the signed token in the URL is the authority."""
    subscriptions.unsubscribe(subscriber)
    session.commit()
    if "text/html" not in request.headers.get("accept", ""):
        return JSONBytesResponse({"unsubscribed": True})
    return message_page(
        request, "Unsubscribed", f"{subscriber.email} will get no more digests from this site."
    )


def _manage_page(
    request: Request, subscriber: Subscriber, token: str, topics: str, problem: str = ""
) -> Response:
    values = {
        "title": "Your digest",
        "subscriber": subscriber,
        "topics": topics,
        "token": token,
        "frequencies": FREQUENCIES,
        "problem": problem,
        "max_topics": MAX_TOPICS,
    }
    return render_page(request, "subscription.html", values, 422 if problem else 200)


@pages.get("/subscribe/manage/{token}", response_class=HTMLResponse)
def manage_page(
    request: Request, session: SessionDep, subscriber: SubscriberOfLink, token: str
) -> Response:
    topics = "\n".join(subscriptions.topics_of(session, subscriber))
    return _manage_page(request, subscriber, token, topics)


@pages.post("/subscribe/manage/{token}")
def manage(
    _csrf: CsrfChecked,
    request: Request,
    session: SessionDep,
    subscriber: SubscriberOfLink,
    token: str,
    frequency: FrequencyField = "daily",
    topics: TopicsField = "",
    min_upvotes: Annotated[int, Form(ge=0, le=100_000)] = 0,
) -> Response:
    try:
        subscriptions.change(session, subscriber, frequency, topics, min_upvotes)
    except SubscriptionProblem as problem:
        return _manage_page(request, subscriber, token, topics, str(problem))
    session.commit()
    return RedirectResponse(f"/subscribe/manage/{token}", status_code=303)


@pages.get("/digest/{token}", response_class=HTMLResponse)
def view_in_browser(site: SiteDep, session: SessionDep, token: str) -> Response:
    service = _subscriptions(site)
    html = browser_copy(
        session,
        token[:500],
        base_url=site.settings.base_url,
        site_name=site.settings.site_name,
        tokens=service.tokens,
    )
    if html is None:
        raise HTTPException(404, "This digest is not here (the link may be incomplete).")
    return HTMLResponse(html)
