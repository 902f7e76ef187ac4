"""`archive export register` and the destruction plan's spreadsheet: what a QA clerk opens in Excel or WPS."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

from conftest import Cli, snapshot, write_case

LETTER_BEFORE_NATIONAL_DAY = "2026-09-30T09:00:00+08:00"  # reply due 2 working days on: 10-08, 10-09


def _intake(cli: Cli, path: Path) -> str:
    result = cli("intake", "--json", str(path))
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)[0]["number"])


def _update(cli: Cli, tmp_path: Path, number: str, stages: dict[str, Any]) -> None:
    path = tmp_path / f"{number}-update.json"
    path.write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
    result = cli("update", number, str(path))
    assert result.exit_code == 0, result.output


def _cases(cli: Cli, tmp_path: Path) -> dict[str, str]:
    """Three letters: replied on the due day; replied Monday 10-12 after the Saturday 10-10 workday (two
    working days late, one by a Monday-to-Friday count); and a November phone case, open."""
    on_time = _intake(cli, write_case(tmp_path, "a.json", channel="letter", received_at=LETTER_BEFORE_NATIONAL_DAY,
                                      description="药片变色"))
    late = _intake(cli, write_case(tmp_path, "b.json", channel="letter", received_at="2026-09-30T10:00:00+08:00",
                                   description="说明书缺页", category="quality"))
    november = _intake(cli, write_case(tmp_path, "c.json"))
    _update(cli, tmp_path, on_time, {"response": {"replied_at": "2026-10-09T16:00:00+08:00", "method": "letter",
                                                  "content": "已换货"}})
    _update(cli, tmp_path, late, {"response": {"replied_at": "2026-10-12T09:00:00+08:00", "method": "letter",
                                               "content": "已致歉"}})
    return {"on_time": on_time, "late": late, "november": november}


def _sheet_rows(path: Path, title: str = "投诉登记台账") -> tuple[Any, list[list[Any]]]:
    from openpyxl import load_workbook

    sheet = load_workbook(path)[title]
    return sheet, [[c.value for c in row] for row in sheet.iter_rows()]


def test_the_register_exports_as_a_sheet_cell_by_cell(root: Path, cli: Cli, tmp_path: Path) -> None:
    cases = _cases(cli, tmp_path)
    out = tmp_path / "台账.xlsx"
    result = cli("export", "register", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"] == 3
    sheet, rows = _sheet_rows(out)
    header = rows[0]
    assert header[:4] == ["投诉编号", "接收日期", "投诉渠道", "投诉人"]
    assert {"答复期限", "答复日期", "答复是否及时", "调查期限", "8D报告期限", "保存至"} <= set(header)
    by_number = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert list(by_number) == sorted(cases.values())  # one row per case, in number order
    late = by_number[cases["late"]]
    assert late["接收日期"] == dt.datetime(2026, 9, 30)
    assert late["投诉渠道"] == "信函" and late["投诉类别"] == "产品质量" and late["状态"] == "已答复"
    assert late["答复期限"] == dt.datetime(2026, 10, 9) and late["答复日期"] == dt.datetime(2026, 10, 12)
    assert late["答复是否及时"] == "迟 2 个工作日"  # Saturday 10-10 was a working day
    assert late["8D报告期限"] is not None and late["法律保全"] == "否"
    assert by_number[cases["on_time"]]["答复是否及时"] == "按时"
    assert by_number[cases["on_time"]]["8D报告期限"] is None  # not a quality complaint
    november = by_number[cases["november"]]
    assert november["投诉人"] == "王建国" and november["单位"] == "华东医药连锁有限公司"
    assert november["批号"] == "B2026080315" and november["状态"] == "已登记"
    date_cell = sheet.cell(row=2, column=header.index("接收日期") + 1)
    assert date_cell.is_date and date_cell.number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:U{len(rows)}"
    assert all(c.font.b for c in sheet[1])
    assert sheet.column_dimensions["E"].width >= 20
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$1:$1"


def test_an_unmet_reply_past_due_is_late_until_today(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, write_case(tmp_path, channel="letter", received_at=LETTER_BEFORE_NATIONAL_DAY))
    out = tmp_path / "台账.xlsx"
    assert cli("export", "register", "--out", str(out)).exit_code == 0
    _, rows = _sheet_rows(out)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["投诉编号"] == number and row["答复日期"] is None
    assert str(row["答复是否及时"]).startswith("迟 ") and row["答复是否及时"].endswith("个工作日(未完成)")


def test_the_register_exports_as_csv_with_a_bom(root: Path, cli: Cli, tmp_path: Path) -> None:
    cases = _cases(cli, tmp_path)
    out = tmp_path / "台账.csv"
    assert cli("export", "register", "--out", str(out)).exit_code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["投诉编号"] for r in rows] == sorted(cases.values())
    late = next(r for r in rows if r["投诉编号"] == cases["late"])
    assert late["接收日期"] == "2026-09-30" and late["答复是否及时"] == "迟 2 个工作日"
    assert late["投诉渠道"] == "信函"


def test_from_to_and_status_filter_the_export(root: Path, cli: Cli, tmp_path: Path) -> None:
    cases = _cases(cli, tmp_path)

    def numbers(*args: str) -> list[str]:
        out = tmp_path / f"x{len(list(tmp_path.glob('x*.csv')))}.csv"
        result = cli("export", "register", *args, "--out", str(out))
        assert result.exit_code == 0, result.output
        with out.open(encoding="utf-8-sig", newline="") as f:
            return [r["投诉编号"] for r in csv.DictReader(f)]

    assert numbers("--from", "2026-11") == [cases["november"]]
    assert numbers("--to", "2026-09") == sorted([cases["on_time"], cases["late"]])
    assert numbers("--from", "2026-09-30", "--to", "2026-09-30") == sorted([cases["on_time"], cases["late"]])
    assert numbers("--status", "已答复") == sorted([cases["on_time"], cases["late"]])
    assert numbers("--status", "registered") == [cases["november"]]


def test_bad_export_arguments_are_one_line_and_write_nothing(root: Path, cli: Cli, tmp_path: Path) -> None:
    _intake(cli, write_case(tmp_path))
    before = snapshot(root)
    for args, said in ((["--from", "2026-13"], "--from: '2026-13' is not a month"),
                       (["--from", "2026-11", "--to", "2026-10"], "--from 2026-11 is after --to 2026-10"),
                       (["--out", str(tmp_path / "台账.pdf")], "write the register as .xlsx or .csv"),
                       (["--out", str(root / "台账.xlsx")], "inside the archive root")):
        out = [] if "--out" in args else ["--out", str(tmp_path / "台账.xlsx")]
        result = cli("export", "register", *args, *out)
        assert result.exit_code == 2, result.output
        assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output
    bad_status = cli("export", "register", "--status", "lost", "--out", str(tmp_path / "台账.xlsx"))
    assert bad_status.exit_code == 2 and "已结案" in bad_status.stderr
    assert snapshot(root) == before
    assert not list(tmp_path.glob("台账.*")) and not list(tmp_path.glob(".*tmp"))


def test_an_existing_export_is_replaced_only_with_force(root: Path, cli: Cli, tmp_path: Path) -> None:
    _intake(cli, write_case(tmp_path))
    kept = {tmp_path / "台账.xlsx": b"the clerk's own file", tmp_path / "台账.csv": b"a,b\n"}
    for path, data in kept.items():
        path.write_bytes(data)
    refusals = [cli("export", "register", "--out", str(path)) for path in kept]
    assert all(r.exit_code == 2 and "file exists; --force replaces it" in r.stderr for r in refusals)
    assert {path: path.read_bytes() for path in kept} == kept
    assert [cli("export", "register", "--force", "--out", str(path)).exit_code for path in kept] == [0, 0]
    assert _sheet_rows(tmp_path / "台账.xlsx")[1][1][0] == "26110001"
    assert (tmp_path / "台账.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("26110001,")


def test_the_destruction_plan_sheet_has_one_row_per_case_with_its_retention_date_and_the_conventions(
        root: Path, cli: Cli, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    numbers = [_intake(cli, write_case(tmp_path, f"{i}.json", received_at=f"2026-11-0{i + 2}T10:00:00+08:00",
                                       description=f"外包装破损 {i}")) for i in range(3)]
    closing = {"investigation": {"investigator": "张丽", "findings": "运输破损",
                                 "completed_at": "2026-11-05T10:00:00+08:00"},
               "response": {"replied_at": "2026-11-06T10:00:00+08:00", "method": "phone", "content": "已换货"},
               "closure": {"closed_at": "2026-11-20T09:00:00+08:00", "approved_by": "黄涛"}}
    for n in numbers:
        _update(cli, tmp_path, n, closing)
    assert cli("hold", numbers[2], "--reason", "诉讼保全:某某法院函").exit_code == 0
    out = tmp_path / "plan.xlsx"
    result = cli("retention", "schedule", "--out", str(out))
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames == ["销毁计划", "到期销毁明细", "法律保全中"]
    each = book["到期销毁明细"]
    rows = [[c.value for c in row] for row in each.iter_rows()]
    assert rows[0] == ["序号", "投诉编号", "到期月份", "投诉类别", "结案日期", "保存至", "保存期限规则"]
    assert [r[:4] for r in rows[1:]] == [[1, numbers[0], "2029-11", "包装及邮寄"],
                                         [2, numbers[1], "2029-11", "包装及邮寄"]]
    assert rows[1][4] == dt.datetime(2026, 11, 20) and rows[1][5] == dt.datetime(2029, 11, 20)
    assert each["F2"].is_date and each["F2"].number_format == "yyyy-mm-dd"
    assert "结案后 3 年" in rows[1][6]
    held = [[c.value for c in row] for row in book["法律保全中"].iter_rows()]
    assert held[1][0] == numbers[2] and held[1][2] == dt.datetime(2029, 11, 20)
    assert held[1][-1] == "诉讼保全:某某法院函"
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
        assert all(c.font.b for c in sheet[1]) and sheet.column_dimensions["B"].width
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
        assert sheet.print_title_rows == "$1:$1" and "投诉记录销毁计划" in sheet.oddHeader.center.text


def test_any_customer_text_exports_as_text_with_controls_as_spaces(root: Path, cli: Cli, tmp_path: Path) -> None:
    name = "=HYPERLINK(\"http://x\")\x07 <王> & '李'"
    product = {"name": "+1-胶囊", "lot": "00123", "expiry_date": "2028-07-31"}
    number = _intake(cli, write_case(tmp_path, complainant={"name": name, "organization": "@单位"}, product=product))
    out = tmp_path / "台账.xlsx"
    result = cli("export", "register", "--out", str(out))
    assert result.exit_code == 0, result.output
    sheet, rows = _sheet_rows(out)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["投诉编号"] == number
    assert row["投诉人"] == name.replace("\x07", " ")
    assert sheet.cell(row=2, column=4).data_type == "s"  # text, never a formula
    assert row["单位"] == "@单位" and row["产品"] == "+1-胶囊" and row["批号"] == "00123"
