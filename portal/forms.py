"""Flask-WTF forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import Length
from wtforms.validators import Optional

from .feedback import MAX_COMMENT
from .feedback import REASONS


def reason_choices() -> list[tuple[str, str]]:
    labels = {
        "not_solved": _l("It did not solve my problem"),
        "unclear": _l("It is hard to understand"),
        "outdated": _l("It is out of date"),
        "wrong_product": _l("It is about another product or device"),
    }
    return [(reason, labels[reason]) for reason in REASONS]


class VoteForm(FlaskForm):
    """"Did this help?" — yes or no; on "no", why, and a comment if the visitor wants."""

    yes = SubmitField(_l("Yes"))
    no = SubmitField(_l("No"))
    reason = RadioField(_l("What was wrong?"), choices=reason_choices, validators=[Optional()],
                        validate_choice=True)
    comment = TextAreaField(_l("Anything to add? (optional)"),
                            validators=[Optional(), Length(max=MAX_COMMENT)])
    send = SubmitField(_l("Send"))
