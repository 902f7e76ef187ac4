"""Intake throughput, in one process and one process per case, each beside a floor from the same run.

    python bench/intake.py [--cases 1000] [--per-process 40]     (10,000: --cases 10000)
    python bench/intake.py --bulk [--cases 1000]

--bulk: a folder of cases taken in as one bulk intake (`import_tree`, in-process, and `archive import DIR`
as a command), beside the render time of the same cases' two intake forms, measured in the same run
(goal: bulk intake per case ≤ 1.5× that render time).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gen import write_cases

from archive.documents import render as documents
from archive.record import reader as casefile
from archive.record.folders import record_dirs
from archive.services.archive import Archive
from archive.services.cases import import_tree, intake, prepare

BIN = Path(sys.executable).with_name("archive")


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--per-process", type=int, default=40)
    ap.add_argument("--bulk", action="store_true", help="bulk intake beside the render time of its forms")
    args = ap.parse_args()
    if args.bulk:
        bulk(args.cases)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    try:
        cases = write_cases(work / "cases", args.cases)
        root = work / "root"
        root.mkdir()
        arc = Archive.create(root, "bench")
        t0 = time.perf_counter()
        for p in cases:
            intake(arc, prepare(p))
        t_in = time.perf_counter() - t0

        floor_dir = work / "floor"
        floor_dir.mkdir()
        t0 = time.perf_counter()
        for p in cases:
            with (floor_dir / p.name).open("w", encoding="utf-8") as fh:
                json.dump(json.loads(p.read_text(encoding="utf-8")), fh, ensure_ascii=False)
        t_floor = time.perf_counter() - t0

        proc_times, import_times = [], []
        for p in cases[: args.per_process]:
            t0 = time.perf_counter()
            subprocess.run([str(BIN), "--root", str(root), "--actor", "bench", "intake", "--allow-duplicate", str(p)],
                           check=True, capture_output=True)
            proc_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import archive"], check=True)
            import_times.append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rate, floor_rate = args.cases / t_in, args.cases / t_floor
    print(f"# python bench/intake.py --cases {args.cases} --per-process {args.per_process}   ({os.cpu_count()} cores)")
    print("| measure | archive | baseline | ratio |")
    print("|---|---|---|---|")
    print(f"| in-process intake, {args.cases} cases | {rate:.0f} cases/s | json.dump same files: "
          f"{floor_rate:.0f} files/s | {floor_rate / rate:.0f}× slower |")
    for q in (50, 95):
        a, b = pct(proc_times, q) * 1000, pct(import_times, q) * 1000
        print(f"| one `archive intake` per process, p{q} | {a:.0f} ms | `python -c 'import archive'`: "
              f"{b:.0f} ms | {a / b:.1f}× |")


def bulk(n: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    try:
        folder = work / "cases"
        write_cases(folder, n)
        arc = Archive.create(work / "root", "bench")
        t0 = time.perf_counter()
        summary = import_tree(arc, folder)
        t_bulk = time.perf_counter() - t0
        assert not summary.refused, summary.refused[:3]

        # The baseline: rendering the same cases' two intake forms, nothing else (no number, store, audit,
        # register or index), with the same templates and settings.
        views = [casefile.load(p) for p in record_dirs(arc.layout)]
        forms = documents.intake_forms(arc.settings.form_set)
        out = work / "render"
        out.mkdir()
        t0 = time.perf_counter()
        for v in views:
            (out / v.number).mkdir()
            for doc_id in forms:
                documents.render(out / v.number, v, doc_id, arc.layout.templates, arc.settings.organisation,
                                 settings=arc.settings)
        t_render = time.perf_counter() - t0

        cli_root = work / "cli-root"
        subprocess.run([str(BIN), "--root", str(cli_root), "init"], check=True, capture_output=True)
        t0 = time.perf_counter()
        subprocess.run([str(BIN), "--root", str(cli_root), "--actor", "bench", "import", str(folder)],
                       check=True, capture_output=True)
        t_cli = time.perf_counter() - t0
        check = subprocess.run([str(BIN), "--root", str(cli_root), "index", "check"], capture_output=True)
        assert check.returncode == 0, check.stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per_bulk, per_render, per_cli = (t * 1000 / n for t in (t_bulk, t_render, t_cli))
    goal = "✓" if per_bulk <= 1.5 * per_render else "✗"
    print(f"# python bench/intake.py --bulk --cases {n}   ({os.cpu_count()} cores)")
    print("| measure | archive | baseline | ratio |")
    print("|---|---|---|---|")
    print(f"| bulk intake in-process (`import_tree`), {n} cases, no PDF | {per_bulk:.0f} ms/case "
          f"({n / t_bulk:.0f} cases/s) | render of the same 2 forms: {per_render:.0f} ms/case | "
          f"{per_bulk / per_render:.2f}× {goal} (goal ≤ 1.5×) |")
    print(f"| `archive import DIR`, {n} cases, no PDF (one process) | {per_cli:.0f} ms/case "
          f"({n / t_cli:.0f} cases/s) | render of the same 2 forms: {per_render:.0f} ms/case | "
          f"{per_cli / per_render:.2f}× |")


if __name__ == "__main__":
    main()
