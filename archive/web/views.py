"""Server-rendered pages: one Jinja2 environment, autoescape on for every template (case text is the
customer's and may hold HTML or template syntax; it is shown as typed, never interpreted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from archive import vocab

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def _label(vocabulary: str, key: object) -> str:
    """The Chinese label of a coded value (an unknown code prints as itself)."""
    table = getattr(vocab, vocabulary)
    return str(table.get(str(key), key)) if key is not None else ""


def _local_time(value: object, zone: Any) -> str:
    """A recorded UTC moment as the CLI prints it where the archive is (clock.local_text)."""
    from archive import clock

    return clock.local_text(value if isinstance(value, str) else None, zone)


ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                  trim_blocks=True, lstrip_blocks=True)
ENV.globals.update(label=_label, vocab=vocab, local_time=_local_time)


def render(template: str, values: dict[str, Any]) -> str:
    return ENV.get_template(template).render(**values)
