"""Chinese-first tokenising: CJK runs as overlapping character bigrams, identifiers whole and by parts.

Positions are chosen so that phrase queries work across scripts: every bigram, Latin word and whole
identifier takes one position; the extra tokens (a CJK run's last character alone, an identifier's
parts) share the position of the token they belong to, and query analysis leaves them out of phrases.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from archive.search.fold import fold

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_RUN = re.compile(rf"([{_CJK}]+)|([0-9A-Za-z\u00c0-\u024f]+(?:[-_./][0-9A-Za-z\u00c0-\u024f]+)*)")
_PARTS = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+")
_ALNUM_SPLIT = re.compile(r"[A-Za-z\u00c0-\u024f]+|[0-9]+")


@dataclass(frozen=True)
class Tok:
    text: str
    pos: int
    start: int
    end: int
    extra: bool  # shares the position of a main token; left out of phrase queries


# A CJK character class costs a few ms to compile (re walks every code point of its ranges): the patterns
# only some texts need are compiled when first needed, not when `archive search` starts.
@functools.cache
def _line_in_cjk() -> re.Pattern[str]:
    return re.compile(rf"(?<=[{_CJK}])[ \t\u3000]*[\r\n][\s]*(?=[{_CJK}])")


def normalise(text: str) -> str:
    """NFKC folds full-width letters and digits (Ｂ２０２６ → B2026) as Chinese IMEs type them."""
    return unicodedata.normalize("NFKC", text)


def join_lines(text: str) -> str:
    """A line break between two CJK characters is where a form, PDF or letter wrapped, not a word boundary:
    外包装\n受压 is the phrase 外包装受压 (Chinese has no spaces to lose)."""
    if "\n" not in text and "\r" not in text:
        return text
    return _line_in_cjk().sub("", text)


def searchable(text: str) -> str:
    """Text as the index holds it and a query is looked up, the one place both pass: full-width folded,
    lines joined inside Chinese, traditional characters folded to simplified (破損 → 破损; see fold.py).
    Offsets into it are offsets into normalise(text): folding keeps the length."""
    return fold(join_lines(normalise(text)))


def tokens(text: str) -> Iterator[Tok]:
    text = searchable(text)
    pos = 0
    for m in _RUN.finditer(text):
        if m.group(1):
            run, base = m.group(1), m.start(1)
            if len(run) == 1:
                yield Tok(run, pos, base, base + 1, False)
                pos += 1
                continue
            for i in range(len(run) - 1):
                yield Tok(run[i:i + 2], pos, base + i, base + i + 2, False)
                if i == 0:
                    # The first character alone too: a query's lone character after digits (12盒, 10月20日)
                    # must find 12盒装 at the same position as the run's first bigram.
                    yield Tok(run[0], pos, base, base + 1, True)
                pos += 1
            yield Tok(run[-1], pos - 1, base + len(run) - 1, base + len(run), True)
        else:
            word, base = m.group(2).lower(), m.start(2)
            yield Tok(word, pos, base, base + len(word), False)
            parts = _PARTS.findall(word)
            extra = set(parts) if len(parts) > 1 else set()
            for p in parts:
                pieces = _ALNUM_SPLIT.findall(p)
                if len(pieces) > 1 and len(p) >= 6:
                    extra.update(x for x in pieces if len(x) >= 2)
            extra.discard(word)
            for part in sorted(extra):
                yield Tok(part, pos, base, base + len(word), True)
            pos += 1


_DATE = re.compile(r"(?<![0-9])(\d{4})(?:([-/.])(\d{1,2})\2(\d{1,2})|年(\d{1,2})月(\d{1,2})[日号]?)(?![0-9])")
# 11月18日 with no year, as complaints write the days of what happened: the year is the case's own.
_DAY_IN_YEAR = re.compile(r"(?<![0-9年])(\d{1,2})月(\d{1,2})[日号]")


def dates_in(text: str, near: dt.date | None = None) -> set[str]:
    """Every calendar day written in ``text`` (2026-11-03, 2026/11/3, 2026.11.03, 2026年11月3日) as YYYYMMDD: a
    date typed alone finds the cases received, answered or mentioning that day, never a lot number's digits.
    With ``near`` (the day the case was received), a day written without its year (11月18日) is read in the
    year that puts it nearest ``near``: a letter of 5 January telling of 12月28日 means last December."""
    out: set[str] = set()
    flat = normalise(text)
    for m in _DATE.finditer(flat):
        month, day = (m.group(3), m.group(4)) if m.group(2) else (m.group(5), m.group(6))
        try:
            out.add(f"{dt.date(int(m.group(1)), int(month), int(day)):%Y%m%d}")
        except ValueError:
            continue
    if near is not None:
        for m in _DAY_IN_YEAR.finditer(flat):
            candidates = []
            for year in (near.year - 1, near.year, near.year + 1):
                try:
                    candidates.append(dt.date(year, int(m.group(1)), int(m.group(2))))
                except ValueError:
                    continue
            if candidates:
                out.add(f"{min(candidates, key=lambda d: abs((d - near).days)):%Y%m%d}")
    return out


def as_day(word: str) -> str | None:
    """The day a query word is, when it is nothing but a date."""
    days = dates_in(word)
    if len(days) != 1 or not _DATE.fullmatch(normalise(word).strip()):
        return None
    return days.pop()


GRAM_SIZES = (3, 4)


def cjk_runs(text: str) -> list[str]:
    return [m.group(1) for m in _RUN.finditer(searchable(text)) if m.group(1)]


def grams(text: str) -> set[str]:
    """Every CJK 3- and 4-gram: a Chinese word of 3–4 characters becomes one term lookup, and a longer one
    the AND of the 4-grams that cover it, with no position checks (Whoosh checks positions in Python)."""
    out: set[str] = set()
    for run in cjk_runs(text):
        for n in GRAM_SIZES:
            out.update(run[i:i + n] for i in range(len(run) - n + 1))
    return out


def covering_grams(run: str) -> list[str]:
    """4-grams that together cover a CJK run of 5 or more characters."""
    n = GRAM_SIZES[-1]
    starts = list(range(0, len(run) - n + 1, n))
    if starts[-1] != len(run) - n:
        starts.append(len(run) - n)
    return [run[i:i + n] for i in starts]


def is_single_cjk_run(text: str) -> bool:
    t = normalise(text).strip()
    return bool(t) and bool(_RUN.fullmatch(t)) and bool(_RUN.fullmatch(t).group(1))  # type: ignore[union-attr]


def query_terms(text: str) -> list[str]:
    """The main tokens of a query word or phrase, in order: what a phrase query must find adjacent."""
    return [t.text for t in tokens(text) if not t.extra]
