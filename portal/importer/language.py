"""Which language a source page is in: what its front matter or path says, checked
against the share of Cyrillic letters in its prose."""

from __future__ import annotations

import re

from portal.articles import LANGUAGES

from .fences import split_fences

#: The front matter keys that name a page's language (Hugo, DocFX, Jekyll).
LANG_KEYS = ("lang", "language", "ms.contentlocale", "locale", "ms.locale")


def guess_lang(meta: dict, source: str, body: str) -> str:
    """The language from the front matter, else a `ru`/`en` folder or `.ru.md` name, else
    the text. A hint the text plainly contradicts loses to it: a `ru-RU` page without a
    single Cyrillic letter (AlchemyInsights has French and Spanish ones), an `en` page
    whose letters are mostly Cyrillic."""
    title = meta.get("title") if isinstance(meta.get("title"), str) else ""
    share = _cyrillic_share(f"{title}\n{body}")
    hint = None
    for key in LANG_KEYS:
        value = meta.get(key)
        if isinstance(value, str):
            match = re.match(r"([a-z]{2})(?:[-_]|$)", value.strip().lower())
            if match and match.group(1) in LANGUAGES:
                hint = match.group(1)
                break
    parts = source.split("/")
    if hint is None:
        hint = next((p.lower() for p in reversed(parts[:-1]) if p.lower() in LANGUAGES), None)
    if hint is None:
        match = re.search(r"\.([a-z]{2})\.(?:md|markdown)$", parts[-1].lower())
        if match and match.group(1) in LANGUAGES:
            hint = match.group(1)
    if share is None:
        return hint or LANGUAGES[0]
    if hint == "ru" and share == 0 or hint == "en" and share > 0.6:
        hint = None
    return hint or ("ru" if share >= 0.3 else "en")


def detect_lang(text: str) -> str:
    """`ru` when at least 30 % of the letters of the prose are Cyrillic, else `en`."""
    share = _cyrillic_share(text)
    if share is None:
        return LANGUAGES[0]
    return "ru" if share >= 0.3 else "en"


def _cyrillic_share(text: str) -> float | None:
    """The share of Cyrillic among the letters of the prose (not code, not addresses)."""
    prose = "\n".join(chunk for is_code, chunk in split_fences(text) if not is_code)
    prose = re.sub(r"\]\([^)]*\)|https?://\S+|`[^`\n]*`|<[^>\n]*>", " ", prose)
    cyrillic = len(re.findall(r"[\u0400-\u04ff]", prose))
    latin = len(re.findall(r"[A-Za-z]", prose))
    if cyrillic + latin == 0:
        return None
    return cyrillic / (cyrillic + latin)
