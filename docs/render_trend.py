"""Render the example trend chart docs/reports/trend-by-lot.png (and its table, printed) from a throw-away archive
of eight complaints over six months, the data of tests/test_report_trend.py: lot L-A reaches the threshold in
2026-07..09, L-B has as many complaints but never three within three months.

    .venv/bin/python docs/render_trend.py
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from click.testing import CliRunner

from archive.cli.app import main

OUT = Path(__file__).parent / "reports"
CASES = [  # received, lot, product, category, customer, root cause
    ("2026-05-20", "L-C", "布洛芬缓释胶囊", "quality", "华南人民医院", "运输装卸不当"),
    ("2026-06-03", "L-B", "阿莫西林胶囊", "packaging", "华北大药房", None),
    ("2026-07-10", "L-A", "阿莫西林胶囊", "quality", "华东医药连锁有限公司", "运输装卸不当"),
    ("2026-08-12", "L-A", "阿莫西林胶囊", "packaging", "华东医药连锁有限公司", " 运输\u3000装卸不当 "),
    ("2026-09-15", "L-A", "阿莫西林胶囊", "quality", "华北大药房", "ＰＶＣ硬片热封温度偏低"),
    ("2026-09-20", "L-B", "阿莫西林胶囊", "quality", "华东医药连锁有限公司", "缺粒检测传感器灵敏度偏低"),
    ("2026-10-08", "L-C", "布洛芬缓释胶囊", "quality", "华南人民医院", "PVC 硬片热封温度偏低"),
    ("2026-11-05", "L-B", "阿莫西林胶囊", "packaging", "华东医药连锁有限公司", None),
]


def main_() -> None:
    os.environ.setdefault("ARCHIVE_ACTOR", "示例 docs")
    with tempfile.TemporaryDirectory() as tmp:
        root, work, charts = Path(tmp) / "root", Path(tmp) / "work", Path(tmp) / "charts"
        for p in (root, work, charts):
            p.mkdir()

        def run(*args: str) -> str:
            result = CliRunner().invoke(main, ["--root", str(root), *args], catch_exceptions=False)
            assert result.exit_code == 0, result.output
            return result.stdout

        run("init")
        files = []
        for i, (day, lot, product, category, customer, _) in enumerate(CASES):
            case = {"received_at": f"{day}T09:00:00+08:00", "channel": "phone", "category": category,
                    "complainant": {"name": f"客户{i}", "organization": customer},
                    "product": {"name": product, "lot": lot, "expiry_date": "2028-07-31"},
                    "description": f"第{i}号投诉:外包装破损"}
            files.append(work / f"{i}.json")
            files[-1].write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
        numbers = [c["number"] for c in json.loads(run("intake", "--json", *map(str, files)))]
        for number, (day, *_, cause) in zip(numbers, CASES, strict=True):
            if cause is not None:
                stage = work / f"{number}-investigation.json"
                stage.write_text(json.dumps({"investigation": {
                    "investigator": "质量部 陈工", "findings": "见调查记录", "root_cause": cause,
                    "responsibility": "ours", "completed_at": f"{day}T17:00:00+08:00"}}, ensure_ascii=False),
                    encoding="utf-8")
                run("update", number, str(stage))
        print(run("report", "trend", "--from", "2026-06", "--to", "2026-11", "--by", "lot", "--out", str(charts)))
        OUT.mkdir(exist_ok=True)
        shutil.copyfile(charts / "trend-lot-2026-06-2026-11.png", OUT / "trend-by-lot.png")


if __name__ == "__main__":
    main_()
