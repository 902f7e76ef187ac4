"""What each controlled form shows: the render context built from a case, in Chinese, print-ready."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from archive import vocab
from archive.record.reader import CaseView

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


def context(view: CaseView, org: str, signatures: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """Everything any GL-004 form prints. Strings only: docxtpl autoescapes them, so any text is literal."""
    case = view.case
    inv = _stage(view, "investigation")
    capa = view.stages.get("capa", {}).get("data", []) if "capa" in view.stages else []
    resp, fu, cl = _stage(view, "response"), _stage(view, "follow_up"), _stage(view, "closure")
    triage_stage = _stage(view, "triage")
    deadlines = view.record["deadlines"]
    reasons = view.record["triage"]["reasons"]
    sig = {m: {"name": "", "title": "", "time": "", "date": "", "fingerprint": ""} for m in vocab.MEANING}
    for meaning, s in (signatures or {}).items():
        sig[meaning] = _clean(s)
    d5 = _actions(capa, ("corrective",))
    done = [a for a in capa if a.get("done_at") or a.get("verification")]
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
        "box_urgent": boxes({"yes": "是", "no": "否"}, "yes" if case.get("urgent") else "no"),
        "box_category": boxes(vocab.CATEGORY, view.category),
        "box_severity": boxes(vocab.SEVERITY, view.severity),
        "box_responsibility": boxes(vocab.RESPONSIBILITY, inv.get("responsibility")),
        "box_method": boxes(vocab.REPLY_METHOD, resp.get("method")),
        "box_satisfaction": boxes(vocab.SATISFACTION, fu.get("satisfaction")),
        "major": "重大投诉:" + ";".join(printable(r) for r in reasons) if reasons else "否",
        "departments": printable("、".join(view.departments)),
        "owner": printable(triage_stage.get("owner")),
        "due": {"reply": zh_date(deadlines["reply_due"]), "investigation": zh_date(deadlines["investigation_due"]),
                "eightd": zh_date(deadlines.get("eightd_due")) or "不适用"},
        "attachment_list": printable(";".join(f"{a.get('title') or ''} {a['file'].split('/')[-1]}".strip()
                                              for a in view.record["attachments"])) or "无",
        "inv": {"investigator": printable(inv.get("investigator")), "completed": zh_datetime(inv.get("completed_at")),
                "records": printable("、".join(inv.get("records_reviewed", []))),
                "findings": printable(inv.get("findings")), "root_cause": printable(inv.get("root_cause"))},
        "capa": [{"n": str(i), "kind": vocab.CAPA_KIND[a["kind"]], "action": printable(a["action"]),
                  "owner": printable(a["owner"]), "due": zh_date(a["due"]), "done": zh_date(a.get("done_at")),
                  "verification": printable(a.get("verification"))} for i, a in enumerate(capa, start=1)],
        "resp": {"replied": zh_datetime(resp.get("replied_at")), "content": printable(resp.get("content")),
                 "outcome": printable(resp.get("outcome"))},
        "fu": {"visited": zh_datetime(fu.get("visited_at")), "by": printable(fu.get("by")),
               "feedback": printable(fu.get("feedback"))},
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
        "sig": sig,
    }
