"""Calls to the outside helpdesk: each event POSTed as signed JSON, redirects refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from .errors import DeliveryError
from .queue import Claim
from .settings import WebhookSettings


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: urllib would turn the POST into a GET without the body."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_webhook(settings: WebhookSettings, held: Claim, payload: dict) -> None:
    """POST the event of `payload`; raises when the helpdesk does not answer with a 2xx."""
    url = settings.url
    if not url:
        raise DeliveryError("WEBHOOK_URL is not set")
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError("WEBHOOK_URL must be an http or https URL")
    body = json.dumps({
        "event": payload["event"],
        "delivery": held.id,
        "created_at": held.created_at.isoformat(),
        "data": payload["body"],
    }, ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Line0-outbox",
        "X-Line0-Event": payload["event"],
        "X-Line0-Delivery": str(held.id),
    }
    if settings.secret:
        digest = hmac.new(settings.secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        headers["X-Line0-Signature"] = "sha256=" + digest
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        # urllib raises HTTPError for every answer outside 2xx (redirects included, above).
        with _OPENER.open(request, timeout=settings.timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        raise
