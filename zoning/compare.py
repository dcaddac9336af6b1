"""Comparing proposal folders side by side (``zoning compare``).

Reads only the files of finished proposal folders (``ledger.csv`` required; ``metrics.json``,
``indicators.csv``, ``coefficients.csv`` used when present) and builds one table with a column per
proposal. The best value of each row is marked; a row whose values are all equal, or that is text,
has no mark. Direction of each row (``df.attrs["better"]``): fewer schools over a limit, an earlier
first year within limits, smaller classes, fewer pupils moved, shorter trips, fewer indicator
failures and smaller difference coefficients are better; a larger share within the service radius
and a larger compactness are better (compactness as the optimizer reports it, higher = more
compact).
"""
from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill

from zoning.errors import DataError, Problem
from geodata.tabular import save_workbook, write_csv
from pipelines.render import render_page
from zoning import policy
from zoning.indicators import atomic_folder

log = logging.getLogger(__name__)

STATUS_ZH = {"optimal": "最优解", "feasible": "可行解（未证明最优）", "infeasible": "无可行解"}
NOT_REACHED = "未达到"
DASH = "—"


def _bool_series(s: pd.Series) -> pd.Series:
    if s.dtype == bool:
        return s
    return s.astype(str).str.strip().str.lower().isin(("true", "1", "yes", "是"))


def _truthy(v) -> bool:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    return str(v).strip().lower() in ("true", "1", "yes", "是")


def _flag(df: pd.DataFrame, col: str) -> pd.Series:
    """A boolean column of a table read from CSV (True when the column is absent)."""
    if col not in df.columns:
        return pd.Series(True, index=df.index)
    return _bool_series(df[col])


def _read_proposal(d: Path, problems: list[Problem]) -> dict | None:
    d = Path(d)
    if not d.is_dir():
        problems.append(Problem(str(d), None, None, None, f"方案文件夹不存在：{d}",
                                "指定由 zoning plan 生成的方案文件夹"))
        return None
    out: dict = {"dir": d}
    ledger_path = d / "ledger.csv"
    if not ledger_path.exists():
        problems.append(Problem(f"{d.name}/ledger.csv", None, None, None, "方案文件夹中没有 ledger.csv",
                                "用 zoning plan 重新生成该方案，或检查文件夹是否选错"))
    else:
        try:
            ledger = pd.read_csv(ledger_path, dtype={"school_id": str})
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            problems.append(Problem(f"{d.name}/ledger.csv", None, None, None, f"无法读取：{exc}",
                                    "用 zoning plan 重新生成该方案"))
            ledger = None
        if ledger is not None:
            missing = [c for c in ("school_id", "year") if c not in ledger.columns]
            for c in missing:
                problems.append(Problem(f"{d.name}/ledger.csv", None, None, c, f"缺少列 {c}",
                                        "用 zoning plan 重新生成该方案"))
            if not missing:
                ledger["year"] = pd.to_numeric(ledger["year"], errors="coerce")
                bad = ledger["year"].isna()
                for pos in np.flatnonzero(bad.to_numpy()):
                    problems.append(Problem(f"{d.name}/ledger.csv", int(pos) + 1, str(ledger["school_id"].iloc[pos]),
                                            "year", "年份不是整数", "填写四位数年份"))
                out["ledger"] = ledger[~bad].assign(year=lambda t: t["year"].astype(int))
    out["metrics"] = _read_json(d / "metrics.json", d, problems)
    out["run"] = _read_json(d / "run.json", d, problems)
    for name in ("indicators", "coefficients"):
        p = d / f"{name}.csv"
        if p.exists():
            try:
                out[name] = pd.read_csv(p, dtype={"school_id": str})
            except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
                problems.append(Problem(f"{d.name}/{name}.csv", None, None, None, f"无法读取：{exc}",
                                        "删除该文件或重新生成方案"))
    return out


def _read_json(p: Path, d: Path, problems: list[Problem]) -> dict:
    if not p.exists():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem(f"{d.name}/{p.name}", None, None, None, f"JSON 格式错误：{exc}",
                                "用 zoning plan 重新生成该方案"))
        return {}
    return data if isinstance(data, dict) else {}


def proposal_names(dirs) -> list[str]:
    """Column names for proposal folders: the folder name, made unique with its parent."""
    dirs = [Path(d) for d in dirs]
    base = [d.name or str(d) for d in dirs]
    names = [f"{d.parent.name}/{n}" if base.count(n) > 1 else n for d, n in zip(dirs, base)]
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if n in seen:
            seen[n] += 1
            names[i] = f"{n} ({seen[n]})"
        else:
            seen[n] = 1
    return names


def first_year_within_limits(ledger: pd.DataFrame):
    """The first ledger year from which no school is over any limit in any later year.

    Uses ``over_size_limit``, ``over_class_limit`` (and ``over_classrooms`` when present); falls
    back on the ledger's ``first_year_within_limits`` column. None when never reached.
    """
    flags = [c for c in ("over_size_limit", "over_class_limit", "over_classrooms") if c in ledger.columns]
    if flags:
        over = np.zeros(len(ledger), dtype=bool)
        for c in flags:
            over |= _bool_series(ledger[c]).to_numpy()
        years = sorted(ledger["year"].unique())
        bad_years = set(ledger.loc[over, "year"])
        if not bad_years:
            return int(years[0]) if years else None
        last_bad = max(bad_years)
        later = [y for y in years if y > last_bad]
        return int(later[0]) if later else None
    if "first_year_within_limits" in ledger.columns:
        v = pd.to_numeric(ledger["first_year_within_limits"], errors="coerce")
        return None if v.isna().any() or v.empty else int(v.max())
    return DASH


def compare_proposals(dirs) -> pd.DataFrame:
    """One table comparing proposal folders, a column per proposal.

    Parameters
    ----------
    dirs : list of Path
        Proposal folders (SPEC §3). ``ledger.csv`` is required; the other files are used when
        present, "—" otherwise.

    Returns
    -------
    DataFrame
        Index ``项目`` (Chinese row labels), one column per proposal (:func:`proposal_names`).
        Values are numbers, text, None ("never reached", in the first-year row) or "—" (no data).
        ``df.attrs`` holds ``better`` ({row: "lower" | "higher" | None}), ``format`` ({row:
        "int" | "m" | "pct" | "cv" | "year" | "text"}), ``group`` ({row: section}) and ``dirs``.

    Raises
    ------
    DataError
        When a folder or its ledger is missing or unreadable (every problem at once).
    """
    dirs = [Path(d) for d in dirs]
    problems: list[Problem] = []
    props = [_read_proposal(d, problems) for d in dirs]
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    names = proposal_names(dirs)
    rows: list[tuple[str, str, str | None, str, list]] = []  # group, label, better, fmt, values

    def add(group, label, better, fmt, values):
        rows.append((group, label, better, fmt, values))

    add("求解", "求解状态", None, "text",
        [STATUS_ZH.get(str(p["metrics"].get("status")), p["metrics"].get("status") or DASH) for p in props])
    years = sorted(set().union(*[set(p["ledger"]["year"]) for p in props]))
    base_years = {_base_year(p) for p in props}
    if len(base_years) == 1 and None not in base_years:
        # the base year is the same for every proposal: nothing to compare there
        years = [y for y in years if y > next(iter(base_years))] or years
    g = "校额与班额"
    for y in years:
        for col, label in (("over_size_limit", "超出校额的学校数"), ("over_class_limit", "有超班额班级的学校数"),
                           ("over_classrooms", "教室不足的学校数")):
            if not any(col in p["ledger"].columns for p in props):
                continue
            vals = []
            for p in props:
                led = p["ledger"]
                sub = led[led["year"] == y]
                vals.append(int(_bool_series(sub[col]).sum()) if col in led.columns and len(sub) else DASH)
            add(g, f"{label}（{y} 年）", "lower", "int", vals)
    add(g, "所有限额均满足的首个年份", "lower", "year", [first_year_within_limits(p["ledger"]) for p in props])
    if any("largest_class" in p["ledger"].columns for p in props):
        for y in years:
            vals = []
            for p in props:
                led = p["ledger"]
                sub = led[led["year"] == y]
                vals.append(int(pd.to_numeric(sub["largest_class"], errors="coerce").max())
                            if "largest_class" in led.columns and len(sub) and sub["largest_class"].notna().any() else DASH)
            add(g, f"最大班额（{y} 年）", "lower", "int", vals)
    g = "调整与距离"
    for key, label, fmt in (("students_moved", "调整片区的学生数", "int"), ("mean_distance_m", "平均上学距离（米）", "m"),
                            ("max_distance_m", "最远上学距离（米）", "m")):
        add(g, label, "lower", fmt, [_metric(p["metrics"].get(key)) for p in props])
    for lv in policy.LEVELS:
        radius = policy.SERVICE_RADIUS_M[lv]
        vals = []
        for p in props:
            share = p["metrics"].get("within_radius_share")
            vals.append(_metric(share.get(lv)) if isinstance(share, dict) else DASH)
        if lv == "primary" or any(v != DASH for v in vals):
            add(g, f"{policy.LEVEL_NAMES_ZH[lv]}生在服务半径（{radius} 米）内的比例", "higher", "pct", vals)
    comp = [p["metrics"].get("compactness") for p in props]
    if any(isinstance(c, dict) for c in comp):
        keys = sorted({k for c in comp if isinstance(c, dict) for k in c})
        for k in keys:
            add(g, f"片区紧凑度（{policy.LEVEL_NAMES_ZH.get(k, k)}）", "higher", "cv",
                [_metric(c.get(k)) if isinstance(c, dict) else DASH for c in comp])
    else:
        add(g, "片区紧凑度", "higher", "cv", [_metric(c) for c in comp])
    _indicator_rows(props, add, set(years))
    index = [r[1] for r in rows]
    df = pd.DataFrame([r[4] for r in rows], index=pd.Index(index, name="项目"), columns=names, dtype=object)
    df.attrs["better"] = {r[1]: r[2] for r in rows}
    df.attrs["format"] = {r[1]: r[3] for r in rows}
    df.attrs["group"] = {r[1]: r[0] for r in rows}
    df.attrs["dirs"] = [str(d) for d in dirs]
    return df


def _base_year(p: dict):
    for v in (p["metrics"].get("base_year"), (p["run"].get("scenario") or {}).get("base_year")):
        try:
            return int(v)
        except (TypeError, ValueError):
            continue
    return None


def _metric(v):
    if v is None:
        return DASH
    try:
        x = float(v)
    except (TypeError, ValueError):
        return DASH
    return DASH if np.isnan(x) else x


def _indicator_rows(props, add, keep_years: set) -> None:
    g = "优质均衡指标"
    if any("indicators" in p for p in props):
        years = sorted(set().union(*[set(p["indicators"]["year"]) for p in props
                                     if "indicators" in p and "year" in p["indicators"].columns]) & keep_years)
        for y in years:
            fails, below, rooms, names = [], [], [], []
            for p in props:
                ind = p.get("indicators")
                sub = ind[ind["year"] == y] if ind is not None and "year" in ind.columns else None
                if sub is None or sub.empty:
                    for lst in (fails, below, rooms, names):
                        lst.append(DASH)
                    continue
                fails.append(int((~_flag(sub, "passes")).sum()))
                rooms.append(int((~_flag(sub, "rooms_ok")).sum()))
                texts, n_below = [], 0
                for _, r in sub.iterrows():
                    short = [policy.INDICATOR_NAMES[k] for k in policy.INDICATORS
                             if f"{k}_met" in sub.columns and not _truthy(r[f"{k}_met"])]
                    n_below += bool(short)
                    if "rooms_ok" in sub.columns and not _truthy(r["rooms_ok"]):
                        short.append("音乐/美术教室")
                    if short:
                        mark = "" if _truthy(r.get("passes", True)) else "（未达要求）"
                        texts.append(f"{r.get('name', r['school_id'])}{mark}：" + "、".join(short))
                below.append(n_below)
                names.append("；".join(texts) or "无")
            add(g, f"未达到“6 项达标、其余≥85%”的学校数（{y} 年）", "lower", "int", fails)
            add(g, f"有单项指标低于标准的学校数（{y} 年）", "lower", "int", below)
            add(g, f"音乐、美术教室不足的学校数（{y} 年）", "lower", "int", rooms)
            add(g, f"低于标准的学校与项目（{y} 年）", None, "text", names)
    if any("coefficients" in p for p in props):
        co = [p.get("coefficients") for p in props]
        with_year = [c for c in co if c is not None and "year" in c.columns]
        years = sorted(set().union(*[set(c["year"]) for c in with_year]) & keep_years) if with_year else [None]
        for y in years:
            n_bad = []
            per_level = {lv: [] for lv in policy.LEVELS}
            for c in co:
                if c is None:
                    n_bad.append(DASH)
                    for lv in policy.LEVELS:
                        per_level[lv].append(DASH)
                    continue
                sub = c if y is None or "year" not in c.columns else c[c["year"] == y]
                if sub.empty:
                    n_bad.append(DASH)
                    for lv in policy.LEVELS:
                        per_level[lv].append(DASH)
                    continue
                ok = sub["ok"].astype(str).str.lower()
                n_bad.append(int((ok == "false").sum()))
                for lv in policy.LEVELS:
                    cv = pd.to_numeric(sub.loc[sub["level"] == lv, "cv"], errors="coerce")
                    per_level[lv].append(float(cv.max()) if cv.notna().any() else DASH)
            suffix = f"（{y} 年）" if y is not None else ""
            add(g, f"差异系数超限的项数{suffix}", "lower", "int", n_bad)
            for lv in policy.LEVELS:
                if any(v != DASH for v in per_level[lv]):
                    limit = policy.DIFFERENCE_COEFFICIENT_MAX[lv]
                    add(g, f"{policy.LEVEL_NAMES_ZH[lv]}最大差异系数（上限 {limit:.2f}）{suffix}", "lower", "cv",
                        per_level[lv])


def best_marks(df: pd.DataFrame) -> pd.DataFrame:
    """Boolean table: True where a value is the best of its row (ties all marked).

    Rows without a direction, with fewer than two comparable values, or whose comparable values
    are all equal get no mark. In the first-year row, "never reached" (None) is the worst.
    """
    marks = pd.DataFrame(False, index=df.index, columns=df.columns)
    better = df.attrs.get("better", {})
    fmt = df.attrs.get("format", {})
    for label in df.index:
        direction = better.get(label)
        if direction not in ("lower", "higher"):
            continue
        vals = {}
        for col in df.columns:
            v = df.at[label, col]
            if v is None and fmt.get(label) == "year":
                vals[col] = float("inf")
            elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and not np.isnan(v):
                vals[col] = float(v)
        if len(vals) < 2 or len(set(vals.values())) < 2:
            continue
        best = min(vals.values()) if direction == "lower" else max(vals.values())
        for col, v in vals.items():
            if v == best and np.isfinite(v):
                marks.at[label, col] = True
    return marks


def format_value(v, fmt: str) -> str:
    """A cell as text (Chinese)."""
    if v is None:
        return NOT_REACHED
    if isinstance(v, str):
        return v
    if fmt == "pct":
        return f"{float(v):.1%}"
    if fmt == "m":
        return f"{float(v):,.0f}"
    if fmt == "cv":
        return f"{float(v):.3f}"
    if fmt == "year":
        return str(int(v))
    if fmt == "int":
        return f"{int(v):,}"
    return str(v)


def display_frame(df: pd.DataFrame, star: bool = True) -> pd.DataFrame:
    """The comparison as text, best values prefixed with ★."""
    marks = best_marks(df)
    fmt = df.attrs.get("format", {})
    out = pd.DataFrame(index=df.index, columns=df.columns, dtype=object)
    for label in df.index:
        for col in df.columns:
            t = format_value(df.at[label, col], fmt.get(label, "text"))
            out.at[label, col] = ("★ " + t) if star and marks.at[label, col] else t
    out.insert(0, "分组", [df.attrs.get("group", {}).get(i, "") for i in df.index])
    return out


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
    with atomic_folder(out_dir) as tmp:
        map_file = _comparison_map(dirs, tmp, notes)
        write_csv(disp.reset_index(), tmp / "compare.csv")
        _write_xlsx(df, disp, tmp / "compare.xlsx", notes)
        (tmp / "compare.html").write_text(comparison_html(df, map_file, notes), encoding="utf-8")
    log.info("方案比较已写入 %s", out_dir)
    return out_dir


def _comparison_map(dirs, tmp: Path, notes: list[str]) -> str | None:
    if len(dirs) < 2:
        return None
    from maps.compare import write_comparison_map  # here: maps pulls in folium and geometry

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
