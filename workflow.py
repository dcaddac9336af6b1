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
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from zoning import policy
from zoning.checks import LIMITS, format_results, run_checks, structural_failures
from zoning.explain import explain_violations, presolve
from zoning.metrics import over_limit_summary, plan_metrics
from zoning.model import build_model, solve_model
from zoning.problem import ZoningProblem
from zoning.projection import ZoneMaps, ledger as make_ledger, project
from zoning.scenario import Scenario, load_scenario, with_overrides

log = logging.getLogger(__name__)


class PlanError(Exception):
    """A plan that cannot be produced or written; the message says why, in Chinese."""


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
    from geodata.network import default_cache_dir

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
        from geodata.errors import DataError, Problem

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
    path = Path(folder) / "assignments.csv"
    if not path.exists():
        raise PlanError(f"{folder} 中没有 assignments.csv：这不是一个方案文件夹")
    df = pd.read_csv(path, dtype={"unit_id": str, "school_id": str, "previous_school_id": str},
                     keep_default_na=False, encoding="utf-8-sig")
    missing = {"unit_id", "level", "school_id", "students", "change_year"} - set(df.columns)
    if missing:
        raise PlanError(f"{path} 缺少列：{', '.join(sorted(missing))}")
    df["students"] = pd.to_numeric(df["students"], errors="coerce").fillna(-1)
    return df


def _limit_failures(results) -> list:
    out = []
    for r in results:
        if r.name in LIMITS:
            out += [dict(f, limit=r.name) for f in r.failures]
    return out


def run_plan(data_dir=None, out_dir=None, scenario_path=None, coords=None, mapping=None,
             overrides=None, progress=None, write_map=True) -> PlanOutcome:
    """``zoning plan``: optimise, check independently, write the proposal folder."""
    loaded = load(data_dir, scenario_path, coords, mapping, overrides, progress)
    problem, scenario, dataset = loaded.problem, loaded.scenario, loaded.dataset
    out_dir = Path(out_dir) if out_dir else Path("proposals") / ("sample" if dataset.is_sample else "plan")

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
            raise PlanError(f"没有得到方案（{res.status}，{res.message}）。{why}")
        assignments = assignments_table(problem, solution.zones, scenario)
        results, zones, proj, led = run_checks(problem, assignments, scenario)
        bad = structural_failures(results)
        if bad:
            raise PlanError("独立检查未通过，方案未写出：\n" + format_results(bad))
        violations = explain_violations(problem, _limit_failures(results), led)
        before = make_ledger(problem, project(problem, ZoneMaps.current(problem), scenario.years))
        metrics = _metrics(problem, scenario, solution, zones, led, before, violations, dataset, findings)
        from geodata.outputs import compactness

        comp = compactness(dataset, final_assignments(assignments))
        metrics["compactness"] = comp["mean"]
        metrics["compactness_by_level"] = {k: v for k, v in comp.items() if k != "mean"}
        _write_tables(tmp, assignments, led, metrics, results)
        _write_run(tmp, loaded, scenario)
        _write_geo(tmp, loaded, assignments, led, scenario)
        _write_indicators(tmp, dataset, led)
        if write_map:
            _write_map(tmp)
    summary = plan_summary(problem, scenario, metrics, before, led, results)
    return PlanOutcome(out_dir, metrics, summary, results, findings)


def _metrics(problem, scenario, solution, zones, led, before, violations, dataset, findings) -> dict:
    res = solution.result
    m = plan_metrics(problem, zones, scenario)
    m.update({
        "status": res.status,
        "status_zh": {"optimal": "最优", "feasible": "可行（未证明最优）"}.get(res.status, res.status),
        "gap": res.gap,
        "objective": res.objective,
        "bound": res.bound,
        "solve_seconds": round(res.seconds, 2),
        "repair": res.repair or None,
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
    assignments.to_csv(folder / "assignments.csv", index=False, encoding="utf-8-sig")
    led.to_csv(folder / "ledger.csv", index=False, encoding="utf-8-sig")
    write_json(folder / "metrics.json", metrics)
    (folder / "checks.txt").write_text(format_results(results) + "\n", encoding="utf-8")


def loaded_name(folder: Path) -> str:
    """The proposal's final folder name (``folder`` is its temporary sibling while being written)."""
    from geodata.outputs import final_name

    return final_name(folder)


def _write_run(folder: Path, loaded: Loaded, scenario: Scenario) -> None:
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
        "scenario": scenario.to_dict(),
        "solver": {"name": scenario.solver.name, "time_limit": scenario.solver.time_limit,
                   "gap": scenario.solver.gap, "log": "solver.log", "pulp": pulp.__version__},
        "model": "model.lp",
        "python": platform.python_version(),
        "distance_source": getattr(loaded.tables, "meta", {}).get("distance_source", "straight"),
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
    try:
        from zoning.indicators import county_coefficients, proposal_indicators
    except ImportError:  # built in parallel; absent until then
        return
    schools = pd.DataFrame(dataset.schools.drop(columns="geometry"))
    ind = proposal_indicators(schools, led)
    ind.to_csv(folder / "indicators.csv", index=False, encoding="utf-8-sig")
    coef = county_coefficients(ind)
    coef.to_csv(folder / "coefficients.csv", index=False, encoding="utf-8-sig")


def _write_map(folder: Path) -> None:
    try:
        from maps.planner import write_planner_map
    except ImportError:
        return
    write_planner_map(folder, folder / "map.html")


def plan_summary(problem, scenario, metrics, before, after, results) -> str:
    """Short Chinese summary of a plan."""
    L = []
    if metrics.get("is_sample"):
        L.append("【示例数据：按平罗县概况虚构的示意数据，非官方数据】")
    gap = metrics.get("gap")
    L.append(f"求解状态：{metrics['status_zh']}" + (f"，已证明间隙 {gap:.2%}" if gap is not None else "")
             + f"，用时 {metrics['solve_seconds']} 秒")
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
    for n in metrics.get("notes", [])[:10]:
        L.append(f"注：{n}")
    return "\n".join(L)


# ------------------------------------------------------------------------------ check-plan, project
def check_plan(proposal_dir: Path, data_dir=None, coords=None, mapping=None):
    """``zoning check-plan``: run the independent checks on a saved (maybe hand-edited) proposal."""
    proposal_dir = Path(proposal_dir)
    run_path = proposal_dir / "run.json"
    scenario = None
    if run_path.exists():
        run = json.loads(run_path.read_text(encoding="utf-8"))
        if data_dir is None and run.get("source") not in (None, "sample"):
            data_dir = Path(run["source"])
        scenario = _scenario_from_run(run)
    assignments = read_assignments(proposal_dir)
    loaded = load(data_dir, None, coords, mapping, scenario=scenario)
    results, zones, proj, led = run_checks(loaded.problem, assignments, loaded.scenario)
    return results, led


def _scenario_from_run(run: dict) -> Scenario:
    from zoning.scenario import Caps, Solver, Weights

    d = dict(run.get("scenario") or {})
    sc = Scenario()
    for k, v in d.items():
        if k == "weights":
            sc.weights = Weights(**v)
        elif k == "solver":
            sc.solver = Solver(**v)
        elif k == "caps":
            sc.caps = {lv: Caps(**c) for lv, c in v.items()}
        elif k == "levels":
            sc.levels = tuple(v)
        elif hasattr(sc, k):
            setattr(sc, k, v)
    return sc


def run_project(data_dir=None, zones_dir=None, out=None, scenario_path=None, coords=None, mapping=None):
    """``zoning project``: the ledger for the current zones or a proposal's (same code as plan)."""
    if zones_dir is not None:
        zones_dir = Path(zones_dir)
        run = json.loads((zones_dir / "run.json").read_text(encoding="utf-8")) if (zones_dir / "run.json").exists() else {}
        if data_dir is None and run.get("source") not in (None, "sample"):
            data_dir = Path(run["source"])
        scenario = _scenario_from_run(run) if run else None
    else:
        scenario = None
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
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        led.to_csv(tmp, index=False, encoding="utf-8-sig")
        tmp.replace(out)
    return led, loaded.dataset


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
