"""Unit adjacency: rook contiguity for polygons, derived adjacency for points, barrier cuts.

Polygons (rook)
---------------
Two polygon units are neighbours when they share a boundary of positive length, not a mere point.
Real blocks do not meet exactly (slivers, gaps of a few decimetres, overlaps), so the test is
tolerant: the boundary of A lying within ``tolerance_m`` of B is measured (and the same for B
against A, the smaller kept). Near a shared stretch of length L that measure is about
``L + 2 × tolerance_m`` (it runs on by up to ``tolerance_m`` at each end), and at a corner contact it is at most
about ``2 × tolerance_m``; so the shared length is estimated as ``measure − 2 × tolerance_m`` and a pair
is adjacent when that estimate is at least ``min_shared_m`` (default: ``tolerance_m``). Candidate
pairs come from an STRtree ``dwithin`` query; everything is vectorised.

Points (derived)
----------------
Point units (and the pairs between a point unit and any other unit) come from a Delaunay
triangulation of every unit's representative point (``scipy.spatial.Delaunay``). The triangulation
also joins points across empty land along its outer hull, so an edge is dropped when its length is
more than ``point_edge_factor`` (3) times the median length of the point edges. Length is the
distance between the two points, or from the point to the polygon for a point–polygon edge.

Barriers
--------
An edge is cut when the straight segment joining the two units' representative points crosses a
barrier line that touches (or passes within ``barrier_tolerance_m`` of) one of the two units; for
a pair of point units the crossing alone decides. In words: a unit lies on the side of a barrier
where its representative point lies. So a canal that *is* the boundary between two villages cuts
them apart; a railway drawn through blocks (data from another source, a block straddling the line)
still separates the blocks on either side of it; two neighbours whose shared boundary goes round
the end of a barrier stay neighbours when their points see each other past the end; and a barrier
far from both units (the segment of two odd concave shapes passing over it) cuts nothing.

Crossings (issue 18: contiguity as parents see it)
--------------------------------------------------
Two units a barrier separates stay neighbours when a crossing lies between them: a point of the
crossings layer (bridge, underpass; matched to its barrier by its ``barrier`` column, else to the
nearest barrier within ``crossing_tolerance_m``) or a point where a road line crosses the barrier.
"Between" means within ``crossing_reach_m`` of both units (polygons), or, where one of the two is a
point unit, no farther from either unit than the two are from each other (the lens of the edge).
An edge over several barriers needs a crossing of each. The edges that stay cut are ``cut`` (with
the barrier's name); the restored ones are ``restored`` (with the crossing's name). A zone is then
one piece on this graph: pieces on both sides of a barrier with no crossing between them are an
enclave (飞地). Units with no neighbour at all are listed as islands; ``components`` gives the
connected pieces.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, QhullError

from geodata.network import barrier_lines, geometry_array, metric_crs, point_xy, to_crs

log = logging.getLogger(__name__)

_POLY_TYPES = (3, 6)  # Polygon, MultiPolygon


@dataclass
class Adjacency:
    """The adjacency of the units (row positions).

    Attributes
    ----------
    edges : pandas.DataFrame
        ``i, j`` (``i < j``, sorted, no duplicates) and ``shared_m`` (estimated shared boundary in
        metres; NaN for edges derived from points), barriers already cut.
    islands : list of int
        Units with no neighbour after the cuts.
    cut : pandas.DataFrame
        ``i, j, barrier``: the edges removed because a barrier separates the two units and no
        crossing lies between them.
    restored : pandas.DataFrame
        ``i, j, crossing``: edges over a barrier kept because a crossing lies between the units.
    components : numpy.ndarray
        Connected-component label of each unit (0, 1, …, in order of first unit).
    """

    edges: pd.DataFrame
    islands: list[int]
    cut: pd.DataFrame
    components: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    restored: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["i", "j", "crossing"]))

    @property
    def n_components(self) -> int:
        return int(self.components.max()) + 1 if len(self.components) else 0

    def neighbours(self, i: int) -> list[int]:
        """The neighbours of unit ``i``."""
        e = self.edges
        return sorted(e.loc[e["i"] == i, "j"].tolist() + e.loc[e["j"] == i, "i"].tolist())


def _edge_frame(i, j, shared=None) -> pd.DataFrame:
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    shared = np.full(len(i), np.nan) if shared is None else np.asarray(shared, dtype=float)
    return pd.DataFrame({"i": i, "j": j, "shared_m": shared})


def _polygon_edges(geoms: np.ndarray, idx: np.ndarray, tol: float, min_shared: float):
    """Rook edges among polygons ``geoms[idx]``: (i, j, shared_m)."""
    if len(idx) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    pg = geoms[idx]
    a, b = shapely.STRtree(pg).query(pg, predicate="dwithin", distance=tol)
    keep = a < b
    a, b = a[keep], b[keep]
    if len(a) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    used = np.unique(np.r_[a, b])
    buf = np.empty(len(pg), dtype=object)
    bnd = np.empty(len(pg), dtype=object)
    buf[used] = shapely.buffer(pg[used], tol, quad_segs=4)
    bnd[used] = shapely.boundary(pg[used])
    ab = shapely.intersection(bnd[a], buf[b])
    ba = shapely.intersection(bnd[b], buf[a])
    shared = np.minimum(shapely.length(ab), shapely.length(ba)) - 2 * tol
    keep = shared >= min_shared
    return idx[a[keep]], idx[b[keep]], shared[keep]


def _point_edges(geoms: np.ndarray, xy: np.ndarray, is_point: np.ndarray, ok: np.ndarray, factor: float):
    """Delaunay edges involving a point unit, long ones dropped."""
    cand = np.flatnonzero(ok)
    if not is_point[ok].any() or len(cand) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    pts = xy[cand]
    if len(cand) == 2:
        e = np.array([[0, 1]])
    else:
        try:
            tri = Delaunay(pts, qhull_options="QJ")
        except QhullError:  # all points on one line or identical
            order = np.lexsort((pts[:, 1], pts[:, 0]))
            e = np.stack([order[:-1], order[1:]], axis=1)
        else:
            s = tri.simplices
            e = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    e = np.unique(np.sort(e, axis=1), axis=0)
    i, j = cand[e[:, 0]], cand[e[:, 1]]
    pt_i, pt_j = is_point[i], is_point[j]
    sel = pt_i | pt_j
    i, j, pt_i, pt_j = i[sel], j[sel], pt_i[sel], pt_j[sel]
    both = pt_i & pt_j
    length = np.empty(len(i))
    length[both] = np.hypot(*(xy[i[both]] - xy[j[both]]).T)
    length[~both] = shapely.distance(geoms[i[~both]], geoms[j[~both]])
    ref = length[both] if both.sum() >= 3 else length
    if len(ref):
        limit = factor * float(np.median(ref))
        keep = length <= limit
        if (~keep).any():
            log.info("点状单元邻接：舍去 %d 条长于 %.0f 米（中位数的 %.1f 倍）的三角网边", (~keep).sum(), limit, factor)
        i, j = i[keep], j[keep]
    return i, j


def crossing_points(bgeoms: np.ndarray, bnames: np.ndarray, crossings, roads, tolerance_m: float):
    """Where each barrier may be crossed: ``(xy (k, 2), barrier index (k,), name (k,))``.

    Points of the crossings layer (matched to a barrier by a ``barrier`` column holding its name,
    else to the nearest barrier within ``tolerance_m``), and every point where a road line meets a
    barrier line.
    """
    xy, bi, names = [np.empty((0, 2))], [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=object)]
    if crossings is not None and len(crossings):
        pts = geometry_array(crossings)
        cxy = point_xy(crossings)
        ok = np.isfinite(cxy).all(1)
        which = np.full(len(pts), -1)
        if "barrier" in crossings.columns:
            by_name = {str(n): k for k, n in enumerate(bnames.tolist())}
            which = np.array([by_name.get(str(b), -1) for b in crossings["barrier"].tolist()])
        loose = ok & (which < 0)
        if loose.any() and len(bgeoms):
            ci, bj = shapely.STRtree(bgeoms).query_nearest(pts[loose], max_distance=tolerance_m, all_matches=False)
            fill = np.full(int(loose.sum()), -1)
            fill[ci] = bj
            which[loose] = fill
        keep = ok & (which >= 0)
        label = (crossings["name"].astype(str).to_numpy() if "name" in crossings.columns
                 else np.array([f"通道{k + 1}" for k in range(len(pts))], dtype=object))
        xy.append(cxy[keep])
        bi.append(which[keep].astype(np.int64))
        names.append(np.asarray(label, dtype=object)[keep])
    if roads is not None and len(roads) and len(bgeoms):
        rgeoms = geometry_array(roads)
        rgeoms = rgeoms[~(shapely.is_missing(rgeoms) | shapely.is_empty(rgeoms))]
        if len(rgeoms):
            r_idx, b_idx = shapely.STRtree(rgeoms).query(bgeoms, predicate="intersects")
            if len(r_idx):
                inter = shapely.intersection(bgeoms[r_idx], rgeoms[b_idx])
                parts, owner = shapely.get_parts(inter, return_index=True)
                pts = shapely.point_on_surface(parts)
                ok = ~shapely.is_empty(pts)
                xy.append(np.stack([shapely.get_x(pts[ok]), shapely.get_y(pts[ok])], axis=1))
                bi.append(r_idx[owner[ok]].astype(np.int64))
                names.append(np.array([f"{bnames[b]}上的道路交叉口" for b in r_idx[owner[ok]].tolist()], dtype=object))
    return np.vstack(xy), np.concatenate(bi), np.concatenate(names)


def _bridged(e_idx, b_idx, lo, hi, geoms, xy, is_point, cxy, cb, cname, reach_m: float):
    """For each (edge, barrier) pair: whether a crossing of that barrier lies between the edge's two
    units; and for each edge the first crossing found (its name)."""
    bridged = np.zeros(len(e_idx), dtype=bool)
    via = {}
    if not len(e_idx) or not len(cxy):
        return bridged, via
    tree = shapely.STRtree(shapely.points(cxy))
    a, b = lo[e_idx], hi[e_idx]
    length = np.hypot(*(xy[a] - xy[b]).T)
    pointy = is_point[a] | is_point[b]
    reach = np.where(pointy, np.maximum(length, reach_m), reach_m)
    ga = np.where(is_point[a], shapely.points(xy[a]), geoms[a])
    gb = np.where(is_point[b], shapely.points(xy[b]), geoms[b])
    k, c = tree.query(ga, predicate="dwithin", distance=reach)
    if not len(k):
        return bridged, via
    pts = shapely.points(cxy[c])
    ok = (cb[c] == b_idx[k]) & shapely.dwithin(gb[k], pts, reach[k])
    ok &= shapely.dwithin(ga[k], pts, reach[k])  # the tree query is on bounding boxes
    for kk, cc in zip(k[ok].tolist(), c[ok].tolist()):
        if not bridged[kk]:
            bridged[kk] = True
            via.setdefault(int(e_idx[kk]), str(cname[cc]))
    return bridged, via


def unit_adjacency(
    units: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None = None,
    tolerance_m: float = 1.0,
    *,
    min_shared_m: float | None = None,
    barrier_tolerance_m: float = 10.0,
    point_edge_factor: float = 3.0,
    crossings: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    crossing_reach_m: float = 100.0,
    crossing_tolerance_m: float = 50.0,
) -> Adjacency:
    """Adjacency of zoning units, with barrier cuts.

    Parameters
    ----------
    units : GeoDataFrame
        Polygons, points or a mix (any CRS; geographic data are projected to their UTM zone).
        Rows with a missing or empty geometry get no neighbour (they are islands).
    barriers : GeoDataFrame, optional
        Barrier lines (``name`` column used in ``cut``), in any CRS.
    tolerance_m : float
        Gaps and slivers up to this width between polygons are bridged.
    min_shared_m : float, optional
        Shortest shared boundary that makes polygons neighbours (default ``tolerance_m``).
    barrier_tolerance_m : float
        A crossed barrier this close to one of the two units counts as between them.
    point_edge_factor : float
        Point-derived edges longer than this × the median edge are dropped.
    crossings, roads : GeoDataFrame, optional
        Crossing points and road lines: an edge a barrier cuts is kept when a crossing of that
        barrier lies between the two units (see the module docstring).
    crossing_reach_m : float
        How near both polygon units a crossing must lie.
    crossing_tolerance_m : float
        A crossing point without a ``barrier`` column belongs to the nearest barrier this close.

    Returns
    -------
    Adjacency
    """
    n = len(units)
    crs = metric_crs(units) if n else None
    units_m = to_crs(units, crs)
    geoms = geometry_array(units_m)
    tol = float(tolerance_m)
    min_shared = tol if min_shared_m is None else float(min_shared_m)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if n else np.zeros(0, bool)
    type_id = np.full(n, -1)
    type_id[ok] = shapely.get_type_id(geoms[ok])
    is_poly = np.isin(type_id, _POLY_TYPES)
    other = ok & ~is_poly & ~np.isin(type_id, (0, 4))
    if other.any():  # lines or collections: polygons when they have area, else points
        area = shapely.area(geoms[other]) > 0
        is_poly[np.flatnonzero(other)[area]] = True
    is_point = ok & ~is_poly
    bad = is_poly & ~shapely.is_valid(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
    xy = point_xy(units_m)

    pi, pj, shared = _polygon_edges(geoms, np.flatnonzero(is_poly), tol, min_shared)
    qi, qj = _point_edges(geoms, xy, is_point, ok & np.isfinite(xy).all(1), point_edge_factor)
    i = np.r_[pi, qi]
    j = np.r_[pj, qj]
    sh = np.r_[shared, np.full(len(qi), np.nan)]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    order = np.lexsort((hi, lo))
    lo, hi, sh = lo[order], hi[order], sh[order]
    _, first = np.unique(lo * max(n, 1) + hi, return_index=True)
    lo, hi, sh = lo[first], hi[first], sh[first]

    cut_mask = np.zeros(len(lo), dtype=bool)
    cut_name = np.full(len(lo), None, dtype=object)
    restored_rows = []
    if barriers is not None and len(barriers) and len(lo):
        bgeoms, bnames = barrier_lines(to_crs(barriers, crs))
        if len(bgeoms):
            segs = shapely.linestrings(np.stack([xy[lo], xy[hi]], axis=1))
            e_idx, b_idx = shapely.STRtree(bgeoms).query(segs, predicate="intersects")
            has_area = is_poly[lo[e_idx]] | is_poly[hi[e_idx]]
            near = np.ones(len(e_idx), dtype=bool)
            if has_area.any():  # the barrier must touch (or come next to) one of the two units
                k = np.flatnonzero(has_area)
                bk = bgeoms[b_idx[k]]
                near[k] = shapely.dwithin(bk, geoms[lo[e_idx[k]]], barrier_tolerance_m) | shapely.dwithin(
                    bk, geoms[hi[e_idx[k]]], barrier_tolerance_m
                )
            e_idx, b_idx = e_idx[near], b_idx[near]
            order = np.lexsort((b_idx, e_idx))
            e_idx, b_idx = e_idx[order], b_idx[order]
            cxy, cb, cname = crossing_points(bgeoms, bnames, to_crs(crossings, crs) if crossings is not None else None,
                                             to_crs(roads, crs) if roads is not None else None, crossing_tolerance_m)
            bridged, via = _bridged(e_idx, b_idx, lo, hi, geoms, xy, is_point, cxy, cb, cname, crossing_reach_m)
            blocked = np.unique(e_idx[~bridged])
            first_blocked = {}
            for e, b in zip(e_idx[~bridged].tolist(), b_idx[~bridged].tolist()):
                first_blocked.setdefault(e, b)
            cut_mask[blocked] = True
            cut_name[blocked] = [bnames[first_blocked[e]] for e in blocked.tolist()]
            ok_edges = np.setdiff1d(np.unique(e_idx), blocked)
            restored_rows = [(int(lo[e]), int(hi[e]), via[e]) for e in ok_edges.tolist()]
    cut = pd.DataFrame(
        {"i": lo[cut_mask].astype(np.int64), "j": hi[cut_mask].astype(np.int64), "barrier": cut_name[cut_mask]}
    )
    restored = pd.DataFrame(restored_rows, columns=["i", "j", "crossing"])
    keep = ~cut_mask
    edges = _edge_frame(lo[keep], hi[keep], sh[keep])
    if n:
        m = coo_matrix((np.ones(len(edges)), (edges["i"], edges["j"])), shape=(n, n))
        _, comp = connected_components(m, directed=False)
        _, comp = np.unique(comp, return_inverse=True)  # labels in order of first unit
        first_seen = np.full(comp.max() + 1, n)
        np.minimum.at(first_seen, comp, np.arange(n))
        comp = np.argsort(np.argsort(first_seen))[comp]
    else:
        comp = np.empty(0, dtype=np.int64)
    degree = np.bincount(np.r_[edges["i"].to_numpy(), edges["j"].to_numpy()], minlength=n)
    islands = np.flatnonzero(degree == 0).tolist()
    log.info(
        "单元邻接：%d 个单元，%d 条邻接边，%d 条被障碍线切断，%d 个孤立单元，%d 个连通片",
        n, len(edges), len(cut), len(islands), comp.max() + 1 if n else 0,
    )
    return Adjacency(edges=edges, islands=islands, cut=cut, components=comp.astype(np.int64), restored=restored)


def adjacency_notes(adj: Adjacency, names=None) -> list[str]:
    """Chinese notes for a report: islands and barrier cuts (names: unit display names)."""
    def label(k):
        return str(names[k]) if names is not None else f"第 {k + 1} 个单元"

    notes = []
    if adj.islands:
        shown = "、".join(label(k) for k in adj.islands[:20])
        more = f" 等 {len(adj.islands)} 个" if len(adj.islands) > 20 else ""
        notes.append(f"孤立单元（与其他单元不相邻，或被障碍线隔开）：{shown}{more}；连片约束对其放宽")
    if len(adj.cut):
        by = adj.cut.groupby("barrier").size()
        notes.append("邻接关系在障碍线处切断（两侧之间没有桥梁、通道或道路穿越）：" + "，".join(f"{b} {k} 处" for b, k in by.items()))
    if len(adj.restored):
        notes.append(f"{len(adj.restored)} 对跨障碍线的相邻单元之间有桥梁、通道或道路穿越，仍算相邻")
    return notes
