"""GET /access-log: the access register (查阅登记) for the administrator, filtered by case, login and dates,
newest first, fifty a page; JSON = `archive access-log --json`. Reading the register is itself registered."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.responses import Response

from archive import clock
from archive.errors import InputError
from archive.web.routing import Ctx, page

PER_PAGE = 50
WHERE = "查阅登记簿筛选"


def _param(ctx: Ctx, name: str) -> str | None:
    value = ctx.request.query_params.get(name, "").strip()
    return value or None


def _day(ctx: Ctx, name: str) -> dt.date | None:
    value = _param(ctx, name)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(WHERE, name, f"{value!r} 不是 YYYY-MM-DD 格式的日期") from None


@page("/access-log", "access-log")
def access_log(ctx: Ctx) -> Response:
    from archive.services.access_log import entries

    q: dict[str, Any] = {"case": _param(ctx, "case"), "user": _param(ctx, "user"),
                         "from": _param(ctx, "from"), "to": _param(ctx, "to")}
    day_from, day_to = _day(ctx, "from"), _day(ctx, "to")
    if day_from is not None and day_to is not None and day_from > day_to:
        raise InputError(WHERE, "from", f"{day_from} 晚于截止日期 {day_to}")
    raw_page = _param(ctx, "page") or "1"
    if not raw_page.isdigit() or int(raw_page) < 1:
        raise InputError(WHERE, "page", f"{raw_page!r} 不是页码")
    # Registered first, so the register read back already holds this very look at it (as the CLI would show it).
    ctx.log("access-log", query=str(ctx.request.url.query) or None)
    rows = entries(ctx.arc, case=q["case"], user=q["user"], date_from=day_from, date_to=day_to)
    if ctx.wants_json:
        return ctx.answer(rows, "access_log.html")
    page_no = int(raw_page)
    total = len(rows)
    pages = max(1, -(-total // PER_PAGE))
    newest = rows[::-1][(page_no - 1) * PER_PAGE:page_no * PER_PAGE]
    zone = ctx.arc.settings.zone
    return ctx.page("access_log.html", title="查阅登记簿", rows=newest, total=total, q=q, page_no=page_no,
                    pages=pages, local_time=lambda value: clock.local_text(value, zone))
