"""The pipeline and the report of ``zoning indicators`` (优质均衡 indicators, SPEC §5.3 and §5.4).

The maths lives in :mod:`zoning.indicators` (plain tables). This module reads the data folder
(:func:`geodata.dataset.load_dataset`) and a proposal folder (through the one reader,
:mod:`geodata.proposal`), takes the ledger of the current zones from the same code as
``zoning project`` (:func:`pipelines.project.run_project`) and writes the report: a page from the
template ``pipelines/templates/indicators_report.html`` and the tables through
:mod:`geodata.tabular`, in one folder written atomically by :func:`geodata.outputs.proposal_folder`.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geodata import proposal
from geodata.dataset import load_dataset
from geodata.outputs import proposal_folder
from geodata.tabular import write_xlsx
from pipelines.inputs import reconciliation
from pipelines.project import project_zones
from pipelines.render import render_page
from zoning import policy
from zoning.errors import DataError, Problem
from zoning.indicators import (INDICATOR_KEYS, base_enrollment, check_indicator_data, county_coefficients,
                               plan_items, proposal_indicators, school_indicators, short_number, to_number)
from zoning.scenario import Scenario, load_scenario

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# the report (HTML + XLSX), written atomically


def _unit(k: str) -> str:
    return policy.INDICATORS[k][2]


def display_table(ind: pd.DataFrame) -> pd.DataFrame:
    """The per-school table with Chinese headers (for XLSX and HTML)."""
    out = pd.DataFrame()
    out["学校代码"] = ind["school_id"]
    out["学校名称"] = ind["name"]
    out["学段"] = ind["level"].map(policy.LEVEL_NAMES_ZH).fillna(ind["level"])
    if "year" in ind.columns:
        out["年份"] = ind["year"]
    out["在校生"] = ind["students"]
    out["班级数"] = ind["classes"]
    for k in INDICATOR_KEYS:
        name = policy.INDICATOR_NAMES[k]
        out[f"{name}（{_unit(k)}）"] = ind[f"{k}_value"].round(2)
        out[f"{name}标准"] = ind[f"{k}_threshold"].round(2)
        out[f"{name}达标"] = np.where(ind[f"{k}_met"], "是", "否")
    out["达标项数"] = ind["n_met"]
    out["达到“6 项达标、其余≥85%”"] = np.where(ind["passes"], "是", "否")
    out["音乐教室（有/需）"] = [f"{_int_or_dash(a)}/{b}" for a, b in zip(ind["music_rooms"], ind["music_rooms_needed"])]
    out["美术教室（有/需）"] = [f"{_int_or_dash(a)}/{b}" for a, b in zip(ind["art_rooms"], ind["art_rooms_needed"])]
    out["功能教室足够"] = np.where(ind["rooms_ok"], "是", "否")
    out["改进建议"] = ind["fix"]
    return out


def _int_or_dash(x) -> str:
    x = to_number(x)
    return "—" if np.isnan(x) else str(int(x))


def display_coefficients(coef: pd.DataFrame) -> pd.DataFrame:
    """The coefficient table with Chinese headers."""
    out = pd.DataFrame()
    out["学段"] = coef["level"].map(policy.LEVEL_NAMES_ZH)
    if "year" in coef.columns:
        out["年份"] = coef["year"]
    out["指标"] = coef["indicator_name"]
    out["差异系数"] = coef["cv"].round(3)
    out["上限"] = coef["limit"]
    out["是否达标"] = [("—" if pd.isna(v) else ("是" if v else "否")) for v in coef["ok"]]
    out["学校数"] = coef["n_schools"]
    out["学生数"] = coef["students"]
    return out


def display_items(items: pd.DataFrame) -> pd.DataFrame:
    """The SPEC §5.4 items with Chinese headers."""
    out = pd.DataFrame()
    out["项目"] = items["item"]
    out["范围"] = items["scope"]
    out["年份"] = [("" if pd.isna(y) else int(y)) for y in items["year"]]
    out["数值"] = items["value"]
    out["标准"] = items["standard"]
    out["是否达标"] = [("—" if pd.isna(v) else ("是" if v else "否")) for v in items["ok"]]
    out["说明"] = items["note"]
    return out


def _text(x) -> str:
    """A value as the page shows it: "—" for a missing value."""
    if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA:
        return "—"
    return str(x)


def _cell(text, cls: str = "") -> dict:
    """One cell of a page table (see pipelines/templates/_tables.html)."""
    return {"text": _text(text), "cls": cls}


def _page_table(df: pd.DataFrame, bad_cols=(), text_cols=()) -> dict:
    """A display table as a page table: "否" in ``bad_cols`` red, ``text_cols`` left-aligned."""
    rows = []
    for _, r in df.iterrows():
        cells = []
        for c in df.columns:
            v = r[c]
            cls = []
            if c in text_cols:
                cls.append("t")
            if c in bad_cols and v in ("否",):
                cls.append("bad")
            if isinstance(v, float) and not np.isnan(v):
                v = f"{v:,.3f}".rstrip("0").rstrip(".")
            cells.append(_cell(v, " ".join(cls)))
        rows.append({"cls": "", "cells": cells})
    return {"head": [_text(c) for c in df.columns], "rows": rows}


def write_indicator_report(out_dir, indicators: pd.DataFrame, coefficients: pd.DataFrame,
                           items: pd.DataFrame, *, source: str = "", is_sample: bool = False,
                           basis: str = "", skipped: list[str] | None = None,
                           reconciliation_lines: list[str] | None = None) -> Path:
    """Write ``indicators.html``, ``indicators.xlsx``, ``indicators.csv`` and ``coefficients.csv``.

    The folder is written under a temporary name and renamed when complete. The page is the
    template ``pipelines/templates/indicators_report.html`` (every value from the data an escaped
    variable); the tables go through :mod:`geodata.tabular` (formula-like cells inert, the same
    bytes for the same input); ``indicators.csv`` and ``coefficients.csv`` are written by
    :mod:`geodata.proposal`, the same schema as a proposal's.

    Parameters
    ----------
    out_dir : path
        The report folder (replaced when it exists).
    indicators, coefficients, items : DataFrame
        From :func:`school_indicators` / :func:`proposal_indicators`,
        :func:`county_coefficients` and :func:`plan_items`.
    source : str
        The data folder (or "sample") and proposal shown in the header.
    is_sample : bool
        Adds the notice that the data are made up.
    basis : str
        Chinese: where the enrollment comes from (基准年数据 / 方案台账).
    skipped : list of str
        Names of schools skipped (no students).
    reconciliation_lines : list of str
        Pupils read -> modelled per level (:meth:`zoning.reconcile.Reconciliation.lines`), shown in
        the 说明 sheet and on the page.

    Returns
    -------
    Path
        The report folder.
    """
    out_dir = Path(out_dir)
    disp = display_table(indicators)
    dcoef = display_coefficients(coefficients)
    ditems = display_items(items)
    sheets = {"学校指标": disp, "差异系数": dcoef, "其他督导项目": ditems,
              "说明": pd.DataFrame({"说明": _method_notes(is_sample, basis, source, skipped)
                                  + [f"人数核对：{line}" for line in reconciliation_lines or []]})}
    page = _report_html(indicators, coefficients, ditems, source, is_sample, basis, skipped,
                        reconciliation_lines or [])
    with proposal_folder(out_dir) as tmp:
        proposal.write_indicators(tmp, indicators)
        proposal.write_coefficients(tmp, coefficients)
        write_xlsx(tmp / "indicators.xlsx", sheets)
        (tmp / "indicators.html").write_text(page, encoding="utf-8")
    log.info("指标报告已写入 %s", out_dir)
    return out_dir


def _method_notes(is_sample, basis, source, skipped) -> list[str]:
    notes = []
    if is_sample:
        notes.append("本报告使用内置示例数据，数据纯属虚构，仅用于演示。")
    if source:
        notes.append(f"数据来源：{source}")
    if basis:
        notes.append(f"在校生口径：{basis}")
    notes += [
        "指标与标准依据《县域义务教育优质均衡发展督导评估办法》（教督〔2017〕6号）。",
        "每所学校七项资源配置指标至少 6 项达到标准，其余一项不低于标准的 85%。",
        "九年一贯制学校的标准按小学、初中在校生人数加权；差异系数计算时分别计入小学（按小学在校生加权）和初中（按初中在校生加权）。",
        "差异系数按在校生人数加权：小学不高于 0.50，初中不高于 0.45。",
        "音乐教室、美术教室：每 12 个班各至少 1 间（不足 12 个班按 12 个班计）。",
        "在校生为 0 的学校（尚未招生或已撤并）不参加计算。",
    ]
    if skipped:
        notes.append("未参加计算的学校：" + "、".join(skipped))
    return notes


def _school_matrix(ind: pd.DataFrame) -> dict:
    """Compact per-school table: one column per indicator, cells below the standard in red."""
    has_year = "year" in ind.columns
    head: list = ["学校名称", "学段"] + (["年份"] if has_year else []) + ["在校生", "班级数"]
    head += [[f"{policy.INDICATOR_NAMES[k]}（{_unit(k)}）",
              f"小学≥{short_number(policy.INDICATORS[k][0])}，初中≥{short_number(policy.INDICATORS[k][1])}"]
             for k in INDICATOR_KEYS]
    head += ["达标项数", "6 项达标、其余≥85%", "音乐教室（有/需）", "美术教室（有/需）"]
    rows = []
    for _, r in ind.iterrows():
        cells = [_cell(r["name"], "t"), _cell(policy.LEVEL_NAMES_ZH.get(r["level"], r["level"]), "t")]
        if has_year:
            cells.append(_cell(r["year"]))
        cells += [_cell(f"{int(r['students']):,}"), _cell(int(r["classes"]))]
        for k in INDICATOR_KEYS:
            v, t = r[f"{k}_value"], r[f"{k}_threshold"]
            if pd.isna(v):
                cells.append(_cell("缺少数据", "bad"))
            elif r[f"{k}_met"]:
                cells.append(_cell(short_number(v)))
            else:
                pct = math.floor(v / t * 1000) / 10
                cells.append(_cell(f"{short_number(v)}（标准 {short_number(t)}，{pct:.1f}%）", "bad"))
        cells.append(_cell(int(r["n_met"])))
        cells.append(_cell("是") if r["passes"] else _cell("否", "bad"))
        for col in ("music_rooms", "art_rooms"):
            have, need = _int_or_dash(r[col]), int(r[f"{col}_needed"])
            short = have == "—" or int(have) < need
            cells.append(_cell(f"{have}/{need}", "bad" if short else ""))
        rows.append({"cls": "", "cells": cells})
    return {"head": head, "rows": rows}


def _coefficient_matrix(coef: pd.DataFrame) -> dict:
    """Rows: level and indicator; columns: years; cells: the CV, red above the limit."""
    years = sorted(coef["year"].unique()) if "year" in coef.columns else [None]
    head = ["学段", "指标", "上限"] + [_text(y) if y is not None else "差异系数" for y in years]
    rows = []
    for level in policy.LEVELS:
        for k in INDICATOR_KEYS:
            sub = coef[(coef["level"] == level) & (coef["indicator"] == k)]
            if sub.empty:
                continue
            cells = [_cell(policy.LEVEL_NAMES_ZH[level], "t"), _cell(policy.INDICATOR_NAMES[k], "t"),
                     _cell(f"{policy.DIFFERENCE_COEFFICIENT_MAX[level]:.2f}")]
            for y in years:
                r = sub if y is None else sub[sub["year"] == y]
                if r.empty or pd.isna(r["cv"].iloc[0]):
                    cells.append(_cell("—"))
                    continue
                cv, ok = float(r["cv"].iloc[0]), r["ok"].iloc[0]
                bad = ok is False or (not pd.isna(ok) and not ok)
                cells.append(_cell(f"{cv:.3f}", "bad" if bad else ""))
            rows.append({"cls": "", "cells": cells})
    return {"head": head, "rows": rows}


def _summary_table(ind: pd.DataFrame) -> pd.DataFrame:
    """Schools meeting the standard, per year."""
    if ind.empty:
        years = []
    else:
        years = sorted(ind["year"].unique()) if "year" in ind.columns else [None]
    summary = []
    for y in years:
        g = ind if y is None else ind[ind["year"] == y]
        summary.append({
            **({"年份": int(y)} if y is not None else {}),
            "参评学校": len(g),
            "达到“6 项达标、其余≥85%”": int(g["passes"].sum()),
            "未达到": int((~g["passes"]).sum()),
            "功能教室不足": int((~g["rooms_ok"]).sum()),
            "有单项未达标的学校": int((g["n_met"] < len(INDICATOR_KEYS)).sum()),
        })
    return pd.DataFrame(summary)


def _improve_table(ind: pd.DataFrame) -> dict:
    """The schools with a fix to make."""
    need = ind[ind["fix"].astype(str) != ""]
    rows = pd.DataFrame({
        **({"年份": need["year"]} if "year" in need.columns else {}),
        "学校名称": need["name"],
        "达标项数": need["n_met"],
        "是否达到要求": np.where(need["passes"], "是", "否"),
        "功能教室足够": np.where(need["rooms_ok"], "是", "否"),
        "改进建议": need["fix"],
    })
    return _page_table(rows, bad_cols=("是否达到要求", "功能教室足够"), text_cols=("学校名称", "改进建议"))


def _report_html(ind, coef, ditems, source, is_sample, basis, skipped, reconciled=()) -> str:
    """The page (pipelines/templates/indicators_report.html); data only as escaped variables."""
    return render_page(
        "indicators_report.html", is_sample=is_sample, source=source, basis=basis,
        summary=_page_table(_summary_table(ind)), improve=_improve_table(ind),
        coefficients=_coefficient_matrix(coef), schools=_school_matrix(ind),
        items=_page_table(ditems, bad_cols=("是否达标",), text_cols=("项目", "范围", "说明")),
        notes=_method_notes(False, "", "", skipped), reconciliation=list(reconciled))


# --------------------------------------------------------------------------------------------
# the pipeline of ``zoning indicators``


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """A plain DataFrame copy (drops a geometry column if present)."""
    cols = [c for c in df.columns if c != "geometry"]
    return pd.DataFrame(df[cols]).copy()


@dataclass
class IndicatorOutcome:
    """What ``zoning indicators`` wrote and the pupils' accounts it states."""

    folder: Path
    reconciliation: list[str] = field(default_factory=list)


def run_indicators(data_dir=None, zones=None, year: int | None = None, out=None, coords=None,
                   mapping=None) -> Path:
    """Compute the indicators of the base data or of a proposal and write the report (the folder);
    see :func:`indicators_report`."""
    return indicators_report(data_dir, zones, year, out, coords, mapping).folder


def indicators_report(data_dir=None, zones=None, year: int | None = None, out=None, coords=None,
                      mapping=None) -> IndicatorOutcome:
    """Compute the indicators of the base data or of a proposal and write the report.

    Parameters
    ----------
    data_dir : path, optional
        The data folder with the schools' resource columns; the proposal's source (``run.json``)
        or the bundled sample when not given.
    zones : path, optional
        A proposal folder; the enrollment is then read from its ``ledger.csv``.
    year : int, optional
        With ``zones``: the ledger year (all years when not given). Without: the base year by
        default; another year takes the ledger of the current zones from
        :func:`pipelines.project.project_zones` (the code of ``zoning project``).
    out : path, optional
        The report folder; ``indicators_<year or "all">`` in the current folder by default.
    coords, mapping
        Passed to :func:`geodata.dataset.load_dataset`.

    Returns
    -------
    IndicatorOutcome
        The report folder and the reconciliation (pupils read -> modelled per level), which the
        report's 说明 sheet and page state too.
    """
    run = proposal.read_run(Path(zones)) if zones is not None else None
    if zones is not None:
        zones = Path(zones)
        if data_dir is None:
            data_dir = _proposal_source(run, zones)
    ds = load_dataset(data_dir, coords=coords, mapping=mapping)
    schools = _plain(ds.schools)
    schools_file = ds.files.get("schools").name if ds.files.get("schools") else "schools"
    problems = check_indicator_data(schools, schools_file)
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    for p in problems:
        log.warning("%s: %s", p.file, p.problem)
    base_year = _base_year(ds, run)
    source = "内置示例数据" if ds.is_sample else str(ds.source)
    # one projection (the code of ``zoning project``): its base year is what the accounts compare
    projected = project_zones(data_dir, zones, None, coords, mapping)
    accounts = reconciliation(projected.loaded, projected.ledger).lines()
    if zones is not None:
        ledger = proposal.read_ledger(zones)
        lp = _check_ledger(ledger, set(schools["school_id"].astype(str)), year)
        if lp:
            raise DataError(lp)
        ind = proposal_indicators(schools, ledger, None if year is None else [year])
        basis = f"方案 {zones.name} 的台账（ledger.csv）" + (f"，{year} 年" if year else "，各年")
        source = f"{source}；方案：{zones}"
    elif year is None or year == base_year:
        ind = school_indicators(schools, base_enrollment(schools))
        ind.insert(3, "year", base_year)
        basis = f"基准年（{base_year} 年）学校表中的在校生与班级数"
    else:
        ind, basis = _current_zones_year(projected.ledger, schools, year)
    coef = county_coefficients(ind)
    items = plan_items(schools, ind)
    counted = set(ind["school_id"])
    skipped = [str(n) for sid, n in zip(schools["school_id"].astype(str), schools["name"]) if sid not in counted]
    if out is None:
        out = Path(f"indicators_{year if year is not None else ('all' if zones is not None else base_year)}")
    folder = write_indicator_report(out, ind, coef, items, source=source, is_sample=ds.is_sample,
                                    basis=basis, skipped=skipped, reconciliation_lines=accounts)
    return IndicatorOutcome(folder, accounts)


def _current_zones_year(ledger, schools, year):
    """The indicators of ``year`` on the ledger of the current zones, as ``zoning project`` computes it."""
    years = sorted(set(pd.to_numeric(ledger["year"]).astype(int)))
    if int(year) not in years:
        raise DataError([Problem("scenario.toml", None, None, "year", f"预测台账中没有 {year} 年",
                                 f"--year 应为 {years[0]}–{years[-1]} 之间的年份" if years else "检查情景的 horizon 设置")])
    ind = proposal_indicators(schools, ledger, [year])
    return ind, f"维持现状片区的预测台账，{year} 年"


def _proposal_source(run: dict, zones: Path):
    """The data folder a proposal records (None for the bundled sample)."""
    src = run.get("source")
    if not src or src == "sample":
        return None
    if Path(src).is_dir():
        return Path(src)
    raise DataError([Problem(
        "run.json", None, None, "source", f"方案记录的数据文件夹 {src} 不存在",
        f"在命令中给出数据文件夹，例如：zoning indicators 数据文件夹 --zones {zones}",
    )])


def _base_year(ds, run: dict | None) -> int:
    """The base year: the proposal's (``run.json``), else the data folder's scenario, else the default."""
    recorded = (run or {}).get("scenario") or {}
    if "base_year" in recorded:
        return int(recorded["base_year"])
    path = getattr(ds, "scenario_path", None)
    if path:
        return load_scenario(path).base_year
    return Scenario().base_year


def _check_ledger(ledger: pd.DataFrame, school_ids: set[str], year) -> list[Problem]:
    """The ledger's schools against the data folder's, and the asked year against the ledger's
    (its columns and rows are checked by :func:`geodata.proposal.read_ledger`)."""
    problems = []
    seen = set()
    for pos, sid in enumerate(ledger["school_id"].astype(str), start=1):
        if sid not in school_ids and sid not in seen:
            seen.add(sid)
            problems.append(Problem("ledger.csv", pos, sid, "school_id",
                                    f"台账中的学校 {sid} 不在数据文件夹的学校表中",
                                    "确认方案与数据文件夹对应（用方案生成时的数据文件夹）"))
    if year is not None and int(year) not in set(pd.to_numeric(ledger["year"]).astype(int)):
        yrs = sorted(set(pd.to_numeric(ledger["year"]).astype(int)))
        problems.append(Problem("ledger.csv", None, None, "year", f"台账中没有 {year} 年",
                                f"--year 应为 {yrs[0]}–{yrs[-1]} 之间的年份" if yrs else "台账为空"))
    return problems
