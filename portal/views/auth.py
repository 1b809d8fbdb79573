"""Staff log in and out, and manage their API tokens."""

from __future__ import annotations

import logging

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from .. import staff
from ..extensions import db
from ..web import auth
from ..web.limits import limit_login
from .forms import ActionForm
from .forms import LoginForm
from .forms import TokenForm
from .public import safe_next

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)


def home_of(user) -> str:
    """Where a staff member starts: experts at their console, everyone else at the queue."""
    return url_for("expert.articles" if user.role == "expert" else "agent.queue")


@bp.route("/login", methods=["GET", "POST"])
@limit_login
def login():
    """The staff login page; `next` may only lead to a page of this site."""
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = staff.authenticate(form.email.data, form.password.data)
            if user is not None:
                auth.log_in(user)
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("could not log a staff member in")
            form.form_errors.append(_("Logging in is not possible right now. Please try "
                                      "again in a minute."))
            return render_template("auth/login.html", form=form), 503
        if user is not None:
            target = safe_next(form.next.data, fallback=home_of(user))
            return redirect(target, code=303)
        form.form_errors.append(_("Wrong e-mail or password, or the account is disabled."))
        return render_template("auth/login.html", form=form), 401
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data, fallback=home_of(current_user)), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Log out (a POST with the CSRF token, so no other site can log anyone out)."""
    auth.log_out()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/tokens", methods=["GET", "POST"])
@auth.staff_only(*auth.TICKET_ROLES)
def tokens():
    """API tokens of the logged-in staff member: create (shown once) and revoke."""
    form = TokenForm()
    created = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                created = staff.create_token(current_user, form.name.data)
            except staff.StaffError:
                form.name.errors.append(_("Name the token in at most 100 characters."))
                status = 400
            else:
                form = TokenForm(formdata=None)
        else:
            status = 400
    return render_template("auth/tokens.html", form=form, created=created,
                           tokens=staff.tokens_of(current_user)), status


@bp.post("/account/tokens/<int:token_id>/revoke")
@auth.staff_only(*auth.TICKET_ROLES)
def revoke_token(token_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    if not staff.revoke_token(current_user, token_id):
        abort(404)
    flash(_("The token is revoked: tools using it can no longer connect."), "info")
    return redirect(url_for("auth.tokens"), code=303)
