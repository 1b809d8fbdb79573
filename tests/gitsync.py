"""Real git for tests of a shared knowledge base: a bare remote seeded with a site's
articles, and a technical writer's own clone that commits and pushes outside the portal.

    remote = seeded_remote(tmp_path / "remote.git", write_site(tmp_path / "seed"))
    writer = Writer(remote, tmp_path / "writer")
    writer.change("internet/net-interneta.md", text, "Fix a typo")
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

WRITER = ("Техписатель Ольга", "olga@example.com")


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run git in `cwd` (no user configuration, no prompt); its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", HOME=str(cwd),
               GIT_AUTHOR_NAME=WRITER[0], GIT_AUTHOR_EMAIL=WRITER[1],
               GIT_COMMITTER_NAME=WRITER[0], GIT_COMMITTER_EMAIL=WRITER[1])
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout


def seeded_remote(path: Path, site: Path) -> Path:
    """A bare repository whose branch "main" holds the files of `site` in one commit."""
    git(path.parent, "init", "--quiet", "--bare", "--initial-branch=main", str(path))
    work = path.parent / f"{path.name}-seed"
    shutil.copytree(site, work)
    git(work, "init", "--quiet", "--initial-branch=main")
    git(work, "add", "--all")
    git(work, "commit", "--quiet", "-m", "The knowledge base")
    git(work, "push", "--quiet", str(path), "main")
    shutil.rmtree(work)
    return path


def remote_log(remote: Path, *paths: str) -> list[tuple[str, str, str]]:
    """(author name, author e-mail, subject) of the remote's commits, newest first."""
    out = git(remote, "log", "--format=%an%x00%ae%x00%s", "main", "--", *paths)
    return [tuple(line.split("\0")) for line in out.splitlines()]  # type: ignore[misc]


def remote_file(remote: Path, path: str) -> str:
    """A file as the remote's branch has it."""
    return git(remote, "show", f"main:{path}")


class Writer:
    """Someone working on the articles in a clone of their own, outside the portal."""

    def __init__(self, remote: Path, path: Path) -> None:
        self.remote = remote
        self.path = path
        git(path.parent, "clone", "--quiet", str(remote), str(path))

    def change(self, rel: str, text: str, message: str) -> str:
        """Write a file, commit and push it; the new commit."""
        git(self.path, "pull", "--quiet", "--rebase")
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        git(self.path, "add", "--all")
        git(self.path, "commit", "--quiet", "-m", message)
        git(self.path, "push", "--quiet", "origin", "main")
        return git(self.path, "rev-parse", "HEAD").strip()


def push_hook(clone: Path, script: str) -> None:
    """Make `script` (Python) the pre-push hook of `clone`: it runs inside the portal's own
    push, after its fetch, as a remote that moves at the worst moment."""
    hook = clone / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/usr/bin/env python3\n" + script, encoding="utf-8")
    hook.chmod(0o755)
