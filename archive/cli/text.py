"""Plain-text views for the terminal: the register table and one case."""

from __future__ import annotations

import unicodedata
from typing import Any

STATUS_ZH = {"registered": "已登记", "investigating": "调查中", "answered": "已答复",
             "following_up": "回访中", "closed": "已结案"}
SEVERITY_ZH = {"critical": "严重", "major": "重要", "minor": "轻微"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _clip(text: str, width: int) -> str:
    out = ""
    for ch in text:
        if _width(out + ch) > width - 1:
            return out + "…"
        out += ch
    return out


def table(headers: list[str], rows: list[list[str]], limits: dict[int, int] | None = None) -> str:
    limits = limits or {}
    cells = [[_clip(c, limits[i]) if i in limits else c for i, c in enumerate(r)] for r in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def register_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no cases)"
    body = [[r["number"], r["received_at"][:16].replace("T", " "), r["complainant"] or "",
             r["product"] or "", r["lot"] or "", SEVERITY_ZH.get(r["severity"], r["severity"]),
             STATUS_ZH.get(r["status"], r["status"]), r["reply_due"] or "", r["retention_until"] or "",
             "保全" if r["hold"] else ""] for r in rows]
    return table(["编号", "投诉时间", "投诉人", "产品", "批号", "严重程度", "状态", "答复期限", "保存至", "保全"],
                 body, {2: 16, 3: 18})


def show_text(d: dict[str, Any]) -> str:
    case = d["case"]
    product = case.get("product", {})
    lines = [
        f"投诉编号 {d['number']}   状态 {STATUS_ZH.get(d['status'], d['status'])}   "
        f"严重程度 {SEVERITY_ZH.get(d['severity'], d['severity'])}   类别 {d['category']}",
        f"投诉时间 {case['received_at']}   途径 {case['channel']}   接收人 {case.get('received_by', '')}",
        f"投诉人 {case['complainant']['name']}  {case['complainant'].get('organization', '')}",
    ]
    if product:
        lines.append("产品 " + "  ".join(f"{k}={v}" for k, v in product.items()))
    lines.append(f"投诉内容 {case['description']}")
    if case.get("customer_request"):
        lines.append(f"客户要求 {case['customer_request']}")
    if d["triage_reasons"]:
        lines.append("重大投诉原因 " + "; ".join(d["triage_reasons"]))
    lines.append("受理部门 " + ", ".join(d["departments"]))
    dl = d["deadlines"]
    lines.append(f"答复期限 {dl['reply_due']}   调查期限 {dl['investigation_due']}"
                 + (f"   8D期限 {dl['eightd_due']}" if dl.get("eightd_due") else ""))
    if d["stages"]:
        lines.append("阶段 " + ", ".join(f"{k} v{d['stage_versions'][k]}" for k in d["stages"]))
    for doc_id, versions in d["documents"].items():
        lines.append(f"文件 {doc_id}: {versions[-1]}" + (f" (共 {len(versions)} 版)" if len(versions) > 1 else ""))
    for att in d["attachments"]:
        lines.append(f"附件 {att['file']}  {att.get('title') or ''}  sha256 {att['sha256'][:16]}…")
    lines.append(f"保存至 {d['retention_until'] or '(结案后计算)'}" + ("   法律保全中" if d["hold"] else ""))
    lines.append(f"位置 {d['path']}")
    return "\n".join(lines)


def overdue_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(nothing overdue)"
    return table(["编号", "投诉人", "期限", "到期日", "逾期天数", "状态"],
                 [[r["number"], r["complainant"], r["deadline_zh"], r["due"], str(r["days_late"]),
                   STATUS_ZH.get(r["status"], r["status"])] for r in rows], {1: 16})
