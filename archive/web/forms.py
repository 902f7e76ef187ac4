"""The Chinese forms that stand for a case file (intake) and a stage update file: which field holds which JSON
path, and the turning of typed text into JSON types. Nothing here judges a value: what the form builds goes
through the same validation as an uploaded file (services), and that validation's error is shown beside the
field its JSON path names."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from archive import vocab


@dataclass(frozen=True)
class Field:
    """One input: ``name`` is the JSON path with dots (``complainant.name``, ``capa.0.action``)."""

    name: str
    label: str
    kind: str = "text"  # text | textarea | datetime | date | number | integer | flag | choice | files
    choices: Mapping[str, str] | None = None
    required: bool = False  # marked for the reader only: the schema decides

    @property
    def parts(self) -> list[str]:
        return self.name.split(".")


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[Field, ...]


CASE_FORM: tuple[Section, ...] = (
    Section("受理信息", (
        Field("received_at", "受理时间", "datetime", required=True),
        Field("channel", "渠道", "choice", vocab.CHANNEL, required=True),
        Field("received_by", "受理人"),
    )),
    Section("投诉人", (
        Field("complainant.name", "姓名", required=True),
        Field("complainant.organization", "单位"),
        Field("complainant.phone", "电话"),
        Field("complainant.email", "邮箱"),
        Field("complainant.address", "地址"),
    )),
    Section("产品", (
        Field("product.name", "名称"),
        Field("product.spec", "规格"),
        Field("product.lot", "批号"),
        Field("product.part_no", "料号"),
        Field("product.order_no", "订单号"),
        Field("product.quantity", "数量", "number"),
        Field("product.defect_quantity", "不良数量", "number"),
        Field("product.ship_date", "发货日期", "date"),
        Field("product.expiry_date", "有效期", "date"),
    )),
    Section("投诉内容", (
        Field("description", "问题描述", "textarea", required=True),
        Field("customer_request", "客户诉求", "textarea"),
        Field("category", "类别", "choice", vocab.CATEGORY),
        Field("severity", "严重程度(不选则按分级规则判定)", "choice", vocab.SEVERITY),
        Field("urgent", "紧急", "flag"),
        Field("claim_amount", "索赔金额(元)", "number"),
        Field("people_affected", "涉及人数", "integer"),
        Field("safety_related", "涉及人身安全", "flag"),
        Field("legal_action", "涉及诉讼/律师/警察", "flag"),
        Field("attachments", "附件", "files"),
    )),
)

CAPA_ROWS = 3

UPDATE_FORM: tuple[Section, ...] = (
    Section("调查", (
        Field("investigation.investigator", "调查人"),
        Field("investigation.completed_at", "调查完成时间", "datetime"),
        Field("investigation.findings", "调查结果", "textarea"),
        Field("investigation.root_cause", "原因分析", "textarea"),
        Field("investigation.responsibility", "责任判定", "choice", vocab.RESPONSIBILITY),
    )),
    *(Section(f"纠正和预防措施 第 {i + 1} 项", (
        Field(f"capa.{i}.kind", "类型", "choice", vocab.CAPA_KIND),
        Field(f"capa.{i}.action", "措施"),
        Field(f"capa.{i}.owner", "责任人"),
        Field(f"capa.{i}.due", "完成期限", "date"),
        Field(f"capa.{i}.done_at", "完成日期", "date"),
        Field(f"capa.{i}.verification", "有效性验证"),
    )) for i in range(CAPA_ROWS)),
    Section("答复客户", (
        Field("response.replied_at", "答复时间", "datetime"),
        Field("response.method", "答复方式", "choice", vocab.REPLY_METHOD),
        Field("response.content", "答复内容", "textarea"),
        Field("response.outcome", "处理结果"),
    )),
    Section("跟踪回访", (
        Field("follow_up.visited_at", "回访时间", "datetime"),
        Field("follow_up.by", "回访人"),
        Field("follow_up.satisfaction", "满意度", "choice", vocab.SATISFACTION),
        Field("follow_up.feedback", "客户反馈", "textarea"),
    )),
    Section("结案", (
        Field("closure.closed_at", "结案时间", "datetime"),
        Field("closure.approved_by", "核准人"),
        Field("closure.summary", "结案总结", "textarea"),
    )),
)


def fields_of(sections: Iterable[Section]) -> list[Field]:
    return [f for s in sections for f in s.fields]


def typed(form: FormData | None, sections: Iterable[Section]) -> dict[str, str]:
    """What was typed in each field, as typed (refilled into the page after a refusal)."""
    out: dict[str, str] = {}
    for f in fields_of(sections):
        value = form.get(f.name) if form is not None else None
        if isinstance(value, str):
            out[f.name] = value
    return out


def build(values: Mapping[str, str], sections: Iterable[Section], zone: dt.tzinfo
          ) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON document the form stands for, and a message per field whose text is not of its JSON type
    (a number that is not a number). An empty field is left out, as a file would leave it out; text is kept
    exactly as typed (the schema refuses blank text, not this)."""
    doc: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields_of(sections):
        raw = values.get(f.name, "")
        if f.kind == "files" or (raw == "" and f.kind != "flag"):
            continue
        value: Any
        if f.kind == "flag":
            if raw == "":
                continue
            value = True
        elif f.kind == "number":
            number = _number(raw)
            if number is None:
                errors[f.name] = f"{f.label}:{raw!r} 不是数字"
                continue
            value = number
        elif f.kind == "integer":
            if not re.fullmatch(r"\s*[+-]?\d+\s*", raw):
                errors[f.name] = f"{f.label}:{raw!r} 不是整数"
                continue
            value = int(raw)
        elif f.kind == "datetime":
            value = _with_offset(raw, zone)
        else:
            value = raw
        _put(doc, f.parts, value)
    return _lists(doc), errors


def _number(raw: str) -> int | float | None:
    text = raw.strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?", text):
        return float(text)
    return None


def _with_offset(raw: str, zone: dt.tzinfo) -> str:
    """A browser's date-time field has no offset (2026-11-30T10:15): it is the archive's local time. Text that
    is not a date-time is passed on as typed, for the schema to refuse beside the field."""
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        return raw
    if moment.tzinfo is not None:
        return raw
    return moment.replace(tzinfo=zone).isoformat(timespec="seconds")


def _put(doc: dict[str, Any], parts: list[str], value: Any) -> None:
    node = doc
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _lists(node: Any) -> Any:
    """{"0": {...}, "2": {...}} (CAPA rows) becomes a list in row order; rows left empty are simply absent."""
    if not isinstance(node, dict):
        return node
    out = {k: _lists(v) for k, v in node.items()}
    if out and all(k.isdigit() for k in out):
        return [out[k] for k in sorted(out, key=int)]
    return out


_INDEX = re.compile(r"\[(\d+)\]")


def field_of(where: str, sections: Iterable[Section], capa: list[int] | None = None) -> str | None:
    """The form field an error's JSON path names ($.complainant.name → complainant.name); a path inside a
    group names its first field, a path below a field (an attachment's path) names that field. For a CAPA
    row the index is the row's place in the built list, mapped back to the form's row."""
    if not where.startswith("$"):
        return None
    names = [f.name for f in fields_of(sections)]
    path = _INDEX.sub(r".\1", where[1:]).strip(".")
    if not path:
        return None
    parts = path.split(".")
    if capa is not None and len(parts) >= 2 and parts[0] == "capa" and parts[1].isdigit():
        index = int(parts[1])
        parts[1] = str(capa[index] if index < len(capa) else index)
    path = ".".join(parts)
    if path in names:
        return path
    inside = [n for n in names if n.startswith(path + ".")]
    if inside:
        return inside[0]
    while "." in path:
        path = path.rsplit(".", 1)[0]
        if path in names:
            return path
    return None


def capa_rows(values: Mapping[str, str]) -> list[int]:
    """The form rows that hold something, in order: the built list's item i is form row capa_rows()[i]."""
    return [i for i in range(CAPA_ROWS) if any(v for k, v in values.items() if k.startswith(f"capa.{i}."))]
