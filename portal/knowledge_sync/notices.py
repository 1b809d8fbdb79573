"""Notices between nodes through PostgreSQL: "I pushed commit X" (NOTIFY), heard by every
node's follower (LISTEN) on a connection of its own. Nothing is sent on other databases:
there is one machine, and nobody to tell.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import psycopg
from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

CHANNEL = "line0_articles"


def send(engine: Engine, sha: str) -> None:
    """Tell every listening node that the remote's branch is at `sha` now. Never fails a
    save: a node that misses the notice pulls on its next round anyway."""
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_notify(:channel, :sha)"),
                               {"channel": CHANNEL, "sha": sha[:64]})
    except SQLAlchemyError as error:
        log.warning("could not tell the other nodes about %s: %s", sha[:10],
                    str(error).splitlines()[0])


def libpq_address(engine: Engine) -> str | None:
    """The engine's database as a libpq address (None: not PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        return None
    url = make_url(engine.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Listener:
    """A LISTEN connection; `wait` gives the notices that come within a time."""

    def __init__(self, address: str) -> None:
        self.connection = psycopg.connect(address, autocommit=True, connect_timeout=10,
                                          application_name="line0-follower")
        self.connection.execute(f"LISTEN {CHANNEL}")

    def wait(self, seconds: float) -> Iterator[str]:
        """The payloads (commit ids) of the notices heard within `seconds`; returns at the
        first one, after taking whatever else has already arrived."""
        for notice in self.connection.notifies(timeout=seconds, stop_after=1):
            yield notice.payload
        for notice in self.connection.notifies(timeout=0.01):
            yield notice.payload

    def close(self) -> None:
        self.connection.close()
