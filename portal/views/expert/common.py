"""What the parts of the expert console share."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

from ...models import StaffUser


def staff_member() -> StaffUser:
    """The logged-in expert as a model (the domain wants a row, not Flask-Login's proxy)."""
    return current_user._get_current_object()


def render_seconds() -> float:
    """How long this app lets the rendering of an expert's text take (each app its own)."""
    return float(current_app.config["EDITOR_RENDER_SECONDS"])
