"""Reports at scale: the monthly 客户投诉案件统计表 over N cases, beside a plain SQLite GROUP BY of the same figures.

    python bench/report.py [--cases 100000] [--month 2026-10]

An archive root (`archive init`) whose records/ holds N generated record folders (case.json and the response and
closure stages a handled case has, written directly: this measures the report, not intake), spread over the
twelve months ending at --month. Measured in the same run, each a function below, `main` printing table rows:
- facts:    reading every record folder and tombstone into the report's facts (what `report monthly` reads);
- figures:  the month's figures from those facts (monthly.figures: counts, shares, working-day lateness, ...);
- sqlite:   the baseline, the same headline figures (received, closed, open at end, by category/severity/channel,
            late replies) by `SELECT ... GROUP BY` over a table of the same N rows, indexed on the month;
- document: `archive report monthly MONTH --out DIR` in-process: figures, three charts, the .docx and its PDF.
Then the register export (bench/report_export.py) over as many register rows, beside a plain SELECT + csv.writer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from archive import clock
from archive.cli import main as cli
from archive.reports import monthly
from archive.rules.workdays import add_working_days
from archive.services import monthly_report
from archive.services.archive import Archive
from archive.settings import Settings

CATEGORIES = ("quality", "packaging", "delivery", "service", "billing", "other")
CHANNELS = ("phone", "email", "letter", "web", "in_person")
SEVERITIES = ("minor", "minor", "minor", "major", "critical")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def make_root(base: Path, cases: int, month: str,
              settings_of: Callable[[Path], Settings]) -> tuple[Path, list[dict[str, Any]]]:
    """A root with ``cases`` record folders over the twelve months ending at ``month``; the same rows returned."""
    root = base / "root"
    root.mkdir()
    result = CliRunner().invoke(cli, ["--root", str(root), "init"])
    assert result.exit_code == 0, result.output
    settings = settings_of(root)
    rng = random.Random(20)
    months = monthly.previous_months(month, monthly.TREND_MONTHS)
    rows = []
    serial: dict[str, int] = {}
    for i in range(cases):
        m = months[i % len(months)]
        serial[m] = serial.get(m, 0) + 1
        number = f"{m[2:4]}{m[5:]}{serial[m]:05d}"
        start, end = monthly.month_bounds(m)
        received = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
        channel = rng.choice(CHANNELS)
        due = received if channel in settings.same_day_channels else add_working_days(received, 2, settings)
        replied = received + dt.timedelta(days=rng.choice((0, 1, 2, 3, 5)))
        closed = received + dt.timedelta(days=rng.randrange(3, 40)) if rng.random() < 0.8 else None
        row = {"number": number, "received": received.isoformat(), "period": m, "channel": channel,
               "category": rng.choice(CATEGORIES), "severity": rng.choice(SEVERITIES), "reply_due": due.isoformat(),
               "replied": replied.isoformat(), "closed": closed.isoformat() if closed else None}
        rows.append(row)
        folder = root / "records" / m[:4] / m[5:] / number
        (folder / "stages").mkdir(parents=True)
        record = {"number": number,
                  "case": {"received_at": f"{row['received']}T10:00:00+08:00", "channel": channel,
                           "category": row["category"], "complainant": {"name": "客户"},
                           "product": {"name": f"产品{i % 50}", "lot": f"L{i % 400:04d}"}},
                  "triage": {"severity": row["severity"], "departments": ["质量部"], "reasons": []},
                  "deadlines": {"reply_due": row["reply_due"],
                                "investigation_due": (received + dt.timedelta(days=7)).isoformat()}}
        (folder / "case.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        stage = {"stage": "response", "version": 1, "data": {"replied_at": f"{row['replied']}T15:00:00+08:00"},
                 "derived": {}}
        (folder / "stages" / "response.v1.json").write_text(json.dumps(stage), encoding="utf-8")
        if closed:
            stage = {"stage": "closure", "version": 1, "data": {"closed_at": f"{row['closed']}T17:00:00+08:00"},
                     "derived": {"retention_until": "2099-12-31"}}
            (folder / "stages" / "closure.v1.json").write_text(json.dumps(stage), encoding="utf-8")
    return root, rows


def sqlite_figures(path: Path, rows: list[dict[str, Any]], month: str, settings: Settings) -> Callable[[], Any]:
    """The baseline table (built outside the timing) and the query run that gives the headline figures."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE cases (number TEXT PRIMARY KEY, received TEXT, period TEXT, channel TEXT, "
                 "category TEXT, severity TEXT, reply_due TEXT, replied TEXT, closed TEXT)")
    conn.executemany("INSERT INTO cases VALUES (:number, :received, :period, :channel, :category, :severity, "
                     ":reply_due, :replied, :closed)", rows)
    conn.execute("CREATE INDEX cases_period ON cases(period)")
    conn.execute("CREATE INDEX cases_closed ON cases(closed)")
    conn.execute("CREATE INDEX cases_due ON cases(reply_due)")
    conn.commit()
    start, end = (d.isoformat() for d in monthly.month_bounds(month))

    def run() -> dict[str, Any]:
        one = lambda sql, *a: conn.execute(sql, a).fetchone()[0]  # noqa: E731
        return {
            "received": one("SELECT count(*) FROM cases WHERE period = ?", month),
            "closed": one("SELECT count(*) FROM cases WHERE closed BETWEEN ? AND ?", start, end),
            "open_at_end": one("SELECT count(*) FROM cases WHERE received <= ? AND (closed IS NULL OR closed > ?)",
                               end, end),
            **{f"by_{col}": dict(conn.execute(f"SELECT {col}, count(*) FROM cases WHERE period = ? GROUP BY {col}",
                                              (month,)).fetchall()) for col in ("category", "severity", "channel")},
            # Late by calendar date only: SQL has no Chinese working-day calendar (the report counts the days late).
            "reply_late": [r[0] for r in conn.execute(
                "SELECT number FROM cases WHERE reply_due BETWEEN ? AND ? AND (replied IS NULL OR replied > reply_due)"
                " ORDER BY number", (start, end))],
        }

    return run


def measure(cases: int, month: str, row: Callable[[str, float, str], None]) -> None:
    from archive import settings as settings_mod

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        base = Path(tmp)
        root, rows = make_root(base, cases, month, settings_mod.load)
        arc = Archive.open(root)
        load_s, facts = timed(lambda: monthly_report.facts(arc))
        today = clock.today(arc.settings.zone)
        fig_s, fig = timed(lambda: monthly.figures(facts, month, today, arc.settings))
        baseline = sqlite_figures(base / "baseline.sqlite", rows, month, arc.settings)
        sql_s, sql = min((timed(baseline) for _ in range(3)), key=lambda t: t[0])
        same = all(fig[k] == sql[k] for k in ("received", "closed", "open_at_end"))
        same = same and all(dict(sorted(fig[k].items())) == dict(sorted(sql[k].items()))
                            for k in ("by_category", "by_severity", "by_channel"))
        row("SQLite GROUP BY (baseline)", sql_s, "1x" + ("" if same else " (figures differ!)"))
        row("facts: read record folders", load_s, f"{load_s / sql_s:.0f}x")
        row("figures from facts", fig_s, f"{fig_s / sql_s:.0f}x")
        out = base / "out"
        out.mkdir()
        doc_s, _ = timed(lambda: monthly_report.report(arc, month, out))
        row("report monthly --out (facts, figures, charts, docx, PDF)", doc_s, f"{doc_s / sql_s:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", "--rows", type=int, default=100_000)
    parser.add_argument("--month", default="2026-10")
    args = parser.parse_args()
    print(f"| report monthly, {args.cases:,} cases, month {args.month} | seconds | vs SQLite |")
    print("| --- | --- | --- |")
    measure(args.cases, args.month, lambda name, seconds, ratio: print(f"| {name} | {seconds:.3f} | {ratio} |",
                                                                       flush=True))
    sys.path.insert(0, str(Path(__file__).parent))
    import report_export

    for row in report_export.export_rows(args.cases):
        print(row, flush=True)
    print(f"command: python bench/report.py --cases {args.cases} --month {args.month}", file=sys.stderr)


if __name__ == "__main__":
    main()
