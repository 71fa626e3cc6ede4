"""The hide/unhide buttons curators see under each comment on a paper's page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dailypapers.curation.moderation import hide_comment
from dailypapers.discussion.routes import back_to_paper, comment_paper
from dailypapers.discussion.service import CommentRefused
from dailypapers.web.deps import CsrfChecked, CurrentMember, SessionDep
from dailypapers.web.errors import Forbidden
from dailypapers.web.params import DbId

pages = APIRouter(include_in_schema=False)


@pages.post("/comments/{comment_id}/hide")
@pages.post("/comments/{comment_id}/unhide")
def hide_form(
    _csrf: CsrfChecked,
    member: CurrentMember,
    request: Request,
    session: SessionDep,
    comment_id: DbId,
) -> Response:
    if not member.is_curator:
        raise Forbidden("Only curators can hide comments.")
    hide = request.url.path.endswith("/hide")
    _, arxiv_id = comment_paper(session, comment_id)
    try:
        hide_comment(session, member, comment_id, hide)
    except CommentRefused as error:
        return back_to_paper(request, arxiv_id, problem=str(error))
    session.commit()
    return back_to_paper(request, arxiv_id, comment_id)
