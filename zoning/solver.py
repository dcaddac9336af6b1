"""Solver back ends: choose one in a fixed order, run it, and read its status honestly.

PuLP reports ``LpStatus`` "Optimal" after a time limit for both HiGHS and CBC (ENGINEERING.md), so
the status is read from the solver itself: HiGHS's model status and MIP gap through highspy, CBC's
solution status and its log. HiGHS gets the model as arrays, block by block
(:mod:`zoning.highs`); CBC goes through PuLP's command-line interface.

The solver's log comes back as text (:attr:`SolveResult.log`); writing it is the pipeline's job
(:func:`geodata.proposal.write_solver_log`). CBC can only log to a file: it gets one in a
temporary folder (as PuLP's own model and solution files), read back and removed.
"""
from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import sys
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pulp

from . import highs

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
    log: str | None  # the solver's log text when asked for (``solve(..., keep_log=True)``), else None
    message: str = ""
    parts: int = 1  # independent blocks solved separately (HiGHS)
    repair: str = ""  # what the neighbourhood repair did (zoning/polish.py), "" when it did not run


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
    if importlib.util.find_spec("highspy") is None:
        return False, "highs：未安装 highspy；pip install highspy"
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
          gap: float | None = None, keep_log: bool = False, msg: bool = False,
          threads: int | None = None, heuristic_effort: float | None = None,
          decompose: bool = True) -> SolveResult:
    """Solve ``prob`` and report the status read from the solver, not from PuLP.

    ``decompose``: solve the blocks of the model that share no constraint one by one (HiGHS only;
    :mod:`zoning.highs`). ``keep_log``: keep the solver's log as text (:attr:`SolveResult.log`).
    """
    name = check_solver(name)
    t0 = time.perf_counter()
    if name == "highs":
        return _solve_highs(prob, time_limit, gap, keep_log, msg, threads, t0, heuristic_effort, decompose)
    return _solve_cbc(prob, time_limit, gap, keep_log, msg, t0)


def _solve_highs(prob, time_limit, gap, keep_log, msg, threads, t0, heuristic_effort=None,
                 decompose=True) -> SolveResult:
    arr = highs.lp_arrays(prob)
    with _stdout_to_stderr():
        r = highs.solve_arrays(arr, time_limit=time_limit, gap=gap, keep_log=keep_log, msg=msg, threads=threads,
                               heuristic_effort=heuristic_effort, decompose=decompose)
    # keep PuLP's own status fields honest for code that reads them
    pulp_status = {"optimal": (pulp.LpStatusOptimal, pulp.LpSolutionOptimal),
                   "feasible": (pulp.LpStatusNotSolved, pulp.LpSolutionIntegerFeasible),
                   "infeasible": (pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible)}
    prob.assignStatus(*pulp_status.get(r.status, (pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound)))
    return SolveResult(r.status, r.gap, r.objective, r.bound, time.perf_counter() - t0, "highs", r.version,
                       r.log if keep_log else None, r.message, len(r.parts))


def _run_cbc(prob, time_limit, gap, keep_log: bool, msg) -> str:
    """Run CBC through PuLP; its log text ("" without ``keep_log``), logged into a temporary folder."""
    cmd, why = _cbc_command()
    kind, path = cmd
    with contextlib.ExitStack() as stack:
        log_path = None
        if keep_log:
            log_path = str(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="zoning-cbc-"))) / "cbc.log")
        kwargs = dict(msg=bool(msg), timeLimit=time_limit, gapRel=gap, logPath=log_path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            solver = pulp.COIN_CMD(path=path, **kwargs) if kind == "path" else pulp.PULP_CBC_CMD(**kwargs)
            prob.solve(solver)
        return Path(log_path).read_text(errors="replace") if log_path and Path(log_path).exists() else ""


def _solve_cbc(prob, time_limit, gap, keep_log, msg, t0) -> SolveResult:
    text = _run_cbc(prob, time_limit, gap, keep_log, msg)
    sol_status = prob.sol_status
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
                       text if keep_log else None, pulp.LpStatus[prob.status])


def new_var(prob: pulp.LpProblem, name: str, low=None, up=None, cat="Continuous") -> pulp.LpVariable:
    """A variable on ``prob`` that works on PuLP 2.x, 3.x and 4.x without deprecation noise."""
    if hasattr(prob, "add_variable"):
        return prob.add_variable(name, lowBound=low, upBound=up, cat=cat)
    return pulp.LpVariable(name, lowBound=low, upBound=up, cat=cat)  # pragma: no cover
