"""The zoning problem as plain arrays (after spopt's ``from_geodataframe`` → ``from_cost_matrix``).

:class:`ZoningProblem` holds everything the model, the projection and the checker need, with no
geometry: unit and school attributes as numpy arrays, the unit adjacency as an edge list, and the
candidate unit–school pairs with their distances. ``from_tables`` takes the plain tables that
:mod:`geodata.tables` hands over; ``from_arrays`` builds one directly (tests, benchmarks).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from . import policy
from .scenario import Scenario, ScenarioError

log = logging.getLogger(__name__)

NEVER = 9999  # close_year of a school that never closes
GRADES = tuple(range(1, 10))


@dataclass
class ZoningProblem:
    """Units, schools, adjacency and candidate pairs as arrays.

    Attributes
    ----------
    unit_ids, unit_names : arrays of str, shape (U,)
    residents : float array (U, 9)
        Pupils of grades 1–9 living in each unit in the base year.
    ages : float array (U, 6)
        Children aged 0–5 living in each unit (age on 31 August of the base year).
    current : dict level -> int array (U,)
        Index of the school each unit is currently zoned to, -1 when none.
    school_ids, school_names, school_kind : arrays (S,)
        ``school_kind`` is ``primary``, ``junior`` or ``nine_year``.
    classrooms, capacity, size_limit : float arrays (S,)
        ``inf`` when not given.
    class_limit : float array (S, 9)
        Class limit per grade (NaN-free).
    open_year, close_year : int arrays (S,)
        First intake year (``base_year`` or earlier when already open) and the year from which the
        school no longer admits (``NEVER`` when it stays open).
    enrolled, classes : float arrays (S, 9)
        Base-year enrollment and classes per grade.
    edges : int array (E, 2)
        Unit adjacency (barriers already cut).
    pairs : DataFrame
        Candidate pairs: unit, school, level, distance_m, crosses_barrier.
    """

    base_year: int
    unit_ids: np.ndarray
    unit_names: np.ndarray
    residents: np.ndarray
    ages: np.ndarray
    current: dict
    school_ids: np.ndarray
    school_names: np.ndarray
    school_kind: np.ndarray
    classrooms: np.ndarray
    capacity: np.ndarray
    size_limit: np.ndarray
    class_limit: np.ndarray
    open_year: np.ndarray
    close_year: np.ndarray
    enrolled: np.ndarray
    classes: np.ndarray
    edges: np.ndarray
    pairs: pd.DataFrame
    unit_township: np.ndarray | None = None
    unit_xy: np.ndarray | None = None
    school_xy: np.ndarray | None = None
    survival: np.ndarray = field(default_factory=lambda: np.ones(9))
    notes: list = field(default_factory=list)
    #: Optional extra enrollment ceiling per school (e.g. to keep per-student area indicators);
    #: ``inf`` where none. Applied like the size limit from the first intake on.
    ceiling: np.ndarray | None = None
    #: ``i, j, barrier``: adjacency edges a barrier cuts with no crossing between the two units
    #: (:mod:`geodata.adjacency`); the checker names the barrier of a 飞地 from them. None when unknown.
    barrier_cuts: pd.DataFrame | None = None

    def size_cap(self) -> np.ndarray:
        """The enrollment a school may reach: size limit, seat capacity and any extra ceiling
        (:func:`zoning.policy.size_cap`)."""
        return policy.size_cap(self.size_limit, self.capacity, self.ceiling)

    # ------------------------------------------------------------------ sizes and lookups
    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    @property
    def n_schools(self) -> int:
        return len(self.school_ids)

    def school_index(self) -> dict:
        return {sid: i for i, sid in enumerate(self.school_ids)}

    def unit_index(self) -> dict:
        return {uid: i for i, uid in enumerate(self.unit_ids)}

    def serves(self, level: str) -> np.ndarray:
        """Boolean mask of the schools that serve ``level``."""
        return np.array([level in policy.SERVES[k] for k in self.school_kind], dtype=bool)

    def teaches(self) -> np.ndarray:
        """Boolean (S, 9): school teaches grade g (column g-1)."""
        out = np.zeros((self.n_schools, 9), dtype=bool)
        for i, kind in enumerate(self.school_kind):
            for g in policy.SCHOOL_GRADES[kind]:
                out[i, g - 1] = True
        return out

    def is_open(self, year: int) -> np.ndarray:
        """Schools admitting an intake in ``year``."""
        return (self.open_year <= year) & (self.close_year > year)

    def usable(self, level: str, start_year: int, horizon: int) -> np.ndarray:
        """Schools a zone map of ``level`` in force from ``start_year`` to ``horizon`` may use:
        serving the level, open by ``start_year`` and not closing before ``horizon`` has passed."""
        return self.serves(level) & (self.open_year <= start_year) & (self.close_year > horizon)

    # ------------------------------------------------------------------ demand
    def entrants(self, level: str, year: int) -> np.ndarray:
        """Children of each unit entering the level's first grade in ``year`` (U,).

        Grade 1 in year ``base + k`` comes from the children aged ``6 − k`` in the base year
        (k = 1…6; later years repeat the age-0 cohort, a flat assumption). Grade 7 in ``base + k``
        comes from the pupils in grade ``7 − k`` (k = 1…6) living in the unit, aged up with the
        survival ratios, then from the children aged ``12 − k``.
        """
        k = year - self.base_year
        if k < 1:
            raise ValueError(f"entrants are projected for years after the base year, not {year}")
        if level == "primary":
            if not self.has_ages:
                # no children-by-age data: each year's intake is taken to equal today's grade 1
                return self.residents[:, 0].astype(float)
            return self.ages[:, max(6 - k, 0)].astype(float)
        g0 = 7 - k
        if not self.has_primary_residents and not self.has_ages:
            # only junior pupils given (students_junior totals): each year's grade-7 intake is taken
            # to equal today's grade 7, as the primary intake repeats today's grade 1
            return self.residents[:, 6].astype(float)
        if g0 >= 1:
            return self.residents[:, g0 - 1] * self.cohort_survival(g0, 7)
        if not self.has_ages:
            return self.residents[:, 0] * self.cohort_survival(1, 7)
        age = max(12 - k, 0)
        return self.ages[:, age] * self.cohort_survival(1, 7)

    @property
    def has_primary_residents(self) -> bool:
        """Whether any unit has pupils of grades 1–6 (else the grade-7 intake repeats today's grade 7)."""
        return bool(self.residents.size) and float(self.residents[:, :6].sum()) > 0

    @property
    def has_ages(self) -> bool:
        """Whether children-by-age data were given (else intakes repeat today's grade 1)."""
        return bool(self.ages.size) and float(self.ages.sum()) > 0

    def cohort_survival(self, from_grade: int, to_grade: int) -> float:
        """Product of the survival ratios from ``from_grade`` to ``to_grade``."""
        if to_grade <= from_grade:
            return 1.0
        return float(np.prod(self.survival[from_grade - 1: to_grade - 1]))

    # ------------------------------------------------------------------ graph
    def components(self) -> np.ndarray:
        """Connected component label of each unit in the adjacency graph."""
        n = self.n_units
        if len(self.edges) == 0:
            return np.arange(n)
        a = sparse.coo_matrix(
            (np.ones(len(self.edges)), (self.edges[:, 0], self.edges[:, 1])), shape=(n, n)
        )
        _, labels = csgraph.connected_components(a, directed=False)
        return labels

    def neighbours(self) -> list[np.ndarray]:
        """Adjacency lists."""
        n = self.n_units
        nb = [[] for _ in range(n)]
        for i, j in self.edges:
            nb[i].append(j)
            nb[j].append(i)
        return [np.array(sorted(x), dtype=int) for x in nb]

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_tables(cls, tables, scenario: Scenario) -> "ZoningProblem":
        """Build from :class:`geodata.tables.ZoningTables` (plain DataFrames)."""
        problem = cls.from_frames(
            tables.units, tables.schools, tables.adjacency, tables.pairs, scenario,
            notes=list(getattr(tables, "meta", {}).get("notes", [])),
        )
        cuts = getattr(tables, "barrier_cuts", None)
        if cuts is not None:
            problem.barrier_cuts = cuts[["i", "j", "barrier"]].reset_index(drop=True)
        return problem

    @classmethod
    def from_frames(cls, units: pd.DataFrame, schools: pd.DataFrame, adjacency: pd.DataFrame,
                    pairs: pd.DataFrame, scenario: Scenario, notes=None) -> "ZoningProblem":
        """Build from plain frames (columns as in docs/ARCHITECTURE.md)."""
        units = units.reset_index(drop=True)
        schools = schools.reset_index(drop=True)
        sidx = {str(s): i for i, s in enumerate(schools["school_id"].astype(str))}
        U, S = len(units), len(schools)

        def grade_matrix(df, prefix, n):
            return np.column_stack([
                pd.to_numeric(df.get(f"{prefix}{g}", pd.Series(0, index=df.index)), errors="coerce")
                .fillna(0).to_numpy(float) for g in range(1, n + 1)
            ]) if len(df) else np.zeros((0, n))

        residents = grade_matrix(units, "students_g", 9)
        ages = np.column_stack([
            pd.to_numeric(units.get(f"age_{a}", pd.Series(0, index=units.index)), errors="coerce")
            .fillna(0).to_numpy(float) for a in range(6)
        ]) if U else np.zeros((0, 6))

        current = {}
        for level, col in (("primary", "primary_school"), ("junior", "junior_school")):
            vals = units[col] if col in units else pd.Series([None] * U)
            current[level] = np.array(
                [sidx.get(str(v), -1) if v is not None and not pd.isna(v) else -1 for v in vals], dtype=int
            )

        kind = schools["level"].astype(str).to_numpy()
        def num(col, default):
            if col not in schools:
                return np.full(S, default, dtype=float)
            return pd.to_numeric(schools[col], errors="coerce").to_numpy(float)

        classrooms = num("classrooms", np.nan)
        capacity = num("capacity", np.nan)
        size_limit = num("size_limit", np.nan)
        size_limit = np.array([policy.size_limit(k, o) for k, o in zip(kind, size_limit)], dtype=float)
        climit_override = num("class_limit", np.nan)
        class_limit = np.array([policy.class_limits(o) for o in climit_override], dtype=float).reshape(S, 9)
        capacity = np.where(np.isnan(capacity), np.inf, capacity)
        # with neither given, classrooms are unbounded (the validator insists on one of them)
        classrooms = np.where(np.isnan(classrooms), np.inf, classrooms)

        open_year = num("open_year", np.nan)
        close_year = num("close_year", np.nan)
        open_year = np.where(np.isnan(open_year), scenario.base_year - 100, open_year).astype(int)
        close_year = np.where(np.isnan(close_year), NEVER, close_year).astype(int)
        for sid, y in scenario.open_schools.items():
            if sid in sidx:
                open_year[sidx[sid]] = y
        for sid, y in scenario.close_schools.items():
            if sid in sidx:
                close_year[sidx[sid]] = y

        survival = np.ones(9)
        for key, ratio in scenario.survival.items():
            # "g1-g2" or "1" meaning the transition from that grade to the next
            g = int(str(key).split("-")[0].lstrip("g"))
            if 1 <= g <= 8:
                survival[g - 1] = ratio

        edges = adjacency[["i", "j"]].to_numpy(int) if len(adjacency) else np.zeros((0, 2), int)
        p = pairs.copy()
        if "crosses_barrier" not in p:
            p["crosses_barrier"] = False
        if "reachable" in p:
            # a locked pair stays even where the road network does not connect it (straight × 1.3)
            p = p[p["reachable"].astype(bool) | _locked_rows(p, units, schools, scenario)]
        p = p[["unit", "school", "level", "distance_m", "crosses_barrier"]].reset_index(drop=True)
        p["unit"] = p["unit"].astype(int)
        p["school"] = p["school"].astype(int)
        p["distance_m"] = p["distance_m"].astype(float)
        p["crosses_barrier"] = p["crosses_barrier"].astype(bool)
        p = p.drop_duplicates(["unit", "school", "level"]).sort_values(["level", "unit", "school"])
        problem = cls(
            base_year=scenario.base_year,
            unit_ids=units["unit_id"].astype(str).to_numpy(),
            unit_names=units["name"].astype(str).to_numpy() if "name" in units else units["unit_id"].astype(str).to_numpy(),
            residents=residents,
            ages=ages,
            current=current,
            school_ids=schools["school_id"].astype(str).to_numpy(),
            school_names=schools["name"].astype(str).to_numpy(),
            school_kind=kind,
            classrooms=classrooms,
            capacity=capacity,
            size_limit=size_limit,
            class_limit=class_limit,
            open_year=open_year,
            close_year=close_year,
            enrolled=grade_matrix(schools, "enrolled_g", 9),
            classes=grade_matrix(schools, "classes_g", 9),
            edges=edges,
            pairs=p.reset_index(drop=True),
            unit_township=units["township"].astype(str).to_numpy() if "township" in units else None,
            unit_xy=units[["x", "y"]].to_numpy(float) if {"x", "y"} <= set(units.columns) else None,
            school_xy=schools[["x", "y"]].to_numpy(float) if {"x", "y"} <= set(schools.columns) else None,
            survival=survival,
            notes=list(notes or []) + ([] if ages.sum() > 0 or not U else
                                       ["没有学龄前儿童（age_0…age_5）数据：各年一年级新生按现有一年级人数估计"]),
        )
        if U and not problem.has_primary_residents and float(residents[:, 6:].sum()) > 0:
            problem.notes.append("片区单元只有初中学生数：各年七年级新生按现有七年级人数估计")
        bad = lock_problems(problem, scenario)
        if bad:
            raise ScenarioError(bad, "锁定设置（scenario.toml 的 [locks] 或 --lock）")
        return problem


def _locked_rows(pairs: pd.DataFrame, units: pd.DataFrame, schools: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Rows of ``pairs`` (positions) that are a lock of the scenario."""
    uidx = {str(u): i for i, u in enumerate(units["unit_id"].astype(str))}
    sidx = {str(s): i for i, s in enumerate(schools["school_id"].astype(str))}
    locked = {(uidx[u], sidx[s]) for u, s in scenario.locks.items() if u in uidx and s in sidx}
    return np.array([(int(u), int(s)) in locked for u, s in zip(pairs["unit"], pairs["school"])], dtype=bool)


def _by_id_or_name(key: str, ids: list[str], names: list[str], what: str) -> tuple[str | None, str | None]:
    """(id, problem): ``key`` as an id, else as the one row whose name it is."""
    if key in ids:
        return key, None
    hits = [i for i, n in zip(ids, names) if str(n).strip() == key.strip()]
    if len(hits) == 1:
        return hits[0], None
    if len(hits) > 1:
        return None, f"“{key}”是{len(hits)}个{what}的名称（{'、'.join(hits)}），请改用{what}代码"
    return None, None


def resolve_lock_names(locks: dict, unit_ids, unit_names, school_ids, school_names
                       ) -> tuple[dict, list[str], list[str]]:
    """Locks written with names (``润园新村 = 城关七小``) as the ids the model uses.

    Returns the locks by id, one note per conversion and the problems (a name shared by two units
    or schools); a key that is neither an id nor a name is kept as written, for
    :func:`lock_problems` to report.
    """
    unit_ids, school_ids = [str(u) for u in unit_ids], [str(s) for s in school_ids]
    out, notes, problems = {}, [], []
    for unit, school in locks.items():
        uid, uproblem = _by_id_or_name(str(unit), unit_ids, list(unit_names), "单元")
        sid, sproblem = _by_id_or_name(str(school), school_ids, list(school_names), "学校")
        problems += [f"锁定 {unit} = {school}：{p}" for p in (uproblem, sproblem) if p]
        uid, sid = uid or str(unit), sid or str(school)
        if (uid, sid) != (str(unit), str(school)):
            notes.append(f"锁定 {unit} = {school} 按名称识别为 {uid} = {sid}")
        out[uid] = sid
    return out, notes, problems


def lock_problems(problem: ZoningProblem, scenario: Scenario) -> list[str]:
    """Every lock that cannot hold, found before any solve: an unknown unit or school, a school
    teaching none of the scenario's levels, or one not open through the years the new zones are in
    force (from the first intake to the horizon). A lock beyond the distance caps or across a
    barrier is allowed; :func:`zoning.explain.presolve` says so."""
    uidx, sidx = problem.unit_index(), problem.school_index()
    out = []
    years = f"{scenario.intake_year}–{scenario.horizon}"
    for uid, sid in scenario.locks.items():
        head = f"{uid} = {sid}："
        if uid not in uidx:
            out.append(head + f"找不到单元 {uid}（单元表 unit_id 中没有这个编号），请改为正确的单元编号或删去这条锁定")
        s = sidx.get(sid)
        if s is None:
            out.append(head + f"找不到学校 {sid}（学校表 school_id 中没有这个编号），请改为正确的学校编号")
            continue
        name = f"{problem.school_names[s]}（{sid}）"
        levels = [lv for lv in scenario.levels if lv in policy.SERVES.get(str(problem.school_kind[s]), ())]
        if not levels:
            wanted = "、".join(policy.LEVEL_NAMES_ZH[lv] for lv in scenario.levels)
            out.append(head + f"{name}不招收本方案规划的学段（{wanted}），请锁定到招收该学段的学校")
            continue
        u = uidx.get(uid)
        pairs = problem.pairs
        listed = (set(pairs.loc[(pairs["unit"] == u) & (pairs["school"] == s), "level"]) if u is not None
                  else set(levels))
        if not set(levels) & listed:
            out.append(head + f"没有 {uid} 到{name}的上学距离（候选配对中没有这一对），请检查单元与学校的位置")
        if not any(problem.usable(lv, scenario.intake_year, scenario.horizon)[s] for lv in levels):
            when = []
            if problem.open_year[s] > scenario.intake_year:
                when.append(f"{problem.open_year[s]} 年才开始招生")
            if problem.close_year[s] <= scenario.horizon:
                when.append(f"{problem.close_year[s]} 年停办")
            out.append(head + f"{name}{'、'.join(when)}，新片区执行的 {years} 年间不能一直招生，"
                              "请锁定到其他学校，或调整开办/停办年份")
    return out


def euclidean_pairs(unit_xy: np.ndarray, school_xy: np.ndarray, school_kind, k: int = 6,
                    current: dict | None = None, levels=policy.LEVELS) -> pd.DataFrame:
    """Candidate pairs from coordinates alone: the ``k`` nearest schools of each level (KD-tree).

    Used by tests and benchmarks, where no geometry is involved; real data get their pairs from
    :mod:`geodata.pairs`, which adds network distances and barrier crossings.
    """
    frames = []
    kind = np.asarray(school_kind)
    for level in levels:
        idx = np.flatnonzero([level in policy.SERVES[k_] for k_ in kind])
        if len(idx) == 0:
            continue
        kk = min(k, len(idx))
        tree = cKDTree(school_xy[idx])
        dist, nn = tree.query(unit_xy, k=kk)
        dist = dist.reshape(len(unit_xy), kk)
        nn = nn.reshape(len(unit_xy), kk)
        df = pd.DataFrame({
            "unit": np.repeat(np.arange(len(unit_xy)), kk),
            "school": idx[nn.ravel()],
            "level": level,
            "distance_m": dist.ravel(),
        })
        if current is not None and level in current:
            cur = np.asarray(current[level])
            has = np.flatnonzero(cur >= 0)
            extra = pd.DataFrame({
                "unit": has, "school": cur[has], "level": level,
                "distance_m": np.hypot(*(unit_xy[has] - school_xy[cur[has]]).T),
            })
            df = pd.concat([df, extra], ignore_index=True)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True).drop_duplicates(["unit", "school", "level"])
    out["crosses_barrier"] = False
    out["reachable"] = True
    out.attrs["distance_source"] = "straight"
    return out.sort_values(["level", "unit", "school"]).reset_index(drop=True)
