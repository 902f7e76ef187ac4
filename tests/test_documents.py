"""Controlled documents: every form renders from a registered template, any text literally, never overwritten."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from conftest import SHARED_CASES, SHARED_UPDATES, Cli, audit_entries, record_dirs, set_settings, snapshot, write_case
from docx import Document

HOSTILE = "{{ 7*7 }} {% if x %}y{% endif %} <b>粗</b> R&D A&B \"双引号\" 'single'\ttab\x0bvt\x0cff end"


def _xml(docx: Path, part: str = "word/document.xml") -> str:
    with zipfile.ZipFile(docx) as z:
        return z.read(part).decode("utf-8")


def _all_text(docx: Path) -> str:
    """Text of body, tables, headers and footers as Word would show it (tabs and breaks as characters)."""
    with zipfile.ZipFile(docx) as z:
        parts = [n for n in z.namelist() if n.startswith("word/") and n.endswith(".xml")
                 and ("document" in n or "header" in n or "footer" in n)]
        xml = "".join(z.read(n).decode("utf-8") for n in parts)
    import re
    xml = xml.replace("<w:tab/>", "\t")
    texts = re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>|(\t)", xml)
    import html
    return "".join(html.unescape(a or b) for a, b in texts)


def _intake(cli: Cli, path: Path) -> str:
    result = cli("intake", "--json", str(path))
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    return str(item["number"])


@pytest.mark.parametrize("case", SHARED_CASES, ids=lambda p: p.name)
def test_intake_renders_both_gl004_forms(root: Path, cli: Cli, case: Path) -> None:
    result = cli("intake", "--json", str(case))
    [item] = json.loads(result.stdout)
    assert item["documents"] == ["documents/register-form.v1.docx", "documents/record-form.v1.docx"]
    record = record_dirs(root)[item["number"]]
    description = json.loads(case.read_text(encoding="utf-8"))["description"]
    for doc in item["documents"]:
        Document(str(record / doc))  # opens
        assert item["number"] in _all_text(record / doc)
        meta = json.loads((record / doc.replace(".docx", ".meta.json")).read_text(encoding="utf-8"))
        assert meta["template"]["version"] == "2" and len(meta["template"]["sha256"]) == 64
    assert description in _all_text(record / "documents/record-form.v1.docx")
    [entry] = [e for e in audit_entries(root) if e["action"] == "intake"]
    assert {"documents/register-form.v1.docx", "documents/record-form.v1.docx"} <= {f["path"] for f in entry["files"]}


def test_forms_carry_the_controlled_header_footer_and_page_fields(root: Path, cli: Cli) -> None:
    number = _intake(cli, SHARED_CASES[0])
    doc = record_dirs(root)[number] / "documents/register-form.v1.docx"
    text = _all_text(doc)
    for expected in ("示例医药有限公司", "客户投诉接收登记表", "GL-004-01", "模板版本:第 2 版", "生效日期:2026-11-30",
                     "文件版次:第 1 版", f"投诉编号 {number}", "☑电话", "☐邮件", "2026年11月03日 10:15", "登记人",
                     "起草", "审核", "批准"):
        assert expected in text, expected
    header = "".join(_xml(doc, n) for n in zipfile.ZipFile(doc).namelist() if "header" in n)
    assert "PAGE" in header and "NUMPAGES" in header
    assert 'w:eastAsia="宋体"' in _xml(doc) or 'w:eastAsia="黑体"' in _xml(doc)


def test_hostile_text_renders_literally_everywhere(root: Path, cli: Cli, tmp_path: Path) -> None:
    set_settings(root, lambda t: t.replace('name = "示例医药有限公司"', 'name = "R&D <测试> {{ org }} 公司"'))
    path = write_case(tmp_path, description=HOSTILE, complainant={"name": "A&B <王> {{ x }}"},
                      customer_request="赔偿 & 道歉 <立即>")
    number = _intake(cli, path)
    record = record_dirs(root)[number]
    for doc in ("register-form.v1.docx", "record-form.v1.docx"):
        text = _all_text(record / "documents" / doc)
        assert "R&D <测试> {{ org }} 公司" in text  # header
        assert "A&B <王> {{ x }}" in text  # table cell
        assert "49" not in text.replace("26110001", "")
    body = _all_text(record / "documents" / "record-form.v1.docx")
    assert HOSTILE.replace("\x0b", " ").replace("\x0c", " ") in body
    assert "赔偿 & 道歉 <立即>" in body
    shown = json.loads(cli("show", "--json", number).stdout)
    assert shown["case"]["description"] == HOSTILE  # the case keeps the control characters


def test_tampered_template_is_refused_and_nothing_is_written(root: Path, cli: Cli, tmp_path: Path) -> None:
    template = root / "templates" / "record-form.v2.docx"
    data = bytearray(template.read_bytes())
    data[-30] ^= 0xFF
    template.write_bytes(bytes(data))
    before = snapshot(root)
    result = cli("intake", str(write_case(tmp_path)))
    assert result.exit_code == 2 and "differs from its registered SHA-256" in result.stderr
    assert snapshot(root) == before
    listed = json.loads(cli("templates", "list", "--json").stdout)
    assert [t["intact"] for t in listed if t["id"] == "record-form"] == [True, False]  # v1 intact, v2 not


def _new_template_version(root: Path, tmp_path: Path) -> Path:
    doc = Document(str(root / "templates" / "record-form.v2.docx"))
    doc.add_paragraph("第三版:增加备注栏 {{ number }}")
    out = tmp_path / "record-form-v3.docx"
    doc.save(str(out))
    return out


def test_new_template_version_renders_new_documents_old_ones_keep_theirs(root: Path, cli: Cli,
                                                                         tmp_path: Path) -> None:
    old = _intake(cli, SHARED_CASES[0])
    old_doc = record_dirs(root)[old] / "documents/record-form.v1.docx"
    old_hash = hashlib.sha256(old_doc.read_bytes()).hexdigest()
    result = cli("templates", "register", str(_new_template_version(root, tmp_path)), "--id", "record-form",
                 "--version", "3", "--effective", "2026-11-30")
    assert result.exit_code == 0, result.output
    new = _intake(cli, SHARED_CASES[1])
    meta = json.loads((record_dirs(root)[new] / "documents/record-form.v1.meta.json").read_text())
    assert meta["template"]["version"] == "3"
    assert "第三版" in _all_text(record_dirs(root)[new] / "documents/record-form.v1.docx")
    old_meta = json.loads((record_dirs(root)[old] / "documents/record-form.v1.meta.json").read_text())
    assert old_meta["template"]["version"] == "2"
    # Re-rendering the old case makes a new version from the new template; the old file is untouched.
    made = json.loads(cli("render", "--json", old).stdout)["documents"]
    assert made == ["documents/record-form.v2.docx"]
    assert hashlib.sha256(old_doc.read_bytes()).hexdigest() == old_hash
    versions = [t["version"] for t in json.loads(cli("templates", "list", "--json").stdout) if t["id"] == "record-form"]
    assert versions == ["1", "2", "3"]
    assert [e["action"] for e in audit_entries(root) if e["action"] != "settings-apply"][1] == "template-register"


def test_registering_an_existing_version_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    result = cli("templates", "register", str(_new_template_version(root, tmp_path)), "--id", "record-form",
                 "--version", "1")
    assert result.exit_code == 2 and "already registered" in result.stderr


def test_rerendering_never_overwrites(root: Path, cli: Cli) -> None:
    number = _intake(cli, SHARED_CASES[0])
    docs = record_dirs(root)[number] / "documents"
    before = {p.name: p.read_bytes() for p in docs.iterdir()}
    assert json.loads(cli("render", "--json", number).stdout)["documents"] == []  # nothing changed
    made = json.loads(cli("render", "--json", "--force", number).stdout)["documents"]
    assert sorted(made) == ["documents/record-form.v2.docx", "documents/register-form.v2.docx"]
    for name, data in before.items():
        assert (docs / name).read_bytes() == data


def _apply_shared_updates(cli: Cli, number: str) -> None:
    for name in ("01-investigation.json", "01-capa.json", "01-close.json"):
        result = cli("update", number, str(SHARED_UPDATES / name))
        assert result.exit_code == 0, result.output


def test_stages_move_status_and_render_their_forms(root: Path, cli: Cli) -> None:
    number = _intake(cli, SHARED_CASES[0])
    statuses = []
    for name in ("01-investigation.json", "01-capa.json", "01-close.json"):
        out = json.loads(cli("update", "--json", number, str(SHARED_UPDATES / name)).stdout)
        statuses.append(out["status"])
    assert statuses == ["investigating", "answered", "closed"]
    record = record_dirs(root)[number]
    names = {p.name for p in (record / "documents").glob("*.docx")}
    assert {"investigation-report.v1.docx", "capa-record.v1.docx", "response-feedback.v2.docx"} <= names
    for p in (record / "documents").glob("*.docx"):
        Document(str(p))
    capa = _all_text(record / "documents/capa-record.v1.docx")
    assert "重新校准缺粒检测传感器" in capa and "与承运商签订装卸质量协议" in capa
    feedback = _all_text(record / "documents/response-feedback.v2.docx")
    assert "☑满意" in feedback and "2029年11月21日" in feedback


def test_quality_complaints_get_an_8d_report(root: Path, cli: Cli) -> None:
    number = _intake(cli, SHARED_CASES[4])  # 05-electronics-quality
    project_updates = Path(__file__).resolve().parents[1] / "examples" / "updates"
    out = json.loads(cli("update", "--json", number, str(project_updates / "05-investigation.json")).stdout)
    assert "documents/eightd-report.v1.docx" in out["documents"]
    text = _all_text(record_dirs(root)[number] / "documents/eightd-report.v1.docx")
    assert "D4 根本原因" in text and "阻焊曝光菲林对位偏移" in text


@pytest.mark.parametrize(("expiry", "closed", "until"), [
    ("2028-07-31", "2026-11-20T09:00:00+08:00", "2029-11-20"),  # closure + 3 years is later
    ("2030-06-30", "2026-11-20T09:00:00+08:00", "2031-06-30"),  # expiry + 1 year is later
    ("2032-02-29", "2026-11-20T09:00:00+08:00", "2033-02-28"),  # leap day
])
def test_closure_sets_retention_by_the_rule(root: Path, cli: Cli, tmp_path: Path, expiry: str | None,
                                            closed: str, until: str) -> None:
    product = {"name": "胶囊", **({"expiry_date": expiry} if expiry else {})}
    number = _intake(cli, write_case(tmp_path, product=product))
    stages = {"investigation": {"investigator": "张丽", "findings": "运输破损",
                                "completed_at": "2026-11-05T10:00:00+08:00"},
              "response": {"replied_at": "2026-11-06T10:00:00+08:00", "method": "phone", "content": "已换货"},
              "closure": {"closed_at": closed, "approved_by": "黄涛"}}
    (tmp_path / "close.json").write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
    out = json.loads(cli("update", "--json", number, str(tmp_path / "close.json")).stdout)
    assert out["retention_until"] == until
    [row] = json.loads(cli("list", "--json").stdout)
    assert row["retention_until"] == until and row["status"] == "closed"


def test_updates_after_closure_need_reopen_with_reason(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, SHARED_CASES[0])
    _apply_shared_updates(cli, number)
    before = snapshot(root)
    # a changed reply (content identical to the recorded version would change nothing, and write nothing)
    changed = json.loads((SHARED_UPDATES / "01-capa.json").read_text(encoding="utf-8"))
    changed["response"]["content"] += "客户追加了投诉。"
    capa = tmp_path / "01-capa-changed.json"
    capa.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    refused = cli("update", number, str(capa))
    assert refused.exit_code == 2 and "is closed" in refused.stderr
    no_reason = cli("update", "--reopen", number, str(capa))
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr, no_reason.stderr
    assert snapshot(root) == before
    ok = cli("update", "--json", "--reopen", "--reason", "客户追加投诉", number, str(capa))
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["status"] == "following_up"
    last = audit_entries(root)[-1]
    assert last["action"] == "reopen" and last["reason"] == "客户追加投诉"
    assert json.loads(cli("list", "--json").stdout)[0]["retention_until"] is None


def test_replacing_a_stage_is_a_correction_with_reason(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, SHARED_CASES[0])
    assert cli("update", number, str(SHARED_UPDATES / "01-investigation.json")).exit_code == 0
    before = snapshot(root)
    changed = json.loads((SHARED_UPDATES / "01-investigation.json").read_text(encoding="utf-8"))
    inv = changed["investigation"]
    inv["records_reviewed"] = [*inv.get("records_reviewed", []), "留样观察记录"]
    corrected = tmp_path / "01-investigation-corrected.json"
    corrected.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    refused = cli("update", number, str(corrected))
    assert refused.exit_code == 2 and "needs --reason" in refused.stderr
    assert snapshot(root) == before
    ok = cli("update", "--reason", "补充查阅记录", number, str(corrected))
    assert ok.exit_code == 0
    entry = audit_entries(root)[-1]
    assert entry["action"] == "correction" and entry["reason"] == "补充查阅记录"
    by_path = {f["path"]: f for f in entry["files"]}
    assert by_path["stages/investigation.v2.json"]["supersedes"] == "stages/investigation.v1.json"
    record = record_dirs(root)[number]
    assert (record / "stages/investigation.v1.json").exists()  # the original stays legible


@pytest.mark.parametrize(("content", "where"), [
    ("{", "line 1"),
    ("{}", "$"),
    ('{"verdict": {}}', "$.verdict"),
    ('{"investigation": {"investigator": "x", "findings": "y"}}', "$.investigation.completed_at"),
    ('{"follow_up": {"visited_at": "2026-11-25T15:00:00+08:00", "by": "x", "satisfaction": "ecstatic"}}',
     "$.follow_up.satisfaction"),
    ('{"capa": []}', "$.capa"),
    ('{"response": {"replied_at": "2020-01-01T00:00:00+08:00", "method": "phone", "content": "x"}}',
     "$.response.replied_at"),
])
def test_bad_stage_files_are_refused_and_change_nothing(root: Path, cli: Cli, tmp_path: Path, content: str,
                                                        where: str) -> None:
    number = _intake(cli, SHARED_CASES[0])
    path = tmp_path / "stage.json"
    path.write_text(content, encoding="utf-8")
    before = snapshot(root)
    result = cli("update", number, str(path))
    assert result.exit_code == 2 and str(path) in result.stderr and where in result.stderr, result.stderr
    assert snapshot(root) == before


def test_closure_before_investigation_and_response_is_refused(root: Path, cli: Cli) -> None:
    number = _intake(cli, SHARED_CASES[0])
    result = cli("update", number, str(SHARED_UPDATES / "01-close.json"))
    assert result.exit_code == 2 and "cannot be closed" in result.stderr


def test_update_of_unknown_case_exits_1(cli: Cli) -> None:
    assert cli("update", "26119999", str(SHARED_UPDATES / "01-capa.json")).exit_code == 1


def test_overdue_lists_missed_deadlines(root: Path, cli: Cli) -> None:
    number = _intake(cli, SHARED_CASES[0])  # phone, received 2026-11-03: reply due the same day
    rows = json.loads(cli("overdue", "--json", "--as-of", "2026-11-04").stdout)
    assert [(r["number"], r["deadline"], r["days_late"]) for r in rows] == [(number, "reply", 1)]
    rows = json.loads(cli("overdue", "--json", "--as-of", "2026-11-11").stdout)
    assert {r["deadline"] for r in rows} == {"reply", "investigation"}
    assert json.loads(cli("overdue", "--json", "--as-of", "2026-11-03").stdout) == []
    refused = cli("overdue", "--as-of", "yesterday")
    assert refused.exit_code == 2 and "--as-of: 'yesterday' is not a date YYYY-MM-DD" in refused.stderr


def test_show_lists_deadlines_and_documents(cli: Cli) -> None:
    number = _intake(cli, SHARED_CASES[4])
    data = json.loads(cli("show", "--json", number).stdout)
    assert data["deadlines"] == {"reply_due": "2026-11-20", "investigation_due": "2026-11-25",
                                 "eightd_due": "2026-11-23", "calendar_unknown": []}
    assert set(data["documents"]) == {"register-form", "record-form"}
    assert "8D 期限 2026-11-23" in cli("show", number).stdout


def test_init_copies_the_shipped_template_set(root: Path) -> None:
    shipped = Path(__file__).resolve().parents[1] / "templates"
    docx_files = sorted(shipped.glob("*.docx"))
    assert {p.name for p in docx_files} >= {"register-form.v1.docx", "record-form.v1.docx",
                                            "destruction-certificate.v1.docx"}
    for docx in docx_files:
        assert (root / "templates" / docx.name).read_bytes() == docx.read_bytes()
