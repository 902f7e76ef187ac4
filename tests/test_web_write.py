"""QA's pages (issue 21, webwrite): intake by upload or by the Chinese form, stage updates and signing through
the web take the CLI's path (a temp file outside the root, services' prepare + intake/update/sign) as the
logged-in person; refusals are the CLI's one line beside the field, 400, nothing written."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SHARED_BAD, SHARED_CASES, Key, audit_entries, make_key, record_dirs, snapshot, write_case
from starlette.testclient import TestClient
from web_helpers import logged_in

from archive.cli import main

PASSWORD = "correct horse battery staple"
QA_NAME = "质量部 王芳"


# ---------------------------------------------------------------- local helpers (tests/web_helpers.py is webtests')

def add_user(root: Path, login: str, name: str, role: str) -> None:
    from archive.services import users
    from archive.services.archive import Archive

    users.add(Archive.open(root, "测试员 tester", write=True), login, name, role, PASSWORD)


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def login(root: Path, login: str) -> TestClient:
    return logged_in(root, login, PASSWORD)  # type: ignore[no-any-return]


@pytest.fixture
def qa(root: Path) -> TestClient:
    add_user(root, "wangfang", QA_NAME, "qa")
    return login(root, "wangfang")


def cli_intake(root: Path, case: Path, actor: str = QA_NAME) -> Any:
    return CliRunner().invoke(main, ["--root", str(root), "--actor", actor, "intake", "--json", str(case)])


def rows(root: Path) -> list[dict[str, Any]]:
    r = CliRunner().invoke(main, ["--root", str(root), "list", "--json"])
    assert r.exit_code == 0, r.output
    out: list[dict[str, Any]] = json.loads(r.stdout)
    return out


def upload(client: TestClient, case: Path, *, attachments: list[Path] = (), json_answer: bool = False,
           name: str | None = None) -> Any:
    files: list[tuple[str, tuple[str, bytes, str]]] = [
        ("case", (name or case.name, case.read_bytes(), "application/json"))]
    files += [("attachments", (a.name, a.read_bytes(), "application/octet-stream")) for a in attachments]
    headers = {"accept": "application/json"} if json_answer else {}
    return client.post("/intake", data={"csrf": csrf_of(client, "/intake"), "mode": "upload"}, files=files,
                       headers=headers, follow_redirects=False)


def attachments_of(case: Path) -> list[Path]:
    doc = json.loads(case.read_text(encoding="utf-8"))
    return [case.parent / a["path"] for a in doc.get("attachments", [])]


def field_error(page: str, name: str) -> str:
    """The error shown beside the form field ``name`` (empty if none)."""
    block = re.search(rf'<div class="field[^"]*">\s*<label for="f-{re.escape(name)}">.*?</div>', page, re.S)
    assert block, f"no field {name}"
    found = re.search(r'<span class="field-error"[^>]*>(.*?)</span>', block.group(0), re.S)
    return html.unescape(found.group(1)) if found else ""


# ---------------------------------------------------------------- intake by upload

@pytest.mark.parametrize("case", SHARED_CASES[:3], ids=lambda p: p.name)
def test_upload_intake_gives_the_record_cli_intake_gives(root: Path, qa: TestClient, tmp_path: Path,
                                                         case: Path) -> None:
    r = upload(qa, case, attachments=attachments_of(case))
    assert r.status_code == 303, r.text
    number = rows(root)[0]["number"]
    assert r.headers["location"] == f"/cases/{number}"
    other = tmp_path / "cli-root"
    assert CliRunner().invoke(main, ["--root", str(other), "init"]).exit_code == 0
    assert cli_intake(other, case).exit_code == 0
    assert rows(root) == rows(other)
    web_case = json.loads((record_dirs(root)[number] / "case.json").read_text(encoding="utf-8"))
    cli_case = json.loads((record_dirs(other)[number] / "case.json").read_text(encoding="utf-8"))
    assert web_case["case"] == cli_case["case"]
    assert [a["sha256"] for a in web_case["attachments"]] == [a["sha256"] for a in cli_case["attachments"]]
    assert web_case["intake"]["source_name"] == case.name
    assert web_case["intake"]["actor"] == QA_NAME
    entry = audit_entries(root)[-1]
    assert entry["action"] == "intake" and entry["actor"] == QA_NAME


def test_upload_intake_flashes_the_number_on_the_case_page_redirect(root: Path, qa: TestClient) -> None:
    r = upload(qa, write_case(root.parent))
    assert r.status_code == 303
    number = rows(root)[0]["number"]
    after = qa.get("/intake")  # any page shows the flash once
    assert f"已登记 投诉编号 {number}" in after.text


def test_json_client_gets_the_cli_intake_json(root: Path, qa: TestClient, tmp_path: Path) -> None:
    case = write_case(tmp_path)
    r = upload(qa, case, json_answer=True)
    assert r.status_code == 200, r.text
    other = tmp_path / "cli-root"
    assert CliRunner().invoke(main, ["--root", str(other), "init"]).exit_code == 0
    cli = cli_intake(other, case)
    expected = json.loads(cli.stdout)
    got = r.json()
    expected[0]["file"] = case.name  # the CLI names the path it was given, the web the file's name
    assert got == expected


@pytest.mark.parametrize("bad", SHARED_BAD, ids=lambda p: p.name)
def test_bad_upload_is_the_cli_line_400_and_changes_nothing(root: Path, qa: TestClient, bad: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(root)
    r = upload(qa, bad)
    assert r.status_code == 400
    monkeypatch.chdir(bad.parent)
    cli = CliRunner().invoke(main, ["--root", str(root), "--actor", QA_NAME, "intake", bad.name])
    assert cli.exit_code == 2
    line = cli.stderr.strip().removeprefix("archive: refused ")
    shown = re.search(r'<span class="field-error" role="alert">(.*?)</span>', r.text, re.S)
    assert shown and html.unescape(shown.group(1)) == line
    assert snapshot(root) == before
    j = upload(qa, bad, json_answer=True)
    assert j.status_code == 400 and j.json() == {"error": line}
    assert snapshot(root) == before


def test_no_number_is_used_by_a_refused_upload(root: Path, qa: TestClient, tmp_path: Path) -> None:
    assert upload(qa, SHARED_BAD[0]).status_code == 400
    assert upload(qa, write_case(tmp_path)).status_code == 303
    assert [r["number"] for r in rows(root)] == ["26110001"]


# ---------------------------------------------------------------- intake by the Chinese form

def form_of(case: dict[str, Any]) -> dict[str, str]:
    """What a person types into the form for ``case`` (the browser's date-time field has no offset)."""
    out: dict[str, str] = {}
    for key, value in case.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": str(v) for k, v in value.items()})
        elif isinstance(value, bool):
            if value:
                out[key] = "1"
        elif key != "attachments":
            out[key] = str(value)
    out["received_at"] = case["received_at"][:16]
    return out


def post_form(client: TestClient, fields: dict[str, str], files: list[tuple[str, tuple[str, bytes, str]]] = ()
              ) -> Any:
    return client.post("/intake", data={"csrf": csrf_of(client, "/intake"), **fields}, files=list(files) or None,
                       follow_redirects=False)


@pytest.mark.parametrize("case", SHARED_CASES, ids=lambda p: p.name)
def test_form_intake_gives_the_record_cli_intake_of_the_same_json_gives(root: Path, qa: TestClient,
                                                                       tmp_path: Path, case: Path) -> None:
    doc = json.loads(case.read_text(encoding="utf-8"))
    doc.pop("attachments", None)
    plain = tmp_path / case.name
    plain.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    r = post_form(qa, form_of(doc))
    assert r.status_code == 303, r.text
    other = tmp_path / "cli-root"
    assert CliRunner().invoke(main, ["--root", str(other), "init"]).exit_code == 0
    assert cli_intake(other, plain).exit_code == 0
    assert rows(root) == rows(other)
    number = rows(root)[0]["number"]
    web_case = json.loads((record_dirs(root)[number] / "case.json").read_text(encoding="utf-8"))
    assert web_case["case"] == doc
    assert web_case["intake"]["actor"] == QA_NAME


def test_form_attachments_are_archived_with_the_case(root: Path, qa: TestClient) -> None:
    doc = json.loads(SHARED_CASES[0].read_text(encoding="utf-8"))
    letter = attachments_of(SHARED_CASES[0])[0]
    r = post_form(qa, form_of(doc), [("attachments", (letter.name, letter.read_bytes(), "application/pdf"))])
    assert r.status_code == 303, r.text
    record = json.loads((record_dirs(root)["26110001"] / "case.json").read_text(encoding="utf-8"))
    assert [a["source"] for a in record["attachments"]] == [letter.name]
    assert (record_dirs(root)["26110001"] / record["attachments"][0]["file"]).read_bytes() == letter.read_bytes()


HOSTILE = '<script>alert(1)</script> {{ 7*7 }} {% if 1 %}x{% endif %} & "引号" \'单\''


def test_a_number_field_that_is_not_a_number_is_named_beside_it_and_the_form_keeps_what_was_typed(
        root: Path, qa: TestClient) -> None:
    before = snapshot(root)
    fields = form_of(json.loads(SHARED_CASES[0].read_text(encoding="utf-8")))
    fields.update({"product.quantity": "二百", "description": HOSTILE})
    r = post_form(qa, fields)
    assert r.status_code == 400
    assert field_error(r.text, "product.quantity") == "数量:'二百' 不是数字"
    assert field_error(r.text, "description") == ""
    # typed values come back literally: escaped HTML, template syntax not evaluated
    assert html.escape(HOSTILE, quote=False) in r.text.replace("&#34;", '"').replace("&#39;", "'")
    assert "<script>alert(1)</script>" not in r.text and "49" not in r.text
    assert 'value="二百"' in r.text
    assert snapshot(root) == before


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"complainant.name": ""}, "complainant.name", "$.complainant.name: required field is missing"),
    ({"complainant.name": "   "}, "complainant.name", "$.complainant.name: must not be empty or only white space"),
    ({"channel": ""}, "channel", "$.channel: required field is missing"),
    ({"product.ship_date": "2026-13-45"}, "product.ship_date", "'2026-13-45' is not a real calendar date"),
    ({"product.defect_quantity": "-3"}, "product.defect_quantity", "-3 is below the minimum 0"),
    ({"received_at": "2099-01-01T10:00"}, "received_at", "$.received_at"),
])
def test_a_refused_form_shows_the_cli_message_beside_the_field_it_names(
        root: Path, qa: TestClient, change: dict[str, str], field: str, message: str) -> None:
    before = snapshot(root)
    fields = {**form_of(json.loads(SHARED_CASES[0].read_text(encoding="utf-8"))), **change}
    r = post_form(qa, fields)
    assert r.status_code == 400, r.text
    assert message in field_error(r.text, field)
    assert snapshot(root) == before


def test_hostile_text_through_the_form_is_archived_exactly_and_shown_literally(root: Path, qa: TestClient) -> None:
    fields = form_of(json.loads(SHARED_CASES[0].read_text(encoding="utf-8")))
    fields.update({"description": HOSTILE, "complainant.name": "<b>王</b>{{ name }}"})
    assert post_form(qa, fields).status_code == 303
    record = json.loads((record_dirs(root)["26110001"] / "case.json").read_text(encoding="utf-8"))
    assert record["case"]["description"] == HOSTILE
    assert record["case"]["complainant"]["name"] == "<b>王</b>{{ name }}"
    register = qa.get("/").text
    assert "&lt;b&gt;王&lt;/b&gt;{{ name }}" in register and "<b>王</b>" not in register


def test_a_20_mb_upload_is_refused_with_one_message_and_nothing_written(root: Path, qa: TestClient) -> None:
    before = snapshot(root)
    big = b'{"description": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    r = qa.post("/intake", data={"csrf": csrf_of(qa, "/intake"), "mode": "upload"},
                files=[("case", ("big.json", big, "application/json"))])
    assert r.status_code == 413
    assert r.text == "上传内容超过 10 MB 上限,已拒绝,未做任何更改。"
    assert snapshot(root) == before


# ---------------------------------------------------------------- stage updates

UPDATES = Path(SHARED_CASES[0]).parent.parent / "updates"


@pytest.fixture
def case_no(root: Path, qa: TestClient) -> str:
    r = cli_intake(root, SHARED_CASES[0])
    assert r.exit_code == 0, r.output
    number: str = json.loads(r.stdout)[0]["number"]
    return number


def post_update(client: TestClient, number: str, fields: dict[str, str] | None = None, file: Path | None = None,
                json_answer: bool = False, **extra: str) -> Any:
    data = {"csrf": csrf_of(client, f"/cases/{number}/update"), **(fields or {}), **extra}
    files = [("update", (file.name, file.read_bytes(), "application/json"))] if file else None
    if file:
        data["mode"] = "upload"
    headers = {"accept": "application/json"} if json_answer else {}
    return client.post(f"/cases/{number}/update", data=data, files=files, headers=headers,
                       follow_redirects=False)


def stage_file(root: Path, number: str, stage: str, version: int = 1) -> dict[str, Any]:
    out: dict[str, Any] = json.loads((record_dirs(root)[number] / "stages" / f"{stage}.v{version}.json")
                                     .read_text(encoding="utf-8"))
    return out


def test_uploaded_stage_update_is_recorded_as_the_logged_in_person(root: Path, qa: TestClient, case_no: str,
                                                                  tmp_path: Path) -> None:
    r = post_update(qa, case_no, file=UPDATES / "01-investigation.json")
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/cases/{case_no}"
    entry = audit_entries(root)[-1]
    assert entry["action"] == "update" and entry["actor"] == QA_NAME
    # the same stages as `archive update` of the same file
    other = tmp_path / "cli-root"
    assert CliRunner().invoke(main, ["--root", str(other), "init"]).exit_code == 0
    assert cli_intake(other, SHARED_CASES[0]).exit_code == 0
    cli = CliRunner().invoke(main, ["--root", str(other), "--actor", QA_NAME, "update", case_no,
                                    str(UPDATES / "01-investigation.json")])
    assert cli.exit_code == 0, cli.output
    for stage in ("triage", "investigation"):
        assert stage_file(root, case_no, stage)["data"] == stage_file(other, case_no, stage)["data"]
    assert rows(root) == rows(other)
    page = qa.get("/intake").text
    assert f"已登记 {case_no} 的分类与分派、调查" in page


def test_json_client_gets_the_cli_update_json(root: Path, qa: TestClient, case_no: str) -> None:
    r = post_update(qa, case_no, file=UPDATES / "01-investigation.json", json_answer=True)
    assert r.status_code == 200, r.text
    assert r.json()["stages"] == ["triage", "investigation"] and r.json()["number"] == case_no


def test_stage_form_builds_the_update_file(root: Path, qa: TestClient, case_no: str) -> None:
    fields = {"investigation.investigator": "质量保证部 张丽", "investigation.completed_at": "2026-11-06T17:00",
              "investigation.findings": "破损集中于同一运输箱 <i>{{ x }}</i>",
              "investigation.root_cause": "运输装卸不当", "investigation.responsibility": "both",
              "capa.1.kind": "corrective", "capa.1.action": "校准传感器", "capa.1.owner": "生产部 王磊",
              "capa.1.due": "2026-11-20"}
    r = post_update(qa, case_no, fields)
    assert r.status_code == 303, r.text
    assert stage_file(root, case_no, "investigation")["data"] == {
        "investigator": "质量保证部 张丽", "completed_at": "2026-11-06T17:00:00+08:00",
        "findings": "破损集中于同一运输箱 <i>{{ x }}</i>", "root_cause": "运输装卸不当", "responsibility": "both"}
    assert stage_file(root, case_no, "capa")["data"] == [
        {"kind": "corrective", "action": "校准传感器", "owner": "生产部 王磊", "due": "2026-11-20"}]
    assert audit_entries(root)[-1]["actor"] == QA_NAME


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"response.content": "已换货", "response.replied_at": "2026-11-07T10:00"}, "response.method",
     "$.response.method: required field is missing"),
    ({"capa.2.kind": "preventive", "capa.2.action": "加护角", "capa.2.due": "2026-12-15"}, "capa.2.owner",
     "$.capa[0].owner: required field is missing"),
    ({"follow_up.by": "张丽", "follow_up.satisfaction": "satisfied", "follow_up.visited_at": "昨天"},
     "follow_up.visited_at", "'昨天' is not an ISO 8601 date-time"),
])
def test_a_refused_stage_form_shows_the_message_beside_its_field(root: Path, qa: TestClient, case_no: str,
                                                                 fields: dict[str, str], field: str,
                                                                 message: str) -> None:
    before = snapshot(root)
    r = post_update(qa, case_no, fields)
    assert r.status_code == 400, r.text
    assert message in field_error(r.text, field)
    for value in fields.values():
        assert html.escape(value) in r.text
    assert snapshot(root) == before


def test_a_correction_needs_a_reason_as_the_cli_says(root: Path, qa: TestClient, case_no: str) -> None:
    assert post_update(qa, case_no, file=UPDATES / "01-investigation.json").status_code == 303
    changed = json.loads((UPDATES / "01-investigation.json").read_text(encoding="utf-8"))
    changed["investigation"]["root_cause"] = "运输装卸不当(更正)"
    fixed = root.parent / "fix.json"
    fixed.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    before = snapshot(root)
    cli = CliRunner().invoke(main, ["--root", str(root), "--actor", QA_NAME, "update", case_no, str(fixed)])
    assert cli.exit_code == 2
    r = post_update(qa, case_no, file=fixed)
    assert r.status_code == 400
    assert html.escape(cli.stderr.strip().removeprefix("archive: "), quote=True) in r.text
    assert snapshot(root) == before
    r = post_update(qa, case_no, file=fixed, reason="原因分析补充运输环节")
    assert r.status_code == 303, r.text
    entry = audit_entries(root)[-1]
    assert entry["action"] == "correction" and entry["reason"] == "原因分析补充运输环节"
    assert entry["actor"] == QA_NAME


def test_update_of_an_unknown_case_is_404(root: Path, qa: TestClient) -> None:
    before = snapshot(root)
    assert qa.get("/cases/26119999/update").status_code == 404
    file = UPDATES / "01-investigation.json"
    r = qa.post("/cases/26119999/update", data={"csrf": csrf_of(qa, "/intake"), "mode": "upload"},
                files=[("update", (file.name, file.read_bytes(), "application/json"))])
    assert r.status_code == 404 and "case 26119999 not found" in r.text
    assert snapshot(root) == before


# ---------------------------------------------------------------- signing

SECRET = "口令-correct horse 7391"


@pytest.fixture
def keys(root: Path, tmp_path: Path) -> dict[str, Key]:
    admin = make_key(root, "admin", "赵强", "系统管理员", tmp_path / "admin.pem")
    return {"wang": make_key(root, "wf", "王芳", "质量部", tmp_path / "wf.pem", SECRET, certify_with=admin),
            "li": make_key(root, "lm", "李敏", "质量部", tmp_path / "lm.pem", SECRET, certify_with=admin),
            "loose": make_key(root, "nc", "王芳", "质量部", tmp_path / "nc.pem", SECRET)}


def post_sign(client: TestClient, number: str, key: Key, passphrase: str, meaning: str = "drafted",
              documents: tuple[str, ...] = ("register-form",), json_answer: bool = False) -> Any:
    data: dict[str, Any] = {"csrf": csrf_of(client, f"/cases/{number}/sign"), "meaning": meaning,
                            "passphrase": passphrase, "document": list(documents)}
    headers = {"accept": "application/json"} if json_answer else {}
    return client.post(f"/cases/{number}/sign", data=data, headers=headers, follow_redirects=False,
                       files=[("key", (key.pem.name, key.pem.read_bytes(), "application/x-pem-file"))])


def found_on_disk(root: Path, text: str) -> list[str]:
    needle = text.encode("utf-8")
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_signing_through_the_web_is_the_logged_in_persons_act(root: Path, qa: TestClient, case_no: str,
                                                              keys: dict[str, Key]) -> None:
    page = qa.get(f"/cases/{case_no}/sign")
    assert page.status_code == 200 and 'name="document" value="register-form"' in page.text
    r = post_sign(qa, case_no, keys["wang"], SECRET)
    assert r.status_code == 303, r.text
    entry = audit_entries(root)[-1]
    assert entry["action"] == "sign" and entry["actor"] == QA_NAME
    assert entry["signer"] == "wf" and entry["meaning"] == "drafted"
    signed = list((record_dirs(root)[case_no] / "signatures").glob("*.drafted.wf.json"))
    assert len(signed) == 1
    after = qa.get(f"/cases/{case_no}/sign").text
    assert "已签名:" in after and "起草" in after
    assert SECRET not in r.text and SECRET not in after
    assert found_on_disk(root, SECRET) == []
    assert found_on_disk(root, keys["wang"].pem.read_text(encoding="ascii").splitlines()[1]) == []


def test_json_client_gets_the_cli_sign_json(root: Path, qa: TestClient, case_no: str,
                                            keys: dict[str, Key]) -> None:
    r = post_sign(qa, case_no, keys["wang"], SECRET, json_answer=True)
    assert r.status_code == 200, r.text
    files = r.json()["files"]
    assert r.json()["number"] == case_no and any(f.endswith(".drafted.wf.json") for f in files)


@pytest.mark.parametrize(("key", "passphrase", "meaning", "refusal"), [
    ("wang", "wrong passphrase!", "drafted", "wrong passphrase"),
    ("li", SECRET, "drafted", "does not name 李敏, the owner of key lm"),
    ("loose", SECRET, "drafted", "key nc is not certified"),
    ("wang", SECRET, "approved", "批准 (approved) needs 起草 (drafted), 审核 (reviewed)"),
])
def test_a_refused_signature_is_one_line_and_writes_nothing(root: Path, qa: TestClient, case_no: str,
                                                            keys: dict[str, Key], key: str, passphrase: str,
                                                            meaning: str, refusal: str) -> None:
    before = snapshot(root)
    r = post_sign(qa, case_no, keys[key], passphrase, meaning)
    assert r.status_code == 400, r.text
    line = re.search(r'<p class="error" role="alert">(.*?)</p>', r.text, re.S)
    assert line and refusal in html.unescape(line.group(1)) and "\n" not in line.group(1)
    assert passphrase not in r.text
    assert snapshot(root) == before
    assert found_on_disk(root, passphrase) == []


def test_the_same_person_cannot_give_a_second_meaning(root: Path, qa: TestClient, case_no: str,
                                                      keys: dict[str, Key]) -> None:
    assert post_sign(qa, case_no, keys["wang"], SECRET).status_code == 303
    before = snapshot(root)
    r = post_sign(qa, case_no, keys["wang"], SECRET, "reviewed")
    assert r.status_code == 400
    assert snapshot(root) == before


def test_a_reviewer_logged_in_as_themselves_signs_after_the_draft(root: Path, qa: TestClient, case_no: str,
                                                                  keys: dict[str, Key]) -> None:
    assert post_sign(qa, case_no, keys["wang"], SECRET).status_code == 303
    add_user(root, "limin", "质量部 李敏", "qa")
    li = login(root, "limin")
    r = post_sign(li, case_no, keys["li"], SECRET, "reviewed")
    assert r.status_code == 303, r.text
    assert audit_entries(root)[-1]["actor"] == "质量部 李敏"


def test_the_same_person_cannot_give_a_second_meaning_message(root: Path, qa: TestClient, case_no: str,
                                                              keys: dict[str, Key]) -> None:
    assert post_sign(qa, case_no, keys["wang"], SECRET).status_code == 303
    r = post_sign(qa, case_no, keys["wang"], SECRET, "reviewed")
    assert "one person may not also sign it as 审核" in html.unescape(r.text)


# ---------------------------------------------------------------- roles

WRITE_ROUTES = [("/intake", "intake"), ("/cases/{n}/update", "update"), ("/cases/{n}/sign", "sign")]


@pytest.mark.parametrize("role", ["archivist", "inspector", "retention", "manager", "admin"])
def test_a_role_without_the_action_gets_403_and_nothing_changes(root: Path, qa: TestClient, case_no: str,
                                                                role: str, tmp_path: Path) -> None:
    from archive.web.permissions import allowed

    add_user(root, "other", "质量部 旁人", role)
    client = login(root, "other")
    token = csrf_of(client, "/")
    case = write_case(tmp_path, received_at="2026-11-04T09:00:00+08:00")
    checked = 0
    for path, action in WRITE_ROUTES:
        if allowed(role, action):
            continue
        url = path.format(n=case_no)
        before = snapshot(root)
        assert client.get(url).status_code == 403
        r = client.post(url, data={"csrf": token, "mode": "upload", "meaning": "drafted", "document": "register-form",
                                   "passphrase": "x"},
                        files=[("case", (case.name, case.read_bytes(), "application/json")),
                               ("update", ((UPDATES / "01-investigation.json").name,
                                           (UPDATES / "01-investigation.json").read_bytes(), "application/json"))])
        assert r.status_code == 403 and "无权限" in r.text
        assert snapshot(root) == before
        checked += 1
    assert checked == (2 if role == "manager" else 3)


# ---------------------------------------------------------------- the web and the CLI writing at once

def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_the_web_and_the_cli_writing_at_the_same_time_keep_numbers_unique(root: Path, tmp_path: Path) -> None:
    import subprocess
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from conftest import ARCHIVE_BIN, run_archive

    add_user(root, "wangfang", QA_NAME, "qa")
    web_cases = [write_case(tmp_path, f"web-{i}.json", received_at=f"2026-11-{i + 1:02d}T09:00:00+08:00",
                            description=f"网页登记 第{i}件") for i in range(6)]
    (tmp_path / "cli").mkdir()
    cli_cases = [write_case(tmp_path / "cli", f"cli-{i}.json", received_at=f"2026-11-{i + 10:02d}T09:00:00+08:00",
                            description=f"命令行登记 第{i}件") for i in range(6)]
    port = free_port()
    server = subprocess.Popen([ARCHIVE_BIN, "--root", str(root), "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=120) as client:
            for _ in range(300):
                try:
                    if client.get("/login").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            page = client.get("/login").text
            token = html.unescape(re.search(r'name="csrf" value="([^"]+)"', page).group(1))  # type: ignore[union-attr]
            r = client.post("/login", data={"login": "wangfang", "password": PASSWORD, "csrf": token},
                            headers={"accept": "application/json"})
            assert r.status_code == 200, r.text
            token = r.json()["csrf"]

            def post(case: Path) -> httpx.Response:
                return client.post("/intake", data={"csrf": token, "mode": "upload"},
                                   files=[("case", (case.name, case.read_bytes(), "application/json"))],
                                   headers={"accept": "application/json"})

            cli = subprocess.Popen([ARCHIVE_BIN, "--root", str(root), "--actor", "测试员 tester", "intake", "--json",
                                    *map(str, cli_cases)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            with ThreadPoolExecutor(4) as pool:
                answers = list(pool.map(post, web_cases))
            out, err = cli.communicate(timeout=300)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert cli.returncode == 0, err
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    web_numbers = [a.json()[0]["number"] for a in answers]
    cli_numbers = [c["number"] for c in json.loads(out)]
    numbers = web_numbers + cli_numbers
    assert len(set(numbers)) == 12
    assert sorted(numbers) == [f"2611{i:04d}" for i in range(1, 13)]
    assert sorted(r["number"] for r in rows(root)) == sorted(numbers)
    verify = run_archive(root, "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_signing_an_unknown_case_or_document_is_404_and_writes_nothing(root: Path, qa: TestClient, case_no: str,
                                                                      keys: dict[str, Key]) -> None:
    before = snapshot(root)
    assert qa.get("/cases/26119999/sign").status_code == 404
    r = post_sign(qa, case_no, keys["wang"], SECRET, documents=("no-such-form",))
    assert r.status_code == 404 and "has no document 'no-such-form'" in html.unescape(r.text)
    assert SECRET not in r.text
    assert snapshot(root) == before


def test_an_attachment_path_through_the_case_file_is_refused_like_a_missing_file(root: Path, qa: TestClient,
                                                                                 tmp_path: Path) -> None:
    case = write_case(tmp_path, attachments=[{"path": "case.json/letter.pdf"}])
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"%PDF-1.4 letter")
    before = snapshot(root)
    r = upload(qa, case, attachments=[letter])
    assert r.status_code == 400 and "$.attachments[0].path" in r.text
    assert snapshot(root) == before


# ---------------------------------------------------------------- the form's text → JSON types (pure)

def test_form_text_becomes_json_types_and_nothing_else_is_judged() -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from archive.web import forms

    doc, errors = forms.build({"received_at": "2026-11-30T09:05", "product.quantity": "12",
                               "product.defect_quantity": "1.5", "claim_amount": "５００", "people_affected": "三",
                               "urgent": "1",
                               "description": "  ", "complainant.name": "<王>"}, forms.CASE_FORM,
                              ZoneInfo("Asia/Shanghai"))
    # full-width digits, as a Chinese input method types them, are digits
    assert doc == {"received_at": "2026-11-30T09:05:00+08:00", "product": {"quantity": 12, "defect_quantity": 1.5},
                   "claim_amount": 500, "urgent": True, "description": "  ", "complainant": {"name": "<王>"}}
    assert errors == {"people_affected": "涉及人数:'三' 不是整数"}
    kept, _ = forms.build({"received_at": "2026-11-30T09:05:00+09:00"}, forms.CASE_FORM, dt.UTC)
    assert kept == {"received_at": "2026-11-30T09:05:00+09:00"}


def test_an_error_path_names_the_form_field_and_capa_rows_map_back() -> None:
    from archive.web import forms

    assert forms.field_of("$.complainant", forms.CASE_FORM) == "complainant.name"
    assert forms.field_of("$.attachments[1].path", forms.CASE_FORM) == "attachments"
    assert forms.field_of("line 1 column 2", forms.CASE_FORM) is None
    assert forms.field_of("$.capa[1].due", forms.UPDATE_FORM, [0, 2]) == "capa.2.due"
