"""`zoning plan`, `check-plan` and `project` end to end, through the real CLI, on real files."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main

TINY = Path(__file__).parent / "data" / "plan_tiny"


@pytest.fixture(scope="module")
def tiny_plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("plans") / "tiny"
    res = CliRunner().invoke(main, ["plan", str(TINY), "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output + str(res.exception)
    return out, res.output


def test_plan_writes_a_complete_proposal(tiny_plan):
    out, output = tiny_plan
    for name in ["assignments.csv", "zones.geojson", "units.geojson", "zone_table.csv", "zone_table.xlsx",
                 "ledger.csv", "metrics.json", "run.json", "solver.log", "model.lp", "checks.txt"]:
        assert (out / name).exists(), name
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert m["status"] == "optimal" and m["violations"] == []
    a = pd.read_csv(out / "assignments.csv", dtype=str)
    assert len(a) == 16 * 2  # every unit once per level
    assert "独立检查：全部结构检查通过" in output
    # the new school 测试二小 takes the south-east units
    b = a[(a["level"] == "primary") & (a["school_id"] == "B")]["unit_id"]
    assert "T33" in set(b) and "T00" not in set(b)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert set(run["inputs"]) >= {"schools", "units", "scenario"}


def test_plan_is_deterministic_whatever_the_folder_is_called(tiny_plan, tmp_path):
    out, _ = tiny_plan
    res = CliRunner().invoke(main, ["plan", str(TINY), "--out", str(tmp_path / "另一个名字"), "--no-map"])
    assert res.exit_code == 0
    for name in ["assignments.csv", "ledger.csv", "zone_table.csv", "zone_table.xlsx", "zones.geojson",
                 "metrics.json", "indicators.csv", "coefficients.csv", "checks.txt"]:
        assert (out / name).read_bytes() == (tmp_path / "另一个名字" / name).read_bytes(), name


def test_timings_are_in_run_json_not_in_metrics(tiny_plan):
    out, output = tiny_plan
    metrics = (out / "metrics.json").read_text(encoding="utf-8")
    assert "seconds" not in metrics and "秒" not in metrics
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["timings"]["solve_seconds"] >= 0
    assert f"用时 {run['timings']['solve_seconds']:.1f} 秒" in output


def test_check_plan_passes_then_catches_hand_edits(tiny_plan, tmp_path):
    out, _ = tiny_plan
    ok = CliRunner().invoke(main, ["check-plan", str(out)])
    assert ok.exit_code == 0, ok.output
    edited = tmp_path / "edited"
    shutil.copytree(out, edited)
    a = pd.read_csv(edited / "assignments.csv", dtype=str, keep_default_na=False)
    prim = a["level"] == "primary"
    school = dict(zip(a.loc[prim, "unit_id"], a.loc[prim, "school_id"]))
    # a split zone: give A a unit of B's none of whose (rook) neighbours is A's
    def neighbours(u):
        r, c = int(u[1]), int(u[2])
        return [f"T{r + dr}{c + dc}" for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)) if f"T{r + dr}{c + dc}" in school]
    far = sorted(u for u, s in school.items() if s == "B" and all(school[v] == "B" for v in neighbours(u)))[-1]
    a.loc[prim & (a["unit_id"] == far), "school_id"] = "A"
    a.loc[prim & (a["unit_id"] == "T01"), "students"] = "1"  # a lost student
    a = pd.concat([a, a[prim & (a["unit_id"] == "T11")].assign(school_id="B")])  # a double assignment
    a.to_csv(edited / "assignments.csv", index=False)
    res = subprocess.run([sys.executable, "cli.py", "check-plan", str(edited)], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 1
    assert "测试一小" in res.stdout and "分成 2 块" in res.stdout  # split zone named
    assert re.search(r"T11 在小学.*2 (所学校|行)", res.stdout)  # the double assignment named
    assert "T01" in res.stdout and "学生应为" in res.stdout
    assert "Traceback" not in res.stderr


def test_project_with_zones_matches_the_plan_ledger(tiny_plan, tmp_path):
    out, _ = tiny_plan
    res = CliRunner().invoke(main, ["project", "--zones", str(out), "--out", str(tmp_path / "l.csv")])
    assert res.exit_code == 0, res.output
    a = pd.read_csv(out / "ledger.csv")
    b = pd.read_csv(tmp_path / "l.csv")
    pd.testing.assert_frame_equal(a, b)


def test_plan_reports_bad_scenario_without_traceback(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    (data / "scenario.toml").write_text("base_year = 2022\nhorizn = 2027\n[solver]\nname = 'gurobi'\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["plan", str(data), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "horizn" in res.output and "gurobi" in res.output
    assert not (tmp_path / "o").exists()


def test_cbc_when_asked_reaches_the_same_objective(tiny_plan, tmp_path):
    from zoning.solver import SolverUnavailable, check_solver

    try:
        check_solver("cbc")
    except SolverUnavailable:
        pytest.skip("CBC is not installed here")
    out, _ = tiny_plan
    res = CliRunner().invoke(main, ["plan", str(TINY), "--out", str(tmp_path / "cbc"), "--solver", "cbc", "--no-map"])
    assert res.exit_code == 0, res.output
    a = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "cbc" / "metrics.json").read_text(encoding="utf-8"))
    assert b["status"] == "optimal"
    assert b["objective"] == pytest.approx(a["objective"], rel=1e-6)


def test_time_limited_run_reports_its_gap_not_a_false_optimum():
    """PuLP calls a time-limited HiGHS run "Optimal"; the tool reads the real status and gap."""
    import random

    import highspy
    import pulp
    from zoning.solver import solve

    prob = pulp.LpProblem("k", pulp.LpMaximize)
    rng = random.Random(3)
    xs = [prob.add_variable(f"x{i}", 0, 1, "Binary") for i in range(2000)]
    prob.setObjective(pulp.LpAffineExpression({x: rng.randint(2000, 8000) for x in xs}))
    for k in range(5):
        w = {x: rng.randint(2000, 8000) for x in xs}
        prob += pulp.LpConstraint(pulp.LpAffineExpression(w), pulp.LpConstraintLE, f"cap{k}", sum(w.values()) / 3 + 0.5)
    # PuLP's own HiGHS interface: after the time limit it calls the plan "Optimal"
    prob.solve(pulp.HiGHS(msg=False, timeLimit=0.3, gapRel=0.0))
    if prob.solverModel.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
        assert pulp.LpStatus[prob.status] == "Optimal"  # the trap the tool guards against
    res = solve(prob, "highs", time_limit=0.3, gap=0.0)
    # the objective is read in the problem's own sense (maximise) and matches the values
    assert res.objective == pytest.approx(sum(c * x.varValue for x, c in prob.objective.items()), rel=1e-9)
    if res.status == "feasible":
        assert pulp.LpStatus[prob.status] != "Optimal"  # the tool leaves PuLP's fields honest too
        assert res.gap is not None and res.gap > 0 and res.bound is not None and res.bound > res.objective
        assert res.message.lower().startswith("time limit")
    else:  # a fast machine may prove optimality in time: then the proven gap must be ~0
        assert res.status == "optimal" and res.gap is not None and res.gap <= 1e-6


def test_project_estimates_survival_from_history_and_reports_it(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    rows = ["school_id,year,grade,students"]
    for g in range(1, 6):
        rows.append(f"A,2021,{g},300")
        rows.append(f"A,2022,{g + 1},{270 if g == 1 else 300}")
    (data / "history.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["project", str(data), "--out", str(tmp_path / "l.csv")])
    assert res.exit_code == 0, res.output
    led = pd.read_csv(tmp_path / "l.csv")
    a = led[(led["school_id"] == "A")].set_index("year")
    # 312 grade-1 pupils of 2022 become 0.9 × 312 ≈ 281 grade-2 pupils in 2023
    assert a.loc[2023, "students_g2"] == round(312 * 0.9)
    assert a.loc[2023, "students_g3"] == 312
    assert "升级保留率由 history.csv 估计：1→2 年级 0.900" in res.output


def test_zone_table_keeps_units_that_share_a_name(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    gj = json.loads((data / "units.geojson").read_text(encoding="utf-8"))
    for f in gj["features"][:3]:
        f["properties"]["name"] = "幸福小区"
    (data / "units.geojson").write_text(json.dumps(gj, ensure_ascii=False), encoding="utf-8")
    res = CliRunner().invoke(main, ["plan", str(data), "--out", str(tmp_path / "o"), "--no-map"])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(tmp_path / "o" / "zone_table.csv", encoding="utf-8-sig")
    cells = "、".join(t[t["学段"] == "小学"]["片区范围（小区/村）"]).split("、")
    assert len(cells) == 16 and len(set(cells)) == 16
    assert sum(c.startswith("幸福小区") for c in cells) == 3


def test_short_capacity_plan_names_school_year_and_fix(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    s = pd.read_csv(data / "schools.csv", dtype=str)
    s.loc[s["school_id"] == "B", "classrooms"] = "2"  # the new school cannot take the south-east
    s.loc[s["school_id"] == "A", "classrooms"] = "44"
    s.to_csv(data / "schools.csv", index=False)
    res = CliRunner().invoke(main, ["plan", str(data), "--out", str(tmp_path / "o"), "--no-map", "--level", "primary"])
    assert res.exit_code == 1, res.output  # written, with the limits it cannot meet
    assert "预检" in res.stderr or "预检" in res.output
    assert "仍未满足的限额" in res.output and "测试一小" in res.output
    m = json.loads((tmp_path / "o" / "metrics.json").read_text(encoding="utf-8"))
    assert m["violations"] and all(v["fix"] and v["year"] for v in m["violations"])
    assert {v["name"] for v in m["violations"]} <= {"测试一小", "测试二小"}
