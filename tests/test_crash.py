"""Invariant 4: a process killed at any moment leaves the archive as before or after, never half-way."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import time
from pathlib import Path

from conftest import ARCHIVE_BIN, audit_entries, record_dirs, run_archive, write_case

import archive.derived.register as register


def _check_consistent(root: Path, *, allow_unlogged_record: bool) -> None:
    records = record_dirs(root)
    for number, folder in records.items():
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        listed = {f["path"]: f["sha256"] for f in manifest["files"]}
        on_disk = {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                   for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"}
        assert listed == on_disk, f"partial record {number}"
    logged = {e["number"] for e in audit_entries(root) if e["number"]}  # not root files (settings applied)
    assert logged <= set(records), "audit entry without its record"
    registered = register.SqliteRegister(root / "register.sqlite").numbers()
    assert registered <= set(records), "register row without its record"
    if not allow_unlogged_record:
        assert set(records) <= logged
        assert set(records) == register.SqliteRegister(root / "register.sqlite").numbers()


def test_sigkill_at_many_points_never_leaves_a_partial_record(root: Path, tmp_path: Path) -> None:
    # A large attachment stretches the copy/hash/fsync window the kill should land in.
    (tmp_path / "scan.bin").write_bytes(b"\x89PDF" + bytes(range(256)) * 40_000)
    path = write_case(tmp_path, attachments=[{"path": "scan.bin", "title": "扫描件"}])
    warm = run_archive(root, "intake", "--allow-duplicate", "--json", str(path))
    assert warm.returncode == 0, warm.stderr
    outcomes = set()
    for i in range(24):
        delay = 0.05 + i * 0.03
        proc = subprocess.Popen([ARCHIVE_BIN, "--root", str(root), "intake", "--allow-duplicate", str(path)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        outcomes.add("killed" if proc.returncode == -signal.SIGKILL else "finished")
        work = root / ".work"
        if (root / ".journal.json").exists() or (work.exists() and any(work.iterdir())):
            outcomes.add("interrupted mid-write")
        _check_consistent(root, allow_unlogged_record=True)
    assert {"killed", "interrupted mid-write"} <= outcomes, outcomes
    before = set(record_dirs(root))
    done = run_archive(root, "intake", "--allow-duplicate", "--json", str(path))
    assert done.returncode == 0, done.stderr
    [item] = json.loads(done.stdout)
    serials = sorted(int(n[-4:]) for n in before)
    assert int(item["number"][-4:]) == serials[-1] + 1
    _check_consistent(root, allow_unlogged_record=False)
    assert not list((root / ".work").iterdir()) if (root / ".work").exists() else True
    seqs = [e["seq"] for e in audit_entries(root)]
    assert seqs == list(range(1, len(seqs) + 1))
    verified = run_archive(root, "verify")
    assert verified.returncode == 0, verified.stdout


def test_torn_audit_line_is_dropped_and_the_chain_continues(root: Path, tmp_path: Path) -> None:
    path = write_case(tmp_path)
    assert run_archive(root, "intake", "--allow-duplicate", str(path)).returncode == 0
    log = root / "audit" / "audit.jsonl"
    kept = len(audit_entries(root))  # init's entries (settings applied) and the intake
    with log.open("ab") as fh:
        fh.write(b'{"seq":%d,"half' % (kept + 1))
    assert run_archive(root, "intake", "--allow-duplicate", str(path)).returncode == 0
    entries = audit_entries(root)
    # the torn bytes are dropped by an entry that records them, then the intake chains on
    torn = b'{"seq":%d,"half' % (kept + 1)
    assert [e["seq"] for e in entries] == list(range(1, kept + 3))
    assert [e["action"] for e in entries[kept:]] == ["audit-tail-dropped", "intake"]
    assert entries[kept]["dropped_sha256"] == hashlib.sha256(torn).hexdigest()
    last_kept = log.read_bytes().splitlines()[kept - 1]
    assert entries[kept]["prev"] == hashlib.sha256(last_kept).hexdigest()


def test_sigkill_during_update_rolls_back_or_forward(root: Path, tmp_path: Path) -> None:
    from conftest import SHARED_CASES, SHARED_UPDATES

    first = run_archive(root, "intake", "--json", str(SHARED_CASES[0]))
    number = json.loads(first.stdout)[0]["number"]
    update = str(SHARED_UPDATES / "01-investigation.json")
    assert run_archive(root, "update", number, update).returncode == 0
    seen = set()
    stages = json.loads(Path(update).read_text(encoding="utf-8"))
    for i in range(16):
        # each correction changes the findings: content identical to the recorded version writes nothing
        stages["investigation"]["findings"] += f"(第{i}次更正)"
        corrected = tmp_path / f"correction-{i}.json"
        corrected.write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
        proc = subprocess.Popen([ARCHIVE_BIN, "--root", str(root), "update", "--reason", f"第{i}次更正", number,
                                 str(corrected)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.15 + i * 0.04)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if (root / ".journal.json").exists():
            seen.add("interrupted mid-write")
        assert run_archive(root, "rebuild").returncode == 0  # any writer finishes or undoes the change
        _check_consistent(root, allow_unlogged_record=False)
        record = record_dirs(root)[number]
        versions = sorted(int(p.name.split(".v")[1].split(".")[0])
                          for p in (record / "stages").glob("investigation.v*.json"))
        corrections = [e for e in audit_entries(root) if e["action"] == "correction"]
        assert len(versions) == 1 + len(corrections), "a stage version without its audit entry"
        assert versions == list(range(1, len(versions) + 1))
    assert "interrupted mid-write" in seen
    seqs = [e["seq"] for e in audit_entries(root)]
    assert seqs == list(range(1, len(seqs) + 1))
    verified = run_archive(root, "verify")
    assert verified.returncode == 0, verified.stdout
