"""archive.toml: every setting with its default, written commented by ``init`` and checked on load."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from archive import vocab
from archive.errors import SettingsError

SETTINGS_FILE = "archive.toml"
# The organisation of the shipped defaults: an archive made without `init --org` prints it on every form.
EXAMPLE_ORGANISATION = "示例医药有限公司"


DEFAULT_TEXT = """\
# archive.toml: settings of this complaint archive (SOP GL-004).
# Every key is present with its default; edit the value, keep the key. Unknown keys are refused.

[organisation]
# Printed in the header of every controlled form.
name = "示例医药有限公司"

[numbering]
# Case number: {yy} or {yyyy}, {mm}, and {serial:0N} (N digits, restarts every month), each field once.
# A literal prefix of letters, digits, '-' or '_' is allowed, e.g. "KS-{yy}{mm}{serial:04}"; a number
# starts with a letter or digit and is at most 64 characters long.
pattern = "{yy}{mm}{serial:04}"

[time]
# Zone used for "today" (overdue lists, retention runs) and for dates printed on forms.
zone = "Asia/Shanghai"
# A received_at or stage date later than now by more than this is refused as a date in the future
# (at most 1440, one day).
clock_skew_minutes = 10

[audit]
# Write commands need --actor or $ARCHIVE_ACTOR naming the person who acts (an OS account is not a person).
require_actor = true
# A folder on another disk (or write-once media), outside this root: every audit append also appends the new
# head (seq, SHA-256, time) to audit-heads.jsonl there, and `archive verify` compares the log with it, so an
# entry edited, removed or appended inside the root is found. "" = off. An absolute path.
mirror = ""

[signatures]
# One person gives one meaning on a document: the key that drafted it may not also review or approve it.
separate_meanings = true
# Meanings in the order they are given on one version of a document: each needs the earlier ones first
# (no 批准 before 审核). [] leaves the order free.
order = ["drafted", "reviewed", "approved"]

[closure]
# Closure also needs the approval (批准) signature on every current form of the case.
require_approvals = false

[deadlines]
# (Each number of days below is at most 365.)
# Channels answered the same day (oral complaints, and those where delay is not acceptable).
same_day_channels = ["phone", "in_person", "media", "regulator"]
# Written complaints (letter, fax, e-mail, web) are answered within this many working days.
written_reply_working_days = 2
# Investigation report due this many calendar days after receipt.
investigation_days = 7
# 8D report (quality complaints) due this many working days after receipt.
eightd_working_days = 3
# An urgent complaint is answered the same day whatever its channel.
urgent_same_day = true

[calendar]
# Working days follow the Chinese statutory calendar (package chinese-calendar).
# For years it does not yet know, list the State Council's holidays and swapped workdays here;
# a year it does not know and not listed falls back to Monday–Friday.
extra_holidays = []   # e.g. ["2027-01-01", "2027-02-06"]
extra_workdays = []   # e.g. ["2027-02-14"]

[triage]
# Major complaint (重大投诉) thresholds (finite numbers; at most 10^15 CNY and 10^9 people).
claim_amount_major = 10000
people_affected_major = 10

[routing]
# Departments a case is routed to, by category. Service complaints go to the department served
# (case field department_served, else the receiving person's department), then to these.
quality = ["研发部", "质量部"]
packaging = ["商务部", "质量保证部"]
delivery = ["物流部", "商务部"]
service = []
adverse_reaction = ["质量部", "药物警戒部"]
billing = ["财务部"]
other = ["质量保证部"]

[retention]
# Kept until the later of closure + years_after_closure and product expiry + years_after_expiry
# (each at most 100 years, here and in the rules below).
years_after_closure = 3
years_after_expiry = 1
# Rules by category replace the two numbers above for that category; each rule's name is stored with the
# date it gives. A device's "expiry" is the end of its expected life, e.g.
#   rules = { adverse_reaction = { years_after_closure = 5, years_after_expiry = 1 },
#             medical_device = ... }   (keys are case categories: quality, packaging, adverse_reaction, ...)
rules = {}
# Distinct registered keys that must sign a destruction certificate: 0, 1 (the approver) or 2 (the approver,
# meaning 批准, and a witness of another person, meaning 监销).
destruction_signatures = 2

[documents]
# "intake": render PDFs when the documents are rendered; "on_demand": only with `archive render --pdf`.
pdf = "on_demand"
# Seconds allowed for one LibreOffice conversion batch (1 to 86400).
pdf_timeout = 300

[search]
# Attachment text (txt, PDF, docx) is extracted once, at intake, and kept with the record (text/N.txt);
# these caps bound what one attachment may cost. `show` says when an attachment's text was cut.
# Bytes (UTF-8) of text kept and indexed per attachment.
attachment_text_max_bytes = 600000
# Bytes extraction may inflate from one attachment (a docx's document part, a PDF's streams): a small file
# that inflates to gigabytes (a zip bomb) is read only this far.
attachment_inflate_max_bytes = 50000000
# Seconds extraction may spend on one attachment.
attachment_extract_seconds = 20
# Characters the index holds of one text (the description, a stage field, an attachment's text), and of
# one case's whole text; the case JSON keeps everything, only what is searchable is capped.
index_text_max_chars = 20000
index_case_text_max_chars = 60000
# The full-text engine: "whoosh" (the default, pure Python) or "tantivy" (for large archives: past ~20,000
# cases it answers in a few ms where Whoosh takes ~100). After a change, `archive settings apply` and then
# `archive rebuild` build the index with the chosen engine; until then searches ask for that rebuild.
engine = "whoosh"

[intake]
# A received_at before this date is refused: two-digit-year numbers of another century would collide,
# and a date this old is a typing error, not a complaint.
earliest_received = "1990-01-01"

[forms]
# Which form set intake renders. "gl004": 客户投诉接收登记表 GL-004-01 and 客户投诉记录表 GL-004-02.
# "pcb": the manufacturer's 客户抱怨处理表 GL-004-07 (PCB SOP 表14.6.3, five copies, 第一联 … 第五联) instead,
# printed again as investigation, response and closure fill it. The stage forms (调查报告, CAPA, 反馈表, 8D)
# are the same in both sets, and `archive render NUMBER --form ID` renders any form of either set.
set = "gl004"

[trend]
# `archive report trend`: the periodic review of complaints for recurring problems and trends that may call
# for a recall (药品生产质量管理规范 2010 第二百七十七条; EU GMP chapter 8).
# Months in one rolling window (1 to 120); a window never reaches outside the report's --from..--to.
window_months = 3
# A product, lot, customer, category or department is flagged when its complaints in one window reach this
# number (at least 1).
threshold = 3
# A root cause (investigation.root_cause, compared without spaces, full/half width or case) is flagged when
# this many cases of the report's range give it (at least 2).
root_cause_cases = 2
# Keys drawn one by one in the trend chart (1 to 20); the rest are drawn together as 其他.
chart_keys = 8

[web]
# `archive serve`: the web page for users added with `archive users add` (roles: qa, archivist, inspector,
# retention, manager, admin).
# Roles that see complainants' personal data unmasked (个人信息保护法: others see 王** / 138****5678).
see_personal_data = ["qa", "archivist", "admin"]
# A session ends after this many minutes without a request (1 to 1440).
session_minutes = 30
# Failed logins allowed per login and per address within login_window_minutes (1 to 1000).
login_attempts = 5
login_window_minutes = 15
# Larger uploads (case JSON, attachments) are refused with one message (1 to 1024 MB).
upload_max_mb = 10
# true when a TLS proxy is in front (serving on a non-loopback host warns otherwise).
tls = false
"""

_PATTERN_FIELDS = {"yy", "yyyy", "mm", "serial"}
_LITERAL = re.compile(r"[A-Za-z0-9_-]*")
# record.folders finds a record by a number of at most 64 such characters; a leading '-' reads as an option.
MAX_NUMBER_LENGTH = 64
_FIELD_WIDTH = {"yy": 2, "yyyy": 4, "mm": 2}


@dataclass(frozen=True)
class NumberPattern:
    pattern: str
    serial_width: int
    regex: re.Pattern[str]

    @property
    def max_serial(self) -> int:
        return int("9" * self.serial_width)

    def format(self, period: dt.date, serial: int) -> str:
        return self.pattern.format(yy=f"{period.year % 100:02d}", yyyy=f"{period.year:04d}",
                                   mm=f"{period.month:02d}", serial=serial)

    def serial_of(self, number: str) -> int | None:
        m = self.regex.fullmatch(number)
        return int(m.group("serial")) if m else None


def parse_pattern(pattern: str) -> NumberPattern:
    parts: list[str] = []
    width = 0
    seen: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise SettingsError(f"archive.toml: numbering.pattern: {exc}") from None
    for literal, name, spec, conv in parsed:
        if not _LITERAL.fullmatch(literal):
            raise SettingsError(f"archive.toml: numbering.pattern: literal text {literal!r} may hold only "
                                "letters, digits, '-' and '_'")
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name not in _PATTERN_FIELDS or conv:
            raise SettingsError(f"archive.toml: numbering.pattern: unknown field {{{name}}}; "
                                "use {yy}, {yyyy}, {mm}, {serial:0N}")
        if name in seen:
            raise SettingsError(f"archive.toml: numbering.pattern: {{{name}}} appears twice; each field once")
        seen.add(name)
        if name == "serial":
            m = re.fullmatch(r"0(\d)", spec or "")
            if not m or int(m.group(1)) < 1:
                raise SettingsError("archive.toml: numbering.pattern: serial needs a zero-padded width "
                                    "such as {serial:04}")
            width = int(m.group(1))
            parts.append(rf"(?P<serial>\d{{{width}}})")
        else:
            parts.append(r"\d{4}" if name == "yyyy" else r"\d{2}")
    if "serial" not in seen or "mm" not in seen or not ({"yy", "yyyy"} & seen):
        raise SettingsError("archive.toml: numbering.pattern: needs {yy} or {yyyy}, {mm} and {serial:0N}")
    if {"yy", "yyyy"} <= seen:
        raise SettingsError("archive.toml: numbering.pattern: use {yy} or {yyyy}, not both")
    length = sum(len(lit) + (width if name == "serial" else _FIELD_WIDTH.get(name or "", 0))
                 for lit, name, _spec, _conv in parsed)
    if length > MAX_NUMBER_LENGTH:
        raise SettingsError(f"archive.toml: numbering.pattern: gives numbers of {length} characters; "
                            f"at most {MAX_NUMBER_LENGTH}")
    if parsed[0][0][:1] in ("-", "_"):
        raise SettingsError("archive.toml: numbering.pattern: a number must start with a letter or digit "
                            "(a leading '-' reads as a command-line option)")
    return NumberPattern(pattern, width, re.compile("".join(parts)))


@dataclass(frozen=True)
class Settings:
    organisation: str
    number_pattern: NumberPattern
    zone: ZoneInfo
    same_day_channels: tuple[str, ...]
    written_reply_working_days: int
    investigation_days: int
    eightd_working_days: int
    urgent_same_day: bool
    extra_holidays: frozenset[dt.date]
    extra_workdays: frozenset[dt.date]
    claim_amount_major: float
    people_affected_major: int
    routing: dict[str, tuple[str, ...]] = field(default_factory=dict)
    years_after_closure: int = 3
    years_after_expiry: int = 1
    retention_rules: dict[str, tuple[int, int]] = field(default_factory=dict)
    destruction_signatures: int = 2
    pdf_at_intake: bool = False
    pdf_timeout: int = 300
    clock_skew_minutes: int = 10
    require_actor: bool = True
    separate_meanings: bool = True
    require_approvals: bool = False
    # [search]: what text extraction and the index may take per attachment, field and case.
    attachment_text_max_bytes: int = 600_000
    attachment_inflate_max_bytes: int = 50_000_000
    attachment_extract_seconds: int = 20
    index_text_max_chars: int = 20_000
    index_case_text_max_chars: int = 60_000
    search_engine: str = "whoosh"  # [search] engine
    signature_order: tuple[str, ...] = ("drafted", "reviewed", "approved")
    earliest_received: dt.date = dt.date(1990, 1, 1)
    audit_mirror: Path | None = None  # [audit] mirror
    form_set: str = "gl004"  # [forms] set
    # [trend]: the rolling window, its threshold, repeated root causes, keys drawn in the chart.
    trend_window_months: int = 3
    trend_threshold: int = 3
    trend_root_cause_cases: int = 2
    trend_chart_keys: int = 8
    # [web]: who sees personal data unmasked, sessions, login rate limits, uploads, TLS in front.
    web_see_personal_data: tuple[str, ...] = ("qa", "archivist", "admin")
    web_session_minutes: int = 30
    web_login_attempts: int = 5
    web_login_window_minutes: int = 15
    web_upload_max_mb: int = 10
    web_tls: bool = False


def _defaults() -> dict[str, dict[str, Any]]:
    return tomllib.loads(DEFAULT_TEXT)


# Upper bounds of numbers that feed date arithmetic, timeouts or SQLite: a value past them cannot be meant,
# and would fail much later as an overflow. Keys not listed are bounded by _MAX_NUMBER.
_BOUNDS: dict[str, tuple[float, float]] = {
    "time.clock_skew_minutes": (0, 1440),
    "deadlines.written_reply_working_days": (0, 365),
    "deadlines.investigation_days": (0, 365),
    "deadlines.eightd_working_days": (0, 365),
    "triage.claim_amount_major": (0, 1e15),
    "triage.people_affected_major": (0, 10**9),
    "years_after_closure": (0, 100),
    "years_after_expiry": (0, 100),
    "documents.pdf_timeout": (1, 86400),
    "trend.window_months": (1, 120),
    "trend.threshold": (1, 10**12),
    "trend.root_cause_cases": (2, 10**12),
    "trend.chart_keys": (1, 20),
    "web.session_minutes": (1, 1440),
    "web.login_attempts": (1, 1000),
    "web.login_window_minutes": (1, 1440),
    "web.upload_max_mb": (1, 1024),
}
_MAX_NUMBER = 10**12


def _check_bounds(key: str, value: int | float) -> None:
    lo, hi = _BOUNDS.get(key) or _BOUNDS.get(key.rsplit(".", 1)[-1]) or (0, _MAX_NUMBER)
    if not math.isfinite(value) or not lo <= value <= hi:
        shown = value if math.isfinite(value) else "a non-finite number"
        raise SettingsError(f"archive.toml: {key}: expected a number from {lo:g} to {hi:g}, got {shown}")


def _check_type(key: str, value: Any, default: Any) -> None:
    ok: bool
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    elif isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        want = {bool: "true or false", int: "a whole number ≥ 0", float: "a number ≥ 0",
                list: "a list of strings", str: "a string"}[type(default)]
        raise SettingsError(f"archive.toml: {key}: expected {want}, got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        _check_bounds(key, value)


def _dates(key: str, values: list[str]) -> frozenset[dt.date]:
    out = set()
    for v in values:
        try:
            out.add(dt.date.fromisoformat(v))
        except ValueError:
            raise SettingsError(f"archive.toml: {key}: {v!r} is not a date YYYY-MM-DD") from None
    return frozenset(out)


def _date(key: str, value: str) -> dt.date:
    [day] = _dates(key, [value])
    return day


def _retention_rules(section: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Per-category retention: each category's two numbers, defaulting to the section's own."""
    out = {}
    for category, rule in section["rules"].items():
        key = f"retention.rules.{category}"
        if category not in vocab.CATEGORY:
            raise SettingsError(f"archive.toml: {key}: unknown category; use one of {', '.join(vocab.CATEGORY)}")
        if not isinstance(rule, dict):
            raise SettingsError(f"archive.toml: {key}: expected a table such as {{ years_after_closure = 5 }}")
        for name, value in rule.items():
            if name not in ("years_after_closure", "years_after_expiry"):
                raise SettingsError(f"archive.toml: {key}.{name}: unknown setting")
            _check_type(f"{key}.{name}", value, 0)
        out[category] = (rule.get("years_after_closure", section["years_after_closure"]),
                         rule.get("years_after_expiry", section["years_after_expiry"]))
    return out


def _destruction_signatures(value: int) -> int:
    if value not in (0, 1, 2):
        raise SettingsError(f"archive.toml: retention.destruction_signatures: expected 0, 1 or 2, got {value!r}")
    return value


def _search(section: dict[str, Any]) -> dict[str, Any]:
    """[search] caps: each at least 1 (a cap of 0 would keep or index nothing at all); the engine by name."""
    caps = {key: value for key, value in section.items() if key != "engine"}
    for key, value in caps.items():
        if value < 1:
            raise SettingsError(f"archive.toml: search.{key}: expected a whole number ≥ 1, got {value!r}")
    if section["engine"] not in vocab.SEARCH_ENGINE:
        raise SettingsError("archive.toml: search.engine: expected "
                            + " or ".join(f'"{k}"' for k in vocab.SEARCH_ENGINE) + f", got {section['engine']!r}")
    return {**caps, "search_engine": section["engine"]}


def _signature_order(values: list[str]) -> tuple[str, ...]:
    for v in values:
        if v not in vocab.DOCUMENT_MEANINGS:
            raise SettingsError(f"archive.toml: signatures.order: unknown meaning {v!r}; "
                                f"use {', '.join(vocab.DOCUMENT_MEANINGS)}")
    if len(set(values)) != len(values):
        raise SettingsError("archive.toml: signatures.order: a meaning is listed twice")
    return tuple(values)


def from_mapping(data: dict[str, Any]) -> Settings:
    defaults = _defaults()
    merged: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        if section not in defaults:
            raise SettingsError(f"archive.toml: [{section}]: unknown section")
        if not isinstance(values, dict):
            raise SettingsError(f"archive.toml: {section}: expected a [{section}] table")
        for key, value in values.items():
            if key not in defaults[section]:
                raise SettingsError(f"archive.toml: {section}.{key}: unknown setting")
            _check_type(f"{section}.{key}", value, defaults[section][key])
    for section, values in defaults.items():
        merged[section] = {**values, **data.get(section, {})}
    d = merged["deadlines"]
    for ch in d["same_day_channels"]:
        if ch not in vocab.CHANNEL:
            raise SettingsError(f"archive.toml: deadlines.same_day_channels: unknown channel {ch!r}")
    try:
        zone = ZoneInfo(merged["time"]["zone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"archive.toml: time.zone: unknown time zone {merged['time']['zone']!r}") from None
    pdf = merged["documents"]["pdf"]
    if pdf not in ("intake", "on_demand"):
        raise SettingsError(f"archive.toml: documents.pdf: expected \"intake\" or \"on_demand\", got {pdf!r}")
    if not merged["organisation"]["name"].strip():
        raise SettingsError("archive.toml: organisation.name: must not be empty")
    return Settings(
        organisation=merged["organisation"]["name"],
        number_pattern=parse_pattern(merged["numbering"]["pattern"]),
        zone=zone,
        same_day_channels=tuple(d["same_day_channels"]),
        written_reply_working_days=d["written_reply_working_days"],
        investigation_days=d["investigation_days"],
        eightd_working_days=d["eightd_working_days"],
        urgent_same_day=d["urgent_same_day"],
        extra_holidays=_dates("calendar.extra_holidays", merged["calendar"]["extra_holidays"]),
        extra_workdays=_dates("calendar.extra_workdays", merged["calendar"]["extra_workdays"]),
        claim_amount_major=float(merged["triage"]["claim_amount_major"]),
        people_affected_major=merged["triage"]["people_affected_major"],
        routing={k: tuple(v) for k, v in merged["routing"].items()},
        years_after_closure=merged["retention"]["years_after_closure"],
        years_after_expiry=merged["retention"]["years_after_expiry"],
        retention_rules=_retention_rules(merged["retention"]),
        destruction_signatures=_destruction_signatures(merged["retention"]["destruction_signatures"]),
        pdf_at_intake=pdf == "intake",
        pdf_timeout=merged["documents"]["pdf_timeout"],
        clock_skew_minutes=merged["time"]["clock_skew_minutes"],
        require_actor=merged["audit"]["require_actor"],
        separate_meanings=merged["signatures"]["separate_meanings"],
        require_approvals=merged["closure"]["require_approvals"],
        **_search(merged["search"]),
        signature_order=_signature_order(merged["signatures"]["order"]),
        earliest_received=_date("intake.earliest_received", merged["intake"]["earliest_received"]),
        audit_mirror=_audit_mirror(merged["audit"]["mirror"]),
        form_set=_form_set(merged["forms"]["set"]),
        trend_window_months=merged["trend"]["window_months"],
        trend_threshold=merged["trend"]["threshold"],
        trend_root_cause_cases=merged["trend"]["root_cause_cases"],
        trend_chart_keys=merged["trend"]["chart_keys"],
        **_web(merged["web"]),
    )


def _web(section: dict[str, Any]) -> dict[str, Any]:
    roles = section["see_personal_data"]
    for role in roles:
        if role not in vocab.ROLE:
            raise SettingsError(f"archive.toml: web.see_personal_data: unknown role {role!r}; use "
                                f"{vocab.listing(vocab.ROLE)}")
    return {"web_see_personal_data": tuple(dict.fromkeys(roles)), "web_session_minutes": section["session_minutes"],
            "web_login_attempts": section["login_attempts"],
            "web_login_window_minutes": section["login_window_minutes"],
            "web_upload_max_mb": section["upload_max_mb"], "web_tls": section["tls"]}


def _form_set(value: str) -> str:
    if value not in vocab.FORM_SET:
        raise SettingsError("archive.toml: forms.set: expected " + " or ".join(f'"{k}"' for k in vocab.FORM_SET)
                            + f", got {value!r}")
    return value


def _audit_mirror(value: str) -> Path | None:
    if not value.strip():
        return None
    path = Path(value)
    if not path.is_absolute():
        raise SettingsError(f"archive.toml: audit.mirror: {value!r} is not an absolute path (the mirror lives "
                            "outside the archive root)")
    return path


def default_text(organisation: str | None = None) -> str:
    """archive.toml as init writes it: the defaults, naming ``organisation`` (else the example one)."""
    if organisation is None:
        return DEFAULT_TEXT
    if not organisation.strip() or any(ord(c) < 0x20 or c == "\x7f" for c in organisation):
        raise SettingsError(f"--org {organisation!r}: the organisation's name must not be empty or hold control "
                            "characters")
    line = f'name = "{EXAMPLE_ORGANISATION}"'
    text = DEFAULT_TEXT.replace(line, "name = " + json.dumps(organisation.strip(), ensure_ascii=False), 1)
    assert tomllib.loads(text)["organisation"]["name"] == organisation.strip()  # a JSON string is a TOML one
    return text


def load(root: Path) -> Settings:
    """Settings of the archive at ``root``; defaults where archive.toml does not exist yet."""
    path = root / SETTINGS_FILE
    if not path.exists():
        return from_mapping({})
    return from_bytes(path.read_bytes(), path)


def from_bytes(data: bytes, path: Path) -> Settings:
    """The settings a file's bytes give: a caller that must know exactly which bytes it runs on reads once."""
    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: malformed TOML: {exc}") from None
    settings = from_mapping(parsed)
    mirror = settings.audit_mirror
    if mirror is not None and mirror.resolve().is_relative_to(path.parent.resolve()):
        raise SettingsError(f"{path}: audit.mirror: {mirror} is inside the archive root; it must be on another "
                            "disk or medium, out of reach of whoever can change the root")
    return settings
