"""Staff logins: who may open which staff page, sessions that really end, throttled
guessing, no open redirects, secrets kept only as hashes, and the `portal users` commands."""

from __future__ import annotations

import html
import io
import os
import re
import select
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from portal import staff
from portal.authoring import store as authoring_store
from portal.config import Defaults
from portal.extensions import db
from portal.web.knowledge import current_index

from .conftest import database_urls
from .staff import PASSWORD
from .staff import AuthActions
from .staff import log_in
from .staff import make_staff
from .staff import new_ticket_number
from .staff import page_token
from .staff import staff_client

ROLES = ("agent", "engineer", "expert", "admin")
EXPERTS = ("expert", "admin")
EMAIL = "agent@example.com"
ARTICLE = "internet/net-interneta"
INTERNAL_ARTICLE = "account/vnutrennyaya-instrukciya"
WRONG_LOGIN = "Wrong e-mail or password, or the account is disabled."


# --- Helpers -----------------------------------------------------------------------------


def english(client):
    """The client reads the English interface (stable texts to assert on)."""
    client.set_cookie("ui_lang", "en")
    return client


def goes_to_login(response) -> bool:
    return (response.status_code in (302, 303)
            and urlsplit(response.headers["Location"]).path == "/login")


def login_error(response) -> str:
    """The message the login page shows above the form."""
    found = re.search(r'<p class="form-error" role="alert">([^<]*)</p>',
                      response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:500]
    return html.unescape(found.group(1))


def session_cookie(app, client) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie (a stolen cookie)."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], session_cookie(app, client))
    return other


def api_token(app, email: str, name: str = "Helpdesk") -> tuple[int, str]:
    """A new API token of the account: its id and its secret."""
    with app.app_context():
        created = staff.create_token(staff.find_user(email), name)
        return created.token.id, created.secret


def form_token(client) -> str:
    """A CSRF token for the client's session, from a form anyone may open."""
    return page_token(client, "/tickets/new")


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def hit_ids(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [hit["id"] for hit in response.get_json()["hits"]]


def create_token_on_page(client) -> str:
    """Create an API token on the account page; the secret it shows once."""
    page = client.post("/account/tokens", data={
        "name": "Helpdesk", "csrf_token": form_token(client)})
    assert page.status_code == 200
    return re.search(r'class="token-secret" type="text" readonly value="([^"]+)"',
                     page.get_data(as_text=True)).group(1)


def table_text(app, table: str) -> str:
    """Every value of every row of `table`, as one text."""
    with app.app_context():
        rows = db.session.execute(text(f"SELECT * FROM {table}")).all()
    assert rows
    return " ".join(str(value) for row in rows for value in row)


# --- Who may open what -------------------------------------------------------------------


@dataclass
class StaffRoute:
    """One staff route, a request that does what the route is for, and who may send it."""

    endpoint: str
    method: str
    url: str
    roles: tuple[str, ...] = ROLES
    form: dict = field(default_factory=dict)
    api: bool = False

    def __str__(self) -> str:
        return f"{self.endpoint}:{self.method}"

    def send(self, client, number: str, token_id: int, csrf: str = "", secret: str = ""):
        url = self.url.format(number=number, token_id=token_id)
        headers = bearer(secret) if secret else {}
        if self.method == "GET":
            return client.get(url, headers=headers)
        if self.api:
            return client.post(url, json=self.form, headers=headers)
        # A file is (bytes, name): each request reads a fresh copy.
        data = {k: (io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v
                for k, v in self.form.items()}
        return client.post(url, data={**data, "csrf_token": csrf})


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 160)).save(out, format="PNG")
    return out.getvalue()


TICKET = "/agent/tickets/{number}"
EXPERT_ARTICLE = "/expert/articles/account/sbros-parolya"
EDITOR_FORM = {"title": "Как сбросить пароль", "category": "account", "lang": "ru",
               "audience": "public", "body": "Нажмите «Забыли пароль?»."}
PAGE_ROUTES = [
    StaffRoute("agent.queue", "GET", "/agent/"),
    StaffRoute("agent.kb", "GET", "/agent/kb?q=роутер"),
    StaffRoute("agent.article_choices", "GET", "/agent/articles?q=роутер"),
    StaffRoute("agent.ticket", "GET", TICKET),
    StaffRoute("agent.take", "POST", TICKET + "/take"),
    StaffRoute("agent.release", "POST", TICKET + "/release"),
    StaffRoute("agent.reply", "POST", TICKET + "/reply",
               form={"body": "Проверьте кабель.", "visibility": "internal", "then": ""}),
    StaffRoute("agent.status", "POST", TICKET + "/status", form={"status": "waiting"}),
    StaffRoute("agent.escalate", "POST", TICKET + "/escalate",
               form={"line": "2", "note": "Нужна диагностика линии."}),
    StaffRoute("agent.resolve", "POST", TICKET + "/resolve",
               form={"outcome": "article", "article": ARTICLE}),
    StaffRoute("agent.flag", "POST", TICKET + "/flag",
               form={"article": ARTICLE, "kind": "outdated", "comment": "Другой адрес."}),
    StaffRoute("agent.link", "POST", TICKET + "/links", form={"article": ARTICLE}),
    StaffRoute("auth.tokens", "GET", "/account/tokens"),
    StaffRoute("auth.tokens", "POST", "/account/tokens", form={"name": "Helpdesk"}),
    StaffRoute("auth.revoke_token", "POST", "/account/tokens/{token_id}/revoke"),
    # The expert console: experts and administrators only.
    StaffRoute("expert.articles", "GET", "/expert/?q=пароль", roles=EXPERTS),
    StaffRoute("expert.new_article", "GET", "/expert/articles/new?title=Телепорт", roles=EXPERTS),
    StaffRoute("expert.new_article", "POST", "/expert/articles/new", roles=EXPERTS,
               form={**EDITOR_FORM, "preview": "1"}),
    StaffRoute("expert.edit_article", "GET", EXPERT_ARTICLE + "/edit", roles=EXPERTS),
    StaffRoute("expert.edit_article", "POST", EXPERT_ARTICLE + "/edit", roles=EXPERTS,
               form={**EDITOR_FORM, "slug": "sbros-parolya", "preview": "1"}),
    StaffRoute("expert.preview", "POST", "/expert/preview", roles=EXPERTS, form=EDITOR_FORM),
    StaffRoute("expert.history", "GET", EXPERT_ARTICLE + "/history", roles=EXPERTS),
    StaffRoute("expert.revision", "GET", EXPERT_ARTICLE + "/revisions/1", roles=EXPERTS),
    StaffRoute("expert.compare", "GET", EXPERT_ARTICLE + "/compare?from=1&to=1",
               roles=EXPERTS),
    StaffRoute("expert.restore", "POST", EXPERT_ARTICLE + "/revisions/1/restore",
               roles=EXPERTS, form={"base": ""}),
    StaffRoute("expert.gaps", "GET", "/expert/gaps?days=7", roles=EXPERTS),
    StaffRoute("expert.answer_gap", "POST", "/expert/gaps/answer", roles=EXPERTS,
               form={"normalized": "квазар мерца", "query": "квазар мерцает",
                     "article": "internet/nastrojka-wi-fi", "mode": "keywords",
                     "queries": "квазар мерцает"}),
    StaffRoute("expert.ignore_gap", "POST", "/expert/gaps/ignore", roles=EXPERTS,
               form={"normalized": "квазар мерца", "query": "квазар мерцает"}),
    StaffRoute("expert.unignore_gap", "POST", "/expert/gaps/unignore", roles=EXPERTS,
               form={"normalized": "квазар мерца"}),
    StaffRoute("expert.inbox_page", "GET", "/expert/inbox?view=all", roles=EXPERTS),
    StaffRoute("expert.close_item", "POST", "/expert/inbox/review/" + ARTICLE + "/close",
               roles=EXPERTS, form={"note": "Проверено"}),
    StaffRoute("expert.terms", "GET", "/expert/search-terms", roles=EXPERTS),
    StaffRoute("expert.terms_synonyms", "POST", "/expert/search-terms/synonyms",
               roles=EXPERTS, form={"synonyms": "роутер, маршрутизатор, router\n"
                                                 "лк, личный кабинет\nкодовое слово, пароль\n",
                                    "synonyms_version": "a05a84bcf071fca124a9"}),
    StaffRoute("expert.terms_best_bets", "POST", "/expert/search-terms/best-bets",
               roles=EXPERTS, form={"bets-0-query": "не могу войти",
                                    "bets-0-articles": "account/sbros-parolya",
                                    "bets_version": "none"}),
    StaffRoute("expert.terms_relation", "POST", "/expert/search-terms/relations",
               roles=EXPERTS, form={"key": "family:подключ", "action": "on"}),
    StaffRoute("expert.upload_image", "POST", "/expert/images", roles=EXPERTS,
               form={"article_id": "account/sbros-parolya", "image": (_png(), "x.png")}),
    StaffRoute("expert.analytics", "GET", "/expert/analytics?days=30", roles=EXPERTS),
    StaffRoute("expert.analytics_csv", "GET", "/expert/analytics.csv?table=summary&days=30",
               roles=EXPERTS),
]
API_ROUTES = [
    StaffRoute("api.link_article", "POST", "/api/v1/tickets/{number}/links",
               form={"article": ARTICLE}, api=True),
    StaffRoute("api.gaps_report", "GET", "/api/v1/reports/gaps", roles=EXPERTS, api=True),
]
#: API routes anyone may call (api.search only adds internal articles for a staff token).
OPEN_API = {("api.search", "GET"), ("api.suggest", "GET"), ("api.article", "GET"),
            ("api.create_ticket", "POST"), ("api.ticket", "GET")}
#: Blueprints whose routes are all for customers; a new blueprint has to be sorted here or
#: into the matrix. `media` serves the images of published articles to anyone (those of
#: drafts and internal articles to staff only: tested with the editor's images).
CUSTOMER_SIDE = {"public", "tickets", "static", "media"}


def test_every_staff_route_is_in_the_matrix(app):
    staff_side, api_side, blueprints = set(), set(), set()
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.partition(".")[0]
        blueprints.add(blueprint)
        pairs = {(rule.endpoint, method) for method in rule.methods & {"GET", "POST"}}
        if blueprint in ("agent", "auth", "expert") and rule.endpoint not in (
                "auth.login", "auth.logout"):
            staff_side |= pairs
        elif blueprint == "api":
            api_side |= pairs
    assert staff_side == {(r.endpoint, r.method) for r in PAGE_ROUTES}
    assert api_side == {(r.endpoint, r.method) for r in API_ROUTES} | OPEN_API
    assert blueprints == {"agent", "auth", "expert", "api"} | CUSTOMER_SIDE


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=str)
def test_a_visitor_is_sent_to_log_in_and_back(app, route):
    number = new_ticket_number(app)
    make_staff(app, "agent", "owner@example.com")
    token_id, _ = api_token(app, "owner@example.com")
    visitor = app.test_client()
    response = route.send(visitor, number, token_id, csrf=form_token(visitor))
    assert goes_to_login(response)
    wanted = route.url.format(number=number, token_id=token_id)
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [wanted]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", PAGE_ROUTES, ids=str)
def test_each_role_opens_the_staff_pages_it_works_on(app, route, role):
    number = new_ticket_number(app)
    with app.app_context():  # revision 1 of every article, for the history pages
        authoring_store.sync_from_disk(current_index())
    client = staff_client(app, role)
    token_id, _ = api_token(app, f"{role}@example.com")
    response = route.send(client, number, token_id, csrf=form_token(client))
    if role in route.roles:
        assert response.status_code < 400, response.get_data(as_text=True)[:500]
        assert not goes_to_login(response)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("route", API_ROUTES, ids=str)
@pytest.mark.parametrize("secret", ["", "l0_not-a-token", "not-even-the-prefix"])
def test_the_staff_api_wants_a_valid_token(app, route, secret):
    number = new_ticket_number(app)
    assert route.send(app.test_client(), number, 0, secret=secret).status_code == 401


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", API_ROUTES, ids=str)
def test_each_role_calls_the_staff_api_it_works_on(app, route, role):
    number = new_ticket_number(app)
    make_staff(app, role)
    _, secret = api_token(app, f"{role}@example.com")
    response = route.send(app.test_client(), number, 0, secret=secret)
    if role in route.roles:
        assert response.status_code in (200, 201), response.get_data(as_text=True)[:500]
    else:
        assert response.status_code == 403


def test_the_reporting_tool_token_still_opens_the_gaps_report(make_app, articles_dir):
    app = make_app(articles_dir, REPORTS_API_TOKEN="reports-secret")
    make_staff(app, "agent")
    make_staff(app, "expert")
    _, agent = api_token(app, "agent@example.com")
    _, expert = api_token(app, "expert@example.com")
    client = app.test_client()
    report = "/api/v1/reports/gaps"
    assert client.get(report, headers=bearer("reports-secret")).status_code == 200
    assert client.get(report, headers=bearer(expert)).status_code == 200
    assert client.get(report, headers=bearer(agent)).status_code == 403
    assert client.get(report, headers=bearer("reports-secreT")).status_code == 401
    assert client.get(report).status_code == 401


def test_the_gaps_report_is_closed_without_a_reporting_token(app):
    client = app.test_client()
    assert client.get("/api/v1/reports/gaps").status_code == 401
    assert client.get("/api/v1/reports/gaps", headers={"Authorization": "Bearer "}
                      ).status_code == 401


def test_a_staff_token_finds_internal_articles_and_a_bad_one_is_refused(app):
    make_staff(app, "agent")
    _, secret = api_token(app, EMAIL)
    client = app.test_client()
    query = {"q": "секретная инструкция"}
    assert INTERNAL_ARTICLE in hit_ids(client.get("/api/v1/search", query_string=query,
                                                  headers=bearer(secret)))
    assert INTERNAL_ARTICLE not in hit_ids(client.get("/api/v1/search", query_string=query))
    refused = client.get("/api/v1/search", query_string=query, headers=bearer(secret + "x"))
    assert refused.status_code == 401


# --- Logging in and out ------------------------------------------------------------------


def test_a_wrong_password_and_an_unknown_address_look_the_same(app, client, auth):
    make_staff(app, "agent")
    english(client)
    wrong_password = auth.login(EMAIL, "not the password at all")
    unknown_address = auth.login("nobody@example.com")
    assert wrong_password.status_code == unknown_address.status_code == 401
    assert login_error(wrong_password) == login_error(unknown_address) == WRONG_LOGIN
    assert goes_to_login(client.get("/agent/"))


def test_a_disabled_account_cannot_log_in(app, client, auth):
    make_staff(app, "agent")
    with app.app_context():
        staff.disable_user(staff.find_user(EMAIL))
    english(client)
    refused = auth.login(EMAIL)
    assert refused.status_code == 401
    assert login_error(refused) == WRONG_LOGIN
    assert goes_to_login(client.get("/agent/"))


def test_logging_in_opens_the_ticket_queue(app, client, auth):
    make_staff(app, "engineer", EMAIL)
    response = auth.login(EMAIL)
    assert response.status_code == 303
    assert response.headers["Location"] == "/agent/"
    assert client.get("/agent/").status_code == 200


def test_logging_in_gives_a_new_session_cookie(app, client, auth):
    make_staff(app, "agent")
    client.get("/login")
    before = session_cookie(app, client)
    assert auth.login(EMAIL).status_code == 303
    assert session_cookie(app, client) != before
    planted = app.test_client()
    planted.set_cookie(app.config["SESSION_COOKIE_NAME"], before)
    assert goes_to_login(planted.get("/agent/"))


def test_the_session_cookie_carries_no_token_the_database_knows(app):
    client = staff_client(app)
    cookie = app.session_interface.get_signing_serializer(app).loads(session_cookie(app, client))
    assert cookie["_user_id"] not in table_text(app, "staff_session")


@pytest.mark.parametrize("database", database_urls())
def test_logging_out_ends_the_session_for_every_copy_of_the_cookie(make_app, articles_dir,
                                                                   database):
    app = make_app(articles_dir, database)
    client = staff_client(app)
    stolen = copy_of(app, client)
    assert stolen.get("/agent/").status_code == 200
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/agent/").status_code == 200
    response = AuthActions(client).logout()
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert goes_to_login(client.get("/agent/"))
    assert goes_to_login(stolen.get("/agent/"))


def test_logging_in_again_ends_the_login_the_cookie_held(app):
    client = staff_client(app)
    stolen = copy_of(app, client)
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD,
                                           "csrf_token": form_token(client)})
    assert response.status_code == 303
    assert client.get("/agent/").status_code == 200
    assert goes_to_login(stolen.get("/agent/"))


@pytest.mark.parametrize("database", database_urls())
@pytest.mark.parametrize("command", [["users", "set-password", "--generate-password", EMAIL],
                                     ["users", "disable", EMAIL]],
                         ids=["set-password", "disable"])
def test_a_new_password_or_disabling_ends_every_session(make_app, articles_dir, database,
                                                        command):
    app = make_app(articles_dir, database)
    client = staff_client(app)
    stolen = copy_of(app, client)
    result = app.test_cli_runner().invoke(args=command)
    assert result.exit_code == 0, result.output
    assert "its sessions have ended" in result.output
    assert goes_to_login(client.get("/agent/"))
    assert goes_to_login(stolen.get("/agent/"))


def test_a_disabled_accounts_api_tokens_stop_working(app):
    make_staff(app, "expert", EMAIL)
    _, secret = api_token(app, EMAIL)
    api = app.test_client()
    assert api.get("/api/v1/reports/gaps", headers=bearer(secret)).status_code == 200
    assert app.test_cli_runner().invoke(args=["users", "disable", EMAIL]).exit_code == 0
    assert api.get("/api/v1/reports/gaps", headers=bearer(secret)).status_code == 401
    assert api.get("/api/v1/search", query_string={"q": "роутер"},
                   headers=bearer(secret)).status_code == 401


def test_a_new_password_keeps_api_tokens_unless_told_to_end_them(app):
    make_staff(app, "expert", EMAIL)
    _, kept = api_token(app, EMAIL, "Helpdesk")
    api = app.test_client()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "set-password", "--generate-password", EMAIL])
    assert result.exit_code == 0
    assert "1 API token(s) of this account still work" in result.output
    assert "--revoke-tokens" in result.output
    assert api.get("/api/v1/reports/gaps", headers=bearer(kept)).status_code == 200

    result = runner.invoke(args=["users", "set-password", "--generate-password",
                                 "--revoke-tokens", EMAIL])
    assert result.exit_code == 0
    assert "its sessions and API tokens have ended" in result.output
    assert "still work" not in result.output
    assert api.get("/api/v1/reports/gaps", headers=bearer(kept)).status_code == 401
    _, fresh = api_token(app, EMAIL, "New helpdesk")  # a token made afterwards works
    assert api.get("/api/v1/reports/gaps", headers=bearer(fresh)).status_code == 200


def test_logging_in_while_the_database_is_locked_says_so(make_app, articles_dir, tmp_path):
    app = make_app(articles_dir, RATELIMIT_LOGIN_ACCOUNT="1 per minute")
    make_staff(app, "agent", EMAIL)
    client = app.test_client()
    client.set_cookie("ui_lang", "en")
    page_token = form_token(client)
    holder = sqlite3.connect(tmp_path / "portal.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        response = client.post("/login", data={"email": EMAIL, "password": PASSWORD,
                                                "csrf_token": page_token})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Logging in is not possible right now" in page
    assert f'value="{EMAIL}"' in page
    # Once the lock is gone the same login works, and the refusal cost no login attempt.
    assert log_in(client, EMAIL).status_code == 303


def test_a_token_revoked_on_the_page_stops_working(app):
    client = staff_client(app)
    secret = create_token_on_page(client)
    search = {"q": "секретная инструкция"}
    api = app.test_client()
    assert INTERNAL_ARTICLE in hit_ids(api.get("/api/v1/search", query_string=search,
                                               headers=bearer(secret)))
    page = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in page
    revoke = re.search(r'action="(/account/tokens/\d+/revoke)"', page).group(1)
    response = client.post(revoke, data={"csrf_token": form_token(client)})
    assert response.status_code == 303
    assert api.get("/api/v1/search", query_string=search,
                   headers=bearer(secret)).status_code == 401
    number = new_ticket_number(app)
    assert api.post(f"/api/v1/tickets/{number}/links", json={"article": ARTICLE},
                    headers=bearer(secret)).status_code == 401


def test_staff_cannot_revoke_someone_elses_token(app):
    make_staff(app, "expert")
    token_id, secret = api_token(app, "expert@example.com")
    client = staff_client(app, "agent")
    response = client.post(f"/account/tokens/{token_id}/revoke",
                           data={"csrf_token": form_token(client)})
    assert response.status_code == 404
    assert app.test_client().get("/api/v1/reports/gaps",
                                 headers=bearer(secret)).status_code == 200


@pytest.mark.parametrize("url", ["/agent/", "/agent/tickets/{number}", "/agent/kb?q=wifi",
                                 "/account/tokens"])
def test_staff_pages_are_kept_out_of_caches(app, url):
    number = new_ticket_number(app)
    response = staff_client(app).get(url.format(number=number))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


# --- Throttled guessing ------------------------------------------------------------------


@pytest.fixture
def throttled(make_app, articles_dir):
    """A site that allows 3 failed logins a minute per account (and the usual per address)."""
    return make_app(articles_dir, RATELIMIT_LOGIN_ACCOUNT="3 per minute")


def test_three_wrong_passwords_make_even_the_right_one_wait(throttled):
    make_staff(throttled, "agent")
    client = throttled.test_client()
    assert [log_in(client, EMAIL, "guess number one").status_code for _ in range(3)] == [401] * 3
    refused = log_in(client, EMAIL)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert goes_to_login(client.get("/agent/"))
    elsewhere = throttled.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert log_in(elsewhere, EMAIL).status_code == 429


def test_successful_logins_do_not_count(throttled):
    make_staff(throttled, "agent")
    for _ in range(5):
        assert log_in(throttled.test_client(), EMAIL).status_code == 303


def test_another_account_is_not_locked_by_someone_elses_failures(throttled):
    make_staff(throttled, "agent")
    make_staff(throttled, "engineer")
    client = throttled.test_client()
    for _ in range(3):
        log_in(client, EMAIL, "guess number one")
    assert log_in(client, EMAIL).status_code == 429
    assert log_in(client, "engineer@example.com").status_code == 303


def test_writing_the_address_another_way_gives_no_more_guesses(throttled):
    address = "agent@пример.рф"
    make_staff(throttled, "agent", address)
    spellings = ["AGENT@пример.рф", "agent@xn--e1afmkfd.xn--p1ai", "agent@ПРИМЕР.РФ"]
    client = throttled.test_client()
    assert [log_in(client, typed, "guess number one").status_code
            for typed in spellings] == [401] * 3
    assert log_in(client, address).status_code == 429


# --- Where logging in leads --------------------------------------------------------------

EVIL_NEXT = ["//evil.example", "/\\evil.example", "https:evil.example", "https://evil.example/",
             "/\t/evil.example", "javascript:alert(1)"]


def stays_on_site(location: str) -> bool:
    parts = urlsplit(location)
    return (not parts.scheme and not parts.netloc and location.startswith("/")
            and not location.startswith("//") and "\\" not in location
            and not any(ord(c) < 32 for c in location))


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_logging_in_never_leads_off_the_site(app, auth, target):
    make_staff(app, "agent")
    response = auth.login(EMAIL, next_url=target)
    assert response.status_code == 303
    assert stays_on_site(response.headers["Location"]), response.headers["Location"]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_the_login_page_of_a_logged_in_member_never_leads_off_the_site(app, target):
    response = staff_client(app).get("/login", query_string={"next": target})
    assert response.status_code == 303
    assert stays_on_site(response.headers["Location"]), response.headers["Location"]


def test_a_page_on_the_site_is_where_logging_in_leads(app, auth):
    make_staff(app, "agent")
    response = auth.login(EMAIL, next_url="/agent/?view=mine")
    assert response.headers["Location"] == "/agent/?view=mine"


def test_a_visitor_sent_to_log_in_comes_back_to_the_ticket(app, client, auth):
    number = new_ticket_number(app)
    make_staff(app, "agent")
    login_url = client.get(f"/agent/tickets/{number}").headers["Location"]
    page = client.get(login_url).get_data(as_text=True)
    hidden = html.unescape(re.search(r'name="next" type="hidden" value="([^"]*)"', page).group(1))
    response = auth.login(EMAIL, next_url=hidden)
    assert response.headers["Location"] == f"/agent/tickets/{number}"
    assert number in client.get(response.headers["Location"]).get_data(as_text=True)


# --- What is stored ----------------------------------------------------------------------


def test_passwords_are_stored_as_scrypt_hashes(make_app, articles_dir):
    """By default: the test suite alone sets a cheaper method."""
    app = make_app(articles_dir, PASSWORD_HASH_METHOD=Defaults.PASSWORD_HASH_METHOD)
    make_staff(app, "agent")
    with app.app_context():
        stored = staff.find_user(EMAIL).password_hash
    assert stored.startswith("scrypt:")
    assert PASSWORD not in table_text(app, "staff_user")


def test_api_tokens_are_stored_only_as_hashes(app):
    secret = create_token_on_page(staff_client(app))
    assert secret.startswith("l0_")
    stored = table_text(app, "api_token")
    assert secret not in stored
    assert secret[3:] not in stored


# --- The `portal users` commands ---------------------------------------------------------


def generated_password(output: str) -> str:
    found = re.findall(r"Password \(shown only now\): (\S+)", output)
    assert len(found) == 1, output
    return found[0]


def test_creating_an_account_prints_a_password_that_logs_in(app, auth):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--role", "engineer", "--email", "Irina@Example.com",
        "--name", "Ирина", "--generate-password"])
    assert result.exit_code == 0, result.output
    assert "Created engineer irina@example.com (Ирина)." in result.output
    password = generated_password(result.output)
    assert result.output.count(password) == 1
    assert auth.login("irina@example.com", password).status_code == 303


def test_an_address_that_has_an_account_is_refused(app):
    make_staff(app, "agent")
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--role", "admin", "--email", "Agent@Example.com",
        "--generate-password"])
    assert result.exit_code != 0
    assert "an account for agent@example.com exists already" in result.output
    assert "Password" not in result.output


def test_an_unknown_role_is_refused(app):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--role", "root", "--email", "root@example.com",
        "--generate-password"])
    assert result.exit_code != 0
    assert "Invalid value for '--role'" in result.output
    assert "agent" in result.output and "admin" in result.output
    with app.app_context():
        assert staff.find_user("root@example.com") is None


@pytest.mark.parametrize("password", ["short", "x" * 201, "Agent@Example.com"])
def test_a_weak_password_is_refused(app, password):
    with app.app_context():
        with pytest.raises(staff.StaffError):
            staff.create_user(EMAIL, "Agent", "agent", password)
        assert staff.find_user(EMAIL) is None


class Terminal:
    """A command running in a pseudo-terminal, as when someone types at it."""

    def __init__(self, args: list[str], env: dict) -> None:
        self.primary, secondary = os.openpty()
        self.process = subprocess.Popen(args, stdin=secondary, stdout=secondary,
                                        stderr=secondary, env=env, start_new_session=True)
        os.close(secondary)
        self.screen = ""
        self.seen = 0

    def expect(self, wanted: str, timeout: float = 60) -> None:
        """Wait until `wanted` appears after what was already seen."""
        deadline = time.monotonic() + timeout
        while wanted not in self.screen[self.seen:]:
            left = deadline - time.monotonic()
            ready = select.select([self.primary], [], [], max(0.0, left))[0] if left > 0 else []
            chunk = self._read() if ready else b""
            if not chunk:
                raise AssertionError(f"waited for {wanted!r}; the screen shows {self.screen!r}")
            self.screen += chunk.decode("utf-8", "replace")
        self.seen = self.screen.index(wanted, self.seen) + len(wanted)

    def _read(self) -> bytes:
        try:
            return os.read(self.primary, 4096)
        except OSError:  # the command ended and closed the terminal
            return b""

    def type(self, line: str) -> None:
        os.write(self.primary, (line + "\n").encode())

    def close(self) -> int:
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            os.close(self.primary)


def test_a_short_password_typed_at_the_prompt_is_refused_and_asked_again(app, auth):
    env = {**os.environ, "PORTAL_TESTING": "true", "PORTAL_SECRET_KEY": "test",
           "PORTAL_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
           "PORTAL_ARTICLES_DIR": app.config["ARTICLES_DIR"],
           "PORTAL_INDEX_DIR": app.config["INDEX_DIR"], "PORTAL_INDEX_REFRESH_SECONDS": "0"}
    good = "a long enough password"
    terminal = Terminal([sys.executable, "-c", "from portal.cli import main; main()",
                         "users", "create", "--role", "agent", "--email", EMAIL], env)
    try:
        for password in ("short", good):
            terminal.expect("Password: ")
            terminal.type(password)
            terminal.expect("Repeat for confirmation: ")
            terminal.type(password)
            if password == "short":
                terminal.expect("Not accepted: the password must have at least 10 characters.")
        terminal.expect(f"Created agent {EMAIL}")
    finally:
        exit_code = terminal.close()
    assert exit_code == 0
    assert good not in terminal.screen and "short\r\n" not in terminal.screen
    assert auth.login(EMAIL, good).status_code == 303


def test_the_list_shows_every_account_with_its_role_and_state(app):
    for role in ROLES:
        make_staff(app, role)
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "disable", "engineer@example.com"])
    lines = runner.invoke(args=["users", "list"]).output.splitlines()
    rows = {line.split("\t")[0]: line.split("\t")[1:3] for line in lines}
    assert rows == {"admin@example.com": ["admin", "active"],
                    "agent@example.com": ["agent", "active"],
                    "engineer@example.com": ["engineer", "disabled"],
                    "expert@example.com": ["expert", "active"]}
    assert PASSWORD not in "\n".join(lines)


def test_a_disabled_account_logs_in_again_once_enabled(app):
    make_staff(app, "agent")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "disable", EMAIL]).exit_code == 0
    assert log_in(app.test_client(), EMAIL).status_code == 401
    assert runner.invoke(args=["users", "enable", EMAIL]).exit_code == 0
    assert log_in(app.test_client(), EMAIL).status_code == 303


def test_a_generated_new_password_replaces_the_old_one(app):
    make_staff(app, "agent")
    result = app.test_cli_runner().invoke(args=["users", "set-password", "--generate-password",
                                                EMAIL])
    assert result.exit_code == 0, result.output
    password = generated_password(result.output)
    assert log_in(app.test_client(), EMAIL).status_code == 401
    assert log_in(app.test_client(), EMAIL, password).status_code == 303


def test_commands_on_an_unknown_account_say_so(app):
    runner = app.test_cli_runner()
    for command in ("disable", "enable", "set-password"):
        result = runner.invoke(args=["users", command, "nobody@example.com"])
        assert result.exit_code != 0
        assert "no account for nobody@example.com" in result.output
