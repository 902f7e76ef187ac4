"""Stage updates: check a stage file against the case's state and turn it into versioned stage records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive import vocab
from archive.errors import InputError, StateError
from archive.record.reader import CaseView
from archive.rules import deadlines
from archive.rules.chronology import check_stage_dates
from archive.rules.retention import retention_until, rule_for
from archive.rules.triage import major_reasons
from archive.settings import Settings
from archive.validate import check_schema, parse_json, read_input, with_codes


@dataclass(frozen=True)
class PreparedUpdate:
    file: str
    data: dict[str, Any]


def prepare(path: Path) -> PreparedUpdate:
    name = str(path)
    data = with_codes(parse_json(name, read_input(path)), "update.schema.json")
    check_schema(name, data, "update.schema.json")
    return PreparedUpdate(name, data)


def check_against_case(prep: PreparedUpdate, view: CaseView, now: dt.datetime, skew: dt.timedelta) -> None:
    """Dates that cannot be right for this case are refused like any other bad field."""
    recorded = {name: dict(stage.get("data") or {}) for name, stage in view.stages.items()
                if isinstance(stage.get("data"), dict)}
    check_stage_dates(prep.file, prep.data, recorded, view.case["received_at"], now, skew)
    _reviewer_is_not_recorder(prep, view, recorded.get("triage", {}))


def same_person(a: str, b: str) -> bool:
    """'质量保证部 张丽' and '张丽' are one person: names are compared without the department before them."""
    return a.strip() == b.strip() or a.split()[-1:] == b.split()[-1:]


def _reviewer_is_not_recorder(prep: PreparedUpdate, view: CaseView, recorded: dict[str, Any]) -> None:
    """记录表 GL-004-02: the QA who records a complaint and the 复核人 who reviews it are two people."""
    triage = {**recorded, **prep.data.get("triage", {})}
    reviewer = triage.get("reviewed_by")
    recorder = triage.get("qa") or view.record.get("intake", {}).get("actor")
    if reviewer and recorder and same_person(reviewer, recorder):
        where = "$.triage.reviewed_by" if "reviewed_by" in prep.data.get("triage", {}) else "$.triage.qa"
        raise InputError(prep.file, where, f"复核人 {reviewer} is the QA who recorded the complaint ({recorder}); "
                                           "one person may not fill both rows of the record form (GL-004-02)")


# CAPA fields that record an action's progress once it is done: filling them in is not a correction.
PROGRESS_FIELDS = ("done_at", "verification", "verified_by", "verified_at")


def unchanged(prep: PreparedUpdate, view: CaseView) -> list[str]:
    """Stages of the file whose content is exactly the recorded version's: re-applying them changes nothing."""
    return [s for s in vocab.STAGES
            if s in prep.data and s in view.stages and view.stages[s].get("data") == prep.data[s]]


def capa_progress(prep: PreparedUpdate, view: CaseView) -> bool:
    """The file only records progress on the recorded CAPA actions: the same actions, in the same order, each
    unchanged but for progress fields (PROGRESS_FIELDS) it did not have, at least one of them newly filled.
    Progress is no correction (no --reason) and, on a closed case, needs no reopen."""
    if set(prep.data) != {"capa"} or "capa" not in view.stages:
        return False
    before, after = view.stages["capa"].get("data") or [], prep.data["capa"]
    if len(before) != len(after) or before == after:
        return False
    for old, new in zip(before, after, strict=True):
        kept = {k: v for k, v in new.items() if k not in PROGRESS_FIELDS or k in old}
        if kept != old:
            return False
    return True


def plan(prep: PreparedUpdate, view: CaseView, *, reason: str | None, reopen: bool, now: dt.datetime,
         skew: dt.timedelta = dt.timedelta(minutes=10), approvals_lapsed: list[str] | None = None) -> list[str]:
    """The stages this update writes, in handling order; refuses what the case's state does not allow."""
    stages = [s for s in vocab.STAGES if s in prep.data]
    if not reopen and capa_progress(prep, view):
        check_against_case(prep, view, now, skew)
        return stages
    if reopen:
        if not view.closed:
            raise StateError(f"case {view.number} is not closed; --reopen is only for closed cases")
        if not reason:
            raise StateError("--reopen needs --reason TEXT (the reason is kept in the audit log)")
    elif view.closed:
        raise StateError(f"case {view.number} is closed (retention until {view.retention_until}); "
                         "changes need --reopen --reason TEXT")
    corrected = [s for s in stages if s in view.stages and not (reopen and s == "closure")]
    if corrected and not reason:
        raise StateError(f"case {view.number} already has {', '.join(corrected)}: replacing a recorded stage is "
                         "a correction and needs --reason TEXT")
    if "closure" in stages:
        # 21 CFR 820.198(b): a case may close without an investigation when the record says why and who decided.
        waived = "no_investigation" in prep.data["closure"]
        needed = ("response",) if waived else ("investigation", "response")
        missing = [s for s in needed if s not in view.stages and s not in prep.data]
        if missing:
            raise StateError(f"case {view.number} cannot be closed before its {' and '.join(missing)} "
                             "is recorded")
        capa = prep.data.get("capa") or view.stages.get("capa", {}).get("data") or []
        still_open = [a for a in capa if not a.get("done_at")]
        if still_open and not reason:
            listed = "; ".join(f"{a['action']} ({a['owner']}, {a['due']})" for a in still_open)
            raise StateError(f"case {view.number} cannot be closed while {len(still_open)} CAPA action(s) are "
                             f"open: {listed}; record their completion, or give --reason why it closes anyway")
        if approvals_lapsed:
            raise StateError(f"case {view.number} cannot be closed before its forms are approved (批准): "
                             f"{', '.join(approvals_lapsed)} (archive.toml [closure] require_approvals)")
    check_against_case(prep, view, now, skew)
    return stages


def derived(stage: str, data: dict[str, Any], view: CaseView, settings: Settings) -> dict[str, Any]:
    """What the archive computes from a stage, stored beside it so the register can be rebuilt."""
    if stage == "triage":
        current = view.severity
        wanted = data.get("severity", current)
        # A trigger at intake sets a floor: triage may lower a severity only down to 'major'.
        floor = "major" if major_reasons(view.case, settings) else "minor"
        if vocab.SEVERITY_RANK[wanted] < vocab.SEVERITY_RANK[floor]:
            wanted = floor
        out: dict[str, Any] = {"severity": wanted}
        if "urgent" in data or "category" in data:
            # What triage decides moves the reply (urgency) and 8D (category) deadlines: stored here, beside
            # the stage, as case.json is written once; CaseView.deadlines reads them.
            out["deadlines"] = deadlines.retimed(view.case, data.get("category") or view.case.get("category")
                                                 or "other", bool(data.get("urgent", view.case.get("urgent"))),
                                                 settings)
        return out
    if stage == "closure":
        return retention_of(view, data["closed_at"], settings)
    return {}


def retention_of(view: CaseView, closed_at: str, settings: Settings) -> dict[str, Any]:
    """The retention date a closure gives under today's settings, with the rule that gave it."""
    rule = rule_for(view.category, settings)
    expiry = view.case.get("product", {}).get("expiry_date")
    return {"retention_until": retention_until(closed_at, expiry, rule).isoformat(), "rule": rule.name,
            "rule_text": rule.text}


def record(stage: str, version: int, data: Any, derived_values: dict[str, Any], *, actor: str, now: str,
           reason: str | None, supersedes: str | None, source: str) -> dict[str, Any]:
    out: dict[str, Any] = {"stage": stage, "version": version, "data": data, "derived": derived_values,
                           "recorded_at": now, "actor": actor, "source": source}
    if reason:
        out["reason"] = reason
    if supersedes:
        out["supersedes"] = supersedes
    return out
