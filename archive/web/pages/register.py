"""GET /: the complaint register (投诉登记台账), filtered by month, status, severity and category, sorted by a
column, twenty rows a page. With Accept: application/json, the rows `archive list --json` prints."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from archive import vocab
from archive.derived.register import SORTABLE
from archive.errors import InputError
from archive.web.routing import Ctx, page

PER_PAGE = 20
FILTERS = {"status": vocab.STATUS, "severity": vocab.SEVERITY, "category": vocab.CATEGORY}


def _param(ctx: Ctx, name: str) -> str | None:
    value = ctx.request.query_params.get(name, "").strip()
    return value or None


def query_of(ctx: Ctx) -> dict[str, Any]:
    """The filters of the request, each checked: a wrong value is one line naming the parameter."""
    q: dict[str, Any] = {}
    month = _param(ctx, "month")
    if month is not None and not (len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()):
        raise InputError("台账筛选", "month", f"{month!r} 不是 YYYY-MM 格式的月份")
    q["month"] = month
    for name, vocabulary in FILTERS.items():
        value = _param(ctx, name)
        if value is not None and value not in vocabulary:
            raise InputError("台账筛选", name, f"{value!r} 不是 {vocab.listing(vocabulary, list(vocabulary))} 之一")
        q[name] = value
    sort = _param(ctx, "sort") or "number"
    if sort not in SORTABLE:
        raise InputError("台账筛选", "sort", f"{sort!r} 不能用于排序")
    q["sort"] = sort
    q["descending"] = _param(ctx, "order") == "desc"
    raw_page = _param(ctx, "page") or "1"
    if not raw_page.isdigit() or int(raw_page) < 1:
        raise InputError("台账筛选", "page", f"{raw_page!r} 不是页码")
    q["page"] = int(raw_page)
    return q


def masked_rows(ctx: Ctx, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if ctx.sees_personal_data:
        return rows
    from archive.privacy.mask import mask_summary

    return [mask_summary(r) for r in rows]


@page("/", "register")
def register(ctx: Ctx) -> Response:
    from archive.services.cases import register_page

    q = query_of(ctx)
    ctx.log("list", detail=str(ctx.request.url.query) or None)
    if ctx.wants_json and _param(ctx, "page") is None:
        # The CLI's `archive list --json`: every matching row.
        rows = ctx.arc.register.select(month=q["month"], status=q["status"], severity=q["severity"],
                                       category=q["category"], sort=q["sort"], descending=q["descending"])
        return ctx.answer(masked_rows(ctx, rows), "register.html")
    result = register_page(ctx.arc, **q, per_page=PER_PAGE)
    result["rows"] = masked_rows(ctx, result["rows"])
    if ctx.wants_json:
        return ctx.answer(result["rows"], "register.html")
    pages = max(1, -(-result["total"] // PER_PAGE))
    return ctx.page("register.html", title="投诉登记台账", result=result, q=q, pages=pages, filters=FILTERS,
                    sortable=SORT_LABELS)


# The columns a user may sort by, in Chinese.
SORT_LABELS = {"number": "编号", "received_at": "受理时间", "category": "类别", "severity": "严重程度",
               "status": "状态", "reply_due": "答复期限", "retention_until": "保存至"}
