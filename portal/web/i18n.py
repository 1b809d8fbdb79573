"""Interface language: Russian by default, English on request (a cookie set by a link)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from babel.support import NullTranslations
from flask import Flask
from flask import current_app
from flask import g
from flask import request
from flask_babel import format_date
from flask_babel import get_locale
from flask_babel import get_translations
from flask_babel import gettext as _

from ..extensions import babel

LANGUAGE_COOKIE = "ui_lang"
#: Each language by its own name, as a language switch shows it.
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}


def language_name(code: str) -> str:
    """A language by its own name ("Русский"); an unknown code as it is."""
    return LANGUAGE_NAMES.get(code, code)


def only_in(code: str) -> str:
    """The notice on an article that has no translation into the interface language."""
    return {"ru": _("This article is available only in Russian."),
            "en": _("This article is available only in English.")}.get(
        code, _("This article is not available in your language."))


def select_locale() -> str:
    """The language the visitor chose, else the site default."""
    chosen = request.cookies.get(LANGUAGE_COOKIE) if request else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def readable_date(value: dt.date | str | None) -> str:
    """A day as people write it in the interface language: "20 августа 2026",
    "20 August 2026"; an ISO date string too (as the index stores it); else empty."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return ""
    if not isinstance(value, dt.date):
        return ""
    return str(format_date(value, "d MMMM y"))


def translations() -> NullTranslations:
    """The translations of this request's locale, looked up once per request and locale.

    Flask-Babel resolves its domain, the locale and its catalogue cache on every `_()`
    (about 20 µs; a results page has some 30 of them). The locale object is compared by
    identity, so text rendered under `force_locale` (a mail in the customer's language)
    still gets that language."""
    if not g:
        return get_translations()
    state = g._get_current_object()
    locale = get_locale()
    memo = state.__dict__.get("_translations")
    if memo is None or memo[0] is not locale:
        memo = state._translations = (locale, get_translations())
    return memo[1]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(app.root_path) / "translations"))
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(get_locale=get_locale, language_name=language_name,
                                 only_in=only_in, language_names=LANGUAGE_NAMES)
    app.jinja_env.filters["readable_date"] = readable_date
