"""Synonyms and best bets as experts edit them at /expert/search-terms, and as customers
notice them in search: at once, in this server process and in another one."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from portal import articles
from portal.authoring import terms
from portal.search import Scope
from portal.search import search
from portal.web.knowledge import current_index

from .badinput import naughty_strings
from .staff import staff_client

PAGE = "/expert/search-terms"
SYNONYMS = PAGE + "/synonyms"
BETS = PAGE + "/best-bets"
WIFI = "internet/nastrojka-wi-fi"
PASSWORD = "account/sbros-parolya"
INTERNAL = "account/vnutrennyaya-instrukciya"
DRAFT = "account/chernovik"


class _Forms(HTMLParser):
    """The fields of every form on a page, by the form's action, as a browser would send
    them (unchecked boxes left out)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, str]] = {}
        self._form: dict[str, str] | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = self.forms.setdefault(attrs.get("action", ""), {})
        elif self._form is not None and tag == "input" and attrs.get("name"):
            if attrs.get("type") != "checkbox" or "checked" in attrs:
                self._form[attrs["name"]] = attrs.get("value") or ""
        elif self._form is not None and tag == "textarea":
            self._textarea = attrs["name"]
            self._form[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._form[self._textarea] += data


def forms_of(response) -> dict[str, dict[str, str]]:
    parser = _Forms()
    parser.feed(response.get_data(as_text=True))
    for fields in parser.forms.values():
        for name, value in fields.items():
            if name == "synonyms":  # the line break HTML drops after <textarea>
                fields[name] = value.removeprefix("\r").removeprefix("\n")
    return parser.forms


def expert(app, email: str = "expert@example.com"):
    client = staff_client(app, "expert", email)
    client.set_cookie("ui_lang", "en")
    return client


def open_form(client, action: str) -> dict[str, str]:
    response = client.get(PAGE)
    assert response.status_code == 200
    return forms_of(response)[action]


def bet_rows(form: dict[str, str]) -> list[tuple[str, str]]:
    """The (query, articles) of each filled row of the best-bets form."""
    rows = []
    for name, query in form.items():
        found = re.fullmatch(r"bets-(\d+)-query", name)
        if found and (query or form[f"bets-{found.group(1)}-articles"]):
            rows.append((query, form[f"bets-{found.group(1)}-articles"]))
    return rows


def with_bets(form: dict[str, str], rows: list[tuple[str, str]]) -> dict[str, str]:
    """The best-bets form with these rows instead of those it had."""
    data = {k: v for k, v in form.items() if not k.startswith("bets-")}
    for number, (query, ids) in enumerate(rows):
        data[f"bets-{number}-query"] = query
        data[f"bets-{number}-articles"] = ids
    return data


def save_bets(client, rows: list[tuple[str, str]]):
    """Add rows to the best bets on the page and save them."""
    form = open_form(client, BETS)
    return client.post(BETS, data=with_bets(form, bet_rows(form) + rows))


def customer_ids(client, query: str, **params) -> list[tuple[str, bool]]:
    """The results of the JSON search API: (article id, pinned) in order."""
    response = client.get("/api/v1/search", query_string={"q": query, **params})
    assert response.status_code == 200
    return [(hit["id"], hit["pinned"]) for hit in response.get_json()["hits"]]


def results_page(client, query: str) -> str:
    client.set_cookie("ui_lang", "en")
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def errors_of(response) -> str:
    """The text of every error message on a page."""
    found = re.findall(r'class="(?:field-error|form-error)"[^>]*>(.*?)</(?:p|ul|div)>',
                       response.get_data(as_text=True), re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", text) for text in found).replace("&#34;", '"')


@pytest.fixture
def second_app(make_app, articles_dir, app):
    """Another server process's view: an app on the same articles and index folders."""
    return make_app(articles_dir)


# --- synonyms --------------------------------------------------------------------------------

def test_an_expert_edits_synonyms_and_every_process_searches_with_them(app, second_app):
    other = second_app.test_client()
    customer = app.test_client()
    assert customer_ids(other, "кодовое слово") == []  # that process holds its searcher
    client = expert(app)
    form = open_form(client, SYNONYMS)
    assert "роутер, маршрутизатор, router\n" in form["synonyms"]
    form["synonyms"] += "кодовое слово, пароль\n"
    response = client.post(SYNONYMS, data=form)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The synonyms are saved" in page
    for browser in (customer, other):
        assert PASSWORD in [i for i, _ in customer_ids(browser, "кодовым словом")]
    # Taking a group out works the same way.
    form = open_form(client, SYNONYMS)
    assert form["synonyms"].endswith("кодовое слово, пароль\n")
    form["synonyms"] = form["synonyms"].replace("кодовое слово, пароль\n", "")
    assert client.post(SYNONYMS, data=form).status_code == 303
    assert customer_ids(other, "кодовое слово") == []


def test_an_entry_with_a_comma_is_kept_in_quotes(app, articles_dir):
    client = expert(app)
    form = open_form(client, SYNONYMS)
    form["synonyms"] = '2.4ghz,  "2,4 ггц" ,"скажи ""пароль""", wi-fi 2,4\n'
    assert client.post(SYNONYMS, data=form).status_code == 303
    assert articles.load_synonyms(articles_dir) == [
        ["2.4ghz", "2,4 ггц", 'скажи "пароль"', "wi-fi 2", "4"]]
    assert open_form(client, SYNONYMS)["synonyms"] == \
        '2.4ghz, "2,4 ггц", скажи "пароль", wi-fi 2, 4\n'


@pytest.mark.parametrize(("text", "message"), [
    ("роутер\n", "Line 1: a group needs at least two entries"),
    ("модем, роутер, \n\nроутера, модем\n", "Line 3: “роутера” is already in the group on "
                                            "line 1"),
    ("автоплатёж, автоплатеж\n", "“автоплатеж” is the same for search as “автоплатёж”"),
    (", ".join(f"слово{n}" for n in range(21)), "a group can have at most 20 entries"),
    ("модем, " + "я" * 101, "is longer than 100 characters"),
    ('модем, "роутер\n', "Line 1: a quoted entry has no closing quote"),
    ("модем, !!!\n", "“!!!” has no words that search can look for"),
    ("модем, ро\x07утер\n", "contains control characters"),
])
def test_wrong_synonyms_are_refused_next_to_the_field_as_typed(app, articles_dir, text,
                                                               message):
    before = (articles_dir / articles.SYNONYMS_FILE).read_bytes()
    client = expert(app)
    form = open_form(client, SYNONYMS)
    form["synonyms"] = text
    response = client.post(SYNONYMS, data=form)
    assert response.status_code == 400
    assert message in errors_of(response)
    assert forms_of(response)[SYNONYMS]["synonyms"] == text.replace("\r", "")
    assert (articles_dir / articles.SYNONYMS_FILE).read_bytes() == before


# --- best bets -------------------------------------------------------------------------------

def test_best_bets_come_first_marked_and_keep_their_tracking(app, second_app):
    other = second_app.test_client()
    assert customer_ids(other, "пароль")[0] == (PASSWORD, False)
    client = expert(app)
    response = save_bets(client, [("пароль", WIFI), ("не могу войти", f"/kb/{PASSWORD}")])
    assert response.status_code == 303
    for browser in (app.test_client(), other):
        # Another form of the word, and word order, match the bet all the same.
        assert customer_ids(browser, "пароля") == [(WIFI, True), (PASSWORD, False)]
        assert customer_ids(browser, "войти не могу") == [(PASSWORD, True)]
    page = results_page(app.test_client(), "пароля")
    items = page.split('<li class="result')[1:]
    assert len(items) == 2 and [WIFI in item for item in items] == [True, False]
    assert "Recommended" in items[0] and "Recommended" not in items[1]
    assert re.search(rf'href="/kb/{WIFI}\?s=[\w-]+&amp;r=1"', items[0])
    assert re.search(rf'href="/kb/{PASSWORD}\?s=[\w-]+&amp;r=2"', items[1])
    nothing_else = results_page(app.test_client(), "не могу войти")
    assert "1 article found" in nothing_else and "Recommended" in nothing_else


def test_opening_a_pinned_result_credits_the_search_like_any_other(app):
    client = expert(app)
    assert save_bets(client, [("не могу войти", PASSWORD)]).status_code == 303
    customer = app.test_client()
    page = results_page(customer, "не могу войти")
    link = re.search(rf'href="(/kb/{PASSWORD}\?s=[\w-]+&amp;r=1)"', page).group(1)
    assert customer.get(link.replace("&amp;", "&")).status_code == 200


def test_pinned_articles_respect_what_the_searcher_may_see(app, articles_dir):
    client = expert(app)
    assert save_bets(client, [("пароль администратора", f"{INTERNAL}, {PASSWORD}")]) \
        .status_code == 303
    customer = app.test_client()
    found = customer_ids(customer, "пароль администратора")
    assert found[0] == (PASSWORD, True) and INTERNAL not in [i for i, _ in found]
    assert [h.id for h in search(current_index_of(app), "пароль администратора",
                                 Scope(visibility="staff")).hits][:2] == [INTERNAL, PASSWORD]
    # Only the language and topic asked for.
    assert (PASSWORD, True) not in customer_ids(customer, "пароль администратора", lang="en")
    assert not any(pinned for _, pinned in customer_ids(customer, "пароль администратора",
                                                        category="internet"))
    # An article unpublished after it was pinned is pinned no more; the page says why.
    path = articles_dir / f"{PASSWORD}.md"
    path.write_text(path.read_text("utf-8").replace("lang: ru", "lang: ru\nstatus: draft"),
                    "utf-8")
    current_index_of(app).build()
    found = customer_ids(customer, "пароль администратора")
    assert not any(pinned for _, pinned in found) and PASSWORD not in dict(found)
    page = client.get(PAGE).get_data(as_text=True)
    assert re.search(rf"<code>{PASSWORD}</code>\s*<span class=\"badge[^\"]*\">draft<", page)
    assert re.search(rf"<code>{INTERNAL}</code>\s*<span class=\"badge[^\"]*\">published, "
                     "internal<", page)


def current_index_of(app):
    with app.app_context():
        return current_index()


def test_best_bets_are_changed_and_removed_on_the_page(app):
    client = expert(app)
    assert save_bets(client, [("пароль", WIFI), ("ошибка 651", PASSWORD)]).status_code == 303
    form = open_form(client, BETS)
    assert bet_rows(form) == [("пароль", WIFI), ("ошибка 651", PASSWORD)]
    form["bets-0-articles"] = f"{PASSWORD}, {WIFI}"
    form["bets-1-remove"] = "y"
    assert client.post(BETS, data=form).status_code == 303
    assert bet_rows(open_form(client, BETS)) == [("пароль", f"{PASSWORD}, {WIFI}")]
    customer = app.test_client()
    assert customer_ids(customer, "пароль") == [(PASSWORD, True), (WIFI, True)]
    assert (PASSWORD, True) not in customer_ids(customer, "ошибка 651")


@pytest.mark.parametrize(("row", "message"), [
    (("", PASSWORD), "Type the query these articles answer."),
    (("я" * 201, PASSWORD), "The query is longer than 200 characters."),
    (("???", PASSWORD), "The query has no words that search can look for."),
    (("сбросить пароль", ""), "Name at least one article"),
    (("сбросить пароль", "account/net-takoi"), "There is no article “account/net-takoi”."),
    (("сбросить пароль", "../../etc/passwd"), "There is no article “../../etc/passwd”."),
    (("сбросить пароль", DRAFT), f"“{DRAFT}” is not published (draft)."),
    (("сбросить пароль", f"{PASSWORD} {PASSWORD}"), f"“{PASSWORD}” is named twice."),
    (("сбросить пароль", ", ".join([PASSWORD, WIFI, INTERNAL, "internet/no-internet",
                                    "internet/net-interneta", "account/x"])),
     "A best bet can pin at most 5 articles."),
    (("пароля сбросить", PASSWORD), "Another best bet has the same query for search: "
                                    "“сбросить пароль”"),
])
def test_wrong_best_bets_are_refused_next_to_the_field_as_typed(app, articles_dir, row,
                                                                message):
    client = expert(app)
    assert save_bets(client, [("сбросить пароль", PASSWORD)]).status_code == 303
    before = (articles_dir / articles.BEST_BETS_FILE).read_bytes()
    response = save_bets(client, [row])
    assert response.status_code == 400
    assert message in errors_of(response)
    assert bet_rows(forms_of(response)[BETS]) == [("сбросить пароль", PASSWORD), row]
    assert (articles_dir / articles.BEST_BETS_FILE).read_bytes() == before


# --- the files -------------------------------------------------------------------------------

def test_the_files_written_are_valid_and_the_check_stays_clean(app, articles_dir):
    client = expert(app)
    form = open_form(client, SYNONYMS)
    form["synonyms"] += "yes, null, 1.0, ~x, #тег, 'кавычки', key: value, [список]\n"
    assert client.post(SYNONYMS, data=form).status_code == 303
    assert save_bets(client, [("сбросить пароль", PASSWORD), ("null", WIFI)]).status_code \
        == 303
    synonyms = (articles_dir / articles.SYNONYMS_FILE).read_text("utf-8")
    bets = (articles_dir / articles.BEST_BETS_FILE).read_text("utf-8")
    assert synonyms.startswith("# Synonym groups") and bets.startswith("# Best bets")
    assert articles.load_synonyms(articles_dir)[-1] == [
        "yes", "null", "1.0", "~x", "#тег", "'кавычки'", "key: value", "[список]"]
    assert articles.load_best_bets(articles_dir) == [
        articles.BestBet("сбросить пароль", (PASSWORD,)), articles.BestBet("null", (WIFI,))]
    result = app.test_cli_runner().invoke(args=["articles", "check"])
    assert result.exit_code == 0 and "0 problems" in result.output
    # A full rebuild reads the same terms from the files.
    assert current_index_of(app).build(clean=True).problems == []
    assert customer_ids(app.test_client(), "сбросить пароль")[0] == (PASSWORD, True)


def test_the_check_reports_a_best_bet_whose_article_is_gone(app, articles_dir):
    client = expert(app)
    assert save_bets(client, [("настроить wi-fi", WIFI)]).status_code == 303
    (articles_dir / f"{WIFI}.md").unlink()
    result = app.test_cli_runner().invoke(args=["articles", "check"])
    assert result.exit_code == 1
    assert (f"_best_bets.yml:5: best bet 'настроить wi-fi' names article '{WIFI}', which "
            "does not exist") in result.output


@pytest.mark.parametrize(("text", "message"), [
    ("bets: [\n", "_best_bets.yml:2: not valid YAML"),
    ("bets: пароль\n", "_best_bets.yml:1: expected 'bets:' with a list"),
    ("bets:\n  - query: пароль\n  - query: ''\n    articles: [Bad Id]\n",
     "_best_bets.yml:2: the bet names no articles"),
    ("bets:\n  - query: пароль\n    articles: [x]\n  - query: ''\n    articles: [Bad Id]\n",
     "_best_bets.yml:4: 'Bad Id' is not a valid article id"),
])
def test_a_broken_best_bets_file_is_reported_and_shown_on_the_page(app, articles_dir, text,
                                                                   message):
    (articles_dir / articles.BEST_BETS_FILE).write_text(text, "utf-8")
    problems = [str(p) for p in articles.check(articles_dir)]
    assert any(p.startswith(message) for p in problems), problems
    page = expert(app).get(PAGE)
    assert page.status_code == 200 and message in html.unescape(page.get_data(as_text=True))


def test_a_change_of_the_synonyms_file_alone_keeps_search_working(app, articles_dir):
    """A commit holding only setting entries (no article columns) must not shift the
    columns the ranking reads: every search after it still works, in every process."""
    customer = app.test_client()
    assert customer_ids(customer, "пароль")
    (articles_dir / articles.SYNONYMS_FILE).write_text("groups:\n  - [кодовое слово, пароль]\n",
                                                       "utf-8")
    index = current_index_of(app)
    assert not index.build().changed
    assert customer_ids(customer, "кодовое слово")[0][0] == PASSWORD
    assert index.update_search_terms() == []
    assert index.build().unchanged == 6
    assert customer_ids(customer, "пароль")[0] == (PASSWORD, False)


def test_a_stale_form_is_refused_and_keeps_what_was_typed(app, articles_dir):
    first = expert(app)
    second = expert(app, "second@example.com")
    mine, theirs = open_form(first, SYNONYMS), open_form(second, SYNONYMS)
    mine["synonyms"] += "кодовое слово, пароль\n"
    theirs["synonyms"] += "вайфай, wi-fi\n"
    assert first.post(SYNONYMS, data=mine).status_code == 303
    response = second.post(SYNONYMS, data=theirs)
    assert response.status_code == 409
    assert "Another expert saved the synonyms after you opened this page" in errors_of(response)
    assert forms_of(response)[SYNONYMS]["synonyms"] == theirs["synonyms"]
    assert "кодовое слово, пароль" in response.get_data(as_text=True)  # their version
    assert ["кодовое слово", "пароль"] in articles.load_synonyms(articles_dir)
    # Having seen the other version, saving again is a decision, and it is taken.
    assert second.post(SYNONYMS, data=forms_of(response)[SYNONYMS]).status_code == 303
    assert ["вайфай", "wi-fi"] in articles.load_synonyms(articles_dir)
    # The same for best bets.
    mine, theirs = open_form(first, BETS), open_form(second, BETS)
    assert first.post(BETS, data=with_bets(mine, [("пароль", WIFI)])).status_code == 303
    response = second.post(BETS, data=with_bets(theirs, [("ошибка 651", PASSWORD)]))
    assert response.status_code == 409
    assert "Another expert saved the best bets" in errors_of(response)
    assert bet_rows(forms_of(response)[BETS]) == [("ошибка 651", PASSWORD)]
    assert articles.load_best_bets(articles_dir) == [articles.BestBet("пароль", (WIFI,))]


def test_gaps_can_pin_an_article_and_the_same_question_joins_its_bet(app):
    index = current_index_of(app)
    bet = terms.add_best_bet(index.articles_dir, index, "не могу войти", [PASSWORD])
    assert bet == articles.BestBet("не могу войти", (PASSWORD,))
    # The same question in other words' forms joins that bet.
    bet = terms.add_best_bet(index.articles_dir, index, "войти не могу", [WIFI, PASSWORD])
    assert bet == articles.BestBet("не могу войти", (PASSWORD, WIFI))
    assert customer_ids(app.test_client(), "не могу войти") == [(PASSWORD, True), (WIFI, True)]
    with pytest.raises(terms.InvalidTerms) as refused:
        terms.add_best_bet(index.articles_dir, index, "черновик", [DRAFT])
    assert [p.code for p in refused.value.problems] == ["unpublished_article"]
    page = expert(app).get(PAGE).get_data(as_text=True)
    assert "не могу войти" in page


# --- hostile input and who may edit -----------------------------------------------------------

def test_hostile_queries_are_stored_exactly_or_refused_with_a_message(app, articles_dir):
    strings = [s for s in naughty_strings() if s.strip()]
    client = expert(app)
    response = save_bets(client, [(s, PASSWORD) for s in strings])
    assert response.status_code == 400  # the list holds lines with no words, breaks, ...
    page = response.get_data(as_text=True)
    shown = bet_rows(forms_of(response)[BETS])
    assert [q for q, _ in shown] == strings  # every row comes back as typed
    refused = {int(n) for n in re.findall(r'id="bets-(\d+)-query-error"', page)}
    kept = [s for number, s in enumerate(strings) if number not in refused]
    assert len(kept) > len(strings) / 2
    assert save_bets(client, [(s, PASSWORD) for s in kept]).status_code == 303
    assert [bet.query for bet in articles.load_best_bets(articles_dir)] == [
        s.strip() for s in kept]
    assert bet_rows(open_form(client, BETS)) == [(s.strip(), PASSWORD) for s in kept]
    customer = app.test_client()
    for query in kept[::7]:
        assert (PASSWORD, True) in customer_ids(customer, query)
    result = app.test_cli_runner().invoke(args=["articles", "check"])
    assert result.exit_code == 0


def test_hostile_article_ids_are_refused_with_a_message(app, articles_dir):
    strings = naughty_strings()
    rows = [(f"пароль {n}", s) for n, s in enumerate(strings)]
    response = save_bets(expert(app), rows)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    refused = {int(n) for n in re.findall(r'id="bets-(\d+)-articles-error"', page)}
    assert refused == set(range(len(rows)))
    assert bet_rows(forms_of(response)[BETS]) == rows
    assert not (articles_dir / articles.BEST_BETS_FILE).exists()


def test_hostile_synonyms_are_stored_exactly_or_refused_with_a_message(app, articles_dir):
    lines = [f"{s}, модем" for s in naughty_strings()
             if s.strip() and not re.search(r'[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029,]|^\s*"',
                                            s)]
    client = expert(app)
    form = open_form(client, SYNONYMS)
    form["synonyms"] = "\n".join(lines)
    response = client.post(SYNONYMS, data=form)
    assert response.status_code == 400 and errors_of(response)
    assert forms_of(response)[SYNONYMS]["synonyms"] == form["synonyms"]
    # What the rules let through, stored: each string as typed, beside the same other word.
    accepted = [line.replace(", модем", f", модем{n}") for n, line in enumerate(lines)]
    while True:
        try:
            terms.check_synonyms("\n".join(accepted))
            break
        except terms.InvalidTerms as error:
            wrong = {p.row for p in error.problems}
            accepted = [line for n, line in enumerate(accepted) if n not in wrong]
    assert len(accepted) > len(lines) / 2
    form = open_form(client, SYNONYMS)
    form["synonyms"] = "\n".join(accepted)
    assert client.post(SYNONYMS, data=form).status_code == 303
    assert articles.load_synonyms(articles_dir) == [
        [part.strip() for part in line.rsplit(", ", 1)] for line in accepted]
    assert app.test_cli_runner().invoke(args=["articles", "check"]).exit_code == 0


def test_agents_may_not_edit_search_terms(app):
    agent = staff_client(app, "agent")
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      agent.get("/agent/").get_data(as_text=True)).group(1)
    assert agent.get(PAGE).status_code == 403
    assert agent.post(SYNONYMS, data={"csrf_token": token, "synonyms": "a, b",
                                      "synonyms_version": "none"}).status_code == 403
    assert agent.post(BETS, data={"csrf_token": token, "bets-0-query": "пароль",
                                  "bets-0-articles": WIFI, "bets_version": "none"}
                      ).status_code == 403
    assert app.test_client().get(PAGE).status_code == 302  # to the login page
    assert articles.load_best_bets(Path(app.config["ARTICLES_DIR"])) == []
