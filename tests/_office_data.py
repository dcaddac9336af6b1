"""An office-dressed copy of the bundled sample: the same data as a county office holds it (issue 17).

* 学校基本情况.xlsx: a title row above the header, Chinese headers with units in brackets
  (教学及辅助用房面积（平方米）, 教学仪器设备值（元）, 教室数（间）), levels in Chinese, GCJ-02 经度/纬度;
* 小区人数.shp: the units as a GBK shapefile without .cpg, in CGCS2000 / 3-degree Gauss-Kruger CM 105E
  (EPSG:4544, the zone of 106.5°E), Chinese field names of at most 5 characters, 对口小学/对口初中
  holding school names;
* 适龄儿童.csv (GBK) with GCJ-02 经度/纬度; 2023秋季学籍导出.xlsx (title row, grades 一年级/初一);
  招生计划.xlsx (grades as words); 障碍线/通道/道路 as GeoPackages in CGCS2000 (EPSG:4490);
* scenario.toml as is, and an unrelated file (会议纪要.docx).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.coords import wgs84_to_gcj02
from geodata.sample import sample_dir

SAMPLE = Path(sample_dir())
GRADE_WORDS = {1: "一年级", 2: "二年级", 3: "三年级", 4: "四年级", 5: "五年级", 6: "六年级",
               7: "初一", 8: "初二", 9: "初三"}
LEVEL_ZH = {"primary": "小学", "junior": "初中", "nine_year": "九年一贯制"}
SCHOOL_HEADERS = {
    "school_id": "学校代码", "name": "学校名称", "level": "学段", "township": "所属乡镇", "address": "学校地址",
    "classrooms": "普通教室数（间）", "capacity": "学位数（个）", "open_year": "开办年份", "close_year": "停办年份",
    **{f"enrolled_g{g}": f"{GRADE_WORDS[g] if g < 7 else '七八九'[g - 7] + '年级'}在校生（人）" for g in range(1, 10)},
    **{f"classes_g{g}": f"{GRADE_WORDS[g] if g < 7 else '七八九'[g - 7] + '年级'}班数（个）" for g in range(1, 10)},
    "teachers_above_degree": "高于规定学历教师数（人）", "backbone_teachers": "县级及以上骨干教师数（人）",
    "pe_art_teachers": "体育、艺术专任教师数（人）", "teaching_area_m2": "教学及辅助用房面积（平方米）",
    "sports_area_m2": "体育运动场馆面积（平方米）", "equipment_value_yuan": "教学仪器设备值（元）",
    "multimedia_classrooms": "网络多媒体教室数（间）", "music_rooms": "音乐教室数（间）", "art_rooms": "美术教室数（间）",
}
UNIT_FIELDS = {"unit_id": "单元代码", "name": "小区名称", "township": "乡镇",
               **{f"students_g{g}": f"{'一二三四五六七八九'[g - 1]}年级人数" for g in range(1, 10)},
               **{f"age_{a}": f"{a}岁" for a in range(6)},
               "primary_school": "对口小学", "junior_school": "对口初中"}
UNITS_CRS = 4544


def _gcj(lon, lat):
    glon, glat = wgs84_to_gcj02(np.asarray(lon, float), np.asarray(lat, float))
    return np.round(glon, 7), np.round(glat, 7)


def _xlsx_with_title(df: pd.DataFrame, path: Path, title: str) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        pd.DataFrame([[title]]).to_excel(xw, index=False, header=False, startrow=0)
        df.to_excel(xw, index=False, startrow=2)


def build_office_copy(dst: Path) -> Path:
    """Write the office-dressed copy of the sample into ``dst`` (created); returns ``dst``."""
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    schools = gpd.read_file(SAMPLE / "schools.geojson")
    name_of = dict(zip(schools["school_id"], schools["name"]))
    table = pd.DataFrame(schools.drop(columns="geometry"))
    table["level"] = table["level"].map(LEVEL_ZH)
    table = table.rename(columns=SCHOOL_HEADERS)
    table["经度"], table["纬度"] = _gcj(schools.geometry.x, schools.geometry.y)
    _xlsx_with_title(table, dst / "学校基本情况.xlsx", "平罗县义务教育学校基本情况表（2022年秋季）")

    units = gpd.read_file(SAMPLE / "units.geojson")
    for col in ("primary_school", "junior_school"):
        units[col] = units[col].map(lambda s: name_of.get(s) if isinstance(s, str) else None)
    keep = [c for c in UNIT_FIELDS if c in units.columns]
    units = units[keep + ["geometry"]].rename(columns=UNIT_FIELDS).to_crs(UNITS_CRS)
    units.to_file(dst / "小区人数.shp", encoding="GBK", engine="pyogrio")
    for cpg in (dst / "小区人数.cpg", dst / "小区人数.CPG"):
        cpg.unlink(missing_ok=True)

    hh = pd.read_csv(SAMPLE / "households.csv", dtype=str)
    hh["经度"], hh["纬度"] = _gcj(hh.pop("lon").astype(float), hh.pop("lat").astype(float))
    hh = hh.rename(columns={"household_id": "儿童编号", "birth_date": "出生日期", "grade": "在读年级",
                            "school_id": "就读学校代码"})
    hh.to_csv(dst / "适龄儿童.csv", index=False, encoding="gbk")

    roster = pd.read_csv(SAMPLE / "roster.csv", dtype=str)
    roster["grade"] = roster["grade"].map(lambda g: GRADE_WORDS.get(int(g), g) if str(g).isdigit() else g)
    roster = roster.rename(columns={"student_id": "学籍号", "school_id": "学校代码", "grade": "年级",
                                    "class_id": "班级", "entry": "入学方式", "unit_id": "居住单元",
                                    "entry_date": "入学日期"})
    _xlsx_with_title(roster, dst / "2023秋季学籍导出.xlsx", "2023年秋季学期学籍导出")

    plan = pd.read_csv(SAMPLE / "plan.csv", dtype=str)
    plan["grade"] = plan["grade"].map(lambda g: GRADE_WORDS[int(g)])
    plan = plan.rename(columns={"school_id": "学校代码", "year": "年份", "grade": "年级",
                                "planned_classes": "计划班数", "planned_students": "计划人数"})
    _xlsx_with_title(plan, dst / "招生计划.xlsx", "2023年义务教育招生计划")

    for src, name in (("barriers", "障碍线"), ("crossings", "通道"), ("roads", "道路")):
        if (SAMPLE / f"{src}.geojson").exists():
            gpd.read_file(SAMPLE / f"{src}.geojson").to_crs(4490).to_file(dst / f"{name}.gpkg", engine="pyogrio")
    shutil.copy(SAMPLE / "scenario.toml", dst / "scenario.toml")
    (dst / "会议纪要.docx").write_bytes(b"PK\x03\x04 not a data file")
    return dst
