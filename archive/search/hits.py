"""What a search answers, whichever engine found it: the hit, its labelled highlights, and the order of equal scores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from archive.search.analysis import join_lines, normalise
from archive.search.fold import spellings
from archive.search.highlight import labelled


@dataclass(frozen=True)
class Hit:
    number: str
    score: float
    highlights: list[str]
    received_at: str
    complainant: str
    product: str
    status: str

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def hit(stored: Mapping[str, Any], score: float, literals: list[str]) -> Hit:
    """A hit from a case's stored fields: its highlights are cut from the passages (the text people wrote)."""
    passages = stored["passages"]
    if literals:
        # A word typed traditional (破損) is marked where the text spells it simplified (破损), and back.
        written = " ".join(text for _label, text in passages)
        literals = literals + spellings(normalise(" ".join(join_lines(written).split())), literals)
    return Hit(stored["number"], round(float(score), 4), labelled(passages, literals) if literals else [],
               stored["received_at"], stored["complainant"], stored["product"], stored["status"])


def best_first(score: float, number: str) -> tuple[float, str]:
    """Best first, equal scores in case-number order: the answer must not depend on how an index happens to be
    segmented (a rebuilt index answers as the one intakes grew)."""
    return -round(score, 6), number
