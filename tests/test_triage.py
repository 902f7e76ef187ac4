"""SOP rules at intake: major-complaint triggers, severity never lowered, routing, reply deadlines."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from conftest import Cli, write_case

from archive import vocab
from archive.rules.triage import triage
from archive.rules.workdays import add_working_days
from archive.settings import from_mapping

SETTINGS = from_mapping({})
BASE = {"received_at": "2026-11-03T10:15:00+08:00", "channel": "phone", "complainant": {"name": "x"},
        "description": "d"}


@pytest.mark.parametrize(("extra", "reason"), [
    ({"channel": "media"}, "media"),
    ({"channel": "regulator"}, "regulator"),
    ({"safety_related": True}, "safety_related"),
    ({"legal_action": True}, "legal_action"),
    ({"claim_amount": 10000}, "claim_amount"),
    ({"people_affected": 10}, "people_affected"),
])
def test_each_trigger_raises_severity_to_major_with_its_reason(extra: dict[str, object], reason: str) -> None:
    t = triage({**BASE, "severity": "minor", **extra}, SETTINGS)
    # The reason is printed on forms: its Chinese label, no program word.
    assert t.severity == "major" and any(vocab.MAJOR_TRIGGER[reason] in r for r in t.reasons)
    assert not any(re.search(r"[A-Za-z]", r) for r in t.reasons)


def test_below_thresholds_no_trigger_and_default_minor() -> None:
    t = triage({**BASE, "claim_amount": 9999.99, "people_affected": 9}, SETTINGS)
    assert t.severity == "minor" and t.reasons == ()


def test_trigger_never_lowers_critical() -> None:
    assert triage({**BASE, "severity": "critical", "safety_related": True}, SETTINGS).severity == "critical"


def test_routing_by_category() -> None:
    assert triage({**BASE, "category": "quality"}, SETTINGS).departments == ("研发部", "质量部")
    assert "商务部" in triage({**BASE, "category": "packaging"}, SETTINGS).departments
    served = triage({**BASE, "category": "service", "received_by": "李敏(销售部)"}, SETTINGS)
    assert served.departments[0] == "销售部"
    explicit = triage({**BASE, "category": "service", "department_served": "前厅部"}, SETTINGS)
    assert explicit.departments[0] == "前厅部"


def test_working_days_skip_national_day_holidays() -> None:
    # 2026-09-30 (Wed): 1-7 October are statutory holidays; 8 and 9 October are working days.
    assert add_working_days(dt.date(2026, 9, 30), 2, SETTINGS) == dt.date(2026, 10, 9)


def test_settings_overrides_cover_unknown_years() -> None:
    s = from_mapping({"calendar": {"extra_holidays": ["2031-01-02"], "extra_workdays": ["2031-01-04"]}})
    # 2031-01-01 Wed; 02 is an override holiday; 03 Fri works; 04 Sat is an override workday.
    assert add_working_days(dt.date(2031, 1, 1), 2, s) == dt.date(2031, 1, 4)


@pytest.mark.parametrize(("channel", "received", "due"), [
    ("phone", "2026-11-03T10:15:00+08:00", "2026-11-03"),
    ("in_person", "2026-11-07T10:15:00+08:00", "2026-11-07"),
    ("letter", "2026-11-06T10:15:00+08:00", "2026-11-10"),  # Friday → Tuesday
    ("email", "2026-11-15T21:30:00+08:00", "2026-11-17"),  # Sunday → Tuesday
])
def test_reply_deadline_by_channel(cli: Cli, tmp_path: Path, channel: str, received: str, due: str) -> None:
    path = write_case(tmp_path, channel=channel, received_at=received)
    [item] = json.loads(cli("intake", "--json", str(path)).stdout)
    assert item["reply_due"] == due


def test_urgent_written_complaint_is_due_the_same_day(cli: Cli, tmp_path: Path) -> None:
    path = write_case(tmp_path, channel="letter", urgent=True)
    [item] = json.loads(cli("intake", "--json", str(path)).stdout)
    assert item["reply_due"] == "2026-11-03"


def test_reasons_are_stored_and_shown(cli: Cli, tmp_path: Path) -> None:
    path = write_case(tmp_path, severity="minor", legal_action=True)
    [item] = json.loads(cli("intake", "--json", str(path)).stdout)
    assert item["severity"] == "major"
    shown = json.loads(cli("show", "--json", item["number"]).stdout)
    assert shown["severity"] == "major" and "涉及诉讼" in shown["triage_reasons"][0]
    assert shown["case"]["severity"] == "minor"  # the case as received is kept as received
    assert "涉及诉讼" in cli("show", item["number"]).stdout
