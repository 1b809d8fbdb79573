"""Text analysis shared by documents and queries: one mixed Russian/English stream.

tokenize -> lowercase -> fold ё to е and strip combining accents -> drop stop words ->
stem Cyrillic tokens with the Russian Snowball stemmer and Latin tokens with the English one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Iterator
from functools import lru_cache
from typing import Protocol

import Stemmer
from whoosh.analysis import Filter
from whoosh.analysis import LowercaseFilter
from whoosh.analysis import RegexTokenizer

from .whoosh_types import Analyzer
from .whoosh_types import Token

#: A word: letters and digits, with any combining marks (stress accents) inside it, so
#: that "Кари́бский" stays one token; the marks are removed by `fold`.
WORD = re.compile(r"[\w\u0300-\u036f]+")
CYRILLIC = re.compile(r"[а-яё]")
LATIN = re.compile(r"[a-z]")

_RU_STOP_TEXT = """
а без более бы был была были было быть в вам вас весь во вот все всего всех вы где да даже
для до его ее ей ему если есть еще же за здесь и из или им их к как ко когда кто ли либо мне
может мы на над надо наш не него нее нет ни них но ну о об однако он она они оно от очень по
под при с со так также такой там те тем то того тоже той только том ты у уже хотя чего чей чем
что чтобы чье чья эта эти это я ли бы же ведь вон вот мой моя мое мои свой своя свое свои
себя себе
куда зачем почему откуда отчего можно нельзя нужно нужен нужна нужны сейчас теперь потом тогда
тут вдруг опять уж нибудь ничего будто какой какая какое какие каких каким какую какого каком
который которая которое которые которых которым которого этот этого этой этом эту этим тот
ту всю всем всегда иногда никогда почти совсем чуть конечно впрочем разве наконец хоть меня
тебя нас ним ней потому поэтому пожалуйста хочу хочет хотим хотят могу можем можете могут мог
могла могли будет будут буду через про между около вместо кроме среди
"""
_EN_STOP_TEXT = """
a an and are as at be but by for if in into is it its of on or so such that the their then
there these they this to was will with i me my we our you your he she him her them do does
did can could should would how what when where which who why am been being have has had
not no
"""
RU_STOP = frozenset(_RU_STOP_TEXT.split())
EN_STOP = frozenset(_EN_STOP_TEXT.split())
STOP_WORDS = RU_STOP | EN_STOP
#: Stop words that turn the next word around: «не приходит», "not working". A query never
#: needs them alone, but the index keeps them, so that a negated phrase typed finds the
#: articles that say it before those that only use the word.
NEGATIONS = frozenset(["не", "нет", "not", "no"])
_INDEX_STOP_WORDS = STOP_WORDS - NEGATIONS

#: Words of asking for help rather than of what it is about ("подскажите, что делать"):
#: searched and scored like any word, but not what an answer must hold (see the engine's
#: partial answers). Question words and «пожалуйста» are stop words already.
_FILLER_TEXT = """
делать сделать подскажите подскажи помогите помоги помочь скажите скажи вопрос проблема
проблемы проблему возникла возникли случилось
help please tell need want problem problems issue issues
"""
FILLER_WORDS = frozenset(_FILLER_TEXT.split())


class _Stemmer(Protocol):
    """What is used of PyStemmer's (untyped) Stemmer."""

    def stemWord(self, word: str) -> str: ...


_stemmers: dict[str, _Stemmer] = {"ru": Stemmer.Stemmer("russian"),
                                  "en": Stemmer.Stemmer("english")}


#: Characters that may carry an accent to strip: combining marks and accented Latin letters.
_ACCENTED = re.compile(r"[\u00c0-\u024f\u0300-\u036f\u1e00-\u1eff]")


#: Cyrillic letters drawn like Latin ones. Codes are typed with either: plan "E3" as "е3",
#: the product "1С" with a Latin "C"; in a token with digits they are read as Latin.
_HOMOGLYPHS = str.maketrans("аеорсухкмнтвіј", "aeopcyxkmhtbij")
_CODE_WITH_LOOKALIKES = re.compile(r"(?=.*\d)[\daeopcyxkmhtbijаеорсухкмнтвіј_]+")


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lowercase, ё→е, and drop accents — the form every term takes."""
    text = text.lower().replace("ё", "е")
    if text.isascii():
        return text
    if _CODE_WITH_LOOKALIKES.fullmatch(text):
        return text.translate(_HOMOGLYPHS)
    if not _ACCENTED.search(text):
        return text
    kept: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        # Keep the breve of й: it is a letter of its own, not an accent.
        if unicodedata.combining(char) and not (char == "\u0306" and kept and kept[-1] == "и"):
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept)).replace("ё", "е")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The stem of one folded word: Russian for Cyrillic, English for Latin, else as is."""
    if CYRILLIC.search(word):
        return _stemmers["ru"].stemWord(word)
    if LATIN.search(word):
        return _stemmers["en"].stemWord(word)
    return word


#: Derivational endings left on Snowball stems, longest first: verb classes (-ирова-, -ыва-,
#: -а-/-я-), verbal nouns and participles (-ен-, -лен-, -ан-, -ован-), -к- nouns (установка),
#: -ац- nouns (активация). Stripping one gives the word family's key.
_DERIVATIONAL = sorted(["ирован", "ирова", "ован", "ова", "ева", "ава", "ыва", "ива", "лен",
                        "ен", "ан", "ац", "ир", "ыт", "йк", "ля", "л", "а", "я"],
                       key=len, reverse=True)
#: Stems whose relatives by those endings mean something else: подпись/подписка,
#: вход/входящие, список/списать, время/временный.
_FALSE_FAMILIES = frozenset(["подпис", "подписк", "подписа", "подписан", "подписыва", "входя",
                             "списк", "списа", "списан", "списыва", "времен", "поиск"])


@lru_cache(maxsize=200_000)
def derivation_key(stem_: str) -> str:
    """The key shared by a Russian stem and its noun/verb/participle relatives.

    Snowball joins inflections but not derivations: подключение -> "подключен", подключить
    -> "подключ", подключать -> "подключа". One derivational ending is removed, keeping at
    least four letters, so all three give "подключ". Latin stems and the few families known
    to mix meanings are their own key.
    """
    if stem_ in _FALSE_FAMILIES or not CYRILLIC.search(stem_):
        return stem_
    # -к- nouns only after a consonant other than с: установк, проверк, but поиск, список.
    if stem_.endswith("к") and len(stem_) > 5 and stem_[-2] not in "аеиоуыэюясй":
        return stem_[:-1]
    for ending in _DERIVATIONAL:
        if stem_.endswith(ending) and len(stem_) - len(ending) >= 4:
            return stem_[:-len(ending)]
    return stem_


@lru_cache(maxsize=200_000)
def word_stem(word: str) -> str:
    """The index term of one raw word (folded and stemmed; stop words not dropped)."""
    return stem(fold(word))


def script_of(word: str) -> str:
    """'ru' for Cyrillic words, 'en' for Latin ones, '' for the rest (numbers, codes)."""
    if CYRILLIC.search(word):
        return "ru"
    if LATIN.search(word):
        return "en"
    return ""


def words(text: str) -> list[str]:
    """The folded words of `text`, stop words included, in order."""
    return [fold(m.group()) for m in WORD.finditer(text)]


def terms(text: str) -> list[str]:
    """The index terms of `text`: folded, without stop words, stemmed."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]


class FoldFilter(Filter):  # type: ignore[misc]  # whoosh is untyped
    """Folds each token with `fold`; drops tokens that fold to nothing."""

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for token in tokens:
            token.text = fold(token.text)
            if token.text:
                yield token


class StopWordFilter(Filter):  # type: ignore[misc]  # whoosh is untyped
    """Removes Russian and English stop words (after folding, so 'ещё' matches 'еще'),
    except the negations (`NEGATIONS`)."""

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for token in tokens:
            if token.text not in _INDEX_STOP_WORDS:
                yield token
            elif not token.removestops:
                token.stopped = True
                yield token


class MixedStemFilter(Filter):  # type: ignore[misc]  # whoosh is untyped
    """Stems each token with the stemmer of its script."""

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for token in tokens:
            if not token.stopped:
                token.text = stem(token.text)
            yield token


def text_analyzer() -> Analyzer:
    """Analyzer for the searchable text fields."""
    return (RegexTokenizer(WORD) | LowercaseFilter() | FoldFilter() | StopWordFilter()
            | MixedStemFilter())


def word_analyzer() -> Analyzer:
    """Analyzer for the vocabulary field: folded surface words, no stems, no stop list."""
    return RegexTokenizer(WORD) | LowercaseFilter() | FoldFilter()

