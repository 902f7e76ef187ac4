"""What each controlled form shows: the render context built from a case, in Chinese, print-ready."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from archive import vocab
from archive.record.reader import CaseView
from archive.rules import deadlines
from archive.rules.triage import printable_reason
from archive.settings import Settings, from_mapping

# Word cannot hold C0 controls (but tab, newline, CR), DEL-adjacent C1 controls are legal but invisible,
# and XML 1.0 forbids lone surrogates and U+FFFE/FFFF. The case JSON keeps them; the form prints a space.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def printable(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _UNPRINTABLE.sub(" ", str(value)).replace("\r\n", "\n").replace("\r", "\n")


def zh_date(value: str | None) -> str:
    if not value:
        return ""
    try:
        d = dt.date.fromisoformat(value[:10])
    except ValueError:
        return printable(value)
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def zh_datetime(value: str | None) -> str:
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return printable(value)
    return f"{zh_date(value)} {moment:%H:%M}"


def boxes(options: Mapping[str, str], chosen: str | None) -> str:
    return "  ".join(("☑" if key == chosen else "☐") + label for key, label in options.items())


def _clean(mapping: dict[str, Any]) -> dict[str, str]:
    return {k: printable(v) for k, v in mapping.items()}


def _stage(view: CaseView, name: str) -> dict[str, Any]:
    stage = view.stages.get(name)
    return dict(stage["data"]) if stage else {}


def _actions(capa: list[dict[str, Any]], kinds: tuple[str, ...]) -> str:
    return "\n".join(f"{i}. {printable(a['action'])}(责任人:{printable(a['owner'])},期限 {zh_date(a['due'])}"
                     + (f",已于 {zh_date(a.get('done_at'))} 完成" if a.get("done_at") else "") + ")"
                     for i, a in enumerate((a for a in capa if a["kind"] in kinds), start=1))


# A field nobody filled prints as a line to write on by hand, never as an empty "负责人:;" or "None".
BLANK = "＿＿＿"

# The stages each form prints, for its 更正 (correction) lines.
FORM_STAGES: dict[str, tuple[str, ...]] = {
    "register": ("triage",), "record": ("triage",), "inv": ("investigation",), "capa": ("capa",),
    "resp": ("response", "follow_up", "closure"), "eightd": ("triage", "investigation", "capa", "closure"),
}


def or_blank(value: Any) -> str:
    text = printable(value).strip()
    return text or BLANK


def local_datetime(value: str | None, zone: dt.tzinfo) -> str:
    """A recorded UTC time (…Z) as the local time the paper shows."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(zone)
    return zh_datetime(moment.isoformat())


def local_date(value: str | None, zone: dt.tzinfo) -> str:
    if not value:
        return ""
    return zh_date(dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(zone).date().isoformat())


def _day(value: str | None) -> dt.date | None:
    if not value:
        return None
    return dt.date.fromisoformat(value[:10])


def timeliness(due: str | None, done: str | None, settings: Settings) -> tuple[str, str]:
    """(是/否 met in time, late mark) for a deadline and the day it was met; both empty while not met."""
    due_day, done_day = _day(due), _day(done)
    if due_day is None or done_day is None:
        return "", ""
    late = deadlines.late_working_days(due_day, done_day, done_day, settings)
    if late is None:
        return "是(按期)", ""
    return "否", f"(逾期 {late} 个工作日)"


def corrections(view: CaseView, stages: tuple[str, ...], zone: dt.tzinfo) -> list[dict[str, str]]:
    """GMP 第161条: a replaced stage shows that it was corrected, why, by whom, when, and what it replaces."""
    out = []
    reopened = view.stages.get("reopen", {}).get("derived", {}).get("version_of_closure")
    for name in stages:
        stage = view.stages.get(name)
        if not stage or not stage.get("supersedes") or not stage.get("reason"):
            continue
        if name == "closure" and reopened is not None and reopened == stage["version"] - 1:
            continue  # closed again after a reopen: a new closure, not a correction of the old one
        out.append({"text": printable(
            f"{vocab.STAGE[name]}第 {stage['version']} 版更正第 {stage['version'] - 1} 版;更正原因:{stage['reason']};"
            f"更正人:{stage.get('actor') or BLANK};更正时间:{local_datetime(stage.get('recorded_at'), zone)}")})
    return out


def _team(triage: dict[str, Any], inv: dict[str, Any], departments: list[str]) -> str:
    lines = [f"组长(受理负责人):{or_blank(triage.get('owner'))}",
             "成员:" + (printable("、".join(triage["team"])) if triage.get("team") else BLANK),
             "部门:" + (printable("、".join(departments)) if departments else BLANK)]
    if inv.get("investigator"):
        lines.append(f"调查人:{printable(inv['investigator'])}")
    return "\n".join(lines)


def _eightd_actions(capa: list[dict[str, Any]], kind: str, plan: bool = False) -> str:
    """D3/D5/D7 list the actions of one kind as planned; D6 (``plan`` False for corrective) how each was
    implemented and verified."""
    rows = [a for a in capa if a["kind"] == kind]
    if not rows:
        return BLANK
    if plan:
        return "\n".join(f"{i}. {printable(a['action'])}(责任人:{printable(a['owner'])};期限 {zh_date(a['due'])})"
                         for i, a in enumerate(rows, start=1))
    return "\n".join(
        f"{i}. {printable(a['action'])}(责任人:{printable(a['owner'])};期限 {zh_date(a['due'])};"
        + (f"完成 {zh_date(a['done_at'])}" if a.get("done_at") else "未完成")
        + (f";验证:{printable(a['verification'])}" if a.get("verification") else "")
        + (f";验证人:{printable(a['verified_by'])}" if a.get("verified_by") else "")
        + (f" {zh_date(a['verified_at'])}" if a.get("verified_at") else "") + ")"
        for i, a in enumerate(rows, start=1))


def _pharma(case: dict[str, Any], inv: dict[str, Any]) -> dict[str, str]:
    """Adverse-reaction (B类) fields, each empty when the case does not have it (the row is then left out)."""
    sample, patient, recall = case.get("sample") or {}, case.get("patient") or {}, inv.get("recall_decision")
    def yes_no(value: Any) -> str:
        return "" if value is None else ("是" if value else "否")
    sample_text = ";".join(x for x in (
        f"收到样品:{yes_no(sample.get('received'))}" if "received" in sample else "",
        f"已封样:{yes_no(sample.get('sealed'))}" if "sealed" in sample else "",
        f"数量:{printable(sample['quantity'])}" if sample.get("quantity") else "",
        printable(sample.get("note"))) if x)
    patient_text = ";".join(f"{label}:{printable(patient[key])}" for key, label in (
        ("name", "患者"), ("sex", "性别"), ("age", "年龄"), ("reaction", "不良反应表现"), ("outcome", "转归"))
        if patient.get(key))
    recall_text = ""
    if recall:
        recall_text = ";".join(x for x in (
            "☑召回  ☐不召回" if recall["recall"] else "☐召回  ☑不召回",
            f"级别:{printable(recall['level'])}" if recall.get("level") else "",
            f"理由:{printable(recall['reason'])}" if recall.get("reason") else "",
            f"决定人:{printable(recall['decided_by'])}" if recall.get("decided_by") else "") if x)
    return {"sample": sample_text, "patient": patient_text, "retained": printable(inv.get("retained_sample_check")),
            "risk": printable(inv.get("risk_assessment")), "recall": recall_text}


def _split_pharma(case: dict[str, Any], inv: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Case-level fields (registered) and investigation-level ones under two names: an investigation must not
    make the registration forms stale."""
    ph = _pharma(case, inv)
    return {"ph": {k: ph[k] for k in ("sample", "patient")},
            "ph_inv": {k: ph[k] for k in ("retained", "risk", "recall")}}


def context(view: CaseView, org: str, signatures: dict[str, dict[str, str]] | None = None,
            settings: Settings | None = None) -> dict[str, Any]:
    """Everything any GL-004 form prints. Strings only: docxtpl autoescapes them, so any text is literal."""
    settings = settings or from_mapping({})
    zone = settings.zone
    case = view.case
    inv = _stage(view, "investigation")
    capa = view.stages.get("capa", {}).get("data", []) if "capa" in view.stages else []
    resp, fu, cl = _stage(view, "response"), _stage(view, "follow_up"), _stage(view, "closure")
    triage_stage = _stage(view, "triage")
    deadlines_ = view.deadlines  # a triage that found the case urgent after intake re-timed them
    urgent = view.urgent
    reasons = [printable_reason(r) for r in view.record["triage"]["reasons"]]
    sig = {m: {"name": "", "title": "", "time": "", "date": "", "fingerprint": ""} for m in vocab.MEANING}
    for meaning, s in (signatures or {}).items():
        sig[meaning] = _clean(s)
    d5 = _actions(capa, ("corrective",))
    done = [a for a in capa if a.get("done_at") or a.get("verification")]
    intake = view.record.get("intake", {})
    capa_stage = view.stages.get("capa", {})
    open_actions = [a for a in capa if not a.get("done_at")]
    closure_stage = view.stages.get("closure", {})
    reply_met, reply_late = timeliness(deadlines_["reply_due"], resp.get("replied_at"), settings)
    inv_met, inv_late = timeliness(deadlines_["investigation_due"], inv.get("completed_at"), settings)
    all_done = bool(capa) and not open_actions
    actions = [{"n": str(i), "kind": vocab.CAPA_KIND[a["kind"]], "action": printable(a["action"]),
                "owner": printable(a["owner"]), "due": zh_date(a["due"]), "done": zh_date(a.get("done_at")),
                "verification": printable(a.get("verification")),
                "status": vocab.ACTION_STATUS["done" if a.get("done_at") else "open"],
                "verified_by": or_blank(a.get("verified_by")), "verified_at": zh_date(a.get("verified_at")) or BLANK}
               for i, a in enumerate(capa, start=1)]
    contact = ";".join(printable(x) for x in (case["complainant"].get("phone"), case["complainant"].get("email"),
                                              case["complainant"].get("address")) if x)
    can_handle = case.get("receiver_can_handle")
    return {
        "org": printable(org),
        "number": view.number,
        "received": zh_datetime(case["received_at"]),
        "case": _clean({k: v for k, v in case.items() if not isinstance(v, dict | list)}),
        "c": _clean(case["complainant"]),
        "p": {**_clean(case.get("product", {})),
              **{k: zh_date(case.get("product", {}).get(k)) for k in ("ship_date", "expiry_date")}},
        "description": printable(case["description"]),
        "request": printable(case.get("customer_request")),
        "status": vocab.STATUS[view.status],
        # One name per box row: a document's freshness is judged by the names its template uses.
        "box_channel": boxes(vocab.CHANNEL, case["channel"]),
        "box_urgent": boxes({"yes": "是", "no": "否"}, "yes" if urgent else "no"),
        "box_category": boxes(vocab.CATEGORY, view.category),
        "box_severity": boxes(vocab.SEVERITY, view.severity),
        "box_responsibility": boxes(vocab.RESPONSIBILITY, inv.get("responsibility")),
        "box_method": boxes(vocab.REPLY_METHOD, resp.get("method")),
        "box_satisfaction": boxes(vocab.SATISFACTION, fu.get("satisfaction")),
        "box_can_handle": boxes({"yes": "能", "no": "不能"},
                                None if can_handle is None else ("yes" if can_handle else "no")),
        "major": "重大投诉:" + ";".join(printable(r) for r in reasons) if reasons else "否",
        "departments": printable("、".join(view.departments)),
        "owner": printable(triage_stage.get("owner")),
        "contact": contact,
        "intake": {"by": printable(intake.get("actor")), "at": local_datetime(intake.get("archived_at"), zone)},
        "handover": {"qa": printable(triage_stage.get("qa")), "at": zh_datetime(triage_stage.get("qa_received_at")),
                     "promised": zh_datetime(case.get("promised_reply_at"))},
        # 记录表: the QA who recorded (who took over, else who ran intake) and the 复核人, with their own dates.
        "rec": {"qa": printable(triage_stage.get("qa") or intake.get("actor")),
                "qa_date": zh_date(triage_stage.get("qa_received_at")) or local_date(intake.get("archived_at"), zone),
                "reviewer": printable(triage_stage.get("reviewed_by")),
                "review_date": zh_date(triage_stage.get("reviewed_at"))},
        "due": {"reply": zh_date(deadlines_["reply_due"]), "investigation": zh_date(deadlines_["investigation_due"]),
                "eightd": zh_date(deadlines_.get("eightd_due")) or "不适用"},
        # One name per deadline: a late reply must not make the investigation report stale, and back.
        "reply_timely": {"met": reply_met, "late": reply_late},
        "inv_timely": {"met": inv_met, "late": inv_late},
        "attachment_list": printable(";".join(f"{a.get('title') or ''} {a['file'].split('/')[-1]}".strip()
                                              for a in view.record["attachments"])) or "无",
        "inv": {"investigator": printable(inv.get("investigator")), "completed": zh_datetime(inv.get("completed_at")),
                "records": printable("、".join(inv.get("records_reviewed", []))),
                "findings": printable(inv.get("findings")), "root_cause": printable(inv.get("root_cause"))},
        **_split_pharma(case, inv),
        "capa": actions,
        # The last action prints in the closing row with the signature block (kept on one page).
        "capa_rest": actions[:-1],
        "capa_last": actions[-1] if actions else {},
        "capa_problem": printable(case["description"]),
        # Closed with actions open: the closure's --reason is why (rules/stages.plan requires it).
        "capa_open_reason": printable(closure_stage.get("reason")) if cl and open_actions else "",
        "resp": {"replied": zh_datetime(resp.get("replied_at")), "content": printable(resp.get("content")),
                 "outcome": printable(resp.get("outcome")), "measures": printable(resp.get("measures")),
                 "by": printable(resp.get("replied_by"))},
        "fu": {"visited": zh_datetime(fu.get("visited_at")), "by": printable(fu.get("by")),
               "feedback": printable(fu.get("feedback")), "confirmation": printable(fu.get("customer_confirmation"))},
        "cl": {"closed": zh_datetime(cl.get("closed_at")), "approved_by": printable(cl.get("approved_by")),
               "summary": printable(cl.get("summary"))},
        "retention": zh_date(view.retention_until) if view.retention_until else "结案后计算",
        "d": {
            "d1": printable("负责人:" + (triage_stage.get("owner") or "") + ";部门:" + "、".join(view.departments)
                            + (";调查人:" + inv["investigator"] if inv.get("investigator") else "")),
            "d2": printable(case["description"]),
            "d3": _actions(capa, ("correction",)),
            "d4": printable("\n".join(x for x in (inv.get("root_cause"), inv.get("findings")) if x)),
            "d5": d5,
            "d6": "\n".join(f"{printable(a['action'])}:{zh_date(a.get('done_at')) or '进行中'}"
                            + (f",验证:{printable(a['verification'])}" if a.get("verification") else "")
                            for a in done),
            "d7": _actions(capa, ("preventive",)),
            "d8": printable(cl.get("summary")),
        },
        "e8": {
            "team": _team(triage_stage, inv, view.departments),
            "problem": or_blank(case["description"]),
            "containment": _eightd_actions(capa, "correction"),
            "root_cause": or_blank("\n".join(x for x in (inv.get("root_cause"), inv.get("findings")) if x)),
            "corrective": _eightd_actions(capa, "corrective", plan=True),
            "implemented": _eightd_actions(capa, "corrective"),
            "preventive": _eightd_actions(capa, "preventive"),
            "summary": or_blank(cl.get("summary")),
            "report_date": local_date(capa_stage.get("recorded_at"), zone) or zh_date(inv.get("completed_at")),
            "completed": zh_date(max(a["done_at"] for a in capa)) if all_done else "",
            "closed": zh_date(cl.get("closed_at")),
        },
        **{f"fix_{k}": corrections(view, stages, zone) for k, stages in FORM_STAGES.items()},
        "sig": sig,
    }
