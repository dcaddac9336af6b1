"""Locks written as offices write them: 小区/村 and school by name, found before the solve (issue 17)."""
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

import cli
from geodata.sample import sample_dir
from zoning.problem import resolve_lock_names

UNITS = (["C1", "C2", "C3"], ["润园新村", "文化苑", "文化苑"])
SCHOOLS = (["P07", "P09"], ["城关七小", "城关九小"])


def test_names_become_ids_with_a_note():
    locks, notes, problems = resolve_lock_names({"润园新村": "城关七小", "C2": "P09"}, *UNITS, *SCHOOLS)
    assert locks == {"C1": "P07", "C2": "P09"}
    assert notes == ["锁定 润园新村 = 城关七小 按名称识别为 C1 = P07"]
    assert problems == []


def test_a_name_of_two_units_is_a_problem_naming_both():
    _locks, _notes, problems = resolve_lock_names({"文化苑": "P07"}, *UNITS, *SCHOOLS)
    assert len(problems) == 1 and "C2" in problems[0] and "C3" in problems[0]


def test_unknown_names_are_kept_for_the_lock_check():
    locks, notes, problems = resolve_lock_names({"无此村": "无此校"}, *UNITS, *SCHOOLS)
    assert locks == {"无此村": "无此校"} and notes == [] and problems == []


@pytest.mark.slow
def test_plan_takes_a_lock_by_name(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_dir(), data)
    out = tmp_path / "p"
    res = CliRunner().invoke(cli.main, ["plan", str(data), "--out", str(out), "--no-map", "--time-limit", "60",
                                        "--lock", "润园新村=城关七小"])
    assert res.exit_code in (0, 1), res.output
    assert "按名称识别为 C140 = P07" in res.output
    a = pd.read_csv(out / "assignments.csv", dtype=str, encoding="utf-8-sig")
    assert set(a[(a["unit_id"] == "C140") & (a["level"] == "primary")]["school_id"]) == {"P07"}


def test_plan_refuses_an_ambiguous_lock_before_the_solve(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_dir(), data)
    units = data / "units.geojson"
    text = units.read_text(encoding="utf-8").replace("\"福兴苑\"", "\"润园新村\"")
    units.write_text(text, encoding="utf-8")
    out = tmp_path / "p"
    res = CliRunner().invoke(cli.main, ["plan", str(data), "--out", str(out), "--no-map", "--lock", "润园新村=P07"])
    assert res.exit_code == 2, res.output
    assert "润园新村" in res.output + (res.stderr or "") and not out.exists()
