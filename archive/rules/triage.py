"""Major-complaint triggers, severity and routing at intake (DESIGN.md, "Rules taken from the SOPs")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from archive import vocab
from archive.settings import Settings


@dataclass(frozen=True)
class Triage:
    severity: str
    severity_given: str | None
    reasons: tuple[str, ...]
    departments: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "severity_given": self.severity_given,
                "reasons": list(self.reasons), "departments": list(self.departments)}


def major_reasons(case: dict[str, Any], settings: Settings) -> list[str]:
    reasons = []
    channel = case.get("channel")
    if channel == "media":
        reasons.append("媒体曝光 (channel: media)")
    if channel == "regulator":
        reasons.append("监管/消协转办 (channel: regulator)")
    if case.get("safety_related"):
        reasons.append("涉及人身安全 (safety_related)")
    if case.get("legal_action"):
        reasons.append("涉及诉讼/律师/警察 (legal_action)")
    claim = case.get("claim_amount")
    if isinstance(claim, int | float) and claim >= settings.claim_amount_major:
        reasons.append(f"索赔金额 {claim:g} 元 ≥ {settings.claim_amount_major:g} 元 (claim_amount)")
    people = case.get("people_affected")
    if isinstance(people, int) and people >= settings.people_affected_major:
        reasons.append(f"涉及人数 {people} ≥ {settings.people_affected_major} (people_affected)")
    return reasons


def _department_of(person: str) -> str | None:
    """'质量保证部 张丽' or '李敏(销售部)' name a department; a bare title does not."""
    m = re.search(r"([\w\u4e00-\u9fff]+(?:部|科|中心|室|处))", person)
    return m.group(1) if m else None


def route(case: dict[str, Any], settings: Settings) -> tuple[str, ...]:
    category = case.get("category", "other")
    out: list[str] = []
    if category == "service":
        served = case.get("department_served") or _department_of(case.get("received_by", ""))
        if served:
            out.append(served)
    out.extend(settings.routing.get(category, ()))
    if not out:
        out.extend(settings.routing.get("other", ()))
    return tuple(dict.fromkeys(out))


def triage(case: dict[str, Any], settings: Settings) -> Triage:
    given = case.get("severity")
    reasons = major_reasons(case, settings)
    severity = given or "minor"
    if reasons and vocab.SEVERITY_RANK[severity] < vocab.SEVERITY_RANK["major"]:
        severity = "major"
    return Triage(severity, given, tuple(reasons), route(case, settings))

