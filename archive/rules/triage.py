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
    """Why a case is major, in the Chinese a form prints (no program words: the case JSON keeps the keys)."""
    t = vocab.MAJOR_TRIGGER
    reasons = []
    channel = case.get("channel")
    if channel in ("media", "regulator"):
        reasons.append(t[channel])
    if case.get("safety_related"):
        reasons.append(t["safety_related"])
    if case.get("legal_action"):
        reasons.append(t["legal_action"])
    claim = case.get("claim_amount")
    if isinstance(claim, int | float) and claim >= settings.claim_amount_major:
        reasons.append(f"{t['claim_amount']} {claim:g} 元 ≥ {settings.claim_amount_major:g} 元")
    people = case.get("people_affected")
    if isinstance(people, int) and people >= settings.people_affected_major:
        reasons.append(f"{t['people_affected']} {people} 人 ≥ {settings.people_affected_major} 人")
    return reasons


# Records archived before the reasons were Chinese only end in " (program_word)": printed without it.
_PROGRAM_SUFFIX = re.compile(r"\s*\((?:channel: )?[a-z_]+\)$")


def printable_reason(reason: str) -> str:
    return _PROGRAM_SUFFIX.sub("", reason)


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

