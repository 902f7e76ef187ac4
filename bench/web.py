"""The web page at scale: the register page and a search page over 20,000 cases, beside the same work through the
library in the same run (the web's overhead as a ratio).

    python bench/web.py [--cases 20000] [--requests 200] [--clients 8] [--engine whoosh|tantivy]

A fresh root: its register generated straight into register.sqlite (bench/report_export.py) and its index built
by the engine's own rebuild from generated documents (bench/search.py) carrying the same numbers; one QA user.
Then `archive serve` in its own process on a loopback port, and CLIENTS threads, each with its own logged-in
keep-alive connection, make REQUESTS requests in all: half to GET / (the register: pages, filters, sorts), half
to GET /search?q=<Chinese words>. Every web request runs its whole path: session, role, the access register
entry (fsynced), the page rendered. Beside it, CLIENTS threads do the same work through the library on one
opened archive: services.cases.register_page and services.search.search with a page of 20 (searches take turns
on the one engine, as the web's do). p50/p95 per page for both; goal p95 ≤ 100 ms for both pages (issue 21).
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import random
import re
import shlex
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from report_export import make_register
from search import doc as search_doc

BIN = str(Path(sys.executable).with_name("archive"))
LOGIN, PASSWORD = "bench-qa", "bench-password-0"
PER_PAGE = 20
GOAL_P95_MS = 100.0
# Chinese words and phrases the generated complaints hold (bench/gen.py), alone and two at a time.
WORDS = ["破损", "压痕", "异物", "漏液", "结块", "说明书缺页", "外包装破损严重", "阿莫西林胶囊", "空调无法制冷",
         "服务态度冷淡", "颜色异常发黄", "标签印刷模糊", "要求退货并赔偿", "破损 异物", "受潮 结块"]
# The register as people page through it: first pages, far pages, each filter, other orders.
REGISTER = ["", "page=2", "page=40", "status=closed", "status=registered&page=3", "category=quality",
            "category=packaging&sort=received_at&order=desc", "severity=major&page=5", "month=2026-03",
            "month=2025-11&sort=reply_due", "sort=status&order=desc", "category=service&severity=minor"]


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# ---------------------------------------------------------------- the root

def make_root(base: Path, cases: int, engine: str) -> Path:
    from archive.services import users
    from archive.services.archive import Archive

    root = base / "root"
    make_register(root, cases)
    if engine != "whoosh":
        toml = root / "archive.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace('engine = "whoosh"', f'engine = "{engine}"'),
                        encoding="utf-8")
        subprocess.run([BIN, "--root", str(root), "--actor", "bench", "settings", "apply", "--reason",
                        f"bench: search with {engine}"], check=True, capture_output=True)
    with sqlite3.connect(root / "register.sqlite") as conn:
        numbers = [n for (n,) in conn.execute("SELECT number FROM cases ORDER BY number")]
    rng = random.Random(5)
    docs = []
    for i, number in enumerate(numbers):
        d = search_doc(i, rng)
        d["number"] = number
        docs.append(d)
    Archive.open(root).engine.rebuild(iter(docs))
    users.add(Archive.open(root, "信息部 系统管理员", write=True), LOGIN, "质量保证部 测试员", "qa", PASSWORD)
    return root


def workload(n: int, kinds: tuple[str, ...] = ("register", "search")) -> list[tuple[str, str]]:
    """``n`` requests of the pages ``kinds`` (both: half each, in a fixed mixed order): (kind, query string)."""
    rng = random.Random(21)
    jobs = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        step = i // len(kinds)
        jobs.append((kind, REGISTER[step % len(REGISTER)] if kind == "register" else
                     urllib.parse.urlencode({"q": WORDS[step % len(WORDS)]})))
    rng.shuffle(jobs)
    return jobs


def measure(jobs_of: list[list[tuple[str, str]]], warm: list[tuple[str, str]], clients: int,
            make_worker: Callable[[], Callable[[str, str], None]]) -> dict[str, list[float]]:
    """Each job list run in turn by ``clients`` threads after a warm-up; the milliseconds by page."""
    run_threads(warm, clients, make_worker)
    times: dict[str, list[float]] = {"register": [], "search": []}
    for jobs in jobs_of:
        for kind, ms in run_threads(jobs, clients, make_worker).items():
            times[kind] += ms
    return times


def run_threads(jobs: list[tuple[str, str]], clients: int,
                make_worker: Callable[[], Callable[[str, str], None]]) -> dict[str, list[float]]:
    """``clients`` threads take the jobs from one queue; each job's milliseconds, by kind."""
    todo: queue.Queue[tuple[str, str]] = queue.Queue()
    for job in jobs:
        todo.put(job)
    times: dict[str, list[float]] = {"register": [], "search": []}
    failures: list[BaseException] = []
    lock = threading.Lock()
    workers = [make_worker() for _ in range(clients)]
    start = threading.Barrier(clients)

    def loop(work: Callable[[str, str], None]) -> None:
        start.wait()
        while True:
            try:
                kind, qs = todo.get_nowait()
            except queue.Empty:
                return
            t0 = time.perf_counter()
            try:
                work(kind, qs)
            except BaseException as exc:  # reported after the run
                failures.append(exc)
                return
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                times[kind].append(ms)

    threads = [threading.Thread(target=loop, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return times


# ---------------------------------------------------------------- through the web

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    """One person's browser: a keep-alive connection and a logged-in session."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""
        page = self.request("GET", "/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        body = urllib.parse.urlencode({"login": LOGIN, "password": PASSWORD, "csrf": csrf.group(1)})
        form = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
        answer = json.loads(self.request("POST", "/login", body, form))
        assert answer["user"]["login"] == LOGIN

    def request(self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None) -> str:
        self.conn.request(method, path, body=body, headers={**(headers or {}), "Cookie": self.cookie})
        response = self.conn.getresponse()
        text = response.read().decode("utf-8")
        cookie = response.getheader("set-cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        if response.status != 200:
            raise AssertionError(f"{method} {path}: {response.status} {text[:300]}")
        return text

    def __call__(self, kind: str, qs: str) -> None:
        page = self.request("GET", ("/?" if kind == "register" else "/search?") + qs)
        assert ("投诉登记台账" if kind == "register" else "检索") in page


def serve(root: Path, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen([BIN, "--root", str(root), "serve", "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"archive serve ended: {proc.stderr.read() if proc.stderr else ''}") from None
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("archive serve did not answer within 120 s")


# ---------------------------------------------------------------- through the library

def library_worker(root: Path) -> Callable[[], Callable[[str, str], None]]:
    from archive.services.archive import Archive
    from archive.services.cases import register_page
    from archive.services.search import search

    arc = Archive.open(root)
    engine = arc.engine
    search_lock = threading.Lock()

    def make() -> Callable[[str, str], None]:
        def work(kind: str, qs: str) -> None:
            params = dict(urllib.parse.parse_qsl(qs))
            if kind == "register":
                page = int(params.pop("page", "1"))
                descending = params.pop("order", "") == "desc"
                register_page(arc, **params, descending=descending, page=page, per_page=PER_PAGE)
            else:
                with search_lock:
                    search(arc, params["q"], limit=PER_PAGE, engine=engine)

        return work

    return make


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--engine", choices=("whoosh", "tantivy"), default="whoosh")
    # each: the register's requests, then the search's, each page alone under the clients (--requests of each);
    # mixed: --requests in all, half each page at once (a search's CPU then slows the register's answers too).
    ap.add_argument("--pages", choices=("each", "mixed"), default="each")
    args = ap.parse_args()
    command = "python bench/web.py " + shlex.join([f"--cases={args.cases}", f"--requests={args.requests}",
                                                   f"--clients={args.clients}", f"--engine={args.engine}",
                                                   f"--pages={args.pages}"])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        root = make_root(Path(tmp), args.cases, args.engine)
        print(f"root: {args.cases:,} cases, {args.engine} index, built in {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
        jobs_of = ([workload(args.requests)] if args.pages == "mixed" else
                   [workload(args.requests, ("register",)), workload(args.requests, ("search",))])
        warm = workload(2 * len(REGISTER))
        port = free_port()
        proc = serve(root, port)
        try:
            web = measure(jobs_of, warm, args.clients, lambda: Client(port))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        lib = measure(jobs_of, warm, args.clients, library_worker(root))
    print(f"command: {command}")
    pages = {"register": ("the register `GET /`", "services.cases.register_page"),
             "search": ("a search `GET /search?q=<Chinese>`", "services.search.search")}
    for kind, (page, library) in pages.items():
        w50, w95 = pct(web[kind], 50), pct(web[kind], 95)
        l50, l95 = pct(lib[kind], 50), pct(lib[kind], 95)
        mark = "✓" if w95 <= GOAL_P95_MS else "✗"
        print(f"| web page p50 / p95, {page}, {args.cases:,} cases, {args.engine}, {args.clients} clients, "
              f"{len(web[kind])} requests ({'that page alone' if args.pages == 'each' else 'both pages at once'}) "
              f"| {w50:.1f} / {w95:.1f} ms {mark} (goal p95 ≤ "
              f"{GOAL_P95_MS:g} ms) | the library, {library}, {args.clients} threads: {l50:.1f} / {l95:.1f} ms "
              f"| p50 {w50 / l50:.1f}×, p95 {w95 / l95:.1f}× |")


if __name__ == "__main__":
    main()
