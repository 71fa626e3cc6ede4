"""A member's data, all of it in one JSON document, and the account's deletion.

Deleting an account removes the member's votes (the papers' counts follow), collections,
follows, "not interested" papers (For you), API tokens and signed-in sessions, ends their
digest, and forgets their address, name and password. Their comments are either kept, signed
"deleted member", or removed (shown as deleted, so that the replies of others keep their
place); the member chooses. The member's row stays as an anonymous tombstone (the comments
kept need an author), disabled, so the account cannot be used again and its user name is free.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dailypapers.database import utcnow
from dailypapers.digests.models import Subscriber, Topic
from dailypapers.discussion.models import Comment
from dailypapers.discussion.service import delete_comment
from dailypapers.follows import service as follows_service
from dailypapers.foryou import service as for_you_service
from dailypapers.library.bibliography import to_bibtex
from dailypapers.library.models import Collection, CollectionPaper
from dailypapers.members.models import ApiToken, Member, MemberSession, Vote
from dailypapers.members.votes import set_vote
from dailypapers.papers.feed import paper_items
from dailypapers.papers.models import DailyEntry, Paper
from dailypapers.revisions import bump_revision

DELETED_NAME = "deleted member"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def account_data(session: Session, member: Member) -> dict[str, Any]:
    """Everything the site keeps about the member, as JSON-ready values."""
    votes = session.execute(
        select(Paper.arxiv_id, Vote.created_at)
        .join(Vote, Vote.paper_id == Paper.id)
        .where(Vote.member_id == member.id)
        .order_by(Vote.created_at)
    ).all()
    comments = session.execute(
        select(Comment, Paper.arxiv_id)
        .join(Paper, Paper.id == Comment.paper_id)
        .where(Comment.member_id == member.id)
        .order_by(Comment.created_at)
    ).all()
    submissions = session.execute(
        select(Paper.arxiv_id, DailyEntry.featured_date)
        .join(DailyEntry, DailyEntry.paper_id == Paper.id)
        .where(DailyEntry.submitted_by_id == member.id)
        .order_by(DailyEntry.featured_date)
    ).all()
    tokens = session.scalars(select(ApiToken).where(ApiToken.member_id == member.id)).all()
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == member.email))
    return {
        "account": {
            "username": member.username,
            "displayName": member.display_name,
            "email": member.email,
            "role": member.role,
            "createdAt": _iso(member.created_at),
            "emailConfirmedAt": _iso(member.email_confirmed_at),
            "lastLoginAt": _iso(member.last_login_at),
            "publicUpvotes": member.public_upvotes,
        },
        "upvotes": [{"paper": arxiv_id, "at": _iso(at)} for arxiv_id, at in votes],
        "comments": [
            {
                "paper": arxiv_id,
                "id": comment.id,
                "parentId": comment.parent_id,
                "body": comment.body,
                "createdAt": _iso(comment.created_at),
                "editedAt": _iso(comment.edited_at),
                "deleted": comment.deleted_at is not None,
                "hidden": comment.hidden_at is not None,
            }
            for comment, arxiv_id in comments
        ],
        "submissions": [
            {"paper": arxiv_id, "featuredDate": _iso(day)} for arxiv_id, day in submissions
        ],
        "collections": [_collection(session, c) for c in _collections(session, member)],
        "follows": follows_service.exported(session, member.id),
        "forYou": {
            "days": member.for_you_days,
            "personalDigest": member.personal_digest,
            "notInterested": for_you_service.exported(session, member.id),
        },
        "apiTokens": [
            {
                "name": token.name,
                "scopes": token.scopes.split(),
                "createdAt": _iso(token.created_at),
                "lastUsedAt": _iso(token.last_used_at),
            }
            for token in tokens
        ],
        "digest": None
        if subscriber is None
        else {
            "email": subscriber.email,
            "frequency": subscriber.frequency,
            "confirmedAt": _iso(subscriber.confirmed_at),
            "unsubscribedAt": _iso(subscriber.unsubscribed_at),
            "topics": list(
                session.scalars(select(Topic.query).where(Topic.subscriber_id == subscriber.id))
            ),
        },
    }


def _collections(session: Session, member: Member) -> list[Collection]:
    return list(
        session.scalars(
            select(Collection).where(Collection.member_id == member.id).order_by(Collection.id)
        )
    )


def _collection_papers(session: Session, collection: Collection) -> list[str]:
    return list(
        session.scalars(
            select(Paper.arxiv_id)
            .join(CollectionPaper, CollectionPaper.paper_id == Paper.id)
            .where(CollectionPaper.collection_id == collection.id)
            .order_by(CollectionPaper.added_at)
        )
    )


def _collection(session: Session, collection: Collection) -> dict[str, Any]:
    return {
        "name": collection.name,
        "description": collection.description,
        "public": collection.public,
        "createdAt": _iso(collection.created_at),
        "papers": _collection_papers(session, collection),
    }


def collections_bibtex(session: Session, member: Member) -> str:
    """Every paper of every collection of the member, once, as BibTeX."""
    ids = list(
        dict.fromkeys(
            session.scalars(
                select(CollectionPaper.paper_id)
                .join(Collection, Collection.id == CollectionPaper.collection_id)
                .where(Collection.member_id == member.id)
                .order_by(CollectionPaper.added_at)
            )
        )
    )
    items = paper_items(session, ids)
    return to_bibtex(items[i].paper for i in ids if i in items)


def delete_account(session: Session, member: Member, *, remove_comments: bool) -> None:
    """Delete the account (see the module's docstring). The caller commits."""
    # Through the same calls as a click, so that the papers' counts stay equal to their rows.
    for paper_id in list(session.scalars(select(Vote.paper_id).where(Vote.member_id == member.id))):
        set_vote(session, member.id, paper_id, up=False)
    if remove_comments:
        for comment_id in list(
            session.scalars(
                select(Comment.id).where(
                    Comment.member_id == member.id, Comment.deleted_at.is_(None)
                )
            )
        ):
            delete_comment(session, member, comment_id).body = ""
    session.execute(delete(Collection).where(Collection.member_id == member.id))
    follows_service.forget(session, member.id)
    for_you_service.forget(session, member.id)
    session.execute(delete(ApiToken).where(ApiToken.member_id == member.id))
    session.execute(delete(MemberSession).where(MemberSession.member_id == member.id))
    if member.email:
        session.execute(
            update(Subscriber)
            .where(Subscriber.email == member.email, Subscriber.unsubscribed_at.is_(None))
            .values(unsubscribed_at=utcnow(), stopped_reason="account deleted")
        )
    session.execute(
        update(DailyEntry)
        .where(DailyEntry.submitted_by_id == member.id)
        .values(submitted_by_id=None, submitter_name=None)
    )
    member.username = f"deleted-{member.id}"
    member.display_name = DELETED_NAME
    member.email = None
    member.password_hash = None
    member.disabled = True
    member.public_upvotes = False
    member.personal_digest = False
    member.session_version += 1
    bump_revision(session)
