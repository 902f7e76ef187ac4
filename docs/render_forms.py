"""Render every page of every GL-004 form into docs/forms/*.png, to look at; the 客户抱怨处理表 (pcb-complaint)
from the 05 example with every PCB field filled (below), its 第一联 (pcb-complaint.png).

    .venv/bin/python docs/render_forms.py        (needs LibreOffice and pdftoppm: `make demo` installs them)

ID.png is page 1 of each form from the shipped examples (ID-2.png its page 2, if any); full-ID*.png are the
forms of tests/fixtures/forms (a B类 case that fills every optional field, corrected, closed with an action
open); capa-15*.png a CAPA record of 15 actions (the signature block stays with the table's last rows).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from archive.rules.stages import prepare as prepare_update
from archive.services.archive import Archive
from archive.services.cases import intake, prepare, render, update

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLES = PROJECT / "examples"
FIXTURES = PROJECT / "tests" / "fixtures" / "forms"
OUT = Path(__file__).parent / "forms"

# The 客户抱怨处理表's own fields (case.schema.json and update.schema.json `pcb` objects) for the 05 example.
PCB_CASE = {"abnormal_sample": {"provided": True, "quantity": 5, "note": "不良板随函寄回"},
            "sales_opinion": "长期客户,建议优先补货并派员拜访"}
PCB_STAGES: dict[str, Any] = {
    "investigation": {"pcb": {"responsible_department": "制造部", "rd_opinion": "菲林对位余量不足,建议增加对位标靶",
                              "production": {"unit": "阻焊车间", "shift": "二号机夜班", "operator": "李明",
                                             "date": "2026-10-24"}}},
    "response": {"pcb": {"gm_opinion": "同意补发,责任单位检讨并限期改善"}},
    "closure": {"closed_at": "2026-11-27T16:00:00+08:00", "approved_by": "总经理 黄伟",
                "pcb": {"tracking": True, "loss_amount": 8600, "penalty": "制造部罚扣绩效500元"}},
}


def _pcb_example(tmp: Path) -> tuple[Path, Path]:
    """The 05 case and its updates with the 客户抱怨处理表's fields added, written to ``tmp``."""
    case = json.loads((EXAMPLES / "05-electronics-quality.json").read_text(encoding="utf-8"))
    case["pcb"] = PCB_CASE
    (tmp / "attachments").mkdir()
    for a in case["attachments"]:
        shutil.copyfile(EXAMPLES / a["path"], tmp / a["path"])
    stages: dict[str, Any] = {}
    for name in ("05-investigation.json", "05-capa.json"):
        stages.update(json.loads((EXAMPLES / "updates" / name).read_text(encoding="utf-8")))
    for stage, extra in PCB_STAGES.items():
        stages[stage] = {**stages.get(stage, {}), **extra}
    (tmp / "case.json").write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    (tmp / "stages.json").write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
    return tmp / "case.json", tmp / "stages.json"



def _pages(pdf: Path, name: str) -> None:
    """Each page as NAME.png, NAME-2.png, …"""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), f"{tmp}/p"], check=True)
        for i, page in enumerate(sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[1])), 1):
            target = OUT / (f"{name}.png" if i == 1 else f"{name}-{i}.png")
            shutil.copyfile(page, target)
            print(target)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        arc = Archive.create(Path(tmp), "质量保证部 张丽")
        first = intake(arc, prepare(EXAMPLES / "01-pharma-packaging.json")).number
        for name in ("01-investigation.json", "01-capa.json", "01-close.json"):
            update(arc, first, prepare_update(EXAMPLES / "updates" / name))
        quality = intake(arc, prepare(EXAMPLES / "05-electronics-quality.json")).number
        for name in ("05-investigation.json", "05-capa.json"):
            update(arc, quality, prepare_update(EXAMPLES / "updates" / name))
        full = intake(arc, prepare(FIXTURES / "full-case.json")).number
        for name in ("triage", "investigation", "capa", "response"):
            update(arc, full, prepare_update(FIXTURES / f"full-{name}.json"))
        update(arc, full, prepare_update(FIXTURES / "full-investigation-corrected.json"), reason="补充发运温度记录")
        update(arc, full, prepare_update(FIXTURES / "full-close.json"), reason="预防措施转入年度计划跟踪")
        long = intake(arc, prepare(EXAMPLES / "05-electronics-quality.json"), allow_duplicate=True).number
        update(arc, long, prepare_update(EXAMPLES / "updates" / "05-investigation.json"))
        update(arc, long, prepare_update(FIXTURES / "capa-15.json"))
        OUT.mkdir(exist_ok=True)
        for old in OUT.glob("*.png"):
            old.unlink()
        for number, prefix, only in ((first, "", None), (quality, "", "eightd-report"), (full, "full-", None),
                                     (long, "capa-15", "capa-record")):
            for pdf in (p for p in render(arc, number, pdf=True) if p.endswith(".pdf")):
                doc_id = Path(pdf).name.split(".v")[0]
                if only is not None and doc_id != only:
                    continue
                src = next(Path(tmp).glob(f"records/*/*/{number}")) / pdf
                _pages(src, prefix if prefix == "capa-15" else prefix + doc_id)
        source = Path(tmp) / "pcb-example"
        source.mkdir()
        case, stages = _pcb_example(source)
        # An archive of its own, so the PCB complaint is not a duplicate of the 05 case above.
        maker = Archive.create(Path(tmp) / "pcb-root", "品管部 陈工")
        pcb = intake(maker, prepare(case)).number
        update(maker, pcb, prepare_update(stages), reason="预防措施按计划进行,列入追踪")
        [pdf] = [p for p in render(maker, pcb, pdf=True, forms=["pcb-complaint"]) if p.endswith(".pdf")]
        src = next((Path(tmp) / "pcb-root").glob(f"records/*/*/{pcb}")) / pdf
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(src),
                        str(OUT / "pcb-complaint")], check=True)
        print(OUT / "pcb-complaint.png")
        shutil.rmtree(Path(tmp) / ".work", ignore_errors=True)


if __name__ == "__main__":
    main()
