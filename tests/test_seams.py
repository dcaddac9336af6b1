"""The seams between commands (issue 16, item 7), run through the command line (``cli.main``).

A plan with a second zone change (``--second-change 2025``) on the bundled sample writes one row
per unit, level and zone map; ``map``, ``publish``, ``check-plan`` and ``project --zones`` read it
through the one proposal reader (``geodata.proposal``) and accept it. And the history table
(历年在校生) is an input like the others: validated, and hashed in ``run.json``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from geodata.proposal import final_assignments, read_assignments, read_ledger, read_run
from maps.proposal import load_proposal

TINY = Path(__file__).parent / "data" / "plan_tiny"


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def second_change(tmp_path_factory):
    out = tmp_path_factory.mktemp("seam") / "second"
    res = _run("plan", "--second-change", 2025, "--time-limit", 20, "--out", out)
    assert res.exit_code in (0, 1), res.output + res.stderr
    assert "输入数据" not in res.stderr
    return out


@pytest.mark.slow
def test_second_change_plan_writes_two_zone_maps(second_change):
    a = read_assignments(second_change)
    assert sorted(a["change_year"].unique()) == [2023, 2025]
    per_map = a.groupby(["level", "change_year"]).size()
    assert per_map.nunique() == 1  # every map lists every unit of its level
    assert not a.duplicated(["unit_id", "level", "change_year"]).any()
    assert len(final_assignments(a)) == len(a) // 2


@pytest.mark.slow
def test_map_draws_the_final_zone_map(second_change):
    res = _run("map", second_change, "--tiles", "none")
    assert res.exit_code == 0, res.output + res.stderr
    assert (second_change / "map.html").is_file()
    p = load_proposal(second_change)
    final = final_assignments(read_assignments(second_change))
    drawn = p.assignments.set_index(["unit_id", "level"])["school_id"].sort_index()
    expected = final.set_index(["unit_id", "level"])["school_id"].sort_index()
    assert drawn.to_dict() == expected.to_dict()
    assert len(p.zone_maps) == 2 * len(p.assignments)


@pytest.mark.slow
def test_publish_accepts_the_proposal(second_change, tmp_path):
    res = _run("publish", second_change, "--out", tmp_path / "pub", "--tiles", "none")
    assert res.exit_code == 0, res.output + res.stderr
    assert (tmp_path / "pub" / "parents.html").is_file()


@pytest.mark.slow
def test_check_plan_accepts_the_proposal(second_change):
    res = _run("check-plan", second_change)
    assert res.exit_code in (0, 1), res.output + res.stderr
    assert "输入数据" not in res.stderr and "项通过" in res.output


@pytest.mark.slow
def test_project_with_the_zones_gives_the_plans_ledger(second_change, tmp_path):
    out = tmp_path / "ledger.csv"
    res = _run("project", "--zones", second_change, "--out", out)
    assert res.exit_code == 0, res.output + res.stderr
    projected = pd.read_csv(out, dtype={"school_id": str}).set_index(["school_id", "year"]).sort_index()
    planned = read_ledger(second_change).set_index(["school_id", "year"]).sort_index()
    for col in ("students", "classes", "largest_class", "over_size_limit", "over_class_limit"):
        assert projected[col].tolist() == planned[col].tolist(), col


# ------------------------------------------------------------------------------ history (历年在校生)
def _tiny_with_history(tmp_path, rows) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(TINY, folder)
    pd.DataFrame(rows, columns=["school_id", "year", "grade", "students"]).to_csv(folder / "history.csv", index=False)
    return folder


GOOD_HISTORY = [("A", 2020, g, 300) for g in range(1, 7)] + [("A", 2021, g, 290) for g in range(1, 7)]


def test_validate_reports_every_history_problem(tmp_path):
    folder = _tiny_with_history(tmp_path, GOOD_HISTORY + [
        ("ZZ", 2021, 1, 10), ("A", "去年", 2, 10), ("A", 2019, 12, 10), ("A", 2019, 3, -5), ("A", 2020, 1, 1)])
    res = _run("validate", folder, "--all")
    assert res.exit_code == 1, res.output
    lines = [ln for ln in res.output.splitlines() if ln.startswith("history.csv")]
    columns = sorted(ln.split(" | ")[3] for ln in lines)
    assert columns == ["", "grade", "school_id", "students", "year"], lines
    rows = {ln.split(" | ")[3]: ln.split(" | ")[1] for ln in lines}
    assert rows["school_id"] == str(len(GOOD_HISTORY) + 2)  # spreadsheet row: header is row 1


def test_history_missing_a_column_is_an_error(tmp_path):
    folder = _tiny_with_history(tmp_path, GOOD_HISTORY)
    pd.read_csv(folder / "history.csv").drop(columns="grade").to_csv(folder / "history.csv", index=False)
    res = _run("validate", folder)
    assert res.exit_code == 1 and "history.csv" in res.output and "grade" in res.output


@pytest.mark.slow
def test_plan_uses_and_hashes_the_history(tmp_path):
    folder = _tiny_with_history(tmp_path, GOOD_HISTORY)
    out = tmp_path / "p"
    res = _run("plan", folder, "--out", out, "--no-map")
    assert res.exit_code in (0, 1), res.output + res.stderr
    run = read_run(out)
    assert "history" in run["inputs"]
    assert "history.csv 估计" in json.dumps(json.loads((out / "metrics.json").read_text("utf-8"))["notes"],
                                            ensure_ascii=False)
    # a changed history is named by check-plan as a changed input
    pd.DataFrame(GOOD_HISTORY[:-1], columns=["school_id", "year", "grade", "students"]).to_csv(
        folder / "history.csv", index=False)
    res = _run("check-plan", out)
    assert "history.csv" in res.stderr
