"""Issue 16, settings and store trust: controlled settings, numbers unique across centuries, a numbering
pattern and numbers checked on load, derived stores that are never answered empty when missing, and
failures after the commit point that say what committed."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, audit_entries, record_dirs, set_settings, snapshot, write_case

from archive.errors import AfterCommitError
from archive.record import folders
from archive.services.archive import Archive
from archive.store import atomic, txn

APPLY = "archive settings apply --reason"


def _edit(root: Path, old: str, new: str) -> None:
    """Edit archive.toml by hand, without applying it (what a careless clerk or an attacker does)."""
    toml = root / "archive.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text
    toml.write_text(text.replace(old, new, 1), encoding="utf-8")


def _one_line(result: Any) -> str:
    err: str = result.stderr
    assert "Traceback" not in result.output + err
    assert len(err.strip().splitlines()) == 1, err
    return err


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _intake(cli: Cli, case: Path) -> str:
    result = cli("intake", "--json", str(case))
    assert result.exit_code == 0, result.output
    number: str = json.loads(result.stdout)[0]["number"]
    return number


# ---------------------------------------------------------------- 1. controlled settings

def test_init_records_the_initial_settings_as_applied(root: Path) -> None:
    [entry] = [e for e in audit_entries(root) if e["action"] == "settings-apply"]
    assert entry["settings_sha256"] == _sha(root / "archive.toml")
    [copy] = entry["files"]
    assert (root / copy["path"]).read_bytes() == (root / "archive.toml").read_bytes()


def test_an_unapplied_settings_file_refuses_every_write(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, write_case(tmp_path))
    _edit(root, "destruction_signatures = 2", "destruction_signatures = 0")
    key = tmp_path / "k.pem"
    key.write_text("not a key", encoding="utf-8")
    before = snapshot(root)
    for args in (["intake", str(write_case(tmp_path, "b.json", description="另一件投诉"))],
                 ["hold", number, "--reason", "诉讼"],
                 ["purge", "--as-of", "2026-11-30", "--approved-by", "任何人", "--execute"],
                 ["sign", number, "--key", str(key), "--meaning", "approved"],
                 ["rebuild"]):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert APPLY in _one_line(result) and "archive.toml" in result.stderr, args
    assert snapshot(root) == before


def test_reading_commands_work_and_verify_names_the_unapplied_file(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, write_case(tmp_path))
    _edit(root, "destruction_signatures = 2", "destruction_signatures = 0")
    before = snapshot(root)
    assert cli("list").exit_code == 0
    assert cli("show", number).exit_code == 0
    result = cli("verify", "--json")
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    assert [(f["kind"], f["where"]) for f in findings] == [("settings_unapplied", "archive.toml")]
    assert snapshot(root) == before


def test_settings_apply_records_the_hash_and_the_diff(root: Path, cli: Cli, tmp_path: Path) -> None:
    _edit(root, "destruction_signatures = 2", "destruction_signatures = 0")
    result = cli("settings", "apply", "--reason", "SOP GL-004 rev 3: 销毁只需批准人")
    assert result.exit_code == 0, result.output
    entry = audit_entries(root)[-1]
    assert entry["action"] == "settings-apply" and entry["reason"] == "SOP GL-004 rev 3: 销毁只需批准人"
    assert entry["settings_sha256"] == _sha(root / "archive.toml")
    assert "-destruction_signatures = 2" in entry["diff"] and "+destruction_signatures = 0" in entry["diff"]
    [copy] = entry["files"]
    assert (root / copy["path"]).read_bytes() == (root / "archive.toml").read_bytes()
    assert cli("verify").exit_code == 0
    _intake(cli, write_case(tmp_path))


def test_settings_apply_on_an_unchanged_file_writes_nothing(root: Path, cli: Cli) -> None:
    before = snapshot(root)
    result = cli("settings", "apply", "--reason", "again")
    assert result.exit_code == 0 and "unchanged" in result.stdout
    assert json.loads(cli("settings", "apply", "--reason", "again", "--json").stdout)["changed"] is False
    assert snapshot(root) == before


def test_settings_apply_refuses_an_invalid_file(root: Path, cli: Cli) -> None:
    _edit(root, "destruction_signatures = 2", "destruction_signatures = 7")
    before = snapshot(root)
    result = cli("settings", "apply", "--reason", "typo")
    assert result.exit_code == 2 and "retention.destruction_signatures" in _one_line(result)
    assert snapshot(root) == before


def test_a_root_from_before_controlled_settings_refuses_writes_until_applied(root: Path, cli: Cli,
                                                                              tmp_path: Path) -> None:
    # What a root made before this change looks like: no applied copy, no settings-apply entry.
    for p in (root / "settings").iterdir():
        p.unlink()
    (root / "settings").rmdir()
    (root / "audit" / "audit.jsonl").unlink()
    result = cli("intake", str(write_case(tmp_path)))
    assert result.exit_code == 2 and APPLY in _one_line(result)
    assert cli("verify").exit_code == 1
    assert cli("settings", "apply", "--reason", "settings put under control").exit_code == 0
    _intake(cli, write_case(tmp_path))
    assert cli("verify").exit_code == 0


def test_a_forged_applied_copy_is_found_by_verify(root: Path, cli: Cli) -> None:
    _edit(root, "destruction_signatures = 2", "destruction_signatures = 0")
    (root / "settings" / "archive.v2.toml").write_bytes((root / "archive.toml").read_bytes())
    result = cli("verify", "--json")
    kinds = {(f["kind"], f["where"]) for f in json.loads(result.stdout)["findings"]}
    assert ("settings_unapplied", "archive.toml") in kinds
    assert ("unexpected_file", "settings/archive.v2.toml") in kinds


def test_settings_show_says_whether_the_file_is_in_force(root: Path, cli: Cli) -> None:
    shown = json.loads(cli("settings", "show", "--json").stdout)
    assert shown["applied"] is True and shown["sha256"] == _sha(root / "archive.toml")
    _edit(root, "urgent_same_day = true", "urgent_same_day = false")
    shown = json.loads(cli("settings", "show", "--json").stdout)
    assert shown["applied"] is False and "+urgent_same_day = false" in shown["diff"]


# ---------------------------------------------------------------- 2. numbers unique across centuries

def test_a_1926_case_never_gets_a_number_a_2026_case_holds(root: Path, cli: Cli, tmp_path: Path) -> None:
    set_settings(root, lambda t: t.replace('earliest_received = "1990-01-01"', 'earliest_received = "1900-01-01"'))
    assert _intake(cli, write_case(tmp_path)) == "26110001"
    (root / "records" / "2026" / "11" / "26110002.tombstone.json").write_text("{}", encoding="utf-8")
    old = write_case(tmp_path, "old.json", received_at="1926-11-03T10:15:00+08:00", description="旧档案",
                     product={"name": "阿莫西林胶囊", "lot": "B1926", "expiry_date": "1928-07-31"})
    number = _intake(cli, old)
    assert number == "26110003"
    assert folders.find_record(Archive.open(root).layout, number).parent.parent.name == "1926"


def test_a_received_date_before_earliest_received_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    before = snapshot(root)
    result = cli("intake", str(write_case(tmp_path, received_at="1989-12-31T10:15:00+08:00")))
    assert result.exit_code == 2
    err = _one_line(result)
    assert "$.received_at" in err and "earliest_received" in err and "1990-01-01" in err
    assert snapshot(root) == before


# ---------------------------------------------------------------- 3. settings checked on load

@pytest.mark.parametrize(("old", "new", "named"), [
    ('pattern = "{yy}{mm}{serial:04}"', 'pattern = "{yy}{mm}{serial:04}{serial:04}"', "numbering.pattern"),
    ('pattern = "{yy}{mm}{serial:04}"', 'pattern = "' + "KS" * 28 + '{yyyy}{mm}{serial:04}"', "64"),
    ('pattern = "{yy}{mm}{serial:04}"', 'pattern = "-{yy}{mm}{serial:04}"', "numbering.pattern"),
    ("years_after_closure = 3", "years_after_closure = " + str(10**30), "retention.years_after_closure"),
    ("years_after_expiry = 1", "years_after_expiry = 100000", "retention.years_after_expiry"),
    ("rules = {}", "rules = { quality = { years_after_closure = 9000 } }", "retention.rules.quality"),
    ("pdf_timeout = 300", "pdf_timeout = " + str(10**30), "documents.pdf_timeout"),
    ("clock_skew_minutes = 10", "clock_skew_minutes = 99999999999", "time.clock_skew_minutes"),
    ("claim_amount_major = 10000", "claim_amount_major = 1e400", "triage.claim_amount_major"),
    ("claim_amount_major = 10000", "claim_amount_major = nan", "triage.claim_amount_major"),
    ("people_affected_major = 10", "people_affected_major = " + str(10**30), "triage.people_affected_major"),
    ("investigation_days = 7", "investigation_days = 10000000", "deadlines.investigation_days"),
    ('earliest_received = "1990-01-01"', 'earliest_received = "1990-13-01"', "intake.earliest_received"),
])
def test_a_setting_that_would_break_later_is_refused_on_load(root: Path, cli: Cli, tmp_path: Path, old: str,
                                                              new: str, named: str) -> None:
    _edit(root, old, new)
    before = snapshot(root)
    for args in (["intake", str(write_case(tmp_path))], ["settings", "apply", "--reason", "r"]):
        result = cli(*args)
        assert result.exit_code == 2, result.output
        assert named in _one_line(result)
    assert snapshot(root) == before


# ---------------------------------------------------------------- 4. derived stores

def test_a_new_archive_answers_empty_and_a_missing_register_names_rebuild(root: Path, cli: Cli,
                                                                           tmp_path: Path) -> None:
    assert cli("list").stdout.strip() == "(无记录)"
    assert json.loads(cli("search", "--json", "破损").stdout)["total"] == 0
    _intake(cli, write_case(tmp_path))
    (root / "register.sqlite").unlink()
    for args in (["list"], ["overdue"], ["intake", str(write_case(tmp_path, "b.json", description="另一件"))]):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "archive rebuild" in _one_line(result) and "register.sqlite" in result.stderr
    assert len(record_dirs(root)) == 1
    assert cli("rebuild").exit_code == 0
    assert [r["number"] for r in json.loads(cli("list", "--json").stdout)] == ["26110001"]


def test_an_index_without_its_table_of_contents_names_rebuild(root: Path, cli: Cli, tmp_path: Path) -> None:
    _intake(cli, write_case(tmp_path))
    tocs = list((root / "index").glob("*.toc"))
    assert tocs
    for toc in tocs:
        toc.unlink()
    for args in (["search", "破损"], ["intake", str(write_case(tmp_path, "b.json", description="另一件"))]):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "archive rebuild" in _one_line(result), args
    assert not list((root / "index").glob("*.toc")), "a new index was started silently"
    assert len(record_dirs(root)) == 1
    assert cli("rebuild").exit_code == 0
    assert json.loads(cli("search", "--json", "破损").stdout)["total"] == 1


# ---------------------------------------------------------------- 5, 6. failures around the commit point

def test_a_disk_error_after_publishing_says_the_case_committed(root: Path, cli: Cli, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(path: Path) -> None:
        raise OSError(errno.EIO, "Input/output error", str(path))

    monkeypatch.setattr(txn, "fsync_dir", failing)  # the folder fsync right after the rename into records/
    result = cli("intake", str(write_case(tmp_path)))
    monkeypatch.undo()
    err = _one_line(result)
    assert result.exit_code == 1 and "nothing was written" not in err
    assert "26110001" in err and "committed" in err
    assert set(record_dirs(root)) == {"26110001"}
    assert cli("verify").exit_code == 0
    assert [e["number"] for e in audit_entries(root) if e["action"] == "intake"] == ["26110001"]


def test_a_disk_error_after_the_tombstone_says_the_destruction_committed(root: Path, cli: Cli, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    number = _intake(cli, write_case(tmp_path))
    arc = Archive.open(root, "archivist", write=True)
    record = folders.find_record(arc.layout, number)
    tomb = record.with_name(number + ".tombstone.json")
    real = atomic.fsync_dir

    def failing_after_tombstone(path: Path) -> None:
        if tomb.exists():
            raise OSError(errno.EIO, "Input/output error", str(path))
        real(path)

    monkeypatch.setattr(atomic, "fsync_dir", failing_after_tombstone)
    with pytest.raises(AfterCommitError) as caught, arc.writing():
        txn.destroy(arc.layout, record, number, tomb, b'{"number": "%s"}\n' % number.encode(),
                    txn.Entry("archivist", "destroy", number), arc.refresh)
    monkeypatch.undo()
    assert "nothing was written" not in str(caught.value) and "committed" in str(caught.value)
    assert number in str(caught.value)
    assert tomb.exists() and not record.exists()


def test_no_space_for_the_staging_folder_is_one_line(root: Path, cli: Cli, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    case = write_case(tmp_path)
    real = Path.mkdir
    before = snapshot(root)

    def full(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.parent.name == ".work":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", full)
    result = cli("intake", str(case))
    monkeypatch.undo()
    assert result.exit_code == 2
    err = _one_line(result)
    assert "nothing was written" in err and os.strerror(errno.ENOSPC) in err
    assert snapshot(root) == before
