"""The independent plan checker (after GerryChain's ``constraints/validity.py``).

Each check is a small named function that looks at a plan from the outside — the assignment table
as written, the inputs, the projected ledger — and reports what failed and where (school, unit,
year). Nothing here reads solver variables: a plan is judged by what it does, not by what the
solver said. ``zoning plan`` runs every check before it writes a proposal; ``zoning check-plan``
runs them on any saved proposal, including one edited by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import policy
from .problem import ZoningProblem
from .projection import ZoneMaps, project, ledger as make_ledger
from .scenario import Scenario

STRUCTURAL = ("assigned_once", "known_ids", "students_conserved", "contiguity", "distance_caps",
              "locks", "barriers")
LIMITS = ("class_limit", "size_limit", "classrooms")


@dataclass
class CheckResult:
    name: str
    title: str  # Chinese
    failures: list = field(default_factory=list)  # dicts with a Chinese "detail" and where-fields
    notes: list = field(default_factory=list)  # accepted exceptions, reported but not failures

    @property
    def ok(self) -> bool:
        return not self.failures


# ------------------------------------------------------------------------------ structure
def check_assigned_once(problem: ZoningProblem, assignments: pd.DataFrame, levels) -> CheckResult:
    """Every unit has exactly one school per level and zone map."""
    res = CheckResult("assigned_once", "每个单元每个学段恰好划入一所学校")
    for level in levels:
        a = assignments[assignments["level"] == level]
        for change_year, grp in a.groupby("change_year"):
            counts = grp["unit_id"].value_counts()
            for uid, n in counts[counts > 1].items():
                res.failures.append({"unit_id": uid, "level": level, "year": int(change_year),
                                     "detail": f"单元 {uid} 在{policy.LEVEL_NAMES_ZH[level]}被划入 {n} 所学校"})
            missing = sorted(set(problem.unit_ids) - set(grp["unit_id"]))
            for uid in missing:
                res.failures.append({"unit_id": uid, "level": level, "year": int(change_year),
                                     "detail": f"单元 {uid} 在{policy.LEVEL_NAMES_ZH[level]}没有划入任何学校"})
    return res


def check_known_ids(problem: ZoningProblem, assignments: pd.DataFrame) -> CheckResult:
    """Units and schools exist, and each school teaches the level it is zoned for."""
    res = CheckResult("known_ids", "单元与学校编号有效，学校学段相符")
    units = set(problem.unit_ids)
    sidx = problem.school_index()
    for row in assignments.itertuples():
        if row.unit_id not in units:
            res.failures.append({"unit_id": row.unit_id, "detail": f"未知单元 {row.unit_id}"})
        s = sidx.get(str(row.school_id))
        if s is None:
            res.failures.append({"unit_id": row.unit_id, "school_id": row.school_id,
                                 "detail": f"单元 {row.unit_id} 划入了不存在的学校 {row.school_id}"})
        elif row.level not in policy.SERVES[problem.school_kind[s]]:
            res.failures.append({"unit_id": row.unit_id, "school_id": row.school_id,
                                 "detail": f"{problem.school_names[s]} 不招收{policy.LEVEL_NAMES_ZH[row.level]}"})
    return res


def check_students_conserved(problem: ZoningProblem, assignments: pd.DataFrame, proj, levels) -> CheckResult:
    """Pupils in = pupils out: per unit and level, and every projected entrant has a school."""
    res = CheckResult("students_conserved", "学生人数守恒（无遗漏、无重复）")
    uidx = problem.unit_index()
    for level in levels:
        grades = policy.LEVEL_GRADES[level]
        expected = problem.residents[:, [g - 1 for g in grades]].sum(axis=1)
        a = assignments[assignments["level"] == level]
        last = a[a["change_year"] == a["change_year"].max()] if len(a) else a
        got = np.zeros(problem.n_units)
        for row in last.itertuples():
            if row.unit_id in uidx:
                got[uidx[row.unit_id]] += float(row.students)
        diff = np.flatnonzero(np.abs(got - expected) > 0.5)
        for u in diff:
            res.failures.append({"unit_id": problem.unit_ids[u], "level": level,
                                 "detail": f"单元 {problem.unit_ids[u]}（{problem.unit_names[u]}）"
                                           f"{policy.LEVEL_NAMES_ZH[level]}学生应为 {expected[u]:.0f} 人，方案中为 {got[u]:.0f} 人"})
        if abs(got.sum() - expected.sum()) > 0.5 and not len(diff):
            res.failures.append({"level": level, "detail": f"{policy.LEVEL_NAMES_ZH[level]}学生总数不符"})
    for (level, year), n in sorted((proj.unplaced or {}).items()):
        if level in levels:
            res.failures.append({"level": level, "year": year,
                                 "detail": f"{year} 年有 {n:.0f} 名{policy.LEVEL_NAMES_ZH[level]}新生所在单元没有学校"})
    return res


def _zone_pieces(problem: ZoningProblem, members: np.ndarray, comp: np.ndarray, nbrs) -> list:
    """Connected pieces of a set of units, per component of the adjacency graph."""
    member = set(int(u) for u in members)
    seen, pieces = set(), []
    for start in sorted(member):
        if start in seen:
            continue
        stack, piece = [start], []
        seen.add(start)
        while stack:
            u = stack.pop()
            piece.append(u)
            for v in nbrs[u]:
                if v in member and v not in seen:
                    seen.add(v)
                    stack.append(v)
        pieces.append(piece)
    return pieces


def check_contiguity(problem: ZoningProblem, zones: ZoneMaps, levels, scenario: Scenario) -> CheckResult:
    """Zones are contiguous: every piece of a zone within a component of the adjacency graph holds
    the zone's root there, or is an enclave kept from the status quo.

    Components are the parts the graph falls into (islands, areas cut off by barriers). The root of
    a school in a component is the unit of its current zone (else any allowed unit) with the
    shortest trip (:func:`zoning.model.zone_roots`, on the pairs the scenario allows). A detached
    piece holding a unit that stays in its current zone, or a locked unit, is accepted and listed.
    """
    from .model import candidate_pairs, zone_roots

    res = CheckResult("contiguity", "片区连片（孤立单元除外）")
    comp = problem.components()
    nbrs = problem.neighbours()
    sidx = problem.school_index()
    uidx = problem.unit_index()
    locked = {uidx[u]: sidx[s] for u, s in scenario.locks.items() if u in uidx and s in sidx}
    for level in levels:
        cur = problem.current[level]
        for start, arr in zones.maps[level]:
            allowed = candidate_pairs(problem, scenario, level, start, [])
            roots = set(zip(allowed.loc[zone_roots(problem, allowed, level), "unit"],
                            allowed.loc[zone_roots(problem, allowed, level), "school"]))
            for s in np.unique(arr[arr >= 0]):
                pieces = _zone_pieces(problem, np.flatnonzero(arr == s), comp, nbrs)
                if len(pieces) < 2 or len({comp[p[0]] for p in pieces}) == len(pieces):
                    continue
                for piece in pieces:
                    if any((u, s) in roots for u in piece):
                        continue
                    if any(cur[u] == s or locked.get(u) == s for u in piece):
                        if sum(comp[p[0]] == comp[piece[0]] for p in pieces) > 1:
                            res.notes.append(
                                f"{problem.school_names[s]}（{start} 年起）的{policy.LEVEL_NAMES_ZH[level]}片区有一块飞地："
                                + "、".join(problem.unit_names[u] for u in piece[:5]) + "（保留现行划片或锁定）")
                        continue
                    if sum(comp[p[0]] == comp[piece[0]] for p in pieces) < 2:
                        continue  # the only piece in its component
                    names = "、".join(problem.unit_names[u] for u in piece[:5])
                    res.failures.append({
                        "school_id": problem.school_ids[s], "level": level, "year": int(start),
                        "unit_id": ",".join(problem.unit_ids[u] for u in piece),
                        "detail": f"{problem.school_names[s]}（{start} 年起）的{policy.LEVEL_NAMES_ZH[level]}片区分成 "
                                  f"{sum(comp[p[0]] == comp[piece[0]] for p in pieces)} 块：{names} 与片区主体不相连",
                    })
    return res


def _pair_distance(problem: ZoningProblem, level: str, u: int, s: int, table: dict) -> float | None:
    d = table.get((level, u, s))
    if d is None and problem.unit_xy is not None and problem.school_xy is not None:
        d = float(np.hypot(*(problem.unit_xy[u] - problem.school_xy[s])))
    return d


def _pair_table(problem: ZoningProblem) -> dict:
    p = problem.pairs
    return {(lv, u, s): d for lv, u, s, d in zip(p["level"], p["unit"], p["school"], p["distance_m"])}


def check_distance_caps(problem: ZoningProblem, zones: ZoneMaps, scenario: Scenario, levels) -> CheckResult:
    """Trips within the absolute cap and the cap relative to the current trip (current zone exempt)."""
    res = CheckResult("distance_caps", "上学距离不超过上限（最近的学校除外）")
    table = _pair_table(problem)
    for level in levels:
        caps = scenario.caps[level]
        cur = problem.current[level]
        p = problem.pairs[(problem.pairs["level"] == level)
                          & problem.is_open(scenario.intake_year)[problem.pairs["school"].to_numpy()]]
        nearest = p.groupby("unit")["distance_m"].min()
        for start, arr in zones.maps[level]:
            for u in range(problem.n_units):
                s = arr[u]
                if s < 0 or s == cur[u]:
                    continue
                d = _pair_distance(problem, level, u, s, table)
                if d is None:
                    continue
                dc = _pair_distance(problem, level, u, cur[u], table) if cur[u] >= 0 else None
                limit = caps.max_km * 1000
                if dc is not None:
                    limit = min(limit, max(caps.max_ratio * dc, caps.free_km * 1000))
                limit = max(limit, float(nearest.get(u, 0.0)))
                if d > limit + 1e-6:
                    res.failures.append({
                        "unit_id": problem.unit_ids[u], "school_id": problem.school_ids[s], "level": level,
                        "detail": f"{problem.unit_names[u]} 到 {problem.school_names[s]} {d / 1000:.2f} 公里，超过上限 {limit / 1000:.2f} 公里",
                    })
    return res


def check_locks(problem: ZoningProblem, zones: ZoneMaps, scenario: Scenario, levels) -> CheckResult:
    """Locked units are zoned to the school they are locked to."""
    res = CheckResult("locks", "锁定单元保持指定学校")
    uidx, sidx = problem.unit_index(), problem.school_index()
    for uid, sid in scenario.locks.items():
        if uid not in uidx or sid not in sidx:
            res.failures.append({"unit_id": uid, "school_id": sid, "detail": f"锁定设置 {uid} = {sid} 中有未知编号"})
            continue
        u, s = uidx[uid], sidx[sid]
        for level in levels:
            if level not in policy.SERVES[problem.school_kind[s]]:
                continue
            for start, arr in zones.maps[level]:
                if start >= scenario.intake_year and arr[u] != s:
                    got = problem.school_names[arr[u]] if arr[u] >= 0 else "无"
                    res.failures.append({"unit_id": uid, "school_id": sid, "level": level,
                                         "detail": f"{problem.unit_names[u]} 锁定为 {problem.school_names[s]}，方案中为 {got}"})
    return res


def check_barriers(problem: ZoningProblem, zones: ZoneMaps, scenario: Scenario, levels) -> CheckResult:
    """No primary pupil is sent across a barrier without a crossing (unless the scenario allows it)."""
    res = CheckResult("barriers", "小学生上学不穿越铁路、干道、水渠等障碍")
    if "primary" not in levels or scenario.barrier_rule != "forbid":
        return res
    p = problem.pairs
    crossing = set(zip(p.loc[p["crosses_barrier"] & (p["level"] == "primary"), "unit"],
                       p.loc[p["crosses_barrier"] & (p["level"] == "primary"), "school"]))
    cur = problem.current["primary"]
    for start, arr in zones.maps["primary"]:
        if start < scenario.intake_year:
            continue
        for u in range(problem.n_units):
            if (u, arr[u]) in crossing and arr[u] != cur[u]:
                res.failures.append({"unit_id": problem.unit_ids[u], "school_id": problem.school_ids[arr[u]],
                                     "detail": f"{problem.unit_names[u]} 的小学生到 {problem.school_names[arr[u]]} 要穿越障碍且附近没有通道"})
    return res


# ------------------------------------------------------------------------------ limits
def check_limits(problem: ZoningProblem, ledger: pd.DataFrame, scenario: Scenario) -> list[CheckResult]:
    """Class, size and classroom limits on the projected ledger, years from the first intake on.

    New classes must be within the class limit every year; enrollment within the size limit and
    seat capacity from the target year on, and not above the base year before it; classes of the
    new cohorts within the classrooms left free.
    """
    cls = CheckResult("class_limit", "新开班级不超过班额上限")
    size = CheckResult("size_limit", "学校规模不超过校额上限（目标年份前不再增长）")
    rooms = CheckResult("classrooms", "班级数不超过教室数")
    sidx = problem.school_index()
    base = ledger[ledger["year"] == problem.base_year].set_index("school_id")
    for row in ledger[ledger["year"] >= scenario.intake_year].itertuples():
        s = sidx[row.school_id]
        k = row.year - problem.base_year
        # class limit, new cohorts only (pupils enrolled before the new zones keep their classes)
        for g in range(1, 10):
            gb = g - k
            if gb >= 1 and (gb <= 6) == (g <= 6):
                continue
            n, c = getattr(row, f"students_g{g}"), getattr(row, f"classes_g{g}")
            if c > 0 and int(np.ceil(n / c)) > problem.class_limit[s, g - 1]:
                cls.failures.append({"school_id": row.school_id, "year": row.year, "grade": g,
                                     "short_by": int(n - c * problem.class_limit[s, g - 1]),
                                     "detail": f"{row.name} {row.year} 年 {g} 年级 {n} 人分 {c} 个班，超过班额 {problem.class_limit[s, g - 1]:.0f}"})
        limit = problem.size_cap()[s]
        base_students = base.loc[row.school_id, "students"] if row.school_id in base.index else 0
        allowed = limit if row.year >= scenario.target_year else max(limit, base_students)
        if np.isfinite(allowed) and row.students > allowed + 0.5:
            size.failures.append({"school_id": row.school_id, "year": row.year, "limit": float(allowed),
                                  "short_by": int(round(row.students - allowed)),
                                  "detail": f"{row.name} {row.year} 年在校生 {row.students} 人，超过 {allowed:.0f} 人的上限 {row.students - allowed:.0f} 人"})
        new_classes = sum(getattr(row, f"classes_g{g}") for g in range(1, 10)
                          if not (g - k >= 1 and (g - k <= 6) == (g <= 6)))
        if np.isfinite(problem.classrooms[s]) and row.classes > problem.classrooms[s] and new_classes > 0:
            # counted only when new cohorts are what does not fit: enrolled classes are not moved
            rooms.failures.append({"school_id": row.school_id, "year": row.year,
                                   "short_by": int(min(row.classes - problem.classrooms[s], new_classes)),
                                   "detail": f"{row.name} {row.year} 年有 {row.classes} 个班、{problem.classrooms[s]:.0f} 间教室，缺 {row.classes - problem.classrooms[s]:.0f} 间"})
    return [cls, size, rooms]


# ------------------------------------------------------------------------------ all together
def zones_from_assignments(problem: ZoningProblem, assignments: pd.DataFrame, levels) -> ZoneMaps:
    """Zone maps from an assignments table (unknown ids are left at -1 for the checks to report)."""
    uidx, sidx = problem.unit_index(), problem.school_index()
    maps = {}
    for level in policy.LEVELS:
        a = assignments[assignments["level"] == level]
        if level not in levels or a.empty:
            maps[level] = [(problem.base_year + 1, problem.current[level].copy())]
            continue
        seq = []
        a = a.assign(change_year=pd.to_numeric(a["change_year"], errors="coerce").fillna(-1).astype(int))
        years = sorted(int(y) for y in a["change_year"].unique())
        if years[0] > problem.base_year + 1:
            seq.append((problem.base_year + 1, problem.current[level].copy()))
        for y in years:
            arr = np.full(problem.n_units, -1, dtype=int)
            for row in a[a["change_year"] == y].itertuples():
                u, s = uidx.get(row.unit_id), sidx.get(str(row.school_id))
                if u is not None and s is not None:
                    arr[u] = s
            seq.append((y, arr))
        maps[level] = seq
    return ZoneMaps(maps)


def run_checks(problem: ZoningProblem, assignments: pd.DataFrame, scenario: Scenario):
    """Run every check; returns (results, zones, projection, ledger)."""
    levels = [lv for lv in scenario.levels if lv in set(assignments["level"])]
    zones = zones_from_assignments(problem, assignments, levels)
    proj = project(problem, zones, scenario.years)
    led = make_ledger(problem, proj)
    results = [
        check_assigned_once(problem, assignments, levels),
        check_known_ids(problem, assignments),
        check_students_conserved(problem, assignments, proj, levels),
        check_contiguity(problem, zones, levels, scenario) if scenario.contiguity
        else CheckResult("contiguity", "片区连片（未要求）"),
        check_distance_caps(problem, zones, scenario, levels),
        check_locks(problem, zones, scenario, levels),
        check_barriers(problem, zones, scenario, levels),
    ]
    results += check_limits(problem, led, scenario)
    return results, zones, proj, led


def structural_failures(results) -> list:
    return [r for r in results if r.name in STRUCTURAL and not r.ok]


def format_results(results) -> str:
    """A Chinese text report of the checks."""
    lines = []
    for r in results:
        mark = "通过" if r.ok else f"未通过（{len(r.failures)} 处）"
        lines.append(f"[{'✓' if r.ok else '✗'}] {r.title}：{mark}")
        for f in r.failures[:20]:
            lines.append(f"      - {f['detail']}")
        for n in r.notes[:10]:
            lines.append(f"      · 说明：{n}")
        if len(r.failures) > 20:
            lines.append(f"      … 另有 {len(r.failures) - 20} 处")
    return "\n".join(lines)
