"""Retention runs: what falls due, legal holds, approved destruction with a signed certificate, and moving
recorded dates when the rules change (ISO 15489: destruction authorised, documented, irreversible)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive import clock, vocab
from archive.errors import InputError, NotFound, StateError
from archive.integrity import certificate as cert_mod
from archive.integrity import verify
from archive.record import folders
from archive.record import grammar as g
from archive.record import reader as casefile
from archive.record.reader import CaseView
from archive.rules.retention import is_due
from archive.services.archive import Archive
from archive.store import txn
from archive.store.hashing import sha256_file
from archive.store.manifest import MANIFEST, read_manifest

if TYPE_CHECKING:
    from archive.integrity.signing import Credential

METHOD = ("电子记录删除:记录文件夹(各阶段及文件各版本、PDF、附件、签名)整体删除;投诉登记台账中的条目删除,"
          "原存储位置以覆盖方式清除;全文检索索引中的条目删除并整理索引;仅保留销毁登记(编号、月份、类别、日期、"
          "文件校验值,不含个人信息)")
BASIS = "归档销毁:根据保留期限及时销毁过期的投诉记录(ISO 15489;个人信息保护法第四十七条)"


def _views(arc: Archive) -> list[CaseView]:
    return [casefile.load(p) for p in folders.record_dirs(arc.layout)]


def _month(value: str) -> str:
    try:
        dt.date.fromisoformat(value + "-01")
    except ValueError:
        raise InputError("command line", "--from/--to", f"{value!r} is not a month YYYY-MM") from None
    return value


def _due_row(view: CaseView) -> dict[str, Any]:
    r = view.retention or {}
    return {"number": view.number, "retention_until": r.get("retention_until"), "rule": r.get("rule"),
            "category": view.category, "closed_at": view.closed_at}


def _hold_rows(view: CaseView) -> list[dict[str, Any]]:
    return [{"number": view.number, "hold": h["id"], "reason": h["reason"], "placed_by": h["placed_by"],
             "placed_at": h["placed_at"]} for h in view.active_holds]


def due(arc: Archive, as_of: dt.date) -> dict[str, Any]:
    """Closed, unheld cases whose retention date is before ``as_of``; those past it with a CAPA action still
    open are not due and listed apart, with the reason."""
    past = [v for v in _views(arc) if v.retention_until and not v.active_holds and is_due(v.retention_until, as_of)]
    rows = [_due_row(v) for v in past if not _blocked_reason(v)]
    blocked = [{**_due_row(v), "reason": why, "open_actions": _open_actions(v)}
               for v in past if (why := _blocked_reason(v))]
    return {"as_of": as_of.isoformat(), "due": rows, "blocked": blocked}


def schedule(arc: Archive, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    """The destruction plan (销毁计划): month by month, what falls due, counted by category; held cases apart."""
    lo, hi = (_month(start) if start else None), (_month(end) if end else None)
    if lo and hi and lo > hi:
        raise InputError("command line", "--from/--to", f"--from {lo} is after --to {hi}")
    months: dict[str, list[dict[str, Any]]] = {}
    held = []
    for view in _views(arc):
        if not view.retention_until:
            continue
        until = dt.date.fromisoformat(view.retention_until)
        # Due the day after; kept until the calendar's last day (9999-12-31) it is shown in that last month.
        month = (until + dt.timedelta(days=1) if until < dt.date.max else until).isoformat()[:7]
        if (lo and month < lo) or (hi and month > hi):
            continue
        if view.active_holds:
            held.append({**_due_row(view), "due_month": month, "holds": [h["id"] for h in view.active_holds],
                         "hold_reasons": [h["reason"] for h in view.active_holds]})
        else:
            months.setdefault(month, []).append(_due_row(view))
    plan = [{"month": m, "count": len(rows), "by_category": dict(Counter(r["category"] for r in rows)),
             "cases": [r["number"] for r in rows]} for m, rows in sorted(months.items())]
    return {"from": lo, "to": hi, "months": plan, "held": held}


# ---------------------------------------------------------------- legal holds

def hold(arc: Archive, number: str, reason: str) -> dict[str, Any]:
    if not reason.strip():
        raise InputError("command line", "--reason", "must not be empty")
    with arc.writing():
        record = folders.find_record(arc.layout, number)
        view = casefile.load(record)
        hold_id = f"H{len(view.holds) + 1}"
        data = {"id": hold_id, "active": True, "reason": reason, "placed_by": arc.actor, "placed_at": clock.utc_now()}

        def write() -> None:
            (record / g.HOLDS_DIR).mkdir(exist_ok=True)
            with (record / g.HOLDS_DIR / g.versioned(hold_id, 1, ".json")).open("x", encoding="utf-8") as fh:
                fh.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")

        txn.change_record(arc.layout, record, number,
                          txn.Entry(arc.actor, "hold", number, reason, {"hold": hold_id}), write, arc.refresh)
    return {"number": number, "hold": hold_id}


def release(arc: Archive, number: str, hold_id: str, reason: str) -> dict[str, Any]:
    if not reason.strip():
        raise InputError("command line", "--reason", "must not be empty")
    with arc.writing():
        record = folders.find_record(arc.layout, number)
        view = casefile.load(record)
        current = view.holds.get(hold_id)
        if current is None:
            raise NotFound(f"case {number} has no hold {hold_id!r} (it has: {', '.join(view.holds) or 'none'})")
        if not current.get("active"):
            raise StateError(f"hold {hold_id} of case {number} was already released on {current['released_at']}")
        version = folders.next_version(record / g.HOLDS_DIR, hold_id, ".json")
        data = {**current, "active": False, "released_by": arc.actor, "released_at": clock.utc_now(),
                "release_reason": reason}

        def write() -> None:
            with (record / g.HOLDS_DIR / g.versioned(hold_id, version, ".json")).open("x", encoding="utf-8") as fh:
                fh.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")

        txn.change_record(arc.layout, record, number,
                          txn.Entry(arc.actor, "release", number, reason, {"hold": hold_id}), write, arc.refresh)
        still = [h["id"] for h in casefile.load(record).active_holds]
    return {"number": number, "released": hold_id, "still_held_by": still}


def holds(arc: Archive) -> list[dict[str, Any]]:
    return [row for view in _views(arc) for row in _hold_rows(view)]


# ---------------------------------------------------------------- destruction

@dataclass
class PurgeResult:
    as_of: str
    destroyed: list[str]
    certificate: str | None
    held: list[dict[str, Any]] = field(default_factory=list)
    executed: bool = False
    resumed: str | None = None  # the certificate of an interrupted run this one finished
    preview: bool = False  # a dry run judged by a day still to come
    refused: list[dict[str, Any]] = field(default_factory=list)  # due, but failed a check: not destroyed
    blocked: list[dict[str, Any]] = field(default_factory=list)  # past the date, but not due (open CAPA)
    executed_by: str | None = None
    approved_by: str | None = None
    planned: int = 0

    @property
    def finishing(self) -> str | None:
        if self.resumed is None:
            return None
        return f"finishing {self.resumed} (approved by {self.approved_by}, {self.planned} cases)"

    def as_json(self) -> dict[str, Any]:
        return {"destroyed": self.destroyed, "certificate": self.certificate, "executed": self.executed,
                "as_of": self.as_of, "preview": self.preview, "held": self.held, "refused": self.refused,
                "blocked": self.blocked, "resumed": self.resumed, "finishing": self.finishing,
                "executed_by": self.executed_by, "approved_by": self.approved_by}


def check_signers(arc: Archive, approved_by: str, approver: Credential | None, witness: Credential | None) -> None:
    """Refused before anything is destroyed: too few keys, an approver who is not exactly the registered owner
    of the approving key, a witness who is the approver (another key, or the same name written otherwise).
    The person running the command carries the destruction out (执行人) and need not be either of them."""
    need = arc.settings.destruction_signatures
    given = [c for c in (approver, witness) if c is not None]
    if not approved_by.strip():
        raise InputError("command line", "--approved-by", "must name the person who approved the destruction")
    if need >= 1 and approver is None:
        raise InputError("command line", "--sign-as", f"retention.destruction_signatures = {need}: the approver "
                                                      "signs the certificate with --sign-as KEY")
    if need >= 2 and witness is None:
        raise InputError("command line", "--witness", "retention.destruction_signatures = 2: a witness of another "
                                                      "person signs with --witness KEY")
    if approver is not None and not cert_mod.is_person(approved_by, approver.signer):
        s = approver.signer
        raise InputError("command line", "--approved-by", f"{approved_by!r} is not the registered owner of the "
                                                          f"--sign-as key {s.id}: write {s.name!r} or "
                                                          f"'{s.title} {s.name}' exactly")
    if approver is not None and witness is not None and cert_mod.same_person(approver.signer, witness.signer):
        raise InputError("command line", "--witness", f"the witness {witness.signer.name} (key {witness.signer.id}) "
                                                      f"is the same person as the approver {approver.signer.name}: "
                                                      "the witness is another registered person")
    if len({c.signer.id for c in given}) < need:
        raise InputError("command line", "--sign-as", f"{need} distinct registered keys must sign")


def _open_actions(view: CaseView) -> list[dict[str, Any]]:
    return [a for a in view.stages.get("capa", {}).get("data") or [] if not a.get("done_at")]


def _blocked_reason(view: CaseView) -> str | None:
    """A case closed with a CAPA action still open is not due: its record is the evidence the action needs."""
    still = _open_actions(view)
    if not still:
        return None
    listed = "; ".join(f"{a['action']} ({a['owner']}, due {a['due']})" for a in still)
    return f"{len(still)} CAPA action(s) still open: {listed}; not due while any action is open"


def _ineligible(view: CaseView, as_of: dt.date) -> str | None:
    """Why this case may not be destroyed on ``as_of``, judged from its record as it is now."""
    if view.active_holds:
        h = view.active_holds[0]
        return f"under legal hold {h['id']} ({h['reason']}, placed by {h['placed_by']})"
    if not view.retention_until:
        return "open: it has no retention date and is never destroyed"
    if not is_due(view.retention_until, as_of):
        return f"kept until {view.retention_until}: not due on {as_of}"
    return _blocked_reason(view)


def _selected(arc: Archive, as_of: dt.date, numbers: list[str]
              ) -> tuple[list[CaseView], list[dict[str, Any]], list[dict[str, Any]]]:
    """Due cases, held ones apart, and ones past their date but blocked by an open CAPA action. Named
    numbers must all be due: one that is not refuses the run."""
    views = _views(arc) if not numbers else [casefile.load(folders.find_record(arc.layout, n)) for n in numbers]
    for v in views if numbers else []:
        why = _ineligible(v, as_of)
        if why:
            raise StateError(f"case {v.number} is {why}: destruction refused" if why.startswith(("under", "open"))
                             else f"case {v.number}: {why}: destruction refused")
    past = [v for v in views if v.retention_until and is_due(v.retention_until, as_of)]
    held = [row for v in past for row in _hold_rows(v)]
    blocked = [{"number": v.number, "retention_until": v.retention_until, "reason": why,
                "open_actions": _open_actions(v)} for v in past if not v.active_holds and (why := _blocked_reason(v))]
    due_views = [v for v in past if not v.active_holds and not _blocked_reason(v)]
    return due_views, held, blocked


def _screen(arc: Archive, views: list[CaseView]) -> tuple[list[CaseView], list[dict[str, Any]]]:
    """Verify every selected record before anything is destroyed: a case whose evidence fails (a hold file
    edited or removed, a changed file or manifest, a bad signature) is refused, named with its findings,
    and kept for the investigation its findings call for."""
    chain, found = verify.check_records(arc.layout, [v.path for v in views])
    if chain:
        raise StateError(f"the audit log does not verify ({chain[0].line()}); nothing can be destroyed on its "
                         "word: run `archive verify`")
    refused = [{"number": v.number, "findings": [f.line() for f in found[v.number]]} for v in views
               if found[v.number]]
    return [v for v in views if not found[v.number]], refused


def _controls_in_force(arc: Archive) -> None:
    """Hook: refuse to destroy under settings that were not put in force through an audited change. The
    settings change (`archive settings apply`) makes this refuse when archive.toml differs from the last
    applied one; until then every settings file is taken as it is."""


def _case_entry(view: CaseView) -> dict[str, Any]:
    """What the certificate keeps of a case: dates, rule and file hashes; no personal data (attachment
    names can carry names, so attachments are listed by position)."""
    files = []
    attachments = 0
    for f in read_manifest(view.path)["files"]:
        path = str(f["path"])
        if path.startswith(g.ATTACHMENTS_DIR + "/"):
            attachments += 1
            path = f"{g.ATTACHMENTS_DIR}/#{attachments}{Path(path).suffix.lower()}"
        files.append({"path": path, "size": f["size"], "sha256": f["sha256"]})
    r = view.retention or {}
    return {"number": view.number, "received_month": view.case["received_at"][:7], "category": view.category,
            "closed_at": view.closed_at, "rule": r.get("rule"), "rule_text": r.get("rule_text"),
            "retention_until": r.get("retention_until"), "manifest_sha256": sha256_file(view.path / MANIFEST),
            "files": files}


def _tombstone(entry: dict[str, Any], cert_id: str) -> bytes:
    keep = ("number", "received_month", "category", "closed_at", "rule", "retention_until", "manifest_sha256")
    data = {**{k: entry[k] for k in keep}, "certificate": cert_id, "destroyed_at": clock.utc_now()}
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _next_certificate_id(arc: Archive) -> str:
    year = clock.today(arc.settings.zone).year
    used = [c["id"] for c in cert_mod.load_all(arc.layout.root) if c["id"].startswith(f"XH-{year}-")]
    return cert_mod.certificate_id(year, len(used) + 1)


def purge(arc: Archive, as_of: dt.date, approved_by: str, *, execute: bool = False,
          approver: Credential | None = None, witness: Credential | None = None, numbers: list[str] | None = None,
          progress: Callable[[int, int], None] | None = None) -> PurgeResult:
    """Without ``execute`` a dry run: what would go, nothing written (it may look ahead: a preview). With it:
    every due, unheld, verified case destroyed under one plan the approver and witness sign, and the
    certificate. An unfinished run is finished first, exactly as it was approved, and nothing else is done."""
    wanted = list(dict.fromkeys(numbers or []))
    today = clock.today(arc.settings.zone)
    if not execute:
        views, held, blocked = _selected(arc, as_of, wanted)
        ok, refused = _screen(arc, views)
        return PurgeResult(as_of.isoformat(), [v.number for v in ok], None, held, preview=as_of > today,
                           refused=refused, blocked=blocked, approved_by=approved_by)
    if as_of > today:
        raise InputError("command line", "--as-of", f"{as_of} is later than today ({today}): destruction judges "
                                                    "by a day that has come; a dry run may look ahead")
    with arc.writing():
        pending = [c for c in cert_mod.load_all(arc.layout.root) if c["status"] == cert_mod.IN_PROGRESS]
        if pending:
            return _run_plan(arc, pending[0], progress, resumed=True, approver=approver, witness=witness)
        check_signers(arc, approved_by, approver, witness)
        _controls_in_force(arc)
        views, held, blocked = _selected(arc, as_of, wanted)
        ok, refused = _screen(arc, views)
        if not ok:
            return PurgeResult(as_of.isoformat(), [], None, held, executed=True, refused=refused, blocked=blocked,
                               executed_by=arc.actor, approved_by=approved_by)
        planned_at = clock.utc_now()
        plan: dict[str, Any] = {
            "format": cert_mod.FORMAT, "id": _next_certificate_id(arc), "status": cert_mod.IN_PROGRESS,
            "organisation": arc.settings.organisation, "as_of": as_of.isoformat(), "approved_by": approved_by,
            "witness": witness.signer.name if witness else None, "planned_by": arc.actor, "planned_at": planned_at,
            "method": METHOD, "basis": BASIS, "required_signatures": arc.settings.destruction_signatures,
            "cases": [_case_entry(v) for v in ok], "executed_by": arc.actor}
        # The approval is of the plan: signed now, over exactly these cases, and kept by whoever finishes it.
        plan["signatures"] = [cert_mod.sign(plan, c, meaning, planned_at)
                              for c, meaning in ((approver, "approved"), (witness, "witnessed")) if c is not None]
        txn.add_files(arc.layout, {_cert_path(plan["id"], ".json"): _json_bytes(plan)},
                      txn.Entry(arc.actor, "destruction-plan", extra={"certificate": plan["id"],
                                                                       "cases": len(plan["cases"])}))
        result = _run_plan(arc, plan, progress, resumed=False)
    result.held, result.blocked, result.refused = held, blocked, refused + result.refused
    return result


def _run_plan(arc: Archive, plan: dict[str, Any], progress: Callable[[int, int], None] | None, *, resumed: bool,
              approver: Credential | None = None, witness: Credential | None = None) -> PurgeResult:
    if int(plan.get("format", 1)) < 2:  # a plan made before plans were signed: signed now, by its approver
        check_signers(arc, plan["approved_by"], approver, witness)
    try:
        destroyed, not_destroyed = _destroy_planned(arc, plan, progress, recheck=resumed)
    finally:
        _drop_from_index(arc)
    final = _finish_certificate(arc, plan, destroyed, not_destroyed, approver, witness)
    return PurgeResult(plan["as_of"], destroyed, _cert_path(final["id"], ".json"), executed=True,
                       resumed=plan["id"] if resumed else None, refused=not_destroyed,
                       executed_by=final.get("executed_by"), approved_by=plan["approved_by"],
                       planned=len(plan["cases"]))


def _drop_from_index(arc: Archive) -> None:
    """One merge for the whole run: deleted documents linger in index segments until they are merged away.
    Numbers tombstoned by a run from before deletions came ahead of the commit are dropped too."""
    from archive.derived.stores import index_guard

    gone = {p.name.removesuffix(g.TOMBSTONE_SUFFIX) for p in folders.tombstones(arc.layout)}
    with index_guard():
        left = [n for n in arc.engine.stamps() if n in gone]
        if left:
            arc.engine.delete(*sorted(left))
        arc.engine.compact()


def _cert_path(cert_id: str, ext: str) -> str:
    return f"{cert_mod.CERTIFICATES_DIR}/{cert_id}{ext}"


def _json_bytes(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _destroy_planned(arc: Archive, plan: dict[str, Any], progress: Callable[[int, int], None] | None, *,
                     recheck: bool) -> tuple[list[str], list[dict[str, Any]]]:
    """Each planned case destroyed unless it is no longer what was approved: its manifest changed since the
    plan, or it is held, open, not due or blocked now. A resumed run (the lock was let go in between) also
    verifies each remaining record again."""
    as_of = dt.date.fromisoformat(plan["as_of"])
    destroyed: list[str] = []
    not_destroyed: list[dict[str, Any]] = []
    tombs: dict[str, Path] = {}
    records: dict[str, Path] = {}
    for entry in plan["cases"]:
        number = entry["number"]
        period = dt.date.fromisoformat(entry["received_month"] + "-01")
        tombs[number] = arc.layout.month_dir(period.year, period.month) / f"{number}{g.TOMBSTONE_SUFFIX}"
        if not tombs[number].exists():
            with contextlib.suppress(NotFound):  # a folder already gone is named below
                records[number] = folders.find_record(arc.layout, number)
    findings: dict[str, list[str]] = {}
    if recheck:
        chain, found = verify.check_records(arc.layout, list(records.values()))
        if chain:
            raise StateError(f"the audit log does not verify ({chain[0].line()}); the unfinished run "
                             f"{plan['id']} is left as it is: run `archive verify`")
        findings = {n: [f.line() for f in fs] for n, fs in found.items()}
    for i, entry in enumerate(plan["cases"], start=1):
        number = entry["number"]
        if tombs[number].exists():
            destroyed.append(number)  # destroyed before the run was interrupted
        elif number not in records:
            not_destroyed.append({"number": number, "findings": ["record folder not found"]})
        else:
            record = records[number]
            reasons = []
            if sha256_file(record / MANIFEST) != entry["manifest_sha256"]:
                reasons.append("changed since the plan: its manifest is not the one approved for destruction")
            why = _ineligible(casefile.load(record), as_of)
            if why:
                reasons.append(why)
            reasons += findings.get(number, [])
            if reasons:
                not_destroyed.append({"number": number, "findings": reasons})
            else:
                txn.destroy(arc.layout, record, number, tombs[number], _tombstone(entry, plan["id"]),
                            txn.Entry(arc.actor, "destroy", number, extra={"certificate": plan["id"]}),
                            arc.refresh, forget=arc.forget)
                destroyed.append(number)
        if progress:
            progress(i, len(plan["cases"]))
    return destroyed, not_destroyed


def _finish_certificate(arc: Archive, plan: dict[str, Any], destroyed: list[str], not_destroyed: list[dict[str, Any]],
                        approver: Credential | None, witness: Credential | None) -> dict[str, Any]:
    from archive.documents import pdf
    from archive.documents.render import render_controlled

    now = clock.utc_now()
    executed_by = plan.get("executed_by") or arc.actor
    who = {"executed_by": executed_by, **({"finished_by": arc.actor} if arc.actor != executed_by else {})}
    final = {**plan, "status": cert_mod.EXECUTED, "executed_at": now, **who, "destroyed": destroyed,
             "not_destroyed": not_destroyed}
    if int(plan.get("format", 1)) < 2:
        gone = set(destroyed)
        final = {**plan, "status": cert_mod.EXECUTED, "executed_at": now, **who, "witness": witness.signer.name
                 if witness else None, "cases": [c for c in plan["cases"] if c["number"] in gone]}
        final["signatures"] = [cert_mod.sign(final, c, meaning, now)
                               for c, meaning in ((approver, "approved"), (witness, "witnessed")) if c is not None]
    docx = render_controlled(arc.layout.templates, "destruction-certificate", _certificate_context(arc, final))
    work = arc.layout.work / f"certificate-{txn.new_op_id()}"
    try:
        with txn.before_commit(f"certificate {final['id']}"):
            work.mkdir(parents=True)
            (work / f"{final['id']}.docx").write_bytes(docx)
            [made] = pdf.convert([work / f"{final['id']}.docx"], work / "pdf", timeout=arc.settings.pdf_timeout)
            pdf_bytes = made.read_bytes()
        txn.add_files(arc.layout, {_cert_path(final["id"], ".json"): _json_bytes(final),
                                   _cert_path(final["id"], ".docx"): docx, _cert_path(final["id"], ".pdf"): pdf_bytes},
                      txn.Entry(arc.actor, "destruction-certificate",
                                extra={"certificate": final["id"], "destroyed": destroyed,
                                       "body_sha256": cert_mod.body_sha256(final)}),
                      replace=frozenset({_cert_path(final["id"], ".json")}))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def _certificate_context(arc: Archive, cert: dict[str, Any]) -> dict[str, Any]:
    from archive.documents.context import printable, zh_date, zh_datetime
    from archive.integrity.signing import display

    sig = {m: {"name": "", "title": "", "time": "", "fingerprint": ""} for m in ("approved", "witnessed")}
    for s in cert["signatures"]:
        sig[s["meaning"]] = display(s, arc.settings.zone)
    gone = set(cert.get("destroyed", [c["number"] for c in cert["cases"]]))
    cases = [c for c in cert["cases"] if c["number"] in gone]
    executor = cert.get("executed_by") or ""
    if cert.get("finished_by"):
        executor += f"(中断后由 {cert['finished_by']} 完成)"
    return {
        "number": cert["id"], "org": printable(cert["organisation"]), "version_label": "第 1 版",
        "as_of": zh_date(cert["as_of"]), "approved_by": printable(cert["approved_by"]),
        "witness": printable(cert.get("witness") or "(未设监销)"), "executed_by": printable(executor),
        "planned_at": zh_datetime(_local(cert["planned_at"], arc)),
        "executed_at": zh_datetime(_local(cert["executed_at"], arc)),
        "count": str(len(cases)), "files_total": str(sum(len(c["files"]) for c in cases)),
        "method": cert["method"], "basis": cert["basis"],
        "cases": [{"n": str(i), "number": c["number"], "category": vocab.label(vocab.CATEGORY, c["category"]),
                   "closed": zh_date(c["closed_at"]), "until": zh_date(c["retention_until"]),
                   "rule": printable(c.get("rule_text") or c["rule"]), "files": str(len(c["files"]))}
                  for i, c in enumerate(cases, start=1)],
        "files": _file_rows(cases),
        "sig": sig,
    }


# Past this many files the printed appendix lists each case's manifest (whose SHA-256 covers every file's) and
# the JSON certificate keeps every file's hash: LibreOffice takes minutes over a table of tens of thousands of rows.
PRINTED_FILES_MAX = 2000


def _file_rows(cases: list[dict[str, Any]]) -> list[dict[str, str]]:
    if sum(len(c["files"]) for c in cases) <= PRINTED_FILES_MAX:
        return [{"number": c["number"], "path": f["path"], "size": str(f["size"]), "sha256": f["sha256"]}
                for c in cases for f in c["files"]]
    return [{"number": c["number"], "path": f"manifest.json(清单,列出 {len(c['files'])} 个文件的校验值,见 JSON 证明)",
             "size": "", "sha256": c["manifest_sha256"]} for c in cases]


def _local(utc: str, arc: Archive) -> str:
    return dt.datetime.fromisoformat(utc.replace("Z", "+00:00")).astimezone(arc.settings.zone).isoformat()


# The two signatures a certificate can carry, in the order they are given (批准, then 监销).
CERTIFICATE_SIGNATURES = ("approved", "witnessed")


def certificates(arc: Archive) -> list[dict[str, Any]]:
    """Each certificate with the signatures it carries and those it lacks, and the files it is kept as."""
    root = arc.layout.root
    return [{"id": c["id"], "status": c["status"], "as_of": c["as_of"], "approved_by": c["approved_by"],
             "witness": c.get("witness"), "executed_by": c.get("executed_by"), "executed_at": c.get("executed_at"),
             "destroyed": len(numbers), "numbers": numbers, "path": _cert_path(c["id"], ".json"),
             "signed": signed, "missing": [m for m in CERTIFICATE_SIGNATURES if m not in signed],
             "files": [_cert_path(c["id"], ext) for ext in (".pdf", ".docx", ".json")
                       if (root / _cert_path(c["id"], ext)).is_file()]}
            for c in cert_mod.load_all(root)
            for numbers in [c.get("destroyed", [x["number"] for x in c["cases"]])]
            for signed in [[m for m in CERTIFICATE_SIGNATURES
                            if any(s.get("meaning") == m for s in c.get("signatures", []))]]]


# ---------------------------------------------------------------- rules changed

def recompute(arc: Archive, reason: str) -> list[dict[str, Any]]:
    """Bring every recorded retention date in line with today's rules, each moved date audited with the
    reason; a settings change alone never moves one."""
    from archive.rules.stages import retention_of

    if not reason.strip():
        raise InputError("command line", "--reason", "must not be empty")
    moved = []
    with arc.writing():
        for record in folders.record_dirs(arc.layout):
            view = casefile.load(record)
            current = view.retention
            if current is None or view.closed_at is None:
                continue
            wanted = retention_of(view, view.closed_at, arc.settings)
            if (wanted["retention_until"], wanted["rule"]) == (current["retention_until"], current["rule"]):
                continue
            data = {**wanted, "closure_version": view.stage_versions["closure"], "previous": current}
            stage_dir = record / g.STAGES_DIR
            version = folders.next_version(stage_dir, "retention", ".json")

            def write(data: dict[str, Any] = data, version: int = version, stage_dir: Path = stage_dir) -> None:
                doc = {"stage": "retention", "version": version, "data": data, "derived": {},
                       "recorded_at": clock.utc_now(), "actor": arc.actor, "reason": reason}
                with (stage_dir / g.versioned("retention", version, ".json")).open("x", encoding="utf-8") as fh:
                    fh.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")

            txn.change_record(arc.layout, record, view.number,
                              txn.Entry(arc.actor, "retention-recompute", view.number, reason,
                                        {"from": current["retention_until"], "to": wanted["retention_until"],
                                         "rule": wanted["rule"]}), write, arc.refresh)
            moved.append({"number": view.number, "from": current["retention_until"],
                          "to": wanted["retention_until"], "rule": wanted["rule"]})
    return moved


def write_schedule(arc: Archive, plan: dict[str, Any], out: Path, *, force: bool = False) -> Path:
    """The destruction plan as a Word document or a spreadsheet for the archivist's approval file."""
    from archive.store import output

    suffix = out.suffix.lower()
    if suffix not in (".docx", ".xlsx"):
        raise InputError("command line", "--out", f"{out.name}: write the plan as .docx or .xlsx")
    path = output.target(out, arc.layout.root, force=force)
    header = ["月份", "件数", *(vocab.label(vocab.CATEGORY, c) for c in vocab.CATEGORY), "投诉编号"]
    rows = [[m["month"], m["count"], *(m["by_category"].get(c, 0) for c in vocab.CATEGORY), " ".join(m["cases"])]
            for m in plan["months"]]
    span = f"{plan['from'] or '最早'} 至 {plan['to'] or '最晚'}"
    due = {v.number: {**_due_row(v), "rule_text": (v.retention or {}).get("rule_text")} for v in _views(arc)}
    cases = [{**due[n], "month": m["month"]} for m in plan["months"] for n in m["cases"] if n in due]
    if suffix == ".docx":
        data = _schedule_docx(arc, span, header, rows, cases, plan["held"])
        output.write(path, data, force=force)
    else:
        output.write_with(path, lambda tmp: _schedule_xlsx(arc, tmp, span, plan, cases), force=force)
    return out


def _schedule_docx(arc: Archive, span: str, header: list[str], rows: list[list[Any]], cases: list[dict[str, Any]],
                   held: list[dict[str, Any]]) -> bytes:
    """A4, the controlled header (organisation, title, page numbers): the months with their counts by
    category, held cases with the reason of each hold, then one row per case with its 保存至."""
    import io

    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    from archive.documents.context import zh_date

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.0)
    section.top_margin = section.bottom_margin = Cm(1.8)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), "宋体")
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)

    def page_field(par: Any, instr: str) -> None:
        fld = OxmlElement("w:fldSimple")
        fld.set(qn("w:instr"), f" {instr} ")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        fld.append(run)
        par._p.append(fld)

    head = section.header.paragraphs[0]
    head.add_run(f"{arc.settings.organisation}    投诉记录销毁计划    受控文件").font.size = Pt(9)
    foot = section.footer.paragraphs[0]
    foot.alignment = 1
    foot.add_run("第 ").font.size = Pt(9)
    page_field(foot, "PAGE")
    foot.add_run(" 页 共 ").font.size = Pt(9)
    page_field(foot, "NUMPAGES")
    foot.add_run(" 页").font.size = Pt(9)

    def title(text: str, size: float) -> None:
        run = doc.add_paragraph().add_run(text)
        run.bold = True
        run.font.size = Pt(size)
        run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "黑体")

    def table(head_row: list[str], body: list[list[str]], widths: list[float]) -> None:
        t = doc.add_table(rows=1, cols=len(head_row))
        t.style = "Table Grid"
        t.autofit = False
        for cell, text in zip(t.rows[0].cells, head_row, strict=True):
            cell.text = text
        t.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        for row in body:
            cells = t.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                cell.text = value
        for row in t.rows:
            row._tr.get_or_add_trPr().insert(0, OxmlElement("w:cantSplit"))
            for cell, w in zip(row.cells, widths, strict=True):
                cell.width = Cm(w)

    title(f"{arc.settings.organisation} 投诉记录销毁计划", 15)
    made = zh_date(clock.today(arc.settings.zone).isoformat())
    doc.add_paragraph(f"期间:{span}    编制:{arc.actor}    编制日期:{made}")
    title("到期销毁", 12)
    table(header, [[str(v) for v in row] for row in rows], [1.8, 1.0, *([1.2] * len(vocab.CATEGORY)), 5.8])
    title("法律保全中(不销毁)", 12)
    held_rows = [[h["number"], h["due_month"], zh_date(h["retention_until"]), "、".join(h["holds"]),
                  ";".join(h.get("hold_reasons", []))] for h in held]
    table(["投诉编号", "到期月份", "保存至", "保全", "保全原因"], held_rows, [2.6, 2.2, 3.6, 1.6, 7.0])
    title("到期销毁明细", 12)
    case_rows = [[str(i), c["number"], vocab.label(vocab.CATEGORY, c["category"]), zh_date(c["closed_at"]),
                  zh_date(c["retention_until"]), c["month"]] for i, c in enumerate(cases, start=1)]
    table(["序号", "投诉编号", "类别", "结案日期", "保存至", "到期月份"], case_rows, [1.2, 2.6, 2.6, 3.6, 3.6, 3.4])
    doc.add_paragraph()
    doc.add_paragraph("审批:________________    日期:________________")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _schedule_xlsx(arc: Archive, path: Path, span: str, plan: dict[str, Any], cases: list[dict[str, Any]]) -> None:
    """The plan as the register export's spreadsheet conventions (reports/sheets.py): the months with their
    counts by category, one row per case due with its 保存至, and the held cases with each hold's reason."""
    from archive.reports.sheets import Column, Sheet, write_xlsx

    def day(value: str | None) -> dt.date | None:
        return dt.datetime.fromisoformat(value).date() if value else None

    caption = f"{arc.settings.organisation} 投诉记录销毁计划 {span}"
    categories = [Column(vocab.label(vocab.CATEGORY, c), 11, "number") for c in vocab.CATEGORY]
    months = Sheet("销毁计划", [Column("到期月份", 11), Column("件数", 8, "number"), *categories],
                   [[m["month"], m["count"], *(m["by_category"].get(c, 0) for c in vocab.CATEGORY)]
                    for m in plan["months"]], caption)
    each = Sheet("到期销毁明细", [Column("序号", 7, "number"), Column("投诉编号", 13), Column("到期月份", 11),
                                 Column("投诉类别", 12), Column("结案日期", 13, "date"), Column("保存至", 13, "date"),
                                 Column("保存期限规则", 44)],
                 [[i, c["number"], c["month"], vocab.label(vocab.CATEGORY, c["category"]), day(c["closed_at"]),
                   day(c["retention_until"]), c.get("rule_text") or ""] for i, c in enumerate(cases, start=1)], caption)
    held = Sheet("法律保全中", [Column("投诉编号", 13), Column("到期月份", 11), Column("保存至", 13, "date"),
                               Column("保全", 10), Column("保全原因", 40)],
                 [[h["number"], h["due_month"], day(h["retention_until"]), "、".join(h["holds"]),
                   ";".join(h.get("hold_reasons", []))] for h in plan["held"]], caption)
    write_xlsx(path, [months, each, held])
