"""Personal data masked for roles that do not see it (个人信息保护法): names, phones, e-mails, addresses, ID numbers,
in fields, free text, register rows and search highlights; masks are idempotent and never leak the original."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, write_case
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.privacy import mask
from archive.privacy.mask import (
    PERSONAL_FIELDS,
    mask_address,
    mask_case,
    mask_email,
    mask_highlight,
    mask_id,
    mask_name,
    mask_phone,
    mask_shown,
    mask_summary,
    mask_text,
    mask_update,
)

SCHEMAS = Path(mask.__file__).resolve().parents[1] / "schemas"


@pytest.mark.parametrize(("name", "masked"), [("王芳", "王*"), ("王建国", "王**"), ("欧阳娜娜", "欧阳**"),
                                              ("欧阳娜", "欧阳*"), ("欧阳", "欧*"), ("李", "*"),
                                              ("John Smith", "J***"), ("anna", "a***"),
                                              ("华东医药 李经理", "华*** 李**")])
def test_a_name_keeps_its_surname_only(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812345678", "138****5678"), ("021-55501234", "021-****1234"), ("0571-88776655", "0571-****6655"),
    ("02155501234", "021****1234"), ("+86 13812345678", "+86 138****5678"), ("138-1234-5678", "138-****-5678"),
    ("4008001234", "******1234"), ("5550123", "***0123"), ("13812345678 / 021-55501234", "138****5678 / 021-****1234"),
])
def test_a_phone_keeps_its_first_three_and_last_four_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_an_email_keeps_its_first_letter_and_its_domain() -> None:
    assert mask_email("wang.fang@example.com") == "w***@example.com"


def test_an_address_keeps_its_first_six_characters() -> None:
    assert mask_address("上海市浦东新区张江路88号3楼") == "上海市浦东新****"
    assert mask_address("张江路88号") == "张江路****"  # a short address shows at most half of itself


def test_an_id_number_keeps_its_region_and_last_four() -> None:
    assert mask_id("11010119900307123X") == "110101********123X"


def test_free_text_masks_every_number_address_and_the_given_names() -> None:
    text = ("王建国来电(13812345678,座机021-55501234),邮箱 wang.fang@example.com,"
            "身份证110101199003071234;王建国要求退货。批号B2026080315,案件26110001。")
    out = mask_text(text, ["王建国"])
    assert out == ("王**来电(138****5678,座机021-****1234),邮箱 w***@example.com,"
                   "身份证110101********1234;王**要求退货。批号B2026080315,案件26110001。")


def test_free_text_leaves_lot_and_case_numbers_and_staff_names() -> None:
    text = "质量部 李娜 核对批号 B2026080315 与订单 PO-20261103001,见投诉 26110001"
    assert mask_text(text, ["王建国"]) == text


def test_a_name_in_parts_is_masked_part_by_part_and_latin_names_as_whole_words() -> None:
    assert mask_text("李经理来电,华东医药 李经理要求答复", ["华东医药 李经理"]) == "李**来电,华*** 李**要求答复"
    assert mask_text("Ann Lee wrote: annual report, Lee's order", ["Ann Lee"]) \
        == "A*** wrote: annual report, L***'s order"


def test_personal_fields_list_every_personal_path_of_the_schemas() -> None:
    case = json.loads((SCHEMAS / "case.schema.json").read_text(encoding="utf-8"))
    update = json.loads((SCHEMAS / "update.schema.json").read_text(encoding="utf-8"))

    def has(schema: dict[str, object], path: str) -> bool:
        node: object = schema
        for part in path.split("."):
            props = node.get("properties", {}) if isinstance(node, dict) else {}
            if not isinstance(props, dict) or part not in props:
                return False
            node = props[part]
        return True

    assert {"complainant.name", "complainant.phone", "complainant.email", "complainant.address",
            "patient.name"} <= set(PERSONAL_FIELDS)
    assert "complainant.organization" not in PERSONAL_FIELDS  # a company, not a person
    assert all(has(case, p) or has(update, p) for p in PERSONAL_FIELDS)


def _case() -> dict[str, object]:
    return {"received_at": "2026-11-03T10:15:00+08:00", "channel": "phone", "received_by": "质量部 李娜",
            "complainant": {"name": "王建国", "organization": "华东医药连锁有限公司", "phone": "13812345678",
                            "email": "wang.fang@example.com", "address": "上海市浦东新区张江路88号"},
            "patient": {"name": "张小明", "sex": "男", "age": "35", "reaction": "张小明服药后皮疹"},
            "product": {"name": "阿莫西林胶囊", "lot": "B2026080315"},
            "description": "王建国反映外包装破损,联系电话 13812345678",
            "attachments": [{"path": "王建国-照片.jpg", "title": "王建国拍摄的照片"}]}


def test_a_case_is_masked_field_by_field_and_in_its_free_text() -> None:
    case = _case()
    out = mask_case(case)
    assert out["complainant"] == {"name": "王**", "organization": "华东医药连锁有限公司", "phone": "138****5678",
                                  "email": "w***@example.com", "address": "上海市浦东新****"}
    assert out["patient"] == {"name": "张**", "sex": "*", "age": "**", "reaction": "张**服药后皮疹"}
    assert out["description"] == "王**反映外包装破损,联系电话 138****5678"
    assert out["received_by"] == "质量部 李娜"  # staff
    assert out["product"] == case["product"] and out["received_at"] == case["received_at"]
    # The customer named the file too: its path is masked like free text (roles that see it masked never
    # download attachments, so no link is broken).
    assert out["attachments"] == [{"path": "王**-照片.jpg", "title": "王**拍摄的照片"}]
    assert case["complainant"]["name"] == "王建国"  # type: ignore[index]  # a copy: the case is untouched
    assert mask_case(out) == out


def test_a_whole_shown_case_keeps_no_personal_data_and_nothing_else_changes(cli: Cli, tmp_path: Path) -> None:
    case = write_case(tmp_path, complainant={"name": "王建国", "organization": "华东医药连锁有限公司",
                                             "phone": "13812345678", "email": "wang.jg@example.com",
                                             "address": "上海市浦东新区张江路88号"},
                      description="王建国来电(13812345678)反映外包装破损", received_by="质量部 李娜")
    assert cli("intake", str(case)).exit_code == 0
    assert cli("hold", "26110001", "--reason", "王建国起诉,电话 13812345678").exit_code == 0
    shown = json.loads(cli("show", "26110001", "--json").stdout)
    masked = mask_shown(shown)
    text = json.dumps(masked, ensure_ascii=False)
    for secret in ("王建国", "13812345678", "wang.jg@example.com", "张江路88号"):
        assert secret not in text
    assert masked["contact"]["phone"] == "138****5678" and masked["case"]["complainant"]["name"] == "王**"
    assert masked["case"]["received_by"] == "质量部 李娜" and masked["number"] == "26110001"
    assert masked["documents"] == shown["documents"] and masked["deadlines"] == shown["deadlines"]
    assert mask_shown(masked) == masked


def test_a_stage_update_is_masked_for_the_complainants_name() -> None:
    update = {"follow_up": {"by": "质量部 李娜", "customer_confirmation": "王建国本人电话确认 13812345678",
                            "feedback": "王建国表示满意"},
              "response": {"content": "已致电王建国", "replied_by": "李娜"}}
    out = mask_update(update, ["王建国"])
    assert out == {"follow_up": {"by": "质量部 李娜", "customer_confirmation": "王**本人电话确认 138****5678",
                                 "feedback": "王**表示满意"},
                   "response": {"content": "已致电王**", "replied_by": "李娜"}}


def test_a_register_row_and_a_search_hit_show_the_complainant_masked() -> None:
    row = {"number": "26110001", "complainant": "王建国", "organisation": "华东医药连锁有限公司", "lot": "B1"}
    assert mask_summary(row) == {**row, "complainant": "王**"}
    hit = {"number": "26110001", "complainant": "王建国", "highlights": ["投诉内容: «王建国»反映«破损»"]}
    assert mask_summary(hit)["highlights"] == ["投诉内容: «王**»反映«破损»"]


@pytest.mark.parametrize(("highlight", "masked"), [
    ("投诉内容: …电话«13812345678»联系…", "投诉内容: …电话«138****5678»联系…"),
    ("«王建»国来电", "«王**»来电"),
    ("…建国来电反映«破损»", "…**来电反映«破损»"),
    ("电话 138«1234»5678 找王建…", "电话 «138****5678» 找王*…"),
    ("…45678 反映«破损»", "…*5678 反映«破损»"),
    ("…国家药监局通报«破损»", "…国家药监局通报«破损»"),  # one character at the edge is not a name
])
def test_a_highlight_keeps_its_marks_around_the_mask(highlight: str, masked: str) -> None:
    assert mask_highlight(highlight, ["王建国"]) == masked


# ---------------------------------------------------------------- properties

CJK_NAME = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=4)
MOBILE = st.from_regex(r"\A1[3-9][0-9]{9}\Z")
LANDLINE = st.from_regex(r"\A0[1-9][0-9]{1,2}-[1-9][0-9]{6,7}\Z")
ID_NUMBER = st.from_regex(r"\A[1-9][0-9]{16}[0-9X]\Z")
EMAIL = st.from_regex(r"\A[a-z][a-z0-9.]{2,10}@[a-z]{2,8}\.(com|cn)\Z")
FILLER = st.text(alphabet=st.sampled_from("投诉破损包装,。: 电话联系abc\n"), max_size=20)


@settings(max_examples=200, deadline=None)
@given(text=st.text(), names=st.lists(CJK_NAME, max_size=2))
def test_masking_free_text_twice_changes_nothing_more(text: str, names: list[str]) -> None:
    once = mask_text(text, names)
    assert mask_text(once, names) == once


@settings(max_examples=200, deadline=None)
@given(secret=st.one_of(MOBILE, LANDLINE, ID_NUMBER, EMAIL), before=FILLER, after=FILLER, name=CJK_NAME)
def test_no_phone_id_or_email_survives_in_free_text(secret: str, before: str, after: str, name: str) -> None:
    out = mask_text(f"{before} {name} {secret} {after}", [name])
    assert secret not in out
    assert name not in out


@settings(max_examples=200, deadline=None)
@given(value=st.text())
def test_every_mask_takes_any_unicode(value: str) -> None:
    for fn in (mask_name, mask_phone, mask_email, mask_address, mask_id):
        assert isinstance(fn(value), str)
    assert isinstance(mask_highlight(value, [value]), str)
    assert mask_case({"complainant": {"name": value}, "description": value})["complainant"]["name"] \
        == mask_name(value)


@settings(max_examples=100, deadline=None)
@given(name=CJK_NAME)
def test_a_chinese_name_keeps_its_length(name: str) -> None:
    assert len(mask_name(name)) == len(name) and mask_name(name) != name


HIGHLIGHT = st.text(alphabet=st.sampled_from("«»…王建国来电破损0123456789 -@a.com"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(text=HIGHLIGHT)
def test_a_masked_highlight_keeps_every_mark_and_is_stable(text: str) -> None:
    once = mask_highlight(text, ["王建国"])
    assert once.count("«") == text.count("«") and once.count("»") == text.count("»")
    assert mask_highlight(once, ["王建国"]) == once
    assert "王建国" not in once.replace("«", "").replace("»", "")


@pytest.mark.parametrize(("phone", "masked"), [
    ("+86 10 6512 3456", "+86 10 6*** 3456"),       # a Beijing landline written with the country code
    ("+81-3-1234-5678", "+81-3-****-5678"),
    ("6512 3456", "**** 3456"),                     # no area code, spaced: no pattern reads it
    ("+1 (415) 555-0134", "+* (***) ***-0134"),
])
def test_a_phone_field_written_with_spaces_or_a_country_code_is_masked(phone: str, masked: str) -> None:
    assert mask.mask_phone(phone) == masked
    assert mask.mask_phone(masked) == masked


def test_a_phone_with_a_country_code_in_free_text_is_masked_and_dates_are_not() -> None:
    text = mask.mask_text("请拨打 +86 10 6512 3456,2026-11-06 来电,批号 IV20260912", [])
    assert "6512" not in text and "+86 10 6*** 3456" in text
    assert "2026-11-06" in text and "IV20260912" in text


@given(st.lists(st.sampled_from(list("0123456789 -+()")), min_size=7, max_size=24)
       .map("".join).filter(lambda s: sum(c.isdigit() for c in s) >= 7))
@settings(max_examples=300)
def test_a_phone_field_never_shows_all_its_digits(phone: str) -> None:
    digits = [c for c in phone if c.isdigit()]
    shown = [c for c in mask.mask_phone(phone) if c.isdigit()]
    assert len(shown) < len(digits)
