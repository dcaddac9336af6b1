"""Neighbourhood repair of a plan the solver stopped on: re-solve the area around each problem.

On a large model HiGHS can stop at its time limit with a plan that breaks a limit it need not
break (benchmarks/README.md, XL). Each step here frees a small part of the model — the units that
could be zoned to one school, every pair of those units, and the class and limit variables of every
school those pairs reach — fixes everything else at the incumbent, and hands the small integer
program to HiGHS (:func:`zoning.highs.solve_fixed`). The incumbent is a solution of every such
sub-problem, so a step never makes the plan worse; it is kept only when it is strictly better.

Order: first the schools with a broken limit (largest penalty first), then every school by its share
of the trip cost, while time is left. The lower bound of the main solve still holds, so the plan's
proven gap is recomputed against it.

When the main solve found no plan at all, the search starts from the current zones (each unit at
its current school, or its lock, or its nearest candidate), with classes and slacks solved for them.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from .highs import LpArrays, solve_fixed
from .pairs import first_pair_of_each_unit

log = logging.getLogger(__name__)

#: A step must improve the objective by more than this (relative) to be kept.
MIN_IMPROVEMENT = 1e-9
#: Shortest time a step is given (seconds); a step never runs past the deadline.
MIN_STEP_SECONDS = 5.0


@dataclass
class Columns:
    """Where the model's variables sit in the arrays handed to HiGHS."""

    pair_unit: np.ndarray  # one entry per x variable, over all maps and levels
    pair_school: np.ndarray
    pair_col: np.ndarray
    pair_km: np.ndarray
    school_cols: dict  # school -> columns of its class, slack and "broken" variables
    unit_cols: dict  # unit -> columns of its exemption and second-change variables
    limits: list  # (school, kind, year, slack column, indicator column, unit cost)
    groups: list = field(default_factory=list)  # (map, level, first, end) ranges of the pair arrays


def model_columns(model, arr: LpArrays) -> Columns:
    """Index the model's variables in ``arr``."""
    index = {v: i for i, v in enumerate(arr.variables)}
    units, schools, cols, km, groups = [], [], [], [], []
    start = 0
    for spec in model.maps:
        for level, pairs in spec.pairs.items():
            units.append(pairs["unit"].to_numpy())
            schools.append(pairs["school"].to_numpy())
            km.append(pairs["distance_m"].to_numpy(float) / 1000.0)
            cols.append(np.fromiter(map(index.__getitem__, spec.x[level]), dtype=np.int64, count=len(pairs)))
            groups.append((spec.index, level, start, start + len(pairs)))
            start += len(pairs)
    school_cols: dict[int, list[int]] = {}
    for (s, _level, _e), c in model.classes.items():
        school_cols.setdefault(int(s), []).append(index[c])
    limits = []
    for sl in model.slacks:
        s = int(sl["school"])
        school_cols.setdefault(s, []).extend([index[sl["var"]], index[sl["indicator"]]])
        limits.append((s, sl["kind"], sl["year"], index[sl["var"]], index[sl["indicator"]], sl["unit_cost"]))
    unit_cols = {u: [index[v] for v in vs] for u, vs in model.unit_vars.items()}
    cat = (lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt))
    return Columns(cat(units, np.int64), cat(schools, np.int64), cat(cols, np.int64), cat(km, float),
                   school_cols, unit_cols, limits, groups)


def neighbourhood(cols: Columns, n_cols: int, schools) -> tuple[np.ndarray, np.ndarray]:
    """Free columns around ``schools``: the units with a candidate pair at one of them, all of
    those units' pairs, and the class and limit columns of every school those pairs reach.
    Returns the mask and the schools reached."""
    units = np.unique(cols.pair_unit[np.isin(cols.pair_school, list(schools))])
    in_units = np.isin(cols.pair_unit, units)
    reached = np.unique(cols.pair_school[in_units])
    free = np.zeros(n_cols, dtype=bool)
    free[cols.pair_col[in_units]] = True
    for s in reached.tolist():
        free[cols.school_cols.get(s, [])] = True
    for u in units.tolist():
        free[cols.unit_cols.get(u, [])] = True
    return free, reached


def broken_limits(cols: Columns, values: np.ndarray) -> list[tuple]:
    """Limits broken by ``values``, largest penalty first: ``(school, kind, year, penalty)``."""
    out = [(s, kind, year, values[sc] * cost) for s, kind, year, sc, ic, cost in cols.limits if values[ic] > 0.5]
    return sorted(out, key=lambda t: (-t[3], t[0], t[2], t[1]))


def current_start(model, arr: LpArrays, cols: Columns, options: dict, threads=None) -> np.ndarray | None:
    """A solution with every unit at its current school (else its only, else its nearest candidate),
    classes and slacks solved for it; None when HiGHS finds none."""
    x = np.zeros(arr.n_cols)
    free = np.ones(arr.n_cols, dtype=bool)
    free[cols.pair_col] = False
    for _m, level, a, b in cols.groups:
        u, s, km = cols.pair_unit[a:b], cols.pair_school[a:b], cols.pair_km[a:b]
        cur = model.problem.current[level][u] == s
        # per unit: its current school if a candidate, else its nearest candidate
        x[cols.pair_col[a:b][first_pair_of_each_unit(u, ~cur, km, s)]] = 1.0
    values, _ = solve_fixed(arr, x, free, options, threads)
    return values


def polish(model, arr: LpArrays, cols: Columns, values: np.ndarray, deadline: float, *,
           gap: float | None = None, threads: int | None = None, heuristic_effort: float | None = None,
           progress=None) -> tuple[np.ndarray, list[str]]:
    """Improve ``values`` step by step until ``deadline`` (``time.perf_counter()``); returns the
    values and one line per kept step (Chinese, for the solver log)."""
    objective = float(arr.cost @ values)
    lines: list[str] = []
    base = {"output_flag": False}
    if gap is not None:
        base["mip_rel_gap"] = float(gap)
    if heuristic_effort is not None:
        base["mip_heuristic_effort"] = float(heuristic_effort)
    names = model.problem.school_names

    def step(schools, why: str) -> bool:
        nonlocal values, objective
        left = deadline - time.perf_counter()
        if left < 1.0:
            return False
        free, reached = neighbourhood(cols, arr.n_cols, schools)
        t = time.perf_counter()
        new, r = solve_fixed(arr, values, free, dict(base, time_limit=max(min(left, MIN_STEP_SECONDS), left / 4)),
                             threads)
        if new is None:
            return False
        obj = float(arr.cost @ new)
        if obj < objective - MIN_IMPROVEMENT * max(1.0, abs(objective)):
            line = (f"{why}：放开 {int(free.sum())} 个变量（{len(reached)} 所学校），目标值 "
                    f"{objective + arr.offset:,.2f} → {obj + arr.offset:,.2f}，{time.perf_counter() - t:.1f} 秒")
            lines.append(line)
            log.info("邻域修补 %s", line)
            if progress:
                progress(f"邻域修补：{line}")
            values, objective = new, obj
            return True
        return False

    # 1. every broken limit, largest penalty first (re-read after each kept step)
    tried: set = set()
    while time.perf_counter() < deadline:
        todo = [b for b in broken_limits(cols, values) if b[0] not in tried]
        if not todo:
            break
        s, kind, year, _ = todo[0]
        tried.add(s)
        step([s], f"{names[s]} {year} 年{'班额教室' if kind == 'rooms' else '校额'}超限")
    # 2. every school by its share of the trip cost; again while a pass improves the plan
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        chosen = values[cols.pair_col] > 0.5
        share = np.bincount(cols.pair_school[chosen], weights=arr.cost[cols.pair_col[chosen]],
                            minlength=len(names))
        for s in np.lexsort((np.arange(len(share)), -share)).tolist():
            if time.perf_counter() >= deadline:
                break
            if share[s] > 0 and step([s], f"{names[s]} 附近"):
                improved = True
    return values, lines
