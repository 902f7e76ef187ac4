"""What the index holds for one case: its fields and one text of the case, its stages and attachments."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from archive import vocab
from archive.record.reader import CaseView
from archive.store.hashing import sha256_file
from archive.store.manifest import MANIFEST

# Stage fields holding a code: indexed by their Chinese label, which is what archivists type.
CODED = {"method": vocab.REPLY_METHOD, "responsibility": vocab.RESPONSIBILITY, "satisfaction": vocab.SATISFACTION}

MAX_ATTACHMENT_CHARS = 200_000


def attachment_text(path: Path) -> str:
    """Text of a txt, pdf or docx attachment; other kinds (and unreadable files) by their name only."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".txt", ".csv", ".md", ".eml"):
            raw = path.read_bytes()
            for enc in ("utf-8", "gb18030"):
                try:
                    return raw.decode(enc)[:MAX_ATTACHMENT_CHARS]
                except UnicodeDecodeError:
                    continue
            return ""
        if suffix == ".pdf":
            from pypdf import PdfReader

            logging.getLogger("pypdf").setLevel(logging.ERROR)
            reader = PdfReader(str(path))
            return "\n".join(page.extract_text() or "" for page in reader.pages)[:MAX_ATTACHMENT_CHARS]
        if suffix == ".docx":
            from docx import Document

            doc = Document(str(path))
            cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
            return "\n".join([p.text for p in doc.paragraphs] + cells)[:MAX_ATTACHMENT_CHARS]
    except Exception:  # a damaged attachment is still archived; it is found by its name instead
        return ""
    return ""


def _stage_texts(view: CaseView) -> list[str]:
    out: list[str] = []
    for name, stage in view.stages.items():
        data = stage.get("data")
        if name == "capa" and isinstance(data, list):
            for a in data:
                out += [a.get("action", ""), a.get("owner", ""), a.get("verification", "")]
        elif isinstance(data, dict):
            for key, value in data.items():
                if key in CODED:
                    out.append(CODED[key].get(str(value), ""))
                elif isinstance(value, str) and not key.endswith("_at"):
                    out.append(value)
                elif isinstance(value, list):
                    out += [v for v in value if isinstance(v, str)]
    return out


def document(view: CaseView) -> dict[str, Any]:
    case = view.case
    c = case["complainant"]
    p = case.get("product", {})
    identifiers = [view.number, p.get("lot"), p.get("order_no"), p.get("part_no")]
    attachments = []
    for att in view.record["attachments"]:
        path = view.path / att["file"]
        attachments += [att.get("title") or "", Path(att["file"]).name, attachment_text(path)]
    texts = [view.number, case["description"], case.get("customer_request", ""), c["name"],
             c.get("organization", ""), c.get("address", ""), case.get("received_by", ""),
             p.get("name", ""), p.get("spec", ""), *(x for x in identifiers if x),
             vocab.CHANNEL.get(case["channel"], ""), vocab.CATEGORY.get(view.category, ""),
             vocab.SEVERITY.get(view.severity, ""), *view.record["triage"]["reasons"], *view.departments,
             *_stage_texts(view), *attachments]
    received = case["received_at"][:10]
    return {
        "number": view.number,
        "received": int(received.replace("-", "")),
        "received_at": case["received_at"],
        "channel": case["channel"],
        "category": view.category,
        "severity": view.severity,
        "status": view.status,
        "complainant": c["name"],
        "organisation": c.get("organization", ""),
        "product": p.get("name", ""),
        "lot": " ".join(x for x in (p.get("lot"),) if x),
        "identifiers": " ".join(x for x in identifiers if x),
        "departments": " ".join(view.departments),
        "retention_until": view.retention_until or "",
        "hold": bool(view.hold),
        "content": "\n".join(t for t in texts if t),
        "stamp": sha256_file(view.path / MANIFEST),
    }
