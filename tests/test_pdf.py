"""PDF copies: LibreOffice batch conversion; the text layer carries the Chinese text."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import SHARED_CASES, SHARED_UPDATES, Cli, audit_entries, record_dirs, set_settings
from pypdf import PdfReader


def _text(pdf: Path) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in PdfReader(str(pdf)).pages))


def test_every_document_of_a_worked_case_gets_a_pdf_with_chinese_text(root: Path, cli: Cli) -> None:
    [item] = json.loads(cli("intake", "--json", str(SHARED_CASES[0])).stdout)
    number = item["number"]
    for name in ("01-investigation.json", "01-capa.json", "01-close.json"):
        assert cli("update", number, str(SHARED_UPDATES / name)).exit_code == 0
    made = json.loads(cli("render", "--json", "--pdf", number).stdout)["documents"]
    record = record_dirs(root)[number]
    latest = {p.name.split(".v")[0]: p for p in sorted((record / "documents").glob("*.docx"))}
    assert sorted(made) == sorted(f"documents/{p.stem}.pdf" for p in latest.values())
    description = json.loads(SHARED_CASES[0].read_text(encoding="utf-8"))["description"]
    record_form = _text(latest["record-form"].with_suffix(".pdf"))
    assert re.sub(r"\s+", "", description)[:40] in record_form
    assert "客户投诉记录表" in record_form and "GL-004-02" in record_form and "第1页共1页" in record_form
    assert "纠正和预防措施记录" in _text(latest["capa-record"].with_suffix(".pdf"))
    assert audit_entries(root)[-1]["action"] == "render"
    # PDFs are made once: asking again makes nothing new.
    assert json.loads(cli("render", "--json", "--pdf", number).stdout)["documents"] == []


def test_pdf_at_intake_is_a_setting(root: Path, cli: Cli) -> None:
    set_settings(root, lambda t: t.replace('pdf = "on_demand"', 'pdf = "intake"'))
    [item] = json.loads(cli("intake", "--json", str(SHARED_CASES[4])).stdout)
    assert "documents/register-form.v1.pdf" in item["documents"]
    text = _text(record_dirs(root)[item["number"]] / "documents/register-form.v1.pdf")
    assert "东洋电子株式会社" in text and "客户投诉接收登记表" in text


def test_missing_libreoffice_is_one_clear_line(root: Path, cli: Cli, monkeypatch: object) -> None:
    [item] = json.loads(cli("intake", "--json", str(SHARED_CASES[0])).stdout)
    result = cli("render", "--pdf", item["number"], env={"PATH": "/nonexistent"})
    assert result.exit_code == 2 and "LibreOffice" in result.stderr
    assert not list((record_dirs(root)[item["number"]] / "documents").glob("*.pdf"))
