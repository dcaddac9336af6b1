"""Adjacency and network distances on the bundled Pingluo sample (geodata/sample/data)."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geodata import network as nw
from geodata.adjacency import unit_adjacency
from geodata.pairs import candidate_pairs
from zoning.scenario import Scenario

SAMPLE = Path(__file__).resolve().parents[1] / "geodata" / "sample" / "data"
LAYERS = ("units", "schools", "roads", "barriers", "crossings")


@pytest.fixture(scope="module")
def sample():
    if not all((SAMPLE / f"{name}.geojson").exists() for name in LAYERS):
        pytest.skip("the bundled sample has not been generated")
    layers = {name: gpd.read_file(SAMPLE / f"{name}.geojson") for name in LAYERS}
    crs = nw.metric_crs(layers["units"])
    return {k: v.to_crs(crs) for k, v in layers.items()}


def test_sample_adjacency_respects_barriers(sample):
    units, barriers = sample["units"], sample["barriers"]
    adj = unit_adjacency(units, barriers)
    assert len(adj.cut) > 0
    assert set(adj.cut["barrier"]) <= set(barriers["name"])
    # independent check of the rule: no kept edge joins two units whose points lie on opposite
    # sides of a barrier that touches one of them
    xy = nw.point_xy(units)
    segs = shapely.linestrings(np.stack([xy[adj.edges["i"]], xy[adj.edges["j"]]], axis=1))
    geoms = units.geometry.values
    for line in barriers.geometry.values:
        hit = shapely.intersects(segs, line)
        touch = shapely.dwithin(line, geoms[adj.edges["i"]], 10.0) | shapely.dwithin(line, geoms[adj.edges["j"]], 10.0)
        assert not (hit & touch).any()
    # the county seat's compounds are not scattered: they form few pieces, none of them enormous
    town = np.flatnonzero(units["township"].to_numpy() == "城关镇") if "township" in units else np.arange(len(units))
    assert len(set(adj.components[town])) < len(town) / 3


def test_sample_county_seat_uses_network_distances(sample):
    p = candidate_pairs(sample["units"], sample["schools"], Scenario(), roads=sample["roads"],
                        barriers=sample["barriers"], crossings=sample["crossings"])
    assert p.attrs["distance_source"] == "network"
    assert (p["distance_m"] >= p["straight_m"] - 1e-6).all()
    units = sample["units"]
    if "township" in units:
        town = set(np.flatnonzero(units["township"].to_numpy() == "城关镇"))
        q = p[p["unit"].isin(town)]
        assert len(q) > 0
        on_network = ~np.isclose(q["distance_m"], q["straight_m"] * nw.DETOUR_FACTOR)
        assert on_network.mean() > 0.95
    # a flagged pair always has a straight line over a barrier
    flagged = p[p["crosses_barrier"]]
    assert flagged["barrier"].notna().all()
    assert set(flagged["barrier"]) <= set(sample["barriers"]["name"])
