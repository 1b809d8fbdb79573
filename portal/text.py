"""Small text rules that modules with nothing else in common share: an id segment made from
any name, and a list typed as text with commas between its items."""

from __future__ import annotations

import re
import unicodedata

#: The longest id segment `slugify` makes.
MAX_SEGMENT_LENGTH = 80
#: Simple transliteration, the one the hand-written articles use (`vhod`, `nastrojka`).
TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "j", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "c",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u",
}
#: Soft hyphens, zero-width and other invisible characters: they separate words in a name.
INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]")


def slugify(text: str) -> str:
    """One id segment from any name: `Сброс пароля (new)` -> `sbros-parolya-new`."""
    text = INVISIBLE.sub("-", unicodedata.normalize("NFC", text).lower())
    text = "".join(TRANSLIT.get(ch, ch) for ch in text)
    text = "".join(ch if ch.isascii() else "" if unicodedata.category(ch) == "Mn" else "-"
                   for ch in unicodedata.normalize("NFKD", text))
    text = re.sub(r"[^a-z0-9_]+", "-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-_")
    if len(text) > MAX_SEGMENT_LENGTH:
        cut = text[:MAX_SEGMENT_LENGTH]
        text = (cut.rsplit("-", 1)[0] if "-" in cut[20:] else cut).strip("-_")
    return text


def comma_list(text: str) -> list[str]:
    """`"a, b,,c "` -> `["a", "b", "c"]`: the items between commas, stripped, empty ones
    dropped (settings and front matter written by hand often have a stray comma)."""
    return [item.strip() for item in text.split(",") if item.strip()]
