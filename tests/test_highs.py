"""Solving by independent blocks (zoning/highs.py), with the real HiGHS."""
from __future__ import annotations

import dataclasses

import numpy as np
import pulp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from conftest import grid_problem
from zoning import highs
from zoning.model import build_model, solve_model
from zoning.scenario import Scenario, Solver
from zoning.solver import solve


def _two_towns(n: int = 12):
    """Two knapsack-like towns that share no row, plus one free variable: three blocks."""
    prob = pulp.LpProblem("towns", pulp.LpMaximize)
    rng = np.random.default_rng(5)
    blocks = []
    for t in range(2):
        xs = [prob.add_variable(f"x{t}_{i}", 0, 1, pulp.LpBinary) for i in range(n)]
        w = rng.integers(20, 60, n)
        prob += pulp.LpConstraint(pulp.LpAffineExpression(dict(zip(xs, w.tolist()))), pulp.LpConstraintLE,
                                  f"cap{t}", float(w.sum() // 3))
        blocks.append(xs)
    free = prob.add_variable("free", 0, 4, pulp.LpInteger)
    obj = {x: float(v) for xs in blocks for x, v in zip(xs, rng.integers(5, 40, n))}
    obj[free] = 1.0
    prob.setObjective(pulp.LpAffineExpression(obj, constant=7.0))
    return prob, blocks


def test_parts_partition_rows_and_columns_and_small_ones_join_the_largest():
    # rows 0-1 touch cols 0-2, row 2 touches cols 3-4, row 3 is empty; col 5 is in no row
    a = sparse.csr_matrix(np.array([[1, 1, 0, 0, 0, 0],
                                    [0, 1, 1, 0, 0, 0],
                                    [0, 0, 0, 1, 1, 0],
                                    [0, 0, 0, 0, 0, 0]], dtype=float))
    parts = highs.independent_parts(a, min_cols=1)
    assert [sorted(c.tolist()) for _, c in parts] == [[5], [3, 4], [0, 1, 2]]  # smallest first
    assert [sorted(r.tolist()) for r, _ in parts] == [[3], [2], [0, 1]]  # the empty row goes to the first
    joined = highs.independent_parts(a, min_cols=3)
    assert [sorted(c.tolist()) for _, c in joined] == [[0, 1, 2, 3, 4, 5]]
    assert [sorted(c.tolist()) for _, c in highs.independent_parts(a, min_cols=2)] == [[3, 4], [0, 1, 2, 5]]
    assert len(highs.independent_parts(a, min_cols=10)) == 1  # none large: one block


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30), st.integers(0, 2**31 - 1), st.integers(1, 8))
def test_no_row_spans_two_parts(m, n, seed, min_cols):
    rng = np.random.default_rng(seed)
    a = sparse.random(m, n, density=0.08, random_state=rng, format="csr")
    parts = highs.independent_parts(a, min_cols=min_cols)
    rows = np.concatenate([r for r, _ in parts])
    cols = np.concatenate([c for _, c in parts])
    assert sorted(rows.tolist()) == list(range(m)) and sorted(cols.tolist()) == list(range(n))
    owner = np.empty(n, dtype=int)
    for k, (_, c) in enumerate(parts):
        owner[c] = k
    for k, (r, _) in enumerate(parts):
        for i in r:
            assert set(owner[a[i].indices].tolist()) <= {k}


def test_blocks_solved_apart_give_the_same_optimum_as_together():
    prob, blocks = _two_towns()
    arr = highs.lp_arrays(prob)
    apart = highs.solve_arrays(arr, gap=0.0, min_part_columns=1)
    value_apart = pulp.value(prob.objective)
    together = highs.solve_arrays(arr, gap=0.0, decompose=False)
    assert len(apart.parts) == 3 and len(together.parts) == 1
    assert apart.status == together.status == "optimal"
    assert apart.objective == pytest.approx(together.objective, abs=1e-6)
    # the objective is the problem's own (maximised, with its constant) and matches the values
    assert apart.objective == pytest.approx(value_apart, abs=1e-6)
    assert apart.objective > 7.0 + 4.0  # the free integer sits at its upper bound, items were taken
    assert apart.bound == pytest.approx(apart.objective, rel=1e-6)


def test_solve_reports_blocks_and_returns_one_log(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    prob, _ = _two_towns(300)  # 300 columns per town: too small to be blocks of their own
    res = solve(prob, "highs", time_limit=30, gap=0.0, keep_log=True)
    assert res.status == "optimal" and res.parts == 1
    assert res.log.startswith("MIP has") and "模型分解为" not in res.log
    prob, _ = _two_towns(600)  # two towns of 600 columns apart, the free variable rides along
    res = solve(prob, "highs", time_limit=60, gap=1e-4, keep_log=True)
    assert res.status in ("optimal", "feasible") and res.parts == 2
    assert res.log.startswith("模型分解为 2 个") and all(f"第 {k}/2 部分" in res.log for k in (1, 2))
    assert res.log.count("MIP has") == 2
    # the solver writes no file: nothing appears in the working folder
    assert not list(tmp_path.iterdir())
    assert solve(prob, "highs", time_limit=60, gap=1e-4).log is None  # not asked for: not kept


def test_the_kept_log_is_what_highs_writes_to_its_log_file(tmp_path):
    """The logging callback gives the lines HiGHS's ``log_file`` option writes (numbers aside:
    timings differ from run to run)."""
    import re

    prob, _ = _two_towns(40)
    arr = highs.lp_arrays(prob)
    rows, cols = np.arange(arr.matrix.shape[0]), np.arange(arr.n_cols)
    path = tmp_path / "highs.log"
    options = {"output_flag": True, "log_to_console": False, "mip_rel_gap": 0.0}
    kept = highs.solve_part(arr, rows, cols, options, None, keep_log=True)
    written = highs.solve_part(arr, rows, cols, dict(options, log_file=str(path)), None)
    assert kept.status == written.status == "optimal" and written.log == ""
    numbers = re.compile(r"[0-9.]+(e[+-]?[0-9]+)?")
    assert numbers.sub("#", kept.log) == numbers.sub("#", path.read_text(encoding="utf-8"))
    assert len(kept.log.splitlines()) > 10


GRID = ["AAAABBBB",
        "AAAABBBB",
        "AAAABBBB"]


def _grid_model(**solver):
    sc = Scenario(base_year=2022, target_year=2024, horizon=2025, levels=("primary",),
                  solver=Solver(time_limit=30, gap=0.0, **solver))
    schools = {"A": {"cell": (1, 1), "classrooms": 7}, "B": {"cell": (1, 6), "classrooms": 30}}
    problem = grid_problem(GRID, schools, scenario=sc)
    return problem, sc, build_model(problem, sc)


def test_blocks_do_not_change_the_plan():
    results = []
    for dec in (True, False):
        problem, sc, model = _grid_model(decompose=dec)
        sol = solve_model(model)
        assert sol.result.status == "optimal"
        results.append((round(sol.result.objective, 6), sol.zones.final("primary").tolist()))
    assert results[0] == results[1]
    # school A has 7 classrooms for 12 units × 10 pupils per cohort: some of its zone must move
    assert results[0][1].count(1) > 12


def test_solver_settings_are_read_from_the_scenario_file():
    from zoning.scenario import ScenarioError, scenario_from_dict

    sc = scenario_from_dict({"solver": {"decompose": False}})
    assert sc.solver.decompose is False
    assert dataclasses.asdict(Scenario().solver)["decompose"] is True
    with pytest.raises(ScenarioError, match="decompose 应为 true/false"):
        scenario_from_dict({"solver": {"decompose": "yes"}})
