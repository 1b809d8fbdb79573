"""Configuration defaults. Every key can be set as a `PORTAL_<KEY>` environment variable."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    """Settings used when neither `instance/config.py` nor the environment says otherwise."""

    SECRET_KEY = None  # required outside development; see `ensure_secret_key`
    ARTICLES_DIR = str(PROJECT_ROOT / "articles")
    INDEX_DIR = str(PROJECT_ROOT / "index")
    DEFAULT_LANGUAGE = "ru"
    LANGUAGES = ("ru", "en")
    BABEL_DEFAULT_LOCALE = "ru"
    BABEL_DEFAULT_TIMEZONE = "Europe/Moscow"
    SITE_NAME = "Line 0"
    #: How customers reach the support team (phone, e-mail), shown under "Still need help?".
    SUPPORT_CONTACT = ""
    RESULTS_PER_PAGE = 10
    #: How often (seconds) a process looks for a newer index generation.
    INDEX_REFRESH_SECONDS = 0.2
    #: Build the search index at start-up when it is missing.
    BUILD_INDEX_ON_START = True
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = 1024 * 1024
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    WTF_CSRF_TIME_LIMIT = 6 * 3600
    #: Days of views that count towards "popular articles" on the home page.
    POPULAR_DAYS = 30


def database_url(instance_path: str) -> str:
    """`DATABASE_URL` when set, else SQLite in the instance folder."""
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://"):]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    return "sqlite:///" + str(Path(instance_path) / "portal.sqlite3")
