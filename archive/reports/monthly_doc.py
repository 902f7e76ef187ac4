"""The monthly 客户投诉案件统计表 as a controlled document: the registered template monthly-report, filled with
the month's figures, its charts embedded, the appendix naming the cases behind each count."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from archive import vocab
from archive.documents.context import printable, zh_date
from archive.documents.templates import Template, checked_path, current

TEMPLATE_ID = "monthly-report"
DEADLINE = {"reply": "答复客户", "investigation": "调查"}
# The dimensions of the breakdown table, their Chinese names and the vocabulary of their codes (None: free text).
DIMENSIONS: tuple[tuple[str, str, vocab.Vocabulary | None], ...] = (
    ("category", "投诉类别", vocab.CATEGORY), ("severity", "严重程度", vocab.SEVERITY),
    ("channel", "投诉渠道", vocab.CHANNEL), ("department", "受理部门", None),
    ("responsibility", "责任判定(受理)", vocab.RESPONSIBILITY),
    ("responsibility_closed", "责任判定(结案)", vocab.RESPONSIBILITY),
    ("product", "产品", None), ("lot", "批号", None),
)
# Keys a count is made under when a case does not say (see reports.monthly).
MISSING = {"destroyed": "已销毁(未保留)", "unrecorded": "未记录", "unassigned": "未分派"}


def _name(code: str, vocabulary: vocab.Vocabulary | None) -> str:
    if code in MISSING:
        return MISSING[code]
    return vocab.label(vocabulary, code) if vocabulary is not None else printable(code)


def month_label(month: str) -> str:
    return f"{month[:4]}年{int(month[5:])}月"


# Past this many case numbers in all, each appendix row prints its first few and names the JSON file written
# beside the document, which keeps every number: LibreOffice takes minutes over tens of thousands of them.
APPENDIX_MAX = 5000
# The late and overdue lists print this many rows, then how many more the JSON lists.
LIST_ROWS_MAX = 200
# A breakdown (by lot, by product...) prints its biggest rows and the rest as one 其他 row.
DIMENSION_ROWS_MAX = 15
APPENDIX_ROW_SHORT = 20


def _numbers(numbers: list[str], short: str | None = None) -> str:
    if not numbers:
        return "—"
    if short is not None and len(numbers) > APPENDIX_ROW_SHORT:
        return "、".join(numbers[:APPENDIX_ROW_SHORT]) + f" 等 {len(numbers)} 件(全部编号见 {short})"
    return "、".join(numbers)


def context(fig: dict[str, Any], org: str, made_by: str, made_on: dt.date,
            numbers_file: str | None = None) -> dict[str, Any]:
    """The template's fields (charts are added by :func:`render`). ``numbers_file``: the JSON file beside the
    document that lists every case number, named by an appendix too long to print whole."""
    breakdown, appendix = [], []
    appendix += [{"item": label, "count": str(len(fig["cases"][key])), "numbers": _numbers(fig["cases"][key])}
                 for key, label in (("received", "本月受理"), ("closed", "本月结案"), ("open_at_start", "月初未结"),
                                    ("open_at_end", "月末未结"))]
    for key, label, vocabulary in DIMENSIONS:
        counts, shares, behind = fig[f"by_{key}"], fig["shares"][key], fig["cases"][f"by_{key}"]
        rows = [(_name(code, vocabulary), count, shares.get(code, 0), behind[code]) for code, count in counts.items()]
        if len(rows) > DIMENSION_ROWS_MAX:  # the biggest, then the rest in one row (the JSON keeps each)
            rest = rows[DIMENSION_ROWS_MAX - 1:]
            other = (f"其他 {len(rest)} 项", sum(r[1] for r in rest), sum(r[2] for r in rest),
                     [n for r in rest for n in r[3]])
            rows = [*rows[:DIMENSION_ROWS_MAX - 1], other]
        for name, count, share, numbers in rows:
            breakdown.append({"dimension": label, "name": name, "count": str(count), "share": f"{100 * share:.1f}%"})
            appendix.append({"item": f"{label}:{name}", "count": str(count), "numbers": _numbers(numbers)})
    appendix += [
        {"item": "按时答复", "count": str(len(fig["reply_on_time"])), "numbers": _numbers(fig["reply_on_time"])},
        {"item": "逾期答复", "count": str(len(fig["reply_late"])), "numbers": _numbers(fig["reply_late"])},
        {"item": "按时调查", "count": str(len(fig["investigation_on_time"])),
         "numbers": _numbers(fig["investigation_on_time"])},
        {"item": "逾期调查", "count": str(len(fig["investigation_late"])),
         "numbers": _numbers(fig["investigation_late"])},
        {"item": "本月到期措施", "count": str(fig["capa"]["due"]), "numbers": _numbers(fig["capa"]["due_cases"])},
        {"item": "本月完成措施", "count": str(fig["capa"]["done_in_month"]),
         "numbers": _numbers(fig["capa"]["done_cases"])},
        {"item": "重新打开", "count": str(len(fig["reopened"])), "numbers": _numbers(fig["reopened"])},
        {"item": "已销毁", "count": str(len(fig["destroyed"])), "numbers": _numbers(fig["destroyed"])},
    ]
    total = sum(len(a["numbers"].split("、")) for a in appendix)
    if numbers_file is not None and total > APPENDIX_MAX:
        appendix = [{**a, "numbers": _shorten(a["numbers"], numbers_file)} for a in appendix]
    late = [{"number": r["number"], "deadline": DEADLINE[kind], "due": zh_date(r["due"]), "done":
             zh_date(r["done"]) if r["done"] else "未完成", "days": str(r["working_days"])}
            for kind in ("reply", "investigation") for r in fig[f"{kind}_late_detail"]]
    overdue = [{"number": o["number"], "deadline": DEADLINE[m["deadline"]], "due": zh_date(m["due"]),
                "days": str(m["working_days"])} for o in fig["overdue"] for m in o["marks"]]
    none = [{"number": "无", "deadline": "", "due": "", "done": "", "days": ""}]
    late, overdue = _capped(late, numbers_file), _capped(overdue, numbers_file)

    def rate(on_time: list[str], late: list[str]) -> str:
        total = len(on_time) + len(late)
        return f"{len(on_time)} 件(按时率 {100 * len(on_time) / total:.1f}%)" if total else "0 件(本月无到期)"

    days = fig["days_to_close"]
    capa = fig["capa"]
    return {
        "org": printable(org), "number": fig["month"], "month_label": month_label(fig["month"]),
        "version_label": "第 1 版", "as_of": zh_date(fig["as_of"]), "f": fig,
        "reply_line": rate(fig["reply_on_time"], fig["reply_late"]), "reply_late_count": str(len(fig["reply_late"])),
        "investigation_line": rate(fig["investigation_on_time"], fig["investigation_late"]),
        "investigation_late_count": str(len(fig["investigation_late"])),
        "days_line": (f"中位数 {days['median']:g} 天,第90百分位 {days['p90']} 天" if days["median"] is not None
                      else "本月无结案"),
        "overdue_count": str(len(fig["overdue"])),
        "capa_line": f"{capa['due']} 项,已完成 {capa['done']} 项",
        "reopened_line": f"{len(fig['reopened'])} 件", "destroyed_line": f"{len(fig['destroyed'])} 件",
        "breakdown": breakdown or [{"dimension": "本月受理", "name": "无", "count": "0", "share": ""}],
        "late": late or none, "overdue": overdue or none, "appendix": appendix,
        "made_by": printable(made_by), "made_on": zh_date(made_on.isoformat()),
    }


def _capped(rows: list[dict[str, str]], numbers_file: str | None) -> list[dict[str, str]]:
    """At most LIST_ROWS_MAX rows, then one row saying how many more the JSON beside the document lists."""
    if len(rows) <= LIST_ROWS_MAX:
        return rows
    where = f",见 {numbers_file}" if numbers_file else ",见 --json"
    more = {k: "" for k in rows[0]} | {"number": f"另有 {len(rows) - LIST_ROWS_MAX} 项{where}"}
    return [*rows[:LIST_ROWS_MAX], more]


def _shorten(printed: str, numbers_file: str) -> str:
    numbers = printed.split("、")
    return printed if printed == "—" else _numbers(numbers, numbers_file)


def template(folder: Path, on: dt.date) -> tuple[Template, Path]:
    t = current(folder, TEMPLATE_ID, on)
    return t, checked_path(folder, t)


def render(folder: Path, ctx: dict[str, Any], charts: dict[str, bytes], on: dt.date) -> bytes:
    """The filled .docx; ``charts``: PNG bytes by field name (chart_trend, chart_pareto, chart_rate)."""
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    t, path = template(folder, on)
    tpl = DocxTemplate(str(path))
    images = {name: InlineImage(tpl, io.BytesIO(data), width=Mm(160)) for name, data in charts.items()}
    doc = {"number": t.document_number, "version": t.version, "effective": t.effective_date}
    tpl.render({**ctx, **images, "doc": doc}, autoescape=True)
    props = tpl.docx.core_properties
    props.subject = f"{t.document_number} {t.title}"
    props.keywords = f"monthly report {ctx['number']}"
    props.comments = json.dumps({"template": t.id, "version": t.version, "sha256": t.sha256}, ensure_ascii=False)
    props.created = props.modified = dt.datetime(2000, 1, 1)  # the same figures, the same bytes
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()
