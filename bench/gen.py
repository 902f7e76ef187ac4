"""Generated complaint cases for benchmarks: varied Chinese text, lots, customers, channels, dates."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

PRODUCTS = ["阿莫西林胶囊", "注射用头孢曲松钠", "维生素C片", "PCB 主板", "前制动片", "空调遥控器", "输液器",
            "布洛芬缓释胶囊", "血糖试纸", "电动牙刷"]
PROBLEMS = ["外包装破损严重", "铝塑板有压痕", "药粒数量短缺", "出现皮疹瘙痒等不良反应", "焊盘短路不良",
            "制动异响", "空调无法制冷", "服务态度冷淡", "说明书缺页", "标签印刷模糊", "批号与合格证不符",
            "运输途中受潮结块", "颜色异常发黄", "异物混入", "密封不严漏液"]
CUSTOMERS = ["华东医药连锁有限公司", "江南市第二人民医院", "东洋电子株式会社", "北方汽车服务中心",
             "海滨大酒店", "南方商业银行", "Mr. Tanaka", "Ms. Schmidt", "王建国", "刘先生", "孙女士", "赵医生"]
CHANNELS = ["phone", "email", "letter", "fax", "in_person", "web", "media", "regulator"]
CATEGORIES = ["quality", "packaging", "delivery", "service", "adverse_reaction", "billing", "other"]


def case(i: int, rng: random.Random) -> dict[str, Any]:
    month = rng.randint(1, 10)  # received dates lie in the past: intake refuses future ones
    day = rng.randint(1, 28)
    problems = rng.sample(PROBLEMS, 3)
    lot = f"B{2026}{month:02d}{day:02d}{rng.randint(10, 99)}"
    return {
        "received_at": f"2026-{month:02d}-{day:02d}T{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}:00+08:00",
        "channel": rng.choice(CHANNELS),
        "received_by": "质量保证部 张丽",
        "complainant": {"name": rng.choice(CUSTOMERS), "organization": rng.choice(CUSTOMERS)},
        "product": {"name": rng.choice(PRODUCTS), "lot": lot, "order_no": f"PO-{rng.randint(10000, 99999)}",
                    "quantity": rng.randint(1, 5000), "expiry_date": "2028-07-31"},
        "description": f"客户反映第{i}批到货产品{problems[0]},{problems[1]},并且{problems[2]}。批号{lot}。",
        "customer_request": rng.choice(["要求换货", "要求退货并赔偿", "书面说明原因", "客户加工中未确定"]),
        "category": rng.choice(CATEGORIES),
        "claim_amount": rng.choice([0, 500, 1500, 12000]),
    }


def write_cases(folder: Path, count: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        p = folder / f"case-{i:06d}.json"
        p.write_text(json.dumps(case(i, rng), ensure_ascii=False), encoding="utf-8")
        paths.append(p)
    return paths
