"""The inbox: article requests, flags, "no" votes and reviews due, for their owners."""

from __future__ import annotations

import logging

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ...articles import is_valid_id
from ...authoring import inbox
from ...authoring import store
from ...authoring.lock import FolderBusy
from ...extensions import db
from ...models import StaffUser
from ...web.knowledge import current_index
from ..forms import InboxCloseForm
from ..forms import reason_choices
from ..params import choice_arg
from ..params import int_arg
from . import bp
from .common import render_seconds
from .common import staff_member

log = logging.getLogger(__name__)

VIEWS = ("mine", "unowned", "all")
PER_PAGE = 50


@bp.get("/inbox")
def inbox_page():
    """What waits for the experts: theirs first, then what has no owner, or everything.
    Without a view asked for, the page opens on the first of those that has work."""
    kind = choice_arg("kind", inbox.KINDS)
    index = current_index()
    staff = list(db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True))))
    views = inbox.routed(inbox.items(index), current_user, staff)
    view = choice_arg("view", VIEWS) or next((name for name in VIEWS if views[name]), "mine")
    shown = [item for item in views[view] if not kind or item.kind == kind]
    page = int_arg("page", 1, 1, 10_000)
    pages = max(1, -(-len(shown) // PER_PAGE))
    return render_template(
        "expert/inbox.html", items=shown[(page - 1) * PER_PAGE:page * PER_PAGE],
        total=len(shown), page=page, pages=pages, view=view, kind=kind, views=VIEWS,
        counts={name: len(found) for name, found in views.items()}, kinds=inbox.KINDS,
        catalog=index.catalog(), reasons=dict(reason_choices()), form=InboxCloseForm())


def _back():
    view = request.form.get("view")
    return redirect(url_for("expert.inbox_page", view=view if view in VIEWS else None),
                    code=303)


@bp.post("/inbox/<kind>/<path:key>/close")
def close_item(kind: str, key: str):
    """Close an item with a note; a review is closed by marking the article reviewed."""
    if kind not in inbox.KINDS or len(key) > 200:
        abort(404)
    form = InboxCloseForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for f in form for e in f.errors)
              or _("The form has expired."), "error")
        return _back()
    try:
        if kind == "review":
            if not is_valid_id(key):
                abort(404)
            inbox.mark_reviewed(current_index(), key, staff_member(), form.note.data,
                                render_seconds=render_seconds())
            closed = 1
        else:
            closed = inbox.close(kind, key, staff_member(), form.note.data)
    except (inbox.InboxError, store.SaveRefused, store.EditConflict):
        db.session.rollback()
        flash(_("This item could not be closed."), "error")
        return _back()
    except (FolderBusy, SQLAlchemyError, OSError):
        db.session.rollback()
        log.exception("could not close an inbox item")
        abort(503)
    if not closed:
        flash(_("Nothing to close: someone closed it already."), "error")
    else:
        flash(_("Closed.") if kind != "review" else _("Marked as reviewed today."), "info")
    return _back()
