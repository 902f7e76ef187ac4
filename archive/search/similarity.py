"""What makes two complaints alike, said once for every engine.

A QA reviewer looking for like complaints looks for the same batch, part or order first, then the same
customer (written longer or shorter: 江南市第二人民医院 and its 药剂科), the same product, then like words.
The first three are exact keys: `index_fields` makes them for every case's index document, `likeness` asks
for them from one case. An engine answers a Likeness with three lookups (`Lookup`: document frequency,
document count, and the best documents for some keys and words) and `rank` weighs what they found, so every
engine ranks alike and only the lookups are its own.

Index fields (KEY_FIELDS: whitespace-separated exact terms, no analysis, stored so `rank` can name the reasons):
    id_keys         the lot, part and order numbers, and identifier-shaped words of the complaint's text
    customer_keys   the organisation's and the complainant's names, whole
    customer_parts  every run of at least MIN_NAME_CHARS characters of those names (and each name whole)
    product_key     the product's name
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from archive import vocab
from archive.search.analysis import dates_in, query_terms, searchable

ID_FIELDS = ("lot", "part_no", "order_no")
WEIGHTS = {"lot": 3.0, "part_no": 3.0, "order_no": 3.0, "identifier": 2.0, "product": 2.0, "customer": 2.0,
           "text": 2.0}
# A name shorter than this is no one organisation (医院, 华东): containment is asked of longer names only.
MIN_NAME_CHARS = 4
MAX_NAME_UNITS = 40  # a name's parts grow with its square: a pasted paragraph is cut here
MIN_ID_CHARS = 3
# Identifiers taken from what the complaint writes: from its first TEXT_ID_CHARS characters, at most
# MAX_TEXT_IDS of them (a pasted parts list would otherwise make every case of that list alike, and slow).
TEXT_ID_CHARS = 20_000
MAX_TEXT_IDS = 10
KEY_WORDS = 24
# A case with fewer key words is measured as if it had this many of their average weight: in a short text, one
# word shared with another case (无法) would otherwise make it look half the same.
MIN_KEY_WORDS = 8
# A case's text likeness is its score for the case's key words over the case's own score; below this it shares
# no more than a few words with it and is not listed for its words.
FLOOR = 0.2
# A word in more than this share of the complaints tells none of them apart (客户, 反映, 要求…).
COMMON_SHARE = 0.5
CANDIDATES = 50  # beyond ``limit``: those received after ``before``, and ties, are sorted out of these
KEY_FIELDS = ("id_keys", "customer_keys", "customer_parts", "product_key")

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_UNIT = re.compile(rf"[{_CJK}]|[0-9a-z\u00c0-\u024f]+")
_WORD = re.compile(r"[0-9A-Za-z]+(?:[-_./][0-9A-Za-z]+)*")
_QUANTITY = re.compile(r"\d+(?:[.,]\d+)*[a-z]{1,3}")  # 500mg, 1000ml: amounts, not identifiers


def id_key(text: str) -> str:
    """An identifier as it is compared: case, width, spaces and separators ignored (PCB-4L-2291 = pcb4l2291)."""
    return "".join(ch for ch in searchable(text).lower() if ch.isalnum())


def text_identifiers(text: str) -> list[str]:
    """Identifier-shaped words a complaint writes (批号B2026080315, SN2026-0412-77): letters and at least three
    digits, six characters or more; dates and amounts (1000ml) are not identifiers."""
    out: list[str] = []
    for m in _WORD.finditer(searchable(text[:TEXT_ID_CHARS])):
        word = m.group(0)
        key = id_key(word)
        if (len(key) >= 6 and sum(ch.isdigit() for ch in key) >= 3 and any(ch.isalpha() for ch in key)
                and not _QUANTITY.fullmatch(word.lower()) and not dates_in(word) and word not in out):
            out.append(word)
            if len(out) == MAX_TEXT_IDS:
                break
    return out


def _units(name: str) -> list[str]:
    return _UNIT.findall(searchable(name).lower())[:MAX_NAME_UNITS]


def _joined(units: Sequence[str]) -> str:
    """CJK characters run together, Latin words keep a boundary (toyo_denshi): Toyo is not part of Toyota."""
    out: list[str] = []
    after_word = False
    for u in units:
        word = not _CJK_CHAR.fullmatch(u)
        if word and after_word:
            out.append("_")
        out.append(u)
        after_word = word
    return "".join(out)


def name_key(name: str) -> str:
    return _joined(_units(name))


def name_parts(name: str) -> set[str]:
    """The name whole, and every run of whole characters or words in it of MIN_NAME_CHARS characters or more."""
    units = _units(name)
    out = {_joined(units)} if units else set()
    for i in range(len(units)):
        size = 0
        for j in range(i, len(units)):
            size += len(units[j])
            if size >= MIN_NAME_CHARS:
                out.add(_joined(units[i:j + 1]))
    return out


def _customers(case: dict[str, Any]) -> list[str]:
    c = case.get("complainant", {})
    return [n for n in (c.get("organization"), c.get("name")) if isinstance(n, str) and n.strip()]


def _identifiers(case: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, identifier as written): the product's numbers, then those the complaint's text writes."""
    product = case.get("product", {})
    out = [(kind, product[kind]) for kind in ID_FIELDS if isinstance(product.get(kind), str) and product[kind]]
    seen = {id_key(v) for _, v in out}
    for word in text_identifiers("\n".join(case.get(k, "") for k in ("description", "customer_request"))):
        if id_key(word) not in seen:
            seen.add(id_key(word))
            out.append(("identifier", word))
    return [(k, v) for k, v in out if len(id_key(v)) >= MIN_ID_CHARS]


def index_fields(case: dict[str, Any]) -> dict[str, str]:
    """What every case's index document holds for `similar` to find it by (see the module's docstring)."""
    names = _customers(case)
    product = case.get("product", {}).get("name")
    return {
        "id_keys": " ".join(sorted({id_key(v) for _, v in _identifiers(case)})),
        "customer_keys": " ".join(sorted({k for n in names if (k := name_key(n))})),
        "customer_parts": " ".join(sorted({p for n in names for p in name_parts(n)})),
        "product_key": name_key(product) if isinstance(product, str) else "",
    }


@dataclass(frozen=True)
class Clause:
    """Documents holding any of ``terms`` (field, exact term) share ``kind`` with the case: ``weight`` once."""

    kind: str
    reason: str
    terms: tuple[tuple[str, str], ...]

    @property
    def weight(self) -> float:
        return WEIGHTS[self.kind]


@dataclass(frozen=True)
class Likeness:
    """One case's similarity query, engine-neutral: its keys as clauses, and its text to take key words from."""

    number: str
    clauses: tuple[Clause, ...]
    text: str


def likeness(number: str, case: dict[str, Any], text: str) -> Likeness:
    """``text``: what people wrote of the case (its index document's passages): its key words are taken from it,
    not from the codes the content field also holds (产品质量, 轻微), which whole categories share."""
    label = vocab.SIMILAR_REASON
    clauses = [Clause(kind, f"{label[kind]} {value}", (("id_keys", id_key(value)),))
               for kind, value in _identifiers(case)]
    product = case.get("product", {}).get("name")
    if isinstance(product, str) and name_key(product):
        clauses.append(Clause("product", f"{label['product']} {product}", (("product_key", name_key(product)),)))
    for name in filter(name_key, _customers(case)):
        # Theirs holds ours (their parts hold our whole name), or ours holds theirs (our parts are their name).
        shorter = sorted(p for p in name_parts(name) if len(p.replace("_", "")) >= MIN_NAME_CHARS)
        terms = (("customer_parts", name_key(name)), *(("customer_keys", p) for p in shorter))
        clauses.append(Clause("customer", f"{label['customer']} {name}", terms))
    return Likeness(number, tuple(clauses), text)


def key_words(text: str, doc_frequency: Callable[[str], int], doc_count: int, n: int = KEY_WORDS
              ) -> list[tuple[str, int]]:
    """The case's words that best tell what it is about and that other cases share, each with the number of
    cases holding it: tf·idf over the words of ``text`` held by at least one other case (a word only this case
    has cannot find another) and by no more than COMMON_SHARE of them (at least two)."""
    tf = Counter(t for t in query_terms(text) if len(t) > 1)
    common = max(2, int(doc_count * COMMON_SHARE))
    weighed = []
    for term, count in tf.items():
        df = doc_frequency(term)
        if 2 <= df <= common:
            weighed.append((-count * math.log(1 + doc_count / df), term, df))
    return [(term, df) for _, term, df in sorted(weighed)[:n]]


def _bm25_estimate(words: Sequence[tuple[str, int]], doc_count: int) -> float:
    """About what a case scores for its own key words (BM25's idf, each word once in a text of average
    length): it only sets the scale at which like words compete with shared keys for the candidate places."""
    return sum(math.log(1 + (doc_count - df + 0.5) / (df + 0.5)) for _, df in words)


class Candidate(Protocol):
    """A hit as an engine reports it."""

    @property
    def number(self) -> str: ...
    @property
    def received_at(self) -> str: ...
    def as_json(self) -> dict[str, Any]: ...


class Lookup(Protocol):
    """What an engine answers for `rank`, on the content field and the KEY_FIELDS of `index_fields`."""

    def doc_count(self) -> int: ...
    def doc_frequency(self, term: str) -> int:
        """Documents whose content holds ``term``."""
        ...
    def best(self, clauses: Sequence[Clause], words: Sequence[str], boost: float, limit: int
             ) -> Sequence[tuple[Candidate, float, Mapping[str, str]]]:
        """The ``limit`` documents scoring best for the sum of: each clause's weight, as a constant, when the
        document holds any of its (field, term); and ``boost`` times its BM25 score for its content holding any
        of ``words``. Each with that score and its KEY_FIELDS as stored."""
        ...


def rank(like: Likeness, lookup: Lookup, limit: int, before: str | None = None) -> list[dict[str, Any]]:
    """The cases most like ``like`` (only those received before ``before``, when given), each with its score
    and the reasons for it, best first. One query finds them, so the cost does not grow with how many cases
    share a product or a customer; the text's part of its score is its likeness, scaled by the case's own."""
    count = lookup.doc_count()
    weighed = key_words(like.text, lookup.doc_frequency, count)
    words = [w for w, _ in weighed]
    text_weight = WEIGHTS["text"]
    # A case with few key words is measured as if it had MIN_KEY_WORDS of them (see there).
    scale = max(1.0, MIN_KEY_WORDS / len(words)) if words else 1.0
    boost = text_weight / (_bm25_estimate(weighed, count) * scale) if words else 0.0
    if not like.clauses and not words:
        return []
    found = list(lookup.best(like.clauses, words, boost, limit + CANDIDATES))
    # The case holds all its keys and words: its own text score, less its keys, is what a like text scores.
    own = next((score - sum(c.weight for c in like.clauses) for hit, score, _ in found if hit.number == like.number),
               text_weight / scale)
    own *= scale
    out = []
    for hit, score, stored in found:
        if hit.number == like.number or (before is not None and hit.received_at >= before):
            continue
        held = {(f, t) for f, value in stored.items() for t in value.split()}
        matched = [c for c in like.clauses if held.intersection(c.terms)]
        kinds: dict[str, str] = {}
        for c in matched:
            kinds.setdefault(c.kind, c.reason)
        text = min(1.0, max(0.0, score - sum(c.weight for c in matched)) / own) if own > 0 else 0.0
        if text < FLOOR:
            text = 0.0
        reasons = list(kinds.values()) + ([vocab.SIMILAR_REASON["text"]] if text else [])
        if reasons:
            score = sum(WEIGHTS[k] for k in kinds) + text_weight * text
            out.append({**hit.as_json(), "score": round(score, 3), "reasons": reasons})
    return sorted(out, key=lambda h: (-h["score"], h["number"]))[:limit]
