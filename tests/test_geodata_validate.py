"""Validation: every planted defect of tests/data/defects reported in one run; the CLI exits non-zero;
clean folders and the bundled sample report no errors."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from zoning.errors import DataError, errors
from geodata.validate import check_folder, parse_birth, validate_folder
from tests._geodata_fixtures import write_clean_folder

REPO = Path(__file__).resolve().parents[1]
DEFECTS = REPO / "tests" / "data" / "defects"

# (file, row, id, column, severity, words in the problem) — one entry per planted defect
PLANTED = [  # noqa: E501
    ("学校.xlsx", 3, "D02", "school_id", "error", "重复"),
    ("学校.xlsx", 5, "D04", "level", "error", "高中"),
    ("学校.xlsx", 6, "D05", "classrooms", "error", "不是数字"),
    ("学校.xlsx", 7, "D06", "capacity", "error", "负数"),
    ("学校.xlsx", 8, "D07", "geometry", "error", "没有几何"),
    ("学校.xlsx", 9, "D08", "geometry", "error", "填反"),
    ("学校.xlsx", 10, "D09", "classrooms", "error", "都没有填写"),
    ("学校.xlsx", 11, "D10", "open_year", "error", "年份"),
    ("学校.xlsx", 12, "D11", "geometry", "error", "范围之外"),
    ("units.geojson", 3, "V03", "geometry", "warning", "已自动修复"),
    ("units.geojson", 4, "V04", "geometry", "error", "没有几何"),
    ("units.geojson", 5, "V05", "primary_school", "error", "不存在"),
    ("units.geojson", 6, "V06", "primary_school", "error", "初中"),
    ("units.geojson", 7, "V07", "students_g1", "error", "负数"),
    ("units.geojson", 9, "V08", "unit_id", "error", "重复"),
    ("units.geojson", 10, "V10", "students_g1", "error", "不是数字"),
    ("适龄儿童.csv", 3, "H03", "geometry", "warning", "不在任何片区单元内"),
    ("适龄儿童.csv", 4, "H04", "birth_date", "error", "无法识别"),
    ("适龄儿童.csv", 5, "H05", "grade", "error", "1–9"),
    ("plan.csv", 2, "D98", "school_id", "error", "不存在"),
    ("plan.csv", 3, "D03", "year", "error", "年份"),
    # roster rows are what the autumn check examines: their problems are warnings, not blockers
    ("roster.csv", 2, "R02", "entry", "warning", "复读"),
    ("roster.csv", 3, "R03", "school_id", "warning", "不存在"),
    ("crossings.geojson", None, None, None, "warning", "没有数据行"),
    ("roads.gpkg", None, None, None, "error", "无法读取"),
    ("scenario.toml", None, None, "base_yaer", "error", "base_yaer"),
]

N_ERRORS = sum(s == "error" for *_, s, _w in PLANTED)


@pytest.fixture(scope="module")
def defect_problems():
    return validate_folder(DEFECTS)


@pytest.mark.parametrize("file,row,id_,column,severity,words", PLANTED)
def test_each_planted_defect_is_reported(defect_problems, file, row, id_, column, severity, words):
    hits = [p for p in defect_problems if p.file == file and p.row == row and p.id == id_
            and p.column == column and p.severity == severity and words in p.problem]
    assert hits, f"not reported: {file} row {row} {id_} {column} {words}"
    assert all(p.fix for p in hits)


def test_no_unexpected_errors_in_defects(defect_problems):
    expected = {(f, r, i, c) for f, r, i, c, s, _ in PLANTED if s == "error"}
    extra = [p for p in errors(defect_problems) if (p.file, p.row, p.id, p.column) not in expected]
    assert extra == []
    assert len(errors(defect_problems)) == len(expected)  # each planted error exactly once


def test_inputs_not_modified(tmp_path):
    before = {p.name: p.read_bytes() for p in DEFECTS.iterdir()}
    validate_folder(DEFECTS)
    assert {p.name: p.read_bytes() for p in DEFECTS.iterdir()} == before


def test_cli_validate_defects_exits_nonzero():
    from cli import main

    result = CliRunner().invoke(main, ["validate", str(DEFECTS), "--all"])
    assert result.exit_code == 1
    # the row as Excel shows it (a title row and the header above data row 5) and the user's header
    assert "学校.xlsx | 7 | D04 | 学段（level）" in result.output
    assert f"共 {N_ERRORS} 处错误" in result.output
    assert "Traceback" not in result.output


def test_cli_validate_subprocess():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "cli.py", "validate", "tests/data/defects"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "roads.gpkg" in proc.stdout and "文件无法读取" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_clean_folder_has_no_errors(tmp_path):
    folder = write_clean_folder(tmp_path / "clean")
    problems = validate_folder(folder)
    assert errors(problems) == []
    # the only warnings: two children outside every unit, units whose counts households replaced
    kinds = {(p.file, p.column) for p in problems}
    assert kinds <= {("households.csv", "geometry"), ("units.geojson", None)}
    outside = [p for p in problems if p.file == "households.csv"]
    assert [p.id for p in outside] == ["H000", "H001"]


def test_missing_required_files_and_columns(tmp_path):
    (tmp_path / "schools.csv").write_text("学校代码,名称\nA,一小\n", encoding="utf-8")
    problems = validate_folder(tmp_path)
    msgs = {(p.file, p.column) for p in errors(problems)}
    assert ("units.*", None) in msgs
    assert ("schools.csv", "level") in msgs
    assert ("schools.csv", "lon") in msgs and ("schools.csv", "lat") in msgs


def test_empty_required_file_is_an_error(tmp_path):
    (tmp_path / "schools.csv").write_text("school_id,name,level,classrooms,lon,lat\n", encoding="utf-8")
    write_clean_folder(tmp_path / "x", households=False, extras=False)
    shutil.copy(tmp_path / "x" / "units.geojson", tmp_path / "units.geojson")
    problems = validate_folder(tmp_path)
    assert any(p.file == "schools.csv" and "没有数据行" in p.problem and p.severity == "error" for p in problems)


def test_zero_byte_file_is_empty_not_unreadable(tmp_path):
    write_clean_folder(tmp_path, households=False, extras=False)
    (tmp_path / "plan.csv").write_bytes(b"")
    problems = validate_folder(tmp_path)
    assert [(p.file, p.severity, p.problem) for p in problems] == [("plan.csv", "warning", "文件没有数据行")]


def test_projected_coordinates_without_crs_and_far_units(tmp_path):
    folder = write_clean_folder(tmp_path, households=False, extras=False)
    (folder / "schools.geojson").unlink()
    pd.DataFrame({"school_id": ["A", "B"], "name": ["一小", "二小"], "level": ["小学", "小学"], "classrooms": [10, 10],
                  "lon": [106.39, 620500.0], "lat": [38.91, 4307750.0]}).to_csv(folder / "schools.csv", index=False)
    problems = validate_folder(folder)
    bad = [p for p in errors(problems) if p.file == "schools.csv"]
    assert [(p.row, p.id) for p in bad] == [(2, "B")] and "投影坐标" in bad[0].problem


def test_scenario_ids_checked(tmp_path):
    folder = write_clean_folder(tmp_path, households=False)
    (folder / "scenario.toml").write_text('base_year = 2022\n[locks]\nU01 = "S99"\nU77 = "S01"\n'
                                          '[schools]\nopen = { S55 = 2024 }\n', encoding="utf-8")
    problems = errors(validate_folder(folder))
    assert {(p.file, p.id, p.column) for p in problems} == {
        ("scenario.toml", "U01", "locks"), ("scenario.toml", "U77", "locks"), ("scenario.toml", "S55", "schools.open")}


def test_gcj02_folder_lands_where_wgs84_folder_does(tmp_path):
    from geodata import coords

    wgs = write_clean_folder(tmp_path / "wgs", households=False, extras=False)
    gcj = tmp_path / "gcj"
    gcj.mkdir()
    for name in ("schools", "units"):
        import geopandas as gpd

        g = gpd.read_file(wgs / f"{name}.geojson")
        g["geometry"] = coords.transform_geometries(g.geometry.to_numpy(), coords.wgs84_to_gcj02)
        g.to_file(gcj / f"{name}.geojson", driver="GeoJSON")
    a = check_folder(wgs)
    b = check_folder(gcj, coords="gcj02")
    c = check_folder(gcj)
    d_ok = a.layers["schools"].geometry.distance(b.layers["schools"].geometry)
    d_raw = a.layers["schools"].geometry.distance(c.layers["schools"].geometry)
    assert d_ok.max() < 0.1 and d_raw.min() > 200


def test_parse_birth():
    assert parse_birth("2016-05-03") == (2016, 5, 3)
    assert parse_birth("2016/5/3") == (2016, 5, 3)
    assert parse_birth("20160503") == (2016, 5, 3)
    assert parse_birth("2016年5月3日") == (2016, 5, 3)
    assert parse_birth("2016") == (2016, None, None)
    assert parse_birth("2016-05-03T00:00:00") == (2016, 5, 3)
    assert parse_birth("2015-13-45") is None
    assert parse_birth("五月") is None


def _sample_dir():
    try:
        from geodata.sample import sample_dir
    except ImportError:
        return None
    d = Path(sample_dir())
    return d if (d / "schools.geojson").exists() else None


@pytest.mark.slow
def test_bundled_sample_has_no_errors():
    d = _sample_dir()
    if d is None:
        pytest.skip("bundled sample not generated yet")
    problems = validate_folder(None)
    assert errors(problems) == [], "\n".join(map(str, errors(problems)[:10]))


def test_load_dataset_raises_with_every_error():
    from geodata.dataset import load_dataset

    with pytest.raises(DataError) as exc:
        load_dataset(DEFECTS)
    assert len(errors(exc.value.problems)) == N_ERRORS
