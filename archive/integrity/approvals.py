"""Who has signed each current document of a case, what is still unsigned, and which approvals lapsed
(an approved form whose content changed since, e.g. after a reopen, is no longer approved: shown, never silent)."""

from __future__ import annotations

import json
from typing import Any

from archive import vocab
from archive.documents.render import STAGE_FORMS, meta_name
from archive.integrity.signing import carried, records
from archive.record.grammar import document_id
from archive.record.reader import CaseView


def _content_hash(view: CaseView, docx: str) -> str | None:
    meta = view.path / meta_name(docx)
    return str(json.loads(meta.read_text(encoding="utf-8")).get("content_sha256")) if meta.is_file() else None


def status(view: CaseView) -> dict[str, dict[str, Any]]:
    """Per document id: its latest version, the meanings signed on that content (with who and when), the
    document meanings still unsigned, and whether an earlier approval lapsed."""
    approved_before = {document_id(rec["document"]) for _, rec in records(view.path) if rec["meaning"] == "approved"}
    out = {}
    for doc_id in view.documents:
        latest = view.latest_document(doc_id)
        if latest is None:
            continue
        digest = _content_hash(view, latest)
        signed = carried(view.path, doc_id, digest) if digest else {}
        out[doc_id] = {
            "document": latest,
            "signed": {m: {"signer": r["signer"], "name": r["name"], "time": r["time"]} for m, r in signed.items()},
            "unsigned": [m for m in vocab.DOCUMENT_MEANINGS if m not in signed],
            "approval_lapsed": doc_id in approved_before and "approved" not in signed,
        }
    return out


def lapsed(view: CaseView) -> list[str]:
    return [doc_id for doc_id, s in status(view).items() if s["approval_lapsed"]]


def approver_findings(view: CaseView) -> list[dict[str, str]]:
    """核准人: the closure's approved_by is free text, the 批准 e-signature on the closure's form is a person's
    act; a name that is not the signer's is a finding (show, verify warnings), never silently printed beside it.
    Nothing is said before the form is approved."""
    closure = view.stages.get("closure")
    if closure is None or not isinstance(closure.get("data"), dict):
        return []
    named = str(closure["data"].get("approved_by") or "").strip()
    out = []
    for doc_id, s in status(view).items():
        signer = s["signed"].get("approved")
        if doc_id not in STAGE_FORMS["closure"] or signer is None:
            continue
        if signer["name"].strip() not in named:
            out.append({"kind": "approver_differs", "document": s["document"], "approved_by": named,
                        "signer": signer["name"],
                        "detail": f"结案核准人“{named}”不是在 {s['document']} 上签署批准的 {signer['name']}"})
    return out
