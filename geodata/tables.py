"""The hand-over to ``zoning``: plain pandas tables, no geometry (see docs/ARCHITECTURE.md)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from geodata import aggregate
from geodata.adjacency import adjacency_notes, unit_adjacency
from geodata.dataset import Dataset
from geodata.pairs import candidate_pairs
from geodata.validate import INDICATOR_COLUMNS, PLAN_ITEM_COLUMNS

log = logging.getLogger(__name__)

SCHOOL_COLUMNS = (["school_id", "name", "level", "classrooms", "capacity", "open_year", "close_year",
                   "size_limit", "class_limit", "x", "y"]
                  + [f"enrolled_g{g}" for g in range(1, 10)] + [f"classes_g{g}" for g in range(1, 10)])
UNIT_COLUMNS = (["unit_id", "name", "township", "x", "y"] + aggregate.GRADE_COLUMNS + aggregate.AGE_COLUMNS
                + ["primary_school", "junior_school"])
SAMPLE_NOTE = "示例数据为虚构的演示数据，不代表平罗县真实情况"


@dataclass
class ZoningTables:
    """Plain tables for the model.

    Attributes
    ----------
    schools : DataFrame
        Indexed 0..S-1: :data:`SCHOOL_COLUMNS`, then ``address`` and the indicator columns given.
    units : DataFrame
        Indexed 0..U-1: :data:`UNIT_COLUMNS` (x, y = representative point, metres).
    adjacency : DataFrame
        ``i, j`` unit positions (i < j), barriers already cut (except through a crossing: the
        crossings layer or a road over the barrier).
    pairs : DataFrame
        ``unit, school, level, distance_m, crosses_barrier, reachable`` (positions);
        ``attrs["distance_source"]`` is "network" or "straight".
    meta : dict
        ``crs`` (text), ``epsg``, ``is_sample``, ``source``, ``distance_source``, ``islands`` (unit
        positions), ``notes`` (Chinese sentences for reports), ``base_year``, ``network`` (what
        reaches the road network, :func:`geodata.pairs.candidate_pairs`), ``warnings`` (the
        validator's errors and warnings count, the same as ``zoning validate``).
    barrier_cuts : DataFrame
        ``i, j, barrier``: the adjacency edges a barrier cuts with no crossing between the units (the
        checker names the barrier of a 飞地 from them).
    """

    schools: pd.DataFrame
    units: pd.DataFrame
    adjacency: pd.DataFrame
    pairs: pd.DataFrame
    meta: dict = field(default_factory=dict)
    barrier_cuts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["i", "j", "barrier"]))


def _xy(gdf) -> tuple[np.ndarray, np.ndarray]:
    geoms = np.asarray(gdf.geometry.to_numpy(), dtype=object)
    pts = shapely.point_on_surface(geoms)
    return shapely.get_x(pts), shapely.get_y(pts)


def school_table(dataset: Dataset) -> pd.DataFrame:
    """The schools as a plain table with x, y in metres."""
    s = dataset.schools.reset_index(drop=True)
    x, y = _xy(s)
    out = pd.DataFrame(s.drop(columns="geometry"))
    out["x"], out["y"] = x, y
    extra = [c for c in ["address", *INDICATOR_COLUMNS, *PLAN_ITEM_COLUMNS] if c in out.columns]
    return out[SCHOOL_COLUMNS + extra].reset_index(drop=True)


def unit_table(dataset: Dataset) -> pd.DataFrame:
    """The units as a plain table with x, y (representative point) in metres."""
    u = dataset.units.reset_index(drop=True)
    x, y = _xy(u)
    out = pd.DataFrame(u.drop(columns="geometry"))
    out["x"], out["y"] = x, y
    return out[UNIT_COLUMNS].reset_index(drop=True)


def to_tables(dataset: Dataset, scenario, cache_dir=None) -> ZoningTables:
    """Build the tables the model needs: schools, units, adjacency and candidate pairs.

    Parameters
    ----------
    dataset : Dataset
        A loaded dataset (projected CRS).
    scenario : zoning.scenario.Scenario
        Caps, k nearest, barrier rule and ``use_roads`` are used by the pair computation.
    cache_dir : path, optional
        Network-distance cache folder (e.g. ``geodata.network.default_cache_dir(dataset.source)``);
        no cache when None.

    Returns
    -------
    ZoningTables
    """
    units = dataset.units.reset_index(drop=True)
    schools = dataset.schools.reset_index(drop=True)
    roads = dataset.roads if getattr(scenario, "use_roads", True) else None
    adj = unit_adjacency(units, dataset.barriers, crossings=dataset.crossings, roads=dataset.roads)
    pairs = candidate_pairs(units, schools, scenario, roads=roads, barriers=dataset.barriers,
                            crossings=dataset.crossings, cache_dir=cache_dir)
    source = pairs.attrs.get("distance_source", "network" if roads is not None else "straight")
    notes = []
    if dataset.is_sample:
        notes.append(SAMPLE_NOTE)
    pair_notes = list(pairs.attrs.get("notes", []))
    if source == "network":
        notes.append("距离按道路网计算")
    elif not any("直线" in n for n in pair_notes):
        notes.append("没有道路数据，距离按直线计算" if roads is None else "道路网不可用，距离按直线计算")
    notes += pair_notes
    notes += adjacency_notes(adj, units["name"].tolist())
    n_warn = sum(getattr(p, "severity", "warning") in ("error", "warning") for p in dataset.warnings)
    n_info = sum(getattr(p, "severity", "") == "info" for p in dataset.warnings)
    if n_warn:
        notes.append(f"数据检查有 {n_warn} 条警告（运行 zoning validate 查看）"
                     + (f"；另有 {n_info} 条说明" if n_info else ""))
    meta = {
        "crs": dataset.crs.to_string(),
        "epsg": dataset.crs.to_epsg(),
        "is_sample": dataset.is_sample,
        "source": dataset.source,
        "distance_source": source,
        "islands": [int(k) for k in adj.islands],
        "n_cut": int(len(adj.cut)),
        "n_restored": int(len(adj.restored)),
        "warnings": int(n_warn),
        "network": dict(pairs.attrs.get("network") or {}),
        "notes": notes,
        "base_year": dataset.base_year,
    }
    edges = adj.edges[["i", "j"]].astype("int64").reset_index(drop=True)
    log.info("交接表：学校 %d，单元 %d，邻接 %d，候选配对 %d（%s）", len(schools), len(units), len(edges),
             len(pairs), source)
    cuts = adj.cut[["i", "j", "barrier"]].reset_index(drop=True)
    return ZoningTables(schools=school_table(dataset), units=unit_table(dataset), adjacency=edges,
                        pairs=pairs, meta=meta, barrier_cuts=cuts)
