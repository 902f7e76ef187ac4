"""Destruction speed: purge 1,000 due cases out of 5,000, beside `rm -rf` of the same folders in the same run.

    python bench/purge.py [--cases 5000] [--due 1000]

The archive is made by intake of one case, closed, then copied under new numbers (each copy with its own
manifest and an intake entry in the audit log, so the copies verify as archived records: purge verifies every
record before destroying it) and indexed by `rebuild`: the bench measures the destruction run, not intake.
Due copies are kept until a date already past, so the run judges by today, as `purge --execute` must.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gen import write_cases

from archive.rules.stages import PreparedUpdate
from archive.services.archive import Archive
from archive.services.cases import intake, prepare, update
from archive.services.maintenance import rebuild
from archive.services.retention import purge
from archive.services.settings import apply as apply_settings
from archive.store import audit
from archive.store.hashing import sha256_file
from archive.store.manifest import read_manifest, write_manifest

CLOSE = {"investigation": {"investigator": "质量部 陈工", "findings": "运输破损",
                           "completed_at": "2026-10-20T10:00:00+08:00"},
         "response": {"replied_at": "2026-10-21T10:00:00+08:00", "method": "phone", "content": "已换货"},
         "closure": {"closed_at": "2026-10-22T09:00:00+08:00", "approved_by": "质量部经理 黄涛"}}


PAST = "2025-01-31"


def _log_intake(root: Path, record: Path, number: str) -> None:
    """The audit entry an intake of this folder would have written: what verify (and so purge) checks against."""
    files = [{"path": f["path"], "sha256": f["sha256"]} for f in read_manifest(record)["files"]]
    audit.append(root / "audit" / "audit.jsonl", actor="bench", action="intake", number=number, files=files,
                 extra={"manifest_sha256": sha256_file(record / "manifest.json")})


def build(root: Path, cases: int, due: int) -> list[str]:
    Archive.create(root, "bench")
    toml = root / "archive.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("destruction_signatures = 2",
                                                             "destruction_signatures = 0"), encoding="utf-8")
    apply_settings(Archive.open(root, "bench", write=True, settings_pending_ok=True), "bench: no keys")
    src = write_cases(root.parent / "in", 1)[0]
    case = json.loads(src.read_text(encoding="utf-8"))
    case["received_at"] = "2026-10-15T10:00:00+08:00"
    src.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    number = intake(Archive.open(root, "bench", write=True), prepare(src)).number
    update(Archive.open(root, "bench", write=True), number, PreparedUpdate("close.json", CLOSE))
    template = next(root.glob(f"records/*/*/{number}"))
    month = template.parent
    numbers = []
    for i in range(2, cases + 1):
        n = f"2610{i:04d}"
        dest = month / n
        shutil.copytree(template, dest)
        (dest / "manifest.json").unlink()
        record = json.loads((dest / "case.json").read_text(encoding="utf-8"))
        record["number"] = n
        (dest / "case.json").write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        closure = dest / "stages" / "closure.v1.json"
        stage = json.loads(closure.read_text(encoding="utf-8"))
        stage["derived"]["retention_until"] = PAST if i <= due else "2035-01-31"
        closure.write_text(json.dumps(stage, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        write_manifest(dest, n)
        _log_intake(root, dest, n)
        numbers.append(n)
    # the template itself is kept: it is not due
    stage = template / "stages" / "closure.v1.json"
    data = json.loads(stage.read_text(encoding="utf-8"))
    data["derived"]["retention_until"] = "2035-01-31"
    stage.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    write_manifest(template, number)
    _log_intake(root, template, number)
    rebuild(Archive.open(root, "bench", write=True))  # the settings applied above
    return numbers[: due - 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--due", type=int, default=1000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-purge-"))
    try:
        root = work / "root"
        root.mkdir()
        due = build(root, args.cases, args.due + 1)
        copy = work / "copy"
        shutil.copytree(root / "records", copy)
        folders = [str(p) for p in copy.glob("*/*/*") if p.name in set(due)]
        t0 = time.perf_counter()
        subprocess.run(["rm", "-rf", *folders], check=True)
        t_rm = time.perf_counter() - t0
        arc = Archive.open(root, "档案员 李明", write=True)
        t0 = time.perf_counter()
        from archive import clock

        result = purge(arc, clock.today(arc.settings.zone), "质量部经理 黄涛", execute=True)
        t_purge = time.perf_counter() - t0
        assert len(result.destroyed) == len(due), (len(result.destroyed), len(due))
        cert = root / result.certificate if result.certificate else None
        pdf_size = (cert.with_suffix(".pdf").stat().st_size / 1e6) if cert else 0.0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = len(due)
    print(f"# python bench/purge.py --cases {args.cases} --due {args.due}   ({os.cpu_count()} cores)")
    print("| measure | archive | baseline | ratio |")
    print("|---|---|---|---|")
    print(f"| purge {n} due of {args.cases} cases (journaled destroy, tombstones, register, index merge, "
          f"verify of each record first, signed certificate .json/.docx/.pdf "
          f"{pdf_size:.1f} MB) | {n / t_purge:.0f} cases/s ({t_purge:.1f} s) "
          f"| `rm -rf` of the same folders: {n / t_rm:.0f} folders/s ({t_rm:.2f} s) | {t_purge / t_rm:.0f}× slower |")


if __name__ == "__main__":
    main()
