"""``zoning project``: the year-by-year ledger of the current zones or of a proposal's zones
(the same projection and ledger code as ``zoning plan``)."""
from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd

from geodata.proposal import read_assignments, read_run
from geodata.tabular import write_csv
from pipelines.inputs import load, recorded_data_dir, recorded_mapping, scenario_from_run
from zoning.checks import zones_from_assignments
from zoning.projection import ZoneMaps, ledger as make_ledger, project


def run_project(data_dir=None, zones_dir=None, out=None, scenario_path=None, coords=None, mapping=None):
    """``zoning project``: the ledger for the current zones or a proposal's (same code as plan).

    With ``zones_dir`` the proposal's data folder, coordinates, mapping and scenario are those its
    ``run.json`` records (the arguments override them); every zone map of the proposal applies
    from its first intake year. Returns the ledger and the dataset.
    """
    scenario = None
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
        assignments = read_assignments(zones_dir)
        levels = [lv for lv in scenario.levels if lv in set(assignments["level"])]
        zones = zones_from_assignments(problem, assignments, levels)
    else:
        zones = ZoneMaps.current(problem)
    led = make_ledger(problem, project(problem, zones, scenario.years))
    led.attrs["notes"] = [n for n in problem.notes if "保留率" in n or "age_" in n]
    led.attrs["plan_over_intake"] = plan_against_intake(led, getattr(loaded.dataset, "plan", None))
    if out:
        write_ledger_file(led, Path(out))
    return led, loaded.dataset


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
