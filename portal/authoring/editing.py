"""An article file as the editor's fields, and back: front matter becomes fields (lists as
text an expert types), the fields become a file laid out as the earlier one was.

Knows no request and no form: fields are a plain mapping of the editor's field names."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from ..articles import STATUSES
from ..articles import blank_after_front
from ..articles import compose_file
from ..articles import split_file
from ..text import slugify
from . import store

#: The longest address made from a title for a new article.
MAX_SLUG_FROM_TITLE = 80
_SEPARATORS = re.compile(r"[,\n]")


def typed_words(value: str | None) -> list[str]:
    """A list typed as words or phrases separated by commas or new lines, each once."""
    seen: list[str] = []
    for part in _SEPARATORS.split(value or ""):
        part = " ".join(part.split())
        if part and part not in seen:
            seen.append(part)
    return seen


def fields_from_file(text: str, article_id: str, default_lang: str) -> dict[str, object]:
    """The editor's fields for an article file (`default_lang` when it names none)."""
    meta = store.front_matter_of(text)
    _front, body = split_file(text)
    category, _, slug = article_id.rpartition("/")

    def words(key: str) -> list[str]:
        value = meta.get(key)
        return [str(v) for v in value] if isinstance(value, list) else typed_words(
            str(value or ""))

    reviewed = meta.get("reviewed")
    every = meta.get("review_every")
    return {
        "title": str(meta.get("title") or ""), "summary": str(meta.get("summary") or ""),
        "category": category, "slug": slug, "lang": meta.get("lang") or default_lang,
        "audience": meta.get("audience") or "public", "tags": ", ".join(words("tags")),
        "keywords": "\n".join(words("keywords")), "owner": str(meta.get("owner") or ""),
        "review_every": every if isinstance(every, int) and not isinstance(every, bool)
        else None,
        "reviewed": reviewed if isinstance(reviewed, dt.date) else None,
        "translations": ", ".join(words("translations")), "body": body,
    }


def file_from_fields(fields: Mapping[str, Any], status: str, earlier_text: str = "") -> str:
    """The file the fields make: the earlier file's front matter (aliases, source) updated
    with the fields, then the body as typed; laid out as the earlier file was."""
    earlier = store.front_matter_of(earlier_text)
    meta = dict(earlier)
    meta.update({
        "title": fields["title"], "summary": fields["summary"] or None,
        "lang": fields["lang"], "audience": fields["audience"], "status": status,
        "tags": typed_words(fields["tags"]), "keywords": typed_words(fields["keywords"]),
        "owner": fields["owner"] or None, "reviewed": fields["reviewed"],
        "review_every": fields["review_every"],
        "translations": typed_words(fields["translations"]),
    })
    # A file that leaves a key at its default keeps doing so: a save adds no lines.
    for key, default in (("audience", "public"), ("status", "published")):
        if key not in earlier and meta[key] == default:
            del meta[key]
    return compose_file(meta, fields["body"] or "", blank_after_front(earlier_text))


def target_id(category: str, slug: str | None, title: str | None,
              current_id: str | None) -> str:
    """The id the fields ask for; an empty address keeps the current one, or for a new
    article is made from the title."""
    if not slug:
        slug = current_id.rpartition("/")[2] if current_id else (
            slugify(title or "")[:MAX_SLUG_FROM_TITLE].strip("-_") or "article")
    return f"{category}/{slug}"


def status_of(text: str) -> str:
    """The status an article file is in; a file that names none (or a wrong one) is
    published, as the site reads it."""
    status = store.front_matter_of(text).get("status")
    return status if status in STATUSES else "published"
