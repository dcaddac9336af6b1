"""Issue 8 end to end: on a toy town with a canal and one bridge, the network plan differs from the
straight-line plan, and the network plan is the right one (pupils are not sent the long way round)."""
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from _network_fixtures import river_town
from cli import main


def write_town(folder, use_roads: bool, barrier_rule: str = "allow"):
    units, schools, roads, barriers, crossings = river_town()
    folder.mkdir(parents=True)
    for g in range(1, 10):
        units[f"students_g{g}"] = 20
    for a in range(6):
        units[f"age_{a}"] = 20
    schools["classrooms"] = 30
    for g in range(1, 10):
        schools[f"enrolled_g{g}"] = [40 if g <= 6 else 0, 20 if g <= 6 else 0]
        schools[f"classes_g{g}"] = [1 if g <= 6 else 0, 1 if g <= 6 else 0]
    for name, layer in (("units", units), ("schools", schools), ("roads", roads), ("barriers", barriers),
                        ("crossings", crossings)):
        layer.to_crs(4326).to_file(folder / f"{name}.geojson", driver="GeoJSON")
    (folder / "scenario.toml").write_text(
        f'base_year = 2022\ntarget_year = 2024\nhorizon = 2025\nlevels = ["primary"]\n'
        f'use_roads = {str(use_roads).lower()}\nbarrier_rule = "{barrier_rule}"\n'
        # shorter trips are what this town tests: they count only when the scenario asks to re-optimise
        'reoptimise = true\n', encoding="utf-8")
    return folder


def plan(tmp_path, name, **kw):
    data = write_town(tmp_path / f"data_{name}", **kw)
    out = tmp_path / name
    res = CliRunner().invoke(main, ["plan", str(data), "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    a = pd.read_csv(out / "assignments.csv", dtype=str)
    return dict(zip(a["unit_id"], a["school_id"])), json.loads((out / "metrics.json").read_text(encoding="utf-8")), res.output


def test_network_plan_differs_from_straight_line_and_is_right(tmp_path):
    straight, m_straight, out_s = plan(tmp_path, "straight", use_roads=False)
    network, m_network, out_n = plan(tmp_path, "network", use_roads=True)
    # as the crow flies 南岸小区 (U) is 200 m from 北岸小学 (N) across the canal: it stays there
    assert straight["U"] == "N"
    # along the streets that is 1800 m over the bridge, against 400 m to 南岸小学 (S) on its own bank
    assert network["U"] == "S"
    assert "直线" in out_s and "道路网" in out_n
    # the service-radius share is reported
    assert m_network["within_radius_share"]["primary"] is not None


def test_forbidden_crossing_is_never_assigned(tmp_path):
    forbid, _, _ = plan(tmp_path, "forbid", use_roads=True, barrier_rule="forbid")
    assert forbid["U"] == "S"
