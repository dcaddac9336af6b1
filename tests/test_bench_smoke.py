"""Smoke tests of the benchmark: the generator and the runner on a tiny size (no timing asserted)."""
import csv

import numpy as np
import pandas as pd
import pytest

from benchmarks import configs, instances
from benchmarks.run import add_ratios, format_table, run
from zoning import policy


@pytest.fixture(scope="module")
def xs():
    return instances.generate("XS", seed=3)


def test_same_seed_same_frames_other_seed_differs(xs):
    again = instances.generate("XS", seed=3)
    for a, b in ((xs.units, again.units), (xs.schools, again.schools), (xs.adjacency, again.adjacency),
                 (xs.pairs, again.pairs)):
        pd.testing.assert_frame_equal(a, b)
    other = instances.generate("XS", seed=4)
    assert not np.array_equal(other.units[["x", "y"]].to_numpy(), xs.units[["x", "y"]].to_numpy())


@pytest.mark.parametrize("size", ["S", "300x12"])
def test_sizes_give_the_requested_counts(size):
    inst = instances.generate(size, seed=1)
    n_units, n_schools = instances.parse_size(size)
    assert len(inst.units) == n_units
    assert len(inst.schools) == n_schools
    assert set(inst.schools["level"]) == {"primary", "junior", "nine_year"}
    assert set(inst.units["township"].str[:2]) == {"城区", "乡镇"}  # a town and villages


def test_unknown_size_is_a_chinese_message():
    with pytest.raises(ValueError, match="未知的规模"):
        instances.parse_size("huge")


def test_enrollment_matches_current_zones_and_some_schools_are_crowded(xs):
    u, s = xs.units, xs.schools
    sid = {x: i for i, x in enumerate(s["school_id"])}
    for g in (1, 7):
        col = "primary_school" if g <= 6 else "junior_school"
        sent = u.groupby(u[col].map(sid))[f"students_g{g}"].sum()
        got = s[f"enrolled_g{g}"]
        for i, n in sent.items():
            assert got.iat[i] == n
    teaches_g1 = s["level"].isin(["primary", "nine_year"])
    assert (s.loc[~teaches_g1, "enrolled_g1"] == 0).all()
    # a crowded school runs classes over the limit (the optimizer's work)
    per_class = s["enrolled_g1"] / s["classes_g1"].replace(0, np.nan)
    assert (per_class > policy.CLASS_LIMIT["primary"]).any()


def test_adjacency_and_pairs_are_well_formed(xs):
    a = xs.adjacency
    assert (a["i"] < a["j"]).all() and not a.duplicated().any()
    assert a.to_numpy().max() < len(xs.units)
    p = xs.pairs
    sid = {x: i for i, x in enumerate(xs.schools["school_id"])}
    for level, col in (("primary", "primary_school"), ("junior", "junior_school")):
        have = set(zip(p.loc[p["level"] == level, "unit"], p.loc[p["level"] == level, "school"]))
        cur = xs.units[col].map(sid)
        assert all((u, c) in have for u, c in enumerate(cur))
        kinds = xs.schools["level"].to_numpy()[p.loc[p["level"] == level, "school"]]
        assert all(level in policy.SERVES[k] for k in kinds)


def test_single_year_family_shares_one_objective(xs):
    sc = configs.scenario_for("tool_1y", time_limit=30)
    problem = xs.problem(sc)
    tool = configs.run_config("tool_1y", problem, sc)
    dense = configs.run_config("dense", problem, sc)
    assert tool.status == "optimal" and dense.status == "optimal"
    # the evaluator reproduces each solver's own objective ...
    assert tool.eval_objective == pytest.approx(tool.objective, rel=1e-5)
    assert dense.eval_objective == pytest.approx(dense.objective, rel=1e-5)
    # ... and the dense model, with every pair, can only do as well or better (within HiGHS's gap);
    # with no distance cap it is the same problem, so the tool's pruning costs (almost) nothing
    assert dense.objective <= tool.objective * (1 + configs.DEFAULT_GAP) + 1e-6
    assert tool.objective <= dense.objective * (1 + 1e-3)
    sy = configs.single_year(problem, sc)
    current = problem.current["primary"]
    assert configs.evaluate_single_year(problem, sy, current) >= dense.objective - 1e-6


def test_spopt_reference_when_installed(xs):
    pytest.importorskip("spopt")
    sc = configs.scenario_for("spopt", time_limit=30)
    problem = xs.problem(sc)
    sp = configs.run_config("spopt", problem, sc)
    dense = configs.run_config("dense", problem, sc)
    assert sp.status == "optimal", sp.note
    # same problem with hard seat capacities: no better than the dense optimum
    assert sp.eval_objective >= dense.objective * (1 - 2 * configs.DEFAULT_GAP) - 1e-6


def test_ratios_are_against_the_family_reference():
    rows = [
        {"size": "S", "config": "tool", "family": "multi", "reference": "tool", "status": "optimal",
         "total_s": 2.0, "objective": 10.0},
        {"size": "S", "config": "tool_cbc", "family": "multi", "reference": "tool", "status": "feasible",
         "total_s": 8.0, "objective": 12.0},
        {"size": "S", "config": "tool_1y", "family": "single", "reference": "tool_1y", "status": "optimal",
         "total_s": 1.0, "eval_objective": 5.0},
        {"size": "S", "config": "dense", "family": "single", "reference": "tool_1y", "status": "optimal",
         "total_s": 6.0, "eval_objective": 5.0},
        {"size": "S", "config": "spopt", "family": "single", "reference": "tool_1y", "status": "no_solution",
         "total_s": 30.0},
    ]
    add_ratios(rows)
    got = {r["config"]: (r["time_ratio"], r["objective_ratio"]) for r in rows}
    assert got == {"tool": (1.0, 1.0), "tool_cbc": (4.0, 1.2), "tool_1y": (1.0, 1.0), "dense": (6.0, 1.0),
                   "spopt": (None, None)}
    assert "耗时比" in format_table(rows)


@pytest.mark.slow
def test_runner_writes_the_csv_with_one_row_per_configuration(tmp_path):
    out = tmp_path / "r.csv"
    rows = run(["XS"], ["tool_1y", "dense"], seed=2, time_limit=20, out=out, echo=lambda *_: None)
    with open(out, encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    assert [r["config"] for r in got] == ["tool_1y", "dense"]
    assert all(r["status"] == "optimal" for r in got), [r["note"] for r in got]
    assert float(got[0]["peak_mb"]) > 0 and float(got[1]["time_ratio"]) > 0
    assert rows[1]["reference"] == "tool_1y"
    assert not list(tmp_path.glob("*.tmp"))
