"""Scenario sweeps (``zoning plan --sweep sweep.toml``): a grid of settings run in parallel.

The sweep file
--------------
``sweep.toml`` varies settings of the base scenario (the one ``zoning plan`` is given). Keys are the
dotted paths of ``scenario.toml`` settings; every key must exist in :class:`zoning.scenario.Scenario`::

    # every combination of the values below (3 x 2 x 2 = 12 proposals)
    [grid]
    "weights.moved" = [0.1, 0.5, 1.0]
    "caps.primary.max_km" = [3, 5]
    second_change_year = ["none", 2025]   # "none" (or "无") = no second zone change

    # optional: named proposals added as they are (each applied to the base scenario)
    [runs.keep_areas]
    keep_indicators = true
    "weights.moved" = 0.3

Accepted keys: the top-level settings (``base_year``, ``target_year``, ``horizon``,
``first_intake``, ``second_change_year``, ``contiguity``, ``barrier_rule``,
``barrier_detour``, ``use_roads``, ``keep_indicators``, ``levels``), ``weights.<name>``,
``caps.<primary|junior>.<name>``, ``solver.<name>``, ``locks.<unit_id>`` (a school id, or "none"
to drop a lock), ``schools.open.<school_id>`` / ``schools.close.<school_id>`` (a year, or "none")
and ``survival.<"gA-gB">``. ``first_intake``, ``second_change_year`` and ``solver.threads`` accept
"none". Unknown keys, wrong types and combinations that fail
:func:`zoning.scenario.validate_scenario` are errors, all reported at once.

Proposal names: ``[runs.NAME]`` keeps its name; a grid combination is named by its number and its
values, e.g. ``03_moved=1.0_max_km=3_second_change_year=none``.
"""
from __future__ import annotations

import functools
import itertools
import json
import logging
import multiprocessing
import re
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import pandas as pd

from geodata.dataset import load_dataset
from geodata.tabular import write_csv
from pipelines import PlanError
from pipelines.compare import write_comparison
from pipelines.plan import run_plan
from zoning.errors import format_problems
from zoning.scenario import (Scenario, ScenarioError, apply_settings as _apply_dotted, is_none_word as _is_none,
                             load_scenario, load_toml, with_overrides, write_scenario)

log = logging.getLogger(__name__)

_RUN_NAME = "_name"


def apply_settings(base: Scenario, settings: dict, where: str = "",
                   validate: bool = True) -> tuple[Scenario, list[str]]:
    """A copy of ``base`` with dotted-key ``settings`` applied, and the problems found.

    The keys and values are checked by the scenario reader itself (``zoning.scenario``).
    """
    prefix = f"[{where}] " if where else ""
    sc, problems = _apply_dotted(base, {k: v for k, v in settings.items() if k != _RUN_NAME},
                                 relations=validate)
    return sc, [prefix + p.text for p in problems]


def load_sweep(path) -> list[dict]:
    """Read ``sweep.toml`` into the list of settings to run (see the module docstring).

    Returns
    -------
    list of dict
        One dict per proposal: dotted key → value (``"none"`` kept as written), plus ``"_name"``
        for ``[runs.NAME]`` entries. Grid combinations come first, in the order of the file.

    Raises
    ------
    ScenarioError
        Unknown tables or keys, a grid value that is not a list, or a TOML syntax error — every
        problem at once. Keys are checked against :class:`Scenario`.
    """
    path = Path(path)
    data = load_toml(path, "扫描设置文件")
    problems: list[str] = []
    for key in data:
        if key not in ("grid", "runs"):
            problems.append(f"未知的表或设置项 '{key}'（扫描文件只能有 [grid] 和 [runs.名称]）")
    grid = _flatten(data.get("grid", {}))
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            problems.append(f"[grid] {key} 应为非空列表，例如 [0.1, 0.5]，而不是 {values!r}")
    runs = data.get("runs", {})
    if not isinstance(runs, dict) or any(not isinstance(v, dict) for v in runs.values()):
        problems.append("[runs] 中每个方案应写成 [runs.名称] 表")
        runs = {}
    if not grid and not runs:
        problems.append("扫描文件中没有 [grid] 或 [runs.名称]，没有要运行的方案")
    base = Scenario()
    for key, values in grid.items():
        for v in (values if isinstance(values, list) else []):
            _, probs = apply_settings(base, {key: v}, "grid", validate=False)
            problems += probs
    for name, table in runs.items():
        _, probs = apply_settings(base, _flatten(table), f"runs.{name}", validate=False)
        problems += probs
    combos: list[dict] = []
    if not problems and grid:
        keys = list(grid)
        combos = [dict(zip(keys, vals)) for vals in itertools.product(*(grid[k] for k in keys))]
    for name, table in runs.items():
        entry = _flatten(table)
        entry[_RUN_NAME] = str(name)
        combos.append(entry)
    if problems:
        raise ScenarioError(_dedupe(problems), path.name)
    return combos


def _dedupe(items: list[str]) -> list[str]:
    seen, out = set(), []
    for it in items:
        if it not in seen:
            seen.add(it)
            out.append(it)
    return out


def _flatten(table: dict, prefix: str = "") -> dict:
    """Nested TOML tables to dotted keys (``[grid.weights] moved = [..]`` == ``"weights.moved"``)."""
    out = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _value_text(v) -> str:
    if v is None or _is_none(v):
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "+".join(map(str, v))
    return str(v)


def safe_name(text: str) -> str:
    """A folder name: letters, digits, CJK, ``. _ = + -``; anything else becomes ``_``."""
    out = re.sub(r"[^\w.=+\-]", "_", text, flags=re.UNICODE).strip("._")
    return out[:120] or "run"


def expand(base_scenario: Scenario, grid) -> list[tuple[str, Scenario]]:
    """Apply each settings dict to a copy of ``base_scenario``.

    Parameters
    ----------
    base_scenario : Scenario
        The scenario ``zoning plan`` was given (file + command-line options).
    grid : list of dict or dict
        What :func:`load_sweep` returns, or a dict ``{dotted key: [values]}`` (expanded to every
        combination).

    Returns
    -------
    list of (str, Scenario)
        Unique folder-safe names and validated scenarios.

    Raises
    ------
    ScenarioError
        With every problem of every combination (each validated with
        :func:`zoning.scenario.validate_scenario`).
    """
    if isinstance(grid, dict):
        keys = list(grid)
        grid = [dict(zip(keys, vals)) for vals in itertools.product(*(grid[k] for k in keys))]
    out: list[tuple[str, Scenario]] = []
    problems: list[str] = []
    width = max(2, len(str(len(grid))))
    names: set[str] = set()
    for i, settings in enumerate(grid, start=1):
        if settings.get(_RUN_NAME):
            name = safe_name(settings[_RUN_NAME])
        else:
            label = "_".join(f"{k.split('.')[-1]}={_value_text(v)}" for k, v in settings.items() if k != _RUN_NAME)
            name = safe_name(f"{i:0{width}d}_{label}" if label else f"{i:0{width}d}")
        base_name, n = name, 2
        while name in names:
            name = f"{base_name}_{n}"
            n += 1
        names.add(name)
        sc, probs = apply_settings(base_scenario, settings, name)
        problems += probs
        out.append((name, sc))
    if problems:
        raise ScenarioError(problems, "sweep.toml")
    return out


def _run_in_child(run_one, scenario, out):
    """Call ``run_one`` in a worker; returns (ok, message). Never raises (keeps the pool alive)."""
    try:
        run_one(scenario, out)
        return True, ""
    except Exception as exc:  # collected and reported by run_sweep
        msg = _error_text(exc)
        return False, msg


def _error_text(exc: BaseException) -> str:
    problems = getattr(exc, "problems", None)
    if problems and all(hasattr(p, "problem") for p in problems):
        return format_problems(problems)
    if isinstance(exc, ScenarioError):
        return "；".join(exc.problems)
    text = f"{type(exc).__name__}: {exc}"
    log.debug("".join(traceback.format_exception(exc)))
    return text


def run_sweep(scenarios, run_one, out_dir, workers: int = 2) -> list[Path]:
    """Run ``run_one(scenario, out_dir / name)`` for each scenario in parallel processes.

    Parameters
    ----------
    scenarios : list of (str, Scenario)
        From :func:`expand`.
    run_one : callable
        A picklable top-level function ``run_one(scenario, out: Path)`` that writes one proposal
        folder (processes are started with "spawn", so it must be importable by name).
    out_dir : path
        The sweep folder; it receives one folder per proposal, ``sweep.csv`` (name, status,
        message and the settings of each proposal) and ``compare/`` (the comparison of the
        proposals that succeeded, when there are any).
    workers : int
        Parallel processes (1 runs them one after the other in this process).

    Returns
    -------
    list of Path
        The proposal folders that were written, in the order of ``scenarios``. Failures are in
        ``sweep.csv`` and the log; they do not stop the other runs.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, tuple[bool, str]] = {}
    if workers <= 1:
        for name, sc in scenarios:
            results[name] = _run_in_child(run_one, sc, out_dir / name)
            _log_result(name, *results[name])
    else:
        ctx = multiprocessing.get_context("spawn")
        # a fresh process per proposal: solver state (HiGHS' global scheduler) and memory do not
        # carry over from one run to the next
        extra = {"max_tasks_per_child": 1} if sys.version_info >= (3, 11) else {}
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, **extra) as pool:
            futures = {pool.submit(_run_in_child, run_one, sc, out_dir / name): name for name, sc in scenarios}
            for fut in as_completed(futures):
                name = futures[fut]
                try:
                    results[name] = fut.result()
                except Exception as exc:  # a worker died (e.g. out of memory) or could not unpickle
                    results[name] = (False, _error_text(exc))
                _log_result(name, *results[name])
    done = []
    rows = []
    for name, sc in scenarios:
        ok, msg = results[name]
        if ok and not (out_dir / name).is_dir():
            ok, msg = False, "运行结束但没有生成方案文件夹"
        if ok:
            done.append(out_dir / name)
        rows.append({"name": name, "status": "成功" if ok else "失败", "message": msg,
                     "settings": json.dumps(_settings_summary(sc), ensure_ascii=False)})
    write_csv(pd.DataFrame(rows, columns=["name", "status", "message", "settings"]), out_dir / "sweep.csv")
    if done:
        try:
            write_comparison(done, out_dir / "compare")
        except Exception as exc:  # the proposals are still there; say why the table is missing
            log.error("方案比较失败：%s", _error_text(exc))
    log.info("扫描完成：%d 个方案成功，%d 个失败", len(done), len(scenarios) - len(done))
    return done


def _log_result(name, ok, msg):
    if ok:
        log.info("方案 %s 完成", name)
    else:
        log.warning("方案 %s 失败：%s", name, msg)


def _settings_summary(sc: Scenario) -> dict:
    d = sc.to_dict()
    return {k: d[k] for k in ("weights", "caps", "second_change_year", "keep_indicators", "contiguity",
                              "first_intake", "target_year", "horizon")}


# --------------------------------------------------------------------------------------------
# writing a scenario back to TOML, and the glue of ``zoning plan --sweep``


def plan_one(scenario: Scenario, out: Path, data_dir=None, coords=None, mapping=None, write_map=True) -> None:
    """Run one proposal of a sweep with :func:`pipelines.plan.run_plan` (top-level, so that it pickles).

    The scenario is written next to the proposal (``<sweep>/scenarios/<name>.toml``) and handed
    to ``run_plan`` as its scenario file.
    """
    out = Path(out)
    sc_dir = out.parent / "scenarios"
    sc_dir.mkdir(parents=True, exist_ok=True)
    sc_path = sc_dir / f"{out.name}.toml"
    write_scenario(scenario, sc_path)
    try:
        run_plan(data_dir, out, sc_path, coords, mapping, None, write_map=write_map)
    except PlanError as exc:
        raise RuntimeError(str(exc)) from None


def run_sweep_file(sweep_file, data_dir=None, scenario_path=None, out_dir=None, overrides=None,
                   coords=None, mapping=None, workers: int = 2, write_map: bool = True) -> list[Path]:
    """``zoning plan --sweep sweep.toml``: every proposal of the sweep, then their comparison.

    The base scenario is ``scenario_path`` (or the data folder's ``scenario.toml``, or the
    defaults) with the command-line ``overrides`` applied; each grid combination is applied to it.
    The data folder is loaded once first, so that data errors stop the sweep before it starts.

    Returns
    -------
    list of Path
        The proposal folders written (``out_dir/<name>``); ``out_dir/compare`` holds the comparison
        and ``out_dir/sweep.csv`` the status of every run.
    """
    settings = load_sweep(sweep_file)
    ds = load_dataset(data_dir, coords=coords, mapping=mapping)
    base = load_scenario(scenario_path or getattr(ds, "scenario_path", None))
    base = with_overrides(base, **(overrides or {}))
    scenarios = expand(base, settings)
    out_dir = Path(out_dir) if out_dir else Path("proposals") / "sweep"
    log.info("扫描 %d 个方案，%d 个进程并行", len(scenarios), workers)
    run_one = functools.partial(plan_one, data_dir=data_dir, coords=coords, mapping=mapping, write_map=write_map)
    return run_sweep(scenarios, run_one, out_dir, workers=workers)
