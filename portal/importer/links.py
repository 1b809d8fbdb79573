"""Which imported article a link points to, and the links of a body rewritten to match.

A relative link or a Hugo `ref` to another imported file becomes a relative link to that
article's file (`../billing/b.md`), which the site resolves when it renders the page
(`articles.render`); a link to an anchor of the same page follows the heading's new anchor.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

from .fences import split_fences
from .sources import SUFFIXES
from .sources import Doc


class Links:
    """The imported files, looked up by their path relative to SRC (any case)."""

    def __init__(self, src_name: str, docs: list[Doc]):
        self.src_name = src_name
        self.by_lower = {d.rel.lower(): d for d in docs}
        #: every ending of every path (`b/c`, `c` for `a/b/c.md`; folders for `_index.md`)
        self.tails: dict[str, list[Doc]] = {}
        for rel, doc in self.by_lower.items():
            stem = rel.rsplit(".", 1)[0]
            forms = {stem, stem.removesuffix("/_index"), stem.removesuffix("/index")}
            for form in forms:
                parts = form.split("/")
                for k in range(len(parts)):
                    self.tails.setdefault("/".join(parts[k:]), []).append(doc)


class Resolver:
    """Finds which imported article a link in `doc` points to."""

    def __init__(self, doc: Doc, links: Links):
        self.doc = doc
        self.src_name = links.src_name
        self.by_lower = links.by_lower
        self.tails = links.tails

    def _lookup(self, rel: str) -> Doc | None:
        rel = rel.strip("/")
        candidates = [rel] if rel.lower().endswith(SUFFIXES) else [
            rel + ".md", rel + ".markdown", rel + "/_index.md", rel + "/index.md",
            rel + "/readme.md"]
        for candidate in candidates:
            found = self.by_lower.get(candidate.lower())
            if found is not None:
                return found
        return None

    def link(self, target: str) -> str | None:
        """`/kb/<id>#anchor` for a relative link to an imported file, else None."""
        url, _, anchor = target.partition("#")
        url = unquote(url).replace("\\", "/")
        if not url or re.match(r"[a-z][\w+.-]*:", url, re.I) or url.startswith("//"):
            return None
        here = self.doc.rel.rsplit("/", 1)[0] if "/" in self.doc.rel else ""
        if url.startswith("/"):
            parts = url.strip("/").split("/", 1)
            if parts[0] != self.src_name or len(parts) == 1:
                # a site-absolute address: the imported file whose path ends the same way
                found = self._by_tail(url, 2)
                return self._to(found, anchor) if found is not None else None
            rel = parts[1]
        else:
            rel = _join(here, url)
            if rel is None:
                return None
        found = self._lookup(rel)
        if found is None:
            return None
        return self._to(found, anchor)

    def _to(self, target: Doc, anchor: str = "") -> str:
        """A link from this article's file to `target`'s, as a docs-as-code repository
        writes it (`../billing/b.md#cause`); the site resolves it when it renders, so the
        file reads right in git too and no page address is written into it."""
        here = posixpath.dirname(self.doc.article_id)
        path = posixpath.relpath(f"{target.article_id}.md", here or ".")
        return path + (f"#{anchor}" if anchor else "")

    def ref(self, target: str) -> str | None:
        """Resolve a Hugo `ref`: a content path, absolute or relative, with its extension
        or not; searched near the current page first (same language folder)."""
        url, _, anchor = target.partition("#")
        url = unquote(url).strip()
        if not url:
            return f"#{anchor}" if anchor else None
        if not url.startswith("/"):
            here = self.doc.rel.rsplit("/", 1)[0] if "/" in self.doc.rel else ""
            rel = _join(here, url)
            found = self._lookup(rel) if rel is not None else None
            if found is not None:
                return self._to(found, anchor)
        best = self._by_tail(url, 0)
        return self._to(best, anchor) if best is not None else None

    def _by_tail(self, url: str, segments: int) -> Doc | None:
        """The file whose path ends with the last `segments` parts of `url` (all when 0),
        nearest to the current file; a folder stands for its `_index`/`index` page."""
        wanted = url.strip("/").lower()
        for suffix in SUFFIXES:
            wanted = wanted.removesuffix(suffix)
        if segments:
            wanted = "/".join(wanted.split("/")[-segments:])
        if not wanted:
            return None
        here = self.doc.rel.lower()
        candidates = self.tails.get(wanted, [])
        return max(candidates, key=lambda d: _common_prefix(d.rel.lower(), here), default=None)


def _join(here: str, url: str) -> str | None:
    parts = [p for p in here.split("/") if p]
    for part in url.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split("/"), b.split("/"), strict=False):
        if x != y:
            break
        n += 1
    return n


INLINE_LINK = re.compile(r"(\]\()\s*(<[^>\n]*>|[^)\s]*)((?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\))")
REF_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*\{\{[<%]\s*(?:rel)?ref\s+"
                      r"(?:\"([^\"]*)\"|'([^']*)'|([^\s>%]+))\s*[>%]\}\}\s*\)")
BARE_REF = re.compile(r"\{\{[<%]\s*(?:rel)?ref\s+(?:\"([^\"]*)\"|'([^']*)'|([^\s>%]+))\s*"
                      r"[>%]\}\}")
DEFINITION = re.compile(r"^( {0,3}\[[^\]]+\]:\s*)(\S+)(.*)$", re.M)


def resolve_links(body: str, resolver: Resolver | None) -> str:
    """Point links at the imported articles; reduce Hugo refs we cannot resolve to text."""
    anchors = resolver.doc.anchors if resolver is not None else {}
    chunks = []
    for is_code, chunk in split_fences(body):
        if is_code:
            chunks.append(chunk)
            continue
        if "ref" in chunk and "{{" in chunk:
            def ref_link(match: re.Match) -> str:
                target = next(g for g in match.group(2, 3, 4) if g is not None)
                url = resolver.ref(target) if resolver is not None else None
                return f"[{match.group(1)}]({url})" if url else match.group(1)

            def bare_ref(match: re.Match) -> str:
                target = next(g for g in match.group(1, 2, 3) if g is not None)
                url = resolver.ref(target) if resolver is not None else None
                return url or "#"

            chunk = REF_LINK.sub(ref_link, chunk)
            chunk = BARE_REF.sub(bare_ref, chunk)
        if resolver is not None:
            def inline(match: re.Match) -> str:
                target = match.group(2).strip("<>")
                if target.startswith("#"):
                    new = anchors.get(target[1:])
                    return f"{match.group(1)}#{new}{match.group(3)}" if new else match.group(0)
                url = resolver.link(target)
                return f"{match.group(1)}{url}{match.group(3)}" if url else match.group(0)

            def definition(match: re.Match) -> str:
                url = resolver.link(match.group(2).strip("<>"))
                return f"{match.group(1)}{url}{match.group(3)}" if url else match.group(0)

            chunk = INLINE_LINK.sub(inline, chunk)
            chunk = DEFINITION.sub(definition, chunk)
        chunks.append(chunk)
    return "\n".join(chunks)
