"""`similar` finds the same part, lot or customer (written longer or shorter) as well as like text; `signer:`
finds the cases a person signed or handled, by Chinese name, pinyin or initials. Through the CLI only, so the
same tests hold whichever engine answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY_PASSPHRASE, Cli, make_key, write_case

# What every complaint says: words shared by all the cases below, which alone make no two of them alike.
BOILERPLATE = "客户来电反映产品存在质量问题,要求我方尽快调查处理并书面回复处理结果。"


def _intake(cli: Cli, path: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    r = cli("intake", "--json", *args, str(path), env=env)
    assert r.exit_code == 0, r.output
    out: dict[str, Any] = json.loads(r.stdout)[0]
    return out


def _similar(cli: Cli, number: str, limit: int = 5) -> list[dict[str, Any]]:
    r = cli("similar", "--json", "--limit", str(limit), number)
    assert r.exit_code == 0, r.output
    hits: list[dict[str, Any]] = json.loads(r.stdout)
    return hits


def _numbers(cli: Cli, number: str) -> list[str]:
    return [h["number"] for h in _similar(cli, number)]


def _case(tmp_path: Path, name: str, day: int, organisation: str, person: str, product: dict[str, Any],
          description: str, category: str = "quality") -> Path:
    return write_case(tmp_path, name, received_at=f"2026-11-{day:02d}T10:00:00+08:00", channel="email",
                      complainant={"name": person, "organization": organisation}, product=product,
                      description=description + BOILERPLATE, category=category)


@pytest.fixture
def cases(cli: Cli, tmp_path: Path) -> dict[str, str]:
    """Two boards of one part number, two letters from one hospital under two names, and cases alike in
    nothing but the words every complaint uses."""
    made = {
        "board": _case(tmp_path, "board.json", 2, "东洋电子株式会社", "Mr. Tanaka",
                       {"name": "PCB 主板", "part_no": "PCB-4L-2291", "order_no": "PO-88213"},
                       "SMT贴片后功能测试发现37片短路不良,不良集中在U7附近焊盘。"),
        "board_again": _case(tmp_path, "board-again.json", 9, "苏州恒达精密组装有限公司", "刘工",
                             {"name": "四层线路板", "part_no": "PCB-4L-2291"},
                             "来料检验时板面翘曲,尺寸超出图纸公差,无法上线装配。"),
        "hospital": _case(tmp_path, "hospital.json", 3, "江南市第二人民医院", "钱主任",
                          {"name": "葡萄糖注射液", "lot": "G2026061101"},
                          "输液瓶口胶塞松动,瓶身可见细微裂纹,已封存剩余药品。", "adverse_reaction"),
        "pharmacy": _case(tmp_path, "pharmacy.json", 10, "江南市第二人民医院药剂科", "赵医生",
                          {"name": "注射用头孢曲松钠", "lot": "C2026050702"},
                          "两名患者用药后出现皮疹、瘙痒,已停药观察。", "adverse_reaction"),
        "hotel": _case(tmp_path, "hotel.json", 4, "海湾假日酒店", "孙经理", {"name": "客房布草"},
                       "布草送洗后仍有污渍和异味,房间无法按时开出。", "service"),
        "bank": _case(tmp_path, "bank.json", 5, "城东支行营业部", "周女士", {"name": "信用卡年费"},
                      "账单多扣年费,客服电话长时间无人接听。", "service"),
        "car": _case(tmp_path, "car.json", 6, "个人车主", "吴先生", {"name": "变速箱"},
                     "保养后换挡顿挫明显,仪表盘报警灯常亮。"),
    }
    return {key: _intake(cli, path)["number"] for key, path in made.items()}


def test_similar_finds_a_case_of_the_same_part_number_first_whatever_its_text(cli: Cli, cases: dict[str, str]
                                                                             ) -> None:
    board, again = cases["board"], cases["board_again"]
    assert _numbers(cli, board)[0] == again
    assert _numbers(cli, again)[0] == board
    hit = _similar(cli, board)[0]
    assert "同料号 PCB-4L-2291" in hit["reasons"]


def test_similar_finds_the_same_hospital_written_longer_or_shorter(cli: Cli, cases: dict[str, str]) -> None:
    hospital, pharmacy = cases["hospital"], cases["pharmacy"]
    assert _numbers(cli, hospital)[0] == pharmacy
    assert _numbers(cli, pharmacy)[0] == hospital
    assert any(r.startswith("同客户 江南市第二人民医院") for r in _similar(cli, hospital)[0]["reasons"])


def test_similar_leaves_out_cases_sharing_only_the_words_every_complaint_uses(cli: Cli, cases: dict[str, str]
                                                                             ) -> None:
    unrelated = {cases[k] for k in ("hotel", "bank", "car", "hospital", "pharmacy")}
    assert _numbers(cli, cases["board"]) == [cases["board_again"]]
    assert not unrelated & set(_numbers(cli, cases["board_again"]))
    assert not {cases[k] for k in ("hotel", "bank", "car")} & set(_numbers(cli, cases["pharmacy"]))


def test_similar_compares_part_numbers_without_case_spaces_or_separators(cli: Cli, tmp_path: Path) -> None:
    dashed = _intake(cli, _case(tmp_path, "a.json", 2, "东洋电子株式会社", "Mr. Tanaka",
                                {"name": "PCB 主板", "part_no": "PCB-4L-2291"}, "焊盘短路。"))
    typed = _intake(cli, _case(tmp_path, "b.json", 6, "苏州恒达精密组装有限公司", "刘工",
                               {"name": "线路板", "part_no": "pcb 4l 2291"}, "板面翘曲。"))
    hit = _similar(cli, typed["number"])[0]
    assert hit["number"] == dashed["number"] and "同料号 pcb 4l 2291" in hit["reasons"]


@pytest.mark.parametrize(("ours", "theirs", "same"), [
    ("江南市第二人民医院", "江南市第二人民医院药剂科", True),
    ("华东医药", "华东医药连锁有限公司", True),
    ("Toyo Denshi", "Toyo Denshi Co., Ltd.", True),
    ("江南市第二人民医院", "江北市第一人民医院", False),  # shares 人民医院 only: another hospital
    ("Toyo", "Toyota Motor", False),  # a Latin name holds another by whole words only
    ("医院", "江南市第二人民医院", False),  # too short to be one organisation
])
def test_similar_takes_a_customer_written_longer_or_shorter_as_the_same_customer(
        cli: Cli, tmp_path: Path, ours: str, theirs: str, same: bool) -> None:
    a = _intake(cli, _case(tmp_path, "a.json", 2, ours, "联系人甲", {"name": "葡萄糖注射液"}, "胶塞松动。"))
    b = _intake(cli, _case(tmp_path, "b.json", 6, theirs, "联系人乙", {"name": "头孢曲松钠"}, "皮疹瘙痒。"))
    for one, other in ((a, b), (b, a)):
        reasons = {r for h in _similar(cli, one["number"]) if h["number"] == other["number"] for r in h["reasons"]}
        assert any(r.startswith("同客户") for r in reasons) is same


def test_similar_names_a_shared_lot_though_the_other_case_writes_it_only_in_its_text(cli: Cli, tmp_path: Path
                                                                                     ) -> None:
    fielded = _intake(cli, _case(tmp_path, "a.json", 2, "华东医药连锁有限公司", "王建国",
                                 {"name": "阿莫西林胶囊", "lot": "B2026080315"}, "外包装破损,铝塑板有压痕。"))
    texted = _intake(cli, _case(tmp_path, "b.json", 6, "滨江社区卫生服务中心", "陈护士", {"name": "胶囊剂"},
                                "批号B2026080315的药品胶囊变色发黏。"))
    _intake(cli, _case(tmp_path, "c.json", 4, "海湾假日酒店", "孙经理", {"name": "客房布草"}, "布草有污渍。"))
    hits = _similar(cli, fielded["number"])
    assert hits[0]["number"] == texted["number"]
    assert "同批号 B2026080315" in hits[0]["reasons"]
    assert _numbers(cli, texted["number"])[0] == fielded["number"]


def test_similar_still_finds_a_case_written_in_like_words(cli: Cli, tmp_path: Path) -> None:
    words = "冷链运输途中温度记录仪显示超温四小时,到货疫苗外箱冷藏标签变色"
    first = _intake(cli, _case(tmp_path, "a.json", 2, "北山县疾控中心", "冯科长", {"name": "乙肝疫苗"}, words + "。"))
    second = _intake(cli, _case(tmp_path, "b.json", 8, "南湖区妇幼保健院", "何医生", {"name": "流感疫苗"},
                                "我院收到的货同样" + words + ",已拒收。"))
    _intake(cli, _case(tmp_path, "c.json", 4, "海湾假日酒店", "孙经理", {"name": "客房布草"}, "布草有污渍。"))
    hits = _similar(cli, second["number"])
    assert [h["number"] for h in hits] == [first["number"]]
    assert hits[0]["reasons"] == ["内容相近"]


def test_intake_lists_only_earlier_cases_as_similar_and_similar_lists_both(cli: Cli, tmp_path: Path) -> None:
    later = _intake(cli, _case(tmp_path, "later.json", 20, "东洋电子株式会社", "Mr. Tanaka",
                               {"name": "PCB 主板", "part_no": "PCB-4L-2291"}, "焊盘氧化。"))
    earlier = _intake(cli, _case(tmp_path, "earlier.json", 3, "苏州恒达精密组装有限公司", "刘工",
                                 {"name": "四层线路板", "part_no": "PCB-4L-2291"}, "板面翘曲。"))
    third = _intake(cli, _case(tmp_path, "third.json", 25, "华南电子有限公司", "郑工",
                               {"name": "主控板", "part_no": "PCB-4L-2291"}, "丝印模糊。"))
    assert earlier["similar"] == []  # received before the other: nothing earlier is like it
    assert set(third["similar"]) == {later["number"], earlier["number"]}
    assert set(_numbers(cli, earlier["number"])) == {later["number"], third["number"]}


# ---------------------------------------------------------------- signer:

@pytest.fixture
def signed(root: Path, cli: Cli, tmp_path: Path) -> dict[str, str]:
    """A case 张丽 signed at intake, one 李明 signed, one nobody signed, one a stage names 张丽 as handling."""
    keys = tmp_path / "keys"
    keys.mkdir()
    admin = make_key(root, "zhoumin", "周敏", "档案管理员", keys / "zhoumin.pem")
    zhang = make_key(root, "zhangli", "张丽", "QA 主管", keys / "zhangli.pem", certify_with=admin)
    li = make_key(root, "liming", "李明", "QA 专员", keys / "liming.pem", certify_with=admin)
    env = {"ARCHIVE_PASSPHRASE": KEY_PASSPHRASE}
    out = {}
    for key, signer in (("zhang", zhang), ("li", li), ("nobody", None)):
        path = write_case(tmp_path, f"{key}.json", description=f"外包装破损 {key}")
        actor = ("--actor", signer.actor) if signer else ()
        sign = ("--sign-as", str(signer.pem)) if signer else ()
        r = cli(*actor, "intake", "--json", *sign, str(path), env=env)
        assert r.exit_code == 0, r.output
        out[key] = json.loads(r.stdout)[0]["number"]
    handled = _intake(cli, write_case(tmp_path, "handled.json", description="瓶盖松动"))["number"]
    update = tmp_path / "investigation.json"
    update.write_text(json.dumps({"investigation": {"investigator": "质量保证部 张丽", "findings": "封口机压力不足",
                                                    "completed_at": "2026-11-05T10:00:00+08:00"}},
                                 ensure_ascii=False), encoding="utf-8")
    r = cli("update", handled, str(update))
    assert r.exit_code == 0, r.output
    out["handled"] = handled
    return out


def _search(cli: Cli, *query: str) -> set[str]:
    r = cli("search", "--json", "--limit", "50", "--", *query)
    assert r.exit_code == 0, r.output
    return {h["number"] for h in json.loads(r.stdout)["hits"]}


@pytest.mark.parametrize("value", ["张丽", "zhangli", "ZhangLi", '"Zhang Li"', "zl", "ZL", "張麗"])
def test_signer_finds_the_cases_a_person_signed_by_name_pinyin_or_initials(cli: Cli, signed: dict[str, str],
                                                                          value: str) -> None:
    assert _search(cli, f"signer:{value}") == {signed["zhang"], signed["handled"]}


def test_signer_initials_of_another_person_do_not_find_her_cases(cli: Cli, signed: dict[str, str]) -> None:
    assert _search(cli, "signer:lm") == {signed["li"]}
    assert _search(cli, "signer:李明") == {signed["li"]}


def test_signer_does_not_find_an_unsigned_case(cli: Cli, signed: dict[str, str]) -> None:
    found = _search(cli, "signer:zl") | _search(cli, "signer:lm") | _search(cli, "signer:周敏")
    assert signed["nobody"] not in found


def test_signer_combines_with_words_and_other_filters(cli: Cli, signed: dict[str, str]) -> None:
    assert _search(cli, "瓶盖", "signer:zl") == {signed["handled"]}
    assert _search(cli, "signer:zl", "status:investigating") == {signed["handled"]}


def test_signer_is_named_in_the_search_help_and_in_the_unknown_filter_message(cli: Cli) -> None:
    assert "signer:" in cli("search", "--help").output
    r = cli("search", "nosuch:x")
    assert r.exit_code == 2 and "signer:" in r.output
