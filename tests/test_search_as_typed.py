"""Search as a new user types it (issue 19): the query's own syntax, names with apostrophes, digits beside
Chinese, plain dates, Chinese filter values, labelled highlights, the lot, the register's total, the index format."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SearchRoot, searched_root, write_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

C = "26100001"  # c.json, received in October: digits beside Chinese, a line break, a lot named only in its text


Arc = SearchRoot


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Arc:
    base = tmp_path_factory.mktemp("typed")
    cases = [
        write_case(base, "a.json"),  # 26110001: 外包装破损严重,铝塑板有压痕; received 2026-11-03; lot B2026080315
        write_case(base, "b.json", received_at="2026-11-05T09:00:00+08:00", channel="fax", category="quality",
                   complainant={"name": "Sean O'Brien", "organization": "Jean-Luc Medical"},
                   product={"name": "输液泵", "lot": "03-2026-11"},
                   description="输液泵运行中反复出现堵塞报警,更换管路后仍然报警"),
        write_case(base, "c.json", received_at="2026-10-21T08:00:00+08:00",
                   product={"name": "维生素C片", "lot": "VC-7781"},
                   description="收到货物共12盒,其中9箱外包装\n受压变形,每粒0.25g的规格标示错误,"
                               "10月20日发现,要求退款35元;批号B2026080315的同批产品也有类似情况"),
        write_case(base, "d.json", received_at="2026-11-12T09:00:00+08:00", product={"name": "口罩", "lot": "M-1"},
                   description="客户称于2026-11-03购买的口罩有异味"),
    ]
    return searched_root(base, engine, cases, Arc)


# 1. the query's own syntax decides

@pytest.mark.parametrize("query", [('"外包装破损"',), ("“外包装破损”",), ("「外包装破损」",), ('"外包装 破损"',),
                                   ("“外包装　破损”",)])
def test_every_kind_of_quote_and_a_space_inside_a_chinese_phrase_give_the_same_answer(
        arc: Arc, query: tuple[str, ...]) -> None:
    plain = arc.search('"外包装破损"')
    assert plain["hits"] and plain["hits"][0]["highlights"]
    assert arc.search(*query) == plain


def test_corner_brackets_find_and_highlight_like_straight_quotes(arc: Arc) -> None:
    assert arc.search("「堵塞报警」") == arc.search('"堵塞报警"')
    assert arc.numbers("「堵塞报警」") == ["26110002"]


def test_one_argument_or_several_give_the_same_answer_from_cli_and_library(arc: Arc) -> None:
    from archive.services.archive import Archive
    from archive.services.search import search

    assert arc.search("破损 压痕") == arc.search("破损", "压痕") == arc.search("破损\u3000压痕")
    assert arc.numbers("破损 压痕") == ["26110001"]
    opened = Archive.open(arc.root, "tester")
    assert search(opened, "破损 压痕") == search(opened, ["破损", "压痕"]) == arc.search("破损", "压痕")


# 2. an apostrophe is a letter; no query gives a traceback or a quoting error it did not use

def test_a_name_with_an_apostrophe_or_a_hyphen_is_found(arc: Arc) -> None:
    assert arc.numbers("O'Brien") == ["26110002"]
    assert arc.numbers("o'brien") == ["26110002"]
    assert arc.numbers("Jean-Luc") == ["26110002"]


def test_an_unclosed_quote_is_not_an_error(arc: Arc) -> None:
    assert arc.numbers('"外包装破损') == ["26110001"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list("\"'“”「」『』: \u3000-_./\\()*?~^破损外包装ab12:lot:status")),
               max_size=30) | st.text(max_size=20))
def test_any_text_is_hits_or_one_clean_line(arc: Arc, query: str) -> None:
    result = arc("search", "--", query)
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("archive: "), result.stderr
        assert "damaged" not in lines[0] and "Traceback" not in result.output
        assert "quot" not in lines[0] or "\"" in query


# 3. digits beside Chinese

@pytest.mark.parametrize("query", ["12盒", "9箱", "35元", "10月20日", "0.25g", "共12盒", "每粒0.25g"])
def test_digits_next_to_chinese_are_found(arc: Arc, query: str) -> None:
    assert arc.numbers(query) == [C]


def test_text_split_across_a_line_break_is_found_as_one_phrase(arc: Arc) -> None:
    assert arc.numbers('"外包装受压"') == [C]


# 9. the index carries its format version

def test_an_index_of_an_older_format_or_none_names_rebuild(tmp_path: Path) -> None:
    from archive.search.engines import whoosh

    root = tmp_path / "root"
    root.mkdir()
    a = Arc(root)
    assert a("init").exit_code == 0
    assert a("intake", str(write_case(tmp_path))).exit_code == 0
    marker = root / "index" / whoosh.FORMAT_FILE
    assert marker.read_text().strip() == str(whoosh.FORMAT_VERSION)
    marker.write_text("1\n")
    result = a("search", "破损")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "older format" in result.stderr and "archive rebuild" in result.stderr
    marker.unlink()
    result = a("search", "破损")
    assert result.exit_code == 2 and "archive rebuild" in result.stderr
    assert a("rebuild").exit_code == 0
    assert a("search", "破损").exit_code == 0


# 4. a plain date means that day

def test_a_plain_date_finds_the_cases_received_or_mentioning_that_day_not_a_lot_holding_its_digits(arc: Arc) -> None:
    assert sorted(arc.numbers("2026-11-03")) == ["26110001", "26110003"]  # received that day; names it in its text
    assert sorted(arc.numbers("2026年11月3日")) == ["26110001", "26110003"]
    assert arc.numbers("2026-11-05") == ["26110002"]  # its lot 03-2026-11 holds no date


def test_a_date_in_a_stage_is_indexed_as_a_day() -> None:
    from archive.search.analysis import dates_in

    assert dates_in("回复于2026-11-07T10:00:00+08:00,2026年11月9日回访,2026/11/10 再访") == {
        "20261107", "20261109", "20261110"}
    assert dates_in("批号03-2026-11,2026-13-01") == set()


def test_a_day_written_without_its_year_is_found_by_its_date_and_marked(arc: Arc) -> None:
    # c.json, received 2026-10-21, tells of 10月20日: the year is the case's own.
    found = arc.search("2026-10-20")
    assert [h["number"] for h in found["hits"]] == [C]
    assert any("«10月20日»" in h for h in found["hits"][0]["highlights"])
    assert arc.numbers("2025-10-20") == []


def test_a_day_without_its_year_is_read_in_the_year_nearest_the_receipt() -> None:
    import datetime as dt

    from archive.search.analysis import dates_in

    assert dates_in("12月28日发现,1月3日再次发生", near=dt.date(2027, 1, 5)) == {"20261228", "20270103"}
    assert dates_in("12月28日发现", near=None) == set()  # no day to read it against: not guessed
    assert dates_in("3个月内第2次,2月30日", near=dt.date(2026, 3, 1)) == set()  # not a day


# 5. filters take the Chinese labels the tables print

@pytest.mark.parametrize(("chinese", "code"), [
    ("status:已登记", "status:registered"), ("severity:轻微", "severity:minor"),
    ("category:产品质量", "category:quality"), ("channel:传真", "channel:fax"),
    ("received:2026年11月", "received:2026-11"),
    ("received:2026年11月3日..2026年11月5日", "received:2026-11-03..2026-11-05")])
def test_filters_take_chinese_values_as_well_as_codes(arc: Arc, chinese: str, code: str) -> None:
    assert arc.numbers(code)
    assert arc.numbers(chinese) == arc.numbers(code)


def test_severity_major_is_taken_as_zhongyao() -> None:
    from archive.search.query import parse

    assert parse("severity:重要 hold:保全中").terms == {"severity": ["major"], "hold": ["true"]}


def test_a_wrong_filter_value_is_answered_with_the_chinese_labels_too(arc: Arc) -> None:
    result = arc("search", "status:完成")
    assert result.exit_code == 2 and "closed 已结案" in result.stderr and "registered 已登记" in result.stderr


def test_list_takes_a_chinese_status_and_month_and_prints_a_total(arc: Arc) -> None:
    chinese = arc("list", "--status", "已登记", "--month", "2026年11月")
    assert chinese.exit_code == 0, chinese.output
    assert chinese.stdout == arc("list", "--status", "registered", "--month", "2026-11").stdout
    assert chinese.stdout.rstrip().splitlines()[-1] == "共 3 件"
    assert arc("list").stdout.rstrip().splitlines()[-1] == "共 4 件"
    wrong = arc("list", "--month", "十一月")
    assert wrong.exit_code == 2 and "2026年11月" in wrong.stderr


# 7. what lot: matches, and the plain query finds a lot named only in the text

def test_help_says_what_lot_matches(arc: Arc) -> None:
    out = " ".join(arc("search", "--help").stdout.split())
    assert "lot:B2026080315 matches the case's product lot field only" in out


def test_the_plain_query_finds_a_lot_named_only_in_the_text_and_ranks_the_lot_first(arc: Arc) -> None:
    assert arc.numbers("lot:B2026080315") == ["26110001"]
    assert arc.numbers("B2026080315")[:2] == ["26110001", C]
