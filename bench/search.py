"""Search at scale: our two engines (Whoosh, tantivy) side by side, each beside its baseline in the same run.

    python bench/search.py --cases 20000 [--cases 100000]

For each size and engine: an archive root made as an administrator makes one (`archive init`, `[search] engine`
in archive.toml, `archive settings apply`), its index built by the engine's own rebuild from generated documents
(no intake: this measures the index, not the record store); then in-process query p50/p95 over a mixed query set,
and the wall time of `archive search` beside `archive --version` (same run). Baselines: the analysis alone for the
build (what every engine must do in Python before it indexes), SQLite FTS5 trigram for in-process queries (the text
part of each query only), `archive --version` for the CLI.
"""

from __future__ import annotations

import argparse
import compileall
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from gen import case as gen_case

import archive
from archive.search import plan
from archive.search.analysis import tokens
from archive.search.query import parse
from archive.services.archive import Archive

BIN = str(Path(sys.executable).with_name("archive"))
ENGINES = ("whoosh", "tantivy")
QUERIES = ["破损", "压痕", "异物", "漏液", "结块", "说明书缺页", "外包装破损严重", "批号与合格证不符",
           '"运输途中受潮结块"', '"焊盘短路不良"', "阿莫西林胶囊", "华东医药连锁有限公司", "Tanaka", "Schmidt",
           "PO-12345", "12345", "破损 异物", "制动异响 换货", "破损 severity:major", "漏液 category:quality",
           "received:2026-03", "受潮 received:2026-01..2026-06", "customer:华东", "customer:Tanaka 破损",
           "空调无法制冷", "服务态度冷淡", "颜色异常发黄", "标签印刷模糊", "B20260315", "要求退货并赔偿"]
# Goals of issue 19: in-process p95 at 100,000 cases (tantivy); `archive search` over `archive --version`, Whoosh's
# at 20,000 cases, tantivy's at any size.
P95_GOAL_MS = {"tantivy": 10.0}
WALL_GOAL = {"whoosh": (3.0, 20_000), "tantivy": (2.0, None)}


def doc(i: int, rng: random.Random) -> dict[str, Any]:
    c = gen_case(i, rng)
    p = c["product"]
    text = "\n".join([c["description"], c["customer_request"], c["complainant"]["name"],
                      c["complainant"]["organization"], p["name"], p["lot"], p["order_no"]])
    return {"number": f"{(i // 9999) % 100:02d}{i % 12 + 1:02d}{i % 9999 + 1:04d}-{i}",
            "received": int(c["received_at"][:10].replace("-", "")), "received_at": c["received_at"],
            "channel": c["channel"], "category": c["category"], "severity": rng.choice(["minor", "major"]),
            "status": "registered", "complainant": c["complainant"]["name"],
            "organisation": c["complainant"]["organization"], "product": p["name"], "lot": p["lot"],
            "identifiers": f"{p['lot']} {p['order_no']}", "departments": "质量部", "retention_until": "",
            "hold": False, "content": text, "stamp": "",
            "passages": [["投诉内容", c["description"]], ["客户要求", c["customer_request"]],
                         ["投诉人", c["complainant"]["name"]], ["投诉单位", c["complainant"]["organization"]]]}


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def timed(fn: Callable[[str], Any], queries: list[str], rounds: int = 3) -> list[float]:
    for q in queries:
        fn(q)  # warm caches
    out = []
    for _ in range(rounds):
        for q in queries:
            t0 = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def wall(args: list[str], rounds: int = 7) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def du(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def make_root(root: Path, engine: str) -> None:
    """`archive init`, then the engine chosen in archive.toml and put in force by `archive settings apply`."""
    subprocess.run([BIN, "--root", str(root), "--actor", "bench", "init"], check=True, capture_output=True)
    toml = root / "archive.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('engine = "whoosh"', f'engine = "{engine}"'),
                    encoding="utf-8")
    subprocess.run([BIN, "--root", str(root), "--actor", "bench", "settings", "apply", "--reason",
                    f"bench: search with {engine}"], check=True, capture_output=True)


def analysis_alone(docs: list[dict[str, Any]]) -> float:
    """Seconds to analyse the documents as both engines do before indexing: the floor of any build."""
    t0 = time.perf_counter()
    for d in docs:
        for name in ("content", "lot", "complainant", "organisation"):
            list(tokens(d[name]))
        plan.derived_terms(d)
    return time.perf_counter() - t0


def fts5(docs: list[dict[str, Any]], path: Path) -> Callable[[str], Any]:
    db = sqlite3.connect(path)
    db.execute("CREATE VIRTUAL TABLE f USING fts5(number UNINDEXED, content, tokenize='trigram')")
    db.executemany("INSERT INTO f VALUES (?, ?)", ((d["number"], d["content"]) for d in docs))
    db.commit()

    def run(q: str) -> list[Any]:
        pq = parse(q)
        words = [w for w in pq.words + pq.phrases + pq.text_filters.get("customer", []) if len(w) >= 3]
        if not words:  # trigram cannot match shorter words
            return []
        expr = " AND ".join('"' + w.replace('"', "") + '"' for w in words)
        return db.execute("SELECT number FROM f WHERE f MATCH ? ORDER BY rank LIMIT 10", (expr,)).fetchall()

    return run


def run_size(n: int, work: Path) -> list[str]:
    rng = random.Random(5)
    docs = [doc(i, rng) for i in range(n)]
    # The CLI as pip installs it, byte-compiled: a checkout run under PYTHONDONTWRITEBYTECODE would compile every
    # module of the package again in each process.
    compileall.compile_dir(str(Path(archive.__file__).parent), quiet=1)
    t_analysis = analysis_alone(docs)
    fts_ms = timed(fts5(docs, work / f"fts{n}.sqlite"), QUERIES)
    version_wall = wall([BIN, "--version"])
    rows: dict[str, list[str]] = {}
    answers: dict[str, list[tuple[int, list[str]]]] = {}
    for engine in ENGINES:
        root = work / f"{engine}{n}"
        make_root(root, engine)
        index = Archive.open(root).engine
        t0 = time.perf_counter()
        index.rebuild(iter(docs))
        t_build = time.perf_counter() - t0
        index = Archive.open(root).engine
        answers[engine] = [(total, [h.number for h in hits]) for q in QUERIES for sort in ("relevance", "date")
                           for hits, total in [index.search(parse(q), limit=10, sort=sort)]]
        ms = timed(lambda q, index=index: index.search(parse(q), limit=10), QUERIES)
        search_wall = statistics.median(wall([BIN, "--root", str(root), "search", q], 3) for q in QUERIES[:8])
        p95 = pct(ms, 95)
        p95_goal = P95_GOAL_MS.get(engine)
        p95_mark = "" if p95_goal is None or n < 100_000 else \
            f" {'✓' if p95 <= p95_goal else '✗'} (goal p95 ≤ {p95_goal:g} ms)"
        ratio = search_wall / version_wall
        goal, at = WALL_GOAL[engine]
        wall_mark = "" if at is not None and n != at else f" {'✓' if ratio <= goal else '✗'} (goal ≤ {goal:g}×)"
        rows[engine] = [
            f"| index build, {n:,} cases, {engine} | {n / t_build:,.0f} docs/s, {du(root / 'index'):.0f} MB "
            f"| the analysis alone: {n / t_analysis:,.0f} docs/s | {t_build / t_analysis:.1f}× its time |",
            f"| query p50 / p95, {n:,} cases, in-process, {engine} | {pct(ms, 50):.2f} / {p95:.2f} ms{p95_mark} "
            f"| SQLite FTS5 trigram {pct(fts_ms, 50):.2f} / {pct(fts_ms, 95):.2f} ms "
            f"| p95 {p95 / pct(fts_ms, 95):.2f}× |",
            f"| `archive search` wall, {n:,} cases, {engine} | {search_wall:.0f} ms | `archive --version` "
            f"{version_wall:.0f} ms | {ratio:.1f}×{wall_mark} |",
        ]
        shutil.rmtree(root, ignore_errors=True)
    pairs = list(zip(*answers.values(), strict=True))
    by_date, by_score = pairs[1::2], pairs[0::2]
    agree = (f"| the same answers, {n:,} cases, tantivy against Whoosh | totals equal for "
             f"{sum(a[0] == b[0] for a, b in pairs)} of {len(pairs)} pages; date-sorted pages equal "
             f"{sum(a == b for a, b in by_date)} of {len(by_date)}; relevance pages: the same 10 cases "
             f"{sum(set(a[1]) == set(b[1]) for a, b in by_score)}, in the same order "
             f"{sum(a == b for a, b in by_score)} of {len(by_score)} | Whoosh's answers | |")
    # the engines side by side
    return [row for measure in zip(*rows.values(), strict=True) for row in measure] + [agree]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, action="append")
    args = ap.parse_args()
    sizes = args.cases or [20000]
    work = Path(tempfile.mkdtemp(prefix="bench-search-"))
    try:
        rows = [r for n in sizes for r in run_size(n, work)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("# python bench/search.py " + " ".join(f"--cases {n}" for n in sizes) + f"   ({len(QUERIES)} queries)")
    print("| measure | archive | baseline | ratio |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
