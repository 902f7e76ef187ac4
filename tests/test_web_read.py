"""The reading pages of the web (issue 21): the case page and its JSON, file downloads (manifest only, hash
checked, masked or refused for roles without personal data), search, the access register page; each view,
search and download registered before the response."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Key, make_key, record_dirs, snapshot, write_case
from starlette.testclient import TestClient
from web_helpers import logged_in

from archive.cli import main

PASSWORD = "correct horse battery"
ROLES = {"qa": "质量部 李敏", "inspector": "药监局 检查员甲", "admin": "信息部 管理员", "retention": "档案室 周保管",
         "manager": "质量经理 赵经理", "archivist": "档案室 孙档案"}
HOSTILE = "<script>alert('x')</script> {{ 7*7 }} {% if 1 %}yes{% endif %}"


def _cli(root: Path, *args: str) -> Any:
    r = CliRunner().invoke(main, ["--root", str(root), "--actor", "测试员 tester", *args], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r


def add_users(root: Path) -> None:
    from archive.services.archive import Archive
    from archive.services.users import add

    arc = Archive.open(root, "测试员 tester", write=True)
    for role, name in ROLES.items():
        add(arc, role, name, role, PASSWORD)


def login(root: Path, role: str) -> TestClient:
    return logged_in(root, role, PASSWORD)  # type: ignore[no-any-return]


def access_entries(root: Path) -> list[dict[str, Any]]:
    log = root / "audit" / "access.jsonl"
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def make_site(base: Path, pdf: bool) -> tuple[Path, str]:
    root = base / "root"
    root.mkdir()
    assert CliRunner().invoke(main, ["--root", str(root), "init"]).exit_code == 0
    src = base / "in"
    src.mkdir()
    (src / "letter.txt").write_text("王建国的投诉信,电话 13812345678", encoding="utf-8")
    case = write_case(src, complainant={"name": "王建国", "organization": "华东医药连锁有限公司",
                                        "phone": "13812345678", "address": "上海市浦东新区张江路 88 号 3 号楼"},
                      description=f"外包装破损严重,铝塑板有压痕。王建国来电 13812345678。{HOSTILE}",
                      customer_request=f"换货 {HOSTILE}",
                      attachments=[{"path": "letter.txt", "title": "客户投诉函"}])
    _cli(root, "intake", str(case))
    number = next(iter(record_dirs(root)))
    if pdf:
        _cli(root, "render", number, "--pdf")
    add_users(root)
    return root, number


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One archive with a case (PDFs made, an attachment) and one user per role, shared by reading tests."""
    return make_site(tmp_path_factory.mktemp("webread"), pdf=True)


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Path, str]:
    """An archive of its own for a test that damages it (no PDFs: LibreOffice is slow)."""
    return make_site(tmp_path, pdf=False)


def files_of(root: Path, number: str) -> list[str]:
    manifest = json.loads((record_dirs(root)[number] / "manifest.json").read_text(encoding="utf-8"))
    return [f["path"] for f in manifest["files"]]


# ------------------------------------------------------------------------------------------------ case page

def test_case_page_shows_the_case_and_registers_one_view(site: tuple[Path, str]) -> None:
    root, number = site
    client = login(root, "qa")
    before = len(access_entries(root))
    r = client.get(f"/cases/{number}")
    assert r.status_code == 200
    assert "王建国" in r.text and "13812345678" in r.text
    for heading in ("投诉概要", "分类与期限", "处理阶段", "文件", "电子签名", "法律保全与保存期限", "审计记录"):
        assert f"<h2>{heading}</h2>" in r.text
    assert "登记" in r.text  # the intake entry of the audit trail, by its Chinese label
    after = access_entries(root)[before:]
    assert [(e["action"], e["number"], e["login"]) for e in after] == [("view", number, "qa")]


def test_case_page_shows_html_and_template_syntax_literally(site: tuple[Path, str]) -> None:
    root, number = site
    r = login(root, "qa").get(f"/cases/{number}")
    assert "<script>alert" not in r.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in r.text
    assert "{{ 7*7 }}" in r.text and "{% if 1 %}yes{% endif %}" in r.text
    assert "49" not in r.text.split("投诉内容")[1].split("</pre>")[0]


def test_case_json_is_the_cli_show_json(site: tuple[Path, str]) -> None:
    root, number = site
    r = login(root, "qa").get(f"/cases/{number}", headers={"Accept": "application/json"})
    cli = CliRunner().invoke(main, ["--root", str(root), "show", number, "--json"])
    assert r.status_code == 200
    assert r.json() == json.loads(cli.output)


def test_case_page_and_json_are_masked_for_an_inspector(site: tuple[Path, str]) -> None:
    root, number = site
    client = login(root, "inspector")
    page = client.get(f"/cases/{number}")
    assert page.status_code == 200
    assert "王建国" not in page.text and "13812345678" not in page.text and "张江路" not in page.text
    assert "王**" in page.text and "138****5678" in page.text
    data = client.get(f"/cases/{number}", headers={"Accept": "application/json"}).json()
    text = json.dumps(data, ensure_ascii=False)
    assert "王建国" not in text and "13812345678" not in text
    assert data["case"]["complainant"]["name"] == "王**"
    assert data["contact"]["phone"] == "138****5678"
    assert data["number"] == number and data["case"]["complainant"]["organization"] == "华东医药连锁有限公司"
    assert access_entries(root)[-1]["detail"] == "脱敏"


def test_unknown_case_is_a_404_page_and_nothing_registered(site: tuple[Path, str]) -> None:
    root, _ = site
    client = login(root, "qa")
    before = len(access_entries(root))
    r = client.get("/cases/202611-9999")
    assert r.status_code == 404 and "202611-9999" in r.text and "not found" in r.text
    assert len(access_entries(root)) == before


def test_case_view_refused_when_the_access_register_cannot_be_written(site: tuple[Path, str],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.errors import StorageError
    from archive.store import txn

    root, number = site
    client = login(root, "qa")

    def broken(*_a: Any, **_k: Any) -> dict[str, Any]:
        raise StorageError("查阅登记 could not be written (disk full)")

    monkeypatch.setattr(txn, "record_access", broken)
    for url, headers in ((f"/cases/{number}", {}), (f"/cases/{number}", {"Accept": "application/json"}),
                         (f"/cases/{number}/files/case.json", {}), ("/search?q=破损", {}),
                         ("/search?q=破损", {"Accept": "application/json"})):
        r = client.get(url, headers=headers)
        assert r.status_code == 503, url
        assert "查阅登记" in r.text and "王建国" not in r.text and "破损" not in r.text.split("<main>")[-1] \
            .replace("查阅登记 could not", ""), url


# ------------------------------------------------------------------------------------------------ downloads

def test_download_serves_a_listed_file_with_a_utf8_filename(site: tuple[Path, str]) -> None:
    root, number = site
    client = login(root, "qa")
    before = len(access_entries(root))
    r = client.get(f"/cases/{number}/files/case.json")
    assert r.status_code == 200
    assert r.content == (record_dirs(root)[number] / "case.json").read_bytes()
    cd = r.headers["content-disposition"]
    assert cd.startswith("attachment;") and f"filename*=UTF-8''{number}-case.json" in cd
    assert [(e["action"], e["number"], e["path"]) for e in access_entries(root)[before:]] == \
        [("download", number, "case.json")]


def test_pdf_is_shown_inline_framed_only_by_our_pages(site: tuple[Path, str]) -> None:
    root, number = site
    client = login(root, "qa")
    pdf = next(p for p in files_of(root, number) if p.endswith(".pdf"))
    r = client.get(f"/cases/{number}/files/{pdf}?inline=1")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("inline;")
    assert "frame-ancestors 'self'" in r.headers["content-security-policy"]
    page = client.get(f"/cases/{number}")
    assert f'<iframe class="pdf" src="/cases/{number}/files/{pdf}?inline=1"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    docx = client.get(f"/cases/{number}/files/{pdf.removesuffix('.pdf')}.docx?inline=1")
    assert docx.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize("path", ["%2e%2e/%2e%2e/%2e%2e/archive.toml", "documents/%2E%2E/case.json", "%2Fetc%2Fpasswd",
                                  "documents%5C..%5Ccase.json", "case.json%00.pdf", "not-listed.json",
                                  "attachments"])
def test_paths_outside_the_manifest_are_refused(site: tuple[Path, str], path: str) -> None:
    root, number = site
    client = login(root, "qa")
    before = len(access_entries(root))
    r = client.get(f"/cases/{number}/files/{path}")
    assert r.status_code in (400, 404), (path, r.status_code)
    assert "[tool.ruff" not in r.text and "root:" not in r.text and "王建国" not in r.text
    assert re.search(r"不是案件文件的路径|清单中没有文件|Not Found", r.text), r.text
    assert len(access_entries(root)) == before


def raw_get(client: TestClient, path: str) -> tuple[int, str]:
    """A GET whose path reaches the application exactly as written: an HTTP client would resolve ../ itself."""
    import asyncio

    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode("utf-8", "surrogateescape"), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())], "client": ("127.0.0.1", 1),
             "server": ("testserver", 80)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(client.app(scope, receive, send))  # type: ignore[arg-type]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body.decode("utf-8", "replace")


@pytest.mark.parametrize("tail", ["../../../archive.toml", "documents/../case.json", "documents/../../../../etc/passwd",
                                  "/etc/passwd", "documents\\..\\case.json", "case.json\x00.pdf", "./case.json"])
def test_raw_dot_dot_paths_are_refused_before_any_read(site: tuple[Path, str], tail: str) -> None:
    root, number = site
    client = login(root, "qa")
    before = len(access_entries(root))
    status, body = raw_get(client, f"/cases/{number}/files/{tail}")
    assert status == 400 and "不是案件文件的路径" in body, (tail, status, body[-300:])
    assert "[web]" not in body and "root:" not in body
    assert len(access_entries(root)) == before


def test_service_refuses_paths_that_cannot_name_a_record_file(site: tuple[Path, str]) -> None:
    from archive.services import files
    from archive.services.archive import Archive

    root, number = site
    arc = Archive.open(root)
    for bad in ("../case.json", "documents/../../x", "/etc/passwd", "a\\b", "case.json\x00", "./case.json", ""):
        with pytest.raises(Exception, match="不是案件文件的路径"):
            files.record_file(arc, number, bad)


def test_symlink_in_a_record_is_not_followed(fresh: tuple[Path, str]) -> None:
    from archive.errors import StateError
    from archive.services import files
    from archive.services.archive import Archive

    root, number = fresh
    record = record_dirs(root)[number]
    secret = root.parent / "secret.txt"
    secret.write_text("secret", encoding="utf-8")
    (record / "case.json").rename(record / "case.real")
    (record / "case.json").symlink_to(secret)
    with pytest.raises(StateError, match="符号链接"):
        files.record_file(Archive.open(root), number, "case.json")


def test_a_damaged_file_is_refused_naming_verify(fresh: tuple[Path, str]) -> None:
    root, number = fresh
    client = login(root, "qa")
    docx = next(p for p in files_of(root, number) if p.endswith(".docx"))
    target = record_dirs(root)[number] / docx
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    before = len(access_entries(root))
    r = client.get(f"/cases/{number}/files/{docx}")
    assert r.status_code == 400
    assert "SHA-256" in r.text and f"archive verify {number}" in r.text
    assert len(access_entries(root)) == before


def test_masked_role_gets_masked_case_json(site: tuple[Path, str]) -> None:
    root, number = site
    client = login(root, "inspector")
    r = client.get(f"/cases/{number}/files/case.json")
    assert r.status_code == 200
    text = r.content.decode("utf-8")
    assert "王建国" not in text and "13812345678" not in text
    data = json.loads(text)
    assert data["case"]["complainant"]["name"] == "王**" and data["case"]["complainant"]["phone"] == "138****5678"
    assert data["number"] == number
    assert "-%E8%84%B1%E6%95%8F.json" in r.headers["content-disposition"]  # …-脱敏.json
    last = access_entries(root)[-1]
    assert (last["action"], last["path"], last["detail"]) == ("download", "case.json", "脱敏")


def test_masked_role_is_refused_attachments_naming_who_may(site: tuple[Path, str]) -> None:
    root, number = site
    client = login(root, "inspector")
    before = len(access_entries(root))
    att = next(p for p in files_of(root, number) if p.startswith("attachments/"))
    for path in (att, "text/1.txt"):
        r = client.get(f"/cases/{number}/files/{path}")
        assert r.status_code == 400
        assert "无法脱敏" in r.text and "质量保证" in r.text and "档案管理员" in r.text
        assert "13812345678" not in r.text
    assert len(access_entries(root)) == before
    assert login(root, "qa").get(f"/cases/{number}/files/{att}").status_code == 200


def test_masked_role_gets_forms_rendered_again_masked(site: tuple[Path, str]) -> None:
    import io
    import zipfile

    root, number = site
    client = login(root, "inspector")
    snap = snapshot(root)
    docx = next(p for p in files_of(root, number) if p.endswith(".docx"))
    r = client.get(f"/cases/{number}/files/{docx}")
    assert r.status_code == 200
    xml = zipfile.ZipFile(io.BytesIO(r.content)).read("word/document.xml").decode("utf-8")
    assert "王建国" not in xml and "13812345678" not in xml and "王**" in xml
    # A masked copy says so beside its version: never taken for the controlled original.
    assert "脱敏副本,非受控原件" in xml
    original = zipfile.ZipFile(record_dirs(root)[number] / docx).read("word/document.xml").decode("utf-8")
    assert "王建国" in original and "脱敏副本" not in original
    pdf = next(p for p in files_of(root, number) if p.endswith(".pdf"))
    r = client.get(f"/cases/{number}/files/{pdf}")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    changed = {k for k, v in snapshot(root).items() if snap.get(k) != v}
    assert changed <= {"audit/access.jsonl", "audit/.access.lock"}


def test_signature_files_and_manifest_are_served_to_masked_roles(site: tuple[Path, str]) -> None:
    root, number = site
    client = login(root, "inspector")
    r = client.get(f"/cases/{number}/files/manifest.json")
    assert r.status_code == 200
    # The same entries (this case's attachment, letter.txt, names nobody), written out again as a masked copy.
    assert r.json() == json.loads((record_dirs(root)[number] / "manifest.json").read_bytes())


def test_an_attachment_named_with_the_complainant_s_name_and_phone_is_masked(tmp_path: Path) -> None:
    """Found in review: attachment file names were shown whole on the case page, in its JSON and the manifest."""
    root, _ = make_site(tmp_path, pdf=False)
    src = tmp_path / "in2"
    src.mkdir()
    (src / "钱多多-13912345678.txt").write_text("投诉信", encoding="utf-8")
    case = write_case(src, complainant={"name": "钱多多", "phone": "13912345678"},
                      attachments=[{"path": "钱多多-13912345678.txt"}])
    _cli(root, "intake", str(case))
    number = max(record_dirs(root))
    inspector = login(root, "inspector")
    shown = [inspector.get(f"/cases/{number}").text,
             inspector.get(f"/cases/{number}", headers={"Accept": "application/json"}).text,
             inspector.get(f"/cases/{number}/files/manifest.json").text]
    for text in shown:
        assert "钱多多" not in text and "13912345678" not in text
    assert "钱**-139****5678.txt" in shown[0]
    assert "钱多多-13912345678.txt" in login(root, "qa").get(f"/cases/{number}").text


def test_role_without_download_is_refused(site: tuple[Path, str]) -> None:
    root, number = site
    before = snapshot(root)
    r = login(root, "retention").get(f"/cases/{number}/files/case.json")
    assert r.status_code == 403 and "无权限" in r.text
    assert {k for k, v in snapshot(root).items() if before.get(k) != v} <= {"audit/access.jsonl",
                                                                         "audit/.access.lock"}


@pytest.fixture
def destroyed(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A root whose only case has a tombstone in place of its folder (as `purge --execute` leaves it)."""
    root, number = make_site(tmp_path, pdf=False)
    record = record_dirs(root)[number]
    (record.parent / f"{number}.tombstone.json").write_text(json.dumps(
        {"number": number, "destroyed_at": "2026-11-20T02:00:00Z", "certificate": "XH-TEST-0001"}), encoding="utf-8")
    shutil.rmtree(record)
    yield root, number


def test_destroyed_case_shows_its_tombstone(destroyed: tuple[Path, str]) -> None:
    root, number = destroyed
    r = login(root, "qa").get(f"/cases/{number}")
    assert r.status_code == 410
    assert "已销毁" in r.text and "XH-TEST-0001" in r.text and "2026-11-20" in r.text


# ------------------------------------------------------------------------------------------------ search

def test_chinese_search_finds_the_case_with_marked_highlights(site: tuple[Path, str]) -> None:
    root, number = site
    client = login(root, "qa")
    before = len(access_entries(root))
    r = client.get("/search", params={"q": "破损 lot:B2026080315"})
    assert r.status_code == 200
    assert f'href="/cases/{number}"' in r.text and "共 1 件" in r.text
    assert "<mark>破损</mark>" in r.text
    assert "王建国" in r.text
    assert [(e["action"], e["query"]) for e in access_entries(root)[before:]] == [("search", "破损 lot:B2026080315")]


def test_search_filters_are_chips_linking_to_the_query_without_them(site: tuple[Path, str]) -> None:
    root, _ = site
    r = login(root, "qa").get("/search", params={"q": '破损 severity:major customer:"华东 医药"', "sort": "date"})
    assert r.status_code == 200
    assert "严重程度:重要 ✕" in r.text and "客户:华东医药 ✕" in r.text
    from urllib.parse import quote_plus
    assert 'href="/search?q=' + quote_plus("破损 customer:华东医药") + '&amp;sort=date"' in r.text
    assert 'href="/search?q=' + quote_plus("破损 severity:major") + '&amp;sort=date"' in r.text


def test_highlight_text_is_escaped_only_marks_become_tags(site: tuple[Path, str]) -> None:
    from archive.web.pages.search import marked

    assert str(marked("<b>«破损»</b> «x")) == "&lt;b&gt;<mark>破损</mark>&lt;/b&gt; <mark>x</mark>"
    root, _ = site
    r = login(root, "qa").get("/search", params={"q": "script"})
    assert r.status_code == 200
    assert "<script>" not in r.text and "&lt;<mark>script</mark>&gt;" in r.text


def test_empty_search_shows_the_form_and_chinese_help(site: tuple[Path, str]) -> None:
    root, _ = site
    client = login(root, "qa")
    before = len(access_entries(root))
    r = client.get("/search")
    assert r.status_code == 200 and "检索说明" in r.text and "lot:B2026080315" in r.text and "customer:华东" in r.text
    assert len(access_entries(root)) == before


def test_bad_query_is_one_line_beside_the_box(site: tuple[Path, str]) -> None:
    root, _ = site
    client = login(root, "qa")
    r = client.get("/search", params={"q": "colour:red"})
    assert r.status_code == 400
    assert r.text.count('role="alert"') == 1 and "unknown filter colour:" in r.text
    assert 'value="colour:red"' in r.text
    j = client.get("/search", params={"q": "colour:red"}, headers={"Accept": "application/json"})
    assert j.status_code == 400 and "unknown filter colour:" in j.json()["error"]


def test_search_json_is_the_cli_search_json(site: tuple[Path, str]) -> None:
    root, _ = site
    client = login(root, "qa")
    for query, extra in (("破损", []), ("破损 外包装", ["--sort", "date", "--limit", "3"])):
        params = {"q": query, **({"sort": "date", "limit": "3"} if extra else {})}
        r = client.get("/search", params=params, headers={"Accept": "application/json"})
        cli = CliRunner().invoke(main, ["--root", str(root), "search", query, *extra, "--json"])
        assert r.status_code == 200 and r.json() == json.loads(cli.output)


def test_search_is_masked_for_an_inspector_page_and_json(site: tuple[Path, str]) -> None:
    root, number = site
    client = login(root, "inspector")
    r = client.get("/search", params={"q": "王建国"})
    assert r.status_code == 200 and f'href="/cases/{number}"' in r.text
    body = r.text.split("<ol")[1]
    assert "王建国" not in body and "13812345678" not in body and "王**" in body
    j = client.get("/search", params={"q": "13812345678"}, headers={"Accept": "application/json"}).json()
    text = json.dumps(j, ensure_ascii=False)
    assert j["total"] == 1 and "13812345678" not in text and "王建国" not in text
    assert j["hits"][0]["complainant"] == "王**"


def test_a_highlight_cut_from_the_complainant_s_address_is_masked(site: tuple[Path, str]) -> None:
    """Found in review: a search for a street showed the address whole in the 地址 highlight."""
    root, _ = site
    j = login(root, "inspector").get("/search", params={"q": "张江路"}, headers={"Accept": "application/json"}).json()
    assert j["total"] == 1
    text = json.dumps(j, ensure_ascii=False)
    assert "张江路" not in text and "地址: 上海市浦东新****" in j["hits"][0]["highlights"]
    page = login(root, "inspector").get("/search", params={"q": "张江路"}).text.split("<ol")[1]
    assert "张江路" not in page
    assert "张江路" in json.dumps(login(root, "qa").get("/search", params={"q": "张江路"},
                                                        headers={"Accept": "application/json"}).json(),
                                   ensure_ascii=False)


# ------------------------------------------------------------------------------------------------ register

def test_register_masks_the_complainant_column_for_an_inspector(site: tuple[Path, str]) -> None:
    root, number = site
    masked = login(root, "inspector").get("/")
    assert masked.status_code == 200 and number in masked.text
    assert "王建国" not in masked.text and "王**" in masked.text
    plain = login(root, "qa").get("/")
    assert "王建国" in plain.text


# ------------------------------------------------------------------------------------------------ access log

def test_access_log_page_lists_entries_newest_first_and_registers_itself(site: tuple[Path, str]) -> None:
    root, number = site
    login(root, "qa").get(f"/cases/{number}")
    client = login(root, "admin")
    r = client.get("/access-log", params={"case": number})
    assert r.status_code == 200
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", r.text)
    assert rows and all(login_ in ("qa", "inspector") for _, login_ in rows)
    times = [t for t, _ in rows]
    assert times == sorted(times, reverse=True)
    assert "查阅" in r.text and "质量保证" in r.text
    last = access_entries(root)[-1]
    assert (last["action"], last["login"], last["query"]) == ("access-log", "admin", f"case={number}")


def test_access_log_json_is_the_cli_access_log_json(site: tuple[Path, str]) -> None:
    root, _ = site
    client = login(root, "admin")
    r = client.get("/access-log", params={"user": "admin"}, headers={"Accept": "application/json"})
    cli = CliRunner().invoke(main, ["--root", str(root), "access-log", "--user", "admin", "--json"])
    assert r.status_code == 200 and r.json() == json.loads(cli.output)
    assert r.json()[-1]["action"] == "access-log"


def test_access_log_bad_date_is_one_line_and_others_are_refused(site: tuple[Path, str]) -> None:
    root, _ = site
    r = login(root, "admin").get("/access-log", params={"from": "2026-13-01"})
    assert r.status_code == 400 and r.text.count('role="alert"') == 1 and "from" in r.text and "YYYY-MM-DD" in r.text
    for role in ("qa", "inspector", "archivist", "manager", "retention"):
        refused = login(root, role).get("/access-log")
        assert refused.status_code == 403 and "无权限" in refused.text


def test_search_help_examples_are_valid_queries() -> None:
    from archive.search.query import parse
    from archive.web.pages.search import EXAMPLES

    for example, _meaning in EXAMPLES:
        parse(example)


# ------------------------------------------------------------------------------------------------ a worked case

def _sign(root: Path, key: Key, number: str, meaning: str) -> None:
    r = CliRunner().invoke(main, ["--root", str(root), "--actor", key.actor, "sign", number, "--key", str(key.pem),
                                  "--meaning", meaning, "--document", "record-form"],
                           env={"ARCHIVE_PASSPHRASE": key.passphrase}, catch_exceptions=False)
    assert r.exit_code == 0, r.output


def test_case_page_shows_versions_corrections_holds_signatures_and_their_verification(
        fresh: tuple[Path, str], tmp_path: Path) -> None:
    root, number = fresh
    updates = tmp_path / "updates"
    updates.mkdir()
    first = {"investigation": {"investigator": "质量保证部 张丽", "findings": "承运商装卸不当",
                               "root_cause": "运输装卸不当", "completed_at": "2026-11-06T17:00:00+08:00"}}
    (updates / "1.json").write_text(json.dumps(first, ensure_ascii=False), encoding="utf-8")
    _cli(root, "update", number, str(updates / "1.json"))
    first["investigation"]["root_cause"] = "运输装卸不当;王建国所述短缺属实"
    (updates / "2.json").write_text(json.dumps(first, ensure_ascii=False), encoding="utf-8")
    _cli(root, "update", number, str(updates / "2.json"), "--reason", "补充根本原因(王建国来电确认)")
    _cli(root, "hold", number, "--reason", "诉讼保全 A")
    _cli(root, "release", number, "--hold", "H1", "--reason", "诉讼结束")
    admin = make_key(root, "zhoumin", "周敏", "档案管理员", tmp_path / "zhoumin.pem")
    zhang = make_key(root, "zhangli", "张丽", "QA 主管", tmp_path / "zhangli.pem", certify_with=admin)
    _sign(root, zhang, number, "drafted")

    qa = login(root, "qa")
    page = qa.get(f"/cases/{number}").text
    assert "各版本及更正原因(2 版)" in page and "补充根本原因(王建国来电确认)" in page
    assert "H1" in page and "已解除" in page and "诉讼保全 A" in page and "诉讼结束" in page
    assert "张丽" in page and "验证通过" in page and "未通过" not in page
    assert "更正" in page and "法律保全" in page and "电子签名" in page  # audit trail labels
    assert "逾期" in page  # the reply deadline (2026-11-03) passed unanswered
    # The investigation (due 2026-11-10) was met on 2026-11-06: its day and 按时完成, not a blank cell.
    row = re.search(r"<td>调查</td>.*?</tr>", page, re.S)
    assert row is not None and "2026-11-06" in row.group(0) and "按时完成" in row.group(0)

    masked = login(root, "inspector").get(f"/cases/{number}").text
    assert "王建国" not in masked and "补充根本原因(王**来电确认)" in masked
    stage = next(p for p in files_of(root, number) if p.startswith("stages/investigation.v2"))
    data = login(root, "inspector").get(f"/cases/{number}/files/{stage}").json()
    assert "王建国" not in json.dumps(data, ensure_ascii=False) and "王**" in data["reason"]

    sig = next(p for p in (record_dirs(root)[number] / "signatures").iterdir())
    rec = json.loads(sig.read_text(encoding="utf-8"))
    rec["name"] = "李四"
    sig.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    page = qa.get(f"/cases/{number}").text
    assert "未通过" in page and "signature_invalid" in page


def test_case_page_offers_no_download_links_to_a_role_that_cannot_download(site: tuple[Path, str]) -> None:
    root, number = site
    page = login(root, "retention").get(f"/cases/{number}")
    assert page.status_code == 200 and "不能下载案件文件" in page.text
    assert f"/cases/{number}/files/" not in page.text
    assert f"/cases/{number}/files/" in login(root, "qa").get(f"/cases/{number}").text


def test_masked_form_is_made_once_per_record_state_and_each_download_registered(
        fresh: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.services import files

    root, number = fresh
    client = login(root, "inspector")
    docx = next(p for p in files_of(root, number) if p.endswith(".docx"))
    first = client.get(f"/cases/{number}/files/{docx}")
    assert first.status_code == 200
    made: list[str] = []
    real = files._render_masked

    def counted(*args: Any) -> bytes:
        made.append(args[2])
        return real(*args)

    monkeypatch.setattr(files, "_render_masked", counted)
    before = len(access_entries(root))
    again = client.get(f"/cases/{number}/files/{docx}")
    assert again.status_code == 200 and again.content == first.content and made == []
    assert len(access_entries(root)) == before + 1
    _cli(root, "hold", number, "--reason", "检查期间保全")  # the record changed: its form is made anew
    assert client.get(f"/cases/{number}/files/{docx}").status_code == 200 and made == [docx]


def test_an_attachment_named_with_spaces_hash_and_chinese_is_linked_and_served(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    assert CliRunner().invoke(main, ["--root", str(root), "init"]).exit_code == 0
    (tmp_path / "投诉函 #1?.txt").write_text("letter", encoding="utf-8")
    case = write_case(tmp_path, attachments=[{"path": "投诉函 #1?.txt", "title": "投诉函"}])
    _cli(root, "intake", str(case))
    add_users(root)
    number = next(iter(record_dirs(root)))
    client = login(root, "qa")
    page = client.get(f"/cases/{number}").text
    href = re.search(rf'href="(/cases/{number}/files/attachments/[^"]+)"', page)
    assert href is not None and "%23" in href.group(1) and "%3F" in href.group(1)
    r = client.get(href.group(1))
    assert r.status_code == 200 and r.content == b"letter"
    saved = f"filename*=UTF-8''{number}-%E6%8A%95%E8%AF%89%E5%87%BD%20%231%3F.txt"
    assert saved in r.headers["content-disposition"]


def test_access_log_page_refused_when_its_own_look_cannot_be_registered(site: tuple[Path, str],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.errors import StorageError
    from archive.store import txn

    root, number = site
    client = login(root, "admin")

    def broken(*_a: Any, **_k: Any) -> dict[str, Any]:
        raise StorageError("查阅登记 could not be written (disk full)")

    monkeypatch.setattr(txn, "record_access", broken)
    r = client.get("/access-log", params={"case": number})
    assert r.status_code == 503 and "查阅登记 could not be written" in r.text
    assert "<table class=\"access\">" not in r.text and "质量部 李敏" not in r.text


def test_the_kept_search_engine_sees_a_case_taken_in_after_it_opened(fresh: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = fresh
    client = login(root, "qa")
    assert "共 0 件" in client.get("/search", params={"q": "受潮结块"}).text
    later = tmp_path / "later"
    later.mkdir()
    case = write_case(later, description="运输途中受潮结块", received_at="2026-11-20T09:00:00+08:00")
    _cli(root, "intake", str(case))
    assert "共 1 件" in client.get("/search", params={"q": "受潮结块"}).text
