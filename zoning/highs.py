"""HiGHS through highspy from arrays: the independent blocks of a model solved one by one.

A zoning model often falls apart into blocks that share no constraint: towns whose units have no
candidate school in common, primary and junior zones where no nine-year school ties them together.
Solving the blocks separately is never worse than solving them together, and usually faster (the
branch-and-bound of one block does not wait on another), so :func:`solve_arrays` finds the
connected components of the constraint matrix and gives each to its own HiGHS instance. The
combined objective and bound are sums, so each block solved to relative gap ``g`` gives a plan
within ``g`` of the bound overall.

No MIP start is given: HiGHS 1.16, started from the current zones (``Highs.setSolution``), lost
the presolve offset of the objective on a small model and returned the start as "optimal" with a
wrong objective (benchmarks/README.md). The objective is always recomputed from the values; when it
disagrees with what HiGHS reports, the block is not called optimal and its bound is not used.

:func:`solve_fixed` re-solves a part of a model with the rest fixed at given values (the
neighbourhood repair of :mod:`zoning.polish`): no start is needed there, since the values it keeps
are constants of the smaller problem.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
import numpy as np
import pulp
from scipy import sparse
from scipy.sparse import csgraph

from .solver_log import fold_logs

log = logging.getLogger(__name__)

#: Components with fewer columns than this are not solved on their own: they ride along with the
#: largest block (an isolated village adds nothing to its solve time, and a model with one large
#: component stays exactly the model it was).
MIN_PART_COLUMNS = 500


@dataclass
class LpArrays:
    """A PuLP problem as arrays (minimisation; rows ``row_lower ≤ A x ≤ row_upper``)."""

    variables: list
    cost: np.ndarray
    offset: float
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray  # 1 = integer, 0 = continuous
    matrix: sparse.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    sign: float = 1.0  # -1 when the PuLP problem maximises

    @property
    def n_cols(self) -> int:
        return len(self.variables)


@dataclass
class PartResult:
    """What HiGHS reported for one block."""

    status: str  # optimal | feasible | infeasible | no_solution
    message: str
    objective: float | None
    bound: float | None
    values: np.ndarray | None
    n_cols: int
    n_rows: int
    seconds: float
    version: str = ""
    log: str = ""  # HiGHS's log of the block ("" unless asked for)


@dataclass
class ArraysResult:
    """The blocks' results combined."""

    status: str
    gap: float | None
    objective: float | None
    bound: float | None
    message: str
    version: str
    parts: list = field(default_factory=list)
    log: str = ""  # one log text of every block ("" unless asked for)


def lp_arrays(prob: pulp.LpProblem) -> LpArrays:
    """Read ``prob`` into arrays in one pass over its constraints.

    Columns are the problem's variables in PuLP's own order (by name), so the model HiGHS sees
    does not depend on how it was handed over.
    """
    inf = np.inf
    objective = prob.objective if prob.objective is not None else {}
    constraints = prob.constraints
    constraints = list(constraints() if callable(constraints) else constraints.values())  # PuLP 3.3+ / older
    seen = dict.fromkeys(objective)
    counts, keys, vals, rlo, rup = [], [], [], [], []
    for con in constraints:
        counts.append(len(con))
        keys.extend(con.keys())
        vals.extend(con.values())
        lb, ub = con.getLb(), con.getUb()
        rlo.append(-inf if lb is None else lb)
        rup.append(inf if ub is None else ub)
    seen.update(dict.fromkeys(keys))
    variables = sorted(seen, key=lambda v: v.name)
    index = {v: i for i, v in enumerate(variables)}
    n = len(variables)
    sign = -1.0 if prob.sense == pulp.LpMaximize else 1.0
    cost = np.zeros(n)
    offset = 0.0
    if objective:
        np.add.at(cost, np.fromiter(map(index.__getitem__, objective.keys()), dtype=np.int64, count=len(objective)),
                  np.fromiter(objective.values(), dtype=float, count=len(objective)))
        offset = float(objective.constant or 0.0)
    lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
    upper = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
    integ = np.array([1 if v.cat == pulp.LpInteger else 0 for v in variables], dtype=np.int32)
    m = len(counts)
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    cols = np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=len(keys))
    matrix = sparse.csr_matrix((np.asarray(vals, dtype=float), cols, indptr), shape=(m, n))
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return LpArrays(variables, sign * cost, sign * offset, lower, upper, integ, matrix,
                    np.asarray(rlo, dtype=float), np.asarray(rup, dtype=float), sign)


def independent_parts(matrix: sparse.spmatrix, min_cols: int = MIN_PART_COLUMNS) -> list[tuple[np.ndarray, np.ndarray]]:
    """Blocks of columns and rows that share no row: ``[(rows, cols), ...]``, smallest first.

    Connected components of the bipartite row–column graph; components with fewer than
    ``min_cols`` columns join the largest block (all form one block when none is that large). Rows
    without any column go to the first block (HiGHS then checks their bounds). Deterministic: blocks
    are ordered by size, then by their first column.
    """
    m, n = matrix.shape
    if n == 0:
        return [(np.arange(m), np.arange(0))]
    a = sparse.coo_matrix(matrix)
    g = sparse.coo_matrix((np.ones(a.nnz), (a.row, m + a.col)), shape=(m + n, m + n))
    _, lab = csgraph.connected_components(g, directed=False)
    row_lab, col_lab = lab[:m], lab[m:]
    labels, first, size = np.unique(col_lab, return_index=True, return_counts=True)
    big = size >= min_cols
    if not big.any():
        big[np.argmax(size)] = True
    groups = [[lb] for lb in labels[big]]
    keys = [(int(s), int(f)) for s, f in zip(size[big], first[big])]
    if (~big).any():
        host = max(range(len(groups)), key=lambda i: keys[i])
        groups[host] += list(labels[~big])
        keys[host] = (keys[host][0] + int(size[~big].sum()), keys[host][1])
    order = sorted(range(len(groups)), key=lambda i: keys[i])
    col_group = np.full(lab.max() + 1, -1)
    for k, i in enumerate(order):
        col_group[groups[i]] = k
    cols_of = col_group[col_lab]
    rows_of = col_group[row_lab]
    rows_of[rows_of < 0] = 0  # rows with no column
    col_sorted = np.argsort(cols_of, kind="stable")
    row_sorted = np.argsort(rows_of, kind="stable")
    col_bounds = np.searchsorted(cols_of[col_sorted], np.arange(len(order) + 1))
    row_bounds = np.searchsorted(rows_of[row_sorted], np.arange(len(order) + 1))
    return [(row_sorted[row_bounds[k]:row_bounds[k + 1]], col_sorted[col_bounds[k]:col_bounds[k + 1]])
            for k in range(len(order))]


def _status_of(model_status, info) -> str:
    import highspy

    S = highspy.HighsModelStatus
    if model_status == S.kOptimal:
        return "optimal"
    if model_status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        return "infeasible"
    if info.primal_solution_status == 2:  # kSolutionStatusFeasible
        return "feasible"
    return "no_solution"


def solve_part(arr: LpArrays, rows: np.ndarray, cols: np.ndarray, options: dict,
               threads: int | None, keep_log: bool = False) -> PartResult:
    """Solve one block with its own HiGHS instance; with ``keep_log``, HiGHS's log is kept as text
    (through its logging callback: the same lines its ``log_file`` option writes, no file)."""
    import highspy

    t0 = time.perf_counter()
    sub = arr.matrix[rows][:, cols].tocsc()
    sub.sort_indices()
    integ = arr.integrality[cols]
    h = highspy.Highs()
    if threads is not None:
        highspy.Highs.resetGlobalScheduler(True)
        h.setOptionValue("threads", int(threads))
    for key, value in options.items():
        h.setOptionValue(key, value)
    lines: list[str] = []
    if keep_log:
        h.setOptionValue("output_flag", True)
        h.cbLogging.subscribe(lambda event: lines.append(event.message))
    h.passModel(len(cols), len(rows), int(sub.nnz), 1, 1, 0.0,
                arr.cost[cols], arr.col_lower[cols], arr.col_upper[cols],
                arr.row_lower[rows], arr.row_upper[rows],
                sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32), sub.data, integ)
    h.run()
    model_status = h.getModelStatus()
    info = h.getInfo()
    status = _status_of(model_status, info)
    obj = bound = values = None
    if status in ("optimal", "feasible"):
        values = np.asarray(h.getSolution().col_value, dtype=float)
        obj = float(arr.cost[cols] @ values)
        reported = float(info.objective_function_value)
        if abs(obj - reported) > 1e-6 * max(1.0, abs(obj)):
            # HiGHS's own figures do not describe these values: claim nothing about optimality
            log.warning("HiGHS 报告的目标值 %.6g 与解的目标值 %.6g 不符；该部分不计为最优", reported, obj)
            status, bound = "feasible", None
        elif integ.any():
            bound = float(info.mip_dual_bound)
        else:
            bound = obj if status == "optimal" else None
    return PartResult(status, h.modelStatusToString(model_status), obj, bound, values, len(cols), len(rows),
                      time.perf_counter() - t0, f"HiGHS {h.version()}", "".join(lines))


def solve_fixed(arr: LpArrays, values: np.ndarray, free: np.ndarray, options: dict,
                threads: int | None = None) -> tuple[np.ndarray | None, PartResult]:
    """Re-solve ``arr`` with every column outside ``free`` fixed at ``values``.

    Only the rows that hold a free column are handed to HiGHS, their bounds shifted by what the
    fixed columns contribute (integer columns are fixed at their rounded values). Returns the whole
    value vector (fixed columns unchanged) or None when HiGHS found no solution, and its report.
    """
    v = np.asarray(values, dtype=float).copy()
    integ = arr.integrality.astype(bool)
    v[integ] = np.round(v[integ])
    free = np.asarray(free, dtype=bool)
    free_cols = np.flatnonzero(free)
    shift = arr.matrix @ np.where(free, 0.0, v)
    rows = np.flatnonzero(abs(arr.matrix) @ free.astype(float) > 0)
    shifted = LpArrays(arr.variables, arr.cost, 0.0, arr.col_lower, arr.col_upper, arr.integrality,
                       arr.matrix, arr.row_lower - shift, arr.row_upper - shift)
    r = solve_part(shifted, rows, free_cols, options, threads)
    if r.values is None:
        return None, r
    v[free_cols] = r.values
    return v, r


def solve_arrays(arr: LpArrays, *, time_limit: float | None = None, gap: float | None = None,
                 keep_log: bool = False, msg: bool = False, threads: int | None = None,
                 heuristic_effort: float | None = None, decompose: bool = True,
                 min_part_columns: int = MIN_PART_COLUMNS) -> ArraysResult:
    """Solve ``arr`` block by block (see the module docstring); values are written to the variables.

    The time limit is shared: each block gets the time left in proportion to its columns, smallest
    blocks first, so time a small block does not use goes to the larger ones. With ``keep_log`` the
    result carries HiGHS's log as one text (a header per block when there are several).
    """
    t0 = time.perf_counter()
    if decompose:
        parts = independent_parts(arr.matrix, min_part_columns)
    else:
        parts = [(np.arange(arr.matrix.shape[0]), np.arange(arr.n_cols))]
    base = {"output_flag": bool(msg or keep_log), "log_to_console": bool(msg)}
    if gap is not None:
        base["mip_rel_gap"] = float(gap)
    if heuristic_effort is not None:
        base["mip_heuristic_effort"] = float(heuristic_effort)
    if len(parts) > 1:
        log.info("模型分解为 %d 个互不相关的部分（列数 %s）", len(parts), [len(c) for _, c in parts])
    results: list[PartResult] = []
    cols_left = arr.n_cols
    for k, (rows, cols) in enumerate(parts):
        options = dict(base)
        if time_limit is not None:
            left = time_limit - (time.perf_counter() - t0)
            share = len(cols) / max(cols_left, 1)
            options["time_limit"] = max(left * share, 1.0)
        results.append(solve_part(arr, rows, cols, options, threads, keep_log=keep_log))
        cols_left -= len(cols)
    out = _combine(arr, parts, results, results[-1].version if results else "HiGHS")
    if keep_log:
        out.log = _joined_log(parts, results)
    return out


def _combine(arr: LpArrays, parts, results: list[PartResult], version: str) -> ArraysResult:
    statuses = [r.status for r in results]
    for state in ("infeasible", "no_solution"):
        if state in statuses:
            bad = results[statuses.index(state)]
            msg = bad.message if len(results) == 1 else f"{bad.message}（{len(results)} 个部分之一）"
            return ArraysResult(state, None, None, None, msg, version, results)
    state = "optimal" if all(s == "optimal" for s in statuses) else "feasible"
    values = np.full(arr.n_cols, np.nan)
    for (_, cols), r in zip(parts, results):
        values[cols] = r.values
    write_values(arr, values)
    obj = sum(r.objective for r in results) + arr.offset
    bound = None if any(r.bound is None for r in results) else sum(r.bound for r in results) + arr.offset
    gap = None
    if bound is not None:
        gap = abs(obj - bound) / max(abs(obj), 1e-9)
    msgs = [r.message for r in results if r.status != "optimal"] or [results[0].message]
    # report the objective in the problem's own sense
    obj_out = arr.sign * obj
    bound_out = None if bound is None else arr.sign * bound
    return ArraysResult(state, gap, obj_out, bound_out, msgs[0], version, results)


def write_values(arr: LpArrays, values: np.ndarray) -> None:
    """Write ``values`` (one per column) to the PuLP variables ``arr`` was read from."""
    for v, x in zip(arr.variables, np.asarray(values, dtype=float).tolist()):
        v.varValue = x


def _joined_log(parts, results: list[PartResult]) -> str:
    """One solver log: HiGHS's own log of a single block; of several, a header per block, then the
    block's log."""
    if len(parts) == 1:
        return results[0].log
    return (f"模型分解为 {len(parts)} 个互不相关的部分，分别求解。\n"
            + fold_logs([(f"第 {k + 1}/{len(parts)} 部分：{r.n_cols} 列，{r.n_rows} 行；{r.message}，"
                          f"{r.seconds:.1f} 秒", r.log) for k, r in enumerate(results)]))
