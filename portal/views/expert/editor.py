"""Articles: the list, the editor with live preview, revisions, diffs and restore."""

from __future__ import annotations

import logging
import re

from flask import abort
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import ValidationError

from ...articles import STATUSES
from ...articles import is_valid_id
from ...articles.model import asset_url
from ...authoring import editing
from ...authoring import gaps as gap_work
from ...authoring import images
from ...authoring import listing
from ...authoring import store
from ...authoring.diff import side_by_side
from ...authoring.inbox import handles
from ...authoring.lock import FolderBusy
from ...extensions import csrf
from ...extensions import db
from ...search import Scope
from ...search import search as run_search
from ...web.knowledge import current_index
from ..forms import ArticleForm
from ..forms import RestoreForm
from ..params import choice_arg
from ..params import int_arg
from ..params import text_arg
from . import bp
from .common import flash_unshared
from .common import render_seconds
from .common import staff_member

log = logging.getLogger(__name__)

LIST_PAGE = 50


# --- The list ------------------------------------------------------------------------------


@bp.get("/")
def articles():
    """Every article, drafts and archived ones included, filtered and searchable."""
    index = current_index()
    catalog = index.catalog()
    categories = sorted({info.category for info in catalog.values() if info.category})
    status = choice_arg("status", STATUSES)
    category = choice_arg("category", categories)
    lang = choice_arg("lang", current_app.config["LANGUAGES"])
    mine = request.args.get("owner") == "me"
    query = text_arg("q", 500).strip()
    page = int_arg("page", 1, 1, 10_000)
    if query:
        results = run_search(index, query, Scope(lang=lang, category=category,
                                                 visibility="all"), per_page=200)
        found = [catalog[hit.id] for hit in results.hits if hit.id in catalog]
    else:
        found = sorted((info for info in catalog.values()
                        if (not lang or info.lang == lang)
                        and (not category or info.category == category)),
                       key=lambda info: (info.category, info.title.lower()))
    if status:
        found = [info for info in found if info.status == status]
    if mine:
        mine_handles = handles(current_user)
        found = [info for info in found if (info.owner or "").casefold() in mine_handles]
    sort = choice_arg("sort", listing.SORTS)
    descending = choice_arg("dir", ("asc", "desc")) == "desc"
    shown = listing.figures(index.articles_dir, (info.id for info in found))
    if sort:
        found = listing.sorted_articles(found, sort, descending, shown)
    pages = max(1, -(-len(found) // LIST_PAGE))
    first = (page - 1) * LIST_PAGE
    return render_template(
        "expert/articles.html", articles=found[first:first + LIST_PAGE], total=len(found),
        page=page, pages=pages, categories=categories, status=status, category=category,
        lang=lang, mine=mine, query=query, statuses=STATUSES, figures=shown, sort=sort,
        descending=descending, view_days=listing.VIEW_DAYS)


# --- The editor ----------------------------------------------------------------------------


def _form_from_file(text: str, article_id: str, digest: str) -> ArticleForm:
    fields = editing.fields_from_file(text, article_id, current_index().default_lang)
    return ArticleForm(formdata=None, base=digest, **fields)


def _text_from_form(form: ArticleForm, status: str, earlier_text: str = "") -> str:
    return editing.file_from_fields(form.data, status, earlier_text)


def _target_id(form: ArticleForm, article_id: str | None) -> str:
    return editing.target_id(form.category.data, form.slug.data, form.title.data, article_id)


def _refusal_field(form: ArticleForm, refusal: store.SaveRefused):
    """Put a refused save's reason next to the field it is about."""
    detail = refusal.detail
    messages = {
        "invalid_id": (form.slug, _("Use lowercase Latin letters, digits, “-” and “_”.")),
        "id_taken": (form.slug, _("An article with this address exists already.")),
        "alias_taken": (form.slug, _("This address redirects to another article.")),
        "id_used_before": (form.slug, _("An earlier article had this address; choose "
                                        "another one.")),
        "translation_missing": (form.translations, _("There is no article “%(id)s”.",
                                                     id=detail)),
        "translation_same_lang": (form.translations, _("“%(id)s” is in the same language.",
                                                       id=detail)),
        "alias_is_article": (form.slug, _("The old address “%(id)s” is another article's.",
                                          id=detail)),
        "alias_claimed": (form.slug, _("The old address “%(id)s” redirects to another "
                                       "article.", id=detail)),
        "too_slow": (form.body, _("This text takes too long to turn into a page. Simplify "
                                  "it (very long lines of links or nested lists).")),
        "missing": (form.body, _("The article no longer exists.")),
    }
    if refusal.code in messages:
        field, message = messages[refusal.code]
        field.errors = [*field.errors, message]
    else:
        form.body.errors = [*form.body.errors,
                            *[_("Problem: %(text)s", text=p) for p in refusal.problems]]


def _render_editor(form: ArticleForm, article_id: str | None, status: int = 200, **extra):
    index = current_index()
    catalog = index.catalog()
    current_status = "new"
    if article_id:
        current_status = editing.status_of(store.snapshot(index.articles_dir,
                                                          article_id).text or "")
    categories = sorted({i.category for i in catalog.values() if i.category})
    page = render_template(
        "expert/editor.html", form=form, article_id=article_id, current_status=current_status,
        categories=categories, owners=_owner_choices(), **extra)
    return page, status


def _owner_choices() -> list[str]:
    catalog = current_index().catalog()
    return sorted({info.owner for info in catalog.values() if info.owner})


def _preview(form: ArticleForm, article_id: str | None):
    """The page the form would make, or the problems saving it would meet."""
    target = _target_id(form, article_id)
    try:
        return store.check_text(current_index(), article_id or target,
                                _text_from_form(form, "draft"), render_seconds()), None
    except store.SaveRefused as refusal:
        _refusal_field(form, refusal)
        return None, refusal


# The editor's forms check their CSRF token themselves (not the app-wide check), so that a
# page left open past the token's lifetime gets its text back with a fresh token instead of
# a bare 400 page: an article's worth of typing is never lost to an expired form.
@bp.route("/articles/new", methods=["GET", "POST"])
@csrf.exempt
def new_article():
    """A new article; from a gap or an article request it starts filled in."""
    if request.method == "GET":
        form = ArticleForm(formdata=None, **_new_defaults())
        return _render_editor(form, None, gap=request.args.get("gap", "")[:400],
                              request_id=request.args.get("request", "")[:12])
    return _save(ArticleForm(), None)


def _new_defaults() -> dict:
    title = text_arg("title", 300).strip()
    keywords = [k for k in request.args.getlist("keyword") if k.strip()][:50]
    category = request.args.get("category", "")
    return {
        "title": title, "keywords": "\n".join(" ".join(k.split())[:200] for k in keywords),
        "category": category if re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,59}", category) else "",
        "lang": current_index().default_lang, "audience": "public",
        "owner": sorted(handles(current_user))[0] if handles(current_user) else "",
        "body": request.args.get("body", "")[:5000],
    }


def _article_or_404(article_id: str) -> store.Snapshot:
    if not is_valid_id(article_id):
        abort(404)
    current = store.snapshot(current_index().articles_dir, article_id)
    if not current.exists:
        abort(404)
    return current


@bp.route("/articles/<path:article_id>/edit", methods=["GET", "POST"])
@csrf.exempt
def edit_article(article_id: str):
    if request.method == "GET":
        index = current_index()
        if is_valid_id(article_id) and not store.snapshot(index.articles_dir,
                                                          article_id).exists:
            moved = index.canonical_ids().get(article_id)
            if moved:
                return redirect(url_for("expert.edit_article", article_id=moved), code=301)
        current = _article_or_404(article_id)
        return _render_editor(_form_from_file(current.text, article_id, current.hash),
                              article_id, problems=_problems_on_disk(article_id, current))
    _article_or_404(article_id)
    return _save(ArticleForm(), article_id)


def _problems_on_disk(article_id: str, current: store.Snapshot) -> list[str]:
    """What is wrong with the file as it is (changed outside the portal, say)."""
    try:
        store.check_text(current_index(), article_id, current.text, render_seconds())
    except store.SaveRefused as refusal:
        return refusal.problems or [refusal.detail or refusal.code]
    return []


def _save(form: ArticleForm, article_id: str | None):
    """Save the editor's form as a new revision (or only preview it)."""
    gap = (request.form.get("gap") or "")[:400]
    request_id = (request.form.get("request_id") or "")[:12]
    extra = {"gap": gap, "request_id": request_id}
    status = form.status_wanted()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            form.form_errors.append(_("The page was open so long that its form expired. "
                                      "Your text is kept: press the button again."))
        return _render_editor(form, article_id, 400, **extra)
    if status is None:
        article, _refusal = _preview(form, article_id)
        return _render_editor(form, article_id, 200 if article else 400,
                              preview=article, **extra)
    index = current_index()
    target = _target_id(form, article_id)
    earlier = store.snapshot(index.articles_dir, article_id).text if article_id else None
    text = _text_from_form(form, status, earlier or "")
    moving = bool(article_id) and target != article_id
    if moving and article_id:
        text = images.relink(text, article_id, target)
    try:
        row = store.save(index, article_id or target, text, base=form.base.data or None,
                         author=staff_member(), message=form.message.data or "",
                         rename_to=target if moving else None,
                         render_seconds=render_seconds())
    except store.EditConflict as conflict:
        return _conflict(form, article_id or target, conflict, text, extra)
    except store.SaveRefused as refusal:
        _refusal_field(form, refusal)
        return _render_editor(form, article_id, 400, **extra)
    except (FolderBusy, SQLAlchemyError, OSError):
        db.session.rollback()
        log.exception("could not save article %s", target)
        form.form_errors.append(_("The article could not be saved right now. Your text is "
                                  "still here: try again in a minute."))
        return _render_editor(form, article_id, 503, **extra)
    saved_id = row.article_id if row else (article_id or target)
    if moving and article_id and saved_id == target:
        try:
            images.move_assets(index.articles_dir, article_id, target)
        except OSError:
            log.exception("could not move the images of %s to %s", article_id, target)
    if row is not None and article_id is None:
        gap_work.note_new_article(saved_id, gap, request_id, staff_member())
    flash(_saved_message(row, status), "info")
    flash_unshared(index)
    return redirect(url_for("expert.edit_article", article_id=saved_id), code=303)


def _saved_message(row, status: str) -> str:
    if row is None:
        return _("Nothing changed: the article is as it was.")
    return {"published": _("Published. Searches find it within a second."),
            "draft": _("Saved as a draft: only staff see it."),
            "archived": _("Archived: customers no longer see it.")}[status]


def _conflict(form: ArticleForm, article_id: str, conflict: store.EditConflict, text: str,
              extra: dict):
    """Someone saved in between: nothing is written; the expert's text stays in the form,
    with what changed on disk beside it."""
    current = conflict.current
    form.base.data = current.hash or ""
    if not current.exists:
        form.form_errors.append(_("Meanwhile an article with this address was removed or "
                                  "another one was created. Check the address."))
    page_id = article_id if current.exists else None
    return _render_editor(form, page_id, 409, conflict=conflict,
                          conflict_diff=side_by_side(current.text or "", text), **extra)


@bp.post("/preview")
@csrf.exempt
def preview():
    """The live preview: the page the editor's text makes, rendered as the site does."""
    form = ArticleForm()
    form.validate_on_submit()
    article_id = request.form.get("article_id") or None
    if article_id and not is_valid_id(article_id):
        article_id = None
    if form.csrf_token.errors:
        return jsonify({"html": "", "problems": [_("The form has expired. Reload the page.")]}), 400
    # Only what the page is made of is previewed: the text, its language (box titles) and
    # its address (links and images beside it). What is wrong with the other fields is said
    # beside them when the article is saved, not in the preview.
    ok = {f.name: f.data for f in form if not f.errors}
    category = ok.get("category") or "preview"
    form = ArticleForm(formdata=None, title=ok.get("title") or "preview", category=category,
                       slug=ok.get("slug") or "", lang=ok.get("lang") or "ru",
                       body=form.body.data)
    if category == "preview" or ok.get("slug", "") != request.form.get("slug", ""):
        article_id = None
    article, _refusal = _preview(form, article_id)
    problems = [str(e) for e in form.body.errors]
    return jsonify({"html": article.html if article else "", "problems": problems})


# --- Images ----------------------------------------------------------------------------------

#: Room for the form's other fields beside the image, in an upload's body.
_UPLOAD_OVERHEAD = 64 * 1024


def _image_error(code: str, status: int = 400):
    limit = current_app.config["EDITOR_IMAGE_MAX_BYTES"]
    message = {
        "csrf": _("The form has expired. Reload the page."),
        "missing": _("Choose an image file."),
        "empty": _("The file is empty."),
        "too_large": _("The image is larger than %(size)s MB: make it smaller first.",
                       size=format(limit / 1024 / 1024, ".3g")),
        "not_image": _("Only PNG, JPEG, GIF and WebP images can be added (SVG cannot: it "
                       "may carry script)."),
        "polyglot": _("The file holds more than a picture (page markup, a script or an "
                      "archive): save it again as a plain image in an image editor."),
        "broken": _("The file is not a readable image."),
        "too_many_pixels": _("The image has too many pixels or frames: make it smaller "
                             "first."),
        "no_article": _("Give the article its category and address first: the image is "
                        "stored beside it."),
    }[code]
    return jsonify({"error": code, "message": message}), status


def _image_target(article_id: str | None) -> str | None:
    if article_id:
        return article_id if is_valid_id(article_id) else None
    category = request.form.get("category", "")
    slug = request.form.get("slug", "")
    title = request.form.get("title", "")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,59}", category):
        return None
    try:
        target = editing.target_id(category, slug, title, None)
    except (ValueError, TypeError):
        return None
    return target if is_valid_id(target) and "/" in target else None


def _alt_text(filename: str) -> str:
    stem = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    stem = " ".join(re.sub(r"[\[\]()<>*_`!#|\\]", " ", stem).split())[:80]
    return stem if stem and stem.casefold() not in {"image", "img", "blob", "screenshot",
                                                    "clipboard"} else _("Picture")


@bp.post("/images")
@csrf.exempt
def upload_image():
    """An image pasted or dropped into the editor: checked, written again and stored
    beside the article; the answer is the Markdown to insert."""
    limit = int(current_app.config["EDITOR_IMAGE_MAX_BYTES"])
    request.max_content_length = limit + _UPLOAD_OVERHEAD
    if (request.content_length or 0) > request.max_content_length:
        return _image_error("too_large", 413)  # said before reading a byte of it
    try:
        upload = request.files.get("image")
        token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken", "")
    except RequestEntityTooLarge:
        return _image_error("too_large", 413)
    try:
        return _store_upload(upload, token, limit)
    finally:
        request.close()  # the upload's spooled temporary file too


def _store_upload(upload, token: str, limit: int):
    try:
        validate_csrf(token)
    except ValidationError:
        return _image_error("csrf")
    if upload is None or not upload.filename and not upload.content_length:
        return _image_error("missing")
    article_id = request.form.get("article_id") or None
    target = _image_target(article_id)
    if target is None or (article_id and not store.snapshot(current_index().articles_dir,
                                                            article_id).exists):
        return _image_error("no_article")
    data = upload.stream.read(limit + 1)
    try:
        stored = images.store_image(current_index().articles_dir, target, data, limit)
    except images.ImageRefused as refused:
        return _image_error(refused.code, 413 if refused.code == "too_large" else 400)
    except OSError:
        log.exception("could not store an image for %s", target)
        return jsonify({"error": "unavailable",
                        "message": _("The image could not be stored right now.")}), 503
    alt = _alt_text(upload.filename or "")
    return jsonify({"markdown": f"![{alt}]({stored.markdown_src})", "alt": alt,
                    "src": stored.markdown_src, "url": asset_url(stored.path),
                    "article_id": target}), 201


# --- History ---------------------------------------------------------------------------------


@bp.get("/articles/<path:article_id>/history")
def history(article_id: str):
    if not is_valid_id(article_id):
        abort(404)
    revisions = store.history(article_id)
    current = store.snapshot(current_index().articles_dir, article_id)
    if not revisions and not current.exists:
        abort(404)
    changed_outside = current.exists and (not revisions
                                          or revisions[0].content_hash != current.hash)
    return render_template("expert/history.html", article_id=article_id,
                           revisions=revisions, current=current,
                           changed_outside=changed_outside)


def _revision_or_404(article_id: str, number: int):
    if not is_valid_id(article_id) or number > 10**9:
        abort(404)
    found = store.revision(article_id, number)
    if found is None:
        abort(404)
    return found


@bp.get("/articles/<path:article_id>/revisions/<int:number>")
def revision(article_id: str, number: int):
    """One revision: its text, and what it changed from the one before."""
    found = _revision_or_404(article_id, number)
    before = store.revision(article_id, number - 1) if number > 1 else None
    current = store.snapshot(current_index().articles_dir, article_id)
    return render_template(
        "expert/revision.html", article_id=article_id, revision=found, before=before,
        diff=side_by_side(before.content if before else "", found.content),
        restore_form=RestoreForm(formdata=None, base=current.hash or ""),
        is_current=current.hash == found.content_hash)


@bp.get("/articles/<path:article_id>/compare")
def compare(article_id: str):
    """Any two revisions side by side (`?from=2&to=5`)."""
    old = _revision_or_404(article_id, int_arg("from", 1, 1, 10**9))
    new = _revision_or_404(article_id, int_arg("to", 1, 1, 10**9))
    return render_template("expert/compare.html", article_id=article_id, old=old, new=new,
                           diff=side_by_side(old.content, new.content),
                           revisions=store.history(article_id))


@bp.post("/articles/<path:article_id>/revisions/<int:number>/restore")
def restore(article_id: str, number: int):
    """Save an earlier revision's text as the newest one (its aliases kept)."""
    found = _revision_or_404(article_id, number)
    form = RestoreForm()
    if not form.validate_on_submit():
        abort(400, _("The form has expired. Reload the page and try again."))
    index = current_index()
    current = store.snapshot(index.articles_dir, article_id)
    text = store.with_current_aliases(found.content, current.text or "")
    try:
        row = store.save(index, article_id, text, base=form.base.data or None,
                         author=staff_member(), source="restore",
                         message=_("Restored revision %(number)d", number=number),
                         render_seconds=render_seconds(), restored=number)
    except store.EditConflict:
        flash(_("The article changed after you opened this page. Look at the newest "
                "revision, then restore again if you still want to."), "error")
        return redirect(url_for("expert.history", article_id=article_id), code=303)
    except store.SaveRefused as refusal:
        flash(_("This revision cannot be restored: %(why)s",
                why="; ".join(refusal.problems) or refusal.detail or refusal.code), "error")
        return redirect(url_for("expert.revision", article_id=article_id, number=number),
                        code=303)
    except (FolderBusy, SQLAlchemyError, OSError):
        db.session.rollback()
        log.exception("could not restore %s revision %d", article_id, number)
        abort(503)
    flash(_("Revision %(number)d is the current text again.", number=number)
          if row else _("Nothing changed: this is the current text."), "info")
    flash_unshared(index)
    return redirect(url_for("expert.history", article_id=article_id), code=303)
