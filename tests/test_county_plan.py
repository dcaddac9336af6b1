"""Real geography (issue 18, item 4): `zoning plan` on a generated county of village points
(Delaunay adjacency, default caps) and on the Santa Rosa blocks (../shared/realdata) writes a
whole, checked plan; a level without any school gives one problem, not one per unit; soft caps
(--relax-caps) and the network summary are reported."""
import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from _county import write_county
from cli import main


def _run(*args):
    return CliRunner().invoke(main, ["plan", *map(str, args), "--no-map"])


def _whole_and_checked(out, n_units):
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    checks = (out / "checks.txt").read_text(encoding="utf-8")
    a = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False)
    assert len(a) == n_units and a["unit_id"].is_unique and (a["school_id"] != "").all()
    for name in ("片区连片", "恰好划入一所学校", "上学距离不超过上限"):
        line = next(x for x in checks.splitlines() if name in x)
        assert "通过" in line and "未通过" not in line, line
    return m


def test_a_generated_county_of_village_points_gets_a_whole_checked_plan(tmp_path):
    data = write_county(tmp_path / "county", n_villages=400, n_schools=10, seed=3, size_km=30.0)
    out = tmp_path / "plan"
    res = _run(data, "--out", out, "--level", "primary", "--time-limit", 60)
    assert res.exit_code in (0, 1), res.output
    m = _whole_and_checked(out, 400)
    assert m["plan_source"] in ("solved", "current_repaired", "current")
    assert m["status"] in ("optimal", "feasible", "current_repaired", "current")


def test_a_level_without_schools_is_one_problem_naming_the_fix(tmp_path):
    data = write_county(tmp_path / "county", n_villages=60, n_schools=4, seed=1, size_km=10.0)
    res = _run(data, "--out", tmp_path / "plan")
    assert res.exit_code == 2, res.output
    assert res.output.count("没有任何招收初中的学校") == 1
    assert "--level primary" in res.output
    assert "Traceback" not in res.output


def test_soft_caps_are_a_flag_and_a_scenario_key(tmp_path):
    data = write_county(tmp_path / "county", n_villages=120, n_schools=5, seed=2, size_km=15.0)
    out = tmp_path / "plan"
    res = _run(data, "--out", out, "--level", "primary", "--relax-caps")
    assert res.exit_code in (0, 1), res.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["scenario"]["caps"]["primary"]["relax"] is True
    _whole_and_checked(out, 120)


@pytest.mark.realdata
@pytest.mark.slow
def test_santa_rosa_with_default_settings_gets_a_whole_checked_plan(realdata, tmp_path):
    data = tmp_path / "sr"
    data.mkdir()
    for name in ("units.geojson", "schools.geojson"):
        shutil.copy(realdata / "santa_rosa_2025" / name, data / name)
    out = tmp_path / "plan"
    res = _run(data, "--out", out, "--level", "primary")
    assert res.exit_code in (0, 1), res.output
    _whole_and_checked(out, 967)
    assert "数据检查有 1 条警告" in res.output  # the same count as zoning validate
    without = _run(data, "--out", tmp_path / "p2")  # no --level: the junior level has no school
    assert without.exit_code == 2 and without.output.count("没有任何招收初中的学校") == 1
