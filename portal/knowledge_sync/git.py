"""git's own command line, run without a shell, with a time limit and never asking for a
password: the few commands a shared articles folder needs.

Nothing here knows articles or the database; it runs git in one working tree and turns
its failures into `GitError` (and `RemoteUnreachable` when the remote did not answer).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from typing import overload

#: Seconds a local git command may take; network commands get `NETWORK_SECONDS`.
LOCAL_SECONDS = 30.0
NETWORK_SECONDS = 20.0
#: The committer of every commit the portal makes (the author is the expert).
COMMITTER = ("Line 0 portal", "line0@localhost")
#: Files of the portal's own in the folder that are never committed.
IGNORED = (".line0-*", ".*.tmp")

_FORBIDDEN_IN_IDENTITY = str.maketrans({"<": None, ">": None, "\n": " ", "\r": " ",
                                        "\x00": None})


class GitError(RuntimeError):
    """A git command failed; `output` is what it said."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class RemoteUnreachable(GitError):
    """The remote did not answer (down, wrong address, refused, too slow)."""


class PushRejected(GitError):
    """The remote moved on since our last fetch: pull first, then push again."""


@dataclass(frozen=True)
class Identity:
    """Who a commit is by: a name and an e-mail address, made safe for git."""

    name: str
    email: str

    @staticmethod
    def of(name: str | None, email: str | None) -> Identity:
        clean_name = " ".join((name or "").translate(_FORBIDDEN_IN_IDENTITY).split())
        clean_email = "".join((email or "").translate(_FORBIDDEN_IN_IDENTITY).split())
        return Identity(clean_name[:200] or COMMITTER[0], clean_email[:320] or COMMITTER[1])


class Git:
    """git commands in the working tree `root`, talking to the remote named "origin"."""

    def __init__(self, root: Path, branch: str = "main") -> None:
        self.root = Path(root)
        self.branch = branch

    # --- running ------------------------------------------------------------------------

    @staticmethod
    def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of every git command: no prompt, no pager, no user config that
        could change what a command does, the portal as committer."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
        env.update({
            "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "SSH_ASKPASS": "true",
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=10",
            "GIT_PAGER": "cat", "GIT_EDITOR": "true", "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_COMMITTER_NAME": COMMITTER[0], "GIT_COMMITTER_EMAIL": COMMITTER[1],
            "LC_ALL": "C",
        })
        env.update(extra or {})
        return env

    @overload
    def run(self, *args: str, check: bool = True, timeout: float = LOCAL_SECONDS,
            env: Mapping[str, str] | None = None, cwd: Path | None = None,
            stdin: str | None = None, stderr_ok: Literal[False] = False) -> str: ...

    @overload
    def run(self, *args: str, check: bool = True, timeout: float = LOCAL_SECONDS,
            env: Mapping[str, str] | None = None, cwd: Path | None = None,
            stdin: str | None = None, stderr_ok: Literal[True]) -> str | None: ...

    def run(self, *args: str, check: bool = True, timeout: float = LOCAL_SECONDS,
            env: Mapping[str, str] | None = None, cwd: Path | None = None,
            stdin: str | None = None, stderr_ok: bool = False) -> str | None:
        """Run `git args…`; its standard output, or `GitError` when it fails (with
        `stderr_ok`, None instead)."""
        done = self._run(args, timeout, env, cwd, stdin)
        if stderr_ok and done.returncode != 0:
            return None
        if check and done.returncode != 0:
            raise GitError(f"git {args[0]} failed: {_last_line(done.stderr)}",
                           done.stdout + done.stderr)
        return done.stdout

    def succeeds(self, *args: str) -> bool:
        """Whether `git args…` exits with status 0 (a question, not a change)."""
        return self._run(args, LOCAL_SECONDS, None, None, None).returncode == 0

    def _run(self, args: Sequence[str], timeout: float, env: Mapping[str, str] | None,
             cwd: Path | None, stdin: str | None) -> subprocess.CompletedProcess[str]:
        command = ["git", "-c", "core.quotePath=false", "-c", "advice.detachedHead=false",
                   *args]
        try:
            return subprocess.run(command, cwd=cwd or self.root, env=self.environment(env),
                                  capture_output=True, text=True, timeout=timeout,
                                  input=stdin, check=False,
                                  stdin=subprocess.DEVNULL if stdin is None else None)
        except subprocess.TimeoutExpired:
            raise RemoteUnreachable(f"git {args[0]} took longer than {timeout:.0f} s") \
                from None
        except FileNotFoundError:
            raise GitError("git is not installed") from None

    # --- the working tree --------------------------------------------------------------

    @classmethod
    def clone(cls, remote: str, root: Path, branch: str) -> Git:
        """Clone `remote` into `root` (which must not exist yet, or be empty)."""
        root.parent.mkdir(parents=True, exist_ok=True)
        git = cls(root, branch)
        try:
            git.run("clone", "--quiet", "--no-checkout", "--origin", "origin", "--", remote,
                    str(root), cwd=root.parent, timeout=10 * NETWORK_SECONDS)
        except GitError as error:
            raise RemoteUnreachable(f"could not clone {remote}: {error}", error.output) \
                from None
        git.prepare()
        if git.remote_head() is not None:
            git.run("checkout", "--quiet", "-B", branch, f"origin/{branch}")
        else:  # an empty remote, or one without our branch yet: start the branch here
            git.run("checkout", "--quiet", "--orphan", branch)
        return git

    def prepare(self) -> None:
        """Settings of our own that a save relies on, and the portal's files left out."""
        self.run("config", "core.autocrlf", "false")
        self.run("config", "pull.rebase", "true")
        exclude = self.root / ".git" / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        known = exclude.read_text("utf-8").splitlines() if exclude.exists() else []
        missing = [pattern for pattern in IGNORED if pattern not in known]
        if missing:
            with exclude.open("a", encoding="utf-8") as handle:
                handle.write("".join(f"{pattern}\n" for pattern in missing))

    def is_repository(self) -> bool:
        return (self.root / ".git").is_dir()

    def head(self) -> str | None:
        """The commit the branch is at, or None before its first commit."""
        found = self.run("rev-parse", "--verify", "--quiet", "HEAD", check=False).strip()
        return found or None

    def remote_head(self) -> str | None:
        """Where the remote's branch was at our last fetch (None: it has no such branch)."""
        found = self.run("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{self.branch}",
                         check=False).strip()
        return found or None

    def contains(self, sha: str) -> bool:
        """Whether the branch holds commit `sha` already."""
        return self.succeeds("merge-base", "--is-ancestor", sha, "HEAD")

    def unpushed(self) -> list[str]:
        """Our commits the remote does not have, oldest first (one git call)."""
        out = self.run("rev-list", "--reverse", f"refs/remotes/origin/{self.branch}..HEAD",
                       check=False, stderr_ok=True)
        if out is not None:
            return out.split()
        if self.head() is None:
            return []
        return self.run("rev-list", "--reverse", "HEAD").split()  # the remote has no branch

    def dirty(self) -> list[str]:
        """Paths (relative, POSIX) that differ from the last commit, untracked ones too."""
        out = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all")
        paths: list[str] = []
        entries = out.split("\0")
        skip = False
        for entry in entries:
            if skip:  # the old name of a rename, after its new one
                skip = False
                continue
            if len(entry) < 4:
                continue
            status, path = entry[:2], entry[3:]
            paths.append(path)
            skip = "R" in status or "C" in status
        return paths

    def changed_between(self, old: str | None, new: str) -> list[str]:
        """Every path added, changed or removed from commit `old` to `new` (renames as both
        paths); with `old` None, every path of `new`."""
        if old is None:
            return self.run("ls-tree", "-r", "--name-only", "-z", new).split("\0")[:-1]
        return self.run("diff", "--name-only", "--no-renames", "-z", old, new).split(
            "\0")[:-1]

    def commit(self, paths: Sequence[str], author: Identity, message: str) -> bool:
        """Commit what changed at `paths` (additions and removals) as `author`; False when
        nothing there changed."""
        self.run("add", "--all", "--", *paths)
        done = self._run(("commit", "--quiet", "--no-verify", "--file=-", "--", *paths),
                         LOCAL_SECONDS, {"GIT_AUTHOR_NAME": author.name,
                                         "GIT_AUTHOR_EMAIL": author.email}, None, message)
        if done.returncode == 0:
            return True
        if "nothing to commit" in done.stdout + done.stderr or "no changes added" in (
                done.stdout + done.stderr):
            return False
        raise GitError(f"git commit failed: {_last_line(done.stderr or done.stdout)}",
                       done.stdout + done.stderr)

    # --- the remote ----------------------------------------------------------------------

    def fetch(self) -> str | None:
        """Bring the remote's branch; where it is now (None: the remote has no branch yet)."""
        try:
            self.run("fetch", "--quiet", "--no-tags", "origin",
                     f"+refs/heads/{self.branch}:refs/remotes/origin/{self.branch}",
                     timeout=NETWORK_SECONDS)
        except RemoteUnreachable:
            raise
        except GitError as error:
            if "couldn't find remote ref" in error.output.lower():
                return None
            raise RemoteUnreachable(str(error), error.output) from None
        return self.remote_head()

    def fast_forward(self) -> None:
        """Move the branch and the files to the remote's branch (no commits of our own)."""
        done = self._run(("merge", "--quiet", "--ff-only", f"refs/remotes/origin/{self.branch}"),
                         LOCAL_SECONDS, None, None, None)
        if done.returncode != 0 and self.remote_head() is not None:
            raise GitError(f"git merge failed: {_last_line(done.stderr)}", done.stderr)

    def rebase(self) -> bool:
        """Replay our unpushed commits on the remote's branch; False (and nothing changed)
        when they clash with it."""
        upstream = self.remote_head()
        if upstream is None:
            return True
        try:
            self.run("rebase", "--quiet", upstream)
        except GitError:
            self.run("rebase", "--abort", check=False)
            return False
        return True

    def reset_to_remote(self) -> None:
        """Give up our unpushed commits: the branch and the files as the remote has them."""
        upstream = self.remote_head()
        if upstream is not None:
            self.run("reset", "--quiet", "--hard", upstream)

    def push(self) -> None:
        """Send the branch; `PushRejected` when the remote moved on meanwhile."""
        try:
            self.run("push", "--quiet", "--porcelain", "origin",
                     f"HEAD:refs/heads/{self.branch}", timeout=NETWORK_SECONDS)
        except RemoteUnreachable:
            raise
        except GitError as error:
            # The remote answered and refused the ref ("!" in porcelain output): it moved
            # on since our fetch ([rejected]), or while we pushed ([remote rejected],
            # "cannot lock ref"). Anything else: it did not answer.
            if any(line.startswith("!") for line in error.output.splitlines()):
                raise PushRejected(str(error), error.output) from None
            raise RemoteUnreachable(str(error), error.output) from None

    def log_line(self, sha: str) -> tuple[str, str]:
        """(author name, subject) of a commit."""
        out = self.run("log", "-1", "--format=%an%x00%s", sha).rstrip("\n")
        name, _, subject = out.partition("\0")
        return name, subject


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
