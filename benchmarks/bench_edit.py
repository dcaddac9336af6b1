"""Benchmark of ``zoning edit``: the time of one edit (the panel's recomputation) as a ratio
against a full ``zoning project`` run in the same process.

Run ``python benchmarks/bench_edit.py [--sizes sample,L] [--edits 10] [--seed 1] [--out benchmarks/results/edit.csv]``.

* ``sample``: the bundled sample. A proposal is made from the current zones (a copy of the
  sample's own zones, no solve), opened with :class:`pipelines.edit_session.EditSession` (load
  once), then units are moved one by one. The reference is :func:`pipelines.project.run_project`
  on that proposal (read the data folder, build the problem, project, ledger), timed in the same
  process.
* ``L`` (and any size of ``benchmarks/instances.py``): a seeded instance has no files, so the
  session is opened on the problem in memory (:meth:`EditSession.on_problem`) and the reference is
  the projection and ledger of ``zoning project`` on the same problem (no file reading: the ratio
  is therefore a harder one than on the sample).

An edit is :meth:`EditSession.assign`: the assignments table rebuilt from the edits and judged by
:func:`zoning.checks.run_checks` (projection, ledger, every independent check) plus the plan
metrics. The issue's targets: 300 ms on the sample, 2 s on L. Not a timed test: numbers only.
Each row also goes to a CSV (``--out``), with the commit (``+dirty`` with uncommitted changes) and
the time, as ``benchmarks/run.py`` does.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.configs import scenario_for  # noqa: E402
from benchmarks.instances import generate  # noqa: E402
from geodata.proposal import write_assignments, write_run  # noqa: E402
from pipelines.edit_session import EditSession  # noqa: E402
from pipelines.inputs import load  # noqa: E402
from pipelines.plan import assignments_table, run_record  # noqa: E402
from pipelines.project import run_project  # noqa: E402
from zoning.projection import ZoneMaps, ledger, project  # noqa: E402

TARGET_MS = {"sample": 300.0, "L": 2000.0}


def moves(session: EditSession, n: int) -> list[tuple[str, str, str]]:
    """``n`` edits: units moved to their nearest allowed school other than the present one."""
    p, out, seen = session.problem, [], set()
    level = session.levels[0]
    rules = session.rules[level].pairs
    rules = rules[rules["allowed"]].sort_values(["unit", "distance_m"])
    final = session.original.zones.final(level)
    rng = np.random.default_rng(1)
    for u in rng.permutation(p.n_units):
        alt = rules[(rules["unit"] == u) & (rules["school"] != final[u])]
        if len(alt) and u not in seen:
            out.append((p.unit_ids[u], level, p.school_ids[int(alt["school"].iloc[0])]))
            seen.add(u)
        if len(out) == n:
            break
    return out


def time_edits(session: EditSession, n: int) -> list[float]:
    times = []
    for unit, level, school in moves(session, n):
        t0 = time.perf_counter()
        session.assign(unit, level, school)
        times.append(time.perf_counter() - t0)
    return times


def bench_sample(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "current"
        folder.mkdir()
        loaded = load(None)
        sc = loaded.scenario
        zones = ZoneMaps.single(loaded.problem, sc.intake_year, dict(loaded.problem.current))
        write_assignments(folder, assignments_table(loaded.problem, zones, sc))
        write_run(folder, run_record(folder, loaded))
        t0 = time.perf_counter()
        run_project(zones_dir=folder)
        full = time.perf_counter() - t0
        t0 = time.perf_counter()
        session = EditSession(folder)
        opened = time.perf_counter() - t0
        edits = time_edits(session, n)
    return {"size": "sample", "units": session.problem.n_units, "schools": session.problem.n_schools,
            "open_s": opened, "project_s": full, "edits": edits}


def bench_instance(size: str, n: int, seed: int) -> dict:
    inst = generate(size, seed)
    sc = scenario_for("tool", 60.0)
    problem = inst.problem(sc)
    zones = ZoneMaps.single(problem, sc.intake_year, dict(problem.current))
    table = assignments_table(problem, zones, sc)
    t0 = time.perf_counter()
    ledger(problem, project(problem, ZoneMaps.current(problem), sc.years))
    full = time.perf_counter() - t0
    t0 = time.perf_counter()
    session = EditSession.on_problem(problem, sc, table)
    opened = time.perf_counter() - t0
    edits = time_edits(session, n)
    return {"size": size, "units": problem.n_units, "schools": problem.n_schools,
            "open_s": opened, "project_s": full, "edits": edits}


def report(row: dict) -> str:
    med = statistics.median(row["edits"]) * 1000
    target = TARGET_MS.get(row["size"])
    verdict = "" if target is None else (f"，目标 {target:.0f} 毫秒：" + ("达到" if med <= target else "未达到"))
    return (f"{row['size']}（{row['units']} 个单元、{row['schools']} 所学校）：打开 {row['open_s']:.2f} 秒；"
            f"zoning project 一次 {row['project_s'] * 1000:.0f} 毫秒；每次修改中位数 {med:.0f} 毫秒"
            f"（最长 {max(row['edits']) * 1000:.0f} 毫秒），比值 {med / 1000 / row['project_s']:.2f}{verdict}")


def commit() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def csv_row(row: dict, when: str, rev: str) -> dict:
    med = statistics.median(row["edits"])
    target = TARGET_MS.get(row["size"])
    return {"size": row["size"], "units": row["units"], "schools": row["schools"], "edits": len(row["edits"]),
            "open_s": round(row["open_s"], 3), "project_s": round(row["project_s"], 3),
            "edit_median_ms": round(med * 1000, 1), "edit_max_ms": round(max(row["edits"]) * 1000, 1),
            "edit_min_ms": round(min(row["edits"]) * 1000, 1), "ratio_to_project": round(med / row["project_s"], 3),
            "target_ms": target, "met": None if target is None else med * 1000 <= target,
            "commit": rev, "utc": when}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="sample,L")
    ap.add_argument("--edits", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "edit.csv")
    args = ap.parse_args(argv)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    rev, rows = commit(), []
    for size in args.sizes.split(","):
        row = bench_sample(args.edits) if size == "sample" else bench_instance(size, args.edits, args.seed)
        print(report(row), flush=True)
        rows.append(csv_row(row, when, rev))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"已写出 {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
