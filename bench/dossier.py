"""Dossier speed beside its floor, measured in the same run.

    python bench/dossier.py [--cases 20]

A dossier of N cases, each with 4 documents (register form, record form, investigation report, CAPA record)
and 2 attachments (a PDF and a text file), against the floor: one LibreOffice batch conversion of the same
documents plus copying the record folders (what any export must at least do).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from docx import Document

from archive.documents import pdf
from archive.record import folders
from archive.record import reader as casefile
from archive.rules import stages
from archive.services import dossier
from archive.services.archive import Archive
from archive.services.cases import intake, prepare, update

UPDATE = {
    "investigation": {"investigator": "张丽", "findings": "承运商装卸不当,外箱挤压", "completed_at":
                      "2026-11-04T10:00:00+08:00"},
    "capa": [{"kind": "corrective", "action": "加固外箱", "owner": "张三", "due": "2026-11-20"}],
}


def _inputs(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    doc = Document()
    doc.add_paragraph("客户来函:外包装破损")
    doc.save(str(folder / "letter.docx"))
    pdf.convert([folder / "letter.docx"], folder)
    (folder / "note.txt").write_text("客户电话记录", encoding="utf-8")
    paths = []
    for i in range(n):
        case = {"received_at": "2026-11-03T10:15:00+08:00", "channel": "phone",
                "complainant": {"name": f"客户{i}", "organization": f"单位{i}"},
                "product": {"name": "阿莫西林胶囊", "lot": f"B{i:08d}", "expiry_date": "2028-07-31"},
                "description": f"第 {i} 起投诉:外包装破损", "category": "packaging",
                "attachments": [{"path": "letter.pdf", "title": "来函"}, {"path": "note.txt", "title": "记录"}]}
        path = folder / f"case-{i}.json"
        path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    (folder / "update.json").write_text(json.dumps(UPDATE, ensure_ascii=False), encoding="utf-8")
    return paths


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=20)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-dossier-"))
    try:
        arc = Archive.create(work / "root", "bench")
        numbers = [intake(arc, prepare(p)).number for p in _inputs(work / "in", args.cases)]
        for n in numbers:
            update(arc, n, stages.prepare(work / "in" / "update.json"))
        views = [casefile.load(folders.find_record(arc.layout, n)) for n in numbers]
        docs = [v.path / v.documents[d][-1] for v in views for d in v.documents]

        t0 = time.perf_counter()
        dossier.export(arc, numbers, None, work / "out")
        t_dossier = time.perf_counter() - t0

        t0 = time.perf_counter()
        staged = work / "floor-in"
        staged.mkdir()
        for i, d in enumerate(docs):
            shutil.copyfile(d, staged / f"{i:04d}.docx")
        pdf.convert(sorted(staged.glob("*.docx")), work / "floor-pdf")
        for v in views:
            shutil.copytree(v.path, work / "floor-copy" / v.number)
        t_floor = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"# python bench/dossier.py --cases {args.cases}")
    print("| measure | archive | baseline | ratio |")
    print("|---|---|---|---|")
    print(f"| dossier, {len(views)} cases × {len(docs) // max(len(views), 1)} documents + 2 attachments (PDF/A pages, "
          f"bookmarks, bag with sha256+sha512, audit) | {t_dossier:.1f} s | one soffice batch of the same "
          f"{len(docs)} documents + copying the folders: {t_floor:.1f} s | {t_dossier / t_floor:.1f}× the floor |")


if __name__ == "__main__":
    main()
