"""Render page 1 of every GL-004 form from the shipped examples into docs/forms/*.png, to look at.

    .venv/bin/python docs/render_forms.py        (needs LibreOffice and pdftoppm: `make demo` installs them)
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
OUT = Path(__file__).parent / "forms"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        arc = Archive.create(Path(tmp), "质量保证部 张丽")
        first = intake(arc, prepare(EXAMPLES / "01-pharma-packaging.json")).number
        for name in ("01-investigation.json", "01-capa.json", "01-close.json"):
            update(arc, first, prepare_update(EXAMPLES / "updates" / name))
        quality = intake(arc, prepare(EXAMPLES / "05-electronics-quality.json")).number
        for name in ("05-investigation.json", "05-capa.json"):
            update(arc, quality, prepare_update(EXAMPLES / "updates" / name))
        OUT.mkdir(exist_ok=True)
        for number in (first, quality):
            for pdf in render(arc, number, pdf=True):
                doc_id = Path(pdf).name.split(".v")[0]
                if number == quality and doc_id != "eightd-report":
                    continue
                src = next(Path(tmp).glob(f"records/*/*/{number}")) / pdf
                subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(src),
                                str(OUT / doc_id)], check=True)
                print(OUT / f"{doc_id}.png")
        shutil.rmtree(Path(tmp) / ".work", ignore_errors=True)


if __name__ == "__main__":
    main()
