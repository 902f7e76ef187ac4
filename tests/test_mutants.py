"""Tests written against hand mutations of the code (issue 16, "Tests that catch what they claim"): each one
fails when the named change is made to the product, so a green suite means the rule is held, not just run."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import Cli, write_case

from archive.rules.workdays import add_working_days, is_workday, year_known
from archive.settings import from_mapping

NO_OVERRIDES = from_mapping({})


def edit_settings(root: Path, old: str, new: str) -> None:
    """The one place these tests change archive.toml (settings changes may need an audited apply later)."""
    toml = root / "archive.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in archive.toml"
    toml.write_text(text.replace(old, new), encoding="utf-8")


def _intake(cli: Cli, path: Path) -> tuple[int, str, str]:
    result = cli("intake", "--json", str(path))
    numbers = [item["number"] for item in json.loads(result.stdout or "[]")]
    return result.exit_code, numbers[0] if numbers else "", result.stderr


# --- allocation: the last serial of a month is given (mutant: `serial > max_serial` → `>=`) -----------------

def test_the_last_serial_of_a_month_is_given_and_the_one_after_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    edit_settings(root, 'pattern = "{yy}{mm}{serial:04}"', 'pattern = "{yy}{mm}{serial:02}"')
    month = root / "records" / "2026" / "11"
    month.mkdir(parents=True)
    (month / "261198.tombstone.json").write_text("{}", encoding="utf-8")  # serials 1-98 are spent
    code, number, err = _intake(cli, write_case(tmp_path, "a.json"))
    assert (code, number) == (0, "261199"), err
    code, number, err = _intake(cli, write_case(tmp_path, "b.json", description="同月第 100 件"))
    assert code == 2 and number == ""
    assert "no case number left for 2026-11: serial 99 is used" in err
    assert sorted(p.name for p in month.iterdir()) == ["261198.tombstone.json", "261199"]


# --- working days in years the statutory calendar does not know (mutant: `weekday() < 5` → `< 6`) -----------

UNKNOWN_YEAR = 2099


def test_the_premise_2099_and_2003_are_unknown_to_the_calendar() -> None:
    assert not year_known(UNKNOWN_YEAR, NO_OVERRIDES) and not year_known(2003, NO_OVERRIDES)
    assert year_known(2026, NO_OVERRIDES)


@pytest.mark.parametrize(("day", "works"), [
    (dt.date(2099, 1, 2), True),    # Friday
    (dt.date(2099, 1, 3), False),   # Saturday
    (dt.date(2099, 1, 4), False),   # Sunday
    (dt.date(2099, 1, 5), True),    # Monday
    (dt.date(2003, 3, 8), False),   # Saturday, before the calendar's first year
])
def test_in_an_unknown_year_monday_to_friday_work_and_the_weekend_does_not(day: dt.date, works: bool) -> None:
    assert is_workday(day, NO_OVERRIDES) is works


def test_working_days_from_a_friday_in_an_unknown_year_skip_the_weekend() -> None:
    assert add_working_days(dt.date(2099, 1, 2), 1, NO_OVERRIDES) == dt.date(2099, 1, 5)
    assert add_working_days(dt.date(2099, 1, 2), 5, NO_OVERRIDES) == dt.date(2099, 1, 9)


def test_a_letter_received_on_a_friday_of_2003_is_due_on_tuesday(cli: Cli, tmp_path: Path) -> None:
    path = write_case(tmp_path, channel="letter", received_at="2003-03-07T10:00:00+08:00",
                      product={"name": "阿莫西林胶囊", "lot": "B2003", "expiry_date": "2005-03-31"})
    result = cli("intake", "--json", str(path))
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert item["reply_due"] == "2003-03-11" and item["calendar_unknown"] == [2003]
