"""`portal users create` and `set-password` take a password piped in on standard input."""

from __future__ import annotations

import pytest

from portal import staff

from .staff import log_in
from .staff import make_staff

EMAIL = "irina@example.com"
GOOD = "a long enough password"


def create(app, *options: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=[
        "users", "create", "--role", "expert", "--email", EMAIL, *options], input=input)


def account_exists(app) -> bool:
    with app.app_context():
        return staff.find_user(EMAIL) is not None


def test_a_password_piped_in_is_the_accounts_password(app):
    result = create(app, "--password-stdin", input=GOOD + "\n")
    assert result.exit_code == 0, result.output
    assert f"Created expert {EMAIL}" in result.output
    # Nothing generated, nothing echoed.
    assert "Password" not in result.output and GOOD not in result.output
    assert log_in(app.test_client(), EMAIL, GOOD).status_code == 303


def test_only_the_first_line_counts_and_a_windows_line_break_is_not_part_of_it(app):
    result = create(app, "--password-stdin", input=GOOD + "\r\nsecond line\n")
    assert result.exit_code == 0, result.output
    assert log_in(app.test_client(), EMAIL, GOOD).status_code == 303


@pytest.mark.parametrize(("piped", "message"), [
    ("", "standard input has no password"),
    ("\n", "standard input has no password"),
    ("short\n", "the password must have at least 10 characters"),
    ("x" * 300 + "\n", "the password must have at most 200 characters"),
    (EMAIL + "\n", "the password must not be the e-mail address"),
])
def test_a_missing_or_weak_piped_password_is_refused_clearly(app, piped, message):
    result = create(app, "--password-stdin", input=piped)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not account_exists(app)


def test_without_a_terminal_the_command_says_how_to_give_the_password(app):
    # It used to ignore what was piped in and generate a password instead.
    result = create(app, input=GOOD + "\n")
    assert result.exit_code != 0
    assert "--password-stdin" in result.output and "--generate-password" in result.output
    assert not account_exists(app)


def test_generating_and_reading_a_password_at_once_is_refused(app):
    result = create(app, "--password-stdin", "--generate-password", input=GOOD + "\n")
    assert result.exit_code != 0
    assert "either --generate-password or --password-stdin" in result.output
    assert not account_exists(app)


def test_help_says_how_the_password_is_given(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "--help"])
    assert "--password-stdin" in result.output
    assert "standard input" in result.output and "--generate-password" in result.output


def test_set_password_reads_standard_input_too(app):
    make_staff(app, "agent", email=EMAIL)
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "--password-stdin", EMAIL], input=GOOD + "\n")
    assert result.exit_code == 0, result.output
    assert log_in(app.test_client(), EMAIL, GOOD).status_code == 303
