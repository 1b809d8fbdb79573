"""Throughput of the results page and the search API under `portal serve`, against a Flask
"hello" app under the same gunicorn in the same run (the ceiling on this machine).

    make bench-throughput                      # 60 s per target after a 10 s warm-up
    .venv/bin/python benchmarks/throughput.py --seconds 20 --warmup 5
    .venv/bin/python benchmarks/throughput.py --code /tmp/old-checkout   # other code, same run

The portal serves a temporary copy of the demo knowledge base with its own SQLite database
and index, 2 workers, tracking on, access log off (as the hello app). The load comes from
wrk (`apt-get install -y wrk`; without it a slower Python load generator that shares the
cores) in another process: visitors, each a visit of 1-8 searches that keeps the visitor
cookie the server set (one in ten reads the site in English), asking queries drawn
Zipf-like (s = 1) from a pool with a long tail: the development queries of ../shared/eval
(when present) and queries made of the demo articles' titles, keywords and tags first,
then made-up combinations of their words, some mistyped, up to `--pool` queries.

Prints requests/s, p50/p99 latency and errors per target, each target's share of the hello
app, the events the tracking writer stored per second, and each worker's memory (RSS).
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from bisect import bisect_left
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BIN = Path(sys.executable).parent
TARGETS = {"page": "/search?q=", "api": "/api/v1/search?q="}
LUA = """
local queries = {%(queries)s}
local cdf = {%(cdf)s}
local path = "%(path)s"
local cookie, lang, left = nil, nil, 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

function init(args)
  math.randomseed(number * 1000003 + os.time())
end

local function draw()
  local u, lo, hi = math.random(), 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return queries[lo]
end

local letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
local function visitor_id()  -- the cookie an earlier page of the site set
  local id = {}
  for i = 1, 22 do
    local n = math.random(1, #letters)
    id[i] = letters:sub(n, n)
  end
  return table.concat(id)
end

function request()
  if left <= 0 then  -- a new visitor: no cookie until the server sets one
    cookie, left = nil, math.random(1, 8)
    lang = (math.random() < 0.1) and "en" or nil
    -- A widget on the site's pages calls the API with the cookie those pages set.
    if path:find("/api/", 1, true) then cookie = visitor_id() end
  end
  left = left - 1
  local parts = {}
  if cookie then parts[#parts + 1] = "l0_visitor=" .. cookie end
  if lang then parts[#parts + 1] = "ui_lang=" .. lang end
  local headers = {}
  if #parts > 0 then headers["Cookie"] = table.concat(parts, "; ") end
  return wrk.format("GET", path .. draw(), headers)
end

function response(status, headers, body)
  if cookie == nil and headers["Set-Cookie"] then
    cookie = headers["Set-Cookie"]:match("l0_visitor=([%%w_%%-]+)")
  end
end
"""


# --- the query mix ---------------------------------------------------------------------------

def real_queries(articles: Path) -> list[str]:
    """The development queries (when ../shared is there) and the demo articles' titles,
    keywords and tags: what customers type, most asked first."""
    found: list[str] = []
    dev = SHARED / "eval" / "alchemy-dev-queries.tsv"
    if dev.is_file():
        found += [row.split("\t")[1] for row in dev.read_text("utf-8").splitlines()
                  if row.count("\t") >= 2]
    for path in sorted(articles.rglob("*.md")):
        text = path.read_text("utf-8")
        front = text.split("---", 2)[1] if text.startswith("---") else ""
        for line in front.splitlines():
            key, _, value = line.partition(":")
            value = value.strip()
            if key == "title":
                found.append(value)
            elif key in ("keywords", "tags") and value.startswith("["):
                found += [v.strip() for v in value.strip("[]").split(",") if v.strip()]
    return list(dict.fromkeys(q for q in found if q))


def query_pool(articles: Path, size: int, seed: int = 15) -> list[str]:
    """`size` distinct queries, the real ones (shuffled) first, then made-up ones."""
    rng = random.Random(seed)
    head = real_queries(articles)
    rng.shuffle(head)
    words = sorted({w for q in head for w in re.findall(r"\w{3,}", q.lower())})
    pool = dict.fromkeys(head)
    while len(pool) < size:
        made = rng.sample(words, rng.choice((2, 2, 3)))
        if rng.random() < 0.2:  # a typing mistake: two letters swapped
            word = made[0]
            if len(word) > 3:
                i = rng.randrange(len(word) - 1)
                made[0] = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        pool.setdefault(" ".join(made))
    return list(pool)[:size]


def zipf_cdf(n: int, s: float = 1.0) -> list[float]:
    weights = [1 / (rank ** s) for rank in range(1, n + 1)]
    total, running, cdf = sum(weights), 0.0, []
    for w in weights:
        running += w
        cdf.append(running / total)
    cdf[-1] = 1.0
    return cdf


# --- servers ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn server in a child process (its output in a log file)."""

    def __init__(self, command: list[str], env: dict, port: int, log: Path, pid_file: Path):
        self.command, self.env, self.port, self.log, self.pid_file = \
            command, env, port, log, pid_file
        self.process: subprocess.Popen | None = None

    def start(self, ready_path: str, timeout: float = 120) -> float:
        """Start; the seconds until `ready_path` answered 200."""
        started = time.monotonic()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT, cwd=self.log.parent)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped: see {self.log}\n"
                                   + self.log.read_text(errors="replace")[-3000:])
            try:
                if get(self.port, ready_path)[0] == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer in {timeout} s")

    def workers(self) -> list[int]:
        master = int(self.pid_file.read_text().strip())
        children = Path(f"/proc/{master}/task/{master}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def memory_mb(pids: list[int]) -> list[tuple[float, float]]:
    """(RSS, peak RSS) in MB of each process."""
    found = []
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
        peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
        found.append((rss, peak))
    return found


# --- load ------------------------------------------------------------------------------------

@dataclass
class Load:
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    #: CPU the server's workers spent per request (robust to other load on the machine).
    cpu_ms: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _ms(value: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if found is None:
        raise ValueError(f"not a wrk time: {value!r}")
    number, unit = found.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(port: int, script: Path, seconds: int, threads: int, connections: int) -> Load:
    done = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
         "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True)
    out = done.stdout
    if "requests in" not in out or "Latency Distribution" not in out:
        raise RuntimeError(f"could not read wrk's answer:\n{out}\n{done.stderr}")
    load = Load()
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    load.requests = int(total.group(1))
    load.seconds = _ms(total.group(2) + total.group(3)) / 1000
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", out, re.M))
    if not {"50", "99"} <= percentiles.keys():
        raise RuntimeError(f"no latency percentiles in wrk's answer:\n{out}")
    load.p50_ms, load.p99_ms = _ms(percentiles["50"]), _ms(percentiles["99"])
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                        out)
    load.errors = (int(bad.group(1)) if bad else 0) + (
        sum(int(n) for n in sockets.groups()) if sockets else 0)
    return load


def _python_connection(port: int, path: str, queries: list[str], cdf: list[float],
                       deadline: float, seed: int, out: list) -> None:
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    cookie, lang, left = None, None, 0
    while time.monotonic() < deadline:
        if left <= 0:
            cookie, left, lang = None, rng.randint(1, 8), "en" if rng.random() < 0.1 else None
            if "/api/" in path:  # a widget: the site's pages set the cookie
                cookie = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij0123456789",
                                             k=22))
        left -= 1
        parts = ([f"l0_visitor={cookie}"] if cookie else []) + (
            [f"ui_lang={lang}"] if lang else [])
        query = queries[min(bisect_left(cdf, rng.random()), len(queries) - 1)]
        started = time.perf_counter()
        try:
            connection.request("GET", path + query,
                               headers={"Cookie": "; ".join(parts)} if parts else {})
            response = connection.getresponse()
            response.read()
            status = response.status
            found = re.search(r"l0_visitor=([\w-]+)", response.getheader("Set-Cookie") or "")
            if cookie is None and found:
                cookie = found.group(1)
        except (OSError, http.client.HTTPException):
            status = 0
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        out.append(((time.perf_counter() - started) * 1000, status))


def _python_process(args: tuple) -> list[tuple[float, int]]:
    port, path, queries, cdf, seconds, connections, seed = args
    deadline = time.monotonic() + seconds
    out: list[tuple[float, int]] = []
    threads = [threading.Thread(target=_python_connection,
                                args=(port, path, queries, cdf, deadline, seed + i, out))
               for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def run_python(port: int, path: str, queries: list[str], cdf: list[float], seconds: int,
               processes: int, connections: int) -> Load:
    """The fallback load generator: `processes` processes with keep-alive connections."""
    per = max(1, connections // processes)
    started = time.monotonic()
    with multiprocessing.Pool(processes) as pool:
        parts = pool.map(_python_process, [(port, path, queries, cdf, seconds, per, 1000 * i)
                                           for i in range(processes)])
    spent = time.monotonic() - started
    results = [r for part in parts for r in part]
    latencies = sorted(ms for ms, _ in results)
    return Load(requests=len(results), seconds=spent,
                p50_ms=statistics.median(latencies),
                p99_ms=latencies[int(len(latencies) * 0.99)],
                errors=sum(1 for _, status in results if status != 200),
                notes=["Python load generator"])


# --- the run ---------------------------------------------------------------------------------

def count_events(database: Path) -> int:
    """Rows the tracking writer stored: searches and article events."""
    with sqlite3.connect(database) as connection:
        return sum(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                   for table in ("search_event", "article_event"))


def wait_for_writer(database: Path, quiet: float = 2.0, limit: float = 60.0) -> tuple[int, float]:
    """Events stored once the writers stopped storing more, and how long that took."""
    started = time.monotonic()
    last, since = count_events(database), time.monotonic()
    while time.monotonic() - started < limit:
        time.sleep(0.5)
        now = count_events(database)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last, max(0.0, since - started)


class Runner:
    def __init__(self, args, queries: list[str], cdf: list[float], work: Path):
        self.args, self.queries, self.cdf, self.work = args, queries, cdf, work
        self.wrk = shutil.which("wrk") is not None and args.loadgen != "python"

    def script(self, path: str) -> Path:
        quoted = ",".join(f'"{urllib.parse.quote(q)}"' for q in self.queries)
        lua = LUA % {"queries": quoted, "cdf": ",".join(f"{c:.9f}" for c in self.cdf),
                     "path": path}
        target = self.work / f"load-{abs(hash(path))}.lua"
        target.write_text(lua)
        return target

    def load(self, port: int, path: str, seconds: int) -> Load:
        if self.wrk:
            return run_wrk(port, self.script(path), seconds, self.args.threads,
                           self.args.connections)
        encoded = [urllib.parse.quote(q) for q in self.queries]
        return run_python(port, path, encoded, self.cdf, seconds, self.args.threads,
                          self.args.connections)


def portal_env(work: Path, port: int, code: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PORTAL_") and k != "DATABASE_URL"}
    env.update({
        "PORTAL_ARTICLES_DIR": str(work / "articles"), "PORTAL_INDEX_DIR": str(work / "index"),
        "DATABASE_URL": f"sqlite:///{work / 'portal.sqlite3'}",
        "PORTAL_SECRET_KEY": "throughput-benchmark", "PORTAL_TRACKING_ENABLED": "true",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
    })
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="measured seconds per target")
    parser.add_argument("--warmup", type=int, default=10, help="seconds of warm-up per target")
    parser.add_argument("--threads", type=int, default=2, help="load generator threads")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", type=int, default=10_000, help="distinct queries")
    parser.add_argument("--loadgen", choices=("auto", "python"), default="auto")
    parser.add_argument("--code", type=Path, help="serve the portal from this source tree")
    parser.add_argument("--targets", default="page,api")
    parser.add_argument("--keep-log", type=Path, help="copy the portal's log here at the end")
    args = parser.parse_args()
    if shutil.which("wrk") is None and args.loadgen == "auto":
        print("wrk is not installed (Debian: apt-get install -y wrk); using the Python load "
              "generator, which needs a share of the same cores: expect lower figures.")
    with tempfile.TemporaryDirectory(prefix="line0-throughput-") as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "articles", work / "articles")
        queries = query_pool(work / "articles", args.pool)
        cdf = zipf_cdf(len(queries))
        runner = Runner(args, queries, cdf, work)
        print(f"{len(queries)} distinct queries ({len(real_queries(work / 'articles'))} real), "
              f"Zipf s=1; {args.threads} load threads x {args.connections} connections; "
              f"{args.workers} workers; {args.warmup} s warm-up + {args.seconds} s per target; "
              f"load generator: {'wrk' if runner.wrk else 'Python'}; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
        results: dict[str, Load] = {}
        port = free_port()
        env = portal_env(work, port, args.code)
        portal = [str(BIN / "portal")]
        for step in (["db", "upgrade"], ["index", "build"]):
            subprocess.run(portal + step, env=env, check=True, capture_output=True, cwd=work)
        server = Server(portal + ["serve", "--bind", f"127.0.0.1:{port}", "--workers",
                                  str(args.workers), "--access-log", "off",
                                  "--pid", str(work / "portal.pid")],
                        env, port, work / "portal.log", work / "portal.pid")
        database = work / "portal.sqlite3"
        memory: dict[str, list[tuple[float, float]]] = {}
        events: dict[str, tuple[int, float, float]] = {}
        try:
            server.start("/search?q=" + urllib.parse.quote("пароль"))
            for target in args.targets.split(","):
                path = TARGETS[target]
                runner.load(port, path, args.warmup)
                wait_for_writer(database, quiet=1.0)
                before = count_events(database)
                workers = server.workers()
                cpu = cpu_seconds(workers)
                results[target] = runner.load(port, path, args.seconds)
                memory[target] = memory_mb(workers)
                after, drained = wait_for_writer(database)
                results[target].cpu_ms = (cpu_seconds(workers) - cpu) * 1000 / max(
                    1, results[target].requests)
                events[target] = (after - before, results[target].seconds, drained)
                print(f"  {target}: {results[target].per_second:,.0f} requests/s", flush=True)
        finally:
            server.stop()
        log = (work / "portal.log").read_text(errors="replace")
        if args.keep_log:
            args.keep_log.write_text(log)
        dropped = re.findall(r"tracking.*(?:dropped|queue full).*", log)
        hello_port = free_port()
        hello = Server([sys.executable, str(ROOT / "benchmarks" / "hello_app.py"), "--bind",
                        f"127.0.0.1:{hello_port}", "--workers", str(args.workers), "--pid",
                        str(work / "hello.pid")],
                       portal_env(work, hello_port, None), hello_port, work / "hello.log",
                       work / "hello.pid")
        try:
            hello.start("/")
            runner.load(hello_port, TARGETS["page"], args.warmup)
            workers = hello.workers()
            cpu = cpu_seconds(workers)
            results["hello"] = runner.load(hello_port, TARGETS["page"], args.seconds)
            results["hello"].cpu_ms = (cpu_seconds(workers) - cpu) * 1000 / max(
                1, results["hello"].requests)
            memory["hello"] = memory_mb(workers)
        finally:
            hello.stop()
        print_report(results, memory, events, dropped)


def print_report(results: dict[str, Load], memory: dict, events: dict, dropped: list) -> None:
    ceiling = results["hello"].per_second
    names = {"page": "GET /search (results page)", "api": "GET /api/v1/search",
             "hello": "Flask hello, same gunicorn"}
    print()
    print("| target | requests/s | share of hello | p50 ms | p99 ms | errors | worker CPU ms "
          "per request | RSS per worker MB (peak) |")
    print("|---|---|---|---|---|---|---|---|")
    for target, load in results.items():
        rss = ", ".join(f"{now:.0f} ({peak:.0f})" for now, peak in memory.get(target, []))
        print(f"| {names[target]} | {load.per_second:,.0f} | {load.per_second / ceiling:.2f} | "
              f"{load.p50_ms:.1f} | {load.p99_ms:.1f} | {load.errors} | {load.cpu_ms:.2f} | "
              f"{rss} |")
    for target, (stored, seconds, drained) in events.items():
        print(f"tracking, {names[target]}: {stored:,} events stored during the run, "
              f"{stored / seconds:,.0f}/s; the writers were done {drained:.1f} s after the "
              f"load stopped")
    print("tracking: " + ("; ".join(dropped) if dropped else "nothing dropped or failed "
                                                              "(no such line in the log)"))


if __name__ == "__main__":
    main()
