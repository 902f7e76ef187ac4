"""Tests written against hand mutations of the code (issue 16, "Tests that catch what they claim"): each one
fails when the named change is made to the product, so a green suite means the rule is held, not just run."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, set_settings, write_case

from archive.rules.workdays import add_working_days, is_workday, year_known
from archive.settings import from_mapping

NO_OVERRIDES = from_mapping({})


def edit_settings(root: Path, old: str, new: str) -> None:
    """The one place these tests change archive.toml: through the audited `settings apply` (conftest)."""
    text = (root / "archive.toml").read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in archive.toml"
    set_settings(root, text.replace(old, new))


def _intake(cli: Cli, path: Path) -> tuple[int, str, str]:
    result = cli("intake", "--json", str(path))
    numbers = [item["number"] for item in json.loads(result.stdout or "[]")]  # one entry per file, None if refused
    return result.exit_code, numbers[0] or "" if numbers else "", result.stderr


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


# --- skips are never silent (tests/expected_skips.txt and the hooks in conftest.py) ---------------------------

def _run_pytest_with_our_hooks(tmp_path: Path, body: str, **env: str) -> subprocess.CompletedProcess[str]:
    probe = tmp_path / "test_probe.py"
    probe.write_text(body, encoding="utf-8")
    tests_dir = str(Path(__file__).resolve().parent)
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([tests_dir, os.environ.get("PYTHONPATH", "")]), **env}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p", "conftest",
                           "--rootdir", str(tmp_path), str(probe)], capture_output=True, text=True, cwd=tmp_path,
                          env=environ, timeout=300)


def test_a_skip_not_in_the_expected_list_fails_the_session_and_is_named(tmp_path: Path) -> None:
    result = _run_pytest_with_our_hooks(tmp_path, "import pytest\n\ndef test_a():\n    pytest.skip('no printer')\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "unexpected skips" in result.stdout and "test_probe.py::test_a: Skipped: no printer" in result.stdout
    assert "SKIPPED [1]" in result.stdout  # -rs prints the reason too


def test_a_run_without_skips_still_passes_with_the_hooks(tmp_path: Path) -> None:
    result = _run_pytest_with_our_hooks(tmp_path, "def test_a():\n    assert True\n")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mount_skips_are_expected_only_when_not_root_or_explicitly_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import EXPECTED_SKIPS, allowed_skip_tags, expected_skip_rules, skip_is_expected

    rules = expected_skip_rules(EXPECTED_SKIPS.read_text(encoding="utf-8"))
    node = "tests/test_failures.py::test_full_disk_during_intake_says_what_happened_and_never_duplicates"
    reason = "Skipped: mounting a tmpfs needs root"
    assert skip_is_expected(node, reason, rules, {"always", "mount"})
    assert not skip_is_expected(node, reason, rules, {"always"})
    assert not skip_is_expected("tests/test_search.py::test_x", reason, rules, {"always", "mount"})
    assert not skip_is_expected(node, "Skipped: something else", rules, {"always", "mount"})
    monkeypatch.setenv("ARCHIVE_ALLOW_SKIPS", "mount")
    assert "mount" in allowed_skip_tags()
    monkeypatch.delenv("ARCHIVE_ALLOW_SKIPS")
    assert ("mount" in allowed_skip_tags()) == (os.geteuid() != 0)


@pytest.mark.skipif(os.geteuid() != 0, reason="as root the mount tests must run, not skip")
def test_as_root_the_mount_tests_run(tmp_path: Path) -> None:
    tests_dir = Path(__file__).resolve().parent
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                             str(tests_dir / "test_failures.py"),
                             "-k", "full_disk_during_intake or read_only_copy or copy_is_read_only"],
                            capture_output=True, text=True, cwd=tests_dir.parent, timeout=600,
                            env={k: v for k, v in os.environ.items() if k != "ARCHIVE_ALLOW_SKIPS"})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "skipped" not in result.stdout and "\n3 passed" in result.stdout, result.stdout[-3000:]


def test_settings_overrides_make_exactly_their_own_year_known() -> None:
    both = from_mapping({"calendar": {"extra_holidays": ["2031-01-02"], "extra_workdays": ["2031-01-04"]}})
    holidays_only = from_mapping({"calendar": {"extra_holidays": ["2031-01-02"]}})
    assert year_known(2031, both) and not year_known(2032, both)
    assert year_known(2031, holidays_only) and not year_known(2030, holidays_only)


# --- retention rules (archive/rules/retention.py), killed here without the CLI: `make mutate` runs these -----

def test_the_category_rule_applies_to_its_category_and_the_default_to_the_others() -> None:
    from archive.rules.retention import rule_for

    s = from_mapping({"retention": {"years_after_closure": 3, "years_after_expiry": 1,
                                    "rules": {"adverse_reaction": {"years_after_closure": 7,
                                                                   "years_after_expiry": 2}}}})
    own = rule_for("adverse_reaction", s)
    assert (own.name, own.years_after_closure, own.years_after_expiry) == ("adverse_reaction", 7, 2)
    other = rule_for("packaging", s)
    assert (other.name, other.years_after_closure, other.years_after_expiry) == ("default", 3, 1)
    assert other.text == "结案后 3 年与有效期后 1 年中较晚者(默认规则)"
    assert own.text == "结案后 7 年与有效期后 2 年中较晚者(类别规则 adverse_reaction)"


def test_adding_years_to_29_february_gives_28_february() -> None:
    from archive.rules.retention import add_years

    assert add_years(dt.date(2028, 2, 29), 3) == dt.date(2031, 2, 28)
    assert add_years(dt.date(2028, 2, 29), 4) == dt.date(2032, 2, 29)
    assert add_years(dt.date(2026, 11, 21), 3) == dt.date(2029, 11, 21)


@pytest.mark.parametrize(("closed", "expiry", "until"), [
    ("2026-11-21T09:00:00+08:00", None, "2029-11-21"),            # no expiry: closure + 3
    ("2026-11-21T09:00:00+08:00", "2027-01-31", "2029-11-21"),    # closure + 3 is later than expiry + 1
    ("2026-11-21T09:00:00+08:00", "2029-06-30", "2030-06-30"),    # expiry + 1 is later
    ("2026-11-21T23:30:00+08:00", None, "2029-11-21"),            # the date where it was closed, not UTC's
])
def test_retention_is_the_later_of_closure_and_expiry_rules(closed: str, expiry: str | None, until: str) -> None:
    from archive.rules.retention import Rule, retention_until

    assert retention_until(closed, expiry, Rule("default", 3, 1)) == dt.date.fromisoformat(until)


def test_a_record_is_kept_through_its_retention_date_and_due_the_day_after() -> None:
    from archive.rules.retention import is_due

    assert not is_due("2029-11-21", dt.date(2029, 11, 20))
    assert not is_due("2029-11-21", dt.date(2029, 11, 21))
    assert is_due("2029-11-21", dt.date(2029, 11, 22))


# --- honest dates (archive/rules/chronology.py): the boundaries are allowed, one step past them is refused, and
# every refusal names the file (mutants: `<` → `<=`, the file name dropped) ------------------------------------

def _chronology() -> Any:
    from archive.rules import chronology

    return chronology


RECEIVED = "2026-11-03T10:15:00+08:00"
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
SKEW = dt.timedelta(minutes=10)


def test_stages_dated_exactly_at_receipt_and_at_each_other_are_accepted() -> None:
    same = {"investigation": {"completed_at": RECEIVED}, "response": {"replied_at": RECEIVED},
            "follow_up": {"visited_at": RECEIVED}, "closure": {"closed_at": RECEIVED},
            "capa": [{"due": "2026-11-03", "done_at": "2026-11-03"}]}
    _chronology().check_stage_dates("f.json", same, {}, RECEIVED, NOW, SKEW)


@pytest.mark.parametrize(("update", "where"), [
    ({"response": {"replied_at": "2026-11-03T10:14:59+08:00"}}, "$.response.replied_at"),
    ({"response": {"replied_at": RECEIVED}, "follow_up": {"visited_at": "2026-11-03T10:15:00+08:01"}},
     "$.follow_up.visited_at"),
    ({"investigation": {"completed_at": "2026-11-04T10:00:00+08:00"},
      "closure": {"closed_at": "2026-11-04T09:59:59+08:00"}}, "$.closure.closed_at"),
    ({"capa": [{"due": "2026-11-02"}]}, "$.capa[0].due"),
    ({"capa": [{"done_at": "2026-11-02"}]}, "$.capa[0].done_at"),
    ({"follow_up": {"visited_at": "2026-11-05T10:00:00+08:00"}}, "$.follow_up"),
    ({"closure": {"closed_at": "2026-11-30T20:11:00+08:00"}}, "$.closure.closed_at"),
    ({"capa": [{"done_at": "2026-12-01"}]}, "$.capa[0].done_at"),
])
def test_a_date_one_step_out_of_order_is_refused_naming_the_file_and_path(update: dict[str, Any], where: str) -> None:
    from archive.errors import InputError

    with pytest.raises(InputError) as caught:
        _chronology().check_stage_dates("f.json", update, {}, RECEIVED, NOW, SKEW)
    assert (caught.value.file, caught.value.where) == ("f.json", where)


def test_the_future_starts_after_the_allowed_clock_skew() -> None:
    from archive.errors import InputError

    edge = (NOW + SKEW).isoformat()
    _chronology().not_in_future("f.json", "$.x", edge, NOW, SKEW)
    _chronology().not_in_future("f.json", "$.x", (NOW + SKEW).date().isoformat(), NOW, SKEW)
    with pytest.raises(InputError) as caught:
        _chronology().not_in_future("f.json", "$.x", (NOW + SKEW + dt.timedelta(seconds=1)).isoformat(), NOW, SKEW)
    assert (caught.value.file, caught.value.where) == ("f.json", "$.x")
    with pytest.raises(InputError):
        _chronology().not_in_future("f.json", "$.x", (NOW + SKEW + dt.timedelta(days=1)).date().isoformat(), NOW, SKEW)


def test_earliest_received_is_itself_allowed_and_the_day_before_refused() -> None:
    from archive.errors import InputError

    earliest = dt.date(1990, 1, 1)
    _chronology().not_before_earliest("f.json", "1990-01-01T00:00:00+08:00", earliest)
    with pytest.raises(InputError) as caught:
        _chronology().not_before_earliest("f.json", "1989-12-31T23:59:59+08:00", earliest)
    assert (caught.value.file, caught.value.where) == ("f.json", "$.received_at")
    assert "1990-01-01" in caught.value.problem and "earliest_received" in caught.value.problem


def test_a_refused_stage_date_says_what_it_is_before() -> None:
    from archive.errors import InputError

    chronology = _chronology()
    cases = [({"response": {"replied_at": "2026-11-02T10:00:00+08:00"}}, {}, "before the complaint was received"),
             # the response recorded by an earlier file still bounds the closure
             ({"closure": {"closed_at": "2026-11-04T09:00:00+08:00"}},
              {"response": {"replied_at": "2026-11-04T10:00:00+08:00"}}, "is before the 答复时间"),
             ({"capa": [{"done_at": "2026-12-25"}]}, {}, "is in the future")]
    for update, recorded, says in cases:
        with pytest.raises(InputError) as caught:
            chronology.check_stage_dates("f.json", update, recorded, RECEIVED, NOW, SKEW)
        assert says in caught.value.problem, caught.value.problem


def test_a_date_only_value_counts_the_clock_skew_across_midnight() -> None:
    from archive.errors import InputError

    late = dt.datetime(2026, 11, 30, 23, 55, tzinfo=dt.UTC)  # now + 10 minutes is already 1 December
    _chronology().not_in_future("f.json", "$.x", "2026-12-01", late, SKEW)
    with pytest.raises(InputError, match="in the future"):
        _chronology().not_in_future("f.json", "$.x", "2026-12-02", late, SKEW)
