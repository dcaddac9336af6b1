"""The commands' pipelines: inputs → geodata → zoning → proposal folder → maps.

Each function here is what one CLI command does, without the option parsing: load and validate the
data folder, hand plain tables to the model, solve, run the independent checker, write the
proposal folder atomically, draw the planner map. ``cli.py`` only parses options and prints.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import platform
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from zoning.errors import DataError, Problem, format_problems
from geodata.network import default_cache_dir
from geodata.outputs import (Inputs, OutputRefused, OutputUnwritable, check_output_target, check_writable,
                             command_inputs, mark_output_folder)
from geodata.tabular import write_csv
from zoning import policy
from zoning.checks import LIMITS, format_results, run_checks, structural_failures
from zoning.explain import explain_violations, presolve
from zoning.metrics import over_limit_summary, plan_metrics
from zoning.model import build_model, solve_model
from zoning.problem import ZoningProblem
from zoning.projection import ZoneMaps, ledger as make_ledger, project
from zoning.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict, with_overrides

log = logging.getLogger(__name__)

#: what the command line takes from the packages below through this layer (its errors and checks)
FOR_THE_CLI = (DataError, ScenarioError, OutputRefused, OutputUnwritable, check_writable, format_problems)


class PlanError(Exception):
    """Unusable input for a plan command (exit code 2); the message says why, in Chinese."""

    exit_code = 2


class NoPlanError(PlanError):
    """The inputs are usable but no plan meeting the rules was found (a finding: exit code 1)."""

    exit_code = 1


PLAN_LEVELS = ("primary", "junior")
ASSIGNMENT_COLUMNS = ("unit_id", "level", "school_id", "students", "change_year")


@dataclass
class Loaded:
    dataset: object
    scenario: Scenario
    tables: object
    problem: ZoningProblem


@dataclass
class PlanOutcome:
    out_dir: Path
    metrics: dict
    summary: str
    checks: list
    presolve: list = field(default_factory=list)
    solve_seconds: float | None = None


@dataclass
class CheckPlanOutcome:
    """What ``zoning check-plan`` found: the checks, the ledger and warnings about the inputs."""

    results: list
    ledger: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    data_source: str = ""


def load(data_dir=None, scenario_path=None, coords=None, mapping=None, overrides=None,
         progress=None, scenario: Scenario | None = None) -> Loaded:
    """Read and validate the data folder and the scenario; build the plain problem.

    The scenario is ``scenario`` when given, else ``scenario_path``, else the data folder's
    ``scenario.toml``, else the defaults; ``overrides`` (command-line options) apply on top.
    """
    from geodata.dataset import load_dataset
    from geodata.tables import to_tables

    _say(progress, "读取并检查数据……")
    dataset = load_dataset(data_dir, coords=coords, mapping=mapping)
    if scenario is None:
        path = scenario_path or getattr(dataset, "scenario_path", None)
        scenario = load_scenario(path)
    scenario = with_overrides(scenario, **(overrides or {}))
    _say(progress, "计算相邻关系与上学距离……")
    # road distances are cached by input hash in the user's cache folder, never beside the data
    tables = to_tables(dataset, scenario, cache_dir=default_cache_dir(None))
    problem = ZoningProblem.from_tables(tables, scenario)
    _apply_survival(problem, scenario, data_dir)
    if scenario.keep_indicators:
        _apply_indicator_ceilings(problem, dataset)
    return Loaded(dataset, scenario, tables, problem)


def _apply_survival(problem: ZoningProblem, scenario: Scenario, data_dir) -> None:
    """Cohort-survival ratios: the scenario's where given, else estimated from ``history.*``.

    ``history`` (历年在校生, optional) has one row per school, year and grade: school_id, year,
    grade, students. Without either, every ratio is 1.0. The ratios used are reported.
    """
    from zoning.projection import estimate_survival

    history_file = None
    if data_dir is not None:
        for ext in (".csv", ".xlsx"):
            for stem in ("history", "历年在校生"):
                if (Path(data_dir) / f"{stem}{ext}").exists():
                    history_file = Path(data_dir) / f"{stem}{ext}"
    if history_file is not None:
        from geodata.readers import read_table
        from zoning.errors import DataError, Problem

        hist = read_table(history_file, "history")
        missing = {"year", "grade", "students"} - set(hist.columns)
        if missing:
            raise DataError([Problem(history_file.name, None, None, ",".join(sorted(missing)),
                                     "历年在校生表缺少列", "需要 school_id, year, grade, students 四列")])
        ratios, table = estimate_survival(hist)
        explicit = set()
        for key in scenario.survival:
            explicit.add(int(str(key).split("-")[0].lstrip("g")))
        for g in range(1, 9):
            if g not in explicit:
                problem.survival[g - 1] = ratios[g - 1]
        problem.notes.append("升级保留率由 " + history_file.name + " 估计：" + "，".join(
            f"{r.from_grade}→{r.to_grade} 年级 {r.ratio:.3f}" for r in table.itertuples()))
    elif scenario.survival:
        problem.notes.append("升级保留率取自情景设置：" + "，".join(f"{k} = {v}" for k, v in scenario.survival.items()))
    else:
        problem.notes.append("升级保留率均取 1.0（没有历年在校生数据）")


def _apply_indicator_ceilings(problem: ZoningProblem, dataset) -> None:
    """``keep_indicators``: schools meeting the area standards keep meeting them (issue 7)."""
    from zoning.indicators import enrollment_ceilings

    schools = pd.DataFrame(dataset.schools.drop(columns="geometry"))
    ceil = enrollment_ceilings(schools)
    cap = np.full(problem.n_schools, np.inf)
    sidx = problem.school_index()
    for r in ceil.itertuples():
        if str(r.school_id) in sidx and pd.notna(r.max_students):
            cap[sidx[str(r.school_id)]] = float(r.max_students)
    problem.ceiling = cap
    problem.notes.append(f"保持生均面积指标：{int(np.isfinite(cap).sum())} 所学校的在校生不超过其校舍与运动场面积允许的人数")


@contextlib.contextmanager
def _ticker(progress, label: str, every: float = 5.0):
    """Report elapsed time every few seconds while a blocking step (the solver) runs."""
    if progress is None:
        yield
        return
    stop = threading.Event()
    t0 = time.perf_counter()

    def tick():
        while not stop.wait(every):
            progress(f"{label}：已用 {time.perf_counter() - t0:.0f} 秒")

    th = threading.Thread(target=tick, daemon=True)
    th.start()
    try:
        yield
    finally:
        stop.set()
        th.join()


def _say(progress, text):
    log.info(text)
    if progress:
        progress(text)


def assignments_table(problem: ZoningProblem, zones: ZoneMaps, scenario: Scenario) -> pd.DataFrame:
    """assignments.csv: one row per unit, level and zone map (``change_year`` = its first intake)."""
    rows = []
    for level in scenario.levels:
        grades = [g - 1 for g in policy.LEVEL_GRADES[level]]
        students = problem.residents[:, grades].sum(axis=1)
        prev = problem.current[level]
        for start, arr in zones.maps[level]:
            if start < scenario.intake_year:
                continue
            for u in range(problem.n_units):
                s = arr[u]
                rows.append({
                    "unit_id": problem.unit_ids[u],
                    "unit_name": problem.unit_names[u],
                    "level": level,
                    "school_id": problem.school_ids[s] if s >= 0 else "",
                    "school_name": problem.school_names[s] if s >= 0 else "",
                    "previous_school_id": problem.school_ids[prev[u]] if prev[u] >= 0 else "",
                    "students": int(round(students[u])),
                    "change_year": int(start),
                })
    return pd.DataFrame(rows, columns=["unit_id", "unit_name", "level", "school_id", "school_name",
                                       "previous_school_id", "students", "change_year"])


def final_assignments(assignments: pd.DataFrame) -> pd.DataFrame:
    """The last zone map's row of each unit and level (the zones as finally drawn)."""
    return assignments.sort_values("change_year").drop_duplicates(["unit_id", "level"], keep="last")


def read_assignments(folder: Path) -> pd.DataFrame:
    """Read a proposal's ``assignments.csv`` (maybe edited by hand), checking every row.

    Raises
    ------
    PlanError
        When the folder has no ``assignments.csv``.
    DataError
        With every problem (file, row as Excel shows it, column, fix) of an unreadable, truncated
        or mistyped file.
    """
    path = Path(folder) / "assignments.csv"
    if not path.is_file():
        raise PlanError(f"{folder} 中没有 assignments.csv：这不是一个方案文件夹（请给出 zoning plan 写出的文件夹）")
    df = _read_assignment_csv(path)
    problems = _assignment_problems(df, path.name)
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    df["students"] = pd.to_numeric(df["students"]).astype(int)
    df["change_year"] = pd.to_numeric(df["change_year"]).astype(int)
    return df


def _read_assignment_csv(path: Path) -> pd.DataFrame:
    fix = "用 zoning plan 重新生成该方案，或在 Excel 中打开、核对后另存为 CSV（UTF-8）"
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError([Problem(path.name, None, None, None, "文件不是 UTF-8 编码的文本", fix)]) from None
    except pd.errors.EmptyDataError:
        raise DataError([Problem(path.name, None, None, None, "文件是空的", fix)]) from None
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))
        row = int(line.group(1)) if line else None
        raise DataError([Problem(path.name, row, None, None, "这一行的列数与表头不符（文件可能被截断或手工改坏）",
                                 fix)]) from None


def _assignment_problems(df: pd.DataFrame, name: str) -> list[Problem]:
    """Every problem of an assignments table; rows are numbered as Excel shows them (header = 1)."""
    missing = [c for c in ASSIGNMENT_COLUMNS if c not in df.columns]
    if missing:
        return [Problem(name, 1, None, ", ".join(missing), f"缺少列：{', '.join(missing)}",
                        "表头应包含 unit_id, level, school_id, students, change_year（用 zoning plan 重新生成）")]
    if df.empty:
        return [Problem(name, None, None, None, "文件只有表头，没有任何划片行", "用 zoning plan 重新生成该方案")]
    problems = []
    for i, r in enumerate(df.itertuples(index=False)):
        row, uid = i + 2, str(r.unit_id).strip() or None
        if uid is None:
            problems.append(Problem(name, row, None, "unit_id", "单元代码为空", "填写该行的单元代码（unit_id）"))
        if r.level not in PLAN_LEVELS:
            problems.append(Problem(name, row, uid, "level", f"学段取值未知：“{r.level}”",
                                    "学段应为 primary（小学）或 junior（初中）"))
        if not re.fullmatch(r"\d+", str(r.students).strip()):
            problems.append(Problem(name, row, uid, "students", f"学生数不是非负整数：“{r.students}”",
                                    "填写整数人数（文件可能被截断：请重新生成）"))
        if not re.fullmatch(r"\d{4}", str(r.change_year).strip()):
            problems.append(Problem(name, row, uid, "change_year", f"调整年份不是四位年份：“{r.change_year}”",
                                    "填写四位年份，例如 2023"))
    return problems


def _limit_failures(results) -> list:
    out = []
    for r in results:
        if r.name in LIMITS:
            out += [dict(f, limit=r.name) for f in r.failures]
    return out


def run_plan(data_dir=None, out_dir=None, scenario_path=None, coords=None, mapping=None,
             overrides=None, progress=None, write_map=True) -> PlanOutcome:
    """``zoning plan``: optimise, check independently, write the proposal folder.

    The output folder is checked first (:func:`geodata.outputs.check_output_target`): it is never
    the data folder, a folder holding an input or a folder of the user's, and it must be writable.
    """
    out_dir = Path(out_dir) if out_dir else default_plan_folder(data_dir)
    check_output_target(out_dir, plan_inputs(data_dir, scenario_path, mapping), kind="folder")
    loaded = load(data_dir, scenario_path, coords, mapping, overrides, progress)
    problem, scenario, dataset = loaded.problem, loaded.scenario, loaded.dataset

    findings = presolve(problem, scenario)
    for f in findings:
        _say(progress, f"预检：{f['detail']}；{f['fix']}")

    _say(progress, f"建立模型（{problem.n_units} 个单元、{problem.n_schools} 所学校）……")
    model = build_model(problem, scenario, progress=lambda t: _say(progress, t))
    _say(progress, f"模型：{model.prob.numVariables()} 个变量、{model.prob.numConstraints()} 个约束；求解中"
                   f"（时限 {scenario.solver.time_limit:.0f} 秒，间隙 {scenario.solver.gap:.2%}）……")

    from geodata.outputs import proposal_folder

    with proposal_folder(out_dir) as tmp:
        tmp = Path(tmp)
        with _ticker(progress, "求解中"):
            solution = solve_model(model, log_path=tmp / "solver.log", lp_path=tmp / "model.lp")
        res = solution.result
        if res.status not in ("optimal", "feasible"):
            why = "；".join(f["detail"] + "，" + f["fix"] for f in findings) or "求解器未找到可行方案"
            raise NoPlanError(f"没有得到方案（{res.status}，{res.message}）。{why}")
        assignments = assignments_table(problem, solution.zones, scenario)
        results, zones, proj, led = run_checks(problem, assignments, scenario)
        bad = structural_failures(results)
        if bad:
            raise NoPlanError("独立检查未通过，方案未写出：\n" + format_results(bad))
        violations = explain_violations(problem, _limit_failures(results), led)
        before = make_ledger(problem, project(problem, ZoneMaps.current(problem), scenario.years))
        metrics = _metrics(problem, scenario, solution, zones, led, before, violations, dataset, findings)
        from geodata.outputs import compactness

        comp = compactness(dataset, final_assignments(assignments))
        metrics["compactness"] = comp["mean"]
        metrics["compactness_by_level"] = {k: v for k, v in comp.items() if k != "mean"}
        _write_tables(tmp, assignments, led, metrics, results)
        _write_run(tmp, loaded, scenario, coords, mapping, _timings(res))
        _write_geo(tmp, loaded, assignments, led, scenario)
        _write_indicators(tmp, dataset, led)
        if write_map:
            _write_map(tmp)
    summary = plan_summary(problem, scenario, metrics, before, led, results, solve_seconds=res.seconds)
    return PlanOutcome(out_dir, metrics, summary, results, findings, solve_seconds=res.seconds)


def default_plan_folder(data_dir=None) -> Path:
    """``proposals/sample`` for the bundled sample, ``proposals/plan`` otherwise."""
    return Path("proposals") / ("sample" if data_dir is None else "plan")


def sample_folder() -> Path:
    from geodata.sample import sample_dir

    return Path(sample_dir())


def plan_inputs(data_dir=None, scenario_path=None, mapping=None, proposals=(), files=()) -> Inputs:
    """What a command reads, for the output guard: the data folder (or the bundled sample), the
    data folders the given proposals record, the proposal folders, the scenario, mapping and other
    single files."""
    proposals = [Path(f) for f in proposals if f is not None]
    base = command_inputs(data_dir, proposals=proposals, files=(scenario_path, mapping, *files),
                          sample_dir=sample_folder())
    return Inputs(base.folders + tuple(recorded_sources(proposals)), base.files, base.proposals)


def guard_output(out, kind: str, data_dir=None, proposals=(), files=(), scenario_path=None, mapping=None,
                 suffix: str | None = None) -> Path:
    """Check, before any work, that writing ``out`` destroys nothing of the user's and can succeed
    (:func:`geodata.outputs.check_output_target` with this command's inputs)."""
    inputs = plan_inputs(data_dir, scenario_path, mapping, proposals=proposals, files=files)
    return check_output_target(out, inputs, kind=kind, suffix=suffix)


def prepare_output_folder(out) -> Path:
    """Create and mark an output folder that a command fills file by file (sweep, publish)."""
    return mark_output_folder(out)


def cache_folder() -> Path:
    """The user's cache folder (road distances)."""
    return default_cache_dir(None)


def recorded_sources(proposals) -> list[Path]:
    """The data folders that the proposals' ``run.json`` record (those that exist).

    Only widens what the output guard protects: an unreadable ``run.json`` is reported by the
    command that reads it, not here.
    """
    out = []
    for folder in proposals:
        path = Path(folder) / "run.json"
        try:
            run = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        source = run.get("source") if isinstance(run, dict) else None
        if isinstance(source, str) and source != "sample" and Path(source).is_dir():
            out.append(Path(source))
    return out


_SECONDS = re.compile(r"，[\d.]+ 秒$")


def _timings(res) -> dict:
    """What varies from run to run (kept out of metrics.json): wall-clock times, the repair's log line."""
    return {"solve_seconds": round(res.seconds, 2), "repair": res.repair or None}


def _metrics(problem, scenario, solution, zones, led, before, violations, dataset, findings) -> dict:
    res = solution.result
    m = plan_metrics(problem, zones, scenario)
    m.update({
        "status": res.status,
        "status_zh": {"optimal": "最优", "feasible": "可行（未证明最优）"}.get(res.status, res.status),
        "gap": res.gap,
        "objective": res.objective,
        "bound": res.bound,
        "repair": _SECONDS.sub("", res.repair) if res.repair else None,
        "objective_parts": solution.objective_parts,
        "violations": violations,
        "presolve": findings,
        "notes": list(dict.fromkeys(problem.notes + solution.notes)),
        "over_limits_before": over_limit_summary(before),
        "over_limits_after": over_limit_summary(led),
        "first_year_within_limits": {
            r.name: (None if pd.isna(r.first_year_within_limits) else int(r.first_year_within_limits))
            for r in led.drop_duplicates("school_id").itertuples()
        },
        "is_sample": bool(getattr(dataset, "is_sample", False)),
        "base_year": scenario.base_year,
        "target_year": scenario.target_year,
        "horizon": scenario.horizon,
        "levels": list(scenario.levels),
        "compactness": None,
    })
    return m


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o))


def write_json(path: Path, data) -> None:
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")


def _write_tables(folder: Path, assignments, led, metrics, results) -> None:
    write_csv(assignments, folder / "assignments.csv")
    write_csv(led, folder / "ledger.csv")
    write_json(folder / "metrics.json", metrics)
    (folder / "checks.txt").write_text(format_results(results) + "\n", encoding="utf-8")


def loaded_name(folder: Path) -> str:
    """The proposal's final folder name (``folder`` is its temporary sibling while being written)."""
    from geodata.outputs import final_name

    return final_name(folder)


def _write_run(folder: Path, loaded: Loaded, scenario: Scenario, coords=None, mapping=None,
               timings: dict | None = None) -> None:
    from geodata.dataset import file_hashes
    from cli import _version
    import pulp

    ds = loaded.dataset
    run = {
        "name": loaded_name(folder),
        "tool_version": _version(),
        "created": _dt.date.today().isoformat(),
        "source": "sample" if ds.is_sample else str(Path(ds.source).resolve()),
        "inputs": file_hashes(ds),
        "coords": coords,
        "mapping": None if mapping is None else str(Path(mapping).resolve()),
        "scenario": scenario.public_dict(),
        "solver": {"name": scenario.solver.name, "time_limit": scenario.solver.time_limit,
                   "gap": scenario.solver.gap, "log": "solver.log", "pulp": pulp.__version__},
        "model": "model.lp",
        "python": platform.python_version(),
        "distance_source": getattr(loaded.tables, "meta", {}).get("distance_source", "straight"),
        "timings": timings or {},
    }
    write_json(folder / "run.json", run)


def _write_geo(folder: Path, loaded: Loaded, assignments, led, scenario) -> None:
    from geodata.outputs import write_geo_outputs

    first = scenario.target_year if scenario.target_year in set(led["year"]) else int(led["year"].max())
    m = led[led["year"] == first]
    metrics = []
    for r in m.itertuples():
        for level in policy.SERVES[r.level]:
            metrics.append({"school_id": r.school_id, "level": level, "students": r.students,
                            "classes": r.classes, "largest_class": r.largest_class, "utilisation": r.utilisation})
    final = final_assignments(assignments)
    write_geo_outputs(folder, loaded.dataset, final, pd.DataFrame(metrics))
    ds = loaded.dataset
    if getattr(ds, "roads", None) is not None and len(ds.roads):
        from geodata.network import assignment_routes

        routes = assignment_routes(ds.units, ds.schools, ds.roads, final)
        if len(routes):
            routes.to_file(folder / "routes.geojson", driver="GeoJSON")


def _write_indicators(folder: Path, dataset, led) -> None:
    from zoning.indicators import county_coefficients, proposal_indicators

    schools = pd.DataFrame(dataset.schools.drop(columns="geometry"))
    ind = proposal_indicators(schools, led)
    write_csv(ind, folder / "indicators.csv")
    write_csv(county_coefficients(ind), folder / "coefficients.csv")


def _write_map(folder: Path) -> None:
    from maps.planner import write_planner_map

    write_planner_map(folder, folder / "map.html")


def plan_summary(problem, scenario, metrics, before, after, results, solve_seconds=None) -> str:
    """Short Chinese summary of a plan."""
    L = []
    if metrics.get("is_sample"):
        L.append("【示例数据：按平罗县概况虚构的示意数据，非官方数据】")
    gap = metrics.get("gap")
    L.append(f"求解状态：{metrics['status_zh']}" + (f"，已证明间隙 {gap:.2%}" if gap is not None else "")
             + ("" if solve_seconds is None else f"，用时 {solve_seconds:.1f} 秒"))
    if metrics.get("repair"):
        L.append(f"求解器到时限未证明间隙，已做{metrics['repair']}（详见 solver.log）")
    yrs = [y for y in scenario.years if y >= scenario.intake_year]
    def over(led, y):
        r = led[(led["year"] == y) & (led["over_size_limit"] | led["over_class_limit"] | led["over_classrooms"])]
        return "、".join(r["name"]) or "无"
    L.append(f"超限学校（现行片区 → 新方案），{scenario.base_year} 年为基年：")
    L.append(f"  {scenario.base_year}：{over(before, scenario.base_year)}")
    for y in yrs:
        L.append(f"  {y}：{over(before, y)} → {over(after, y)}")
    L.append(f"新生改变学校 {metrics['students_moved']} 人（{metrics['units_moved']} 个单元）；"
             f"平均上学距离 {(metrics['mean_distance_m'] or 0) / 1000:.2f} 公里，最远 {(metrics['max_distance_m'] or 0) / 1000:.2f} 公里")
    for level, v in metrics.get("by_level", {}).items():
        if v.get("mean_distance_m") is None:
            continue
        r = policy.SERVICE_RADIUS_M[level]
        L.append(f"  {policy.LEVEL_NAMES_ZH[level]}：平均 {v['mean_distance_m'] / 1000:.2f} 公里，最远 {v['max_distance_m'] / 1000:.2f} 公里；"
                 + (f"城区 {r} 米服务半径内 {v['within_radius_share']:.0%}" if v['within_radius_share'] is not None else "")
                 + (f"，乡村 30 分钟内 {v['within_30min_share']:.0%}（{'步行' if level == 'primary' else '乘车'}估算）"
                    if v['within_30min_share'] is not None else ""))
    base_over = before[(before["year"] == scenario.base_year) & (before["over_size_limit"] | before["over_class_limit"])]
    for r in base_over.itertuples():
        fy = after[after["school_id"] == r.school_id]["first_year_within_limits"].iloc[0]
        L.append(f"  {r.name}：" + (f"{int(fy)} 年起各项限额均达标" if not pd.isna(fy) else f"到 {scenario.horizon} 年仍未全部达标"))
    watch = sorted(set(before.loc[before["over_size_limit"] | before["over_class_limit"] | before["over_classrooms"], "school_id"])
                   | set(after.loc[after["over_size_limit"] | after["over_class_limit"] | after["over_classrooms"], "school_id"]))
    if watch:
        L.append("逐年台账（现行片区下或新方案下曾超限的学校，新方案）：")
        L.extend("  " + line for line in ledger_text(after, watch).splitlines())
    if metrics["violations"]:
        L.append("仍未满足的限额：")
        for v in metrics["violations"]:
            L.append(f"  - {v['detail']}。建议：{v['fix']}")
    else:
        L.append(f"自 {scenario.intake_year} 年起新开班级均不超过班额，{scenario.target_year}–{scenario.horizon} 年各校均在校额与教室限额内。")
    ok = all(r.ok for r in results if r.name not in LIMITS)
    L.append("独立检查：" + ("全部结构检查通过（每个单元恰好一所学校、人数守恒、片区连片、距离上限、锁定、障碍）" if ok else "有未通过项"))
    for f in metrics.get("presolve", []):
        if f.get("kind") == "lock_beyond_rules":
            L.append(f"注：{f['detail']}；{f['fix']}")
    for n in metrics.get("notes", [])[:10]:
        L.append(f"注：{n}")
    return "\n".join(L)


# ------------------------------------------------------------------------------ check-plan, project
RUN_FIX = "用 zoning plan 重新生成该方案（run.json 记录了方案所用的数据文件夹、坐标系和情景设置）"


def read_run(proposal_dir) -> dict:
    """A proposal's ``run.json``; a missing or unreadable one is a :class:`DataError` naming it."""
    path = Path(proposal_dir) / "run.json"
    if not path.is_file():
        raise DataError([Problem("run.json", None, None, None,
                                 f"方案文件夹 {proposal_dir} 中没有 run.json，无法知道方案依据的数据", RUN_FIX)])
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        row = getattr(exc, "lineno", None)
        raise DataError([Problem("run.json", row, None, None, f"run.json 已损坏，无法读取（{exc}）", RUN_FIX)]) from None
    if not isinstance(run, dict) or not isinstance(run.get("scenario"), dict) or not run.get("source"):
        raise DataError([Problem("run.json", None, None, None, "run.json 缺少数据来源（source）或情景设置（scenario）",
                                 RUN_FIX)])
    return run


def recorded_data_dir(run: dict, data_dir=None):
    """The data folder of a proposal: ``data_dir`` when given, else the one ``run.json`` records
    (None for the bundled sample)."""
    if data_dir is not None:
        return Path(data_dir)
    source = run["source"]
    if source == "sample":
        return None
    if not Path(source).is_dir():
        raise DataError([Problem("run.json", None, None, "source",
                                 f"方案记录的数据文件夹 {source} 不存在（可能已移动或改名）",
                                 "用 --data 指定该方案所用的数据文件夹")])
    return Path(source)


def scenario_from_run(run: dict) -> Scenario:
    """The scenario a proposal was made with (``run.json``'s ``scenario``, as ``Scenario.to_dict`` wrote it)."""
    d = _without_none(run["scenario"])
    schools = {"open": d.pop("open_schools", {}) or {}, "close": d.pop("close_schools", {}) or {}}
    if any(schools.values()):
        d["schools"] = {k: v for k, v in schools.items() if v}
    try:
        return scenario_from_dict(d, source="run.json")
    except (TypeError, AttributeError) as exc:
        raise ScenarioError([f"run.json 中的情景设置无法读取（{exc}）；{RUN_FIX}"], "run.json") from None


def _without_none(d: dict) -> dict:
    """A settings table without its unset (None) values, at every depth (TOML has no null)."""
    return {k: (_without_none(v) if isinstance(v, dict) else v) for k, v in d.items() if v is not None}


def changed_inputs(recorded: dict, dataset) -> list[str]:
    """Names of the input files whose content differs from the hashes a proposal recorded."""
    from geodata.dataset import file_hashes

    now = file_hashes(dataset)
    names = sorted(set(recorded) | set(now))
    return [n for n in names if recorded.get(n) != now.get(n)]


def _input_warnings(run: dict, dataset, data_dir) -> list[str]:
    changed = changed_inputs(run.get("inputs") or {}, dataset)
    if not changed:
        return []
    files = "、".join(str(Path(dataset.files[n]).name) if n in dataset.files else f"{n}（方案生成时有，现在没有）"
                     for n in changed)
    where = f"数据文件夹 {data_dir}" if data_dir is not None else "内置示例数据"
    return [f"{where}与方案生成时不同，以下文件已改变：{files}。检查结果按现在的数据计算"]


def check_plan(proposal_dir: Path, data_dir=None, coords=None, mapping=None) -> CheckPlanOutcome:
    """``zoning check-plan``: run the independent checks on a saved (maybe hand-edited) proposal.

    The proposal is checked against the data folder, coordinate choice, mapping and scenario its
    ``run.json`` records (``data_dir``, ``coords``, ``mapping`` override them); input files that
    changed since the plan was made are named in the warnings.
    """
    proposal_dir = Path(proposal_dir)
    run = read_run(proposal_dir)
    data_dir = recorded_data_dir(run, data_dir)
    coords = coords or run.get("coords")
    mapping = mapping or _recorded_mapping(run)
    scenario = scenario_from_run(run)
    assignments = read_assignments(proposal_dir)
    loaded = load(data_dir, None, coords, mapping, scenario=scenario)
    results, zones, proj, led = run_checks(loaded.problem, assignments, loaded.scenario)
    source = "内置示例数据" if data_dir is None else str(data_dir)
    return CheckPlanOutcome(results, led, _input_warnings(run, loaded.dataset, data_dir), source)


def _recorded_mapping(run: dict):
    mapping = run.get("mapping")
    if mapping and not Path(mapping).is_file():
        raise DataError([Problem("run.json", None, None, "mapping", f"方案记录的列名对照文件 {mapping} 不存在",
                                 "用 --mapping 指定列名对照文件")])
    return mapping


def run_project(data_dir=None, zones_dir=None, out=None, scenario_path=None, coords=None, mapping=None):
    """``zoning project``: the ledger for the current zones or a proposal's (same code as plan)."""
    scenario = None
    if zones_dir is not None:
        zones_dir = Path(zones_dir)
        run = read_run(zones_dir)
        data_dir = recorded_data_dir(run, data_dir)
        coords = coords or run.get("coords")
        mapping = mapping or _recorded_mapping(run)
        scenario = None if scenario_path is not None else scenario_from_run(run)
    loaded = load(data_dir, scenario_path, coords, mapping, scenario=scenario)
    scenario, problem = loaded.scenario, loaded.problem
    if zones_dir is not None:
        from zoning.checks import zones_from_assignments

        assignments = read_assignments(zones_dir)
        levels = [lv for lv in scenario.levels if lv in set(assignments["level"])]
        zones = zones_from_assignments(problem, assignments, levels)
    else:
        zones = ZoneMaps.current(problem)
    proj = project(problem, zones, scenario.years)
    led = make_ledger(problem, proj)
    led.attrs["notes"] = [n for n in problem.notes if "保留率" in n or "age_" in n]
    led.attrs["plan_over_intake"] = plan_against_intake(led, getattr(loaded.dataset, "plan", None))
    if out:
        write_ledger_file(led, Path(out))
    return led, loaded.dataset


def write_ledger_file(led: pd.DataFrame, out: Path) -> Path:
    """Write a ledger CSV atomically (temporary name, then rename) through :mod:`geodata.tabular`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        write_csv(led, tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def plan_against_intake(ledger: pd.DataFrame, plan: pd.DataFrame | None) -> pd.DataFrame:
    """The enrollment plan (招生计划) against each school's intake cap in the ledger.

    One row per plan row of an entering grade (1 or 7) whose planned classes or students exceed the
    classes and seats the school can offer that year (``intake_classes`` / ``intake_seats``).
    """
    cols = ["school_id", "name", "year", "grade", "planned_classes", "intake_classes",
            "planned_students", "intake_seats"]
    if plan is None or len(plan) == 0:
        return pd.DataFrame(columns=cols)
    p = pd.DataFrame(plan).copy()
    for c in ("year", "grade", "planned_classes", "planned_students"):
        p[c] = pd.to_numeric(p.get(c), errors="coerce")
    p["school_id"] = p["school_id"].astype(str)
    p = p[p["grade"].isin([1, 7])]
    m = p.merge(ledger[["school_id", "name", "year", "intake_classes", "intake_seats"]], on=["school_id", "year"])
    over = (m["planned_classes"] > m["intake_classes"]) | (m["planned_students"] > m["intake_seats"])
    return m.loc[over, cols].reset_index(drop=True)


def baseline_ledger(data_dir=None, scenario_path=None, coords=None, mapping=None) -> pd.DataFrame:
    """The ledger of the current zones (for indicators in years other than the base year)."""
    led, _ = run_project(data_dir, None, None, scenario_path, coords, mapping)
    return led


def _pad(text: str, width: int, right: bool = False) -> str:
    """Pad to a display width (CJK characters count two columns)."""
    import unicodedata

    w = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    fill = " " * max(width - w, 0)
    return fill + text if right else text + fill


def ledger_text(led: pd.DataFrame, schools=None) -> str:
    """A compact Chinese table of a ledger (school × year: students/classes/largest class, flags)."""
    if schools:
        led = led[led["school_id"].isin(schools) | led["name"].isin(schools)]
    lines = []
    years = sorted(led["year"].unique())
    lines.append(_pad("学校", 18) + "".join(_pad(str(y), 16, True) for y in years) + "  达标年份")
    for sid, g in led.groupby("school_id", sort=False):
        g = g.set_index("year")
        cells = []
        for y in years:
            r = g.loc[y]
            flag = ("校" if r.over_size_limit else "") + ("班" if r.over_class_limit else "") + ("室" if r.over_classrooms else "")
            cells.append(_pad(f"{r.students}/{r.classes}/{r.largest_class}{('!' + flag) if flag else ''}", 16, True))
        fy = g["first_year_within_limits"].iloc[0]
        lines.append(_pad(str(g["name"].iloc[0]), 18) + "".join(cells) + f"  {'' if pd.isna(fy) else int(fy)}")
    lines.append("（人数/班数/最大班额；!校=超校额，!班=超班额，!室=超教室数）")
    return "\n".join(lines)
