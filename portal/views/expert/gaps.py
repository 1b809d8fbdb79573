"""Gaps: the failed searches ranked by impact, and what experts do about them."""

from __future__ import annotations

import datetime as dt
import logging

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from ...analytics.periods import last_days
from ...authoring import gaps as gap_work
from ...authoring import store
from ...authoring import terms
from ...authoring.lock import FolderBusy
from ...extensions import db
from ...search import Scope
from ...search import search as run_search
from ...service_hours import calendar
from ...web.knowledge import current_index
from ..forms import GapAnswerForm
from ..forms import GapForm
from ..forms import GapIgnoreForm
from ..params import int_arg
from . import bp
from .common import render_seconds
from .common import staff_member

log = logging.getLogger(__name__)

PERIODS = (7, 30, 90)
PER_PAGE = 20
#: Articles offered as the answer of each gap: the top results of its search.
CANDIDATES = 3


def sparkline(values: list[int], width: int = 120, height: int = 28) -> str:
    """The points of a small line chart of `values` (an SVG polyline's `points`)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / max(1, len(values) - 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}"
                    for i, v in enumerate(values))


def _period() -> int:
    days = int_arg("days", 30, 1, 365)
    if days not in PERIODS:
        abort(400, _("Choose a period of 7, 30 or 90 days."))
    return days


@bp.get("/gaps")
def gaps():
    """The gaps report: impact, trend, sample queries, outcomes, tickets, actions."""
    days = _period()
    show_ignored = request.args.get("ignored") == "1"
    page = int_arg("page", 1, 1, 1000)
    now = dt.datetime.now(dt.UTC)
    # Whole days in the team's time zone, as on the analytics page: so the report is read
    # from the daily rollups alone, and "30 days" means the same on both pages.
    since = last_days(days, now, calendar().zone).since
    index = current_index()
    shown_slice = slice((page - 1) * PER_PAGE, page * PER_PAGE)
    found, junk = gap_work.without_words(gap_work.report(
        index, since, now=now, show_ignored=show_ignored,
        trends_for=lambda views: gap_work.without_words(views)[0][shown_slice]))
    pages = max(1, -(-len(found) // PER_PAGE))
    shown = found[shown_slice]
    worked = gap_work.worked(index, now - dt.timedelta(days=90), dt.timedelta(days=days), now)
    return render_template(
        "expert/gaps.html", gaps=shown, total=len(found), page=page, pages=pages, days=days,
        junk=junk,
        periods=PERIODS, show_ignored=show_ignored, worked=worked,
        candidates={v.gap.normalized: _candidates(v.gap.label) for v in shown},
        catalog=index.catalog(), sparkline=sparkline,
        bucket_days=gap_work.bucket_size(days).days)


def _candidates(query: str) -> list:
    """Published public articles the gap's own search finds (none was opened)."""
    results = run_search(current_index(), query, Scope(), per_page=CANDIDATES)
    return results.hits


def _back():
    return redirect(url_for("expert.gaps", days=request.form.get("days") or 30), code=303)


def _refused(message: str):
    flash(message, "error")
    return _back()


def _gap_error(error: gap_work.GapError) -> str:
    return {"not_public": _("Choose a published article that customers can read."),
            "no_queries": _("Choose at least one search to add."),
            "bad_gap": _("This gap does not exist.")}.get(str(error), _("Not allowed."))


@bp.post("/gaps/answer")
def answer_gap():
    """"This article answers it": the searches become keywords, or a best bet."""
    form = GapAnswerForm()
    form.queries.choices = [(q, q) for q in request.form.getlist("queries")[:20]]
    if not form.validate_on_submit():
        errors = [e for f in form for e in f.errors]
        return _refused(" ".join(str(e) for e in errors) or _("The form has expired."))
    index = current_index()
    try:
        if form.mode.data == "keywords":
            gap_work.answer_with_keywords(index, form.normalized.data, form.queries.data,
                                          form.article.data, staff_member(),
                                          render_seconds())
        else:
            gap_work.answer_with_best_bet(index, form.normalized.data,
                                          form.query.data or form.normalized.data,
                                          form.article.data, staff_member())
    except gap_work.GapError as error:
        return _refused(_gap_error(error))
    except (store.SaveRefused, store.EditConflict, terms.TermsError):
        db.session.rollback()
        return _refused(_("The article could not be changed: open it in the editor to see "
                          "why."))
    except (FolderBusy, SQLAlchemyError, OSError):
        db.session.rollback()
        log.exception("could not answer a gap")
        abort(503)
    title = index.catalog().get(form.article.data)
    flash(_("Done: “%(title)s” answers “%(query)s” now.",
            title=title.title if title else form.article.data,
            query=form.query.data or form.normalized.data), "info")
    return _back()


@bp.post("/gaps/ignore")
def ignore_gap():
    form = GapIgnoreForm()
    if not form.validate_on_submit():
        return _refused(_("The form has expired."))
    try:
        gap_work.ignore(form.normalized.data, form.query.data, form.note.data, staff_member())
    except gap_work.GapError as error:
        return _refused(_gap_error(error))
    flash(_("The gap is hidden. “Show ignored” brings it back."), "info")
    return _back()


@bp.post("/gaps/unignore")
def unignore_gap():
    form = GapForm()
    if not form.validate_on_submit():
        return _refused(_("The form has expired."))
    try:
        gap_work.unignore(form.normalized.data, staff_member())
    except gap_work.GapError as error:
        return _refused(_gap_error(error))
    flash(_("The gap is shown again."), "info")
    return _back()
