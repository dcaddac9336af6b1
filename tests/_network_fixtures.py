"""Hand-drawn grids and a toy town with a river, for the adjacency and network tests.

``ascii_units(drawing)`` reads a grid drawn like GerryChain's conftest: letters are units (square
cells), ``.`` is empty land, and between two cells of a row a ``|`` is a barrier along their shared
edge; a line of ``-`` / spaces under a row puts a barrier under the cell above it.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point, box

CRS = "EPSG:32648"  # UTM 48N, the zone of Pingluo
REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def ascii_units(drawing: str, cell: float = 100.0, barrier_name: str = "河道"):
    """Units (one square per letter) and barrier lines from a drawing.

    Returns
    -------
    units : GeoDataFrame
        ``unit_id`` ("r,c"), ``name`` (the letter and the cell), ``letter``, polygon geometry; row
        order is reading order.
    barriers : GeoDataFrame
        One line per drawn barrier segment (all named ``barrier_name``).
    pos : dict
        ``(row, col) -> unit position``.
    """
    lines = [ln for ln in drawing.strip("\n").splitlines()]
    cells, segments = [], []
    r = 0
    for ln in lines:
        if set(ln.strip()) <= {"-"} and ln.strip():
            for k, ch in enumerate(ln):
                if ch == "-" and k % 2 == 0:
                    c = k // 2
                    y = -r * cell
                    segments.append(LineString([(c * cell, y), ((c + 1) * cell, y)]))
            continue
        for k, ch in enumerate(ln):
            if k % 2 == 0 and ch not in " .":
                cells.append((r, k // 2, ch))
            elif k % 2 == 1 and ch == "|":
                c = k // 2 + 1
                segments.append(LineString([(c * cell, -r * cell), (c * cell, -(r + 1) * cell)]))
        r += 1
    pos = {(rr, cc): i for i, (rr, cc, _) in enumerate(cells)}
    units = gpd.GeoDataFrame(
        {
            "unit_id": [f"{rr},{cc}" for rr, cc, _ in cells],
            "name": [f"{ch}{rr}-{cc}" for rr, cc, ch in cells],
            "letter": [ch for _, _, ch in cells],
        },
        geometry=[box(cc * cell, -(rr + 1) * cell, (cc + 1) * cell, -rr * cell) for rr, cc, _ in cells],
        crs=CRS,
    )
    merged = shapely.line_merge(shapely.union_all(segments)) if segments else None
    parts = list(shapely.get_parts(merged)) if merged is not None else []
    barriers = gpd.GeoDataFrame({"name": [barrier_name] * len(parts), "kind": ["canal"] * len(parts)},
                                geometry=parts, crs=CRS)
    return units, barriers, pos


def street_grid(xs, ys, skip=lambda x0, y0, x1, y1: False):
    """Street segments of a regular grid (every block edge is one two-point line, so junctions
    share vertices); ``skip`` removes segments."""
    segs = []
    for y in ys:
        for x0, x1 in zip(xs[:-1], xs[1:]):
            if not skip(x0, y, x1, y):
                segs.append(LineString([(x0, y), (x1, y)]))
    for x in xs:
        for y0, y1 in zip(ys[:-1], ys[1:]):
            if not skip(x, y0, x, y1):
                segs.append(LineString([(x, y0), (x, y1)]))
    return segs


def river_town(extra_ford: bool = False, bridge_x: float = 900.0):
    """A 1 km street grid (100 m blocks) cut by a river along y = 500, one bridge at ``bridge_x``.

    Units: U at (100, 400) on the south bank; V at (900, 400) next to the bridge; W at (500, 100).
    Schools: N (primary) at (100, 600) across the river from U — the nearest as the crow flies —
    and S (primary) at (100, 0) on U's side.

    Hand-computed walks: U→N = 800 east + 200 over the bridge + 800 west = 1800 m (straight 200 m);
    U→S = 400 m; V→N = 200 + 800 = 1000 m (straight √(800² + 200²) ≈ 824.6 m).
    ``extra_ford`` adds a road straight over the river at x = 100 (not a named crossing).
    """
    xs = np.arange(0, 1001, 100.0)
    ys = np.arange(0, 1001, 100.0)

    def skip(x0, y0, x1, y1):  # no street along the river, none over it
        return y0 == y1 == 500 or (x0 == x1 and (y0, y1) in ((400, 500), (500, 600)))

    segs = street_grid(xs, ys, skip)
    segs.append(LineString([(bridge_x, 400), (bridge_x, 500), (bridge_x, 600)]))
    if extra_ford:
        segs.append(LineString([(100, 400), (100, 500), (100, 600)]))
    roads = gpd.GeoDataFrame({"name": [f"路{i}" for i in range(len(segs))]}, geometry=segs, crs=CRS)
    barriers = gpd.GeoDataFrame({"name": ["唐徕渠"], "kind": ["canal"]},
                                geometry=[LineString([(-200, 500), (1200, 500)])], crs=CRS)
    crossings = gpd.GeoDataFrame({"name": ["渠桥"]}, geometry=[Point(bridge_x, 500)], crs=CRS)
    units = gpd.GeoDataFrame(
        {"unit_id": ["U", "V", "W"], "name": ["南岸小区", "桥头小区", "南关村"],
         "primary_school": ["N", "N", "S"], "junior_school": [None, None, None]},
        geometry=[Point(100, 400), Point(900, 400), Point(500, 100)], crs=CRS,
    )
    schools = gpd.GeoDataFrame(
        {"school_id": ["N", "S"], "name": ["北岸小学", "南岸小学"], "level": ["primary", "primary"]},
        geometry=[Point(100, 600), Point(100, 0)], crs=CRS,
    )
    return units, schools, roads, barriers, crossings
