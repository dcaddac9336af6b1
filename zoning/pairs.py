"""Candidate unit–school pairs and the rules on them: one definition for the model and the checker.

The scenario's rules on pairs (:func:`pair_rules`: usable schools, distance caps, barriers, locks,
each unit's fallback), the pairs the model may use (:func:`candidate_pairs`), the root of each zone
per connected component (:func:`zone_roots`) and the pieces of a zone (:func:`zone_pieces`). The
optimizer (:mod:`zoning.model`) builds its variables from these and the checker
(:mod:`zoning.checks`) judges a plan by them, so both import them from here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import policy
from .problem import ZoningProblem
from .projection import ZoneMaps, ledger, project, steady_state
from .scenario import Scenario


@dataclass
class PairRules:
    """The scenario's rules on the unit–school pairs of one level and zone map.

    The one definition the model prunes its candidates by (:func:`candidate_pairs`) and the checker
    judges a plan by (:mod:`zoning.checks`), so that what the optimizer returns passes the checker.

    ``pairs``: the problem's pairs of the level whose school the map may use, with ``is_current``,
    ``is_lock``, ``within_cap``, ``barrier_ok``, ``fallback`` (a unit's nearest usable school, taken
    when the rules leave it none) and ``allowed``. ``usable`` (S,): schools serving the level that
    are open at the map's start and do not close before the horizon. ``limit_m`` (U,): the longest
    trip the caps allow each unit (``inf`` where no school is usable).
    """

    pairs: pd.DataFrame
    usable: np.ndarray
    limit_m: np.ndarray
    locks: dict

    def allowed_set(self) -> set:
        p = self.pairs[self.pairs["allowed"]]
        return set(zip(p["unit"].tolist(), p["school"].tolist()))


RELAX_NEAREST = 3  # with soft caps, a unit's nearest usable schools beyond the caps stay candidates


def usable_schools(problem: ZoningProblem, scenario: Scenario, level: str, start_year: int) -> np.ndarray:
    """Schools a map of ``level`` in force from ``start_year`` to the horizon may zone units to."""
    return problem.usable(level, start_year, scenario.horizon)


def distance_limits(p: pd.DataFrame, caps, n_units: int) -> np.ndarray:
    """Longest allowed trip of each unit (m) over the usable pairs ``p`` (with ``is_current``).

    ``max_km``, and no more than ``max_ratio`` × the current trip unless within ``free_km`` (no
    relative cap where the unit has no usable current school: not zoned yet, or its school closes);
    but a unit may always go to its nearest usable school, however far (a remote village).
    """
    units = p["unit"].to_numpy()
    d = p["distance_m"].to_numpy(float)
    cur = p["is_current"].to_numpy(bool)
    d_cur = np.full(n_units, np.nan)
    d_cur[units[cur]] = d[cur]
    rel = np.where(np.isnan(d_cur), np.inf, np.maximum(caps.max_ratio * d_cur, caps.free_km * 1000.0))
    d_near = np.full(n_units, np.inf)
    np.minimum.at(d_near, units, d)
    limit = np.maximum(np.minimum(caps.max_km * 1000.0, rel), d_near + 1e-6)
    return np.where(np.isfinite(d_near), limit, np.inf)


def pair_rules(problem: ZoningProblem, scenario: Scenario, level: str, start_year: int) -> PairRules:
    """Apply the scenario's rules to the pairs of ``level`` for a map starting in ``start_year``.

    A pair is allowed when its school is usable and the trip is within the unit's distance limit
    (:func:`distance_limits`), or it is the unit's current zone; a primary pair across a barrier
    only when the scenario does not forbid it, or it is the current zone. A lock overrides both: a
    locked unit has its locked school only, at the levels that school teaches (beyond the caps or
    across a barrier too, said by the pre-solve check). A unit the rules leave without any school falls back to its nearest one.
    """
    usable = usable_schools(problem, scenario, level, start_year)
    p = problem.pairs[problem.pairs["level"] == level]
    p = p[usable[p["school"].to_numpy()]].copy()
    cur = problem.current[level]
    p["is_current"] = cur[p["unit"].to_numpy()] == p["school"].to_numpy()
    limit = distance_limits(p, scenario.caps[level], problem.n_units)
    units = p["unit"].to_numpy()
    d = p["distance_m"].to_numpy(float)
    is_cur = p["is_current"].to_numpy()
    within = d <= limit[units]
    soft = np.zeros(len(p), dtype=bool)
    if getattr(scenario.caps[level], "relax", False):
        rank = p.assign(_d=d).groupby("unit")["_d"].rank(method="first").to_numpy()
        soft = ~within & (rank <= RELAX_NEAREST)
        within = within | soft
    barrier_ok = np.ones(len(p), dtype=bool)
    if level == "primary" and scenario.barrier_rule == "forbid":
        barrier_ok = ~p["crosses_barrier"].to_numpy(bool)
    keep = (within | is_cur) & barrier_ok
    serves = problem.serves(level)
    locks = {u: s for u, s in lock_positions(problem, scenario).items() if serves[s]}
    has_lock = np.array([u in locks for u in units.tolist()], dtype=bool)
    is_lock = np.array([locks.get(u) == s for u, s in zip(units.tolist(), p["school"].tolist())], dtype=bool)
    keep = np.where(has_lock, is_lock, keep)
    # every unit must keep a choice: fall back to its nearest usable school
    missing = np.setdiff1d(np.arange(problem.n_units), units[keep])
    back = p[p["unit"].isin(missing)].sort_values(["unit", "distance_m", "school"]).groupby("unit").head(1)
    fallback = np.zeros(len(p), dtype=bool)
    fallback[p.index.get_indexer(back.index)] = True
    p = p.assign(is_lock=is_lock, within_cap=within, barrier_ok=barrier_ok, fallback=fallback,
                 allowed=keep | fallback, beyond_m=np.where(soft, d - np.minimum(limit[units], d), 0.0))
    return PairRules(p, usable, limit, locks)


def candidate_pairs(problem: ZoningProblem, scenario: Scenario, level: str, start_year: int,
                    notes: list[str]) -> pd.DataFrame:
    """The pairs a map starting in ``start_year`` may use (:func:`pair_rules`), with notes on the
    units that fall back to their nearest school."""
    rules = pair_rules(problem, scenario, level, start_year)
    p = rules.pairs
    for u in np.setdiff1d(np.arange(problem.n_units), p["unit"].unique()):
        notes.append(f"{problem.unit_names[u]}（{problem.unit_ids[u]}）在{policy.LEVEL_NAMES_ZH[level]}"
                     f"没有任何可选学校（检查学校学段、开办年份与距离）")
    for row in p[p["fallback"]].itertuples():
        notes.append(
            f"{problem.unit_names[row.unit]}（{problem.unit_ids[row.unit]}）在距离上限/障碍规则下没有可选"
            f"{policy.LEVEL_NAMES_ZH[level]}，暂按最近的 {problem.school_names[row.school]}"
            f"（{row.distance_m / 1000:.1f} 公里）处理"
        )
    pruned = p[p["allowed"]].drop(columns=["is_lock", "within_cap", "barrier_ok", "fallback", "allowed"])
    return pruned.sort_values(["unit", "school"]).reset_index(drop=True)


def lock_positions(problem: ZoningProblem, scenario: Scenario) -> dict:
    """The scenario's locks as ``{unit position: school position}`` (unknown ids are refused
    before this, by :func:`zoning.problem.lock_problems`)."""
    uidx, sidx = problem.unit_index(), problem.school_index()
    return {uidx[u]: sidx[s] for u, s in scenario.locks.items() if u in uidx and s in sidx}


def zone_roots(problem: ZoningProblem, pairs: pd.DataFrame, level: str) -> np.ndarray:
    """Root flag of each candidate pair: per school, the unit of the school's current zone (else
    any candidate) with the shortest trip; and every pair of an island (a unit with no neighbour).

    A zone is one piece on the adjacency graph (barriers cut it except through a crossing,
    :mod:`geodata.adjacency`): it grows from its one root, and the closer-neighbour rule makes
    every piece of a zone hold the root or an anchored pair (:func:`anchored_pairs`). Islands are
    exempt: a unit with no neighbour is a zone piece of its own wherever it goes. The checker uses
    the same definition.
    """
    units = pairs["unit"].to_numpy()
    schools = pairs["school"].to_numpy()
    dist = pairs["distance_m"].to_numpy()
    in_zone = problem.current[level][units] == schools
    island = np.zeros(problem.n_units, dtype=bool)
    island[islands(problem)] = True
    order = np.lexsort((units, dist, ~in_zone, island[units], schools))
    root = np.zeros(len(pairs), dtype=bool)
    if len(order):
        s_sorted = schools[order]
        first = order[np.r_[True, s_sorted[1:] != s_sorted[:-1]]]
        root[first] = True
    root |= island[units]
    return root


def islands(problem: ZoningProblem) -> np.ndarray:
    """Units with no neighbour at all (exempt from contiguity)."""
    deg = np.bincount(problem.edges.ravel(), minlength=problem.n_units) if len(problem.edges) else \
        np.zeros(problem.n_units, dtype=int)
    return np.flatnonzero(deg == 0)


def zone_pieces(members: np.ndarray, nbrs) -> list:
    """Connected pieces of a set of units (``nbrs``: :meth:`ZoningProblem.neighbours`)."""
    member = set(int(u) for u in members)
    seen, pieces = set(), []
    for start in sorted(member):
        if start in seen:
            continue
        stack, piece = [start], []
        seen.add(start)
        while stack:
            u = stack.pop()
            piece.append(u)
            for v in nbrs[u]:
                if v in member and v not in seen:
                    seen.add(v)
                    stack.append(v)
        pieces.append(piece)
    return pieces


def first_pair_of_each_unit(units: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Position of each unit's pair that sorts first by ``keys`` (the first key first), by unit."""
    units = np.asarray(units)
    order = np.lexsort(tuple(reversed(keys)) + (units,))
    return order[np.r_[True, units[order][1:] != units[order][:-1]]]


# ------------------------------------------------------------------------------ stability (issue 18)
REASON_OVER = "为化解{school}超额"
REASON_OPENING = "{school}新片区"
REASON_CLOSING = "撤并"
REASON_CLOSER = "距离更近"
REASON_OUT_OF_REACH = "原学校不在可选范围"


@dataclass
class Concerns:
    """Which schools a change of zone may concern, under the current zones.

    ``over`` (S,): over a size, class or classroom limit in some year from the first intake on, or
    in the steady state (:func:`zoning.projection.steady_state`, when the scenario holds it);
    ``opening`` (S,): admits its first intake after the base year; ``closing`` (S,): closes by the
    horizon. By default (``reoptimise = false``) a unit changes school only out of an ``over`` or a
    ``closing`` school, or into an ``opening`` one (:func:`stable_moves`).
    """

    over: np.ndarray
    opening: np.ndarray
    closing: np.ndarray


def school_concerns(problem: ZoningProblem, scenario: Scenario) -> Concerns:
    """:class:`Concerns` of the scenario's schools under the current zones."""
    current = ZoneMaps.current(problem)
    led = ledger(problem, project(problem, current, scenario.years), include_base=True)
    sidx = problem.school_index()
    over = np.zeros(problem.n_schools, dtype=bool)
    if len(led):
        bad = led[(led["year"] >= min(scenario.intake_year, problem.base_year))
                  & (led["over_size_limit"] | led["over_class_limit"] | led["over_classrooms"])]
        over[[sidx[s] for s in bad["school_id"].unique()]] = True
    if scenario.steady_state:
        st = steady_state(problem, current, scenario.horizon, scenario.levels)
        bad = st[st["over_size_limit"] | st["over_classrooms"]]
        over[[sidx[s] for s in bad["school_id"]]] = True
    opening = problem.open_year > problem.base_year
    closing = problem.close_year <= scenario.horizon
    return Concerns(over, opening, closing)


def stable_moves(problem: ZoningProblem, scenario: Scenario, pairs: pd.DataFrame, level: str,
                 concerns: Concerns) -> np.ndarray:
    """Which pairs the stability rule allows: all with ``reoptimise``; else staying in the current
    zone, and moving only out of a school over a limit or closing, out of no zone, or into an
    opening school. Locks are allowed by the caller."""
    if scenario.reoptimise:
        return np.ones(len(pairs), dtype=bool)
    units = pairs["unit"].to_numpy()
    schools = pairs["school"].to_numpy()
    cur = problem.current[level][units]
    stays = cur == schools
    # a unit whose current school is no candidate (gone, out of reach) must move anyway
    has = np.zeros(problem.n_units, dtype=bool)
    has[units[stays]] = True
    has = has[units]
    c = np.where(cur >= 0, cur, 0)
    return (~has | stays | concerns.over[c] | concerns.closing[c] | concerns.opening[schools])


def change_reason(problem: ZoningProblem, concerns: Concerns, previous: int, school: int,
                  reachable: bool = True) -> str:
    """Why a unit moved from ``previous`` to ``school`` ("" when it did not): the school it leaves
    closes (撤并), the school it joins opens (…新片区), the school it leaves is over a limit
    (为化解…超额), the current school is no candidate of the unit (``reachable`` false: no road
    reaches it, 原学校不在可选范围), else a shorter or better trip (距离更近, only with ``reoptimise``)."""
    if previous < 0 or school < 0 or previous == school:
        return ""
    if concerns.closing[previous]:
        return REASON_CLOSING
    if concerns.opening[school]:
        return REASON_OPENING.format(school=problem.school_names[school])
    if concerns.over[previous]:
        return REASON_OVER.format(school=problem.school_names[previous])
    if not reachable:
        return REASON_OUT_OF_REACH
    return REASON_CLOSER
