"""The rules for what goes into a mail header: one line, no hidden syntax, a bounded length.

Customers' names and ticket subjects end up in headers. Whatever they hold (line breaks,
encoded words that decode to more headers, invisible characters, address syntax in a name)
comes out as plain text on one line, or is refused.
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from email.headerregistry import Address
from email.headerregistry import HeaderRegistry

from .errors import OutboxError

#: The longest subject, and the longest display name of an address, in characters.
SUBJECT_LIMIT = 200
NAME_LIMIT = 100
#: Of a header value, only this many times its limit is read: more could not fit decoded.
_READ_FACTOR = 12
#: Text encoded more than this many times over is not unwrapped further (see header_text).
_DECODE_ROUNDS = 4
#: A cut moves back to the end of a word at most this far; a longer word is cut inside.
_WORD_REACH = 20
#: An RFC 2047 encoded word: =?charset?q-or-b?text?= (the text is printable ASCII but "?").
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([!->@-~]*)\?=")
#: Format characters kept: the joiners are part of how some scripts and emoji are written.
_JOINERS = frozenset("\u200c\u200d")
#: What makes a display name read as something else: RFC 5322 specials but the dot.
_NAME_SPECIALS = str.maketrans(dict.fromkeys('"(),:;<>@[\\]', " "))
_HEADERS = HeaderRegistry()


def refuse_line_breaks(what: str, value: str) -> None:
    """Refuse control characters and Unicode line separators: they could start a new header."""
    if not isinstance(value, str):
        raise OutboxError(f"the {what} must be text")
    for char in value:
        if char != "\t" and unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            raise OutboxError(f"the {what} contains a line break or control character")


def one_address(value: str) -> str:
    """`value` if it is exactly one e-mail address (a display name is allowed), written
    the safe way: display name made header text, comments and groups dropped."""
    return str(address(value))


def address(value: str) -> Address:
    """The one e-mail address in `value`, with its display name made header text."""
    refuse_line_breaks("address", value)
    # The email library decodes an encoded word even inside an address ("=?utf-8?q?a=2C_b?=
    # @x" is read as two), and no mailbox needs one: refuse rather than guess.
    if "=?" in value:
        raise OutboxError(f"an encoded word (=?...?=) in an address: {value!r}")
    try:
        header = _HEADERS("To", value)
        addresses = header.addresses
    except Exception:  # the parser can fail on odd input instead of reporting a defect
        addresses, header = (), None
    if (header is None or header.defects or len(addresses) != 1
            or not addresses[0].username or not addresses[0].domain):
        raise OutboxError(f"not one e-mail address: {value!r}")
    if any(unicodedata.category(char) in ("Cf", "Cs") for char in addresses[0].addr_spec):
        raise OutboxError(f"an invisible character in an address: {value!r}")
    # A display name never carries address syntax: the library drops the quotes of a long
    # quoted name when it folds the line, and "Ivanov, Petr" would then read as two names.
    name = " ".join(header_text(addresses[0].display_name, NAME_LIMIT)
                    .translate(_NAME_SPECIALS).split())
    try:
        return Address(name, addr_spec=addresses[0].addr_spec)
    except (ValueError, IndexError):  # an addr-spec only the lenient first parse accepted
        raise OutboxError(f"not one e-mail address: {value!r}") from None


def header_text(value: str, limit: int = SUBJECT_LIMIT) -> str:
    """`value` made safe for a mail header: decoded, one line, no control, at most `limit`."""
    if not isinstance(value, str):
        raise OutboxError("a header must be text")
    text = _one_line(value[:limit * _READ_FACTOR])
    # Decoded first, so what an encoded word hides is cleaned like the rest; text encoded
    # again inside an encoded word is unwrapped too, a few times over at most.
    for _round in range(_DECODE_ROUNDS):
        decoded = _one_line(_decode_words(text))
        if decoded == text:
            break
        text = decoded
    # Whatever still starts like an encoded word (malformed, nested deeper, or a form only some
    # readers decode) is broken up, so neither the email library nor a mail reader decodes it
    # into anything else. A reader sees "= ?" where the text had "=?".
    return _shorten(text.replace("=?", "= ?"), limit)


def _one_line(text: str) -> str:
    """Line breaks and controls as spaces, invisible format characters gone, spaces collapsed."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category not in ("Cf", "Cs") or char in _JOINERS:
            kept.append(char)
    return " ".join("".join(kept).split())


def _decode_words(text: str) -> str:
    """`text` with its RFC 2047 encoded words decoded; a word that does not decode stays."""
    parts = []
    end = 0
    after_word = False
    for match in _ENCODED_WORD.finditer(text):
        between = text[end:match.start()]
        decoded = _decode_word(*match.groups())
        if decoded is None:
            parts.append(text[end:match.end()])
            after_word = False
        else:
            # Space between two encoded words is not text (RFC 2047): a word split in two.
            if not (after_word and between.isspace()):
                parts.append(between)
            parts.append(decoded)
            after_word = True
        end = match.end()
    parts.append(text[end:])
    return "".join(parts)


def _decode_word(charset: str, encoding: str, data: str) -> str | None:
    """The text of one encoded word; None when its data is not valid Q or base64."""
    try:
        if encoding in "qQ":
            raw = binascii.a2b_qp(data, header=True)
        else:
            raw = binascii.a2b_base64(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return None
    codec = charset.partition("*")[0]  # RFC 2231 may add a language: "utf-8*ru"
    try:
        return raw.decode(codec, "replace")
    except Exception:  # unknown charset, or a codec that fails in its own way
        return raw.decode("utf-8", "replace")


def _shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, between words when one ends near."""
    if len(text) <= limit:
        return text
    cut = limit - 1
    space = text.rfind(" ", 0, cut + 1)
    if space > cut - _WORD_REACH:
        cut = space
    # A letter keeps its accents: never cut before a combining mark.
    while cut > 0 and unicodedata.combining(text[cut]):
        cut -= 1
    return text[:cut].rstrip() + "\u2026"
