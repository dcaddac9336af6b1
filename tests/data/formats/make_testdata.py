"""Regenerate tests/data/formats/ and tests/data/defects/ (run from anywhere: ``python make_testdata.py``).

The files are committed; this script documents exactly how they were made. Deterministic.

formats/: the same three schools (and three units) in every supported format, so that the reader
tests compare each against one truth (see SCHOOLS below).
defects/: a data folder with planted defects, one or more per file; ``DEFECTS`` in
tests/test_geodata_validate.py lists what must be reported.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
DEFECTS = HERE.parent / "defects"

# three schools in 城关镇 (WGS84)
SCHOOLS = pd.DataFrame({
    "school_id": ["F01", "F02", "F03"],
    "name": ["格式一小", "格式四中", "格式九年制"],
    "level": ["primary", "junior", "nine_year"],
    "classrooms": [24, 36, 27],
    "capacity": [1080, 1800, 1215],
    "open_year": [1990, 1985, 2023],
    "lon": [106.530125, 106.541250, 106.519875],
    "lat": [38.905500, 38.912250, 38.899750],
})
ZH_HEADERS = {"school_id": "学校代码", "name": "学校名称", "level": "学段", "classrooms": "教室数",
              "capacity": "学位数", "open_year": "开办年份", "lon": "经度", "lat": "纬度"}
ZH_LEVELS = {"primary": "小学", "junior": "初中", "nine_year": "九年一贯制"}


def school_gdf(crs=4326) -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame(SCHOOLS.drop(columns=["lon", "lat"]),
                         geometry=shapely.points(SCHOOLS["lon"], SCHOOLS["lat"]), crs=4326)
    return g.to_crs(crs)


def zh_schools() -> pd.DataFrame:
    df = SCHOOLS.copy()
    df["level"] = df["level"].map(ZH_LEVELS)
    return df.rename(columns=ZH_HEADERS)


def unit_gdf() -> gpd.GeoDataFrame:
    boxes = [shapely.box(106.515 + k * 0.01, 38.895, 106.525 + k * 0.01, 38.905) for k in range(3)]
    return gpd.GeoDataFrame({
        "单元代码": ["FU1", "FU2", "FU3"], "小区名称": ["鼓楼小区", "唐徕花园", "惠农渠村"],
        "乡镇": ["城关镇", "城关镇", "城关镇"], "一年级人数": [12, 7, 30], "二年级人数": [10, 8, 25],
        "小学": ["F01", "F01", "F03"], "初中": ["F02", "F02", "F03"],
    }, geometry=boxes, crs=4326)


def write_xlsx(path: Path, header: list[str], rows: list[list], title: str | None = None) -> None:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)


def make_formats() -> None:
    f = HERE
    for p in f.iterdir():
        if p.name not in ("make_testdata.py", "README.md"):
            p.unlink()
    SCHOOLS.to_csv(f / "schools_utf8.csv", index=False, encoding="utf-8")
    zh_schools().to_csv(f / "schools_bom.csv", index=False, encoding="utf-8-sig")
    zh_schools().to_csv(f / "schools_gbk.csv", index=False, encoding="gbk")
    zh = zh_schools()
    write_xlsx(f / "schools_zh.xlsx", list(zh.columns), zh.values.tolist(), title="平罗县学校名单（格式测试）")
    school_gdf().to_file(f / "schools.geojson", driver="GeoJSON")
    school_gdf(4490).to_file(f / "schools_cgcs2000.geojson", driver="GeoJSON")
    school_gdf(32648).to_file(f / "schools_utm.gpkg", driver="GPKG")
    zg = school_gdf().rename(columns=ZH_HEADERS)
    zg["学段"] = zg["学段"].map(ZH_LEVELS)
    zg.to_file(f / "schools_gbk.shp", encoding="GBK")  # writes schools_gbk.cpg = GBK
    zg.to_file(f / "schools_gbk_nocpg.shp", encoding="GBK")
    (f / "schools_gbk_nocpg.cpg").unlink()
    # UTF-8 .dbf: Chinese headers would be cut at 10 bytes (3 bytes a character), so English headers
    eg = school_gdf()
    eg["level"] = eg["level"].map(ZH_LEVELS)
    eg.to_file(f / "schools_utf8_nocpg.shp", encoding="UTF-8")
    (f / "schools_utf8_nocpg.cpg").unlink()
    unit_gdf().to_file(f / "units_gbk_nocpg.shp", encoding="GB18030")
    (f / "units_gbk_nocpg.cpg").unlink()
    u = unit_gdf()
    pd.DataFrame({**{c: u[c] for c in u.columns if c != "geometry"}, "WKT": u.geometry.to_wkt()}).to_csv(
        f / "units_wkt.csv", index=False, encoding="utf-8")
    # custom headers + mapping file
    custom = SCHOOLS.rename(columns={"school_id": "代码X", "name": "校名称呼", "level": "办学层次",
                                     "classrooms": "班级教室", "capacity": "cap_total", "lon": "E", "lat": "N"})
    custom.to_csv(f / "schools_custom.csv", index=False)
    pd.DataFrame({"file": ["schools_custom", "*", "schools_custom.csv", "schools_custom", "*", "*", "schools"],
                  "source": ["代码X", "校名称呼", "办学层次", "班级教室", "E", "N", "cap_total"],
                  "target": ["school_id", "name", "level", "classrooms", "lon", "lat", "capacity"]}).to_csv(
        f / "mapping.csv", index=False)
    # GCJ-02 and BD-09 versions (what a planner copies from AutoNavi / Baidu maps)
    import sys

    sys.path.insert(0, str(HERE.parents[2]))
    from geodata.coords import wgs84_to_bd09, wgs84_to_gcj02

    for system, func in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        df = SCHOOLS.copy()
        lon, lat = func(df["lon"].to_numpy(), df["lat"].to_numpy())
        df["lon"], df["lat"] = [round(float(v), 7) for v in lon], [round(float(v), 7) for v in lat]
        df.to_csv(f / f"schools_{system}.csv", index=False)


def make_defects() -> None:
    d = DEFECTS
    if d.exists():
        shutil.rmtree(d)
    d.mkdir()
    # schools: XLSX with Chinese headers and a title line
    header = ["学校代码", "学校名称", "学段", "教室数", "学位数", "开办年份", "经度", "纬度"]
    rows = [
        ["D01", "缺陷一小", "小学", 24, 1080, 1990, 106.530, 38.905],
        ["D02", "缺陷二小", "小学", 30, None, 2001, 106.540, 38.910],
        ["D02", "缺陷重复校", "小学", 20, None, 2005, 106.545, 38.915],   # row 3: duplicate id
        ["D03", "缺陷四中", "初中", 36, 1800, 1985, 106.520, 38.900],
        ["D04", "缺陷高中", "高中", 30, 1500, 1999, 106.525, 38.902],    # row 5: unknown level
        ["D05", "缺陷五小", "小学", "二十", None, 2008, 106.535, 38.908],  # row 6: classrooms text
        ["D06", "缺陷六小", "小学", 20, -100, 2010, 106.528, 38.906],     # row 7: negative capacity
        ["D07", "缺陷七小", "小学", 18, 800, 2012, None, None],           # row 8: no location
        ["D08", "缺陷八小", "小学", 18, 800, 2012, 38.905, 106.531],      # row 9: lon/lat swapped
        ["D09", "缺陷九小", "小学", None, None, 2023, 106.532, 38.904],   # row 10: no classrooms/capacity
        ["D10", "缺陷十小", "小学", 18, 800, "2O23", 106.533, 38.903],    # row 11: bad year
        ["D11", "缺陷远校", "小学", 18, 800, 2000, 116.404, 39.915],      # row 12: 1000 km away
    ]
    write_xlsx(d / "学校.xlsx", header, rows, title="平罗县学校名单（含故意设置的错误，用于测试）")
    # units: GeoJSON
    def box(k, j=0):
        return shapely.box(106.515 + k * 0.005, 38.895 + j * 0.005, 106.520 + k * 0.005, 38.900 + j * 0.005)
    bowtie = shapely.Polygon([(106.530, 38.895), (106.535, 38.900), (106.535, 38.895), (106.530, 38.900)])
    units = [
        ("V01", "正常小区一", box(0), "D01", "D03", 10, 12),
        ("V02", "正常小区二", box(1), "D01", "D03", 8, 9),
        ("V03", "自相交小区", bowtie, "D01", "D03", 5, 6),          # row 3: invalid polygon (warning)
        ("V04", "无范围小区", None, "D01", "D03", 5, 6),             # row 4: no geometry
        ("V05", "错学校小区", box(0, 1), "D99", "D03", 5, 6),        # row 5: zone school missing
        ("V06", "错学段小区", box(1, 1), "D03", "D03", 5, 6),        # row 6: primary zone is a junior school
        ("V07", "负数小区", box(2, 1), "D01", "D03", -3, 6),         # row 7: negative count
        ("V08", "重复小区甲", box(3, 1), "D01", "D03", 5, 6),
        ("V08", "重复小区乙", box(4, 1), "D01", "D03", 5, 6),        # row 9: duplicate id
        ("V10", "文字人数小区", box(5, 1), "D01", "D03", "十", 6),   # row 10: text count
    ]
    feats = []
    for uid, name, geom, ps, js, g1, g7 in units:
        feats.append({"type": "Feature",
                      "properties": {"unit_id": uid, "name": name, "primary_school": ps, "junior_school": js,
                                     "students_g1": g1, "students_g7": g7},
                      "geometry": None if geom is None else shapely.geometry.mapping(geom)})
    (d / "units.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats},
                                                ensure_ascii=False, indent=1), encoding="utf-8")
    # households: GBK CSV with Chinese headers
    hh = pd.DataFrame({
        "儿童编号": ["H01", "H02", "H03", "H04", "H05", "H02"],
        "出生日期": ["2017-05-01", "2019-10-12", "2018-01-01", "2015-13-45", "2010-02-02", "2016-02-02"],
        "年级": ["", "", "", "", "12", ""],
        "经度": [106.5175, 106.5225, 106.6500, 106.5175, 106.5180, 106.5181],  # H03 outside every unit
        "纬度": [38.8975, 38.8975, 38.9500, 38.8980, 38.8985, 38.8986],
    })  # row 4: bad date; row 5: grade 12; row 6: a sibling (same household id, not a defect)
    hh.to_csv(d / "适龄儿童.csv", index=False, encoding="gbk")
    pd.DataFrame({"school_id": ["D01", "D98", "D03"], "year": [2023, 2023, "23年"], "grade": [1, 1, 7],
                  "planned_classes": [2, 2, 4], "planned_students": [90, 90, 200]}).to_csv(
        d / "plan.csv", index=False)  # row 2: unknown school; row 3: bad year
    pd.DataFrame({"学生编号": ["R01", "R02", "R03"], "学校代码": ["D01", "D01", "D97"], "年级": [1, 1, 1],
                  "班级": ["1", "2", "1"], "入学方式": ["新生", "复读", "转入"]}).to_csv(
        d / "roster.csv", index=False)  # row 2: unknown entry; row 3: unknown school
    (d / "crossings.geojson").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    (d / "roads.gpkg").write_bytes(b"this is not a GeoPackage\n")  # unreadable
    (d / "scenario.toml").write_text('base_yaer = 2022\nhorizon = 2027\n', encoding="utf-8")  # unknown key


if __name__ == "__main__":
    make_formats()
    make_defects()
    print("written", HERE, DEFECTS)
