"""The GL-004 forms as the SOP prints them (issue 17): every field, Chinese only, clean A4 pages, SC fonts.

Each field is read back from the rendered .docx (python-docx, nested tables included) and from the PDF
text (pypdf). The fixture in tests/fixtures/forms fills every optional field of a pharma adverse-reaction
(B类) case, re-triaged urgent after intake, replied and investigated late, one stage corrected.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT, SHARED, SHARED_CASES, Cli, record_dirs, write_case
from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader

from archive import vocab

FIXTURES = Path(__file__).parent / "fixtures" / "forms"
EXAMPLES = PROJECT / "examples"
FORMS = ("register-form", "record-form", "investigation-report", "capa-record", "response-feedback",
         "eightd-report")


# ---------------------------------------------------------------- helpers

def _number(cli: Cli, case: Path) -> str:
    result = cli("intake", "--json", str(case))
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)[0]["number"])


def _update(cli: Cli, number: str, path: Path, *extra: str) -> None:
    result = cli("update", number, str(path), *extra)
    assert result.exit_code == 0, result.output


def _full_case(cli: Cli) -> str:
    """Every optional field filled; urgent after intake; the investigation corrected; closed with an
    action open."""
    number = _number(cli, FIXTURES / "full-case.json")
    for name in ("triage", "investigation", "capa", "response"):
        _update(cli, number, FIXTURES / f"full-{name}.json")
    _update(cli, number, FIXTURES / "full-investigation-corrected.json", "--reason", "补充发运温度记录")
    _update(cli, number, FIXTURES / "full-close.json", "--reason", "预防措施转入年度计划跟踪")
    return number


def _latest(root: Path, number: str, doc_id: str, suffix: str = ".docx") -> Path:
    folder = record_dirs(root)[number] / "documents"
    found = sorted(folder.glob(f"{doc_id}.v*{suffix}"), key=lambda p: int(p.name.split(".v")[1].split(".")[0]))
    assert found, f"{doc_id} of {number} not rendered"
    return found[-1]


def _docx_text(path: Path) -> str:
    """All text of a .docx: body (nested tables too), header and footer, whitespace removed."""
    doc = Document(str(path))
    parts = [doc.element.body]
    for section in doc.sections:
        parts += [section.header._element, section.footer._element]
    text = "".join(t.text or "" for part in parts for t in part.iter(qn("w:t")))
    return re.sub(r"\s+", "", text)


def _pdf_pages(path: Path) -> list[str]:
    return [re.sub(r"\s+", "", page.extract_text() or "") for page in PdfReader(str(path)).pages]


def _pdf(cli: Cli, root: Path, number: str) -> None:
    result = cli("render", "--pdf", number)
    assert result.exit_code == 0, result.output


def _both(root: Path, number: str, doc_id: str) -> tuple[str, str]:
    """The docx and PDF text without the ☐/☑ boxes: the PDF draws them in another font, and its text layer
    puts them apart from their labels. Which box is ticked is read from the docx (``_docx_text``)."""
    docx = _docx_text(_latest(root, number, doc_id))
    pdf = "".join(_pdf_pages(_latest(root, number, doc_id, ".pdf")))
    return _unboxed(docx), _unboxed(pdf)


def _unboxed(text: str) -> str:
    return re.sub("[☐☑]", "", text)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def full(root: Path, cli: Cli) -> str:
    number = _full_case(cli)
    _pdf(cli, root, number)
    return number


# ---------------------------------------------------------------- 1. fields, as the SOP lists them

def test_register_form_prints_content_request_who_registered_qa_handover_and_promise(root: Path, full: str) -> None:
    for text in _both(root, full, "register-form"):
        assert _flat("三名患者出现皮疹、胸闷等不良反应") in text  # 投诉内容
        assert "客户要求提供该批次检验报告" in text
        assert "登记人tester" in text and "登记时间" in text  # who ran the intake
        assert "转交QA时间2026年11月16日11:00" in text and "接手QA质量管理部张丽" in text
        assert "接收人能否处理能不能" in text and "承诺答复时间2026年11月18日17:00" in text
    assert "接收人能否处理☐能☑不能" in _docx_text(_latest(root, full, "register-form"))


def test_record_form_prints_contact_receiver_spec_quantities_and_dated_qa_and_reviewer(root: Path,
                                                                                     full: str) -> None:
    for text in _both(root, full, "record-form"):
        assert "联系方式0571-88886666" in text and "接收人销售部周敏" in text
        assert "规格0.5g×10瓶" in text and "数量200" in text and "不良数量3" in text
        assert "类别产品质量" in text and "严重程度严重" in text
        assert "QA质量管理部张丽记录日期2026年11月16日" in text
        assert "复核人质量管理部赵强复核日期2026年11月17日" in text
    boxes = _docx_text(_latest(root, full, "record-form"))
    assert "☑不良反应" in boxes and "☑严重" in boxes  # 类别, 严重程度 (raised by triage)


def test_the_reviewer_may_not_be_the_qa_who_recorded(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _number(cli, write_case(tmp_path))
    same = tmp_path / "triage.json"
    same.write_text(json.dumps({"triage": {"qa": "质量部 张丽", "reviewed_by": "张丽"}}), encoding="utf-8")
    result = cli("update", number, str(same))
    assert result.exit_code == 2 and "$.triage.reviewed_by" in result.output
    assert "one person may not fill both" in result.output


def test_investigation_report_prints_its_deadline_whether_met_and_a_drafted_signature_row(root: Path,
                                                                                         full: str) -> None:
    for text in _both(root, full, "investigation-report"):
        assert "调查期限2026年11月23日" in text
        assert "是否按期否(逾期1个工作日)" in text  # completed 11-24, due 11-23 (a Monday)
        assert "签署签名职务日期时间密钥指纹起草" in text  # the row is labelled by meaning
        assert "调查人质量管理部张丽" in text


def test_capa_record_prints_the_problem_each_status_verifier_and_why_it_closed_open(root: Path,
                                                                                   full: str) -> None:
    for text in _both(root, full, "capa-record"):
        assert "问题描述医院来函" in text
        statuses = text.replace("带未完成措施结案的原因", "")
        assert statuses.count("已完成") == 2 and statuses.count("未完成") == 1
        assert "验证人:质量管理部赵强2026年11月21日" in text
        assert "带未完成措施结案的原因预防措施转入年度计划跟踪" in text


def test_response_form_prints_measures_department_owner_replier_deadline_and_confirmation(root: Path,
                                                                                        full: str) -> None:
    for text in _both(root, full, "response-feedback"):
        assert "投诉处理措施及客户反馈表" in text
        assert "处理措施提供检验报告及留样检验结果" in text
        assert "受理部门质量管理部、医学部负责人质量管理部张丽" in text
        assert "答复人质量管理部张丽" in text
        # Re-triaged urgent: the reply was due the day of receipt; replied four working days later.
        assert "答复期限2026年11月16日是否按期否(逾期4个工作日)" in text
        assert "客户确认医院药剂科钱药师书面确认处理结果" in text
        assert "核准人质量部经理黄涛" in text  # nobody signed 批准 yet: the closure's name stands in


def test_the_approver_printed_is_who_signed_approved_never_a_differing_name(root: Path, full: str) -> None:
    from archive.documents import render as documents
    from archive.documents.templates import checked_path, current
    from archive.record import reader

    view = reader.load(record_dirs(root)[full])
    signed = {"approved": {"name": "周总", "title": "质量受权人(批准)", "time": "", "date": "", "fingerprint": ""}}
    template = current(root / "templates", "response-feedback")
    ctx = documents._context(view, template, "示例", signed, None)
    ctx["version_label"] = "第 9 版"
    data = documents.render_bytes(checked_path(root / "templates", template), template, ctx)
    out = root.parent / "signed.docx"
    out.write_bytes(data)
    text = _docx_text(out)
    assert "核准人周总" in text and "黄涛" not in text


def test_eightd_report_prints_team_dates_header_and_d6_corrective_actions_only(root: Path, cli: Cli,
                                                                               tmp_path: Path) -> None:
    number = _number(cli, EXAMPLES / "05-electronics-quality.json")
    investigation = json.loads((EXAMPLES / "updates" / "05-investigation.json").read_text(encoding="utf-8"))
    investigation["triage"]["team"] = ["质量部 陈工", "制造部 林强", "工程部 何敏"]
    with_team = tmp_path / "investigation.json"
    with_team.write_text(json.dumps(investigation, ensure_ascii=False), encoding="utf-8")
    _update(cli, number, with_team)
    _update(cli, number, EXAMPLES / "updates" / "05-capa.json")
    _pdf(cli, root, number)
    for text in _both(root, number, "eightd-report"):
        assert "订单号" in text and "交运日期2026年10月28日" in text and "数量" in text and "不良数量" in text
        assert "D1小组成员" in text and "成员:质量部陈工、制造部林强、工程部何敏" in text
        assert "报告日期" in text and "完成日期" in text
        d6 = text.split("D6实施与验证")[1].split("D7预防措施")[0]
        assert "曝光机增加CCD自动对位" in d6  # the corrective action
        assert "AOI复检" not in d6 and "SPC监控" not in d6  # not D3 containment, not D7 preventive
        assert "D8结案日期" in text and "D8批准人" in text
        assert "负责人:;" not in text and "None" not in text


def test_an_empty_eightd_field_prints_a_line_to_fill_by_hand(root: Path, cli: Cli) -> None:
    number = _number(cli, EXAMPLES / "05-electronics-quality.json")
    _update(cli, number, EXAMPLES / "updates" / "05-investigation.json")
    text = _docx_text(_latest(root, number, "eightd-report"))
    assert "成员:＿＿＿" in text and "D8结案与总结＿＿＿" in text
    assert "负责人:;" not in text and "None" not in text


def test_pharma_adverse_reaction_fields_print_when_present_and_are_absent_otherwise(root: Path, full: str,
                                                                                   cli: Cli) -> None:
    register, _ = _both(root, full, "register-form")
    assert "样品/封样收到样品:是;已封样:是;数量:2瓶" in register and "患者患者:王某某;性别:女;年龄:45岁" in register
    for text in _both(root, full, "investigation-report"):
        assert "留样检查留样2瓶全检" in text and "风险评估已知不良反应" in text
        assert "召回决定召回不召回;级别:不适用;理由:质量符合标准,无召回必要;决定人:质量受权人黄涛" in text
    plain = _number(cli, EXAMPLES / "04-hotel-service.json")
    text = _docx_text(_latest(root, plain, "register-form"))
    assert "样品/封样" not in text and "患者" not in text


def test_urgent_set_by_triage_after_intake_prints_urgent_on_the_rerendered_form(root: Path, cli: Cli,
                                                                                tmp_path: Path) -> None:
    number = _number(cli, write_case(tmp_path, channel="letter"))
    assert "紧急投诉☐是☑否" in _docx_text(_latest(root, number, "register-form"))
    urgent = tmp_path / "urgent.json"
    urgent.write_text(json.dumps({"triage": {"urgent": True}}), encoding="utf-8")
    _update(cli, number, urgent)
    text = _docx_text(_latest(root, number, "register-form"))
    assert "紧急投诉☑是☐否" in text
    assert "答复期限2026年11月03日" in text  # received 2026-11-03 by letter: now due the same day


def test_a_correction_prints_its_reason_who_when_and_the_version_it_replaces(root: Path, full: str) -> None:
    for text in _both(root, full, "investigation-report"):
        assert "更正调查第2版更正第1版;更正原因:补充发运温度记录;更正人:tester;更正时间:" in text


def test_template_version_and_document_version_are_labelled_apart(root: Path, full: str) -> None:
    text = _docx_text(_latest(root, full, "register-form"))
    assert "模板版本:第2版" in text and re.search(r"文件版次:第\d+版", text)


def test_late_by_working_days_is_one_rule_counted_on_the_statutory_calendar() -> None:
    import datetime as dt

    from archive.rules.deadlines import late_working_days
    from archive.settings import from_mapping

    s = from_mapping({})
    assert late_working_days(dt.date(2026, 11, 16), dt.date(2026, 11, 16), dt.date(2026, 11, 16), s) is None
    assert late_working_days(dt.date(2026, 11, 16), dt.date(2026, 11, 20), dt.date(2026, 11, 20), s) == 4
    sunday = dt.date(2026, 11, 22)
    assert late_working_days(dt.date(2026, 11, 20), sunday, sunday, s) == 1  # a Sunday is late
    holiday = from_mapping({"calendar": {"extra_holidays": ["2026-11-18"]}})
    friday = dt.date(2026, 11, 20)
    assert late_working_days(dt.date(2026, 11, 16), friday, friday, holiday) == 3  # a holiday is no day


# ---------------------------------------------------------------- 4. Chinese only

_FORBIDDEN = ({k for name in dir(vocab) if isinstance(getattr(vocab, name), vocab.MappingProxyType)
               for k in getattr(vocab, name) if isinstance(k, str)}
              | {"None", "True", "False", "Signatures", "Actions", "secure_delete", "SQLite", "safety_related",
                 "claim_amount", "people_affected", "legal_action", "channel", "received_by", "customer_request"})


def _program_words(text: str) -> set[str]:
    """English keys and enums in ``text``; attachment file names and e-mail addresses (customer data: qa@… is a
    mailbox, not the role code qa) are not program words."""
    text = re.sub(r"[\w.-]+\.(?:pdf|jpe?g|png|eml|txt|docx?|xlsx?|csv|zip)", "", text, flags=re.IGNORECASE)
    text = re.sub(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "", text)
    return {w for w in re.findall(r"[A-Za-z_]+", text) if w in _FORBIDDEN}


def _example_sets() -> list[tuple[Path, list[Path]]]:
    """Every shipped example case with the updates shipped for it (by its leading number)."""
    out = []
    for folder in (EXAMPLES, SHARED / "examples" / "cases"):
        updates = EXAMPLES / "updates" if folder == EXAMPLES else SHARED / "examples" / "updates"
        for case in sorted(folder.glob("*.json")):
            prefix = case.name[:2]
            order = ("investigation", "capa", "close")
            ups = sorted(updates.glob(f"{prefix}-*.json"),
                         key=lambda p: next((i for i, k in enumerate(order) if k in p.name), 9))
            out.append((case, ups))
    return out


def test_no_program_word_in_any_form_of_any_shipped_example(root: Path, cli: Cli) -> None:
    assert len(_example_sets()) >= 12
    for case, ups in _example_sets():
        result = cli("intake", "--json", "--allow-duplicate", str(case))  # examples/ and shared/ overlap
        assert result.exit_code == 0, result.output
        number = json.loads(result.stdout)[0]["number"]
        for up in ups:
            _update(cli, number, up)
        assert cli("render", number, "--force").exit_code == 0
        folder = record_dirs(root)[number] / "documents"
        for docx in folder.glob("*.docx"):
            assert not _program_words(_docx_text(docx)), (case.name, docx.name, _program_words(_docx_text(docx)))


def test_no_program_word_in_the_fixture_that_fills_every_optional_field(root: Path, full: str) -> None:
    folder = record_dirs(root)[full] / "documents"
    for docx in folder.glob("*.docx"):
        assert not _program_words(_docx_text(docx)), docx.name
    for pdf in folder.glob("*.pdf"):
        assert not _program_words("".join(_pdf_pages(pdf))), pdf.name


def test_major_reasons_and_the_destruction_method_are_plain_chinese() -> None:
    from archive.rules.triage import major_reasons, printable_reason
    from archive.services.retention import METHOD
    from archive.settings import from_mapping

    case = {"channel": "regulator", "safety_related": True, "legal_action": True, "claim_amount": 20000,
            "people_affected": 30}
    reasons = major_reasons(case, from_mapping({}))
    assert len(reasons) == 5 and not any(re.search(r"[A-Za-z]", r) for r in reasons)
    assert printable_reason("涉及人身安全 (safety_related)") == "涉及人身安全"  # records archived before
    assert printable_reason("监管/消协转办 (channel: regulator)") == "监管/消协转办"
    assert "SQLite" not in METHOD and "secure_delete" not in METHOD
    assert set(re.findall(r"[A-Za-z]+", METHOD)) <= {"PDF"}


# ---------------------------------------------------------------- 5. pages and fonts

def test_a_fifteen_action_capa_keeps_its_signature_block_with_the_table_and_repeats_its_header(
        root: Path, cli: Cli) -> None:
    number = _number(cli, EXAMPLES / "05-electronics-quality.json")
    _update(cli, number, EXAMPLES / "updates" / "05-investigation.json")
    _update(cli, number, FIXTURES / "capa-15.json")
    _pdf(cli, root, number)
    pages = _pdf_pages(_latest(root, number, "capa-record", ".pdf"))
    assert len(pages) >= 2
    for page in pages:  # the header row heads every page of actions
        assert "序号类型措施责任人完成期限完成情况有效性验证" in page
    last = next(i for i, p in enumerate(pages) if "第15项措施" in p)
    assert "签名" in pages[last] and "批准" in pages[last] and "第14项措施" in "".join(pages[last - 1:last + 1])
    assert not any("签署签名职务" in p for p in pages[:last])
    for page in pages:  # no date wraps mid-token
        assert re.search(r"2026年11月27日", page)


def test_every_form_is_a4_with_rows_that_do_not_split(root: Path, full: str) -> None:
    for doc_id in ("register-form", "record-form", "investigation-report", "capa-record", "response-feedback"):
        doc = Document(str(_latest(root, full, doc_id)))
        section = doc.sections[0]
        assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
        for table in doc.tables:
            for row in table.rows:
                assert row._tr.trPr is not None and row._tr.trPr.find(qn("w:cantSplit")) is not None
        for pdf_page in PdfReader(str(_latest(root, full, doc_id, ".pdf"))).pages:
            assert (round(float(pdf_page.mediabox.width)), round(float(pdf_page.mediabox.height))) == (595, 842)


def test_templates_declare_zh_cn_and_one_chinese_face_for_digits_too() -> None:
    for doc_id in FORMS:
        doc = Document(str(PROJECT / "templates" / f"{doc_id}.v2.docx"))
        styles = doc.styles.element
        langs = {(el.get(qn("w:val")), el.get(qn("w:eastAsia"))) for el in styles.iter(qn("w:lang"))}
        assert {east for _, east in langs} == {"zh-CN"}, doc_id
        for fonts in doc.element.body.iter(qn("w:rFonts")):
            assert fonts.get(qn("w:ascii")) == fonts.get(qn("w:eastAsia")) in ("宋体", "黑体"), doc_id


def _fonts_used(pdf: Path) -> dict[str, set[str]]:
    """Which characters each embedded font draws."""
    used: dict[str, set[str]] = {}

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if font is not None and text.strip():
            used.setdefault(str(font.get("/BaseFont")), set()).update(text.strip())

    for page in PdfReader(str(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return used


def test_pdfs_embed_the_chinese_noto_faces_and_no_dejavu_for_text_or_digits(root: Path, full: str) -> None:
    pdf = _latest(root, full, "register-form", ".pdf")
    listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    names = [line.split()[0] for line in listing.splitlines()[2:]]
    assert names and not any("Serif" in n and "DejaVu" in n for n in names)
    assert not any("Liberation" in n for n in names)
    cjk = [n for n in names if "CJK" in n]
    # One serif regular, one serif bold, one sans bold: 宋体/黑体 and digits all come from Noto CJK; a second
    # (Japanese) face of the same weight would be a second subset.
    assert len(cjk) == len(set(n.split("+")[1] for n in cjk))
    for font, chars in _fonts_used(pdf).items():
        if "CJK" not in font:
            assert chars <= {"☐", "☑", " "}, (font, chars)  # Noto CJK has no ballot boxes; nothing else borrowed


def test_the_private_libreoffice_profile_replaces_song_and_hei_with_simplified_chinese_noto() -> None:
    from archive.documents.pdf import FONT_REPLACEMENTS, profile_settings

    pairs = dict(FONT_REPLACEMENTS)
    assert pairs["宋体"] == "Noto Serif CJK SC" and pairs["黑体"] == "Noto Sans CJK SC"
    assert "<value>宋体</value>" in profile_settings() and "Font/Substitution" in profile_settings()
    found = subprocess.run(["fc-match", "-f", "%{family}", "Noto Serif CJK SC"], capture_output=True, text=True,
                           check=True).stdout
    assert "Noto Serif CJK SC" in found


def test_the_destruction_plan_is_a4_with_header_page_numbers_retention_dates_and_hold_reasons(
        root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _number(cli, SHARED_CASES[0])
    for name in ("01-investigation.json", "01-capa.json", "01-close.json"):
        _update(cli, number, SHARED / "examples" / "updates" / name)
    other = _number(cli, EXAMPLES / "02-pharma-adverse.json")
    assert other
    assert cli("hold", number, "--reason", "诉讼保全:某某法院函").exit_code == 0
    out = tmp_path / "plan.docx"
    result = cli("retention", "schedule", "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = Document(io.BytesIO(out.read_bytes()))
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    header = "".join(p.text for p in section.header.paragraphs)
    assert "投诉记录销毁计划" in header and "受控文件" in header
    assert "PAGE" in section.footer._element.xml and "NUMPAGES" in section.footer._element.xml
    text = _docx_text(out)
    assert "保全原因" in text and "诉讼保全:某某法院函" in text and "保存至" in text
    assert re.search(r"\d{4}年\d{2}月\d{2}日", text)
