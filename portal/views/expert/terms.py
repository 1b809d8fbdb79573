"""Search terms: the synonym groups and best bets experts keep, used by search at once."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ...authoring import terms
from ...search import RELATION_KINDS
from ...search import Relation
from ...search import all_relations
from ...search import clean_query
from ...web.knowledge import current_index
from ..forms import BestBetsForm
from ..forms import RelationSwitchForm
from ..forms import SynonymsForm
from ..labels import article_status
from . import bp

#: Empty best-bet rows under the saved ones, for adding new bets without script.
BLANK_ROWS = 3
#: A pasted file full of mistakes lists this many problems, then how many more.
SHOWN_PROBLEMS = 20
#: Mined relations listed at once; the filter narrows a long list.
SHOWN_RELATIONS = 100


def _root() -> Path:
    return Path(current_app.config["ARTICLES_DIR"])


@bp.get("/search-terms", endpoint="terms")
def terms_page():
    """The synonym groups and best bets as their files hold them now."""
    return _page()


@bp.post("/search-terms/synonyms")
def terms_synonyms():
    """Save the synonym groups typed; the form comes back as typed when they are refused."""
    form = SynonymsForm()
    form.validate_on_submit()  # the CSRF token was checked before the view
    try:
        terms.save_synonyms(_root(), current_index(), form.synonyms.data or "",
                            form.synonyms_version.data or "")
    except terms.InvalidTerms as error:
        form.synonyms.errors = _shown([_synonym_message(p) for p in error.problems])
        return _page(synonyms_form=form, status=400)
    except terms.StaleTerms as error:
        form.synonyms.errors = [_stale_message(form.synonyms_version.data, _(
            "Another expert saved the synonyms after you opened this page. Their version is "
            "shown below the form, yours is kept in it: compare them, then save again to "
            "replace theirs with yours."))]
        form.synonyms_version.data = error.current.version
        return _page(synonyms_form=form, status=409,
                     their_synonyms=terms.synonyms_text(error.current.items))
    flash(_("The synonyms are saved. Searches use them now."), "info")
    return redirect(url_for("expert.terms", _anchor="synonyms"), code=303)


@bp.post("/search-terms/best-bets")
def terms_best_bets():
    """Save the best bets typed; rows marked for removal or left empty are dropped."""
    form = BestBetsForm()
    form.validate_on_submit()  # the CSRF token was checked before the view
    kept = [entry for entry in form.bets if not entry.remove.data
            and ((entry.query.data or "").strip() or (entry.articles.data or "").strip())]
    rows = [(entry.query.data or "", terms.article_ids(entry.articles.data or ""))
            for entry in kept]
    try:
        terms.save_best_bets(_root(), current_index(), rows, form.bets_version.data or "")
    except terms.InvalidTerms as error:
        form.form_errors.extend(_bet_errors(error.problems, kept))
        return _page(bets_form=form, status=400)
    except terms.StaleTerms as error:
        form.form_errors.append(_stale_message(form.bets_version.data, _(
            "Another expert saved the best bets after you opened this page. Their version is "
            "shown below the form, yours is kept in it: compare them, then save again to "
            "replace theirs with yours.")))
        form.bets_version.data = error.current.version
        return _page(bets_form=form, status=409, their_bets=error.current.items)
    flash(_("The best bets are saved. Searches use them now."), "info")
    return redirect(url_for("expert.terms", _anchor="best-bets"), code=303)


@bp.post("/search-terms/relations")
def terms_relation():
    """Switch one mined relation off, or back on."""
    form = RelationSwitchForm()
    form.validate_on_submit()  # the CSRF token was checked before the view
    key = form.key.data or ""
    on = form.action.data == "on"
    if form.action.data not in ("on", "off"):
        return _page(status=400, relation_error=_("Choose whether to switch the relation on "
                                                   "or off."))
    try:
        changed = terms.switch_relation(_root(), current_index(), key, on)
    except terms.InvalidTerms:
        return _page(status=400, relation_error=_(
            "There can be at most %(max)d switched-off relations.", max=terms.MAX_RELATIONS_OFF))
    if not changed:
        return _page(status=400, relation_error=_(
            "Search no longer knows this relation: the articles it came from have changed. "
            "The list below is as it is now."))
    flash(_("The relation is switched on again: searches use it.") if on else
          _("The relation is switched off: searches no longer use it."), "info")
    return redirect(url_for("expert.terms", relation=request.args.get("relation") or None,
                            _anchor="relations"), code=303)


def _relations(off: set[str]) -> dict[str, object]:
    """The mined relations the filter asks for (`?relation=word&kind=...`), switched-off
    ones first, bounded; with counts, for the page."""
    wanted = clean_query(request.args.get("relation"))[:100].lower()
    kind = request.args.get("kind", "")
    kind = kind if kind in RELATION_KINDS else ""
    every = all_relations(current_index())
    counts = {k: 0 for k in RELATION_KINDS}
    for relation in every:
        counts[relation.kind] += 1

    def chosen(relation: Relation) -> bool:
        return (not kind or relation.kind == kind) and (
            not wanted or wanted in relation.left.lower() or wanted in relation.right.lower())

    matching = sorted((r for r in every if chosen(r)), key=lambda r: r.key not in off)
    return {"relations": matching[:SHOWN_RELATIONS], "relations_total": len(matching),
            "relation_counts": counts, "relation_filter": wanted, "relation_kind": kind,
            "relations_off": off, "switch_form": RelationSwitchForm(formdata=None)}


def _page(synonyms_form: SynonymsForm | None = None, bets_form: BestBetsForm | None = None,
          status: int = 200, **extra):
    """The page; a form given comes back as typed, the other shows its file as it is now."""
    root = _root()
    synonyms = terms.read_synonyms(root)
    bets = terms.read_best_bets(root)
    if synonyms_form is None:
        synonyms_form = SynonymsForm(formdata=None, synonyms=terms.synonyms_text(synonyms.items),
                                     synonyms_version=synonyms.version)
    if bets_form is None:
        bets_form = BestBetsForm(formdata=None, bets_version=bets.version, bets=[
            {"query": bet.query, "articles": ", ".join(bet.articles)} for bet in bets.items])
    blank = sum(1 for entry in bets_form.bets if not (entry.query.data or entry.articles.data))
    for _row in range(BLANK_ROWS - blank):
        bets_form.bets.append_entry()
    shown = {i for bet in bets.items for i in bet.articles}
    shown |= {i for entry in bets_form.bets for i in terms.article_ids(entry.articles.data or "")}
    shown |= {i for bet in extra.get("their_bets", ()) for i in bet.articles}
    page = render_template(
        "expert/terms.html", synonyms_form=synonyms_form, bets_form=bets_form,
        synonyms_problems=synonyms.problems, bets_problems=bets.problems,
        states=terms.article_states(current_index(), shown), ids_of=terms.article_ids,
        state_label=_state_label,
        catalog=current_index().catalog(), max_articles=terms.MAX_BET_ARTICLES,
        relation_kind_label=_relation_kind_label,
        **_relations(set(terms.read_relations_off(root).items)), **extra)
    return page, status


def _stale_message(version: str | None, message: str) -> str:
    """`message`, unless the form did not say which version of the file it showed."""
    if version:
        return message
    return _("The form did not say which version of the file it was loaded from. The file "
             "as it is now is shown below the form, what you typed is kept in it: save again "
             "to replace the file with it.")


def _shown(messages: list[str]) -> list[str]:
    """The first problems, and how many more there are."""
    if len(messages) <= SHOWN_PROBLEMS:
        return messages
    rest = len(messages) - SHOWN_PROBLEMS
    return messages[:SHOWN_PROBLEMS] + [ngettext("… and %(num)d more problem.",
                                                 "… and %(num)d more problems.", rest)]


def _bet_errors(problems: list[terms.TermProblem], kept: list) -> list[str]:
    """Put each problem next to its field; those of the whole list are returned."""
    general = []
    for problem in problems:
        message = _bet_message(problem)
        if 0 <= problem.row < len(kept):
            field = getattr(kept[problem.row], problem.field)
            field.errors = [*field.errors, message]
        else:
            general.append(message)
    return general


def _synonym_message(problem: terms.TermProblem) -> str:
    values = problem.values
    text = {
        "unclosed_quote": _("a quoted entry has no closing quote (write a quote inside "
                            "quotes twice: \"\")"),
        "too_few_entries": _("a group needs at least two entries, separated by commas"),
        "too_many_entries": _("a group can have at most %(max)s entries", max=values.get("max")),
        "too_long": _("“%(entry)s” is longer than %(max)s characters",
                      entry=_clip(values.get("entry")), max=values.get("max")),
        "control_characters": _("“%(entry)s” contains control characters or line breaks",
                                entry=_clip(values.get("entry"))),
        "no_words": _("“%(entry)s” has no words that search can look for",
                      entry=_clip(values.get("entry"))),
        "duplicate_entry": _("“%(entry)s” is the same for search as “%(other)s” (word forms, "
                             "ё and е, small words like “мой” do not count): remove one",
                             entry=_clip(values.get("entry")), other=_clip(values.get("other"))),
        "entry_in_other_group": _("“%(entry)s” is already in the group on line %(line)s",
                                  entry=_clip(values.get("entry")), line=values.get("line")),
        "too_many_groups": _("there can be at most %(max)s groups", max=values.get("max")),
        "not_storable": _("these groups cannot be stored as typed"),
    }.get(problem.code, problem.code)
    if problem.row < 0:
        return text[:1].upper() + text[1:] + "."
    return _("Line %(line)d: %(problem)s.", line=problem.row + 1, problem=text)


def _bet_message(problem: terms.TermProblem) -> str:
    values = problem.values
    article = _clip(values.get("id"))
    return {
        "no_query": _("Type the query these articles answer."),
        "too_long": _("The query is longer than %(max)s characters.", max=values.get("max")),
        "control_characters": _("The query contains control characters or line breaks."),
        "no_words": _("The query has no words that search can look for."),
        "duplicate_query": _("Another best bet has the same query for search: “%(other)s” "
                             "(word forms and order do not count).",
                             other=_clip(values.get("other"))),
        "no_articles": _("Name at least one article, e.g. account/sbros-parolya."),
        "too_many_articles": _("A best bet can pin at most %(max)s articles.",
                               max=values.get("max")),
        "unknown_article": _("There is no article “%(id)s”.", id=article),
        "duplicate_article": _("“%(id)s” is named twice.", id=article),
        "unpublished_article": _("“%(id)s” is not published (%(status)s).", id=article,
                                 status=_state_label(str(values.get("status")))),
        "too_many_bets": _("There can be at most %(max)s best bets.", max=values.get("max")),
        "not_storable": _("These best bets cannot be stored as typed."),
        "broken_file": _("The best bets file has problems: %(problem)s",
                         problem=values.get("problem")),
    }.get(problem.code, problem.code)


def _relation_kind_label(kind: str) -> str:
    return {"abbreviation": _("Abbreviation"), "translation": _("Translation"),
            "keyword": _("Keyword of an article"), "family": _("Word family")}.get(kind, kind)


def _state_label(state: str) -> str:
    return {"internal": _("published, internal"),
            "missing": _("no such article")}.get(state) or article_status(state)


def _clip(value, size: int = 60) -> str:
    text = str(value or "")
    return text if len(text) <= size else text[:size] + "…"
