"""The `portal` command: the Flask CLI of this app plus the knowledge-base commands."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import click
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask import current_app
from flask.cli import FlaskGroup
from flask.cli import ScriptInfo
from flask.cli import with_appcontext
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select

from . import articles as articles_mod
from . import outbox
from . import staff
from . import tracking
from .authoring import store as authoring_store
from .authoring import unchanged
from .extensions import db
from .models import SearchSession
from .service_hours import calendar
from .spreadsheet import write_csv
from .web import server
from .web.knowledge import current_index
from .web.server import ServerOptions

#: In the index folder (derived data): the folder's fingerprint and problems at the last
#: `articles check`.
CHECK_RECORD = ".articles-check.json"


@click.command("serve")
@click.option("--bind", "-b", multiple=True, envvar="PORTAL_BIND", show_envvar=True,
              default=ServerOptions.bind, show_default=True,
              help="Address to listen on: HOST:PORT or unix:PATH (repeat for several).")
@click.option("--workers", "-w", type=click.IntRange(min=0), envvar="PORTAL_WORKERS",
              show_envvar=True, default=0, show_default=True,
              help="Worker processes; 0: one per CPU.")
@click.option("--threads", type=click.IntRange(min=1), default=ServerOptions.threads,
              show_default=True, help="Threads per worker (more than 1: threaded workers).")
@click.option("--timeout", type=click.IntRange(min=1), default=ServerOptions.timeout,
              show_default=True, help="Seconds a request may take before its worker is "
                                      "restarted.")
@click.option("--graceful-timeout", type=click.IntRange(min=1),
              default=ServerOptions.graceful_timeout, show_default=True,
              help="Seconds workers get to finish their requests on a restart or stop.")
@click.option("--keep-alive", type=click.IntRange(min=0), default=ServerOptions.keep_alive,
              show_default=True, help="Seconds to keep an idle connection open.")
@click.option("--max-requests", type=click.IntRange(min=0),
              default=ServerOptions.max_requests, show_default=True,
              help="Restart a worker after this many requests (0: never).")
@click.option("--access-log", default=ServerOptions.access_log, show_default=True,
              help="File for the access log, '-' for standard output, 'off' for none.")
@click.option("--error-log", default=ServerOptions.error_log, show_default=True,
              help="File for the server's own log, '-' for standard error.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              default=ServerOptions.log_level, show_default=True)
@click.option("--pid", "pid_file", type=click.Path(dir_okay=False),
              help="Write the main process id here (for 'kill -HUP' restarts).")
@click.option("--prepare", is_flag=True,
              help="First bring the database to the current schema, check the articles and "
                   "index what changed (what 'make run' does), in this one process.")
@with_appcontext
def serve_command(prepare: bool, **options) -> None:
    """Serve the portal with gunicorn, the production server (HUP: graceful restart)."""
    from . import create_app

    if prepare:
        _prepare()
    behind = _schema_behind()
    if behind:
        raise click.ClickException(f"the database is {behind}: run 'portal db upgrade' first")
    if not current_app.config["BASE_URL"]:
        click.echo("warning: PORTAL_BASE_URL is not set, so links in mails and API answers "
                   "follow the Host header of each request, which any client can write. Set "
                   "it to the public address, e.g. PORTAL_BASE_URL=https://help.example.com.",
                   err=True)
    # The index is built (when missing) by this process's app; the workers build their own
    # app after the fork and must not inherit its database connections.
    db.engine.dispose()
    server.serve(create_app, ServerOptions(**{**options, "bind": tuple(options["bind"])}))


@click.group("index")
def index_group() -> None:
    """The search index."""


@index_group.command("build")
@click.option("--clean", is_flag=True, help="Throw the index away and index every article.")
@with_appcontext
def index_build(clean: bool) -> None:
    """Index new and changed articles (all of them with --clean)."""
    build_index(clean)


def build_index(clean: bool = False) -> None:
    """Finish interrupted saves, index what changed and record it in the history."""
    index = current_index()
    root = Path(current_app.config["ARTICLES_DIR"])
    history = _has_revisions_table()
    if history:
        recovery = authoring_store.recover(index)
        if recovery.finished or recovery.abandoned:
            click.echo(f"Interrupted saves: {len(recovery.finished)} finished, "
                       f"{len(recovery.abandoned)} dropped.")
        kept = None if clean else unchanged.last_build(index)
        if kept is not None:
            for problem in kept:
                click.echo(f"skipped: {problem}", err=True)
            click.echo("Index: nothing changed in the articles folder since the last build.")
            return
    fingerprint = articles_mod.folder_fingerprint(root) if root.is_dir() else ""
    total = sum(1 for _ in articles_mod.iter_article_files(root)) if root.is_dir() else 0
    with click.progressbar(length=total, label="Indexing", file=sys.stderr,
                           show_pos=True) as bar:
        report = index.build(clean=clean, progress=lambda _id: bar.update(1))
    for problem in report.problems:
        click.echo(f"skipped: {problem}", err=True)
    click.echo(f"Index: {report.summary()}.")
    if history:
        synced = authoring_store.sync_from_disk(index)
        if synced.initial:
            click.echo(f"History: {len(synced.changed)} articles recorded as the initial "
                       "import (their first revisions).")
        else:
            click.echo(f"Revisions of changes outside the portal: {synced.summary()}.")
        if fingerprint:
            unchanged.remember_build(index, fingerprint, [str(p) for p in report.problems])
    else:
        click.echo("Revisions not recorded: the database has no tables yet "
                   "(run 'portal db upgrade').", err=True)


def _schema_behind() -> str | None:
    """How the database differs from the schema this code needs, or None when it is current."""
    migrations = current_app.extensions["migrate"].directory
    heads = set(ScriptDirectory.from_config(_alembic_config(migrations)).get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return None
    return "empty (no tables yet)" if not current else "not at the current schema"


def _alembic_config(directory: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", directory)
    return config


def _has_revisions_table() -> bool:
    return inspect(db.engine).has_table("article_revision")


@click.group("articles")
def articles_group() -> None:
    """The Markdown articles."""


@articles_group.command("check")
@with_appcontext
def articles_check() -> None:
    """List every problem in the articles as path:line: message; exit 1 if there are any."""
    if check_articles():
        sys.exit(1)


def check_articles() -> int:
    """Print every problem in the articles and how many files were checked; the count."""
    root = Path(current_app.config["ARTICLES_DIR"])
    # Nothing changed since the last check (names, sizes, times): its problems, unread.
    problems = articles_mod.check_unless_unchanged(
        root, Path(current_app.config["INDEX_DIR"]) / CHECK_RECORD,
        current_app.config["DEFAULT_LANGUAGE"])
    for problem in problems:
        click.echo(str(problem))
    count = sum(1 for _ in articles_mod.iter_article_files(root)) if root.is_dir() else 0
    click.echo(f"{count} files checked, {len(problems)} problems.", err=True)
    return len(problems)


def _prepare() -> None:
    """`portal db upgrade`, `articles check`, `index build` and the note about the first
    staff account, as `make run` runs them before serving, without a process each."""
    from flask_migrate import upgrade

    if _schema_behind():
        upgrade()
    if check_articles():
        click.echo("Some articles have problems (listed above); they are skipped.", err=True)
    build_index()
    if not staff.list_users():
        login = (current_app.config["BASE_URL"] or "").rstrip("/") + "/login"
        click.echo(f"No staff accounts yet. Create the first administrator, then log in at "
                   f"{login}:\n  portal users create --role admin --email you@example.com")


@articles_group.command("import")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["ru", "en", "auto"]), default="auto",
              show_default=True, help="Language of the imported articles.")
@click.option("--category", help="Category folder to import into (default: SRC's name).")
@click.option("--verbose", "-v", is_flag=True, help="Also list unchanged files.")
@with_appcontext
def articles_import(src: Path, lang: str, category: str | None, verbose: bool) -> None:
    """Turn a folder of Markdown documentation into articles (again: updates them)."""
    from .importer import ImporterError
    from .importer import find_sources
    from .importer import import_folder

    root = Path(current_app.config["ARTICLES_DIR"])
    total = len(find_sources(src))
    try:
        with click.progressbar(length=total, label="Importing", file=sys.stderr,
                               show_pos=True) as bar:
            report = import_folder(src, root, lang=lang, category=category,
                                   progress=lambda _source: bar.update(1))
    except ImporterError as exc:
        raise click.ClickException(str(exc)) from None
    for entry in report.entries:
        if entry.action == "unchanged" and not verbose:
            continue
        where = f" -> {entry.article_id}" if entry.article_id else ""
        why = f" ({entry.reason})" if entry.reason else ""
        click.echo(f"{entry.action}: {entry.source}{where}{why}")
    click.echo(f"{len(report.imported)} imported, {len(report.updated)} updated, "
               f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped. "
               "Run 'portal index build' to make them searchable.")


@click.group("outbox")
def outbox_group() -> None:
    """Mail and webhook calls: what waits, what went out, what gave up."""


@outbox_group.command("list")
@click.option("--status", type=click.Choice(outbox.STATUSES), help="Only messages in this state.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="How many of the newest messages to show.")
@with_appcontext
def outbox_list(status: str | None, limit: int) -> None:
    """One line per message, newest first, then how many there are in each state."""
    view = outbox.overview(status=status, limit=limit)
    for line in view.messages:
        click.echo(line.summary())
    click.echo(f"Outbox: {view.summary()}.")


@outbox_group.command("send")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="Send at most this many messages.")
@with_appcontext
def outbox_send(limit: int) -> None:
    """Send what is due now (running servers also do this on their own)."""
    report = outbox.deliver_due(limit=limit)
    click.echo(f"Outbox: {report.summary()}.")


@outbox_group.command("retry")
@click.argument("message_id", type=int)
@with_appcontext
def outbox_retry(message_id: int) -> None:
    """Put a dead or failing message back in line, due now, with its attempts started over."""
    try:
        message = outbox.retry(message_id)
    except outbox.OutboxError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Message {message.id} is pending again; 'portal outbox send' sends it now.")


@click.group("report")
def report_group() -> None:
    """Reports for the people who write articles."""


@report_group.command("gaps")
@click.option("--since", "days", type=click.IntRange(1, 3650), default=30, show_default=True,
              help="Look at searches of the last DAYS days.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="Show at most this many gaps.")
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV (all columns) instead of a table.")
@click.option("--json", "as_json", is_flag=True, help="Write JSON, as the API returns it.")
@click.option("--from-raw", is_flag=True,
              help="Judge every search again from the raw events instead of reading the "
                   "rollups (slower; the figures are the same).")
@with_appcontext
def report_gaps(days: int, limit: int, as_csv: bool, as_json: bool, from_raw: bool) -> None:
    """Failed searches grouped by what they asked, the most failures first."""
    now = dt.datetime.now(dt.UTC)
    found = tracking.gaps(now - dt.timedelta(days=days), now=now, limit=limit,
                          from_raw=from_raw)
    if as_json:
        click.echo(json.dumps({"since_days": days, "gaps": [g.as_dict() for g in found]},
                              ensure_ascii=False, indent=2))
    elif as_csv:
        write_csv(sys.stdout, GAP_COLUMNS, [gap_row(gap) for gap in found])
    else:
        for gap in found:
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(gap.outcomes.items()))
            click.echo(f"{gap.failures:>5} of {gap.searches:<5} {gap.failure_rate:>4.0%}  "
                       f"{gap.label[:50]:<50}  {outcomes}")
    click.echo(f"{len(found)} gaps in the last {days} days.", err=True)


@report_group.command("rollup")
@click.option("--only-ended", is_flag=True,
              help="Only judge the visits that ended since the last run (for cron), instead "
                   "of counting every rollup again.")
@with_appcontext
def report_rollup(only_ended: bool) -> None:
    """Judge each search of the visits that ended and count the daily rollups the gaps
    report and the analytics page read; without --only-ended, everything is counted again
    from the events."""
    now, zone = dt.datetime.now(dt.UTC), calendar().zone
    started = time.perf_counter()
    if only_ended:
        closed = tracking.verdicts.close_visits(now, zone)
    else:
        visits = db.session.scalar(select(func.count()).select_from(SearchSession)) or 0
        with click.progressbar(length=visits, label="Visits judged", show_pos=True) as bar:
            closed = tracking.verdicts.rebuild(now, zone, progress=bar.update)
    click.echo(f"Rollups: {closed} visits judged in {time.perf_counter() - started:.1f} s "
               f"(days in {tracking.verdicts.zone_name(zone)}).")


@report_group.command("deflections")
@click.option("--since", "days", type=click.IntRange(1, 3650), default=30, show_default=True,
              help="Look at the last DAYS days.")
@with_appcontext
def report_deflections(days: int) -> None:
    """Articles suggested while a ticket was being written that answered it instead."""
    result = tracking.deflections(dt.datetime.now(dt.UTC) - dt.timedelta(days=days))
    for article_id, count in sorted(result.by_article.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"{count:>5}  {article_id}")
    click.echo(f"{result.deflected} of {result.opened} suggestions opened on the ticket form "
               f"ended without a ticket in the last {days} days.")


GAP_COLUMNS = ("query", "normalized", "failures", "searches", "failure_rate", "first_seen",
               "last_seen", "samples", "no_results", "partial", "not_opened", "voted_no", "ticket",
               "outcome_ticket", "outcome_found_later", "outcome_left", "outcome_pending")


def gap_row(gap: tracking.Gap) -> list:
    data = gap.as_dict()
    return ([data["query"], data["normalized"], data["failures"], data["searches"],
             data["failure_rate"], data["first_seen"], data["last_seen"],
             " | ".join(data["samples"])]
            + [gap.kinds.get(kind, 0) for kind in tracking.FAILURE_KINDS]
            + [gap.outcomes.get(outcome, 0) for outcome in tracking.OUTCOMES])


@click.group("users")
def users_group() -> None:
    """Staff accounts (customers have none)."""


def _user(email: str):
    user = staff.find_user(email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    return user


def _new_password(email: str, generate: bool, from_stdin: bool) -> tuple[str, bool]:
    """The new password and whether it was generated: generated (printed once), read as one
    line from standard input, or typed twice at the prompt."""
    if generate and from_stdin:
        raise click.UsageError("give either --generate-password or --password-stdin")
    if generate:
        return staff.generate_password(), True
    if from_stdin:
        return _password_from_stdin(email), False
    if not sys.stdin.isatty():
        raise click.UsageError(
            "there is no terminal to ask for the password: pipe it in with --password-stdin, "
            "or use --generate-password")
    while True:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            return staff.check_password(password, email), False
        except staff.StaffError as error:
            click.echo(f"Not accepted: {error}.", err=True)


def _password_from_stdin(email: str) -> str:
    """The first line of standard input (its line break dropped), under the same rules as
    a typed password."""
    line = sys.stdin.readline(staff.MAX_PASSWORD + 3)
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        raise click.ClickException("--password-stdin: standard input has no password "
                                   "(an empty first line)")
    try:
        return staff.check_password(password, email)
    except staff.StaffError as error:
        raise click.ClickException(f"--password-stdin: {error}") from None


_GENERATE = click.option("--generate-password", "generate", is_flag=True,
                         help="Generate a password and print it once instead of asking for one.")
_STDIN = click.option("--password-stdin", "from_stdin", is_flag=True,
                      help="Read the password from the first line of standard input (e.g. "
                           "from a secrets manager) instead of asking for it; at least "
                           f"{staff.MIN_PASSWORD} characters.")


@users_group.command("create")
@click.option("--email", required=True, help="The address the person logs in with.")
@click.option("--role", required=True, type=click.Choice(staff.ROLES),
              help="agent (line 1), engineer (line 2), expert (line 3) or admin.")
@click.option("--name", default="", help="The name customers see on replies.")
@_GENERATE
@_STDIN
@with_appcontext
def users_create(email: str, role: str, name: str, generate: bool, from_stdin: bool) -> None:
    """Create a staff account. The password is asked for twice at the terminal; or read
    from standard input (--password-stdin); or generated and printed once
    (--generate-password). Without a terminal, one of the two options is needed."""
    password, generated = _new_password(email, generate, from_stdin)
    try:
        user = staff.create_user(email, name, role, password)
    except staff.StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.role} {user.email} ({user.name}).")
    if generated:
        click.echo(f"Password (shown only now): {password}")


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """Every staff account: e-mail, role, state, last login."""
    users = staff.list_users()
    for user in users:
        state = "active" if user.active else "disabled"
        seen = user.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_login_at else "never"
        click.echo(f"{user.email}\t{user.role}\t{state}\tlast login: {seen}\t{user.name}")
    if not users:
        click.echo("No staff accounts yet. Create the first administrator with:\n"
                   "  portal users create --role admin --email you@example.com", err=True)


@users_group.command("disable")
@click.argument("email")
@with_appcontext
def users_disable(email: str) -> None:
    """Stop an account: it cannot log in, its sessions end and its API tokens stop working."""
    user = _user(email)
    staff.disable_user(user)
    click.echo(f"Disabled {user.email}; its sessions have ended.")


@users_group.command("enable")
@click.argument("email")
@with_appcontext
def users_enable(email: str) -> None:
    """Let a disabled account log in again."""
    user = _user(email)
    staff.enable_user(user)
    click.echo(f"Enabled {user.email}.")


@users_group.command("set-password")
@click.argument("email")
@_GENERATE
@_STDIN
@click.option("--revoke-tokens", is_flag=True,
              help="Also end the account's API tokens (after a suspected compromise).")
@with_appcontext
def users_set_password(email: str, generate: bool, from_stdin: bool,
                       revoke_tokens: bool) -> None:
    """Give an account a new password (asked for, read with --password-stdin, or
    generated); every open session of it ends (and with --revoke-tokens its API tokens)."""
    user = _user(email)
    password, generated = _new_password(user.email, generate, from_stdin)
    try:
        live = staff.set_password(user, password, revoke_tokens=revoke_tokens)
    except staff.StaffError as error:
        raise click.ClickException(str(error)) from None
    ended = "its sessions and API tokens have ended" if revoke_tokens else \
        "its sessions have ended"
    click.echo(f"New password set for {user.email}; {ended}.")
    if live:
        click.echo(f"{live} API token(s) of this account still work; if the password may "
                   f"have leaked, run this again with --revoke-tokens.", err=True)
    if generated:
        click.echo(f"Password (shown only now): {password}")


def init_app(app: Flask) -> None:
    app.cli.add_command(serve_command)
    app.cli.add_command(users_group)
    app.cli.add_command(index_group)
    app.cli.add_command(articles_group)
    app.cli.add_command(outbox_group)
    app.cli.add_command(report_group)


#: Commands that serve the site: their app builds a missing index as it starts.
SERVING_COMMANDS = ("serve", "run")


class _PortalGroup(FlaskGroup):
    """The Flask CLI, remembering which command was asked for before the app is made."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        ctx.ensure_object(ScriptInfo).data.setdefault("command", name)
        return super().get_command(ctx, name)


def _cli_app() -> Flask:
    """The app for one command. Setting up goes in order (migrate, check the articles,
    index, serve): only a serving command builds a missing index when its app is made, so
    that `portal db upgrade` on a fresh install does not index first."""
    from . import create_app

    context = click.get_current_context(silent=True)
    info = context.find_object(ScriptInfo) if context else None
    command = info.data.get("command") if info else None
    # `serve --prepare` indexes after migrating, in its own steps.
    preparing = command == "serve" and "--prepare" in sys.argv[1:]
    serving = command in SERVING_COMMANDS and not preparing
    return create_app(None if serving else {"BUILD_INDEX_ON_START": False})


def main() -> None:
    """Entry point of the `portal` console script."""
    _PortalGroup(create_app=_cli_app, help="Line 0 help center.")()
