"""The web pages of the people who keep the archive (issue 21, part webkeep): the due list, the destruction plan
and legal holds, a purge's dry run, the destruction certificates, the manager's reports and the inspector's
dossier. Each page shows what the CLI's --json shows for the same archive, writes only what the CLI writes
(the logged-in person acting), and never signs or destroys."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, audit_entries, make_key, record_dirs, set_settings, snapshot, write_case
from starlette.testclient import TestClient
from web_helpers import logged_in

PASSWORD = "correct horse battery"
# One user per role, each a person whose name the audit log will carry.
USERS = {"qa": "质量部 王芳", "archivist": "档案管理员 张丽", "inspector": "药监局 检查员赵强",
         "retention": "保管专员 孙悦", "manager": "质量部经理 黄涛", "admin": "系统管理员 周敏"}
COMPLAINANT = "欧阳修远"  # the complainant of every case below: a name no report page may show


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _add_users(root: Path, see_personal: str | None = None) -> None:
    from archive.services.archive import Archive
    from archive.services.users import add

    arc = Archive.open(root, "系统管理员 周敏", write=True)
    for role, name in USERS.items():
        add(arc, role, name, role, PASSWORD)


def login(root: Path, role: str) -> TestClient:
    return logged_in(root, role, PASSWORD)  # type: ignore[no-any-return]


def page_csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def as_json(client: TestClient, path: str, **params: str) -> Any:
    r = client.get(path, params=params, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    return r.json()


def unchanged(root: Path) -> dict[str, str]:
    """The root's snapshot without the access register, which every page visit adds to by design."""
    return {k: v for k, v in snapshot(root).items() if not k.startswith(("audit/access.jsonl", "audit/.access"))}


def access(root: Path) -> list[dict[str, Any]]:
    path = root / "audit" / "access.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _close(cli: Cli, tmp: Path, number: str, *extra: str, **more: Any) -> None:
    stages: dict[str, Any] = {
        "investigation": {"investigator": "质量部 陈工", "findings": "运输破损",
                          "completed_at": "2022-03-20T10:00:00+08:00"},
        "response": {"replied_at": "2022-03-21T10:00:00+08:00", "method": "phone", "content": "已答复客户"},
        **more,
        "closure": {"closed_at": "2022-04-10T09:00:00+08:00", "approved_by": "质量部经理 黄涛"}}
    path = tmp / f"close-{number}.json"
    path.write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
    r = cli("update", number, str(path), *extra)
    assert r.exit_code == 0, r.output


def _old_case(cli: Cli, tmp: Path, name: str, day: int, *, close: bool = True, **more: Any) -> str:
    """Received and closed in 2022 (product expired 2023): kept until 2025, so due today."""
    case = write_case(tmp, f"{name}.json", received_at=f"2022-03-{day:02d}T10:00:00+08:00",
                      complainant={"name": COMPLAINANT, "phone": "13812345678"},
                      product={"name": "阿莫西林胶囊", "lot": f"L{name}", "expiry_date": "2023-01-31"},
                      description=f"外包装破损 独特词{name}")
    number = str(_json(cli("intake", "--json", str(case)))[0]["number"])
    if close:
        _close(cli, tmp, number, **more)
    return number


@pytest.fixture
def kept(cli: Cli, root: Path, tmp_path: Path) -> dict[str, str]:
    """Due, held and CAPA-blocked cases, an open one, and a user per role."""
    capa = [{"kind": "corrective", "action": "更换包装供应商", "owner": "采购部 王五", "due": "2022-06-30"}]
    numbers = {"due": _old_case(cli, tmp_path, "a", 1), "held": _old_case(cli, tmp_path, "b", 2),
               "capa": _old_case(cli, tmp_path, "c", 3, close=False), "open": _old_case(cli, tmp_path, "d", 4,
                                                                                       close=False)}
    _close(cli, tmp_path, numbers["capa"], "--reason", "措施长期执行,先行结案", capa=capa)
    assert cli("hold", numbers["held"], "--reason", "诉讼待决").exit_code == 0
    _add_users(root)
    return numbers


# ---------------------------------------------------------------- 1. the retention page

def test_the_retention_page_shows_what_the_cli_shows(cli: Cli, root: Path, kept: dict[str, str]) -> None:
    from archive import clock, settings

    today = clock.today(settings.load(root).zone).isoformat()
    want = {"due": _json(cli("retention", "due", "--as-of", today, "--json")),
            "schedule": _json(cli("retention", "schedule", "--json")), "holds": _json(cli("holds", "--json"))}
    for role in ("archivist", "retention", "manager"):
        client = login(root, role)
        assert as_json(client, "/retention") == want
    assert [d["number"] for d in want["due"]["due"]] == [kept["due"]]
    html = login(root, "archivist").get("/retention").text
    for text in ("到期待销毁", "销毁计划", "法律保全", kept["due"], "更换包装供应商", "诉讼待决", "施加法律保全",
                 "解除保全"):
        assert text in html
    assert "CAPA action(s)" not in html  # the reason in Chinese, from its parts
    assert access(root)[-1]["action"] == "view"


def test_a_role_without_retention_is_refused_with_nothing_done(root: Path, kept: dict[str, str]) -> None:
    for role in ("qa", "inspector", "admin"):
        r = login(root, role).get("/retention")
        assert r.status_code == 403 and "无权限" in r.text
    manager = login(root, "manager")
    assert "施加法律保全" not in manager.get("/retention").text  # may look, may not hold
    before = unchanged(root)
    r = manager.post(f"/cases/{kept['due']}/hold", data={"reason": "x", "csrf": page_csrf(manager, "/retention")})
    assert r.status_code == 403 and "法律保全与解除" in r.text
    assert unchanged(root) == before


def test_a_name_typed_into_a_hold_reason_is_masked_for_roles_without_personal_data(cli: Cli, root: Path,
                                                                                     kept: dict[str, str]) -> None:
    reason = f"{COMPLAINANT} 起诉,联系电话 13812345678"
    assert cli("hold", kept["due"], "--reason", reason).exit_code == 0
    from archive import clock, settings

    today = clock.today(settings.load(root).zone).isoformat()
    for role, path in (("manager", "/retention"), ("retention", "/retention"), ("retention", "/retention/purge")):
        client = login(root, role)
        shown = client.get(path, params={"as_of": today}).text + json.dumps(as_json(client, path), ensure_ascii=False)
        assert COMPLAINANT not in shown and "13812345678" not in shown and "138****5678" in shown, (role, path)
    assert reason in login(root, "archivist").get("/retention").text  # [web] see_personal_data: as typed


def test_every_route_of_this_part_refuses_a_role_without_its_action(root: Path, kept: dict[str, str]) -> None:
    from archive.web import permissions, routing

    routing.loaded()
    mine = {(p, m): a for (p, m), a in routing.ACTION_OF.items()
            if p.startswith(("/retention", "/reports", "/dossier")) or p.endswith(("/hold", "/release"))}
    assert len(mine) == 14
    for role in USERS:
        client = login(root, role)
        token = page_csrf(client, "/login")
        before = unchanged(root)
        for (path, method), action in mine.items():
            if permissions.allowed(role, action):
                continue
            url = re.sub(r"\{number\}", kept["due"], path)
            url = re.sub(r"\{[a-z_]+\}", "x", url)
            r = client.request(method, url, data={"reason": "r", "hold_id": "H1", "numbers": kept["due"],
                                                  "csrf": token} if method == "POST" else None)
            assert r.status_code == 403 and "无权限" in r.text, (role, method, url)
        assert unchanged(root) == before


# ---------------------------------------------------------------- 2. holds

def test_a_hold_and_its_release_on_the_web_leave_the_cli_s_audit_entries(root: Path, kept: dict[str, str]) -> None:
    client = login(root, "archivist")
    number = kept["due"]
    r = client.post(f"/cases/{number}/hold", data={"reason": "监管检查", "back": "retention",
                                                   "csrf": page_csrf(client, "/retention")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/retention"
    entry = audit_entries(root)[-1]
    assert (entry["action"], entry["actor"], entry["number"], entry["reason"]) == ("hold", USERS["archivist"],
                                                                                    number, "监管检查")
    by_cli = next(e for e in audit_entries(root) if e["action"] == "hold" and e["number"] == kept["held"])
    assert set(entry) == set(by_cli) and entry["hold"] == by_cli["hold"] == "H1"
    assert [f["path"] for f in entry["files"]] == [f["path"] for f in by_cli["files"]]
    page = client.get("/retention").text
    assert "已施加法律保全 H1" in page
    assert number not in [d["number"] for d in as_json(client, "/retention")["due"]["due"]]
    r = client.post(f"/cases/{number}/release", data={"hold_id": "H1", "reason": "检查结束",
                                                      "csrf": page_csrf(client, "/retention")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{number}"
    entry = audit_entries(root)[-1]
    assert (entry["action"], entry["actor"], entry["reason"], entry["hold"]) == ("release", USERS["archivist"],
                                                                                  "检查结束", "H1")
    assert [f["path"] for f in entry["files"]] == ["holds/H1.v2.json"]
    # A program gets what `archive hold --json` prints.
    r = client.post(f"/cases/{number}/hold", data={"reason": "再次保全"},
                    headers={"Accept": "application/json", "X-CSRF-Token": page_csrf(client, "/retention")})
    assert r.status_code == 200 and r.json() == {"number": number, "hold": "H2"}


def test_a_hold_or_release_without_a_reason_is_refused_with_nothing_written(root: Path,
                                                                             kept: dict[str, str]) -> None:
    client = login(root, "retention")
    token = page_csrf(client, "/retention")
    before = unchanged(root)
    r = client.post(f"/cases/{kept['due']}/hold", data={"reason": "  ", "csrf": token})
    assert r.status_code == 400 and "请填写保全原因" in r.text
    r = client.post(f"/cases/{kept['held']}/release", data={"hold_id": "H1", "reason": "", "csrf": token})
    assert r.status_code == 400 and "请填写解除原因" in r.text
    r = client.post(f"/cases/{kept['held']}/release", data={"hold_id": "H9", "reason": "结束", "csrf": token})
    assert r.status_code == 404 and "H9" in r.text
    assert unchanged(root) == before


# ---------------------------------------------------------------- 3. the purge preview

def test_the_purge_preview_is_the_dry_run_and_changes_nothing(cli: Cli, root: Path, kept: dict[str, str]) -> None:
    from archive import clock, settings

    today = clock.today(settings.load(root).zone).isoformat()
    want = _json(cli("purge", "--as-of", today, "--approved-by", "质量部经理 黄涛", "--json"))
    before = unchanged(root)
    client = login(root, "retention")
    got = as_json(client, "/retention/purge", as_of=today, approved_by="质量部经理 黄涛")
    assert got == want and got["destroyed"] == [kept["due"]] and got["executed"] is False
    html = client.get("/retention/purge", params={"as_of": today}).text
    assert unchanged(root) == before
    assert kept["due"] in html and "更换包装供应商" in html and "诉讼待决" in html
    assert "archive --root" in html and "purge --as-of" in html and "--execute" in html and "--witness" in html
    assert "不代任何人签名" in html
    forms = re.findall(r"<form[^>]*>", html)
    assert all('method="get"' in f or 'action="/logout"' in f for f in forms), forms  # no control that executes
    assert "<button" not in html.split("</header>", 1)[1].replace('<button type="submit">预览</button>', "")


# ---------------------------------------------------------------- 4. certificates

@pytest.fixture
def certified(cli: Cli, root: Path, tmp_path: Path, kept: dict[str, str]) -> str:
    """One executed run under destruction_signatures = 1: the approver signed, no witness."""
    from archive import clock, settings

    folder = tmp_path / "private"
    folder.mkdir()
    admin = make_key(root, "zhoumin", "周敏", "系统管理员", folder / "zhoumin.pem", "admin-pass")
    huang = make_key(root, "huang", "黄涛", "质量部经理", folder / "huang.pem", "approver-pass", certify_with=admin)
    set_settings(root, lambda t: t.replace("destruction_signatures = 2", "destruction_signatures = 1"))
    today = clock.today(settings.load(root).zone).isoformat()
    out = _json(cli("--actor", USERS["archivist"], "purge", "--as-of", today, "--approved-by", "质量部经理 黄涛",
                    "--execute", "--json", "--sign-as", str(huang.pem), env={"ARCHIVE_PASSPHRASE": "approver-pass"}))
    assert out["destroyed"] == [kept["due"]]
    return str(out["certificate"]).rsplit("/", 1)[-1].removesuffix(".json")


def test_certificates_show_who_signed_and_which_signature_is_missing(cli: Cli, root: Path, certified: str) -> None:
    client = login(root, "inspector")
    got = as_json(client, "/retention/certificates")
    assert got == _json(cli("retention", "certificates", "--json"))
    [cert] = got
    assert cert["id"] == certified and cert["signed"] == ["approved"] and cert["missing"] == ["witnessed"]
    html = client.get("/retention/certificates").text
    assert "批准人签名:已签" in html and "监销人签名:尚缺" in html and USERS["archivist"] in html
    assert "<form" not in html.split("</header>", 1)[1]  # nothing to sign with


def test_a_certificate_s_own_files_download_and_nothing_else(root: Path, certified: str) -> None:
    client = login(root, "archivist")
    pdf = client.get(f"/retention/certificates/{certified}/{certified}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.content == (root / "certificates" / f"{certified}.pdf").read_bytes()
    assert access(root)[-1]["action"] == "download" and access(root)[-1]["path"] == f"certificates/{certified}.pdf"
    js = client.get(f"/retention/certificates/{certified}/{certified}.json")
    assert js.status_code == 200 and js.json()["id"] == certified
    for bad in ("archive.toml", "%2e%2e", "..%2farchive.toml", f"{certified}.txt"):
        r = client.get(f"/retention/certificates/{certified}/{bad}")
        assert r.status_code == 404, bad
    r = client.get("/retention/certificates/%2e%2e/archive.toml")
    assert r.status_code == 404 and "没有销毁证明" in r.text


# ---------------------------------------------------------------- 5. reports

@pytest.fixture
def reported(cli: Cli, root: Path, tmp_path: Path) -> str:
    """Last month's cases, all from one complainant who gives no organisation (the trend by customer would
    name her), and a user per role; returns the month. Last month: the days the tests write cases on (1st to
    9th) are all behind us whatever the hour, where this month's may still be ahead (a run crossing midnight
    into the 1st failed so)."""
    from archive import clock, settings

    month = (clock.today(settings.load(root).zone).replace(day=1) - dt.timedelta(days=1)).isoformat()[:7]
    for i, category in enumerate(("packaging", "packaging", "quality"), start=1):
        case = write_case(tmp_path, f"r{i}.json", received_at=f"{month}-0{i}T10:00:00+08:00", category=category,
                          complainant={"name": COMPLAINANT, "phone": "13812345678"})
        assert cli("intake", str(case)).exit_code == 0
    _add_users(root)
    return month


def test_the_monthly_report_page_shows_the_cli_s_figures_and_no_names(cli: Cli, root: Path, reported: str) -> None:
    want = _json(cli("report", "monthly", reported, "--json"))
    client = login(root, "manager")
    assert as_json(client, "/reports/monthly", month=reported) == want
    assert want["received"] == 3
    html = client.get("/reports/monthly", params={"month": reported}).text
    from archive import vocab

    assert "本月受理" in html and vocab.CATEGORY["packaging"] in html and vocab.CATEGORY["quality"] in html
    assert f"/reports/monthly/{reported}/chart/pareto.png" in html
    assert COMPLAINANT not in html and "13812345678" not in html
    entry = access(root)[-1]
    assert entry["action"] == "report" and entry["login"] == "manager"
    assert login(root, "qa").get("/reports/monthly", params={"month": reported}).status_code == 200
    for role in ("archivist", "inspector", "retention", "admin"):
        assert login(root, role).get("/reports/monthly", params={"month": reported}).status_code == 403
    r = client.get("/reports/monthly", params={"month": "2026-13"})
    assert r.status_code == 400 and "YYYY-MM" in r.text


def test_the_monthly_figures_follow_a_write_made_after_the_page_was_seen(cli: Cli, root: Path, tmp_path: Path,
                                                                         reported: str) -> None:
    client = login(root, "manager")
    assert as_json(client, "/reports/monthly", month=reported)["received"] == 3
    case = write_case(tmp_path, "later.json", received_at=f"{reported}-06T10:00:00+08:00", description="后来的投诉")
    assert cli("intake", str(case)).exit_code == 0
    assert as_json(client, "/reports/monthly", month=reported) == _json(cli("report", "monthly", reported, "--json"))
    assert as_json(client, "/reports/monthly", month=reported)["received"] == 4


def test_the_report_charts_are_png_made_in_memory(root: Path, reported: str) -> None:
    client = login(root, "manager")
    before = unchanged(root)
    for name in ("trend", "pareto", "on-time"):
        r = client.get(f"/reports/monthly/{reported}/chart/{name}.png")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert client.get(f"/reports/monthly/{reported}/chart/secret.png").status_code == 404
    r = client.get("/reports/trend/chart.png", params={"from": reported, "to": reported, "by": "customer"})
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    assert unchanged(root) == before


def test_the_trend_page_is_the_cli_s_and_masks_a_complainant_named_as_customer(cli: Cli, root: Path,
                                                                               reported: str) -> None:
    want = _json(cli("report", "trend", "--from", reported, "--to", reported, "--by", "category", "--json"))
    manager = login(root, "manager")
    params = {"from": reported, "to": reported, "by": "category"}
    assert as_json(manager, "/reports/trend", **params) == want
    html = manager.get("/reports/trend", params=params).text
    assert "合计" in html and all(r["label"] in html for r in want["rows"])
    by_customer = {**params, "by": "customer"}
    company = write_case(root.parent, "company.json", received_at=f"{reported}-05T10:00:00+08:00",
                         complainant={"name": "李四", "organization": "华东医药连锁有限公司"})
    assert cli("intake", str(company)).exit_code == 0
    masked = as_json(manager, "/reports/trend", **by_customer)
    assert [r["label"] for r in masked["rows"]] == ["欧阳**", "华东医药连锁有限公司"]  # a company is no person
    html = manager.get("/reports/trend", params=by_customer).text
    assert COMPLAINANT not in html and "欧阳**" in html
    assert COMPLAINANT not in json.dumps(masked, ensure_ascii=False)
    # QA sees personal data ([web] see_personal_data): the trend names the customer as the CLI does.
    assert as_json(login(root, "qa"), "/reports/trend", **by_customer) == _json(
        cli("report", "trend", "--from", reported, "--to", reported, "--by", "customer", "--json"))


def test_a_root_cause_that_names_the_customer_is_masked_on_the_trend_page(cli: Cli, root: Path, reported: str,
                                                                          tmp_path: Path) -> None:
    """Found in review: the trend's root-cause flags showed the investigation's words as written."""
    cause = f"{COMPLAINANT}(13812345678)所购批次运输装卸不当"
    for number in sorted(record_dirs(root))[:2]:
        update = tmp_path / f"inv-{number}.json"
        update.write_text(json.dumps({"investigation": {"investigator": "质量部 陈工", "findings": "装卸不当",
                                                        "root_cause": cause,
                                                        "completed_at": f"{reported}-09T10:00:00+08:00"}},
                                     ensure_ascii=False), encoding="utf-8")
        assert cli("update", number, str(update)).exit_code == 0
    params = {"from": reported, "to": reported, "by": "category"}
    plain = as_json(login(root, "qa"), "/reports/trend", **params)
    assert [f["key"] for f in plain["flags"] if f["kind"] == "root_cause"] == [cause]
    masked = login(root, "manager")
    text = json.dumps(as_json(masked, "/reports/trend", **params), ensure_ascii=False)
    html = masked.get("/reports/trend", params=params).text
    for shown in (text, html):
        assert COMPLAINANT not in shown and "13812345678" not in shown and "欧阳**(138****5678)所购批次" in shown


def test_the_monthly_document_downloads_without_writing_into_the_root(root: Path, reported: str) -> None:
    client = login(root, "manager")
    before = unchanged(root)
    r = client.get(f"/reports/monthly/{reported}/file/pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert f"monthly-{reported}.pdf" in r.headers["content-disposition"]
    docx = client.get(f"/reports/monthly/{reported}/file/docx")
    assert docx.status_code == 200 and docx.content.startswith(b"PK")
    assert unchanged(root) == before
    entry = access(root)[-1]
    assert (entry["action"], entry["path"]) == ("export", f"monthly-{reported}.docx")
    assert client.get(f"/reports/monthly/{reported}/file/json").status_code == 404


# ---------------------------------------------------------------- 6. the dossier

@pytest.fixture
def exported(cli: Cli, root: Path, tmp_path: Path) -> dict[str, Any]:
    """Two cases, a user per role, and the archivist's own certified key."""
    numbers = [str(_json(cli("intake", "--json", str(write_case(tmp_path, f"x{i}.json", description=f"外包装破损{i}",
                                                               product={"name": "阿莫西林胶囊", "lot": f"DOSSIER{i}",
                                                                        "expiry_date": "2028-07-31"}))))[0]["number"])
               for i in (1, 2)]
    folder = tmp_path / "private"
    folder.mkdir()
    admin = make_key(root, "zhoumin", "周敏", "系统管理员", folder / "zhoumin.pem", "admin-pass")
    zhang = make_key(root, "zhangli", "张丽", "档案管理员", folder / "zhangli.pem", "zhang-pass", certify_with=admin)
    _add_users(root)
    return {"numbers": numbers, "key": zhang}


def _our_temp_folders() -> set[str]:
    import tempfile

    return {p.name for p in Path(tempfile.gettempdir()).glob("archive-web-dossier-*")}


def test_the_dossier_zip_passes_dossier_check_and_is_audited_and_registered(cli: Cli, root: Path, tmp_path: Path,
                                                                          exported: dict[str, Any]) -> None:
    numbers, key = exported["numbers"], exported["key"]
    client = login(root, "archivist")
    temps = _our_temp_folders()
    r = client.post("/dossier", data={"numbers": " ".join(numbers), "passphrase": key.passphrase,
                                      "csrf": page_csrf(client, "/dossier")},
                    files={"key": ("zhangli.pem", key.pem.read_bytes(), "application/octet-stream")})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text[:300]
    out = tmp_path / "unzipped"
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(out)
    [folder] = list(out.iterdir())
    check = cli("dossier", "check", str(folder), "--json")
    assert check.exit_code == 0 and json.loads(check.stdout)["ok"] is True, check.output
    info = json.loads((folder / "bag" / "data" / "dossier.json").read_text(encoding="utf-8"))
    assert [c["number"] for c in info["cases"]] == numbers and info["pdf"]["signed_by"] == "zhangli"
    assert info["exported_by"] == USERS["archivist"]
    entry = audit_entries(root)[-1]
    assert entry["action"] == "dossier" and entry["actor"] == USERS["archivist"] and entry["cases"] == numbers
    registered = access(root)[-1]
    assert registered["action"] == "export" and all(n in registered["detail"] for n in numbers)
    assert _our_temp_folders() == temps  # the export, its zip and the key file are gone
    by_query = client.post("/dossier", data={"query": "lot:DOSSIER2", "csrf": page_csrf(client, "/dossier")})
    assert by_query.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(by_query.content)).namelist()
    assert any(f"/cases/{numbers[1]}/" in n for n in names) and not any(f"/cases/{numbers[0]}/" in n for n in names)


def test_a_dossier_refused_for_bad_input_writes_nothing(root: Path, exported: dict[str, Any]) -> None:
    client = login(root, "archivist")
    token = page_csrf(client, "/dossier")
    before, temps = unchanged(root), _our_temp_folders()
    r = client.post("/dossier", data={"numbers": "", "query": "", "csrf": token})
    assert r.status_code == 400 and "二者选其一" in r.text
    r = client.post("/dossier", data={"numbers": exported["numbers"][0], "passphrase": "wrong", "csrf": token},
                    files={"key": ("k.pem", exported["key"].pem.read_bytes(), "application/octet-stream")})
    assert r.status_code == 400
    r = client.post("/dossier", data={"numbers": "99990001", "csrf": token})
    assert r.status_code == 404
    assert unchanged(root) == before and _our_temp_folders() == temps


def test_an_inspector_is_refused_the_dossier_with_the_setting_that_would_allow_it(root: Path,
                                                                                 exported: dict[str, Any]) -> None:
    client = login(root, "inspector")
    form = client.get("/dossier")
    assert form.status_code == 200 and "[web] see_personal_data" in form.text
    assert "导出检查档案</button>" not in form.text
    before = unchanged(root)
    r = client.post("/dossier", data={"numbers": exported["numbers"][0], "csrf": page_csrf(client, "/dossier")})
    assert r.status_code == 403 and "无法脱敏" in r.text and "[web] see_personal_data" in r.text
    assert unchanged(root) == before
    for role in ("qa", "retention", "manager", "admin"):
        assert login(root, role).get("/dossier").status_code == 403


def test_a_role_given_see_personal_data_may_export_the_dossier(root: Path, exported: dict[str, Any]) -> None:
    set_settings(root, lambda t: t.replace('see_personal_data = ["qa", "archivist", "admin"]',
                                           'see_personal_data = ["qa", "archivist", "admin", "inspector"]'))
    client = login(root, "inspector")
    assert "[web] see_personal_data" not in client.get("/dossier").text
    r = client.post("/dossier", data={"numbers": exported["numbers"][0], "csrf": page_csrf(client, "/dossier")})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert audit_entries(root)[-1]["actor"] == USERS["inspector"]
