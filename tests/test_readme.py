"""The README a user's clone opens with: how to try it first, nothing outside the clone."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")


def test_the_first_commands_are_make_run_and_make_test():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands == ["make run", "make test"]
    # Near the top: before any deep section.
    assert README.index("make run") < README.index("## What it is") < README.index(
        "## Running in production")


def test_nothing_points_outside_the_clone():
    # A user's clone has no ../shared beside it.
    assert "../shared" not in README
    prose = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", README, flags=re.S))
    for target in re.findall(r"\]\(([^)#]+)\)", prose):
        assert target.startswith(("http://", "https://")) or (README_DIR / target).exists(), \
            target


def test_every_link_to_a_section_finds_its_heading():
    headings = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                for h in re.findall(r"^#{1,4} (.+)$", README, re.M)}
    for anchor in re.findall(r"\]\(#([^)]+)\)", README):
        assert anchor in headings, anchor


README_DIR = Path(__file__).resolve().parents[1]
