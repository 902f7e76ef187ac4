"""The flat case summary: one row per case that the register, the index, reports and dossiers all read."""

from __future__ import annotations

from typing import Any

from archive.record.reader import CaseView


def summary(view: CaseView) -> dict[str, Any]:
    """Every field a derived store or a report shows about a case, flat and JSON-ready."""
    case = view.case
    complainant = case["complainant"]
    product = case.get("product", {})
    deadlines = view.record["deadlines"]
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
        "retention_until": view.retention_until,
        "hold": bool(view.hold),
    }
