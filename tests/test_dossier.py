"""Inspector dossiers: one bookmarked PDF and a BagIt bag, checked by real tools and by `dossier check` alone."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SHARED_CASES, audit_entries, make_key, record_dirs, run_archive, set_settings, snapshot, write_case
from pypdf import PdfReader

from archive.cli import main

PASS = {"ARCHIVE_PASSPHRASE": "correct horse battery"}
FINDINGS = "调查发现承运商装卸不当导致外箱挤压"
ATTACHMENT_TEXT = "客户来函附件说明铝塑板压痕"
BAGIT = str(Path(sys.executable).with_name("bagit.py"))


def _cli(root: Path, *args: str, actor: str = "测试员 tester", env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, ["--root", str(root), "--actor", actor, *args], env=env, catch_exceptions=False)


def _ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def _attachments(folder: Path) -> None:
    """A PDF with Chinese text, an image of it, and a file that is neither."""
    from docx import Document

    from archive.documents import pdf

    folder.mkdir()
    doc = Document()
    doc.add_paragraph(ATTACHMENT_TEXT)
    doc.save(str(folder / "letter.docx"))
    pdf.convert([folder / "letter.docx"], folder)
    (folder / "letter.docx").unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "20", "-singlefile", str(folder / "letter.pdf"), str(folder / "photo")],
                   check=True, capture_output=True)
    (folder / "data.bin").write_bytes(b"\x00\x01binary")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A held case, a signed case with an investigation and three attachments, a destroyed case; exported."""
    from archive import clock

    base = tmp_path_factory.mktemp("dossier")
    root = base / "root"
    root.mkdir()
    _ok(CliRunner().invoke(main, ["--root", str(root), "init"]))
    set_settings(root, lambda t: t.replace("destruction_signatures = 2", "destruction_signatures = 0"))
    admin = make_key(root, "zhoumin", "周敏", "档案管理员", base / "zhoumin.pem")
    zhang = make_key(root, "zhangli", "张丽", "QA 主管", base / "zhangli.pem", certify_with=admin)
    _attachments(base / "att")
    signed = write_case(base, "a.json", attachments=[{"path": "att/letter.pdf", "title": "客户来函"},
                                                     {"path": "att/photo.png", "title": "现场照片"},
                                                     {"path": "att/data.bin", "title": "数据"}])
    _ok(_cli(root, "intake", "--sign-as", str(zhang.pem), str(signed), str(SHARED_CASES[4]), actor=zhang.actor,
             env=PASS))
    upd = base / "inv.json"
    upd.write_text(json.dumps({"investigation": {"investigator": "张丽", "findings": FINDINGS,
                                                 "completed_at": "2026-11-04T10:00:00+08:00"}}, ensure_ascii=False),
                   encoding="utf-8")
    _ok(_cli(root, "update", "26110001", str(upd)))
    _ok(_cli(root, "hold", "26110002", "--reason", "诉讼保全"))
    gone = write_case(base, "c.json", description="外箱受潮", product={"name": "维生素C片", "lot": "C2026",
                                                                       "expiry_date": "2028-07-31"})
    _ok(_cli(root, "intake", str(gone)))
    closing = base / "close.json"
    closing.write_text(json.dumps({
        "investigation": {"investigator": "张三", "findings": "运输中挤压",
                          "completed_at": "2026-11-04T10:00:00+08:00"},
        "capa": [{"kind": "corrective", "action": "加固外箱", "owner": "张三", "due": "2026-11-20",
                  "done_at": "2026-11-05"}],
        "response": {"replied_at": "2026-11-04T16:00:00+08:00", "method": "phone", "content": "已换货"},
        "closure": {"closed_at": "2026-11-05T10:00:00+08:00", "approved_by": "王五"}}, ensure_ascii=False),
        encoding="utf-8")
    _ok(_cli(root, "update", "26110003", str(closing)))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clock, "today", lambda zone: dt.date(2029, 11, 30))
        _ok(_cli(root, "purge", "--as-of", "2029-11-06", "--approved-by", "质量部经理 黄涛", "--execute"))
    out = base / "out"
    r = _ok(_cli(root, "dossier", "26110001", "26110002", "26110003", "--out", str(out), "--json"))
    yield {"root": root, "out": out, "base": base, "result": json.loads(r.stdout), "zhang": zhang}


def _copy(world: dict[str, Any], tmp_path: Path) -> Path:
    dest = tmp_path / "copy"
    shutil.copytree(world["out"], dest)
    return dest


def _check(folder: Path) -> tuple[int, list[dict[str, str]]]:
    r = CliRunner().invoke(main, ["dossier", "check", str(folder), "--json"])
    return r.exit_code, json.loads(r.stdout)["findings"]


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_dossier_folder_holds_one_pdf_and_one_bag_named_in_the_json(world: dict[str, Any]) -> None:
    out = world["out"]
    assert sorted(p.name for p in out.iterdir()) == ["bag", "dossier.pdf"]
    assert world["result"] == {"pdf": str(out / "dossier.pdf"), "bag": str(out / "bag"),
                               "cases": ["26110001", "26110002", "26110003"]}


def test_the_bag_validates_with_bagit_and_carries_the_bag_info(world: dict[str, Any]) -> None:
    bag = world["out"] / "bag"
    r = subprocess.run([BAGIT, "--validate", str(bag)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "is valid" in r.stderr
    info = (bag / "bag-info.txt").read_text(encoding="utf-8")
    for key in ("External-Identifier:", "Source-Organization:", "Bagging-Date:", "Payload-Oxum:"):
        assert key in info
    assert (bag / "manifest-sha256.txt").is_file() and (bag / "manifest-sha512.txt").is_file()


def test_the_bag_holds_each_case_as_archived_with_its_pdfs_audit_entries_and_the_signers_keys(
        world: dict[str, Any]) -> None:
    data = world["out"] / "bag" / "data"
    record = record_dirs(world["root"])["26110001"]
    copied = data / "cases" / "26110001" / "record"
    assert snapshot(record) == snapshot(copied)
    assert (copied / "intake.json").is_file() and any((copied / "signatures").glob("*.json"))
    assert any((data / "cases" / "26110001" / "pdf").glob("investigation-report.v*.pdf"))
    lines = (data / "cases" / "26110001" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["number"] for x in lines] == ["26110001"] * len(lines) and len(lines) >= 2
    assert (data / "keys" / "zhangli.json").is_file()


def test_the_pdf_has_title_subject_and_extractable_chinese_of_the_investigation_and_attachment(
        world: dict[str, Any]) -> None:
    pdf = world["out"] / "dossier.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Title:           客户投诉检查档案" in info
    assert "26110001" in next(line for line in info.splitlines() if line.startswith("Subject:"))
    text = _pdf_text(pdf).replace(" ", "")
    assert FINDINGS in text
    assert ATTACHMENT_TEXT in text
    assert "data.bin" in text  # a file that is neither PDF nor image: listed by name and hash
    assert "审计追踪" in text and "核验页" in text


def test_one_bookmark_per_case_and_one_per_document_inside_it(world: dict[str, Any]) -> None:
    reader = PdfReader(str(world["out"] / "dossier.pdf"))
    outline = reader.outline
    cases = [item for item in outline if not isinstance(item, list)]
    children = [c for item in outline if isinstance(item, list) for c in item]
    documents = {n: len({p.name.split(".v")[0] for p in (record_dirs(world["root"])[n] / "documents").glob("*.docx")})
                 for n in ("26110001", "26110002")}
    assert len(cases) == 3
    assert len(children) == documents["26110001"] + documents["26110002"] + 1  # the destroyed case: its certificate
    assert [c.title.split()[0] for c in cases] == ["26110001", "26110002", "26110003"]


def test_page_labels_say_which_case_a_page_belongs_to(world: dict[str, Any]) -> None:
    reader = PdfReader(str(world["out"] / "dossier.pdf"))
    labels = reader.page_labels
    assert labels[0] == "封面-1"
    for item in [i for i in reader.outline if not isinstance(i, list)]:
        number = item.title.split()[0]
        assert labels[reader.get_destination_page_number(item)] == f"{number}-1"


def test_a_held_case_is_marked_on_its_summary_page(world: dict[str, Any]) -> None:
    reader = PdfReader(str(world["out"] / "dossier.pdf"))
    start = next(reader.get_destination_page_number(i) for i in reader.outline
                 if not isinstance(i, list) and i.title.startswith("26110002"))
    page = subprocess.run(["pdftotext", "-f", str(start + 1), "-l", str(start + 1), str(world["out"] / "dossier.pdf"),
                           "-"], capture_output=True, text=True, check=True).stdout
    assert "法律保全中" in page and "诉讼保全" in page


def test_a_destroyed_case_exports_its_tombstone_and_certificate_only(world: dict[str, Any]) -> None:
    case = world["out"] / "bag" / "data" / "cases" / "26110003"
    assert sorted(p.name for p in case.iterdir()) == ["audit.jsonl", "certificate", "tombstone.json"]
    cert = json.loads((case / "tombstone.json").read_text(encoding="utf-8"))["certificate"]
    assert sorted(p.name for p in (case / "certificate").iterdir()) == [f"{cert}.docx", f"{cert}.json", f"{cert}.pdf"]
    assert "26110003 已销毁" in _pdf_text(world["out"] / "dossier.pdf")


def test_the_export_is_audited_with_who_selection_cases_and_the_tag_manifest_hash(world: dict[str, Any]) -> None:
    entry = [e for e in audit_entries(world["root"]) if e["action"] == "dossier"][-1]
    tag = world["out"] / "bag" / "tagmanifest-sha256.txt"
    assert entry["actor"] == "测试员 tester"
    assert entry["cases"] == ["26110001", "26110002", "26110003"]
    assert entry["selection"]["numbers"] == ["26110001", "26110002", "26110003"]
    assert entry["tagmanifest_sha256"] == hashlib.sha256(tag.read_bytes()).hexdigest()
    assert _ok(_cli(world["root"], "verify")).exit_code == 0


def test_check_is_clean_on_a_fresh_export_in_both_command_forms(world: dict[str, Any]) -> None:
    assert _check(world["out"]) == (0, [])
    r = run_archive(world["root"], "dossier", "check", str(world["out"]))
    assert r.returncode == 0 and "no findings" in r.stdout, r.stderr


def test_check_names_a_flipped_byte(world: dict[str, Any], tmp_path: Path) -> None:
    folder = _copy(world, tmp_path)
    target = next((folder / "bag/data/cases/26110001/record/documents").glob("investigation-report.v1.docx"))
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    code, findings = _check(folder)
    where = "bag/data/cases/26110001/record/documents/investigation-report.v1.docx"
    assert code == 1
    assert {"file_changed"} <= {f["kind"] for f in findings if f["where"] == where}
    assert any(f["kind"] == "bag_invalid" for f in findings)


def test_check_names_a_removed_file(world: dict[str, Any], tmp_path: Path) -> None:
    folder = _copy(world, tmp_path)
    (folder / "bag/data/cases/26110001/record/case.json").unlink()
    code, findings = _check(folder)
    kinds = {(f["kind"], f["where"]) for f in findings}
    assert code == 1
    assert ("file_missing", "bag/data/cases/26110001/record/case.json") in kinds


def test_check_names_a_signature_swapped_between_two_cases(world: dict[str, Any], tmp_path: Path) -> None:
    folder = _copy(world, tmp_path)
    one = folder / "bag/data/cases/26110001/record/signatures"
    two = folder / "bag/data/cases/26110002/record/signatures"
    name = next(p.name for p in one.glob("register-form.*.json") if (two / p.name).exists())
    a, b = (one / name).read_bytes(), (two / name).read_bytes()
    (one / name).write_bytes(b)
    (two / name).write_bytes(a)
    code, findings = _check(folder)
    assert code == 1
    for number, other in (("26110001", "26110002"), ("26110002", "26110001")):
        hit = [f for f in findings if f["kind"] == "signature_invalid"
               and f["where"] == f"bag/data/cases/{number}/record/signatures/{name}"]
        assert hit and f"made for case {other}" in hit[0]["detail"]


def test_check_names_a_changed_pdf(world: dict[str, Any], tmp_path: Path) -> None:
    folder = _copy(world, tmp_path)
    with (folder / "dossier.pdf").open("ab") as fh:
        fh.write(b"%extra\n")
    code, findings = _check(folder)
    assert code == 1 and ("file_changed", "dossier.pdf") in {(f["kind"], f["where"]) for f in findings}


def test_an_unsigned_pdf_has_no_pdf_signature_findings(world: dict[str, Any]) -> None:
    from archive.export.check import _pdf_signature_findings

    assert _pdf_signature_findings(world["out"], {}, None) == []


@pytest.mark.parametrize("args, message", [
    (("26119999",), "case 26119999 not found; nothing was written"),
    (("--query", "lot:NOSUCHLOT"), "no case matched; nothing was written"),
])
def test_a_refused_selection_exits_1_and_writes_nothing(world: dict[str, Any], tmp_path: Path,
                                                        args: tuple[str, ...], message: str) -> None:
    before = snapshot(world["root"])
    out = tmp_path / "refused"
    r = run_archive(world["root"], "dossier", *args, "--out", str(out))
    assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert snapshot(world["root"]) == before


@pytest.mark.parametrize("where, message", [("inside", "inside the archive root"), ("full", "folder is not empty")])
def test_out_must_be_new_or_empty_and_outside_the_root(world: dict[str, Any], tmp_path: Path, where: str,
                                                       message: str) -> None:
    out = world["root"] / "dossier-out" if where == "inside" else tmp_path / "full"
    if where == "full":
        out.mkdir()
        (out / "keep.txt").write_text("x", encoding="utf-8")
    before = snapshot(world["root"])
    r = _cli(world["root"], "dossier", "26110001", "--out", str(out))
    assert r.exit_code == 2 and message in r.output
    assert snapshot(world["root"]) == before


def test_a_failed_run_leaves_nothing_that_looks_complete_and_no_audit_entry(world: dict[str, Any], tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.documents import pdf

    def broken(*args: Any, **kwargs: Any) -> list[Path]:
        raise pdf.PdfError("LibreOffice did not produce 0001.pdf")

    monkeypatch.setattr(pdf, "convert", broken)
    before = len(audit_entries(world["root"]))
    r = _cli(world["root"], "dossier", "26110001", "--out", str(tmp_path / "failed"))
    assert r.exit_code == 2 and "LibreOffice did not produce" in r.output
    assert list(tmp_path.iterdir()) == []
    assert len(audit_entries(world["root"])) == before


def test_query_selects_cases_by_the_search_language(world: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "by-lot"
    r = _ok(_cli(world["root"], "dossier", "--query", "lot:B2026080315", "--out", str(out), "--json"))
    assert json.loads(r.stdout)["cases"] == ["26110001"]
    entry = [e for e in audit_entries(world["root"]) if e["action"] == "dossier"][-1]
    assert entry["selection"]["query"] == "lot:B2026080315"
    assert _check(out) == (0, [])


def test_the_merged_pdf_keeps_the_pdf_a_2b_identification_and_output_intent(world: dict[str, Any]) -> None:
    reader = PdfReader(str(world["out"] / "dossier.pdf"))
    catalog = reader.trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    assert "<pdfaid:part>2</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "/OutputIntents" in catalog


def test_include_versions_adds_earlier_versions_under_the_same_bookmarks(world: dict[str, Any],
                                                                          tmp_path: Path) -> None:
    out = tmp_path / "versions"
    _ok(_cli(world["root"], "dossier", "26110001", "--include-versions", "--out", str(out)))
    latest = tmp_path / "latest"
    _ok(_cli(world["root"], "dossier", "26110001", "--out", str(latest)))
    with_versions, without = PdfReader(str(out / "dossier.pdf")), PdfReader(str(latest / "dossier.pdf"))
    assert len(with_versions.pages) > len(without.pages)
    assert len(with_versions.outline[1]) == len(without.outline[1])
    assert any(p.name.startswith("register-form.v1") for p in (out / "bag/data/cases/26110001/pdf").iterdir())


# ---------------------------------------------------------------- the PDF signature (--sign-as)

def _signed(world: dict[str, Any], tmp_path: Path) -> Path:
    out = tmp_path / "signed"
    zhang = world["zhang"]
    _ok(_cli(world["root"], "dossier", "26110001", "--out", str(out), "--sign-as", str(zhang.pem), "--json",
             actor=zhang.actor, env=PASS))
    return out


def test_a_signed_dossier_pdf_validates_with_pyhanko_and_checks_clean(world: dict[str, Any], tmp_path: Path) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    from archive.export.pdf_signature import trust_context

    out = _signed(world, tmp_path)
    assert _check(out) == (0, [])
    info = json.loads((out / "bag" / "data" / "dossier.json").read_text(encoding="utf-8"))
    assert info["pdf"]["signed_by"] == "zhangli"
    bag_key = json.loads((out / "bag" / "data" / "keys" / "zhangli.json").read_text(encoding="utf-8"))
    with (out / "dossier.pdf").open("rb") as fh:
        [sig] = PdfFileReader(fh).embedded_signatures
        status = validate_pdf_signature(sig, trust_context(sig, {bag_key["fingerprint"]: bag_key["public_key"]}))
    assert status.intact and status.valid and status.trusted
    assert "张丽" in status.signing_cert.subject.human_friendly


def test_a_signed_dossier_changed_after_export_is_named(world: dict[str, Any], tmp_path: Path) -> None:
    from pypdf import PdfWriter

    out = _signed(world, tmp_path)
    pdf = out / "dossier.pdf"
    writer = PdfWriter(str(pdf), incremental=True)
    writer.add_metadata({"/Subject": "改过的主题"})
    with pdf.open("wb") as fh:
        writer.write(fh)
    code, findings = _check(out)
    assert code == 1
    kinds = {(f["kind"], f["where"]) for f in findings}
    assert ("pdf_signature_invalid", "dossier.pdf") in kinds and ("file_changed", "dossier.pdf") in kinds


def test_a_signed_dossier_whose_signature_was_stripped_is_named(world: dict[str, Any], tmp_path: Path) -> None:
    out = _signed(world, tmp_path)
    unsigned = tmp_path / "unsigned"
    _ok(_cli(world["root"], "dossier", "26110001", "--out", str(unsigned)))
    shutil.copyfile(unsigned / "dossier.pdf", out / "dossier.pdf")  # the same pages, no signature
    code, findings = _check(out)
    assert code == 1
    assert any(f["kind"] == "pdf_signature_invalid" and "zhangli" in f["detail"] for f in findings), findings


def test_sign_as_needs_the_key_owner_acting(world: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "x"
    r = _cli(world["root"], "dossier", "26110001", "--out", str(out), "--sign-as", str(world["zhang"].pem),
             actor="质量部 别人", env=PASS)
    assert r.exit_code == 2 and "张丽" in r.stderr and not out.exists()


def test_customer_text_with_control_characters_exports(root: Path, tmp_path: Path) -> None:
    """Text Word cannot hold (an escape sequence a customer pasted) prints as spaces; the bag keeps it exactly."""
    case = write_case(tmp_path, "esc.json", description="空调噪音\u001b]0;PWNED\u0007夜间无法入睡")
    _ok(_cli(root, "intake", str(case)))
    out = tmp_path / "out"
    _ok(_cli(root, "dossier", "26110001", "--out", str(out)))
    assert "空调噪音 ]0;PWNED 夜间无法入睡" in _pdf_text(out / "dossier.pdf")
    kept = json.loads((out / "bag/data/cases/26110001/record/intake.json").read_text(encoding="utf-8"))
    assert kept["description"] == "空调噪音\u001b]0;PWNED\u0007夜间无法入睡"
    assert _check(out) == (0, [])
