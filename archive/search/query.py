"""The archivist's query language, parsed into a neutral form any engine can answer.

    破损 外包装 "铝塑板有压痕" lot:B2026080315 severity:major received:2026-11 customer:华东
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass, field

from archive import vocab
from archive.errors import ArchiveError
from archive.search.analysis import as_day
from archive.search.fold import person_key

FILTERS = ("lot", "severity", "status", "category", "channel", "customer", "signer", "received", "number", "hold",
           "retention")
ENUMS: dict[str, vocab.Vocabulary] = {
    "severity": vocab.SEVERITY,
    "status": vocab.STATUS,
    "category": vocab.CATEGORY,
    "channel": vocab.CHANNEL,
    "hold": vocab.HOLD_FILTER,
}
_CN_DATE = re.compile(r"^(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})[日号]?)?)?$")


def iso_date(text: str) -> str:
    """2026年11月3日 → 2026-11-03, 2026年11月 → 2026-11, 2026年 → 2026, as the tables print them; other text as is."""
    m = _CN_DATE.match(text.strip())
    if not m:
        return text
    year, month, day = m.groups()
    return year + (f"-{int(month):02d}" if month else "") + (f"-{int(day):02d}" if day else "")
_FIELD = re.compile(r"^([a-z_]+):(.*)$", re.S)
# An archivist's query is a few words; a pasted page would become thousands of index lookups (and ran the
# engine out of stack, reported as a damaged index), so it is refused by its length instead.
MAX_QUERY_CHARS = 1000


class QueryError(ArchiveError):
    """The search query cannot be understood."""


@dataclass
class Query:
    words: list[str] = field(default_factory=list)  # each must occur (a CJK word as a contiguous string)
    phrases: list[str] = field(default_factory=list)  # quoted: the whole string contiguous
    terms: dict[str, list[str]] = field(default_factory=dict)  # exact-value filters (ANDed); signer: a person_key
    text_filters: dict[str, list[str]] = field(default_factory=dict)  # customer: words in a name field
    received: tuple[int, int] | None = None  # yyyymmdd bounds, inclusive
    days: list[str] = field(default_factory=list)  # a date typed alone: YYYYMMDD received, acted on or mentioned
    dates: list[str] = field(default_factory=list)  # ... as typed, to mark where the text mentions it
    retention: tuple[str, str] | None = None  # retention_until bounds as ISO dates, inclusive (closed cases only)

    @property
    def empty(self) -> bool:
        return not (self.words or self.phrases or self.days or self.terms or self.text_filters or self.received
                    or self.retention)

    def literals(self) -> list[str]:
        """What a highlight should mark."""
        return (self.words + self.phrases + self.dates + self.text_filters.get("customer", [])
                + self.terms.get("lot", []))


def _day(text: str, end: bool, name: str = "received") -> int:
    text = iso_date(text)
    try:
        if re.fullmatch(r"\d{4}", text):
            d = dt.date(int(text), 12 if end else 1, 31 if end else 1)
        elif re.fullmatch(r"\d{4}-\d{2}", text):
            y, m = map(int, text.split("-"))
            d = dt.date(y, m, calendar.monthrange(y, m)[1] if end else 1)
        else:
            d = dt.date.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{name}:{text}: use YYYY, YYYY-MM, YYYY-MM-DD (or 2026年11月3日) or a range A..B"
                         ) from None
    return d.year * 10000 + d.month * 100 + d.day


def _iso(day: int) -> str:
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"


_QUOTES = {'"': '"', "\u201c": "\u201d", "\u300c": "\u300d", "\u300e": "\u300f"}  # "…" “…” 「…」 『…』
_CJK_CHAR = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]"


@functools.cache
def _cjk_gap() -> re.Pattern[str]:  # compiled by the first phrase with a space: a CJK class takes ms to compile
    return re.compile(rf"(?<={_CJK_CHAR})\s+(?={_CJK_CHAR})")


def _phrase(text: str) -> str:
    """People type spaces inside a Chinese phrase (外包装 破损); between CJK characters they mean nothing."""
    text = " ".join(text.split())
    return _cjk_gap().sub("", text) if " " in text else text


def split(text: str | list[str] | tuple[str, ...]) -> list[tuple[str, bool]]:
    """The query's own syntax: words split on any space (ASCII or full-width U+3000), a phrase only inside
    "…", “…”, 「…」 or 『…』. Several arguments are one query joined by spaces, so a shell's quoting makes no
    difference; an apostrophe is a letter (O'Brien), and a quote left open runs to the end, not an error.
    Each item is (text, quoted); a filter's value may be quoted too (customer:"华东 医药")."""
    if not isinstance(text, str):
        text = " ".join(text)
    out: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] not in _QUOTES:
            i += 1
        prefix = text[start:i]
        if i < n and text[i] in _QUOTES and (not prefix or _FIELD.match(prefix)):
            close = _QUOTES[text[i]]
            end = text.find(close, i + 1)
            end = n if end < 0 else end
            body = _phrase(text[i + 1:end])
            i = end + 1
            if prefix:
                out.append((prefix + body, False))
            elif body:
                out.append((body, True))
            continue
        if i < n and text[i] in _QUOTES:  # a quote inside a word (5"): part of the word
            i += 1
            while i < n and not text[i].isspace() and text[i] not in _QUOTES:
                i += 1
        out.append((text[start:i], False))
    return out


def parse(text: str | list[str] | tuple[str, ...]) -> Query:
    if not isinstance(text, str):
        text = " ".join(text)
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long: {len(text)} characters, at most {MAX_QUERY_CHARS}; search for a few "
                         "distinctive words or a short \"phrase\"")
    q = Query()
    for part, quoted in split(text):
        if not part.strip():
            continue
        m = _FIELD.match(part)
        if m and not quoted:
            name, value = m.group(1), m.group(2).strip()
            if name not in FILTERS:
                raise QueryError(f"unknown filter {name}: (filters: {', '.join(f + ':' for f in FILTERS)})")
            if not value:
                raise QueryError(f"{name}: needs a value")
            if name in ENUMS:
                code = vocab.key_of(ENUMS[name], value.lower()) or vocab.key_of(ENUMS[name], value)
                if code is None:
                    raise QueryError(f"{name}:{value}: use one of {vocab.listing(ENUMS[name])}")
                value = code
            if name == "received":
                lo, _, hi = value.partition("..")
                q.received = (_day(lo, False), _day(hi or lo, True))
                if q.received[0] > q.received[1]:
                    raise QueryError(f"received:{value}: the range ends before it starts")
            elif name == "retention":
                lo, dots, hi = value.partition("..")
                first = _day(lo, False, name) if lo else 10101
                last = _day(hi or lo, True, name) if (hi or not dots) else 99991231
                if first > last:
                    raise QueryError(f"retention:{value}: the range ends before it starts")
                q.retention = (_iso(first), _iso(last))
            elif name == "customer":
                q.text_filters.setdefault(name, []).append(value)
            elif name == "signer":
                q.terms.setdefault(name, []).append(person_key(value))
            else:
                q.terms.setdefault(name, []).append(value)
        elif quoted:
            q.phrases.append(part)
        elif (day := as_day(part)) is not None:
            q.days.append(day)
            # Marked where the text writes it, with its year or (as complaints do) without: 11月18日.
            q.dates += [part, f"{int(day[4:6])}月{int(day[6:])}日"]
        else:
            q.words.append(part)
    if q.empty:
        raise QueryError("empty query: give words, a \"phrase\" or a filter such as lot:B2026080315")
    return q
