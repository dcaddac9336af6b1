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
from .model import map_pairs
from .pairs import pair_rules, zone_pieces
from .problem import ZoningProblem
from .projection import ZoneMaps, project, ledger as make_ledger
from .scenario import Scenario

STRUCTURAL = ("assigned_once", "known_ids", "students_conserved", "open_schools", "contiguity",
              "distance_caps", "locks", "barriers")
LIMITS = ("class_limit", "size_limit", "classrooms")


@dataclass
class CheckResult:
    name: str
    title: str  # Chinese
    failures: list = field(default_factory=list)  # dicts with a Chinese "detail" and where-fields
    notes: list = field(default_factory=list)  # accepted exceptions, reported but not failures
    accepted: list = field(default_factory=list)  # limits over but allowed (where-fields and detail)

    @property
    def ok(self) -> bool:
        return not self.failures


class CheckMemo:
    """What the checks compute from the problem and the scenario alone, kept between calls.

    The pair rules, the roots and anchors of each zone map (:func:`zoning.model.map_pairs`) and the
    verdict on each zone's pieces depend on the problem, the scenario and the zone's own units, never
    on the rest of the plan. ``zoning edit`` checks one plan after another on the same problem and
    scenario, so it hands :func:`run_checks` one memo: the figures are those of a fresh run (the
    same functions computed the entries; a zone's verdict is keyed by its exact member units), only
    what an edit did not touch is not computed again. Without a memo each run makes its own.
    """

    MAX_ZONES = 50_000  # zone verdicts kept before the memo starts afresh

    def __init__(self, problem: ZoningProblem, scenario: Scenario):
        self.problem, self.scenario = problem, scenario
        self._anchors: dict = {}
        self._rules: dict = {}
        self._zones: dict = {}
        self._nbrs = None
        self._comp = None

    def neighbours(self):
        if self._nbrs is None:
            self._nbrs = self.problem.neighbours()
        return self._nbrs

    def components(self):
        if self._comp is None:
            self._comp = self.problem.components()
        return self._comp

    def roots_anchors(self, level: str, start: int) -> tuple[set, set]:
        """``(roots, anchors)`` as ``{(unit, school)}`` of a zone map (:func:`zoning.model.map_pairs`)."""
        key = (level, start)
        if key not in self._anchors:
            pairs, _ = map_pairs(self.problem, self.scenario, level, start, [])
            roots = set(zip(pairs.loc[pairs["root"], "unit"], pairs.loc[pairs["root"], "school"]))
            anchors = set(zip(pairs.loc[pairs["anchor"], "unit"], pairs.loc[pairs["anchor"], "school"]))
            self._anchors[key] = (roots, anchors)
        return self._anchors[key]

    def rule_table(self, level: str, start: int, rule: str):
        """``(rules, allowed set, {(unit, school): (distance_m, verdict of rule)})`` of a zone map."""
        key = (level, start, rule)
        if key not in self._rules:
            rules = pair_rules(self.problem, self.scenario, level, start)
            table = {(u, s): (d, ok) for u, s, d, ok in zip(rules.pairs["unit"], rules.pairs["school"],
                                                            rules.pairs["distance_m"], rules.pairs[rule])}
            self._rules[key] = (rules, rules.allowed_set(), table)
        return self._rules[key]

    def zone_verdict(self, level: str, start: int, s: int, members: np.ndarray, compute):
        """The contiguity verdict of one zone, computed once per exact set of member units."""
        key = (level, start, int(s), members.tobytes())
        if key not in self._zones:
            if len(self._zones) >= self.MAX_ZONES:
                self._zones.clear()
            self._zones[key] = compute()
        return self._zones[key]


# ------------------------------------------------------------------------------ structure
def _level_label(level) -> str:
    return policy.LEVEL_NAMES_ZH.get(level, f"“{level}”")


def check_assigned_once(problem: ZoningProblem, assignments: pd.DataFrame, levels) -> CheckResult:
    """Every unit of the problem has exactly one row per level of the scenario and zone map.

    Names the levels with no rows at all, rows of a level the scenario does not plan (a mistyped
    level), units the problem does not have, and per level and zone map (``change_year``) the units
    missing or listed more than once.
    """
    res = CheckResult("assigned_once", "每个单元每个学段恰好划入一所学校")
    units = set(problem.unit_ids)
    for level in sorted(set(assignments["level"].astype(str)) - set(levels)):
        n = int((assignments["level"].astype(str) == level).sum())
        res.failures.append({"level": level, "detail": f"有 {n} 行的学段为“{level}”，不是本方案的学段"
                                                       f"（{'、'.join(levels)}）"})
    extra = sorted(set(assignments["unit_id"].astype(str)) - units)
    for uid in extra:
        res.failures.append({"unit_id": uid, "detail": f"单元 {uid} 不在单元表中"})
    years = pd.to_numeric(assignments["change_year"], errors="coerce")
    if years.isna().any():
        res.failures.append({"detail": f"有 {int(years.isna().sum())} 行的 change_year 不是年份"})
    for level in levels:
        a = assignments[(assignments["level"] == level) & years.notna()]
        if a.empty:
            res.failures.append({"level": level, "detail": f"{_level_label(level)}没有任何行：{len(units)} 个单元都没有划入学校"})
            continue
        for change_year, grp in a.groupby(years[a.index].astype(int)):
            counts = grp["unit_id"].value_counts()
            for uid, n in counts[counts > 1].items():
                res.failures.append({"unit_id": uid, "level": level, "year": int(change_year),
                                     "detail": f"单元 {uid} 在{_level_label(level)}（{change_year} 年起）有 {n} 行"})
            present = set(grp["unit_id"])
            missing = [u for u in problem.unit_ids if u not in present]
            for uid in missing:
                res.failures.append({"unit_id": uid, "level": level, "year": int(change_year),
                                     "detail": f"单元 {uid} 在{_level_label(level)}（{change_year} 年起）没有划入任何学校"})
    return res


def check_known_ids(problem: ZoningProblem, assignments: pd.DataFrame) -> CheckResult:
    """Units and schools exist, and each school teaches the level it is zoned for."""
    res = CheckResult("known_ids", "单元与学校编号有效，学校学段相符")
    units = set(problem.unit_ids)
    sidx = problem.school_index()
    kinds = {i: problem.school_kind[s] for i, s in sidx.items()}
    fine = [u in units and k is not None and (lv not in policy.LEVEL_NAMES_ZH or lv in policy.SERVES[k])
            for u, k, lv in zip(assignments["unit_id"].tolist(),
                                [kinds.get(str(s)) for s in assignments["school_id"].tolist()],
                                assignments["level"].tolist())]
    for row in assignments[~np.asarray(fine, dtype=bool)].itertuples():  # the rows that fail, in order
        if row.unit_id not in units:
            res.failures.append({"unit_id": row.unit_id, "detail": f"未知单元 {row.unit_id}"})
        s = sidx.get(str(row.school_id))
        if s is None:
            res.failures.append({"unit_id": row.unit_id, "school_id": row.school_id,
                                 "detail": f"单元 {row.unit_id} 划入了不存在的学校 {row.school_id}"})
        elif row.level in policy.LEVEL_NAMES_ZH and row.level not in policy.SERVES[problem.school_kind[s]]:
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
        pos = [uidx.get(u, -1) for u in last["unit_id"].tolist()]
        known = np.asarray(pos, dtype=int) >= 0
        np.add.at(got, np.asarray(pos, dtype=int)[known], last["students"].to_numpy(float)[known])
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


def _new_maps(zones: ZoneMaps, level: str, scenario: Scenario) -> list:
    """The zone maps of a level the plan draws (from the first intake on; earlier ones are the
    current zones)."""
    return [(start, arr) for start, arr in zones.maps[level] if start >= scenario.intake_year]


def check_contiguity(problem: ZoningProblem, zones: ZoneMaps, levels, scenario: Scenario,
                     memo: CheckMemo | None = None) -> CheckResult:
    """Zones are whole as parents see them: on the adjacency graph (barriers cut it except through a
    crossing, :mod:`geodata.adjacency`) every piece of a zone is anchored as the model defines it
    (:func:`zoning.model.map_pairs`): it holds the school's root (the unit of its current zone, else
    any allowed unit, with the shortest trip), or an anchor: a piece the current zones already have,
    a lock, or a unit left no other choice; islands (units with no neighbour) are exempt. A piece on
    the other side of a barrier with no crossing between it and its zone is a 飞地: a failure unless
    anchored; anchored pieces are named and counted.
    """
    memo = memo or CheckMemo(problem, scenario)
    res = CheckResult("contiguity", "片区连片（按桥梁、通道计的相邻关系；孤立单元除外）")
    enclaves = 0
    for level in levels:
        for start, arr in _new_maps(zones, level, scenario):
            roots, anchors = memo.roots_anchors(level, start)
            order = np.argsort(arr, kind="stable")
            sorted_s = arr[order]
            bounds = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]]) if len(arr) else []
            ends = list(bounds[1:]) + [len(arr)]
            for b, e in zip(bounds, ends):
                s = int(sorted_s[b])
                if s < 0:
                    continue
                members = order[b:e]
                failures, notes = memo.zone_verdict(
                    level, start, s, members,
                    lambda: _zone_verdict(problem, memo, level, start, s, members, roots, anchors))
                res.failures.extend(failures)
                res.notes.extend(notes)
                enclaves += len(notes)
    if enclaves:
        res.notes.insert(0, f"保留的飞地共 {enclaves} 块")
    return res


def _zone_verdict(problem: ZoningProblem, memo: CheckMemo, level: str, start: int, s: int,
                  members: np.ndarray, roots: set, anchors: set) -> tuple[list, list]:
    """Failures and notes (one per kept 飞地) of one zone: its pieces not anchored to the root."""
    nbrs = memo.neighbours()
    pieces = zone_pieces(members, nbrs)
    failures, notes = [], []
    if len(pieces) < 2:
        return failures, notes
    main = next((p for p in pieces if any((u, s) in roots for u in p)), max(pieces, key=len))
    for piece in pieces:
        if piece is main or (len(piece) == 1 and not len(nbrs[piece[0]])):
            continue  # the zone's main piece, or an island
        names = "、".join(problem.unit_names[u] for u in piece[:5]) + (
            f" 等 {len(piece)} 个单元" if len(piece) > 5 else "")
        where = f"{problem.school_names[s]}（{start} 年起）的{policy.LEVEL_NAMES_ZH[level]}片区"
        across = _separation(problem, memo.components(), piece, main)
        if any((u, s) in anchors for u in piece) or any((u, s) in roots for u in piece):
            notes.append(f"{where}有一块飞地：{names}{across}（现行片区已有、锁定或别无可选，予以保留）")
            continue
        failures.append({
            "school_id": problem.school_ids[s], "level": level, "year": int(start),
            "unit_id": ",".join(problem.unit_ids[u] for u in piece),
            "detail": f"{where}分成 {len(pieces)} 块：{names} 与片区主体不相连{across}",
        })
    return failures, notes


def _separation(problem: ZoningProblem, comp: np.ndarray, piece: list, main: list) -> str:
    """Why a piece is apart from its zone's main piece: the barrier between them when the tables
    name the cut edges (``problem.barrier_cuts``: ``i, j, barrier``), else whether any path joins
    them at all."""
    if comp[piece[0]] == comp[main[0]]:
        return "（中间隔着其他学校的片区）"
    cuts = getattr(problem, "barrier_cuts", None)
    if cuts is not None and len(cuts):
        inside = set(int(u) for u in piece)
        touch = cuts[cuts["i"].isin(inside) | cuts["j"].isin(inside)]
        names = list(dict.fromkeys(str(b) for b in touch["barrier"]))
        if names:
            return f"（隔着{'、'.join(names[:3])}，其间没有桥梁、通道或道路穿越）"
    return "（隔着障碍线且其间没有桥梁、通道或道路穿越，或根本不相邻）"


def _pair_distance(problem: ZoningProblem, level: str, u: int, s: int, table: dict) -> float | None:
    d = table.get((level, u, s))
    if d is None and problem.unit_xy is not None and problem.school_xy is not None:
        d = float(np.hypot(*(problem.unit_xy[u] - problem.school_xy[s])))
    return d


def check_open_schools(problem: ZoningProblem, zones: ZoneMaps, scenario: Scenario, levels) -> CheckResult:
    """Each zone map sends units only to schools open from its first intake to the horizon
    (:meth:`ZoningProblem.usable`): not one that opens later or closes within the horizon."""
    res = CheckResult("open_schools", "片区只划给新片区执行期间一直招生的学校")
    for level in levels:
        for start, arr in _new_maps(zones, level, scenario):
            usable = problem.usable(level, start, scenario.horizon)
            serves = problem.serves(level)
            for u in np.flatnonzero((arr >= 0) & ~usable[np.maximum(arr, 0)] & serves[np.maximum(arr, 0)]):
                s = arr[u]
                why = (f"{problem.open_year[s]} 年才开始招生" if problem.open_year[s] > start
                       else f"{problem.close_year[s]} 年停办")
                res.failures.append({"unit_id": problem.unit_ids[u], "school_id": problem.school_ids[s], "level": level,
                                     "detail": f"{problem.unit_names[u]}（{start} 年起）划入 {problem.school_names[s]}，"
                                               f"但该校{why}"})
    return res


def _breaks(problem: ZoningProblem, scenario: Scenario, level: str, start: int, arr: np.ndarray, rule: str,
            memo: CheckMemo | None = None):
    """Units of a map whose pair breaks ``rule`` ("within_cap" or "barrier_ok") as
    :func:`zoning.pairs.pair_rules` defines it: ``[(unit, school, distance_m, limit_m)]``.

    A pair the rules allow (the current zone, a lock, a unit's fallback) breaks nothing; a pair to a
    usable school that the problem does not list is judged by its straight-line distance.
    """
    rules, allowed, table = (memo or CheckMemo(problem, scenario)).rule_table(level, start, rule)
    out = []
    for u in np.flatnonzero(arr >= 0):
        s = int(arr[u])
        if (u, s) in allowed or not rules.usable[s]:
            continue
        d, ok = table.get((u, s), (_pair_distance(problem, level, u, s, {}), None))
        if ok is None:  # not a listed pair: only the distance can be judged
            ok = rule != "within_cap" or d is None or d <= rules.limit_m[u]
        if not ok:
            out.append((u, s, d, rules.limit_m[u]))
    return out


def check_distance_caps(problem: ZoningProblem, zones: ZoneMaps, scenario: Scenario, levels,
                        memo: CheckMemo | None = None) -> CheckResult:
    """Trips within the unit's distance limit (:func:`zoning.pairs.distance_limits`): the absolute
    cap and the cap relative to the current trip, never below the nearest usable school; the
    current zone and locks are exempt."""
    res = CheckResult("distance_caps", "上学距离不超过上限（最近的学校除外）")
    for level in levels:
        for start, arr in _new_maps(zones, level, scenario):
            for u, s, d, limit in _breaks(problem, scenario, level, start, arr, "within_cap", memo):
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


def check_barriers(problem: ZoningProblem, zones: ZoneMaps, scenario: Scenario, levels,
                   memo: CheckMemo | None = None) -> CheckResult:
    """No primary pupil is sent across a barrier without a crossing (unless the scenario allows it);
    the current zone, a lock and a unit's only choice are exempt (:func:`zoning.pairs.pair_rules`)."""
    res = CheckResult("barriers", "小学生上学不穿越铁路、干道、水渠等障碍")
    if "primary" not in levels or scenario.barrier_rule != "forbid":
        return res
    for start, arr in _new_maps(zones, "primary", scenario):
        for u, s, _, _ in _breaks(problem, scenario, "primary", start, arr, "barrier_ok", memo):
            res.failures.append({"unit_id": problem.unit_ids[u], "school_id": problem.school_ids[s],
                                 "detail": f"{problem.unit_names[u]} 的小学生到 {problem.school_names[s]} 要穿越障碍且附近没有通道"})
    return res


# ------------------------------------------------------------------------------ limits
def _class_verdict(problem: ZoningProblem, row, s: int, first_intake: int, res: CheckResult) -> None:
    """Class limit of one ledger row: each grade over its limit is a failure when its cohort is new
    (:func:`zoning.policy.is_new_cohort`: placed by the new zones, the cohorts the model opens
    classes for) and accepted otherwise (pupils who entered before the new zones keep their classes)."""
    for g in range(1, 10):
        n, c = getattr(row, f"students_g{g}"), getattr(row, f"classes_g{g}")
        limit = problem.class_limit[s, g - 1]
        if not policy.over_class_limit(n, c, limit):
            continue
        entry = {"school_id": row.school_id, "year": int(row.year), "grade": g,
                 "short_by": int(n - c * limit),
                 "detail": f"{row.name} {row.year} 年 {g} 年级 {n} 人分 {c} 个班，超过班额 {limit:.0f}"}
        if policy.is_new_cohort(g, row.year, first_intake):
            res.failures.append(entry)
        else:
            res.accepted.append(entry)


def _size_verdict(problem: ZoningProblem, row, s: int, judged: bool, base_students: float,
                  scenario: Scenario, res: CheckResult) -> None:
    """School size of one ledger row: over the school's cap (:func:`zoning.policy.size_cap`) is a
    failure when also over what the year allows (:func:`zoning.policy.size_allowed`: no growth
    before the target year) and accepted otherwise."""
    cap = problem.size_cap()[s]
    if not policy.over_size(row.students, cap):
        return
    allowed = policy.size_allowed(cap, row.year, problem.base_year, scenario.target_year, base_students)
    entry = {"school_id": row.school_id, "year": int(row.year), "limit": float(allowed),
             "short_by": int(round(row.students - allowed)),
             "detail": f"{row.name} {row.year} 年在校生 {row.students} 人，超过 {allowed:.0f} 人的上限 "
                       f"{row.students - allowed:.0f} 人"}
    if judged and policy.over_size(row.students, allowed):
        res.failures.append(entry)
    else:
        entry["detail"] = (f"{row.name} {row.year} 年在校生 {row.students} 人，超过上限 {cap:.0f} 人"
                           f"（未超过基年人数，目标年份前允许逐年化解）" if judged else
                           f"{row.name} {row.year} 年在校生 {row.students} 人，超过上限 {cap:.0f} 人（新片区实施前）")
        res.accepted.append(entry)


def _rooms_verdict(problem: ZoningProblem, row, s: int, first_intake: int, res: CheckResult) -> None:
    """Classrooms of one ledger row: more classes than classrooms is a failure when new cohorts
    (:func:`zoning.policy.is_new_cohort`, the cohorts the model's classroom rows hold) are among the
    classes, and accepted otherwise (classes that entered before the new zones are not moved)."""
    rooms = problem.classrooms[s]
    if not policy.over_classrooms(row.classes, rooms):
        return
    new_classes = sum(getattr(row, f"classes_g{g}") for g in range(1, 10)
                      if policy.is_new_cohort(g, row.year, first_intake))
    entry = {"school_id": row.school_id, "year": int(row.year),
             "short_by": int(min(row.classes - rooms, new_classes)) if new_classes else int(row.classes - rooms),
             "detail": f"{row.name} {row.year} 年有 {row.classes} 个班、{rooms:.0f} 间教室，缺 {row.classes - rooms:.0f} 间"}
    if new_classes > 0:
        res.failures.append(entry)
    else:
        res.accepted.append(entry)


def check_limits(problem: ZoningProblem, ledger: pd.DataFrame, scenario: Scenario) -> list[CheckResult]:
    """Class, size and classroom limits on the projected ledger, judged by the kernel's rules.

    Every limit the ledger flags for a school and year (``over_class_limit``, ``over_size_limit``,
    ``over_classrooms``) is here, either as a failure or as accepted: years before the first intake
    (the current state, not the plan's doing) are accepted; from the first intake on, new classes
    must be within the class limit, enrollment within the size cap from the target year on and not
    above the base year before it, and classes of the new cohorts within the classrooms. A cohort is
    new when it entered at or after the first intake (:func:`zoning.policy.is_new_cohort`, the
    reference the model uses).
    """
    cls = CheckResult("class_limit", "新开班级不超过班额上限")
    size = CheckResult("size_limit", "学校规模不超过校额上限（目标年份前不再增长）")
    rooms = CheckResult("classrooms", "班级数不超过教室数")
    sidx = problem.school_index()
    base = ledger[ledger["year"] == problem.base_year].set_index("school_id")["students"]
    for row in ledger.itertuples():
        s = sidx[row.school_id]
        judged = row.year >= scenario.intake_year
        _class_verdict(problem, row, s, scenario.intake_year, cls)
        _size_verdict(problem, row, s, judged, float(base.get(row.school_id, 0)), scenario, size)
        _rooms_verdict(problem, row, s, scenario.intake_year, rooms)
    return [cls, size, rooms]


def limit_verdicts(results) -> dict:
    """``{(limit, school_id, year): "failure" | "accepted"}`` of the limit checks (a failure wins)."""
    out = {}
    for r in results:
        if r.name not in LIMITS:
            continue
        for f in r.accepted:
            out.setdefault((r.name, f["school_id"], f["year"]), "accepted")
        for f in r.failures:
            out[(r.name, f["school_id"], f["year"])] = "failure"
    return out


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
            rows = a[a["change_year"] == y]
            us = [uidx.get(u) for u in rows["unit_id"].tolist()]
            ss = [sidx.get(str(s)) for s in rows["school_id"].tolist()]
            for u, s in zip(us, ss):  # in row order: a unit listed twice keeps its last row
                if u is not None and s is not None:
                    arr[u] = s
            seq.append((y, arr))
        maps[level] = seq
    return ZoneMaps(maps)


def run_checks(problem: ZoningProblem, assignments: pd.DataFrame, scenario: Scenario,
               memo: CheckMemo | None = None, ledger_of=None):
    """Run every check; returns (results, zones, projection, ledger).

    ``memo`` (:class:`CheckMemo`) keeps what depends on the problem and the scenario only between
    calls on the same pair (``zoning edit``); ``ledger_of(projection)`` may stand in for
    :func:`zoning.projection.ledger` when it returns the same table (the editor recomputes only the
    schools whose projected figures changed).
    """
    memo = memo or CheckMemo(problem, scenario)
    levels = [lv for lv in scenario.levels if lv in set(assignments["level"])]
    zones = zones_from_assignments(problem, assignments, levels)
    proj = project(problem, zones, scenario.years)
    led = (ledger_of or (lambda pr: make_ledger(problem, pr)))(proj)
    results = [
        check_assigned_once(problem, assignments, list(scenario.levels)),
        check_known_ids(problem, assignments),
        check_students_conserved(problem, assignments, proj, levels),
        check_open_schools(problem, zones, scenario, levels),
        check_contiguity(problem, zones, levels, scenario, memo) if scenario.contiguity
        else CheckResult("contiguity", "片区连片（未要求）"),
        check_distance_caps(problem, zones, scenario, levels, memo),
        check_locks(problem, zones, scenario, levels),
        check_barriers(problem, zones, scenario, levels, memo),
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
        if r.accepted:
            lines.append(f"      · 说明：另有 {len(r.accepted)} 处超限属现状或在校生原有班级、未增长，不计为未通过"
                         f"（如 {r.accepted[0]['detail']}）")
        if len(r.failures) > 20:
            lines.append(f"      … 另有 {len(r.failures) - 20} 处")
    return "\n".join(lines)


def limit_failures(results) -> list[dict]:
    """Every failure of the limit checks (class, size, classroom …), tagged with its limit."""
    out = []
    for r in results:
        if r.name in LIMITS:
            out += [dict(f, limit=r.name) for f in r.failures]
    return out
