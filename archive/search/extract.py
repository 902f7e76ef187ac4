"""What the index holds for one case: its fields and one text of the case, its stages and attachments."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
import time
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from archive import vocab
from archive.record.grammar import SIGNATURES_DIR
from archive.record.reader import CaseView
from archive.store.hashing import sha256_file
from archive.store.manifest import MANIFEST

if TYPE_CHECKING:
    from collections.abc import Iterator

    from archive.settings import Settings

# Stage fields holding a code: indexed by their Chinese label, which is what archivists type.
CODED = {"method": vocab.REPLY_METHOD, "responsibility": vocab.RESPONSIBILITY, "satisfaction": vocab.SATISFACTION}

# Stage fields naming who did or approved a step (受理负责人, 调查人, 验证人, 答复人, 回访人, 核准人…):
# with the case's receiver and its documents' signers, the people `signer:` finds.
HANDLERS = ("owner", "qa", "reviewed_by", "team", "investigator", "decided_by", "verified_by", "replied_by", "by",
            "approved_by")
_NAME_SEPARATORS = re.compile(r"[\s、,，;；/]+")
MAX_NAME_CHARS = 30  # longer is a sentence, not a person's name: not worth its pinyin

TEXT_SUFFIXES = (".txt", ".csv", ".md", ".eml")
EXTRACTABLE = (*TEXT_SUFFIXES, ".pdf", ".docx")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class TextLimits:
    """What text extraction may inflate, keep and spend per attachment, and what the index holds per field
    and per case (archive.toml [search]); the case JSON and the attachments themselves keep everything."""

    text_bytes: int = 600_000
    inflate_bytes: int = 50_000_000
    seconds: float = 20.0
    field_chars: int = 20_000
    case_chars: int = 60_000

    @classmethod
    def of(cls, settings: Settings) -> TextLimits:
        return cls(settings.attachment_text_max_bytes, settings.attachment_inflate_max_bytes,
                   float(settings.attachment_extract_seconds), settings.index_text_max_chars,
                   settings.index_case_text_max_chars)


class _Cut(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Collector:
    """Text gathered up to ``limits.text_bytes`` of UTF-8, within ``limits.seconds``."""

    def __init__(self, limits: TextLimits) -> None:
        self.limits = limits
        self.parts: list[str] = []
        self.size = 0
        self.deadline = time.monotonic() + limits.seconds

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text.encode("utf-8", "replace"))
        if self.size > self.limits.text_bytes:
            raise _Cut("text")
        self.tick()

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _Cut("time")

    def text(self) -> str:
        return clip_utf8("".join(self.parts), self.limits.text_bytes)


def clip_utf8(text: str, limit: int) -> str:
    """At most ``limit`` bytes of UTF-8, cut at a character boundary."""
    data = text.encode("utf-8", "replace")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def attachment_text(path: Path, limits: TextLimits) -> tuple[str, str | None]:
    """Text of a txt, pdf or docx attachment and why it was cut (None: whole; see vocab.TEXT_CUT). Other kinds,
    and damaged files, give no text: they are found by their name."""
    suffix = path.suffix.lower()
    out = _Collector(limits)
    try:
        if suffix in TEXT_SUFFIXES:
            _plain(path, out)
        elif suffix == ".pdf":
            _pdf(path, out)
        elif suffix == ".docx":
            _docx(path, out)
    except _Cut as cut:
        return out.text(), cut.reason
    except Exception:  # a damaged attachment is still archived; it is found by its name instead
        return "", None
    return out.text(), None


def _plain(path: Path, out: _Collector) -> None:
    with path.open("rb") as fh:
        raw = fh.read(out.limits.text_bytes + 1)
    cut = len(raw) > out.limits.text_bytes
    raw = raw[:out.limits.text_bytes]
    for enc in ("utf-8", "gb18030"):
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError as exc:
            if not (cut and exc.start >= len(raw) - 4):
                continue
            try:  # only the character the cut split is broken
                text = raw[:exc.start].decode(enc)
            except UnicodeDecodeError:
                continue
        out.add(text)
        if cut:
            raise _Cut("text")
        return


def _docx(path: Path, out: _Collector) -> None:
    """The body's text, streamed from the zip part and parsed as it inflates, so a part that inflates
    without end (a zip bomb) costs at most ``inflate_bytes`` and never sits in memory whole."""
    from xml.etree.ElementTree import Element, XMLPullParser

    inflated = 0
    parser: XMLPullParser[Element] = XMLPullParser(events=("end",))
    with zipfile.ZipFile(path) as z, z.open("word/document.xml") as part:
        while chunk := part.read(_CHUNK):
            inflated += len(chunk)
            if inflated > out.limits.inflate_bytes:
                raise _Cut("inflate")
            parser.feed(chunk)
            for _event, elem in cast("Iterator[tuple[str, Element]]", parser.read_events()):  # "end" events only
                if elem.tag == _W + "t" and elem.text:
                    out.add(elem.text)
                elif elem.tag in (_W + "p", _W + "br", _W + "tc"):
                    out.add("\n")
                elif elem.tag == _W + "tab":
                    out.add("\t")
                elem.clear()
            out.tick()


def _pdf(path: Path, out: _Collector) -> None:
    import pypdf
    from pypdf.errors import LimitReachedError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    cap = out.limits.inflate_bytes
    with pypdf.apply_configuration(zlib_maximum_output_length=cap, lzw_maximum_output_length=cap,
                                   run_length_maximum_output_length=cap, brotli_maximum_output_length=cap,
                                   array_based_stream_maximum_output_length=cap,
                                   stream_decoding_work_maximum_length=cap, maximum_declared_stream_length=cap):
        reader = pypdf.PdfReader(str(path))
        for page in reader.pages:
            try:
                out.add((page.extract_text() or "") + "\n")
            except LimitReachedError:
                raise _Cut("inflate") from None


def kept_text(view: CaseView, att: dict[str, Any], limits: TextLimits) -> str:
    """An attachment's text: the one kept with the record at intake, else (a record made before texts were
    kept) extracted now."""
    if att.get("text"):
        with (view.path / att["text"]).open("rb") as fh:
            data: bytes = fh.read(limits.text_bytes)
        return data.decode("utf-8", "ignore")
    if "text" in att:  # a kind that has no text (a photo): found by its name
        return ""
    text: str = attachment_text(view.path / att["file"], limits)[0]
    return text


@functools.cache
def _titles(schema: str) -> dict[str, Any]:
    """The Chinese titles the case and update schemas give their fields: what the forms print, so what a
    highlight is labelled with. Nested: a field's title under "", its properties' under their names."""

    def walk(node: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"": node.get("title", "")}
        for key, sub in (node.get("items", node).get("properties") or {}).items():  # an array: its items' fields
            out[key] = walk(sub)
        return out

    return walk(json.loads(resources.files("archive.schemas").joinpath(schema).read_text(encoding="utf-8")))


def address_labels() -> frozenset[str]:
    """The labels of highlights cut from a complainant's address (the web masks them as an address)."""
    return frozenset({_title("case.schema.json", "complainant", "address")})


def _title(schema: str, *path: str) -> str:
    node = _titles(schema)
    for key in path:
        node = node.get(key, {})
    return str(node.get("", "")) or path[-1]


def _attachments(view: CaseView, limits: TextLimits) -> list[tuple[str, str, str]]:
    """Each attachment's file name, title and text, read once for both the content and the passages."""
    return [(Path(att["file"]).name, att.get("title") or "", kept_text(view, att, limits))
            for att in view.record["attachments"]]


def passages(view: CaseView, limits: TextLimits | None = None,
             attachments: list[tuple[str, str, str]] | None = None) -> list[list[str]]:
    """The text people wrote, each as [label, text]: what a highlight may show. Codes (channel, category,
    severity, a stage's method or responsibility) and what the rules derived (triage reasons) are searchable
    through the content field but are no one's words, so they are never shown as a match."""
    limits = limits or TextLimits()
    case, cap = view.case, limits.field_chars
    c, p = case["complainant"], case.get("product", {})
    out: list[list[str]] = []

    def add(label: str, text: Any) -> None:
        if isinstance(text, list):
            text = "、".join(x for x in text if isinstance(x, str))
        if isinstance(text, str) and text.strip():
            out.append([label, text[:cap]])

    for key in ("description", "customer_request", "received_by"):
        add(_title("case.schema.json", key), case.get(key))
    for key in ("name", "organization", "address"):
        add(_title("case.schema.json", "complainant", key), c.get(key))
    for key in ("name", "spec", "lot", "part_no", "order_no"):
        add(_title("case.schema.json", "product", key), p.get(key))
    for name, stage in view.stages.items():
        data = stage.get("data")
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            for key, value in item.items():
                if key not in CODED and not key.endswith("_at"):
                    add(_title("update.schema.json", name, key), value)
    attachment = _title("case.schema.json", "attachments")
    for file, title, text in _attachments(view, limits) if attachments is None else attachments:
        add(attachment, file)
        add(f"{attachment} {file}", title)
        add(f"{attachment} {file}", text)
    kept, size = [], 0
    for label, text in out:  # the index keeps no more of them than of the content field
        if size >= limits.case_chars:
            break
        kept.append([label, text[:limits.case_chars - size]])
        size += len(kept[-1][1])
    return kept


def _stage_texts(view: CaseView) -> list[str]:
    out: list[str] = []
    for name, stage in view.stages.items():
        data = stage.get("data")
        if name == "capa" and isinstance(data, list):
            for a in data:
                out += [a.get("action", ""), a.get("owner", ""), a.get("verification", "")]
        elif isinstance(data, dict):
            for key, value in data.items():
                if key in CODED:
                    out.append(CODED[key].get(str(value), ""))
                elif isinstance(value, str) and not key.endswith("_at"):
                    out.append(value)
                elif isinstance(value, list):
                    out += [v for v in value if isinstance(v, str)]
    return out


def _stage_days(view: CaseView) -> set[str]:
    """When something was done in a stage (replied_at, visited_at, done_at...): a date typed alone finds it.
    Deadlines (due) are not days anything happened, so they are left out."""
    from archive.search.analysis import dates_in

    out: set[str] = set()
    for stage in view.stages.values():
        data = stage.get("data")
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict):
                for key, value in item.items():
                    if key.endswith("_at") and isinstance(value, str):
                        out |= dates_in(value[:10])
    return out


def _handlers(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, list):
        for item in node:
            out += _handlers(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in HANDLERS and isinstance(value, str):
                out.append(value)
            elif key in HANDLERS and isinstance(value, list):
                out += [v for v in value if isinstance(v, str)]
            elif isinstance(value, (dict, list)):
                out += _handlers(value)
    return out


def signers(view: CaseView) -> list[str]:
    """The people who signed one of the case's documents (any meaning, any version), received it, or are named
    as doing or approving one of its steps. A field holding a department and a name (质量保证部 张丽) gives both."""
    names = [view.case.get("received_by", "")]
    for stage in view.stages.values():
        names += _handlers(stage.get("data"))
    folder = view.path / SIGNATURES_DIR
    if folder.is_dir():
        for p in sorted(folder.glob("*.json")):
            names.append(str(json.loads(p.read_text(encoding="utf-8")).get("name", "")))
    out: list[str] = []
    for value in names:
        out += [n for n in _NAME_SEPARATORS.split(value) if n and len(n) <= MAX_NAME_CHARS and n not in out]
    return out


def document(view: CaseView, limits: TextLimits | None = None) -> dict[str, Any]:
    """The index document of a case. Each text is indexed up to ``field_chars`` and the case's whole text up
    to ``case_chars``: a description of megabytes costs the index no more than the cap (the case JSON keeps
    it all), so intake stays fast and the index small."""
    from archive.search import similarity
    from archive.search.analysis import dates_in
    from archive.search.fold import person_keys

    limits = limits or TextLimits()
    case = view.case
    c = case["complainant"]
    p = case.get("product", {})
    identifiers = [view.number, p.get("lot"), p.get("order_no"), p.get("part_no")]
    files = _attachments(view, limits)
    attachments = [t for file, title, text in files for t in (title, file, text)]
    texts = [view.number, case["description"], case.get("customer_request", ""), c["name"],
             c.get("organization", ""), c.get("address", ""), case.get("received_by", ""),
             p.get("name", ""), p.get("spec", ""), *(x for x in identifiers if x),
             vocab.CHANNEL.get(case["channel"], ""), vocab.CATEGORY.get(view.category, ""),
             vocab.SEVERITY.get(view.severity, ""), *view.record["triage"]["reasons"], *view.departments,
             *_stage_texts(view), *attachments]
    cap = limits.field_chars
    content = "\n".join(t[:cap] for t in texts if t)[:limits.case_chars]
    received = case["received_at"][:10]
    return {
        "number": view.number,
        "received": int(received.replace("-", "")),
        "received_at": case["received_at"],
        "channel": case["channel"],
        "category": view.category,
        "severity": view.severity,
        "status": view.status,
        "complainant": c["name"][:cap],
        "organisation": c.get("organization", "")[:cap],
        "product": p.get("name", "")[:cap],
        "lot": " ".join(x for x in (p.get("lot"),) if x)[:cap],
        "identifiers": " ".join(x for x in identifiers if x)[:cap],
        "departments": " ".join(view.departments)[:cap],
        # Exact terms: see fold.person_keys (signer:) and search/similarity.py (what `similar` compares).
        "signers": " ".join(sorted({k for name in signers(view) for k in person_keys(name)})),
        **similarity.index_fields(case),
        "retention_until": view.retention_until or "",
        "hold": bool(view.hold),
        "content": content,
        "passages": passages(view, limits, files),
        # Days the case was received, acted on in a stage, or mentioned in its text, as YYYYMMDD terms.
        "days": " ".join(sorted({received.replace("-", "")} | _stage_days(view)
                                     | dates_in(content, near=dt.date.fromisoformat(received)))),
        "stamp": sha256_file(view.path / MANIFEST),
    }
