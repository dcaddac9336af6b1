"""Neighbourhood repair of a plan (zoning/polish.py), with the real HiGHS."""
from __future__ import annotations

import time

import numpy as np
import pulp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import grid_problem
from pipelines.plan import assignments_table
from zoning import highs
from zoning.checks import run_checks, structural_failures
from zoning.model import _extract_zones, build_model, repair_plan, solve_model, zone_objective
from zoning.polish import broken_limits, model_columns, neighbourhood
from zoning.projection import ZoneMaps
from zoning.scenario import Scenario, ScenarioError, Solver, scenario_from_dict
from zoning.solver import SolveResult


def _knapsacks(n_rows: int, n_cols: int, seed: int):
    """Binary columns, ``≤`` rows with non-negative weights (all zeros is a solution), mixed costs."""
    rng = np.random.default_rng(seed)
    prob = pulp.LpProblem("k", pulp.LpMinimize)
    xs = [prob.add_variable(f"x{i:03d}", 0, 1, pulp.LpBinary) for i in range(n_cols)]
    for r in range(n_rows):
        w = rng.integers(0, 9, n_cols)
        prob += pulp.LpConstraint(pulp.LpAffineExpression({x: float(a) for x, a in zip(xs, w) if a}),
                                  pulp.LpConstraintLE, f"r{r}", float(rng.integers(3, 20)))
    prob.setObjective(pulp.LpAffineExpression({x: float(c) for x, c in zip(xs, rng.integers(-9, 5, n_cols))}))
    return prob


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(2, 25), st.integers(0, 2**31 - 1), st.data())
def test_fixed_columns_keep_their_values_and_the_plan_never_gets_worse(n_rows, n_cols, seed, data):
    arr = highs.lp_arrays(_knapsacks(n_rows, n_cols, seed))
    start = np.zeros(arr.n_cols)
    mask = data.draw(st.lists(st.booleans(), min_size=arr.n_cols, max_size=arr.n_cols).filter(any))
    free = np.array(mask)
    new, report = highs.solve_fixed(arr, start, free, {"output_flag": False, "mip_rel_gap": 0.0})
    assert report.status == "optimal" and new is not None
    assert np.array_equal(new[~free], start[~free])
    assert np.all(arr.matrix @ new <= arr.row_upper + 1e-6)
    assert arr.cost @ new <= arr.cost @ start + 1e-9
    if free.all():  # nothing fixed: the sub-problem is the problem
        whole = highs.solve_arrays(arr, gap=0.0, decompose=False)
        assert arr.cost @ new == pytest.approx(whole.objective, abs=1e-6)


def test_fixing_part_of_an_optimum_and_freeing_the_rest_finds_it_again():
    arr = highs.lp_arrays(_knapsacks(4, 30, 11))
    whole = highs.solve_arrays(arr, gap=0.0, decompose=False)
    best = np.array([v.varValue for v in arr.variables])
    free = np.zeros(arr.n_cols, dtype=bool)
    free[::3] = True
    start = np.where(free, 0.0, best)
    new, _ = highs.solve_fixed(arr, start, free, {"output_flag": False, "mip_rel_gap": 0.0})
    assert arr.cost @ new == pytest.approx(whole.objective, abs=1e-6)


GRID = ["AAAABBBB",
        "AAAABBBB",
        "AAAABBBB"]


def _grid(polish=0.15):
    sc = Scenario(base_year=2022, target_year=2024, horizon=2025, levels=("primary",), reoptimise=True, steady_state=False,
                  solver=Solver(time_limit=30, gap=0.0, polish=polish))
    # A has 7 classrooms for 12 units × 10 pupils a cohort: today's zones break its limit
    schools = {"A": {"cell": (1, 1), "classrooms": 7}, "B": {"cell": (1, 6), "classrooms": 30}}
    problem = grid_problem(GRID, schools, scenario=sc)
    return problem, sc


def test_repair_from_the_current_zones_fixes_the_broken_limit_and_passes_the_checker(tmp_path):
    problem, sc = _grid()
    best = solve_model(build_model(problem, sc))
    assert best.result.status == "optimal" and not best.slacks

    model = build_model(problem, sc)
    today = zone_objective(model, ZoneMaps.current(problem))
    stopped = SolveResult("no_solution", None, None, None, 0.0, "highs", "HiGHS", "主求解的日志\n", "time limit reached")
    repaired = repair_plan(model, stopped, time.perf_counter() + 30)
    assert repaired.status == "feasible" and repaired.bound is None and repaired.gap is None
    assert repaired.objective < today  # today's zones break A's classroom limit
    assert repaired.objective == pytest.approx(best.result.objective, rel=1e-9)
    arr = highs.lp_arrays(model.prob)
    cols = model_columns(model, arr)
    assert broken_limits(cols, np.array([v.varValue for v in arr.variables])) == []
    zones = _extract_zones(model)
    results, *_ = run_checks(problem, assignments_table(problem, zones, sc), sc)
    assert not structural_failures(results)
    # the repair's steps follow the main solve's log in the text the pipeline writes as solver.log
    text = repaired.log
    assert text.startswith("主求解的日志\n\n===== 邻域修补：自现行片区起")
    assert "邻域修补：自现行片区起" in text and "教室超限" in text
    assert repaired.repair.startswith("邻域修补：自现行片区起") and repaired.repair in repaired.message


def test_repair_keeps_the_bound_and_reports_the_gap_against_it():
    problem, sc = _grid()
    model = build_model(problem, sc)
    first = solve_model(model)
    # a plan the solver "stopped" on: the current zones, with the true optimum as the proven bound
    start = build_model(problem, sc)
    stopped = SolveResult("no_solution", None, None, first.result.objective, 0.0, "highs", "HiGHS", None, "stop")
    repaired = repair_plan(start, stopped, time.perf_counter() + 30)
    assert repaired.log is None  # no log asked for: none kept
    assert repaired.bound == first.result.objective
    assert repaired.gap == pytest.approx(0.0, abs=1e-9) and repaired.status == "optimal"


def test_a_neighbourhood_frees_the_units_that_could_go_to_the_school_and_the_schools_they_reach():
    problem, sc = _grid()
    model = build_model(problem, sc)
    arr = highs.lp_arrays(model.prob)
    cols = model_columns(model, arr)
    a = 0
    free, reached = neighbourhood(cols, arr.n_cols, [a])
    units = set(cols.pair_unit[cols.pair_school == a].tolist())
    expect = np.isin(cols.pair_unit, list(units))
    assert np.array_equal(free[cols.pair_col], expect)
    assert set(reached.tolist()) == set(cols.pair_school[expect].tolist())
    for s in reached.tolist():
        assert free[cols.school_cols[s]].all()


def test_polish_share_is_checked_in_the_scenario_file():
    assert scenario_from_dict({"solver": {"polish": 0.0}}).solver.polish == 0.0
    with pytest.raises(ScenarioError, match="polish"):
        scenario_from_dict({"solver": {"polish": 1.5}})


def test_a_solve_stopped_by_its_time_limit_is_repaired_and_passes_the_checker():
    # The benchmark's M instance needs about 20 s of HiGHS here; with 10 s, half of them kept for
    # the repair, HiGHS stops early (with a plan that breaks limits, or none: then the repair starts
    # from today's zones, which break them too) and the repair improves the plan.
    import re

    from benchmarks import configs, instances

    sc = configs.scenario_for("tool", time_limit=10.0)
    sc.solver.polish = 0.5
    problem = instances.generate("M", seed=1).problem(sc)
    sol = solve_model(build_model(problem, sc))
    r = sol.result
    assert r.status in ("optimal", "feasible") and r.repair.startswith("邻域修补")
    assert int(re.search(r"(\d+) 步改进", r.repair).group(1)) >= 1
    if r.bound is not None:
        assert r.objective >= r.bound - 1e-6 * abs(r.bound)
        assert r.gap == pytest.approx((r.objective - r.bound) / r.objective)
    results, *_ = run_checks(problem, assignments_table(problem, sol.zones, sc), sc)
    assert not structural_failures(results)
