"""to_tables: the plain hand-over to zoning (real adjacency and pair computation)."""
from __future__ import annotations

import numpy as np
import pytest

from geodata.dataset import load_dataset
from geodata.tables import SCHOOL_COLUMNS, UNIT_COLUMNS, to_tables
from tests._geodata_fixtures import SIZE, X0, Y0, write_clean_folder
from zoning.scenario import Scenario


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return load_dataset(write_clean_folder(tmp_path_factory.mktemp("t")))


def test_tables_plain_and_complete(ds):
    t = to_tables(ds, Scenario())
    assert list(t.schools.columns[: len(SCHOOL_COLUMNS)]) == SCHOOL_COLUMNS
    assert list(t.units.columns) == UNIT_COLUMNS
    assert "geometry" not in t.schools.columns and "geometry" not in t.units.columns
    assert list(t.units.index) == list(range(len(ds.units)))
    # x, y in metres of EPSG:32648: unit U01 is the first 500 m square
    assert t.units.loc[0, "x"] == pytest.approx(X0 + SIZE / 2, abs=1)
    assert t.units.loc[0, "y"] == pytest.approx(Y0 + SIZE / 2, abs=1)
    assert t.schools.loc[0, "x"] == pytest.approx(X0 + 500, abs=0.01)
    # rook adjacency of a 4 x 3 grid has 17 edges; the railway between columns 2 and 3 cuts 3, and the
    # fixture's roads cross the railway there, so the crossings restore all 3 (zones may grow over it)
    assert len(t.adjacency) == 17 and t.meta["n_restored"] == 3 and (t.adjacency["i"] < t.adjacency["j"]).all()
    crossed = {(1, 2), (5, 6), (9, 10)}
    assert crossed <= set(map(tuple, t.adjacency[["i", "j"]].to_numpy()))
    p = t.pairs
    assert {"unit", "school", "level", "distance_m", "crosses_barrier", "reachable"} <= set(p.columns)
    assert p["unit"].between(0, len(t.units) - 1).all() and p["school"].between(0, len(t.schools) - 1).all()
    # each unit's current school is a candidate
    for lvl, col in (("primary", "primary_school"), ("junior", "junior_school")):
        sid = t.schools["school_id"].to_numpy()
        have = {(u, sid[s]) for u, s in p.loc[p["level"] == lvl, ["unit", "school"]].to_numpy()}
        assert all((u, z) in have for u, z in enumerate(t.units[col]))
    m = t.meta
    assert m["epsg"] == 32648 and m["is_sample"] is False and m["distance_source"] in ("network", "straight")
    assert any("仍算相邻" in n for n in m["notes"]) and m["n_cut"] == 0


def test_straight_distances_without_roads(ds):
    sc = Scenario()
    sc.use_roads = False
    t = to_tables(ds, sc)
    assert t.meta["distance_source"] == "straight"
    assert any("道路数据，距离按直线计算" in n for n in t.meta["notes"])
    p = t.pairs
    row = p.iloc[0]
    dx = t.units.loc[row["unit"], "x"] - t.schools.loc[row["school"], "x"]
    dy = t.units.loc[row["unit"], "y"] - t.schools.loc[row["school"], "y"]
    assert row["distance_m"] == pytest.approx(np.hypot(dx, dy), rel=0.05)
