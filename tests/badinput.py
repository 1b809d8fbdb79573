"""The shared lists of hostile input, and a check that rendered HTML is inert."""

from __future__ import annotations

import json
from html.parser import HTMLParser

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
