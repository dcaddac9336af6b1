"""Candidate unit–school pairs with their distances and barrier flags (the model's only geometry).

Which pairs
-----------
Per unit and zoning level (``scenario.levels``), the schools serving that level
(``zoning.policy.SERVES``: a nine-year school serves both):

* the ``caps[level].k_nearest`` nearest by straight line (``scipy.spatial.cKDTree``, never an
  all-pairs matrix);
* every school within ``caps[level].free_km``;
* the unit's current school (``primary_school`` / ``junior_school``);
* a school the scenario locks the unit to (``scenario.locks``).

Schools that close (or are not yet open) are listed like any other: the model filters by year.

Distances
---------
Straight line between the unit's representative point and the school point. With roads and
``scenario.use_roads``, the network distance (``geodata.network``) replaces it for every pair whose
two ends are on the network: the school within ``snap_m`` (500 m) of a road node, the unit's point
within ``snap_m`` of one or that node within ``snap_m`` of the unit's outline (a road that reaches a
large village serves it). The other pairs get the straight line × 1.3 and a note says how many. Pairs whose ends lie on disconnected pieces of the road network are
``reachable = False`` (distance: straight × 1.3) and reported.

``crosses_barrier``
-------------------
True when the straight segment unit → school crosses a barrier line **and** no acceptable crossing
exists, i.e.

* with the network (both ends on it): the shortest walk that crosses barriers only at a named
  crossing (every road over a barrier counts as a crossing when no crossings layer is given) is
  longer than ``scenario.barrier_detour`` × the straight line, or there is none;
* without it: no named crossing ``c`` gives ``|unit c| + |c school| <= barrier_detour × straight``
  (always True when no crossings are given). This fallback looks for one crossing; a trip over two
  barriers is judged by its best single crossing.

So a pupil is never sent over a railway or canal unless a crossing lies within a reasonable detour;
what happens to flagged pairs (forbidden or penalised for primary pupils) is the model's
``scenario.barrier_rule``.
"""
from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from zoning.policy import LEVEL_NAMES_ZH, SERVES
from zoning.scenario import Scenario

from geodata import network as nw

log = logging.getLogger(__name__)

COLUMNS = ["unit", "school", "level", "distance_m", "crosses_barrier", "reachable", "straight_m", "barrier"]
_LIST_MAX = 10


def _names(frame: pd.DataFrame, idx, *cols) -> list[str]:
    for col in cols:
        if col in frame.columns:
            vals = frame[col].to_numpy()
            return [str(vals[i]) for i in idx]
    return [f"第 {i + 1} 行" for i in idx]


def _listing(names: list[str]) -> str:
    shown = "、".join(names[:_LIST_MAX])
    return shown + (f" 等 {len(names)} 个" if len(names) > _LIST_MAX else "")


def _ids(col: pd.Series) -> np.ndarray:
    """String ids, None for missing/blank."""
    vals = col.astype(object).to_numpy()
    out = np.full(len(vals), None, dtype=object)
    for k, v in enumerate(vals):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            continue
        s = str(v).strip()
        if s:
            out[k] = s
    return out


def _level_pairs(level, units, schools, uxy, sxy, u_ok, scenario, school_pos, notes):
    """Candidate (unit, school) positions for one level."""
    serves = np.array([level in SERVES.get(str(lv), ()) for lv in schools["level"].astype(str)], dtype=bool)
    s_idx = np.flatnonzero(serves & np.isfinite(sxy).all(1))
    level_zh = LEVEL_NAMES_ZH[level]
    if len(s_idx) == 0:
        notes.append(f"没有招收{level_zh}学生的学校，{level_zh}不生成候选")
        return np.empty(0, np.int64), np.empty(0, np.int64)
    caps = scenario.caps[level]
    u_idx = np.flatnonzero(u_ok)
    tree = cKDTree(sxy[s_idx])
    k = min(int(caps.k_nearest), len(s_idx))
    _, nn = tree.query(uxy[u_idx], k=k)
    nn = nn.reshape(len(u_idx), k)
    parts_u = [np.repeat(u_idx, k)]
    parts_s = [s_idx[nn.ravel()]]
    if caps.free_km > 0 and len(u_idx):
        near = cKDTree(uxy[u_idx]).sparse_distance_matrix(tree, caps.free_km * 1000.0, output_type="ndarray")
        parts_u.append(u_idx[near["i"]])
        parts_s.append(s_idx[near["j"]])
    serving = set(s_idx.tolist())
    col = f"{level}_school"
    if col in units.columns:
        cur = _ids(units[col])
        missing, wrong = [], []
        cu, cs = [], []
        for u in u_idx:
            sid = cur[u]
            if sid is None:
                continue
            pos = school_pos.get(sid)
            if pos is None:
                missing.append(sid)
            elif pos not in serving:
                wrong.append(sid)
            else:
                cu.append(u)
                cs.append(pos)
        parts_u.append(np.asarray(cu, np.int64))
        parts_s.append(np.asarray(cs, np.int64))
        if missing:
            notes.append(f"{col} 中的学校代码在学校表中找不到，已忽略：{_listing(sorted(set(missing)))}")
        if wrong:
            notes.append(f"{col} 中的学校不招收{level_zh}学生，已忽略：{_listing(sorted(set(wrong)))}")
    if scenario.locks and "unit_id" in units.columns:
        unit_pos = {uid: k for k, uid in enumerate(_ids(units["unit_id"])) if uid is not None}
        lu, ls = [], []
        for uid, sid in scenario.locks.items():
            u, s = unit_pos.get(str(uid)), school_pos.get(str(sid))
            if u is not None and s is not None and s in serving and u_ok[u]:
                lu.append(u)
                ls.append(s)
        parts_u.append(np.asarray(lu, np.int64))
        parts_s.append(np.asarray(ls, np.int64))
    u_all = np.concatenate(parts_u).astype(np.int64)
    s_all = np.concatenate(parts_s).astype(np.int64)
    key = np.unique(u_all * len(schools) + s_all)
    return key // len(schools), key % len(schools)


def _via_crossing_ok(uxy, sxy, straight, ratio, crossings) -> np.ndarray:
    """Whether some crossing point gives a trip within ``ratio`` × straight (per segment)."""
    cxy = nw.point_xy(crossings) if crossings is not None and len(crossings) else np.empty((0, 2))
    cxy = cxy[np.isfinite(cxy).all(1)]
    ok = np.zeros(len(uxy), dtype=bool)
    if len(cxy) == 0 or len(uxy) == 0:
        return ok
    step = max(1, 4_000_000 // len(cxy))
    for start in range(0, len(uxy), step):
        a, b = uxy[start:start + step], sxy[start:start + step]
        via = np.linalg.norm(a[:, None, :] - cxy[None], axis=2) + np.linalg.norm(b[:, None, :] - cxy[None], axis=2)
        ok[start:start + step] = via.min(axis=1) <= ratio * straight[start:start + step] + 1e-6
    return ok


def candidate_pairs(
    units: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    scenario: Scenario,
    roads: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    crossings: gpd.GeoDataFrame | None = None,
    cache_dir: str | Path | None = None,
    *,
    snap_m: float = nw.SNAP_M,
    crossing_tolerance_m: float = 50.0,
) -> pd.DataFrame:
    """The candidate unit–school pairs of every level, distance-computed.

    Parameters
    ----------
    units, schools : GeoDataFrame
        Units (polygons or points; ``unit_id``, ``name``, ``primary_school``, ``junior_school``
        used when present) and schools (points; ``school_id``, ``level`` required).
    scenario : Scenario
        ``levels``, ``caps`` (k_nearest, free_km), ``locks``, ``use_roads``, ``barrier_detour``.
    roads, barriers, crossings : GeoDataFrame, optional
        Road lines, barrier lines, named crossing points; any CRS (projected to the units' metric CRS).
    cache_dir : path, optional
        Folder for the network-distance cache (see :func:`geodata.network.default_cache_dir`);
        no cache when None.
    snap_m : float
        A unit or school farther than this from the road network is not put on it.
    crossing_tolerance_m : float
        A road edge over a barrier within this distance of a named crossing is that crossing.

    Returns
    -------
    pandas.DataFrame
        ``unit, school`` (row positions), ``level`` ("primary"/"junior"), ``distance_m``,
        ``crosses_barrier``, ``reachable``, ``straight_m``, ``barrier`` (name of a barrier the straight
        line crosses, None if none), sorted by level (scenario order), unit, school.
        ``attrs["distance_source"]`` is "network" or "straight"; ``attrs["notes"]`` is a list of
        Chinese notes for the report.
    """
    notes: list[str] = []
    reach: dict = {}
    crs = nw.metric_crs(units) if len(units) else None
    units_m = nw.to_crs(units, crs)
    schools_m = nw.to_crs(schools, crs)
    uxy = nw.point_xy(units_m)
    sxy = nw.point_xy(schools_m)
    u_ok = np.isfinite(uxy).all(1)
    if (~u_ok).any():
        notes.append(f"以下单元没有位置（几何为空），不生成候选学校：{_listing(_names(units, np.flatnonzero(~u_ok), 'name', 'unit_id'))}")
    s_bad = ~np.isfinite(sxy).all(1)
    if s_bad.any():
        notes.append(f"以下学校没有位置（几何为空），不作为候选：{_listing(_names(schools, np.flatnonzero(s_bad), 'name', 'school_id'))}")
    school_pos = {}
    if "school_id" in schools.columns:
        school_pos = {sid: k for k, sid in enumerate(_ids(schools["school_id"])) if sid is not None}

    frames = []
    for level in scenario.levels:
        pu, ps = _level_pairs(level, units, schools, uxy, sxy, u_ok, scenario, school_pos, notes)
        frames.append(pd.DataFrame({"unit": pu, "school": ps, "level": level}))
    pairs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"unit": [], "school": [], "level": []})
    unit = pairs["unit"].to_numpy(np.int64)
    school = pairs["school"].to_numpy(np.int64)
    a, b = uxy[unit], sxy[school]
    straight = np.hypot(*(a - b).T) if len(unit) else np.empty(0)
    distance = straight.copy()
    reachable = np.ones(len(unit), dtype=bool)
    on_net = np.zeros(len(unit), dtype=bool)
    safe_m = np.full(len(unit), np.nan)

    roads_m = nw.to_crs(roads, crs) if roads is not None else None
    barriers_m = nw.to_crs(barriers, crs) if barriers is not None else None
    crossings_m = nw.to_crs(crossings, crs) if crossings is not None else None
    use_net = roads_m is not None and len(roads_m) > 0 and scenario.use_roads
    if use_net:
        network = nw.build_network(roads_m)
        safe = None
        if barriers_m is not None and len(barriers_m) and crossings_m is not None and len(crossings_m):
            safe = nw.safe_network(network, barriers_m, crossings_m, crossing_tolerance_m=crossing_tolerance_m)
        near = nw.units_near_network(network, units_m, snap_m)
        nd = nw.network_distances(network, uxy, sxy, unit, school, safe=safe, snap_m=snap_m, unit_near=near,
                                  cache_dir=cache_dir)
        snapped = nd["snapped"].to_numpy(bool)
        reachable = nd["reachable"].to_numpy(bool)
        on_net = snapped & reachable
        distance = np.where(on_net, nd["network_m"].to_numpy(float), straight * nw.DETOUR_FACTOR)
        safe_m = nd["safe_m"].to_numpy(float)
        distance_source = "network"
        far_u = np.unique(unit[(nd["unit_snap_m"].to_numpy() > snap_m) & ~near[unit]])
        far_s = np.unique(school[nd["school_snap_m"].to_numpy() > snap_m])
        reach = nw.reach_summary(network, uxy, sxy, near, snap_m)
        if len(unit) and not snapped.any():
            distance_source = "straight"
            distance = straight.copy()
            far_u = far_s = []
            notes.append(f"道路数据未能使用（没有单元—学校对两端都在道路 {snap_m:.0f} 米以内），距离按直线计算")
        if len(far_u):
            notes.append(
                f"{len(far_u)} 个单元距最近道路超过 {snap_m:.0f} 米且道路未通到单元边上（{_listing(_names(units, far_u, 'name', 'unit_id'))}），"
                f"其距离按直线 × {nw.DETOUR_FACTOR} 估算"
            )
        if len(far_s):
            notes.append(
                f"{len(far_s)} 所学校距最近道路超过 {snap_m:.0f} 米（{_listing(_names(schools, far_s, 'name', 'school_id'))}），"
                f"其距离按直线 × {nw.DETOUR_FACTOR} 估算"
            )
        if (~reachable).any():
            notes.append(f"{int((~reachable).sum())} 对单元—学校之间道路网不连通，标为不可达（reachable = False）")
            for level in scenario.levels:
                lv = pairs["level"].to_numpy() == level
                if not lv.any():
                    continue
                any_ok = np.zeros(len(units), dtype=bool)
                any_ok[unit[lv & reachable]] = True
                stuck = np.setdiff1d(np.unique(unit[lv]), np.flatnonzero(any_ok))
                if len(stuck):
                    notes.append(
                        f"以下单元沿道路到不了任何{LEVEL_NAMES_ZH[level]}候选学校（道路网不连通，请补全道路数据）："
                        f"{_listing(_names(units, stuck, 'name', 'unit_id'))}"
                    )
    else:
        distance_source = "straight"
        if roads is None or len(roads) == 0:
            notes.append("未提供道路数据，距离按直线计算")
        else:
            notes.append("情景设置 use_roads = false，距离按直线计算")

    seg_cross, barrier_name = nw.segments_crossing_barriers(a, b, barriers_m)
    crosses = seg_cross.copy()
    ratio = float(scenario.barrier_detour)
    if seg_cross.any():
        net_ok = seg_cross & on_net
        crosses[net_ok] = ~(safe_m[net_ok] <= ratio * straight[net_ok] + 1e-6)
        off = np.flatnonzero(seg_cross & ~on_net)
        if len(off):
            crosses[off] = ~_via_crossing_ok(a[off], b[off], straight[off], ratio, crossings_m)
        n_cross = int(crosses.sum())
        if n_cross:
            notes.append(
                f"{n_cross} 对单元—学校的直线路径跨越障碍线，且 {ratio:g} 倍绕行距离内没有可通行的过街/桥梁"
                f"（crosses_barrier = True）"
            )
    barrier_name = np.where(seg_cross, barrier_name, None)

    out = pd.DataFrame(
        {
            "unit": unit,
            "school": school,
            "level": pairs["level"].astype(str).to_numpy(),
            "distance_m": distance.astype(float),
            "crosses_barrier": crosses.astype(bool),
            "reachable": reachable.astype(bool),
            "straight_m": straight.astype(float),
            "barrier": pd.Series(barrier_name, dtype=object),
        }
    )
    order = {lv: k for k, lv in enumerate(scenario.levels)}
    out = out.assign(_lv=out["level"].map(order)).sort_values(["_lv", "unit", "school"], kind="stable")
    out = out.drop(columns="_lv").reset_index(drop=True)
    out.attrs["distance_source"] = distance_source
    out.attrs["notes"] = notes
    out.attrs["network"] = reach
    log.info("候选单元—学校对：%d（距离：%s）", len(out), distance_source)
    return out


def _units_reached(nd: pd.DataFrame, unit: np.ndarray, near: np.ndarray, snap_m: float, n_units: int) -> int:
    """How many units are on the road network (within ``snap_m`` of a road, or a road reaches them)."""
    on = np.zeros(n_units, dtype=bool)
    ok = nd["unit_snap_m"].to_numpy(float) <= snap_m
    on[unit[ok]] = True
    if near is not None and len(near) == n_units:
        on |= np.asarray(near, dtype=bool)
    return int(on.sum())
