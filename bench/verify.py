"""Verify throughput beside raw hashlib SHA-256 over the same files, and Ed25519 verifies/s.

    python bench/verify.py [--mb 1024] [--records 500]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from archive.integrity.verify import run
from archive.services.archive import Archive
from archive.services.cases import intake, prepare
from archive.store.layout import Layout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--records", type=int, default=500)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    try:
        (work / "root").mkdir()
        arc = Archive.create(work / "root", "bench")
        per = args.mb * 1024 * 1024 // args.records
        block = os.urandom(1 << 20)
        src = work / "in"
        src.mkdir()
        for i in range(args.records):
            att = src / f"scan-{i:04d}.bin"
            with att.open("wb") as fh:
                left = per
                while left > 0:
                    fh.write(block[: min(left, len(block))])
                    left -= len(block)
            case = {"received_at": f"2026-{i % 10 + 1:02d}-10T09:00:00+08:00", "channel": "letter",
                    "complainant": {"name": f"客户{i}"}, "description": "外包装破损",
                    "attachments": [{"path": att.name}]}
            (src / f"c{i}.json").write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
            intake(arc, prepare(src / f"c{i}.json"))
        shutil.rmtree(src)
        files = [p for p in (work / "root" / "records").rglob("*") if p.is_file()]
        os.sync()
        t0 = time.perf_counter()
        total = 0
        for p in files:
            with p.open("rb") as fh:
                hashlib.file_digest(fh, "sha256")
            total += p.stat().st_size
        t_hash = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = run(Layout(work / "root"))
        t_verify = time.perf_counter() - t0
        assert report.ok, report.findings[:3]
        key = Ed25519PrivateKey.generate()
        msg = b"x" * 400
        sig = key.sign(msg)
        pub = key.public_key()
        n = 5000
        t0 = time.perf_counter()
        for _ in range(n):
            pub.verify(sig, msg)
        t_ed = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    gb = total / 1e9
    print(f"# python bench/verify.py --mb {args.mb} --records {args.records}   (page cache warm for both)")
    print("| measure | archive | baseline | ratio |")
    print("|---|---|---|---|")
    print(f"| verify, {args.records} records, {gb:.2f} GB | {gb / t_verify:.2f} GB/s | hashlib SHA-256 of the same "
          f"files: {gb / t_hash:.2f} GB/s | {100 * t_hash / t_verify:.0f}% of hashlib |")
    print(f"| Ed25519 verify | {n / t_ed:.0f} /s | | |")


if __name__ == "__main__":
    main()
