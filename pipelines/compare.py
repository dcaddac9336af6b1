"""The pipeline of ``zoning compare``: proposal folders in, a comparison folder out.

The proposal folders are read through the one reader (:mod:`geodata.proposal`); the table is built
on plain tables by :func:`zoning.compare.comparison_table`; the page is the template
``pipelines/templates/compare.html`` (data as escaped variables only), the tables go through
:mod:`geodata.tabular`, the map of the first two proposals is drawn by :mod:`maps.compare`, and
the folder is written atomically by :func:`geodata.outputs.proposal_folder`.
"""
from __future__ import annotations

import dataclasses
import io
import logging
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill

from geodata import proposal
from geodata.outputs import proposal_folder
from geodata.tabular import save_workbook, write_csv
from maps.compare import write_comparison_map
from pipelines.render import render_page
from zoning.compare import best_marks, comparison_table, display_frame, format_value, proposal_names
from zoning.errors import DataError, Problem

log = logging.getLogger(__name__)

def read_proposal(folder: Path, problems: list[Problem]) -> dict:
    """The tables of one proposal folder that the comparison uses, read by :mod:`geodata.proposal`.

    ``ledger.csv`` is required; ``metrics.json``, ``run.json``, ``indicators.csv`` and
    ``coefficients.csv`` are read when present (the optional readers give ``{}`` or an empty table
    when absent, which shows as "—"). Every reader's problems are added to ``problems`` (so that
    all are shown at once); a table that could not be read is left out.
    """
    folder = Path(folder)
    if not folder.is_dir():
        problems.append(Problem(str(folder), None, None, None, f"方案文件夹不存在：{folder}",
                                "指定由 zoning plan 生成的方案文件夹"))
        return {"dir": folder}
    tables: dict = {"dir": folder, "metrics": {}, "run": {}}
    for name, read in (("ledger", proposal.read_ledger), ("metrics", proposal.optional_metrics),
                       ("run", proposal.optional_run), ("indicators", proposal.optional_indicators),
                       ("coefficients", proposal.optional_coefficients)):
        _read_into(tables, name, read, folder, problems)
    return tables


def _read_into(tables: dict, name: str, read, folder: Path, problems: list[Problem]) -> None:
    """``tables[name] = read(folder)``; its problems, named with the folder, to ``problems``."""
    try:
        tables[name] = read(folder)
    except DataError as exc:
        problems.extend(_in_folder(p, folder) for p in exc.problems)


def _in_folder(problem: Problem, folder: Path) -> Problem:
    """The problem with its file named as ``<folder>/<file>`` (several proposals are read at once)."""
    if "/" in str(problem.file):
        return problem
    return dataclasses.replace(problem, file=f"{folder.name}/{problem.file}")


def read_proposals(dirs) -> list[dict]:
    """:func:`read_proposal` of every folder; the problems of all of them at once (DataError)."""
    problems: list[Problem] = []
    props = [read_proposal(d, problems) for d in dirs]
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    return props


def compare_proposals(dirs) -> pd.DataFrame:
    """One table comparing proposal folders, a column per proposal (:func:`zoning.compare.comparison_table`).

    Raises
    ------
    DataError
        When a folder or its ledger is missing or unreadable (every problem of every folder at once).
    """
    dirs = [Path(d) for d in dirs]
    return comparison_table(read_proposals(dirs), proposal_names(dirs), dirs)


def _page_rows(df: pd.DataFrame) -> list[dict]:
    """The comparison's rows as the template's rows: a group heading when the group changes, cells
    as text (best values with ★, text rows left-aligned)."""
    marks = best_marks(df)
    fmt = df.attrs.get("format", {})
    groups = df.attrs.get("group", {})
    rows, last_group = [], None
    for label in df.index:
        grp = groups.get(label, "")
        cells = [{"text": str(label), "cls": "t"}]
        for col in df.columns:
            t = format_value(df.at[label, col], fmt.get(label, "text"))
            cls = (["t"] if fmt.get(label) == "text" else []) + (["best"] if marks.at[label, col] else [])
            cells.append({"text": ("★ " + t) if marks.at[label, col] else t, "cls": " ".join(cls)})
        rows.append({"group": grp if grp != last_group else None, "cells": cells})
        last_group = grp
    return rows


def comparison_html(df: pd.DataFrame, map_file: str | None, notes: list[str]) -> str:
    """The comparison page (pipelines/templates/compare.html; every data value an escaped variable)."""
    dirs = df.attrs.get("dirs", [])
    return render_page(
        "compare.html", proposals=[{"name": str(n), "dir": str(d)} for n, d in zip(df.columns, dirs)],
        map_file=map_file or "", notes=list(notes), columns=[str(c) for c in df.columns],
        rows=_page_rows(df))


def write_comparison(dirs, out_dir) -> Path:
    """Compare proposal folders and write ``compare.html``, ``compare.xlsx``, ``compare.csv`` and
    ``compare_map.html`` (of the first two proposals; :mod:`maps.compare`).

    The folder is written under a temporary name and renamed when complete. The page is the
    template ``pipelines/templates/compare.html`` (data as escaped variables only); the tables go
    through :mod:`geodata.tabular` (formula-like cells inert, the same bytes for the same input).

    Returns
    -------
    Path
        The output folder.
    """
    dirs = [Path(d) for d in dirs]
    df = compare_proposals(dirs)
    out_dir = Path(out_dir)
    notes: list[str] = []
    disp = display_frame(df)
    with proposal_folder(out_dir) as tmp:
        map_file = _comparison_map(dirs, tmp, notes)
        write_csv(disp.reset_index(), tmp / "compare.csv")
        _write_xlsx(df, disp, tmp / "compare.xlsx", notes)
        (tmp / "compare.html").write_text(comparison_html(df, map_file, notes), encoding="utf-8")
    log.info("方案比较已写入 %s", out_dir)
    return out_dir


def _comparison_map(dirs, tmp: Path, notes: list[str]) -> str | None:
    if len(dirs) < 2:
        return None
    try:
        write_comparison_map(dirs[0], dirs[1], tmp / "compare_map.html")
    except Exception as exc:  # the table is still complete without the map
        log.warning("对比地图生成失败：%s", exc)
        notes.append(f"对比地图生成失败：{exc}")
        return None
    if len(dirs) > 2:
        notes.append(f"对比地图只比较前两个方案（{dirs[0].name} 与 {dirs[1].name}）。")
    return "compare_map.html" if (tmp / "compare_map.html").exists() else None


def _write_xlsx(df: pd.DataFrame, disp: pd.DataFrame, path: Path, notes: list[str]) -> None:
    """The comparison workbook: best values bold on green, then a sheet of notes.

    Saved by :func:`geodata.tabular.save_workbook` (formula-like cells inert, fixed metadata).
    """
    marks = best_marks(df)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        disp.to_excel(xw, sheet_name="方案比较")
        pd.DataFrame({"说明": notes + ["★ 加粗：该行最优的方案。"]}).to_excel(xw, sheet_name="说明", index=False)
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    ws = wb["方案比较"]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E3F4E3")
    for i, label in enumerate(df.index):
        for j, col in enumerate(df.columns):
            if marks.at[label, col]:
                cell = ws.cell(row=i + 2, column=j + 3)
                cell.font = bold
                cell.fill = fill
    ws.column_dimensions["A"].width = 44
    save_workbook(wb, path)
