"""Households (one row per child) -> unit counts by grade and by age.

Rules (written down, because every number in a plan rests on them):

* A child is placed in exactly one unit: the unit polygon that contains it (on its boundary
  counts); where polygons overlap, the smallest of them (a compound inside a village is the
  compound), ties by unit_id. With point units, a child goes to the nearest unit point within
  :data:`POINT_UNIT_RADIUS_M` metres (ties by unit_id). Overlaps themselves are reported by
  :func:`geodata.validate.check_overlaps`.
* A child with a ``grade`` (1–9) counts in ``students_g<grade>``.
* Otherwise its age on 31 August of the base year decides: 0–5 counts in ``age_<a>``; 6–14 is a
  pupil of grade ``a − 5`` (the grade a child of that age is in, SPEC §2: a child aged a enters
  grade 1 in the autumn of base_year + 6 − a). With only a birth year, the birthday is taken to fall
  on or before 31 August.
* A child whose location falls in no unit is reported (warning with household_id and row) and
  counted as outside; a child that cannot be used (no location, born after the reference date, or
  15 or older without a grade) is reported and counted as unusable (``n_skipped``). Nobody is
  dropped silently: ``n_in == n_counted + n_outside + n_skipped``, and the counts add up to
  ``n_counted``; :func:`aggregate_households` checks both and raises :class:`ReconciliationError`
  (a bug, not a data problem) when they do not hold.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from zoning.errors import Problem

log = logging.getLogger(__name__)

GRADE_COLUMNS = [f"students_g{g}" for g in range(1, 10)]
AGE_COLUMNS = [f"age_{a}" for a in range(6)]
COUNT_COLUMNS = GRADE_COLUMNS + AGE_COLUMNS
POINT_UNIT_RADIUS_M = 1000.0
FAR_M = 50_000.0


class ReconciliationError(RuntimeError):
    """Children read != counted + outside + unusable: a bug in the aggregation, never a data problem."""


@dataclass
class Aggregation:
    """Result of :func:`aggregate_households`.

    Attributes
    ----------
    counts : DataFrame
        Indexed by unit_id (units with at least one child), columns students_g1..g9, age_0..age_5.
    unit_of : Series
        For each household row (same index as the input), the unit_id it was counted in, or None.
    n_in, n_counted, n_outside, n_skipped : int
        Children read, counted in a unit, located outside every unit, unusable (no location, or
        not countable by grade or age).
    problems : list of Problem
        A warning per child outside every unit and per child skipped.
    """

    counts: pd.DataFrame
    unit_of: pd.Series
    n_in: int
    n_counted: int
    n_outside: int
    n_skipped: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        """True when every child is accounted for: in = counted + outside + skipped."""
        return self.n_in == self.n_counted + self.n_outside + self.n_skipped

    def totals(self) -> dict[str, int]:
        return {"in": self.n_in, "counted": self.n_counted, "outside": self.n_outside,
                "skipped": self.n_skipped}


def age_on_reference(birth_year, birth_month, birth_day, base_year: int) -> np.ndarray:
    """Age in whole years on 31 August of ``base_year`` (NaN where the birth year is unknown).

    Parameters
    ----------
    birth_year, birth_month, birth_day : array_like
        Month and day may be NaN (then the birthday is taken to be on or before 31 August).
    base_year : int
    """
    by = np.asarray(pd.to_numeric(pd.Series(birth_year), errors="coerce"), dtype=float)
    bm = np.asarray(pd.to_numeric(pd.Series(birth_month), errors="coerce"), dtype=float)
    bd = np.asarray(pd.to_numeric(pd.Series(birth_day), errors="coerce"), dtype=float)
    after = (bm > 8) | ((bm == 8) & (bd > 31))
    return base_year - by - np.where(np.isnan(bm), 0, after.astype(float))


def _locate(households: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> tuple[pd.Series, pd.Series]:
    """unit_id of each household (None outside) and distance to the nearest unit in metres."""
    unit_of = pd.Series([None] * len(households), index=households.index, dtype=object)
    dist = pd.Series(np.nan, index=households.index)
    has = households.geometry.notna() & ~households.geometry.is_empty
    if not has.any() or len(units) == 0:
        return unit_of, dist
    pts = households.loc[has, ["geometry"]].rename_axis("_hh")
    ugeo = units[["unit_id", "geometry"]].reset_index(drop=True)
    ugeo = ugeo[ugeo.geometry.notna() & ~ugeo.geometry.is_empty]
    areal = ugeo.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if areal.any():
        polys = ugeo[areal].assign(_area=ugeo.geometry[areal].area)
        joined = gpd.sjoin(pts, polys, how="inner", predicate="intersects")
        joined = joined.reset_index().sort_values(["_hh", "_area", "unit_id"]).drop_duplicates("_hh")
        unit_of.loc[joined["_hh"].to_numpy()] = joined["unit_id"].to_numpy()
    if (~areal).any():
        rest = pts.loc[unit_of.loc[pts.index].isna()]
        if len(rest):
            near = gpd.sjoin_nearest(rest, ugeo[~areal], how="inner", max_distance=POINT_UNIT_RADIUS_M,
                                     distance_col="_d")
            near = near.reset_index().sort_values(["_hh", "_d", "unit_id"]).drop_duplicates("_hh")
            unit_of.loc[near["_hh"].to_numpy()] = near["unit_id"].to_numpy()
    outside = unit_of.isna() & has
    if outside.any():
        union = ugeo.geometry.union_all()
        dist.loc[outside] = households.geometry[outside].distance(union).to_numpy()
    return unit_of, dist


def aggregate_households(households: gpd.GeoDataFrame, units: gpd.GeoDataFrame, base_year: int,
                         file: str = "households") -> Aggregation:
    """Count children per unit by grade and age.

    Parameters
    ----------
    households : GeoDataFrame
        Normalised households (``household_id``, ``birth_year``, optional ``birth_month``,
        ``birth_day``, ``grade``), points in the same projected CRS as ``units``; row ``i`` of the
        index is data row ``i + 1`` of the file.
    units : GeoDataFrame
        ``unit_id`` and geometry (polygons, or points).
    base_year : int
        Ages are taken on 31 August of this year.
    file : str
        File name for the problems.
    """
    n = len(households)
    unit_of, dist = _locate(households, units)
    grade = pd.to_numeric(households.get("grade", pd.Series(np.nan, index=households.index)),
                          errors="coerce").astype(float)
    age = age_on_reference(households.get("birth_year", pd.Series(np.nan, index=households.index)),
                           households.get("birth_month", pd.Series(np.nan, index=households.index)),
                           households.get("birth_day", pd.Series(np.nan, index=households.index)),
                           base_year)
    column = np.full(n, None, dtype=object)
    g = grade.to_numpy()
    has_grade = np.isfinite(g) & (g >= 1) & (g <= 9)
    column[has_grade] = [f"students_g{int(x)}" for x in g[has_grade]]
    young = ~has_grade & np.isfinite(age) & (age >= 0) & (age <= 5)
    column[young] = [f"age_{int(a)}" for a in age[young]]
    pupil = ~has_grade & np.isfinite(age) & (age >= 6) & (age <= 14)
    column[pupil] = [f"students_g{int(a) - 5}" for a in age[pupil]]
    if pupil.any():
        log.info("%s: %d 名儿童没有年级，按年龄推算年级（a 岁 = %d 年秋季 a−5 年级）", file, int(pupil.sum()), base_year)

    ids = households.get("household_id", pd.Series(households.index.astype(str), index=households.index))
    problems: list[Problem] = []
    inside = unit_of.notna().to_numpy(dtype=bool)
    countable = np.array([c is not None for c in column], dtype=bool)
    id_list, dist_list = ids.tolist(), dist.to_numpy()
    for pos in np.flatnonzero(~inside | ~countable):
        idx = households.index[pos]
        hid = None if pd.isna(id_list[pos]) else str(id_list[pos])
        if not inside[pos]:
            d = dist_list[pos]
            if np.isnan(d):
                msg = "该儿童没有坐标，无法落到任何片区单元"
                fix = "补全住址坐标（经纬度）"
            elif d > FAR_M:
                msg = f"该儿童位置距最近的片区单元 {d / 1000:.0f} 公里，坐标可能有误（经纬度填反或坐标系不对）"
                fix = "核对经纬度顺序和坐标系（--coords gcj02/bd09）"
            else:
                msg = f"该儿童不在任何片区单元内（距最近单元 {d:.0f} 米），未计入片区人数"
                fix = "补画或扩大所在小区/村的范围，或核对住址坐标"
            problems.append(Problem(file, int(idx) + 1, hid, "geometry", msg, fix, "warning"))
        elif not countable[pos]:
            a = age[pos]
            why = "出生日期缺失" if np.isnan(a) else ("在基准年 8 月 31 日尚未出生" if a < 0 else f"{int(a)} 岁且没有年级")
            problems.append(Problem(file, int(idx) + 1, hid, "birth_date",
                                    f"该儿童无法计入年级或年龄（{why}）",
                                    "核对出生日期；已在读的儿童填写年级（1–9）", "warning"))
    counted = inside & countable
    frame = pd.DataFrame({"unit_id": unit_of.to_numpy()[counted], "col": column[counted]})
    counts = (frame.assign(n=1).pivot_table(index="unit_id", columns="col", values="n", aggfunc="sum",
                                            fill_value=0)
              if len(frame) else pd.DataFrame(index=pd.Index([], name="unit_id")))
    counts = counts.reindex(columns=COUNT_COLUMNS, fill_value=0).fillna(0).astype("int64")
    counts.columns.name = None
    located = (households.geometry.notna() & ~households.geometry.is_empty).to_numpy(dtype=bool)
    agg = Aggregation(counts=counts, unit_of=unit_of.where(pd.Series(counted, index=unit_of.index)),
                      n_in=n, n_counted=int(counted.sum()), n_outside=int((located & ~inside).sum()),
                      n_skipped=int((~located | (inside & ~countable)).sum()), problems=problems)
    check_reconciliation(agg, set(units["unit_id"]))
    log.info("%s: 儿童 %d 名，计入片区 %d，片区外 %d，无法计入 %d", file, n, agg.n_counted, agg.n_outside,
             agg.n_skipped)
    return agg


def check_reconciliation(agg: Aggregation, unit_ids: set) -> None:
    """Every child read is counted once, outside, or unusable; the counts add up.

    Raises
    ------
    ReconciliationError
        When they do not: a bug in this module (the data cannot cause it).
    """
    in_units = int(agg.counts.to_numpy().sum()) if not agg.counts.empty else 0
    placed = int(agg.unit_of.notna().sum())
    unknown = set(agg.counts.index) - unit_ids
    if not agg.balanced or in_units != agg.n_counted or placed != agg.n_counted or unknown:
        raise ReconciliationError(
            f"bug: households read {agg.n_in} != counted {agg.n_counted} + outside {agg.n_outside} "
            f"+ unusable {agg.n_skipped}, or counts {in_units} / placed {placed} != counted, "
            f"or unknown units {sorted(unknown)[:5]}")


def apply_aggregation(units: gpd.GeoDataFrame, agg: Aggregation, file: str = "units"
                      ) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Replace the counts of the units that contain households by the aggregated counts.

    Units without any household keep their own numbers. Where a replaced unit had its own non-zero
    numbers that differ, a warning names the unit.

    Returns
    -------
    units : GeoDataFrame
        A copy with updated ``students_g1..g9`` and ``age_0..age_5``.
    problems : list of Problem
    """
    out = units.copy()
    problems: list[Problem] = []
    if agg.counts.empty:
        return out, problems
    for col in COUNT_COLUMNS:
        if col not in out.columns:
            out[col] = 0
    pos_of = {uid: i for i, uid in enumerate(out["unit_id"])}
    values = out[COUNT_COLUMNS].to_numpy(dtype="int64").copy()
    uids = out["unit_id"].tolist()
    new_all = agg.counts[COUNT_COLUMNS].to_numpy(dtype="int64")
    for k, uid in enumerate(agg.counts.index):
        if uid not in pos_of:
            continue
        i = pos_of[uid]
        own, new = values[i], new_all[k]
        if own.sum() > 0 and not (own == new).all():
            diff = [f"{c} {int(own[j])}→{int(new[j])}" for j, c in enumerate(COUNT_COLUMNS) if own[j] != new[j]]
            problems.append(Problem(file, i + 1, str(uids[i]), None,
                                    "片区单元自带的人数与住户数据汇总不一致，已按住户数据替换：" + "，".join(diff[:6])
                                    + ("…" if len(diff) > 6 else ""),
                                    "核对两份数据；以住户数据为准时可忽略此提示", "warning"))
        values[i] = new
    for j, col in enumerate(COUNT_COLUMNS):
        out[col] = values[:, j]
    for col in COUNT_COLUMNS:
        out[col] = out[col].astype("int64")
    log.info("按住户数据更新了 %d 个片区单元的人数", len(agg.counts))
    return out, problems
