"""The access register (查阅登记, audit/access.jsonl): one hash-chained line per view, download, search or export,
written under its own lock before the response and refused when it cannot be written; `archive access-log` reads
it by case, user and date; `archive verify` finds it edited, cut, reordered or torn."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, snapshot

from archive import clock, vocab
from archive.errors import StorageError
from archive.store import txn
from archive.store.layout import Layout
from archive.store.locking import exclusive

WHO = {"login": "wangfang", "name": "质量部 王芳", "role": "qa", "address": "127.0.0.1"}
KEYS = {"seq", "time", "prev", "login", "name", "role", "address", "action", "number", "path", "query", "detail"}


def record(root: Path, action: str = "view", **fields: Any) -> dict[str, Any]:
    return txn.record_access(Layout(root), **{**WHO, **fields}, action=action)


def lines(root: Path) -> list[bytes]:
    return (root / "audit" / "access.jsonl").read_bytes().splitlines(keepends=True)


def entries(root: Path) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in lines(root)]


def findings(cli: Cli) -> list[dict[str, str]]:
    result = cli("verify", "--json")
    return [f for f in json.loads(result.stdout)["findings"] if f["kind"].startswith("access_")]


# ---------------------------------------------------------------- writing

def test_an_access_entry_has_every_key_and_is_chained(root: Path) -> None:
    first = record(root, number="26110001")
    second = record(root, "download", number="26110001", path="documents/intake-form.v1.pdf")
    third = record(root, "search", query="破损 lot:B2026080315")
    assert set(first) == KEYS and first["seq"] == 1 and first["prev"] == "0" * 64
    assert second["path"] == "documents/intake-form.v1.pdf" and second["query"] is None
    assert third["query"] == "破损 lot:B2026080315" and third["number"] is None
    stored = entries(root)
    assert stored == [first, second, third]
    import hashlib

    assert stored[1]["prev"] == hashlib.sha256(lines(root)[0].rstrip(b"\n")).hexdigest()
    assert all(raw == json.dumps(e, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"
               for raw, e in zip(lines(root), stored, strict=True))  # one canonical line each


def test_every_web_action_has_a_chinese_label() -> None:
    for action in ("login", "login-failed", "logout", "view", "download", "search", "export", "list", "report",
                   "access-log"):
        assert vocab.ACCESS_ACTION[action]


def test_an_unknown_action_is_not_written(root: Path) -> None:
    with pytest.raises(ValueError, match="unknown access action"):
        record(root, "peek")
    assert not (root / "audit" / "access.jsonl").exists()


def test_an_entry_that_cannot_be_written_refuses_the_request(root: Path) -> None:
    (root / "audit" / "access.jsonl").mkdir()  # the disk refuses the append (IsADirectoryError)
    with pytest.raises(StorageError, match="查阅登记 could not be written"):
        record(root, number="26110001")


def test_an_entry_on_a_garbage_last_line_is_refused(root: Path) -> None:
    record(root)
    with (root / "audit" / "access.jsonl").open("ab") as fh:
        fh.write(b"not an entry\n")
    with pytest.raises(StorageError, match="查阅登记 could not be written"):
        record(root)


def test_an_access_entry_does_not_wait_for_the_archive_lock(root: Path) -> None:
    """A long change holds the archive lock; a view recorded meanwhile takes only the register's own lock."""
    layout = Layout(root)
    done = threading.Event()

    def view() -> None:
        record(root, number="26110001")
        done.set()

    with exclusive(layout.lock):
        worker = threading.Thread(target=view, daemon=True)
        worker.start()
        worker.join(60)  # a deadlock guard, not a timing: with the archive lock taken it would never finish
        assert done.is_set()
    assert layout.access_lock.exists()


def test_reading_the_register_writes_nothing(cli: Cli, root: Path) -> None:
    record(root, number="26110001")
    before = snapshot(root)
    assert cli("access-log").exit_code == 0 and cli("access-log", "--json").exit_code == 0
    assert snapshot(root) == before


def _append_many(root: str, worker: int, count: int) -> None:
    for i in range(count):
        txn.record_access(Layout(Path(root)), **WHO, action="view", number=f"2611{worker:02d}{i:02d}")


def test_appends_from_several_processes_keep_the_chain_whole(cli: Cli, root: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_append_many, args=(str(root), w, 15)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(300)
        assert p.exitcode == 0
    stored = entries(root)
    assert [e["seq"] for e in stored] == list(range(1, 61))
    assert len({e["number"] for e in stored}) == 60
    assert findings(cli) == []


# ---------------------------------------------------------------- verify

def test_verify_is_content_without_an_access_register(cli: Cli, root: Path) -> None:
    result = cli("verify", "--json")
    assert result.exit_code == 0 and findings(cli) == []
    assert not (root / "audit" / "access.jsonl").exists()


def _three(root: Path) -> list[bytes]:
    for number in ("26110001", "26110002", "26110003"):
        record(root, number=number)
    return lines(root)


def test_verify_finds_an_access_entry_edited(cli: Cli, root: Path) -> None:
    raw = _three(root)
    raw[1] = raw[1].replace(b"26110002", b"26110009")  # a flipped digit: still JSON, no longer what was chained
    (root / "audit" / "access.jsonl").write_bytes(b"".join(raw))
    found = findings(cli)
    assert cli("verify").exit_code == 1
    assert {"kind": "access_chain_broken", "where": "access seq 3",
            "detail": "prev does not match the SHA-256 of the line before (that line was edited, removed or moved)"} \
        in found


def test_verify_finds_an_access_byte_flipped_into_garbage(cli: Cli, root: Path) -> None:
    raw = _three(root)
    raw[0] = raw[0].replace(b"{", b"[", 1)
    (root / "audit" / "access.jsonl").write_bytes(b"".join(raw))
    kinds = {(f["kind"], f["where"]) for f in findings(cli)}
    assert ("access_line_unreadable", "access line 1") in kinds
    assert ("access_chain_broken", "access seq 2") in kinds


def test_verify_finds_an_access_entry_removed(cli: Cli, root: Path) -> None:
    raw = _three(root)
    (root / "audit" / "access.jsonl").write_bytes(raw[0] + raw[2])
    kinds = {(f["kind"], f["where"]) for f in findings(cli)}
    assert ("access_chain_broken", "access seq 3") in kinds


def test_verify_finds_access_entries_reordered(cli: Cli, root: Path) -> None:
    raw = _three(root)
    (root / "audit" / "access.jsonl").write_bytes(raw[0] + raw[2] + raw[1])
    found = findings(cli)
    assert {f["kind"] for f in found} == {"access_chain_broken"}
    assert any("found at line 2 where seq 2 belongs" in f["detail"] for f in found)


def test_a_torn_access_tail_is_reported_then_dropped_by_the_next_append_with_an_entry(cli: Cli, root: Path) -> None:
    _three(root)
    tail = b'{"action":"view","login":"wangf'
    with (root / "audit" / "access.jsonl").open("ab") as fh:
        fh.write(tail)
    assert [f["kind"] for f in findings(cli)] == ["access_torn_tail"]
    entry = record(root, number="26110004")
    stored = entries(root)
    import hashlib

    dropped = stored[3]
    assert dropped["action"] == "tail-dropped" and dropped["login"] == "wangfang"
    assert dropped["dropped_bytes"] == len(tail) and dropped["dropped_sha256"] == hashlib.sha256(tail).hexdigest()
    assert stored[4] == entry and entry["seq"] == 5
    assert findings(cli) == []
    assert cli("verify").exit_code == 0


# ---------------------------------------------------------------- archive access-log

def _at(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: when)


def _some(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _at(monkeypatch, "2026-11-27T09:00:00.000000Z")  # 11-27 17:00 in Shanghai
    record(root, number="26110001")
    _at(monkeypatch, "2026-11-28T17:30:00.000000Z")  # 11-29 01:30 in Shanghai
    txn.record_access(Layout(root), login="zhaolei", name="检查组 赵磊", role="inspector", address="10.0.0.7",
                      action="search", query="破损")
    _at(monkeypatch, "2026-11-29T02:00:00.000000Z")  # 11-29 10:00
    record(root, "download", number="26110002", path="documents/record-form.v1.pdf")
    monkeypatch.undo()


def test_the_access_log_is_a_chinese_table(cli: Cli, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _some(root, monkeypatch)
    result = cli("access-log")
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0].split() == ["时间", "用户", "姓名", "角色", "操作", "案件", "文件或检索词", "地址"]
    assert "2026-11-29 01:30 (UTC+08:00)" in out[3] and "检查员" in out[3] and "检索" in out[3] and "破损" in out[3]
    assert "下载" in out[4] and "documents/record-form.v1.pdf" in out[4] and "质量保证" in out[4]


def test_the_access_log_json_is_the_entries_as_stored(cli: Cli, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _some(root, monkeypatch)
    assert json.loads(cli("access-log", "--json").stdout) == entries(root)


@pytest.mark.parametrize(("args", "seqs"), [
    (["--case", "26110002"], [3]),
    (["--user", "zhaolei"], [2]),
    (["--from", "2026-11-29"], [2, 3]),  # 2026-11-28T17:30Z is the 29th in the archive's zone
    (["--to", "2026-11-28"], [1]),
    (["--from", "2026-11-27", "--to", "2026-11-27"], [1]),
    (["--user", "wangfang", "--from", "2026-11-29", "--to", "2026-11-29"], [3]),
    (["--case", "26119999"], []),
])
def test_the_access_log_filters_by_case_user_and_local_dates(cli: Cli, root: Path, monkeypatch: pytest.MonkeyPatch,
                                                              args: list[str], seqs: list[int]) -> None:
    _some(root, monkeypatch)
    result = cli("access-log", "--json", *args)
    assert result.exit_code == 0, result.output
    assert [e["seq"] for e in json.loads(result.stdout)] == seqs


@pytest.mark.parametrize(("args", "rule"), [
    (["--from", "2026-13-01"], "--from: '2026-13-01' is not a date YYYY-MM-DD"),
    (["--to", "yesterday"], "--to: 'yesterday' is not a date YYYY-MM-DD"),
    (["--from", "2026-11-30", "--to", "2026-11-01"], "--from: 2026-11-30 is after --to 2026-11-01"),
])
def test_a_bad_date_is_one_line_naming_the_option(cli: Cli, root: Path, args: list[str], rule: str) -> None:
    before = snapshot(root)
    result = cli("access-log", *args)
    assert result.exit_code == 2 and rule in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert snapshot(root) == before


def test_an_empty_access_log_says_so(cli: Cli) -> None:
    result = cli("access-log")
    assert result.exit_code == 0 and "没有查阅记录" in result.stdout
    assert json.loads(cli("access-log", "--json").stdout) == []
