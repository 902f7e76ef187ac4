"""What people also type (issue 19): traditional characters for simplified ones and back, and a customer's
name by its pinyin or initials."""

from __future__ import annotations

import pytest
from conftest import SearchRoot, searched_root, write_case

SIMPLE = "26110001"  # 王建国, 外包装破损严重 (simplified)
TRAD = "26110002"  # 陳美玲 of 台灣, 外包裝嚴重破損 (traditional)
OTHER = "26110003"  # 李强, no damage


class Arc(SearchRoot):
    def numbers(self, *query: str) -> list[str]:
        return sorted(super().numbers(*query))  # these tests ask which cases, not in what order


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory, engine: str) -> Arc:
    base = tmp_path_factory.mktemp("folding")
    cases = [
        write_case(base, "a.json"),
        write_case(base, "b.json", received_at="2026-11-04T09:00:00+08:00",
                   complainant={"name": "陳美玲", "organization": "台灣醫療器材股份有限公司"},
                   description="收到的貨物外包裝嚴重破損,鋁塑板有壓痕"),
        write_case(base, "c.json", received_at="2026-11-05T09:00:00+08:00",
                   complainant={"name": "李强", "organization": "江南市第二人民医院"},
                   product={"name": "输液泵", "lot": "P-1"}, description="输液泵运行中反复出现堵塞报警"),
    ]
    return searched_root(base, engine, cases, Arc)


def test_traditional_query_finds_simplified_text(arc: Arc) -> None:
    assert arc.numbers("破損") == [SIMPLE, TRAD]
    assert arc.numbers("外包裝") == [SIMPLE, TRAD]


def test_simplified_query_finds_traditional_text(arc: Arc) -> None:
    assert arc.numbers("破损") == [SIMPLE, TRAD]
    assert arc.numbers("铝塑板有压痕") == [SIMPLE, TRAD]
    assert arc.numbers('"外包装严重破损"') == [TRAD]


def test_highlight_marks_the_text_as_written_not_as_folded(arc: Arc) -> None:
    hits = {h["number"]: " ".join(h["highlights"]) for h in arc.search("破損")["hits"]}
    assert "«破损»" in hits[SIMPLE]
    assert "«破損»" in hits[TRAD]
    hits = {h["number"]: " ".join(h["highlights"]) for h in arc.search("破损")["hits"]}
    assert "«破損»" in hits[TRAD]


def test_traditional_customer_name_found_simplified(arc: Arc) -> None:
    assert arc.numbers("customer:陈美玲") == [TRAD]
    assert arc.numbers("customer:台湾医疗") == [TRAD]


@pytest.mark.parametrize("typed", ["wangjianguo", "wjg", "WangJianguo", "WJG", '"Wang Jianguo"'])
def test_customer_by_pinyin_or_initials(arc: Arc, typed: str) -> None:
    assert arc.numbers(f"customer:{typed}") == [SIMPLE]


def test_traditional_name_by_pinyin(arc: Arc) -> None:
    assert arc.numbers("customer:chenmeiling") == [TRAD]
    assert arc.numbers("customer:cml") == [TRAD]


def test_organisation_by_pinyin_initials(arc: Arc) -> None:
    assert arc.numbers("customer:jnsdermyy") == [OTHER]


def test_pinyin_of_another_name_finds_nothing(arc: Arc) -> None:
    assert arc.numbers("customer:liqiang") == [OTHER]
    assert arc.numbers("customer:wangqiang") == []


def test_polyphonic_name_indexed_by_every_reading() -> None:
    from archive.search.fold import name_keys

    keys = name_keys("曾乐")  # 曾 zeng/ceng, 乐 le/yue
    assert {"zengle", "cengyue", "zl", "cy"} <= keys


def test_folding_keeps_the_length_and_leaves_simplified_text_alone() -> None:
    from archive.search.fold import fold

    for text in ("外包装破损严重,铝塑板有压痕", "王建国 B2026080315 O'Brien", "乾隆 頭髮 客戶投訴"):
        assert len(fold(text)) == len(text)
    assert fold("外包装破损严重,铝塑板有压痕") == "外包装破损严重,铝塑板有压痕"
    assert fold("外包裝嚴重破損") == "外包装严重破损"
