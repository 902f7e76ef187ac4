"""Plain-text views for the terminal: the register table and one case."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from datetime import tzinfo
from typing import Any

from archive import clock, vocab

# What a terminal acts on instead of printing: C0 controls but newline and tab (ESC starts the sequences that
# set a window's title, move the cursor, rewrite the screen; CR overwrites a line), DEL, the C1 controls (U+009B
# is a one-character CSI), and the bidirectional overrides that reorder what is shown (U+202E...).
_ACTIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def inert(text: str, *, json_text: bool = False) -> str:
    """``text`` with every character a terminal would act on made visible as its escape (``\\x1b``,
    ``\\u202e``): customer text printed to a terminal can neither set its title nor hide or reorder what is
    shown. ``json_text``: in JSON's own escape (``\\u001b``), so the document still parses to the same value.
    The one function every printed case text (show, list, search, holds, errors...) goes through."""
    def visible(m: re.Match[str]) -> str:
        code = ord(m.group())
        return f"\\u{code:04x}" if json_text or code > 0xFF else f"\\x{code:02x}"

    return _ACTIVE.sub(visible, text)


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
        return "(无记录)"
    body = [[r["number"], r["received_at"][:16].replace("T", " "), r["complainant"] or "",
             r["product"] or "", r["lot"] or "", vocab.label(vocab.SEVERITY, r["severity"]),
             vocab.label(vocab.STATUS, r["status"]), r["reply_due"] or "", r["retention_until"] or "",
             "、".join(filter(None, [vocab.HOLD_STATE["active"] if r["hold"] else "",
                                     "批准失效" if r.get("lapsed_approvals") else ""]))] for r in rows]
    return table(["编号", "投诉时间", "投诉人", "产品", "批号", "严重程度", "状态", "答复期限", "保存至", "提示"],
                 body, {2: 16, 3: 18}) + f"\n共 {len(rows)} 件"


PRODUCT_LABELS = {"name": "品名", "spec": "规格", "lot": "批号", "part_no": "料号", "order_no": "订单编号",
                  "quantity": "数量", "defect_quantity": "不良数量", "ship_date": "交运日期", "expiry_date": "有效期至"}


def calendar_warning(number: str, years: list[int]) -> str:
    return (f"注意:{number} 的工作日期限落在 {'、'.join(map(str, years))} 年,法定节假日日历尚无该年数据,"
            "按周一至周五计算;请在 archive.toml [calendar] 填写该年的节假日与调休工作日")


@functools.cache
def _schema(name: str) -> dict[str, Any]:
    from importlib import resources

    data: dict[str, Any] = json.loads(resources.files("archive.schemas").joinpath(name).read_text(encoding="utf-8"))
    return data


def _fields(node: dict[str, Any], value: dict[str, Any], zone: tzinfo, skip: tuple[str, ...] = ()) -> str:
    """A stage's (or the complaint's) fields in the schema's order, each by its Chinese title, coded values by
    their labels, times local: every field a case file may give is shown, those added later included."""
    props: dict[str, Any] = node.get("properties") or {}
    parts = []
    for key in [*props, *(k for k in value if k not in props)]:
        if key in skip or key not in value or value[key] in (None, "", [], {}):
            continue
        spec = props.get(key) or {}
        # a stage field without a title of its own is the complaint's field of that name (triage's severity)
        title = spec.get("title") or (_schema("case.schema.json")["properties"].get(key) or {}).get("title") or key
        parts.append(f"{title} {_value(spec, value[key], zone)}")
    return "  ".join(parts)


def _value(spec: dict[str, Any], v: Any, zone: tzinfo) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, dict):
        return "(" + _fields(spec, v, zone) + ")"
    if isinstance(v, list):
        return "、".join(_value(spec.get("items") or {}, x, zone) for x in v)
    if "enum" in spec and (coded := vocab.vocabulary_of([str(x) for x in spec["enum"]])):
        return vocab.label(coded, str(v))
    if spec.get("format") == "date-time":
        return clock.local_text(str(v), zone)
    return str(v)


def _stage_head(d: dict[str, Any], name: str, zone: tzinfo) -> str:
    rec = d["stages"][name]
    head = f"【{vocab.label(vocab.STAGE, name)}】第{d['stage_versions'][name]}版  {rec.get('actor', '')} " \
           f"{clock.local_text(rec.get('recorded_at'), zone)}"
    if rec.get("supersedes") and rec.get("reason"):
        head += f"  更正(替代 {rec['supersedes']}):{rec['reason']}"
    return head


def show_text(d: dict[str, Any], zone: tzinfo = dt.UTC) -> str:
    case = d["case"]
    cs, us = _schema("case.schema.json")["properties"], _schema("update.schema.json")["properties"]
    by_key = {m["deadline"]: m for m in d.get("late", [])}
    lines = [
        f"投诉编号 {d['number']}   状态 {vocab.label(vocab.STATUS, d['status'])}   "
        f"严重程度 {vocab.label(vocab.SEVERITY, d['severity'])}   类别 {vocab.label(vocab.CATEGORY, d['category'])}",
        f"投诉时间 {clock.local_text(case['received_at'], zone)}   途径 {vocab.label(vocab.CHANNEL, case['channel'])}"
        f"   接收人 {case.get('received_by', '')}",
        f"紧急投诉 {'是' if d.get('urgent') else '否'}" + ("(分类时标记)" if d.get("urgent_by_triage") else ""),
        " ".join(filter(None, ["投诉人", case["complainant"]["name"],
                               _fields(cs["complainant"], d.get("contact") or case["complainant"], zone,
                                       skip=("name",))])),
    ]
    if case.get("product"):
        lines.append("产品 " + _fields(cs["product"], case["product"], zone))
    lines.append(f"投诉内容 {case['description']}")
    if case.get("customer_request"):
        lines.append(f"客户要求 {case['customer_request']}")
    shown = ("received_at", "channel", "received_by", "urgent", "complainant", "product", "description",
             "customer_request", "category", "severity", "attachments")
    if other := _fields(_schema("case.schema.json"), case, zone, skip=shown):
        lines.append(other)
    if d["triage_reasons"]:
        lines.append("重大投诉原因 " + ";".join(d["triage_reasons"]))
    lines.append("受理部门 " + "、".join(d["departments"]))
    dl, before = d["deadlines"], d.get("deadlines_at_intake") or {}

    def due(key: str, zh: str) -> str:
        text = f"{zh} {dl[f'{key}_due']}"
        if before.get(f"{key}_due") and before[f"{key}_due"] != dl[f"{key}_due"]:
            why = "紧急投诉" if key == "reply" else "分类"
            text += f"(原 {before[f'{key}_due']},因{why}重新计算)"
        if key in by_key:
            text += f" 逾期 {by_key[key]['working_days']} 个工作日"
        return text

    lines.append("   ".join([due("reply", "答复期限"), due("investigation", "调查期限")]
                            + ([due("eightd", "8D 期限")] if dl.get("eightd_due") else [])))
    if d.get("calendar_unknown"):
        lines.append(calendar_warning(d["number"], d["calendar_unknown"]))
    for name in d["stages"]:
        if name in ("capa", "retention"):
            if name == "capa":
                lines.append(_stage_head(d, name, zone))
                for i, a in enumerate(d.get("capa") or d["stages"]["capa"]["data"], start=1):
                    status = f"已完成 {a['done_at']}" if a.get("done_at") else "未完成"
                    late = f" 逾期 {a['late_working_days']} 个工作日" if a.get("late_working_days") else ""
                    rest = _fields(us["capa"]["items"], a, zone, skip=("kind", "action", "status", "done_at",
                                                                        "late_working_days"))
                    lines.append(f"  {i}. [{vocab.label(vocab.CAPA_KIND, a['kind'])}] {a['action']}  {rest}  "
                                 f"状态 {status}{late}")
            continue
        lines.append(_stage_head(d, name, zone))
        data = d["stages"][name].get("data") or {}
        if name in us and isinstance(data, dict):
            lines.append("  " + _fields(us[name], data, zone))
        elif isinstance(data, dict) and data.get("reason"):
            lines.append(f"  原因 {data['reason']}")
    if d.get("closed_with_open_actions"):
        c = d["closed_with_open_actions"]
        lines.append(f"带未完成措施结案({len(c['actions'])} 项),理由:{c['reason'] or '(未记录)'}")
    for f in d.get("findings", []):
        lines.append(f"发现 {f['detail']}")
    for s in d.get("signatures", {}).values():
        signed = ";".join(f"{vocab.label(vocab.MEANING, m)} {x['name']} {clock.local_text(x['time'], zone)}"
                          for m, x in s["signed"].items()) or "未签"
        missing = "、".join(vocab.label(vocab.MEANING, m) for m in s["unsigned"])
        lines.append(f"文件 {s['document']}  已签:{signed}" + (f"  待签:{missing}" if missing else "")
                     + ("  批准已失效(内容已变更)" if s["approval_lapsed"] else ""))
    for att in d["attachments"]:
        cut = f"  文本已截断({vocab.label(vocab.TEXT_CUT, att['text_cut'])})" if att.get("text_cut") else ""
        lines.append(f"附件 {att['file']}  {att.get('title') or ''}  SHA-256 {att['sha256'][:16]}…{cut}")
    retention = d.get("retention") or {}
    lines.append(f"保存至 {d['retention_until'] or '(结案后计算)'}"
                 + (f"({retention.get('rule_text') or retention.get('rule')})" if retention else ""))
    for h in d.get("holds", []):
        lines.append(f"法律保全中 {h['id']}:{h['reason']}({h['placed_by']},"
                     f"{clock.local_text(h['placed_at'], zone)})")
    lines.append(f"位置 {d['path']}")
    return "\n".join(lines)


def overdue_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(无逾期)"
    body = table(["编号", "投诉人", "期限", "到期日", "逾期天数", "状态", "措施"],
                 [[r["number"], r["complainant"], r["deadline_zh"], r["due"], str(r["days_late"]),
                   vocab.label(vocab.STATUS, r["status"]), r.get("action", "")] for r in rows], {1: 16, 6: 24})
    unknown = {r["number"]: r["calendar_unknown"] for r in rows if r.get("calendar_unknown")}
    return "\n".join([body, *(calendar_warning(n, y) for n, y in unknown.items())])


def intake_lines(r: Any) -> str:
    reasons = f"  重大投诉: {'; '.join(r.reasons)}" if r.reasons else ""
    severity = vocab.label(vocab.SEVERITY, r.severity)
    lines = [f"{r.number}  {r.file}  严重程度 {severity}  答复期限 {r.reply_due}{reasons}"]
    lines += [f"    {doc}" for doc in r.documents]
    lines += [f"    相似投诉 {h['number']}  {h['received_at'][:10]}  {h['complainant']}  {h['product']}  "
              f"{'、'.join(h.get('reasons', []))}" for h in r.similar]
    return "\n".join(lines)


def import_summary(s: Any) -> str:
    """What an import did: the count archived (with any case that stands but has an error), then each refused
    file with its one-line reason."""
    archived = s.archived
    lines = [f"archived {len(archived)} cases from {s.folder}"
             + (f": {archived[0].number} … {archived[-1].number}" if len(archived) > 1
                else f": {archived[0].number}" if archived else "")]
    lines += [f"  {r.number}  {r.file}: {r.error}" for r in archived if r.error]
    if s.refused:
        lines.append(f"refused {len(s.refused)} files:")
        lines += [f"  {r.file}: {r.reason}" for r in s.refused]
    return "\n".join(lines)


def update_lines(d: dict[str, Any]) -> str:
    same = "、".join(vocab.label(vocab.STAGE, s) for s in d.get("unchanged", []))
    if not d["stages"]:
        return f"{d['number']}  nothing changed: {same} 与已记录的版本相同,未写入任何内容"
    head = (f"{d['number']}  {'、'.join(vocab.label(vocab.STAGE, s) for s in d['stages'])}  → "
            f"{vocab.label(vocab.STATUS, d['status'])}"
            + (f",保存至 {d['retention_until']}" if d["retention_until"] else ""))
    notes = ([f"    {same} 与已记录的版本相同,未写入新版本"] if same else []) + \
        (["    CAPA 进展(完成日期),不是更正"] if d.get("progress") else [])
    return "\n".join([head, *notes, *(f"    {doc}" for doc in d["documents"])])


def keys_table(rows: list[dict[str, Any]], zone: tzinfo = dt.UTC) -> str:
    from archive.integrity.keys import short

    def certified(r: dict[str, Any]) -> str:
        if r["first_key"]:
            return "首个密钥"  # the archive's first key is its administrator's
        return f"{r['certified_by']} {clock.local_text(r['certified_at'], zone)}" if r["certified_by"] else ""

    return table(["id", "姓名", "职务", "指纹", "创建", "登记人", "角色", "认证", "可签名", "停用"],
                 [[r["id"], r["name"], r["title"], short(r["fingerprint"]), clock.local_text(r["created_at"], zone),
                   r["registered_by"] or "",
                   vocab.KEY_ROLE[r["role"]] if r["role"] else "未认证", certified(r),
                   "是" if r["can_sign"] else "否", clock.local_text(r["retired_at"], zone)] for r in rows])


def templates_table(rows: list[dict[str, Any]]) -> str:
    return table(["id", "文件编号", "标题", "版本", "生效日期", "文件", "校验"],
                 [[r["id"], r["document_number"], r["title"], r["version"], r["effective_date"], r["file"],
                   "ok" if r["intact"] else "已改动!"] for r in rows])


def verify_report(report: Any) -> str:
    lines = [f.line() for f in report.findings]
    lines += [f"提醒 {w['where']}: {w['detail'].split(':')[0]} 批准已失效(内容在批准后已变更)"
              for w in report.warnings if w["kind"] == "approval_lapsed"]
    lines += [f"提醒 {w['where']}: 中断的写入留下的临时文件,{w['detail'].split(': ', 1)[-1]}"
              for w in report.warnings if w["kind"] == "temp_file_left"]
    lines += [f"提醒 {w['where']}: {w['detail']}" for w in report.warnings if w["kind"] == "approver_differs"]
    if report.unfinished_change:
        lines.append("注意:留有一项被中断、未完成的更改;verify 不改动它,"
                     "下一个写命令(如 `archive rebuild`)会完成或撤销它")
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
                     f"相似度 {h['score']:.2f}  {'、'.join(h.get('reasons', []))}" for h in hits) or "(无相似投诉)"


def index_report(report: dict[str, list[str]]) -> str:
    lines = [f"{kind}: {n}" for kind, numbers in report.items() for n in numbers]
    lines.append("run `archive rebuild` to repair" if lines else "index is current")
    return "\n".join(lines)


def due_table(d: dict[str, Any]) -> str:
    rows = d["due"]
    blocked = [f"未到期(CAPA 未完成): {b['number']} {b['reason']}" for b in d.get("blocked", [])]
    if not rows:
        return "\n".join([f"(截至 {d['as_of']} 无到期记录)", *blocked])
    return "\n".join([table(["编号", "类别", "结案日期", "保存至", "规则"],
                            [[r["number"], vocab.label(vocab.CATEGORY, r["category"]), (r["closed_at"] or "")[:10],
                              r["retention_until"], r["rule"]] for r in rows]), *blocked])


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


def certificates_table(rows: list[dict[str, Any]], zone: tzinfo = dt.UTC) -> str:
    if not rows:
        return "(尚无销毁证明)"
    return table(["证明编号", "状态", "判定日期", "批准人", "监销人", "执行时间", "件数"],
                 [[r["id"], "已执行" if r["status"] == "executed" else "执行中", r["as_of"], r["approved_by"],
                   r["witness"] or "", clock.local_text(r["executed_at"], zone), str(r["destroyed"])] for r in rows])


def moved_table(d: dict[str, Any]) -> str:
    rows = d["moved"]
    if not rows:
        return "(没有保存期限需要调整)"
    return table(["编号", "原保存至", "新保存至", "规则"], [[r["number"], r["from"], r["to"], r["rule"]] for r in rows])


def release_line(d: dict[str, Any]) -> str:
    still = f";仍在法律保全中({'、'.join(d['still_held_by'])})" if d["still_held_by"] else ""
    return f"{d['number']}  已解除 {d['released']}{still}"


def holds_table(rows: list[dict[str, Any]], zone: tzinfo = dt.UTC) -> str:
    if not rows:
        return "(无法律保全)"
    return table(["编号", "保全", "原因", "设置人", "设置时间"],
                 [[r["number"], r["hold"], r["reason"], r["placed_by"], clock.local_text(r["placed_at"], zone)]
                  for r in rows], {2: 30})


def purge_text(d: dict[str, Any]) -> str:
    lines = [d["finishing"]] if d.get("finishing") else []
    if d["executed"]:
        head = "已销毁"
    elif d.get("preview"):
        head = f"预览 (preview, {d['as_of']} 尚未到来;未写入任何内容),届时将销毁"
    else:
        head = "试运行(未写入任何内容),将销毁"
    lines.append(f"{head} {len(d['destroyed'])} 件: {' '.join(d['destroyed']) or '无'}")
    if d.get("executed_by"):
        lines.append(f"执行人 {d['executed_by']}  批准人 {d['approved_by']}")
    if d["held"]:
        lines += [f"  法律保全中,不销毁: {h['number']} {h['hold']} ({h['reason']})" for h in d["held"]]
    lines += [f"  未到期(CAPA 未完成),不销毁: {b['number']} {b['reason']}" for b in d.get("blocked", [])]
    lines += [f"  未销毁 {r['number']}: 校验未通过: {'; '.join(r['findings'])}" for r in d.get("refused", [])]
    if d["certificate"]:
        lines.append(f"销毁证明 {d['certificate']}")
    return "\n".join(lines)


# ---------------------------------------------------------------- report trend
def trend_text(d: dict[str, Any]) -> str:
    periods = d["periods"]
    lines = [f"客户投诉趋势  按{d['by_label']}  {d['from']} 至 {d['to']}  共 {d['cases']} 件"]
    if d["rows"]:
        body = [[r["label"], *(str(r["counts"][p]) for p in periods), str(r["total"])] for r in d["rows"]]
        body.append(["合计", *(str(sum(r["counts"][p] for r in d["rows"])) for p in periods),
                     str(sum(r["total"] for r in d["rows"]))])
        lines.append(table([d["by_label"], *periods, "合计"], body, {0: 24}))
        if d["by"] == "department":
            lines.append("(一件投诉分派多个部门时,每个部门各计一次)")
    else:
        lines.append("(期间内无投诉)")
    lines.append(f"{d['basis']}。")
    lines.append(f"预警规则:连续 {d['window_months']} 个月内同一{d['by_label']}投诉达 {d['threshold']} 件;"
                 f"同一根本原因出现于 {d['root_cause_cases']} 件及以上")
    if d["flags"]:
        lines.append("预警:")
        lines += [f"  [{vocab.label(vocab.TREND_FLAG, f['kind'])}] {f['label']}  {f['window']}  {f['count']} 件: "
                  + " ".join(f["cases"]) for f in d["flags"]]
    else:
        lines.append("预警: 无")
    lines += [f"已写入 {p}" for p in d["files"]["charts"]]
    return "\n".join(lines)
