"""优质均衡 resource indicators (SPEC §5.3) and the other plan items (SPEC §5.4).

Plain pandas: every function here takes and returns tables without geometry, and nothing here
reads or writes a file. The report of ``zoning indicators`` (reading the data folder or a proposal,
the pages and workbooks) is :mod:`pipelines.indicators`.

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

import logging
import math

import numpy as np
import pandas as pd

from zoning import policy
from zoning.errors import Problem

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


def to_number(value) -> float:
    """``value`` as a float; NaN when it is not a number."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


def grouped_number(x: float, digits: int = 0) -> str:
    """``x`` with thousands separators (``digits`` decimals)."""
    if digits == 0:
        return f"{int(round(x)):,}"
    return f"{x:,.{digits}f}"


def short_number(x: float) -> str:
    """``x`` with at most two decimals, trailing zeros dropped."""
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
        text = f"{name}还差 {grouped_number(math.ceil(need - _EPS))} {unit}"
    return f"{text}（或在校生不超过 {max_students:,} 人）"


def _enrollment_split(row: pd.Series, level: str) -> tuple[float, float]:
    students = to_number(row.get("students"))
    sp = to_number(row.get("students_primary"))
    sj = to_number(row.get("students_junior"))
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
        students = to_number(e.get("students"))
        if np.isnan(students) or students <= 0:
            continue
        classes = to_number(e.get("classes"))
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
            raw = to_number(s.get(k))
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
            have = to_number(s.get(col))
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
            area = to_number(s.get(k))
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
            f"{policy.INDICATOR_NAMES[k]}不低于 {short_number(t)} 平方米/生：{grouped_number(area)} ÷ {short_number(t)} = {cap:,} 人"
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
            budget, train = to_number(s["public_funds_budget_yuan"]), to_number(s["training_funds_yuan"])
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
            x = to_number(v)
            if np.isnan(x):
                problems.append(Problem(file, pos, sid, c, f"{c} 不是数字：{v!r}", "填写数字，不要带单位或文字"))
            elif x < 0:
                problems.append(Problem(file, pos, sid, c, f"{c} 不能为负数：{v}", "填写 0 或正数"))
    return problems
