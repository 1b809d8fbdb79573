""""Did this help?": one vote per visitor and article, changeable, with a reason on "no"."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import Vote

#: Why an article did not help, in the order the form offers them.
REASONS = ("not_solved", "unclear", "outdated", "wrong_product")
MAX_COMMENT = 2000


class FeedbackError(ValueError):
    """A vote that cannot be stored as given."""


def vote_of(visitor_id: str, article_id: str) -> Vote | None:
    """The visitor's current vote on the article, if any."""
    return db.session.scalar(
        select(Vote).where(Vote.visitor_id == visitor_id, Vote.article_id == article_id))


def record_vote(visitor_id: str, article_id: str, helpful: bool, reason: str | None = None,
                comment: str | None = None) -> Vote:
    """Store or change the visitor's vote; a reason and comment only go with "no"."""
    if reason is not None and reason not in REASONS:
        raise FeedbackError(f"unknown reason {reason!r}")
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        raise FeedbackError(f"comment longer than {MAX_COMMENT} characters")
    if helpful:
        reason = comment = None
    now = dt.datetime.now(dt.UTC)
    for _attempt in range(2):
        vote = vote_of(visitor_id, article_id)
        if vote is None:
            vote = Vote(visitor_id=visitor_id, article_id=article_id, created_at=now)
            db.session.add(vote)
        vote.helpful, vote.reason, vote.comment, vote.updated_at = helpful, reason, comment, now
        # A changed vote is news for the article's owner again.
        vote.closed_at = vote.closed_by_id = vote.close_note = None
        try:
            db.session.commit()
            return vote
        except IntegrityError:
            # The same visitor voted twice at once: the other request's row exists now.
            db.session.rollback()
    raise FeedbackError("the vote could not be stored")

