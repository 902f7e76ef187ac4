"""The change protocol owns every failure: a full disk, damaged derived stores, a read-only copy, a folder
that is not an archive, and a process killed in the middle of each kind of change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SHARED_CASES, audit_entries, read_only_view, record_dirs, run_archive, snapshot, write_case

import archive.derived.register as register


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MB tmpfs: small enough for a test to fill."""
    point = tmp_path / "tiny"
    point.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=6m", "tmpfs", str(point)):
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def _fill(folder: Path, leave: int) -> Path:
    """Fill the file system under ``folder`` until ``leave`` bytes are free."""
    filler = folder / "filler.bin"
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr


def test_full_disk_during_intake_says_what_happened_and_never_duplicates(tiny_disk: Path, tmp_path: Path) -> None:
    root = tiny_disk / "root"
    root.mkdir()
    assert run_archive(root, "init").returncode == 0
    case = write_case(tmp_path, description="外包装破损严重,铝塑板有压痕。" * 40)
    assert run_archive(root, "--actor", "t", "intake", str(case)).returncode == 0
    outcomes: set[str] = set()
    for leave in range(8_000, 400_000, 24_000):
        filler = _fill(tiny_disk, leave)
        before = set(record_dirs(root))
        result = run_archive(root, "--actor", "t", "intake", "--allow-duplicate", "--json", str(case))
        _no_traceback(result)
        after = set(record_dirs(root))
        if result.returncode == 0:
            outcomes.add("accepted")
            assert len(after - before) == 1
        elif "nothing was written" in result.stderr:
            outcomes.add("refused before commit")
            assert after == before, "a refused intake left a record"
        else:
            outcomes.add("failed after commit")
            [number] = after - before
            assert result.returncode == 1 and number in result.stderr and "archive rebuild" in result.stderr
        filler.unlink()
    assert "refused before commit" in outcomes, outcomes
    assert run_archive(root, "--actor", "t", "rebuild").returncode == 0
    check = run_archive(root, "verify")
    assert check.returncode == 0, check.stdout
    numbers = [e["number"] for e in audit_entries(root) if e["action"] == "intake"]
    assert len(numbers) == len(set(numbers)) == len(record_dirs(root))
    assert run_archive(root, "index", "check").returncode == 0


def test_garbage_in_register_is_one_line_naming_rebuild(root: Path) -> None:
    assert run_archive(root, "--actor", "t", "intake", str(SHARED_CASES[0])).returncode == 0
    (root / "register.sqlite").write_bytes(b"this is not a database" * 100)
    for args in (["list"], ["overdue"], ["--actor", "t", "intake", str(SHARED_CASES[1])]):
        result = run_archive(root, *args)
        _no_traceback(result)
        assert result.returncode == 2 and "archive rebuild" in result.stderr, (args, result.stderr)
    assert run_archive(root, "--actor", "t", "rebuild").returncode == 0
    listed = run_archive(root, "list", "--json")
    assert [r["number"] for r in json.loads(listed.stdout)] == ["26110001"]


def test_garbage_in_an_index_segment_is_one_line_naming_rebuild(root: Path) -> None:
    for case in SHARED_CASES[:3]:
        assert run_archive(root, "--actor", "t", "intake", str(case)).returncode == 0
    segments = [p for p in (root / "index").iterdir() if p.suffix in (".seg", ".trm", ".pst", ".vps")]
    assert segments
    for seg in segments:
        seg.write_bytes(os.urandom(seg.stat().st_size or 64))
    for args in (["search", "破损"], ["index", "check"], ["similar", "26110001"]):
        result = run_archive(root, *args)
        _no_traceback(result)
        assert result.returncode == 2 and "archive rebuild" in result.stderr, (args, result.stderr)
    assert run_archive(root, "--actor", "t", "rebuild").returncode == 0
    assert run_archive(root, "index", "check").returncode == 0
    assert json.loads(run_archive(root, "search", "--json", "破损").stdout)["total"] >= 1


def test_write_commands_refuse_a_folder_that_is_not_an_archive(tmp_path: Path) -> None:
    stray = tmp_path / "stray"
    stray.mkdir()
    case = write_case(tmp_path)
    result = run_archive(stray, "--actor", "t", "intake", str(case))
    _no_traceback(result)
    assert result.returncode == 2 and "archive init" in result.stderr
    assert list(stray.iterdir()) == [], "a refused command created files"


@pytest.fixture
def read_only_copy(root: Path, tmp_path: Path) -> Iterator[Path]:
    for case in SHARED_CASES[:2]:
        assert run_archive(root, "--actor", "t", "intake", str(case)).returncode == 0
    yield from read_only_view(root, tmp_path)


def test_reading_commands_work_on_a_read_only_copy(read_only_copy: Path) -> None:
    for args in (["verify"], ["list"], ["show", "26110001"], ["search", "破损"], ["index", "check"],
                 ["overdue", "--as-of", "2026-11-24"]):
        result = run_archive(read_only_copy, *args)
        _no_traceback(result)
        assert result.returncode == 0, (args, result.stderr)
    assert "OK" in run_archive(read_only_copy, "verify").stdout


def test_write_commands_say_the_copy_is_read_only(read_only_copy: Path, tmp_path: Path) -> None:
    case = write_case(tmp_path)
    for args in (["intake", str(case)], ["rebuild"], ["render", "26110001"]):
        result = run_archive(read_only_copy, "--actor", "t", *args)
        _no_traceback(result)
        assert result.returncode == 2 and "read-only" in result.stderr, (args, result.stderr)


# ---------------------------------------------------------------- a kill at each step of a destruction

_DESTROY = """
import os, sys
from pathlib import Path
from archive.services.archive import Archive
from archive.record import folders
from archive.store import txn

root, number, die_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
calls = 0

def dying(fn):
    def wrapped(*a, **k):
        global calls
        result = fn(*a, **k)
        calls += 1
        if calls == die_at:
            os._exit(9)
        return result
    return wrapped

txn.write_bytes = dying(txn.write_bytes)
txn.os.rename = dying(os.rename)
txn.shutil.rmtree = dying(txn.shutil.rmtree)
txn.audit.append = dying(txn.audit.append)
arc = Archive.open(root, "archivist", write=True)
with arc.writing():
    record = folders.find_record(arc.layout, number)
    tomb = record.with_name(number + ".tombstone.json")
    txn.destroy(arc.layout, record, number, tomb, b'{"number": "%s"}\\n' % number.encode(),
                txn.Entry("archivist", "destroy", number), arc.refresh)
"""


@pytest.mark.parametrize("die_at", [1, 2, 3, 4, 5, 99])
def test_destruction_killed_at_any_step_leaves_the_case_whole_or_gone(root: Path, die_at: int) -> None:
    for case in SHARED_CASES[:2]:
        assert run_archive(root, "--actor", "t", "intake", str(case)).returncode == 0
    record = record_dirs(root)["26110001"]
    files_before = {p.relative_to(record).as_posix(): p.read_bytes() for p in record.rglob("*") if p.is_file()}
    proc = subprocess.run([sys.executable, "-c", _DESTROY, str(root), "26110001", str(die_at)],
                          capture_output=True, text=True)
    assert proc.returncode in (0, 9), proc.stderr
    assert run_archive(root, "--actor", "t", "index", "check").returncode in (0, 1)
    assert run_archive(root, "--actor", "t", "rebuild").returncode == 0  # the next writer finishes or undoes it
    assert not (root / ".journal.json").exists()
    assert not any((root / ".work").iterdir())
    tomb = record.with_name("26110001.tombstone.json")
    destroyed = [e for e in audit_entries(root) if e["action"] == "destroy"]
    if tomb.exists():
        assert not record.exists() and len(destroyed) == 1
        assert "26110001" not in register.SqliteRegister(root / "register.sqlite").numbers()
        hits = json.loads(run_archive(root, "search", "--json", "number:26110001").stdout)
        assert hits["total"] == 0
    else:
        assert destroyed == []
        after = {p.relative_to(record).as_posix(): p.read_bytes() for p in record.rglob("*") if p.is_file()}
        assert after == files_before
    verify = json.loads(run_archive(root, "verify", "--json").stdout)
    # txn.destroy is driven directly here, with a stub tombstone no certificate lists: verify says so, and
    # that is all it finds (the destruction itself is whole or undone)
    expected = [("tombstone_invalid", tomb.relative_to(root).as_posix())] if tomb.exists() else []
    assert [(f["kind"], f["where"]) for f in verify["findings"]] == expected, verify["findings"]
    assert run_archive(root, "index", "check").returncode == 0
    # the number is never given again
    new = run_archive(root, "--actor", "t", "intake", "--json", str(SHARED_CASES[2]))
    assert json.loads(new.stdout)[0]["number"] == "26110003"


def test_a_dry_failure_before_commit_leaves_the_root_byte_identical(root: Path, tmp_path: Path) -> None:
    assert run_archive(root, "--actor", "t", "intake", str(SHARED_CASES[0])).returncode == 0
    before = snapshot(root)
    bad = write_case(tmp_path, attachments=[{"path": "missing.pdf"}])
    result = run_archive(root, "--actor", "t", "intake", str(bad))
    assert result.returncode == 2 and "$.attachments[0].path: 'missing.pdf' does not exist" in result.stderr
    assert snapshot(root) == before

