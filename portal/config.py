"""Configuration defaults. Every key can be set as a `PORTAL_<KEY>` environment variable."""

from __future__ import annotations

import os
from pathlib import Path

from .service_hours import DEFAULT_ANSWER_TARGETS
from .service_hours import DEFAULT_RESPONSE_TARGETS

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
    #: How customers reach the support team besides a ticket, shown under "Still need help?"
    #: and when they may not send more tickets for a while: a phone number (a tel: link),
    #: an e-mail address (a mailto: link) and any other text (hours, a chat).
    SUPPORT_PHONE = ""
    SUPPORT_EMAIL = ""
    SUPPORT_CONTACT = ""
    RESULTS_PER_PAGE = 10
    #: Search results each server process keeps for its current index generation (0: none).
    SEARCH_CACHE_SIZE = 1000
    #: How often (seconds) a process looks for a newer index generation.
    INDEX_REFRESH_SECONDS = 0.2
    #: Build the search index at start-up when it is missing.
    BUILD_INDEX_ON_START = True
    #: A git remote (a path or URL of a bare repository) that ARTICLES_DIR is a clone of,
    #: shared by every node: each save is a commit by the expert, pushed there; the other
    #: nodes pull it at once (portal/knowledge_sync/). Empty: the folder is the folder.
    ARTICLES_REMOTE = ""
    #: The remote's branch the articles live on.
    ARTICLES_BRANCH = "main"
    #: How often (seconds) a node pulls from the remote even without a notice from the
    #: others (a missed notice, a push from outside the portal).
    ARTICLES_POLL_SECONDS = 30
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = 1024 * 1024
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    WTF_CSRF_TIME_LIMIT = 6 * 3600
    #: Days of views that count towards "popular articles" on the home page.
    POPULAR_DAYS = 30
    #: Analytics: a visit that read an article is a deflection when the same visitor opens
    #: no ticket within this many hours of the first article read (a whole number).
    DEFLECTION_WINDOW_HOURS = 24

    # Mail to customers and the helpdesk webhook go through the outbox (portal/outbox/).
    #: SMTP server for mail to customers; empty means no mail is queued or sent at all.
    MAIL_SERVER = ""
    #: SMTP port: 25 plain, 587 with MAIL_USE_TLS, 465 with MAIL_USE_SSL.
    MAIL_PORT = 25
    #: Upgrade the connection with STARTTLS after connecting.
    MAIL_USE_TLS = False
    #: Speak TLS from the first byte (wins over MAIL_USE_TLS when both are set).
    MAIL_USE_SSL = False
    #: Log in with these when MAIL_USERNAME is set.
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    #: The From of every mail, e.g. "Line 0 <support@example.com>"; else MAIL_USERNAME.
    MAIL_SENDER = ""
    #: Seconds to wait for the SMTP server on each step.
    MAIL_TIMEOUT = 10
    #: Where ticket events are POSTed as JSON; empty means no webhook calls are queued.
    WEBHOOK_URL = ""
    #: When set, each call carries X-Line0-Signature: sha256=<HMAC-SHA256 of the body>.
    WEBHOOK_SECRET = ""
    #: Seconds to wait for the webhook's answer.
    WEBHOOK_TIMEOUT = 10
    #: How often (seconds) a server process's sender looks for messages due for a retry.
    OUTBOX_POLL_SECONDS = 10
    #: Failed sends before a message is marked dead (kept; `portal outbox retry` revives it).
    OUTBOX_MAX_ATTEMPTS = 10
    #: Wait after the first failure; it doubles after each further one...
    OUTBOX_BACKOFF_SECONDS = 30
    #: ...up to this many seconds.
    OUTBOX_BACKOFF_MAX_SECONDS = 3600

    # Business hours (portal/service_hours.py), checked at start-up.
    #: The support team's time zone (IANA name).
    SUPPORT_TIMEZONE = "Europe/Moscow"
    #: When the team works: "mon-fri 09:00-18:00; sat 10:00-14:00", or "24/7".
    SUPPORT_HOURS = "mon-fri 09:00-18:00"
    #: Dates off: a list of ISO dates or "2027-01-01..2027-01-08, 2027-03-08" (ranges allowed).
    SUPPORT_HOLIDAYS = ()
    #: Weekend dates that work: ISO dates, or "2027-11-06 10:00-15:00" with other hours.
    SUPPORT_WORKING_DAYS = ()
    #: Business minutes until the first answer, per ticket priority.
    ANSWER_TARGET_MINUTES = DEFAULT_ANSWER_TARGETS
    #: The team's response-time targets shown in the queue: per support line, business
    #: minutes from when a ticket starts waiting for the line (created, escalated, the
    #: customer wrote again) to its public reply, per priority (one number: every priority).
    RESPONSE_TARGET_MINUTES = DEFAULT_RESPONSE_TARGETS

    # Rate limits (portal/web/limits.py; Flask-Limiter reads the RATELIMIT_* keys itself).
    RATELIMIT_ENABLED = True
    #: "memory://" counts per server process; "redis://host:6379/0" shares counts between them.
    RATELIMIT_STORAGE_URI = "memory://"
    #: When the limit storage (Redis) fails, count in memory meanwhile and never fail a page.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    #: X-RateLimit-* and Retry-After headers on limited routes.
    RATELIMIT_HEADERS_ENABLED = True
    #: New tickets per client address (Flask-Limiter syntax, ";" between limits).
    RATELIMIT_TICKETS = "5 per hour;20 per day"
    #: "Did this help?" votes per client address.
    RATELIMIT_VOTES = "30 per minute;300 per day"
    #: Messages a customer adds on a ticket's status page, per client address.
    RATELIMIT_TICKET_MESSAGES = "20 per hour"
    # Where the site lives (portal/web/deployment.py).
    #: The public address, e.g. "https://help.example.com": the origin of every absolute link
    #: (mails, webhooks, API answers); requests for other hosts are then refused. Empty:
    #: links follow each request's Host header (fine on one's own machine only).
    BASE_URL = ""
    #: Further host names to answer besides BASE_URL's (e.g. "help.example.com,127.0.0.1").
    TRUSTED_HOSTS = None
    #: Cookies only over HTTPS; None: on when BASE_URL starts with https://.
    SESSION_COOKIE_SECURE = None
    #: Reverse proxies in front of the app trusted for each X-Forwarded-* header (0: none,
    #: trust nothing; 1 behind one nginx that sets the header).
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PORT = 0
    PROXY_FIX_X_PREFIX = 0
    #: Bearer token for GET /api/v1/reports/gaps; empty turns that endpoint off.
    REPORTS_API_TOKEN = ""
    #: How staff passwords are hashed (Werkzeug's method names). Keep scrypt: the test suite
    #: alone sets a cheap method, since it creates hundreds of accounts.
    PASSWORD_HASH_METHOD = "scrypt"
    #: A staff login lasts at most this many hours, and ends after this many idle minutes.
    STAFF_SESSION_HOURS = 12
    STAFF_IDLE_MINUTES = 120
    #: Failed logins per client address, and per account (Flask-Limiter syntax).
    RATELIMIT_LOGIN = "10 per minute;50 per hour"
    RATELIMIT_LOGIN_ACCOUNT = "5 per minute;20 per hour"
    #: The longest the editor may spend turning an expert's Markdown into a page (preview
    #: and save); slower text is refused with a message instead of holding a server process.
    EDITOR_RENDER_SECONDS = 5.0
    #: The largest image an expert may paste or upload into an article (bytes).
    EDITOR_IMAGE_MAX_BYTES = 4 * 1024 * 1024
    #: Ticket numbers customers quote: "INC-000042".
    TICKET_NUMBER_PREFIX = "INC"
    #: How many strongly negative words (or shouting) raise a ticket's priority one step.
    NEGATIVE_WORDING_THRESHOLD = 2
    #: A possible mass incident: this many similar tickets within the last hour (this one
    #: included), or this many similar failed searches.
    SURGE_TICKETS = 5
    SURGE_FAILED_SEARCHES = 10
    #: Record searches, clicks, views and votes (anonymously) for the gaps report.
    TRACKING_ENABLED = True
    #: Events waiting for the database in one process; beyond this they are dropped.
    TRACKING_QUEUE_SIZE = 10_000
    #: The tracking writer collects events this long, then stores them in one transaction.
    TRACKING_GATHER_SECONDS = 0.5
    #: How often each process's tracking writer judges the visits that ended (0: never).
    TRACKING_CLOSE_SECONDS = 60


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
