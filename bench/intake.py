"""Intake throughput, in one process and one process per case, each beside a floor from the same run.

    python bench/intake.py [--cases 1000] [--per-process 40]     (10,000: --cases 10000)
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

from archive.services.archive import Archive
from archive.services.cases import intake, prepare

BIN = Path(sys.executable).with_name("archive")


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--per-process", type=int, default=40)
    args = ap.parse_args()
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


if __name__ == "__main__":
    main()
