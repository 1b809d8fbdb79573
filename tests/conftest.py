"""A whole small site in a temp folder: articles, a fresh database, an index, the app."""

from __future__ import annotations

import hashlib
import os
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from portal import create_app
from portal import knowledge_sync
from portal import outbox
from portal.extensions import db

from .servers import http_receiver  # noqa: F401
from .servers import smtp_server  # noqa: F401
from .staff import AuthActions

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


@pytest.fixture(scope="session", autouse=True)
def postgres_per_worker():
    """Under pytest-xdist each worker gets a PostgreSQL database of its own, made from the
    name in TEST_DATABASE_URL and dropped at the end, so that workers never meet."""
    base = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not base or not worker:
        yield
        return
    url = make_url(base)
    own = url.set(database=f"{url.database}_{worker}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{own.database}"')
    os.environ["TEST_DATABASE_URL"] = own.render_as_string(hide_password=False)
    try:
        yield
    finally:
        os.environ["TEST_DATABASE_URL"] = base
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)')
        admin.dispose()


def database_urls() -> list[str]:
    """SQLite always; PostgreSQL too when TEST_DATABASE_URL is set."""
    urls = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        urls.append("postgresql")
    return urls


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    return write_site(tmp_path / "articles")


#: Staff passwords in tests: a cheap hash (scrypt takes 0.12 s a hash and a check, and the
#: suite makes hundreds of accounts). The default stays scrypt; a test checks it.
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1000"


def site_settings(articles: Path, index: Path, database_url: str) -> dict:
    """The settings every test app starts from."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "ARTICLES_DIR": str(articles),
        "INDEX_DIR": str(index),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INDEX_REFRESH_SECONDS": 0,
        "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH,
    }


def folder_digest(root: Path) -> str:
    """One hash of every file under `root`, names and contents."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class SiteTemplate:
    """The test site built once per run: a migrated SQLite database and the index of
    ARTICLES, copied into each test's folder instead of migrating and indexing again."""

    database: Path
    index: Path
    articles_digest: str


@pytest.fixture(scope="session")
def site_template(tmp_path_factory) -> SiteTemplate:
    root = tmp_path_factory.mktemp("template")
    articles = write_site(root / "articles")
    database = root / "portal.sqlite3"
    app = create_app(site_settings(articles, root / "index", f"sqlite:///{database}"))
    with app.app_context():
        upgrade()
    _close(app)
    with app.app_context():
        db.engine.dispose()  # the last connection folds the write-ahead log into the file
    assert not database.with_name(database.name + "-wal").exists()
    return SiteTemplate(database, root / "index", folder_digest(articles))


@pytest.fixture
def make_app(tmp_path: Path, site_template: SiteTemplate):
    """Build an app over an articles folder, with its own index and migrated database.
    Afterwards its background writers stop and a shared PostgreSQL database is emptied.

    The database and index of the default site are copies of `site_template`; any other
    articles folder is indexed at start-up, as a real site is."""
    made = []

    def factory(articles: Path, database: str = "sqlite", **config):
        own_file = tmp_path / "portal.sqlite3"
        url = os.environ["TEST_DATABASE_URL"] if database == "postgresql" else \
            f"sqlite:///{own_file}"
        settings = {**site_settings(articles, tmp_path / "index", url), **config}
        migrated = False
        if settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{own_file}" \
                and not own_file.exists():
            shutil.copyfile(site_template.database, own_file)
            migrated = True
        index = Path(settings["INDEX_DIR"])
        if (settings.get("BUILD_INDEX_ON_START", True) and not index.exists()
                and folder_digest(articles) == site_template.articles_digest):
            shutil.copytree(site_template.index, index)
        app = create_app(settings)
        made.append(app)
        if not migrated:
            with app.app_context():
                upgrade()
        return app

    yield factory
    for app in made:
        _close(app)
        _drop_tables(app)


@pytest.fixture
def app(make_app, articles_dir):
    return make_app(articles_dir)


def _close(app) -> None:
    """Stop the app's background threads (tracking writer, outbox sender)."""
    app.extensions["tracking"].close()
    knowledge_sync.stop(app)
    with app.app_context():
        outbox.stop()


def _drop_tables(app) -> None:
    """Leave a shared (PostgreSQL) database empty for the next test: every table emptied,
    the schema kept (migrating again costs more); a schema a test changed is dropped."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            tables = [table.name for table in db.metadata.sorted_tables]
            with db.engine.begin() as connection:
                present = set(inspect(connection).get_table_names())
                if present == {*tables, "alembic_version"}:
                    names = ", ".join(f'"{name}"' for name in tables)
                    connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
                else:
                    connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                    connection.exec_driver_sql("CREATE SCHEMA public")
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(client):
    """Log `client` in and out as staff: `auth.login(email)`, `auth.logout()`."""
    return AuthActions(client)


@pytest.fixture
def index(app):
    from portal.web.knowledge import current_index

    with app.app_context():
        return current_index()


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test when the folder is not beside the clone."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: ../shared is only beside the clone in CI")
    return path
