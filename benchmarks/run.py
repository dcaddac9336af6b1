"""Run the benchmark: every configuration on every size, side by side, in one run.

Usage (from the repository root)::

    python benchmarks/run.py --sizes S,M [--seed 1] [--time-limit T] [--configs tool,dense,...]
                             [--out benchmarks/results/latest.csv] [--profile]

Each (size, configuration) runs in its own subprocess, so the peak memory (``ru_maxrss``) of one
does not hide another's. The table is printed and written as CSV; ratios are against the reference
of the same family in the same run (``tool`` for the multi-year family, ``tool_1y`` for the
single-year one), because machines are noisy.
"""
from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import io
import json
import logging
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make the repository importable
    sys.path.insert(0, str(REPO))

log = logging.getLogger("benchmarks.run")

#: Default time limit (seconds) per configuration and size; XL leaves a minute of its 30 for the build.
DEFAULT_TIME_LIMIT = {"XS": 20.0, "S": 45.0, "M": 90.0, "L": 300.0, "XL": 1740.0}
DEFAULT_CONFIGS = ("tool", "tool_whole", "tool_1y", "dense", "spopt", "tool_cbc")
COLUMNS = [
    "date", "machine", "commit", "size", "seed", "units", "schools", "pairs", "config", "family", "description",
    "time_limit_s", "build_s", "solve_s", "total_s", "build_share", "peak_mb", "base_mb", "status",
    "gap", "objective", "bound", "eval_objective", "max_km", "n_vars", "n_rows", "reference", "time_ratio",
    "objective_ratio", "runs", "parts", "note",
]


def machine() -> str:
    """``nproc`` and the CPU model, e.g. ``2 × AMD EPYC``."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} × {model}"


def commit() -> str:
    """The repository's commit (``+dirty`` with uncommitted changes outside ``benchmarks/results``),
    or "" outside a checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=str(REPO), timeout=10).stdout.strip()
        # results written by an earlier run are not a change to what is measured
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)benchmarks/results"], capture_output=True,
                               text=True, cwd=str(REPO), timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head + ("+dirty" if head and dirty else "")


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


# ------------------------------------------------------------------------------ one configuration
TARGET_GAP = {"L": 0.01, "XL": 0.01}
#: A configuration that finishes in less than this (seconds) is run ``REPEATS`` times and the
#: median run reported: sub-second timings are mostly noise.
REPEAT_BELOW_S = 2.0
REPEATS = 5


def _strip_paths(text: str) -> str:
    """Profiles name files relative to the repository or site-packages, not this machine's paths."""
    import site
    import sysconfig

    prefixes = [str(REPO) + "/"] + [p + "/" for p in site.getsitepackages() + [sysconfig.get_paths()["stdlib"]]]
    for prefix in sorted(set(prefixes), key=len, reverse=True):
        text = text.replace(prefix, "")
    return text


def run_one(size: str, config: str, seed: int, time_limit: float, profile_path: str | None = None) -> dict:
    """Run one configuration in this process and return its row (no ratios)."""
    from benchmarks.configs import CONFIGS, REFERENCE, run_config, scenario_for
    from benchmarks.instances import generate

    inst = generate(size, seed)
    # the targets: proven gap 0.5% up to M, 1% for L and XL
    scenario = scenario_for(config, time_limit, TARGET_GAP.get(size.upper(), 0.005))
    base = _maxrss_mb()
    prof = cProfile.Profile() if profile_path else None
    if prof:
        prof.enable()
    runs = []
    while True:
        # a fresh problem each time, so that nothing one run caches speeds up the next
        t0 = time.perf_counter()
        problem = inst.problem(scenario)
        prep = time.perf_counter() - t0
        out = run_config(config, problem, scenario)
        runs.append((prep + out.build_s + out.solve_s, prep, out))
        # a configuration that did not run (skipped, not applicable) has nothing to time again
        if prof or len(runs) >= REPEATS or runs[0][0] >= REPEAT_BELOW_S or out.status in ("skipped", "not_applicable"):
            break
    # the median run (by total time) stands for the configuration
    _, prep, out = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    if prof:
        prof.disable()
        buf = io.StringIO()
        st = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
        st.print_stats(40)
        buf.write("\n--- by own time ---\n")
        st.sort_stats("tottime").print_stats(25)
        Path(profile_path).write_text(_strip_paths(buf.getvalue()), encoding="utf-8")
    family = CONFIGS[config][0]
    if out.status not in ("optimal", "feasible"):  # no plan: no objective to compare
        out.objective = out.bound = out.gap = out.eval_objective = None
    build = out.build_s + prep
    total = build + out.solve_s
    return {
        "size": size, "seed": seed, "units": inst.info["units"], "schools": inst.info["schools"],
        "pairs": inst.info["pairs"], "config": config, "family": family,
        "description": CONFIGS[config][1], "time_limit_s": time_limit,
        "build_s": round(build, 3), "solve_s": round(out.solve_s, 3), "total_s": round(total, 3),
        "build_share": round(build / total, 3) if total > 0 else None,
        "peak_mb": round(_maxrss_mb(), 1), "base_mb": round(base, 1), "status": out.status,
        "gap": out.gap, "objective": out.objective, "bound": out.bound,
        "eval_objective": out.eval_objective, "max_km": out.max_km, "n_vars": out.n_vars, "n_rows": out.n_rows,
        "reference": REFERENCE[family], "note": out.note, "runs": len(runs),
        "parts": out.parts,
    }


def run_subprocess(size: str, config: str, seed: int, time_limit: float, profile_path: str | None) -> dict:
    """Run :func:`run_one` in a fresh interpreter (separate peak memory); errors become a row."""
    args = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(
        {"size": size, "config": config, "seed": seed, "time_limit": time_limit, "profile": profile_path})]
    timeout = time_limit * 4 + 600
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=str(REPO))
    except subprocess.TimeoutExpired:
        return {"size": size, "config": config, "seed": seed, "status": "error",
                "note": f"子进程超过 {timeout:.0f} 秒未结束，已终止"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (proc.stderr.strip().splitlines() or ["(无输出)"])[-1]
    return {"size": size, "config": config, "seed": seed, "status": "error",
            "note": f"子进程失败（退出码 {proc.returncode}）：{tail}"}


# ------------------------------------------------------------------------------ table
def add_ratios(rows: list[dict]) -> list[dict]:
    """``time_ratio`` and ``objective_ratio`` of each row against its family's reference row."""
    ref = {(r["size"], r["config"]): r for r in rows}
    for r in rows:
        base = ref.get((r["size"], r.get("reference")))
        r["time_ratio"] = r["objective_ratio"] = None
        if not base or r.get("status") not in ("optimal", "feasible") or \
                base.get("status") not in ("optimal", "feasible"):
            continue
        if base.get("total_s"):
            r["time_ratio"] = round(r["total_s"] / base["total_s"], 2)
        key = "eval_objective" if r.get("family") == "single" else "objective"
        if base.get(key) and r.get(key) is not None:
            r["objective_ratio"] = round(r[key] / base[key], 5)
    return rows


def _fmt(v, nd=2):
    if v is None or v == "":
        return "-"
    if isinstance(v, float):
        if abs(v) >= 1e5:
            return f"{v:.4g}"
        return f"{v:.{nd}f}"
    return str(v)


def format_table(rows: list[dict]) -> str:
    """A plain-text table of the main columns."""
    cols = [("size", "规模"), ("config", "配置"), ("build_s", "建模s"), ("solve_s", "求解s"),
            ("total_s", "合计s"), ("build_share", "建模占比"), ("peak_mb", "峰值MB"), ("status", "状态"),
            ("gap", "证明间隙"), ("objective", "目标值"), ("bound", "下界"), ("eval_objective", "统一评分"), ("max_km", "最远km"),
            ("time_ratio", "耗时比"), ("objective_ratio", "目标比")]
    data = [[_fmt(r.get(k), 4 if k in ("gap", "objective_ratio") else 2) for k, _ in cols] for r in rows]
    head = [h for _, h in cols]
    width = [max(len(head[i]) * 2, *(len(d[i]) for d in data)) if data else len(head[i]) * 2
             for i in range(len(cols))]
    lines = ["  ".join(h.ljust(w - len(h)) for h, w in zip(head, width))]
    for d in data:
        lines.append("  ".join(x.ljust(w) for x, w in zip(d, width)))
    return "\n".join(lines)


def markdown_table(rows: list[dict]) -> str:
    """The table as Markdown (for README.md)."""
    cols = [("size", "规模"), ("config", "配置"), ("build_s", "建模 s"), ("solve_s", "求解 s"),
            ("total_s", "合计 s"), ("build_share", "建模占比"), ("peak_mb", "峰值 MB"), ("status", "状态"),
            ("gap", "证明间隙"), ("objective", "目标值"), ("bound", "下界"), ("eval_objective", "统一评分"),
            ("max_km", "最远 km"), ("parts", "分块"), ("runs", "次数"), ("time_ratio", "耗时比"),
            ("objective_ratio", "目标比")]
    out = ["| " + " | ".join(h for _, h in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for k, _ in cols:
            v = r.get(k)
            if isinstance(v, str) and k not in ("size", "config", "status", "parts", "runs"):
                try:
                    v = float(v) if v != "" else None
                except ValueError:
                    pass
            cells.append(_fmt(v, 4 if k in ("gap", "objective_ratio") else 2))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def write_csv(rows: list[dict], out: Path) -> None:
    """Write the rows to ``out`` (via a temporary file, so it is complete or absent)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k) for k in COLUMNS})
    os.replace(tmp, out)


def run(sizes: list[str], configs: list[str], seed: int = 1, time_limit: float | None = None,
        out: Path | None = None, profile_dir: Path | None = None, echo=print) -> list[dict]:
    """Run every configuration on every size; return the rows (and write ``out`` when given)."""
    from benchmarks.configs import CONFIGS
    from benchmarks.instances import parse_size

    for c in configs:
        if c not in CONFIGS:
            raise SystemExit(f"未知的配置 '{c}'（可用：{', '.join(CONFIGS)}）")
    for s in sizes:
        try:
            parse_size(s)
        except ValueError as exc:
            raise SystemExit(str(exc)) from None
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mach = machine()
    rev = commit()
    rows = []
    for size in sizes:
        limit = time_limit if time_limit is not None else DEFAULT_TIME_LIMIT.get(size.upper(), 300.0)
        for config in configs:
            prof = None
            if profile_dir is not None and config in ("tool", "tool_whole", "tool_1y"):
                profile_dir.mkdir(parents=True, exist_ok=True)
                prof = str(profile_dir / f"profile_{size}_{config}.txt")
            echo(f"[{dt.datetime.now():%H:%M:%S}] {size} {config}（时限 {limit:.0f} 秒）…")
            row = run_subprocess(size, config, seed, limit, prof)
            row.update(date=date, machine=mach, commit=rev)
            row.setdefault("description", CONFIGS[config][1])
            row.setdefault("family", CONFIGS[config][0])
            rows.append(row)
            echo(f"    {row.get('status')}  合计 {_fmt(row.get('total_s'))} 秒  峰值 {_fmt(row.get('peak_mb'))} MB"
                 + (f"  {row['note']}" if row.get("note") else ""))
    add_ratios(rows)
    if out is not None:
        write_csv(rows, out)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="划片模型基准测试：生成算例，逐一运行各配置并输出对比表")
    parser.add_argument("--sizes", default="S,M", help="规模，逗号分隔：XS,S,M,L,XL 或 单元数x学校数（默认 S,M）")
    parser.add_argument("--configs", default=",".join(DEFAULT_CONFIGS),
                        help=f"配置，逗号分隔（默认 {','.join(DEFAULT_CONFIGS)}）")
    parser.add_argument("--seed", type=int, default=1, help="算例随机种子（默认 1）")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="每个配置的求解时限（秒）；默认按规模：" +
                             "，".join(f"{k} {v:.0f}" for k, v in DEFAULT_TIME_LIMIT.items()))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "latest.csv",
                        help="CSV 输出路径（默认 benchmarks/results/latest.csv）")
    parser.add_argument("--profile", action="store_true",
                        help="对本工具的配置做 cProfile，写入 CSV 同目录下 profile_<规模>_<配置>.txt")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="不运行，只把已有的结果 CSV 打印为 Markdown 表格（供 README 使用）")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        spec = json.loads(args.worker)
        logging.basicConfig(level=logging.WARNING)
        row = run_one(spec["size"], spec["config"], spec["seed"], spec["time_limit"], spec.get("profile"))
        print("RESULT " + json.dumps(row, ensure_ascii=False, default=float), flush=True)
        return 0
    if args.markdown:
        with open(args.markdown, encoding="utf-8") as fh:
            print(markdown_table(list(csv.DictReader(fh))))
        return 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    rows = run(sizes, configs, args.seed, args.time_limit, args.out,
               args.out.parent if args.profile else None)
    print()
    print(format_table(rows))
    print(f"\n已写入 {args.out}（{machine()}）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
