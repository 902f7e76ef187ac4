"""Highlights show the text a person wrote, labelled by its field (issue 19): never the index's own text of
codes and rule outcomes (`… 信函 «不良反应» 重要 涉及人身安全 …`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SHARED_CASES, SHARED_UPDATES, Cli, use_engine

# What the index writes for a case besides the person's text: channel, category, severity, triage reasons.
CODED_RUN = "信函不良反应重要"


def _hits(cli: Cli, *query: str) -> list[dict[str, object]]:
    result = cli("search", "--json", *query)
    assert result.exit_code == 0, result.output
    hits: list[dict[str, object]] = json.loads(result.stdout)["hits"]
    return hits


def _highlights(cli: Cli, *query: str) -> list[str]:
    hits = _hits(cli, *query)
    assert hits, query
    lines: list[str] = hits[0]["highlights"]  # type: ignore[assignment]
    return lines


@pytest.fixture
def shared(root: Path, cli: Cli, engine: str) -> Cli:
    use_engine(root, engine)
    assert cli("intake", *map(str, SHARED_CASES)).exit_code == 0
    return cli


def test_a_highlight_is_the_description_labelled_not_the_coded_text(shared: Cli) -> None:
    lines = _highlights(shared, "不良反应")
    assert len(lines) == 1, lines
    assert lines[0].startswith("投诉内容: ") and "等«不良反应»,已停药处理" in lines[0]
    assert not any(CODED_RUN in line.replace("«", "").replace("»", "").replace(" ", "") for line in lines)


def test_a_word_found_only_in_coded_text_finds_the_case_without_a_highlight(shared: Cli) -> None:
    hits = _hits(shared, "信函")  # the channel's label: searchable, but no one wrote it
    assert [h["number"] for h in hits] == ["26110002"]
    assert hits[0]["highlights"] == []


def test_each_highlight_names_its_field(shared: Cli) -> None:
    assert _highlights(shared, "customer:华东")[0] == "投诉单位: «华东»医药连锁有限公司"
    assert "批号: «B2026080315»" in _highlights(shared, "lot:B2026080315")
    assert any(h.startswith("客户要求: ") and "«检验报告»" in h for h in _highlights(shared, "检验报告"))


def test_stage_text_is_labelled_by_its_stage_field(shared: Cli) -> None:
    assert shared("update", "26110001", str(SHARED_UPDATES / "01-investigation.json")).exit_code == 0
    lines = _highlights(shared, "装卸不当")
    assert any(h.startswith("调查结果: ") and "«装卸不当»" in h for h in lines), lines
    assert any(h.startswith("根本原因: ") for h in lines), lines
    assert not any("对方过错" in h or "双方过错" in h for h in _highlights(shared, "包装工序"))


def test_attachment_text_is_labelled_with_its_file_name(shared: Cli) -> None:
    lines = _highlights(shared, "待处理区")
    assert len(lines) == 1 and lines[0].startswith("附件 huadong-complaint-letter.pdf: "), lines
    assert "«待处理区»" in lines[0]
    assert _highlights(shared, "阻焊层开窗偏移")[0].startswith("附件 toyo-defect-letter.txt: ")


def test_the_text_output_prints_the_labelled_highlight(shared: Cli) -> None:
    result = shared("search", "不良反应")
    assert result.exit_code == 0, result.output
    assert "    投诉内容: …" in result.stdout and "«不良反应»" in result.stdout
    assert "重要涉及人身安全" not in result.stdout
