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
from conftest import SHARED_BAD, SHARED_CASES, audit_entries, record_dirs, snapshot, write_case
from starlette.testclient import TestClient

from archive.cli import main
from archive.web.app import create_app

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
    client = TestClient(create_app(root))
    r = client.post("/login", data={"login": login, "password": PASSWORD, "csrf": csrf_of(client)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


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
