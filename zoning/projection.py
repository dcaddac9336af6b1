"""Enrollment projection, year by year: the one code path behind the ledger.

Rules (SPEC §5, issue 4):

* Pupils enrolled in the base year stay at their school (a new zone moves only new entrants) and
  move up one grade a year, multiplied by the cohort-survival ratios (1.0 unless given); they keep
  their classes. They leave after grade 6 (primary) or grade 9.
* Each year's grade-1 entrants of a unit go to the school its primary zone names for that intake;
  grade-7 entrants (the unit's grade-6 pupils of the year before) go to its junior-zone school. A
  nine-year school's own grade-6 pupils are counted through where they live, like everyone else's.
* A new cohort opens ``ceil(entrants × m / class limit)`` classes, ``m`` being the largest survival
  product the cohort reaches (1 when ratios are at most 1), so no new class is over the limit.
* The zone map in force for an intake year is the last map whose start year is not after it;
  before the first map, the current zones.

Both the optimizer's constraints (:mod:`zoning.model`) and every ledger written
(``zoning plan``, ``zoning project --zones``) are computed from the functions here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import policy
from .problem import ZoningProblem


@dataclass
class ZoneMaps:
    """The zone maps of a proposal, per level: a list of ``(start_year, school index per unit)``.

    A unit with index -1 has no school for that intake (its entrants are counted as unplaced).
    """

    maps: dict

    @classmethod
    def current(cls, problem: ZoningProblem) -> "ZoneMaps":
        return cls({lv: [(problem.base_year + 1, problem.current[lv].copy())] for lv in policy.LEVELS})

    @classmethod
    def single(cls, problem: ZoningProblem, start_year: int, assignment: dict) -> "ZoneMaps":
        """One new map from ``start_year``; the current zones before it."""
        maps = {}
        for lv in policy.LEVELS:
            seq = []
            if start_year > problem.base_year + 1:
                seq.append((problem.base_year + 1, problem.current[lv].copy()))
            seq.append((start_year, np.asarray(assignment.get(lv, problem.current[lv]), dtype=int)))
            maps[lv] = seq
        return cls(maps)

    def for_intake(self, level: str, year: int) -> np.ndarray:
        seq = sorted(self.maps[level], key=lambda t: t[0])
        chosen = seq[0][1]
        for start, arr in seq:
            if start <= year:
                chosen = arr
        return chosen

    def final(self, level: str) -> np.ndarray:
        return sorted(self.maps[level], key=lambda t: t[0])[-1][1]


def level_of_grade(grade: int) -> str:
    return "primary" if grade <= 6 else "junior"


def max_cohort_factor(problem: ZoningProblem, level: str) -> float:
    """Largest survival product a new cohort of ``level`` reaches (at least 1)."""
    grades = policy.LEVEL_GRADES[level]
    entry = grades[0]
    return max([1.0] + [problem.cohort_survival(entry, g) for g in grades])


def entry_classes(n: float, limit: float, factor: float = 1.0) -> int:
    """Classes a new cohort of ``n`` pupils needs so that none is over ``limit``."""
    if n <= 1e-9:
        return 0
    return int(math.ceil(n * factor / limit - 1e-9))


def base_cohort_share(problem: ZoningProblem, year: int):
    """Students (S, 9) and classes (S, 9) in ``year`` of the pupils enrolled in the base year."""
    k = year - problem.base_year
    S = problem.n_schools
    students = np.zeros((S, 9))
    classes = np.zeros((S, 9))
    for g in range(1, 10):
        if not policy.in_base_data(g, year, problem.base_year):
            continue
        gb = g - k
        n = problem.enrolled[:, gb - 1] * problem.cohort_survival(gb, g)
        c = problem.classes[:, gb - 1].copy()
        need = (c <= 0) & (n > 0)
        c[need] = np.ceil(n[need] / problem.class_limit[need, g - 1] - 1e-9)
        students[:, g - 1] = n
        classes[:, g - 1] = c
    return students, classes


def entry_year_of(grade: int, year: int) -> int:
    """The intake year of the cohort that is in ``grade`` in ``year`` (:func:`zoning.policy.entry_year`)."""
    return policy.entry_year(grade, year)


@dataclass
class Projection:
    """Projected students and classes: arrays (S, Y, 9) over ``years``."""

    years: list
    students: np.ndarray
    classes: np.ndarray
    unplaced: dict  # (level, year) -> pupils whose unit had no school for that intake

    def totals(self) -> np.ndarray:
        return self.students.sum(axis=2)


def project(problem: ZoningProblem, zones: ZoneMaps, years: list[int]) -> Projection:
    """Project every school's students and classes by grade for ``years``."""
    S, Y = problem.n_schools, len(years)
    students = np.zeros((S, Y, 9))
    classes = np.zeros((S, Y, 9))
    unplaced = {}
    intake_cache = {}

    def intake(level, e):
        if (level, e) not in intake_cache:
            zone = zones.for_intake(level, e)
            ent = problem.entrants(level, e)
            assigned = zone >= 0
            n = np.bincount(zone[assigned], weights=ent[assigned], minlength=S)
            lost = float(ent[~assigned].sum())
            if lost > 0:
                unplaced[(level, e)] = lost
            factor = max_cohort_factor(problem, level)
            entry_g = policy.ENTRY_GRADE[level]
            c = np.array([entry_classes(n[s], problem.class_limit[s, entry_g - 1], factor) for s in range(S)])
            intake_cache[(level, e)] = (n, c)
        return intake_cache[(level, e)]

    for yi, year in enumerate(years):
        bs, bc = base_cohort_share(problem, year)
        students[:, yi, :] = bs
        classes[:, yi, :] = bc
        for g in range(1, 10):
            if policy.in_base_data(g, year, problem.base_year):
                continue
            e = entry_year_of(g, year)
            level = level_of_grade(g)
            n, c = intake(level, e)
            entry = policy.ENTRY_GRADE[level]
            students[:, yi, g - 1] += n * problem.cohort_survival(entry, g)
            classes[:, yi, g - 1] += c
    return Projection(years=list(years), students=students, classes=classes, unplaced=unplaced)


def ledger(problem: ZoningProblem, proj: Projection, target_year: int | None = None,
           include_base: bool = True, schools=None) -> pd.DataFrame:
    """The ledger: one row per school and year (SPEC §3), with the limits checked.

    The flags are the kernel's rules (:mod:`zoning.policy`), the ones the checker judges by:
    ``over_size_limit`` compares the pupils with the school's size cap (size limit, seat capacity and
    any ``keep_indicators`` ceiling, :func:`~zoning.policy.size_cap`), ``over_class_limit`` is true
    when any class is over its grade's class limit, ``over_classrooms`` when classes exceed
    classrooms. ``closed_to_transfers`` marks a school over any limit that year. ``target_year`` is
    not used (kept for callers). ``intake_seats`` and
    ``intake_classes`` are what the school can offer the entering grade(s) that year: the classrooms
    not taken by the grades that stay, times the class limit, bounded by the size limit.
    ``schools`` (positions, ascending) limits the rows to those schools: each school's rows depend on
    its own projected figures only (the editor recomputes the schools an edit changed).
    """
    rows = []
    teaches = problem.teaches()
    caps = problem.size_cap()
    years = list(proj.years)
    all_students = proj.students
    all_classes = proj.classes
    if include_base:
        bs = problem.enrolled.copy()
        bc = problem.classes.copy()
        need = (bc <= 0) & (bs > 0)
        bc[need] = np.ceil(bs[need] / problem.class_limit[need] - 1e-9)
        years = [problem.base_year] + years
        all_students = np.concatenate([bs[:, None, :], proj.students], axis=1)
        all_classes = np.concatenate([bc[:, None, :], proj.classes], axis=1)
    for s in (range(problem.n_schools) if schools is None else schools):
        for yi, year in enumerate(years):
            st = all_students[s, yi]
            cl = all_classes[s, yi]
            total = float(st.sum())
            n_classes = int(cl.sum())
            largest = large = huge = 0
            over_class = False
            for g in range(9):
                lg, la, hu = policy.class_sizes(st[g], cl[g])
                largest = max(largest, lg)
                large += la
                huge += hu
                over_class = over_class or lg > problem.class_limit[s, g]
            limit = min(problem.size_limit[s], problem.capacity[s])
            over_size = policy.over_size(round(total), caps[s])
            over_rooms = policy.over_classrooms(n_classes, problem.classrooms[s])
            is_open = problem.open_year[s] <= year < problem.close_year[s] or total > 0
            seats, icls = intake_offer(problem, s, year, st, cl)
            row = {
                "school_id": problem.school_ids[s],
                "name": problem.school_names[s],
                "level": problem.school_kind[s],
                "year": year,
                "students": int(round(total)),
                "classes": n_classes,
                "largest_class": largest,
                "large_classes": large,
                "huge_classes": huge,
                "over_size_limit": bool(over_size),
                "over_class_limit": bool(over_class),
                "over_classrooms": bool(over_rooms),
                "closed_to_transfers": policy.closed_to_transfers(over_size, over_class, over_rooms),
                "intake_seats": seats if is_open else 0,
                "intake_classes": icls if is_open else 0,
                "utilisation": round(total / limit, 3) if np.isfinite(limit) and limit > 0 else None,
            }
            whole = sum(whole_pupils(st, teaches[s] & _LEVEL_MASK[lv]) for lv in policy.LEVELS)
            row["students"] = int(whole.sum())  # the grades add up to the row (per level rounded)
            for g in range(1, 10):
                row[f"students_g{g}"] = int(whole[g - 1])
            for g in range(1, 10):
                row[f"classes_g{g}"] = int(cl[g - 1]) if teaches[s, g - 1] else 0
            rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    within = ~(df["over_size_limit"] | df["over_class_limit"] | df["over_classrooms"])
    first = {}
    for sid, grp in df.assign(within=within).groupby("school_id", sort=False):
        grp = grp.sort_values("year")
        ok = grp["within"].to_numpy()
        yrs = grp["year"].to_numpy()
        first_year = None
        for i in range(len(yrs)):
            if ok[i:].all():
                first_year = int(yrs[i])
                break
        first[sid] = first_year
    df["first_year_within_limits"] = df["school_id"].map(first).astype("Int64")
    return df


_LEVEL_MASK = {lv: np.isin(np.arange(1, 10), policy.LEVEL_GRADES[lv]) for lv in policy.LEVELS}


def whole_pupils(values: np.ndarray, taught: np.ndarray) -> np.ndarray:
    """Whole pupils per grade that add up to the rounded total of ``values[taught]`` (largest remainder).

    The ledger rounds each school and level this way, so a school's whole pupils per level keep its
    total within half a pupil (the reconciliation's tolerance, :mod:`zoning.reconcile`).

    Each taught grade gets the floor of its (fractional) pupils; the pupils still missing to reach
    ``round(total)`` go one each to the grades with the largest remainders (ties: lower grade
    first), so the grades of a ledger row always add up to its ``students``. Grades not taught are 0.
    """
    vals = np.where(taught, np.asarray(values, dtype=float), 0.0)
    total = int(round(float(vals.sum())))
    floors = np.floor(vals + 1e-9)
    missing = total - int(floors.sum())
    idx = np.flatnonzero(taught)
    order = idx[np.argsort(-(vals - floors)[idx], kind="stable")]
    out = floors.copy()
    if missing > 0 and len(order):
        out[order[:missing]] += 1
    elif missing < 0 and len(order):
        out[order[::-1][:-missing]] -= 1
    return out.astype(int)


def intake_offer(problem: ZoningProblem, s: int, year: int, students: np.ndarray, classes: np.ndarray):
    """Seats and classes a school can offer its entering grade(s) in ``year`` (the intake cap)."""
    entry_grades = [policy.ENTRY_GRADE[lv] for lv in policy.SERVES[problem.school_kind[s]]]
    staying = [g for g in range(1, 10) if g not in entry_grades]
    rooms_free = problem.classrooms[s] - sum(classes[g - 1] for g in staying)
    size_free = problem.size_cap()[s] - sum(students[g - 1] for g in staying)
    if not np.isfinite(rooms_free):
        rooms_free = 10 ** 6
    rooms_free = max(int(rooms_free), 0)
    limit = max(problem.class_limit[s, g - 1] for g in entry_grades)
    seats = rooms_free * limit
    if np.isfinite(size_free):
        seats = min(seats, max(size_free, 0))
    seats = int(seats)
    return seats, min(rooms_free, int(math.ceil(seats / limit)) if seats > 0 else 0)


def estimate_survival(history: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Cohort-survival ratios from an enrollment history (school_id, year, grade, students).

    The ratio of grade ``g`` to ``g + 1`` is the county's pupils in grade ``g + 1`` in year
    ``y + 1`` over its pupils in grade ``g`` in year ``y``, summed over every pair of consecutive
    years in the history (county totals, so pupils changing school within the county do not count
    as lost). Transitions with no data keep 1.0. Returns the ratios (index ``g − 1``, grades 1–8)
    and a table for the report.
    """
    ratios = np.ones(9)
    rows = []
    h = history.copy()
    for col in ("year", "grade", "students"):
        h[col] = pd.to_numeric(h[col], errors="coerce")
    h = h.dropna(subset=["year", "grade", "students"])
    tot = h.groupby(["year", "grade"])["students"].sum()
    for g in range(1, 9):
        num = den = 0.0
        for (y, gg), n in tot.items():
            if gg == g and (y + 1, g + 1) in tot.index:
                den += n
                num += tot[(y + 1, g + 1)]
        if den > 0:
            ratios[g - 1] = num / den
            rows.append({"from_grade": g, "to_grade": g + 1, "ratio": round(num / den, 4),
                         "pupils_before": int(den), "pupils_after": int(num)})
    return ratios, pd.DataFrame(rows, columns=["from_grade", "to_grade", "ratio", "pupils_before", "pupils_after"])


# ------------------------------------------------------------------------------ steady state
def steady_loads(problem: ZoningProblem, level: str, year: int) -> tuple[np.ndarray, float, int]:
    """What each unit brings a school of ``level`` once every grade has entered under one zone map:
    ``(pupils per unit (U,), cohort factor, grades)``.

    The steady state of the intake of ``year`` (issue 17): every grade of the level holds that
    year's entrants, carried up with the survival ratios. Pupils of a unit = its entrants × the sum
    of the survival products over the level's grades; each grade opens
    ``ceil(entrants × factor / class limit)`` classes (:func:`entry_classes`).
    """
    grades = policy.LEVEL_GRADES[level]
    entry = grades[0]
    carried = sum(problem.cohort_survival(entry, g) for g in grades)
    return problem.entrants(level, year) * carried, max_cohort_factor(problem, level), len(grades)


def steady_state(problem: ZoningProblem, zones: ZoneMaps, year: int, levels=policy.LEVELS) -> pd.DataFrame:
    """Each school's load once every grade has entered under the zones in force for ``year``'s
    intake: one row per school with ``steady_students``, ``steady_classes`` and the limits broken
    (``over_size_limit`` against the size cap, ``over_classrooms``), ``over_by`` (pupils over the
    size cap, and ``rooms_short`` classes without a classroom). The model holds the same sums
    (:func:`zoning.model.steady_rows`) unless the scenario turns ``steady_state`` off."""
    S = problem.n_schools
    students = np.zeros(S)
    classes = np.zeros(S)
    for level in levels:
        zone = zones.for_intake(level, year)
        load, factor, n_grades = steady_loads(problem, level, year)
        ent = problem.entrants(level, year)
        ok = zone >= 0
        students += np.bincount(zone[ok], weights=load[ok], minlength=S)
        n = np.bincount(zone[ok], weights=ent[ok], minlength=S)
        entry_g = policy.ENTRY_GRADE[level]
        classes += np.array([entry_classes(n[s], problem.class_limit[s, entry_g - 1], factor) * n_grades
                             for s in range(S)])
    cap = problem.size_cap()
    rows = []
    for s in range(S):
        if students[s] <= 0 and classes[s] <= 0:
            continue
        over = round(students[s]) - cap[s] if np.isfinite(cap[s]) else 0.0
        short = classes[s] - problem.classrooms[s] if np.isfinite(problem.classrooms[s]) else 0.0
        rows.append({
            "school_id": problem.school_ids[s], "name": problem.school_names[s], "level": problem.school_kind[s],
            "intake_year": int(year), "steady_students": int(round(students[s])), "steady_classes": int(classes[s]),
            "over_size_limit": bool(policy.over_size(round(students[s]), cap[s])),
            "over_classrooms": bool(policy.over_classrooms(classes[s], problem.classrooms[s])),
            "over_by": int(max(over, 0)), "rooms_short": int(max(short, 0)),
        })
    return pd.DataFrame(rows, columns=["school_id", "name", "level", "intake_year", "steady_students",
                                       "steady_classes", "over_size_limit", "over_classrooms", "over_by",
                                       "rooms_short"])
