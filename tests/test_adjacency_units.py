"""Unit adjacency: rook polygons, islands, barrier cuts, point units, real blocks."""
from __future__ import annotations

import time

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from geodata.adjacency import adjacency_notes, unit_adjacency
from tests._network_fixtures import CRS, REALDATA, ascii_units

# Letters are units, "." is empty land, "|" a canal along the edge between two cells.
# The canal runs down between columns 2 and 3 for two rows and stops: a2-2 and b2-3 stay
# neighbours round its end. c (row 4) stands alone; d touches b only at a corner.
RIVER = """
a a a|b b .
a a a|b b .
a a a b b .
. . . . . d
. c . . . .
"""


def _pairs(adj):
    return set(zip(adj.edges["i"].tolist(), adj.edges["j"].tolist()))


def _rook_by_hand(pos):
    out = set()
    for (r, c), i in pos.items():
        for dr, dc in ((0, 1), (1, 0)):
            j = pos.get((r + dr, c + dc))
            if j is not None:
                out.add((min(i, j), max(i, j)))
    return out


def test_drawn_grid_rook_islands_and_cut():
    units, barriers, pos = ascii_units(RIVER)
    adj = unit_adjacency(units, barriers)
    cut_by_hand = {(pos[(0, 2)], pos[(0, 3)]), (pos[(1, 2)], pos[(1, 3)])}
    assert _pairs(adj) == _rook_by_hand(pos) - cut_by_hand
    assert len(adj.edges) == 12 + 7 + 1  # a block, b block, the one a–b edge round the canal's end
    assert set(zip(adj.cut["i"], adj.cut["j"])) == cut_by_hand
    assert set(adj.cut["barrier"]) == {"河道"}
    assert adj.islands == sorted([pos[(4, 1)], pos[(3, 5)]])
    assert adj.n_components == 3
    ab = [pos[rc] for rc in pos if units.loc[pos[rc], "letter"] in "ab"]
    assert len(set(adj.components[ab])) == 1
    e = adj.edges
    assert (e["i"] < e["j"]).all() and not e.duplicated(["i", "j"]).any()
    assert e[["i", "j"]].equals(e[["i", "j"]].sort_values(["i", "j"]))
    assert np.allclose(e["shared_m"], 100.0, atol=0.5)
    notes = adjacency_notes(adj, units["name"].tolist())
    assert any("c4-1" in n and "d3-5" in n for n in notes)
    assert any("河道 2 处" in n for n in notes)


def test_barrier_all_the_way_splits_into_two_components():
    drawing = """
a a|b
a a|b
a a|b
"""
    units, barriers, pos = ascii_units(drawing)
    adj = unit_adjacency(units, barriers)
    assert adj.n_components == 2
    assert len(adj.cut) == 3
    assert adj.islands == []
    # no barrier: one piece, with the three edges back
    plain = unit_adjacency(units)
    assert plain.n_components == 1 and len(plain.edges) == len(adj.edges) + 3 and len(plain.cut) == 0


def test_unit_ringed_by_barriers_is_an_island():
    # "-" under a row: a barrier along the bottom of the cell above it
    drawing = """
a a a
  -
a|a|a
  -
a a a
"""
    units, barriers, pos = ascii_units(drawing)
    assert len(barriers) == 1  # the four edges merge into one closed line
    adj = unit_adjacency(units, barriers)
    assert adj.islands == [pos[(1, 1)]]
    assert adj.n_components == 2
    assert len(adj.cut) == 4 and set(adj.cut["i"]).union(adj.cut["j"]) >= {pos[(1, 1)]}


def test_gaps_and_slivers_within_tolerance():
    # 3 x 3 blocks shrunk by 0.3 m on every side (0.6 m gaps), one pair overlapping by 0.4 m
    cells = [box(c * 100 + 0.3, r * 100 + 0.3, (c + 1) * 100 - 0.3, (r + 1) * 100 - 0.3) for r in range(3) for c in range(3)]
    cells[1] = box(100 - 0.7, 0.3, 200 - 0.3, 100 - 0.3)  # overlaps cell 0 by 0.4 m
    units = gpd.GeoDataFrame(geometry=cells, crs=CRS)
    adj = unit_adjacency(units, tolerance_m=1.0)
    assert len(adj.edges) == 12 and adj.islands == []
    # a 3 m gap is a street, not a sliver: with 1 m tolerance nothing touches
    far = gpd.GeoDataFrame(geometry=[box(c * 103, r * 103, c * 103 + 100, r * 103 + 100) for r in range(3) for c in range(3)], crs=CRS)
    adj_far = unit_adjacency(far, tolerance_m=1.0)
    assert len(adj_far.edges) == 0 and adj_far.islands == list(range(9))
    assert len(unit_adjacency(far, tolerance_m=3.5).edges) == 12


def test_point_contact_is_not_rook_but_short_shared_edge_is():
    a = box(0, 0, 100, 100)
    b = box(100, 100, 200, 200)  # corner only
    c = box(100, 95, 200, 99.999)  # shares 5 m of a's east side
    adj = unit_adjacency(gpd.GeoDataFrame(geometry=[a, b], crs=CRS))
    assert len(adj.edges) == 0 and adj.islands == [0, 1]
    adj2 = unit_adjacency(gpd.GeoDataFrame(geometry=[a, c], crs=CRS))
    assert _pairs(adj2) == {(0, 1)}
    assert adj2.edges["shared_m"].iloc[0] == pytest.approx(5.0, abs=0.5)


def test_point_units_delaunay_long_edges_dropped_and_cut():
    xs, ys = np.meshgrid(np.arange(5) * 100.0, np.arange(5) * 100.0)
    pts = [Point(x, y) for x, y in zip(xs.ravel(), ys.ravel())] + [Point(3000, 3000)]
    units = gpd.GeoDataFrame({"name": [f"村{i}" for i in range(len(pts))]}, geometry=pts, crs=CRS)
    adj = unit_adjacency(units)
    lengths = np.hypot(*(np.array([[p.x, p.y] for p in pts])[adj.edges["i"]] -
                         np.array([[p.x, p.y] for p in pts])[adj.edges["j"]]).T)
    assert adj.islands == [25]  # the far village
    assert lengths.max() <= 3 * 100 * np.sqrt(2)
    # every rook pair of the lattice is a Delaunay edge
    assert all((i, i + 1) in _pairs(adj) for i in range(25) if i % 5 != 4)
    assert all((i, i + 5) in _pairs(adj) for i in range(20))
    assert adj.n_components == 2
    canal = gpd.GeoDataFrame({"name": ["惠农渠"]}, geometry=[LineString([(250, -50), (250, 450)])], crs=CRS)
    cut = unit_adjacency(units, canal)
    assert cut.n_components == 3
    assert len(cut.cut) > 0 and set(cut.cut["barrier"]) == {"惠农渠"}
    xs_i = np.array([p.x for p in pts])
    assert ((xs_i[cut.edges["i"]] < 250) == (xs_i[cut.edges["j"]] < 250)).all()


def test_points_and_polygons_mixed():
    units, _, pos = ascii_units("""
a a a
a . a
a a a
""")
    mixed = gpd.GeoDataFrame(
        {"name": list(units["name"]) + ["中心点"]},
        geometry=list(units.geometry) + [Point(150, -150)],
        crs=CRS,
    )
    adj = unit_adjacency(mixed)
    centre = len(units)
    neigh = adj.neighbours(centre)
    assert {pos[(0, 1)], pos[(1, 0)], pos[(1, 2)], pos[(2, 1)]} <= set(neigh)
    assert adj.islands == [] and adj.n_components == 1
    # polygon pairs keep rook rules (no diagonal edge among the ring of cells)
    assert (pos[(0, 0)], pos[(1, 2)]) not in _pairs(adj)


def test_empty_and_missing_geometries_are_islands():
    units = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), None, box(1, 0, 2, 1), shapely.Polygon()], crs=CRS)
    adj = unit_adjacency(units)
    assert _pairs(adj) == {(0, 2)}
    assert adj.islands == [1, 3]
    assert len(adj.components) == 4


def test_geographic_input_is_projected():
    # 0.001 degree cells near Pingluo (106.5 E, 38.9 N): about 87 m x 111 m
    cells = [box(106.5 + c * 0.001, 38.9 + r * 0.001, 106.5 + (c + 1) * 0.001, 38.9 + (r + 1) * 0.001)
             for r in range(2) for c in range(2)]
    adj = unit_adjacency(gpd.GeoDataFrame(geometry=cells, crs="EPSG:4326"))
    assert len(adj.edges) == 4
    assert adj.edges["shared_m"].between(80, 115).all()


@pytest.mark.realdata
def test_santa_rosa_blocks_official_zones_connected():
    path = REALDATA / "santa_rosa_2025" / "units.geojson"
    if not path.exists():
        pytest.skip("../shared/realdata is not present")
    units = gpd.read_file(path)
    t0 = time.perf_counter()
    adj = unit_adjacency(units)
    assert time.perf_counter() - t0 < 10
    assert isinstance(adj.islands, list)
    assert adj.islands == []  # every block touches another along an edge
    graph = nx.Graph()
    graph.add_nodes_from(range(len(units)))
    graph.add_edges_from(adj.edges[["i", "j"]].to_numpy().tolist())
    for school, zone in units.groupby("primary_school"):
        assert nx.is_connected(graph.subgraph(zone.index.tolist())), school
    # independent check against exact rook (shared boundary length from shapely): every pair that
    # shares at least 3 m of boundary is found, and nothing far apart is joined
    g = units.to_crs(units.estimate_utm_crs()).geometry.values
    a, b = shapely.STRtree(g).query(g, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    shared = shapely.length(shapely.intersection(shapely.boundary(g[a]), shapely.boundary(g[b])))
    exact = set(zip(a[shared >= 3].tolist(), b[shared >= 3].tolist()))
    mine = _pairs(adj)
    assert exact <= mine
    i, j = adj.edges["i"].to_numpy(), adj.edges["j"].to_numpy()
    assert (shapely.distance(g[i], g[j]) <= 1.0).all()
    assert len(mine) <= len(exact) * 1.05


@pytest.mark.slow
def test_ten_thousand_polygons_fast():
    rng = np.random.default_rng(7)
    frame = shapely.box(0, 0, 20000, 20000)
    vor = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(rng.uniform(0, 20000, (10000, 2))), extend_to=frame))
    units = gpd.GeoDataFrame(geometry=shapely.intersection(vor, frame), crs=CRS)
    rail = gpd.GeoDataFrame({"name": ["包兰铁路"]}, geometry=[LineString([(0, 0), (20000, 20000)])], crs=CRS)
    t0 = time.perf_counter()
    adj = unit_adjacency(units, rail)
    elapsed = time.perf_counter() - t0
    assert elapsed < 15, elapsed
    # Voronoi cells of points in general position: planar graph, about 3 edges per cell
    assert 2.8 * 10000 < len(adj.edges) + len(adj.cut) < 3 * 10000
    # the railway (corner to corner) splits the county into two pieces, by representative point
    xy = np.column_stack([shapely.get_x(units.representative_point().values), shapely.get_y(units.representative_point().values)])
    side = xy[:, 1] > xy[:, 0]
    assert adj.n_components == 2
    assert (side[adj.edges["i"]] == side[adj.edges["j"]]).all()
