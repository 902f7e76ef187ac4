"""The flat case summary: one row per case that the register, the index, reports and dossiers all read."""

from __future__ import annotations

from typing import Any

from archive.integrity.approvals import lapsed
from archive.record.reader import CaseView
from archive.store.hashing import sha256_bytes


def duplicate_key(case: dict[str, Any]) -> str:
    """The same complaint sent twice: same complainant, same time of receipt, same words."""
    text = "\x1f".join((case["complainant"]["name"].strip(), case["received_at"], case["description"].strip()))
    return sha256_bytes(text.encode("utf-8"))


def _stage_field(view: CaseView, stage: str, field: str) -> str | None:
    value = (view.stages.get(stage) or {}).get("data") or {}
    return value.get(field) if isinstance(value, dict) else None


def summary(view: CaseView) -> dict[str, Any]:
    """Every field a derived store or a report shows about a case, flat and JSON-ready."""
    case = view.case
    complainant = case["complainant"]
    product = case.get("product", {})
    deadlines = view.deadlines
    closure = view.stages.get("closure", {}).get("data", {}) if view.closed else {}
    return {
        "number": view.number,
        "received_at": case["received_at"],
        "period": case["received_at"][:7],
        "channel": case["channel"],
        "complainant": complainant["name"],
        "organisation": complainant.get("organization"),
        "product": product.get("name"),
        "lot": product.get("lot"),
        "part_no": product.get("part_no"),
        "order_no": product.get("order_no"),
        "category": view.category,
        "severity": view.severity,
        "triage_reasons": list(view.record["triage"]["reasons"]),
        "departments": list(view.departments),
        "status": view.status,
        "reply_due": deadlines["reply_due"],
        "investigation_due": deadlines["investigation_due"],
        "eightd_due": deadlines.get("eightd_due"),
        "closed_at": closure.get("closed_at"),
        # The stage dates that meet the reply and investigation deadlines (deadlines.MET_BY).
        "replied_at": _stage_field(view, "response", "replied_at"),
        "investigated_at": _stage_field(view, "investigation", "completed_at"),
        "retention_until": view.retention_until,
        "hold": bool(view.hold),
        "retention_rule": (view.retention or {}).get("rule"),
        "intake_sha256": view.record["intake"]["sha256"],
        "duplicate_key": duplicate_key(case),
        "lapsed_approvals": lapsed(view),
    }
