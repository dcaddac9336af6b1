"""The autumn check (秋季招生核查): actual enrollment against the plan, the zones and the limits.

Works on plain pandas tables (no geometry). :func:`check_enrollment` takes the roster (学籍 export),
the schools, the zones (which school each unit is zoned to, per level) and the enrollment plan, and
returns an :class:`AutumnResult` with one table per finding.

Rules and definitions
---------------------
Every rule counts only the *checked* pupils: roster rows without a data problem. Rows with a data
problem are listed in ``data_problems`` (with their 1-based row number, header = row 0; or, given
the file's :class:`FileLayout`, the row as the spreadsheet shows it and the office's own header —
the same in ``out_of_zone`` and ``transfers``) and never silently dropped; ``pupils_read == pupils_checked + pupils_with_problems`` always holds.

1. **Plan (招生计划)**: for each plan row of the year (school, grade), the actual intake is the
   number of *new* entrants (``entry == "new"``) of that school and grade; the actual classes are
   the distinct ``class_id`` of that school and grade. Over plan (超计划) when the intake exceeds
   ``planned_students`` or the classes exceed ``planned_classes``. New entrants in an entering grade
   (1 or 7) of a school with no plan row for that grade are over plan by all of them (when a plan
   is given at all).
2. **Class size (班额)**: a class is (school_id, grade, class_id). Its limit is the school's
   ``class_limit`` when given, else 45 in grades 1–6 and 50 in grades 7–9 (so a nine-year school
   has both). Over the limit when size > limit. Categories: 大班额 56–65, 超大班额 66+
   (:func:`zoning.policy.class_category`). The county share of large classes is
   (大班额 + 超大班额) / all classes.
3. **School size (校额)**: pupils of a school > its size cap, the ledger's rule
   (:func:`zoning.policy.size_cap`): its ``size_limit`` (else 2000, 2500 nine-year) or its seat
   ``capacity`` when that is smaller.
4. **Out of zone (超范围) and 就近入学率**: a new entrant is out of zone when the unit it lives in is
   zoned (for the level of its grade: 1–6 primary, 7–9 junior) to another school. Units with no
   zone at that level are not counted either way. The rate of a school and level is in-zone /
   (in-zone + out-of-zone) new entrants. The minimum (primary 100 %, junior 95 %) is a rule for
   *town* schools: a school is a town school when its township (the ``township`` column of
   ``schools`` if given, else the township most of its zone's units lie in) is one of
   ``town_townships`` (default 城关镇). When no township is known at all, every school is held to
   the minimum. Out-of-zone pupils of other schools are listed but are not a violation.
5. **Transfers into an over-limit school (违规转入)**: the county plan's rule 已存在超标准校额、班额的
   学校禁止转入学生: a ``transfer_in`` pupil is forbidden when, *on its entry date*, the school is
   closed to transfers by the ledger's rule (:func:`zoning.policy.closed_to_transfers`): over its
   size cap, **any** class of the school over its class limit (whatever class the pupil joins), or
   more classes than classrooms (when ``classrooms`` is given). The reason names the size figure or
   the classes that close the school. "On the entry date" counts, besides all ``new`` and
   ``continuing`` pupils of the school (the start-of-year state, whatever their own dates), the
   other transfers into the school with an ``entry_date`` strictly before the pupil's; the pupil
   itself is not counted. A transfer without an ``entry_date`` is judged on the start-of-year
   state, and does not count toward dated transfers. "Over" means strictly more than the limit (a
   class of 45 primary pupils admitting a 46th is caught by the class-size rule, not by this one).
6. **Data problems**: missing or duplicate student_id (every copy is listed), missing or unknown
   school, missing or unparsable grade, grade not taught at the school, missing class_id, missing or
   unknown entry kind, unknown unit_id, missing unit_id of a new entrant (its zone cannot be
   checked), unparsable entry_date.

``violations_count`` counts rule breaches: plan rows over plan, classes over the limit, schools
over the size limit, town schools below the 就近入学 minimum, forbidden transfers. Data problems
are counted separately; :attr:`AutumnResult.exit_code` is 1 when there is either, else 0.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from zoning.errors import DataError, Problem

from . import policy

log = logging.getLogger(__name__)

ROSTER_COLUMNS = ("student_id", "school_id", "grade", "class_id", "entry", "unit_id")
ROSTER_OPTIONAL = ("entry_date",)
SCHOOL_COLUMNS = ("school_id", "name", "level")
PLAN_COLUMNS = ("school_id", "year", "grade", "planned_classes", "planned_students")
ZONE_COLUMNS = ("unit_id", "level", "school_id")
DEFAULT_TOWN_TOWNSHIPS = ("城关镇",)
#: One entry vocabulary for the roster, in the kernel (``zoning check`` reads the same one).
ENTRIES = policy.ENTRIES
ENTRY_ALIASES = policy.ENTRY_ALIASES
ENTRY_NAMES_ZH = policy.ENTRY_NAMES_ZH
CATEGORY_NAMES_ZH = {"normal": "正常", "large": "大班额", "huge": "超大班额"}

_ZH_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@dataclass
class AutumnResult:
    """The findings of :func:`check_enrollment`, one DataFrame each.

    Attributes
    ----------
    year : int
        The autumn checked.
    plan : DataFrame
        One row per plan row of the year (and per unplanned intake): ``school_id, name, grade,
        planned_classes, planned_students, actual_classes, actual_students, over_classes,
        over_students, violation``.
    class_size : DataFrame
        Classes over the limit or in a large category: ``school_id, name, grade, class_id,
        students, new_class`` (the class has new entrants), ``limit, over_by, category,
        violation``.
    class_summary : DataFrame
        Per school and grade: ``school_id, name, grade, classes, largest_class, over_limit,
        large_classes, huge_classes``.
    school_size : DataFrame
        Every school: ``school_id, name, level, students, limit, over_by, violation``.
    out_of_zone : DataFrame
        Out-of-zone new entrants: ``student_id, row, school_id, name, grade, class_id, unit_id,
        zoned_school_id, zoned_school_name``.
    nearby_rate : DataFrame
        Per school and level: ``school_id, name, level, township, town, new_entrants, in_zone,
        out_of_zone, no_zone, rate, required, violation``.
    transfers : DataFrame
        Forbidden transfers: ``student_id, row, school_id, name, grade, class_id, entry_date,
        school_students, size_limit, class_students, class_limit, reason``.
    data_problems : DataFrame
        ``file, row, id, column, problem, fix`` — one row per problem (a row may have several).
    summary : dict
        Counts and the reconciliation.
    """

    year: int
    plan: pd.DataFrame
    class_size: pd.DataFrame
    class_summary: pd.DataFrame
    school_size: pd.DataFrame
    out_of_zone: pd.DataFrame
    nearby_rate: pd.DataFrame
    transfers: pd.DataFrame
    data_problems: pd.DataFrame
    summary: dict = field(default_factory=dict)

    @property
    def violations_count(self) -> int:
        """Number of rule breaches (data problems not included)."""
        return int(self.summary["violations"])

    @property
    def exit_code(self) -> int:
        """1 when any rule is broken or any roster row has a data problem, else 0."""
        return 1 if self.violations_count or self.summary["pupils_with_problems"] else 0

    def findings(self) -> dict[str, pd.DataFrame]:
        """The finding tables by name, in report order."""
        return {
            "plan": self.plan,
            "class_size": self.class_size,
            "class_summary": self.class_summary,
            "school_size": self.school_size,
            "nearby_rate": self.nearby_rate,
            "out_of_zone": self.out_of_zone,
            "transfers": self.transfers,
            "data_problems": self.data_problems,
        }


# --- small helpers ---------------------------------------------------------------------------


def _id_strings(values: pd.Series) -> pd.Series:
    """Ids as stripped strings (``101.0`` -> ``"101"``); missing and blank -> None (object dtype)."""

    def conv(v):
        if isinstance(v, (float, np.floating)):
            return str(int(v)) if float(v).is_integer() else str(v)
        s = str(v).strip()
        return s or None

    obj = values.astype(object)
    table = {u: conv(u) for u in pd.unique(obj) if not _is_nan(u)}
    return pd.Series([None if _is_nan(v) else table[v] for v in obj], index=values.index,
                     dtype=object)


def _is_nan(v) -> bool:
    return (v is None or v is pd.NA or v is pd.NaT
            or (isinstance(v, (float, np.floating)) and bool(np.isnan(v))))


def _is_blank(v) -> bool:
    return _is_nan(v) or (isinstance(v, str) and not v.strip())


def parse_grade(value) -> int | None:
    """A grade 1–9 from ``3``, ``"3"``, ``"3.0"``, ``"三年级"``, ``"初一"`` (= 7), ``"七年级"``; else None."""
    if _is_nan(value):
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value) if 1 <= int(value) <= 9 else None
    if isinstance(value, (float, np.floating)):
        return int(value) if float(value).is_integer() and 1 <= value <= 9 else None
    s = str(value).strip().replace("年级", "").replace("级", "")
    if not s:
        return None
    if re.fullmatch(r"\d+(\.0+)?", s):
        g = int(float(s))
        return g if 1 <= g <= 9 else None
    m = re.fullmatch(r"初([一二三])", s)
    if m:
        return 6 + _ZH_DIGITS[m.group(1)]
    if s in _ZH_DIGITS:
        return _ZH_DIGITS[s]
    return None


def _school_tables(schools: pd.DataFrame) -> pd.DataFrame:
    """Schools indexed by school_id with level, name, class_limit, size_limit (overrides or NaN)."""
    missing = [c for c in SCHOOL_COLUMNS if c not in schools.columns]
    if missing:
        raise DataError([Problem("schools", None, None, c, f"学校表缺少列“{c}”", "请补上该列")
                         for c in missing])
    s = pd.DataFrame({
        "school_id": _id_strings(schools["school_id"]),
        "name": schools["name"].astype(object).where(schools["name"].notna(), ""),
        "level": schools["level"].astype(object),
    })
    for col in ("class_limit", "size_limit", "township", "capacity", "classrooms"):
        s[col] = schools[col].values if col in schools.columns else np.nan
    for col in ("class_limit", "size_limit", "capacity", "classrooms"):
        s[col] = pd.to_numeric(s[col], errors="coerce")
    problems = []
    for i, row in enumerate(s.itertuples(index=False), start=1):
        if row.school_id is None:
            problems.append(Problem("schools", i, None, "school_id", "缺少学校代码", "请填写学校代码"))
        if row.level not in policy.SCHOOL_LEVELS:
            problems.append(Problem("schools", i, row.school_id, "level", f"学段取值未知：{row.level!r}",
                                    "学段应为 primary、junior 或 nine_year（小学/初中/九年一贯制）"))
    dup = s["school_id"].notna() & s["school_id"].duplicated(keep=False)
    for i in np.flatnonzero(dup.to_numpy()):
        problems.append(Problem("schools", int(i) + 1, s["school_id"].iat[i], "school_id",
                                "学校代码重复", "每所学校只保留一行"))
    if problems:
        raise DataError(problems)
    s["name"] = [str(n) if str(n).strip() else sid for n, sid in zip(s["name"], s["school_id"])]
    limits = np.array([policy.size_limit(k, o) for k, o in zip(s["level"], s["size_limit"])], dtype=float)
    capacity = s["capacity"].to_numpy(dtype=float)
    capacity = np.where(np.isnan(capacity), np.inf, capacity)
    # the ledger's size rule: the school's size cap is its size limit or its seat capacity, the lesser
    s["size_limit_eff"] = policy.size_cap(limits, capacity).astype(int)
    s["size_basis"] = np.where(capacity < limits, "学位数", "校额")
    s["classrooms"] = s["classrooms"].where(s["classrooms"].notna(), np.inf)
    return s.set_index("school_id", drop=False)


def _zone_table(zones: pd.DataFrame | None) -> pd.DataFrame:
    """Zones as ``unit_id, level, school_id (or None), township (or None)``; validated."""
    if zones is None or len(zones) == 0:
        return pd.DataFrame({"unit_id": pd.Series(dtype=object), "level": pd.Series(dtype=object),
                             "school_id": pd.Series(dtype=object), "township": pd.Series(dtype=object)})
    missing = [c for c in ZONE_COLUMNS if c not in zones.columns]
    if missing:
        raise DataError([Problem("zones", None, None, c, f"片区表缺少列“{c}”", "请补上该列")
                         for c in missing])
    z = pd.DataFrame({
        "unit_id": _id_strings(zones["unit_id"]),
        "level": zones["level"].astype(object),
        "school_id": _id_strings(zones["school_id"]),
        "township": (_id_strings(zones["township"]) if "township" in zones.columns
                     else pd.Series([None] * len(zones), dtype=object)),
    })
    problems = []
    bad_level = ~z["level"].isin(policy.LEVELS)
    for i in np.flatnonzero(bad_level.to_numpy()):
        problems.append(Problem("zones", int(i) + 1, z["unit_id"].iat[i], "level",
                                f"学段取值未知：{z['level'].iat[i]!r}", "片区学段应为 primary 或 junior"))
    dup = z.duplicated(["unit_id", "level"], keep=False) & ~bad_level
    for i in np.flatnonzero(dup.to_numpy()):
        problems.append(Problem("zones", int(i) + 1, z["unit_id"].iat[i], "unit_id",
                                "同一单元同一学段出现多次", "每个单元每个学段只保留一行"))
    if problems:
        raise DataError(problems)
    return z


def zones_from_units(units: pd.DataFrame) -> pd.DataFrame:
    """The current zones of the units (``primary_school`` / ``junior_school``) as a zones table.

    Parameters
    ----------
    units : DataFrame
        ``unit_id``, optional ``township``, ``primary_school``, ``junior_school`` (None where the
        unit has no zone at that level).

    Returns
    -------
    DataFrame
        ``unit_id, level, school_id, township``, two rows per unit.
    """
    parts = []
    for level, col in (("primary", "primary_school"), ("junior", "junior_school")):
        parts.append(pd.DataFrame({
            "unit_id": _id_strings(units["unit_id"]),
            "level": level,
            "school_id": (_id_strings(units[col]) if col in units.columns
                          else pd.Series([None] * len(units), dtype=object, index=units.index)),
            "township": (_id_strings(units["township"]) if "township" in units.columns
                         else pd.Series([None] * len(units), dtype=object, index=units.index)),
        }))
    return pd.concat(parts, ignore_index=True)


def zones_from_assignments(assignments: pd.DataFrame, units: pd.DataFrame | None = None
                           ) -> pd.DataFrame:
    """The zones of a proposal (its ``assignments.csv``), with townships taken from ``units``.

    Units the proposal does not list are kept as known units with no zone (school_id None).
    """
    z = pd.DataFrame({
        "unit_id": _id_strings(assignments["unit_id"]),
        "level": assignments["level"].astype(object),
        "school_id": _id_strings(assignments["school_id"]),
    })
    if units is not None and "township" in units.columns:
        towns = dict(zip(_id_strings(units["unit_id"]), _id_strings(units["township"])))
        z["township"] = z["unit_id"].map(towns).astype(object)
    else:
        z["township"] = None
    if units is not None:  # units the proposal does not list are known, with no zone
        absent = (~_id_strings(units["unit_id"]).isin(set(z["unit_id"]))).to_numpy()
        if absent.any():
            extra = zones_from_units(units[absent])
            extra["school_id"] = None
            z = pd.concat([z, extra], ignore_index=True)
    return z


def _plan_table(plan: pd.DataFrame, year: int, schools: pd.DataFrame, file: str) -> pd.DataFrame:
    """The plan rows of ``year``; a blank (or absent) planned_classes / planned_students is not
    compared. Unusable values raise :class:`DataError` with every problem."""
    plan = plan.reset_index(drop=True)
    missing = [c for c in ("school_id", "year", "grade") if c not in plan.columns]
    if not {"planned_classes", "planned_students"} & set(plan.columns):
        missing += ["planned_classes", "planned_students"]
    if missing:
        raise DataError([Problem(file, None, None, c, f"招生计划缺少列“{c}”",
                                 "招生计划应有 school_id, year, grade, planned_classes, planned_students")
                         for c in missing])
    p = pd.DataFrame({"school_id": _id_strings(plan["school_id"]),
                      "row": np.arange(1, len(plan) + 1)})
    problems = []
    for col in ("year", "planned_classes", "planned_students"):
        raw = plan[col] if col in plan.columns else pd.Series([None] * len(plan), dtype=object)
        blank = raw.map(_is_blank).to_numpy()
        vals = pd.to_numeric(raw.where(~blank), errors="coerce")
        bad = (vals.isna() & ~blank) | (vals < 0) | (blank if col == "year" else False)
        for i in np.flatnonzero(np.asarray(bad, dtype=bool)):
            problems.append(Problem(file, int(i) + 1, p["school_id"].iat[i], col,
                                    f"不是有效的非负数：{raw.iat[i]!r}", "请填写整数"))
        p[col] = vals.to_numpy(dtype=float)
    p["grade"] = [parse_grade(v) for v in plan["grade"]]
    for i in np.flatnonzero(p["grade"].isna().to_numpy()):
        problems.append(Problem(file, int(i) + 1, p["school_id"].iat[i], "grade",
                                f"年级无法识别：{plan['grade'].iat[i]!r}", "年级应为 1–9 的整数"))
    in_year = (p["year"] == year).to_numpy()
    for i in np.flatnonzero(in_year & ~p["school_id"].isin(schools.index).to_numpy()):
        problems.append(Problem(file, int(i) + 1, p["school_id"].iat[i], "school_id",
                                "学校代码不在学校表中", "请核对学校代码"))
    if problems:
        raise DataError(problems)
    p = p[in_year].copy()
    p["grade"] = p["grade"].astype(int)
    dup = p.duplicated(["school_id", "grade"], keep=False)
    if dup.any():
        raise DataError([Problem(file, int(r), sid, "grade", f"{year} 年该校该年级有多行计划",
                                 "每所学校每个年级只保留一行")
                         for r, sid in zip(p.loc[dup, "row"], p.loc[dup, "school_id"])])
    return p


# --- the roster ------------------------------------------------------------------------------


def normalise_roster(roster: pd.DataFrame, schools: pd.DataFrame, zones: pd.DataFrame,
                     file: str = "roster", layout: "FileLayout | None" = None
                     ) -> tuple[pd.DataFrame, list[Problem]]:
    """Normalise the roster and find its data problems.

    Parameters
    ----------
    roster : DataFrame
        The roster as read. Columns other than ``ROSTER_COLUMNS`` and ``entry_date`` (names, birth
        dates, addresses …) are dropped here and never reach an output.
    schools : DataFrame
        Output of ``_school_tables`` (indexed by school_id).
    zones : DataFrame
        Output of ``_zone_table``; its unit_ids are the known units (no check when it is empty).
    file : str
        The roster's file name, for the problems.
    layout : FileLayout, optional
        How the file shows its rows (the rows a message quotes, e.g. the copies of a 学籍号).

    Returns
    -------
    roster : DataFrame
        ``row`` (1-based), ``student_id, school_id, grade`` (Int64), ``class_id, entry, unit_id,
        entry_date`` (datetime64, NaT when not given), ``level`` and ``ok`` (no data problem).
    problems : list of Problem
        One per problem found, in row order.
    """
    missing = [c for c in ROSTER_COLUMNS if c not in roster.columns]
    if missing:
        raise DataError([Problem(file, None, None, c, f"学籍表缺少列“{c}”",
                                 "学籍表应有 student_id, school_id, grade, class_id, entry, unit_id"
                                 "（可选 entry_date）；可用 --mapping 指定列名对照")
                         for c in missing])
    n = len(roster)
    empty = [c for c in ROSTER_COLUMNS[:5] if n and roster[c].map(_is_blank).all()]
    if empty:
        raise DataError([Problem(file, None, None, c, f"学籍表的“{c}”列全部为空",
                                 "请填写该列，或用 --mapping 指明本单位表头对应的列")
                         for c in empty])
    r = pd.DataFrame({"row": np.arange(1, n + 1)})
    for col in ("student_id", "school_id", "class_id", "unit_id"):
        r[col] = _id_strings(roster[col]).to_numpy()
    grade_raw = roster["grade"].astype(object)
    gmap = {u: parse_grade(u) for u in pd.unique(grade_raw) if not _is_nan(u)}
    r["grade"] = pd.array([gmap.get(v) if not _is_nan(v) else None for v in grade_raw], dtype="Int64")
    entry_raw = roster["entry"].astype(object)
    emap = {u: policy.entry_kind(u) for u in pd.unique(entry_raw) if not _is_nan(u)}
    r["entry"] = [emap.get(v) if not _is_nan(v) else None for v in entry_raw]
    if "entry_date" in roster.columns:
        raw = roster["entry_date"]
        if pd.api.types.is_datetime64_any_dtype(raw):
            dates = pd.to_datetime(raw).dt.tz_localize(None) if getattr(raw.dt, "tz", None) else raw
            date_bad = np.zeros(n, dtype=bool)
        else:
            raw_s = _id_strings(raw)
            dates = pd.to_datetime(raw_s, errors="coerce", format="mixed")
            date_bad = (raw_s.notna() & dates.isna()).to_numpy()
        r["entry_date"] = pd.to_datetime(dates).to_numpy().astype("datetime64[ns]")
    else:
        r["entry_date"] = pd.Series(pd.NaT, index=r.index, dtype="datetime64[ns]")
        date_bad = np.zeros(n, dtype=bool)
    r["level"] = np.where(r["grade"].fillna(0).to_numpy() >= 7, "junior", "primary")

    # problems, as (row position, student_id, column, problem, fix) with vectorised masks
    found: list[tuple[int, str, str, str]] = []

    def add(mask, column, problem, fix):
        mask = np.asarray(mask, dtype=bool)
        for i in np.flatnonzero(mask):
            msg = problem(i) if callable(problem) else problem
            found.append((int(i), column, msg, fix))

    shown = layout or FileLayout()
    sid = r["student_id"]
    add(sid.isna(), "student_id", "缺少学籍号（学生编号）", "请补上该生的学籍号（化名编号即可）")
    dup = sid.notna() & sid.duplicated(keep=False)
    if dup.any():
        rows_by_id = r.loc[dup].groupby("student_id")["row"].apply(list).to_dict()
        add(dup, "student_id",
            lambda i: "学籍号重复（第 " + "、".join(str(shown.row(x)) for x in rows_by_id[sid.iat[i]]) + " 行）",
            "同一学生只能有一行：请删除重复行或更正学籍号")
    school = r["school_id"]
    add(school.isna(), "school_id", "缺少学校代码", "请填写就读学校的学校代码")
    unknown_school = school.notna() & ~school.isin(schools.index)
    add(unknown_school, "school_id", lambda i: f"学校代码“{school.iat[i]}”不在学校表中",
        "请核对学校代码，或在学校表中补上该校")
    grade_missing = grade_raw.map(_is_blank).to_numpy()
    add(grade_missing, "grade", "缺少年级", "请填写年级（1–9）")
    add(~grade_missing & r["grade"].isna().to_numpy(), "grade",
        lambda i: f"年级无法识别：{grade_raw.iat[i]!r}", "年级应为 1–9 的整数（或“三年级”“初一”）")
    known = school.notna() & ~unknown_school & r["grade"].notna()
    if known.any():
        lvl = school[known].map(schools["level"])
        taught = [int(g) in policy.SCHOOL_GRADES[lv] for g, lv in zip(r.loc[known, "grade"], lvl)]
        not_taught = pd.Series(False, index=r.index)
        not_taught[known] = ~np.array(taught, dtype=bool)
        add(not_taught, "grade",
            lambda i: (f"{school.iat[i]}（{policy.LEVEL_NAMES_ZH[schools.at[school.iat[i], 'level']]}）"
                       f"不开设 {r['grade'].iat[i]} 年级"),
            "请核对年级或学校代码")
    add(r["class_id"].isna(), "class_id", "缺少班级", "请填写班级编号（如 1班）")
    entry_missing = entry_raw.map(_is_blank).to_numpy()
    add(entry_missing, "entry", "缺少入学方式", "入学方式应为 new、transfer_in 或 continuing（新生/转入/在读）")
    add(~entry_missing & r["entry"].isna().to_numpy(), "entry",
        lambda i: f"入学方式无法识别：{entry_raw.iat[i]!r}",
        "入学方式应为 new、transfer_in 或 continuing（新生/转入/在读）")
    if len(zones):
        unit = r["unit_id"]
        known_units = set(zones["unit_id"].dropna())
        add(unit.notna() & ~unit.isin(known_units), "unit_id",
            lambda i: f"居住单元“{unit.iat[i]}”不在片区单元表中", "请核对单元代码（小区/村）")
        add(unit.isna() & (r["entry"] == "new"), "unit_id", "新生缺少居住单元，无法核对是否片区内",
            "请填写新生家庭住址所在的单元代码")
    add(date_bad, "entry_date",
        lambda i: f"日期无法识别：{roster['entry_date'].iat[i]!r}", "日期请写成 2023-09-01 的格式")

    found.sort(key=lambda t: t[0])
    problems = [Problem(file, i + 1, sid.iat[i], col, msg, fix) for i, col, msg, fix in found]
    bad_rows = {i for i, *_ in found}
    ok = np.ones(n, dtype=bool)
    if bad_rows:
        ok[list(bad_rows)] = False
    r["ok"] = ok
    return r, problems


def _merge_problems(own: list[Problem], extra: list[Problem], r: pd.DataFrame) -> list[Problem]:
    """Own problems plus the reader's row errors (the reader's message wins per row and column)."""
    n = len(r)
    extra = [p for p in extra if p.row is not None and 1 <= p.row <= n]
    keys = {(p.row, p.column) for p in extra}
    merged = [p for p in own if (p.row, p.column) not in keys] + extra
    merged.sort(key=lambda p: p.row)
    rows = np.array(sorted({p.row for p in extra}), dtype=int)
    if len(rows):
        ok = r["ok"].to_numpy().copy()
        ok[rows - 1] = False
        r["ok"] = ok
    return merged


# --- the rules --------------------------------------------------------------------------------


def _class_limits(pupils: pd.DataFrame, schools: pd.DataFrame) -> np.ndarray:
    override = pupils["school_id"].map(schools["class_limit"]).to_numpy(dtype=float)
    grades = pupils["grade"].to_numpy()
    return np.array([policy.class_limit(int(g), o) for g, o in zip(grades, override)], dtype=float).astype(int)


def _check_plan(ok: pd.DataFrame, plan: pd.DataFrame | None, schools: pd.DataFrame) -> pd.DataFrame:
    cols = ["school_id", "name", "grade", "planned_classes", "planned_students", "actual_classes",
            "actual_students", "over_classes", "over_students", "violation"]
    if plan is None:
        return pd.DataFrame(columns=cols)
    new = ok[ok["entry"] == "new"].groupby(["school_id", "grade"]).size().rename("actual_students")
    classes = ok.groupby(["school_id", "grade"])["class_id"].nunique().rename("actual_classes")
    p = plan.set_index(["school_id", "grade"])[["planned_classes", "planned_students"]]
    entry_grades = set(policy.ENTRY_GRADE.values())
    unplanned = [k for k in new.index if k not in p.index and k[1] in entry_grades]
    if unplanned:
        extra = pd.DataFrame({"planned_classes": 0.0, "planned_students": 0.0},
                             index=pd.MultiIndex.from_tuples(unplanned, names=["school_id", "grade"]))
        p = pd.concat([p, extra])
    out = p.join(classes, how="left").join(new, how="left").reset_index()
    out["actual_classes"] = out["actual_classes"].fillna(0).astype(int)
    out["actual_students"] = out["actual_students"].fillna(0).astype(int)
    for what in ("classes", "students"):
        planned = out[f"planned_{what}"].astype(float)
        over = (out[f"actual_{what}"] - planned).clip(lower=0).fillna(0)  # blank plan: no limit
        out[f"over_{what}"] = over.astype(int)
        out[f"planned_{what}"] = planned.round().astype("Int64")
    out["violation"] = (out["over_classes"] > 0) | (out["over_students"] > 0)
    out["name"] = out["school_id"].map(schools["name"])
    out["grade"] = out["grade"].astype(int)
    return out.sort_values(["school_id", "grade"], kind="stable")[cols].reset_index(drop=True)


def _check_classes(ok: pd.DataFrame, schools: pd.DataFrame
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    keys = ["school_id", "grade", "class_id"]
    g = ok.groupby(keys, sort=True).size().rename("students")
    new = ok[ok["entry"] == "new"].groupby(keys).size().rename("new_students")
    c = g.to_frame().join(new, how="left").reset_index()
    c["new_students"] = c["new_students"].fillna(0).astype(int)
    c["new_class"] = c["new_students"] > 0
    c["grade"] = c["grade"].astype(int)
    c["limit"] = _class_limits(c, schools)
    c["over_by"] = (c["students"] - c["limit"]).clip(lower=0)
    sizes = c["students"].to_numpy()
    c["category"] = [policy.class_category(int(n)) for n in sizes]
    c["violation"] = c["over_by"] > 0
    c["name"] = c["school_id"].map(schools["name"])
    summary = c.groupby(["school_id", "grade"], sort=True).agg(
        classes=("students", "size"), largest_class=("students", "max"),
        over_limit=("violation", "sum"),
        large_classes=("category", lambda s: int((s == "large").sum())),
        huge_classes=("category", lambda s: int((s == "huge").sum())),
    ).reset_index()
    summary["name"] = summary["school_id"].map(schools["name"])
    summary = summary[["school_id", "name", "grade", "classes", "largest_class", "over_limit",
                       "large_classes", "huge_classes"]]
    for col in ("classes", "largest_class", "over_limit", "large_classes", "huge_classes"):
        summary[col] = summary[col].astype(int)
    flagged = c[c["violation"] | (c["category"] != "normal")]
    flagged = flagged[["school_id", "name", "grade", "class_id", "students", "new_class", "limit",
                       "over_by", "category", "violation"]].reset_index(drop=True)
    return c, flagged, summary


def _check_school_size(ok: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    counts = ok.groupby("school_id").size()
    s = schools[["school_id", "name", "level"]].reset_index(drop=True)
    s["students"] = s["school_id"].map(counts).fillna(0).astype(int)
    s["limit"] = schools["size_limit_eff"].astype(int).to_numpy()
    s["over_by"] = (s["students"] - s["limit"]).clip(lower=0)
    s["violation"] = policy.over_size(s["students"], s["limit"])
    return s.sort_values("school_id", kind="stable").reset_index(drop=True)


def _school_townships(schools: pd.DataFrame, zones: pd.DataFrame) -> pd.Series:
    """Township of each school: its own ``township`` if given, else the mode of its zone's units."""
    own = schools["township"].map(lambda v: None if _is_nan(v) or not str(v).strip() else str(v).strip())
    z = zones.dropna(subset=["school_id", "township"])
    if len(z):
        counts = z.groupby(["school_id", "township"]).size().reset_index(name="n")
        counts = counts.sort_values(["school_id", "n", "township"], ascending=[True, False, True])
        mode = counts.drop_duplicates("school_id").set_index("school_id")["township"]
        own = own.where(own.notna(), schools["school_id"].map(mode))
    return own.astype(object)


def _check_zones(ok: pd.DataFrame, schools: pd.DataFrame, zones: pd.DataFrame,
                 town_townships) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    notes = []
    zone_cols = ["student_id", "row", "school_id", "name", "grade", "class_id", "unit_id",
                 "zoned_school_id", "zoned_school_name"]
    rate_cols = ["school_id", "name", "level", "township", "town", "new_entrants", "in_zone",
                 "out_of_zone", "no_zone", "rate", "required", "violation"]
    new = ok[ok["entry"] == "new"]
    if not len(zones):
        notes.append("没有片区数据（单元的现片区或 --zones 方案），未核对超范围招生。")
        return pd.DataFrame(columns=zone_cols), pd.DataFrame(columns=rate_cols), notes
    zmap = zones.dropna(subset=["school_id"]).set_index(["unit_id", "level"])["school_id"]
    keys = pd.MultiIndex.from_arrays([new["unit_id"], new["level"]])
    zoned = pd.Series(zmap.reindex(keys).to_numpy(), index=new.index, dtype=object)
    no_zone = zoned.isna()
    out = ~no_zone & (zoned != new["school_id"])
    ooz = new[out].copy()
    ooz["zoned_school_id"] = zoned[out]
    ooz["name"] = ooz["school_id"].map(schools["name"])
    ooz["zoned_school_name"] = ooz["zoned_school_id"].map(schools["name"]).fillna("")
    ooz["grade"] = ooz["grade"].astype(int)
    ooz = ooz[zone_cols].sort_values(["school_id", "grade", "class_id", "student_id"], kind="stable")

    t = pd.DataFrame({"school_id": new["school_id"], "level": new["level"],
                      "in_zone": (~no_zone & ~out).astype(int), "out_of_zone": out.astype(int),
                      "no_zone": no_zone.astype(int)})
    rate = t.groupby(["school_id", "level"], sort=True).sum().reset_index()
    rate["new_entrants"] = rate["in_zone"] + rate["out_of_zone"] + rate["no_zone"]
    denom = rate["in_zone"] + rate["out_of_zone"]
    rate["rate"] = np.where(denom > 0, rate["in_zone"] / denom.where(denom > 0, 1), np.nan)
    towns = _school_townships(schools, zones)
    rate["township"] = rate["school_id"].map(towns)
    if towns.notna().any():
        rate["town"] = rate["township"].isin(list(town_townships))
    else:
        rate["town"] = True
        notes.append("学校与单元均无乡镇信息：就近入学率要求对所有学校适用。")
    rate["required"] = rate["level"].map(policy.NEARBY_RATE_MIN).where(rate["town"])
    rate["violation"] = rate["town"] & (denom > 0) & (rate["rate"] < rate["required"] - 1e-12)
    rate["name"] = rate["school_id"].map(schools["name"])
    return ooz.reset_index(drop=True), rate[rate_cols].reset_index(drop=True), notes


def _school_state(classes: dict, limits: dict) -> list[tuple]:
    """The classes of one school over their limit: ``(grade, class_id, pupils, limit)``, sorted."""
    return sorted((g, c, n, limits[(g, c)]) for (g, c), n in classes.items() if n > limits[(g, c)])


def _closing_reasons(total: int, cap: int, basis: str, over: list, n_classes: int, own: tuple,
                     own_count: int, own_limit: int, rooms: float) -> list[str]:
    """Why a school is closed to a transfer on its entry date (empty when it is open).

    The rule is the ledger's (:func:`zoning.policy.closed_to_transfers`): over the size cap, any
    class over its class limit, or more classes than classrooms."""
    over_size = bool(policy.over_size(total, cap))
    over_rooms = policy.over_classrooms(n_classes, rooms)
    if not policy.closed_to_transfers(over_size, bool(over), over_rooms):
        return []
    parts = []
    if over_size:
        parts.append(f"转入时学校已有 {total} 人，超过{basis} {cap}")
    if own_count > own_limit:
        parts.append(f"转入时所在班已有 {own_count} 人，超过班额 {own_limit}")
    others = [o for o in over if (o[0], o[1]) != own]
    if others:
        named = "、".join(f"{g} 年级 {c}（{n} 人，班额 {lim}）" for g, c, n, lim in others[:3])
        more = f"等 {len(others)} 个班" if len(others) > 3 else ""
        parts.append(f"该校已有超班额班级：{named}{more}")
    if over_rooms:
        parts.append(f"全校 {n_classes} 个班，超过教室数 {int(rooms)}")
    return parts


def _check_transfers(ok: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Transfers into a school closed to transfers on the entry date (the county plan: 已存在超标准
    校额、班额的学校禁止转入学生 — whatever class the pupil joins).

    The school's state on a transfer's entry date: every ``new`` and ``continuing`` pupil, plus the
    transfers dated strictly earlier (an undated transfer is judged on the start-of-year state and
    is not counted for the others); the pupil itself is not counted.
    """
    cols = ["student_id", "row", "school_id", "name", "grade", "class_id", "entry_date",
            "school_students", "size_limit", "class_students", "class_limit", "reason"]
    tr_mask = (ok["entry"] == "transfer_in").to_numpy()
    if not tr_mask.any():
        return pd.DataFrame(columns=cols)
    base = ok[~tr_mask]
    tr = ok[tr_mask].copy()
    tr["class_limit"] = _class_limits(tr, schools)
    everyone = ok[["school_id", "grade", "class_id"]].drop_duplicates()
    limit_of = dict(zip(zip(everyone["school_id"], everyone["grade"], everyone["class_id"]),
                        _class_limits(everyone, schools)))
    base_class = base.groupby(["school_id", "grade", "class_id"]).size()
    rows = []
    for sid, mine in tr.groupby("school_id", sort=True):
        cap = int(schools.at[sid, "size_limit_eff"])
        basis = schools.at[sid, "size_basis"]
        rooms = float(schools.at[sid, "classrooms"])
        classes = {(g, c): int(n) for (s_, g, c), n in base_class.items() if s_ == sid}
        limits = {k: int(limit_of[(sid, *k)]) for k in classes}
        limits.update({(g, c): int(lim) for g, c, lim in zip(mine["grade"], mine["class_id"], mine["class_limit"])})
        start = (dict(classes), _school_state(classes, limits))
        state = (classes, start[1])
        dated = mine[mine["entry_date"].notna()].sort_values("entry_date", kind="stable")
        undated = mine[mine["entry_date"].isna()]
        judged = [(r, start) for r in undated.itertuples()]
        for _date, same_day in dated.groupby("entry_date", sort=True):
            snapshot = (dict(state[0]), state[1])
            judged += [(r, snapshot) for r in same_day.itertuples()]
            for r in same_day.itertuples():  # counted for the later transfers only
                key = (r.grade, r.class_id)
                state[0][key] = state[0].get(key, 0) + 1
            state = (state[0], _school_state(state[0], limits))
        for r, (counts, over) in judged:
            own = (r.grade, r.class_id)
            total = sum(counts.values())
            reasons = _closing_reasons(total, cap, basis, over, len(counts), own, counts.get(own, 0),
                                       int(r.class_limit), rooms)
            if reasons:
                rows.append({"student_id": r.student_id, "row": r.row, "school_id": sid,
                             "name": schools.at[sid, "name"], "grade": int(r.grade),
                             "class_id": r.class_id, "entry_date": r.entry_date,
                             "school_students": total, "size_limit": cap,
                             "class_students": counts.get(own, 0), "class_limit": int(r.class_limit),
                             "reason": "；".join(reasons)})
    if not rows:
        return pd.DataFrame(columns=cols)
    bad = pd.DataFrame(rows, columns=cols)
    return bad.sort_values(["school_id", "grade", "class_id", "student_id"],
                           kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class FileLayout:
    """How a file shows its rows and columns to the office: the spreadsheet row of each 1-based
    data row (header and title rows counted; None: data rows as they are) and the office's own
    header of each contract column (a column absent keeps the contract name)."""

    sheet_rows: tuple | None = None
    headers: dict = field(default_factory=dict)

    def row(self, row):
        """The row as the file shows it (``row`` unchanged without sheet rows or out of range)."""
        if row is None or pd.isna(row) or self.sheet_rows is None or not 1 <= int(row) <= len(self.sheet_rows):
            return row
        return int(self.sheet_rows[int(row) - 1])

    def header(self, column):
        """The office's header of contract column ``column`` (the column itself when none)."""
        return self.headers.get(column, column) if isinstance(column, str) else column


def _as_shown(table: pd.DataFrame, layouts: dict, default_file: str) -> pd.DataFrame:
    """``table`` with its ``row`` (and ``column``) as each row's file shows them; ``row`` as integers."""
    if table.empty or "row" not in table.columns:
        return table
    table = table.copy()
    files = table["file"] if "file" in table.columns else pd.Series(default_file, index=table.index)
    plain = FileLayout()
    rows = [layouts.get(f, plain).row(r) for f, r in zip(files, table["row"])]
    table["row"] = pd.array([None if r is None or pd.isna(r) else int(r) for r in rows], dtype="Int64")
    if "column" in table.columns:
        table["column"] = [layouts.get(f, plain).header(c) for f, c in zip(files, table["column"])]
    return table


def check_enrollment(roster: pd.DataFrame, schools: pd.DataFrame, zones: pd.DataFrame | None,
                     plan: pd.DataFrame | None, year: int, *,
                     town_townships=DEFAULT_TOWN_TOWNSHIPS, roster_file: str = "roster",
                     plan_file: str = "plan", extra_problems: list[Problem] | None = None,
                     roster_layout: FileLayout | None = None, plan_layout: FileLayout | None = None
                     ) -> AutumnResult:
    """Check one autumn's roster against the plan, the zones and the limits.

    Parameters
    ----------
    roster : DataFrame
        ``student_id, school_id, grade, class_id, entry, unit_id`` and optional ``entry_date``;
        any other column is ignored (and never copied to a result).
    schools : DataFrame
        ``school_id, name, level`` and optional ``size_limit, class_limit`` (NaN = policy default)
        and ``township``.
    zones : DataFrame or None
        ``unit_id, level, school_id`` (school_id None where the unit has no zone at that level)
        and optional ``township``; see :func:`zones_from_units`, :func:`zones_from_assignments`.
        None or empty: the out-of-zone rule is skipped, unit ids are not checked.
    plan : DataFrame or None
        ``school_id, year, grade, planned_classes, planned_students``; rows of other years are
        ignored. None: the plan rule is skipped.
    year : int
        The autumn checked.
    town_townships : iterable of str
        Townships whose schools are held to the 就近入学 minimum.
    roster_file, plan_file : str
        File names used in the data problems.
    extra_problems : list of Problem, optional
        Row problems the reader already found in the roster (:mod:`geodata.validate`); their
        rows count as rows with a data problem (whatever their severity: the reader reports roster
        rows as warnings and leaves them to this check), and their messages replace this check's
        own for the same row and column. Whole-file problems are ignored here.
    roster_layout, plan_layout : FileLayout, optional
        How the roster and plan files show rows and headers: the tables' ``row`` (data_problems,
        out_of_zone, transfers) become spreadsheet rows and data_problems' ``column`` the office's
        header. Without them, 1-based data rows and contract names.

    Returns
    -------
    AutumnResult
    """
    sch = _school_tables(schools)
    z = _zone_table(zones)
    p = _plan_table(plan, year, sch, plan_file) if plan is not None else None
    r, problems = normalise_roster(roster, sch, z, roster_file, roster_layout)
    if extra_problems:
        problems = _merge_problems(problems, extra_problems, r)
    ok = r[r["ok"]].copy()
    ok["grade"] = ok["grade"].astype(int)
    log.info("学籍 %d 行，其中 %d 行有数据问题", len(r), int((~r["ok"]).sum()))

    plan_t = _check_plan(ok, p, sch)
    all_classes, class_t, class_sum = _check_classes(ok, sch)
    size_t = _check_school_size(ok, sch)
    ooz_t, rate_t, notes = _check_zones(ok, sch, z, town_townships)
    transfer_t = _check_transfers(ok, sch)
    problems_t = pd.DataFrame([q.as_dict() for q in problems],
                              columns=["file", "row", "id", "column", "problem", "fix", "severity"])
    problems_t = problems_t.drop(columns="severity")
    if plan is None:
        notes.append("没有招生计划数据，未核对超计划招生。")

    read = len(r)
    checked = int(r["ok"].sum())
    with_problems = read - checked
    assert read == checked + with_problems  # the reconciliation, by construction
    assert with_problems == problems_t["row"].nunique()
    layouts = {roster_file: roster_layout or FileLayout(), plan_file: plan_layout or FileLayout()}
    problems_t = _as_shown(problems_t, layouts, roster_file)
    ooz_t = _as_shown(ooz_t, layouts, roster_file)
    transfer_t = _as_shown(transfer_t, layouts, roster_file)
    n_classes = len(all_classes)
    n_large = int((all_classes["category"] == "large").sum())
    n_huge = int((all_classes["category"] == "huge").sum())
    counts = {
        "over_plan": int(plan_t["violation"].sum()),
        "over_limit_classes": int(class_t["violation"].sum()),
        "over_size_schools": int(size_t["violation"].sum()),
        "nearby_failures": int(rate_t["violation"].sum()) if len(rate_t) else 0,
        "forbidden_transfers": len(transfer_t),
    }
    summary = {
        "year": int(year),
        "pupils_read": read,
        "pupils_checked": checked,
        "pupils_with_problems": with_problems,
        "data_problems": len(problems_t),
        "schools": len(sch),
        "classes": n_classes,
        "large_classes": n_large,
        "huge_classes": n_huge,
        "large_class_share": (n_large + n_huge) / n_classes if n_classes else 0.0,
        "out_of_zone_pupils": len(ooz_t),
        **counts,
        "violations": sum(counts.values()),
        "town_townships": list(town_townships),
        "notes": notes,
    }
    return AutumnResult(year=int(year), plan=plan_t, class_size=class_t, class_summary=class_sum,
                        school_size=size_t, out_of_zone=ooz_t, nearby_rate=rate_t,
                        transfers=transfer_t, data_problems=problems_t, summary=summary)
