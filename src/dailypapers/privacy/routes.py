"""/settings/data.json and /settings/data.bib (download my data) and /settings/delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from dailypapers.members.auth import log_out
from dailypapers.members.passwords import verify_password
from dailypapers.privacy.account import account_data, collections_bibtex, delete_account
from dailypapers.web import ratelimit
from dailypapers.web.deps import CsrfChecked, RateLimited, SessionDep, SignedInMember, SiteDep
from dailypapers.web.pages import message_page
from dailypapers.web.responses import JSONBytesResponse

router = APIRouter(include_in_schema=False)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@router.get("/settings/data.json")
def download_data(member: SignedInMember, session: SessionDep) -> Response:
    """Everything the site keeps about the member, as one JSON file."""
    return JSONBytesResponse(
        account_data(session, member),
        headers=_attachment(f"{member.username}-dailypapers.json"),
    )


@router.get("/settings/data.bib")
def download_collections(member: SignedInMember, session: SessionDep) -> Response:
    """Every paper of the member's collections, as BibTeX (Zotero imports it)."""
    return Response(
        collections_bibtex(session, member),
        media_type="application/x-bibtex; charset=utf-8",
        headers=_attachment(f"{member.username}-collections.bib"),
    )


@router.post("/settings/delete")
def delete(
    _csrf: CsrfChecked,
    member: SignedInMember,
    _limit: Annotated[ratelimit.Decision, RateLimited(ratelimit.LOGIN, per="member")],
    request: Request,
    session: SessionDep,
    site: SiteDep,
    password: Annotated[str, Form(max_length=1000)] = "",
    comments: Annotated[str, Form(max_length=10)] = "keep",
) -> Response:
    """Delete the account, once the password says it is the member asking."""
    if comments not in ("keep", "remove"):
        return message_page(
            request, "The account was not deleted", "Choose to keep or remove your comments.", 400
        )
    if not verify_password(member.password_hash, password):
        return message_page(
            request, "The account was not deleted", "The password is not right.", 400
        )
    delete_account(session, member, remove_comments=comments == "remove")
    log_out(request, session)
    session.commit()
    site.for_you_memo.forget(member.id)  # the model learnt from what was just deleted
    kept = (
        "Your comments stay, signed “deleted member”."
        if comments == "keep"
        else "Your comments are removed."
    )
    return message_page(
        request,
        "Your account is deleted",
        "Your upvotes, collections, follows, For you choices, API tokens and digest are gone, "
        f"and your address and name are forgotten. {kept}",
    )
