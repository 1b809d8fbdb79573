"""Helpers for tests of the expert console: read a page's form as a browser would send it,
change some fields, press a button."""

from __future__ import annotations

from html.parser import HTMLParser

from sqlalchemy import select

from portal.extensions import db
from portal.models import ArticleRevision

from .staff import log_in
from .staff import make_staff

EDITOR_FORM = "editor-form"


class _FormReader(HTMLParser):
    """The fields of one form (by id) with the values a browser would send."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, str] = {}
        self.action: str | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside, self.action = True, attrs.get("action")
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind == "submit":
                self.buttons[name] = attrs.get("value", "")
            elif kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields[name] = attrs.get("value", "on")
            else:
                self.fields[name] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value", "")

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text)
            # Browsers drop the one line break that may follow <textarea>.
            for newline in ("\r\n", "\n"):
                if text.startswith(newline):
                    text = text[len(newline):]
                    break
            self.fields[self._textarea] = text
            self._textarea = None
        elif tag == "select":
            self._select = None


def read_form(page: str, form_id: str = EDITOR_FORM) -> _FormReader:
    reader = _FormReader(form_id)
    reader.feed(page)
    reader.close()
    assert reader.action is not None, f"no form #{form_id} on the page"
    return reader


def submit(client, url: str, button: str, form_id: str = EDITOR_FORM, **changes):
    """Open `url`, change fields of its form, press `button` (its name)."""
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    form = read_form(page.get_data(as_text=True), form_id)
    assert button in form.buttons, f"no button {button!r}: {sorted(form.buttons)}"
    data = {**form.fields, **changes, button: form.buttons[button]}
    return client.post(form.action, data=data)


def expert_client(app, email: str = "expert@example.com", name: str = "Эксперт",
                  role: str = "expert"):
    """A test client logged in as a new account (an expert unless `role` says otherwise)."""
    make_staff(app, role, email, name)
    client = app.test_client()
    assert log_in(client, email).status_code == 303
    return client


def new_article(client, title: str, body: str, button: str = "publish", **fields):
    """Write a new article in the editor; the response to pressing `button`."""
    defaults = {"title": title, "body": body, "category": "internet", "lang": "ru",
                "audience": "public"}
    return submit(client, "/expert/articles/new", button, **{**defaults, **fields})


def revisions(app, article_id: str) -> list[ArticleRevision]:
    """The article's revisions as stored, oldest first."""
    with app.app_context():
        rows = list(db.session.scalars(select(ArticleRevision)
                                       .where(ArticleRevision.article_id == article_id)
                                       .order_by(ArticleRevision.number)))
        db.session.expunge_all()
        return rows
