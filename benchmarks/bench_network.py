"""Benchmark: network distances for 2,000 units × 60 schools on a 50,000-edge road network.

Run ``python benchmarks/bench_network.py`` (seeded; about a minute). Times our pipeline
(``geodata.network``: graph build, snapping, chunked ``scipy.sparse.csgraph.dijkstra``) side by side
with a reference in the same run — networkx ``single_source_dijkstra_path_length`` once per school on
the same graph — checks that both give the same distances, and prints a table with the ratios. A
second part times ``geodata.pairs.candidate_pairs`` at 10,000 units × 200 schools (k nearest) and
reports the peak memory. Not part of pytest.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata import network as nw  # noqa: E402
from geodata.pairs import candidate_pairs  # noqa: E402
from zoning.scenario import Scenario  # noqa: E402

CRS = "EPSG:32648"


def synthetic_roads(n_side: int, spacing: float, rng: np.random.Generator, drop: float = 0.03) -> gpd.GeoDataFrame:
    """A jittered street grid, one two-point line per block edge, a few edges removed."""
    xs, ys = np.meshgrid(np.arange(n_side) * spacing, np.arange(n_side) * spacing)
    pts = np.column_stack([xs.ravel(), ys.ravel()]) + rng.normal(0, spacing * 0.1, (n_side * n_side, 2))
    idx = np.arange(n_side * n_side).reshape(n_side, n_side)
    a = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    b = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    keep = rng.random(len(a)) > drop
    lines = shapely.linestrings(np.stack([pts[a[keep]], pts[b[keep]]], axis=1))
    return gpd.GeoDataFrame(geometry=lines, crs=CRS)


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def networkx_distances(net: nw.RoadNetwork, unit_nodes, school_nodes, unit, school) -> np.ndarray:
    """Reference: one networkx Dijkstra per school on the same graph."""
    g = nx.Graph()
    u, v, w = net.edge_array()
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist()))
    out = np.full(len(unit), np.inf)
    for s in np.unique(school):
        lengths = nx.single_source_dijkstra_path_length(g, int(school_nodes[s]), weight="weight")
        sel = np.flatnonzero(school == s)
        out[sel] = [lengths.get(int(unit_nodes[k]), np.inf) for k in unit[sel]]
    return out


def part_one(rng, n_units=2000, n_schools=60):
    roads = synthetic_roads(161, 50.0, rng, drop=0.02)  # 161 × 161 nodes → about 50,500 edges
    extent = 160 * 50.0
    unit_xy = rng.uniform(0, extent, (n_units, 2))
    school_xy = rng.uniform(0, extent, (n_schools, 2))
    unit, school = (g.ravel() for g in np.meshgrid(np.arange(n_units), np.arange(n_schools), indexing="ij"))
    rows = []
    net, t_build = timed(nw.build_network, roads, max_segment_m=None)
    print(f"road network: {net.n_nodes:,} nodes, {net.n_edges:,} edges; pairs: {len(unit):,} "
          f"({n_units:,} units × {n_schools} schools)")
    t0 = time.perf_counter()
    g = nx.Graph()
    u, v, w = net.edge_array()
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist()))
    t_nx_build = time.perf_counter() - t0
    rows.append(("graph build (ours from lines, nx from edges)", t_build, t_nx_build))
    ours, t_ours = timed(nw.network_distances, net, unit_xy, school_xy, unit, school, snap_m=1e9)
    un, us = nw.snap(net, unit_xy)
    sn, ss = nw.snap(net, school_xy)
    ref, t_ref = timed(networkx_distances, net, un, sn, unit, school)
    ref = ref + us[unit] + ss[school]
    rows.append(("distances (snap + Dijkstra per school)", t_ours, t_ref))
    with tempfile.TemporaryDirectory() as tmp:
        nw.network_distances(net, unit_xy, school_xy, unit, school, snap_m=1e9, cache_dir=tmp)
        _, t_cached = timed(nw.network_distances, net, unit_xy, school_xy, unit, school, snap_m=1e9, cache_dir=tmp)
    rows.append(("distances, read from cache", t_cached, t_ref))
    diff = np.nanmax(np.abs(ours["network_m"].to_numpy() - ref))
    print(f"largest difference to networkx: {diff:.2e} m")
    assert diff < 1e-6, diff
    print()
    print(f"{'step':<46}{'ours (s)':>10}{'networkx (s)':>14}{'ratio':>9}")
    for name, a, b in rows:
        print(f"{name:<46}{a:>10.3f}{b:>14.3f}{b / a:>8.1f}x")


def part_two(rng, n_units=10000, n_schools=200):
    roads = synthetic_roads(159, 120.0, rng)
    extent = 158 * 120.0
    units = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(0, extent, (n_units, 2))), crs=CRS)
    levels = rng.choice(["primary", "junior", "nine_year"], n_schools, p=[0.6, 0.3, 0.1])
    schools = gpd.GeoDataFrame({"school_id": [f"S{k}" for k in range(n_schools)], "level": levels},
                               geometry=shapely.points(rng.uniform(0, extent, (n_schools, 2))), crs=CRS)
    barriers = gpd.GeoDataFrame({"name": ["铁路"]}, geometry=[shapely.LineString([(0, 0), (extent, extent)])], crs=CRS)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pairs, t = timed(candidate_pairs, units, schools, Scenario(), roads=roads, barriers=barriers)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print()
    print(f"candidate_pairs: {n_units:,} units × {n_schools} schools on {len(roads):,} road lines: "
          f"{len(pairs):,} pairs in {t:.2f} s; peak RSS {after / 1024:.0f} MB (+{(after - before) / 1024:.0f} MB)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20231)
    parser.add_argument("--skip-large", action="store_true", help="only the 2,000 × 60 comparison")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    part_one(rng)
    if not args.skip_large:
        part_two(rng)


if __name__ == "__main__":
    main()
