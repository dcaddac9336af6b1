"""What the pipelines share: loading a data folder into the model's problem, the data a proposal
records (``run.json``), and the guard every command runs on its output before any work."""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.dataset import file_hashes, load_dataset
from geodata.network import default_cache_dir
from geodata.outputs import (Inputs, OutputRefused, OutputUnwritable, check_output_target, check_writable,
                             command_inputs, mark_output_folder)
from geodata.proposal import RUN_FIX, read_run
from geodata.sample import sample_dir
from geodata.tables import to_tables
from zoning.errors import DataError, Problem, format_problems
from zoning.indicators import enrollment_ceilings
from zoning.problem import ZoningProblem, resolve_lock_names
from zoning.projection import estimate_survival
from zoning.reconcile import Reconciliation, reconcile
from zoning.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict, with_overrides

log = logging.getLogger(__name__)

#: what the command line takes from the floors below through this layer (its errors and checks)
FOR_THE_CLI = (DataError, ScenarioError, OutputRefused, OutputUnwritable, check_writable, format_problems)


@dataclass
class Loaded:
    dataset: object
    scenario: Scenario
    tables: object
    problem: ZoningProblem


def reconciliation(loaded: "Loaded", ledger) -> Reconciliation:
    """Pupils read -> pupils modelled (and households read -> counted + outside + unusable) for the
    base year; a gap beyond rounding raises ``DataError`` naming where the pupils went."""
    ds, pb = loaded.dataset, loaded.problem
    return reconcile(loaded.tables.schools, loaded.tables.units, rule=ds.enrollment_rule, ledger=ledger,
                     base_year=loaded.scenario.base_year, residents=pb.residents,
                     households=ds.households_totals, levels=loaded.scenario.levels).check()


def locks_by_id(scenario: Scenario, dataset) -> tuple[Scenario, list[str]]:
    """The scenario with locks written by name (小区/村 = 学校) turned into ids, before any solve."""
    if not scenario.locks:
        return scenario, []
    locks, notes, problems = resolve_lock_names(scenario.locks, dataset.units["unit_id"], dataset.units["name"],
                                                dataset.schools["school_id"], dataset.schools["name"])
    if problems:
        raise ScenarioError(problems, "锁定设置（scenario.toml 的 [locks] 或 --lock）")
    return dataclasses.replace(scenario, locks=locks), notes


def say(progress, text: str) -> None:
    """Log a step and show it to the user when the command reports progress."""
    log.info(text)
    if progress:
        progress(text)


def load(data_dir=None, scenario_path=None, coords=None, mapping=None, overrides=None,
         progress=None, scenario: Scenario | None = None) -> Loaded:
    """Read and validate the data folder and the scenario; build the plain problem.

    The scenario is ``scenario`` when given, else ``scenario_path``, else the data folder's
    ``scenario.toml``, else the defaults; ``overrides`` (command-line options) apply on top.
    """
    say(progress, "读取并检查数据……")
    dataset = load_dataset(data_dir, coords=coords, mapping=mapping)
    if scenario is None:
        scenario = load_scenario(scenario_path or getattr(dataset, "scenario_path", None))
    scenario = with_overrides(scenario, **(overrides or {}))
    scenario, lock_notes = locks_by_id(scenario, dataset)
    say(progress, "计算相邻关系与上学距离……")
    # road distances are cached by input hash in the user's cache folder, never beside the data
    tables = to_tables(dataset, scenario, cache_dir=default_cache_dir(None))
    problem = ZoningProblem.from_tables(tables, scenario)
    problem.notes.extend(lock_notes)
    apply_survival(problem, scenario, dataset)
    if scenario.keep_indicators:
        apply_indicator_ceilings(problem, dataset)
    return Loaded(dataset, scenario, tables, problem)


def _explicit_survival_grades(scenario: Scenario) -> set[int]:
    return {int(str(key).split("-")[0].lstrip("g")) for key in scenario.survival}


def apply_survival(problem: ZoningProblem, scenario: Scenario, dataset) -> None:
    """Cohort-survival ratios: the scenario's where given, else estimated from the dataset's
    ``history`` (历年在校生). Without either, every ratio is 1.0. The ratios used are reported."""
    history = getattr(dataset, "history", None)
    if history is not None:
        ratios, table = estimate_survival(history)
        explicit = _explicit_survival_grades(scenario)
        for g in range(1, 9):
            if g not in explicit:
                problem.survival[g - 1] = ratios[g - 1]
        name = Path(dataset.files["history"]).name
        problem.notes.append("升级保留率由 " + name + " 估计：" + "，".join(
            f"{r.from_grade}→{r.to_grade} 年级 {r.ratio:.3f}" for r in table.itertuples()))
    elif scenario.survival:
        problem.notes.append("升级保留率取自情景设置：" + "，".join(f"{k} = {v}" for k, v in scenario.survival.items()))
    else:
        problem.notes.append("升级保留率均取 1.0（没有历年在校生数据）")


def apply_indicator_ceilings(problem: ZoningProblem, dataset) -> None:
    """``keep_indicators``: schools meeting the area standards keep meeting them (issue 7)."""
    schools = pd.DataFrame(dataset.schools.drop(columns="geometry"))
    ceil = enrollment_ceilings(schools)
    cap = np.full(problem.n_schools, np.inf)
    sidx = problem.school_index()
    for r in ceil.itertuples():
        if str(r.school_id) in sidx and pd.notna(r.max_students):
            cap[sidx[str(r.school_id)]] = float(r.max_students)
    problem.ceiling = cap
    problem.notes.append(f"保持生均面积指标：{int(np.isfinite(cap).sum())} 所学校的在校生不超过其校舍与运动场面积允许的人数")


# ------------------------------------------------------------------------------ what a proposal records
def recorded_data_dir(run: dict, data_dir=None):
    """The data folder of a proposal: ``data_dir`` when given, else the one ``run.json`` records
    (None for the bundled sample)."""
    if data_dir is not None:
        return Path(data_dir)
    source = run["source"]
    if source == "sample":
        return None
    if not Path(source).is_dir():
        raise DataError([Problem("run.json", None, None, "source",
                                 f"方案记录的数据文件夹 {source} 不存在（可能已移动或改名）",
                                 "用 --data 指定该方案所用的数据文件夹")])
    return Path(source)


def recorded_mapping(run: dict):
    """The column-mapping file a proposal records (None when none was used)."""
    mapping = run.get("mapping")
    if mapping and not Path(mapping).is_file():
        raise DataError([Problem("run.json", None, None, "mapping", f"方案记录的列名对照文件 {mapping} 不存在",
                                 "用 --mapping 指定列名对照文件")])
    return mapping


def _without_none(d: dict) -> dict:
    """A settings table without its unset (None) values, at every depth (TOML has no null)."""
    return {k: (_without_none(v) if isinstance(v, dict) else v) for k, v in d.items() if v is not None}


def scenario_from_run(run: dict) -> Scenario:
    """The scenario a proposal was made with (``run.json``'s ``scenario``, as ``Scenario.to_dict`` wrote it)."""
    d = _without_none(run["scenario"])
    schools = {"open": d.pop("open_schools", {}) or {}, "close": d.pop("close_schools", {}) or {}}
    if any(schools.values()):
        d["schools"] = {k: v for k, v in schools.items() if v}
    try:
        return scenario_from_dict(d, source="run.json")
    except (TypeError, AttributeError) as exc:
        raise ScenarioError([f"run.json 中的情景设置无法读取（{exc}）；{RUN_FIX}"], "run.json") from None


def changed_inputs(recorded: dict, dataset) -> list[str]:
    """Names of the input files whose content differs from the hashes a proposal recorded."""
    now = file_hashes(dataset)
    names = sorted(set(recorded) | set(now))
    return [n for n in names if recorded.get(n) != now.get(n)]


def input_warnings(run: dict, dataset, data_dir) -> list[str]:
    """A warning naming the input files changed since the proposal was made (none when unchanged)."""
    changed = changed_inputs(run.get("inputs") or {}, dataset)
    if not changed:
        return []
    files = "、".join(str(Path(dataset.files[n]).name) if n in dataset.files else f"{n}（方案生成时有，现在没有）"
                     for n in changed)
    where = f"数据文件夹 {data_dir}" if data_dir is not None else "内置示例数据"
    return [f"{where}与方案生成时不同，以下文件已改变：{files}。检查结果按现在的数据计算"]


# ------------------------------------------------------------------------------ the output guard
def sample_folder() -> Path:
    return Path(sample_dir())


def cache_folder() -> Path:
    """The user's cache folder (road distances)."""
    return default_cache_dir(None)


def recorded_sources(proposals) -> list[Path]:
    """The data folders that the proposals' ``run.json`` record (those that exist).

    Only widens what the output guard protects: an unreadable ``run.json`` is reported by the
    command that reads it, not here.
    """
    out = []
    for folder in proposals:
        try:
            run = read_run(folder)
        except DataError:
            continue
        source = run.get("source")
        if isinstance(source, str) and source != "sample" and Path(source).is_dir():
            out.append(Path(source))
    return out


def plan_inputs(data_dir=None, scenario_path=None, mapping=None, proposals=(), files=()) -> Inputs:
    """What a command reads, for the output guard: the data folder (or the bundled sample), the
    data folders the given proposals record, the proposal folders, the scenario, mapping and other
    single files."""
    proposals = [Path(f) for f in proposals if f is not None]
    base = command_inputs(data_dir, proposals=proposals, files=(scenario_path, mapping, *files),
                          sample_dir=sample_folder())
    return Inputs(base.folders + tuple(recorded_sources(proposals)), base.files, base.proposals)


def guard_output(out, kind: str, data_dir=None, proposals=(), files=(), scenario_path=None, mapping=None,
                 suffix: str | None = None) -> Path:
    """Check, before any work, that writing ``out`` destroys nothing of the user's and can succeed
    (:func:`geodata.outputs.check_output_target` with this command's inputs)."""
    inputs = plan_inputs(data_dir, scenario_path, mapping, proposals=proposals, files=files)
    return check_output_target(out, inputs, kind=kind, suffix=suffix)


def prepare_output_folder(out) -> Path:
    """Create and mark an output folder that a command fills file by file (sweep, publish)."""
    return mark_output_folder(out)


def writable(path) -> None:
    """Raise :class:`OutputUnwritable` when ``path`` cannot be written (before any work)."""
    check_writable(path)
