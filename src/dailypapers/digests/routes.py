"""Subscribing (double opt-in), managing topics, one-click unsubscribe (RFC 8058) and the
"view in browser" page of a digest."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from starlette.responses import Response

from dailypapers.database import utcnow
from dailypapers.digests.compose import Composer, Digest
from dailypapers.digests.letters import Tokens, context, render_html
from dailypapers.digests.models import FREQUENCIES, MAX_TOPICS, DigestSend, Subscriber, Topic
from dailypapers.digests.schedule import DigestPeriod
from dailypapers.members.accounts import EMAIL, normalise_email
from dailypapers.members.auth import viewer_of
from dailypapers.web import ratelimit
from dailypapers.web.csrf import check_csrf
from dailypapers.web.deps import SessionDep
from dailypapers.web.pages import client_address, message_page, render_page
from dailypapers.web.responses import JSONBytesResponse

pages = APIRouter(include_in_schema=False)
CsrfField = Annotated[str, Form(alias="csrf_token", max_length=200)]
CONFIRM_MAX_AGE = 7 * 24 * 3600
CONFIRMATION_RESEND_AFTER = timedelta(hours=1)  # one pending confirmation email at a time


def _tokens(request: Request) -> Tokens:
    return request.app.state.digest_tokens


@pages.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request, email: str = "") -> Response:
    """The footer's form lands here (a GET, so pages stay cacheable); this page's form posts."""
    member = viewer_of(request).member
    prefill = email[:320] or (member.email if member else "") or ""
    values = {"title": "Get papers by email", "email": prefill, "problem": "",
              "frequencies": FREQUENCIES}  # fmt: skip
    return render_page(request, "subscribe.html", values)


@pages.post("/subscribe")
def subscribe(
    request: Request, session: SessionDep, csrf: CsrfField = "",
    email: Annotated[str, Form(max_length=400)] = "",
    frequency: Annotated[str, Form(max_length=10)] = "daily",
    topics: Annotated[str, Form(max_length=6000)] = "",
) -> Response:  # fmt: skip
    check_csrf(request, csrf)
    client = client_address(request)
    ratelimit.enforce(request.app.state.engine, ratelimit.SIGNUP, f"subscribe:{client}")
    address = normalise_email(email)
    problem = ""
    if len(address) > 320 or not EMAIL.match(address):
        problem = "Enter an email address such as ada@example.org."
    elif frequency not in FREQUENCIES:
        problem = "Choose daily or weekly."
    queries = _topic_lines(topics)
    if not problem and len(queries) > MAX_TOPICS:
        problem = f"Follow at most {MAX_TOPICS} topics ({len(queries)} given)."
    if problem:
        values = {"title": "Get papers by email", "email": email, "problem": problem,
                  "frequencies": FREQUENCIES}  # fmt: skip
        return render_page(request, "subscribe.html", values, 422)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == address))
    if subscriber is None:
        subscriber = Subscriber(email=address, frequency=frequency, min_upvotes=0, bounces=0)
        session.add(subscriber)
        session.flush()
        session.add_all(Topic(subscriber_id=subscriber.id, query=q) for q in queries)
    pending = subscriber.confirmation_sent_at is not None and (
        utcnow() - subscriber.confirmation_sent_at < CONFIRMATION_RESEND_AFTER
    )
    if not pending:  # at most one email an hour to an address, whoever asks
        subscriber.confirmation_sent_at = utcnow()
    session.commit()
    accounts = request.app.state.accounts
    if not pending and subscriber.active:  # say so to the owner only (no enumeration)
        manage_url = f"/subscribe/manage/{_tokens(request).unsubscribe(subscriber.id)}"
        accounts.mail.send(accounts.mail.message(
            address, f"You already get the {accounts.site_name} digest",
            f"Someone (we hope you) asked to subscribe this address, which already gets the "
            f"{subscriber.frequency} digest. To change topics or frequency:\n\n"
            f"{accounts.base_url}{manage_url}\n",
        ))  # fmt: skip
    elif not pending:
        serializer = URLSafeTimedSerializer(request.app.state.settings.resolved_secret_key())
        token = serializer.dumps([subscriber.id, frequency, queries], salt="confirm-subscription")
        accounts.mail.send(accounts.mail.message(
            address, f"Confirm your {accounts.site_name} digest",
            f"Someone (we hope you) asked for the {frequency} digest of {accounts.site_name} "
            f"at this address.\n\nTo start receiving it, confirm here:\n\n"
            f"{accounts.base_url}/subscribe/confirm/{token}\n\n"
            "Nothing will be sent unless you follow the link. If it was not you, ignore this.",
        ))  # fmt: skip
    return message_page(request, "Check your inbox",
                    f"We sent a confirmation link to {address}. Your digest starts once you "
                    "follow it.")  # fmt: skip


def _topic_lines(text: str) -> list[str]:
    lines = [" ".join(line.split())[:250] for line in text.splitlines()]
    return list(dict.fromkeys(line for line in lines if line))


@pages.get("/subscribe/confirm/{token}")
def confirm(request: Request, session: SessionDep, token: str) -> Response:
    serializer = URLSafeTimedSerializer(request.app.state.settings.resolved_secret_key())
    try:
        subscriber_id, frequency, queries = serializer.loads(
            token[:4000], salt="confirm-subscription", max_age=CONFIRM_MAX_AGE
        )
    except SignatureExpired:
        return message_page(
            request, "This link has expired", "Subscribe again to get a new one.", 400
        )
    except (BadSignature, ValueError, TypeError):
        return message_page(request, "This link does not work",
                        "Check that it was copied whole.", 400)  # fmt: skip
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return message_page(request, "This link does not work", "That subscription is gone.", 400)
    subscriber.confirmed_at = subscriber.confirmed_at or utcnow()
    if subscriber.unsubscribed_at is not None:  # subscribing again
        subscriber.unsubscribed_at, subscriber.stopped_reason, subscriber.bounces = None, None, 0
    subscriber.frequency = frequency if frequency in FREQUENCIES else "daily"
    if queries:
        session.execute(delete(Topic).where(Topic.subscriber_id == subscriber.id))
        session.add_all(Topic(subscriber_id=subscriber.id, query=q) for q in queries[:MAX_TOPICS])
    session.commit()
    manage = f"/subscribe/manage/{_tokens(request).unsubscribe(subscriber.id)}"
    return render_page(request, "message.html", {
        "title": "You are subscribed",
        "message": f"The {subscriber.frequency} digest will come to {subscriber.email}. "
                   f"Change topics or frequency at any time from the link in each email.",
        "link": manage,
    })  # fmt: skip


def _subscriber_from(request: Request, session: SessionDep, token: str) -> Subscriber:
    subscriber_id = _tokens(request).read_unsubscribe(token[:500])
    subscriber = session.get(Subscriber, subscriber_id) if subscriber_id else None
    if subscriber is None:
        raise HTTPException(404, "This link does not work: check that it was copied whole.")
    return subscriber


@pages.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, session: SessionDep, token: str) -> Response:
    """A GET never unsubscribes (mail scanners follow links); it asks for a click."""
    subscriber = _subscriber_from(request, session, token)
    values = {"title": "Unsubscribe", "subscriber": subscriber, "token": token}
    return render_page(request, "unsubscribe.html", values)


@pages.post("/unsubscribe/{token}")
def unsubscribe(request: Request, session: SessionDep, token: str) -> Response:
    """One-click (RFC 8058): a POST with `List-Unsubscribe=One-Click`, no login, no CSRF token —
    the signed token in the URL is the authority."""
    subscriber = _subscriber_from(request, session, token)
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = utcnow()
        session.commit()
    if "text/html" not in request.headers.get("accept", ""):
        return JSONBytesResponse({"unsubscribed": True})
    return message_page(request, "Unsubscribed",
                    f"{subscriber.email} will get no more digests from this site.")  # fmt: skip


@pages.get("/subscribe/manage/{token}", response_class=HTMLResponse)
def manage_page(request: Request, session: SessionDep, token: str) -> Response:
    subscriber = _subscriber_from(request, session, token)
    queries = session.scalars(select(Topic.query).where(Topic.subscriber_id == subscriber.id)
                              .order_by(Topic.id)).all()  # fmt: skip
    return render_page(request, "subscription.html", {
        "title": "Your digest", "subscriber": subscriber, "topics": "\n".join(queries),
        "token": token, "frequencies": FREQUENCIES, "problem": "", "max_topics": MAX_TOPICS,
    })  # fmt: skip


@pages.post("/subscribe/manage/{token}")
def manage(
    request: Request, session: SessionDep, token: str, csrf: CsrfField = "",
    frequency: Annotated[str, Form(max_length=10)] = "daily",
    topics: Annotated[str, Form(max_length=6000)] = "",
    min_upvotes: Annotated[int, Form(ge=0, le=100_000)] = 0,
) -> Response:  # fmt: skip
    check_csrf(request, csrf)
    subscriber = _subscriber_from(request, session, token)
    queries = _topic_lines(topics)
    if frequency not in FREQUENCIES or len(queries) > MAX_TOPICS:
        return render_page(request, "subscription.html", {
            "title": "Your digest", "subscriber": subscriber, "topics": topics, "token": token,
            "frequencies": FREQUENCIES, "max_topics": MAX_TOPICS,
            "problem": f"Choose daily or weekly, and at most {MAX_TOPICS} topics.",
        }, 422)  # fmt: skip
    subscriber.frequency, subscriber.min_upvotes = frequency, min_upvotes
    session.execute(delete(Topic).where(Topic.subscriber_id == subscriber.id))
    session.add_all(Topic(subscriber_id=subscriber.id, query=q) for q in queries)
    session.commit()
    return RedirectResponse(f"/subscribe/manage/{token}", status_code=303)


@pages.get("/digest/{token}", response_class=HTMLResponse)
def view_in_browser(request: Request, session: SessionDep, token: str) -> Response:
    found = _tokens(request).read_view(token[:500])
    row = None
    if found is not None:
        row = session.scalar(select(DigestSend).where(
            DigestSend.subscriber_id == found[0], DigestSend.period == found[1]))  # fmt: skip
    if row is None or found is None:
        raise HTTPException(404, "This digest is not here (the link may be incomplete).")
    subscriber = session.get(Subscriber, row.subscriber_id)
    assert subscriber is not None
    frequency, _, when = row.period.partition(":")
    period = DigestPeriod(frequency, row.period, row.created_at.date(), row.created_at.date(),
                          row.created_at.date())  # fmt: skip
    composer = Composer(session, period, keyword_index=None)
    digest = Digest(subscriber, period, [int(i) for i in row.papers.split(",") if i])
    settings = request.app.state.settings
    values = context(digest, composer.items(digest), base_url=settings.base_url,
                     site_name=settings.site_name, tokens=_tokens(request))  # fmt: skip
    return HTMLResponse(render_html(values))
