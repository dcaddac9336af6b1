"""Each reader and format on committed files (tests/data/formats, made by make_testdata.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata import aliases, readers
from geodata.validate import check_folder
from zoning import policy

FORMATS = Path(__file__).resolve().parent / "data" / "formats"
TRUTH_IDS = ["F01", "F02", "F03"]
TRUTH_NAMES = ["格式一小", "格式四中", "格式九年制"]
TRUTH_LON = [106.530125, 106.541250, 106.519875]
TRUTH_LAT = [38.905500, 38.912250, 38.899750]
TRUTH_LEVEL_RAW = {"primary", "junior", "nine_year", "小学", "初中", "九年一贯制"}


def _mapping():
    mapping, problems = readers.read_mapping(FORMATS / "mapping.csv")
    assert problems == []
    return mapping


SCHOOL_FILES = [
    ("schools_utf8.csv", None),
    ("schools_bom.csv", None),          # UTF-8 with BOM, Chinese headers
    ("schools_gbk.csv", None),          # GBK, Chinese headers
    ("schools_zh.xlsx", None),          # Chinese headers below a title line
    ("schools.geojson", None),
    ("schools_cgcs2000.geojson", None),  # EPSG:4490 taken as WGS84
    ("schools_utm.gpkg", None),          # EPSG:32648, reprojected
    ("schools_gbk.shp", None),           # GBK .dbf with .cpg
    ("schools_gbk_nocpg.shp", None),     # GBK .dbf without .cpg: UTF-8 fails, GB18030 used
    ("schools_utf8_nocpg.shp", None),    # UTF-8 .dbf without .cpg
    ("schools_gcj02.csv", "gcj02"),      # web-map coordinates converted
    ("schools_bd09.csv", "bd09"),
    ("schools_custom.csv", None),        # headers only the mapping file knows
]


@pytest.mark.parametrize("fname,system", SCHOOL_FILES)
def test_every_format_reads_the_same_schools(fname, system):
    layer, problems = readers.read_layer(FORMATS / fname, "schools", coords=system, mapping=_mapping())
    assert problems == []
    f = layer.frame
    assert isinstance(f, gpd.GeoDataFrame) and f.crs.to_epsg() == 4326
    assert [str(v) for v in f["school_id"]] == TRUTH_IDS
    assert list(f["name"]) == TRUTH_NAMES
    assert set(f["level"]) <= TRUTH_LEVEL_RAW
    assert pd.to_numeric(f["classrooms"]).tolist() == [24, 36, 27]
    assert pd.to_numeric(f["capacity"]).tolist() == [1080, 1800, 1215]
    tol = 2e-7 if system else 1e-6  # converted coordinates were rounded to 1e-7 degrees
    np.testing.assert_allclose(f.geometry.x, TRUTH_LON, atol=tol)
    np.testing.assert_allclose(f.geometry.y, TRUTH_LAT, atol=tol)
    assert layer.converted == system


def test_gcj02_file_read_without_conversion_is_hundreds_of_metres_off():
    layer, _ = readers.read_layer(FORMATS / "schools_gcj02.csv", "schools")
    utm = layer.frame.to_crs(32648)
    truth = gpd.GeoSeries(gpd.points_from_xy(TRUTH_LON, TRUTH_LAT), crs=4326).to_crs(32648)
    d = utm.geometry.distance(truth, align=False)
    assert (d > 200).all() and (d < 800).all()


def test_projected_file_is_not_shifted_by_coords_option():
    a, _ = readers.read_layer(FORMATS / "schools_utm.gpkg", "schools", coords="gcj02")
    np.testing.assert_allclose(a.frame.geometry.x, TRUTH_LON, atol=1e-6)
    assert a.converted is None


@pytest.mark.parametrize("fname", ["units_gbk_nocpg.shp", "units_wkt.csv"])
def test_units_with_chinese_headers(fname):
    layer, problems = readers.read_layer(FORMATS / fname, "units")
    assert problems == []
    f = layer.frame
    assert list(f["unit_id"]) == ["FU1", "FU2", "FU3"]
    assert list(f["name"]) == ["鼓楼小区", "唐徕花园", "惠农渠村"]
    assert pd.to_numeric(f["students_g1"]).tolist() == [12, 7, 30]
    assert list(f["primary_school"]) == ["F01", "F01", "F03"]
    assert list(f["junior_school"]) == ["F02", "F02", "F03"]
    assert f.geometry.geom_type.eq("Polygon").all()
    assert np.round(shapely.area(f.geometry.to_numpy()), 6).tolist() == [0.0001] * 3


def test_files_found_by_chinese_stem(tmp_path):
    shutil.copy(FORMATS / "schools_zh.xlsx", tmp_path / "学校.xlsx")
    for ext in ("shp", "dbf", "shx", "prj"):
        shutil.copy(FORMATS / f"units_gbk_nocpg.{ext}", tmp_path / f"小区.{ext}")
    (tmp_path / "notes.txt").write_text("x")
    files, problems = readers.find_inputs(tmp_path)
    assert files == {"schools": tmp_path / "学校.xlsx", "units": tmp_path / "小区.shp"}
    assert problems == []
    checked = check_folder(tmp_path)
    assert [p for p in checked.problems if p.severity == "error"] == []
    assert checked.layers["schools"]["level"].tolist() == ["primary", "junior", "nine_year"]
    assert checked.crs.to_epsg() == 32648


def test_two_exact_stems_are_an_error_naming_both(tmp_path):
    shutil.copy(FORMATS / "schools.geojson", tmp_path / "schools.geojson")
    shutil.copy(FORMATS / "schools_zh.xlsx", tmp_path / "学校.xlsx")
    files, problems = readers.find_inputs(tmp_path)
    assert files["schools"].name == "schools.geojson"
    assert len(problems) == 1 and problems[0].severity == "error"
    assert "schools.geojson" in problems[0].problem and "学校.xlsx" in problems[0].problem


def test_exact_stem_next_to_a_keyword_candidate_is_the_same_error(tmp_path):
    shutil.copy(FORMATS / "schools.geojson", tmp_path / "schools.geojson")
    shutil.copy(FORMATS / "schools_zh.xlsx", tmp_path / "学校基本情况.xlsx")
    files, problems = readers.find_inputs(tmp_path)
    assert [p.severity for p in problems] == ["error"]
    assert "schools.geojson" in problems[0].problem and "学校基本情况.xlsx" in problems[0].problem
    # the file left out is named as a candidate, never as a file that names no input
    notes = readers.unused_files(tmp_path, files)
    assert [n.file for n in notes] == ["学校基本情况.xlsx"]
    assert "学校" in notes[0].problem and "文件名和表头都不对应" not in notes[0].problem
    # and validation fails on it (an error, not a preference)
    checked = check_folder(tmp_path)
    assert any(p.severity == "error" and "学校基本情况.xlsx" in p.problem for p in checked.problems)


def test_gis_layer_recognised_by_its_fields(tmp_path):
    import geopandas as gpd
    from shapely.geometry import box
    units = gpd.GeoDataFrame({"单元代码": ["U1", "U2"], "小区名称": ["润园新村", "北街小区"],
                              "geometry": [box(106.50, 38.90, 106.51, 38.91), box(106.51, 38.90, 106.52, 38.91)]},
                             crs=4326)
    units.to_file(tmp_path / "片区.shp", encoding="GBK", engine="pyogrio")
    (tmp_path / "片区.cpg").unlink(missing_ok=True)  # GBK without .cpg, as offices send it
    units.to_file(tmp_path / "layer1.gpkg", engine="pyogrio")
    files, problems = readers.find_inputs(tmp_path)
    assert files["units"].name in ("片区.shp", "layer1.gpkg")
    assert len(problems) == 1 and "片区.shp" in problems[0].problem and "layer1.gpkg" in problems[0].problem
    (tmp_path / "layer1.gpkg").unlink()
    files, problems = readers.find_inputs(tmp_path)
    assert files == {"units": tmp_path / "片区.shp"} and problems == []
    assert readers.unused_files(tmp_path, files) == []


def test_unreadable_file_is_a_problem_not_a_traceback(tmp_path):
    bad = tmp_path / "schools.xlsx"
    bad.write_bytes(b"not a zip file")
    layer, problems = readers.read_layer(bad, "schools")
    assert layer is None
    assert len(problems) == 1 and problems[0].file == "schools.xlsx" and "无法读取" in problems[0].problem


def test_text_coordinates_reported_with_row(tmp_path):
    p = tmp_path / "schools.csv"
    p.write_text("学校代码,学校名称,学段,教室数,经度,纬度\nA,一小,小学,10,106.5,38.9\nB,二小,小学,10,106°30',38.9\n",
                 encoding="utf-8")
    layer, problems = readers.read_layer(p, "schools")
    assert [(q.row, q.column) for q in problems] == [(2, "lon")]
    assert layer.frame.geometry.iloc[1] is None


def test_mapping_file_problems(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("file,from\nschools,x\n", encoding="utf-8")
    mapping, problems = readers.read_mapping(p)
    assert mapping == {} and {q.column for q in problems} == {"source", "target"}
    p.write_text("文件,原列名,标准列名\n,校码,school_id\nschools,,name\n", encoding="utf-8")
    mapping, problems = readers.read_mapping(p)
    assert mapping == {"*": {"校码": "school_id"}}
    assert [q.row for q in problems] == [2]


def test_aliases_cover_the_brief():
    t = aliases.alias_table("schools")
    for header, target in [("学校代码", "school_id"), ("学校名称", "name"), ("学段", "level"), ("教室数", "classrooms"),
                           ("学位数", "capacity"), ("开办年份", "open_year"), ("停办年份", "close_year"),
                           ("经度", "lon"), ("纬度", "lat"), ("lng", "lon"), ("X", "lon"), ("一年级在校生", "enrolled_g1"),
                           ("七年级班数", "classes_g7")]:
        assert t[aliases.normalise_header(header)] == target, header
    u = aliases.alias_table("units")
    for header, target in [("小区名称", "name"), ("村", "name"), ("单元代码", "unit_id"), ("乡镇/街道", "township"),
                           ("一年级人数", "students_g1"), ("九年级人数", "students_g9"), ("3岁", "age_3")]:
        assert u[aliases.normalise_header(header)] == target, header
    r = aliases.alias_table("roster")
    for header, target in [("学生编号", "student_id"), ("班级", "class_id"), ("年级", "grade"), ("入学方式", "entry")]:
        assert r[aliases.normalise_header(header)] == target, header
    p = aliases.alias_table("plan")
    assert p["计划班数"] == "planned_classes" and p["计划人数"] == "planned_students"
    assert aliases.normalise_value("九年一贯制", aliases.LEVEL_VALUES) == "nine_year"
    assert aliases.normalise_value("初中", aliases.LEVEL_VALUES) == "junior"
    assert [policy.entry_kind(v) for v in ("新生", "转入", "在读", "插班")] == \
        ["new", "transfer_in", "continuing", "transfer_in"]
    assert aliases.normalise_value("高中", aliases.LEVEL_VALUES) is None


REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


@pytest.mark.realdata
def test_realdata_gcj02_outline_read_and_converted():
    path = REALDATA / "pingluo_county" / "boundary_gcj02.geojson"
    if not path.exists():
        pytest.skip("../shared/realdata is absent")
    raw, problems = readers.read_layer(path, "units")
    conv, problems2 = readers.read_layer(path, "units", coords="gcj02")
    errors_only = [p for p in problems + problems2 if p.severity != "info"]  # "adcode" is listed as unused
    assert errors_only == [] and conv.converted == "gcj02"
    assert list(conv.frame["name"]) == ["平罗县"]
    a = raw.frame.to_crs(32648).geometry.iloc[0]
    b = conv.frame.to_crs(32648).geometry.iloc[0]
    shift = np.hypot(*(shapely.get_coordinates(a) - shapely.get_coordinates(b)).T)
    assert 200 < shift.mean() < 800
    assert b.is_valid and abs(a.area - b.area) / a.area < 0.01


@pytest.mark.realdata
@pytest.mark.slow
def test_realdata_santa_rosa_loads():
    folder = REALDATA / "santa_rosa_2025"
    if not folder.exists():
        pytest.skip("../shared/realdata is absent")
    from geodata.dataset import load_dataset

    ds = load_dataset(folder)
    assert ds.crs.to_epsg() == 32610 and len(ds.units) == 967 and len(ds.schools) == 7
    # students_primary totals spread over grades 1-6 without losing a pupil
    assert int(ds.units[[f"students_g{g}" for g in range(1, 7)]].to_numpy().sum()) == 2861
    assert ds.units["primary_school"].notna().all()


def test_xlsx_households_with_excel_dates_and_point_units(tmp_path):
    import datetime

    from openpyxl import Workbook

    from geodata.validate import check_folder

    wb = Workbook()
    ws = wb.active
    ws.append(["户号", "出生日期", "年级", "经度", "纬度"])
    ws.append(["A1", datetime.datetime(2018, 3, 1), None, 106.5301, 38.9051])
    ws.append(["A1", datetime.datetime(2014, 10, 1), 2, 106.5302, 38.9052])  # sibling, same household
    ws.append(["A2", "2016/9/1", None, 106.5401, 38.9121])
    wb.save(tmp_path / "适龄儿童.xlsx")
    pd.DataFrame({"小区代码": ["P1", "P2"], "小区名称": ["点小区一", "点小区二"], "经度": [106.5300, 106.5400],
                  "纬度": [38.9050, 38.9120], "小学": ["F01", "F01"]}).to_csv(tmp_path / "units.csv", index=False)
    shutil.copy(FORMATS / "schools_utf8.csv", tmp_path / "schools.csv")
    checked = check_folder(tmp_path)
    assert [p for p in checked.problems if p.severity == "error"] == []
    u = checked.layers["units"].set_index("unit_id")
    assert u.loc["P1", "age_4"] == 1 and u.loc["P1", "students_g2"] == 1
    assert u.loc["P2", "age_5"] == 1  # born 1 September 2016: 5 on 31 August 2022
    assert checked.aggregation.balanced and checked.aggregation.n_counted == 3


def test_totals_spread_over_grades(tmp_path):
    from geodata.validate import check_folder

    shutil.copy(FORMATS / "schools_utf8.csv", tmp_path / "schools.csv")
    pd.DataFrame({"unit_id": ["A", "B"], "name": ["甲", "乙"], "students_primary": [13, 0], "students_junior": [4, 3],
                  "lon": [106.53, 106.54], "lat": [38.905, 38.912]}).to_csv(tmp_path / "units.csv", index=False)
    u = check_folder(tmp_path).layers["units"]
    # an even split, fractions kept (issue 17): each year's intake is the total / grades
    assert u.loc[0, [f"students_g{g}" for g in range(1, 7)]].tolist() == pytest.approx([13 / 6] * 6)
    assert u.loc[0, [f"students_g{g}" for g in range(7, 10)]].tolist() == pytest.approx([4 / 3] * 3)
    assert u.loc[1, [f"students_g{g}" for g in range(1, 10)]].sum() == 3


def test_cli_validate_with_mapping(tmp_path):
    from click.testing import CliRunner

    from cli import main

    shutil.copy(FORMATS / "schools_custom.csv", tmp_path / "schools.csv")
    for ext in ("shp", "dbf", "shx", "prj"):
        shutil.copy(FORMATS / f"units_gbk_nocpg.{ext}", tmp_path / f"units.{ext}")
    runner = CliRunner()
    bad = runner.invoke(main, ["validate", str(tmp_path)])
    assert bad.exit_code == 1 and "缺少必填列 school_id" in bad.output
    mapping = tmp_path.parent / f"{tmp_path.name}_mapping.csv"
    pd.DataFrame({"file": ["schools"] * 7, "source": ["代码X", "校名称呼", "办学层次", "班级教室", "cap_total", "E", "N"],
                  "target": ["school_id", "name", "level", "classrooms", "capacity", "lon", "lat"]}).to_csv(mapping, index=False)
    ok = runner.invoke(main, ["validate", str(tmp_path), "--mapping", str(mapping)])
    assert ok.exit_code == 0, ok.output
    assert "共 0 处错误" in ok.output


@pytest.mark.parametrize("epsg", [4544, 4545])  # CGCS2000 3-degree Gauss-Kruger, CM 105E / 108E
def test_cgcs2000_gauss_kruger_shapefile(tmp_path, epsg):
    src = gpd.read_file(FORMATS / "schools.geojson").to_crs(epsg)
    src.to_file(tmp_path / "schools.shp", encoding="UTF-8")
    layer, problems = readers.read_layer(tmp_path / "schools.shp", "schools", coords="gcj02")
    assert problems == [] and layer.converted is None  # a projected CRS is never web-map shifted
    np.testing.assert_allclose(layer.frame.geometry.x, TRUTH_LON, atol=1e-7)
    np.testing.assert_allclose(layer.frame.geometry.y, TRUTH_LAT, atol=1e-7)
