"""Search at scale: Whoosh (ours) beside SQLite FTS5 trigram and tantivy with the same bigrams.

    python bench/search.py --cases 20000 [--cases 100000]

For each size: index build rate and size, in-process query p50/p95 over a mixed query set, and the
wall time of `archive search` beside `archive --version` (same run). Documents are generated and
indexed directly (no intake): this measures the index, not the record store. Anchors answer the text
part of each query only (filters are Whoosh's).
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
from archive.search.analysis import query_terms, tokens
from archive.search.engines.whoosh import SearchIndex
from archive.search.query import parse

BIN = str(Path(sys.executable).with_name("archive"))
QUERIES = ["破损", "压痕", "异物", "漏液", "结块", "说明书缺页", "外包装破损严重", "批号与合格证不符",
           '"运输途中受潮结块"', '"焊盘短路不良"', "阿莫西林胶囊", "华东医药连锁有限公司", "Tanaka", "Schmidt",
           "PO-12345", "12345", "破损 异物", "制动异响 换货", "破损 severity:major", "漏液 category:quality",
           "received:2026-03", "受潮 received:2026-01..2026-06", "customer:华东", "customer:Tanaka 破损",
           "空调无法制冷", "服务态度冷淡", "颜色异常发黄", "标签印刷模糊", "B20260315", "要求退货并赔偿"]


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


def du(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def text_part(q: str) -> list[str]:
    pq = parse(q)
    return pq.words + pq.phrases + pq.text_filters.get("customer", [])


def run_size(n: int, work: Path) -> list[str]:
    rng = random.Random(5)
    docs = [doc(i, rng) for i in range(n)]
    root = work / f"root{n}"
    root.mkdir()
    index = SearchIndex(root / "index")
    t0 = time.perf_counter()
    index.rebuild(iter(docs))
    t_whoosh = time.perf_counter() - t0
    whoosh_ms = timed(lambda q: index.search(parse(q), limit=10), QUERIES)

    db = sqlite3.connect(work / f"fts{n}.sqlite")
    t0 = time.perf_counter()
    db.execute("CREATE VIRTUAL TABLE f USING fts5(number UNINDEXED, content, tokenize='trigram')")
    db.executemany("INSERT INTO f VALUES (?, ?)", ((d["number"], d["content"]) for d in docs))
    db.commit()
    t_fts = time.perf_counter() - t0

    def fts(q: str) -> list[Any]:
        words = [w for w in text_part(q) if len(w) >= 3]  # trigram cannot match shorter words
        if not words:
            return []
        expr = " AND ".join('"' + w.replace('"', "") + '"' for w in words)
        return db.execute("SELECT number FROM f WHERE f MATCH ? ORDER BY rank LIMIT 10", (expr,)).fetchall()

    fts_ms = timed(fts, QUERIES)

    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("number", stored=True, tokenizer_name="raw")
    sb.add_text_field("content", stored=False, tokenizer_name="whitespace")
    schema = sb.build()
    tdir = work / f"tantivy{n}"
    tdir.mkdir()
    tix = tantivy.Index(schema, path=str(tdir))
    t0 = time.perf_counter()
    w = tix.writer(heap_size=256_000_000, num_threads=1)
    for d in docs:
        toks = list(tokens(d["content"]))
        main = [t.text for t in toks if not t.extra]
        extra = [t.text for t in toks if t.extra]
        w.add_document(tantivy.Document(number=d["number"], content=" ".join([*main, "\u0000", *extra])))
    w.commit()
    w.wait_merging_threads()
    t_tv = time.perf_counter() - t0
    tix.reload()
    searcher = tix.searcher()

    def tv(q: str) -> Any:
        parts = []
        for word in text_part(q):
            terms = [t.replace('"', "") for t in query_terms(word)]
            if terms:
                parts.append('"' + " ".join(terms) + '"' if len(terms) > 1 else f'"{terms[0]}"')
        if not parts:
            return []
        return searcher.search(tix.parse_query(" AND ".join(parts), ["content"]), 10).hits

    tv_ms = timed(tv, QUERIES)

    def wall(args: list[str], rounds: int = 7) -> float:
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000

    # The CLI as pip installs it, byte-compiled: a checkout run under PYTHONDONTWRITEBYTECODE would compile
    # every module of the package again in each process.
    compileall.compile_dir(str(Path(archive.__file__).parent), quiet=1)
    search_wall = statistics.median(wall([BIN, "--root", str(root), "search", q], 3) for q in QUERIES[:8])
    version_wall = wall([BIN, "--version"])
    rows = [
        f"| index build, {n:,} cases | Whoosh {n / t_whoosh:,.0f} docs/s, {du(root / 'index'):.0f} MB | "
        f"FTS5 trigram {n / t_fts:,.0f} docs/s, {(work / f'fts{n}.sqlite').stat().st_size / 1e6:.0f} MB; "
        f"tantivy bigram {n / t_tv:,.0f} docs/s, {du(tdir):.0f} MB | Whoosh {t_whoosh / t_fts:.1f}× FTS5 time, "
        f"{t_whoosh / t_tv:.1f}× tantivy time |",
        f"| query p50 / p95, {n:,} cases, in-process | Whoosh {pct(whoosh_ms, 50):.1f} / {pct(whoosh_ms, 95):.1f} ms | "
        f"FTS5 {pct(fts_ms, 50):.1f} / {pct(fts_ms, 95):.1f} ms; tantivy {pct(tv_ms, 50):.2f} / "
        f"{pct(tv_ms, 95):.2f} ms | p95 {pct(whoosh_ms, 95) / pct(tv_ms, 95):.0f}× tantivy |",
        f"| `archive search` wall, {n:,} cases | {search_wall:.0f} ms | `archive --version` {version_wall:.0f} ms "
        f"| {search_wall / version_wall:.1f}× |",
    ]
    db.close()
    return rows


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
    print("| measure | archive (Whoosh) | anchors | ratio |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
