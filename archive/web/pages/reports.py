"""The QA manager's pages: the monthly 客户投诉案件统计表 (the figures `archive report monthly --json` gives, as
tables with their charts) and the trend report (`archive report trend`), charts drawn in memory and the
document generated into a temporary folder outside the root and streamed. Reports hold figures, not people:
the one breakdown that can name a complainant (the trend by customer, which falls back to the complainant's
name when no organisation is given) is masked for roles that do not see personal data."""

from __future__ import annotations

import copy
import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from starlette.responses import Response

from archive import clock, vocab
from archive.errors import InputError, NotFound
from archive.web.routing import Ctx, page
from archive.web.state import stamp

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# The charts of the monthly report by the name in their address (the file names `--out` writes).
CHART_NAMES = {"trend": "chart_trend", "pareto": "chart_pareto", "on-time": "chart_rate"}
CHART_TITLES = {"trend": "近十二个月投诉受理件数(按类别)", "pareto": "排列图(帕累托图)",
                "on-time": "近十二个月按时答复率"}
DOWNLOADS = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "pdf": "application/pdf"}


def _month(ctx: Ctx, value: str | None) -> str:
    month = (value or "").strip() or clock.today(ctx.arc.settings.zone).isoformat()[:7]
    if not MONTH.match(month):
        raise InputError("统计报表", "month", f"{month!r} 不是 YYYY-MM 格式的月份")
    return month


@page("/reports", "reports")
def reports(ctx: Ctx) -> Response:
    today = clock.today(ctx.arc.settings.zone)
    month = today.isoformat()[:7]
    start = f"{today.year - 1}-{today.month:02d}"
    return ctx.page("reports.html", title="统计报表", month=month, start=start, end=month, by="category",
                    by_choices=vocab.TREND_BY)


# A month's figures read every record folder; the page and its three charts ask for the same ones at once.
# Kept while nothing was written (the audit log records every write) and the settings and the day are the same.
_FIGURES: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_FIGURES_KEPT = 8
_FIGURES_LOCK = threading.Lock()


def figures(ctx: Ctx, month: str) -> dict[str, Any]:
    """What `archive report monthly MONTH --json` prints, as the service computes it."""
    from archive.services.monthly_report import report

    arc = ctx.arc
    key = (str(arc.layout.root), month, clock.today(arc.settings.zone), stamp(arc.layout.audit_log),
           stamp(arc.layout.settings))
    with _FIGURES_LOCK:
        if key in _FIGURES:
            _FIGURES.move_to_end(key)
            return copy.deepcopy(_FIGURES[key])
    fig = report(arc, month)
    with _FIGURES_LOCK:
        _FIGURES[key] = copy.deepcopy(fig)
        while len(_FIGURES) > _FIGURES_KEPT:
            _FIGURES.popitem(last=False)
    return fig


def _dimension_rows(fig: dict[str, Any]) -> list[dict[str, Any]]:
    """The breakdown tables of the document (monthly_doc.DIMENSIONS), each row a Chinese name, count, share."""
    from archive.documents.context import printable
    from archive.reports.monthly_doc import DIMENSIONS, MISSING

    out = []
    for name, title, vocabulary in DIMENSIONS:
        counts = fig.get(f"by_{name}", {})
        shares = fig["shares"].get(name, {})
        rows = [{"name": MISSING.get(code) or (vocab.label(vocabulary, code) if vocabulary is not None
                                               else printable(code)),
                 "count": count, "share": shares.get(code)} for code, count in counts.items()]
        out.append({"title": title, "rows": rows})
    return out


@page("/reports/monthly", "reports")
def monthly(ctx: Ctx) -> Response:
    month = _month(ctx, ctx.request.query_params.get("month"))
    fig = figures(ctx, month)
    ctx.log("report", detail=f"客户投诉案件统计表 {month}")
    return ctx.answer(fig, "report_monthly.html", title=f"客户投诉案件统计表 {month}", month=month,
                      dimensions=_dimension_rows(fig), charts=CHART_TITLES)


@page("/reports/monthly/{month}/chart/{name}.png", "reports")
def monthly_chart(ctx: Ctx) -> Response:
    from archive.services.monthly_report import chart

    month = _month(ctx, ctx.request.path_params["month"])
    name = ctx.request.path_params["name"]
    if name not in CHART_NAMES:
        raise NotFound(f"统计表没有图表 {name!r}(有:{'、'.join(CHART_NAMES)})")
    fig = figures(ctx, month)
    ctx.log("report", path=f"monthly-{month}-{name}.png", detail=f"客户投诉案件统计表 {month} 图表")
    return Response(chart(fig, CHART_NAMES[name]), media_type="image/png", headers=ctx.headers)


@page("/reports/monthly/{month}/file/{kind}", "reports")
def monthly_download(ctx: Ctx) -> Response:
    """The 统计表 (.docx or its PDF) made by the CLI's service into a temporary folder outside the root, read,
    the folder removed, and the bytes sent."""
    from archive.services.archive import Archive
    from archive.services.monthly_report import report

    month = _month(ctx, ctx.request.path_params["month"])
    kind = ctx.request.path_params["kind"]
    if kind not in DOWNLOADS:
        raise NotFound(f"统计表只提供 docx 和 pdf 下载,没有 {kind!r}")
    assert ctx.user is not None
    # Opened as the person asking: the document names who prepared it (编制人).
    arc = Archive.open(ctx.web.root, ctx.user.name)
    work = Path(tempfile.mkdtemp(prefix="archive-web-report-"))
    try:
        files = report(arc, month, work)["files"]
        data = Path(files[kind]).read_bytes()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    name = f"monthly-{month}.{kind}"
    ctx.log("export", path=name, detail=f"客户投诉案件统计表 {month} 下载")
    return Response(data, media_type=DOWNLOADS[kind], headers={
        **ctx.headers, "content-disposition": f'attachment; filename="{name}"'})


def _trend_params(ctx: Ctx) -> tuple[str, str, str]:
    q = ctx.request.query_params
    today = clock.today(ctx.arc.settings.zone)
    start = _month(ctx, q.get("from") or f"{today.year - 1}-{today.month:02d}")
    end = _month(ctx, q.get("to"))
    by = (q.get("by") or "category").strip()
    return start, end, by


def trend_data(ctx: Ctx) -> dict[str, Any]:
    """The trend as `archive report trend --json` gives it; a customer named by a person's name is masked for
    a role that does not see personal data (on the page, in the JSON and in the chart alike)."""
    from archive.services.trend import trend

    start, end, by = _trend_params(ctx)
    data = trend(ctx.arc, start, end, by)
    if data["by"] == "customer" and not ctx.sees_personal_data:
        from archive.privacy.mask import mask_name

        people = {r["key"] for r in data["rows"] if _names_a_person(ctx, r["cases"])}
        for item in (*data["rows"], *(f for f in data["flags"] if f["kind"] == "threshold")):
            if item["key"] in people:
                item["key"], item["label"] = mask_name(item["key"]), mask_name(item["label"])
    if not ctx.sees_personal_data:
        from archive.privacy.mask import mask_text

        # A root cause is the investigator's words, which may name the customer or give a number (found in
        # review): masked as the case page masks the same text.
        for flag in data["flags"]:
            if flag["kind"] == "root_cause":
                names = _complainants(ctx, flag["cases"])
                flag["key"], flag["label"] = mask_text(flag["key"], names), mask_text(flag["label"], names)
    return data


def _complainants(ctx: Ctx, numbers: list[str]) -> list[str]:
    from archive.record import folders
    from archive.record import reader as casefile

    names = []
    for number in numbers:
        try:
            case = casefile.load(folders.find_record(ctx.arc.layout, number)).case
        except NotFound:  # destroyed since: its name is gone with it
            continue
        name = (case.get("complainant") or {}).get("name")
        if isinstance(name, str) and name.strip():
            names.append(name)
    return names


def _names_a_person(ctx: Ctx, numbers: list[str]) -> bool:
    """A customer key is the complainant's organisation, or their own name when they gave none (reports/trend):
    a person when any of its cases has no organisation. A company's name stays readable."""
    from archive.record import folders
    from archive.record import reader as casefile

    for number in numbers:
        try:
            case = casefile.load(folders.find_record(ctx.arc.layout, number)).case
        except NotFound:  # destroyed: counted under a pseudo key that names nobody
            continue
        complainant = case.get("complainant") or {}
        if not complainant.get("organization"):
            return True
    return False


@page("/reports/trend", "reports")
def trend_page(ctx: Ctx) -> Response:
    data = trend_data(ctx)
    ctx.log("report", detail=f"投诉趋势 按{data['by_label']} {data['from']}..{data['to']}")
    return ctx.answer(data, "report_trend.html", title="客户投诉趋势", by_choices=vocab.TREND_BY,
                      query=str(ctx.request.url.query))


@page("/reports/trend/chart.png", "reports")
def trend_chart(ctx: Ctx) -> Response:
    from archive.reports import charts
    from archive.services.trend import chart_figure

    data = trend_data(ctx)
    ctx.log("report", path=f"trend-{data['by']}-{data['from']}-{data['to']}.png", detail="投诉趋势图表")
    return Response(charts.png(chart_figure(ctx.arc, data)), media_type="image/png", headers=ctx.headers)
