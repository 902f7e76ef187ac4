"""The manufacturer's 客户抱怨处理表 (PCB SOP 表14.6.3, pcb-complaint GL-004-07): every field from the case,
five controlled copies each with its own distribution in its footer, chosen for intake by [forms] set."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED, SHARED_CASES, Cli, audit_entries, make_key, record_dirs, set_settings
from docx import Document
from pypdf import PdfReader

PCB_EXAMPLE = SHARED / "examples" / "cases" / "05-electronics-quality.json"
PASS = {"ARCHIVE_PASSPHRASE": "correct horse battery"}
COPIES = (("第一联", "质量管理部存"), ("第二联", "业务部存"), ("第三联", "生产部(责任单位)存"),
          ("第四联", "研发部存"), ("第五联", "总经理室存"))

# Every field of the 客户抱怨处理表 that is not already in the shared example, with values found nowhere else.
CASE_PCB = {"abnormal_sample": {"provided": True, "quantity": 5, "note": "不良板随函寄回"},
            "sales_opinion": "长期客户,建议优先补货并派员拜访"}
STAGES: dict[str, Any] = {
    "investigation": {
        "investigator": "质量部 陈工", "findings": "短路点均位于U7附近焊盘,阻焊曝光对位偏移",
        "root_cause": "阻焊曝光菲林对位偏移", "responsibility": "ours",
        "completed_at": "2026-11-20T17:30:00+08:00",
        "pcb": {"responsible_department": "制造部", "rd_opinion": "菲林对位余量不足,建议增加对位标靶",
                "production": {"unit": "阻焊车间", "shift": "二号机夜班", "operator": "李明",
                               "date": "2026-10-24"}}},
    "response": {
        "replied_at": "2026-11-23T11:00:00+08:00", "method": "email", "content": "已发送8D报告",
        "outcome": "补发37片并承担返工费用", "pcb": {"gm_opinion": "同意补发,责任单位检讨并限期改善"}},
    "closure": {
        "closed_at": "2026-11-27T16:00:00+08:00", "approved_by": "总经理 黄伟",
        "pcb": {"tracking": True, "loss_amount": 8600, "penalty": "制造部罚扣绩效500元"}},
}
# What each field prints (spaces ignored): the SOP's fields in its order, from the example and the stages.
FIELDS = {
    "料号": "PCB-4L-2291", "交运日期": "2026年10月28日", "数量": "5000", "不良数量": "37",
    "异常样品": "☑有☐无数量:5片说明:不良板随函寄回", "客户要求": "客户加工中未确定",
    "业务部签注意见": "长期客户,建议优先补货并派员拜访", "责任归属部门": "制造部", "生产单位": "阻焊车间",
    "机班别": "二号机夜班", "生产人员": "李明", "生产日期": "2026年10月24日",
    "研发部意见": "菲林对位余量不足,建议增加对位标靶", "总经理室综合意见": "同意补发,责任单位检讨并限期改善",
    "交涉结果": "补发37片并承担返工费用", "是否列入追踪": "☑是☐否", "损失金额(元)": "8600",
    "罚扣": "制造部罚扣绩效500元", "核决": "总经理黄伟", "核决日期": "2026年11月27日",
}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _docx_text(docx: Path) -> str:
    """Body, header and footer text (python-docx sees tables cell by cell)."""
    with zipfile.ZipFile(docx) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist()
                      if n.startswith("word/") and re.search(r"(document|header\d*|footer\d*)\.xml$", n))
    import html
    return html.unescape("".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml)))


def _pdf_pages(pdf: Path) -> list[str]:
    return [_squash(p.extract_text() or "") for p in PdfReader(str(pdf)).pages]


def _pcb_case(folder: Path) -> Path:
    case = json.loads(PCB_EXAMPLE.read_text(encoding="utf-8"))
    case.pop("attachments")
    case["pcb"] = CASE_PCB
    path = folder / "pcb-case.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    return path


def _intake(cli: Cli, path: Path) -> dict[str, Any]:
    result = cli("intake", "--json", str(path))
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    return dict(item)


def _update(cli: Cli, folder: Path, number: str, stages: dict[str, Any]) -> list[str]:
    path = folder / f"update-{'-'.join(stages)}.json"
    path.write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
    result = cli("update", "--json", number, str(path))
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout)["documents"])


def _use_pcb_set(root: Path) -> None:
    set_settings(root, lambda t: t.replace('set = "gl004"', 'set = "pcb"'))


@pytest.fixture
def worked_pcb(root: Path, cli: Cli, tmp_path: Path) -> tuple[str, Path]:
    """A PCB archive's case with every field of the 客户抱怨处理表 filled, taken to closure, with its PDF."""
    _use_pcb_set(root)
    number = _intake(cli, _pcb_case(tmp_path))["number"]
    _update(cli, tmp_path, number, STAGES)
    result = cli("render", "--json", "--pdf", "--form", "pcb-complaint", number)
    assert result.exit_code == 0, result.output
    record = record_dirs(root)[number]
    latest = sorted((record / "documents").glob("pcb-complaint.v*.docx"))[-1]
    return number, latest


def test_every_pcb_field_prints_in_the_docx_and_the_pdf(worked_pcb: tuple[str, Path]) -> None:
    number, docx = worked_pcb
    texts = {"docx": _squash(_docx_text(docx)), "pdf": "".join(_pdf_pages(docx.with_suffix(".pdf")))}
    for where, text in texts.items():
        assert f"编号{number}" in text, where
        for label, value in FIELDS.items():
            if where == "pdf":  # a box glyph comes from another font, and its text lands apart from its label
                value = value.replace("☑", "").replace("☐", "")
                text = text.replace("☑", "").replace("☐", "")
            assert _squash(label + value) in text or _squash(value) in text, (where, label, value)
            assert _squash(label) in text, (where, label)
        # Five copies: each field five times.
        assert text.count("制造部罚扣绩效500元") == 5, where


def test_shared_pcb_example_renders_with_blank_lines_for_what_is_not_known(root: Path, cli: Cli,
                                                                          tmp_path: Path) -> None:
    case = json.loads(PCB_EXAMPLE.read_text(encoding="utf-8"))
    (tmp_path / "attachments").mkdir()
    for a in case["attachments"]:
        (tmp_path / a["path"]).write_bytes((PCB_EXAMPLE.parent / a["path"]).read_bytes())
    path = tmp_path / PCB_EXAMPLE.name
    path.write_bytes(PCB_EXAMPLE.read_bytes())
    number = _intake(cli, path)["number"]
    result = cli("render", "--json", "--pdf", "--form", "pcb-complaint", number)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["documents"] == ["documents/pcb-complaint.v1.docx",
                                                      "documents/pcb-complaint.v1.pdf"]
    docx = record_dirs(root)[number] / "documents/pcb-complaint.v1.docx"
    docx_text, pdf_text = _squash(_docx_text(docx)), "".join(_pdf_pages(docx.with_suffix(".pdf")))
    for text in (docx_text, pdf_text):
        for value in ("PCB-4L-2291", "2026年10月28日", "5000", "37", "客户加工中未确定", "东洋电子株式会社"):
            assert value in text, value
        assert "None" not in text and "null" not in text
    # Not yet known: every box empty, a line to write on, never a program's word for nothing. (In the PDF's
    # text a box glyph, from another font, lands apart from its label.)
    assert docx_text.count("☐有☐无数量:________片") == 5 and docx_text.count("☐是☐否") == 5
    assert "☑" not in docx_text and "☑" not in pdf_text
    # (In the PDF's text the box glyphs land where the box font's layout puts them: only the text is compared.)
    bare = pdf_text.replace("☐", "")
    assert bare.count("数量:________片") == 5 and bare.count("是否列入追踪是否") == 5
    assert "生产单位机班别生产人员生产日期研发部意见" in docx_text


def test_five_copies_each_carry_their_distribution_in_their_own_footer(worked_pcb: tuple[str, Path]) -> None:
    number, docx = worked_pcb
    sections = Document(str(docx)).sections
    assert len(sections) == 5
    for section, (copy, kept_by) in zip(sections, COPIES, strict=True):
        footer = _squash("".join(p.text for p in section.footer.paragraphs))
        assert footer.startswith(copy + kept_by), footer
        assert f"编号{number}" in footer and "GL-004-07" in footer
        others = [c for c, _ in COPIES if c != copy]
        assert not any(o in footer for o in others), footer
    pages = _pdf_pages(docx.with_suffix(".pdf"))
    seen = []
    for page in pages:
        [copy] = [c for c, kept_by in COPIES if c + kept_by in page]
        seen.append(copy)
    assert seen == [c for c, _ in COPIES]  # one page each, in the SOP's order
    for i, page in enumerate(pages):
        assert f"第{i + 1}页共5页" in page, page


def test_the_rendered_form_has_no_english_program_word(worked_pcb: tuple[str, Path]) -> None:
    _, docx = worked_pcb
    inputs: list[str] = []

    def strings(value: Any) -> None:
        if isinstance(value, str):
            inputs.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                strings(v)
        elif isinstance(value, list):
            for v in value:
                strings(v)

    strings(json.loads(PCB_EXAMPLE.read_text(encoding="utf-8")))
    strings(STAGES)
    for text in (_docx_text(docx), "\n".join(PdfReader(str(docx.with_suffix(".pdf"))).pages[i].extract_text()
                                             for i in range(5))):
        # A wrapped line breaks a value in the PDF's text: compare without white space.
        text = _squash(text)
        for value in sorted(map(_squash, inputs), key=len, reverse=True):
            text = text.replace(value, "")
        text = text.replace("GL-004-07", "")
        text = re.sub(r"文件版次:v\d+", "", text)
        assert not re.findall(r"[A-Za-z_]{2,}", text), re.findall(r"[A-Za-z_]{2,}", text)


def test_forms_set_pcb_makes_intake_render_the_pcb_form(root: Path, cli: Cli, tmp_path: Path) -> None:
    _use_pcb_set(root)
    item = _intake(cli, _pcb_case(tmp_path))
    assert item["documents"] == ["documents/pcb-complaint.v1.docx"]
    record = record_dirs(root)[item["number"]]
    meta = json.loads((record / "documents/pcb-complaint.v1.meta.json").read_text(encoding="utf-8"))
    assert meta["template"]["id"] == "pcb-complaint" and meta["template"]["document_number"] == "GL-004-07"
    [entry] = [e for e in audit_entries(root) if e["action"] == "intake"]
    assert "documents/pcb-complaint.v1.docx" in {f["path"] for f in entry["files"]}
    # The stages that fill it print it again; the stage forms are those of the GL-004 set.
    made = _update(cli, tmp_path, item["number"], {"investigation": STAGES["investigation"]})
    assert "documents/pcb-complaint.v2.docx" in made and "documents/investigation-report.v1.docx" in made
    assert not any("register-form" in d or "record-form" in d for d in made)
    assert "阻焊车间" in _docx_text(record / "documents/pcb-complaint.v2.docx")


def test_forms_set_gl004_is_the_default_and_renders_the_register_and_record_forms(root: Path, cli: Cli,
                                                                                  tmp_path: Path) -> None:
    assert 'set = "gl004"' in (root / "archive.toml").read_text(encoding="utf-8")
    item = _intake(cli, _pcb_case(tmp_path))
    assert item["documents"] == ["documents/register-form.v1.docx", "documents/record-form.v1.docx"]


def test_render_form_renders_the_other_set(root: Path, cli: Cli, tmp_path: Path) -> None:
    gl004 = _intake(cli, _pcb_case(tmp_path))["number"]
    result = cli("render", "--json", "--form", "pcb-complaint", gl004)
    assert json.loads(result.stdout)["documents"] == ["documents/pcb-complaint.v1.docx"]
    assert audit_entries(root)[-1]["action"] == "render"
    # Current now, so asked again it makes nothing; a plain render keeps it current with the others.
    assert json.loads(cli("render", "--json", "--form", "pcb-complaint", gl004).stdout)["documents"] == []
    _use_pcb_set(root)
    pcb = _intake(cli, write_pcb_case(tmp_path))["number"]
    result = cli("render", "--json", "--form", "register-form", "--form", "record-form", pcb)
    assert json.loads(result.stdout)["documents"] == ["documents/register-form.v1.docx",
                                                      "documents/record-form.v1.docx"]
    text = _docx_text(record_dirs(root)[pcb] / "documents/register-form.v1.docx")
    assert "客户投诉接收登记表" in text and "PCB-4L-2291" in text


def write_pcb_case(folder: Path) -> Path:
    """A second PCB complaint (another time of receipt, so it is not a duplicate of the first)."""
    case = json.loads(_pcb_case(folder).read_text(encoding="utf-8"))
    case["received_at"] = "2026-11-19T09:00:00+08:00"
    path = folder / "pcb-case-2.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    return path


def test_render_refuses_a_form_that_is_not_a_case_form(root: Path, cli: Cli) -> None:
    number = _intake(cli, SHARED_CASES[0])["number"]
    before = len(audit_entries(root))
    result = cli("render", "--form", "destruction-certificate", number)
    assert result.exit_code == 2
    assert "--form destruction-certificate: not a form of a case" in result.stderr
    assert len(audit_entries(root)) == before


def test_forms_set_refuses_an_unknown_set(root: Path, cli: Cli) -> None:
    (root / "archive.toml").write_text((root / "archive.toml").read_text(encoding="utf-8")
                                       .replace('set = "gl004"', 'set = "iso"'), encoding="utf-8")
    result = cli("settings", "apply", "--reason", "try an unknown set")
    assert result.exit_code == 2
    assert 'forms.set: expected "gl004" or "pcb", got \'iso\'' in result.stderr


def test_tampered_pcb_template_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    _use_pcb_set(root)
    template = root / "templates" / "pcb-complaint.v1.docx"
    template.write_bytes(template.read_bytes() + b"\0")
    result = cli("intake", str(_pcb_case(tmp_path)))
    assert result.exit_code == 2 and "differs from its registered SHA-256" in result.stderr
    assert not record_dirs(root)


def test_signing_the_pcb_form_fills_the_signature_rows_of_every_copy(root: Path, cli: Cli, tmp_path: Path) -> None:
    keydir = tmp_path / "keys"
    keydir.mkdir()
    admin = make_key(root, "zhoumin", "周敏", "档案管理员", keydir / "zhoumin.pem", PASS["ARCHIVE_PASSPHRASE"])
    make_key(root, "zhangli", "张丽", "品管主管", keydir / "zhangli.pem", PASS["ARCHIVE_PASSPHRASE"],
             certify_with=admin)
    _use_pcb_set(root)
    r = cli("--actor", "品管主管 张丽", "intake", "--json", "--sign-as", str(keydir / "zhangli.pem"),
            str(_pcb_case(tmp_path)), env=PASS)
    assert r.exit_code == 0, r.output
    [item] = json.loads(r.stdout)
    assert "documents/pcb-complaint.v2.docx" in item["documents"]
    text = _docx_text(record_dirs(root)[item["number"]] / "documents/pcb-complaint.v2.docx")
    assert text.count("张丽") == 5 and text.count("品管主管") == 5
    assert cli("verify", item["number"]).exit_code == 0


def test_a_copy_longer_than_a_page_flows_on_and_keeps_its_footer(root: Path, cli: Cli, tmp_path: Path) -> None:
    case = json.loads(_pcb_case(tmp_path).read_text(encoding="utf-8"))
    case["description"] = "客户来函逐片列出不良位置与测试数据。" * 140
    path = tmp_path / "long.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    number = _intake(cli, path)["number"]
    assert cli("render", "--pdf", "--form", "pcb-complaint", number).exit_code == 0
    pages = _pdf_pages(record_dirs(root)[number] / "documents/pcb-complaint.v1.pdf")
    labels = [[c for c, kept_by in COPIES if c + kept_by in page] for page in pages]
    assert all(len(found) == 1 for found in labels), labels
    seen = [found[0] for found in labels]
    assert list(dict.fromkeys(seen)) == [c for c, _ in COPIES] and len(pages) >= 10
    for i, page in enumerate(pages):
        assert f"第{i + 1}页共{len(pages)}页" in page
        if i == 0 or seen[i] != seen[i - 1]:
            # The table starts on the copy's first page: a long complaint flows on, it leaves no blank page.
            assert "客户名称" in page and "抱怨内容" in page, page[:200]
        if i == len(pages) - 1 or seen[i] != seen[i + 1]:
            assert "核决日期" in page and "填表" in page  # the last rows and the signatures stay together
