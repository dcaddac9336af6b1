"""Road-network distances, barriers and crossings, unreachable units, the cache, routes."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point

from geodata import network as nw
from geodata.pairs import candidate_pairs
from tests._network_fixtures import CRS, river_town
from zoning.scenario import Scenario


def _scenario(**kw):
    return Scenario(levels=("primary",), **kw)


def _pair(p, unit, school):
    row = p[(p["unit"] == unit) & (p["school"] == school)]
    assert len(row) == 1, (unit, school)
    return row.iloc[0]


def test_river_and_one_bridge_network_distance_is_hand_computed():
    units, schools, roads, barriers, crossings = river_town()
    p = candidate_pairs(units, schools, _scenario(), roads=roads, barriers=barriers)
    assert p.attrs["distance_source"] == "network"
    U, V, W, N, S = 0, 1, 2, 0, 1
    assert _pair(p, U, N)["distance_m"] == pytest.approx(1800.0)
    assert _pair(p, U, N)["straight_m"] == pytest.approx(200.0)
    assert _pair(p, U, S)["distance_m"] == pytest.approx(400.0)
    assert _pair(p, V, N)["distance_m"] == pytest.approx(1000.0)
    assert _pair(p, W, S)["distance_m"] == pytest.approx(500.0)
    # the straight-line plan sends U across the river to N; the network plan keeps it south
    nearest_straight = p.loc[p.groupby("unit")["straight_m"].idxmin()].set_index("unit")["school"]
    nearest_network = p.loc[p.groupby("unit")["distance_m"].idxmin()].set_index("unit")["school"]
    assert nearest_straight[U] == N and nearest_network[U] == S
    # crossing the canal: U→N would be a 9x detour; V→N uses the bridge at 1.21x
    assert _pair(p, U, N)["crosses_barrier"]
    assert _pair(p, U, N)["barrier"] == "唐徕渠"
    assert not _pair(p, V, N)["crosses_barrier"]
    assert not _pair(p, U, S)["crosses_barrier"] and _pair(p, U, S)["barrier"] is None
    assert p["reachable"].all()
    assert list(p.columns[:6]) == ["unit", "school", "level", "distance_m", "crosses_barrier", "reachable"]


def test_straight_line_without_roads_and_with_use_roads_off():
    units, schools, roads, barriers, crossings = river_town()
    p = candidate_pairs(units, schools, _scenario(), barriers=barriers)
    assert p.attrs["distance_source"] == "straight"
    assert "未提供道路数据，距离按直线计算" in p.attrs["notes"]
    assert np.allclose(p["distance_m"], p["straight_m"])
    assert _pair(p, 0, 0)["distance_m"] == pytest.approx(200.0)
    # no crossings given and no network: every straight line over the canal is flagged
    assert _pair(p, 0, 0)["crosses_barrier"] and _pair(p, 1, 0)["crosses_barrier"]
    off = candidate_pairs(units, schools, _scenario(use_roads=False), roads=roads)
    assert off.attrs["distance_source"] == "straight"
    assert any("use_roads" in n for n in off.attrs["notes"])


def test_named_crossing_without_network_uses_crow_flies_detour():
    units, schools, roads, barriers, crossings = river_town()
    p = candidate_pairs(units, schools, _scenario(), barriers=barriers, crossings=crossings)
    # U→N via the bridge: 2 × √(800² + 100²) ≈ 1612 m > 1.5 × 200 m
    assert _pair(p, 0, 0)["crosses_barrier"]
    # V→N via the bridge: 100 + √(800² + 100²) ≈ 906 m <= 1.5 × 824.6 m
    assert not _pair(p, 1, 0)["crosses_barrier"]
    strict = candidate_pairs(units, schools, _scenario(barrier_detour=1.05), barriers=barriers, crossings=crossings)
    assert _pair(strict, 1, 0)["crosses_barrier"]


def test_unnamed_road_over_the_canal_is_not_a_safe_crossing_when_crossings_are_named():
    units, schools, roads, barriers, crossings = river_town(extra_ford=True)
    # without a crossings layer every road over the canal is a crossing: U→N is 200 m and fine
    p = candidate_pairs(units, schools, _scenario(), roads=roads, barriers=barriers)
    assert _pair(p, 0, 0)["distance_m"] == pytest.approx(200.0)
    assert not _pair(p, 0, 0)["crosses_barrier"]
    # with the bridge named, the ford is not a crossing for children: the safe walk is 1800 m
    q = candidate_pairs(units, schools, _scenario(), roads=roads, barriers=barriers, crossings=crossings)
    assert _pair(q, 0, 0)["distance_m"] == pytest.approx(200.0)  # the trip length is still the road's
    assert _pair(q, 0, 0)["crosses_barrier"]
    assert not _pair(q, 1, 0)["crosses_barrier"]  # V walks over the named bridge
    lax = candidate_pairs(units, schools, _scenario(barrier_detour=10.0), roads=roads, barriers=barriers, crossings=crossings)
    assert not _pair(lax, 0, 0)["crosses_barrier"]  # 1800 <= 10 × 200


def test_unreachable_units_are_reported():
    units, schools, roads, barriers, crossings = river_town()
    # a hamlet with its own lane, not connected to the town's streets
    lane = gpd.GeoDataFrame({"name": ["断头路"]}, geometry=[LineString([(3000, 3000), (3300, 3000)])], crs=CRS)
    hamlet = gpd.GeoDataFrame({"unit_id": ["H"], "name": ["孤庄"], "primary_school": [None], "junior_school": [None]},
                              geometry=[Point(3100, 3010)], crs=CRS)
    units2 = pd.concat([units, hamlet], ignore_index=True)
    roads2 = pd.concat([roads, lane], ignore_index=True)
    p = candidate_pairs(units2, schools, _scenario(), roads=roads2)
    h = p[p["unit"] == 3]
    assert len(h) == 2 and not h["reachable"].any()
    assert p[p["unit"] < 3]["reachable"].all()
    assert np.allclose(h["distance_m"], h["straight_m"] * nw.DETOUR_FACTOR)
    assert any("孤庄" in n and "到不了" in n for n in p.attrs["notes"])
    assert any("不连通" in n and "2 对" in n for n in p.attrs["notes"])


def test_unit_far_from_roads_falls_back_to_detour_factor():
    units, schools, roads, barriers, crossings = river_town()
    far = gpd.GeoDataFrame({"unit_id": ["F"], "name": ["远郊村"], "primary_school": [None], "junior_school": [None]},
                           geometry=[Point(500, -900)], crs=CRS)
    p = candidate_pairs(pd.concat([units, far], ignore_index=True), schools, _scenario(), roads=roads)
    f = p[p["unit"] == 3]
    assert f["reachable"].all()
    assert np.allclose(f["distance_m"], f["straight_m"] * 1.3)
    assert any("远郊村" in n and "500 米" in n for n in p.attrs["notes"])


def test_cache_is_used_and_invalidated_when_roads_change(tmp_path):
    units, schools, roads, barriers, crossings = river_town()
    cache = tmp_path / "cache"
    p1 = candidate_pairs(units, schools, _scenario(), roads=roads, barriers=barriers, cache_dir=cache)
    files = sorted(cache.glob("*.npz"))
    assert len(files) == 1
    # prove the second run reads the file: doctor the cached distances and see them come back
    with np.load(files[0]) as z:
        data = {k: z[k] for k in z.files}
    data["network_m"] = data["network_m"] + 7.0
    np.savez(files[0], **data)
    p2 = candidate_pairs(units, schools, _scenario(), roads=roads, barriers=barriers, cache_dir=cache)
    assert np.allclose(p2["distance_m"], p1["distance_m"] + 7.0)
    assert len(list(cache.glob("*.npz"))) == 1
    # move the bridge to x = 200: a new key, recomputed, the doctored file is not read
    units_b, schools_b, roads_b, barriers_b, _ = river_town(bridge_x=200.0)
    p3 = candidate_pairs(units_b, schools_b, _scenario(), roads=roads_b, barriers=barriers_b, cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 2
    # U→N now: 100 east + 200 over the bridge + 100 west = 400 m
    assert _pair(p3, 0, 0)["distance_m"] == pytest.approx(400.0)
    # a broken cache file is recomputed, not trusted
    files[0].write_bytes(b"not a cache")
    p4 = candidate_pairs(units, schools, _scenario(), roads=roads, barriers=barriers, cache_dir=cache)
    assert np.allclose(p4["distance_m"], p1["distance_m"])
    assert not list(cache.glob(".tmp-*"))


def test_build_network_joins_shared_vertices_not_overpasses():
    roads = gpd.GeoDataFrame({"layer": [0, 0, 1]}, geometry=[
        LineString([(0, 0), (100, 0)]),
        LineString([(100.2, 0.1), (100, 100)]),   # meets the first within the node tolerance
        LineString([(50, -50), (50, 50)]),        # an overpass (layer 1): crosses the first, no junction
    ], crs=CRS)
    net = nw.build_network(roads, node_tolerance_m=0.5, max_segment_m=None)
    assert net.n_nodes == 5
    assert len(np.unique(net.component)) == 2
    ends, _ = nw.snap(net, np.array([[0.0, 0.0], [100.0, 100.0]]))
    d = nw.path_lengths(net, ends[:1], ends[1:])
    assert d[0] == pytest.approx(100 + np.hypot(0.2, 99.9))
    node, dist = nw.snap(net, np.array([[50.0, 0.0]]))
    assert dist[0] > 1  # the overpass has no node at the crossing


def test_route_lines_follow_the_network():
    units, schools, roads, barriers, crossings = river_town()
    net = nw.build_network(roads)
    pairs = pd.DataFrame({"unit": [0, 0, 2], "school": [0, 1, 1]})
    routes = nw.route_lines(net, units, schools, pairs)
    assert list(routes.columns) == ["unit", "school", "distance_m", "on_network", "geometry"]
    assert routes.crs == roads.crs and routes["on_network"].all()
    assert np.allclose(routes["distance_m"], [1800.0, 400.0, 500.0])
    assert np.allclose(routes.length, routes["distance_m"])
    assert routes.geometry.iloc[0].distance(Point(900, 500)) < 1e-6  # over the bridge
    assert routes.geometry.iloc[0].coords[0] == (100.0, 400.0) and routes.geometry.iloc[0].coords[-1] == (100.0, 600.0)
    # a unit off the network gets a straight line
    far = np.array([[500.0, -900.0]])
    r2 = nw.route_lines(net, far, schools, pd.DataFrame({"unit": [0], "school": [1]}))
    assert not r2["on_network"].iloc[0] and r2.length.iloc[0] == pytest.approx(np.hypot(400, 900))


def test_segments_crossing_barriers_names_the_barrier():
    bars = gpd.GeoDataFrame({"name": ["包兰铁路", None]},
                            geometry=[LineString([(0, -10), (0, 10)]), LineString([(5, -10), (5, 10)])], crs=CRS)
    a = np.array([[-1.0, 0], [-1, 0], [1, 0], [np.nan, np.nan]])
    b = np.array([[1.0, 0], [-2, 0], [6, 0], [1, 1]])
    cross, name = nw.segments_crossing_barriers(a, b, bars)
    assert cross.tolist() == [True, False, True, False]
    assert name.tolist() == ["包兰铁路", None, "障碍线2", None]


def test_default_cache_dir(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    assert nw.default_cache_dir(data) == tmp_path / ".zoning_cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert nw.default_cache_dir("sample") == tmp_path / "xdg" / "pingluo-zoning"
    assert nw.default_cache_dir(None) == tmp_path / "xdg" / "pingluo-zoning"


def test_bounded_search_falls_back_to_exact():
    units, schools, roads, barriers, crossings = river_town()
    net = nw.build_network(roads)
    u, _ = nw.snap(net, nw.point_xy(units))
    s, _ = nw.snap(net, nw.point_xy(schools))
    src, dst = s[[0, 1, 0]], u[[0, 0, 1]]
    exact = nw.path_lengths(net, src, dst)
    assert np.allclose(exact, [1800.0, 400.0, 1000.0])
    assert np.allclose(nw.path_lengths(net, src, dst, bound=np.array([1.0, 1.0, 1.0])), exact)
    assert np.allclose(nw.path_lengths(net, src, dst, bound=np.full(3, 1e9)), exact)


def test_assignment_routes_for_the_proposal_folder():
    units, schools, roads, barriers, crossings = river_town()
    assignments = pd.DataFrame({"unit_id": ["U", "V", "W", "GHOST"], "level": ["primary"] * 4,
                                "school_id": ["S", "N", None, "S"], "students": [30, 20, 10, 5]})
    routes = nw.assignment_routes(units, schools, roads, assignments)
    assert routes.crs.to_epsg() == 4326
    assert list(routes.columns) == ["unit_id", "level", "school_id", "distance_m", "on_network", "geometry"]
    assert routes["unit_id"].tolist() == ["U", "V"]  # no school, unknown unit: skipped
    assert routes["distance_m"].tolist() == [400.0, 1000.0]
    assert "students" not in routes.columns
    # back in metres the lines are as long as the walks
    assert np.allclose(routes.to_crs(CRS).length, [400.0, 1000.0], atol=0.01)
    straight = nw.assignment_routes(units, schools, None, assignments)
    assert not straight["on_network"].any()
    assert np.allclose(straight["distance_m"], [400.0, np.hypot(800, 200)], atol=0.1)


def test_safe_network_keeps_roads_along_a_barrier_and_named_crossings():
    # a trunk road that is itself a barrier (y = 0), a side road over it at a named level
    # crossing (x = 0), another over it at x = 500, unnamed, and streets at y = ±300 joining them
    trunk = LineString([(-1000, 0), (0, 0), (500, 0), (1000, 0)])
    roads = gpd.GeoDataFrame(geometry=[trunk, LineString([(0, -300), (0, 0), (0, 300)]),
                                       LineString([(500, -300), (500, 0), (500, 300)]),
                                       LineString([(0, -300), (500, -300)]), LineString([(0, 300), (500, 300)])],
                             crs=CRS)
    barrier = gpd.GeoDataFrame({"name": ["国道109线"]}, geometry=[LineString([(-1000, 0), (1000, 0)])], crs=CRS)
    named = gpd.GeoDataFrame({"name": ["平交口"]}, geometry=[Point(0, 0)], crs=CRS)
    net = nw.build_network(roads, max_segment_m=None)
    safe = nw.safe_network(net, barrier, named)
    ends, _ = nw.snap(net, np.array([[500.0, -300], [500.0, 300], [1000.0, 0], [-1000.0, 0]]))
    # along the trunk road: still connected, full length
    assert nw.path_lengths(safe, ends[2:3], ends[3:4])[0] == pytest.approx(2000.0)
    # over the road at x = 500: only by the named crossing at x = 0
    assert nw.path_lengths(net, ends[:1], ends[1:2])[0] == pytest.approx(600.0)
    assert nw.path_lengths(safe, ends[:1], ends[1:2])[0] == pytest.approx(500 + 600 + 500)
    assert safe.n_edges == net.n_edges - 2
    assert nw.safe_network(net, barrier, None) is net


def test_roads_far_from_everything_are_not_used():
    units, schools, roads, barriers, crossings = river_town()
    remote = roads.copy()
    remote["geometry"] = roads.translate(50_000, 0)
    p = candidate_pairs(units, schools, _scenario(), roads=remote)
    assert p.attrs["distance_source"] == "straight"
    assert np.allclose(p["distance_m"], p["straight_m"])
    assert any("道路数据未能使用" in n for n in p.attrs["notes"])
    assert not any("1.3" in n for n in p.attrs["notes"])


def test_large_village_reached_by_a_road_at_its_edge_is_on_the_network():
    units, schools, roads, barriers, crossings = river_town()
    # a village 1.6 km wide east of the town: its centre (1800, 450) is 802 m from the nearest road
    # node (1000, 400), more than the 500 m snap, but the town's streets end on its west edge
    village = gpd.GeoDataFrame({"unit_id": ["X"], "name": ["东大村"], "primary_school": [None], "junior_school": [None]},
                               geometry=[shapely.box(1000, 0, 2600, 900)], crs=CRS)
    p = candidate_pairs(pd.concat([units, village], ignore_index=True), schools, _scenario(), roads=roads)
    x = _pair(p, 3, 1)
    assert x["distance_m"] == pytest.approx(np.hypot(800, 50) + 900 + 400)
    assert not any("东大村" in n for n in p.attrs["notes"])
    # the same village 600 m further east, with no road reaching it, is estimated and noted
    away = village.copy()
    away["geometry"] = village.translate(600, 0)
    q = candidate_pairs(pd.concat([units, away], ignore_index=True), schools, _scenario(), roads=roads)
    y = _pair(q, 3, 1)
    assert y["distance_m"] == pytest.approx(y["straight_m"] * 1.3)
    assert any("东大村" in n for n in q.attrs["notes"])


def test_reach_summary_counts_components_and_who_reaches_the_network():
    # two road pieces that never meet: a school on the first; units on each piece and one far away
    roads = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)]), LineString([(0, 2000), (1000, 2000)])],
                             crs=CRS)
    net = nw.build_network(roads)
    units = np.array([[100.0, 10.0], [900.0, 2010.0], [500.0, 5000.0]])
    schools = np.array([[500.0, 5.0]])
    got = nw.reach_summary(net, units, schools, snap_m=200)
    assert got == {"components": 2, "units": 3, "units_on_network": 2, "units_reaching_a_school": 1,
                   "schools": 1, "schools_on_network": 1}
    # a unit the road reaches at its edge counts as on the network
    got = nw.reach_summary(net, units, schools, unit_near=np.array([False, False, True]), snap_m=200)
    assert got["units_on_network"] == 3 and got["units_reaching_a_school"] == 1
