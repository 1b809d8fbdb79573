"""The production server: gunicorn with a fresh portal app in each worker process.

Workers are not forked from a loaded app (no `preload_app`): each opens its own database
connections, search index readers and background threads after the fork, which none of
them can share with a parent. Signals are gunicorn's: HUP starts new workers with the new
code and settings and lets the old ones finish their requests (a graceful restart), TERM
stops gracefully, TTIN/TTOU add or remove a worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from gunicorn.app.base import BaseApplication

#: One line per request. The query string and the referrer are left out on purpose: they
#: carry ticket status tokens and what customers typed (e-mails, phone numbers).
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


@dataclass(frozen=True)
class ServerOptions:
    """How `portal serve` runs; every field has a command-line option of the same name."""

    bind: tuple[str, ...] = ("127.0.0.1:8000",)
    workers: int = 0  # 0: one per CPU
    threads: int = 1
    timeout: int = 30
    graceful_timeout: int = 30
    keep_alive: int = 5
    max_requests: int = 0
    access_log: str = "-"
    error_log: str = "-"
    log_level: str = "info"
    pid_file: str | None = None

    def gunicorn_settings(self) -> dict:
        """These options as gunicorn's settings."""
        settings = {
            "bind": list(self.bind),
            "workers": self.workers or default_workers(),
            "threads": self.threads,
            "timeout": self.timeout,
            "graceful_timeout": self.graceful_timeout,
            "keepalive": self.keep_alive,
            "max_requests": self.max_requests,
            # Spread restarts out so that the workers do not all restart at once.
            "max_requests_jitter": self.max_requests // 10,
            "accesslog": None if self.access_log == "off" else self.access_log,
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": self.error_log,
            "loglevel": self.log_level,
            "pidfile": self.pid_file,
            "proc_name": "line0-portal",
            # The app decides what a proxy may tell it (PROXY_FIX_*); gunicorn trusts nothing,
            # so a forged X-Forwarded-Proto can never make a plain request look like HTTPS.
            "secure_scheme_headers": {},
            "forwarded_allow_ips": "",
            # gunicorn 25.1+ opens a control socket in the home folder, one path for every
            # instance on the machine; signals (HUP, TERM, TTIN, TTOU) do the same work.
            "control_socket_disable": True,
        }
        return settings


def default_workers() -> int:
    """One worker process per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class PortalServer(BaseApplication):
    """gunicorn's arbiter serving the app that `factory` builds in each worker."""

    def __init__(self, factory: Callable[[], Flask], options: ServerOptions) -> None:
        self._factory = factory
        self._settings = options.gunicorn_settings()
        super().__init__(prog="portal serve")

    def load_config(self) -> None:
        for key, value in self._settings.items():
            if key in self.cfg.settings:  # older gunicorn releases lack some settings
                self.cfg.set(key, value)

    def load(self) -> Flask:
        from .. import knowledge_sync

        app = self._factory()
        # Each worker follows the shared articles remote (one per node works at a time).
        knowledge_sync.start(app)
        return app


def serve(factory: Callable[[], Flask], options: ServerOptions) -> None:
    """Run the server until it is stopped (TERM or INT); returns only then."""
    PortalServer(factory, options).run()
