"""Search: Chinese words inside longer runs, phrases, identifiers, attachments, filters, highlights; each test once
per engine (Whoosh, tantivy)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import ARCHIVE_BIN, SHARED_CASES, SHARED_UPDATES, Cli, use_engine, write_case


def _search(cli: Cli, *query: str) -> dict[str, object]:
    result = cli("search", "--json", *query)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def _numbers(cli: Cli, *query: str) -> list[str]:
    return [h["number"] for h in _search(cli, *query)["hits"]]  # type: ignore[index]


@pytest.fixture(autouse=True)
def _engine(root: Path, engine: str) -> None:
    use_engine(root, engine)


@pytest.fixture
def shared(cli: Cli) -> Cli:
    assert cli("intake", *map(str, SHARED_CASES)).exit_code == 0
    return cli


@pytest.mark.parametrize(("query", "expected"), [
    ("破损", ["26110001"]),  # 2-character word inside 外包装破损
    ("皮疹", ["26110002"]),
    ("制动异响", ["26110003"]),  # 4-character word
    ('"铝塑板有压痕"', ["26110001"]),  # phrase
    ("B2026080315", ["26110001"]),  # lot, whole
    ("PO-88213", ["26110005"]),  # order number with a hyphen, whole
    ("88213", ["26110005"]),  # ... and by its part
    ("PCB-4L-2291", ["26110005"]),
    ("Tanaka", ["26110005"]),  # English name, any case
    ("tanaka", ["26110005"]),
    ("待处理区", ["26110001"]),  # only in the PDF attachment's text layer
    ("阻焊层开窗偏移", ["26110005"]),  # only in the txt attachment
    ("huadong-complaint-letter", ["26110001"]),  # attachment file name
    ("1208房间", ["26110004"]),  # digits and CJK in one word
    ("Ｂ２０２６０８０３１５", ["26110001"]),  # full-width input folds to ASCII
])
def test_words_phrases_identifiers_and_attachments_are_found(shared: Cli, query: str, expected: list[str]) -> None:
    assert _numbers(shared, query) == expected


def test_words_are_anded(shared: Cli) -> None:
    assert _numbers(shared, "破损", "压痕") == ["26110001"]
    assert _numbers(shared, "破损", "皮疹") == []


def test_a_phrase_needs_its_words_adjacent(shared: Cli) -> None:
    assert _numbers(shared, '"外包装破损"') == ["26110001"]
    assert _numbers(shared, '"破损外包装"') == []


def test_filters_and_date_ranges_narrow(shared: Cli) -> None:
    assert sorted(_numbers(shared, "received:2026-11-10..2026-11-16")) == ["26110003", "26110004"]
    assert _numbers(shared, "received:2026-11-03") == ["26110001"]
    assert len(_numbers(shared, "received:2026-11")) == 6
    assert _numbers(shared, "received:2026-12") == []
    assert _numbers(shared, "severity:minor") == ["26110004"]
    assert _numbers(shared, "category:quality") == ["26110005"]
    assert _numbers(shared, "lot:B2026080315") == ["26110001"]
    assert _numbers(shared, "lot:C2026050702", "破损") == []
    assert _numbers(shared, "customer:华东") == ["26110001"]
    assert _numbers(shared, "customer:Tanaka") == ["26110005"]
    assert sorted(_numbers(shared, "channel:phone")) == ["26110001"]


def test_status_filter_follows_updates(shared: Cli) -> None:
    assert shared("update", "26110001", str(SHARED_UPDATES / "01-investigation.json")).exit_code == 0
    assert _numbers(shared, "status:investigating") == ["26110001"]
    assert _numbers(shared, "运输装卸不当") == ["26110001"]  # stage text is indexed


def test_highlights_contain_the_matched_text(shared: Cli) -> None:
    hit = _search(shared, "破损")["hits"][0]  # type: ignore[index]
    assert any("«破损»" in h for h in hit["highlights"])
    for key in ("number", "score", "highlights", "received_at", "complainant", "product", "status"):
        assert key in hit


def test_sort_by_date(shared: Cli) -> None:
    assert _numbers(shared, "received:2026-11", "--sort", "date") == [
        "26110006", "26110005", "26110004", "26110003", "26110002", "26110001"]


@pytest.mark.parametrize("query", ["foo:bar", "severity:huge", "received:2026-13", "received:",
                                   "received:2026-12..2026-01"])
def test_query_errors_are_one_line_exit_2(shared: Cli, query: str) -> None:
    result = shared("search", query)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def _answers(cli: Cli, query: str) -> dict[str, object]:
    """Hits in order with everything but the score: BM25 statistics differ between the many small segments
    that intakes write and the one segment a rebuild writes, so scores move in the third digit."""
    data = _search(cli, query)
    for h in data["hits"]:  # type: ignore[attr-defined]
        h.pop("score")
    return data


def test_rebuilt_index_answers_exactly_as_before(root: Path, shared: Cli) -> None:
    queries = ["破损", "B2026080315", "received:2026-11", "Tanaka", '"铝塑板有压痕"', "服务", "客户"]
    before = [_answers(shared, q) for q in queries]
    import shutil

    shutil.rmtree(root / "index")
    missing = shared("search", "--json", "破损")  # a missing index is damage, never 0 hits (issue 16)
    assert missing.exit_code == 2 and "archive rebuild" in missing.stderr and missing.stdout == ""
    assert shared("rebuild").exit_code == 0
    assert [_answers(shared, q) for q in queries] == before


def test_index_check_reports_a_case_missing_from_the_index(root: Path, shared: Cli) -> None:
    assert shared("index", "check").exit_code == 0
    from archive.services.archive import Archive

    Archive.open(root).engine.delete("26110003")
    result = shared("index", "check", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["missing"] == ["26110003"]
    assert shared("rebuild").exit_code == 0
    assert shared("index", "check").exit_code == 0


def test_eight_parallel_intakes_all_land_in_the_index(root: Path, tmp_path: Path) -> None:
    files = [write_case(tmp_path, f"p{i}.json", description=f"并发检索测试第{i}号 外包装破损") for i in range(8)]
    procs = [subprocess.Popen([ARCHIVE_BIN, "--root", str(root), "intake", str(f)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for f in files]
    for p in procs:
        p.communicate(timeout=300)
        assert p.returncode == 0
    result = subprocess.run([ARCHIVE_BIN, "--root", str(root), "search", "--json", "--limit", "50", "并发检索测试"],
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)["total"] == 8


def test_similar_finds_the_earlier_like_complaint(cli: Cli, tmp_path: Path) -> None:
    assert cli("intake", *map(str, SHARED_CASES)).exit_code == 0
    twin = write_case(tmp_path, received_at="2026-11-21T09:00:00+08:00",
                      description="阿莫西林胶囊外包装破损,铝塑板有压痕,药粒数量短缺,客户要求换货。",
                      product={"name": "阿莫西林胶囊", "lot": "B2026080316"})
    out = json.loads(cli("intake", "--json", str(twin)).stdout)[0]
    assert out["similar"][0] == "26110001"
    assert json.loads(cli("similar", "--json", out["number"]).stdout)[0]["number"] == "26110001"
