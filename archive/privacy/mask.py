"""Masks of personal data (个人信息保护法) for people whose role does not see it: 王** / 138****5678.

Pure functions, no I/O: the web applies them to pages, JSON, search highlights and re-rendered forms. Every
mask is idempotent (a masked value masked again is unchanged), so a layer that masks twice shows the same.
Staff names (received_by, investigators, approvers) are the company's, not personal data: not masked.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from typing import Any

# JSON paths (case.schema.json, update.schema.json) that hold a person's data. complainant.organization is a
# company and stays; patient details are health data of an identifiable person (B类 adverse reactions);
# follow_up.customer_confirmation says which customer confirmed, and how (a name, a phone).
PERSONAL_FIELDS: tuple[str, ...] = (
    "complainant.name", "complainant.phone", "complainant.email", "complainant.address",
    "patient.name", "patient.sex", "patient.age",
    "follow_up.customer_confirmation",
)

STAR = "*"
MARK_OPEN, MARK_CLOSE = "«", "»"  # archive/search/highlight.py marks a match so (not imported: search is heavy)
ELLIPSIS = "…"

# Two-character surnames kept whole in a masked name of three or more characters (欧阳娜娜 → 欧阳**).
COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯",
    "轩辕", "令狐", "钟离", "澹台", "端木", "独孤", "南宫", "西门", "百里", "呼延", "万俟", "申屠", "闻人",
})

_D = "[0-9０-９]"  # full-width digits are common in Chinese text and must not slip past
_EDGE_L = r"(?<![0-9A-Za-z０-９])"
_EDGE_R = r"(?![0-9A-Za-z０-９])"
_ID = re.compile(rf"{_EDGE_L}(?P<id>{_D}{{17}}[0-9０-９Xx]|{_D}{{15}}){_EDGE_R}")
_MOBILE = rf"(?:\+?86[- ]?)?[1１][3-9３-９]{_D}[- ]?{_D}{{4}}[- ]?{_D}{{4}}"
_LANDLINE = rf"[0０]{_D}{{2,3}}[- ]?{_D}{{7,8}}"
# With a country code (+86 10 6512 3456, +81-3-1234-5678): digits in groups that no other pattern reads whole.
_INTERNATIONAL = rf"\+{_D}{{1,3}}(?:[- ]?{_D}){{6,14}}"
_PHONE = re.compile(rf"{_EDGE_L}(?P<phone>{_MOBILE}|{_LANDLINE}|{_INTERNATIONAL}){_EDGE_R}")
_EMAIL = re.compile(r"(?P<email>(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_DIGIT_RUN = re.compile(f"{_D}+")


def _cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in text)


def mask_name(name: str) -> str:
    """王芳 → 王*, 王建国 → 王**, 欧阳娜娜 → 欧阳**, 华东医药 李经理 → 华*** 李**; a Latin name → its first
    letter and ***."""
    text = name.strip()
    if not text:
        return name
    if _cjk(text) and len(text.split()) > 1:  # 华东医药 李经理: each part masked, the shape kept
        return " ".join(mask_name(part) for part in text.split())
    if _cjk(text):
        keep = 2 if len(text) >= 3 and text[:2] in COMPOUND_SURNAMES else 1
        if len(text) == 1:
            return STAR
        return text[:keep] + STAR * (len(text) - keep)
    return text[0] + STAR * 3


def _run(digits: str) -> str:
    """A digit run of a phone field: the last four kept, and the first three when four or more stay hidden."""
    n = len(digits)
    head = 3 if n >= 11 else 0
    return digits[:head] + STAR * (n - head - 4) + digits[-4:]


def _phone(text: str) -> str:
    """One matched number: a mobile keeps its first 3 and last 4 digits, a landline its area code and last 4."""
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if len(digits) > 11 and text.lstrip("+").startswith("86"):
        digits = digits[2:]  # +86: the country code is not the number
    if text[digits[0]] in "0０":
        sep = next((k for k, i in enumerate(digits[:-1]) if digits[k + 1] != i + 1), None)
        # Area codes are 010 and 02X (three digits) or four; a separator, when there is one, says where it ends.
        area = sep + 1 if sep is not None else (3 if text[digits[1]] in "12１２" else 4)
        hidden = digits[area:-4]
    else:
        hidden = digits[3:-4]
    chars = list(text)
    for i in hidden:
        chars[i] = STAR
    return "".join(chars)


def mask_phone(text: str) -> str:
    """13812345678 → 138****5678; 021-55501234 → 021-****1234; any other run of 7 or more digits keeps its
    last 4 (and its first 3 from 11 digits on). Every number in the field is masked."""
    out = _PHONE.sub(lambda m: _phone(m.group(0)), text)
    out = _DIGIT_RUN.sub(lambda m: _run(m.group(0)) if len(m.group(0)) >= 7 else m.group(0), out)
    # The field holds a phone number however it is written (6512 3456, 1 2 3 4 5 6 7): one the patterns did not
    # read at all keeps only its last 4 digits, never shown whole.
    shown = [i for i, c in enumerate(out) if c.isdigit()]
    if out == text and len(shown) >= 5 and STAR not in text:
        chars = list(out)
        for i in shown[:-4]:
            chars[i] = STAR
        out = "".join(chars)
    return out


def mask_email(text: str) -> str:
    """wang.fang@example.com → w***@example.com (the domain says only where the mailbox is)."""
    local, at, domain = text.strip().rpartition("@")
    if not at:
        return text[:1] + STAR * 3 if text.strip() else text
    return (local[:1] or STAR) + STAR * 3 + "@" + domain


def mask_address(text: str) -> str:
    """The first 6 characters (province, city, district) and ****; a short address shows at most half."""
    stripped = text.strip()
    if not stripped or stripped.endswith(STAR * 4):
        return text
    return stripped[:min(6, len(stripped) // 2)] + STAR * 4


def mask_id(text: str) -> str:
    """An 18-character 身份证 number → its first 6 (the region), ********, its last 4; anything else keeps
    at most its last 4 characters."""
    stripped = text.strip()
    if len(stripped) == 18:
        return stripped[:6] + STAR * 8 + stripped[-4:]
    if not stripped or STAR in stripped:
        return text
    if len(stripped) == 15:  # the older 15-digit number
        return stripped[:6] + STAR * 6 + stripped[-3:]
    return STAR * max(len(stripped) - 4, len(stripped) // 2) + stripped[max(len(stripped) - 4, len(stripped) // 2):]


def _other(text: str) -> str:
    """A detail with no shape of its own (a patient's sex or age): hidden whole."""
    return STAR * len(text.strip()) if text.strip() else text


def _name_parts(names: Iterable[str]) -> dict[str, str]:
    """Each name and, for a name in parts (华东医药 李经理, John Smith), each part of two or more characters, with
    its mask: the text may name the person by a part alone."""
    out = {}
    for name in names:
        whole = name.strip()
        for part in [whole, *(p for p in whole.split() if len(p) >= 2)] if whole else []:
            if mask_name(part) != part:
                out[part] = mask_name(part)
    return out


def _alternative(text: str) -> str:
    """A name as a pattern; a Latin name only as a whole word (Ann is not in Annual)."""
    out = re.escape(text)
    if text[:1].isascii() and text[:1].isalnum():
        out = r"(?<![A-Za-z0-9])" + out
    if text[-1:].isascii() and text[-1:].isalnum():
        out += r"(?![A-Za-z0-9])"
    return out


def _names_pattern(names: Iterable[str]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One alternation of the names and their masks, longest first; a mask stands for itself, so text masked
    once is not masked again inside its own stars."""
    masks = _name_parts(names)
    if not masks:
        return None, {}
    table = {**{m: m for m in masks.values()}, **masks}
    alternation = "|".join(_alternative(k) for k in sorted(table, key=len, reverse=True))
    return re.compile(alternation), table


def _found(text: str, names: list[str]) -> list[tuple[int, int, str]]:
    """Each number, address or name in ``text``: where it is and its mask (one pass, first match wins)."""
    pattern, table = _names_pattern(names)
    parts = [_ID.pattern, _PHONE.pattern, _EMAIL.pattern]
    if pattern is not None:
        parts.append(f"(?P<name>{pattern.pattern})")
    out = []
    for m in re.finditer("|".join(parts), text):
        if m.group("id"):
            repl = mask_id(m.group(0))
        elif m.group("phone"):
            repl = _phone(m.group(0))
        elif m.group("email"):
            repl = mask_email(m.group(0))
        else:
            repl = table[m.group(0)]
        out.append((m.start(), m.end(), repl))
    return out


def mask_text(text: str, names: Iterable[str]) -> str:
    """Free text with every phone number, e-mail address, ID number and occurrence of ``names`` masked."""
    out, cursor = [], 0
    for start, end, repl in _found(text, [n.strip() for n in names if n and n.strip()]):
        out += [text[cursor:start], repl]
        cursor = end
    return "".join(out) + text[cursor:]


# What a personal field's value becomes, by the last part of its path.
_FIELD_MASKS: dict[str, Callable[[str], str]] = {
    "complainant.name": mask_name, "complainant.phone": mask_phone, "complainant.email": mask_email,
    "complainant.address": mask_address, "patient.name": mask_name, "patient.sex": _other, "patient.age": _other,
}
# Strings that are not anyone's words: paths, hashes, codes, numbers; left exactly as they are.
_NOT_TEXT = frozenset({"path", "file", "sha256", "number", "received_at", "channel", "category", "severity",
                       "status", "kind", "method", "satisfaction", "responsibility", "id", "signer", "meaning",
                       "fingerprint", "signature", "hash", "prev", "op", "document", "template", "certificate",
                       "lot", "part_no", "order_no"})


def _names_of(case: dict[str, Any]) -> list[str]:
    complainant = case.get("complainant")
    names = [complainant.get("name", "")] if isinstance(complainant, dict) else []
    patient = case.get("patient")
    if isinstance(patient, dict) and isinstance(patient.get("name"), str):
        names.append(patient["name"])
    return [n for n in names if isinstance(n, str) and n.strip()]


def _walk(value: Any, path: str, names: list[str], fields: dict[str, Callable[[str], str]]) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, f"{path}.{k}" if path else k, names, fields) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, path, names, fields) for v in value]
    if not isinstance(value, str):
        return value
    if path in fields:
        return fields[path](value)
    last = path.rsplit(".", 1)[-1]
    if last in ("file", "path") and "attachments" in path.split("."):
        return mask_text(value, names)  # the customer named the file: 钱多多-13912345678.txt carries both
    if last in _NOT_TEXT or last.endswith(("_sha256", "_at", "_date")):
        return value
    return mask_text(value, names)


def mask_case(case: dict[str, Any]) -> dict[str, Any]:
    """A masked deep copy of a case JSON: personal fields masked, every free text masked for the complainant's
    (and patient's) name and any phone, e-mail or ID number in it."""
    masked: dict[str, Any] = _walk(copy.deepcopy(case), "", _names_of(case), _FIELD_MASKS)
    return masked


def mask_shown(shown: dict[str, Any]) -> dict[str, Any]:
    """A masked deep copy of a whole case as `archive show --json` gives it (services.cases.show): the case and
    its contact details field by field, every stage, CAPA action, hold reason and other free text masked for
    the complainant's and patient's names; numbers, paths, hashes and staff names stay."""
    case = shown.get("case")
    names = _names_of(case) if isinstance(case, dict) else []
    fields = {f"case.{p}": fn for p, fn in _FIELD_MASKS.items()}
    fields |= {f"contact.{p.split('.', 1)[1]}": fn for p, fn in _FIELD_MASKS.items() if p.startswith("complainant.")}
    fields |= {f"stages.follow_up.data.{p.split('.', 1)[1]}": (lambda t: mask_text(t, names))
               for p in PERSONAL_FIELDS if p.startswith("follow_up.")}
    masked: dict[str, Any] = _walk(copy.deepcopy(shown), "", names, fields)
    return masked


def mask_update(update: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """A masked deep copy of a stage update (update.schema.json, or one stage's data): its free text masked
    for ``names`` (the case's complainant) and any number in it; the customer's confirmation entirely so."""
    given = [n for n in names if n and n.strip()]
    fields = {"follow_up.customer_confirmation": lambda t: mask_text(t, given)}
    masked: dict[str, Any] = _walk(copy.deepcopy(update), "", given, fields)
    return masked


def mask_summary(row: dict[str, Any], address_labels: Iterable[str] = ()) -> dict[str, Any]:
    """A register row, case summary or search hit with the complainant masked; a hit's highlights too, a
    highlight labelled with one of ``address_labels`` (地址: …) masked as an address. The organisation stays (a
    company); a trend's customer is masked where it is the complainant's name."""
    out = dict(row)
    name = row.get("complainant")
    names = [name] if isinstance(name, str) and name.strip() else []
    if names:
        out["complainant"] = mask_name(names[0])
        if row.get("customer") == names[0]:
            out["customer"] = out["complainant"]
    if isinstance(row.get("highlights"), list):
        addresses = frozenset(address_labels)
        out["highlights"] = [_mask_address_highlight(h) if isinstance(h, str) and h.partition(": ")[0] in addresses
                             else mask_highlight(h, names) if isinstance(h, str) else h for h in row["highlights"]]
    return out


def _mask_address_highlight(text: str) -> str:
    """地址: 江南市«解放路»88号 → 地址: 江南市解****: the address as its field is masked, its marks dropped (a
    mark kept around a hidden part would show where the match was)."""
    label, _, value = text.partition(": ")
    plain = value.replace(MARK_OPEN, "").replace(MARK_CLOSE, "").strip(ELLIPSIS)
    return f"{label}: {mask_address(plain)}"


def mask_highlight(text: str, names: Iterable[str]) -> str:
    """A search highlight (…前文«命中»后文…) masked like free text, its «» marks kept around the mask they
    touched. A number or name cut by the snippet's edge (…12345678 or 王建…) is masked too."""
    plain = text.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")
    marks: list[tuple[int, str]] = []
    pos = 0
    for c in text:
        if c in (MARK_OPEN, MARK_CLOSE):
            marks.append((pos, c))
        else:
            pos += 1
    spans = _spans(plain, [n.strip() for n in names if n and n.strip()])
    out: list[str] = []
    cursor = 0
    pending = list(marks)
    for start, end, repl in spans:
        out.append(_with_marks(plain, cursor, start, pending))
        inside = [m for m in pending if start <= m[0] < end]
        opens = "".join(c for p, c in inside if c == MARK_OPEN)
        closes = "".join(c for p, c in inside if c == MARK_CLOSE and p > start)
        before = "".join(c for p, c in inside if c == MARK_CLOSE and p == start)
        out.append(before + opens + repl + closes)
        pending = [m for m in pending if not start <= m[0] < end]
        cursor = end
    out.append(_with_marks(plain, cursor, len(plain), pending, last=True))
    return "".join(out)


def _with_marks(plain: str, start: int, end: int, marks: list[tuple[int, str]], last: bool = False) -> str:
    chunk = []
    for i in range(start, end + (1 if last else 0)):
        chunk += [c for p, c in marks if p == i]
        if i < end:
            chunk.append(plain[i])
    return "".join(chunk)


def _spans(plain: str, names: list[str]) -> list[tuple[int, int, str]]:
    """Where the plain text of a highlight is replaced, and by what: whole matches, then pieces cut by an edge."""
    masked = _found(plain, names)
    # A piece of one character is not masked: the surname shows in every mask anyway, and one character of a
    # given name at an edge (…国家…) is more often another word.
    cut_names = [n for n in names if len(n) > 2]

    def free(s: int, e: int) -> bool:
        return not any(s < te and ts < e for ts, te, _ in masked)

    head = len(ELLIPSIS) if plain.startswith(ELLIPSIS) else 0
    tail = len(plain) - (len(ELLIPSIS) if plain.endswith(ELLIPSIS) else 0)
    if head:
        run = re.match(f"{_D}+", plain[head:])
        if run and len(run.group(0)) >= 4 and free(head, head + run.end()):
            masked.append((head, head + run.end(), STAR * (run.end() - 4) + run.group(0)[-4:]))
        for n in cut_names:
            piece = next((n[k:] for k in range(1, len(n) - 1) if plain[head:].startswith(n[k:])), None)
            if piece and free(head, head + len(piece)):
                masked.append((head, head + len(piece), STAR * len(piece)))
                break
    if tail < len(plain):
        run = re.search(f"{_D}+$", plain[:tail])
        if run and len(run.group(0)) >= 4 and free(run.start(), tail):
            masked.append((run.start(), tail, run.group(0)[:3] + STAR * (len(run.group(0)) - 3)))
        for n in cut_names:
            piece = next((n[:k] for k in range(len(n) - 1, 1, -1) if plain[:tail].endswith(n[:k])), None)
            if piece and free(tail - len(piece), tail):
                masked.append((tail - len(piece), tail, mask_name(n)[:len(piece)]))
                break
    return sorted(masked)
