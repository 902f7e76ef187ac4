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
