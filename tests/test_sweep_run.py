"""Scenario sweeps: reading sweep.toml, expanding the grid, running it in parallel processes.

``fake_run_one`` below writes a fake-but-valid proposal folder (a copy of tests/data/compare_a with
metrics taken from the scenario): these tests check the orchestration only (spawned processes,
failures collected, comparison of the successful runs), not the optimizer.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from zoning.scenario import Scenario, ScenarioError, load_scenario, scenario_to_toml
from pipelines.sweep import expand, load_sweep, run_sweep, safe_name

DATA = Path(__file__).resolve().parent / "data"


def fake_run_one(scenario: Scenario, out: Path) -> None:
    """Write a proposal folder whose metrics depend on the scenario; fail on a tiny distance cap."""
    if scenario.caps["primary"].max_km < 2:
        raise ValueError(f"距离上限 {scenario.caps['primary'].max_km} 公里太小，没有可行方案")
    shutil.copytree(DATA / "compare_a", out)
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    m["students_moved"] = int(round(1000 * scenario.weights.moved))
    m["max_distance_m"] = scenario.caps["primary"].max_km * 1000
    (out / "metrics.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")


def write(tmp_path, text: str, name="sweep.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


GRID = """
[grid]
"weights.moved" = [0.1, 0.5, 1.0]
"caps.primary.max_km" = [3, 5]
second_change_year = ["none", 2025]

[runs.keep_areas]
keep_indicators = true
"weights.moved" = 0.3
"""


def test_load_and_expand_grid(tmp_path):
    combos = load_sweep(write(tmp_path, GRID))
    assert len(combos) == 3 * 2 * 2 + 1
    named = expand(Scenario(), combos)
    names = [n for n, _ in named]
    assert len(set(names)) == len(names)
    assert names[0] == "01_moved=0.1_max_km=3_second_change_year=none"
    assert names[-1] == "keep_areas"
    sc = dict(named)
    first = sc[names[0]]
    assert first.weights.moved == 0.1 and first.caps["primary"].max_km == 3.0
    assert first.second_change_year is None
    assert sc[names[1]].second_change_year == 2025
    assert sc["keep_areas"].keep_indicators and sc["keep_areas"].weights.moved == 0.3
    # the base is copied, not changed
    base = Scenario()
    expand(base, combos)
    assert base == Scenario()


def test_expand_accepts_a_plain_grid_and_keeps_base_settings():
    base = Scenario(horizon=2028, locks={"U1": "S08"})
    out = expand(base, {"weights.distance": [1.0, 2.0], "locks.U1": ["none"]})
    assert [s.weights.distance for _, s in out] == [1.0, 2.0]
    assert all(s.horizon == 2028 and s.locks == {} for _, s in out)


def test_nested_tables_and_schools(tmp_path):
    p = write(tmp_path, """
[grid.weights]
moved = [0.2, 0.4]
[grid]
"schools.open.S09" = [2023, 2024]
""")
    combos = load_sweep(p)
    assert len(combos) == 4
    out = dict(expand(Scenario(), combos))
    assert sorted({s.open_schools["S09"] for s in out.values()}) == [2023, 2024]


def test_unknown_keys_and_types_reported_together(tmp_path):
    p = write(tmp_path, """
colour = "red"
[grid]
"weights.moverd" = [0.1]
"caps.primary.max_km" = ["far"]
"caps.middle.max_km" = [1]
horizon = 2030
contiguity = [1]
[runs.x]
nonsense = 1
""")
    with pytest.raises(ScenarioError) as exc:
        load_sweep(p)
    text = "\n".join(exc.value.problems)
    for needle in ("colour", "weights.moverd", "caps.primary.max_km", "caps.middle", "horizon 应为非空列表",
                   "contiguity 应为 true/false", "nonsense"):
        assert needle in text, needle
    assert exc.value.source == "sweep.toml"


def test_toml_syntax_and_empty(tmp_path):
    with pytest.raises(ScenarioError, match="TOML"):
        load_sweep(write(tmp_path, "[grid\n"))
    with pytest.raises(ScenarioError, match="没有要运行的方案"):
        load_sweep(write(tmp_path, "# nothing\n"))
    with pytest.raises(ScenarioError, match="找不到"):
        load_sweep(tmp_path / "missing.toml")


def test_expand_validates_each_combination():
    base = Scenario(horizon=2024, target_year=2024)
    with pytest.raises(ScenarioError) as exc:
        expand(base, [{"second_change_year": 2026}, {"second_change_year": "none"}])
    assert len(exc.value.problems) == 1 and "second_change_year" in exc.value.problems[0]


def test_scenario_roundtrip_through_toml(tmp_path):
    sc = Scenario(second_change_year=2025, locks={"U1": "S08"}, open_schools={"S09": 2023},
                  close_schools={"S05": 2026}, survival={"g1-g2": 0.98}, keep_indicators=True)
    sc.caps["junior"].k_nearest = 3
    sc.weights.moved = 0.75
    p = tmp_path / "s.toml"
    p.write_text(scenario_to_toml(sc), encoding="utf-8")
    assert load_scenario(p) == sc


def test_safe_name():
    assert safe_name("a/b c:d") == "a_b_c_d"
    assert safe_name("保留面积") == "保留面积"
    assert safe_name("...") == "run"


@pytest.mark.slow
def test_run_sweep_in_parallel_collects_failures(tmp_path):
    combos = [{"weights.moved": 0.1, "caps.primary.max_km": 3}, {"weights.moved": 0.5, "caps.primary.max_km": 1},
              {"weights.moved": 0.9, "caps.primary.max_km": 5}]
    scenarios = expand(Scenario(), combos)
    done = run_sweep(scenarios, fake_run_one, tmp_path / "sweep", workers=2)
    names = [n for n, _ in scenarios]
    assert [p.name for p in done] == [names[0], names[2]]
    summary = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    assert list(summary["status"]) == ["成功", "失败", "成功"]
    assert "距离上限 1.0 公里太小" in summary.loc[1, "message"]
    assert not (tmp_path / "sweep" / names[1]).exists()
    cmp = pd.read_csv(tmp_path / "sweep" / "compare" / "compare.csv", index_col=0)
    assert list(cmp.columns) == ["分组", names[0], names[2]]
    # each column carries its own run's metrics (written in the worker process)
    assert cmp.loc["调整片区的学生数", names[0]] == "★ 100"
    assert cmp.loc["调整片区的学生数", names[2]] == "900"


def test_run_sweep_sequential_and_all_failing(tmp_path):
    scenarios = expand(Scenario(), [{"caps.primary.max_km": 1}, {"caps.primary.max_km": 1.5}])
    done = run_sweep(scenarios, fake_run_one, tmp_path / "s", workers=1)
    assert done == []
    assert not (tmp_path / "s" / "compare").exists()
    assert list(pd.read_csv(tmp_path / "s" / "sweep.csv")["status"]) == ["失败", "失败"]


@pytest.mark.slow
def test_run_sweep_file_with_the_real_pipeline(tmp_path):
    """Two real proposals of the small data folder (real reader, model, HiGHS), then compare."""
    from pipelines.sweep import run_sweep_file

    sweep = write(tmp_path, '[grid]\n"weights.moved" = [0.0, 5.0]\n')
    out = tmp_path / "sweep"
    done = run_sweep_file(sweep, data_dir=DATA / "compare_data", out_dir=out, workers=2, write_map=False)
    assert [p.name for p in done] == ["01_moved=0.0", "02_moved=5.0"]
    for p in done:
        assert {"ledger.csv", "metrics.json", "indicators.csv", "coefficients.csv"} <= {f.name for f in p.iterdir()}
        # the proposal ran with the scenario of its grid point
        assert load_scenario(out / "scenarios" / f"{p.name}.toml").weights.moved in (0.0, 5.0)
    moved = [json.loads((p / "metrics.json").read_text(encoding="utf-8"))["students_moved"] for p in done]
    assert moved[1] <= moved[0]  # a heavier weight on moving pupils never moves more of them
    cmp = pd.read_csv(out / "compare" / "compare.csv", index_col=0)
    assert list(cmp.columns[1:]) == ["01_moved=0.0", "02_moved=5.0"]
