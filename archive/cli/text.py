"""Plain-text views for the terminal: the register table and one case."""

from __future__ import annotations

import unicodedata
from typing import Any

from archive import vocab


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
             r["product"] or "", r["lot"] or "", vocab.SEVERITY.get(r["severity"], r["severity"]),
             vocab.STATUS.get(r["status"], r["status"]), r["reply_due"] or "", r["retention_until"] or "",
             vocab.HOLD_STATE["active"] if r["hold"] else ""] for r in rows]
    return table(["编号", "投诉时间", "投诉人", "产品", "批号", "严重程度", "状态", "答复期限", "保存至", "保全"],
                 body, {2: 16, 3: 18})


def show_text(d: dict[str, Any]) -> str:
    case = d["case"]
    product = case.get("product", {})
    lines = [
        f"投诉编号 {d['number']}   状态 {vocab.STATUS.get(d['status'], d['status'])}   "
        f"严重程度 {vocab.SEVERITY.get(d['severity'], d['severity'])}   类别 {d['category']}",
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
                   vocab.STATUS.get(r["status"], r["status"])] for r in rows], {1: 16})


def intake_lines(r: Any) -> str:
    reasons = f"  重大投诉: {'; '.join(r.reasons)}" if r.reasons else ""
    severity = vocab.label(vocab.SEVERITY, r.severity)
    lines = [f"{r.number}  {r.file}  严重程度 {severity}  答复期限 {r.reply_due}{reasons}"]
    lines += [f"    {doc}" for doc in r.documents]
    lines += [f"    相似投诉 {h['number']}  {h['received_at'][:10]}  {h['complainant']}  {h['product']}"
              for h in r.similar]
    return "\n".join(lines)


def update_lines(d: dict[str, Any]) -> str:
    head = (f"{d['number']}  {'、'.join(vocab.label(vocab.STAGE, s) for s in d['stages'])}  → "
            f"{vocab.label(vocab.STATUS, d['status'])}"
            + (f",保存至 {d['retention_until']}" if d["retention_until"] else ""))
    return "\n".join([head, *(f"    {doc}" for doc in d["documents"])])


def keys_table(rows: list[dict[str, Any]]) -> str:
    from archive.integrity.keys import short

    return table(["id", "姓名", "职务", "指纹", "创建", "停用"],
                 [[r["id"], r["name"], r["title"], short(r["fingerprint"]), r["created_at"], r["retired_at"] or ""]
                  for r in rows])


def templates_table(rows: list[dict[str, Any]]) -> str:
    return table(["id", "文件编号", "标题", "版本", "生效日期", "文件", "校验"],
                 [[r["id"], r["document_number"], r["title"], r["version"], r["effective_date"], r["file"],
                   "ok" if r["intact"] else "已改动!"] for r in rows])


def verify_report(report: Any) -> str:
    lines = [f.line() for f in report.findings]
    if report.unfinished_change:
        lines.append("注意:此只读副本中留有一项被中断、未完成的更改")
    c = report
    lines.append(f"{'OK' if report.ok else 'FAILED'}: {c.records} records, {c.files} files, "
                 f"{c.bytes / 1e6:.1f} MB, {c.signatures} signatures, {c.checkpoints} checkpoints, "
                 f"{len(report.findings)} findings")
    lines.append(f"audit head: seq {report.head.seq} sha256 {report.head.hash}")
    return "\n".join(lines)


def search_hits(result: dict[str, Any]) -> str:
    lines = [f"{result['total']} 件"]
    for h in result["hits"]:
        lines.append(f"{h['number']}  {h['received_at'][:10]}  {h['complainant']}  {h['product']}  "
                     f"[{vocab.label(vocab.STATUS, h['status'])}]  score {h['score']:.2f}")
        lines += [f"    {line}" for line in h["highlights"]]
    return "\n".join(lines)


def similar_hits(hits: list[dict[str, Any]]) -> str:
    return "\n".join(f"{h['number']}  {h['received_at'][:10]}  {h['complainant']}  {h['product']}  "
                     f"score {h['score']:.2f}" for h in hits) or "(无相似投诉)"


def index_report(report: dict[str, list[str]]) -> str:
    lines = [f"{kind}: {n}" for kind, numbers in report.items() for n in numbers]
    lines.append("run `archive rebuild` to repair" if lines else "index is current")
    return "\n".join(lines)


def due_table(d: dict[str, Any]) -> str:
    rows = d["due"]
    if not rows:
        return f"(截至 {d['as_of']} 无到期记录)"
    return table(["编号", "类别", "结案日期", "保存至", "规则"],
                 [[r["number"], vocab.label(vocab.CATEGORY, r["category"]), (r["closed_at"] or "")[:10],
                   r["retention_until"], r["rule"]] for r in rows])


def schedule_text(plan: dict[str, Any]) -> str:
    lines = ["销毁计划" + (f"  {plan['from'] or ''}..{plan['to'] or ''}" if plan["from"] or plan["to"] else "")]
    lines.append(table(["月份", "件数", "按类别"],
                       [[m["month"], str(m["count"]), "、".join(f"{vocab.label(vocab.CATEGORY, k)} {v}"
                                                              for k, v in sorted(m["by_category"].items()))]
                        for m in plan["months"]]) if plan["months"] else "(期间内无到期记录)")
    if plan["held"]:
        lines.append("法律保全中(不销毁):")
        lines += [f"  {h['number']}  保存至 {h['retention_until']}  {'、'.join(h['holds'])}" for h in plan["held"]]
    if plan.get("file"):
        lines.append(f"已写入 {plan['file']}")
    return "\n".join(lines)


def certificates_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(尚无销毁证明)"
    return table(["证明编号", "状态", "判定日期", "批准人", "监销人", "执行时间", "件数"],
                 [[r["id"], "已执行" if r["status"] == "executed" else "执行中", r["as_of"], r["approved_by"],
                   r["witness"] or "", (r["executed_at"] or "")[:19], str(r["destroyed"])] for r in rows])


def moved_table(d: dict[str, Any]) -> str:
    rows = d["moved"]
    if not rows:
        return "(没有保存期限需要调整)"
    return table(["编号", "原保存至", "新保存至", "规则"], [[r["number"], r["from"], r["to"], r["rule"]] for r in rows])


def release_line(d: dict[str, Any]) -> str:
    still = f";仍在法律保全中({'、'.join(d['still_held_by'])})" if d["still_held_by"] else ""
    return f"{d['number']}  已解除 {d['released']}{still}"


def holds_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(无法律保全)"
    return table(["编号", "保全", "原因", "设置人", "设置时间"],
                 [[r["number"], r["hold"], r["reason"], r["placed_by"], r["placed_at"][:19]] for r in rows], {2: 30})


def purge_text(d: dict[str, Any]) -> str:
    head = "已销毁" if d["executed"] else "试运行(未写入任何内容),将销毁"
    lines = [f"{head} {len(d['destroyed'])} 件: {' '.join(d['destroyed']) or '无'}"]
    if d.get("resumed"):
        lines.append(f"完成了中断的销毁 {d['resumed']}")
    if d["held"]:
        lines += [f"  法律保全中,不销毁: {h['number']} {h['hold']} ({h['reason']})" for h in d["held"]]
    if d["certificate"]:
        lines.append(f"销毁证明 {d['certificate']}")
    return "\n".join(lines)
