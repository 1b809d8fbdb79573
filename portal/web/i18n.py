"""Interface language: Russian by default, English on request (a cookie set by a link)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask import current_app
from flask import request
from flask_babel import get_locale

from ..extensions import babel

LANGUAGE_COOKIE = "ui_lang"


def select_locale() -> str:
    """The language the visitor chose, else the site default."""
    chosen = request.cookies.get(LANGUAGE_COOKIE) if request else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(app.root_path) / "translations"))
    app.jinja_env.globals["get_locale"] = get_locale
