"""A small, clean data folder for the geodata tests (written into a tmp folder by each test).

A 4 x 3 grid of 500 m square units in 城关镇 (around 106.52 E, 38.91 N), four schools, a barrier
(railway) between the second and third columns, a road grid, households, plan, roster, scenario.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

UTM = 32648
X0, Y0 = 620_000.0, 4_307_500.0  # about 106.38 E, 38.91 N
SIZE = 500.0
NX, NY = 4, 3


def unit_frame() -> gpd.GeoDataFrame:
    rows = []
    k = 0
    for j in range(NY):
        for i in range(NX):
            k += 1
            x, y = X0 + i * SIZE, Y0 + j * SIZE
            rows.append({
                "unit_id": f"U{k:02d}", "name": f"测试小区{k:02d}", "township": "城关镇",
                **{f"students_g{g}": (k + g) % 7 + 3 for g in range(1, 10)},
                **{f"age_{a}": (k + a) % 5 + 2 for a in range(6)},
                "primary_school": "S01" if i < 2 else "S02",
                "junior_school": "S03" if i < 2 else "S04",
                "geometry": shapely.box(x, y, x + SIZE, y + SIZE),
            })
    return gpd.GeoDataFrame(rows, crs=UTM).to_crs(4326)


def school_frame() -> gpd.GeoDataFrame:
    pts = [(X0 + 500, Y0 + 750), (X0 + 1500, Y0 + 750), (X0 + 400, Y0 + 300), (X0 + 1700, Y0 + 1200)]
    data = {
        "school_id": ["S01", "S02", "S03", "S04"],
        "name": ["城关测试一小", "城关测试二小", "测试四中", "黄渠桥测试九年制"],
        "level": ["primary", "primary", "junior", "nine_year"],
        "classrooms": [24, 30, 36, 27],
        "capacity": [1080, 1350, 1800, np.nan],
        "open_year": [1990.0, 2005.0, 1985.0, None],
        "address": ["城关镇测试路1号", "城关镇测试路2号", "", "黄渠桥镇"],
        **{f"enrolled_g{g}": [40, 45, 0, 30] if g <= 6 else [0, 0, 200, 30] for g in range(1, 10)},
    }
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(p) for p in pts], crs=UTM).to_crs(4326)


def households_frame(n: int = 60, seed: int = 3) -> pd.DataFrame:
    """Children as a CSV-like table (lon/lat); two of them outside every unit."""
    rng = np.random.default_rng(seed)
    x = X0 + rng.uniform(0, NX * SIZE, n)
    y = Y0 + rng.uniform(0, NY * SIZE, n)
    x[:2] = X0 - 3000  # outside every unit
    pts = gpd.GeoSeries(shapely.points(x, y), crs=UTM).to_crs(4326)
    years = rng.integers(2008, 2022, n)
    grades = [("" if 2022 - yr <= 5 else str(2022 - yr - 5)) for yr in years]
    return pd.DataFrame({
        "household_id": [f"H{i:03d}" for i in range(n)],
        "birth_date": [f"{yr}-03-15" for yr in years],
        "grade": grades,
        "lon": pts.x.round(7), "lat": pts.y.round(7),
    })


def barrier_frame() -> gpd.GeoDataFrame:
    x = X0 + 2 * SIZE
    return gpd.GeoDataFrame({"name": ["包兰铁路（测试段）"], "kind": ["railway"]},
                            geometry=[shapely.LineString([(x, Y0 - 200), (x, Y0 + NY * SIZE + 200)])],
                            crs=UTM).to_crs(4326)


def road_frame() -> gpd.GeoDataFrame:
    lines = []
    for i in range(NX + 1):
        lines.append(shapely.LineString([(X0 + i * SIZE - 250 if i else X0 + 250, Y0 + 250),
                                         (X0 + i * SIZE - 250 if i else X0 + 250, Y0 + NY * SIZE - 250)]))
    for j in range(NY):
        lines.append(shapely.LineString([(X0 + 250, Y0 + j * SIZE + 250), (X0 + NX * SIZE - 250, Y0 + j * SIZE + 250)]))
    return gpd.GeoDataFrame({"name": [f"测试路{k}" for k in range(len(lines))]}, geometry=lines, crs=UTM).to_crs(4326)


SCENARIO = """base_year = 2022
target_year = 2025
horizon = 2027
"""


def write_clean_folder(folder: Path, households: bool = True, extras: bool = True) -> Path:
    """Write the clean test folder (GeoJSON + CSV) and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    school_frame().to_file(folder / "schools.geojson", driver="GeoJSON")
    unit_frame().to_file(folder / "units.geojson", driver="GeoJSON")
    if households:
        households_frame().to_csv(folder / "households.csv", index=False)
    if extras:
        pd.DataFrame({"school_id": ["S01", "S02", "S03"], "year": [2023, 2023, 2023], "grade": [1, 1, 7],
                      "planned_classes": [2, 3, 5], "planned_students": [90, 135, 250]}).to_csv(
            folder / "plan.csv", index=False)
        pd.DataFrame({"student_id": ["P001", "P002", "P003"], "school_id": ["S01", "S02", "S03"],
                      "grade": [1, 1, 7], "class_id": ["1", "1", "2"], "entry": ["新生", "转入", "在读"],
                      "unit_id": ["U01", "U03", "U05"]}).to_csv(folder / "roster.csv", index=False)
        barrier_frame().to_file(folder / "barriers.geojson", driver="GeoJSON")
        road_frame().to_file(folder / "roads.geojson", driver="GeoJSON")
        (folder / "scenario.toml").write_text(SCENARIO, encoding="utf-8")
    return folder
