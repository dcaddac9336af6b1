"""``zoning warn``: school-place warnings (学位预警) from the projection behind ``zoning project``.

For each admitting school, level and year (a nine-year school has a primary and a junior row): the
zone's expected intake for the level's start grade (demand), the
seats the ledger offers (``intake_seats``), their ratio and 红/黄/绿 by the thresholds of
``scenario.toml [warnings]`` (:mod:`zoning.warnings`). Written atomically into one folder:

``warnings.csv``
    the contract's columns (school_id, name, level, year, demand, seats, ratio, warning, reason,
    suggestion) for the zones asked for: the proposal's with ``--zones``, else the current zones'.
``warnings.xlsx``
    the same in Chinese; with ``--zones`` a second sheet sets the current zones and the proposal
    side by side.
``warnings.html``
    the report (template ``warn.html``, every data string an escaped variable).

No household, child or per-unit count is written: demand and seats are school totals.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geodata.outputs import proposal_folder
from geodata.sample import SAMPLE_NOTICE
from geodata.tabular import write_csv, write_xlsx
from pipelines.project import Projected, project_zones
from pipelines.render import render_page
from zoning import policy
from zoning.warnings import GREEN, RED, YELLOW, class_limits_of, neighbours_by_distance, warnings_table

log = logging.getLogger(__name__)

#: warnings.csv column -> Chinese header (XLSX and page)
HEADERS_ZH = {"school_id": "学校代码", "name": "学校名称", "level": "学段", "year": "年份",
              "demand": "片区预计新生（起始年级）", "seats": "可招学位", "ratio": "需求/学位",
              "warning": "预警", "reason": "原因", "suggestion": "建议"}
CELL_CLASS = {RED: "red", YELLOW: "yellow", GREEN: "green"}


@dataclass
class WarnOutcome:
    table: pd.DataFrame            # warnings.csv rows (the zones asked for)
    current: pd.DataFrame | None   # the current zones' rows when a proposal was given
    out_dir: Path
    is_sample: bool

    def counts(self, table: pd.DataFrame | None = None) -> dict:
        t = self.table if table is None else table
        return {w: int((t["warning"] == w).sum()) for w in (RED, YELLOW, GREEN)}


def parse_years(text: str) -> list[int]:
    """``2023-2025`` -> [2023, 2024, 2025]; ``2023,2025`` and ``2023`` too (ValueError otherwise)."""
    years: list[int] = []
    for part in str(text).replace("，", ",").replace("–", "-").split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = (int(x) for x in part.split("-", 1))
            if b < a:
                raise ValueError(part)
            years += list(range(a, b + 1))
        else:
            years.append(int(part))
    if not years:
        raise ValueError(text)
    return sorted(set(years))


def _warnings_of(ledger: pd.DataFrame, projected: Projected, years) -> pd.DataFrame:
    problem, scenario = projected.loaded.problem, projected.loaded.scenario
    near = neighbours_by_distance(problem.school_ids, problem.school_xy)
    return warnings_table(ledger, years, scenario.warnings.red, scenario.warnings.yellow, near,
                          class_limits_of(problem.school_ids, problem.class_limit))


def _display(table: pd.DataFrame) -> pd.DataFrame:
    """Chinese headers and values (levels in Chinese, ratios as percentages)."""
    out = table.copy()
    out["level"] = out["level"].map(policy.LEVEL_NAMES_ZH).fillna(out["level"])
    out["ratio"] = [("" if pd.isna(r) else f"{r * 100:.1f}%") for r in out["ratio"]]
    return out.rename(columns=HEADERS_ZH)[list(HEADERS_ZH.values())]


def side_by_side(current: pd.DataFrame, proposal: pd.DataFrame) -> pd.DataFrame:
    """One row per school and year: the current zones' demand, seats, ratio, warning next to the
    proposal's."""
    keys = ["school_id", "name", "level", "year"]
    cols = ["demand", "seats", "ratio", "warning"]
    m = current[keys + cols].merge(proposal[keys + cols], on=keys, how="outer", suffixes=("_current", "_proposal"))
    return m.sort_values(["year", "school_id"], kind="stable").reset_index(drop=True)


SIDE_HEADERS = {"school_id": "学校代码", "name": "学校名称", "level": "学段", "year": "年份",
                "demand_current": "现行片区：预计新生", "seats_current": "现行片区：可招学位",
                "ratio_current": "现行片区：需求/学位", "warning_current": "现行片区：预警",
                "demand_proposal": "方案：预计新生", "seats_proposal": "方案：可招学位",
                "ratio_proposal": "方案：需求/学位", "warning_proposal": "方案：预警"}


def _side_display(side: pd.DataFrame) -> pd.DataFrame:
    out = side.copy()
    out["level"] = out["level"].map(policy.LEVEL_NAMES_ZH).fillna(out["level"])
    for c in ("ratio_current", "ratio_proposal"):
        out[c] = [("" if pd.isna(r) else f"{r * 100:.1f}%") for r in out[c]]
    for c in ("demand_current", "seats_current", "demand_proposal", "seats_proposal"):
        out[c] = [("" if pd.isna(v) else int(v)) for v in out[c]]
    out = out.fillna("")
    return out.rename(columns=SIDE_HEADERS)[list(SIDE_HEADERS.values())]


def _page_table(display: pd.DataFrame) -> dict:
    """A display table as the template's table; warning cells coloured."""
    warn_cols = {i for i, h in enumerate(display.columns) if str(h).endswith("预警")}
    return {"head": [str(c) for c in display.columns],
            "rows": [{"cls": "", "cells": [{"text": str(v), "cls": CELL_CLASS.get(v, "") if i in warn_cols else ""}
                                           for i, v in enumerate(row)]}
                     for row in display.itertuples(index=False)]}


RULES_ZH = [
    "片区预计新生：按片区（现行片区或方案片区）预测的当年起始年级新生人数（小学为一年级，初中为七年级），与 zoning project 的台账同一算法。",
    "九年一贯制学校按学段各列一行：小学一年级的需求对照一年级可招学位，初中七年级的需求对照七年级可招学位；"
    "一个学段的可招学位是另一学段当年新生按班额开班占用教室和校额余量之后余下的学位。",
    "可招学位：留在本校的各年级占用教室之后，空余教室按班额开班可招的人数，且不超过校额（学位数）余量（台账的“可招新生学位”）。",
    "需求/学位达到红色阈值为红色预警，达到黄色阈值为黄色预警，其余为绿色（阈值在 scenario.toml 的 [warnings] 中设置）。",
    "建议中的“有余位的学校”按与本校的直线距离由近及远列出同学段、当年仍有空余学位的学校。",
]


def _summary(outcome: WarnOutcome, projected: Projected, years, source: str) -> list[tuple[str, str]]:
    sc = projected.loaded.scenario
    rows = [("数据来源", source),
            ("片区", f"方案 {projected.zones_dir.name}" if projected.zones_dir else "现行片区"),
            ("年份", f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])),
            ("预警阈值", f"红色 ≥ {sc.warnings.red:.0%}，黄色 ≥ {sc.warnings.yellow:.0%}")]
    for year in years:
        t = outcome.table[outcome.table["year"] == year]
        c = outcome.counts(t)
        line = f"红 {c[RED]} 所、黄 {c[YELLOW]} 所、绿 {c[GREEN]} 所"
        reds = "、".join(t.loc[t["warning"] == RED, "name"])
        if outcome.current is not None:
            cur = outcome.current[outcome.current["year"] == year]
            line = f"方案：{line}；现行片区：红 {int((cur['warning'] == RED).sum())} 所"
        rows.append((f"{year} 年", line + (f"（红色：{reds}）" if reds else "")))
    return rows


def run_warn(data_dir=None, zones_dir=None, years=None, out_dir=None, scenario_path=None, coords=None,
             mapping=None) -> WarnOutcome:
    """``zoning warn``: warnings for ``years`` (default: every projected year), written to ``out_dir``.

    A proposal made from other data (input hashes differ) or a year outside the projection is
    refused (exit code 2) before anything is written.
    """
    projected = project_zones(data_dir, zones_dir, scenario_path, coords, mapping, same_inputs=True)
    years = list(years) if years else projected.years
    projected.check_years(years)
    table = _warnings_of(projected.ledger, projected, years)
    current = _warnings_of(projected.current_ledger(), projected, years) if zones_dir is not None else None
    dataset = projected.loaded.dataset
    is_sample = bool(getattr(dataset, "is_sample", False))
    outcome = WarnOutcome(table, current, Path(out_dir or "warnings_report"), is_sample)
    source = "内置示例数据" if is_sample else str(dataset.source)
    _write(outcome, projected, years, source)
    return outcome


def _write(outcome: WarnOutcome, projected: Projected, years, source: str) -> None:
    title = f"学位预警 {years[0]}–{years[-1]} 年" if len(years) > 1 else f"学位预警 {years[0]} 年"
    if outcome.is_sample:
        title += "（示例数据）"
    summary = _summary(outcome, projected, years, source)
    sheets = {"学位预警": _display(outcome.table)}
    sections = []
    if outcome.current is not None:
        side = _side_display(side_by_side(outcome.current, outcome.table))
        sheets["现行片区与方案对照"] = side
        sections.append({"heading": "现行片区与方案对照", "table": _page_table(side)})
    sections.append({"heading": "各校学位预警（" + ("方案片区" if outcome.current is not None else "现行片区") + "）",
                     "table": _page_table(sheets["学位预警"])})
    summary_frame = pd.DataFrame(summary, columns=["项目", "内容"])
    if outcome.is_sample:
        summary_frame.loc[len(summary_frame)] = ["数据说明", SAMPLE_NOTICE]
    page = render_page("warn.html", title=title, sample_note=SAMPLE_NOTICE if outcome.is_sample else "",
                       summary=summary, rules=RULES_ZH, sections=sections,
                       footer="本报告只含学校层面的合计人数，不含任何家庭、儿童或单元人数。")
    with proposal_folder(outcome.out_dir) as tmp:
        tmp = Path(tmp)
        write_csv(outcome.table, tmp / "warnings.csv")
        write_xlsx(tmp / "warnings.xlsx", {"汇总": summary_frame, **sheets},
                   widths={"学位预警": [10, 16, 10, 8, 14, 10, 10, 6, 60, 70]})
        (tmp / "warnings.html").write_text(page, encoding="utf-8")
        counts = {str(y): outcome.counts(outcome.table[outcome.table["year"] == y]) for y in years}
        (tmp / "summary.json").write_text(json.dumps({"years": list(map(int, years)), "counts": counts,
                                                      "is_sample": outcome.is_sample},
                                                     ensure_ascii=False, indent=2), encoding="utf-8")
