"""Inputs that must never wedge, crash or fool the archive (issue 16): numbers that are not numbers, text that is
not Unicode, dates in odd cases, batches that fail half-way, output that cannot be written, attachments that
inflate without end or are swapped for a link, descriptions of many megabytes; and the checks a mutation of
the code must not pass unnoticed."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import ARCHIVE_BIN, Cli, record_dirs, set_settings, snapshot, write_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

INVESTIGATION = {"investigator": "质量部 陈工", "findings": "运输破损", "completed_at": "2026-11-05T10:00:00+08:00"}
RESPONSE = {"replied_at": "2026-11-06T10:00:00+08:00", "method": "phone", "content": "已换货"}
FOLLOW_UP = {"visited_at": "2026-11-07T10:00:00+08:00", "by": "张丽", "satisfaction": "satisfied"}
CLOSURE = {"closed_at": "2026-11-08T10:00:00+08:00", "approved_by": "黄涛"}
FIXTURE_OK = [HealthCheck.function_scoped_fixture]


def _stage(tmp: Path, name: str, **stages: Any) -> str:
    path = tmp / name
    path.write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _intake(cli: Cli, path: Path, *flags: str) -> str:
    result = cli("intake", "--json", *flags, str(path))
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)[0]["number"])


def _edit_settings(root: Path, **values: int) -> None:
    """The one place these tests change archive.toml: replace each key's line (keys are unique by name here)."""
    path = root / "archive.toml"
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert n == 1, key
    set_settings(root, text)


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# ---------------------------------------------------------------- 1. numbers that are not numbers

@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURE_OK)
@given(literal=st.sampled_from(["1e400", "-1e400", "1E999", "2e308", "-9.9e99999"]),
       where=st.sampled_from([("claim_amount",), ("product", "quantity"), ("product", "defect_quantity")]))
def test_a_non_finite_number_in_a_case_file_is_refused_naming_file_and_path(root: Path, cli: Cli, tmp_path: Path,
                                                                           literal: str, where: tuple[str, ...]
                                                                           ) -> None:
    path = write_case(tmp_path)
    case = json.loads(path.read_text(encoding="utf-8"))
    target = case
    for part in where[:-1]:
        target = target.setdefault(part, {})
    target[where[-1]] = "@@"
    path.write_text(json.dumps(case, ensure_ascii=False).replace('"@@"', literal), encoding="utf-8")
    before = snapshot(root)
    result = cli("intake", str(path))
    line = _one_line(result.stderr)
    assert result.exit_code == 2
    assert str(path) in line and "$." + ".".join(where) in line and "not a finite number" in line, line
    assert snapshot(root) == before


def test_a_non_finite_number_in_a_stage_file_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, write_case(tmp_path))
    bad = tmp_path / "capa.json"
    bad.write_text('{"capa": [{"kind": "corrective", "action": "x", "owner": "y", "due": "2026-12-01", '
                   '"cost": 1e400}]}', encoding="utf-8")
    before = snapshot(root)
    result = cli("update", number, str(bad))
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and "$.capa[0].cost" in line and "not a finite number" in line, line
    assert snapshot(root) == before


def test_an_archived_case_shows_as_valid_json(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, write_case(tmp_path, claim_amount=1e300))
    result = cli("show", number, "--json")
    assert json.loads(result.stdout)["case"]["claim_amount"] == 1e300


# ---------------------------------------------------------------- 2. stage order

def test_a_follow_up_without_a_recorded_response_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, write_case(tmp_path))
    before = snapshot(root)
    result = cli("update", number, _stage(tmp_path, "fu.json", follow_up=FOLLOW_UP))
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and "$.follow_up" in line and "答复" in line, line
    assert snapshot(root) == before
    # With the response in the same file, or recorded before, the follow-up is accepted.
    assert cli("update", number, _stage(tmp_path, "both.json", response=RESPONSE, follow_up=FOLLOW_UP)).exit_code == 0


@pytest.mark.parametrize(("action", "field"), [
    ({"due": "2026-11-01"}, "$.capa[0].due"),
    ({"due": "2026-12-01", "done_at": "2026-11-02"}, "$.capa[0].done_at"),
])
def test_capa_dates_before_receipt_are_refused(root: Path, cli: Cli, tmp_path: Path, action: dict[str, str],
                                              field: str) -> None:
    number = _intake(cli, write_case(tmp_path))  # received 2026-11-03
    capa = [{"kind": "corrective", "action": "更换包装供应商", "owner": "采购部 李", **action}]
    before = snapshot(root)
    result = cli("update", number, _stage(tmp_path, "capa.json", capa=capa))
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and field in line and "before the complaint was received" in line, line
    assert snapshot(root) == before


# ---------------------------------------------------------------- 3. a batch that fails half-way

def _fail_second_allocation(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    from archive.services import cases

    real = cases._allocate
    calls = {"n": 0}

    def allocate(arc: Any, received_at: str) -> str:
        calls["n"] += 1
        if calls["n"] == 2:
            raise error
        return real(arc, received_at)

    monkeypatch.setattr(cases, "_allocate", allocate)


@pytest.mark.parametrize("kind", ["state", "disk"])
def test_a_batch_gives_every_file_its_own_result_when_one_fails_in_the_middle(
        root: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    from archive.errors import StateError

    error: BaseException = (StateError("no case number left for 2026-11") if kind == "state"
                            else OSError(28, "No space left on device"))
    _fail_second_allocation(monkeypatch, error)
    files = [write_case(tmp_path, f"{i}.json", description=f"第{i}件 外包装破损") for i in range(3)]
    result = cli("intake", "--json", *map(str, files))
    assert result.exit_code == 2, result.output
    entries = json.loads(result.stdout)
    assert [e["file"] for e in entries] == [str(f) for f in files]
    assert entries[0]["number"] and entries[2]["number"] and entries[0]["number"] != entries[2]["number"]
    assert entries[1]["number"] is None
    assert ("no case number left" if kind == "state" else "No space left on device") in entries[1]["error"]
    assert "error" not in entries[0] and "error" not in entries[2]
    assert set(record_dirs(root)) == {entries[0]["number"], entries[2]["number"]}
    assert str(files[1]) in _one_line(result.stderr)


def test_a_batch_in_text_mode_says_each_file_once(root: Path, cli: Cli, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.errors import StateError

    _fail_second_allocation(monkeypatch, StateError("no case number left for 2026-11"))
    files = [write_case(tmp_path, f"{i}.json", description=f"第{i}件 外包装破损") for i in range(3)]
    result = cli("intake", *map(str, files))
    assert result.exit_code == 2
    heads = [line for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert [h.split()[1] for h in heads] == [str(files[0]), str(files[2])]
    assert f"{files[1]}" in _one_line(result.stderr) and "no case number left" in result.stderr


def test_a_batch_case_that_committed_but_was_not_indexed_keeps_its_number_with_the_error(
        root: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.services.archive import Archive

    real = Archive.refresh
    calls = {"n": 0}

    def refresh(self: Archive, number: str) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        real(self, number)

    monkeypatch.setattr(Archive, "refresh", refresh)
    files = [write_case(tmp_path, f"{i}.json", description=f"第{i}件 外包装破损") for i in range(3)]
    result = cli("intake", "--json", *map(str, files))
    entries = json.loads(result.stdout)
    assert [e["number"] is not None for e in entries] == [True, True, True]
    assert "error" not in entries[0] and "error" not in entries[2]
    assert "archive rebuild" in entries[1]["error"] and entries[1]["number"] in entries[1]["error"]
    assert result.exit_code == 1


# ---------------------------------------------------------------- 4. no traceback

def test_a_lone_surrogate_in_a_text_is_refused_naming_its_path(root: Path, cli: Cli, tmp_path: Path) -> None:
    path = write_case(tmp_path, description="@@")
    path.write_text(path.read_text(encoding="utf-8").replace("@@", "破损\\ud800"), encoding="utf-8")
    before = snapshot(root)
    result = cli("intake", str(path))
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and "$.description" in line and "lone surrogate" in line, line
    assert snapshot(root) == before


def test_a_lone_surrogate_in_a_key_or_stage_file_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, write_case(tmp_path))
    bad = tmp_path / "resp.json"
    bad.write_text('{"response": {"replied_at": "2026-11-06T10:00:00+08:00", "method": "phone", '
                   '"content": "\\udc00"}}', encoding="utf-8")
    result = cli("update", number, str(bad))
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and "$.response.content" in line and "lone surrogate" in line


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURE_OK)
@given(t=st.sampled_from("Tt"), z=st.sampled_from(["Z", "z", "+08:00"]))
def test_a_date_time_in_lower_case_is_refused_cleanly(root: Path, cli: Cli, tmp_path: Path, t: str, z: str) -> None:
    """RFC 3339 allows `t` and `z`; the archive refuses them (one line saying to write T and Z) so every
    stored date-time has one spelling that every reader of the record parses."""
    value = f"2026-11-03{t}10:15:00{z}"
    before = snapshot(root)
    result = cli("intake", str(write_case(tmp_path, received_at=value, description=f"破损 {t}{z}")))
    if t == "T" and z != "z":
        assert result.exit_code == 0, result.output
        return
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and "$.received_at" in line and "upper-case T" in line, line
    assert snapshot(root) == before


def test_a_lower_case_date_time_in_a_stage_file_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, write_case(tmp_path))
    result = cli("update", number, _stage(tmp_path, "r.json", response={**RESPONSE,
                                                                        "replied_at": "2026-11-06t10:00:00z"}))
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and "$.response.replied_at" in line


def _close(cli: Cli, tmp_path: Path, number: str) -> Any:
    return cli("update", number, _stage(tmp_path, "close.json", investigation=INVESTIGATION, response=RESPONSE,
                                        closure=CLOSURE))


def test_an_expiry_of_9999_12_31_gives_the_last_retention_date_and_a_schedule(root: Path, cli: Cli,
                                                                              tmp_path: Path) -> None:
    number = _intake(cli, write_case(tmp_path, product={"name": "阿莫西林胶囊", "expiry_date": "9999-12-31"}))
    result = _close(cli, tmp_path, number)
    assert result.exit_code == 0, result.output
    assert json.loads(cli("show", number, "--json").stdout)["retention_until"] == "9999-12-31"
    schedule = cli("retention", "schedule", "--json")
    assert schedule.exit_code == 0, schedule.output
    plan = json.loads(schedule.stdout)
    assert [c for m in plan["months"] for c in m["cases"]] == [number]
    text = cli("retention", "schedule")
    assert text.exit_code == 0 and "Traceback" not in text.output


def test_intake_with_stdout_full_says_what_was_archived_in_one_line(root: Path, tmp_path: Path) -> None:
    path = write_case(tmp_path)
    with open("/dev/full", "w") as full:
        done = subprocess.run([ARCHIVE_BIN, "--root", str(root), "intake", str(path)], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    line = _one_line(done.stderr)
    numbers = list(record_dirs(root))
    assert len(numbers) == 1 and numbers[0] in line and "standard output" in line, line
    assert done.returncode == 1


def test_show_with_stdout_full_is_one_line(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, write_case(tmp_path))
    with open("/dev/full", "w") as full:
        done = subprocess.run([ARCHIVE_BIN, "--root", str(root), "show", number, "--json"], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    assert "standard output" in _one_line(done.stderr) and done.returncode == 1


@pytest.mark.parametrize("text", ["破损" * 2500, " ".join(["破损"] * 1500), "a" * 4001])
def test_a_very_long_query_is_refused_as_too_long(root: Path, cli: Cli, tmp_path: Path, text: str) -> None:
    _intake(cli, write_case(tmp_path))
    result = cli("search", text)
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and "too long" in line and "rebuild" not in line, line


def test_a_long_query_under_the_limit_is_answered(root: Path, cli: Cli, tmp_path: Path) -> None:
    from archive.search.query import MAX_QUERY_CHARS

    _intake(cli, write_case(tmp_path))
    words = " ".join(["破损"] * (MAX_QUERY_CHARS // 3))
    assert len(words) <= MAX_QUERY_CHARS
    result = cli("search", "--json", words)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"] == 1


# ---------------------------------------------------------------- 5. attachments that inflate

def _docx_bomb(path: Path, head: str, inflated: int) -> None:
    """A .docx whose document part inflates to ``inflated`` bytes from a few kilobytes."""
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    filler = "<w:p><w:r><w:t>" + "A" * 1000 + "</w:t></w:r></w:p>"
    body = (f'<?xml version="1.0" encoding="UTF-8"?><w:document {ns}><w:body>'
            f"<w:p><w:r><w:t>{head}</w:t></w:r></w:p>" + filler * (inflated // len(filler))
            + "</w:body></w:document>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
        z.writestr("word/document.xml", body)
    path.write_bytes(buf.getvalue())


def test_an_inflating_docx_attachment_is_cut_kept_once_and_said_in_show(root: Path, cli: Cli, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _edit_settings(root, attachment_inflate_max_bytes=200_000, attachment_text_max_bytes=50_000)
    _docx_bomb(tmp_path / "report.docx", "铝塑板压痕检验报告", inflated=3_000_000)
    assert (tmp_path / "report.docx").stat().st_size < 100_000
    number = _intake(cli, write_case(tmp_path, attachments=[{"path": "report.docx", "title": "检验报告"}]))
    record = record_dirs(root)[number]
    case = json.loads((record / "case.json").read_text(encoding="utf-8"))
    att = case["attachments"][0]
    kept = record / att["text"]
    assert 0 < kept.stat().st_size <= 50_000
    assert att["text_cut"] in ("inflate", "text")
    manifest = json.loads((record / "manifest.json").read_text(encoding="utf-8"))
    assert att["text"] in {f["path"] for f in manifest["files"]}
    shown = json.loads(cli("show", number, "--json").stdout)
    assert shown["attachments"][0]["text_cut"] == att["text_cut"]
    assert "文本已截断" in cli("show", number).stdout
    assert json.loads(cli("search", "--json", "压痕检验").stdout)["total"] == 1

    # Later changes and a rebuild index from the kept text: extraction never runs again.
    from archive.search import extract

    def no_extraction(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("attachment text extracted again")

    monkeypatch.setattr(extract, "attachment_text", no_extraction)
    assert cli("update", number, _stage(tmp_path, "inv.json", investigation=INVESTIGATION)).exit_code == 0
    assert cli("rebuild").exit_code == 0
    assert json.loads(cli("search", "--json", "压痕检验").stdout)["total"] == 1
    assert cli("verify").exit_code == 0


def test_attachment_text_extraction_stops_at_the_inflate_cap(tmp_path: Path) -> None:
    from archive.search.extract import TextLimits, attachment_text

    _docx_bomb(tmp_path / "b.docx", "开头", inflated=5_000_000)
    text, cut = attachment_text(tmp_path / "b.docx", TextLimits(text_bytes=10_000_000, inflate_bytes=100_000,
                                                                seconds=60))
    assert cut == "inflate" and text.startswith("开头") and len(text.encode("utf-8")) <= 100_000


def test_a_record_made_before_kept_text_is_indexed_by_extraction(root: Path, cli: Cli, tmp_path: Path) -> None:
    from archive.record import reader
    from archive.search.extract import TextLimits, document

    (tmp_path / "note.txt").write_text("批号模糊不清", encoding="utf-8")
    number = _intake(cli, write_case(tmp_path, attachments=[{"path": "note.txt"}]))
    view = reader.load(record_dirs(root)[number])
    for att in view.record["attachments"]:  # as a record archived before texts were kept
        att.pop("text", None)
        att.pop("text_cut", None)
    assert "批号模糊不清" in document(view, TextLimits())["content"]


# ---------------------------------------------------------------- 6. descriptions of megabytes

def test_a_description_of_megabytes_is_kept_whole_and_indexed_up_to_the_cap(root: Path, cli: Cli,
                                                                             tmp_path: Path) -> None:
    cap = 5_000
    _edit_settings(root, index_text_max_chars=cap)
    import random

    rng = random.Random(16)
    chars = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    description = "钢印缺失" + "".join(rng.choice(chars) for _ in range(1_200_000))  # ~3.6 MB of UTF-8
    number = _intake(cli, write_case(tmp_path, description=description))
    shown = json.loads(cli("show", number, "--json").stdout)
    assert shown["case"]["description"] == description
    index_bytes = sum(p.stat().st_size for p in (root / "index").rglob("*") if p.is_file())
    # Random CJK text is the index's worst case (every 2-, 3- and 4-gram a new term): a few hundred bytes a
    # character; the whole description (1.2 million characters) would take hundreds of MB.
    assert index_bytes < 1000 * cap, index_bytes
    assert json.loads(cli("search", "--json", "钢印缺失").stdout)["total"] == 1


def test_index_text_is_capped_per_field_and_per_case(root: Path, cli: Cli, tmp_path: Path) -> None:
    from archive.record import reader
    from archive.search.extract import TextLimits, document

    number = _intake(cli, write_case(tmp_path, description="破" * 5000, customer_request="损" * 5000))
    view = reader.load(record_dirs(root)[number])
    content = document(view, TextLimits(field_chars=1000, case_chars=1500))["content"]
    assert content.count("破") <= 1000 and len(content) <= 1500


# ---------------------------------------------------------------- 7. attachments swapped for a link

def test_an_attachment_that_is_a_symlink_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("机密", encoding="utf-8")
    case_dir = tmp_path / "in"
    case_dir.mkdir()
    (case_dir / "photo.txt").symlink_to(secret)
    before = snapshot(root)
    result = cli("intake", str(write_case(case_dir, attachments=[{"path": "photo.txt"}])))
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and "$.attachments[0].path" in line and "symbolic link" in line
    assert snapshot(root) == before


def test_an_attachment_swapped_for_a_symlink_after_validation_cannot_archive_the_secret(
        root: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.services import cases

    secret = tmp_path / "secret.txt"
    secret.write_text("机密配方 SECRET-4711", encoding="utf-8")
    case_dir = tmp_path / "in"
    case_dir.mkdir()
    photo = case_dir / "photo.txt"
    photo.write_text("外包装照片说明", encoding="utf-8")
    real = cases._allocate

    def swap_then_allocate(arc: Any, received_at: str) -> str:
        link = case_dir / "link.tmp"
        link.symlink_to(secret)
        os.replace(link, photo)  # validated before the lock; swapped for a link before the copy
        return real(arc, received_at)

    monkeypatch.setattr(cases, "_allocate", swap_then_allocate)
    result = cli("intake", "--json", str(write_case(case_dir, attachments=[{"path": "photo.txt"}])))
    assert photo.is_symlink()
    for record in record_dirs(root).values():
        for f in record.rglob("*"):
            assert not f.is_file() or b"SECRET-4711" not in f.read_bytes(), f
    if result.exit_code == 0:
        number = json.loads(result.stdout)[0]["number"]
        archived = record_dirs(root)[number] / "attachments" / "photo.txt"
        assert archived.read_text(encoding="utf-8") == "外包装照片说明"
    assert json.loads(cli("search", "--json", "SECRET-4711").stdout)["total"] == 0


# ---------------------------------------------------------------- 8. checks a mutation must not pass

def test_two_attachments_with_the_same_name_are_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "photo.txt").write_text(folder, encoding="utf-8")
    before = snapshot(root)
    result = cli("intake", str(write_case(tmp_path, attachments=[{"path": "a/photo.txt"}, {"path": "b/photo.txt"}])))
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and "$.attachments[1].path" in line and "a second attachment is named" in line
    assert snapshot(root) == before


def test_an_attachment_path_with_dot_dot_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("外部文件", encoding="utf-8")
    case_dir = tmp_path / "in"
    (case_dir / "sub").mkdir(parents=True)
    before = snapshot(root)
    for raw in ("../outside.txt", "sub/../../outside.txt"):
        result = cli("intake", str(write_case(case_dir, attachments=[{"path": raw}])))
        line = _one_line(result.stderr)
        assert result.exit_code == 2 and "$.attachments[0].path" in line and "leaves the case file's folder" in line
    assert snapshot(root) == before


def test_triage_may_not_lower_severity_below_the_floor_a_trigger_set(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, write_case(tmp_path, channel="media"))
    assert json.loads(cli("show", number, "--json").stdout)["severity"] == "major"
    assert cli("update", number, _stage(tmp_path, "t.json", triage={"severity": "minor"})).exit_code == 0
    assert json.loads(cli("show", number, "--json").stdout)["severity"] == "major"
    # Without a trigger, triage may lower it.
    other = _intake(cli, write_case(tmp_path, "b.json", description="说明书缺页", severity="major"))
    assert cli("update", other, _stage(tmp_path, "t2.json", triage={"severity": "minor"})).exit_code == 0
    assert json.loads(cli("show", other, "--json").stdout)["severity"] == "minor"
