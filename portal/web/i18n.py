"""Interface language: Russian by default, English on request (a cookie set by a link)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from flask import current_app
from flask import request
from flask_babel import format_date
from flask_babel import get_locale
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


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(app.root_path) / "translations"))
    app.jinja_env.globals.update(get_locale=get_locale, language_name=language_name,
                                 only_in=only_in, language_names=LANGUAGE_NAMES)
    app.jinja_env.filters["readable_date"] = readable_date
