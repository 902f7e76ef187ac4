"""Render every page of every GL-004 form into docs/forms/*.png, to look at.

    .venv/bin/python docs/render_forms.py        (needs LibreOffice and pdftoppm: `make demo` installs them)

ID.png is page 1 of each form from the shipped examples (ID-2.png its page 2, if any); full-ID*.png are the
forms of tests/fixtures/forms (a B类 case that fills every optional field, corrected, closed with an action
open); capa-15*.png a CAPA record of 15 actions (the signature block stays with the table's last rows).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from archive.rules.stages import prepare as prepare_update
from archive.services.archive import Archive
from archive.services.cases import intake, prepare, render, update

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLES = PROJECT / "examples"
FIXTURES = PROJECT / "tests" / "fixtures" / "forms"
OUT = Path(__file__).parent / "forms"


def _pages(pdf: Path, name: str) -> None:
    """Each page as NAME.png, NAME-2.png, …"""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), f"{tmp}/p"], check=True)
        for i, page in enumerate(sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[1])), 1):
            target = OUT / (f"{name}.png" if i == 1 else f"{name}-{i}.png")
            shutil.copyfile(page, target)
            print(target)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        arc = Archive.create(Path(tmp), "质量保证部 张丽")
        first = intake(arc, prepare(EXAMPLES / "01-pharma-packaging.json")).number
        for name in ("01-investigation.json", "01-capa.json", "01-close.json"):
            update(arc, first, prepare_update(EXAMPLES / "updates" / name))
        quality = intake(arc, prepare(EXAMPLES / "05-electronics-quality.json")).number
        for name in ("05-investigation.json", "05-capa.json"):
            update(arc, quality, prepare_update(EXAMPLES / "updates" / name))
        full = intake(arc, prepare(FIXTURES / "full-case.json")).number
        for name in ("triage", "investigation", "capa", "response"):
            update(arc, full, prepare_update(FIXTURES / f"full-{name}.json"))
        update(arc, full, prepare_update(FIXTURES / "full-investigation-corrected.json"), reason="补充发运温度记录")
        update(arc, full, prepare_update(FIXTURES / "full-close.json"), reason="预防措施转入年度计划跟踪")
        long = intake(arc, prepare(EXAMPLES / "05-electronics-quality.json"), allow_duplicate=True).number
        update(arc, long, prepare_update(EXAMPLES / "updates" / "05-investigation.json"))
        update(arc, long, prepare_update(FIXTURES / "capa-15.json"))
        OUT.mkdir(exist_ok=True)
        for old in OUT.glob("*.png"):
            old.unlink()
        for number, prefix, only in ((first, "", None), (quality, "", "eightd-report"), (full, "full-", None),
                                     (long, "capa-15", "capa-record")):
            for pdf in (p for p in render(arc, number, pdf=True) if p.endswith(".pdf")):
                doc_id = Path(pdf).name.split(".v")[0]
                if only is not None and doc_id != only:
                    continue
                src = next(Path(tmp).glob(f"records/*/*/{number}")) / pdf
                _pages(src, prefix if prefix == "capa-15" else prefix + doc_id)
        shutil.rmtree(Path(tmp) / ".work", ignore_errors=True)


if __name__ == "__main__":
    main()
