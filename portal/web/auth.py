"""Who is asking: staff logins (Flask-Login over server-side sessions), API tokens, roles.

Customers never log in; every staff page and staff API call goes through `staff_only` or
`api_staff`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Iterable
from functools import wraps

from flask import Blueprint
from flask import Flask
from flask import abort
from flask import current_app
from flask import g
from flask import request
from flask import session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_user
from flask_login import logout_user

from .. import staff
from ..extensions import login_manager
from ..models import StaffUser

#: Who may work tickets: every line.
TICKET_ROLES = ("agent", "engineer", "expert", "admin")
#: Who may read the gaps report and work the knowledge base (issue 5's console).
EXPERT_ROLES = ("expert", "admin")


#: Werkzeug's password hash methods fit for storing passwords.
HASH_METHODS = ("scrypt", "pbkdf2")


def init_app(app: Flask) -> None:
    method = app.config["PASSWORD_HASH_METHOD"]
    if not isinstance(method, str) or method.partition(":")[0] not in HASH_METHODS:
        raise ValueError(f"PASSWORD_HASH_METHOD: expected scrypt (or pbkdf2:...), got {method!r}")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    # The session token is checked on the server; Flask-Login's own guard would also log
    # staff out whenever their address changes (mobile networks), so it stays off.
    login_manager.session_protection = None
    login_manager.user_loader(_load_user)


def _load_user(token: str) -> StaffUser | None:
    config = current_app.config
    user = staff.session_user(
        token, lifetime=dt.timedelta(hours=float(config["STAFF_SESSION_HOURS"])),
        idle=dt.timedelta(minutes=float(config["STAFF_IDLE_MINUTES"])))
    if user is not None:
        user.login_token = token
    return user


def log_in(user: StaffUser) -> None:
    """Start a new session: everything in the old cookie is dropped (no fixation), and a
    login it held ends on the server too."""
    previous = session.get("_user_id")
    if previous:
        staff.close_session(previous)
    session.clear()
    login = staff.open_session(user, request.remote_addr, request.user_agent.string)
    user.login_token = login.token
    login_user(user)
    session.permanent = True


def log_out() -> None:
    """End the session on the server, so a copy of the cookie stops working too."""
    token = session.get("_user_id")
    if token:
        staff.close_session(token)
    logout_user()
    session.clear()


def guard_blueprint(bp: Blueprint, roles: Iterable[str]) -> None:
    """Every page of `bp` needs a logged-in staff member with one of `roles`."""
    roles = tuple(roles)

    @bp.before_request
    def _guard():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role not in roles:
            abort(403)
        return None


def staff_only(*roles: str) -> Callable:
    """A page for logged-in staff with one of `roles`: others go to the login page (403
    when logged in with another role)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def api_user() -> StaffUser | None:
    """The staff member whose API token the request carries, if any (once per request)."""
    if "api_user" not in g:
        token = bearer_token()
        g.api_user = staff.token_user(token) if token else None
    return g.api_user


def api_staff(*roles: str) -> Callable:
    """An API endpoint for a staff token with one of `roles`: 401 without a valid token,
    403 with another role."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = api_user()
            if user is None:
                abort(401)
            if user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate
