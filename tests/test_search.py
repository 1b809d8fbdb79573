"""Search as a customer notices it: words in any form, mistakes forgiven, hidden stays hidden."""

from __future__ import annotations

import time

import pytest

from portal.search import Scope
from portal.search import SearchIndex
from portal.search import search
from portal.search import suggest
from portal.search.analysis import terms

from .conftest import write_site


def ids(results):
    return [hit.id for hit in results.hits]


@pytest.fixture
def site(articles_dir, tmp_path):
    index = SearchIndex(tmp_path / "index", articles_dir, refresh_interval=0)
    index.build()
    return index


def test_analysis_folds_yo_accents_and_stems_each_script():
    assert terms("Ещё Кари́бский принтеров") == terms("еще карибский принтер")
    assert terms("не работает Outlook")[-1] == "outlook"
    assert terms("printers printing") == ["printer", "print"]


def test_inflected_words_find_the_article(site):
    assert ids(search(site, "индикатора"))[0] == "internet/net-interneta"
    assert "internet/net-interneta" in ids(search(site, "интернет пропал"))


def test_title_match_ranks_first_and_section_is_linked(site):
    results = search(site, "ошибка 651")
    top = results.hits[0]
    assert top.id == "internet/net-interneta"
    assert top.section == "Ошибка 651"
    assert top.link == "/kb/internet/net-interneta#ошибка-651"
    assert "<mark>651</mark>" in top.snippet


def test_wrong_keyboard_layout_is_fixed_and_announced(site):
    results = search(site, "bylbrfnjh")  # "индикатор" typed on the English layout
    assert results.corrected == "индикатор"
    assert results.correction_kinds == ["layout"]
    assert ids(results)[0] == "internet/net-interneta"


def test_misspelling_is_corrected_from_the_index_vocabulary(site):
    results = search(site, "индекатор")
    assert results.corrected == "индикатор"
    assert "spelling" in results.correction_kinds
    assert ids(results)[0] == "internet/net-interneta"


def test_transliteration_both_ways(site):
    latin = search(site, "indikator")
    assert latin.corrected is not None and "translit" in latin.correction_kinds
    assert ids(latin)[0] == "internet/net-interneta"
    cyrillic = search(site, "аутлук")
    assert cyrillic.corrected == "outlook"
    assert ids(cyrillic) == ["account/sbros-parolya"]


def test_exact_search_skips_corrections(site):
    results = search(site, "bylbrfnjh", allow_correction=False)
    assert results.corrected is None
    assert results.total == 0


def test_known_words_are_never_corrected(site):
    assert search(site, "пароль роутера").corrected is None


def test_expert_synonyms_apply(site):
    found = ids(search(site, "router"))
    assert {"internet/net-interneta", "internet/nastrojka-wi-fi"} <= set(found)
    assert "account/sbros-parolya" in ids(search(site, "лк"))


def test_quoted_phrase_must_stand_together(site):
    assert ids(search(site, '"пароль сети"')) == ["internet/nastrojka-wi-fi"]
    assert search(site, '"сети пароль"').total == 0


def test_internal_and_draft_articles_are_hidden_from_customers(site):
    for query in ("секретная инструкция операторов", "черновик ключ доступа", "пароль"):
        found = ids(search(site, query))
        assert "account/vnutrennyaya-instrukciya" not in found
        assert "account/chernovik" not in found
    staff = ids(search(site, "секретная инструкция", Scope(visibility="staff")))
    assert staff[0] == "account/vnutrennyaya-instrukciya"
    assert "account/chernovik" not in ids(search(site, "черновик ключ доступа",
                                                 Scope(visibility="staff")))
    editors = ids(search(site, "черновик ключ доступа", Scope(visibility="all")))
    assert "account/chernovik" in editors


def test_filters_by_language_and_category(site):
    assert ids(search(site, "router", Scope(lang="en"))) == ["internet/no-internet"]
    assert set(ids(search(site, "пароль", Scope(category="account")))) == {
        "account/sbros-parolya"}


def test_pagination_splits_results(site):
    first = search(site, "пароль роутер интернет", per_page=1, page=1)
    second = search(site, "пароль роутер интернет", per_page=1, page=2)
    assert first.total >= 2 and first.pages == first.total
    assert ids(first) != ids(second) and len(ids(second)) == 1


def test_suggestions_complete_titles(site):
    titles = [info.title for info in suggest(site, "наст")]
    assert titles == ["Настройка Wi-Fi на роутере"]
    assert [i.title for i in suggest(site, "нет инт")] == ["Нет интернета — что проверить"]
    assert suggest(site, "секр") == []



def titles_for(site, typed: str, **scope) -> list[str]:
    return [info.title for info in suggest(site, typed, Scope(**scope))]


def test_suggestions_complete_any_word_of_the_title_headings_or_keywords(site):
    # Mid-title: "сбро" starts the title's second word, "пар" its third.
    assert titles_for(site, "сбро пар") == ["Как сбросить пароль от личного кабинета"]
    # A finished word in another form ("пароля"), then one being typed.
    assert titles_for(site, "пароля личн") == ["Как сбросить пароль от личного кабинета"]
    # Only a heading has it ("## Ошибка 651"); only keywords have "инет".
    assert titles_for(site, "ошибка 65") == ["Нет интернета — что проверить"]
    assert titles_for(site, "пропал ине") == ["Нет интернета — что проверить"]
    # Stop words on the way are not required: "пароль от" is how people type.
    assert "Как сбросить пароль от личного кабинета" in titles_for(site, "пароль от")


def test_suggestions_fix_the_layout_and_one_typing_mistake(site):
    assert titles_for(site, "yfcnh") == ["Настройка Wi-Fi на роутере"]  # "настр"
    assert titles_for(site, "роутре") == titles_for(site, "роутер")  # two letters swapped
    assert titles_for(site, "роутер") == ["Настройка Wi-Fi на роутере"]


def test_suggestions_lead_with_a_title_that_begins_as_typed(site):
    assert titles_for(site, "нет инт")[0] == "Нет интернета — что проверить"


def test_suggestions_never_show_what_the_scope_hides(site):
    assert titles_for(site, "секр") == []  # internal
    assert titles_for(site, "черн") == []  # a draft
    assert titles_for(site, "секр", visibility="staff") == [
        "Секретная инструкция для операторов"]
    assert titles_for(site, "inter", lang="ru") == []

def test_incremental_build_reads_only_changed_files(site, articles_dir):
    report = site.build()
    assert not report.changed and report.unchanged == 6
    write_site(articles_dir, {"internet/nastrojka-wi-fi.md": """
        ---
        title: Настройка Wi-Fi и смена канала
        ---
        Выберите свободный канал.
    """})
    (articles_dir / "account/chernovik.md").unlink()
    report = site.build()
    assert report.updated == ["internet/nastrojka-wi-fi"]
    assert report.removed == ["account/chernovik"]
    assert ids(search(site, "канал"))[0] == "internet/nastrojka-wi-fi"


def test_broken_article_is_skipped_and_the_rest_still_works(site, articles_dir):
    write_site(articles_dir, {"internet/nastrojka-wi-fi.md": "---\ntitle: [oops\n---\nx"})
    report = site.build()
    assert report.removed == ["internet/nastrojka-wi-fi"]
    assert "not valid YAML" in str(report.problems[0])
    assert "internet/nastrojka-wi-fi" not in ids(search(site, "wi-fi"))
    assert ids(search(site, "ошибка 651"))[0] == "internet/net-interneta"


def test_a_change_by_another_process_is_seen_within_a_second(site, articles_dir, tmp_path):
    search(site, "пароль")  # this process holds an open searcher
    other = SearchIndex(tmp_path / "index", articles_dir)
    write_site(articles_dir, {"internet/novoe.md": "---\ntitle: Новый тариф Гигабит\n---\nТекст."})
    started = time.monotonic()
    other.build()
    while "internet/novoe" not in ids(search(site, "гигабит")):
        assert time.monotonic() - started < 1.0, "the change was not visible within 1 s"
        time.sleep(0.02)



def test_a_search_running_while_another_process_publishes_keeps_its_searcher(
        site, articles_dir, tmp_path):
    """A search asks for the searcher (and what is derived from it) several times while it
    runs; a publish elsewhere in the meantime must not close the one it is reading."""
    other = SearchIndex(tmp_path / "index", articles_dir)
    with site.searcher() as running:
        write_site(articles_dir,
                   {"internet/novoe.md": "---\ntitle: Новый тариф Гигабит\n---\nТекст."})
        other.build()
        assert ids(search(site, "пароль"))  # asked again from inside the running search
        assert running.doc_count() > 0  # still open: no ReaderClosed
        assert "internet/novoe" not in site.catalog()  # one generation for the whole search
    assert "internet/novoe" in ids(search(site, "гигабит"))  # the next search sees it


def test_articles_that_only_mention_the_words_in_passing_are_not_listed(tmp_path):
    filler = " ".join(["Договор, тариф и оплата услуг связи."] * 40)
    articles = write_site(tmp_path / "a", {
        "billing/avtoplatezh.md": """
            ---
            title: Автоплатёж с банковской карты
            ---
            Автоплатёж списывает абонентскую плату с карты: включите автоплатёж в кабинете.
            """,
        "billing/dogovor.md": f"---\ntitle: Условия договора\n---\n{filler} Есть автоплатёж.\n",
        "billing/tarify.md": f"---\ntitle: Тарифы\n---\n{filler}\n",
    })
    index = SearchIndex(tmp_path / "i", articles, refresh_interval=0)
    index.build()
    found = search(index, "автоплатеж с карты")
    assert ids(found) == ["billing/avtoplatezh"]
    assert found.total == 1  # the count the page shows is what it lists
    # A word every article has in passing still finds them: the cut is relative to the best.
    assert set(ids(search(index, "тариф"))) == {"billing/tarify", "billing/dogovor"}


def test_an_answer_without_a_word_of_the_query_says_which_word_it_lacks(site):
    found = search(site, "роутер телепорт")
    assert found.total and found.partial and found.missing == ["телепорт"]
    assert all(hit.partial for hit in found.hits)
    whole = search(site, "пароль роутера")
    assert not whole.partial and not whole.missing
    assert not whole.hits[0].partial


def test_words_of_asking_alone_find_nothing(tmp_path):
    articles = write_site(tmp_path / "a", {"internet/router.md": """
        ---
        title: Что делать, если возникла проблема с роутером
        ---
        Помогите себе сами: перезагрузите роутер. Что делать дальше, подскажите нам в чате.
        """})
    index = SearchIndex(tmp_path / "i", articles, refresh_interval=0)
    index.build()
    assert search(index, "подскажите, что делать").total == 0
    assert search(index, "помогите пожалуйста, проблема").hits == []
    assert ids(search(index, "что делать с роутером")) == ["internet/router"]


def test_how_a_question_is_asked_never_makes_the_answer_partial(site):
    # Words of asking ("подскажите", "что делать"), and stop words typed in Latin letters.
    assert not search(site, "подскажите, что делать: сбросить пароль").partial
    assert not search(site, "kak sbrosit parol").partial


def test_the_word_left_out_is_named_as_the_page_shows_the_query(site):
    found = search(site, "hjenth ntktgjhn")  # "роутер телепорт" on the English layout
    assert found.corrected == "роутер телепорт"
    assert found.missing == ["телепорт"]

def test_index_entries_group_sections_under_their_article(site):
    results = search(site, "индикатор WAN перезагрузите")
    assert ids(results).count("internet/net-interneta") == 1


def test_visitors_language_comes_first_when_a_translation_matches_too(tmp_path):
    articles = write_site(tmp_path / "a", {
        "net/wan-ru.md": "---\ntitle: Индикатор WAN не горит\nlang: ru\n---\nПроверьте кабель WAN.",
        "net/wan-en.md": "---\ntitle: The WAN light is off\nlang: en\n---\nCheck the WAN cable.",
    })
    index = SearchIndex(tmp_path / "i", articles)
    index.build()
    assert ids(search(index, "WAN", Scope(prefer_lang="ru"))) == ["net/wan-ru", "net/wan-en"]
    assert ids(search(index, "WAN", Scope(prefer_lang="en"))) == ["net/wan-en", "net/wan-ru"]


def test_valid_words_the_index_lacks_are_not_corrected_into_others(site):
    results = search(site, "ученикам перезагрузите роутер")
    assert "ученик" not in (results.corrected or "").replace("ученикам", "")
    assert results.hits and results.hits[0].id == "internet/net-interneta"


def test_lookalike_cyrillic_letters_in_codes_match_latin(tmp_path):
    articles = write_site(tmp_path / "a", {"errors/e3.md": "---\ntitle: Code E3\n---\nRouter."})
    index = SearchIndex(tmp_path / "i", articles)
    index.build()
    assert ids(search(index, "ошибка Е3")) == ["errors/e3"]  # Cyrillic Е


def test_an_index_of_an_older_format_is_rebuilt_completely(site, monkeypatch):
    from portal.search import index as index_module

    assert site.is_current()
    monkeypatch.setattr(index_module, "INDEX_FORMAT", "next")
    assert not site.is_current()
    report = site.build()
    assert len(report.added) == 6 and report.unchanged == 0
    assert site.is_current()


def test_fast_posting_reader_agrees_with_whoosh(tmp_path):
    """Postings read block by block equal Whoosh's own iteration: several blocks, segments
    and deleted documents included."""
    from portal.search.scoring import read_postings

    files = {f"bulk/a{n:03d}.md": f"---\ntitle: Статья {n}\n---\nобщее слово{n % 7} "
             + "повтор " * (n % 5 + 1) for n in range(400)}
    articles = write_site(tmp_path / "a", files)
    index = SearchIndex(tmp_path / "i", articles, refresh_interval=0)
    index.build()
    for n in range(0, 400, 9):  # a second segment, and deletions in the first
        (articles / f"bulk/a{n:03d}.md").write_text(
            f"---\ntitle: Новая {n}\n---\nобщее изменено", encoding="utf-8")
    (articles / "bulk/a001.md").unlink()
    index.build()
    with index.searcher() as searcher:
        reader = searcher.reader()
        assert reader.has_deletions() or len(list(reader.leaf_readers())) > 1
        for field, term in [("body", "общ"), ("body", "повтор"), ("title", "стат"),
                            ("body", "слово3"), ("body", "измен")]:
            docnums, weights = read_postings(reader, field, term)
            expected = [(d, w) for d, w in reader.postings(field, term).items_as("weight")]
            live = [(int(d), float(w)) for d, w in zip(docnums, weights, strict=True)
                    if not reader.is_deleted(int(d))]
            assert live == [(d, float(w)) for d, w in expected
                            if not reader.is_deleted(d)], (field, term)
            assert len(expected) > 128 or term in ("слово3", "измен")


def test_an_index_from_before_file_stamps_is_rebuilt_not_a_crash(articles_dir, tmp_path):
    from whoosh import index as whoosh_index
    from whoosh.fields import ID
    from whoosh.fields import Schema

    old = tmp_path / "old-index"
    old.mkdir()
    ix = whoosh_index.create_in(str(old), Schema(id=ID(stored=True, unique=True,
                                                        sortable=True)))
    with ix.writer() as writer:
        writer.add_document(id="internet/net-interneta")
    index = SearchIndex(old, articles_dir)
    assert not index.is_current()
    assert len(index.build().added) == 6
    assert ids(search(index, "ошибка 651"))[0] == "internet/net-interneta"


def test_one_article_can_be_updated_or_removed_alone(site, articles_dir):
    from portal.articles import load_article

    path = articles_dir / "account/sbros-parolya.md"
    path.write_text(path.read_text("utf-8") + "\nЕщё можно позвонить на горячую линию.\n",
                    encoding="utf-8")
    site.update_article(load_article(articles_dir, path))
    assert ids(search(site, "горячая линия")) == ["account/sbros-parolya"]
    assert site.build().unchanged == 6  # the update recorded the file's new stamp
    site.remove_article("account/sbros-parolya")
    assert search(site, "горячая линия").total == 0
    assert site.article("account/sbros-parolya") is None


def test_a_negated_phrase_finds_the_article_that_says_it_first(tmp_path):
    articles = write_site(tmp_path / "a", {
        "account/kod-ne-prihodit.md": """
            ---
            title: Код в SMS
            ---
            Код не приходит в SMS: проверьте номер телефона, баланс и свободную память.
            """,
        "account/kod-prihodit.md": """
            ---
            title: Код в SMS
            ---
            Код приходит в SMS.
            """,
    })
    index = SearchIndex(tmp_path / "i", articles, refresh_interval=0)
    index.build()
    assert ids(search(index, "код не приходит"))[0] == "account/kod-ne-prihodit"
    assert ids(search(index, "code не приходит sms"))[0] == "account/kod-ne-prihodit"
    # Without the negation the shorter article, all about the words, comes first.
    assert ids(search(index, "код приходит"))[0] == "account/kod-prihodit"
    # A negation alone asks for nothing, and it is never what the snippet marks.
    assert search(index, "не").total == 0
    assert search(index, "нет не").total == 0
    snippet = search(index, "код не приходит").hits[0].snippet
    assert "<mark>не</mark>" not in snippet and "<mark>приходит</mark>" in snippet


def test_a_pasted_error_line_finds_the_article_that_quotes_it_even_cut_or_longer(tmp_path):
    articles = write_site(tmp_path / "a", {
        "win/access.md": """
            ---
            title: Ошибка доступа при установке
            ---
            Установщик пишет: Error 0x80070005: Access is denied. The requested operation
            requires elevation. Запустите его от имени администратора.
            """,
        "win/other.md": """
            ---
            title: Права администратора
            ---
            Some operation is denied to users; the requested access requires an administrator.
            """,
    })
    index = SearchIndex(tmp_path / "i", articles, refresh_interval=0)
    index.build()
    whole = "Error 0x80070005: Access is denied. The requested operation requires elevation."
    assert ids(search(index, whole))[0] == "win/access"
    # Copied with the end cut off in the middle of a word: read as the words it begins.
    cut = search(index, "0x80070005: Access is denied. The requested operation requ")
    assert ids(cut)[0] == "win/access" and not cut.partial
    assert "completion" in cut.correction_kinds
    assert cut.corrected.split()[-1] in ("requires", "requested")
    # With a word more than the article has: still first, the extra word named as missing.
    longer = search(index, whole + " Installer")
    assert ids(longer)[0] == "win/access" and longer.missing == ["Installer"]
    # A short word is never guessed at, nor a word cut to a stop word.
    assert "completion" not in search(index, "access is den").correction_kinds
