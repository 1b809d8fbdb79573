"""Flask-WTF forms."""

from __future__ import annotations

import datetime as dt
import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import DateField
from wtforms import DateTimeLocalField
from wtforms import EmailField
from wtforms import FieldList
from wtforms import Form
from wtforms import FormField
from wtforms import HiddenField
from wtforms import IntegerField
from wtforms import PasswordField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional
from wtforms.validators import Regexp
from wtforms.validators import ValidationError

from ..feedback import MAX_COMMENT
from ..feedback import REASONS
from ..service_hours import calendar
from ..tickets import MAX_MESSAGE
from ..tickets import URGENCIES

MAX_DESCRIPTION = 10_000
MAX_ERROR_TEXT = 5_000


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


_UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(value):
    """Text as people typed it, minus what no one types: NUL and other control characters
    (PostgreSQL refuses NUL) and lone surrogates; line ends kept, ends trimmed."""
    if not isinstance(value, str):
        return value
    return _UNSAFE_CHARS.sub("", value.replace("\r\n", "\n")).strip()


def urgency_choices() -> list[tuple[str, str]]:
    labels = {
        "low": _l("Low — it can wait"),
        "normal": _l("Normal"),
        "high": _l("High — it gets in the way of my work"),
        "critical": _l("Critical — nothing works at all"),
    }
    return [(urgency, labels[urgency]) for urgency in URGENCIES]


class NotInTheFuture:
    """A moment that has already happened (a few minutes of clock skew allowed)."""

    def __call__(self, form, field) -> None:
        if field.data is None:
            return
        moment = field.data
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=calendar().zone)
        if moment > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10):
            raise ValidationError(_l("This date is in the future."))
        if moment.year < 2000:
            raise ValidationError(_l("This date is too far in the past."))


def no_encoded_word(form, field) -> None:
    """Refuse an address holding an RFC 2047 encoded word ("=?utf-8?q?...?="): no mailbox
    needs one, and mail cannot be sent to it safely (the outbox refuses it)."""
    if field.data and "=?" in field.data:
        raise ValidationError(_l("This does not look like an e-mail address."))


class TicketForm(FlaskForm):
    """"Still need help?": what line 1 needs to answer without asking again."""

    name = StringField(_l("Your name"), filters=[clean_text],
                       validators=[DataRequired(_l("Tell us your name.")), Length(max=200)])
    email = EmailField(_l("E-mail"), filters=[clean_text], validators=[
        DataRequired(_l("We need your e-mail to answer you.")), Length(max=320),
        no_encoded_word,
        Email(_l("This does not look like an e-mail address."), check_deliverability=False,
              allow_smtputf8=True)])
    subject = StringField(_l("Subject"), filters=[clean_text], validators=[
        DataRequired(_l("Describe the problem in a few words.")), Length(min=3, max=200)])
    description = TextAreaField(_l("What happened?"), filters=[clean_text], validators=[
        DataRequired(_l("Tell us what you did and what went wrong.")),
        Length(max=MAX_DESCRIPTION)])
    category = SelectField(_l("Product or topic"), choices=[], validate_choice=True)
    version = StringField(_l("Program or firmware version"), filters=[clean_text],
                          validators=[Optional(), Length(max=100)])
    os = StringField(_l("Operating system or device"), filters=[clean_text],
                     validators=[Optional(), Length(max=100)])
    occurred_at = DateTimeLocalField(_l("When did it happen?"), format="%Y-%m-%dT%H:%M",
                                     validators=[Optional(), NotInTheFuture()])
    error_text = TextAreaField(_l("Exact error text, if there was one"), filters=[clean_text],
                               validators=[Optional(), Length(max=MAX_ERROR_TEXT)])
    urgency = RadioField(_l("How urgent is it for you?"), choices=urgency_choices,
                         default="normal", validate_choice=True,
                         validators=[DataRequired(_l("Choose how urgent it is."))])
    #: Left empty by people (it is hidden); bots that fill every field fill it in.
    website = StringField(_l("Leave this field empty"))
    came_from = HiddenField(filters=[clean_text], validators=[Optional(), Length(max=500)])
    #: Made when the form is opened: sending the same form again finds the same ticket.
    request_key = HiddenField()
    submit = SubmitField(_l("Send the request"))

    def validate_website(self, field) -> None:
        if field.data:
            raise ValidationError(_l("This request looks automatic. Leave the field "
                                     "“Leave this field empty” empty and send it again."))


class TicketMessageForm(FlaskForm):
    """The customer writes again on the status page."""

    token = HiddenField(validators=[DataRequired()])
    body = TextAreaField(_l("Your message"), filters=[clean_text], validators=[
        DataRequired(_l("Write your message.")), Length(max=MAX_MESSAGE)])
    send = SubmitField(_l("Send"))


class SolvedForm(FlaskForm):
    """"My problem is solved" on the status page."""

    token = HiddenField(validators=[DataRequired()])
    solved = SubmitField(_l("My problem is solved"))


class LoginForm(FlaskForm):
    """Staff log in with their e-mail and password."""

    email = EmailField(_l("E-mail"), filters=[clean_text], validators=[
        DataRequired(_l("Enter your e-mail.")), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter your password.")), Length(max=200)])
    next = HiddenField(validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Log in"))


class TokenForm(FlaskForm):
    """A new API token for an outside helpdesk."""

    name = StringField(_l("What is it for?"), filters=[clean_text], validators=[
        DataRequired(_l("Name the token, e.g. the helpdesk that will use it.")),
        Length(max=100)])
    create = SubmitField(_l("Create a token"))


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token is checked."""


# --- The agent console -----------------------------------------------------------------


def mail_configured() -> bool:
    """Whether replies to customers go out by mail (a mail server is set up)."""
    return bool(current_app.config.get("MAIL_SERVER"))


class ReplyForm(FlaskForm):
    """A public reply to the customer or an internal note for colleagues."""

    body = TextAreaField(_l("Message"), filters=[clean_text], validators=[
        DataRequired(_l("Write the message.")), Length(max=MAX_MESSAGE)])
    visibility = RadioField(_l("Who sees it"), default="public", validate_choice=True,
                            choices=lambda: [
                                ("public", _l("Reply to the customer (sent by e-mail)")
                                 if mail_configured() else
                                 _l("Reply to the customer (shown on the ticket's status "
                                    "page only: no mail server is set up)")),
                                ("internal", _l("Internal note (staff only)"))])
    then = SelectField(_l("Then"), default="", validate_choice=True, choices=lambda: [
        ("", _l("keep the status")), ("waiting", _l("wait for the customer's answer"))])
    send = SubmitField(_l("Send"))


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), validate_choice=True, choices=lambda: [
        ("open", _l("open")), ("waiting", _l("waiting for customer")), ("closed", _l("closed"))])
    change = SubmitField(_l("Change the status"))


class EscalateForm(FlaskForm):
    """Move the ticket to another line; why, and for line 4 the vendor and its reference."""

    line = SelectField(_l("Line"), coerce=int, validate_choice=True, choices=lambda: [
        (1, _l("line 1")), (2, _l("line 2 (engineers)")), (3, _l("line 3 (experts)")),
        (4, _l("line 4 (vendor)"))])
    note = TextAreaField(_l("Why, and what has been tried (internal)"), filters=[clean_text],
                         validators=[DataRequired(_l("Say why the ticket moves.")),
                                     Length(max=2000)])
    # No Optional(): it would stop before `validate_vendor*`, which require them for line 4.
    vendor = StringField(_l("Vendor (line 4)"), filters=[clean_text],
                         validators=[Length(max=200)])
    vendor_ref = StringField(_l("Vendor's reference number (line 4)"), filters=[clean_text],
                             validators=[Length(max=200)])
    move = SubmitField(_l("Move the ticket"))

    def validate_vendor(self, field) -> None:
        if self.line.data == 4 and not field.data:
            raise ValidationError(_l("Name the vendor the ticket goes to."))

    def validate_vendor_ref(self, field) -> None:
        if self.line.data == 4 and not field.data:
            raise ValidationError(_l("Give the vendor's reference number."))


class ResolveForm(FlaskForm):
    """Resolve: which article solved it, or "no article exists" with a request for one."""

    outcome = RadioField(_l("What solved it?"), default="article", validate_choice=True,
                         choices=lambda: [
                             ("article", _l("An article")),
                             ("no_article", _l("No article exists: ask the experts for one"))])
    # No Optional(): it would stop before `validate_article` and `validate_topic`.
    article = StringField(_l("Article"), filters=[clean_text],
                          validators=[Length(max=300)])
    #: The id of the article picked from the list (the page script fills it in).
    article_id = HiddenField(filters=[clean_text], validators=[Length(max=200)])
    topic = StringField(_l("What the new article should answer"), filters=[clean_text],
                        validators=[Length(max=300)])
    note = TextAreaField(_l("Notes for the experts"), filters=[clean_text],
                         validators=[Optional(), Length(max=2000)])
    resolve = SubmitField(_l("Resolve"))

    def validate_article(self, field) -> None:
        if self.outcome.data == "article" and not field.data:
            raise ValidationError(_l("Choose the article that solved the problem."))

    def validate_topic(self, field) -> None:
        if self.outcome.data == "no_article" and not field.data:
            raise ValidationError(_l("Say what the new article should answer."))


class FlagForm(FlaskForm):
    """Tell an article's owner it is outdated or wrong."""

    article = StringField(_l("Article"), filters=[clean_text],
                          validators=[DataRequired(_l("Choose the article.")), Length(max=300)])
    article_id = HiddenField(filters=[clean_text], validators=[Length(max=200)])
    kind = RadioField(_l("The article is"), default="outdated", validate_choice=True,
                      choices=lambda: [("outdated", _l("outdated")), ("wrong", _l("wrong"))])
    comment = TextAreaField(_l("What is wrong with it"), filters=[clean_text], validators=[
        DataRequired(_l("Tell the owner what to fix.")), Length(max=2000)])
    flag = SubmitField(_l("Flag the article"))


# --- The expert console ----------------------------------------------------------------

_ID_SEGMENT = r"^[a-z0-9][a-z0-9_-]*$"


def _id_segment(message):
    return Regexp(_ID_SEGMENT, message=message)


def one_line(value):
    """A one-line field as stored: cleaned, every run of spaces, tabs or line breaks made one
    space (a title or a name never spans lines, even when a client sends them)."""
    value = clean_text(value)
    return " ".join(value.split()) if isinstance(value, str) else value


class ArticleForm(FlaskForm):
    """An article in the editor: its front matter as fields, its body as Markdown."""

    title = StringField(_l("Title"), filters=[one_line], validators=[
        DataRequired(_l("Give the article a title.")), Length(max=300)])
    summary = TextAreaField(_l("Summary"), filters=[clean_text],
                            validators=[Optional(), Length(max=1000)])
    category = StringField(_l("Category (folder)"), filters=[one_line], validators=[
        DataRequired(_l("Choose the category.")), Length(max=60),
        _id_segment(_l("Use lowercase Latin letters, digits, “-” and “_”."))])
    slug = StringField(_l("Address (file name)"), filters=[one_line], validators=[
        Optional(), Length(max=120),
        _id_segment(_l("Use lowercase Latin letters, digits, “-” and “_”."))])
    lang = SelectField(_l("Language"), validate_choice=True,
                       choices=lambda: [("ru", "Русский"), ("en", "English")])
    audience = SelectField(_l("Who can read it"), validate_choice=True, choices=lambda: [
        ("public", _l("everyone (public)")), ("internal", _l("staff only (internal)"))])
    tags = StringField(_l("Tags"), filters=[one_line],
                       validators=[Optional(), Length(max=1000)])
    keywords = TextAreaField(_l("Keywords"), filters=[clean_text],
                             validators=[Optional(), Length(max=5000)])
    owner = StringField(_l("Owner"), filters=[one_line],
                        validators=[Optional(), Length(max=200)])
    review_every = IntegerField(_l("Review every (days)"), validators=[
        Optional(), NumberRange(1, 3650, _l("From 1 to 3650 days."))])
    reviewed = DateField(_l("Last reviewed"), validators=[Optional()])
    translations = StringField(_l("Translations"), filters=[one_line],
                               validators=[Optional(), Length(max=1000)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[Length(max=512 * 1024)])
    message = StringField(_l("What changed (for the history)"), filters=[one_line],
                          validators=[Optional(), Length(max=500)])
    #: The content hash of the file the editor was opened on ("" for a new article).
    base = HiddenField(validators=[Optional(), Length(max=64)])
    save_draft = SubmitField(_l("Save draft"))
    publish = SubmitField(_l("Publish"))
    unpublish = SubmitField(_l("Unpublish"))
    archive = SubmitField(_l("Archive"))
    preview = SubmitField(_l("Preview"))

    def status_wanted(self) -> str | None:
        """The status the pressed button asks for (None: only a preview)."""
        if self.publish.data:
            return "published"
        if self.archive.data:
            return "archived"
        if self.save_draft.data or self.unpublish.data:
            return "draft"
        return None


class RestoreForm(FlaskForm):
    """Make an earlier revision the current text again."""

    base = HiddenField(validators=[Optional(), Length(max=64)])
    restore = SubmitField(_l("Restore this revision"))


class GapForm(FlaskForm):
    """Which gap an action is about: its normalized form and how people typed it."""

    normalized = HiddenField(validators=[DataRequired(), Length(max=400)])
    query = HiddenField(filters=[clean_text], validators=[Optional(), Length(max=400)])


class GapAnswerForm(GapForm):
    """"This article answers it": as keywords of the article, or as a best bet."""

    article = StringField(_l("Article address"), filters=[clean_text], validators=[
        DataRequired(_l("Choose the article that answers these searches.")),
        Length(max=200)])
    mode = RadioField(_l("How"), default="keywords", validate_choice=True, choices=lambda: [
        ("keywords", _l("add the searches to its keywords")),
        ("best_bet", _l("show it first for this search (best bet)"))])
    queries = SelectMultipleField(_l("Searches to add"), choices=[], validate_choice=False)
    answer = SubmitField(_l("This article answers it"))


class GapIgnoreForm(GapForm):
    note = StringField(_l("Why (optional)"), filters=[clean_text],
                       validators=[Optional(), Length(max=500)])
    ignore = SubmitField(_l("Ignore"))


class InboxCloseForm(FlaskForm):
    """Close an inbox item, saying what was done."""

    note = TextAreaField(_l("What was done"), filters=[clean_text],
                         validators=[Optional(), Length(max=2000)])
    close = SubmitField(_l("Close"))


class SynonymsForm(FlaskForm):
    """The synonym groups, one per line (the file's version, so a stale form is refused)."""

    synonyms = TextAreaField(_l("Synonym groups"))
    synonyms_version = HiddenField()


class RelationSwitchForm(FlaskForm):
    """Switch one mined relation off or back on (its key, and which way)."""

    key = HiddenField()
    action = HiddenField()


class BetRowForm(Form):
    """One best bet: a query and the articles shown first for it."""

    query = StringField(_l("Query"))
    articles = StringField(_l("Articles"))
    remove = BooleanField(_l("Remove this best bet"))


class BestBetsForm(FlaskForm):
    bets = FieldList(FormField(BetRowForm))
    bets_version = HiddenField()
