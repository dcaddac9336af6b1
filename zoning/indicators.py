"""优质均衡 resource indicators (SPEC §5.3) and the other plan items (SPEC §5.4).

Plain pandas: every function here takes and returns tables without geometry.

Method (documented choices)
---------------------------
* **Value per school**: the school's resource divided by its students (per student, or per 100
  students for the teacher and multimedia-classroom counts, see :data:`zoning.policy.PER_100`).
* **Met**: value ≥ threshold. **Passes** (the 6-of-7 rule): at least
  :data:`~zoning.policy.INDICATOR_MIN_MET` of the seven indicators are met and every indicator not
  met reaches :data:`~zoning.policy.INDICATOR_REST_SHARE` (85%) of its threshold. An indicator whose
  data are missing counts as not met and below 85% (the school cannot be shown to pass).
* **Nine-year schools** (九年一贯制): the threshold of each indicator is the enrollment-weighted mix of
  the primary and junior thresholds, ``t = (P_primary·t_primary + P_junior·t_junior) / P``. This is
  the same as asking the whole school's resource to cover each part at its own standard. When the
  split of students between the parts is unknown, six ninths are taken as primary.
* **Music and art rooms**: one music room and one art room per
  :data:`~zoning.policy.CLASSES_PER_ARTS_ROOM` classes or part of it (``ceil(classes / 12)`` each);
  checked separately from the seven indicators (column ``rooms_ok``).
* **Difference coefficient** (差异系数): enrollment-weighted CV of SPEC §5.3 per level and indicator.
  A nine-year school enters the primary coefficient with its primary pupils as weight and the junior
  coefficient with its junior pupils as weight, both times with its whole-school value.
* Schools with no students (not yet open, or closed) are skipped.

Optional columns for the SPEC §5.4 items (schools table; aliases belong in ``geodata.aliases``):

================================  ======================================================
``public_funds_budget_yuan``      公用经费预算（元/年）
``training_funds_yuan``           教师培训经费（元/年）; share ≥ 5% of the budget
``rotation_eligible_teachers``    符合交流轮岗条件的教师数
``rotated_teachers``              本年度交流轮岗教师数; ≥ 10% of the eligible, county-wide
``rotated_backbone_teachers``     其中县级及以上骨干教师数; ≥ 20% of those rotated
================================  ======================================================

Schools under 100 students are funded as 100 (``funded_students``); that item needs no column.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from zoning.errors import DataError, Problem
from geodata.tabular import write_csv, write_xlsx
from pipelines.render import render_page
from zoning import policy

log = logging.getLogger(__name__)

INDICATOR_KEYS = tuple(policy.INDICATORS)
ROOM_COLUMNS = ("music_rooms", "art_rooms")
RESOURCE_COLUMNS = INDICATOR_KEYS + ROOM_COLUMNS

#: SPEC §5.4 numbers (candidates for ``zoning.policy``).
SMALL_SCHOOL_FUNDED_AS = 100
TRAINING_SHARE_MIN = 0.05
ROTATION_SHARE_MIN = 0.10
ROTATION_BACKBONE_SHARE_MIN = 0.20
PLAN_ITEM_COLUMNS = (
    "public_funds_budget_yuan",
    "training_funds_yuan",
    "rotation_eligible_teachers",
    "rotated_teachers",
    "rotated_backbone_teachers",
)

#: Share of a nine-year school's pupils taken as primary when the split is unknown.
NINE_YEAR_PRIMARY_SHARE = 6 / 9

_UNIT_SHORT = {
    "teachers_above_degree": ("人", 1),
    "backbone_teachers": ("人", 1),
    "pe_art_teachers": ("人", 1),
    "teaching_area_m2": ("平方米", 1),
    "sports_area_m2": ("平方米", 1),
    "equipment_value_yuan": ("元", 1),
    "multimedia_classrooms": ("间", 1),
}
_RESOURCE_NAMES = {
    "teachers_above_degree": "高于规定学历教师",
    "backbone_teachers": "县级及以上骨干教师",
    "pe_art_teachers": "体育、艺术专任教师",
    "teaching_area_m2": "教学及辅助用房",
    "sports_area_m2": "体育运动场馆",
    "equipment_value_yuan": "教学仪器设备值",
    "multimedia_classrooms": "网络多媒体教室",
}
_EPS = 1e-9


# --------------------------------------------------------------------------------------------
# the difference coefficient


def difference_coefficient(values, weights) -> float:
    """Enrollment-weighted coefficient of variation (差异系数, SPEC §5.3).

    Parameters
    ----------
    values : array-like
        The indicator value ``X_i`` of each school.
    weights : array-like
        The students ``P_i`` of each school (non-negative).

    Returns
    -------
    float
        ``S / X̄`` with ``X̄ = Σ P_i X_i / P`` and ``S = sqrt(Σ (P_i / P)(X_i − X̄)²)``; NaN when
        there is no weight or the mean is 0. Pairs with a missing value are left out.

    Examples
    --------
    >>> round(difference_coefficient([6.2, 137 / 37, 935 / 89, 160 / 76, 402 / 55],
    ...                              [45, 37, 89, 76, 55]), 3)
    0.515
    """
    x = np.asarray(values, dtype=float)
    p = np.asarray(weights, dtype=float)
    if x.shape != p.shape:
        raise ValueError(f"values and weights differ in length: {x.shape} vs {p.shape}")
    keep = ~(np.isnan(x) | np.isnan(p))
    x, p = x[keep], p[keep]
    if (p < 0).any():
        raise ValueError("weights (students) must not be negative")
    total = p.sum()
    if total <= 0:
        return float("nan")
    mean = float((p * x).sum() / total)
    if mean == 0:
        return float("nan")
    s = math.sqrt(float((p / total * (x - mean) ** 2).sum()))
    return s / mean


# --------------------------------------------------------------------------------------------
# thresholds and per-school indicators


def thresholds_for(level: str, students_primary: float = 0, students_junior: float = 0) -> dict:
    """Threshold of each indicator for a school of ``level``.

    Nine-year schools get the enrollment-weighted mix of the primary and junior thresholds
    (six ninths primary when both counts are 0 or missing).
    """
    if level == "primary":
        return {k: v[0] for k, v in policy.INDICATORS.items()}
    if level == "junior":
        return {k: v[1] for k, v in policy.INDICATORS.items()}
    sp = 0.0 if students_primary is None or pd.isna(students_primary) else float(students_primary)
    sj = 0.0 if students_junior is None or pd.isna(students_junior) else float(students_junior)
    share = sp / (sp + sj) if sp + sj > 0 else NINE_YEAR_PRIMARY_SHARE
    return {k: share * v[0] + (1 - share) * v[1] for k, v in policy.INDICATORS.items()}


def rooms_needed(classes) -> int:
    """Music rooms (and, equally, art rooms) needed: one per 12 classes or part of it."""
    if classes is None or pd.isna(classes) or classes <= 0:
        return 0
    return int(math.ceil(float(classes) / policy.CLASSES_PER_ARTS_ROOM - _EPS))


def _num(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


def _fmt(x: float, digits: int = 0) -> str:
    if digits == 0:
        return f"{int(round(x)):,}"
    return f"{x:,.{digits}f}"


def _g(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _shortfall_text(key: str, raw: float, students: float, threshold: float) -> str:
    """Chinese text: how much of a resource is missing, or the enrollment that would meet it."""
    name = _RESOURCE_NAMES[key]
    per = 100.0 if key in policy.PER_100 else 1.0
    need = threshold * students / per - raw
    max_students = int(math.floor(raw * per / threshold + _EPS)) if threshold > 0 else 0
    if key == "equipment_value_yuan":
        amount = f"{math.ceil(need / 1000 - _EPS) / 10:,.1f} 万元"
        text = f"{name}还差 {amount}"
    else:
        unit, _ = _UNIT_SHORT[key]
        text = f"{name}还差 {_fmt(math.ceil(need - _EPS))} {unit}"
    return f"{text}（或在校生不超过 {max_students:,} 人）"


def _enrollment_split(row: pd.Series, level: str) -> tuple[float, float]:
    students = _num(row.get("students"))
    sp = _num(row.get("students_primary"))
    sj = _num(row.get("students_junior"))
    if level == "primary":
        return students, 0.0
    if level == "junior":
        return 0.0, students
    if np.isnan(sp) and np.isnan(sj):
        return students * NINE_YEAR_PRIMARY_SHARE, students * (1 - NINE_YEAR_PRIMARY_SHARE)
    sp = 0.0 if np.isnan(sp) else sp
    sj = 0.0 if np.isnan(sj) else sj
    if sp + sj > 0 and not np.isnan(students) and abs(sp + sj - students) > 0.5:
        # the split is taken as a share of the given total
        f = students / (sp + sj)
        sp, sj = sp * f, sj * f
    return sp, sj


def indicator_columns() -> list[str]:
    """The columns of :func:`school_indicators` (and of a proposal's ``indicators.csv``)."""
    cols = ["school_id", "name", "level", "students", "classes", "students_primary", "students_junior"]
    for k in INDICATOR_KEYS:
        cols += [f"{k}_value", f"{k}_threshold", f"{k}_ratio", f"{k}_met"]
    cols += [
        "n_met", "passes", "music_rooms", "music_rooms_needed", "art_rooms", "art_rooms_needed",
        "rooms_ok", "all_ok", "funded_students", "missing", "fix",
    ]
    return cols


def school_indicators(schools: pd.DataFrame, enrollment: pd.DataFrame) -> pd.DataFrame:
    """Each school's seven indicators on the given enrollment, the 6-of-7 rule and the rooms.

    Parameters
    ----------
    schools : DataFrame
        ``school_id, name, level`` and the resource columns (``teachers_above_degree``,
        ``backbone_teachers``, ``pe_art_teachers``, ``teaching_area_m2``, ``sports_area_m2``,
        ``equipment_value_yuan``, ``multimedia_classrooms``, ``music_rooms``, ``art_rooms``); a
        missing column or value makes that indicator "missing".
    enrollment : DataFrame
        ``school_id, students, classes`` and optionally ``students_primary, students_junior``
        (used for nine-year schools). Schools absent from it or with 0 students are skipped.

    Returns
    -------
    DataFrame
        One row per school with students, in the order of :func:`indicator_columns`:
        ``<key>_value`` (per student or per 100 students), ``<key>_threshold``, ``<key>_ratio``
        (value / threshold), ``<key>_met``, ``n_met``, ``passes`` (≥ 6 met, the rest ≥ 85%),
        ``music_rooms(_needed)``, ``art_rooms(_needed)``, ``rooms_ok``, ``all_ok``,
        ``funded_students`` (at least 100, SPEC §5.4), ``missing`` (names of missing data) and
        ``fix`` (Chinese: what would fix the school; empty when everything is met).
    """
    sch = schools.copy()
    sch["school_id"] = sch["school_id"].astype(str)
    enr = enrollment.copy()
    enr["school_id"] = enr["school_id"].astype(str)
    enr = enr.drop_duplicates("school_id", keep="last").set_index("school_id")
    rows = []
    for _, s in sch.iterrows():
        sid = s["school_id"]
        if sid not in enr.index:
            continue
        e = enr.loc[sid]
        students = _num(e.get("students"))
        if np.isnan(students) or students <= 0:
            continue
        classes = _num(e.get("classes"))
        level = str(s.get("level"))
        sp, sj = _enrollment_split(e, level)
        thr = thresholds_for(level, sp, sj)
        row = {
            "school_id": sid, "name": s.get("name", sid), "level": level,
            "students": int(round(students)), "classes": 0 if np.isnan(classes) else int(round(classes)),
            "students_primary": int(round(sp)), "students_junior": int(round(sj)),
        }
        missing, shortfalls, n_met, rest_ok = [], [], 0, True
        for k in INDICATOR_KEYS:
            raw = _num(s.get(k))
            per = 100.0 if k in policy.PER_100 else 1.0
            value = raw / students * per if not np.isnan(raw) else float("nan")
            ratio = value / thr[k] if not np.isnan(value) else float("nan")
            met = bool(not np.isnan(value) and value >= thr[k] - _EPS)
            row[f"{k}_value"] = value
            row[f"{k}_threshold"] = thr[k]
            row[f"{k}_ratio"] = ratio
            row[f"{k}_met"] = met
            if np.isnan(raw):
                missing.append(policy.INDICATOR_NAMES[k])
                rest_ok = False
            elif met:
                n_met += 1
            else:
                if ratio < policy.INDICATOR_REST_SHARE - _EPS:
                    rest_ok = False
                shortfalls.append(_shortfall_text(k, raw, students, thr[k]))
        passes = n_met >= policy.INDICATOR_MIN_MET and rest_ok
        room_texts, rooms_ok = [], True
        need = rooms_needed(classes)
        for col, label in (("music_rooms", "音乐教室"), ("art_rooms", "美术教室")):
            have = _num(s.get(col))
            row[col] = have
            row[f"{col}_needed"] = need
            if np.isnan(have):
                missing.append(label + "数")
                rooms_ok = False
            elif have < need:
                rooms_ok = False
                room_texts.append(f"{label}还差 {int(need - have)} 间（{row['classes']} 个班需 {need} 间）")
        row["n_met"] = n_met
        row["passes"] = bool(passes)
        row["rooms_ok"] = bool(rooms_ok)
        row["all_ok"] = bool(passes and rooms_ok)
        row["funded_students"] = max(row["students"], SMALL_SCHOOL_FUNDED_AS)
        row["missing"] = "、".join(missing)
        row["fix"] = _fix_text(n_met, passes, shortfalls, room_texts, missing)
        rows.append(row)
    out = pd.DataFrame(rows, columns=indicator_columns())
    for k in INDICATOR_KEYS:
        out[f"{k}_met"] = out[f"{k}_met"].astype(bool)
    for c in ("passes", "rooms_ok", "all_ok"):
        out[c] = out[c].astype(bool)
    return out.reset_index(drop=True)


def _fix_text(n_met, passes, shortfalls, room_texts, missing) -> str:
    parts = []
    if missing:
        parts.append("缺少数据：" + "、".join(missing) + "（请在学校表中补填）")
    if shortfalls:
        head = (
            f"七项指标达标 {n_met} 项，已满足“至少 6 项达标、其余不低于 85%”；如要全部达标："
            if passes
            else f"七项指标达标 {n_met} 项，未满足“至少 6 项达标、其余不低于 85%”："
        )
        parts.append(head + "；".join(shortfalls))
    if room_texts:
        parts.append("；".join(room_texts))
    return "。".join(parts) + ("。" if parts else "")


# --------------------------------------------------------------------------------------------
# county coefficients


def county_coefficients(indicators_df: pd.DataFrame) -> pd.DataFrame:
    """Per level (and year, when the table has a ``year`` column) and indicator: the weighted CV.

    A nine-year school counts in both levels, weighted by its pupils of that level.

    Returns
    -------
    DataFrame
        ``level, year, indicator, cv, limit, ok, indicator_name, n_schools, students``
        (``year`` only when the input has it). ``ok`` is False when the CV exceeds 0.50
        (primary) / 0.45 (junior) and NA when it cannot be computed.
    """
    has_year = "year" in indicators_df.columns
    df = indicators_df
    groups = [(y, g) for y, g in df.groupby("year", sort=True)] if has_year else [(None, df)]
    rows = []
    for year, g in groups:
        for level in policy.LEVELS:
            weight_col = "students_primary" if level == "primary" else "students_junior"
            members = g[(g["level"] == level) | ((g["level"] == "nine_year") & (g[weight_col] > 0))]
            weights = np.where(members["level"] == level, members["students"], members[weight_col])
            for k in INDICATOR_KEYS:
                vals = members[f"{k}_value"].to_numpy(dtype=float)
                ok_mask = ~np.isnan(vals)
                cv = difference_coefficient(vals[ok_mask], np.asarray(weights, dtype=float)[ok_mask]) if ok_mask.any() else float("nan")
                limit = policy.DIFFERENCE_COEFFICIENT_MAX[level]
                row = {"level": level}
                if has_year:
                    row["year"] = int(year)
                row.update({
                    "indicator": k, "cv": cv, "limit": limit,
                    "ok": (pd.NA if np.isnan(cv) else bool(cv <= limit + _EPS)),
                    "indicator_name": policy.INDICATOR_NAMES[k],
                    "n_schools": int(ok_mask.sum()),
                    "students": int(np.asarray(weights, dtype=float)[ok_mask].sum()),
                })
                rows.append(row)
    cols = ["level"] + (["year"] if has_year else []) + [
        "indicator", "cv", "limit", "ok", "indicator_name", "n_schools", "students"]
    out = pd.DataFrame(rows, columns=cols)
    out["ok"] = out["ok"].astype("boolean")
    return out


# --------------------------------------------------------------------------------------------
# enrollment from the base data or a ledger


def _grade_cols(df: pd.DataFrame, prefix: str, grades) -> list[str]:
    return [f"{prefix}{g}" for g in grades if f"{prefix}{g}" in df.columns]


def base_enrollment(schools: pd.DataFrame) -> pd.DataFrame:
    """Base-year enrollment from the schools' ``enrolled_g*`` / ``classes_g*`` columns.

    Returns ``school_id, students, classes, students_primary, students_junior``.
    """
    df = pd.DataFrame({"school_id": schools["school_id"].astype(str).to_numpy()})

    def total(prefix, grades):
        cols = _grade_cols(schools, prefix, grades)
        if not cols:
            return np.zeros(len(schools))
        return schools[cols].apply(pd.to_numeric, errors="coerce").fillna(0).sum(axis=1).to_numpy()

    df["students_primary"] = total("enrolled_g", range(1, 7))
    df["students_junior"] = total("enrolled_g", range(7, 10))
    df["students"] = df["students_primary"] + df["students_junior"]
    df["classes"] = total("classes_g", range(1, 10))
    return df[["school_id", "students", "classes", "students_primary", "students_junior"]]


def ledger_enrollment(ledger: pd.DataFrame) -> pd.DataFrame:
    """Enrollment per school and year from a proposal's ``ledger.csv`` table.

    Returns ``school_id, year, students, classes, students_primary, students_junior``.
    """
    out = pd.DataFrame({
        "school_id": ledger["school_id"].astype(str).to_numpy(),
        "year": pd.to_numeric(ledger["year"]).astype(int).to_numpy(),
        "students": pd.to_numeric(ledger["students"], errors="coerce").fillna(0).to_numpy(),
        "classes": pd.to_numeric(ledger["classes"], errors="coerce").fillna(0).to_numpy(),
    })
    pcols = _grade_cols(ledger, "students_g", range(1, 7))
    jcols = _grade_cols(ledger, "students_g", range(7, 10))
    if pcols or jcols:
        out["students_primary"] = ledger[pcols].apply(pd.to_numeric, errors="coerce").fillna(0).sum(axis=1).to_numpy() if pcols else 0.0
        out["students_junior"] = ledger[jcols].apply(pd.to_numeric, errors="coerce").fillna(0).sum(axis=1).to_numpy() if jcols else 0.0
    else:
        out["students_primary"] = np.nan
        out["students_junior"] = np.nan
    return out


def has_indicator_data(schools: pd.DataFrame) -> bool:
    """True when the schools table has at least one of the seven indicator columns."""
    return any(k in schools.columns for k in INDICATOR_KEYS)


def proposal_indicators(schools: pd.DataFrame, ledger: pd.DataFrame, years=None) -> pd.DataFrame:
    """:func:`school_indicators` for each year of a proposal's ledger.

    Parameters
    ----------
    schools : DataFrame
        The schools table with the resource columns (see :func:`school_indicators`).
    ledger : DataFrame
        ``ledger.csv`` of a proposal: ``school_id, year, students, classes, students_g1..g9``.
    years : iterable of int, optional
        The years to compute; all years of the ledger by default.

    Returns
    -------
    DataFrame
        The columns of :func:`indicator_columns` with ``year`` after ``level``; empty (with those
        columns) when the schools table has no indicator column at all.
    """
    cols = indicator_columns()
    cols = cols[:3] + ["year"] + cols[3:]
    if not has_indicator_data(schools):
        log.info("学校表没有优质均衡指标列，跳过指标计算")
        return pd.DataFrame(columns=cols)
    enr = ledger_enrollment(ledger)
    all_years = sorted(enr["year"].unique())
    wanted = all_years if years is None else [int(y) for y in years]
    parts = []
    for y in wanted:
        ind = school_indicators(schools, enr[enr["year"] == y])
        ind.insert(3, "year", int(y))
        parts.append(ind)
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


# --------------------------------------------------------------------------------------------
# enrollment ceilings (for the optimizer's keep_indicators constraints)


def enrollment_ceilings(schools: pd.DataFrame) -> pd.DataFrame:
    """The largest enrollment at which each school still meets the floor-area and sports-ground
    standards, for the schools that meet both on their base enrollment.

    Parameters
    ----------
    schools : DataFrame
        ``school_id, level, teaching_area_m2, sports_area_m2`` and ``enrolled_g1..g9``
        (base enrollment; a school with none is included when it has the area data, its ceiling
        then being what its buildings allow).

    Returns
    -------
    DataFrame
        ``school_id, max_students, reason`` (Chinese; names the binding standard). Schools that
        miss either standard on their base enrollment, or lack the area data, are not listed.
        For a nine-year school the threshold mix of its base enrollment is used.
    """
    rows = []
    if not {"teaching_area_m2", "sports_area_m2"} <= set(schools.columns):
        return pd.DataFrame(columns=["school_id", "max_students", "reason"])
    enr = base_enrollment(schools).set_index("school_id")
    for _, s in schools.iterrows():
        sid = str(s["school_id"])
        e = enr.loc[sid]
        if isinstance(e, pd.DataFrame):
            e = e.iloc[-1]
        thr = thresholds_for(str(s["level"]), e["students_primary"], e["students_junior"])
        best = None
        ok = True
        for k in ("teaching_area_m2", "sports_area_m2"):
            area = _num(s.get(k))
            if np.isnan(area):
                ok = False
                break
            cap = int(math.floor(area / thr[k] + _EPS))
            if e["students"] > cap:
                ok = False
                break
            if best is None or cap < best[0]:
                best = (cap, k, area, thr[k])
        if not ok or best is None:
            continue
        cap, k, area, t = best
        reason = (
            f"{policy.INDICATOR_NAMES[k]}不低于 {_g(t)} 平方米/生：{_fmt(area)} ÷ {_g(t)} = {cap:,} 人"
            f"（基准年在校生 {int(e['students']):,} 人）"
        )
        rows.append({"school_id": sid, "max_students": cap, "reason": reason})
    return pd.DataFrame(rows, columns=["school_id", "max_students", "reason"])


# --------------------------------------------------------------------------------------------
# SPEC §5.4 plan items


def plan_items(schools: pd.DataFrame, indicators_df: pd.DataFrame) -> pd.DataFrame:
    """The SPEC §5.4 items that the data allow.

    Always: the schools under 100 students (funded as 100). With the optional columns
    ``public_funds_budget_yuan`` and ``training_funds_yuan``: each school's training share
    (≥ 5%). With ``rotation_eligible_teachers``, ``rotated_teachers``,
    ``rotated_backbone_teachers``: the county's rotation share (≥ 10%) and backbone share of those
    rotated (≥ 20%).

    Returns
    -------
    DataFrame
        ``item, scope, year, value, standard, ok, note`` (Chinese ``item``, ``scope`` and ``note``;
        ``year`` NA for items that do not depend on enrollment).
    """
    rows = []
    ind = indicators_df
    if ind.empty:
        years = []
    else:
        years = sorted(ind["year"].unique()) if "year" in ind.columns else [None]
    for y in years:
        g = ind if y is None else ind[ind["year"] == y]
        small = g[g["students"] < SMALL_SCHOOL_FUNDED_AS]
        for _, r in small.iterrows():
            rows.append({
                "item": "不足 100 人的学校按 100 人核定公用经费", "scope": r["name"], "year": y,
                "value": int(r["students"]), "standard": f"按 {SMALL_SCHOOL_FUNDED_AS} 人核定",
                "ok": pd.NA, "note": f"在校生 {int(r['students'])} 人，按 {SMALL_SCHOOL_FUNDED_AS} 人拨付公用经费",
            })
        if small.empty:
            rows.append({
                "item": "不足 100 人的学校按 100 人核定公用经费", "scope": "全县", "year": y,
                "value": 0, "standard": f"按 {SMALL_SCHOOL_FUNDED_AS} 人核定", "ok": pd.NA,
                "note": "没有不足 100 人的学校",
            })
    sch = schools.copy()
    sch["school_id"] = sch["school_id"].astype(str)
    if {"public_funds_budget_yuan", "training_funds_yuan"} <= set(sch.columns):
        for _, s in sch.iterrows():
            budget, train = _num(s["public_funds_budget_yuan"]), _num(s["training_funds_yuan"])
            if np.isnan(budget) or np.isnan(train) or budget <= 0:
                continue
            share = train / budget
            ok = share >= TRAINING_SHARE_MIN - _EPS
            note = "" if ok else f"培训经费还差 {math.ceil(TRAINING_SHARE_MIN * budget - train):,} 元"
            rows.append({
                "item": "教师培训经费占公用经费比例", "scope": s.get("name", s["school_id"]), "year": None,
                "value": share, "standard": f"≥ {TRAINING_SHARE_MIN:.0%}", "ok": ok, "note": note,
            })
    rot = ("rotation_eligible_teachers", "rotated_teachers", "rotated_backbone_teachers")
    if set(rot) <= set(sch.columns):
        elig = pd.to_numeric(sch[rot[0]], errors="coerce").sum()
        moved = pd.to_numeric(sch[rot[1]], errors="coerce").sum()
        backbone = pd.to_numeric(sch[rot[2]], errors="coerce").sum()
        if elig > 0:
            share = moved / elig
            ok = share >= ROTATION_SHARE_MIN - _EPS
            rows.append({
                "item": "教师交流轮岗比例", "scope": "全县", "year": None,
                "value": share, "standard": f"≥ {ROTATION_SHARE_MIN:.0%}（符合条件教师）",
                "ok": ok,
                "note": "" if ok else f"还需交流 {math.ceil(ROTATION_SHARE_MIN * elig - moved - _EPS):,} 人",
            })
        if moved > 0:
            share = backbone / moved
            ok = share >= ROTATION_BACKBONE_SHARE_MIN - _EPS
            rows.append({
                "item": "交流轮岗教师中骨干教师比例", "scope": "全县", "year": None,
                "value": share, "standard": f"≥ {ROTATION_BACKBONE_SHARE_MIN:.0%}（交流轮岗教师）",
                "ok": ok,
                "note": "" if ok else f"骨干教师还需 {math.ceil(ROTATION_BACKBONE_SHARE_MIN * moved - backbone - _EPS):,} 人",
            })
    out = pd.DataFrame(rows, columns=["item", "scope", "year", "value", "standard", "ok", "note"])
    out["ok"] = out["ok"].astype("boolean")
    out["year"] = out["year"].astype("Int64")
    return out


# --------------------------------------------------------------------------------------------
# checking the data


def check_indicator_data(schools: pd.DataFrame, file: str = "schools") -> list[Problem]:
    """Problems of the indicator columns of a schools table, all in one pass.

    No indicator column at all is an error; a missing column or value is a warning (the
    indicator is then reported as missing); a non-numeric or negative value is an error.
    Rows are 1-based positions in the table.
    """
    problems: list[Problem] = []
    present = [c for c in RESOURCE_COLUMNS if c in schools.columns]
    if not any(c in schools.columns for c in INDICATOR_KEYS):
        names = "、".join(f"{k}（{policy.INDICATOR_NAMES[k]}）" for k in INDICATOR_KEYS)
        problems.append(Problem(
            file, None, None, None, "学校表没有优质均衡资源指标列，无法计算指标",
            f"在学校表中加入这些列：{names}，以及 music_rooms（音乐教室数）、art_rooms（美术教室数）",
        ))
        return problems
    for c in RESOURCE_COLUMNS:
        if c not in present:
            label = policy.INDICATOR_NAMES.get(c, {"music_rooms": "音乐教室数", "art_rooms": "美术教室数"}.get(c, c))
            problems.append(Problem(
                file, None, None, c, f"缺少列 {c}（{label}），该项按“缺少数据”处理",
                f"在学校表中加入列 {c}（{label}）", "warning",
            ))
    for pos, (_, s) in enumerate(schools.iterrows(), start=1):
        sid = str(s.get("school_id", ""))
        for c in present:
            v = s[c]
            if v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()) or v is pd.NA:
                problems.append(Problem(
                    file, pos, sid, c, f"{s.get('name', sid)} 的 {c} 为空，该项按“缺少数据”处理",
                    "填写该校的数值（没有则填 0）", "warning",
                ))
                continue
            x = _num(v)
            if np.isnan(x):
                problems.append(Problem(file, pos, sid, c, f"{c} 不是数字：{v!r}", "填写数字，不要带单位或文字"))
            elif x < 0:
                problems.append(Problem(file, pos, sid, c, f"{c} 不能为负数：{v}", "填写 0 或正数"))
    return problems


# --------------------------------------------------------------------------------------------
# the report (HTML + XLSX), written atomically


def atomic_folder(out: Path):
    """The folder ``out``, written whole or not at all (:func:`geodata.outputs.proposal_folder`)."""
    from geodata.outputs import proposal_folder

    return proposal_folder(out)


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
    x = _num(x)
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
                           basis: str = "", skipped: list[str] | None = None) -> Path:
    """Write ``indicators.html``, ``indicators.xlsx``, ``indicators.csv`` and ``coefficients.csv``.

    The folder is written under a temporary name and renamed when complete. The page is the
    template ``pipelines/templates/indicators_report.html`` (every value from the data an escaped
    variable); the tables go through :mod:`geodata.tabular` (formula-like cells inert, the same
    bytes for the same input).

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
              "说明": pd.DataFrame({"说明": _method_notes(is_sample, basis, source, skipped)})}
    page = _report_html(indicators, coefficients, ditems, source, is_sample, basis, skipped)
    with atomic_folder(out_dir) as tmp:
        write_csv(indicators, tmp / "indicators.csv")
        write_csv(coefficients, tmp / "coefficients.csv")
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
              f"小学≥{_g(policy.INDICATORS[k][0])}，初中≥{_g(policy.INDICATORS[k][1])}"]
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
                cells.append(_cell(_g(v)))
            else:
                pct = math.floor(v / t * 1000) / 10
                cells.append(_cell(f"{_g(v)}（标准 {_g(t)}，{pct:.1f}%）", "bad"))
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


def _report_html(ind, coef, ditems, source, is_sample, basis, skipped) -> str:
    """The page (pipelines/templates/indicators_report.html); data only as escaped variables."""
    return render_page(
        "indicators_report.html", is_sample=is_sample, source=source, basis=basis,
        summary=_page_table(_summary_table(ind)), improve=_improve_table(ind),
        coefficients=_coefficient_matrix(coef), schools=_school_matrix(ind),
        items=_page_table(ditems, bad_cols=("是否达标",), text_cols=("项目", "范围", "说明")),
        notes=_method_notes(False, "", "", skipped))


# --------------------------------------------------------------------------------------------
# the glue of ``zoning indicators``


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """A plain DataFrame copy (drops a geometry column if present)."""
    cols = [c for c in df.columns if c != "geometry"]
    return pd.DataFrame(df[cols]).copy()


def run_indicators(data_dir=None, zones=None, year: int | None = None, out=None, coords=None,
                   mapping=None) -> Path:
    """Compute the indicators of the base data or of a proposal and write the report.

    Parameters
    ----------
    data_dir : path, optional
        The data folder with the schools' resource columns; the proposal's source (``run.json``)
        or the bundled sample when not given.
    zones : path, optional
        A proposal folder; the enrollment is then read from its ``ledger.csv``.
    year : int, optional
        With ``zones``: the ledger year (all years when not given). Without: the base year
        (other years need the lead's ``workflow.baseline_ledger``).
    out : path, optional
        The report folder; ``indicators_<year or "all">`` in the current folder by default.
    coords, mapping
        Passed to :func:`geodata.dataset.load_dataset`.

    Returns
    -------
    Path
        The report folder.
    """
    from geodata.dataset import load_dataset  # lazy: geodata pulls in geopandas

    if zones is not None:
        zones = Path(zones)
        if data_dir is None:
            data_dir = _proposal_source(zones)
    ds = load_dataset(data_dir, coords=coords, mapping=mapping)
    schools = _plain(ds.schools)
    schools_file = ds.files.get("schools").name if ds.files.get("schools") else "schools"
    problems = check_indicator_data(schools, schools_file)
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    for p in problems:
        log.warning("%s: %s", p.file, p.problem)
    base_year = _base_year(ds, zones)
    source = "内置示例数据" if ds.is_sample else str(ds.source)
    if zones is not None:
        ledger_path = zones / "ledger.csv"
        if not ledger_path.exists():
            raise DataError([Problem("ledger.csv", None, None, None,
                                     f"方案文件夹 {zones} 中没有 ledger.csv",
                                     "指定由 zoning plan 生成的方案文件夹")])
        ledger = pd.read_csv(ledger_path, dtype={"school_id": str})
        lp = _check_ledger(ledger, set(schools["school_id"].astype(str)), year)
        if lp:
            raise DataError(lp)
        ind = proposal_indicators(schools, ledger, None if year is None else [year])
        basis = f"方案 {zones.name} 的台账（ledger.csv）" + (f"，{year} 年" if year else "，各年")
        source = f"{source}；方案：{zones}"
    elif year is None or year == base_year:
        enr = base_enrollment(schools)
        ind = school_indicators(schools, enr)
        ind.insert(3, "year", base_year)
        basis = f"基准年（{base_year} 年）学校表中的在校生与班级数"
    else:
        ind, basis = _baseline_year(data_dir, schools, year, base_year, coords, mapping)
    coef = county_coefficients(ind)
    items = plan_items(schools, ind)
    counted = set(ind["school_id"])
    skipped = [str(n) for sid, n in zip(schools["school_id"].astype(str), schools["name"]) if sid not in counted]
    if out is None:
        out = Path(f"indicators_{year if year is not None else ('all' if zones is not None else base_year)}")
    return write_indicator_report(out, ind, coef, items, source=source, is_sample=ds.is_sample,
                                  basis=basis, skipped=skipped)


def _baseline_year(data_dir, schools, year, base_year, coords=None, mapping=None):
    try:
        from workflow import baseline_ledger  # the lead's projection of the base data
    except ImportError:
        raise DataError([Problem(
            "scenario.toml", None, None, "year",
            f"没有方案时只能计算基准年（{base_year} 年）的指标；其他年份需要先生成方案",
            f"去掉 --year，或用 --zones 指定方案文件夹（由 zoning plan 生成）再选 --year {year}",
        )]) from None
    import inspect

    params = inspect.signature(baseline_ledger).parameters
    extra = {k: v for k, v in (("coords", coords), ("mapping", mapping)) if k in params and v is not None}
    ledger = baseline_ledger(data_dir, **extra)
    if int(year) not in set(pd.to_numeric(ledger["year"]).astype(int)):
        yrs = sorted(set(pd.to_numeric(ledger["year"]).astype(int)))
        raise DataError([Problem("scenario.toml", None, None, "year", f"预测台账中没有 {year} 年",
                                 f"--year 应为 {yrs[0]}–{yrs[-1]} 之间的年份" if yrs else "检查情景的 horizon 设置")])
    ind = proposal_indicators(schools, ledger, [year])
    return ind, f"维持现状片区的预测台账，{year} 年"


def _proposal_source(zones: Path):
    run = zones / "run.json"
    if run.exists():
        try:
            src = json.loads(run.read_text(encoding="utf-8")).get("source")
        except (json.JSONDecodeError, OSError):
            src = None
        if src and src != "sample":
            if Path(src).is_dir():
                return Path(src)
            raise DataError([Problem(
                "run.json", None, None, "source", f"方案记录的数据文件夹 {src} 不存在",
                f"在命令中给出数据文件夹，例如：zoning indicators 数据文件夹 --zones {zones}",
            )])
    return None


def _base_year(ds, zones) -> int:
    from zoning.scenario import Scenario, load_scenario

    if zones is not None and (zones / "run.json").exists():
        try:
            sc = json.loads((zones / "run.json").read_text(encoding="utf-8")).get("scenario") or {}
            if "base_year" in sc:
                return int(sc["base_year"])
        except (json.JSONDecodeError, OSError, ValueError, TypeError):
            pass
    path = getattr(ds, "scenario_path", None)
    if path:
        return load_scenario(path).base_year
    return Scenario().base_year


def _check_ledger(ledger: pd.DataFrame, school_ids: set[str], year) -> list[Problem]:
    problems = []
    need = ["school_id", "year", "students", "classes"]
    missing = [c for c in need if c not in ledger.columns]
    if missing:
        return [Problem("ledger.csv", None, None, c, f"台账缺少列 {c}", "使用 zoning plan 生成的 ledger.csv")
                for c in missing]
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
