"""Retention (DESIGN.md): kept until the later of closure + N years and product expiry + M years, with N and M
from the case's category rule when the settings give one. The rule's name is stored with the date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from archive.settings import Settings


@dataclass(frozen=True)
class Rule:
    name: str  # "default" or the category it belongs to
    years_after_closure: int
    years_after_expiry: int

    @property
    def text(self) -> str:
        return (f"结案后 {self.years_after_closure} 年与有效期后 {self.years_after_expiry} 年中较晚者"
                f"({'默认规则' if self.name == 'default' else '类别规则 ' + self.name})")


def rule_for(category: str, settings: Settings) -> Rule:
    if category in settings.retention_rules:
        closure, expiry = settings.retention_rules[category]
        return Rule(category, closure, expiry)
    return Rule("default", settings.years_after_closure, settings.years_after_expiry)


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved by whole years; past the calendar's last year (an expiry of 9999-12-31 means "never
    expires"), the last day there is, which no retention run ever reaches."""
    if day.year + years > dt.MAXYEAR:
        return dt.date.max
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def retention_until(closed_at: str, expiry_date: str | None, rule: Rule) -> dt.date:
    closed = dt.datetime.fromisoformat(closed_at).date()
    until = add_years(closed, rule.years_after_closure)
    if expiry_date:
        until = max(until, add_years(dt.date.fromisoformat(expiry_date), rule.years_after_expiry))
    return until


def is_due(until: str, as_of: dt.date) -> bool:
    """Due on the day after the retention date: kept through ``retention_until`` itself."""
    return dt.date.fromisoformat(until) < as_of
