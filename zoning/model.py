"""The zoning integer program (PuLP; HiGHS through highspy by default).

Decision: for each zone map ``m`` (one map from the first intake on; optionally a second one from
``second_change_year``) and level, a binary ``x[m, u, s]`` for every candidate pair — unit ``u``
zoned to school ``s``. Each unit gets exactly one school per level and map (units are never split).

Year by year (the phase-in of issue 4): pupils enrolled before the new zones stay where they are;
the entrants of intake year ``e`` go where the map in force for ``e`` sends them; a cohort's classes
are opened at entry (integer ``c[s, e, level]``) and move up with it. For every school and year from
the first intake on:

* new classes carry at most the class limit (45 / 50): ``entrants × m ≤ limit × c``;
* the classes of all cohorts that entered under the new zones fit in the classrooms the grades
  still there leave free (slack ``room``, in classes);
* enrollment stays within the size limit (2000 / 2500) and seat capacity from ``target_year`` on;
  before it, a school over the limit may not grow beyond its base-year enrollment (slack ``size``,
  in pupils).

Every limit is soft: each slack has a binary "this limit is broken" with a very large cost, plus a
large cost per pupil or class, so that when the limits cannot all hold the plan breaks as few of
them as possible, by as little as possible, and the report names each one.

Objective: entrants-weighted trip length (km) + ``weights.moved`` × entrants moved from their
current zone + ``weights.barrier`` for primary trips across a barrier when the scenario penalises
rather than forbids them + ``weights.second_change`` for each unit the second map moves again.

Contiguity ("closer neighbour", as in Gillani et al. 2023): a unit may join school ``s``'s zone only
if one of its neighbours that is strictly closer to ``s`` (same distance measure, ties by index)
joins too. Following closer neighbours leads to the root — the unit closest to ``s`` in that
connected component of the adjacency graph — so every zone is connected within each component
(components are separated by barriers or are islands, and are exempt from each other). What it gives
up: a zone must be "star-shaped" with respect to distance from its school; a contiguous zone that
wraps around another school's area can be excluded. It adds one row per pair and no extra variables,
against Shirabe's flow model's flow variables per edge and school.

Reductions, without contiguity and a second map (exact; ``build_model(reduce=False)`` builds the
full model): a classroom or size limit that even every candidate unit together cannot break gets
no row, slack or indicator (:func:`limit_rows`), and a unit with no entrants, or whose cheapest
candidate school has no limit left that could bind, keeps only that pair (:func:`settled_pairs`):
moving it there never costs more and only frees room elsewhere. Repeated until nothing changes.
"""
from __future__ import annotations

import logging
import time as _time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pulp
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from . import highs, policy
from .errors import DataError, Problem
from .pairs import (Concerns, candidate_pairs, first_pair_of_each_unit, islands, lock_positions, school_concerns,
                    stable_moves, zone_pieces, zone_roots)
from .problem import ZoningProblem
from .projection import (ZoneMaps, entry_classes, entry_year_of, level_of_grade, max_cohort_factor, project,
                         steady_loads)
from .polish import current_start, model_columns, polish
from .scenario import Scenario
from .solver import SolveResult, new_var, solve
from .solver_log import fold_logs

log = logging.getLogger(__name__)

PENALTY_BROKEN_LIMIT = 1.0e6  # per limit broken (school, year, kind)
PENALTY_PER_STUDENT = 2.0e3  # per pupil over a size/capacity limit
PENALTY_PER_CLASS = 9.0e4  # per class without a classroom
PENALTY_BEYOND_CAP = 10.0  # soft caps: per pupil-km beyond the cap, times the distance weight
PENALTY_EXEMPTION = 1.0e4  # per unit joining a zone without a closer neighbour in it
MAX_CUT_ROUNDS = 12
EPS_DISTANCE = 0.01  # per km, so that units without children still get the nearest school


# ------------------------------------------------------------------------------ candidates
def _groups(keys: np.ndarray) -> list[tuple[int, list[int]]]:
    """``[(key, positions), ...]`` for each distinct key in ascending order, positions ascending."""
    keys = np.asarray(keys)
    if not len(keys):
        return []
    order = np.argsort(keys, kind="stable")
    uniq, starts = np.unique(keys[order], return_index=True)
    bounds = np.r_[starts, len(keys)].tolist()
    pos = order.tolist()
    return [(k, pos[bounds[i]:bounds[i + 1]]) for i, k in enumerate(uniq.tolist())]


def _terms(xs: list, coef: np.ndarray, where: np.ndarray) -> dict:
    """Objective terms ``{x: coef}`` for the variables where ``where`` holds."""
    idx = np.flatnonzero(where)
    return dict(zip([xs[i] for i in idx], coef[idx].tolist()))


def _graph(problem: ZoningProblem, members: np.ndarray | None = None):
    """The adjacency graph as a sparse matrix weighted by centre distance (1 without coordinates)."""
    e = problem.edges
    if members is not None and len(e):
        keep = members[e[:, 0]] & members[e[:, 1]]
        e = e[keep]
    if problem.unit_xy is not None and len(e):
        w = np.hypot(*(problem.unit_xy[e[:, 0]] - problem.unit_xy[e[:, 1]]).T) + 1.0
    else:
        w = np.ones(len(e))
    n = problem.n_units
    return sparse.coo_matrix((w, (e[:, 0], e[:, 1])), shape=(n, n)).tocsr() if len(e) else sparse.csr_matrix((n, n))


def contiguity_order(problem: ZoningProblem, pairs: pd.DataFrame, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Root flags, the "closeness" key of each pair used by the closer-neighbour rule, and the
    detached current pairs.

    The key is a geodesic distance in the adjacency graph from the school's root unit: for units of
    the school's current zone connected to the root within it, the distance within that zone (so
    every current zone satisfies the rule, and stays a feasible plan); for other units, a large
    constant plus the distance through the whole graph; infinite where no path leads to the root
    (across a barrier with no crossing): such a pair can only be an anchor. Roots: per school, the
    unit of the current zone (else any candidate) with the smallest trip, and every island pair
    (:func:`zoning.pairs.zone_roots`). ``detached``: pairs of the current zone not connected to the
    root within it — a piece the current zones already have, which the plan may keep (named and
    counted by the checker).
    """
    units = pairs["unit"].to_numpy()
    schools = pairs["school"].to_numpy()
    cur = problem.current[level]
    root = zone_roots(problem, pairs, level)
    key = np.full(len(pairs), np.inf)
    detached = np.zeros(len(pairs), dtype=bool)
    full = _graph(problem)
    big = 1.0e9
    island = np.zeros(problem.n_units, dtype=bool)
    island[islands(problem)] = True
    for s in np.unique(schools):
        rows = np.flatnonzero(schools == s)
        roots = [r for r in units[rows[root[rows]]].tolist() if not island[r]]
        if not roots:
            key[rows[root[rows]]] = 0.0
            continue
        d_all = csgraph.dijkstra(full, directed=False, indices=roots, min_only=True)
        zone = cur == s
        d_zone = np.full(problem.n_units, np.inf)
        in_zone_roots = [r for r in roots if zone[r]]
        if in_zone_roots:
            d_zone = csgraph.dijkstra(_graph(problem, zone), directed=False, indices=in_zone_roots, min_only=True)
        k = np.where(np.isfinite(d_zone), d_zone, big + d_all)
        key[rows] = k[units[rows]]
        detached[rows] = zone[units[rows]] & ~np.isfinite(d_zone[units[rows]]) & ~island[units[rows]]
    return root, key, detached


def contiguity_structure(problem: ZoningProblem, pairs: pd.DataFrame, keep: np.ndarray, level: str = "primary",
                         anchor: np.ndarray | None = None, allowed: np.ndarray | None = None):
    """Closer-neighbour lists for the pairs, after pruning pairs that can never be contiguous.

    A non-root pair none of whose unit's neighbours has a closer pair for the same school could only
    be used as an anchor; such pairs are dropped, except where ``keep`` is set (the current zone, a
    lock, a unit's last choice). Dropping a non-root pair changes neither the roots nor the keys, so
    they are computed once, on all of ``pairs``, before ``allowed`` (the stability rule,
    :func:`stable_pairs`) drops the moves the scenario does not ask for.

    Returns the pairs (with ``root``, ``keep`` and ``anchor`` columns) and, for each pair row, the
    rows of its closer neighbours' pairs for the same school. ``anchor``: a pair that may stand
    without a closer neighbour, at a cost (an exemption): a lock (``anchor`` argument), a current
    pair in a piece of the current zone detached from the root, and a unit's last choice. A piece of
    a zone must hold the root or an anchor; everything else follows closer neighbours to the root.
    """
    pairs = pairs.reset_index(drop=True)
    anchor = np.zeros(len(pairs), dtype=bool) if anchor is None else np.asarray(anchor, dtype=bool)
    root_all, rank_all, detached = contiguity_order(problem, pairs, level)
    pairs = pairs.assign(keep=keep, root=root_all, rank=rank_all, anchor=anchor | detached)
    if allowed is not None:
        pairs = pairs[np.asarray(allowed, dtype=bool) | pairs["root"].to_numpy(bool)
                      | pairs["keep"].to_numpy(bool)]
    while True:
        pairs = pairs.reset_index(drop=True)
        units = pairs["unit"].to_numpy()
        dist = pairs["distance_m"].to_numpy()
        root = pairs["root"].to_numpy(bool)
        dst, counts = _closer_neighbours(problem, units, pairs["school"].to_numpy(),
                                         pairs["rank"].to_numpy(), root)
        dropping = ~root & (counts == 0) & ~pairs["keep"].to_numpy(bool)
        if dropping.any():
            # never drop a unit's last choice
            left = pd.Series(~dropping).groupby(units).sum()
            keep_col = pairs["keep"].to_numpy(bool).copy()
            for u in left.index[left.to_numpy() == 0]:
                rows = np.flatnonzero(units == u)
                best = rows[np.argmin(dist[rows])]
                dropping[best] = False
                keep_col[best] = True
            pairs = pairs.assign(keep=keep_col)
            if dropping.any():
                pairs = pairs[~dropping]
                continue
        # a kept pair no closer neighbour can support (a unit's last choice) is an anchor
        anchor_col = pairs["anchor"].to_numpy(bool) | (~root & (counts == 0) & pairs["keep"].to_numpy(bool))
        pairs = pairs.assign(anchor=anchor_col)
        # the Python lists are built once, at the end
        ends = np.cumsum(counts).tolist()
        flat = dst.tolist()
        closer = [flat[e - c:e] for e, c in zip(ends, counts.tolist())]
        return pairs.drop(columns="rank"), closer


def _closer_neighbours(problem: ZoningProblem, units: np.ndarray, schools: np.ndarray, rank: np.ndarray,
                       root: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closer-neighbour pairs of every non-root pair, with arrays instead of a loop over pairs.

    Returns ``dst`` (pair rows, grouped by ascending source row) and ``counts`` (per pair row): for
    pair ``i = (u, s)``, the rows ``j = (v, s)`` with ``v`` a neighbour of ``u`` and
    ``rank[j] < rank[i]`` (ties by unit index).
    """
    n, S = problem.n_units, problem.n_schools
    e = problem.edges
    adj = sparse.coo_matrix((np.ones(2 * len(e)), (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])),
                            shape=(n, n)).tocsr()
    adj.sort_indices()
    deg = np.diff(adj.indptr)
    rows = np.flatnonzero(~root)
    d = deg[units[rows]]
    src = np.repeat(rows, d)
    offs = np.arange(len(src)) - np.repeat(np.cumsum(d) - d, d)
    v = adj.indices[np.repeat(adj.indptr[units[rows]], d) + offs]
    code = units.astype(np.int64) * S + schools
    order = np.argsort(code, kind="stable")
    sorted_code = code[order]
    want = v.astype(np.int64) * S + schools[src]
    if not len(sorted_code):
        return np.zeros(0, dtype=int), np.zeros(len(units), dtype=int)
    pos = np.minimum(np.searchsorted(sorted_code, want), len(sorted_code) - 1)
    j = order[pos]
    ok = (sorted_code[pos] == want) & np.isfinite(rank[j]) & np.isfinite(rank[src]) & (
        (rank[j] < rank[src]) | ((rank[j] == rank[src]) & (v < units[src])))
    return j[ok], np.bincount(src[ok], minlength=len(units))


def separator_cuts(problem: ZoningProblem, model: "Model", zones: ZoneMaps) -> int:
    """Add a cut for every zone piece that neither holds the root nor a kept unit; returns how many.

    In any plan the model allows, each piece of a zone within a component holds the root or a unit
    kept in its current (or locked) school: following closer neighbours from the piece's
    lowest-ranked unit must end at one of them. So for a piece ``P`` holding neither,
    ``x[u, s] ≤ Σ_{v ∈ N(P)} x[v, s]`` for ``u`` in ``P`` is valid (``u``'s piece must reach outside
    ``P``) and cuts the plan off. This is a safety net: the closer-neighbour rows already exclude
    such pieces, so normally no cut is added.
    """
    nbrs = problem.neighbours()
    added = 0
    for spec in model.maps:
        for level, pairs in spec.pairs.items():
            arr = zones.for_intake(level, spec.start)
            key = {(u, s): v for u, s, v in zip(pairs["unit"], pairs["school"], spec.x[level])}
            anchored = set(zip(pairs.loc[pairs["root"] | pairs["anchor"], "unit"],
                               pairs.loc[pairs["root"] | pairs["anchor"], "school"]))
            for s in np.unique(arr[arr >= 0]):
                pieces = zone_pieces(np.flatnonzero(arr == s), nbrs)
                for piece in pieces:
                    if any((u, s) in anchored for u in piece):
                        continue
                    inside = set(piece)
                    border = sorted({v for u in piece for v in nbrs[u] if v not in inside})
                    for u in piece:
                        expr = {key[(u, s)]: 1.0}
                        for v in border:
                            if (v, s) in key:
                                expr[key[(v, s)]] = expr.get(key[(v, s)], 0.0) - 1.0
                        model.prob += pulp.LpConstraint(
                            pulp.LpAffineExpression(expr), pulp.LpConstraintLE,
                            f"sep_{spec.index}_{level[0]}_{s}_{u}_{model.cut_rounds}", 0.0)
                        added += 1
    model.cut_rounds += 1
    return added


def map_pairs(problem: ZoningProblem, scenario: Scenario, level: str, start_year: int,
              notes: list[str], concerns: Concerns | None = None) -> tuple[pd.DataFrame, list | None]:
    """The pairs of one level of a map as the model has them, and their closer-neighbour lists.

    With contiguity, the pairs carry ``root``, ``keep`` and ``anchor``
    (:func:`contiguity_structure`): a zone piece holding its root or an anchor (a lock, a detached
    piece of the current zone, a unit's last choice) is allowed; any other piece is not. The checker
    takes its anchors from here (without ``concerns``). With ``concerns`` (the model, unless the
    scenario asks to ``reoptimise``) only the moves :func:`zoning.pairs.stable_moves` allows stay;
    the roots and anchors do not depend on it.
    """
    pairs = candidate_pairs(problem, scenario, level, start_year, notes)
    locked = lock_positions(problem, scenario)
    u_, s_ = pairs["unit"].to_numpy(), pairs["school"].to_numpy()
    is_lock = np.array([locked.get(u) == s for u, s in zip(u_.tolist(), s_.tolist())], dtype=bool)
    allowed = None
    if concerns is not None and not scenario.reoptimise:
        allowed = stable_moves(problem, scenario, pairs, level, concerns) | is_lock
    if not scenario.contiguity:
        if allowed is not None:
            pairs = pairs[allowed | pairs["is_current"].to_numpy(bool)].reset_index(drop=True)
        return pairs, None
    keep = pairs["is_current"].to_numpy(bool) | is_lock
    return contiguity_structure(problem, pairs, keep, level, anchor=is_lock, allowed=allowed)


def detached_pairs(problem: ZoningProblem, pairs: pd.DataFrame, level: str) -> np.ndarray:
    """Pairs that would put a unit in a zone across a barrier from its school, needlessly.

    True where the unit lies in another connected part of the adjacency graph (across a railway,
    canal or trunk road) than the school's own unit, and its own part has a school of the level.
    Such assignments pay the barrier weight: a primary zone should not jump a barrier to take a
    piece of another school's side unless it must.
    """
    if problem.unit_xy is None or problem.school_xy is None or not len(pairs):
        return np.zeros(len(pairs), dtype=bool)
    comp = problem.components()
    _, home = cKDTree(problem.unit_xy).query(problem.school_xy)
    school_comp = comp[home]
    serving = problem.serves(level) & (problem.close_year > problem.base_year)
    has_own = set(school_comp[serving])
    u = pairs["unit"].to_numpy()
    s = pairs["school"].to_numpy()
    return (comp[u] != school_comp[s]) & np.isin(comp[u], list(has_own))


# ------------------------------------------------------------------------------ the model
@dataclass
class MapSpec:
    index: int
    start: int  # first intake year of this map
    end: int  # last intake year (inclusive)
    pairs: dict = field(default_factory=dict)  # level -> DataFrame
    x: dict = field(default_factory=dict)  # level -> list of LpVariable aligned with pairs


@dataclass
class Model:
    problem: ZoningProblem
    scenario: Scenario
    prob: pulp.LpProblem
    maps: list
    slacks: list  # dicts: kind, school, year, var, indicator, limit
    classes: dict  # (school, level, year) -> LpVariable
    fixed: object  # Projection of the fixed part (base cohorts and intakes before the new zones)
    notes: list
    terms: dict  # objective parts (name -> LpAffineExpression)
    cut_rounds: int = 0
    unit_vars: dict = field(default_factory=dict)  # unit -> exemption and second-change variables
    concerns: Concerns | None = None  # schools over a limit, opening, closing (the stability rule)


def _intake_years(scenario: Scenario) -> list[int]:
    return [y for y in scenario.years if y >= scenario.intake_year]


def _map_specs(scenario: Scenario) -> list[MapSpec]:
    """One map from the first intake on, and a second from ``second_change_year`` when set."""
    intake = _intake_years(scenario)
    starts = [scenario.intake_year]
    if scenario.second_change_year is not None and scenario.second_change_year in intake[1:]:
        starts.append(scenario.second_change_year)
    return [MapSpec(m, start, (starts[m + 1] - 1) if m + 1 < len(starts) else scenario.horizon)
            for m, start in enumerate(starts)]


def _map_weights(problem: ZoningProblem, scenario: Scenario, spec: MapSpec, level: str) -> np.ndarray:
    """Entrants of each unit over the intake years the map is in force for (U,)."""
    years = [y for y in _intake_years(scenario) if spec.start <= y <= spec.end]
    return sum(problem.entrants(level, y) for y in years) if years else np.zeros(problem.n_units)


def pair_costs(problem: ZoningProblem, scenario: Scenario, pairs: pd.DataFrame, level: str,
               W: np.ndarray) -> dict:
    """Objective coefficient arrays of the pairs: ``{part: (coef, where)}`` for distance, moved, barrier."""
    units = pairs["unit"].to_numpy()
    km = pairs["distance_m"].to_numpy() / 1000.0
    w = W[units]
    wt = scenario.weights
    cur = problem.current[level][units]
    moved = (cur >= 0) & (cur != pairs["school"].to_numpy())
    costs = {"distance": (wt.distance * w * km + EPS_DISTANCE * km, np.ones(len(pairs), dtype=bool)),
             "moved": (wt.moved * w, moved)}
    if level == "primary":
        detached = detached_pairs(problem, pairs, level)
        penalised = (pairs["crosses_barrier"].to_numpy(bool) & (scenario.barrier_rule == "penalise")) | detached
        costs["barrier"] = (wt.barrier * (w + 1.0), penalised)
    if "beyond_m" in pairs:
        beyond = pairs["beyond_m"].to_numpy(float) / 1000.0
        if (beyond > 0).any():
            costs["beyond_cap"] = (PENALTY_BEYOND_CAP * wt.distance * (w + 1.0) * beyond, beyond > 0)
    return costs


def _total_cost(costs: dict) -> np.ndarray:
    return sum(np.where(where, coef, 0.0) for coef, where in costs.values())


def build_model(problem: ZoningProblem, scenario: Scenario, progress=None, reduce: bool = True) -> Model:
    """Build the integer program (see the module docstring).

    ``reduce`` (default): without contiguity and a second map, leave out the limits no choice of
    candidates can break and settle each unit whose cheapest school has no other limit
    (:func:`settled_pairs`); ``reduce=False`` builds the full model, with the same optimum.
    """
    notes: list[str] = []
    prob = pulp.LpProblem("zoning", pulp.LpMinimize)
    intake = _intake_years(scenario)
    maps = _map_specs(scenario)

    # fixed part: base cohorts and intakes under the current zones before the first new map
    fixed_zones = ZoneMaps({lv: [(problem.base_year + 1, problem.current[lv].copy()),
                                 (scenario.intake_year, np.full(problem.n_units, -1))]
                            for lv in policy.LEVELS})
    fixed = project(problem, fixed_zones, scenario.years)

    # candidate pairs and their costs, as arrays
    closers, costs, weights = {}, {}, {}
    concerns = school_concerns(problem, scenario)
    for spec in maps:
        for level in scenario.levels:
            pairs, closer = map_pairs(problem, scenario, level, spec.start, notes, concerns)
            spec.pairs[level] = pairs
            closers[spec.index, level] = closer
            weights[spec.index, level] = _map_weights(problem, scenario, spec, level)
            costs[spec.index, level] = pair_costs(problem, scenario, pairs, level, weights[spec.index, level])
    _require_candidates(problem, scenario, maps)
    # the reductions are exact, but kept to the model where they pay: on the contiguity model
    # leaving out the rows that cannot bind changed HiGHS's search (benchmark M, whole model,
    # 28 s -> 37 s) and bought nothing, as its presolve drops them too
    reduced = reduce and not scenario.contiguity and len(maps) == 1
    if reduced:
        _settle_units(problem, scenario, maps[0], costs, weights, fixed)
    loads = cohort_loads(problem, scenario, maps)
    rows = limit_rows(problem, scenario, loads, fixed)

    objective = {}
    dist_terms, move_terms, barrier_terms, change_terms, exempt_terms = {}, {}, {}, {}, {}
    unit_vars: dict[int, list] = {}  # unit -> its exemption and second-change variables
    for spec in maps:
        for level in scenario.levels:
            pairs = spec.pairs[level]
            xs = [
                new_var(prob, f"x{spec.index}_{level[0]}_{u}_{s}", 0, 1, pulp.LpBinary)
                for u, s in zip(pairs["unit"], pairs["school"])
            ]
            spec.x[level] = xs
            units = pairs["unit"].to_numpy()
            parts = costs[spec.index, level]
            dist_terms.update(_terms(xs, *parts["distance"]))
            move_terms.update(_terms(xs, *parts["moved"]))
            if "barrier" in parts:
                barrier_terms.update(_terms(xs, *parts["barrier"]))
            if "beyond_cap" in parts:
                barrier_terms.update({v: barrier_terms.get(v, 0.0) + c for v, c in
                                      _terms(xs, *parts["beyond_cap"]).items()})
            # one school per unit and level
            for u, rws in _groups(units):
                prob += pulp.LpConstraint(
                    pulp.LpAffineExpression(dict.fromkeys([xs[i] for i in rws], 1)), pulp.LpConstraintEQ,
                    f"one_{spec.index}_{level[0]}_{u}", 1,
                )
            closer = closers[spec.index, level]
            if closer is not None:
                # closer neighbour, with a penalised exemption per unit (see module docstring)
                exempt = {}
                root = pairs["root"].to_numpy()
                kept = pairs["anchor"].to_numpy(bool)
                for i, lst in enumerate(closer):
                    if root[i]:
                        continue
                    u = units[i]
                    expr = {xs[j]: -1.0 for j in lst}
                    expr[xs[i]] = 1.0
                    if kept[i]:  # a detached current piece, a lock or a last choice may stand alone
                        if u not in exempt:
                            exempt[u] = new_var(prob, f"ex_{spec.index}_{level[0]}_{u}", 0, 1)
                            exempt_terms[exempt[u]] = PENALTY_EXEMPTION
                            unit_vars.setdefault(int(u), []).append(exempt[u])
                        expr[exempt[u]] = -1.0
                    prob += pulp.LpConstraint(
                        pulp.LpAffineExpression(expr), pulp.LpConstraintLE, f"cont_{spec.index}_{level[0]}_{i}", 0
                    )
            if progress:
                progress(f"地图 {spec.index + 1} {policy.LEVEL_NAMES_ZH[level]}：{len(xs)} 个候选")
    # a unit moved again by the second map
    if len(maps) == 2:
        for level in scenario.levels:
            a, b = maps[0], maps[1]
            ka = {(u, s): v for u, s, v in zip(a.pairs[level]["unit"], a.pairs[level]["school"], a.x[level])}
            W2 = sum(problem.entrants(level, y) for y in intake if y >= b.start)
            for u, grp in _groups(b.pairs[level]["unit"].to_numpy()):
                y = new_var(prob, f"chg_{level[0]}_{u}", 0, 1)
                unit_vars.setdefault(int(u), []).append(y)
                change_terms[y] = scenario.weights.second_change * (W2[u] + 1.0)
                for i in grp:
                    s = b.pairs[level]["school"].iat[i]
                    expr = {y: 1, b.x[level][i]: -1}
                    if (u, s) in ka:
                        expr[ka[(u, s)]] = 1
                    prob += pulp.LpConstraint(pulp.LpAffineExpression(expr), pulp.LpConstraintGE,
                                              f"chgc_{level[0]}_{u}_{s}", 0)

    slacks, classes = _capacity_constraints(prob, problem, maps, loads, rows, keep_all=not reduced)
    if scenario.steady_state:
        slacks += steady_rows(prob, problem, scenario, maps[-1], classes)
    slack_terms = {}
    for sl in slacks:
        slack_terms[sl["var"]] = sl["unit_cost"]
        slack_terms[sl["indicator"]] = PENALTY_BROKEN_LIMIT
    for part in (dist_terms, move_terms, barrier_terms, change_terms, exempt_terms, slack_terms):
        for v, c in part.items():
            objective[v] = objective.get(v, 0.0) + c
    prob.setObjective(pulp.LpAffineExpression(objective))
    terms = {
        "distance": pulp.LpAffineExpression(dist_terms),
        "moved": pulp.LpAffineExpression(move_terms),
        "barrier": pulp.LpAffineExpression(barrier_terms),
        "second_change": pulp.LpAffineExpression(change_terms),
        "exemptions": pulp.LpAffineExpression(exempt_terms),
        "limits": pulp.LpAffineExpression(slack_terms),
    }
    return Model(problem, scenario, prob, maps, slacks, classes, fixed, notes, terms, unit_vars=unit_vars,
                 concerns=concerns)


def _require_candidates(problem: ZoningProblem, scenario: Scenario, maps: list) -> None:
    """Every unit has a candidate school of each level before the solve, else one error naming
    every such unit and the fix (never a plan that leaves a unit without a school). When the level
    has no school at all, or many units lack one, the problem is given once for the level (not once
    per unit)."""
    problems = []
    for spec in maps:
        for level in scenario.levels:
            have = np.zeros(problem.n_units, dtype=bool)
            have[spec.pairs[level]["unit"].to_numpy()] = True
            missing = np.flatnonzero(~have).tolist()
            if not missing:
                continue
            zh = policy.LEVEL_NAMES_ZH[level]
            if not problem.serves(level).any() or len(missing) > MANY_UNITS:
                problems.append(_level_problem(problem, scenario, level, spec.start, missing))
                continue
            for u in missing:
                problems.append(Problem(
                    "units", u + 1, str(problem.unit_ids[u]), f"{level}_school",
                    f"{problem.unit_names[u]}在{zh}（{spec.start} 年起）没有任何可选学校",
                    f"检查该学段学校的开办/停办年份、学段与位置；或在 scenario.toml 的 [locks] 为它指定学校"
                    f"（{problem.unit_ids[u]} = \"学校代码\"），或放宽 [caps.{level}] max_km"))
    if problems:
        raise DataError(problems)


MANY_UNITS = 10  # more units than this without a candidate of a level: one problem for the level


def _level_problem(problem: ZoningProblem, scenario: Scenario, level: str, start: int, missing: list) -> Problem:
    """One problem for a level many units (or all) cannot be zoned for: why, and the fix."""
    zh = policy.LEVEL_NAMES_ZH[level]
    others = [lv for lv in scenario.levels if lv != level]
    only = (f"只规划其他学段（命令行加 --level {others[0]}，或 scenario.toml 写 levels = [\"{others[0]}\"]）"
            if len(others) == 1 else "")
    shown = "、".join(str(problem.unit_names[u]) for u in missing[:5])
    if not problem.serves(level).any():
        detail = f"学校表中没有任何招收{zh}的学校，{len(missing)} 个单元（{shown} 等）都无法划入{zh}片区"
        fix = "；".join(x for x in (only, f"或在学校表中补上{zh}学校（level 填 {level} 或 nine_year）") if x)
        return Problem("schools", None, None, "level", detail, fix)
    open_ = problem.usable(level, start, scenario.horizon)
    detail = (f"{len(missing)} 个单元（{shown} 等）在{zh}（{start} 年起）没有任何可选学校"
              f"（{int(open_.sum())} 所{zh}学校在新片区执行期间一直招生）")
    fix = (f"放宽 scenario.toml 的 [caps.{level}] max_km / max_ratio，检查{zh}学校的位置与开办/停办年份"
           + (f"；或{only}" if only else ""))
    return Problem("units", None, None, f"{level}_school", detail, fix)


def _settle_units(problem: ZoningProblem, scenario: Scenario, spec: MapSpec, costs: dict, weights: dict,
                  fixed) -> None:
    """Settle units (:func:`settled_pairs`) until no more can be; drops the other pairs from
    ``spec`` and ``costs``.

    Each round only removes pairs, so loads only fall and a limit that could not bind still cannot.
    """
    arrays = {lv: (spec.pairs[lv]["unit"].to_numpy(), spec.pairs[lv]["school"].to_numpy(),
                   _total_cost(costs[spec.index, lv])) for lv in scenario.levels}
    alive = {(spec.index, lv): np.ones(len(spec.pairs[lv]), dtype=bool) for lv in scenario.levels}
    while True:
        rows = limit_rows(problem, scenario, cohort_loads(problem, scenario, [spec], alive), fixed)
        changed = False
        for level, (units, schools, cost) in arrays.items():
            on = np.flatnonzero(alive[spec.index, level])
            keep = settled_pairs(units[on], schools[on], cost[on], weights[spec.index, level], rows)
            if not keep.all():
                alive[spec.index, level][on[~keep]] = False
                changed = True
        if not changed:
            break
    dropped = 0
    for level in scenario.levels:
        keep = alive[spec.index, level]
        dropped += int((~keep).sum())
        spec.pairs[level] = spec.pairs[level][keep].reset_index(drop=True)
        costs[spec.index, level] = {k: (c[keep], w[keep]) for k, (c, w) in costs[spec.index, level].items()}
    if dropped:
        log.info("单元直接划入其最优学校（该校没有可能超出的限额）：少建 %d 个候选", dropped)


# ------------------------------------------------------------------------------ limits
def cohort_loads(problem: ZoningProblem, scenario: Scenario, maps: list, alive: dict | None = None) -> dict:
    """Who may enter each school: ``{(school, level, entry year): (map, pair positions, entrants)}``.

    One entry per school, level and intake year that some candidate pair with entrants reaches;
    the positions index the map's pairs of that level. ``alive`` (``{(map, level): mask}``) leaves
    out the pairs whose mask is False.
    """
    loads = {}
    for spec in maps:
        for level, pairs in spec.pairs.items():
            units = pairs["unit"].to_numpy()
            schools = pairs["school"].to_numpy()
            on = True if alive is None else alive[spec.index, level]
            for e in _intake_years(scenario):
                if not spec.start <= e <= spec.end:
                    continue
                ent = problem.entrants(level, e)[units]
                has = np.flatnonzero((ent > 0) & on)
                for s, pos in _groups(schools[has]):
                    idx = has[pos]
                    loads[(s, level, e)] = (spec.index, idx, ent[idx])
    return loads


@dataclass
class LimitRow:
    """One limit of one school in one year, before it becomes a constraint.

    ``cohorts`` weighs each cohort (school, level, entry year) on the row: 1 per class for the
    classrooms, the cohort's survival to that year per pupil for the size. ``most`` is the largest
    left-hand side any choice among the candidate pairs can give: when it is within ``rhs`` the
    limit cannot be broken and needs no constraint.
    """

    kind: str  # "rooms" or "size"
    school: int
    year: int
    cohorts: dict
    rhs: float
    limit: float
    most: float

    @property
    def can_bind(self) -> bool:
        return self.most > self.rhs + 1e-9


def limit_rows(problem: ZoningProblem, scenario: Scenario, loads: dict, fixed) -> list[LimitRow]:
    """The classroom and size limits of every school and year from the first intake on, for the
    cohorts ``loads`` (:func:`cohort_loads`) holds."""
    total = {k: float(ent.sum()) for k, (_, _, ent) in loads.items()}
    factor = {lv: max_cohort_factor(problem, lv) for lv in policy.LEVELS}
    most_classes = {(s, level, e): entry_classes(n, problem.class_limit[s, policy.ENTRY_GRADE[level] - 1],
                                                 factor[level])
                    for (s, level, e), n in total.items()}
    survival = {g: problem.cohort_survival(policy.ENTRY_GRADE[level_of_grade(g)], g) for g in range(1, 10)}
    base_total = problem.enrolled.sum(axis=1)
    size_cap = problem.size_cap()
    has_rooms = np.isfinite(problem.classrooms)
    has_size = np.isfinite(size_cap)
    schools = sorted({k[0] for k in loads})
    rows = []
    for yi, y in enumerate(scenario.years):
        if y < scenario.intake_year:
            continue
        fixed_classes = fixed.classes[:, yi, :].sum(axis=1)
        fixed_students = fixed.students[:, yi, :].sum(axis=1)
        cohorts = [((level_of_grade(g), entry_year_of(g, y)), survival[g]) for g in range(1, 10)
                   if policy.is_new_cohort(g, y, scenario.intake_year)]
        for s in schools:
            stu = {(s, *le): w for le, w in cohorts if (s, *le) in loads}
            if not stu:
                continue
            if has_rooms[s]:
                free = max(problem.classrooms[s] - fixed_classes[s], 0.0)
                rows.append(LimitRow("rooms", s, y, dict.fromkeys(stu, 1.0), free, problem.classrooms[s],
                                     float(sum(most_classes[k] for k in stu))))
            if has_size[s]:
                allowed = policy.size_allowed(size_cap[s], y, problem.base_year, scenario.target_year,
                                              base_total[s])
                rows.append(LimitRow("size", s, y, stu, allowed - fixed_students[s], allowed,
                                     float(sum(w * total[k] for k, w in stu.items()))))
    return rows


def settled_pairs(units: np.ndarray, schools: np.ndarray, cost: np.ndarray, weight: np.ndarray,
                  rows: list[LimitRow]) -> np.ndarray:
    """Which of the pairs ``(units, schools)`` to keep when a unit's cheapest school can take it
    whatever the others do.

    A unit with no entrants (``weight``, per unit), or whose cheapest candidate is a school none of
    whose limits can be broken (:attr:`LimitRow.can_bind`), goes there in some optimal plan: moving
    it there costs nothing more and only frees room elsewhere. Such a unit keeps that one pair.
    Exact only when nothing else ties units together (no contiguity, one map); ties go to the
    lower school index.
    """
    units, schools = np.asarray(units), np.asarray(schools)
    if not len(units):
        return np.ones(0, dtype=bool)
    binding = [r.school for r in rows if r.can_bind]
    best = first_pair_of_each_unit(units, cost, schools)  # each unit's cheapest pair
    settled = (weight[units[best]] <= 0) | ~np.isin(schools[best], binding)
    keep = np.ones(len(units), dtype=bool)
    keep[np.isin(units, units[best[settled]])] = False
    keep[best[settled]] = True
    return keep


def _capacity_constraints(prob, problem: ZoningProblem, maps, loads: dict, rows: list[LimitRow],
                         keep_all: bool = False):
    """Class rows for every cohort of ``loads``; classroom and size rows for the limits that can be
    broken (for all of them with ``keep_all``)."""
    classes = {}
    for (s, level, e), (m, idx, ent) in sorted(loads.items()):
        c = new_var(prob, f"c_{s}_{level[0]}_{e}", 0, None, pulp.LpInteger)
        classes[(s, level, e)] = c
        entry_g = policy.ENTRY_GRADE[level]
        factor = max_cohort_factor(problem, level)
        xs = maps[m].x[level]
        expr = {xs[i]: a * factor for i, a in zip(idx.tolist(), ent.tolist())}
        expr[c] = -problem.class_limit[s, entry_g - 1]
        prob += pulp.LpConstraint(pulp.LpAffineExpression(expr), pulp.LpConstraintLE, f"cls_{s}_{level[0]}_{e}", 0)
    slacks = []
    for r in rows:
        if not (r.can_bind or keep_all):
            continue
        if r.kind == "rooms":
            expr = {classes[k]: 1.0 for k in r.cohorts}
            slacks.append(_soft_le(prob, expr, r.rhs, "rooms", r.school, r.year, PENALTY_PER_CLASS,
                                   big_m=len(expr) * 100, limit=r.limit))
            continue
        expr = {}
        for k, w in r.cohorts.items():
            m, idx, ent = loads[k]
            xs = maps[m].x[k[1]]
            for i, a in zip(idx.tolist(), ent.tolist()):
                expr[xs[i]] = expr.get(xs[i], 0.0) + a * w
        slacks.append(_soft_le(prob, expr, r.rhs, "size", r.school, r.year, PENALTY_PER_STUDENT,
                               big_m=r.most + 1.0, limit=r.limit))
    return slacks, classes


def steady_rows(prob, problem: ZoningProblem, scenario: Scenario, spec: MapSpec, classes: dict) -> list:
    """Hold each school's steady state (issue 17): once every grade has entered under the last map,
    the pupils (the horizon's intake carried through the level's grades,
    :func:`zoning.projection.steady_loads`) within the size cap, and the classes (per level, the
    entry classes × the grades) within the classrooms. Soft like every limit; rows only where the
    candidates could break them. The checker and metrics.json judge the same sums
    (:func:`zoning.projection.steady_state`)."""
    year = scenario.horizon
    cap = problem.size_cap()
    size_terms: dict[int, dict] = {}
    most: dict[int, float] = {}
    room_terms: dict[int, dict] = {}
    room_most: dict[int, float] = {}
    for level, pairs in spec.pairs.items():
        load, factor, n_grades = steady_loads(problem, level, year)
        ent = problem.entrants(level, year)
        units = pairs["unit"].to_numpy()
        schools = pairs["school"].to_numpy()
        entry_g = policy.ENTRY_GRADE[level]
        for s, pos in _groups(schools):
            xs = [spec.x[level][i] for i in pos]
            lu = load[units[pos]]
            eu = ent[units[pos]]
            if np.isfinite(cap[s]) and lu.sum() > 0:
                t = size_terms.setdefault(s, {})
                for v, a in zip(xs, lu.tolist()):
                    if a > 0:
                        t[v] = t.get(v, 0.0) + a
                most[s] = most.get(s, 0.0) + float(lu.sum())
            if np.isfinite(problem.classrooms[s]) and eu.sum() > 0:
                limit = problem.class_limit[s, entry_g - 1]
                k = new_var(prob, f"cst_{s}_{level[0]}", 0, None, pulp.LpInteger)
                classes[(s, level, "steady")] = k
                expr = {v: a * factor for v, a in zip(xs, eu.tolist()) if a > 0}
                expr[k] = -limit
                prob += pulp.LpConstraint(pulp.LpAffineExpression(expr), pulp.LpConstraintLE,
                                          f"cstc_{s}_{level[0]}", 0)
                room_terms.setdefault(s, {})[k] = float(n_grades)
                room_most[s] = room_most.get(s, 0.0) + n_grades * entry_classes(float(eu.sum()), limit, factor)
    out = []
    for s, expr in sorted(size_terms.items()):
        if most[s] > cap[s] + 0.5:
            out.append(_soft_le(prob, expr, float(cap[s]) + 0.5, "steady_size", s, year, PENALTY_PER_STUDENT,
                                big_m=most[s] + 1.0, limit=float(cap[s])))
    for s, expr in sorted(room_terms.items()):
        if room_most[s] > problem.classrooms[s] + 1e-9:
            out.append(_soft_le(prob, expr, float(problem.classrooms[s]), "steady_rooms", s, year, PENALTY_PER_CLASS,
                                big_m=room_most[s] + 1.0, limit=float(problem.classrooms[s])))
    return out


def _soft_le(prob, expr: dict, rhs: float, kind: str, s: int, y: int, unit_cost: float, big_m: float, limit):
    """``expr ≤ rhs + slack``, with ``slack ≤ big_m × broken``; returns the slack record."""
    slack = new_var(prob, f"sl_{kind}_{s}_{y}", 0, None)
    broken = new_var(prob, f"br_{kind}_{s}_{y}", 0, 1, pulp.LpBinary)
    e = dict(expr)
    e[slack] = -1.0
    prob += pulp.LpConstraint(pulp.LpAffineExpression(e), pulp.LpConstraintLE, f"{kind}_{s}_{y}", rhs)
    prob += pulp.LpConstraint(pulp.LpAffineExpression({slack: 1.0, broken: -max(big_m, 1.0)}),
                              pulp.LpConstraintLE, f"brk_{kind}_{s}_{y}", 0)
    return {"kind": kind, "school": s, "year": y, "var": slack, "indicator": broken,
            "unit_cost": unit_cost, "rhs": rhs, "limit": limit}


# ------------------------------------------------------------------------------ solving
@dataclass
class Solution:
    zones: ZoneMaps
    result: SolveResult
    slacks: list  # records with value > 0
    objective_parts: dict
    notes: list
    pairs_used: dict  # level -> DataFrame of the final map's candidate pairs
    log: str = ""  # the solver's log of every round ("" unless asked for): solver.log


def _extract_zones(model: Model) -> ZoneMaps:
    problem, sc = model.problem, model.scenario
    maps = {}
    for level in policy.LEVELS:
        seq = []
        for spec in model.maps:
            if level not in spec.pairs:
                continue
            arr = np.full(problem.n_units, -1, dtype=int)
            pairs = spec.pairs[level]
            vals = np.array([v.varValue or 0.0 for v in spec.x[level]])
            chosen = vals > 0.5
            arr[pairs["unit"].to_numpy()[chosen]] = pairs["school"].to_numpy()[chosen]
            seq.append((spec.start, arr))
        if not seq:
            seq = [(sc.intake_year, problem.current[level].copy())]
        if sc.intake_year > problem.base_year + 1:
            seq.insert(0, (problem.base_year + 1, problem.current[level].copy()))
        maps[level] = seq
    return ZoneMaps(maps)


def solve_model(model: Model, progress=None, keep_log: bool = False) -> Solution:
    """Solve; while a zone comes back in pieces, add separator cuts and solve again.

    The time limit is the budget of all rounds together. The returned status is the last round's,
    read from the solver (never PuLP's word alone). With ``keep_log`` the solver's log of every round
    (and of the neighbourhood repair) comes back as one text, :attr:`Solution.log`. Nothing is
    written here: the plan pipeline writes the log (``solver.log``) and the model as solved
    (``model.prob``, ``model.lp``) through :mod:`geodata.proposal`.
    """
    sc = model.scenario
    problem = model.problem
    t0 = _time.perf_counter()
    logs = []
    result = None
    zones = None
    for round_ in range(MAX_CUT_ROUNDS + 1):
        left = None if sc.solver.time_limit is None else max(sc.solver.time_limit - (_time.perf_counter() - t0), 1.0)
        reserve = sc.solver.polish if (left is not None and sc.solver.name == "highs") else 0.0
        main = None if left is None else max(left * (1.0 - reserve), 1.0)
        result = solve(model.prob, sc.solver.name, main, sc.solver.gap, keep_log, sc.solver.msg, sc.solver.threads,
                       sc.solver.heuristic_effort, decompose=sc.solver.decompose)
        if reserve and result.status in ("feasible", "no_solution"):
            result = repair_plan(model, result, t0 + sc.solver.time_limit, progress)
        logs.append(result.log or "")
        if result.status not in ("optimal", "feasible"):
            break
        zones = _extract_zones(model)
        if not model.scenario.contiguity:
            break
        added = separator_cuts(problem, model, zones)
        if not added:
            break
        if progress:
            progress(f"第 {round_ + 1} 轮：有片区不连片，加入 {added} 条连通割后重新求解")
        if round_ == MAX_CUT_ROUNDS:
            model.notes.append(f"{MAX_CUT_ROUNDS} 轮连通割后仍有片区不连片")
    # one log: the later rounds after the first
    text = (logs[0] + fold_logs([(f"第 {k + 1} 轮求解（加入连通割后）", t) for k, t in enumerate(logs[1:], start=1)])
            if keep_log else "")
    result.seconds = _time.perf_counter() - t0
    if result.status not in ("optimal", "feasible"):
        return Solution(ZoneMaps.current(problem), result, [], {}, model.notes, {}, text)
    slacks = [dict(sl, value=float(sl["var"].varValue or 0.0)) for sl in model.slacks
              if (sl["var"].varValue or 0.0) > 1e-6]
    parts = {k: float(pulp.value(e) or 0.0) for k, e in model.terms.items()}
    final_pairs = {lv: model.maps[-1].pairs[lv] for lv in model.maps[-1].pairs}
    return Solution(zones, result, slacks, parts, model.notes, final_pairs, text)


def repair_plan(model: Model, result: SolveResult, deadline: float, progress=None) -> SolveResult:
    """Neighbourhood repair (zoning/polish.py) of a plan HiGHS stopped on, until ``deadline``.

    When ``result`` carries a log (``result.log`` not None), the repair's summary and steps are
    added to it."""
    sc = model.scenario.solver
    t0 = _time.perf_counter()
    arr = highs.lp_arrays(model.prob)
    cols = model_columns(model, arr)
    if result.status == "feasible":
        values = np.array([v.varValue for v in arr.variables], dtype=float)
        start = "求解器在时限内找到的方案"
    else:
        options = {"output_flag": False, "time_limit": max(deadline - _time.perf_counter(), 1.0)}
        values = current_start(model, arr, cols, options, sc.threads)
        start = "现行片区"
        if values is None:
            return result
    before = float(arr.cost @ values) + arr.offset
    values, lines = polish(model, arr, cols, values, deadline, gap=sc.gap, threads=sc.threads,
                           heuristic_effort=sc.heuristic_effort, progress=progress)
    highs.write_values(arr, values)
    model.prob.assignStatus(pulp.LpStatusNotSolved, pulp.LpSolutionIntegerFeasible)
    objective = float(arr.cost @ values) + arr.offset
    bound = result.bound
    gap = None if bound is None else abs(objective - bound) / max(abs(objective), 1e-9)
    status = "optimal" if gap is not None and sc.gap is not None and gap <= sc.gap + 1e-9 else "feasible"
    summary = (f"邻域修补：自{start}起 {len(lines)} 步改进，目标值 {before:,.2f} → {objective:,.2f}，"
               f"{_time.perf_counter() - t0:.1f} 秒")
    text = None if result.log is None else (
        result.log + fold_logs([(summary, "".join(line + "\n" for line in lines))]))
    log.info(summary)
    return SolveResult(status, gap, objective, bound, result.seconds + (_time.perf_counter() - t0), result.solver,
                       result.solver_version, text, f"{result.message}；{summary}", result.parts,
                       repair=summary)


def zone_objective(model: Model, zones: ZoneMaps) -> float | None:
    """Objective of given zones under ``model`` (None when the zones use a pruned pair).

    Used to compare a plan with the current zones: fixes every ``x`` to the zones and re-solves for
    the classes and slacks.
    """
    fixings = []
    for spec in model.maps:
        for level, pairs in spec.pairs.items():
            arr = zones.for_intake(level, spec.start)
            have = set(zip(pairs["unit"], pairs["school"]))
            for u in range(model.problem.n_units):
                if (u, int(arr[u])) not in have:
                    return None
            for (u, s), v in zip(zip(pairs["unit"], pairs["school"]), spec.x[level]):
                val = 1 if arr[u] == s else 0
                fixings.append((v, v.lowBound, v.upBound))
                v.lowBound = v.upBound = val
    try:
        res = solve(model.prob, model.scenario.solver.name, model.scenario.solver.time_limit, 0.0)
        if res.status not in ("optimal", "feasible"):
            return None
        return res.objective
    finally:
        for v, lo, up in fixings:
            v.lowBound, v.upBound = lo, up


def current_repaired(model: Model, deadline: float, progress=None) -> Solution | None:
    """The fallback plan: the current zones (a unit whose current school is no candidate goes to its
    nearest candidate), classes and slacks solved for them, then improved by the neighbourhood
    repair (:func:`zoning.polish.polish`) until ``deadline`` (``time.perf_counter()``). Every step
    keeps the model's rows (contiguity and the separator cuts added so far), so the plan is as whole
    as the current zones are. None when HiGHS finds no solution even for that start.
    """
    sc = model.scenario.solver
    t0 = _time.perf_counter()
    arr = highs.lp_arrays(model.prob)
    cols = model_columns(model, arr)
    options = {"output_flag": False, "time_limit": max(deadline - t0, 5.0)}
    values = current_start(model, arr, cols, options, sc.threads)
    if values is None:
        return None
    before = float(arr.cost @ values) + arr.offset
    lines: list[str] = []
    if deadline - _time.perf_counter() > 1.0:
        values, lines = polish(model, arr, cols, values, deadline, gap=sc.gap, threads=sc.threads,
                               heuristic_effort=sc.heuristic_effort, progress=progress)
    highs.write_values(arr, values)
    objective = float(arr.cost @ values) + arr.offset
    summary = (f"自现行片区起邻域修补 {len(lines)} 步，目标值 {before:,.2f} → {objective:,.2f}，"
               f"{_time.perf_counter() - t0:.1f} 秒")
    log.info(summary)
    result = SolveResult("current_repaired", None, objective, None, _time.perf_counter() - t0, sc.name, "",
                         "\n".join(lines), summary, repair=summary)
    slacks = [dict(sl, value=float(sl["var"].varValue or 0.0)) for sl in model.slacks
              if (sl["var"].varValue or 0.0) > 1e-6]
    parts = {k: float(pulp.value(e) or 0.0) for k, e in model.terms.items()}
    final_pairs = {lv: model.maps[-1].pairs[lv] for lv in model.maps[-1].pairs}
    return Solution(_extract_zones(model), result, slacks, parts, model.notes, final_pairs, "")


def current_mended(model: Model) -> ZoneMaps:
    """The last resort: the current zones as they are, a unit whose current school is no candidate
    of a map (closing, not serving the level) at its nearest candidate. No solve."""
    problem = model.problem
    maps = {}
    for level in policy.LEVELS:
        seq = []
        for spec in model.maps:
            if level not in spec.pairs:
                continue
            pairs = spec.pairs[level]
            u, s = pairs["unit"].to_numpy(), pairs["school"].to_numpy()
            cur = problem.current[level][u] == s
            arr = np.full(problem.n_units, -1, dtype=int)
            pick = first_pair_of_each_unit(u, ~cur, pairs["distance_m"].to_numpy(float), s)
            arr[u[pick]] = s[pick]
            seq.append((spec.start, arr))
        if not seq:
            seq = [(model.scenario.intake_year, problem.current[level].copy())]
        if model.scenario.intake_year > problem.base_year + 1:
            seq.insert(0, (problem.base_year + 1, problem.current[level].copy()))
        maps[level] = seq
    return ZoneMaps(maps)
