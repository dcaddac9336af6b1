"""Point-unit counties for the always-a-plan tests (issue 18): random point sets with Delaunay
adjacency as plain tables, and a generated county of village points as a data folder."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import Delaunay
from shapely.geometry import Point

from zoning.problem import ZoningProblem

CRS = "EPSG:32648"  # UTM 48N (Pingluo)
ORIGIN = (640_000.0, 4_300_000.0)


def point_problem(xy, school_cells, sc, cut_x=None, pupils: int = 12) -> ZoningProblem:
    """Point units with Delaunay adjacency (edges crossing x = cut_x removed: a barrier with no
    crossing), schools at given units, current zones = nearest school, every pair a candidate."""
    n = len(xy)
    tri = Delaunay(xy, qhull_options="QJ")
    e = np.unique(np.sort(np.vstack([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]],
                                     tri.simplices[:, [0, 2]]]), axis=1), axis=0)
    if cut_x is not None:
        e = e[(xy[e[:, 0], 0] < cut_x) == (xy[e[:, 1], 0] < cut_x)]
    sxy = xy[school_cells]
    d = np.hypot(xy[:, None, 0] - sxy[None, :, 0], xy[:, None, 1] - sxy[None, :, 1])
    nearest = d.argmin(axis=1)
    units = pd.DataFrame({"unit_id": [f"U{i:04d}" for i in range(n)], "name": [f"村{i}" for i in range(n)],
                          "x": xy[:, 0], "y": xy[:, 1],
                          "primary_school": [f"S{k}" for k in nearest], "junior_school": None})
    for g in range(1, 7):
        units[f"students_g{g}"] = pupils
    for a in range(6):
        units[f"age_{a}"] = pupils
    schools = pd.DataFrame({"school_id": [f"S{k}" for k in range(len(sxy))],
                            "name": [f"学校{k}" for k in range(len(sxy))],
                            "level": "primary", "x": sxy[:, 0], "y": sxy[:, 1], "classrooms": 60,
                            "capacity": np.nan, "size_limit": np.nan, "class_limit": np.nan})
    counts = np.bincount(nearest, minlength=len(sxy))
    for g in range(1, 10):
        schools[f"enrolled_g{g}"] = counts * pupils if g <= 6 else 0
        schools[f"classes_g{g}"] = 0
    pairs = pd.DataFrame([(u, s, "primary", float(d[u, s])) for u in range(n) for s in range(len(sxy))],
                         columns=["unit", "school", "level", "distance_m"])
    return ZoningProblem.from_frames(units, schools, pd.DataFrame(e, columns=["i", "j"]), pairs, sc)


def write_county(folder: Path, n_villages: int = 1300, n_schools: int = 22, seed: int = 5,
                 size_km: float = 45.0) -> Path:
    """A county of village points (clustered around market towns, as on the loess plain) with
    ``n_schools`` primary schools at the towns; current zones = nearest school; a few schools
    crowded so that the plan has limits to mend. Writes ``units.geojson`` and ``schools.geojson``
    (points, UTM metres) and returns the folder."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    size = size_km * 1000.0
    towns = rng.uniform(0.08 * size, 0.92 * size, size=(n_schools, 2))
    which = rng.integers(0, n_schools, size=n_villages)
    spread = rng.uniform(2500, 6000, size=n_schools)
    xy = towns[which] + rng.normal(0, 1, size=(n_villages, 2)) * spread[which, None]
    xy = np.clip(xy, 0, size)
    d = np.hypot(xy[:, None, 0] - towns[None, :, 0], xy[:, None, 1] - towns[None, :, 1])
    nearest = d.argmin(axis=1)
    kids = rng.integers(1, 5, size=n_villages)  # pupils per grade: ~15,000 primary pupils in all
    units = gpd.GeoDataFrame({
        "unit_id": [f"V{i:04d}" for i in range(n_villages)],
        "name": [f"第{i}村" for i in range(n_villages)],
        "township": [f"镇{k}" for k in nearest],
        "primary_school": [f"P{k:02d}" for k in nearest],
        **{f"students_g{g}": kids for g in range(1, 7)},
        **{f"age_{a}": kids for a in range(6)},
    }, geometry=[Point(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in xy], crs=CRS)
    load = np.bincount(nearest, weights=kids * 6, minlength=n_schools)
    classes = np.maximum(1, np.ceil(np.bincount(nearest, weights=kids, minlength=n_schools) / 45)).astype(int)
    rooms = classes * 6 + 2
    rooms[:3] = np.maximum(6, classes[:3] * 6 - 6)  # three crowded town schools
    schools = gpd.GeoDataFrame({
        "school_id": [f"P{k:02d}" for k in range(n_schools)],
        "name": [f"第{k}小学" for k in range(n_schools)],
        "level": "primary",
        "classrooms": rooms,
        **{f"enrolled_g{g}": (load / 6).round().astype(int) for g in range(1, 7)},
        **{f"classes_g{g}": classes for g in range(1, 7)},
    }, geometry=[Point(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in towns], crs=CRS)
    units.to_file(folder / "units.geojson", driver="GeoJSON")
    schools.to_file(folder / "schools.geojson", driver="GeoJSON")
    return folder
