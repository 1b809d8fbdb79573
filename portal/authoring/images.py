"""Images in articles: an expert's upload checked, cleaned and stored beside the article.

An image of `articles/<category>/<slug>.md` lives in `articles/<category>/<slug>.assets/`,
so the file's Markdown (`![…](<slug>.assets/<name>)`) works in any Markdown viewer, and the
renderer turns such a link into the address the site serves it from. Only PNG, JPEG, GIF
and WebP are taken, recognised by their content, never by the name or the browser's word;
each is decoded and written again, so nothing but the picture survives (no metadata, no
trailing script of a polyglot file). SVG is refused: it is a document that can run script.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError

from ..articles.model import ASSET_PATH
from ..articles.model import is_valid_id

#: Content types of the formats taken, by file extension.
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif",
                 "webp": "image/webp"}
#: The largest upload taken when the caller names no limit.
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
#: More pixels than this is refused (a small file can unpack into gigabytes).
MAX_PIXELS = 40_000_000
#: More frames than this (an animation) is refused.
MAX_FRAMES = 300
ASSETS_SUFFIX = ".assets"

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
_PILLOW_FORMATS = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WEBP"}


class ImageRefused(ValueError):
    """An upload that is not taken; `code` says why: "empty", "too_large", "not_image"
    (SVG included), "polyglot", "broken", "too_many_pixels", "no_article"."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class StoredImage:
    """Where an image went: its path below `articles/`, and the Markdown link to it from
    its article's file."""

    path: str
    markdown_src: str


def sniff(data: bytes) -> str | None:
    """The format of `data` by its first bytes ("png", "jpg", "gif", "webp"), or None."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


#: Markup or archives inside an image file: a file that is a picture and also a page or a
#: program (a "polyglot") is refused whole, not cleaned.
_FOREIGN = re.compile(rb"<\s*(?:script|html|svg|body|iframe|object|embed|\?php|!doctype)"
                      rb"|javascript:", re.IGNORECASE)


def _content_end(data: bytes, kind: str) -> int | None:
    """Where the image's own bytes end by its format's rules, or None when unknown."""
    if kind == "png":
        found = data.rfind(b"IEND")
        return found + 8 if found >= 0 else None
    if kind == "jpg":
        found = data.rfind(b"\xff\xd9")
        return found + 2 if found >= 0 else None
    if kind == "webp":
        return 8 + int.from_bytes(data[4:8], "little")
    return None


def is_polyglot(data: bytes, kind: str) -> bool:
    """Whether the file carries more than a picture: markup or an archive inside it, or
    bytes after the image's end."""
    if _FOREIGN.search(data) or (kind == "gif" and b"PK\x03\x04" in data):
        return True
    end = _content_end(data, kind)
    return end is not None and len(data) - end > 16


def clean_image(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes, str]:
    """The picture in `data` written again as a fresh file of the same format, and its
    extension; raise `ImageRefused` for anything else."""
    if not data:
        raise ImageRefused("empty")
    if len(data) > max_bytes:
        raise ImageRefused("too_large")
    kind = sniff(data)
    if kind is None:
        raise ImageRefused("not_image")
    if is_polyglot(data, kind):
        raise ImageRefused("polyglot")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]]) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise ImageRefused("too_many_pixels")
                if getattr(image, "n_frames", 1) > MAX_FRAMES:
                    raise ImageRefused("too_many_pixels")
                return _written(image, kind), kind
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise ImageRefused("broken") from None


def _written(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    animated = getattr(image, "n_frames", 1) > 1 and kind in ("gif", "webp")
    if animated:
        image.save(out, format=_PILLOW_FORMATS[kind], save_all=True,
                   loop=image.info.get("loop", 0), duration=image.info.get("duration", 100))
        return out.getvalue()
    image.load()
    picture = ImageOps.exif_transpose(image) if kind == "jpg" else image
    if kind == "jpg":
        picture = picture.convert("RGB") if picture.mode not in ("RGB", "L") else picture
        picture.save(out, format="JPEG", quality=90)
    elif kind == "webp":
        picture.save(out, format="WEBP", quality=90)
    else:
        picture.save(out, format=_PILLOW_FORMATS[kind])
    return out.getvalue()


def assets_dir(root: Path, article_id: str) -> Path:
    """The folder of an article's images."""
    return root / f"{article_id}{ASSETS_SUFFIX}"


def store_image(root: Path, article_id: str, data: bytes,
                max_bytes: int = DEFAULT_MAX_BYTES) -> StoredImage:
    """Clean `data` and store it beside the article `article_id` (which need not exist
    yet: a new article's images come before its first save), named by its content."""
    if not is_valid_id(article_id) or "/" not in article_id:
        raise ImageRefused("no_article")
    cleaned, kind = clean_image(data, max_bytes)
    name = f"{hashlib.sha256(cleaned).hexdigest()[:24]}.{kind}"
    folder = assets_dir(root, article_id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        handle, temporary = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(cleaned)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    slug = article_id.rsplit("/", 1)[1]
    return StoredImage(path=f"{article_id}{ASSETS_SUFFIX}/{name}",
                       markdown_src=f"{slug}{ASSETS_SUFFIX}/{name}")


def find_image(root: Path, asset: str) -> tuple[Path, str, str] | None:
    """A stored image by its path below `articles/`: the file, its content type and the
    article it belongs to; None for any other path or a missing file."""
    match = ASSET_PATH.fullmatch(asset)
    if match is None:
        return None
    path = root / asset
    if not path.is_file() or path.is_symlink():
        return None
    extension = match.group("name").rsplit(".", 1)[1]
    return path, CONTENT_TYPES[extension], match.group("article")


def relink(text: str, old_id: str, new_id: str) -> str:
    """An article's text with its links to its own images following it to `new_id`."""
    old_slug, new_slug = old_id.rsplit("/", 1)[-1], new_id.rsplit("/", 1)[-1]
    if old_slug == new_slug:
        return text
    return re.sub(rf"(\]\(\s*<?){re.escape(old_slug)}{re.escape(ASSETS_SUFFIX)}/",
                  lambda m: f"{m.group(1)}{new_slug}{ASSETS_SUFFIX}/", text)


def move_assets(root: Path, old_id: str, new_id: str) -> bool:
    """Move an article's images along with it; False when there were none to move or the
    new place already has a folder of images (then both stay as they are)."""
    old, new = assets_dir(root, old_id), assets_dir(root, new_id)
    if not old.is_dir() or new.exists():
        return False
    new.parent.mkdir(parents=True, exist_ok=True)
    os.replace(old, new)
    return True
