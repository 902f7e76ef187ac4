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


# LibreOffice's replacement table in the private profile: the forms ask for the Windows faces 宋体/黑体 (and
# version 1 for Times New Roman digits); where those are absent, every one of them becomes the Simplified
# Chinese Noto face, so a PDF embeds SC glyphs only (no Japanese variant, no DejaVu digits).
FONT_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    ("宋体", "Noto Serif CJK SC"), ("SimSun", "Noto Serif CJK SC"), ("黑体", "Noto Sans CJK SC"),
    ("SimHei", "Noto Sans CJK SC"), ("Times New Roman", "Noto Serif CJK SC"), ("Calibri", "Noto Sans CJK SC"),
)


def profile_settings() -> str:
    """registrymodifications.xcu for the private profile: the font replacement table, always applied."""
    def pair(i: int, replace: str, substitute: str) -> str:
        props = {"Always": "true", "OnScreenOnly": "false", "ReplaceFont": replace, "SubstituteFont": substitute}
        inner = "".join(f'<prop oor:name="{k}" oor:op="fuse"><value>{v}</value></prop>' for k, v in props.items())
        return (f'<item oor:path="/org.openoffice.Office.Common/Font/Substitution/FontPairs">'
                f'<node oor:name="_{i}" oor:op="replace">{inner}</node></item>')

    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            '<item oor:path="/org.openoffice.Office.Common/Font/Substitution">'
            '<prop oor:name="Replacement" oor:op="fuse"><value>true</value></prop></item>\n'
            + "\n".join(pair(i, r, s) for i, (r, s) in enumerate(FONT_REPLACEMENTS)) + "\n</oor:items>\n")


# LibreOffice's PDF export asked for PDF/A-2b (its SelectPdfVersion 2): fonts embedded, an sRGB output intent
# and XMP metadata naming the part and conformance.
PDFA_2B = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'


def convert(docs: list[Path], outdir: Path, timeout: int = 300, *, pdfa: bool = False) -> list[Path]:
    """Convert ``docs`` to PDF in one soffice run; returns the PDFs in the order given. ``pdfa``: PDF/A-2b."""
    if not docs:
        return []
    outdir.mkdir(parents=True, exist_ok=True)
    exe = soffice()
    # A private profile: two soffice runs sharing ~/.config/libreoffice block or corrupt each other.
    with tempfile.TemporaryDirectory(prefix="archive-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(profile_settings(), encoding="utf-8")
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--nologo",
               "--nodefault", "--convert-to", PDFA_2B if pdfa else "pdf:writer_pdf_Export", "--outdir", str(outdir),
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
