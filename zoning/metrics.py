"""Plan-level figures from plain arrays: students moved, trip lengths, service-radius shares."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import policy
from .problem import ZoningProblem
from .projection import ZoneMaps
from .scenario import Scenario

#: Speeds used to turn distances into the 30-minute rural trip of the design guidance.
WALK_KMH = 4.5
BUS_KMH = 30.0


def pair_distances(problem: ZoningProblem, level: str, assignment: np.ndarray) -> np.ndarray:
    """Trip length (m) of each unit to its assigned school; NaN when unknown."""
    p = problem.pairs[problem.pairs["level"] == level]
    table = dict(zip(zip(p["unit"], p["school"]), p["distance_m"]))
    out = np.full(problem.n_units, np.nan)
    for u, s in enumerate(assignment):
        if s < 0:
            continue
        d = table.get((u, int(s)))
        if d is None and problem.unit_xy is not None and problem.school_xy is not None:
            d = float(np.hypot(*(problem.unit_xy[u] - problem.school_xy[s])))
        out[u] = np.nan if d is None else d
    return out


def _town_mask(problem: ZoningProblem, scenario: Scenario) -> np.ndarray:
    """Units in the town townships; every unit when townships are unknown or none match."""
    if problem.unit_township is None:
        return np.ones(problem.n_units, dtype=bool)
    mask = np.isin(problem.unit_township, list(scenario.town_townships))
    return mask if mask.any() else np.ones(problem.n_units, dtype=bool)


def plan_metrics(problem: ZoningProblem, zones: ZoneMaps, scenario: Scenario) -> dict:
    """Students moved, mean and max trip, and service-radius shares, per level and overall.

    Entrants of the intake years from the first new map on are the pupils a plan places; they are
    the weights here. ``students_moved`` counts entrants sent to another school than their current
    zone's, summed over those intake years (``students_moved_by_year``: the same per intake year,
    each year's entrants counted once); ``units_moved`` the units whose school changes.
    """
    years = [y for y in scenario.years if y >= scenario.intake_year]
    per_level = {}
    tot_w = tot_wd = moved = units_moved = 0.0
    max_d = 0.0
    by_year = {int(y): 0.0 for y in years}
    for level in scenario.levels:
        final = zones.final(level)
        cur = problem.current[level]
        w = sum(problem.entrants(level, y) for y in years) if years else np.zeros(problem.n_units)
        d = pair_distances(problem, level, final)
        ok = ~np.isnan(d)
        changed = (cur >= 0) & (final >= 0) & (final != cur)
        radius = policy.SERVICE_RADIUS_M[level]
        minutes = d / 1000.0 / (WALK_KMH if level == "primary" else BUS_KMH) * 60.0
        wl = w[ok].sum()
        town = _town_mask(problem, scenario)
        wt, wr = w[ok & town].sum(), w[ok & ~town].sum()
        per_level[level] = {
            "students_moved": int(round(w[changed].sum())),
            "units_moved": int(changed.sum()),
            "mean_distance_m": float((w[ok] * d[ok]).sum() / wl) if wl > 0 else None,
            "max_distance_m": float(d[ok & (w > 0)].max()) if (ok & (w > 0)).any() else None,
            # the service radius is a town measure, the 30-minute trip a rural one (SPEC §5.2)
            "within_radius_share": float(w[ok & town & (d <= radius)].sum() / wt) if wt > 0 else None,
            "within_30min_share": float(w[ok & ~town & (minutes <= 30)].sum() / wr) if wr > 0 else None,
        }
        tot_w += wl
        tot_wd += (w[ok] * d[ok]).sum()
        moved += w[changed].sum()
        for y in years:
            arr = zones.for_intake(level, y)
            ch = (cur >= 0) & (arr >= 0) & (arr != cur)
            by_year[int(y)] += float(problem.entrants(level, y)[ch].sum())
        units_moved += changed.sum()
        if per_level[level]["max_distance_m"] is not None:
            max_d = max(max_d, per_level[level]["max_distance_m"])
    return {
        "students_moved": int(round(moved)),
        "students_moved_by_year": {y: int(round(v)) for y, v in by_year.items()},
        "units_moved": int(units_moved),
        "mean_distance_m": float(tot_wd / tot_w) if tot_w > 0 else None,
        "max_distance_m": float(max_d),
        "within_radius_share": {lv: v["within_radius_share"] for lv, v in per_level.items()},
        "within_30min_share": {lv: v["within_30min_share"] for lv, v in per_level.items()},
        "by_level": per_level,
    }


def over_limit_summary(ledger: pd.DataFrame, years=None) -> dict:
    """Year -> list of school names over any limit (size, class or classrooms)."""
    led = ledger if years is None else ledger[ledger["year"].isin(years)]
    over = led[led["over_size_limit"] | led["over_class_limit"] | led["over_classrooms"]]
    return {int(y): sorted(g["name"].tolist()) for y, g in over.groupby("year")}
