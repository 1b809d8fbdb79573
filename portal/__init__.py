"""Line 0: a self-service knowledge-base portal."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from . import authoring
from . import knowledge_sync
from . import outbox
from . import service_hours
from . import tracking
from .config import Defaults
from .config import database_url
from .extensions import csrf
from .extensions import db
from .extensions import migrate
from .web import auth
from .web import deployment
from .web import i18n
from .web import knowledge
from .web import limits
from .web import security
from .web import visitors


def create_app(test_config: dict | None = None) -> Flask:
    """Build the portal: configuration, extensions, the knowledge base, then the pages."""
    app = Flask(__name__, instance_relative_config=True)
    configure(app, test_config)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    deployment.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    service_hours.init_app(app)
    visitors.init_app(app)
    tracking.init_app(app)
    knowledge_sync.init_app(app)
    knowledge.init_app(app)
    authoring.init_app(app)
    outbox.init_app(app)
    register_blueprints(app)
    limits.init_app(app)
    from . import cli

    cli.init_app(app)
    return app


def configure(app: Flask, test_config: dict | None) -> None:
    """Defaults, then `instance/config.py`, then `PORTAL_*` variables, then test settings."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAL")
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", database_url(app.instance_path))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))


def _instance_secret(instance: Path) -> str:
    """A secret key kept in the instance folder, made on first start."""
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def register_blueprints(app: Flask) -> None:
    """One blueprint per audience."""
    from .views import agent
    from .views import api
    from .views import auth as staff_auth
    from .views import errors
    from .views import expert
    from .views import labels
    from .views import media
    from .views import public
    from .views import tickets

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(tickets.bp)
    app.register_blueprint(staff_auth.bp)
    app.register_blueprint(agent.bp)
    app.register_blueprint(expert.bp)
    app.register_blueprint(media.bp)
    labels.init_app(app)
    errors.init_app(app)
