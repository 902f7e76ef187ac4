"""The register (投诉登记台账 / 客户抱怨案件登记追踪表) as sheet rows: one row per case, its deadlines and
whether each was met on time, counted in working days (rules/deadlines.py, the rule behind every 逾期 mark)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from archive import vocab
from archive.reports.sheets import Column
from archive.rules.deadlines import late_working_days, met_on
from archive.settings import Settings

COLUMNS = (
    Column("投诉编号", 12), Column("接收日期", 13, "date"), Column("投诉渠道", 10), Column("投诉人", 12),
    Column("单位", 24), Column("产品", 18), Column("批号", 14), Column("投诉类别", 11), Column("严重程度", 9),
    Column("责任部门", 16), Column("状态", 9), Column("答复期限", 13, "date"), Column("答复日期", 13, "date"),
    Column("答复是否及时", 22), Column("调查期限", 13, "date"), Column("调查完成日期", 13, "date"),
    Column("调查是否及时", 22), Column("8D报告期限", 13, "date"), Column("结案日期", 13, "date"),
    Column("保存至", 13, "date"), Column("法律保全", 9),
)


def _day(value: str | None) -> dt.date | None:
    """A recorded date or moment as the calendar day it fell on in its own offset."""
    return met_on(value) if value else None


def lateness_judge(today: dt.date, settings: Settings) -> Callable[[str | None, str | None, bool], str]:
    """``judge(due, done, closed)``: 按时, 迟 N 个工作日 (met late), 迟 N 个工作日(未完成) (unmet and past
    due), or "" (not yet due, or a closed case's deadline that no stage meets). Counts are cached: many
    rows share a due day and a done day."""

    @functools.lru_cache(maxsize=65536)
    def late(due: dt.date, end: dt.date | None) -> int | None:
        return late_working_days(due, end, today, settings)

    def judge(due: str | None, done: str | None, closed: bool) -> str:
        if not due or (done is None and closed):
            return ""
        day = _day(done)
        n = late(dt.date.fromisoformat(due), day)
        if n:
            return f"迟 {n} 个工作日" + ("" if day else "(未完成)")
        return "按时" if day else ""

    return judge


def rows(register_rows: Iterable[dict[str, Any]], today: dt.date, settings: Settings) -> Iterator[list[Any]]:
    judge = lateness_judge(today, settings)
    for r in register_rows:
        closed = r["status"] == "closed"
        yield [
            r["number"], _day(r["received_at"]), vocab.label(vocab.CHANNEL, r["channel"]), r["complainant"],
            r["organisation"], r["product"], r["lot"], vocab.label(vocab.CATEGORY, r["category"]),
            vocab.label(vocab.SEVERITY, r["severity"]), "、".join(json.loads(r["departments"] or "[]")),
            vocab.label(vocab.STATUS, r["status"]),
            _day(r["reply_due"]), _day(r["replied_at"]), judge(r["reply_due"], r["replied_at"], closed),
            _day(r["investigation_due"]), _day(r["investigated_at"]),
            judge(r["investigation_due"], r["investigated_at"], closed),
            _day(r["eightd_due"]), _day(r["closed_at"]), _day(r["retention_until"]), "是" if r["hold"] else "否",
        ]
