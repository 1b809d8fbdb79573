"""`portal serve`: the production server as a user starts it — gunicorn workers, an access
log that keeps tokens out, a warning without PORTAL_BASE_URL, graceful restarts."""

from __future__ import annotations

import json
import re
import signal
import threading
import urllib.request

import pytest

from .helpers import api_ticket
from .processes import Browser
from .processes import ServedPortal
from .servers import wait_until

BASE = "https://help.example.com"


@pytest.fixture
def site(make_app, articles_dir):
    """A migrated site whose settings `portal serve` gets through the environment."""
    return make_app(articles_dir)


def post_json(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.loads(answer.read())


def worker_pids(log: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log)]


def test_serve_answers_through_gunicorn_workers_with_links_from_the_base_url(site):
    with ServedPortal(site.config, "--workers", "2", BASE_URL=BASE,
                      TRUSTED_HOSTS="127.0.0.1") as served:
        assert served.wait_for_log("Booting worker", count=2)
        visitor = Browser(served.url)
        status, page = visitor.get("/search?q=%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C")
        assert status == 200 and "Как сбросить пароль" in page
        status, answer = post_json(served.url + "/api/v1/tickets", api_ticket())
        assert status == 201
        assert answer["status_url"].startswith(f"{BASE}/tickets/INC-000001?token=")
        token = answer["status_url"].split("token=")[1]
        assert visitor.get(f"/tickets/INC-000001?token={token}")[0] == 200
        assert served.wait_for_log('"GET /tickets/INC-000001 HTTP/1.1" 200')
        log = served.log
    assert len(set(worker_pids(log))) == 2
    assert "development server" not in log.lower()
    assert "PORTAL_BASE_URL is not set" not in log
    # The access log names the path, never the query: no status token, no typed query.
    assert token not in log and "q=" not in log


def test_serve_refuses_a_database_that_is_not_migrated(make_app, articles_dir, tmp_path):
    site = make_app(articles_dir)
    config = {**site.config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}"}
    served = ServedPortal(config)
    with pytest.raises(RuntimeError, match="run 'portal db upgrade' first"):
        served.start(timeout=30)


def test_hup_replaces_the_workers_without_dropping_a_request(site):
    """Also: without PORTAL_BASE_URL the server says so once, not once per worker."""
    with ServedPortal(site.config, "--workers", "2", "--graceful-timeout", "10") as served:
        assert served.wait_for_log("Booting worker", count=2)
        before = set(worker_pids(served.log))
        answers: list[int] = []
        stop = threading.Event()

        def keep_asking() -> None:
            visitor = Browser(served.url)
            while not stop.is_set():
                answers.append(visitor.get("/kb/internet/net-interneta")[0])

        asking = threading.Thread(target=keep_asking)
        asking.start()
        try:
            served.signal(signal.SIGHUP)
            assert served.wait_for_log("Booting worker", count=4)
            assert served.wait_for_log("Worker exiting", count=2)
            count = len(answers)
            assert wait_until(lambda: len(answers) >= count + 20, 20)  # the new workers answer
        finally:
            stop.set()
            asking.join()
        after = set(worker_pids(served.log)) - before
        assert len(after) == 2
        assert answers and set(answers) == {200}
        assert served.stop() == 0
    assert served.log.count("PORTAL_BASE_URL is not set") == 1
