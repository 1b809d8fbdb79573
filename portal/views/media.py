"""Images stored beside articles, served to whoever may read the article they belong to."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import send_file
from flask_login import current_user

from ..authoring import images
from ..web.auth import TICKET_ROLES
from ..web.knowledge import current_index

bp = Blueprint("media", __name__, url_prefix="/media")


@bp.get("/<path:asset>")
def image(asset: str):
    """One image: a public published article's to everyone; any other article's (a draft,
    an internal one, a new one not saved yet) to staff only."""
    index = current_index()
    found = images.find_image(index.articles_dir, asset) if len(asset) <= 300 else None
    if found is None:
        abort(404)
    path, content_type, article_id = found
    info = index.catalog().get(article_id)
    staff = current_user.is_authenticated and current_user.role in TICKET_ROLES
    if not staff and (info is None or not info.is_public):
        abort(404)
    response = send_file(path, mimetype=content_type, conditional=True, max_age=3600,
                         etag=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if not staff:
        response.headers["Cache-Control"] = "public, max-age=3600"
    return response
