"""What the manufacturer's 客户抱怨处理表 (pcb-complaint, GL-004-07, PCB SOP 表14.6.3) prints beyond the
fields every form shares. Its own fields live in ``pcb`` objects (case, investigation, response, closure);
the rest are the case's existing fields:

    编号 number · 料号 product.part_no · 交运日期 product.ship_date · 数量 product.quantity ·
    不良数量 product.defect_quantity · 客户要求 customer_request · 交涉结果 response.outcome ·
    核决 closure.approved_by and closure.closed_at
    异常样品 case.pcb.abnormal_sample · 业务部签注意见 case.pcb.sales_opinion ·
    责任归属部门 / 生产单位 / 机班别 / 生产人员 / 生产日期 / 研发部意见 investigation.pcb ·
    总经理室综合意见 response.pcb.gm_opinion · 是否列入追踪 / 损失金额 / 罚扣 closure.pcb

A field not yet known prints blank (a box row prints every box empty), to be filled by hand.
"""

from __future__ import annotations

from typing import Any

from archive.documents.context import boxes, printable, zh_date
from archive.record.reader import CaseView

_YES_NO = {"yes": "是", "no": "否"}
_HAVE = {"yes": "有", "no": "无"}
# A blank to write in, where a value sits inside printed text rather than in its own cell.
_BLANK = "________"


def _yes_no(value: Any) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _stage_pcb(view: CaseView, stage: str) -> dict[str, Any]:
    data = (view.stages.get(stage) or {}).get("data")
    return dict(data.get("pcb") or {}) if isinstance(data, dict) else {}


def _sample(sample: dict[str, Any]) -> str:
    quantity = printable(sample.get("quantity")) or _BLANK
    note = printable(sample.get("note"))
    return (boxes(_HAVE, _yes_no(sample.get("provided"))) + f"    数量:{quantity} 片"
            + (f"    说明:{note}" if note else ""))


def pcb_context(view: CaseView) -> dict[str, str]:
    case = view.case
    own = dict(case.get("pcb") or {})
    inv = _stage_pcb(view, "investigation")
    production = dict(inv.get("production") or {})
    resp = _stage_pcb(view, "response")
    cl = _stage_pcb(view, "closure")
    closure = dict((view.stages.get("closure") or {}).get("data") or {})
    response = dict((view.stages.get("response") or {}).get("data") or {})
    complainant = case["complainant"]
    customer = " ".join(x for x in (printable(complainant.get("organization")), printable(complainant["name"])) if x)
    return {
        "customer": customer,
        "sample": _sample(dict(own.get("abnormal_sample") or {})),
        "sales_opinion": printable(own.get("sales_opinion")),
        "department": printable(inv.get("responsible_department")),
        "unit": printable(production.get("unit")),
        "shift": printable(production.get("shift")),
        "operator": printable(production.get("operator")),
        "produced": zh_date(production.get("date")),
        "rd_opinion": printable(inv.get("rd_opinion")),
        "gm_opinion": printable(resp.get("gm_opinion")),
        "result": printable(response.get("outcome")),
        "tracking": boxes(_YES_NO, _yes_no(cl.get("tracking"))),
        "loss": printable(cl.get("loss_amount")),
        "penalty": printable(cl.get("penalty")),
        "decided_by": printable(closure.get("approved_by")),
        "decided": zh_date(closure.get("closed_at")),
    }
