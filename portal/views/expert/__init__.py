"""The expert console (line 3): writing articles, working the gaps, the inbox, search terms
and analytics. One blueprint, one module per part; every page is for experts and admins."""

from __future__ import annotations

from flask import Blueprint

from ...web import auth

bp = Blueprint("expert", __name__, url_prefix="/expert")
auth.guard_blueprint(bp, auth.EXPERT_ROLES)

# The parts register their routes on `bp` when imported.
from . import analytics  # noqa: E402, F401
from . import editor  # noqa: E402, F401
from . import gaps  # noqa: E402, F401
from . import inbox  # noqa: E402, F401
from . import terms  # noqa: E402, F401
