"""Word → PDF with LibreOffice headless: many files per soffice process, a private profile per run."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from archive.errors import ArchiveError


class PdfError(ArchiveError):
    """LibreOffice is missing or failed to convert."""


def soffice() -> str:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    raise PdfError("LibreOffice (soffice) is not installed; `make demo` or `make test` installs it, or: "
                   "apt-get install libreoffice-writer-nogui fonts-noto-cjk")


def convert(docs: list[Path], outdir: Path, timeout: int = 300) -> list[Path]:
    """Convert ``docs`` to PDF in one soffice run; returns the PDFs in the order given."""
    if not docs:
        return []
    outdir.mkdir(parents=True, exist_ok=True)
    exe = soffice()
    # A private profile: two soffice runs sharing ~/.config/libreoffice block or corrupt each other.
    with tempfile.TemporaryDirectory(prefix="archive-lo-") as profile:
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--nologo",
               "--nodefault", "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(outdir),
               *map(str, docs)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"LibreOffice did not finish converting {len(docs)} file(s) in {timeout} s") from None
    pdfs = [outdir / (d.stem + ".pdf") for d in docs]
    missing = [p.name for p in pdfs if not p.is_file()]
    if missing:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise PdfError(f"LibreOffice did not produce {', '.join(missing)}"
                       + (f": {detail[-1]}" if detail else f" (exit {proc.returncode})"))
    return pdfs
