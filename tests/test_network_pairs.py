"""Which unit–school pairs are candidates: k nearest, free radius, current zone, locks, levels."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Point, box

from geodata.pairs import candidate_pairs
from tests._network_fixtures import CRS, REALDATA
from zoning.policy import SERVES
from zoning.scenario import Scenario, scenario_from_dict


def _town():
    """Ten units along a street (x = 0, 1000, …, 9000), schools along a parallel street 100 m north."""
    units = gpd.GeoDataFrame(
        {
            "unit_id": [f"U{k}" for k in range(10)],
            "name": [f"小区{k}" for k in range(10)],
            "primary_school": ["P9"] + ["P0"] * 8 + ["NOPE"],
            "junior_school": ["J0"] * 9 + ["P0"],
        },
        geometry=[box(k * 1000 - 50, -50, k * 1000 + 50, 50) for k in range(10)],
        crs=CRS,
    )
    xs = {"P0": 0, "P3": 3000, "P6": 6000, "P9": 9000, "J0": 500, "J8": 8500, "N5": 5000}
    levels = {"P0": "primary", "P3": "primary", "P6": "primary", "P9": "primary",
              "J0": "junior", "J8": "junior", "N5": "nine_year"}
    schools = gpd.GeoDataFrame(
        {"school_id": list(xs), "name": [f"学校{s}" for s in xs], "level": [levels[s] for s in xs],
         "close_year": [2024 if s == "P3" else None for s in xs]},
        geometry=[Point(x, 100) for x in xs.values()],
        crs=CRS,
    )
    return units, schools


def _sc(**caps):
    data = {"caps": {"primary": {"k_nearest": 1, "free_km": 0.0}, "junior": {"k_nearest": 1, "free_km": 0.0}}}
    for lv, c in caps.items():
        data["caps"][lv].update(c)
    return scenario_from_dict(data)


def _cands(p, level):
    q = p[p["level"] == level]
    return {u: set(g["school"]) for u, g in q.groupby("unit")}


def test_k_nearest_current_and_levels():
    units, schools = _town()
    sid = {s: k for k, s in enumerate(schools["school_id"])}
    p = candidate_pairs(units, schools, _sc())
    prim = _cands(p, "primary")
    # nearest primary-serving school (P0, P3, P6, P9 and the nine-year N5) plus the current one
    assert prim[0] == {sid["P0"], sid["P9"]}
    assert prim[1] == {sid["P0"]}
    assert prim[5] == {sid["N5"], sid["P0"]}
    assert prim[3] == {sid["P3"], sid["P0"]}  # P3 closes in 2024 but is still a candidate
    assert prim[9] == {sid["P9"]}  # its current id is unknown: noted, ignored
    jun = _cands(p, "junior")
    assert jun[5] == {sid["N5"], sid["J0"]}  # nine-year serves junior too
    assert jun[9] == {sid["J8"]}  # current "P0" is a primary school: not a junior candidate
    for level in ("primary", "junior"):
        served = {k for k, lv in enumerate(schools["level"]) if level in SERVES[lv]}
        assert set(p.loc[p["level"] == level, "school"]) <= served
    notes = " ".join(p.attrs["notes"])
    assert "NOPE" in notes and "找不到" in notes
    assert "P0" in notes and "不招收初中" in notes
    # sorted, one row per unit/school/level, right dtypes
    assert not p.duplicated(["unit", "school", "level"]).any()
    assert p["level"].tolist() == sorted(p["level"].tolist(), key=["primary", "junior"].index)
    assert p["unit"].dtype == np.int64 and p["school"].dtype == np.int64
    assert p["crosses_barrier"].dtype == bool and p["reachable"].dtype == bool
    assert (p["distance_m"] >= 0).all()


def test_free_radius_and_k_and_locks():
    units, schools = _town()
    sid = {s: k for k, s in enumerate(schools["school_id"])}
    p = candidate_pairs(units, schools, _sc(primary={"free_km": 3.1}))
    prim = _cands(p, "primary")
    # unit 4 at x = 4000: within 3.1 km of P3 (1000), N5 (1000), P6 (2000) and P9? no (5000)
    assert prim[4] == {sid["P3"], sid["N5"], sid["P6"], sid["P0"]}
    p3 = candidate_pairs(units, schools, _sc(primary={"k_nearest": 3}))
    assert _cands(p3, "primary")[4] == {sid["P3"], sid["N5"], sid["P6"], sid["P0"]}
    big_k = candidate_pairs(units, schools, _sc(primary={"k_nearest": 50}))
    assert all(len(v) == 5 for v in _cands(big_k, "primary").values())
    sc = _sc()
    sc.locks = {"U2": "P9", "U7": "J8", "GHOST": "P0"}
    locked = candidate_pairs(units, schools, sc)
    assert sid["P9"] in _cands(locked, "primary")[2]
    assert sid["J8"] in _cands(locked, "junior")[7] and sid["J8"] not in _cands(locked, "primary")[7]


def test_only_scenario_levels_and_point_units():
    units, schools = _town()
    pts = units.copy()
    pts["geometry"] = units.geometry.centroid
    sc = Scenario(levels=("junior",))
    p = candidate_pairs(pts, schools, sc)
    assert set(p["level"]) == {"junior"}
    q = candidate_pairs(units, schools, sc)
    assert np.allclose(p["straight_m"].to_numpy(), q["straight_m"].to_numpy())


def test_missing_unit_geometry_is_noted_not_paired():
    units, schools = _town()
    units.loc[3, "geometry"] = None
    p = candidate_pairs(units, schools, _sc())
    assert 3 not in set(p["unit"])
    assert any("小区3" in n and "没有位置" in n for n in p.attrs["notes"])


def test_no_school_for_a_level():
    units, schools = _town()
    prim_only = schools[schools["level"] == "primary"].reset_index(drop=True)
    p = candidate_pairs(units, prim_only, _sc())
    assert set(p["level"]) == {"primary"}
    assert any("没有招收初中学生的学校" in n for n in p.attrs["notes"])


@pytest.mark.realdata
def test_santa_rosa_geographic_input_distances_in_metres():
    upath = REALDATA / "santa_rosa_2025" / "units.geojson"
    if not upath.exists():
        pytest.skip("../shared/realdata is not present")
    units = gpd.read_file(upath)
    schools = gpd.read_file(REALDATA / "santa_rosa_2025" / "schools.geojson")
    p = candidate_pairs(units, schools, Scenario(levels=("primary",)))
    # every block has its 6 nearest schools, and its official zone school among the candidates
    assert (p.groupby("unit").size() >= 6).all()
    sid = {s: k for k, s in enumerate(schools["school_id"])}
    cur = units["primary_school"].map(sid).to_numpy()
    have = set(zip(p["unit"], p["school"]))
    assert all((u, cur[u]) in have for u in range(len(units)))
    # UTM distances agree with geodesic ones to 0.1 %
    rp = units.to_crs(units.estimate_utm_crs()).representative_point().to_crs(4326)  # same points as the tool
    geod = Geod(ellps="WGS84")
    sample = p.sample(200, random_state=1)
    _, _, d = geod.inv(rp.x.to_numpy()[sample["unit"]], rp.y.to_numpy()[sample["unit"]],
                       schools.geometry.x.to_numpy()[sample["school"]], schools.geometry.y.to_numpy()[sample["school"]])
    assert np.allclose(sample["distance_m"].to_numpy(), d, rtol=1e-3)
