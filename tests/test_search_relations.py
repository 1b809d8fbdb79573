"""Relations search mines from the articles themselves (an abbreviation defined in a text,
an article and its translation, a word family), as customers notice them in search, and as
experts see and switch them off on the search-terms page."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.search import Scope
from portal.search import all_relations
from portal.search import search
from portal.web.knowledge import current_index

from .badinput import naughty_strings
from .conftest import write_site
from .helpers import csrf_token
from .staff import staff_client

PAGE = "/expert/search-terms"
SWITCH = PAGE + "/relations"

SITE = {
    "billing/_category.yml": "title: {ru: Оплата, en: Billing}\n",
    "account/_category.yml": "title: {ru: Аккаунт, en: Account}\n",
    "billing/avtoplatezh.md": """
        ---
        title: Автоплатёж
        summary: Баланс пополняется сам.
        lang: ru
        translations: [billing/autopay]
        ---
        Пополнять баланс можно картой. Единый платёжный документ (ЕПД) приходит в начале месяца.

        ## Как включить

        Откройте раздел «Оплата».

        ## Условия

        Комиссии нет.
        """,
    "billing/autopay.md": """
        ---
        title: Autopay
        summary: The balance tops itself up.
        lang: en
        translations: [billing/avtoplatezh]
        ---
        Top up by card.

        ## How to turn it on

        Open the Billing page.

        ## Terms

        There is no fee.
        """,
    "billing/kvitanciya.md": """
        ---
        title: Квитанция за месяц
        summary: Что указано в квитанции.
        lang: ru
        ---
        В едином платёжном документе указаны начисления и перерасчёты за месяц.
        """,
    "account/usluga.md": """
        ---
        title: Подключение услуги
        summary: Услуга начинает работать на следующий день.
        lang: ru
        ---
        Подключение занимает один день.
        """,
    "account/router.md": """
        ---
        title: Роутер дома
        summary: Как подключать роутер к розетке.
        lang: ru
        ---
        Роутер ставят в середине квартиры и подключают кабелем.
        """,
}

#: One query per kind of relation, the article only that relation finds, and how the
#: relation is found in the experts' list (kind, a word on one side).
CASES = {
    "abbreviation": ("епд", "billing/kvitanciya", "ЕПД"),
    "translation": ("autopay", "billing/avtoplatezh", "автоплатёж"),
    "family": ("подключать", "account/usluga", "подключ"),
}


@pytest.fixture
def site(make_app, tmp_path):
    return make_app(write_site(tmp_path / "relations-site", SITE))


def ids(app, query: str, **scope) -> list[str]:
    with app.app_context():
        found = search(current_index(), query, Scope(**scope))
    return [hit.id for hit in found.hits]


def relation(app, kind: str, word: str):
    with app.app_context():
        found = [r for r in all_relations(current_index())
                 if r.kind == kind and (word in (r.left, r.right, *r.right.split(", "))
                                         or r.key == f"{kind}:{word}")]
    assert found, f"no {kind} relation with {word!r}"
    return found[0]


def relations_file(app) -> Path:
    return Path(app.config["ARTICLES_DIR"]) / "_relations.yml"


def switch(client, key: str, action: str, **extra):
    token = csrf_token(client.get(PAGE).get_data(as_text=True))
    return client.post(SWITCH, data={"csrf_token": token, "key": key, "action": action,
                                     **extra})


def test_relations_are_mined_from_the_articles(site):
    defined = relation(site, "abbreviation", "ЕПД")
    assert defined.right == "единый платёжный документ"
    assert defined.evidence == "billing/avtoplatezh"
    translated = relation(site, "translation", "автоплатёж")
    assert translated.right == "autopay"
    family = relation(site, "family", "подключ")
    assert family.key == "family:подключ"


@pytest.mark.parametrize("kind", list(CASES))
def test_a_relation_finds_what_the_typed_words_alone_do_not(site, kind):
    query, article, _word = CASES[kind]
    assert article in ids(site, query, lang="ru")


def test_the_exact_words_rank_above_what_a_relation_finds(site):
    found = ids(site, "ЕПД", lang="ru")
    assert found.index("billing/avtoplatezh") < found.index("billing/kvitanciya")


@pytest.mark.parametrize("kind", list(CASES))
def test_an_expert_switches_a_relation_off_and_on_again(site, kind):
    query, article, word = CASES[kind]
    key = relation(site, kind, word).key
    client = staff_client(site, "expert", "expert@example.com")
    client.set_cookie("ui_lang", "en")
    listed = client.get(PAGE, query_string={"relation": word})
    assert listed.status_code == 200
    assert f'value="{key}"' in listed.get_data(as_text=True)

    response = switch(client, key, "off")
    assert response.status_code == 303
    assert article not in ids(site, query, lang="ru")
    page = client.get(PAGE, query_string={"relation": word}).get_data(as_text=True)
    assert "Switched off" in page
    assert relations_file(site).read_text().count(key) == 1

    assert switch(client, key, "on").status_code == 303
    assert article in ids(site, query, lang="ru")
    assert switch(client, key, "on").status_code == 303  # twice: still on, no error
    assert key not in relations_file(site).read_text()


def test_a_switched_off_relation_survives_a_rebuild(site):
    query, article, word = CASES["abbreviation"]
    client = staff_client(site, "expert", "expert@example.com")
    switch(client, relation(site, "abbreviation", word).key, "off")
    with site.app_context():
        current_index().build(clean=True)
    assert article not in ids(site, query, lang="ru")


@pytest.mark.parametrize("data", [
    {"key": "abbreviation:нет=такого", "action": "off"},
    {"key": "x" * 5000, "action": "off"},
    {"key": "family:подключ", "action": "explode"},
    {"key": "", "action": "off"},
])
def test_a_wrong_switch_is_refused_with_a_message_and_changes_nothing(site, data):
    client = staff_client(site, "expert", "expert@example.com")
    client.set_cookie("ui_lang", "en")
    response = switch(client, **data)
    assert response.status_code == 400
    assert 'class="form-error"' in response.get_data(as_text=True)
    assert not relations_file(site).exists()
    assert "account/usluga" in ids(site, "подключать", lang="ru")


def test_a_switch_without_the_form_token_is_refused(site):
    client = staff_client(site, "expert", "expert@example.com")
    response = client.post(SWITCH, data={"key": "family:подключ", "action": "off"})
    assert response.status_code == 400
    assert not relations_file(site).exists()


def test_customers_and_agents_cannot_switch_relations(site):
    agent = staff_client(site, "agent", "agent@example.com")
    token = csrf_token(agent.get("/tickets/new").get_data(as_text=True))  # any form
    response = agent.post(SWITCH, data={"csrf_token": token, "key": "family:подключ",
                                        "action": "off"})
    assert response.status_code == 403
    assert site.test_client().get(PAGE).status_code in (302, 303)
    assert not relations_file(site).exists()


def test_hostile_filter_words_are_shown_as_text_and_break_nothing(site):
    client = staff_client(site, "expert", "expert@example.com")
    for text in naughty_strings()[:200]:
        response = client.get(PAGE, query_string={"relation": text, "kind": text})
        assert response.status_code == 200, text
        assert "<script>alert" not in response.get_data(as_text=True)
