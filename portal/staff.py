"""Staff accounts: creating and disabling them, passwords, login sessions and API tokens.

Knows no request: views and the command line pass plain values in."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from email_validator import EmailNotValidError
from email_validator import validate_email
from flask import current_app
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from .extensions import db
from .models import ApiToken
from .models import StaffSession
from .models import StaffUser

log = logging.getLogger(__name__)

#: agent (line 1), engineer (line 2), expert (line 3), admin.
ROLES = ("agent", "engineer", "expert", "admin")
MIN_PASSWORD = 10
MAX_PASSWORD = 200
#: Prefix of every API token, so a leaked one is easy to recognise in logs and scanners.
TOKEN_PREFIX = "l0_"
#: How often a session's "last seen" is written (not on every request).
SEEN_EVERY = dt.timedelta(minutes=1)
#: A password hash per method that matches nothing, checked for unknown e-mails so that a
#: wrong address takes as long as a wrong password; made on first use, not at import.
_NO_USER_HASHES: dict[str, str] = {}


class StaffError(ValueError):
    """A staff account action the rules do not allow; `str()` says which rule."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def hash_secret(secret: str) -> str:
    """sha256 of a random token (tokens are long and random, so no slow KDF is needed)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _method() -> str:
    """How passwords are hashed: `PASSWORD_HASH_METHOD`, scrypt unless a test says otherwise."""
    return current_app.config["PASSWORD_HASH_METHOD"]


def _hash(password: str) -> str:
    return generate_password_hash(password, method=_method())


def _no_user_hash() -> str:
    method = _method()
    if method not in _NO_USER_HASHES:
        _NO_USER_HASHES[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _NO_USER_HASHES[method]


def normalize_email(email: str) -> str:
    """The address as stored: checked for shape and lower-cased."""
    try:
        valid = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise StaffError(f"not a valid e-mail address: {error}") from None
    return valid.normalized.lower()


def check_password(password: str, email: str = "") -> str:
    """The password when it is acceptable, else StaffError saying why."""
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise StaffError(f"the password must have at most {MAX_PASSWORD} characters")
    if email and password.strip().lower() == email.lower():
        raise StaffError("the password must not be the e-mail address")
    return password


def find_user(email: str) -> StaffUser | None:
    try:
        address = normalize_email(email)
    except StaffError:
        return None
    return db.session.scalar(select(StaffUser).where(StaffUser.email == address))


def create_user(email: str, name: str, role: str, password: str) -> StaffUser:
    """A new active account (committed)."""
    if role not in ROLES:
        raise StaffError(f"the role must be one of {', '.join(ROLES)}")
    address = normalize_email(email)
    name = " ".join((name or "").split())[:200] or address.split("@")[0]
    check_password(password, address)
    if find_user(address) is not None:
        raise StaffError(f"an account for {address} exists already")
    user = StaffUser(email=address, name=name, role=role, active=True, created_at=_now(),
                     password_hash=_hash(password))
    db.session.add(user)
    db.session.commit()
    return user


def generate_password() -> str:
    """A random password to print once."""
    return secrets.token_urlsafe(15)


def set_password(user: StaffUser, password: str, revoke_tokens: bool = False) -> int:
    """A new password; every open session of the account ends, and with `revoke_tokens`
    its API tokens too (after a suspected compromise: whoever had the password may have
    made one). Returns how many live API tokens the account keeps."""
    check_password(password, user.email)
    user.password_hash = _hash(password)
    revoke_sessions(user)
    if revoke_tokens:
        db.session.execute(update(ApiToken).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=_now()))
    db.session.commit()
    return len([t for t in tokens_of(user) if t.revoked_at is None])


def disable_user(user: StaffUser) -> None:
    """The account can no longer log in or use its tokens; its open sessions end."""
    user.active = False
    revoke_sessions(user)
    db.session.commit()


def enable_user(user: StaffUser) -> None:
    user.active = True
    db.session.commit()


def list_users() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.email)))


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active account with this e-mail and password, else None (the same way for a
    wrong address, a wrong password and a disabled account)."""
    user = find_user(email) if len(email or "") <= 320 else None
    stored = user.password_hash if user is not None else _no_user_hash()
    matches = check_password_hash(stored, (password or "")[:MAX_PASSWORD])
    if user is None or not matches or not user.active:
        return None
    return user


@dataclass
class Login:
    """An open session and the token its cookie carries (only the hash is stored)."""

    session: StaffSession
    token: str


def open_session(user: StaffUser, address: str | None, user_agent: str | None) -> Login:
    """Start a session for a user who has just proved who they are."""
    token = secrets.token_urlsafe(32)
    now = _now()
    session = StaffSession(user_id=user.id, token_hash=hash_secret(token), created_at=now,
                           last_seen_at=now, address=(address or "")[:64] or None,
                           user_agent=(user_agent or "")[:300] or None)
    user.last_login_at = now
    db.session.add(session)
    db.session.commit()
    return Login(session, token)


def session_user(token: str, lifetime: dt.timedelta, idle: dt.timedelta) -> StaffUser | None:
    """The user of a live session: not revoked, not older than `lifetime`, used within
    `idle`, and the account still active."""
    if not token or len(token) > 100:
        return None
    session = db.session.scalar(select(StaffSession).where(
        StaffSession.token_hash == hash_secret(token)))
    now = _now()
    if (session is None or session.revoked_at is not None or not session.user.active
            or now - session.created_at > lifetime or now - session.last_seen_at > idle):
        return None
    user = session.user
    if now - session.last_seen_at > SEEN_EVERY:
        session.last_seen_at = now
        _note_use()
    return user


def close_session(token: str) -> None:
    """Log out: this session's token stops working, wherever a copy of the cookie is."""
    db.session.execute(update(StaffSession).where(
        StaffSession.token_hash == hash_secret(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=_now()))
    db.session.commit()


def revoke_sessions(user: StaffUser) -> None:
    """End every open session of the account (not committed)."""
    db.session.execute(update(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=_now()))


@dataclass
class NewToken:
    token: ApiToken
    secret: str


def create_token(user: StaffUser, name: str) -> NewToken:
    """A new API token for `user`; the secret is returned once and only its hash is kept."""
    name = " ".join((name or "").split())
    if not name:
        raise StaffError("the token needs a name")
    if len(name) > 100:
        raise StaffError("the name must have at most 100 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(secret),
                     prefix=secret[:10], created_at=_now())
    db.session.add(token)
    db.session.commit()
    return NewToken(token, secret)


def tokens_of(user: StaffUser) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.id.desc())))


def revoke_token(user: StaffUser, token_id: int) -> bool:
    """Revoke one of `user`'s own tokens; False when there is no such live token."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        return False
    token.revoked_at = _now()
    db.session.commit()
    return True


def token_user(secret: str) -> StaffUser | None:
    """The active account a live API token belongs to, else None."""
    if not secret or len(secret) > 100 or not secret.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = _now()
    user = token.user
    if token.last_used_at is None or now - token.last_used_at > SEEN_EVERY:
        token.last_used_at = now
        _note_use()
    return user


def _note_use() -> None:
    """Store when a session or token was last used. Only a note: a database that cannot
    take the write right now (locked, read-only) must not turn away who is asking."""
    try:
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("could not note the use of a login or token: %s",
                    str(error).splitlines()[0])
