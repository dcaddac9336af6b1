"""``zoning project``: the year-by-year ledger of the current zones or of a proposal's zones
(the same projection and ledger code as ``zoning plan``)."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geodata.dataset import file_hashes
from geodata.proposal import read_assignments, read_run
from geodata.tabular import write_csv
from pipelines import PlanError
from pipelines.inputs import Loaded, load, reconciliation, recorded_data_dir, recorded_mapping, scenario_from_run
from zoning.errors import DataError, Problem
from zoning.checks import zones_from_assignments
from zoning.projection import ZoneMaps, ledger as make_ledger, project


#: the inputs the projection reads: a proposal made from other versions of these is another data folder's
PROJECTION_INPUTS = ("schools", "units", "households", "history")


@dataclass
class Projected:
    """The ledger of the zones asked for, with what it was computed from (one projection for
    ``zoning project``, ``zoning enrollment-plan`` and ``zoning warn``)."""

    ledger: pd.DataFrame
    loaded: Loaded
    zones_dir: Path | None = None

    @property
    def years(self) -> list[int]:
        """The projected years (base year excluded)."""
        return list(self.loaded.scenario.years)

    def current_ledger(self) -> pd.DataFrame:
        """The ledger of the current zones on the same data and scenario (the same code path)."""
        problem = self.loaded.problem
        return make_ledger(problem, project(problem, ZoneMaps.current(problem), self.years))

    def check_years(self, years) -> None:
        """Raise :class:`PlanError` (exit code 2) for a year outside the projection."""
        bad = [y for y in years if y not in self.years]
        if bad:
            first, last = self.years[0], self.years[-1]
            raise PlanError(f"年份 {'、'.join(map(str, bad))} 不在预测范围 {first}–{last} 年内"
                            f"（基年 {self.loaded.scenario.base_year} 之后至规划末年 horizon）。"
                            f"请选 {first}–{last} 之间的年份，或在 scenario.toml 中调整 base_year / horizon。")


def project_zones(data_dir=None, zones_dir=None, scenario_path=None, coords=None, mapping=None,
                  same_inputs: bool = False) -> Projected:
    """The ledger for the current zones or a proposal's (the code path of ``zoning plan``).

    With ``zones_dir`` the proposal's data folder, coordinates, mapping and scenario are those its
    ``run.json`` records (the arguments override them); every zone map of the proposal applies
    from its first intake year. ``same_inputs``: a proposal whose recorded input hashes of the
    projection's inputs (schools, units, households, history) differ from the data read is another
    data folder's, and is refused (:class:`DataError`, exit code 2).
    """
    scenario = run = None
    if zones_dir is not None:
        zones_dir = Path(zones_dir)
        run = read_run(zones_dir)
        data_dir = recorded_data_dir(run, data_dir)
        coords = coords or run.get("coords")
        mapping = mapping or recorded_mapping(run)
        scenario = None if scenario_path is not None else scenario_from_run(run)
    loaded = load(data_dir, scenario_path, coords, mapping, scenario=scenario)
    scenario, problem = loaded.scenario, loaded.problem
    if zones_dir is not None:
        if same_inputs:
            refuse_other_data(run, loaded.dataset, zones_dir)
        assignments = read_assignments(zones_dir)
        levels = [lv for lv in scenario.levels if lv in set(assignments["level"])]
        zones = zones_from_assignments(problem, assignments, levels)
    else:
        zones = ZoneMaps.current(problem)
    led = make_ledger(problem, project(problem, zones, scenario.years))
    led.attrs["notes"] = ([n for n in problem.notes if "保留率" in n or "age_" in n]
                          + reconciliation(loaded, led).lines())
    return Projected(led, loaded, zones_dir)


def refuse_other_data(run: dict, dataset, zones_dir: Path) -> None:
    """Raise :class:`DataError` when the proposal was made from other schools/units/households/history."""
    recorded = {k: v for k, v in (run.get("inputs") or {}).items() if k in PROJECTION_INPUTS}
    now = {k: v for k, v in file_hashes(dataset).items() if k in PROJECTION_INPUTS}
    changed = [n for n in PROJECTION_INPUTS if recorded.get(n) != now.get(n)]
    if not changed:
        return
    names = "、".join(Path(dataset.files[n]).name if n in dataset.files else f"{n}（方案生成时有，现在没有）"
                     for n in changed)
    where = "内置示例数据" if getattr(dataset, "is_sample", False) else f"数据文件夹 {dataset.source}"
    raise DataError([Problem("run.json", None, None, "inputs",
                             f"方案 {zones_dir} 不是由{where} 生成的：{names} 与方案记录的文件哈希不同",
                             "给出生成该方案时所用的数据文件夹，或用这份数据重新运行 zoning plan")])


def run_project(data_dir=None, zones_dir=None, out=None, scenario_path=None, coords=None, mapping=None):
    """``zoning project``: the ledger for the current zones or a proposal's (same code as plan).

    See :func:`project_zones`. Returns the ledger and the dataset.
    """
    projected = project_zones(data_dir, zones_dir, scenario_path, coords, mapping)
    led = projected.ledger
    led.attrs["plan_over_intake"] = plan_against_intake(led, getattr(projected.loaded.dataset, "plan", None))
    if out:
        write_ledger_file(led, Path(out))
    return led, projected.loaded.dataset


def write_ledger_file(led: pd.DataFrame, out: Path) -> Path:
    """Write a ledger CSV atomically (temporary name, then rename) through :mod:`geodata.tabular`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        write_csv(led, tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def plan_against_intake(ledger: pd.DataFrame, plan: pd.DataFrame | None) -> pd.DataFrame:
    """The enrollment plan (招生计划) against each school's intake cap in the ledger.

    One row per plan row of an entering grade (1 or 7) whose planned classes or students exceed the
    classes and seats the school can offer that year (``intake_classes`` / ``intake_seats``).
    """
    cols = ["school_id", "name", "year", "grade", "planned_classes", "intake_classes",
            "planned_students", "intake_seats"]
    if plan is None or len(plan) == 0:
        return pd.DataFrame(columns=cols)
    p = pd.DataFrame(plan).copy()
    for c in ("year", "grade", "planned_classes", "planned_students"):
        p[c] = pd.to_numeric(p.get(c), errors="coerce")
    p["school_id"] = p["school_id"].astype(str)
    p = p[p["grade"].isin([1, 7])]
    m = p.merge(ledger[["school_id", "name", "year", "intake_classes", "intake_seats"]], on=["school_id", "year"])
    over = (m["planned_classes"] > m["intake_classes"]) | (m["planned_students"] > m["intake_seats"])
    return m.loc[over, cols].reset_index(drop=True)


def baseline_ledger(data_dir=None, scenario_path=None, coords=None, mapping=None) -> pd.DataFrame:
    """The ledger of the current zones (for indicators in years other than the base year)."""
    led, _ = run_project(data_dir, None, None, scenario_path, coords, mapping)
    return led


def _pad(text: str, width: int, right: bool = False) -> str:
    """Pad to a display width (CJK characters count two columns)."""
    w = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    fill = " " * max(width - w, 0)
    return fill + text if right else text + fill


def ledger_text(led: pd.DataFrame, schools=None) -> str:
    """A compact Chinese table of a ledger (school × year: students/classes/largest class, flags)."""
    if schools:
        led = led[led["school_id"].isin(schools) | led["name"].isin(schools)]
    lines = []
    years = sorted(led["year"].unique())
    lines.append(_pad("学校", 18) + "".join(_pad(str(y), 16, True) for y in years) + "  达标年份")
    for sid, g in led.groupby("school_id", sort=False):
        g = g.set_index("year")
        cells = []
        for y in years:
            r = g.loc[y]
            flag = ("校" if r.over_size_limit else "") + ("班" if r.over_class_limit else "") + ("室" if r.over_classrooms else "")
            cells.append(_pad(f"{r.students}/{r.classes}/{r.largest_class}{('!' + flag) if flag else ''}", 16, True))
        fy = g["first_year_within_limits"].iloc[0]
        lines.append(_pad(str(g["name"].iloc[0]), 18) + "".join(cells) + f"  {'' if pd.isna(fy) else int(fy)}")
    lines.append("（人数/班数/最大班额；!校=超校额，!班=超班额，!室=超教室数）")
    return "\n".join(lines)
