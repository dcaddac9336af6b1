"""A real-sized county (issue 18): ~1,300 village points, 22 primary schools, point units with
Delaunay adjacency and the default caps, through the whole `zoning plan` command (read, adjacency,
pairs, model, solve, independent checks, files). Target: a whole, checked plan within the 120 s
time limit on 2 cores.

    python benchmarks/bench_county.py [--villages 1300] [--schools 22] [--seed 5] [--out CSV]
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the county generator the tests use

from _county import write_county  # noqa: E402

from cli import main  # noqa: E402


def run(villages: int, schools: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = write_county(Path(tmp) / "county", n_villages=villages, n_schools=schools, seed=seed)
        out = Path(tmp) / "plan"
        t0 = time.perf_counter()
        res = CliRunner().invoke(main, ["plan", str(data), "--out", str(out), "--no-map", "--level", "primary",
                                        "--time-limit", "120"])
        seconds = time.perf_counter() - t0
        if res.exit_code not in (0, 1):
            raise SystemExit(f"zoning plan 失败（退出码 {res.exit_code}）：\n{res.output}")
        m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        checks = (out / "checks.txt").read_text(encoding="utf-8")
        whole = all("未通过" not in line for line in checks.splitlines()
                    if any(k in line for k in ("片区连片", "恰好划入", "上学距离")))
        return {"villages": villages, "schools": schools, "seed": seed, "total_s": round(seconds, 2),
                "status": m["status"], "plan_source": m["plan_source"], "whole_and_checked": whole,
                "limits_left": len(m["violations"]), "within_120s": seconds <= 120.0}


def main_() -> None:
    ap = argparse.ArgumentParser(description="县域规模基准：约 1300 个村庄点、22 所小学，整条 zoning plan 命令计时")
    ap.add_argument("--villages", type=int, default=1300)
    ap.add_argument("--schools", type=int, default=22)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "county.csv")
    a = ap.parse_args()
    row = run(a.villages, a.schools, a.seed)
    print(row)
    with open(a.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)


if __name__ == "__main__":
    main_()
