"""Start-up: how long `make run` takes from the command until the server answers, on the
Russian corpus (~3,000 articles), the first time and again with nothing changed.

    make bench-startup
    .venv/bin/python benchmarks/startup.py --articles /tmp/ru-articles   # keep the import
    .venv/bin/python benchmarks/startup.py --code /tmp/old-checkout       # other code

Each step of `make run` is timed as a separate command (`portal db upgrade`, `portal
articles check`, `portal index build`, `portal users list`, then `portal serve` with 2
workers until `/` and a search answer). Runs: the first start (empty database, no index),
a restart with nothing changed (median of `--restarts`), then a restart after one article
changed, which must find the changed text.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "ru-alchemyinsights" / "AlchemyInsights"
BIN = Path(sys.executable).parent
STEPS = (["db", "upgrade"], ["articles", "check"], ["index", "build"], ["users", "list"])
#: A word no article of the corpus has, written into one article between runs.
NEW_WORD = "зеленоглазка"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status_of(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def environment(articles: Path, work: Path, port: int, code: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PORTAL_") and k != "DATABASE_URL"}
    env.update({"PORTAL_ARTICLES_DIR": str(articles), "PORTAL_INDEX_DIR": str(work / "index"),
                "DATABASE_URL": f"sqlite:///{work / 'portal.sqlite3'}",
                "PORTAL_SECRET_KEY": "startup-benchmark",
                "PORTAL_BASE_URL": f"http://127.0.0.1:{port}"})
    # A deployment keeps compiled bytecode; without it every command compiles its imports.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return env


def start(articles: Path, work: Path, code: Path | None, search: str,
          one_process: bool) -> dict[str, float]:
    """One `make run`: seconds per step, until the first page, and until the first search."""
    port = free_port()
    env = environment(articles, work, port, code)
    spent: dict[str, float] = {}
    began = time.monotonic()
    for step in () if one_process else STEPS:
        started = time.monotonic()
        subprocess.run([str(BIN / "portal"), *step], env=env, cwd=work,
                       capture_output=True)  # check may exit 1 on problems, as in make run
        spent[" ".join(step)] = time.monotonic() - started
    started = time.monotonic()
    log = (work / "serve.log").open("ab")
    server = subprocess.Popen([str(BIN / "portal"), "serve", "--bind", f"127.0.0.1:{port}",
                               "--workers", "2", "--access-log", "off",
                               *(["--prepare"] if one_process else [])],
                              env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    try:
        path = "/search?q=" + urllib.parse.quote(search)
        for name, url in (("serve: first page", "/"), ("serve: first search", path)):
            while True:
                if server.poll() is not None:
                    raise RuntimeError((work / "serve.log").read_text()[-3000:])
                try:
                    status, page = status_of(port, url)
                    if status == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.05)
            spent[name] = time.monotonic() - started
        spent["make run, until a search answers"] = time.monotonic() - began
        spent["found"] = float('<h2><a href="/kb/' in page)  # a result, not "nothing found"
        # Both workers warm: a few more searches, each of which may reach either worker.
        later = []
        for number in range(10):
            t = time.monotonic()
            status_of(port, "/search?q=" + urllib.parse.quote(f"{search} {number}"))
            later.append(time.monotonic() - t)
        spent["serve: next 10 searches, slowest"] = max(later)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        log.close()
    return spent


def import_corpus(target: Path, code: Path | None) -> None:
    env = environment(target, target.parent, 0, code)
    subprocess.run([str(BIN / "portal"), "articles", "import", str(CORPUS), "--lang", "ru",
                    "--category", "office"], env=env, cwd=target.parent, check=True,
                   capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path,
                        help="the articles folder (made by importing the corpus when missing)")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--code", type=Path, help="run the portal from this source tree")
    parser.add_argument("--separate-steps", action="store_true",
                        help="run make run's steps as separate commands, as it did before "
                             "'serve --prepare' (which older code lacks)")
    args = parser.parse_args()
    one = not args.separate_steps
    with tempfile.TemporaryDirectory(prefix="line0-startup-") as tmp:
        work = Path(tmp)
        source = args.articles or work / "imported" / "articles"
        if not source.is_dir() or not any(source.rglob("*.md")):
            if not CORPUS.is_dir():
                sys.exit(f"no corpus at {CORPUS}: give --articles")
            source.mkdir(parents=True, exist_ok=True)
            print(f"importing {CORPUS} into {source} ...", flush=True)
            import_corpus(source, args.code)
        articles = work / "site" / "articles"
        shutil.copytree(source, articles)
        count = sum(1 for _ in articles.rglob("*.md"))
        print(f"{count} article files; load average {os.getloadavg()[0]:.1f}", flush=True)
        print("make run as " + ("one 'portal serve --prepare'" if one else
                                "separate commands: " + ", ".join(" ".join(s) for s in STEPS)
                                + ", serve"), flush=True)
        runs = {"first start": start(articles, work, args.code, "пароль", one)}
        restarts = [start(articles, work, args.code, "пароль", one)
                    for _ in range(args.restarts)]
        runs["restart, nothing changed (median)"] = {
            key: statistics.median(r[key] for r in restarts) for key in restarts[0]}
        changed = sorted(articles.rglob("*.md"))[len(restarts) * 7 % count]
        changed.write_text(changed.read_text("utf-8") + f"\n\nСлово {NEW_WORD}.\n", "utf-8")
        runs["restart, one article changed"] = start(articles, work, args.code, NEW_WORD, one)
        print_table(runs)


def print_table(runs: dict[str, dict[str, float]]) -> None:
    names = list(runs)
    print()
    print("| step (seconds) | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for key in runs[names[0]]:
        if key == "found" or key.startswith("serve: next"):
            continue
        print(f"| {key} | " + " | ".join(f"{runs[n][key]:.2f}" for n in names) + " |")
    print(f"| the changed article is found | {'yes' if runs[names[-1]]['found'] else 'NO'} |")


if __name__ == "__main__":
    main()
