"""Where the site lives on the internet: its public address, the proxies in front of it and
the host names it answers to.

Absolute links (in mails, webhooks, API answers, the status link) come from `BASE_URL` when it
is set, never from the request's `Host` header, which any client can write. With `BASE_URL`
set, requests naming another host are refused (`TRUSTED_HOSTS`), and cookies are sent over
HTTPS only when the address is `https://`. Without it, links follow the request, which is
fine on a developer's machine and what `portal serve` warns about.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask import current_app
from flask import has_request_context
from flask import request
from flask import url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from ..text import comma_list

#: Headers a reverse proxy sets, and the setting that says how many proxies to trust for each.
PROXY_SETTINGS = {
    "PROXY_FIX_X_FOR": "x_for",
    "PROXY_FIX_X_PROTO": "x_proto",
    "PROXY_FIX_X_HOST": "x_host",
    "PROXY_FIX_X_PORT": "x_port",
    "PROXY_FIX_X_PREFIX": "x_prefix",
}


def base_url() -> str:
    """The configured public address without a trailing slash, or "" when links follow the
    request."""
    return current_app.config["BASE_URL"]


def external_url(endpoint: str, **values) -> str:
    """An absolute link to `endpoint`, for someone outside this request (a mail, a webhook,
    an API answer): under `BASE_URL` when set, else under the address this request came to."""
    base = base_url()
    if not base:
        return url_for(endpoint, _external=True, **values)
    path = url_for(endpoint, **values)
    # The path includes the prefix the app is mounted under; BASE_URL already names it.
    root = request.script_root if has_request_context() else ""
    if root and path.startswith(root):
        path = path[len(root):]
    return base + path


def cookie_secure() -> bool:
    """Whether cookies set by the portal itself carry `Secure`: always under an https
    `BASE_URL` (or when `SESSION_COOKIE_SECURE` says so), else when this request came over
    HTTPS."""
    return bool(current_app.config["SESSION_COOKIE_SECURE"]) or (
        has_request_context() and request.is_secure)


def init_app(app: Flask) -> None:
    """Check the address settings, trust the configured proxies, derive the trusted hosts."""
    app.config["BASE_URL"] = _checked_base_url(app.config.get("BASE_URL"))
    _trust_proxies(app)
    host = urlsplit(app.config["BASE_URL"]).hostname if app.config["BASE_URL"] else None
    extra = _host_list(app.config.get("TRUSTED_HOSTS"))
    if host:
        app.config["TRUSTED_HOSTS"] = [host, *[h for h in extra if h != host]]
    else:
        app.config["TRUSTED_HOSTS"] = extra or None
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")


def _checked_base_url(value: object) -> str:
    """`value` as an origin with an optional path prefix and no trailing slash; ValueError
    naming the setting when it is not one."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise ValueError(f"BASE_URL: expected an address like https://help.example.com, "
                         f"got {value!r}")
    parts = urlsplit(value.strip())
    problem = None
    if parts.scheme not in ("http", "https"):
        problem = "it must start with https:// (or http://)"
    elif not parts.hostname:
        problem = "it names no host"
    elif parts.username is not None or parts.password is not None:
        problem = "it must not carry a user name or password"
    elif parts.query or parts.fragment:
        problem = "it must not have a query (?) or fragment (#)"
    else:
        try:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            problem = "its port is not a number"
    if problem:
        raise ValueError(f"BASE_URL: {problem}: {value!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _host_list(value: object) -> list[str]:
    """`TRUSTED_HOSTS` as a list: a list already, or text with commas between the names."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = comma_list(value)
    if not isinstance(value, list | tuple) or not all(isinstance(h, str) for h in value):
        raise ValueError(f"TRUSTED_HOSTS: expected host names separated by commas, "
                         f"got {value!r}")
    return [h.strip().lower() for h in value if h.strip()]


def _trust_proxies(app: Flask) -> None:
    """Read client address, scheme, host, port and prefix from as many proxies as the
    `PROXY_FIX_*` settings name; trust nothing by default."""
    counts = {}
    for setting, argument in PROXY_SETTINGS.items():
        hops = app.config[setting]
        if isinstance(hops, bool) or not isinstance(hops, int) or hops < 0:
            raise ValueError(f"{setting}: expected the number of proxies (0 or more), "
                             f"got {hops!r}")
        counts[argument] = hops
    if any(counts.values()):
        # Each proxy appends what it saw; trust only as many as we run ourselves.
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)  # type: ignore[method-assign]
