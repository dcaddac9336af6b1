"""Solver back ends: choose one in a fixed order, run it, and read its status honestly.

PuLP reports ``LpStatus`` "Optimal" after a time limit for both HiGHS and CBC (ENGINEERING.md), so
the status is read from the solver itself: HiGHS's model status and MIP gap through highspy, CBC's
solution status and its log.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pulp

log = logging.getLogger(__name__)


class SolverUnavailable(RuntimeError):
    """No usable solver; the message lists what was tried."""


@dataclass
class SolveResult:
    status: str  # "optimal", "feasible", "infeasible", "no_solution"
    gap: float | None  # proven relative MIP gap, None when unknown
    objective: float | None
    bound: float | None
    seconds: float
    solver: str
    solver_version: str
    log_path: str | None
    message: str = ""


@contextlib.contextmanager
def _stdout_to_stderr():
    """Send what the solver library prints (HiGHS's banner) to stderr, keeping stdout for reports."""
    try:
        out_fd = sys.stdout.fileno()
        err_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # captured streams without a file descriptor
        yield
        return
    sys.stdout.flush()
    saved = os.dup(out_fd)
    try:
        os.dup2(err_fd, out_fd)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, out_fd)
        os.close(saved)


def _highs_available() -> tuple[bool, str]:
    try:
        import highspy  # noqa: F401
    except ImportError as exc:
        return False, f"highs：未安装 highspy（{exc}）；pip install highspy"
    return True, ""


def _cbc_command() -> tuple[object | None, str]:
    path = shutil.which("cbc")
    if path:
        return ("path", path), ""
    cls = getattr(pulp, "PULP_CBC_CMD", None)
    if cls is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if cls(msg=False).available():
                    return ("bundled", None), ""
            except Exception as exc:  # pragma: no cover - platform specific
                return None, f"cbc：PuLP 自带的 CBC 不可用（{exc}）"
    return None, "cbc：PATH 中没有 cbc，且本版本 PuLP 不再自带 CBC；apt-get install coinor-cbc"


def check_solver(name: str) -> str:
    """Return ``name`` when usable, otherwise raise listing what was tried.

    ``name`` is ``"highs"`` or ``"cbc"``; ``"auto"`` tries HiGHS, then CBC.
    """
    order = ["highs", "cbc"] if name == "auto" else [name]
    tried = []
    for cand in order:
        if cand == "highs":
            ok, why = _highs_available()
        elif cand == "cbc":
            cmd, why = _cbc_command()
            ok = cmd is not None
        else:
            ok, why = False, f"{cand}：未知的求解器（可用 highs、cbc）"
        if ok:
            return cand
        tried.append(why)
    raise SolverUnavailable("没有可用的求解器。已尝试：" + "；".join(tried))


def solve(prob: pulp.LpProblem, name: str = "highs", time_limit: float | None = None,
          gap: float | None = None, log_path: str | Path | None = None, msg: bool = False,
          threads: int | None = None, heuristic_effort: float | None = None) -> SolveResult:
    """Solve ``prob`` and report the status read from the solver, not from PuLP alone."""
    name = check_solver(name)
    t0 = time.perf_counter()
    log_path = str(log_path) if log_path else None
    if name == "highs":
        return _solve_highs(prob, time_limit, gap, log_path, msg, threads, t0, heuristic_effort)
    return _solve_cbc(prob, time_limit, gap, log_path, msg, t0)


def _solve_highs(prob, time_limit, gap, log_path, msg, threads, t0, heuristic_effort=None) -> SolveResult:
    import highspy

    options = {}
    if heuristic_effort is not None:
        options["mip_heuristic_effort"] = float(heuristic_effort)
    if log_path:
        options["log_file"] = log_path
        options["log_to_console"] = bool(msg)
    # Never pass threads after a first solve in this process (ENGINEERING.md: scheduler trap).
    solver = pulp.HiGHS(msg=bool(msg or log_path), timeLimit=time_limit, gapRel=gap, **options)
    if threads is not None:
        highspy.Highs.resetGlobalScheduler(True)
        solver.threads = threads
    with _stdout_to_stderr():
        prob.solve(solver)
    h = prob.solverModel
    status = h.getModelStatus()
    info = h.getInfo()
    S = highspy.HighsModelStatus
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    gap_val = float(info.mip_gap) if has_solution else None
    obj = float(info.objective_function_value) if has_solution else None
    bound = float(info.mip_dual_bound) if has_solution else None
    if status == S.kOptimal:
        state = "optimal"
        gap_val = max(0.0, gap_val or 0.0)
    elif status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        state = "infeasible"
    elif has_solution:
        state = "feasible"
    else:
        state = "no_solution"
    version = f"HiGHS {h.version()}" if hasattr(h, "version") else "HiGHS"
    return SolveResult(state, gap_val, obj, bound, time.perf_counter() - t0, "highs", version,
                       log_path, h.modelStatusToString(status))


def _solve_cbc(prob, time_limit, gap, log_path, msg, t0) -> SolveResult:
    cmd, why = _cbc_command()
    kind, path = cmd
    kwargs = dict(msg=bool(msg), timeLimit=time_limit, gapRel=gap, logPath=log_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        solver = pulp.COIN_CMD(path=path, **kwargs) if kind == "path" else pulp.PULP_CBC_CMD(**kwargs)
        prob.solve(solver)
    sol_status = prob.sol_status
    text = Path(log_path).read_text(errors="replace") if log_path and Path(log_path).exists() else ""
    gap_val = None
    m = re.findall(r"Gap:\s*([0-9.eE+-]+)", text)
    if m:
        gap_val = float(m[-1])
    bound = None
    mb = re.findall(r"best possible ([0-9.eE+-]+)", text)
    if mb:
        bound = float(mb[-1])
    obj = pulp.value(prob.objective)
    stopped_early = bool(re.search(r"Stopped on time|stopped on time|Result - Stopped", text))
    if sol_status == pulp.LpSolutionOptimal and not stopped_early:
        state, gap_val = "optimal", gap_val or 0.0
    elif sol_status in (pulp.LpSolutionIntegerFeasible, pulp.LpSolutionOptimal):
        state = "feasible"
    elif sol_status == pulp.LpSolutionInfeasible:
        state = "infeasible"
    else:
        state = "no_solution"
    return SolveResult(state, gap_val, obj, bound, time.perf_counter() - t0, "cbc", "CBC",
                       log_path, pulp.LpStatus[prob.status])


def new_var(prob: pulp.LpProblem, name: str, low=None, up=None, cat="Continuous") -> pulp.LpVariable:
    """A variable on ``prob`` that works on PuLP 2.x, 3.x and 4.x without deprecation noise."""
    if hasattr(prob, "add_variable"):
        return prob.add_variable(name, lowBound=low, upBound=up, cat=cat)
    return pulp.LpVariable(name, lowBound=low, upBound=up, cat=cat)  # pragma: no cover
