"""Plausibility (issue 15, item 6): absurd counts, empty counts, classes against pupils and
classrooms, grades against the school's level, years, limits, and XLSX formulas without a saved
value — all reported by one ``zoning validate`` run, each naming file, row (as Excel shows it),
the user's header and the fix.

Broken copies of the bundled sample are built in tmp folders (households and roster left out so
that one validation takes a second; the units then carry the counts).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from cli import main
from zoning.errors import errors
from geodata.sample import sample_dir
from geodata.validate import MAX_PUPILS_PER_GRADE, check_folder, validate_folder

TITLE = "平罗县义务教育学校基本情况表（2022 年）"


def copy_sample(folder: Path, households: bool = False) -> Path:
    """The sample's data folder copied to ``folder`` (without households and roster unless asked)."""
    skip = set() if households else {"households.csv", "roster.csv"}
    folder.mkdir(parents=True, exist_ok=True)
    for p in Path(sample_dir()).iterdir():
        if p.is_file() and p.name not in skip:
            shutil.copy(p, folder / p.name)
    return folder


def schools_as_xlsx(folder: Path, edit=None, formulas: dict | None = None) -> Path:
    """Replace schools.geojson by 学校.xlsx with a title row above Chinese-and-English headers.

    ``edit(frame)`` changes the table first; ``formulas`` maps (school_id, column) to a formula
    written without a saved value (as openpyxl and many programs other than Excel write them).
    """
    gdf = gpd.read_file(folder / "schools.geojson")
    (folder / "schools.geojson").unlink()
    frame = gdf.drop(columns="geometry").assign(经度=gdf.geometry.x, 纬度=gdf.geometry.y)
    frame = frame.rename(columns={"classrooms": "教室数", "capacity": "学位数", "enrolled_g8": "八年级在校生"})
    if edit is not None:
        edit(frame)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([TITLE])
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and np.isnan(v)) else v for v in row])
    for (sid, col), formula in (formulas or {}).items():
        r = frame.index[frame["school_id"] == sid][0] + 3  # title row, header row, 1-based
        ws.cell(row=r, column=list(frame.columns).index(col) + 1, value=formula)
    path = folder / "学校.xlsx"
    wb.save(path)
    return path


def _set(frame, sid, col, value):
    if col in frame.columns and not isinstance(value, str):
        frame[col] = frame[col].astype(float)
    frame.loc[frame["school_id"] == sid, col] = value


def break_schools(frame):
    _set(frame, "P01", "classes_g1", 500)        # 500 classes of one grade
    _set(frame, "P09", "enrolled_g1", 20)        # more classes than pupils
    _set(frame, "P09", "classes_g1", 30)
    _set(frame, "P03", "classes_g1", 60)         # 60 classes for 227 pupils: a warning
    _set(frame, "P02", "教室数", 0)                # pupils, 0 classrooms and no capacity
    _set(frame, "P02", "学位数", np.nan)
    _set(frame, "P03", "八年级在校生", 40)          # grade-8 pupils in a primary school
    _set(frame, "P04", "close_year", 1800)
    _set(frame, "P05", "class_limit", 500)
    _set(frame, "P07", "enrolled_g3", 1e12)


def break_units(folder: Path) -> None:
    units = gpd.read_file(folder / "units.geojson")
    units["students_g1"] = units["students_g1"].astype(float)
    units["students_g2"] = units["students_g2"].astype(float)
    units.loc[3, "students_g1"] = 1e12
    units.loc[5, "students_g2"] = np.nan
    units.loc[6, "age_2"] = -4
    units.to_file(folder / "units.geojson", driver="GeoJSON")


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    folder = copy_sample(tmp_path_factory.mktemp("broken"))
    schools_as_xlsx(folder, break_schools, formulas={("P08", "学位数"): "=教室数*45"})
    break_units(folder)
    units = gpd.read_file(folder / "units.geojson")
    return folder, validate_folder(folder), units["unit_id"].tolist()


def _find(problems, file, id_, column, words=()):
    return [p for p in problems if p.file == file and p.id == id_ and p.column == column
            and all(w in p.problem + p.fix for w in words)]


def _school_row(sid):
    ids = gpd.read_file(Path(sample_dir()) / "schools.geojson")["school_id"].tolist()
    return ids.index(sid) + 3  # the title row and the header above the first school


SCHOOL_CASES = [  # (school, column, severity, words)
    ("P01", "classes_g1", "error", ("500", "合理上限")),
    ("P09", "classes_g1", "error", ("30 个班", "20 名", "班数多于学生数")),
    ("P03", "classes_g1", "warning", ("60 个班", "227")),
    ("P02", "classrooms", "error", ("教室数为 0", "学位数")),
    ("P03", "enrolled_g8", "error", ("小学没有 8 年级", "40")),
    ("P04", "close_year", "error", ("1800",)),
    ("P05", "class_limit", "error", ("500", "10–100")),
    ("P07", "enrolled_g3", "error", ("合理上限",)),
    ("P08", "capacity", "error", ("公式", "Excel", "保存")),
]


@pytest.mark.parametrize("sid,column,severity,words", SCHOOL_CASES)
def test_school_problem_names_file_excel_row_header_and_fix(broken, sid, column, severity, words):
    _, problems, _ = broken
    hits = _find(problems, "学校.xlsx", sid, column, words)
    assert hits, f"{sid} {column}: not reported; got {[(p.id, p.column, p.problem) for p in problems][:40]}"
    p = hits[0]
    assert p.severity == severity
    assert p.shown_row == _school_row(sid)
    assert p.fix
    if column in ("classrooms", "capacity", "enrolled_g8"):
        assert p.header == {"classrooms": "教室数", "capacity": "学位数", "enrolled_g8": "八年级在校生"}[column]
        assert p.header in p.shown_column


UNIT_CASES = [  # (unit position, column, words)
    (3, "students_g1", ("合理上限",)),
    (5, "students_g2", ("为空", "不会当作 0")),
    (6, "age_2", ("负数",)),
]


@pytest.mark.parametrize("pos,column,words", UNIT_CASES)
def test_unit_count_problems_are_errors_on_the_feature(broken, pos, column, words):
    _, problems, uids = broken
    hits = _find(problems, "units.geojson", uids[pos], column, words)
    assert hits and hits[0].severity == "error" and hits[0].row == pos + 1


def test_cli_reports_all_in_one_run_with_exit_1(broken):
    folder, problems, _ = broken
    result = CliRunner().invoke(main, ["validate", str(folder), "--all"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    n_err = len(errors(problems))
    assert n_err >= len(SCHOOL_CASES) - 1 + len(UNIT_CASES)
    assert f"共 {n_err} 处错误" in result.output
    row = _school_row("P02")
    assert f"学校.xlsx | {row} | P02 | 教室数（classrooms） |" in result.output
    assert "用 Excel（或 WPS）打开这个文件，保存后再运行" in result.output


def test_huge_count_never_reaches_the_units(tmp_path):
    folder = copy_sample(tmp_path / "d")
    break_units(folder)
    checked = check_folder(folder)
    units = checked.layers["units"]
    assert units["students_g1"].max() <= MAX_PUPILS_PER_GRADE
    assert errors(checked.problems)


def test_blank_count_is_a_warning_when_households_fill_the_units(tmp_path):
    folder = copy_sample(tmp_path / "d", households=True)
    break_units(folder)
    problems = validate_folder(folder)
    blank = [p for p in problems if p.column == "students_g2" and "为空" in p.problem]
    assert [p.severity for p in blank] == ["warning"] and "住户" in blank[0].problem


def test_blank_grade_count_is_fine_when_the_level_total_is_given(tmp_path):
    folder = copy_sample(tmp_path / "d")
    units = gpd.read_file(folder / "units.geojson")
    units["students_g2"] = units["students_g2"].astype(float)
    units.loc[5, "students_g2"] = np.nan
    units["students_primary"] = np.nan
    units.loc[5, "students_primary"] = 120
    units.to_file(folder / "units.geojson", driver="GeoJSON")
    problems = validate_folder(folder)
    assert not [p for p in problems if p.column == "students_g2"]
    assert not errors(problems)


def test_infinite_and_nan_text_are_not_numbers(tmp_path):
    folder = copy_sample(tmp_path / "d")

    def edit(frame):
        frame["教室数"] = frame["教室数"].astype(object)
        _set(frame, "P01", "教室数", "inf")
        _set(frame, "P03", "教室数", "nan")
    schools_as_xlsx(folder, edit)
    problems = validate_folder(folder)
    bad = {p.id for p in errors(problems) if p.column == "classrooms"}
    assert {"P01", "P03"} <= bad


def test_the_sample_itself_passes(tmp_path):
    problems = validate_folder(copy_sample(tmp_path / "d"))
    assert not errors(problems), [p.problem for p in errors(problems)]
    assert not [p for p in problems if p.file.startswith("schools")]
