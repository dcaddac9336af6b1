"""Road-network distances, barrier-crossing tests and their disk cache.

The road graph
--------------
Every vertex of every road line is a node (after :func:`shapely.segmentize` to at most
``max_segment_m`` between vertices, so that a unit snaps close to the road it lies on); nodes closer
than ``node_tolerance_m`` are merged, so lines that share a vertex (a junction) are joined even when
their coordinates differ by rounding. Lines that cross *without* a shared vertex are not joined: in
road data that is an overpass or a bridge, not a junction. Edges are weighted by their length in
metres.

Distances
---------
A unit (its representative point) and a school are snapped to the nearest node (``cKDTree``); the
distance is ``snap(unit) + network path + snap(school)``, which by the triangle inequality is never
shorter than the straight line. Shortest paths come from :func:`scipy.sparse.csgraph.dijkstra`, one
search per school node (in chunks, so memory stays ``chunk × nodes``), and only the candidate pairs
are kept. A pair whose two ends snap to different connected pieces of the network is *unreachable*.

Barriers and crossings
----------------------
``segments_crossing_barriers`` tells whether the straight segment of each pair crosses a barrier line.
``safe_network`` removes every road edge that crosses a barrier unless a named crossing (bridge,
underpass) lies within ``crossing_tolerance_m`` of it: the walk a child may take. Without a crossings
layer every road over a barrier counts as a crossing (a road over a canal is a bridge).

Cache
-----
:func:`network_distances` stores its result in ``cache_dir`` under a SHA-256 of everything it depends
on (road geometry, CRS, the points, the pairs, barriers and crossings, the parameters and
``CACHE_VERSION``); changing any road changes the key, so a stale result is never read back.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geodata.coords import utm_crs_of

log = logging.getLogger(__name__)

CACHE_VERSION = "network-2"  # 2: roads noded where they cross (issue 17)
#: Detour factor applied to the straight line when a pair cannot be put on the network.
DETOUR_FACTOR = 1.3
#: A unit or school farther than this from the nearest road node is not put on the network.
SNAP_M = 500.0
#: Floats per Dijkstra chunk (chunk × nodes), about 64 MB.
_CHUNK_FLOATS = 8_000_000
#: Each school's search first stops at this × the longest straight line of its pairs + the extra
#: (a speed-up only: pairs not reached are searched again without a limit).
_SEARCH_FACTOR = 2.0
_SEARCH_EXTRA_M = 500.0
#: A road node this close to a barrier line lies on it.
_ON_BARRIER_M = 1.0


@dataclass
class RoadNetwork:
    """A road graph in a metric CRS.

    Attributes
    ----------
    nodes : numpy.ndarray
        ``(N, 2)`` node coordinates in metres.
    graph : scipy.sparse.csr_matrix
        ``(N, N)`` symmetric matrix of edge lengths (metres).
    component : numpy.ndarray
        Connected-component label of each node.
    crs : object
        The CRS of ``nodes`` (whatever the roads layer had), or None.
    key : str
        SHA-256 of the road geometry and build parameters (part of every cache key).
    """

    nodes: np.ndarray
    graph: csr_matrix
    component: np.ndarray
    crs: object
    key: str

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        """Undirected edges."""
        return int(self.graph.nnz // 2)

    def edge_array(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Undirected edges as arrays ``(u, v, length)`` with ``u < v``."""
        coo = self.graph.tocoo()
        keep = coo.row < coo.col
        return coo.row[keep], coo.col[keep], coo.data[keep]


# --- geometry helpers ------------------------------------------------------------------------


def geometry_array(layer) -> np.ndarray:
    """The geometries of a GeoDataFrame / GeoSeries / sequence as a shapely array."""
    if layer is None:
        return np.empty(0, dtype=object)
    if isinstance(layer, gpd.GeoDataFrame):
        layer = layer.geometry
    return np.asarray(getattr(layer, "values", layer), dtype=object)


def metric_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries):
    """A metric CRS for ``gdf``: its own when projected, else the UTM zone of its data."""
    crs = gdf.crs
    if crs is None:
        log.warning("图层没有坐标系，按米制坐标处理")
        return None
    if crs.is_geographic:
        return utm_crs_of(gdf)
    return crs


def to_crs(layer, crs):
    """``layer`` in ``crs`` (unchanged when either CRS is unknown or they are equal)."""
    if layer is None or crs is None or layer.crs is None or layer.crs == crs:
        return layer
    return layer.to_crs(crs)


def point_xy(layer) -> np.ndarray:
    """``(n, 2)`` coordinates of one point per feature: the point itself, else a representative
    point (inside the polygon), NaN for a missing or empty geometry."""
    geoms = geometry_array(layer)
    out = np.full((len(geoms), 2), np.nan)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if ok.any():
        g = geoms[ok]
        is_point = shapely.get_type_id(g) == 0
        pts = np.where(is_point, g, shapely.point_on_surface(g))
        out[ok, 0] = shapely.get_x(pts)
        out[ok, 1] = shapely.get_y(pts)
    return out


def barrier_lines(barriers) -> tuple[np.ndarray, np.ndarray]:
    """Barrier geometries (lines; polygons become their outline) and their display names."""
    geoms = geometry_array(barriers)
    if len(geoms) == 0:
        return geoms, np.empty(0, dtype=object)
    if isinstance(barriers, gpd.GeoDataFrame) and "name" in barriers.columns:
        names = barriers["name"].astype(object).where(barriers["name"].notna(), None).to_numpy()
    else:
        names = np.full(len(geoms), None, dtype=object)
    names = np.array(
        [str(n) if n not in (None, "") else f"障碍线{i + 1}" for i, n in enumerate(names)], dtype=object
    )
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = geoms[ok].copy()
    is_area = np.isin(shapely.get_type_id(geoms), (3, 6))
    geoms[is_area] = shapely.boundary(geoms[is_area])
    return geoms, names[ok]


def segments_crossing_barriers(a_xy: np.ndarray, b_xy: np.ndarray, barriers) -> tuple[np.ndarray, np.ndarray]:
    """Which straight segments ``a → b`` cross (touch) a barrier line.

    Parameters
    ----------
    a_xy, b_xy : numpy.ndarray
        ``(n, 2)`` segment ends, in the barriers' CRS.
    barriers : GeoDataFrame or array of geometries or None

    Returns
    -------
    crosses : numpy.ndarray of bool
    barrier : numpy.ndarray of object
        The name of one barrier crossed (the first in file order), None where none is.
    """
    n = len(a_xy)
    crosses = np.zeros(n, dtype=bool)
    which = np.full(n, None, dtype=object)
    geoms, names = barrier_lines(barriers)
    if n == 0 or len(geoms) == 0:
        return crosses, which
    ok = np.isfinite(a_xy).all(1) & np.isfinite(b_xy).all(1)
    if not ok.any():
        return crosses, which
    segs = shapely.linestrings(np.stack([a_xy[ok], b_xy[ok]], axis=1))
    seg_idx, bar_idx = shapely.STRtree(geoms).query(segs, predicate="intersects")
    seg_idx = np.flatnonzero(ok)[seg_idx]
    order = np.lexsort((bar_idx, seg_idx))
    seg_idx, bar_idx = seg_idx[order], bar_idx[order]
    first = np.unique(seg_idx, return_index=True)[1]
    crosses[seg_idx] = True
    which[seg_idx[first]] = names[bar_idx[first]]
    return crosses, which


# --- building and snapping -------------------------------------------------------------------


def _hash_geoms(h, geoms: np.ndarray) -> None:
    h.update(str(len(geoms)).encode())
    for wkb in shapely.to_wkb(geoms, output_dimension=2, byte_order=1):
        h.update(b"" if wkb is None else wkb)
        h.update(b"|")


def _crs_text(crs) -> str:
    return "" if crs is None else crs.to_wkt()


#: Columns that mark a road as above or below the others (a crossing between levels is no junction).
GRADE_COLUMNS = ("layer", "bridge", "tunnel")
_YES = {"1", "yes", "true", "y", "t", "是", "桥", "桥梁", "隧道", "下穿", "上跨"}


def grade_levels(roads, ok: np.ndarray) -> np.ndarray:
    """The vertical level of each road kept (``ok``): OSM-style ``layer`` (0 when blank), +1 for a
    bridge, -1 for a tunnel. Lines of different levels cross without a junction."""
    n = int(ok.sum())
    if not isinstance(roads, pd.DataFrame) or not any(c in roads.columns for c in GRADE_COLUMNS):
        return np.zeros(n, dtype=int)
    level = np.zeros(len(roads), dtype=int)
    if "layer" in roads.columns:
        level += pd.to_numeric(roads["layer"], errors="coerce").fillna(0).astype(int).to_numpy()
    for col, step in (("bridge", 1), ("tunnel", -1)):
        if col in roads.columns:
            flag = np.array([str(v).strip().lower() in _YES for v in roads[col]], dtype=bool)
            level += np.where(flag & (level == 0), step, 0)
    return level[ok]


def node_crossings(geoms: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Road lines split where lines of the same level cross (``shapely.node``), as simple parts.

    Streets drawn as long lines that cross without a shared vertex (CAD and survey layers) are
    joined at the crossing; lines of different levels (bridge over road) are not. A network already
    noded comes back with the same vertices.
    """
    out = []
    for lv in np.unique(levels) if len(levels) else []:
        parts = shapely.get_parts(geoms[levels == lv])
        parts = parts[np.isin(shapely.get_type_id(parts), (1, 2))]
        lines = shapely.get_parts(parts)
        if len(lines) > 1:
            lines = shapely.get_parts(shapely.node(shapely.multilinestrings(lines)))
        out.append(lines)
    return np.concatenate(out) if out else np.empty(0, dtype=object)


def build_network(roads, *, node_tolerance_m: float = 0.5, max_segment_m: float | None = 100.0) -> RoadNetwork:
    """Build the road graph of ``roads`` (lines in a metric CRS).

    Parameters
    ----------
    roads : GeoDataFrame or GeoSeries
        Road lines (MultiLineStrings are split; polygons and points are ignored).
    node_tolerance_m : float
        Vertices closer than this are one node.
    max_segment_m : float or None
        Roads are densified to at most this distance between vertices (better snapping).

    Returns
    -------
    RoadNetwork
    """
    crs = getattr(roads, "crs", None)
    geoms = geometry_array(roads)
    h = hashlib.sha256(f"{CACHE_VERSION}|{node_tolerance_m}|{max_segment_m}|{_crs_text(crs)}".encode())
    _hash_geoms(h, geoms)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    parts = node_crossings(geoms[ok], grade_levels(roads, ok))
    if max_segment_m:
        parts = shapely.segmentize(parts, max_segment_m)
    coords, line = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        empty = csr_matrix((0, 0))
        return RoadNetwork(np.empty((0, 2)), empty, np.empty(0, dtype=int), crs, h.hexdigest())
    tol = max(float(node_tolerance_m), 1e-6)
    cell = np.round(coords / tol).astype(np.int64)
    uniq, node_of = np.unique(cell, axis=0, return_inverse=True)
    node_of = node_of.ravel()
    first = np.zeros(len(uniq), dtype=np.int64)
    first[node_of[::-1]] = np.arange(len(coords))[::-1]
    node_xy = coords[first]
    # merge nodes that fell into neighbouring rounding cells
    close = cKDTree(node_xy).query_pairs(tol, output_type="ndarray")
    if len(close):
        m = coo_matrix((np.ones(len(close)), (close[:, 0], close[:, 1])), shape=(len(uniq), len(uniq)))
        _, merged = connected_components(m, directed=False)
        uniq_m, merged = np.unique(merged, return_inverse=True)
        rep = np.zeros(len(uniq_m), dtype=np.int64)
        rep[merged[::-1]] = np.arange(len(merged))[::-1]
        node_xy = node_xy[rep]
        node_of = merged[node_of]
    same_line = line[1:] == line[:-1]
    a = np.flatnonzero(same_line)
    u, v = node_of[a], node_of[a + 1]
    w = np.hypot(*(coords[a + 1] - coords[a]).T)
    keep = u != v
    u, v, w = u[keep], v[keep], w[keep]
    uu, vv = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((w, vv, uu))
    uu, vv, w = uu[order], vv[order], w[order]
    n = len(node_xy)
    _, idx = np.unique(uu * n + vv, return_index=True)
    uu, vv, w = uu[idx], vv[idx], w[idx]
    w = np.maximum(w, 1e-9)  # csgraph treats explicit zeros as missing edges
    graph = csr_matrix((np.r_[w, w], (np.r_[uu, vv], np.r_[vv, uu])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    log.info("道路网：%d 个节点，%d 条边，%d 个连通片", n, len(w), comp.max() + 1 if n else 0)
    return RoadNetwork(node_xy, graph, comp, crs, h.hexdigest())


def snap(network: RoadNetwork, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest node of each point and the distance to it (``-1`` / ``inf`` for NaN points)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    node = np.full(len(xy), -1, dtype=np.int64)
    dist = np.full(len(xy), np.inf)
    ok = np.isfinite(xy).all(1)
    if network.n_nodes and ok.any():
        d, i = cKDTree(network.nodes).query(xy[ok])
        node[ok], dist[ok] = i, d
    return node, dist


def safe_network(network: RoadNetwork, barriers, crossings=None, *, crossing_tolerance_m: float = 50.0) -> RoadNetwork:
    """The network without road edges that cross a barrier away from a named crossing.

    An edge "crosses" a barrier when it meets the barrier line and does not lie along it (an edge
    with both ends on the barrier, such as a stretch of a trunk road that is itself a barrier, is
    kept). So a pupil's walk gets over, or onto, a barrier only within ``crossing_tolerance_m`` of a
    named crossing. With ``crossings`` None (or empty) the network is returned unchanged: every
    road over a barrier is then taken as a crossing.
    """
    bgeoms, _ = barrier_lines(barriers)
    cgeoms = geometry_array(crossings)
    cgeoms = cgeoms[~(shapely.is_missing(cgeoms) | shapely.is_empty(cgeoms))] if len(cgeoms) else cgeoms
    if len(bgeoms) == 0 or len(cgeoms) == 0 or network.n_nodes == 0:
        return network
    u, v, w = network.edge_array()
    segs = shapely.linestrings(np.stack([network.nodes[u], network.nodes[v]], axis=1))
    e_idx, b_idx = shapely.STRtree(bgeoms).query(segs, predicate="intersects")
    # a road edge lying along a barrier (both ends on it: a trunk road that is itself a barrier)
    # does not cross it
    along = (shapely.distance(shapely.points(network.nodes[u[e_idx]]), bgeoms[b_idx]) <= _ON_BARRIER_M) & (
        shapely.distance(shapely.points(network.nodes[v[e_idx]]), bgeoms[b_idx]) <= _ON_BARRIER_M
    )
    e_idx = np.unique(e_idx[~along])
    near = shapely.STRtree(cgeoms).query(segs[e_idx], predicate="dwithin", distance=crossing_tolerance_m)[0]
    drop = np.setdiff1d(e_idx, e_idx[np.unique(near)])
    keep = np.ones(len(u), dtype=bool)
    keep[drop] = False
    u, v, w = u[keep], v[keep], w[keep]
    n = network.n_nodes
    graph = csr_matrix((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    h = hashlib.sha256(f"{network.key}|safe|{crossing_tolerance_m}".encode())
    _hash_geoms(h, bgeoms)
    _hash_geoms(h, cgeoms)
    log.info("去掉 %d 条不经命名过街/桥梁而跨越障碍的道路边", len(drop))
    return RoadNetwork(network.nodes, graph, comp, network.crs, h.hexdigest())


def path_lengths(network: RoadNetwork, src_nodes: np.ndarray, dst_nodes: np.ndarray, bound: np.ndarray | None = None) -> np.ndarray:
    """Network length from ``src_nodes[p]`` to ``dst_nodes[p]`` for each pair ``p``.

    ``inf`` when unreachable or a node is ``-1``. One Dijkstra per distinct source. ``bound`` (per
    pair, optional) is a guess of how far the search must go: each source's search stops at the
    largest bound of its pairs, and a source whose pairs are not all reached within it (yet lie on
    the same connected piece) is searched again without a limit, so the result is always exact.
    """
    src_nodes = np.asarray(src_nodes, dtype=np.int64)
    dst_nodes = np.asarray(dst_nodes, dtype=np.int64)
    out = np.full(len(src_nodes), np.inf)
    ok = (src_nodes >= 0) & (dst_nodes >= 0)
    if not ok.any():
        return out
    same = ok & (network.component[np.maximum(src_nodes, 0)] == network.component[np.maximum(dst_nodes, 0)])
    sources, row = np.unique(src_nodes[same], return_inverse=True)
    pos = np.flatnonzero(same)
    dst = dst_nodes[pos]
    if bound is None:
        chunk = max(1, _CHUNK_FLOATS // max(network.n_nodes, 1))
        for start in range(0, len(sources), chunk):
            idx = sources[start:start + chunk]
            dist = dijkstra(network.graph, directed=True, indices=idx)
            sel = (row >= start) & (row < start + len(idx))
            out[pos[sel]] = dist[row[sel] - start, dst[sel]]
        return out
    limit = np.zeros(len(sources))
    np.maximum.at(limit, row, np.asarray(bound, dtype=float)[pos])
    order = np.argsort(row, kind="stable")
    splits = np.searchsorted(row[order], np.arange(len(sources) + 1))
    for k, src in enumerate(sources):
        sel = order[splits[k]:splits[k + 1]]
        dist = dijkstra(network.graph, directed=True, indices=int(src), limit=float(limit[k]))
        got = dist[dst[sel]]
        if not np.isfinite(got).all():  # beyond the guess but connected: search the whole piece
            got = dijkstra(network.graph, directed=True, indices=int(src))[dst[sel]]
        out[pos[sel]] = got
    return out


# --- the pair distances, cached --------------------------------------------------------------


def _cache_key(network: RoadNetwork, safe: RoadNetwork | None, unit_xy, school_xy, unit, school, snap_m, unit_near) -> str:
    h = hashlib.sha256(f"{CACHE_VERSION}|{network.key}|{safe.key if safe else ''}|{snap_m}".encode())
    near = np.zeros(0, bool) if unit_near is None else np.asarray(unit_near, bool)
    for arr in (np.round(unit_xy, 3), np.round(school_xy, 3), np.asarray(unit, np.int64), np.asarray(school, np.int64), near):
        arr = np.ascontiguousarray(arr)
        h.update(str(arr.shape).encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _read_cache(path: Path, n: int) -> dict | None:
    try:
        with np.load(path) as z:
            data = {k: z[k] for k in z.files}
        if all(len(v) == n for v in data.values()):
            return data
    except Exception as exc:  # a broken cache file is recomputed, never trusted
        log.warning("距离缓存文件不可用，将重新计算：%s（%s）", path, exc)
    return None


def _write_cache(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def network_distances(
    network: RoadNetwork,
    unit_xy: np.ndarray,
    school_xy: np.ndarray,
    unit: np.ndarray,
    school: np.ndarray,
    *,
    safe: RoadNetwork | None = None,
    snap_m: float = SNAP_M,
    unit_near: np.ndarray | None = None,
    cache_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Network distances of the pairs ``(unit[p], school[p])``.

    Parameters
    ----------
    network : RoadNetwork
    unit_xy, school_xy : numpy.ndarray
        ``(U, 2)`` and ``(S, 2)`` point coordinates in the network's CRS.
    unit, school : numpy.ndarray
        Row positions into ``unit_xy`` / ``school_xy``, one entry per pair.
    safe : RoadNetwork, optional
        The network a child may walk (see :func:`safe_network`); its distances are returned too.
    snap_m : float
        Ends farther than this from the network are not put on it.
    unit_near : numpy.ndarray of bool, optional
        Per unit: put it on the network whatever its snap distance (see :func:`units_near_network`).
    cache_dir : path, optional
        Folder for the result cache (no cache when None).

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``snapped`` (both ends within ``snap_m``), ``reachable`` (False when both
        ends are snapped but on disconnected pieces of the network), ``network_m`` (snap + path +
        snap; NaN where not snapped or unreachable), ``safe_m`` (the same on ``safe``; equals
        ``network_m`` when ``safe`` is None), ``unit_snap_m``, ``school_snap_m``.
    """
    unit = np.asarray(unit, dtype=np.int64)
    school = np.asarray(school, dtype=np.int64)
    cache_path = None
    if cache_dir is not None:
        key = _cache_key(network, safe, unit_xy, school_xy, unit, school, snap_m, unit_near)
        cache_path = Path(cache_dir) / f"distances-{key[:40]}.npz"
        if cache_path.exists():
            data = _read_cache(cache_path, len(unit))
            if data is not None:
                log.info("距离取自缓存 %s", cache_path)
                return pd.DataFrame(data)
    u_node, u_snap = snap(network, unit_xy)
    s_node, s_snap = snap(network, school_xy)
    pu, ps = u_node[unit], s_node[school]
    u_ok = u_snap <= snap_m
    if unit_near is not None:
        u_ok |= np.asarray(unit_near, bool) & (u_node >= 0)
    snapped = u_ok[unit] & (s_snap[school] <= snap_m)
    pu = np.where(snapped, pu, -1)
    ps = np.where(snapped, ps, -1)
    ends = u_snap[unit] + s_snap[school]
    straight = np.hypot(*(np.asarray(unit_xy, float)[unit] - np.asarray(school_xy, float)[school]).T) if len(unit) else np.empty(0)
    bound = _SEARCH_FACTOR * straight + _SEARCH_EXTRA_M
    net = path_lengths(network, ps, pu, bound) + ends
    reachable = ~snapped | np.isfinite(net)
    net[~np.isfinite(net)] = np.nan
    if safe is None or safe is network:
        safe_m = net.copy()
    else:
        safe_m = path_lengths(safe, ps, pu, bound) + ends
        safe_m[~np.isfinite(safe_m)] = np.nan
    data = {
        "snapped": snapped,
        "reachable": reachable,
        "network_m": net,
        "safe_m": safe_m,
        "unit_snap_m": u_snap[unit],
        "school_snap_m": s_snap[school],
    }
    if cache_path is not None:
        _write_cache(cache_path, data)
    return pd.DataFrame(data)


def reach_summary(network: RoadNetwork, unit_xy: np.ndarray, school_xy: np.ndarray,
                  unit_near: np.ndarray | None = None, snap_m: float = SNAP_M) -> dict:
    """How the road network serves the data (for the tables' ``meta["network"]`` and the plan
    summary): its connected ``components``; ``units_on_network`` / ``schools_on_network`` (put on the
    network within ``snap_m``, or by ``unit_near``); ``units_reaching_a_school`` (on a component that
    has a school on it); and the totals ``units`` and ``schools``."""
    u_node, u_snap = snap(network, np.asarray(unit_xy, float))
    s_node, s_snap = snap(network, np.asarray(school_xy, float))
    u_on = (u_node >= 0) & (u_snap <= snap_m)
    if unit_near is not None:
        u_on |= np.asarray(unit_near, bool) & (u_node >= 0)
    s_on = (s_node >= 0) & (s_snap <= snap_m)
    comp = network.component
    with_school = np.unique(comp[s_node[s_on]]) if s_on.any() else np.empty(0, dtype=comp.dtype)
    reaching = u_on & np.isin(comp[np.maximum(u_node, 0)], with_school)
    return {"components": int(comp.max() + 1) if len(comp) else 0,
            "units": int(len(u_node)), "units_on_network": int(u_on.sum()),
            "units_reaching_a_school": int(reaching.sum()),
            "schools": int(len(s_node)), "schools_on_network": int(s_on.sum())}


def units_near_network(network: RoadNetwork, units, snap_m: float = SNAP_M) -> np.ndarray:
    """Per unit: whether the road node nearest its representative point lies within ``snap_m`` of
    the unit itself (its polygon). A road that reaches a large village serves it even when the
    village's centre is far from any road; the walk inside the village is then the straight line
    from its representative point to that node."""
    geoms = geometry_array(units)
    node, _ = snap(network, point_xy(units))
    out = np.zeros(len(geoms), dtype=bool)
    ok = node >= 0
    if ok.any():
        out[ok] = shapely.dwithin(shapely.points(network.nodes[node[ok]]), geoms[ok], snap_m)
    return out


def default_cache_dir(source: str | Path | None) -> Path:
    """Where distance results are cached.

    A ``.zoning_cache`` folder next to the data folder (its sibling) when the data come from a
    folder whose parent is writable; otherwise (the bundled sample, a read-only place) the user
    cache: ``$XDG_CACHE_HOME/pingluo-zoning`` or ``~/.cache/pingluo-zoning``.
    """
    if source not in (None, "", "sample"):
        parent = Path(source).resolve().parent
        if os.access(parent, os.W_OK):
            return parent / ".zoning_cache"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pingluo-zoning"


# --- routes for the planner map --------------------------------------------------------------


def route_lines(network: RoadNetwork, unit_points, school_points, pairs: pd.DataFrame, *, snap_m: float = SNAP_M) -> gpd.GeoDataFrame:
    """The route of each pair along the network, for the planner map (route on click).

    Parameters
    ----------
    network : RoadNetwork
    unit_points, school_points : GeoSeries, GeoDataFrame or ``(n, 2)`` array
        In the network's CRS (polygons are replaced by a representative point).
    pairs : pandas.DataFrame
        Columns ``unit`` and ``school`` (row positions).

    Returns
    -------
    geopandas.GeoDataFrame
        ``unit, school, distance_m, on_network`` and a LineString: unit point → its road node →
        … → the school's node → school point; a straight line (``on_network`` False) where an end
        does not snap within ``snap_m`` or the school cannot be reached.
    """
    uxy = unit_points if isinstance(unit_points, np.ndarray) else point_xy(unit_points)
    sxy = school_points if isinstance(school_points, np.ndarray) else point_xy(school_points)
    unit = pairs["unit"].to_numpy(np.int64)
    school = pairs["school"].to_numpy(np.int64)
    u_node, u_snap = snap(network, uxy)
    s_node, s_snap = snap(network, sxy)
    geoms = np.empty(len(unit), dtype=object)
    dist = np.hypot(*(uxy[unit] - sxy[school]).T)
    on_net = np.zeros(len(unit), dtype=bool)
    ok = (u_snap[unit] <= snap_m) & (s_snap[school] <= snap_m)
    for s_nd in np.unique(s_node[school[ok]]):
        sel = np.flatnonzero(ok & (s_node[school] == s_nd))
        d, pred = dijkstra(network.graph, directed=True, indices=int(s_nd), return_predecessors=True)
        for p in sel:
            nd = int(u_node[unit[p]])
            if not np.isfinite(d[nd]):
                continue
            path = [nd]
            while nd != s_nd:
                nd = int(pred[nd])
                path.append(nd)
            pts = np.vstack([uxy[unit[p]], network.nodes[path], sxy[school[p]]])
            geoms[p] = shapely.linestrings(pts)
            dist[p] = d[path[0]] + u_snap[unit[p]] + s_snap[school[p]]
            on_net[p] = True
    straight = np.flatnonzero(~on_net)
    if len(straight):
        geoms[straight] = shapely.linestrings(np.stack([uxy[unit[straight]], sxy[school[straight]]], axis=1))
    geoms = shapely.remove_repeated_points(geoms)
    return gpd.GeoDataFrame(
        {"unit": unit, "school": school, "distance_m": dist, "on_network": on_net},
        geometry=gpd.GeoSeries(geoms, crs=network.crs),
        crs=network.crs,
    )


def assignment_routes(units: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, roads, assignments: pd.DataFrame,
                      *, snap_m: float = SNAP_M) -> gpd.GeoDataFrame:
    """``routes.geojson`` of a proposal: each unit's route to its assigned school, in WGS84.

    Parameters
    ----------
    units, schools : GeoDataFrame
        With ``unit_id`` / ``school_id`` columns (any CRS; the roads' CRS is used for routing).
    roads : GeoDataFrame or None
        Without roads every route is a straight line (``on_network`` False).
    assignments : pandas.DataFrame
        ``unit_id, level, school_id`` (e.g. ``assignments.csv``); rows whose ids are unknown or
        whose school_id is empty are skipped.

    Returns
    -------
    geopandas.GeoDataFrame
        ``unit_id, level, school_id, distance_m, on_network`` and LineString geometry, EPSG:4326.
        No head counts: safe to publish next to the planner map.
    """
    crs = metric_crs(units) if len(units) else None
    units_m, schools_m = to_crs(units, crs), to_crs(schools, crs)
    upos = {str(v): k for k, v in enumerate(units["unit_id"])}
    spos = {str(v): k for k, v in enumerate(schools["school_id"])}
    a = assignments.copy()
    a["unit"] = a["unit_id"].astype(str).map(upos)
    a["school"] = a["school_id"].map(lambda v: spos.get(str(v)) if pd.notna(v) and str(v) else None)
    a = a.dropna(subset=["unit", "school"]).astype({"unit": np.int64, "school": np.int64}).reset_index(drop=True)
    if roads is not None and len(roads):
        net = build_network(to_crs(roads, crs))
    else:
        net = RoadNetwork(np.empty((0, 2)), csr_matrix((0, 0)), np.empty(0, dtype=np.int64), crs, "")
    r = route_lines(net, point_xy(units_m), point_xy(schools_m), a[["unit", "school"]], snap_m=snap_m)
    out = gpd.GeoDataFrame(
        {"unit_id": a["unit_id"].astype(str).to_numpy(), "level": a["level"].astype(str).to_numpy(),
         "school_id": a["school_id"].astype(str).to_numpy(), "distance_m": r["distance_m"].round(1).to_numpy(),
         "on_network": r["on_network"].to_numpy()},
        geometry=r.geometry.values, crs=crs,
    )
    return out.to_crs(4326) if crs is not None else out
