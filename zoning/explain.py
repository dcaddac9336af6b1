"""Explaining infeasibility: the pre-solve check and the report of limits a plan cannot meet.

The pre-solve check finds the obvious cases before any solver runs: pupils already enrolled (who
do not move with a new zone) that alone break a school's size limit in a year, and intake years in
which the entrants within reach of a group of schools outnumber the seats those schools can offer.
After solving, each limit left broken is named — school, year, grade where it applies, by how many
pupils or classes — with what would fix it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from . import policy
from .pairs import pair_rules
from .problem import ZoningProblem
from .projection import ZoneMaps, project
from .scenario import Scenario


def _fixed_projection(problem: ZoningProblem, scenario: Scenario):
    zones = ZoneMaps({lv: [(problem.base_year + 1, problem.current[lv].copy()),
                           (scenario.intake_year, np.full(problem.n_units, -1))] for lv in policy.LEVELS})
    return project(problem, zones, scenario.years)


def presolve(problem: ZoningProblem, scenario: Scenario) -> list[dict]:
    """Obvious shortfalls, found without a solver. Each finding is a dict with a Chinese detail/fix."""
    findings = []
    fixed = _fixed_projection(problem, scenario)
    limit = problem.size_cap()
    for yi, y in enumerate(scenario.years):
        if y < scenario.target_year:
            continue
        total = fixed.students[:, yi, :].sum(axis=1)
        for s in np.flatnonzero(total > limit + 0.5):
            later = [yy for yj, yy in enumerate(scenario.years) if fixed.students[s, yj, :].sum() <= limit[s] + 0.5]
            findings.append({
                "kind": "enrolled_over_size", "school_id": problem.school_ids[s], "name": problem.school_names[s],
                "year": y, "grade": None, "short_by": int(round(total[s] - limit[s])),
                "detail": f"{problem.school_names[s]} {y} 年仅已入学（不随新片区调整）的学生就有 {total[s]:.0f} 人，"
                          f"超过上限 {limit[s]:.0f} 人 {total[s] - limit[s]:.0f} 人",
                "fix": (f"任何片区方案都无法在 {y} 年达标；按现有在校生最早 {later[0]} 年可达标" if later else
                        "任何片区方案都无法在规划期内达标") + "，或需分流在校生/扩大校额",
            })
    findings += _reach_shortfalls(problem, scenario, fixed)
    findings += _closing_schools(problem, scenario, fixed)
    findings += lock_exceptions(problem, scenario)
    return findings


def lock_exceptions(problem: ZoningProblem, scenario: Scenario) -> list[dict]:
    """Locks that override a rule: a trip beyond the distance caps or, for primary pupils, across a
    barrier. Allowed (a lock is the office's decision), and said before the solve."""
    out = []
    for level in scenario.levels:
        rules = pair_rules(problem, scenario, level, scenario.intake_year)
        p = rules.pairs[rules.pairs["is_lock"]]
        for r in p.itertuples():
            broken = []
            if not r.within_cap:
                broken.append(f"超过距离上限 {rules.limit_m[r.unit] / 1000:.2f} 公里")
            if not r.barrier_ok:
                broken.append("要穿越铁路、干道或水渠且附近没有通道")
            if not broken:
                continue
            uid, sid = problem.unit_ids[r.unit], problem.school_ids[r.school]
            out.append({
                "kind": "lock_beyond_rules", "school_id": sid, "name": problem.school_names[r.school],
                "unit_id": uid, "year": scenario.intake_year, "grade": None, "short_by": 0,
                "detail": f"锁定 {problem.unit_names[r.unit]}（{uid}）→ {problem.school_names[r.school]}（{sid}）："
                          f"{policy.LEVEL_NAMES_ZH[level]}上学距离 {r.distance_m / 1000:.2f} 公里，" + "，".join(broken),
                "fix": "按锁定划入（锁定优先于距离上限与障碍规则）；如非本意，请修改或删去这条锁定",
            })
    return out


def _closing_schools(problem: ZoningProblem, scenario: Scenario, fixed) -> list[dict]:
    """Schools that close within the horizon: they admit no one under the new zones, and the pupils
    still enrolled in their closing year need places elsewhere (not modelled: said here)."""
    out = []
    for s in np.flatnonzero(problem.close_year <= scenario.horizon):
        y = int(problem.close_year[s])
        if y not in scenario.years:
            continue
        n = fixed.students[s, scenario.years.index(y), :].sum()
        out.append({
            "kind": "closing_school", "school_id": problem.school_ids[s], "name": problem.school_names[s],
            "year": y, "grade": None, "short_by": int(round(n)),
            "detail": f"{problem.school_names[s]} {y} 年停办，新片区不再划入；届时仍有约 {n:.0f} 名在校生",
            "fix": "为这些在校生另行安排学校（本工具不自动分流在校生），或推迟停办年份",
        })
    return out


def _reach_shortfalls(problem: ZoningProblem, scenario: Scenario, fixed) -> list[dict]:
    """Entrants within reach of a group of schools vs. the seats they can offer, per year."""
    out = []
    U, S = problem.n_units, problem.n_schools
    for level in scenario.levels:
        p = problem.pairs[problem.pairs["level"] == level]
        if p.empty:
            continue
        caps = scenario.caps[level]
        p = p[(p["distance_m"] <= caps.max_km * 1000) |
              (problem.current[level][p["unit"].to_numpy()] == p["school"].to_numpy())]
        g = sparse.coo_matrix((np.ones(len(p)), (p["unit"].to_numpy(), U + p["school"].to_numpy())),
                              shape=(U + S, U + S))
        _, labels = csgraph.connected_components(g, directed=False)
        entry = policy.ENTRY_GRADE[level]
        for yi, y in enumerate(scenario.years):
            if y < scenario.intake_year:
                continue
            ent = problem.entrants(level, y)
            open_now = problem.is_open(y) & problem.serves(level)
            for lab in np.unique(labels[p["unit"].to_numpy()]):
                units = np.flatnonzero(labels[:U] == lab)
                schools = np.flatnonzero((labels[U:] == lab) & open_now)
                demand = ent[units].sum()
                seats = 0.0
                for s in schools:
                    rooms_free = problem.classrooms[s] - fixed.classes[s, yi, :].sum()
                    seat_rooms = max(rooms_free, 0) * problem.class_limit[s, entry - 1] if np.isfinite(rooms_free) else np.inf
                    lim = policy.size_allowed(problem.size_cap()[s], y, problem.base_year, scenario.target_year,
                                              problem.enrolled[s].sum())
                    seat_size = max(lim - fixed.students[s, yi, :].sum(), 0)
                    seats += min(seat_rooms, seat_size)
                if demand > seats + 0.5:
                    names = "、".join(problem.school_names[schools][:6]) or "（无开办学校）"
                    out.append({
                        "kind": "seats_in_reach", "school_id": ",".join(problem.school_ids[schools]),
                        "name": names, "year": y, "grade": entry, "short_by": int(np.ceil(demand - seats)),
                        "detail": f"{y} 年{policy.LEVEL_NAMES_ZH[level]}新生 {demand:.0f} 人，可达范围内学校（{names}）"
                                  f"最多只能提供 {seats:.0f} 个学位，缺 {demand - seats:.0f} 个",
                        "fix": f"增加约 {int(np.ceil((demand - seats) / problem.class_limit[schools[0] if len(schools) else 0, entry - 1]))} 间教室，"
                               f"或放宽距离上限（caps.{level}.max_km）让学生到更远的学校",
                    })
    return out


def explain_violations(problem: ZoningProblem, failures: list, ledger: pd.DataFrame) -> list[dict]:
    """Turn the checker's limit failures into report rows with a fix.

    ``failures`` are the failure dicts of the ``size_limit``, ``classrooms`` and ``class_limit``
    checks (with their ``limit`` kind added).
    """
    out = []
    sidx = problem.school_index()
    for f in failures:
        s = sidx[f["school_id"]]
        kind = f["limit"]
        year = f.get("year")
        short = f.get("short_by", 0)
        entry = 1 if problem.school_kind[s] != "junior" else 7
        limit = problem.class_limit[s, entry - 1]
        if kind == "size_limit":
            fix = (f"把约 {short} 名新生的居住单元划给附近有余量的学校，或提高 {problem.school_names[s]} 的校额"
                   f"（新建/扩建校舍）")
            unit = "人"
        elif kind == "classrooms":
            fix = f"为 {problem.school_names[s]} 增加 {short} 间教室，或少招约 {int(short * limit)} 名新生（划给附近学校）"
            unit = "间教室"
        else:
            fix = f"{problem.school_names[s]} 增开班级（需教室）或少招 {short} 名新生"
            unit = "人"
        out.append({
            "school_id": f["school_id"], "name": problem.school_names[s], "year": year,
            "grade": f.get("grade"), "limit": kind, "short_by": short, "unit": unit,
            "detail": f["detail"], "fix": fix,
        })
    return out


def cap_blocks(problem, scenario, zones, steady: dict) -> list[dict]:
    """Why a school stays over a limit in the steady state, when a distance cap is the cause.

    For each school over (``steady["over"]``, from the plan's steady-state metrics): the schools of
    the level with room then, and the units of its zone. When no such unit has an allowed pair
    (:func:`zoning.pairs.pair_rules`) to a school with room, the caps block every fix: ``cap_km``
    is the smallest cap that opens one (the shortest such trip), ``fixes`` the pupils it would take
    off (no more than the excess and the room). Otherwise the fix is within the caps and the
    stability rule or contiguity held it back (``cap_km`` None). Returns one dict per school over:
    ``school_id, name, level, over_by, cap_km, fixes, to, detail`` (Chinese).
    """
    out = []
    records = {r["school_id"]: r for r in steady.get("schools", [])}
    cap = problem.size_cap()
    sidx = problem.school_index()
    for r in steady.get("over", []):
        s = sidx.get(r["school_id"])
        level = r.get("level")
        if s is None or level not in scenario.levels:
            continue
        zh = policy.LEVEL_NAMES_ZH[level]
        arr = zones.final(level)
        members = np.flatnonzero(arr == s)
        room = {}
        for t in np.flatnonzero(problem.usable(level, scenario.horizon, scenario.horizon)).tolist():
            rec = records.get(problem.school_ids[t])
            if t == s or rec is None or rec.get("level") != level:
                continue
            free = (cap[t] - rec["steady_students"]) if np.isfinite(cap[t]) else np.inf
            if free > 0:
                room[t] = free
        over_by = int(r.get("over_by") or 0)
        base = {"school_id": r["school_id"], "name": r["name"], "level": level, "over_by": over_by,
                "cap_km": None, "fixes": 0, "to": None}
        if not room or not len(members):
            out.append(dict(base, detail=f"{r['name']}稳态仍超限：附近没有有余量的{zh}学校，需扩建或新建学校"))
            continue
        rules = pair_rules(problem, scenario, level, scenario.intake_year)
        allowed = rules.allowed_set()
        n_grades = len(policy.LEVEL_GRADES[level])
        pupils = problem.entrants(level, scenario.horizon) * n_grades
        dist = {(int(u), int(t)): float(d) for u, t, d in zip(rules.pairs["unit"], rules.pairs["school"],
                                                              rules.pairs["distance_m"])}
        open_fix = [(u, t) for u in members.tolist() for t in room if (u, t) in allowed]
        if open_fix:
            names = "、".join(dict.fromkeys(problem.school_names[t] for _, t in open_fix))
            out.append(dict(base, detail=(
                f"{r['name']}稳态仍超限 {over_by} 人：距离上限内有余量的学校（{names}）可接收其片区单元，"
                f"但改划须保持片区连片、并计入改划学生的代价，本方案没有找到值得改划的单元；如需化解稳态超额，"
                f"可尝试在 scenario.toml 写 reoptimise = true，或锁定单元到有余量的学校")))
            continue
        trips = []
        for u in members.tolist():
            for t in room:
                d = dist.get((u, t))
                if d is None and problem.unit_xy is not None and problem.school_xy is not None:
                    d = float(np.hypot(*(problem.unit_xy[u] - problem.school_xy[t])))
                if d is not None:
                    trips.append((d, u, t))
        if not trips:
            out.append(dict(base, detail=f"{r['name']}稳态仍超限：片区单元到有余量的{zh}学校没有可用的上学距离"))
            continue
        trips.sort()
        d0, _, t0 = trips[0]
        x_km = float(np.ceil(d0 / 100.0) / 10.0)
        reached = {u for d, u, t in trips if d <= x_km * 1000.0 + 1e-6 and t == t0}
        fixes = int(min(over_by, room[t0], round(float(sum(pupils[u] for u in reached)))))
        out.append(dict(base, cap_km=x_km, fixes=fixes, to=str(problem.school_ids[t0]), detail=(
            f"{r['name']}稳态仍超限 {over_by} 人，因为距离上限挡住了所有改划：放宽{zh}距离上限到 {x_km:.1f} 公里"
            f"可消除超额 {fixes} 人（片区单元可改去有余量的{problem.school_names[t0]}）；"
            f"或用 zoning plan --relax-caps（scenario.toml 的 [caps.{level}] relax = true）")))
    return out
