"""Read one record folder into the case's current state: intake, latest stage versions, documents, status."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive import vocab
from archive.record.grammar import CASE_FILE, DOCUMENTS_DIR, HOLDS_DIR, STAGES_DIR, VERSIONED


@dataclass
class CaseView:
    path: Path
    record: dict[str, Any]  # case.json: number, the case as received, triage, deadlines, attachments
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)  # latest version of each stage
    stage_versions: dict[str, int] = field(default_factory=dict)
    documents: dict[str, list[str]] = field(default_factory=dict)  # document id -> versions, oldest first
    holds: dict[str, dict[str, Any]] = field(default_factory=dict)  # hold id -> its latest record

    @property
    def number(self) -> str:
        return str(self.record["number"])

    @property
    def case(self) -> dict[str, Any]:
        return dict(self.record["case"])

    @property
    def severity(self) -> str:
        triage = self.stages.get("triage", {})
        return str(triage.get("derived", {}).get("severity") or self.record["triage"]["severity"])

    @property
    def category(self) -> str:
        triage = self.stages.get("triage", {}).get("data", {})
        return str(triage.get("category") or self.case.get("category") or "other")

    @property
    def departments(self) -> list[str]:
        triage = self.stages.get("triage", {}).get("data", {})
        return list(triage.get("departments") or self.record["triage"]["departments"])

    @property
    def urgent(self) -> bool:
        """Urgent as received, or as a later triage decided (紧急投诉)."""
        triage = self.stages.get("triage", {}).get("data", {})
        return bool(triage["urgent"] if "urgent" in triage else self.case.get("urgent"))

    @property
    def deadlines(self) -> dict[str, Any]:
        """The deadlines in force: those computed at intake, or those a later triage re-timed (it found the
        case urgent, or not, or of another category); case.json keeps the intake's."""
        retimed = self.stages.get("triage", {}).get("derived", {}).get("deadlines")
        return dict(retimed or self.record["deadlines"])

    @property
    def closed(self) -> bool:
        closure = self.stages.get("closure")
        if closure is None:
            return False
        reopen = self.stages.get("reopen")
        return reopen is None or reopen["derived"]["version_of_closure"] < self.stage_versions["closure"]

    @property
    def status(self) -> str:
        if self.closed:
            return "closed"
        for stage, status in (("follow_up", "following_up"), ("response", "answered"),
                              ("investigation", "investigating")):
            if stage in self.stages:
                return status
        return "registered"

    @property
    def active_holds(self) -> list[dict[str, Any]]:
        """Legal holds in force: the case is held while any is."""
        return [h for _, h in sorted(self.holds.items()) if h.get("active")]

    @property
    def hold(self) -> dict[str, Any] | None:
        active = self.active_holds
        return active[0] if active else None

    @property
    def retention(self) -> dict[str, Any] | None:
        """retention_until and its rule: from the closure, or from a later `retention recompute` of that
        same closure. None while the case is open (a reopened case has none until it closes again)."""
        if not self.closed:
            return None
        closure = self.stages["closure"]["derived"]
        recomputed = self.stages.get("retention")
        if recomputed and recomputed["data"].get("closure_version") == self.stage_versions["closure"]:
            return dict(recomputed["data"])
        return {"retention_until": closure["retention_until"], "rule": closure.get("rule", "default"),
                "rule_text": closure.get("rule_text", closure.get("rule", ""))}

    @property
    def retention_until(self) -> str | None:
        r = self.retention
        return str(r["retention_until"]) if r else None

    @property
    def closed_at(self) -> str | None:
        return str(self.stages["closure"]["data"]["closed_at"]) if self.closed else None

    def latest_document(self, doc_id: str) -> str | None:
        versions = self.documents.get(doc_id)
        return versions[-1] if versions else None


def _versions(folder: Path) -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {}
    if not folder.is_dir():
        return out
    for p in folder.iterdir():
        m = VERSIONED.match(p.name)
        if m and not p.name.startswith("."):
            out.setdefault(m.group("stem"), []).append((int(m.group("v")), p.name))
    for v in out.values():
        v.sort()
    return out


def load(record_dir: Path) -> CaseView:
    record = json.loads((record_dir / CASE_FILE).read_text(encoding="utf-8"))
    view = CaseView(record_dir, record)
    order = {s: i for i, s in enumerate(vocab.STAGES)}
    for stem, versions in sorted(_versions(record_dir / STAGES_DIR).items(), key=lambda kv: order.get(kv[0], 99)):
        version, name = versions[-1]
        view.stages[stem] = json.loads((record_dir / STAGES_DIR / name).read_text(encoding="utf-8"))
        view.stage_versions[stem] = version
    for stem, versions in _versions(record_dir / DOCUMENTS_DIR).items():
        if any(n.endswith(".docx") for _, n in versions):
            view.documents[stem] = [f"{DOCUMENTS_DIR}/{n}" for _, n in versions if n.endswith(".docx")]
    for stem, versions in _versions(record_dir / HOLDS_DIR).items():
        view.holds[stem] = json.loads((record_dir / HOLDS_DIR / versions[-1][1]).read_text(encoding="utf-8"))
    return view



def stage_history(view: CaseView, stage: str) -> list[dict[str, Any]]:
    """Every recorded version of ``stage``, oldest first (a closure, a reopen, the next closure...)."""
    folder = view.path / STAGES_DIR
    return [json.loads((folder / name).read_text(encoding="utf-8"))
            for _, name in _versions(folder).get(stage, [])]
