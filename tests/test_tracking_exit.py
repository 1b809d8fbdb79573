"""A server process that stops stores the events it still holds (a restart loses none)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import func
from sqlalchemy import select

from portal.extensions import db
from portal.models import SearchEvent

from .processes import ROOT

#: A process that records searches and exits at once, long before its writer's next batch.
SCRIPT = """
import json, os
from portal import create_app
from portal import tracking
app = create_app(json.loads(os.environ["L0_SETTINGS"]))
with app.test_request_context("/search"):
    for number in range(25):
        tracking.track_event(tracking.SearchMade.of(
            f"пароль {number}", 1, 1.0, visitor_id=f"visitor-{number:02d}-abcdefghijklmnop"))
"""


def test_searches_queued_when_the_process_exits_are_stored(make_app, articles_dir):
    app = make_app(articles_dir)
    settings = {key: app.config[key] for key in (
        "ARTICLES_DIR", "INDEX_DIR", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY")}
    settings["TRACKING_GATHER_SECONDS"] = 60  # the writer would wait a minute to write
    env = {**os.environ, "L0_SETTINGS": json.dumps(settings), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SearchEvent)) == 25
