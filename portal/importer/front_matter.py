"""The article's front matter made from a source page's (DocFX, Hugo or plain keys)."""

from __future__ import annotations

import datetime as dt
import re

from portal.text import INVISIBLE

from .sources import Doc


def article_meta(doc: Doc) -> dict:
    """The keys the article file gets: the source's that mean the same, renamed."""
    meta = doc.meta
    out: dict = {"title": doc.title}
    for key in ("summary", "description", "excerpt"):
        summary = meta_text(meta.get(key))
        if summary:
            out["summary"] = summary
            break
    out["lang"] = doc.lang
    tags = (words_of(meta.get("tags")) + words_of(meta.get("categories"))
            + words_of(meta.get("keywords")))
    out["tags"] = _unique(tags)
    out["keywords"] = _unique(words_of(meta.get("keywords")))
    if _truthy(meta.get("draft")) or meta.get("published") is False:
        out["status"] = "draft"
    for key in ("ms.author", "author"):
        owner = meta.get(key)
        if isinstance(owner, str) and owner.strip():
            out["owner"] = " ".join(owner.split())
            break
    dates = [d for d in (_date(meta.get(k)) for k in ("ms.date", "date", "lastmod")) if d]
    if dates:
        out["reviewed"] = max(dates)
    out["aliases"] = doc.aliases
    out["translations"] = _unique(doc.translations)
    out["source"] = doc.source
    return out


def meta_text(value) -> str:
    """A front matter value as one line of text ('' for lists, mappings, booleans)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        return ""
    return " ".join(INVISIBLE.sub(" ", value).split())


def words_of(value) -> list[str]:
    """A list of words given as a list or as text with commas (tags, keywords, aliases)."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    words = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            continue
        text = " ".join(str(item).split())
        if text:
            words.append(text)
    return words


def _unique(values: list[str]) -> list[str]:
    seen, out = set(), []
    for value in values:
        if value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    return out


def _truthy(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes"))


def _date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    value = value.strip()
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    try:
        if match:
            month, day, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        match = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return dt.date(year, month, day)
    except ValueError:
        return None
    return None
