"""``zoning plan``: data folder -> model -> solve -> independent checks -> proposal folder -> map.

The proposal's files are written by :mod:`geodata.proposal` (tables, ``metrics.json``,
``run.json``, ``solver.log``, ``model.lp``, ``indicators.csv``, ``coefficients.csv``,
``routes.geojson``) and :mod:`geodata.outputs` (layers, zone table) inside one atomic
:func:`geodata.outputs.proposal_folder`; the planner map is drawn by :mod:`maps.planner`. The model
(:mod:`zoning`) writes nothing: it returns the solver's log as text.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import platform
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pulp

from geodata.dataset import file_hashes
from geodata.network import assignment_routes
from geodata.outputs import compactness, final_name, proposal_folder, write_geo_outputs
from geodata.proposal import (MODEL_LP, SOLVER_LOG, final_assignments, write_assignments, write_checks, write_coefficients,
                              write_indicators, write_ledger, write_metrics, write_model_lp, write_routes, write_run,
                              write_solver_log)
from maps.planner import write_planner_map
from pipelines import NoPlanError, PlanError, tool_version
from pipelines.inputs import Loaded, guard_output, load, reconciliation, say
from pipelines.project import ledger_text
from zoning import policy
from zoning.checks import LIMITS, format_results, limit_failures, run_checks, structural_failures
from zoning.explain import cap_blocks, explain_violations, presolve
from zoning.indicators import county_coefficients, proposal_indicators
from zoning.metrics import over_limit_summary, plan_metrics
from zoning.model import Solution, build_model, current_mended, current_repaired, solve_model
from zoning.solver import SolveResult
from zoning.pairs import Concerns, change_reason, school_concerns
from zoning.problem import ZoningProblem
from zoning.projection import ZoneMaps, ledger as make_ledger, project, steady_state
from zoning.scenario import Scenario

log = logging.getLogger(__name__)

__all__ = ["PlanError", "NoPlanError", "PlanOutcome", "run_plan", "plan_summary", "assignments_table",
           "final_assignments", "default_plan_folder", "load"]


@dataclass
class PlanOutcome:
    out_dir: Path
    metrics: dict
    summary: str
    checks: list
    presolve: list = field(default_factory=list)
    solve_seconds: float | None = None


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


def assignments_table(problem: ZoningProblem, zones: ZoneMaps, scenario: Scenario,
                      concerns: Concerns | None = None, candidates: dict | None = None) -> pd.DataFrame:
    """assignments.csv: one row per unit, level and zone map (``change_year`` = its first intake);
    ``reason`` says why a unit changed school (:func:`zoning.pairs.change_reason`), "" where it
    did not. ``concerns`` (the model's) is computed from the current zones when not given;
    ``candidates`` (level -> the model's pairs) tells a unit whose current school was no candidate."""
    concerns = concerns if concerns is not None else school_concerns(problem, scenario)
    if candidates is None:
        candidates = {lv: problem.pairs[problem.pairs["level"] == lv] for lv in scenario.levels}
    known = {(lv, u, s) for lv, p in candidates.items() for u, s in zip(p["unit"].tolist(), p["school"].tolist())}
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
                    "reason": change_reason(problem, concerns, int(prev[u]), int(s),
                                            (level, u, int(prev[u])) in known),
                })
    return pd.DataFrame(rows, columns=["unit_id", "unit_name", "level", "school_id", "school_name",
                                       "previous_school_id", "students", "change_year", "reason"])


def run_plan(data_dir=None, out_dir=None, scenario_path=None, coords=None, mapping=None,
             overrides=None, progress=None, write_map=True) -> PlanOutcome:
    """``zoning plan``: optimise, check independently, write the proposal folder.

    The output folder is checked first (:func:`geodata.outputs.check_output_target`): it is never
    the data folder, a folder holding an input or a folder of the user's, and it must be writable.
    """
    out_dir = Path(out_dir) if out_dir else default_plan_folder(data_dir)
    guard_output(out_dir, "folder", data_dir, scenario_path=scenario_path, mapping=mapping)
    loaded = load(data_dir, scenario_path, coords, mapping, overrides, progress)
    problem, scenario, dataset = loaded.problem, loaded.scenario, loaded.dataset

    findings = presolve(problem, scenario)
    for f in findings:
        say(progress, f"预检：{f['detail']}；{f['fix']}")

    say(progress, f"建立模型（{problem.n_units} 个单元、{problem.n_schools} 所学校）……")
    model = build_model(problem, scenario, progress=lambda t: say(progress, t))
    say(progress, f"模型：{model.prob.numVariables()} 个变量、{model.prob.numConstraints()} 个约束；求解中"
                   f"（时限 {scenario.solver.time_limit:.0f} 秒，间隙 {scenario.solver.gap:.2%}）……")

    with proposal_folder(out_dir) as tmp:
        tmp = Path(tmp)
        with _ticker(progress, "求解中"):
            plan = whole_plan(model, progress=lambda t: say(progress, t))
        solution, assignments, results, zones, proj, led = (plan.solution, plan.assignments, plan.results,
                                                             plan.zones, plan.projection, plan.ledger)
        write_solver_log(tmp, solution.log)
        write_model_lp(tmp, model.prob)
        res = solution.result
        rec = reconciliation(loaded, led)
        violations = explain_violations(problem, limit_failures(results), led)
        before = make_ledger(problem, project(problem, ZoneMaps.current(problem), scenario.years))
        metrics = _metrics(problem, scenario, solution, zones, led, before, violations, dataset, findings)
        metrics["steady_state"] = steady_metrics(problem, scenario, zones)
        metrics["steady_state"]["why"] = cap_blocks(problem, scenario, zones, metrics["steady_state"])
        metrics["caps_blocking"] = [w for w in metrics["steady_state"]["why"] if w["cap_km"] is not None]
        metrics["network"] = dict(getattr(loaded.tables, "meta", {}).get("network") or {})
        metrics["plan_source"] = plan.source
        metrics["rejected"] = plan.rejected
        metrics["change_reasons"] = reason_counts(assignments)
        comp = compactness(dataset, final_assignments(assignments))
        metrics["compactness"] = comp["mean"]
        metrics["compactness_by_level"] = {k: v for k, v in comp.items() if k != "mean"}
        write_assignments(tmp, assignments)
        write_ledger(tmp, led)
        write_metrics(tmp, metrics)
        write_checks(tmp, format_results(results))
        write_run(tmp, run_record(tmp, loaded, coords, mapping, _timings(res), rec))
        write_geo_files(tmp, loaded, assignments, led, scenario)
        write_indicator_files(tmp, dataset, led)
        if write_map:
            write_planner_map(tmp, tmp / "map.html")
    summary = plan_summary(problem, scenario, metrics, before, led, results, solve_seconds=res.seconds)
    summary += "\n" + "\n".join(rec.lines())
    return PlanOutcome(out_dir, metrics, summary, results, findings, solve_seconds=res.seconds)


@dataclass
class WholePlan:
    """A plan the independent checker passed (structurally), and where it came from.

    ``source``: ``solved`` (the model's own plan), ``current_repaired`` (the current zones,
    repaired by :func:`zoning.model.current_repaired`) or ``current`` (the current zones as they
    are, mended where a school is no candidate); ``rejected`` lists why each earlier try was
    refused (Chinese lines)."""

    solution: object
    assignments: pd.DataFrame
    results: list
    zones: ZoneMaps
    projection: object
    ledger: pd.DataFrame
    source: str = "solved"
    rejected: list = field(default_factory=list)


SOURCE_ZH = {"solved": "求解所得方案",
             "current_repaired": "由现行片区修补所得的方案（求解结果未通过独立检查或未在时限内得到）",
             "current": "现行片区（仅把不能再去原学校的单元划给最近的可选学校）"}


def _checked(model, solution):
    problem, scenario = model.problem, model.scenario
    assignments = assignments_table(problem, solution.zones, scenario, model.concerns, solution.pairs_used)
    results, zones, proj, led = run_checks(problem, assignments, scenario)
    return assignments, results, zones, proj, led, structural_failures(results)


def _refusal(label: str, bad) -> str:
    first = [f["detail"] for r in bad for f in r.failures[:2]]
    return f"{label}未通过独立检查：" + "；".join(first[:3])


def whole_plan(model, progress=None) -> WholePlan:
    """Always a plan, never an invalid one: the solved plan when the checker passes it; else (a
    split left after the cut rounds, the time up without a plan) the current zones repaired within
    the time left; else the current zones mended. Every try goes through the independent checker.
    Raises :class:`NoPlanError` only when even the current zones cannot pass (every reason given).
    """
    sc = model.scenario
    t0 = time.perf_counter()
    solution = solve_model(model, keep_log=True, progress=progress)
    rejected = []
    res = solution.result
    if res.status in ("optimal", "feasible"):
        a, results, zones, proj, led, bad = _checked(model, solution)
        if not bad:
            return WholePlan(solution, a, results, zones, proj, led, "solved")
        rejected.append(_refusal("求解所得方案", bad))
    else:
        rejected.append(f"求解器未得到方案（{res.status}，{res.message}）")
    say(progress, rejected[-1] + "；改用现行片区修补")
    limit = sc.solver.time_limit or 60.0
    deadline = max(t0 + limit, time.perf_counter() + min(10.0, 0.1 * limit))
    fallback = current_repaired(model, deadline, progress)
    if fallback is not None:
        fallback.log = (solution.log or "") + f"\n=== {fallback.result.repair} ===\n{fallback.result.log or ''}"
        fallback.notes = list(dict.fromkeys(list(fallback.notes) + rejected))
        a, results, zones, proj, led, bad = _checked(model, fallback)
        if not bad:
            return WholePlan(fallback, a, results, zones, proj, led, "current_repaired", rejected)
        rejected.append(_refusal("由现行片区修补的方案", bad))
    else:
        rejected.append("由现行片区修补：求解器连现行片区也未能求解")
    mended = Solution(current_mended(model), SolveResult("current", None, None, None, time.perf_counter() - t0,
                                                         sc.solver.name, "", None, "现行片区"),
                      [], {}, list(dict.fromkeys(list(model.notes) + rejected)),
                      {lv: model.maps[-1].pairs[lv] for lv in model.maps[-1].pairs}, solution.log)
    a, results, zones, proj, led, bad = _checked(model, mended)
    if not bad:
        return WholePlan(mended, a, results, zones, proj, led, "current", rejected)
    rejected.append(_refusal("现行片区", bad))
    raise NoPlanError("没有得到能通过独立检查的方案，方案未写出：\n" + "\n".join(rejected) + "\n"
                      + format_results(bad))


def steady_metrics(problem, scenario, zones) -> dict:
    """metrics.json ``steady_state``: each school's load once every grade has entered under the new
    zones (the horizon's intake), and the schools over a limit then."""
    st = steady_state(problem, zones, scenario.horizon, scenario.levels)
    over = st[st["over_size_limit"] | st["over_classrooms"]]
    return {"checked": True, "held_by_model": bool(scenario.steady_state), "intake_year": scenario.horizon,
            "over": over.to_dict("records"), "schools": st.to_dict("records")}


def reason_counts(assignments: pd.DataFrame) -> dict:
    """How many unit-levels changed school for each reason."""
    r = assignments.loc[assignments["reason"].astype(str) != "", "reason"]
    return {str(k): int(v) for k, v in r.value_counts().sort_index().items()}


def default_plan_folder(data_dir=None) -> Path:
    """``proposals/sample`` for the bundled sample, ``proposals/plan`` otherwise."""
    return Path("proposals") / ("sample" if data_dir is None else "plan")


_SECONDS = re.compile(r"，[\d.]+ 秒$")


def _timings(res) -> dict:
    """What varies from run to run (kept out of metrics.json): wall-clock times, the repair's log line."""
    return {"solve_seconds": round(res.seconds, 2), "repair": res.repair or None}


def _metrics(problem, scenario, solution, zones, led, before, violations, dataset, findings) -> dict:
    res = solution.result
    m = plan_metrics(problem, zones, scenario)
    m.update({
        "status": res.status,
        "status_zh": {"optimal": "最优", "feasible": "可行（未证明最优）",
                      "current_repaired": "求解结果不可用，采用由现行片区修补所得的方案",
                      "current": "求解结果不可用，采用现行片区（仅调整无法保留的单元）"}.get(res.status, res.status),
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


def run_record(folder: Path, loaded: Loaded, coords=None, mapping=None, timings: dict | None = None,
               rec=None) -> dict:
    """``run.json``: the proposal's provenance (inputs' hashes, scenario, solver, tool version)."""
    ds, scenario = loaded.dataset, loaded.scenario
    return {
        "name": final_name(folder),
        "tool_version": tool_version(),
        "created": _dt.date.today().isoformat(),
        "source": "sample" if ds.is_sample else str(Path(ds.source).resolve()),
        "inputs": file_hashes(ds),
        "coords": coords,
        "mapping": None if mapping is None else str(Path(mapping).resolve()),
        "scenario": scenario.public_dict(),
        "solver": {"name": scenario.solver.name, "time_limit": scenario.solver.time_limit,
                   "gap": scenario.solver.gap, "log": SOLVER_LOG, "pulp": pulp.__version__},
        "model": MODEL_LP,
        "python": platform.python_version(),
        "distance_source": getattr(loaded.tables, "meta", {}).get("distance_source", "straight"),
        "timings": timings or {},
        "shifted": list(getattr(ds, "shifted", []) or []),
        "reconciliation": rec.as_dict() if rec is not None else None,
        "network": dict(getattr(loaded.tables, "meta", {}).get("network") or {}),
    }


def write_geo_files(folder: Path, loaded: Loaded, assignments, led, scenario) -> None:
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
        routes = assignment_routes(ds.units, ds.schools, ds.roads, final)
        if len(routes):
            write_routes(folder, routes)


def write_indicator_files(folder: Path, dataset, led) -> None:
    schools = pd.DataFrame(dataset.schools.drop(columns="geometry"))
    ind = proposal_indicators(schools, led)
    write_indicators(folder, ind)
    write_coefficients(folder, county_coefficients(ind))


def plan_summary(problem, scenario, metrics, before, after, results, solve_seconds=None) -> str:
    """Short Chinese summary of a plan."""
    L = []
    if metrics.get("is_sample"):
        L.append("【示例数据：按平罗县概况虚构的示意数据，非官方数据】")
    gap = metrics.get("gap")
    L.append(f"求解状态：{metrics['status_zh']}" + (f"，已证明间隙 {gap:.2%}" if gap is not None else "")
             + ("" if solve_seconds is None else f"，用时 {solve_seconds:.1f} 秒"))
    if metrics.get("plan_source", "solved") != "solved":
        L.append(f"注意：写出的是{SOURCE_ZH[metrics['plan_source']]}，它已通过独立检查；原因：")
        L.extend(f"  - {r}" for r in metrics.get("rejected", []))
    elif metrics.get("repair"):
        L.append(f"求解器到时限未证明间隙，已做{metrics['repair']}（详见 solver.log）")
    yrs = [y for y in scenario.years if y >= scenario.intake_year]
    def over(led, y):
        r = led[(led["year"] == y) & (led["over_size_limit"] | led["over_class_limit"] | led["over_classrooms"])]
        return "、".join(r["name"]) or "无"
    L.append(f"超限学校（现行片区 → 新方案），{scenario.base_year} 年为基年：")
    L.append(f"  {scenario.base_year}：{over(before, scenario.base_year)}")
    for y in yrs:
        L.append(f"  {y}：{over(before, y)} → {over(after, y)}")
    by_year = metrics.get("students_moved_by_year") or {}
    if by_year:
        L.append("改变学校的新生（按入学年份，每届只计一次）：" + "，".join(f"{y} 年 {n} 人" for y, n in by_year.items()))
    L.append(f"新生改变学校 {metrics['students_moved']} 人（{len(by_year) or ''} 届新生合计，{metrics['units_moved']} 个单元）；"
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
    steady = metrics.get("steady_state") or {}
    if steady.get("checked"):
        over = steady.get("over", [])
        L.append(f"稳态（{steady['intake_year']} 年入学的新生升满各年级后）：" + (
            "各校均在校额与教室限额内" if not over else "仍超限 " + "，".join(
                f"{r['name']} {r['steady_students']} 人" + (f"（超校额 {r['over_by']} 人）" if r["over_by"] else "")
                + (f"（缺教室 {r['rooms_short']} 间）" if r["rooms_short"] else "") for r in over)))
        for w in steady.get("why", []):
            L.append(f"  原因：{w['detail']}")
    net = metrics.get("network") or {}
    if net:
        L.append(f"道路网：{net['components']} 个连通片；{net['units_on_network']}/{net['units']} 个单元、"
                 f"{net['schools_on_network']}/{net['schools']} 所学校在道路网上（其余按直线 × 1.3 估算距离）")
    reasons = metrics.get("change_reasons") or {}
    if reasons:
        L.append("调整原因：" + "，".join(f"{k} {v} 个单元学段" for k, v in reasons.items()))
    for n in metrics.get("notes", [])[:10]:
        L.append(f"注：{n}")
    return "\n".join(L)
