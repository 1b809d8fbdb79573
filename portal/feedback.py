""""Did this help?": one vote per visitor and article, changeable, with a reason on "no"."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import Vote
from .models import VoteDay

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
        else:
            _uncount(vote)
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



def day_reason(reason: str | None) -> str:
    """The reason as `vote_day` keys it ("" for none)."""
    return reason or ""


def _uncount(vote: Vote) -> None:
    """A vote about to change leaves the `vote_day` row it is counted in; the next
    `count_votes` counts it on the day of its change."""
    table = Vote.__table__
    # Lock the row first (a `count_votes` counting it finishes before), then read it.
    db.session.execute(update(table).where(table.c.id == vote.id)
                       .values(counted_day=table.c.counted_day))
    counted = db.session.execute(
        select(table.c.counted_day, table.c.helpful, table.c.reason)
        .where(table.c.id == vote.id)).one()
    vote.counted_day = None
    if counted.counted_day is None:
        return
    db.session.execute(update(VoteDay).where(
        VoteDay.day == counted.counted_day, VoteDay.article_id == vote.article_id,
        VoteDay.helpful == counted.helpful, VoteDay.reason == day_reason(counted.reason))
        .values(votes=VoteDay.votes - 1))


def _midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def count_votes(now: dt.datetime, zone: dt.tzinfo) -> int:
    """Count the votes given or changed before `now` and not counted yet in `vote_day`,
    on the local day (of `zone`) of their last change; how many were counted. The caller
    holds the rollups' turn and commits."""
    table = Vote.__table__
    waiting = (table.c.counted_day.is_(None), table.c.updated_at < now)
    counted = 0
    while (first := db.session.scalar(select(func.min(table.c.updated_at))
                                      .where(*waiting))) is not None:
        day = first.astimezone(zone).date()
        until = min(_midnight(day + dt.timedelta(days=1), zone), now)
        # One statement marks and reads each vote, so a change made meanwhile is either
        # seen here or (waiting on the row) takes this count out again.
        found = Counter(db.session.execute(
            update(table).where(*waiting, table.c.updated_at < until)
            .values(counted_day=day)
            .returning(table.c.article_id, table.c.helpful, table.c.reason)).all())
        if found:
            dialect = db.session.get_bind().dialect.name
            statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
                VoteDay.__table__)
            statement = statement.on_conflict_do_update(
                index_elements=["day", "article_id", "helpful", "reason"],
                set_={"votes": VoteDay.__table__.c.votes + statement.excluded.votes})
            merged: Counter[tuple[str, bool, str]] = Counter()
            for (article_id, helpful, reason), n in found.items():
                merged[(article_id, helpful, day_reason(reason))] += n
            db.session.execute(statement, [
                {"day": day, "article_id": a, "helpful": h, "reason": r, "votes": n}
                for (a, h, r), n in sorted(merged.items())])
            counted += sum(found.values())
    return counted


def forget_counts() -> None:
    """Empty `vote_day`: every vote waits to be counted again."""
    db.session.execute(delete(VoteDay))
    db.session.execute(update(Vote).where(Vote.counted_day.is_not(None))
                       .values(counted_day=None))
