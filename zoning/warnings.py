"""Spring work on the ledger: school-place warnings (学位预警) and the enrollment plan (招生计划).

Pure rules on ledger tables (:func:`zoning.projection.ledger`), so that both come from the one
projection behind ``zoning project``:

* **demand** of a school, level and year = the zone's expected intake for the level's start grade:
  the ledger's ``students_g1`` (primary) or ``students_g7`` (junior) of that year, a new cohort
  placed by the projection with no cap; a nine-year school has one row per level;
* **seats** = the ledger's ``intake_seats`` (classes at the class limit within the classrooms not
  taken by the grades that stay, bounded by the size cap), with ``intake_classes`` classes; for a
  nine-year school, what they leave each level after the other level's demand has its classes
  (:func:`level_rows`);
* **ratio** = demand / seats; 红 from ``red`` (default 1.0), 黄 from ``yellow`` (0.9), else 绿
  (浙教基〔2018〕100号 practice; thresholds from ``scenario.toml [warnings]``). A school with demand
  and no seat is 红 (ratio left blank).

The enrollment plan of a year gives each school and start grade the classes and pupils it can take:
never above ``intake_classes`` / ``intake_seats``; a nine-year school shares them between grades 1
and 7 in proportion to what each needs. Where the intake exceeds the seats, the shortfall goes to the
nearest schools with free places in that start grade that year (``neighbours``: school ids by
distance), and is planned there: the receiving school's planned pupils and classes include it.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import policy

WARNING_COLUMNS = ["school_id", "name", "level", "year", "demand", "seats", "ratio", "warning", "reason",
                   "suggestion"]
PLAN_COLUMNS = ["school_id", "year", "grade", "planned_classes", "planned_students"]
PLAN_DETAIL_COLUMNS = ["school_id", "name", "level", "year", "grade", "demand", "seats", "seat_classes",
                       "planned_classes", "planned_students", "shortfall", "destination"]
RED, YELLOW, GREEN = "红", "黄", "绿"


def entry_grades(kind: str) -> list[int]:
    """The start grades a school of ``kind`` admits (1, 7 or both)."""
    return [policy.ENTRY_GRADE[lv] for lv in policy.SERVES[kind]]


def admitting(ledger: pd.DataFrame, years) -> pd.DataFrame:
    """Ledger rows of ``years`` of the schools admitting (seats offered or pupils zoned to them),
    with ``demand`` (the zone's intake for the start grades) and ``spare`` (seats − demand)."""
    led = ledger[ledger["year"].isin(list(years))].copy()
    led["demand"] = [int(sum(getattr(r, f"students_g{g}") for g in entry_grades(r.level)))
                     for r in led.itertuples()]
    led = led[(led["intake_seats"] > 0) | (led["demand"] > 0)]
    led["spare"] = led["intake_seats"] - led["demand"]
    return led.reset_index(drop=True)


def warning_level(demand: float, seats: float, red: float = 1.0, yellow: float = 0.9) -> str:
    """红 when demand reaches ``red`` × seats (or there are no seats for it), 黄 from ``yellow``, else 绿."""
    if seats <= 0:
        return RED if demand > 0 else GREEN
    ratio = demand / seats
    if ratio >= red - 1e-12:
        return RED
    if ratio >= yellow - 1e-12:
        return YELLOW
    return GREEN


def level_rows(ledger: pd.DataFrame, years, class_limits: dict | None = None) -> pd.DataFrame:
    """One row per admitting school, level and year of ``years``: the level's ``demand`` (grade 1
    for primary, grade 7 for junior) against the level's seats (``intake_seats`` /
    ``intake_classes``), and ``spare`` (seats − demand).

    A single-level school's seats are the ledger's. A nine-year school gets one row per level: its
    grade-1 seats are what its free classrooms and size room still give after the year's grade-7
    demand has its classes (and the other way round), so a primary shortfall cannot hide behind
    the combined figure. ``kind`` keeps the school's own level (primary, junior, nine_year).
    """
    led = admitting(ledger, years)
    limits = class_limits or {}
    rows = []
    for r in led.itertuples():
        grades = entry_grades(r.level)
        for g in grades:
            demand = int(getattr(r, f"students_g{g}"))
            seats, classes = int(r.intake_seats), int(r.intake_classes)
            for other in (x for x in grades if x != g):
                other_demand = int(getattr(r, f"students_g{other}"))
                other_limit = float(limits.get((r.school_id, other), policy.class_limit_for_grade(other)))
                classes = max(classes - int(math.ceil(other_demand / other_limit - 1e-9)), 0)
                limit = float(limits.get((r.school_id, g), policy.class_limit_for_grade(g)))
                seats = max(min(seats - other_demand, int(classes * limit)), 0)
            if seats <= 0 and demand <= 0:
                continue
            rows.append({"school_id": r.school_id, "name": r.name, "kind": r.level,
                         "level": "primary" if g <= 6 else "junior", "year": int(r.year), "grade": g,
                         "demand": demand, "intake_seats": seats, "intake_classes": classes,
                         "spare": seats - demand})
    cols = ["school_id", "name", "kind", "level", "year", "grade", "demand", "intake_seats", "intake_classes",
            "spare"]
    return pd.DataFrame(rows, columns=cols)


def _spare_schools(row, rows_by_key: dict, neighbours: dict | None, limit: int = 3) -> list[tuple[str, int]]:
    """The nearest schools with spare seats at the row's level in the row's year: (name, spare)."""
    same = {sid: r for (sid, lv), r in rows_by_key.items() if lv == row.level}
    order = (neighbours or {}).get(row.school_id)
    if order is None:  # no distances: most spare seats first
        order = sorted(same, key=lambda s: (-same[s].spare, s))
    out = []
    for sid in order:
        other = same.get(sid)
        if sid == row.school_id or other is None or other.spare <= 0:
            continue
        out.append((other.name, int(other.spare)))
        if len(out) >= limit:
            break
    return out


def _binding(row) -> str:
    """What bounds the seats: the free classrooms or the size cap."""
    limit = policy.CLASS_LIMIT[row.level]
    if row.intake_seats < row.intake_classes * limit:
        return f"学位受校额（学位数）余量限制，可招 {row.intake_seats} 人"
    return f"可用教室 {row.intake_classes} 间，按班额开班可招 {row.intake_seats} 人"


def _shared(row) -> str:
    """For a nine-year school: the seats are what the other level's intake leaves."""
    if row.kind != "nine_year":
        return ""
    other = "七年级" if row.level == "primary" else "一年级"
    return f"（九年一贯制：{other}新生占用后余下的学位）"


def _reason(row, level: str) -> str:
    grade = "一年级" if row.grade == 1 else "七年级"
    if row.intake_seats <= 0:
        return f"{grade}片区预计新生 {row.demand} 人，该校本年没有可招学位（教室或校额已满）{_shared(row)}"
    share = f"{row.demand / row.intake_seats:.0%}"
    head = (f"{grade}片区预计新生 {row.demand} 人，可招学位 {row.intake_seats} 人（{row.intake_classes} 个班）"
            f"{_shared(row)}，需求为学位的 {share}")
    if level == GREEN:
        return head + "，学位充足"
    return head + "；" + _binding(row)


def _suggestion(row, level: str, spare: list[tuple[str, int]]) -> str:
    if level == GREEN:
        return "无需预警"
    where = "、".join(f"{name}（余 {n} 个学位）" for name, n in spare) or "附近同学段学校均无余位"
    if level == YELLOW:
        return ("公布黄色学位预警，提示片区内家庭学位紧张；关注入学登记人数，"
                f"必要时把部分单元划给有余位的学校：{where}")
    over = max(int(row.demand - row.intake_seats), 0)
    move = f"超出 {over} 人：" if over else "学位已满："
    return (f"{move}提前公布红色学位预警；调整片区，把部分单元划给邻近有余位的学校：{where}；"
            "或增加教室、控制班额")


def warnings_table(ledger: pd.DataFrame, years, red: float = 1.0, yellow: float = 0.9,
                   neighbours: dict | None = None, class_limits: dict | None = None) -> pd.DataFrame:
    """One row per admitting school, level and year (:func:`level_rows`; a nine-year school has a
    primary and a junior row): demand, seats, ratio, 红/黄/绿, reason, suggestion."""
    led = level_rows(ledger, years, class_limits)
    rows = []
    for year, grp in led.groupby("year", sort=True):
        by_key = {(r.school_id, r.level): r for r in grp.itertuples()}
        for r in grp.itertuples():
            level = warning_level(r.demand, r.intake_seats, red, yellow)
            ratio = round(r.demand / r.intake_seats, 3) if r.intake_seats > 0 else np.nan
            spare = _spare_schools(r, by_key, neighbours) if level != GREEN else []
            rows.append({"school_id": r.school_id, "name": r.name, "level": r.level, "year": int(year),
                         "demand": int(r.demand), "seats": int(r.intake_seats), "ratio": ratio,
                         "warning": level, "reason": _reason(r, level),
                         "suggestion": _suggestion(r, level, spare)})
    out = pd.DataFrame(rows, columns=WARNING_COLUMNS)
    return out.sort_values(["year", "school_id", "level"], key=_level_order, kind="stable").reset_index(drop=True)


def _level_order(col: pd.Series) -> pd.Series:
    """Sort key: primary before junior (other columns as they are)."""
    return col.map({"primary": 0, "junior": 1}) if col.name == "level" else col


# ------------------------------------------------------------------------------ the enrollment plan
def split_within(total: int, wants: list[int]) -> list[int]:
    """Share ``total`` among ``wants`` (each at most its want) in proportion, largest remainder
    first, ties to the first; everything each wants when the total suffices."""
    total = max(int(total), 0)
    if sum(wants) <= total:
        return list(wants)
    whole = sum(wants)
    exact = [total * w / whole for w in wants]
    got = [int(math.floor(x)) for x in exact]
    left = total - sum(got)
    for i in sorted(range(len(wants)), key=lambda i: (-(exact[i] - got[i]), i))[:left]:
        got[i] += 1
    return [min(g, w) for g, w in zip(got, wants)]


def _school_plan(r, class_limits: dict) -> list[dict]:
    """Planned classes and pupils per start grade of one school and year (never above its seats)."""
    grades = entry_grades(r.level)
    limits = [float(class_limits.get((r.school_id, g), policy.class_limit_for_grade(g))) for g in grades]
    demand = [int(getattr(r, f"students_g{g}")) for g in grades]
    need = [int(getattr(r, f"classes_g{g}")) for g in grades]
    classes = split_within(int(r.intake_classes), need)
    pupils = [min(d, int(c * lim)) for d, c, lim in zip(demand, classes, limits)]
    pupils = split_within(int(r.intake_seats), pupils)
    classes = [min(c, int(math.ceil(p / lim - 1e-9))) if p < d else c
               for c, p, d, lim in zip(classes, pupils, demand, limits)]
    return [{"grade": g, "demand": d, "planned_classes": c, "planned_students": p}
            for g, d, c, p in zip(grades, demand, classes, pupils)]


def _free_places(plan: pd.DataFrame, led: pd.DataFrame, class_limits: dict) -> dict:
    """(school_id, grade) -> pupils the school can still take in that start grade: within its seats
    left after its own plan, and within the classes left (classrooms) at the grade's class limit."""
    seats = dict(zip(led["school_id"], led["intake_seats"].astype(int)))
    rooms = dict(zip(led["school_id"], led["intake_classes"].astype(int)))
    used = plan.groupby("school_id")[["planned_students", "planned_classes"]].sum()
    free = {}
    for r in plan.itertuples():
        limit = int(class_limits.get((r.school_id, r.grade), policy.class_limit_for_grade(r.grade)))
        seats_left = seats[r.school_id] - int(used.at[r.school_id, "planned_students"])
        rooms_left = rooms[r.school_id] - int(used.at[r.school_id, "planned_classes"])
        in_classes = rooms_left * limit + (int(r.planned_classes) * limit - int(r.planned_students))
        free[(r.school_id, int(r.grade))] = max(min(seats_left, in_classes), 0)
    return free


def _destinations(plan: pd.DataFrame, led: pd.DataFrame, neighbours: dict | None,
                  class_limits: dict) -> tuple[list[str], list[tuple[int, str, int]]]:
    """Where each school's shortfall goes: the nearest schools with free places left in the same
    start grade (each place given once, the largest shortfalls first).

    Returns the text per plan row and the moves (plan row, receiving school_id, pupils)."""
    free = _free_places(plan, led, class_limits)
    names = dict(zip(led["school_id"], led["name"]))
    text = [""] * len(plan)
    moves_made: list[tuple[int, str, int]] = []
    order = sorted(range(len(plan)), key=lambda i: (-plan["shortfall"].iat[i], plan["school_id"].iat[i],
                                                     plan["grade"].iat[i]))
    for i in order:
        short = int(plan["shortfall"].iat[i])
        if short <= 0:
            continue
        sid, grade = plan["school_id"].iat[i], int(plan["grade"].iat[i])
        candidates = (neighbours or {}).get(sid) or sorted(names, key=lambda s: (-free.get((s, grade), 0), s))
        moves = []
        for other in candidates:
            if other == sid or free.get((other, grade), 0) <= 0:
                continue
            n = min(short, free[(other, grade)])
            free[(other, grade)] -= n
            short -= n
            moves.append(f"{names[other]} {n} 人")
            moves_made.append((i, other, n))
            if short == 0:
                break
        parts = (["调剂到 " + "、".join(moves)] if moves else []) + (
            [f"另有 {short} 人无学位可去，需增加学位"] if short else [])
        text[i] = "；".join(parts)
    return text, moves_made


def _receive(plan: pd.DataFrame, moves: list[tuple[int, str, int]], class_limits: dict) -> pd.DataFrame:
    """The redirected pupils in the receiving schools' plan: their planned pupils grow by what they
    take (within the free places), their planned classes to hold them at the class limit, and the
    row says from where ("接收调剂 平罗四中 143 人")."""
    plan = plan.copy()
    at = {(s, int(g)): k for k, (s, g) in enumerate(zip(plan["school_id"], plan["grade"]))}
    taken: dict[int, list[str]] = {}
    students, classes = plan.columns.get_loc("planned_students"), plan.columns.get_loc("planned_classes")
    for i, other, n in moves:
        k = at[(other, int(plan["grade"].iat[i]))]
        plan.iat[k, students] = int(plan.iat[k, students]) + n
        taken.setdefault(k, []).append(f"{plan['name'].iat[i]} {n} 人")
    where = plan.columns.get_loc("destination")
    for k, sources in taken.items():
        sid, grade = plan["school_id"].iat[k], int(plan["grade"].iat[k])
        limit = float(class_limits.get((sid, grade), policy.class_limit_for_grade(grade)))
        plan.iat[k, classes] = max(int(plan.iat[k, classes]), int(math.ceil(plan.iat[k, students] / limit - 1e-9)))
        note = "接收调剂 " + "、".join(sources)
        plan.iat[k, where] = f"{plan.iat[k, where]}；{note}" if plan.iat[k, where] else note
    return plan


def enrollment_plan(ledger: pd.DataFrame, year: int, class_limits: dict | None = None,
                    neighbours: dict | None = None) -> pd.DataFrame:
    """The enrollment plan of ``year``: one row per admitting school and start grade with the
    contract's plan columns, plus the zone's demand, the seats, the shortfall and where it goes.

    A shortfall redirected to another school is in that school's planned pupils and classes
    (within its free places), so the plan's pupils per start grade add up to the projected intake
    (less any pupils no school has a place for, which the row names).

    ``class_limits`` maps (school_id, grade) to the school's class limit (policy default otherwise).
    """
    led = admitting(ledger, [year])
    rows = []
    for r in led.itertuples():
        for p in _school_plan(r, class_limits or {}):
            rows.append({"school_id": r.school_id, "name": r.name, "level": r.level, "year": int(year),
                         "seats": int(r.intake_seats), "seat_classes": int(r.intake_classes), **p})
    plan = pd.DataFrame(rows, columns=[c for c in PLAN_DETAIL_COLUMNS if c not in ("shortfall", "destination")])
    plan["shortfall"] = (plan["demand"] - plan["planned_students"]).clip(lower=0).astype(int)
    plan["destination"], moves = _destinations(plan, led, neighbours, class_limits or {})
    plan = _receive(plan, moves, class_limits or {})
    return plan[PLAN_DETAIL_COLUMNS].sort_values(["school_id", "grade"], kind="stable").reset_index(drop=True)


def over_seats(plan: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """Plan rows (summed per school and year) above the ledger's intake classes or seats: the check
    every enrollment plan passes before it is written (empty when the plan is within the seats)."""
    if plan.empty:
        return plan
    tot = plan.groupby(["school_id", "year"], as_index=False)[["planned_classes", "planned_students"]].sum()
    m = tot.merge(ledger[["school_id", "year", "intake_classes", "intake_seats"]], on=["school_id", "year"])
    bad = (m["planned_classes"] > m["intake_classes"]) | (m["planned_students"] > m["intake_seats"])
    return m[bad].reset_index(drop=True)


def neighbours_by_distance(school_ids, xy) -> dict:
    """Each school's other schools, nearest first (straight line between school points, metres;
    ties by id). ``xy``: (S, 2) array, or None (no order: most spare seats first)."""
    if xy is None:
        return {}
    ids = [str(s) for s in school_ids]
    xy = np.asarray(xy, dtype=float)
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    return {sid: [ids[j] for j in sorted(range(len(ids)), key=lambda j: (d[i, j], ids[j])) if j != i]
            for i, sid in enumerate(ids)}


def class_limits_of(school_ids, class_limit) -> dict:
    """(school_id, grade) -> class limit, from the problem's (S, 9) array."""
    return {(str(sid), g): float(class_limit[i, g - 1]) for i, sid in enumerate(school_ids) for g in (1, 7)}
