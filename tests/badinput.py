"""The shared lists of hostile input, packed into texts that fit a field, and checks that
rendered HTML is inert (a staff page: only our own elements, and the texts shown as text)."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from portal.views.forms import clean_text

from .conftest import shared_path


def naughty_strings() -> list[str]:
    """Every line of the Big List of Naughty Strings (skips the test when it is absent)."""
    data = json.loads(shared_path("badinput", "blns", "blns.json").read_text("utf-8"))
    return [s for s in data if isinstance(s, str)]


def xss_payloads() -> list[str]:
    """HTML and Markdown XSS payloads from every shared list."""
    root = shared_path("badinput")
    payloads: list[str] = []
    for case in json.loads((root / "markdown-it-xss" / "xss_cases.json").read_text("utf-8")):
        payloads.append(case["markdown"])
    for case in json.loads((root / "dompurify" / "dompurify_payloads.json").read_text("utf-8")):
        payloads.append(case["payload"])
    payloads += (root / "markdown-it-xss" / "xss.txt").read_text("utf-8").split("\n\n")
    for path in sorted((root / "payloadsallthethings-xss" / "Intruders").glob("*.txt")):
        payloads += path.read_text("utf-8", errors="replace").splitlines()
    return [p for p in payloads if p.strip()]


def pack(payloads: list[str], limit: int, sep: str) -> list[tuple[str, int]]:
    """The payloads joined by `sep` into texts of at most `limit` characters, in order (a
    longer payload is cut to the limit); each text with the number of payloads in it."""
    texts: list[tuple[str, int]] = []
    current, count = "", 0
    for payload in payloads:
        payload = payload[:limit]
        if current and len(current) + len(sep) + len(payload) > limit:
            texts.append((current, count))
            current, count = "", 0
        current = f"{current}{sep}{payload}" if current else payload
        count += 1
    texts.append((current, count))
    return [(text, count) for text, count in texts if clean_text(text)]


DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "background",
                  "poster", "data"}


class _Inspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "style", "svg", "math", "form",
                   "base", "meta", "link", "frame", "frameset"):
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}= handler on <{tag}>")
            if name == "style":
                self.problems.append(f"style= on <{tag}>")
            if name in URL_ATTRIBUTES and value:
                compact = "".join(c for c in value.lower() if c > " ")
                if compact.startswith(DANGEROUS_SCHEMES):
                    self.problems.append(f"{name}={value[:40]!r} on <{tag}>")

    handle_startendtag = handle_starttag


def unsafe_parts(html: str) -> list[str]:
    """What in `html` could run script: elements, handlers, script or data URLs."""
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


class Page(HTMLParser):
    """A staff page taken apart: its elements and what is wrong with them, and its text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.problems: list[str] = []
        self.chunks: list[str] = []
        self.values: dict[str, str] = {}  # the value of each <input> with an id
        self._in_head = False
        self._in_script = False
        self.feed(html)
        self.close()
        self.text = "".join(self.chunks)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        values = dict(attrs)
        if tag == "input" and values.get("id"):
            self.values[values["id"]] = values.get("value") or ""
        if tag == "head":
            self._in_head = True
        elif tag == "body":
            self._in_head = False
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.problems.append(f"{name}= on <{tag}>")
            if name in URL_ATTRIBUTES and value:
                compact = "".join(c for c in value.lower() if c > " ")
                if compact.startswith(DANGEROUS_SCHEMES):
                    self.problems.append(f"{name}={value[:40]!r} on <{tag}>")
        if tag == "script":
            self._in_script = True
            if not (values.get("src") or "").startswith("/static/js/"):
                self.problems.append(f"<script> not from our files: {attrs!r:.80}")
        if tag in ("meta", "link", "title") and not self._in_head:
            self.problems.append(f"<{tag}> outside <head>")
        if tag == "form":
            action = values.get("action") or ""
            if not action.startswith("/") or action.startswith("//"):
                self.problems.append(f"<form action={action[:40]!r}>")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._in_script = False

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        elif tag == "head":
            self._in_head = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline script {data.strip()[:60]!r}")
        self.chunks.append(data)


def check_page(client, url: str, own_tags: set[str], shown: list[str] = ()) -> Page:
    """The page at `url` answers, has only our own kinds of elements, none of them unsafe,
    and shows every text of `shown` as text."""
    response = client.get(url)
    assert response.status_code == 200, (url[:120], response.status_code)
    page = Page(response.get_data(as_text=True))
    assert page.problems == [], (url[:120], page.problems[:5])
    assert page.tags <= own_tags, (url[:120], page.tags - own_tags)
    missing = [text[:80] for text in shown if text and text not in page.text]
    assert missing == [], (url[:120], missing[:3])
    return page
