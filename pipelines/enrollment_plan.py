"""``zoning enrollment-plan``: the 招生计划 of a year from the projection behind ``zoning project``.

For each admitting school and start grade (1 and 7): the zone's projected intake, the seats (the
ledger's ``intake_seats`` / ``intake_classes``: classes at the class limit within free classrooms and
the size cap) and the planned classes and pupils, never above the seats; a shortfall and where its
pupils go (:func:`zoning.warnings.enrollment_plan`). Before anything is written the plan is checked
against the ledger's intake caps (:func:`zoning.warnings.over_seats`, the rule ``zoning project``
reports a typed plan by).

Two files, written under temporary names and renamed when complete:

``<out>.xlsx``
    the plan in Chinese for the bureau to sign: a title, the sign-off line (编制/审核/批准/日期),
    then the table (学校代码, 学校名称, 年份, 年级, 计划班数, 计划人数) — the header aliases the reader
    knows, so ``zoning validate`` and ``zoning check --plan`` read this sheet as it is; a second sheet
    with the basis (预计新生, 可招学位, 缺口, 去向).
``<out>.csv``
    the contract's plan columns (school_id, year, grade, planned_classes, planned_students).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from geodata.sample import SAMPLE_NOTICE
from geodata.tabular import save_workbook, write_csv
from pipelines.project import project_zones
from zoning import policy
from zoning.warnings import PLAN_COLUMNS, class_limits_of, enrollment_plan, neighbours_by_distance, over_seats

log = logging.getLogger(__name__)

PLAN_SHEET_HEADERS = ["学校代码", "学校名称", "年份", "年级", "计划班数", "计划人数"]
BASIS_HEADERS = {"school_id": "学校代码", "name": "学校名称", "level": "学段", "grade": "年级",
                 "demand": "片区预计新生", "seats": "全校可招学位", "seat_classes": "全校可开班数",
                 "planned_classes": "计划班数", "planned_students": "计划人数", "shortfall": "学位缺口",
                 "destination": "缺口去向（建议）"}
SIGN_OFF = "编制：____________　　审核：____________　　批准（盖章）：____________　　日期：______年____月____日"


@dataclass
class PlanOutcome:
    plan: pd.DataFrame      # the detailed plan (zoning.warnings.PLAN_DETAIL_COLUMNS)
    xlsx: Path
    csv: Path
    is_sample: bool


def csv_path_of(out_xlsx) -> Path:
    """The CSV written beside the XLSX (same name, .csv)."""
    return Path(out_xlsx).with_suffix(".csv")


def run_enrollment_plan(data_dir=None, zones_dir=None, year: int | None = None, out=None,
                        scenario_path=None, coords=None, mapping=None) -> PlanOutcome:
    """The plan of ``year`` for the current zones or a proposal's, written as XLSX and CSV."""
    projected = project_zones(data_dir, zones_dir, scenario_path, coords, mapping, same_inputs=True)
    year = projected.years[0] if year is None else int(year)
    projected.check_years([year])
    problem = projected.loaded.problem
    plan = enrollment_plan(projected.ledger, year, class_limits_of(problem.school_ids, problem.class_limit),
                           neighbours_by_distance(problem.school_ids, problem.school_xy))
    over = over_seats(plan, projected.ledger)
    if len(over):  # the plan is made within the seats: a row above them is a bug, not a finding
        raise AssertionError(f"招生计划超出可招学位：{over.to_dict('records')}")
    dataset = projected.loaded.dataset
    is_sample = bool(getattr(dataset, "is_sample", False))
    out = Path(out or f"enrollment_plan_{year}.xlsx")
    zones = f"方案 {Path(zones_dir).name}" if zones_dir else "现行片区"
    county = projected.loaded.scenario.publish.county
    title = f"{county}{year} 年义务教育学校招生计划（按{zones}）"
    _atomic_write(out, lambda p: save_workbook(plan_workbook(plan, title, is_sample), p))
    csv = csv_path_of(out)
    _atomic_write(csv, lambda p: write_csv(plan[PLAN_COLUMNS], p))
    return PlanOutcome(plan, out, csv, is_sample)


def _atomic_write(path: Path, write) -> Path:
    """Write through ``write(tmp)`` under a temporary name, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def plan_workbook(plan: pd.DataFrame, title: str, is_sample: bool) -> Workbook:
    """The signable Chinese workbook: title, note, sign-off line, then the table; a basis sheet."""
    wb = Workbook()
    ws = wb.active
    ws.title = "招生计划"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    note = "计划班数、计划人数不超过各校可招学位（空余教室按班额开班，且不超过校额）；缺口与去向见“测算依据”。"
    ws.append([SAMPLE_NOTICE + note if is_sample else note])
    ws.append([SIGN_OFF])
    ws.append([])
    ws.append(PLAN_SHEET_HEADERS)
    for cell in ws[5]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for r in plan.itertuples():
        ws.append([r.school_id, r.name, int(r.year), int(r.grade), int(r.planned_classes), int(r.planned_students)])
    for col, width in zip("ABCDEF", (12, 20, 8, 6, 10, 10)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A6"
    basis = wb.create_sheet("测算依据")
    basis.append([title + "：测算依据"])
    basis["A1"].font = Font(bold=True, size=14)
    basis.append(list(BASIS_HEADERS.values()))
    for r in plan.itertuples():
        basis.append([r.school_id, r.name, policy.LEVEL_NAMES_ZH.get(r.level, r.level), int(r.grade),
                      int(r.demand), int(r.seats), int(r.seat_classes), int(r.planned_classes),
                      int(r.planned_students), int(r.shortfall), r.destination])
    basis.append([])
    basis.append(["片区预计新生按 zoning project 的台账（同一预测）；九年一贯制学校的全校可招学位由一、七年级共用。"])
    basis.append([SIGN_OFF])
    for col, width in zip("ABCDEFGHIJK", (12, 20, 10, 6, 12, 12, 12, 10, 10, 10, 50)):
        basis.column_dimensions[col].width = width
    return wb
