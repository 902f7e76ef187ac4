"""Every closed vocabulary of the archive, with the Chinese label people read: one place for each.

Keys are what the JSON contracts use (case.schema.json, update.schema.json, the register, --json);
labels are what forms, tables and search print. Everything else imports from here.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

Vocabulary = MappingProxyType[str, str]


def _vocab(pairs: dict[str, str]) -> Vocabulary:
    return MappingProxyType(pairs)


STATUS: Final = _vocab({"registered": "已登记", "investigating": "调查中", "answered": "已答复",
                        "following_up": "回访中", "closed": "已结案"})
SEVERITY: Final = _vocab({"critical": "严重", "major": "重要", "minor": "轻微"})
SEVERITY_RANK: Final = MappingProxyType({"minor": 0, "major": 1, "critical": 2})
CHANNEL: Final = _vocab({"phone": "电话", "email": "邮件", "letter": "信函", "fax": "传真", "in_person": "当面",
                         "web": "网络", "media": "媒体", "regulator": "监管/消协转办"})
CATEGORY: Final = _vocab({"quality": "产品质量", "packaging": "包装及邮寄", "delivery": "交付", "service": "服务",
                          "adverse_reaction": "不良反应", "billing": "价格/收费", "other": "其他"})
RESPONSIBILITY: Final = _vocab({"ours": "我方过错", "both": "双方过错", "customer": "对方过错",
                                "supplier": "供应商", "none": "投诉不成立", "undetermined": "无法确定"})
REPLY_METHOD: Final = _vocab({"phone": "电话", "letter": "信函", "email": "邮件", "visit": "上门",
                              "in_person": "当面", "other": "其他"})
SATISFACTION: Final = _vocab({"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"})
CAPA_KIND: Final = _vocab({"correction": "纠正", "corrective": "纠正措施", "preventive": "预防措施"})
MEANING: Final = _vocab({"drafted": "起草", "reviewed": "审核", "approved": "批准", "witnessed": "监销"})
# Meanings a signature on a case document may carry; "witnessed" belongs to destruction certificates.
DOCUMENT_MEANINGS: Final = ("drafted", "reviewed", "approved")
# What a certified key may do: sign, or also certify other people's keys (21 CFR 11.100(b)).
KEY_ROLE: Final = _vocab({"signer": "签名人", "admin": "管理员"})
HOLD_STATE: Final = _vocab({"active": "法律保全中", "released": "已解除"})
# The search filter hold: whether a case is under a legal hold now.
HOLD_FILTER: Final = _vocab({"true": "保全中", "false": "未保全"})
# Why an attachment's kept text is shorter than the attachment ([search] settings cap extraction).
TEXT_CUT: Final = _vocab({"text": "文本超过上限", "inflate": "解压超过上限", "time": "提取超时"})
DEADLINE: Final = _vocab({"reply": "答复", "investigation": "调查", "eightd": "8D 报告", "capa": "CAPA 措施"})
# Stages in handling order; "reopen" is written by `update --reopen`, never by a stage file.
STAGES: Final[tuple[str, ...]] = ("triage", "investigation", "capa", "response", "follow_up", "closure", "reopen")
# Why triage made a case major (重大投诉): the Chinese text is all a form or a screen prints.
MAJOR_TRIGGER: Final = _vocab({"media": "媒体曝光", "regulator": "监管/消协转办", "safety_related": "涉及人身安全",
                               "legal_action": "涉及诉讼/律师/警察", "claim_amount": "索赔金额",
                               "people_affected": "涉及人数"})
# A CAPA action is open until its done date is recorded.
ACTION_STATUS: Final = _vocab({"open": "未完成", "done": "已完成"})
STAGE: Final = _vocab({"triage": "分类与分派", "investigation": "调查", "capa": "纠正和预防措施",
                       "response": "答复客户", "follow_up": "跟踪回访", "closure": "结案", "reopen": "重新打开"})

# Audit actions as the dossier's audit-trail table prints them (an action not listed prints as its code).
AUDIT_ACTION: Final = _vocab({"intake": "登记", "update": "更新阶段", "correction": "更正",
                              "capa-progress": "CAPA 进展", "reopen": "重新打开",
                              "render": "重新生成文件", "sign": "电子签名", "hold": "法律保全",
                              "release": "解除保全", "retention-recompute": "重算保存期", "destroy": "销毁",
                              "dossier": "导出检查档案", "user-add": "新增用户", "user-disable": "停用用户"})

# Why `similar` found a case like another (search/similarity.py): what a QA reviewer reads beside each hit.
SIMILAR_REASON: Final = _vocab({"lot": "同批号", "part_no": "同料号", "order_no": "同订单号", "identifier": "同编号",
                                "product": "同产品", "customer": "同客户", "text": "内容相近"})

# Form sets intake may render (archive.toml [forms] set).
FORM_SET: Final = _vocab({"gl004": "GL-004 登记表与记录表", "pcb": "客户抱怨处理表(表14.6.3)"})
# Full-text engines the index may be built with (archive.toml [search] engine).
SEARCH_ENGINE: Final = _vocab({"whoosh": "Whoosh(默认)", "tantivy": "tantivy(大型档案)"})
# What `archive report trend --by` counts complaints by (the customer: the complainant's organisation, else name).
TREND_BY: Final = _vocab({"product": "产品", "lot": "批号", "category": "类别", "customer": "客户",
                          "department": "部门"})
# What a trend review flags: a key past the [trend] threshold in a window, a root cause found again.
TREND_FLAG: Final = _vocab({"threshold": "投诉数达到趋势阈值", "root_cause": "根本原因重复出现"})

# Who a user of the web page is (archive users add --role): what they may do follows from it (archive/web).
ROLE: Final = _vocab({"qa": "质量保证", "archivist": "档案管理员", "inspector": "检查员",
                      "retention": "保管销毁专员", "manager": "质量经理", "admin": "系统管理员"})
# What the access register (查阅登记, audit/access.jsonl) records of a user's visit.
ACCESS_ACTION: Final = _vocab({"login": "登录", "login-failed": "登录失败", "logout": "退出", "view": "查阅",
                               "download": "下载", "search": "检索", "export": "导出", "list": "浏览台账",
                               "report": "查看报表", "access-log": "查阅登记簿",
                               # written by the register itself: a line a killed writer left half-written, cut
                               "tail-dropped": "清除残行"})


def label(vocabulary: Vocabulary, key: str | None) -> str:
    """The Chinese label of ``key``; an unknown key prints as itself rather than failing a report."""
    if key is None:
        return ""
    return vocabulary.get(key, key)


def key_of(vocabulary: Vocabulary, text: str) -> str | None:
    """The key for ``text`` given as a key or as its Chinese label (search filters, case and stage files and
    command-line options accept both; the key is what is stored)."""
    if text in vocabulary:
        return text
    for key, zh in vocabulary.items():
        if text == zh or text in zh.split("/"):
            return key
    return None


def listing(vocabulary: Vocabulary, keys: tuple[str, ...] | list[str] | None = None) -> str:
    """``phone 电话, email 邮件, …``: what an error about a coded field offers, codes beside their labels."""
    return ", ".join(f"{k} {vocabulary[k]}" if k in vocabulary else k for k in (keys or list(vocabulary)))


# Vocabularies a coded field of a case or stage file may draw on; a schema enum is matched to the smallest one
# holding all its codes (validate.py), so a field is given by its code or its label without a list per field.
CODED: Final[tuple[Vocabulary, ...]] = (STATUS, SEVERITY, CHANNEL, CATEGORY, RESPONSIBILITY, REPLY_METHOD,
                                        SATISFACTION, CAPA_KIND, MEANING, KEY_ROLE, HOLD_STATE, DEADLINE)


def vocabulary_of(codes: list[str] | tuple[str, ...]) -> Vocabulary | None:
    """The vocabulary a closed list of codes (a schema enum, a command's choices) is drawn from."""
    fits = [v for v in CODED if all(isinstance(c, str) and c in v for c in codes)]
    return min(fits, key=len) if fits else None


# What a web route asks permission for (archive/web/permissions.py maps roles to these).
WEB_ACTION: Final = _vocab({
    "register": "浏览投诉登记台账", "search": "检索投诉", "case.view": "查阅案件", "file.download": "下载案件文件",
    "intake": "登记投诉", "update": "登记阶段进展", "sign": "电子签名", "retention.view": "查看保管期限与销毁计划",
    "hold": "法律保全与解除", "purge.preview": "销毁预览", "certificates.view": "查看销毁证明",
    "dossier": "导出检查档案", "reports": "查看统计报表", "access-log": "查阅登记簿",
})

# The search filters (archive/search/query.py FILTERS) as the web's search page names them on a chip.
SEARCH_FILTER: Final = _vocab({"lot": "批号", "severity": "严重程度", "status": "状态", "category": "类别",
                               "channel": "投诉途径", "customer": "客户", "signer": "签名人/经办人",
                               "received": "受理日期", "number": "编号", "hold": "法律保全",
                               "retention": "保存期限"})
