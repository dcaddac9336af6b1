"""Road layers as they come (issue 17 item 8): long streets that cross without a shared vertex are
joined at their crossings; a bridge or a differing ``layer`` keeps a crossing apart."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString

from geodata.network import build_network, network_distances

CRS = "EPSG:32648"
N, STEP = 6, 200.0


def _long_grid() -> list:
    """A 6 × 6 street grid drawn as 12 long lines (no vertex at any crossing)."""
    end = (N - 1) * STEP
    return ([LineString([(0, k * STEP), (end, k * STEP)]) for k in range(N)]
            + [LineString([(k * STEP, 0), (k * STEP, end)]) for k in range(N)])


def _split_grid() -> list:
    """The same grid as one line per block side (a vertex at every crossing)."""
    out = []
    for k in range(N):
        for j in range(N - 1):
            out.append(LineString([(j * STEP, k * STEP), ((j + 1) * STEP, k * STEP)]))
            out.append(LineString([(k * STEP, j * STEP), (k * STEP, (j + 1) * STEP)]))
    return out


def _distances(lines, **cols):
    roads = gpd.GeoDataFrame(cols, geometry=lines, crs=CRS)
    net = build_network(roads)
    rng = np.random.default_rng(3)
    units = rng.uniform(0, (N - 1) * STEP, size=(20, 2))
    schools = np.array([[0.0, 0.0], [(N - 1) * STEP, (N - 1) * STEP], [400.0, 600.0]])
    u = np.repeat(np.arange(20), 3)
    s = np.tile(np.arange(3), 20)
    d = network_distances(net, units, schools, u, s)
    return net, d


def test_long_crossing_lines_give_the_distances_of_the_split_grid():
    net_long, d_long = _distances(_long_grid())
    net_split, d_split = _distances(_split_grid())
    assert net_long.component.max() == 0  # one connected network, not 12 separate streets
    assert len(net_long.nodes) == len(net_split.nodes)
    np.testing.assert_allclose(d_long["network_m"].to_numpy(), d_split["network_m"].to_numpy(), atol=1e-6)


def test_a_bridge_crossing_is_no_junction():
    # two straight roads crossing at (450, 530), off every vertex; the second is a bridge
    a = LineString([(0, 530), (1000, 530)])
    b = LineString([(450, 0), (450, 1000)])
    joined = build_network(gpd.GeoDataFrame(geometry=[a, b], crs=CRS))
    bridged = build_network(gpd.GeoDataFrame({"bridge": ["", "yes"]}, geometry=[a, b], crs=CRS))
    layered = build_network(gpd.GeoDataFrame({"layer": [0, 1]}, geometry=[a, b], crs=CRS))
    assert joined.component.max() == 0
    assert bridged.component.max() == 1 and layered.component.max() == 1
