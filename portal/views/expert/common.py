"""What the parts of the expert console share."""

from __future__ import annotations

from flask import current_app
from flask import flash
from flask_babel import ngettext
from flask_login import current_user

from ...authoring.publishing import publisher_for
from ...models import StaffUser
from ...search import SearchIndex


def staff_member() -> StaffUser:
    """The logged-in expert as a model (the domain wants a row, not Flask-Login's proxy)."""
    return current_user._get_current_object()


def render_seconds() -> float:
    """How long this app lets the rendering of an expert's text take (each app its own)."""
    return float(current_app.config["EDITOR_RENDER_SECONDS"])


def flash_unshared(index: SearchIndex) -> None:
    """Say so when saves of this server wait for the shared articles repository (it cannot
    be reached): they are kept here and sent when it answers."""
    publisher = publisher_for(index.articles_dir)
    waiting = publisher.waiting() if publisher else 0
    if waiting:
        flash(ngettext("Saved on this server, but the shared articles repository cannot be "
                       "reached: %(num)d save waits to be sent to the other servers. It is "
                       "sent by itself as soon as the repository answers.",
                       "Saved on this server, but the shared articles repository cannot be "
                       "reached: %(num)d saves wait to be sent to the other servers. They "
                       "are sent by themselves as soon as the repository answers.",
                       waiting), "info")
