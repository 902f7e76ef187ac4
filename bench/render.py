"""Document rendering speed beside its floors, measured in the same run.

    python bench/render.py [--cases 200] [--pdf-docs 10]

docx: renders/s of the GL-004 record form over generated cases, beside python-docx load+save of the same
template (the floor: docxtpl cannot be faster than opening and writing the file). PDF: seconds per
document converted in one LibreOffice batch, beside one soffice process per document.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from docx import Document
from gen import write_cases

from archive.documents import pdf
from archive.documents import render as documents
from archive.record import reader as casefile
from archive.services.archive import Archive
from archive.services.cases import intake, prepare

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--pdf-docs", type=int, default=10)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    try:
        arc = Archive.create(work, "bench")
        numbers = [intake(arc, prepare(p)).number for p in write_cases(work / "in", args.cases)]
        views = [casefile.load(next(work.glob(f"records/*/*/{n}"))) for n in numbers]
        out = work / "out"
        out.mkdir()
        t0 = time.perf_counter()
        for v in views:
            (out / v.number).mkdir()
            documents.render(out / v.number, v, "record-form", TEMPLATES, arc.settings.organisation)
        t_render = time.perf_counter() - t0
        template = TEMPLATES / "record-form.v1.docx"
        t0 = time.perf_counter()
        for _ in views:
            Document(str(template)).save(io.BytesIO())
        t_floor = time.perf_counter() - t0

        docs = sorted(out.glob("*/documents/*.docx"))[: args.pdf_docs]
        t0 = time.perf_counter()
        pdf.convert(docs, work / "pdf-batch")
        t_batch = (time.perf_counter() - t0) / len(docs)
        t0 = time.perf_counter()
        for d in docs:
            pdf.convert([d], work / "pdf-single")
        t_single = (time.perf_counter() - t0) / len(docs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = len(views)
    print(f"# python bench/render.py --cases {args.cases} --pdf-docs {args.pdf_docs}")
    print("| measure | archive | baseline | ratio |")
    print("|---|---|---|---|")
    print(f"| docx render, record form, {n} cases | {n / t_render:.0f} docs/s | python-docx load+save of the "
          f"template: {n / t_floor:.0f} docs/s | {t_render / t_floor:.1f}× the floor |")
    print(f"| PDF, {len(docs)} docs in one soffice batch | {t_batch:.2f} s/doc | one soffice per doc: "
          f"{t_single:.2f} s/doc | batch {t_single / t_batch:.1f}× faster |")


if __name__ == "__main__":
    main()
