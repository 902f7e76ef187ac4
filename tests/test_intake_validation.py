"""Invariant 6: bad input is refused before anything is written; good input is archived exactly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import SHARED_BAD, SHARED_CASES, Cli, audit_entries, record_dirs, snapshot, write_case
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

# What each shared bad file must name: the JSON path or the position that is wrong.
EXPECTED_WHERE = {
    "array-not-object.json": "$",
    "attachment-escape.json": "$.attachments[0].path",
    "attachment-missing.json": "$.attachments[0].path",
    "bad-channel.json": "$.channel",
    "bad-date.json": "$.received_at",
    "empty-name.json": "$.complainant.name",
    "missing-description.json": "$.description",
    "naive-datetime.json": "$.received_at",
    "negative-quantity.json": "$.product.defect_quantity",
    "not-utf8.json": "byte 0",
    "truncated-json.json": "line 1 column",
    "unknown-field.json": "$.complaint_number",
}


def test_every_shared_bad_file_is_listed() -> None:
    assert {p.name for p in SHARED_BAD} == set(EXPECTED_WHERE)
    assert len(SHARED_CASES) >= 5, "the shared example cases are missing: their parametrized tests would not run"


@pytest.mark.parametrize("bad", SHARED_BAD, ids=lambda p: p.name)
def test_shared_bad_file_is_refused_and_changes_nothing(root: Path, cli: Cli, bad: Path) -> None:
    before = snapshot(root)
    result = cli("intake", str(bad))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(bad) in lines[0] and EXPECTED_WHERE[bad.name] in lines[0]
    assert "Traceback" not in result.output
    assert snapshot(root) == before


@pytest.mark.parametrize("case", SHARED_CASES, ids=lambda p: p.name)
def test_shared_case_is_accepted_and_kept_byte_exact(root: Path, cli: Cli, case: Path) -> None:
    result = cli("intake", "--json", str(case))
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert item["file"] == str(case)
    record = record_dirs(root)[item["number"]]
    assert (record / "intake.json").read_bytes() == case.read_bytes()
    stored = json.loads((record / "case.json").read_text(encoding="utf-8"))
    assert stored["case"] == json.loads(case.read_text(encoding="utf-8"))
    manifest = json.loads((record / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.relative_to(record).as_posix() for p in record.rglob("*") if p.is_file()} - {"manifest.json"}
    assert listed == on_disk


def test_a_refused_file_does_not_stop_the_others(root: Path, cli: Cli) -> None:
    result = cli("intake", "--json", str(SHARED_CASES[0]), str(SHARED_BAD[0]), str(SHARED_CASES[1]))
    assert result.exit_code == 2
    entries = json.loads(result.stdout)  # one entry per file, the refused one with its error
    assert [i["file"] for i in entries] == [str(SHARED_CASES[0]), str(SHARED_BAD[0]), str(SHARED_CASES[1])]
    assert [i["number"] is None for i in entries] == [False, True, False]
    assert EXPECTED_WHERE[SHARED_BAD[0].name] in entries[1]["error"], entries[1]
    assert len(record_dirs(root)) == 2


@pytest.mark.parametrize(("text", "where"), [
    ('{"a": 1, "a": 2}', "duplicate key"),
    ("[" * 5000 + "]" * 5000, "nested deeper"),
    ('{"x": ' + '{"y": ' * 30 + "1" + "}" * 31, "nested deeper"),
    ('{"received_at": NaN}', "not valid JSON"),
    ("\ufeff{}", "byte-order mark"),
    ("", "not valid JSON"),
    ('"just a string"', "top level must be a JSON object"),
])
def test_malformed_json_is_refused(root: Path, cli: Cli, tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    before = snapshot(root)
    result = cli("intake", str(path))
    assert result.exit_code == 2 and where in result.stderr and str(path) in result.stderr
    assert snapshot(root) == before


@pytest.mark.parametrize(("overrides", "where"), [
    ({"description": "   \t\n"}, "$.description"),
    ({"complainant": {"name": " "}}, "$.complainant.name"),
    ({"received_at": "2026-02-30T10:00:00+08:00"}, "$.received_at"),
    ({"product": {"ship_date": "2026-02-30"}}, "$.product.ship_date"),
    ({"people_affected": 0}, "$.people_affected"),
    ({"claim_amount": "many"}, "$.claim_amount"),
    ({"attachments": [{"path": "/etc/hostname"}]}, "$.attachments[0].path"),
])
def test_invalid_fields_are_named(root: Path, cli: Cli, tmp_path: Path, overrides: dict[str, object],
                                  where: str) -> None:
    path = write_case(tmp_path, **overrides)
    before = snapshot(root)
    result = cli("intake", str(path))
    assert result.exit_code == 2 and f": {where}: " in result.stderr, result.stderr
    assert snapshot(root) == before


def test_symlinked_attachment_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("信函", encoding="utf-8")
    (tmp_path / "att").mkdir()
    os.symlink(tmp_path / "real.txt", tmp_path / "att" / "link.txt")
    path = write_case(tmp_path, attachments=[{"path": "att/link.txt"}])
    result = cli("intake", str(path))
    assert result.exit_code == 2 and "symbolic link" in result.stderr


def test_attachment_in_symlinked_folder_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "a.txt").write_text("x", encoding="utf-8")
    os.symlink(tmp_path / "elsewhere", tmp_path / "linked")
    path = write_case(tmp_path, attachments=[{"path": "linked/a.txt"}])
    result = cli("intake", str(path))
    assert result.exit_code == 2 and "'linked/a.txt' is or passes through a symbolic link" in result.stderr


def test_absolute_attachment_needs_the_explicit_option(root: Path, cli: Cli, tmp_path: Path) -> None:
    att = tmp_path / "letter.txt"
    att.write_text("客户来函", encoding="utf-8")
    path = write_case(tmp_path, attachments=[{"path": str(att)}])
    refused = cli("intake", str(path))
    assert refused.exit_code == 2 and "is absolute; give a path relative to the case file" in refused.stderr
    result = cli("intake", "--allow-absolute", "--json", str(path))
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert (record_dirs(root)[item["number"]] / "attachments" / "letter.txt").read_text(encoding="utf-8") == "客户来函"


def test_missing_case_file_is_one_line(root: Path, cli: Cli, tmp_path: Path) -> None:
    result = cli("intake", str(tmp_path / "nope.json"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


VALID_CASE: dict[str, object] = {
    "received_at": "2026-11-03T10:15:00+08:00", "channel": "phone", "complainant": {"name": "王建国"},
    "description": "外包装破损", "category": "packaging"}
FUZZ_KEYS = ["received_at", "channel", "complainant", "description", "product", "severity", "extra", "attachments",
             "urgent", "claim_amount", "people_affected", "customer_request"]
# Mostly-valid documents (a valid case with some fields replaced or dropped) reach the accepted branch often;
# wholly arbitrary ones exercise the refusals.
fuzz_docs = st.one_of(
    st.dictionaries(st.sampled_from(FUZZ_KEYS), json_values),
    st.builds(lambda over, drop: {k: v for k, v in {**VALID_CASE, **over}.items() if k not in drop},
              st.dictionaries(st.sampled_from(FUZZ_KEYS[3:]), st.sampled_from(
                  ["minor", "major", "critical", "一段投诉文字", True, 3, 12.5]) | json_values, max_size=2),
              st.sets(st.sampled_from(["category", *FUZZ_KEYS]), max_size=1)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=fuzz_docs)
@example(doc=VALID_CASE)
@example(doc={**VALID_CASE, "severity": "critical", "urgent": True, "claim_amount": 12.5,
              "description": "\u0000\t零宽\u200b字符 <b>&amp;</b>"})
def test_arbitrary_json_is_refused_cleanly_or_accepted(root: Path, cli: Cli, tmp_path: Path,
                                                       doc: dict[str, object]) -> None:
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    before = snapshot(root)
    entries_before = len(audit_entries(root))
    numbers_before = set(record_dirs(root))
    result = cli("intake", "--allow-duplicate", "--json", str(path))
    assert result.exit_code in (0, 2)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1 and str(path) in result.stderr
        assert snapshot(root) == before
        return
    # Accepted: archived exactly as received, numbered once, logged once, and the archive still verifies.
    [item] = json.loads(result.stdout)
    number = item["number"]
    event("accepted")
    assert item["file"] == str(path) and number not in numbers_before
    record = record_dirs(root)[number]
    assert (record / "intake.json").read_bytes() == path.read_bytes()
    assert json.loads((record / "case.json").read_text(encoding="utf-8"))["case"] == doc
    assert json.loads(cli("show", "--json", number).stdout)["case"] == doc
    new_entries = audit_entries(root)[entries_before:]
    assert [(e["action"], e["number"]) for e in new_entries] == [("intake", number)]
    verified = cli("verify", "--json", number)
    assert verified.exit_code == 0 and json.loads(verified.stdout)["findings"] == [], verified.stdout


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1).filter(lambda s: s.strip() != ""))
def test_any_description_text_is_archived_exactly(root: Path, cli: Cli, tmp_path: Path, text: str) -> None:
    path = write_case(tmp_path, description=text)
    result = cli("intake", "--allow-duplicate", "--json", str(path))
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    shown = json.loads(cli("show", "--json", item["number"]).stdout)
    assert shown["case"]["description"] == text


def test_refusals_leave_no_audit_entry(root: Path, cli: Cli) -> None:
    assert len(SHARED_BAD) == len(EXPECTED_WHERE) == 12  # an empty or shrunken list would pass the loop vacuously
    for bad in SHARED_BAD:
        result = cli("intake", str(bad))
        assert result.exit_code == 2 and f"refused {bad}: {EXPECTED_WHERE[bad.name]}" in result.stderr, result.stderr
    assert [e["action"] for e in audit_entries(root)] == ["settings-apply"]  # init's, nothing since
