"""Comparing proposals side by side (the table of ``zoning compare``), on plain tables.

Each proposal is given as its tables (``ledger`` required; ``metrics``, ``run``, ``indicators``,
``coefficients`` used when present); :func:`comparison_table` builds one table with a column per
proposal. Nothing here reads or writes a file: reading the proposal folders and writing the page,
the workbook and the comparison map is :mod:`pipelines.compare`. The best value of each row is marked; a row whose values are all equal, or that is text,
has no mark. Direction of each row (``df.attrs["better"]``): fewer schools over a limit, an earlier
first year within limits, smaller classes, fewer pupils moved, shorter trips, fewer indicator
failures and smaller difference coefficients are better; a larger share within the service radius
and a larger compactness are better (compactness as the optimizer reports it, higher = more
compact).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from zoning import policy

log = logging.getLogger(__name__)

STATUS_ZH = {"optimal": "最优解", "feasible": "可行解（未证明最优）", "infeasible": "无可行解",
             "edited": "手工调整（未重新求解）"}
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


def comparison_table(props: list[dict], names: list[str], dirs=()) -> pd.DataFrame:
    """One table comparing proposals, a column per proposal.

    Parameters
    ----------
    props : list of dict
        One per proposal: ``ledger`` (DataFrame with ``school_id`` and an integer ``year``,
        required), ``metrics`` and ``run`` (dicts, may be empty), ``indicators`` and
        ``coefficients`` (DataFrames, optional keys).
    names : list of str
        The column of each proposal (see :func:`proposal_names`).
    dirs : list, optional
        Where each proposal came from (kept in ``attrs["dirs"]``).

    Returns
    -------
    DataFrame
        Index ``项目`` (Chinese row labels), one column per proposal. Values are numbers, text,
        None ("never reached", in the first-year row) or "—" (no data). ``df.attrs`` holds
        ``better`` ({row: "lower" | "higher" | None}), ``format`` ({row: "int" | "m" | "pct" |
        "cv" | "year" | "text"}), ``group`` ({row: section}) and ``dirs``.
    """
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
