"""A whole small site in a temp folder: articles, a fresh database, an index, the app."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from flask_migrate import upgrade

from portal import create_app
from portal import outbox

from .servers import http_receiver  # noqa: F401
from .servers import smtp_server  # noqa: F401

SHARED = Path(__file__).resolve().parents[2] / "shared"

ARTICLES = {
    "_synonyms.yml": """
        groups:
          - [роутер, маршрутизатор, router]
          - [лк, личный кабинет]
    """,
    "internet/_category.yml": """
        title: {ru: Интернет и Wi-Fi, en: Internet and Wi-Fi}
        description: {ru: Подключение и домашняя сеть., en: Connection and home network.}
        order: 1
    """,
    "internet/net-interneta.md": """
        ---
        title: Нет интернета — что проверить
        summary: Пошаговая проверка, если пропал интернет.
        lang: ru
        tags: [интернет, подключение]
        keywords: [не грузит, пропал инет]
        translations: [internet/no-internet]
        aliases: [internet/propal-internet]
        ---
        Если страницы не открываются, проверьте по шагам.

        ## Проверьте маршрутизатор

        1. Убедитесь, что индикатор WAN горит.
        2. Перезагрузите устройство.

        ## Ошибка 651

        Ошибка 651 означает, что модем не отвечает. Проверьте кабель.
    """,
    "internet/no-internet.md": """
        ---
        title: No internet connection — what to check
        summary: Step-by-step checks when the connection drops.
        lang: en
        translations: [internet/net-interneta]
        ---
        ## Check the router

        Make sure the WAN light is on, then restart the router.
    """,
    "internet/nastrojka-wi-fi.md": """
        ---
        title: Настройка Wi-Fi на роутере
        summary: Как сменить имя сети и пароль Wi-Fi.
        lang: ru
        tags: [wi-fi, пароль]
        ---
        ## Смена пароля Wi-Fi

        Откройте веб-интерфейс роутера по адресу 192.168.0.1 и смените пароль сети.

        | Диапазон | Скорость |
        |---|---|
        | 2,4 ГГц | до 150 Мбит/с |
        | 5 ГГц | до 866 Мбит/с |

        ```text
        ipconfig /flushdns
        ```

        !!! warning "Внимание"
            После смены пароля все устройства отключатся.
    """,
    "account/_category.yml": """
        title: {ru: Учётная запись, en: Account}
        order: 0
    """,
    "account/sbros-parolya.md": """
        ---
        title: Как сбросить пароль от личного кабинета
        summary: Восстановление доступа по номеру телефона.
        lang: ru
        tags: [пароль, личный кабинет]
        ---
        ## Восстановление пароля

        Нажмите «Забыли пароль?» на странице входа и введите номер телефона.
        Ещё можно сбросить пароль через приложение Outlook.
    """,
    "account/vnutrennyaya-instrukciya.md": """
        ---
        title: Секретная инструкция для операторов
        audience: internal
        lang: ru
        ---
        ## Пароль администратора

        Внутренний порядок сброса пароля абонента.
    """,
    "account/chernovik.md": """
        ---
        title: Черновик о пароле по ключу доступа
        status: draft
        lang: ru
        ---
        Черновик статьи про пароль.
    """,
}


def write_site(root: Path, files: dict[str, str] = ARTICLES) -> Path:
    """Write `files` (path -> dedented text) under `root`; return `root`."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def database_urls() -> list[str]:
    """SQLite always; PostgreSQL too when TEST_DATABASE_URL is set."""
    urls = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        urls.append("postgresql")
    return urls


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    return write_site(tmp_path / "articles")


@pytest.fixture
def make_app(tmp_path: Path):
    """Build an app over an articles folder, with its own index and migrated database.
    Afterwards its background writers stop and a shared PostgreSQL database is emptied."""
    made = []

    def factory(articles: Path, database: str = "sqlite", **config):
        if database == "postgresql":
            url = os.environ["TEST_DATABASE_URL"]
        else:
            url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
        settings = {
            "TESTING": True,
            "SECRET_KEY": "test",
            "ARTICLES_DIR": str(articles),
            "INDEX_DIR": str(tmp_path / "index"),
            "SQLALCHEMY_DATABASE_URI": url,
            "INDEX_REFRESH_SECONDS": 0,
        }
        settings.update(config)
        app = create_app(settings)
        made.append(app)
        with app.app_context():
            upgrade()
        return app

    yield factory
    for app in made:
        app.extensions["tracking"].close()
        with app.app_context():
            outbox.stop()
        _drop_tables(app)


@pytest.fixture
def app(make_app, articles_dir):
    return make_app(articles_dir)


def _drop_tables(app) -> None:
    """Leave a shared (PostgreSQL) database empty for the next test."""
    from portal.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.drop_all()
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def index(app):
    from portal.knowledge import current_index

    with app.app_context():
        return current_index()


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test when the folder is not beside the clone."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: ../shared is only beside the clone in CI")
    return path
