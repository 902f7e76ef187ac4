"""`archive report monthly YYYY-MM`: the 客户投诉案件统计表, its figures checked against a hand-counted month.

October 2026, around National Day (1–7 October holidays, 8–10 October working days, 10 October a Saturday
worked in exchange). Written complaints are answered within 2 working days:

  S1 26090001  email  29 Sep  quality    reply due 8 Oct, given 9 Oct (1 working day late); investigation due
                                         6 Oct (7 days), done 10 Oct (late); still open
  S2 26090002  email  30 Sep  packaging  reply due 9 Oct (not 2 Oct: the holidays are not working days), given
                                         9 Oct (on time); investigation done 7 Oct; closed 22 Oct
  O1 26100001  phone  12 Oct  quality    answered the same day; closed 20 Oct; a CAPA action due 30 Oct done 28 Oct
  O2 26100002  phone  14 Oct  billing    closed 16 Oct, destroyed by a purge three years later (its tombstone)
  O3 26100003  phone  15 Oct  service    never answered: late and overdue at the month's end
  O4 26100004  letter 20 Oct  delivery   answered 21 Oct, closed 28 Oct, reopened today
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Cli, make_key, snapshot, write_case

from archive.cli import main

MONTH = "2026-10"
ENV = {"ARCHIVE_PASSPHRASE": "approver-pass", "ARCHIVE_WITNESS_PASSPHRASE": "witness-pass"}


def _run(root: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, ["--root", str(root), "--actor", "测试员 tester", *args], env=env,
                              catch_exceptions=False)


def _ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def _update(root: Path, folder: Path, number: str, stages: dict[str, Any], *extra: str) -> None:
    path = folder / f"update-{number}-{len(list(folder.glob('update-*')))}.json"
    path.write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
    _ok(_run(root, "update", number, str(path), *extra))


def _investigation(done: str, **more: Any) -> dict[str, Any]:
    return {"investigator": "质量部 陈工", "findings": "调查完成", "completed_at": f"{done}T10:00:00+08:00", **more}


def _reply(day: str) -> dict[str, Any]:
    return {"replied_at": f"{day}T15:00:00+08:00", "method": "phone", "content": "已答复客户"}


def _closure(day: str) -> dict[str, Any]:
    return {"closed_at": f"{day}T17:00:00+08:00", "approved_by": "质量部经理 黄涛"}


@pytest.fixture(scope="module")
def october(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The hand-counted month (module docstring): its root and its case numbers by name."""
    base = tmp_path_factory.mktemp("monthly")
    root = base / "root"
    root.mkdir()
    _ok(CliRunner().invoke(main, ["--root", str(root), "init"]))
    cases = {
        "S1": dict(received_at="2026-09-29T10:00:00+08:00", channel="email", category="quality", severity="major",
                   product={"name": "阿莫西林胶囊", "lot": "B2026080315", "expiry_date": "2028-07-31"}),
        "S2": dict(received_at="2026-09-30T09:00:00+08:00", channel="email", category="packaging", severity="minor"),
        "O1": dict(received_at="2026-10-12T09:00:00+08:00", channel="phone", category="quality", severity="minor",
                   product={"name": "阿莫西林胶囊", "lot": "B2026080315", "expiry_date": "2028-07-31"}),
        "O2": dict(received_at="2026-10-14T10:00:00+08:00", channel="phone", category="billing", severity="minor",
                   product={"name": "头孢克肟片", "lot": "C2026070101", "expiry_date": "2027-07-31"}),
        "O3": dict(received_at="2026-10-15T10:00:00+08:00", channel="phone", category="service", severity="minor",
                   product={"name": "头孢克肟片", "lot": "C2026070101", "expiry_date": "2027-07-31"}),
        "O4": dict(received_at="2026-10-20T10:00:00+08:00", channel="letter", category="delivery", severity="minor",
                   product={"name": "头孢克肟片", "lot": "C2026070102", "expiry_date": "2027-07-31"}),
    }
    n: dict[str, str] = {}
    for name, fields in cases.items():
        out = _ok(_run(root, "intake", "--json", str(write_case(base, f"{name}.json", **fields))))
        n[name] = json.loads(out.stdout)[0]["number"]
    _update(root, base, n["S1"], {"investigation": _investigation("2026-10-10", root_cause="封口工艺参数漂移",
                                                                  responsibility="ours"),
                                  "response": _reply("2026-10-09")})
    _update(root, base, n["S2"], {"investigation": _investigation("2026-10-07", root_cause="封口工艺参数漂移",
                                                                  responsibility="ours"),
                                  "response": _reply("2026-10-09"), "closure": _closure("2026-10-22")})
    _update(root, base, n["O1"], {"investigation": _investigation("2026-10-15", root_cause="运输挤压",
                                                                  responsibility="supplier"),
                                  "capa": [{"kind": "corrective", "action": "更换承运商", "owner": "物流部 李强",
                                            "due": "2026-10-30", "done_at": "2026-10-28"}],
                                  "response": _reply("2026-10-12"), "closure": _closure("2026-10-20")})
    _update(root, base, n["O2"], {"investigation": _investigation("2026-10-15", responsibility="none"),
                                  "response": _reply("2026-10-14"), "closure": _closure("2026-10-16")})
    _update(root, base, n["O4"], {"investigation": _investigation("2026-10-27", responsibility="none"),
                                  "response": _reply("2026-10-21"), "closure": _closure("2026-10-28")})
    _update(root, base, n["O4"], {"follow_up": {"visited_at": "2026-11-02T10:00:00+08:00", "by": "张丽",
                                                "satisfaction": "dissatisfied"}},
            "--reopen", "--reason", "客户再次投诉")
    _destroy(root, base)
    assert not list((root / "records").glob(f"*/*/{n['O2']}")), "O2 was to be destroyed"
    return {"root": root, "base": base, "n": n}


def _destroy(root: Path, base: Path) -> None:
    """O2 (closed 16 Oct 2026) falls due on 17 Oct 2029, the others later: a purge as of that day destroys it."""
    from archive import clock

    keys = base / "keys"
    keys.mkdir()
    admin = make_key(root, "zhoumin", "周敏", "系统管理员", keys / "zhoumin.pem", "admin-pass")
    huang = make_key(root, "huang", "黄涛", "质量部经理", keys / "huang.pem", "approver-pass", certify_with=admin)
    li = make_key(root, "li", "李明", "档案管理员", keys / "li.pem", "witness-pass", certify_with=admin)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clock, "today", lambda zone: dt.date(2029, 11, 30))
        result = CliRunner().invoke(main, [
            "--root", str(root), "--actor", huang.actor, "purge", "--as-of", "2029-10-17", "--approved-by",
            huang.actor, "--execute", "--json", "--sign-as", str(huang.pem), "--witness", str(li.pem)],
            env=ENV, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _figures(october: dict[str, Any], month: str = MONTH, *extra: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_ok(_run(october["root"], "report", "monthly", month, "--json", *extra)).stdout)
    return data


@pytest.fixture(scope="module")
def figures(october: dict[str, Any]) -> dict[str, Any]:
    return _figures(october)


def test_cases_received_closed_and_open_are_counted_by_hand(october: dict[str, Any], figures: dict[str, Any]) -> None:
    n = october["n"]
    assert figures["month"] == MONTH
    assert (figures["received"], figures["closed"], figures["open_at_start"], figures["open_at_end"]) == (4, 4, 2, 2)
    assert figures["cases"]["received"] == [n["O1"], n["O2"], n["O3"], n["O4"]]
    assert figures["cases"]["closed"] == [n["S2"], n["O1"], n["O2"], n["O4"]]
    assert figures["cases"]["open_at_start"] == [n["S1"], n["S2"]]
    assert figures["cases"]["open_at_end"] == [n["S1"], n["O3"]]


def test_counts_by_category_severity_and_channel_are_over_the_cases_received(figures: dict[str, Any]) -> None:
    assert figures["by_category"] == {"billing": 1, "delivery": 1, "quality": 1, "service": 1}
    assert figures["by_severity"] == {"minor": 3, "destroyed": 1}
    assert figures["by_channel"] == {"phone": 2, "destroyed": 1, "letter": 1}
    assert figures["by_lot"] == {"C2026070101": 1, "B2026080315": 1, "C2026070102": 1, "destroyed": 1}
    assert figures["shares"]["category"]["quality"] == 0.25


def test_responsibility_is_counted_over_the_cases_closed(october: dict[str, Any], figures: dict[str, Any]) -> None:
    assert figures["by_responsibility_closed"] == {"none": 1, "destroyed": 1, "ours": 1, "supplier": 1}
    assert figures["cases"]["by_responsibility_closed"]["ours"] == [october["n"]["S2"]]


def test_a_reply_due_across_national_day_is_judged_in_working_days(october: dict[str, Any],
                                                                    figures: dict[str, Any]) -> None:
    n = october["n"]
    # S2, received 30 Sep, answered 9 Oct: on time (due 9 Oct). S1, received 29 Sep, answered 9 Oct: due 8 Oct.
    assert figures["reply_on_time"] == [n["S2"], n["O1"], n["O4"]]
    assert figures["reply_late"] == [n["S1"], n["O3"]]
    s1 = next(r for r in figures["reply_late_detail"] if r["number"] == n["S1"])
    assert (s1["due"], s1["done"], s1["working_days"]) == ("2026-10-08", "2026-10-09", 1)
    assert figures["investigation_late"] == [n["S1"], n["O3"]]
    assert figures["investigation_on_time"] == [n["S2"], n["O1"], n["O4"]]


def test_days_to_close_overdue_cases_and_capa_actions(october: dict[str, Any], figures: dict[str, Any]) -> None:
    n = october["n"]
    assert figures["days_to_close"] == {"median": 8, "p90": 22}  # O1 8, O4 8, S2 22; O2 is destroyed
    assert [o["number"] for o in figures["overdue"]] == [n["O3"]]
    assert {m["deadline"] for m in figures["overdue"][0]["marks"]} == {"reply", "investigation"}
    assert (figures["capa"]["due"], figures["capa"]["done"]) == (1, 1)
    assert figures["capa"]["due_cases"] == [n["O1"]]


def test_a_destroyed_case_is_counted_as_destroyed_not_vanished(october: dict[str, Any],
                                                               figures: dict[str, Any]) -> None:
    n = october["n"]
    assert figures["destroyed"] == [n["O2"]]
    assert n["O2"] in figures["cases"]["received"] and n["O2"] in figures["cases"]["closed"]
    assert figures["cases"]["by_category"]["billing"] == [n["O2"]]


def test_a_reopened_case_counts_as_closed_in_its_month_and_open_once_reopened(october: dict[str, Any],
                                                                             figures: dict[str, Any]) -> None:
    from archive import clock, settings

    n = october["n"]
    assert n["O4"] in figures["cases"]["closed"] and figures["reopened"] == []
    today = clock.today(settings.load(october["root"]).zone)
    now = _figures(october, today.isoformat()[:7])
    assert now["reopened"] == [n["O4"]]
    assert n["O4"] in now["cases"]["open_at_end"]


def test_the_json_has_the_contract_keys(figures: dict[str, Any]) -> None:
    contract = {"month", "received", "closed", "open_at_end", "by_category", "by_severity", "by_channel",
                "reply_late", "cases", "files"}
    assert contract <= set(figures)
    assert {"received", "closed"} <= set(figures["cases"])
    assert figures["files"] == {"docx": None, "pdf": None, "json": None, "charts": []}


def test_the_same_state_gives_the_same_figures(october: dict[str, Any], figures: dict[str, Any]) -> None:
    assert _figures(october) == figures


def test_the_document_pdf_and_charts_are_written_outside_the_root(october: dict[str, Any], tmp_path: Path) -> None:
    from pypdf import PdfReader

    root = october["root"]
    before = snapshot(root)
    data = _figures(october, MONTH, "--out", str(tmp_path))
    assert snapshot(root) == before, "a report wrote inside the root"
    files = data["files"]
    assert Path(files["docx"]).is_file() and Path(files["pdf"]).is_file()
    assert len(files["charts"]) == 3
    for chart in files["charts"]:
        raw = Path(chart).read_bytes()
        assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 5000
    text = "".join(page.extract_text() for page in PdfReader(files["pdf"]).pages)
    assert "客户投诉案件统计表" in text
    assert "产品质量" in text and "GL-004-11" in text
    assert october["n"]["O2"] in text  # the appendix names the cases
    beside = json.loads(Path(files["json"]).read_text(encoding="utf-8"))
    assert beside["cases"] == data["cases"] and beside["files"] == files


def test_an_existing_file_is_kept_without_force(october: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / f"monthly-{MONTH}.docx").write_bytes(b"earlier")
    result = _run(october["root"], "report", "monthly", MONTH, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "file exists; --force replaces it" in result.output
    assert (tmp_path / f"monthly-{MONTH}.docx").read_bytes() == b"earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"monthly-{MONTH}.docx"]


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "October", "2026-10-01"])
def test_a_month_that_is_not_yyyy_mm_is_refused_in_one_line(october: dict[str, Any], tmp_path: Path,
                                                           month: str) -> None:
    result = _run(october["root"], "report", "monthly", month, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "is not a month YYYY-MM" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_out_inside_the_root_is_refused(october: dict[str, Any]) -> None:
    root = october["root"]
    before = snapshot(root)
    result = _run(root, "report", "monthly", MONTH, "--out", str(root / "records"))
    assert result.exit_code == 2
    assert "inside the archive root" in result.output
    assert snapshot(root) == before


def test_the_same_state_gives_the_same_chart_files(october: dict[str, Any], tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    one = _figures(october, MONTH, "--out", str(first))["files"]["charts"]
    two = _figures(october, MONTH, "--out", str(second))["files"]["charts"]
    assert [Path(p).read_bytes() for p in one] == [Path(p).read_bytes() for p in two]


def test_the_report_counts_days_late_by_the_rule_the_forms_print(root: Path) -> None:
    """The report's remembered working days give late_working_days' answer (逾期 N 个工作日 on the forms)."""
    from archive import settings
    from archive.reports.monthly import _Lateness
    from archive.rules.deadlines import late_working_days

    conf = settings.load(root)
    late = _Lateness(conf)
    days = [dt.date(2026, 9, 20) + dt.timedelta(days=i) for i in range(40)]
    for due in days[::3]:
        for done in (None, *days[::2]):
            assert late(due, done, dt.date(2026, 10, 31)) == late_working_days(due, done, dt.date(2026, 10, 31), conf)


def test_a_month_that_has_not_begun_is_refused(october: dict[str, Any]) -> None:
    from archive import clock, settings

    today = clock.today(settings.load(october["root"]).zone)
    later = f"{today.year + 1}-01"
    result = _run(october["root"], "report", "monthly", later)
    assert result.exit_code == 2
    assert f"{later} has not begun" in result.output


def test_the_text_report_names_the_headline_figures(october: dict[str, Any]) -> None:
    out = _ok(_run(october["root"], "report", "monthly", MONTH)).output
    assert "本月受理 4  本月结案 4  月初未结 2  月末未结 2" in out
    assert "产品质量 1" in out and "已销毁 1" in out
    assert "按严重程度: 轻微 3, 已销毁(未保留) 1" in out


def test_the_document_is_a4_and_its_pdf_draws_chinese_and_digits_in_noto_cjk(october: dict[str, Any],
                                                                             tmp_path: Path) -> None:
    from docx import Document
    from pypdf import PdfReader

    files = _figures(october, MONTH, "--out", str(tmp_path))["files"]
    section = Document(files["docx"]).sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    fonts: set[str] = set()

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if font is not None and text.strip():
            fonts.add(str(font.get("/BaseFont")))

    reader = PdfReader(files["pdf"])
    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    assert fonts and all("NotoS" in f and "CJK" in f for f in fonts), fonts
    assert f"第 1 页 共 {len(reader.pages)} 页" in reader.pages[0].extract_text()


def test_an_appendix_too_long_to_print_names_the_json_file_that_keeps_every_number(root: Path) -> None:
    from archive import settings
    from archive.reports import monthly, monthly_doc

    many = [monthly.Facts(number=f"2610{i:05d}", received=dt.date(2026, 10, 1 + i % 28), category="quality")
            for i in range(monthly_doc.APPENDIX_MAX + 1)]
    fig = monthly.figures(many, MONTH, dt.date(2026, 11, 30), settings.load(root))
    ctx = monthly_doc.context(fig, "示例", "测试员", dt.date(2026, 11, 30), "monthly-2026-10.json")
    received = next(a for a in ctx["appendix"] if a["item"] == "本月受理")
    assert received["numbers"].endswith(f"等 {len(many)} 件(全部编号见 monthly-2026-10.json)")
    assert received["numbers"].startswith("261000000、261000001")


def test_a_breakdown_prints_its_biggest_rows_and_the_rest_as_one(root: Path) -> None:
    from archive import settings
    from archive.reports import monthly, monthly_doc

    many = [monthly.Facts(number=f"2610{i:04d}", received=dt.date(2026, 10, 5), category="quality",
                          lot=f"L{i % 40:02d}") for i in range(200)]
    fig = monthly.figures(many, MONTH, dt.date(2026, 11, 30), settings.load(root))
    ctx = monthly_doc.context(fig, "示例", "测试员", dt.date(2026, 11, 30))
    lots = [r for r in ctx["breakdown"] if r["dimension"] == "批号"]
    assert len(lots) == monthly_doc.DIMENSION_ROWS_MAX
    assert lots[-1]["name"] == f"其他 {40 - monthly_doc.DIMENSION_ROWS_MAX + 1} 项"
    assert sum(int(r["count"]) for r in lots) == 200


def test_a_long_overdue_list_prints_its_first_rows_and_how_many_more(root: Path) -> None:
    from archive import settings
    from archive.reports import monthly, monthly_doc

    many = [monthly.Facts(number=f"2610{i:04d}", received=dt.date(2026, 10, 5), category="quality", channel="phone",
                          reply_due=dt.date(2026, 10, 5)) for i in range(monthly_doc.LIST_ROWS_MAX + 7)]
    fig = monthly.figures(many, MONTH, dt.date(2026, 11, 30), settings.load(root))
    ctx = monthly_doc.context(fig, "示例", "测试员", dt.date(2026, 11, 30), "monthly-2026-10.json")
    assert len(ctx["overdue"]) == monthly_doc.LIST_ROWS_MAX + 1
    assert ctx["overdue"][-1]["number"] == "另有 7 项,见 monthly-2026-10.json"


def test_an_archive_made_before_the_report_is_told_how_to_register_the_shipped_form_and_keeps_its_number(
        root: Path, cli: Cli, tmp_path: Path) -> None:
    from archive.documents import templates

    register = root / "templates" / "templates.toml"
    text = register.read_text(encoding="utf-8")
    register.write_text(text[:text.index('[[template]]\nid = "monthly-report"')], encoding="utf-8")
    (root / "templates" / "monthly-report.v1.docx").unlink()  # as in a root made before the form shipped
    out = tmp_path / "out"
    out.mkdir()
    refused = cli("report", "monthly", "2026-11", "--out", str(out))
    assert refused.exit_code == 1 and "archive templates register" in refused.stderr
    assert "--id monthly-report" in refused.stderr and list(out.iterdir()) == []
    shipped = templates.SHIPPED / "monthly-report.v1.docx"
    assert cli("templates", "register", str(shipped), "--id", "monthly-report", "--version", "1",
               "--title", "客户投诉案件统计表", "--effective", "2026-11-01").exit_code == 0
    assert templates.current(root / "templates", "monthly-report").document_number == "GL-004-11"
