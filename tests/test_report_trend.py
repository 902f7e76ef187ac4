"""`archive report trend`: complaint counts per month by product, lot, category, customer or department, and the
flags a trend review (GMP 2010 第277条, EU GMP ch.8) looks for: a key whose complaints in a rolling window reach
the [trend] threshold, and a root cause found again and again. Figures are checked against hand counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SearchRoot, set_settings, snapshot, write_case

from archive.cli.app import main

AMOX, IBU = "阿莫西林胶囊", "布洛芬缓释胶囊"
EAST, NORTH, SOUTH = "华东医药连锁有限公司", "华北大药房", "华南人民医院"
# name: received, lot, product, category, customer, root cause (None: not investigated)
CASES: dict[str, tuple[str, str, str, str, str, str | None]] = {
    "c0": ("2026-05-20T09:00:00+08:00", "L-C", IBU, "quality", SOUTH, "运输装卸不当"),  # before the range
    "b1": ("2026-06-03T09:00:00+08:00", "L-B", AMOX, "packaging", NORTH, None),
    "a1": ("2026-07-10T09:00:00+08:00", "L-A", AMOX, "quality", EAST, "运输装卸不当"),
    "a2": ("2026-08-12T09:00:00+08:00", "L-A", AMOX, "packaging", EAST, " 运输\u3000装卸不当 "),
    "a3": ("2026-09-15T09:00:00+08:00", "L-A", AMOX, "quality", NORTH, "ＰＶＣ硬片热封温度偏低"),
    "b2": ("2026-09-20T09:00:00+08:00", "L-B", AMOX, "quality", EAST, "缺粒检测传感器灵敏度偏低"),
    "c1": ("2026-10-08T09:00:00+08:00", "L-C", IBU, "quality", SOUTH, "PVC 硬片热封温度偏低"),
    "b3": ("2026-11-05T09:00:00+08:00", "L-B", AMOX, "packaging", EAST, None),
}
MONTHS = ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
RANGE = ("--from", "2026-06", "--to", "2026-11")


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory) -> tuple[SearchRoot, dict[str, str]]:
    """The eight cases above, the five with a root cause investigated; returns the CLI and name -> number."""
    tmp = tmp_path_factory.mktemp("trend")
    root = tmp / "root"
    root.mkdir()
    assert CliRunner().invoke(main, ["--root", str(root), "init"]).exit_code == 0
    run = SearchRoot(root)
    files = []
    for name, (received, lot, product, category, customer, _) in CASES.items():
        files.append(write_case(tmp, f"{name}.json", received_at=received, category=category,
                                product={"name": product, "lot": lot, "expiry_date": "2028-07-31"},
                                complainant={"name": f"客户{name}", "organization": customer},
                                description=f"第{name}号投诉:外包装破损"))
    done = run("intake", "--json", *map(str, files))
    assert done.exit_code == 0, done.output
    numbers = {Path(c["file"]).stem: c["number"] for c in json.loads(done.stdout)}
    for name, (received, *_, cause) in CASES.items():
        if cause is None:
            continue
        stage = tmp / f"{name}-investigation.json"
        stage.write_text(json.dumps({"investigation": {
            "investigator": "质量部 陈工", "findings": "见调查记录", "root_cause": cause, "responsibility": "ours",
            "completed_at": received[:10] + "T17:00:00+08:00"}}, ensure_ascii=False), encoding="utf-8")
        updated = run("update", numbers[name], str(stage))
        assert updated.exit_code == 0, updated.output
    return run, numbers


def trend(arc: tuple[SearchRoot, dict[str, str]], by: str, *extra: str) -> dict[str, Any]:
    result = arc[0]("report", "trend", *RANGE, "--by", by, "--json", *extra)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def nums(arc: tuple[SearchRoot, dict[str, str]], *names: str) -> list[str]:
    return sorted(arc[1][n] for n in names)


def rows_by_key(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in data["rows"]}


def threshold_flags(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in data["flags"] if f["kind"] == "threshold"}


def test_counts_per_month_by_lot_match_the_hand_count(arc: tuple[SearchRoot, dict[str, str]]) -> None:
    data = trend(arc, "lot")
    assert data["periods"] == MONTHS
    rows = rows_by_key(data)
    assert set(rows) == {"L-A", "L-B", "L-C"}  # c0 (May) is before the range
    zero = dict.fromkeys(MONTHS, 0)
    assert rows["L-A"]["counts"] == {**zero, "2026-07": 1, "2026-08": 1, "2026-09": 1}
    assert rows["L-B"]["counts"] == {**zero, "2026-06": 1, "2026-09": 1, "2026-11": 1}
    assert rows["L-C"]["counts"] == {**zero, "2026-10": 1}
    assert [rows[k]["total"] for k in ("L-A", "L-B", "L-C")] == [3, 3, 1]
    assert rows["L-A"]["cases"] == nums(arc, "a1", "a2", "a3")
    assert rows["L-C"]["cases"] == nums(arc, "c1")


def test_a_lot_reaching_the_threshold_within_the_window_is_flagged_with_its_cases(
        arc: tuple[SearchRoot, dict[str, str]]) -> None:
    flags = threshold_flags(trend(arc, "lot"))
    # L-A: three complaints in 2026-07..09; L-B also has three in the range, but never three within 3 months.
    assert set(flags) == {"L-A"}
    assert flags["L-A"] == {"kind": "threshold", "key": "L-A", "label": "L-A", "window": "2026-07..2026-09",
                            "count": 3, "cases": nums(arc, "a1", "a2", "a3")}


def test_the_threshold_and_window_come_from_the_trend_settings(arc: tuple[SearchRoot, dict[str, str]]) -> None:
    root = arc[0].root
    original = (root / "archive.toml").read_text(encoding="utf-8")
    set_settings(root, lambda t: t.replace("threshold = 3", "threshold = 4"))
    try:
        assert threshold_flags(trend(arc, "lot")) == {}
        set_settings(root, lambda t: t.replace("threshold = 4", "threshold = 3")
                     .replace("window_months = 3", "window_months = 6"))
        assert set(threshold_flags(trend(arc, "lot"))) == {"L-A", "L-B"}
    finally:
        set_settings(root, original)


def test_counts_by_product_category_customer_and_department(arc: tuple[SearchRoot, dict[str, str]]) -> None:
    product = rows_by_key(trend(arc, "product"))
    assert {k: r["total"] for k, r in product.items()} == {AMOX: 6, IBU: 1}
    assert product[AMOX]["counts"]["2026-09"] == 2
    category = trend(arc, "category")
    assert {k: r["total"] for k, r in rows_by_key(category).items()} == {"quality": 4, "packaging": 3}
    assert rows_by_key(category)["quality"]["label"] == "产品质量"
    customer = rows_by_key(trend(arc, "customer"))
    assert {k: r["total"] for k, r in customer.items()} == {EAST: 4, NORTH: 2, SOUTH: 1}
    assert customer[EAST]["cases"] == nums(arc, "a1", "a2", "b2", "b3")
    # A case routed to two departments counts once for each of them.
    department = rows_by_key(trend(arc, "department"))
    assert {k: r["total"] for k, r in department.items()} == {"研发部": 4, "质量部": 4, "商务部": 3, "质量保证部": 3}


def test_flags_by_product_name_the_window_with_the_most_complaints(arc: tuple[SearchRoot, dict[str, str]]) -> None:
    flags = threshold_flags(trend(arc, "product"))
    assert set(flags) == {AMOX}
    assert flags[AMOX]["window"] == "2026-07..2026-09"
    assert flags[AMOX]["count"] == 4
    assert flags[AMOX]["cases"] == nums(arc, "a1", "a2", "a3", "b2")


def test_a_root_cause_repeated_with_other_spacing_or_width_is_flagged(arc: tuple[SearchRoot, dict[str, str]]) -> None:
    causes = {tuple(f["cases"]): f for f in trend(arc, "lot")["flags"] if f["kind"] == "root_cause"}
    # c0 gave the same cause but was received before the range: two cases, not three.
    assert set(causes) == {tuple(nums(arc, "a1", "a2")), tuple(nums(arc, "a3", "c1"))}
    transport = causes[tuple(nums(arc, "a1", "a2"))]
    assert transport["key"] == "运输装卸不当"
    assert transport["count"] == 2
    assert transport["window"] == "2026-06..2026-11"


def test_json_has_the_documented_shape(arc: tuple[SearchRoot, dict[str, str]]) -> None:
    data = trend(arc, "category")
    assert set(data) >= {"from", "to", "by", "periods", "rows", "flags", "files"}
    assert (data["from"], data["to"], data["by"]) == ("2026-06", "2026-11", "category")
    assert data["files"] == {"charts": []}
    for row in data["rows"]:
        assert set(row) >= {"key", "label", "counts", "total", "cases"}
        assert sum(row["counts"].values()) == row["total"] == len(row["cases"])
    for flag in data["flags"]:
        assert set(flag) >= {"kind", "key", "window", "count", "cases"}
        assert flag["kind"] in ("threshold", "root_cause")
        assert flag["count"] == len(flag["cases"])


def test_the_table_prints_keys_by_month_with_totals_and_the_flags_with_their_cases(
        arc: tuple[SearchRoot, dict[str, str]]) -> None:
    result = arc[0]("report", "trend", *RANGE, "--by", "lot")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "批号" in out and "合计" in out
    assert all(m in out for m in MONTHS)
    line = next(x for x in out.splitlines() if x.startswith("L-A"))
    assert line.split() == ["L-A", "0", "1", "1", "1", "0", "0", "3"]
    assert "第二百七十七条" in out or "第277条" in out
    assert " ".join(nums(arc, "a1", "a2", "a3")) in out
    assert "运输装卸不当" in out


def test_the_chart_is_written_beside_the_table_as_png_and_svg_and_nothing_in_the_root(
        arc: tuple[SearchRoot, dict[str, str]], tmp_path: Path) -> None:
    root = arc[0].root
    before = snapshot(root)
    data = trend(arc, "lot", "--out", str(tmp_path))
    charts = [Path(p) for p in data["files"]["charts"]]
    assert sorted(p.suffix for p in charts) == [".png", ".svg"]
    png = next(p for p in charts if p.suffix == ".png")
    assert png.parent == tmp_path and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert b"<svg" in next(p for p in charts if p.suffix == ".svg").read_bytes()[:2000]
    assert snapshot(root) == before
    # Reproducible: the same state and arguments give the same chart, byte for byte.
    again = tmp_path / "again"
    again.mkdir()
    second = [Path(p) for p in trend(arc, "lot", "--out", str(again))["files"]["charts"]]
    assert {p.name: p.read_bytes() for p in second} == {p.name: p.read_bytes() for p in charts}


def test_an_existing_chart_is_not_replaced_without_force(arc: tuple[SearchRoot, dict[str, str]],
                                                         tmp_path: Path) -> None:
    trend(arc, "lot", "--out", str(tmp_path))
    result = arc[0]("report", "trend", *RANGE, "--by", "lot", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "file exists; --force replaces it" in result.output
    trend(arc, "lot", "--out", str(tmp_path), "--force")


def test_without_out_nothing_is_written_anywhere_in_the_root(arc: tuple[SearchRoot, dict[str, str]]) -> None:
    root = arc[0].root
    before = snapshot(root)
    for by in ("product", "lot", "category", "customer", "department"):
        assert trend(arc, by)["files"] == {"charts": []}
    assert snapshot(root) == before


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "2026-13", "--to", "2026-11", "--by", "lot"), "--from: '2026-13' is not a month YYYY-MM"),
    (("--from", "2026-06", "--to", "11/2026", "--by", "lot"), "--to: '11/2026' is not a month YYYY-MM"),
    (("--from", "2026-11", "--to", "2026-06", "--by", "lot"), "--from 2026-11 is after --to 2026-06"),
    (("--from", "2026-06", "--to", "2026-11", "--by", "colour"), "--by: 'colour' is not one of"),
])
def test_bad_arguments_are_refused_in_one_line_naming_the_option(arc: tuple[SearchRoot, dict[str, str]],
                                                                 args: tuple[str, ...], message: str) -> None:
    result = arc[0]("report", "trend", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_out_inside_the_root_is_refused(arc: tuple[SearchRoot, dict[str, str]]) -> None:
    root = arc[0].root
    before = snapshot(root)
    result = arc[0]("report", "trend", *RANGE, "--by", "lot", "--out", str(root))
    assert result.exit_code == 2
    assert "inside the archive root" in result.output
    assert snapshot(root) == before


def test_by_accepts_the_chinese_name_of_the_key(arc: tuple[SearchRoot, dict[str, str]]) -> None:
    assert trend(arc, "批号")["by"] == "lot"


@pytest.mark.parametrize(("line", "message"), [
    ("window_months = 0", "trend.window_months: expected a number from 1 to 120, got 0"),
    ("threshold = 0", "trend.threshold: expected a number from 1"),
    ("root_cause_cases = 1", "trend.root_cause_cases: expected a number from 2"),
])
def test_trend_settings_out_of_bounds_are_refused_naming_the_key(line: str, message: str) -> None:
    from archive import settings
    from archive.errors import SettingsError

    with pytest.raises(SettingsError, match=message.replace(".", r"\.")):
        settings.from_mapping({"trend": dict([(k.strip(), int(v)) for k, v in [line.split("=")]])})


def test_a_destroyed_case_is_counted_as_destroyed_not_dropped(root: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Destruction keeps only a tombstone (number, month, category): the trend counts the case under its
    category, and under (已销毁) for keys the tombstone no longer holds, never under a product it cannot name."""
    import datetime as dt

    from conftest import make_key

    from archive import clock

    monkeypatch.setattr(clock, "today", lambda zone: dt.date(2029, 11, 30))  # the cases below are due by then
    run = SearchRoot(root)
    done = run("intake", "--json", str(write_case(tmp_path, "gone.json", category="quality")),
               str(write_case(tmp_path, "kept.json", received_at="2026-11-04T10:00:00+08:00")))
    gone, kept = (c["number"] for c in json.loads(done.stdout))
    close = tmp_path / "close.json"
    close.write_text(json.dumps({
        "investigation": {"investigator": "质量部 陈工", "findings": "调查完成",
                          "completed_at": "2026-11-18T10:00:00+08:00"},
        "response": {"replied_at": "2026-11-19T10:00:00+08:00", "method": "phone", "content": "已答复客户"},
        "closure": {"closed_at": "2026-11-21T09:00:00+08:00", "approved_by": "质量部经理 黄涛"}},
        ensure_ascii=False), encoding="utf-8")
    assert run("update", gone, str(close)).exit_code == 0
    keys = tmp_path / "keys"
    keys.mkdir()
    admin = make_key(root, "zhoumin", "周敏", "系统管理员", keys / "zhoumin.pem", "admin-pass")
    approver = make_key(root, "huang", "黄涛", "质量部经理", keys / "huang.pem", "approver-pass", certify_with=admin)
    witness = make_key(root, "li", "李明", "档案管理员", keys / "li.pem", "witness-pass", certify_with=admin)
    purged = CliRunner().invoke(main, [
        "--root", str(root), "--actor", "质量部经理 黄涛", "purge", "--as-of", "2029-11-22",
        "--approved-by", "质量部经理 黄涛", "--execute", "--json", "--sign-as", str(approver.pem),
        "--witness", str(witness.pem)],
        env={"ARCHIVE_PASSPHRASE": "approver-pass", "ARCHIVE_WITNESS_PASSPHRASE": "witness-pass"})
    assert purged.exit_code == 0, purged.output
    assert json.loads(purged.stdout)["destroyed"] == [gone]

    def rows(by: str) -> dict[str, dict[str, Any]]:
        result = run("report", "trend", "--from", "2026-11", "--to", "2026-11", "--by", by, "--json")
        assert result.exit_code == 0, result.output
        return rows_by_key(json.loads(result.stdout))

    by_lot = rows("lot")
    assert by_lot["(destroyed)"]["cases"] == [gone] and by_lot["(destroyed)"]["label"].startswith("(已销毁")
    assert by_lot["B2026080315"]["cases"] == [kept]
    by_category = rows("category")
    assert by_category["quality"]["cases"] == [gone]
    assert by_category["packaging"]["cases"] == [kept]


def test_an_unreadable_tombstone_still_counts_its_case_as_destroyed(root: Path) -> None:
    tomb = root / "records" / "2026" / "11" / "26110007.tombstone.json"
    tomb.parent.mkdir(parents=True)
    tomb.write_text("{not json", encoding="utf-8")
    result = SearchRoot(root)("report", "trend", "--from", "2026-11", "--to", "2026-11", "--by", "category", "--json")
    assert result.exit_code == 0, result.output
    assert rows_by_key(json.loads(result.stdout))["(none)"]["cases"] == ["26110007"]


def test_out_that_is_not_an_existing_folder_is_refused(arc: tuple[SearchRoot, dict[str, str]], tmp_path: Path) -> None:
    result = arc[0]("report", "trend", *RANGE, "--by", "lot", "--out", str(tmp_path / "missing"))
    assert result.exit_code == 2
    assert "--out" in result.output and "not a folder" in result.output


def test_the_same_state_and_arguments_give_the_same_figures(arc: tuple[SearchRoot, dict[str, str]]) -> None:
    assert trend(arc, "customer") == trend(arc, "customer")


def test_a_reopened_case_counts_once_with_the_root_cause_its_latest_investigation_gives(
        root: Path, tmp_path: Path) -> None:
    from conftest import SHARED_CASES, SHARED_UPDATES

    run = SearchRoot(root)
    reopened, other = (c["number"] for c in json.loads(run(
        "intake", "--json", str(SHARED_CASES[0]),
        str(write_case(tmp_path, "other.json", received_at="2026-11-10T10:00:00+08:00"))).stdout))
    for name in ("01-investigation.json", "01-capa.json", "01-close.json"):
        assert run("update", reopened, str(SHARED_UPDATES / name)).exit_code == 0
    again = json.loads((SHARED_UPDATES / "01-investigation.json").read_text(encoding="utf-8"))
    again = {"investigation": {**again["investigation"], "root_cause": "热封模具温控失效"}}
    (tmp_path / "again.json").write_text(json.dumps(again, ensure_ascii=False), encoding="utf-8")
    assert run("update", "--reopen", "--reason", "客户追加投诉", reopened, str(tmp_path / "again.json")).exit_code == 0
    (tmp_path / "other-inv.json").write_text(json.dumps({"investigation": {
        **again["investigation"], "root_cause": "热封模具温控失效。", "completed_at": "2026-11-12T17:00:00+08:00"}},
        ensure_ascii=False), encoding="utf-8")
    assert run("update", other, str(tmp_path / "other-inv.json")).exit_code == 0
    result = run("report", "trend", "--from", "2026-11", "--to", "2026-11", "--by", "product", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["cases"] == 2 and sum(r["total"] for r in data["rows"]) == 2
    causes = [f for f in data["flags"] if f["kind"] == "root_cause"]
    assert [(f["key"], f["cases"]) for f in causes] == [("热封模具温控失效", sorted([reopened, other]))]


def test_the_chart_draws_the_top_keys_and_sums_the_rest_as_others() -> None:
    from archive.reports import charts

    periods = ["2026-10", "2026-11"]
    rows = [{"key": f"L{i}", "label": f"L{i}", "counts": {"2026-10": i, "2026-11": 1}} for i in range(10, 0, -1)]
    lines = charts.trend_series(rows, periods, 8, {"L10": ("2026-10", "2026-11")})
    assert [line.label for line in lines] == [f"L{i}" for i in range(10, 2, -1)] + ["其他(2 项)"]
    assert lines[-1].counts == [2 + 1, 2]
    assert lines[0].window == ("2026-10", "2026-11") and lines[1].window is None
    png = charts.png(charts.trend_figure("趋势", periods, lines))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
