"""Spring work on the ledger: school-place warnings (学位预警) and the enrollment plan (招生计划).

Pure rules on ledger tables (:func:`zoning.projection.ledger`), so that both come from the one
projection behind ``zoning project``:

* **demand** of a school in a year = the zone's expected intake for the start grades (1 and 7) it
  teaches: the ledger's ``students_g1`` (+ ``students_g7``) of that year, a new cohort placed by the
  projection with no cap;
* **seats** = the ledger's ``intake_seats`` (classes at the class limit within the classrooms not
  taken by the grades that stay, bounded by the size cap), with ``intake_classes`` classes;
* **ratio** = demand / seats; 红 from ``red`` (default 1.0), 黄 from ``yellow`` (0.9), else 绿
  (浙教基〔2018〕100号 practice; thresholds from ``scenario.toml [warnings]``). A school with demand
  and no seat is 红 (ratio left blank).

The enrollment plan of a year gives each school and start grade the classes and pupils it can take:
never above ``intake_classes`` / ``intake_seats``; a nine-year school shares them between grades 1
and 7 in proportion to what each needs. Where the intake exceeds the seats, the shortfall goes to the
nearest schools of the same level with spare seats that year (``neighbours``: school ids by distance).
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


def _serves_same_level(kind_a: str, kind_b: str) -> bool:
    return bool(set(policy.SERVES[kind_a]) & set(policy.SERVES[kind_b]))


def _spare_schools(row, rows_by_id: dict, neighbours: dict | None, limit: int = 3) -> list[tuple[str, int]]:
    """The nearest schools of the same level with spare seats in the row's year: (name, spare)."""
    order = (neighbours or {}).get(row.school_id)
    if order is None:  # no distances: most spare seats first
        order = sorted(rows_by_id, key=lambda s: (-rows_by_id[s].spare, s))
    out = []
    for sid in order:
        other = rows_by_id.get(sid)
        if sid == row.school_id or other is None or other.spare <= 0:
            continue
        if _serves_same_level(row.level, other.level):
            out.append((other.name, int(other.spare)))
        if len(out) >= limit:
            break
    return out


def _binding(row) -> str:
    """What bounds the seats: the free classrooms or the size cap."""
    limit = policy.CLASS_LIMIT["primary" if row.level == "primary" else "junior"]  # the ledger's: the larger
    if row.intake_seats < row.intake_classes * limit:
        return f"学位受校额（学位数）余量限制，可招 {row.intake_seats} 人"
    return f"可用教室 {row.intake_classes} 间，按班额开班可招 {row.intake_seats} 人"


def _reason(row, level: str) -> str:
    if row.intake_seats <= 0:
        return f"片区预计新生 {row.demand} 人，该校本年没有可招学位（教室或校额已满）"
    share = f"{row.demand / row.intake_seats:.0%}"
    head = f"片区预计新生 {row.demand} 人，可招学位 {row.intake_seats} 人（{row.intake_classes} 个班），需求为学位的 {share}"
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
                   neighbours: dict | None = None) -> pd.DataFrame:
    """One row per admitting school and year: demand, seats, ratio, 红/黄/绿, reason, suggestion."""
    led = admitting(ledger, years)
    rows = []
    for year, grp in led.groupby("year", sort=True):
        by_id = {r.school_id: r for r in grp.itertuples()}
        for r in grp.itertuples():
            level = warning_level(r.demand, r.intake_seats, red, yellow)
            ratio = round(r.demand / r.intake_seats, 3) if r.intake_seats > 0 else np.nan
            spare = _spare_schools(r, by_id, neighbours) if level != GREEN else []
            rows.append({"school_id": r.school_id, "name": r.name, "level": r.level, "year": int(year),
                         "demand": int(r.demand), "seats": int(r.intake_seats), "ratio": ratio,
                         "warning": level, "reason": _reason(r, level),
                         "suggestion": _suggestion(r, level, spare)})
    out = pd.DataFrame(rows, columns=WARNING_COLUMNS)
    return out.sort_values(["year", "school_id"], kind="stable").reset_index(drop=True)


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


def _destinations(plan: pd.DataFrame, led: pd.DataFrame, neighbours: dict | None) -> list[str]:
    """Where each school's shortfall goes: the nearest schools of the level with free seats left
    (each seat given once, the largest shortfalls first)."""
    free = {r.school_id: int(r.intake_seats) - int(r.planned) for r in led.itertuples()}
    kind = dict(zip(led["school_id"], led["level"]))
    names = dict(zip(led["school_id"], led["name"]))
    text = [""] * len(plan)
    order = sorted(range(len(plan)), key=lambda i: (-plan["shortfall"].iat[i], plan["school_id"].iat[i],
                                                     plan["grade"].iat[i]))
    for i in order:
        short = int(plan["shortfall"].iat[i])
        if short <= 0:
            continue
        sid = plan["school_id"].iat[i]
        grade_level = "primary" if plan["grade"].iat[i] <= 6 else "junior"
        candidates = (neighbours or {}).get(sid) or sorted(free, key=lambda s: (-free[s], s))
        moves = []
        for other in candidates:
            if other == sid or free.get(other, 0) <= 0 or grade_level not in policy.SERVES[kind[other]]:
                continue
            n = min(short, free[other])
            free[other] -= n
            short -= n
            moves.append(f"{names[other]} {n} 人")
            if short == 0:
                break
        parts = (["调剂到 " + "、".join(moves)] if moves else []) + (
            [f"另有 {short} 人无学位可去，需增加学位"] if short else [])
        text[i] = "；".join(parts)
    return text


def enrollment_plan(ledger: pd.DataFrame, year: int, class_limits: dict | None = None,
                    neighbours: dict | None = None) -> pd.DataFrame:
    """The enrollment plan of ``year``: one row per admitting school and start grade with the
    contract's plan columns, plus the zone's demand, the seats, the shortfall and where it goes.

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
    led = led.assign(planned=led["school_id"].map(plan.groupby("school_id")["planned_students"].sum()).fillna(0))
    plan["destination"] = _destinations(plan, led, neighbours)
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
