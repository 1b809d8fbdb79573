"""Lists re-indented from CommonMark's rules to Python-Markdown's."""

from __future__ import annotations

import re
from dataclasses import dataclass

LIST_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])([ \t]+|$)(.*)$")
THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?: *\1){2,} *$")
FENCE_OPEN = re.compile(r"^( *)(`{3,}|~{3,})\s*([^`\s{]*)[^`]*$")


@dataclass
class _Item:
    marker: int  # the source's indentation of the marker
    content: int  # the source's column of the item's content
    new_content: int  # the column we give it: a multiple of 4
    admonition: bool = False


def normalise_lists(text: str) -> str:
    """Re-indent list items for Python-Markdown.

    Python-Markdown nests under a list item only what is indented by 4 spaces per level,
    needs a blank line between a paragraph and a list, and sees fenced code only at the top
    level. CommonMark sources indent by the marker's width (2-3 spaces) and fence code
    inside list items and notes: re-indent, and make such fences indented code blocks
    (with a `:::lang` first line, which the highlighter understands).
    """
    lines = [_expand_indent(line) for line in text.split("\n")]
    out: list[str] = []
    stack: list[_Item] = []
    prev = "blank"  # what the previous line was: blank, item, text or block
    prev_shift = 0
    last_code = (-1, -1)  # indentation and last line of the code block we made last
    admonitions: list[int] = []  # indentation of the admonitions still open
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            if last_code[1] == len(out) - 1 and out and not out[-1]:
                continue  # keep "blank line after our code block" detectable
            out.append("")
            prev = "blank"
            continue
        indent = len(line) - len(line.lstrip(" "))
        item = LIST_ITEM.match(line)
        if item and not THEMATIC_BREAK.match(line):
            popped, pops = None, 0
            while stack and indent < stack[-1].content:
                popped, pops = stack.pop(), pops + 1
            if (pops > 1 or popped is not None and prev in ("text", "block")) and out \
                    and out[-1].strip():
                out.append("")  # else the text or nested list before swallows this item
            _close_admonition(admonitions, new_marker := stack[-1].new_content if stack else 0)
            marker, spaces, rest = item.group(2), item.group(3), item.group(4)
            spaces = (" " * indent + marker + spaces).expandtabs(4)[indent + len(marker):]
            width = len(marker) + (len(spaces) if rest and len(spaces) <= 4 else 1)
            first = marker in "-*+" or marker[:-1] == "1"
            if prev == "text" and popped is None and first:
                out.append("")  # a list does not interrupt a paragraph in Python-Markdown
            if marker.endswith(")"):
                marker = marker[:-1] + "."
            stack.append(_Item(indent, indent + width, new_marker + 4))
            out.append(" " * new_marker + f"{marker} {rest}".rstrip())
            prev, prev_shift = "item", new_marker - indent
            continue
        fence = FENCE_OPEN.match(line)
        interrupts = fence or re.match(r" *(#|>|!!! |<)", line)
        lazy = prev in ("text", "item") and stack and indent < stack[-1].content \
            and not interrupts
        if lazy:
            new_indent = max(indent + prev_shift, 0)
        else:
            popped = None
            while stack and indent < stack[-1].content:
                popped = stack.pop()
            base, new_base = (stack[-1].content, stack[-1].new_content) if stack else (0, 0)
            new_indent = new_base  # 1-3 spaces more than the container's mean nothing
            if fence and popped is not None and not popped.admonition and stack \
                    and prev == "blank":
                # code after a nested list: Python-Markdown cannot put it in the outer
                # item (its indentation would be the inner item's), so it joins the inner
                new_indent = popped.new_content
            if indent - base >= 4 and prev == "blank":
                # an indented code block: copy it, shifted with its container
                _separate_from_admonition(out, admonitions, new_base)
                out.append(" " * new_indent + line.lstrip(" "))
                while i < len(lines) and (not lines[i].strip() or
                                          len(lines[i]) - len(lines[i].lstrip(" ")) >= base + 4):
                    out.append(" " * (new_base - base) + lines[i] if lines[i].strip() else "")
                    i += 1
                prev = "block"
                continue
        if fence and not lazy:
            char, length = fence.group(2)[0], len(fence.group(2))
            block = []
            while i < len(lines):
                close = re.match(r"^ *(`{3,}|~{3,})\s*$", lines[i])
                i += 1
                if close and close.group(1)[0] == char and len(close.group(1)) >= length:
                    break
                block.append(lines[i - 1])
            block = [b[min(indent, len(b) - len(b.lstrip(" "))):] for b in block]
            if new_indent == 0 or (not stack and indent < 4):
                out.append(line.lstrip(" "))
                out.extend(block)
                out.append(char * length)
                prev = "block"
                continue
            pad = " " * (new_indent + 4)
            if out and out[-1].strip():
                out.append("")
            _separate_from_admonition(out, admonitions, new_indent)
            # an indented block right after another would continue it: one block then
            follows = last_code == (len(pad), len(out) - 1) if out else False
            if fence.group(3) and not follows:
                out.append(f"{pad}:::{fence.group(3)}")
            out.extend(pad + b if b.strip() else "" for b in block)
            out.append("")
            last_code = (len(pad), len(out) - 1)
            prev = "blank"
            continue
        _close_admonition(admonitions, new_indent)
        out.append(" " * new_indent + line.lstrip(" "))
        prev_shift = new_indent - indent
        stripped = line.lstrip(" ")
        if stripped.startswith("!!! "):
            stack.append(_Item(indent, indent + 4, new_indent + 4, admonition=True))
            admonitions.append(new_indent)
            prev = "item"
        else:
            prev = "block" if stripped.startswith(("#", "<", "|")) else "text"
    return "\n".join(out)


def _close_admonition(admonitions: list[int], indent: int) -> None:
    """A line at `indent` ends the admonitions opened at that indentation or deeper."""
    while admonitions and admonitions[-1] >= indent:
        admonitions.pop()


def _separate_from_admonition(out: list[str], admonitions: list[int], indent: int) -> None:
    """Python-Markdown takes an indented block right after an admonition for part of it:
    an (invisible) comment at the container's indentation ends the admonition first."""
    if admonitions and admonitions[-1] == indent:
        out.extend([" " * indent + "<!-- -->", ""])
        admonitions.pop()


def _expand_indent(line: str) -> str:
    if "\t" not in line:
        return line
    body = line.lstrip(" \t")
    return line[: len(line) - len(body)].expandtabs(4) + body
