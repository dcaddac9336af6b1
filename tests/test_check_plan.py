"""``zoning check-plan`` is complete (issue 15, item 8): it checks against the data the proposal
records, and any unreadable file gets a message naming file, row and fix, never a traceback."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main

TINY = Path(__file__).parent / "data" / "plan_tiny"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A data folder copied away from the repository and one proposal made from it (solved once)."""
    base = tmp_path_factory.mktemp("checkplan")
    data = base / "data"
    shutil.copytree(TINY, data)
    res = CliRunner().invoke(main, ["plan", str(data), "--out", str(base / "p"), "--no-map", "--coords", "wgs84"])
    assert res.exit_code == 0, res.output
    return base


def edited(made: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "edited"
    shutil.copytree(made / "p", copy)
    return copy


def check_plan(*args):
    res = CliRunner().invoke(main, ["check-plan", *map(str, args)])
    assert "Traceback" not in res.output + res.stderr
    return res


def test_checks_against_the_recorded_data_folder(made):
    run = json.loads((made / "p" / "run.json").read_text(encoding="utf-8"))
    assert run["source"] == str((made / "data").resolve()) and run["coords"] == "wgs84"
    res = check_plan(made / "p")
    assert res.exit_code == 0, res.output + res.stderr
    assert f"检查依据的数据：{made / 'data'}" in res.output and "示例" not in res.output
    assert "警告" not in res.stderr


def test_no_run_json_is_exit_2_naming_it(made, tmp_path):
    p = edited(made, tmp_path)
    (p / "run.json").unlink()
    res = check_plan(p)
    assert res.exit_code == 2
    assert "run.json" in res.stderr and "zoning plan" in res.stderr


def test_corrupt_run_json_is_exit_2(made, tmp_path):
    p = edited(made, tmp_path)
    text = (p / "run.json").read_text(encoding="utf-8")
    (p / "run.json").write_text(text[: len(text) // 2], encoding="utf-8")
    res = check_plan(p)
    assert res.exit_code == 2 and "run.json 已损坏" in res.stderr


def test_moved_data_folder_asks_for_data(made, tmp_path):
    p = edited(made, tmp_path)
    run = json.loads((p / "run.json").read_text(encoding="utf-8"))
    run["source"] = str(tmp_path / "gone")
    (p / "run.json").write_text(json.dumps(run, ensure_ascii=False), encoding="utf-8")
    res = check_plan(p)
    assert res.exit_code == 2 and "不存在" in res.stderr and "--data" in res.stderr
    ok = check_plan(p, "--data", made / "data")
    assert ok.exit_code == 0, ok.output + ok.stderr


def test_changed_data_is_named_in_a_warning(made, tmp_path):
    data = tmp_path / "data2"
    shutil.copytree(made / "data", data)
    s = pd.read_csv(data / "schools.csv", dtype=str)
    s.loc[0, "classrooms"] = str(int(s.loc[0, "classrooms"]) + 1)
    s.to_csv(data / "schools.csv", index=False)
    res = check_plan(made / "p", "--data", data)
    assert res.exit_code in (0, 1)
    assert "警告" in res.stderr and "schools.csv" in res.stderr and "units.geojson" not in res.stderr


def test_truncated_assignments_name_the_row(made, tmp_path):
    p = edited(made, tmp_path)
    raw = (p / "assignments.csv").read_bytes()
    lines = raw.split(b"\n")
    cut = b"\n".join(lines[:10]) + b"\n" + lines[10][: lines[10].index(b",") + 1]  # row 11 cut after unit_id
    (p / "assignments.csv").write_bytes(cut)
    res = check_plan(p)
    assert res.exit_code == 2
    assert "assignments.csv | 11 |" in res.stderr and "截断" in res.stderr


def test_mistyped_level_names_the_row(made, tmp_path):
    p = edited(made, tmp_path)
    a = pd.read_csv(p / "assignments.csv", dtype=str, keep_default_na=False)
    row = int(a.index[a["level"] == "junior"][0])
    a.loc[row, "level"] = "junoir"
    a.to_csv(p / "assignments.csv", index=False)
    res = check_plan(p)
    assert res.exit_code == 2
    assert f"assignments.csv | {row + 2} |" in res.stderr and "junoir" in res.stderr and "primary" in res.stderr


def test_missing_columns_and_empty_file(made, tmp_path):
    p = edited(made, tmp_path)
    a = pd.read_csv(p / "assignments.csv", dtype=str, keep_default_na=False)
    a.drop(columns="students").to_csv(p / "assignments.csv", index=False)
    res = check_plan(p)
    assert res.exit_code == 2 and "缺少列：students" in res.stderr
    a.head(0).to_csv(p / "assignments.csv", index=False)
    res = check_plan(p)
    assert res.exit_code == 2 and "没有任何划片行" in res.stderr
    (p / "assignments.csv").write_bytes(b"")
    res = check_plan(p)
    assert res.exit_code == 2 and "空的" in res.stderr
    (p / "assignments.csv").write_bytes("unit_id,level\n".encode("gbk") + "单元,小学\n".encode("gbk"))
    res = check_plan(p)
    assert res.exit_code == 2 and "UTF-8" in res.stderr


def test_deleted_junior_rows_do_not_pass(made, tmp_path):
    p = edited(made, tmp_path)
    a = pd.read_csv(p / "assignments.csv", dtype=str, keep_default_na=False)
    a[a["level"] != "junior"].to_csv(p / "assignments.csv", index=False)
    res = check_plan(p)
    assert res.exit_code == 1, res.output
    assert "初中" in res.output and "未通过" in res.output
