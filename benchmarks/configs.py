"""The configurations the benchmark compares, each as ``build`` and ``solve`` on one instance.

Two families (README.md says which is which):

* multi-year, with contiguity — the tool as a planner uses it:
  ``tool`` (this tool's model, HiGHS, independent blocks solved apart), ``tool_whole`` (the same
  model handed to HiGHS whole, to measure what the blocks buy) and ``tool_cbc`` (the same model,
  PuLP's bundled CBC);
* single intake year, primary level, no contiguity — the problem the references can express:
  ``tool_1y`` (this tool's model in that configuration), ``dense`` (a plain dense PuLP formulation
  of the same objective and constraints over *all* unit–school pairs, built term by term, default
  solver settings) and ``spopt`` (spopt's capacitated p-median with every school predefined).

For one intake year the tool's class constraints (``entrants ≤ 45 × classes``, ``classes ≤ free
classrooms``, integer classes) are equivalent to a seat capacity ``45 × free classrooms``, so a
capacitated p-median with that capacity and the size-limit room is the same problem. Every
single-year result is scored by :func:`evaluate_single_year` — the tool's objective computed from
the assignment alone — so the three are compared on one objective.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pulp

from zoning import policy
from zoning.model import (EPS_DISTANCE, PENALTY_BROKEN_LIMIT, PENALTY_PER_CLASS, PENALTY_PER_STUDENT,
                          build_model, solve_model)
from zoning.problem import ZoningProblem
from zoning.projection import ZoneMaps, project
from zoning.scenario import Caps, Scenario, Solver, Weights
from zoning.solver import new_var, solve

BASE_YEAR = 2022

#: name -> (family, description in Chinese)
CONFIGS = {
    "tool": ("multi", "本工具：多年度分步化解 + 连片约束，HiGHS"),
    "tool_whole": ("multi", "本工具：同上模型，不分块，整体交给 HiGHS"),
    "tool_cbc": ("multi", "本工具：同上模型，改用 PuLP 自带 CBC"),
    "tool_1y": ("single", "本工具：单一年度、小学、无连片约束、无距离上限（与参照同一问题），剪枝后的配对，HiGHS"),
    "dense": ("single", "对照：全部单元×学校配对的稠密 PuLP 模型（不剪枝、默认设置），HiGHS"),
    "spopt": ("single", "对照：spopt 有容量 p-中位模型（全部学校预设），HiGHS"),
}
#: the configuration each one's time and objective are divided by
REFERENCE = {"multi": "tool", "single": "tool_1y"}
#: HiGHS's default relative MIP gap; the single-year family is solved to it
DEFAULT_GAP = 1e-4
#: "no cap" for the single-year family (km, and as a ratio)
NO_CAP_KM = 1.0e6
#: The dense references hold every unit-school pair as PuLP objects (about 2.5 kB each, measured:
#: L, 1.5 million pairs, peaked at 3.7 GB); above this many pairs they are not run.
MAX_DENSE_PAIRS = 2_000_000


@dataclass
class Outcome:
    """What one configuration produced."""

    build_s: float
    solve_s: float
    status: str
    gap: float | None
    objective: float | None  # as the solver reports it
    bound: float | None
    eval_objective: float | None  # the tool's objective recomputed from the assignment
    n_vars: int
    n_rows: int
    note: str = ""
    max_km: float | None = None  # longest trip of a unit with entrants (single-year family)
    parts: int | None = None  # independent blocks the tool's solver split the model into


def scenario_for(config: str, time_limit: float, gap: float = 0.005) -> Scenario:
    """The scenario a configuration runs (base year 2022)."""
    if CONFIGS[config][0] == "multi":
        solver = "cbc" if config == "tool_cbc" else "highs"
        # issue 18's defaults (stability first, the steady state held) shrink the model; the
        # benchmark keeps the issue-9 problem (every move open, no steady-state rows) so that its
        # figures stay comparable side by side
        return Scenario(base_year=BASE_YEAR, target_year=2025, horizon=2027, reoptimise=True, steady_state=False,
                        solver=Solver(name=solver, time_limit=time_limit, gap=gap,
                                      decompose=config != "tool_whole"))
    # The references have no distance cap and no barriers, so neither does the tool here: the same
    # problem, the tool keeping only its pruning (each unit's nearest schools and its current one).
    no_caps = {lv: Caps(max_km=NO_CAP_KM, max_ratio=NO_CAP_KM, free_km=NO_CAP_KM, k_nearest=c.k_nearest)
               for lv, c in Scenario().caps.items()}
    return Scenario(base_year=BASE_YEAR, target_year=BASE_YEAR + 1, horizon=BASE_YEAR + 1,
                    levels=("primary",), contiguity=False, caps=no_caps, weights=Weights(barrier=0.0),
                    reoptimise=True, steady_state=False,
                    solver=Solver(name="highs", time_limit=time_limit, gap=DEFAULT_GAP))


# ------------------------------------------------------------------------------ single-year data
@dataclass
class SingleYear:
    """The single-intake-year primary problem as arrays (what dense, spopt and the evaluator use)."""

    schools: np.ndarray  # indices of the primary-serving schools open for the intake (S1,)
    demand: np.ndarray  # entrants per unit (U,)
    current: np.ndarray  # current school index per unit (U,), -1 when none
    free_rooms: np.ndarray  # classrooms free for the new cohort (S1,), inf when unbounded
    size_room: np.ndarray  # pupils the size limit still admits (S1,), inf when unbounded
    class_limit: np.ndarray  # (S1,)
    scenario: Scenario

    @property
    def seats(self) -> np.ndarray:
        """Seat capacity of each school for the intake (``class limit × free rooms``, size room)."""
        return np.minimum(self.class_limit * self.free_rooms, self.size_room)


def single_year(problem: ZoningProblem, scenario: Scenario) -> SingleYear:
    """Constants of the single-year problem, computed the way :mod:`zoning.model` computes them."""
    year = scenario.intake_year
    serves = problem.serves("primary")
    open_ok = (problem.open_year <= year) & (problem.close_year > scenario.horizon)
    idx = np.flatnonzero(serves & open_ok)
    fixed_zones = ZoneMaps({lv: [(problem.base_year + 1, problem.current[lv].copy()),
                                 (scenario.intake_year, np.full(problem.n_units, -1))]
                            for lv in policy.LEVELS})
    fixed = project(problem, fixed_zones, scenario.years)
    yi = scenario.years.index(year)
    fixed_classes = fixed.classes[:, yi, :].sum(axis=1)
    fixed_students = fixed.students[:, yi, :].sum(axis=1)
    free = np.where(np.isfinite(problem.classrooms), np.maximum(problem.classrooms - fixed_classes, 0.0), np.inf)
    limit = np.minimum(problem.size_limit, problem.capacity)
    base_total = problem.enrolled.sum(axis=1)
    allowed = np.where(year >= scenario.target_year, limit, np.maximum(limit, base_total))
    room = allowed - fixed_students
    return SingleYear(idx, problem.entrants("primary", year), problem.current["primary"], free[idx],
                      room[idx], problem.class_limit[idx, 0], scenario)


def pair_cost(problem: ZoningProblem, sy: SingleYear, units: np.ndarray, schools: np.ndarray,
              km: np.ndarray) -> np.ndarray:
    """The tool's objective coefficient of assigning ``units`` to ``schools`` (distance in km)."""
    w = sy.demand[units]
    cur = sy.current[units]
    moved = (cur >= 0) & (cur != schools)
    wt = sy.scenario.weights
    return wt.distance * w * km + EPS_DISTANCE * km + wt.moved * w * moved


def max_trip_km(problem: ZoningProblem, sy: SingleYear, assign: np.ndarray) -> float:
    """Longest straight-line trip (km) of a unit that sends entrants."""
    has = sy.demand > 0
    if not has.any():
        return 0.0
    d = np.hypot(*(problem.unit_xy[has] - problem.school_xy[assign[has]]).T)
    return round(float(d.max()) / 1000.0, 2)


def evaluate_single_year(problem: ZoningProblem, sy: SingleYear, assign: np.ndarray) -> float:
    """The tool's single-year objective of an assignment (school index per unit).

    Assignment cost plus the limit penalties the tool's model would charge: a class without a
    classroom costs ``PENALTY_PER_CLASS``, a pupil over the size limit ``PENALTY_PER_STUDENT``, and
    each school with either limit broken ``PENALTY_BROKEN_LIMIT`` per limit.
    """
    units = np.arange(problem.n_units)
    km = np.hypot(*(problem.unit_xy - problem.school_xy[assign]).T) / 1000.0
    total = float(pair_cost(problem, sy, units, assign, km).sum())
    n = np.bincount(assign, weights=sy.demand, minlength=problem.n_schools)[sy.schools]
    classes = np.where(n > 1e-9, np.ceil(n / sy.class_limit - 1e-9), 0)
    short = np.maximum(classes - sy.free_rooms, 0)
    over = np.maximum(n - sy.size_room, 0)
    has_rooms = np.isfinite(sy.free_rooms) & (n > 1e-9)
    has_size = np.isfinite(sy.size_room) & (n > 1e-9)
    total += float((PENALTY_PER_CLASS * short + PENALTY_BROKEN_LIMIT * (short > 1e-6))[has_rooms].sum())
    total += float((PENALTY_PER_STUDENT * over + PENALTY_BROKEN_LIMIT * (over > 1e-6))[has_size].sum())
    return total


# ------------------------------------------------------------------------------ configurations
def run_tool(problem: ZoningProblem, scenario: Scenario) -> Outcome:
    """This tool's model (build_model + solve_model)."""
    t0 = time.perf_counter()
    model = build_model(problem, scenario)
    t1 = time.perf_counter()
    sol = solve_model(model)
    t2 = time.perf_counter()
    r = sol.result
    ev = km = None
    note = ""
    if r.status in ("optimal", "feasible") and scenario.levels == ("primary",) and not scenario.contiguity \
            and scenario.horizon == scenario.intake_year:
        sy = single_year(problem, scenario)
        ev = evaluate_single_year(problem, sy, sol.zones.final("primary"))
        km = max_trip_km(problem, sy, sol.zones.final("primary"))
    if sol.slacks:
        note = f"{len(sol.slacks)} 项限额未能满足"
    if r.repair:
        note = "；".join(x for x in (note, r.repair) if x)
    if sol.notes:
        note = "；".join(x for x in (note, f"{len(sol.notes)} 条模型提示") if x)
    return Outcome(t1 - t0, t2 - t1, r.status, r.gap, r.objective, r.bound, ev,
                   model.prob.numVariables(), model.prob.numConstraints(), note, km, r.parts)


def build_dense(problem: ZoningProblem, sy: SingleYear) -> tuple[pulp.LpProblem, dict]:
    """Dense PuLP model of the single-year problem: every unit × every primary school, term by term."""
    from scipy.spatial.distance import cdist

    U = problem.n_units
    S1 = sy.schools
    dist_km = cdist(problem.unit_xy, problem.school_xy[S1]) / 1000.0  # the all-pairs matrix, by design
    prob = pulp.LpProblem("dense", pulp.LpMinimize)
    x = {(u, k): new_var(prob, f"x_{u}_{k}", 0, 1, pulp.LpBinary) for u in range(U) for k in range(len(S1))}
    cost = {}
    for u in range(U):
        cost[u] = pair_cost(problem, sy, np.full(len(S1), u), S1, dist_km[u])
    obj = [cost[u][k] * x[u, k] for u in range(U) for k in range(len(S1))]
    for u in range(U):
        prob += pulp.lpSum(x[u, k] for k in range(len(S1))) == 1, f"one_{u}"
    for k, s in enumerate(S1):
        ent = pulp.lpSum(sy.demand[u] * x[u, k] for u in range(U) if sy.demand[u] > 0)
        c = new_var(prob, f"c_{s}", 0, None, pulp.LpInteger)
        prob += ent <= sy.class_limit[k] * c, f"cls_{s}"
        if np.isfinite(sy.free_rooms[k]):
            sl = new_var(prob, f"sl_rooms_{s}", 0, None)
            br = new_var(prob, f"br_rooms_{s}", 0, 1, pulp.LpBinary)
            prob += c - sl <= sy.free_rooms[k], f"rooms_{s}"
            prob += sl <= 100 * br, f"brk_rooms_{s}"
            obj += [PENALTY_PER_CLASS * sl, PENALTY_BROKEN_LIMIT * br]
        if np.isfinite(sy.size_room[k]):
            sl = new_var(prob, f"sl_size_{s}", 0, None)
            br = new_var(prob, f"br_size_{s}", 0, 1, pulp.LpBinary)
            prob += ent - sl <= sy.size_room[k], f"size_{s}"
            prob += sl <= (float(sy.demand.sum()) + 1.0) * br, f"brk_size_{s}"
            obj += [PENALTY_PER_STUDENT * sl, PENALTY_BROKEN_LIMIT * br]
    prob += pulp.lpSum(obj)
    return prob, x


def _too_dense(problem: ZoningProblem, sy: "SingleYear") -> Outcome | None:
    n = problem.n_units * len(sy.schools)
    if n <= MAX_DENSE_PAIRS:
        return None
    return Outcome(0, 0, "skipped", None, None, None, None, 0, 0,
                   f"未运行：全配对 {n:,} 对超过上限 {MAX_DENSE_PAIRS:,}（约需 {n * 2.5e-6:.0f} GB 内存）")


def run_dense(problem: ZoningProblem, scenario: Scenario) -> Outcome:
    """The dense reference (b)."""
    t0 = time.perf_counter()
    sy = single_year(problem, scenario)
    if (skip := _too_dense(problem, sy)) is not None:
        return skip
    prob, x = build_dense(problem, sy)
    t1 = time.perf_counter()
    r = solve(prob, "highs", scenario.solver.time_limit, None)
    t2 = time.perf_counter()
    ev = km = None
    if r.status in ("optimal", "feasible"):
        assign = _assignment_from(x, problem.n_units, sy.schools)
        ev = evaluate_single_year(problem, sy, assign)
        km = max_trip_km(problem, sy, assign)
    return Outcome(t1 - t0, t2 - t1, r.status, r.gap, r.objective, r.bound, ev,
                   prob.numVariables(), prob.numConstraints(), "全配对矩阵 U×S；无距离上限", km)


def _assignment_from(x, n_units: int, schools: np.ndarray) -> np.ndarray:
    assign = np.full(n_units, -1, dtype=int)
    for (u, k), v in x.items():
        if (v.varValue or 0.0) > 0.5:
            assign[u] = schools[k]
    return assign


def run_spopt(problem: ZoningProblem, scenario: Scenario) -> Outcome:
    """spopt's capacitated p-median with every school predefined (c)."""
    try:
        from spopt.locate import PMedian
    except ImportError as exc:
        return Outcome(0, 0, "skipped", None, None, None, None, 0, 0,
                       f"未安装 spopt（pip install spopt）：{exc}")
    from scipy.spatial.distance import cdist

    t0 = time.perf_counter()
    sy = single_year(problem, scenario)
    if (skip := _too_dense(problem, sy)) is not None:
        return skip
    S1 = sy.schools
    km = cdist(problem.unit_xy, problem.school_xy[S1]) / 1000.0
    # p-median cost is weight × cost; the tool's per-pupil cost is distance + moved
    wt = scenario.weights
    moved = (sy.current[:, None] >= 0) & (sy.current[:, None] != S1[None, :])
    cost = wt.distance * km + wt.moved * moved
    seats = np.floor(np.where(np.isfinite(sy.seats), sy.seats, sy.demand.sum() + 1.0))
    seats = np.maximum(seats, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pm = PMedian.from_cost_matrix(cost, sy.demand.astype(float), p_facilities=len(S1),
                                          predefined_facilities_arr=np.ones(len(S1), dtype=int),
                                          facility_capacities=seats)
        except Exception as exc:  # spopt raises SpecificationError when seats < demand
            return Outcome(time.perf_counter() - t0, 0, "not_applicable", None, None, None, None, 0, 0,
                           f"spopt 不适用：{exc}")
    t1 = time.perf_counter()
    r = solve(pm.problem, "highs", scenario.solver.time_limit, None)
    t2 = time.perf_counter()
    ev = longest = None
    note = "全配对矩阵 U×S；无距离上限；容量为硬约束"
    if r.status in ("optimal", "feasible"):
        z = np.array([[v.varValue or 0.0 for v in row] for row in pm.cli_assgn_vars])
        assign = S1[np.argmax(z, axis=1)]
        # units with no entrants cost nothing in a p-median: give them their nearest school
        zero = sy.demand <= 0
        assign[zero] = S1[np.argmin(km[zero], axis=1)]
        ev = evaluate_single_year(problem, sy, assign)
        longest = max_trip_km(problem, sy, assign)
        note += "；无新生的单元按最近学校计"
    return Outcome(t1 - t0, t2 - t1, r.status, r.gap, r.objective, r.bound, ev,
                   pm.problem.numVariables(), pm.problem.numConstraints(), note, longest)


def run_config(config: str, problem: ZoningProblem, scenario: Scenario) -> Outcome:
    """Run one configuration on ``problem``."""
    if config in ("tool", "tool_whole", "tool_1y"):
        return run_tool(problem, scenario)
    if config == "tool_cbc":
        from zoning.solver import SolverUnavailable, check_solver
        try:
            check_solver("cbc")
        except SolverUnavailable as exc:
            return Outcome(0, 0, "skipped", None, None, None, None, 0, 0, str(exc))
        return run_tool(problem, scenario)
    if config == "dense":
        return run_dense(problem, scenario)
    if config == "spopt":
        return run_spopt(problem, scenario)
    raise ValueError(f"未知的配置 '{config}'（可用：{', '.join(CONFIGS)}）")

