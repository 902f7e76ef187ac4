"""What people also type: traditional characters for simplified ones, and names by pinyin or initials.

Folding is character by character, and every character to exactly one: a query word then folds exactly as the
same characters fold inside any text (OpenCC's phrase rules would fold 乾 alone to 干 but keep 乾隆, so a
query for part of a phrase could miss it), and offsets in the folded text are offsets in the original, which
is what highlights mark.
"""

from __future__ import annotations

import itertools
import unicodedata
from functools import cache, lru_cache
from typing import Any

# Han characters (CJK Unified Ideographs, Extension A, Compatibility Ideographs) by code point: a regular
# expression class of these ~28,000 characters takes ~2 ms to compile in every process that searches.
_HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
# A name with many polyphonic characters would index every combination of readings; past this many the
# first (most common) reading of each character is kept instead.
MAX_READINGS = 8


class _T2S(dict[int, int]):
    """A str.translate table filled on first sight of each character: translate runs in C, OpenCC is asked
    once per distinct character in the life of the process."""

    def __init__(self) -> None:
        super().__init__()
        self._cc: Any = None  # OpenCC, loaded by the first Han character

    def __missing__(self, code: int) -> int:
        folded = code
        if _is_han(code):
            if self._cc is None:
                import opencc

                self._cc = opencc.OpenCC("t2s")
            out = self._cc.convert(chr(code))
            folded = ord(out) if len(out) == 1 else code  # never change the text's length
        self[code] = folded
        return folded


def _is_han(code: int) -> bool:
    return any(lo <= code <= hi for lo, hi in _HAN)


@cache
def _table() -> _T2S:
    return _T2S()


def fold(text: str) -> str:
    """Traditional Chinese to simplified (破損 → 破损), the same length as ``text``; other text unchanged."""
    if text.isascii():
        return text
    return text.translate(_table())


def spellings(flat: str, literals: list[str]) -> list[str]:
    """How each literal is spelled in ``flat`` when it is spelled there another way (破損 written 破损): the
    highlight marks the text as written, not as folded."""
    low = fold(flat).lower()
    out: list[str] = []
    for lit in literals:
        key = fold(unicodedata.normalize("NFKC", lit)).lower()
        if not key.strip():
            continue
        start = low.find(key)
        while start >= 0 and len(out) < 20:
            if (spelled := flat[start:start + len(key)]).lower() != lit.lower() and spelled not in out:
                out.append(spelled)
            start = low.find(key, start + len(key))
    return out


@lru_cache(maxsize=4096)  # ~0.2 ms a name in pypinyin, and the same customers complain again
def name_keys(name: str) -> frozenset[str]:
    """A Chinese name as people type it in Latin letters: the full pinyin without tones (wangjianguo) and the
    initials (wjg), for every combination of a polyphonic character's readings up to MAX_READINGS."""
    from pypinyin import Style, pinyin

    han = "".join(ch for ch in fold(name) if _is_han(ord(ch)))
    if not han:
        return frozenset()
    out: set[str] = set()
    for style, joiner in ((Style.NORMAL, ""), (Style.FIRST_LETTER, "")):
        readings = [sorted(set(r), key=r.index) for r in pinyin(han, style=style, heteronym=True, errors="ignore")]
        combos = 1
        for r in readings:
            combos *= len(r)
        if combos > MAX_READINGS:
            readings = [r[:1] for r in readings]
        out.update(joiner.join(c).lower() for c in itertools.product(*readings))
    return frozenset(k for k in out if k.isascii() and k.isalpha())


def latin_key(text: str) -> str | None:
    """The name_keys term a customer: value is when it is a name typed in pinyin or by its initials, spaces
    and case as people type them (Wang Jianguo, WJG); None for anything else."""
    key = "".join(text.split()).lower()
    return key if key.isascii() and key.isalpha() else None


def person_key(text: str) -> str:
    """A person's name as a signer: term: the name typed in pinyin or by its initials (latin_key), else the
    name itself, folded and without spaces (張麗 → 张丽), matched whole."""
    return latin_key(text) or "".join(fold(unicodedata.normalize("NFKC", text)).split()).lower()


def person_keys(name: str) -> frozenset[str]:
    """Every person_key that finds ``name``: itself and its name_keys."""
    whole = person_key(name)
    return frozenset({whole} if whole else set()) | name_keys(name)
