"""The state behind ``zoning edit``: a proposal loaded once, the planner's edits, and every figure
recomputed after each edit by the same code as ``zoning project`` and ``zoning check-plan``
(:func:`zoning.checks.run_checks`: the projection, the ledger and every independent check).

What does not change between edits is computed once when the session opens: the data folder is
read, the problem built (:func:`pipelines.inputs.load`), the candidate pairs of each level ruled
(:func:`zoning.pairs.pair_rules`) and the source proposal's own figures kept for comparison. An edit
changes one row of the proposal's final zone map; the assignments table is rebuilt from the edits
and judged whole, so the panel can never drift from what a saved proposal gives.

The source proposal is never written: saving and re-solving write new folders beside it.
"""
from __future__ import annotations

import dataclasses
import logging
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.outputs import OutputRefused, OutputUnwritable, compactness, proposal_folder
from geodata.proposal import (final_assignments, read_assignments, read_run, write_assignments, write_checks,
                              write_ledger, write_metrics, write_run)
from maps.planner import write_planner_map
from pipelines import PlanError
from pipelines.inputs import guard_output, load, recorded_data_dir, recorded_mapping, scenario_from_run
from pipelines.plan import write_geo_files, write_indicator_files, run_plan, run_record
from zoning import policy
from zoning.checks import CheckMemo, LIMITS, format_results, limit_failures, run_checks
from zoning.errors import DataError
from zoning.explain import explain_violations
from zoning.metrics import over_limit_summary, plan_metrics
from zoning.projection import ZoneMaps, ledger as make_ledger, project
from zoning.pairs import pair_rules
from zoning.scenario import ScenarioError, write_scenario

log = logging.getLogger(__name__)

#: ledger columns the panel shows and ``window.zoningEditor.ledger()`` returns
LEDGER_COLUMNS = ("school_id", "name", "year", "students", "classes", "largest_class", "large_classes",
                  "over_size_limit", "over_class_limit", "over_classrooms", "first_year_within_limits")
#: the columns compared to tell whether a school's figures changed
COMPARED = ("students", "classes", "largest_class", "over_size_limit", "over_class_limit", "over_classrooms",
            "first_year_within_limits")
EDITED_STATUS = "edited"
EDITED_STATUS_ZH = "手工调整（未重新求解）"
_BAD_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


class EditError(PlanError):
    """An edit or a save the editor cannot do; the message (Chinese) is shown in the page (exit 2
    when it stops the command)."""


@dataclass
class Edit:
    """One hand edit: ``unit_id`` of ``level`` goes to ``school_id`` (it was at ``from_school``)."""

    unit_id: str
    level: str
    school_id: str
    from_school: str
    effect: str = ""

    def record(self) -> dict:
        return {"unit_id": self.unit_id, "level": self.level, "school_id": self.school_id,
                "from_school_id": self.from_school, "effect": self.effect}


@dataclass
class Evaluation:
    """The figures of one state of the edits (all from :func:`zoning.checks.run_checks`)."""

    assignments: pd.DataFrame
    results: list
    zones: object
    ledger: pd.DataFrame
    metrics: dict
    seconds: float
    projection: object = None


@dataclass
class ResolveJob:
    """A background re-solve with the edits locked (its progress lines and its outcome)."""

    name: str
    out_dir: Path
    messages: list = field(default_factory=list)
    running: bool = True
    error: str | None = None
    path: str | None = None
    summary: str | None = None
    result: dict | None = None  # the re-solved proposal's figures beside the edited one's

    def state(self) -> dict:
        return {"name": self.name, "running": self.running, "messages": list(self.messages[-200:]),
                "error": self.error, "path": self.path, "summary": self.summary, "result": self.result}


def _ledger_key(led: pd.DataFrame) -> dict:
    """school_id -> tuple of the compared figures over every year (to tell changed schools)."""
    out = {}
    for sid, g in led.sort_values(["school_id", "year"]).groupby("school_id", sort=False):
        out[sid] = tuple(tuple("" if pd.isna(v) else v for v in row)
                         for row in g[list(COMPARED)].itertuples(index=False, name=None))
    return out


class EditSession:
    """A proposal opened for editing: load once, then :meth:`assign`, :meth:`undo`, :meth:`redo`,
    :meth:`save` and :meth:`resolve`; :meth:`state` is what the page shows."""

    def __init__(self, proposal_dir, data_dir=None):
        self.source = Path(proposal_dir).resolve()
        t0 = time.perf_counter()
        self.run = read_run(self.source)
        self.data_dir = recorded_data_dir(self.run, data_dir)
        self.coords = self.run.get("coords")
        self.mapping = recorded_mapping(self.run)
        self.loaded = load(self.data_dir, None, self.coords, self.mapping, scenario=scenario_from_run(self.run))
        self._setup(self.loaded.problem, self.loaded.scenario, read_assignments(self.source))
        self.load_seconds = time.perf_counter() - t0
        log.info("编辑器已载入 %s（%.1f 秒）", self.source, self.load_seconds)

    @classmethod
    def on_problem(cls, problem, scenario, assignments: pd.DataFrame) -> "EditSession":
        """A session on a problem already in memory (benchmarks; no files: it cannot save)."""
        self = cls.__new__(cls)
        self.source, self.run, self.loaded = None, {}, None
        self._setup(problem, scenario, assignments)
        self.load_seconds = 0.0
        return self

    def _setup(self, problem, scenario, assignments: pd.DataFrame) -> None:
        """What does not change while editing, and the source proposal's own figures."""
        self.problem, self.scenario = problem, scenario
        self.base = assignments
        self.levels = [lv for lv in self.scenario.levels if lv in set(self.base["level"])]
        self.uidx, self.sidx = self.problem.unit_index(), self.problem.school_index()
        self.final_year = {lv: int(self.base.loc[self.base["level"] == lv, "change_year"].max()) for lv in self.levels}
        self.rules = {lv: pair_rules(self.problem, self.scenario, lv, self.final_year[lv]) for lv in self.levels}
        self.base_school = {(r.unit_id, r.level): str(r.school_id) for r in final_assignments(self.base).itertuples()}
        self.edits: list[Edit] = []
        self.redo_stack: list[Edit] = []
        self.lock = threading.RLock()
        self.job: ResolveJob | None = None
        self._before: pd.DataFrame | None = None
        self.memo = CheckMemo(self.problem, self.scenario)
        self.original = self._evaluate([])
        self.current = self.original
        self.original_key = _ledger_key(self.original.ledger)

    # ------------------------------------------------------------------ the edits as an assignments table
    def school_of(self, unit_id: str, level: str, edits=None) -> str:
        """The school a unit's final zone names after ``edits`` (default: the session's)."""
        sid = self.base_school.get((unit_id, level), "")
        for e in self.edits if edits is None else edits:
            if e.unit_id == unit_id and e.level == level:
                sid = e.school_id
        return sid

    def assignments_for(self, edits) -> pd.DataFrame:
        """The source proposal's assignments with ``edits`` applied to each level's final zone map."""
        a = self.base.copy()
        if not edits:
            return a
        latest = {}
        for e in edits:
            latest[(e.unit_id, e.level)] = e.school_id
        final_rows = a["change_year"] == a["level"].map(self.final_year)
        keys = list(zip(a["unit_id"], a["level"]))
        new = pd.Series([latest.get(k) for k in keys], index=a.index)
        hit = final_rows & new.notna()
        a.loc[hit, "school_id"] = new[hit]
        a.loc[hit, "school_name"] = [self.problem.school_names[self.sidx[s]] for s in new[hit]]
        return a

    def _evaluate(self, edits, prev: Evaluation | None = None) -> Evaluation:
        """The figures of ``edits``: :func:`zoning.checks.run_checks` on the assignments table, with
        the session's memo (what the problem and scenario alone decide is computed once) and, given
        the previous state ``prev``, the ledger rows recomputed only for the schools whose projected
        figures changed. ``tests/test_edit_incremental.py`` holds this equal to a fresh run."""
        t0 = time.perf_counter()
        a = self.assignments_for(edits)
        results, zones, proj, led = run_checks(self.problem, a, self.scenario, self.memo,
                                               ledger_of=lambda pr: self._ledger_of(pr, prev))
        metrics = plan_metrics(self.problem, zones, self.scenario)
        metrics["moved_by_year"] = self.moved_by_year(zones)
        return Evaluation(a, results, zones, led, metrics, time.perf_counter() - t0, proj)

    def _ledger_of(self, proj, prev: Evaluation | None) -> pd.DataFrame:
        """The ledger of ``proj``: the previous state's rows where a school's projected students and
        classes are unchanged (a school's rows depend on its own figures only), new rows elsewhere."""
        if prev is None or prev.projection is None or prev.projection.years != proj.years:
            return make_ledger(self.problem, proj)
        old = prev.projection
        moved = np.flatnonzero((old.students != proj.students).any(axis=(1, 2))
                               | (old.classes != proj.classes).any(axis=(1, 2)))
        if not len(moved):
            return prev.ledger
        fresh = make_ledger(self.problem, proj, schools=moved.tolist())
        ids = {self.problem.school_ids[s] for s in moved}
        keep = prev.ledger[~prev.ledger["school_id"].isin(ids)]
        out = pd.concat([keep, fresh], ignore_index=True)
        order = np.lexsort((out["year"].to_numpy(), out["school_id"].map(self.sidx).to_numpy()))
        return out.iloc[order].reset_index(drop=True).astype(prev.ledger.dtypes.to_dict())

    def moved_by_year(self, zones) -> dict:
        """Entrants sent to another school than their current zone's, per level and intake year."""
        out = {}
        for level in self.levels:
            final, cur = zones.final(level), self.problem.current[level]
            changed = (cur >= 0) & (final >= 0) & (final != cur)
            out[level] = {int(y): int(round(self.problem.entrants(level, y)[changed].sum()))
                          for y in self.scenario.years if y >= self.final_year[level]}
        return out

    # ------------------------------------------------------------------ editing
    def validate(self, unit_id: str, level: str, school_id: str) -> tuple[int, int]:
        """The unit and school positions of an edit, or :class:`EditError` saying what is wrong."""
        unit_id, school_id = str(unit_id or "").strip(), str(school_id or "").strip()
        if level not in self.levels:
            names = "、".join(f"{lv}（{policy.LEVEL_NAMES_ZH[lv]}）" for lv in self.levels)
            raise EditError(f"学段“{level}”不在本方案中；本方案的学段为 {names}")
        u = self.uidx.get(unit_id)
        if u is None:
            raise EditError(f"没有编号为“{unit_id}”的小区/村（单元）：请在地图上点选单元，或核对单元编号")
        s = self.sidx.get(school_id)
        if s is None:
            raise EditError(f"没有编号为“{school_id}”的学校：请从候选学校中选择")
        name = self.problem.school_names[s]
        if level not in policy.SERVES[self.problem.school_kind[s]]:
            raise EditError(f"{name}（{school_id}）不招收{policy.LEVEL_NAMES_ZH[level]}学生：请选择招收"
                            f"{policy.LEVEL_NAMES_ZH[level]}的学校")
        start = self.final_year[level]
        if not self.rules[level].usable[s]:
            why = (f"{self.problem.open_year[s]} 年才开始招生" if self.problem.open_year[s] > start
                   else f"{self.problem.close_year[s]} 年停办")
            raise EditError(f"{name}（{school_id}）{why}，不能接收 {start}–{self.scenario.horizon} 年的新生："
                            f"请选择其他学校")
        return u, s

    def assign(self, unit_id: str, level: str, school_id: str) -> dict:
        """Move a unit's final zone of ``level`` to ``school_id``; every figure is recomputed."""
        with self.lock:
            u, s = self.validate(unit_id, level, school_id)
            unit_id, school_id = self.problem.unit_ids[u], self.problem.school_ids[s]
            was = self.school_of(unit_id, level)
            if was == school_id:
                return self.state(note=f"{self.problem.unit_names[u]} 已划入 {self.problem.school_names[s]}，未改变")
            edit = Edit(unit_id, level, school_id, was)
            before = self.current
            after = self._evaluate(self.edits + [edit], prev=before)
            edit.effect = self._effect(before.ledger, after.ledger, after)
            self.edits.append(edit)
            self.redo_stack.clear()
            self.current = after
            return self.state()

    def undo(self) -> dict:
        with self.lock:
            if not self.edits:
                raise EditError("没有可以撤销的修改")
            self.redo_stack.append(self.edits.pop())
            self.current = self._evaluate(self.edits, prev=self.current) if self.edits else self.original
            return self.state()

    def redo(self) -> dict:
        with self.lock:
            if not self.redo_stack:
                raise EditError("没有可以重做的修改")
            self.edits.append(self.redo_stack.pop())
            self.current = self._evaluate(self.edits, prev=self.current)
            return self.state()

    def _effect(self, before: pd.DataFrame, after: pd.DataFrame, ev: Evaluation) -> str:
        """A short Chinese line: how each school's pupils in the last year changed with one edit."""
        last = int(after["year"].max())
        b = before[before["year"] == last].set_index("school_id")["students"]
        a = after[after["year"] == last].set_index("school_id")["students"]
        diff = (a - b.reindex(a.index).fillna(0)).astype(int)
        parts = [f"{self.problem.school_names[self.sidx[sid]]} {d:+d}" for sid, d in diff.items() if d != 0]
        fails = sum(len(r.failures) for r in ev.results)
        return (f"{last} 年在校生：" + ("、".join(parts) if parts else "无变化") + f"；检查未通过 {fails} 处")

    # ------------------------------------------------------------------ what the page shows
    def changed_schools(self, ev: Evaluation | None = None) -> list[str]:
        """Schools whose ledger differs from the source proposal's, by school_id."""
        led, orig = (ev or self.current).ledger, self.original.ledger
        if led is orig:
            return []
        if len(led) == len(orig) and led[["school_id", "year"]].equals(orig[["school_id", "year"]]):
            differs = np.zeros(len(led), dtype=bool)
            for c in COMPARED:  # the same rows in the same order: compare column by column
                x, y = led[c], orig[c]
                differs |= ~((x == y).fillna(False).to_numpy(bool) | (x.isna() & y.isna()).to_numpy(bool))
            return sorted(set(led["school_id"][differs]))
        key = _ledger_key(led)
        return [sid for sid in key if key[sid] != self.original_key.get(sid)]

    def ledger_rows(self, led: pd.DataFrame) -> list[dict]:
        rows = []
        for r in led[list(LEDGER_COLUMNS)].itertuples(index=False):
            d = r._asdict()
            fy = d["first_year_within_limits"]
            d["first_year_within_limits"] = None if pd.isna(fy) else int(fy)
            for c in ("year", "students", "classes", "largest_class", "large_classes"):
                d[c] = int(d[c])
            for c in ("over_size_limit", "over_class_limit", "over_classrooms"):
                d[c] = bool(d[c])
            rows.append(d)
        return rows

    def checks(self, ev: Evaluation) -> list[dict]:
        out = []
        for r in ev.results:
            fails = [{"detail": f.get("detail", ""), "units": [u for u in str(f.get("unit_id") or "").split(",") if u],
                      "school_id": f.get("school_id")} for f in r.failures]
            out.append({"name": r.name, "title": r.title, "ok": r.ok, "limit": r.name in LIMITS,
                        "failures": fails, "notes": list(r.notes)})
        return out

    def totals(self, ev: Evaluation) -> dict:
        m = ev.metrics
        return {"students_moved": m["students_moved"], "units_moved": m["units_moved"],
                "mean_distance_m": m["mean_distance_m"], "max_distance_m": m["max_distance_m"],
                "moved_by_year": m["moved_by_year"]}

    def assignment_map(self) -> dict:
        return {lv: {uid: self.school_of(uid, lv) for uid in self.problem.unit_ids} for lv in self.levels}

    def state(self, note: str | None = None) -> dict:
        """Everything the panel shows after the last edit (plain JSON-ready values)."""
        ev = self.current
        changed = self.changed_schools(ev)
        flagged = sorted({u for c in self.checks(ev) if not c["limit"] for f in c["failures"] for u in f["units"]})
        return {
            "edits": [dict(e.record(), unit_name=self.problem.unit_names[self.uidx[e.unit_id]],
                           school_name=self.problem.school_names[self.sidx[e.school_id]],
                           from_name=(self.problem.school_names[self.sidx[e.from_school]]
                                      if e.from_school in self.sidx else "")) for e in self.edits],
            "can_undo": bool(self.edits), "can_redo": bool(self.redo_stack),
            "assignment": self.assignment_map(),
            "ledger": self.ledger_rows(ev.ledger),
            "original_ledger": self.ledger_rows(self.original.ledger[self.original.ledger["school_id"].isin(changed)]),
            "changed_schools": changed,
            "totals": self.totals(ev), "original_totals": self.totals(self.original),
            "checks": self.checks(ev), "flagged_units": flagged,
            "compute_ms": round(ev.seconds * 1000, 1), "note": note,
            "job": None if self.job is None else self.job.state(),
        }

    def candidates(self, unit_id: str) -> dict:
        """The schools a unit may be zoned to, per level, nearest first, with the pair rules' verdicts."""
        u = self.uidx.get(str(unit_id))
        if u is None:
            raise EditError(f"没有编号为“{unit_id}”的小区/村（单元）")
        out = {}
        for level in self.levels:
            p = self.rules[level].pairs
            p = p[p["unit"] == u].sort_values(["distance_m", "school"])
            now = self.school_of(self.problem.unit_ids[u], level)
            cur = self.problem.current[level][u]
            rows = []
            for r in p.itertuples():
                sid = self.problem.school_ids[r.school]
                rows.append({"school_id": sid, "name": self.problem.school_names[r.school],
                             "distance_m": round(float(r.distance_m)), "within_cap": bool(r.within_cap),
                             "barrier_ok": bool(r.barrier_ok), "allowed": bool(r.allowed),
                             "assigned": sid == now, "current_zone": int(r.school) == int(cur)})
            out[level] = rows
        return {"unit_id": self.problem.unit_ids[u], "name": self.problem.unit_names[u], "levels": out}

    # ------------------------------------------------------------------ writing (always a new folder)
    def target(self, name: str) -> Path:
        """The folder a save or re-solve named ``name`` writes: beside the source, never the source."""
        name = str(name or "").strip()
        if not name or name in (".", "..") or _BAD_NAME.search(name):
            raise EditError("方案名称不能为空，也不能含有 \\ / : * ? \" < > | 等字符")
        out = self.source.parent / name
        if out.resolve() == self.source:
            raise EditError("不能写入正在编辑的原方案文件夹：请换一个名称")
        if out.exists():
            raise EditError(f"{out} 已存在：请换一个名称（编辑器不覆盖已有文件夹）")
        return out

    def save(self, name: str) -> Path:
        """Write the edited proposal as a new folder beside the source (atomic, the plan's schema).

        ``run.json`` records the source proposal and the edits; ``checks.txt`` the independent
        checker's report of exactly the figures the panel shows (a broken rule is written, not refused).
        """
        with self.lock:
            out = self.target(name)
            ev, edits = self.current, list(self.edits)
        try:
            guard_output(out, "folder", self.data_dir, proposals=[self.source], mapping=self.mapping)
        except (OutputRefused, OutputUnwritable) as exc:
            raise EditError(str(exc)) from None
        with proposal_folder(out) as tmp:
            tmp = Path(tmp)
            metrics = self.metrics_record(ev)
            comp = compactness(self.loaded.dataset, final_assignments(ev.assignments))
            metrics["compactness"] = comp["mean"]
            metrics["compactness_by_level"] = {k: v for k, v in comp.items() if k != "mean"}
            write_assignments(tmp, ev.assignments)
            write_ledger(tmp, ev.ledger)
            write_metrics(tmp, metrics)
            write_checks(tmp, format_results(ev.results))
            write_run(tmp, self.run_record(tmp, edits))
            write_geo_files(tmp, self.loaded, ev.assignments, ev.ledger, self.scenario)
            write_indicator_files(tmp, self.loaded.dataset, ev.ledger)
            write_planner_map(tmp, tmp / "map.html")
        log.info("已保存编辑后的方案：%s", out)
        return out

    def metrics_record(self, ev: Evaluation) -> dict:
        """metrics.json of an edited proposal: the plan's figures, status ``edited`` (no solve)."""
        before = self.before_ledger()
        m = {k: v for k, v in ev.metrics.items() if k != "moved_by_year"}
        violations = explain_violations(self.problem, limit_failures(ev.results), ev.ledger)
        m.update({
            "status": EDITED_STATUS, "status_zh": EDITED_STATUS_ZH, "gap": None, "objective": None,
            "bound": None, "repair": None, "objective_parts": {},
            "violations": violations, "presolve": [],
            "notes": list(dict.fromkeys(self.problem.notes)),
            "over_limits_before": over_limit_summary(before),
            "over_limits_after": over_limit_summary(ev.ledger),
            "first_year_within_limits": {
                r.name: (None if pd.isna(r.first_year_within_limits) else int(r.first_year_within_limits))
                for r in ev.ledger.drop_duplicates("school_id").itertuples()},
            "is_sample": bool(getattr(self.loaded.dataset, "is_sample", False)),
            "base_year": self.scenario.base_year, "target_year": self.scenario.target_year,
            "horizon": self.scenario.horizon, "levels": list(self.scenario.levels), "compactness": None,
            "moved_by_year": {lv: {str(y): n for y, n in v.items()} for lv, v in ev.metrics["moved_by_year"].items()},
        })
        return m

    def before_ledger(self) -> pd.DataFrame:
        """The ledger of the current zones (before any proposal), computed once."""
        if self._before is None:
            self._before = make_ledger(self.problem, project(self.problem, ZoneMaps.current(self.problem),
                                                             self.scenario.years))
        return self._before

    def run_record(self, folder: Path, edits) -> dict:
        """run.json: the plan's provenance, the source proposal and the edits (no solver ran)."""
        run = run_record(folder, self.loaded, self.coords, self.mapping, {})
        run["solver"] = {"name": "manual", "log": None}
        run["model"] = None
        run["edited_from"] = {"path": str(self.source), "name": self.run.get("name") or self.source.name,
                              "created": self.run.get("created")}
        run["edits"] = [e.record() for e in edits]
        return run

    # ------------------------------------------------------------------ re-solve with the edits locked
    def edit_locks(self) -> tuple[dict, list[str]]:
        """``unit_id -> school_id`` locks of the edits (the last edit of a unit wins: a lock names one
        school) and notes on the units whose other level's edit cannot be locked with it."""
        locks, levels = {}, {}
        for e in self.edits:
            if self.school_of(e.unit_id, e.level) == e.school_id:
                locks[e.unit_id] = e.school_id
                levels.setdefault(e.unit_id, set()).add(e.level)
        notes = []
        for uid, lv in levels.items():
            if len(lv) > 1 and self.problem.school_kind[self.sidx[locks[uid]]] != "nine_year":
                notes.append(f"{self.problem.unit_names[self.uidx[uid]]} 两个学段都改过，锁定只能指定一所学校："
                             f"按最后一次修改锁定为 {self.problem.school_names[self.sidx[locks[uid]]]}")
        return locks, notes

    def resolve(self, name: str | None = None) -> ResolveJob:
        """Start a re-solve with the edits locked in a background thread; the result is a new
        proposal folder beside the source."""
        with self.lock:
            if self.job is not None and self.job.running:
                raise EditError("已有一次重新优化正在进行，请等待完成")
            if not self.edits:
                raise EditError("还没有修改：先在地图上调整单元，再锁定修改重新优化")
            name = name or self.free_name(f"{self.source.name}_锁定修改重新优化")
            out = self.target(name)
            locks, notes = self.edit_locks()
            locks = {**self.scenario.locks, **locks}
            scenario = dataclasses.replace(self.scenario, locks=locks)
            job = ResolveJob(name=name, out_dir=out, messages=list(notes))
            self.job = job
            edited = self.current
        threading.Thread(target=self._resolve, args=(job, scenario, edited), daemon=True,
                         name="zoning-resolve").start()
        return job

    def resolved_figures(self, folder: Path, scenario, edited: Evaluation) -> dict:
        """The re-solved proposal beside the edited one: for every school whose figures differ from
        the source proposal in either, the ledger rows of the source, the edited and the re-solved
        proposal, and the three proposals' totals and failed checks. The re-solved figures are
        judged by :func:`zoning.checks.run_checks` on its written assignments (its ledger is the
        one ``zoning plan`` wrote)."""
        a = read_assignments(folder)
        results, zones, _proj, led = run_checks(self.problem, a, scenario)
        metrics = plan_metrics(self.problem, zones, scenario)
        metrics["moved_by_year"] = self.moved_by_year(zones)
        solved = Evaluation(a, results, zones, led, metrics, 0.0)
        schools = sorted(set(self.changed_schools(edited)) | set(self.changed_schools(solved)))

        def rows(ev: Evaluation) -> list[dict]:
            return self.ledger_rows(ev.ledger[ev.ledger["school_id"].isin(schools)])

        def fails(ev: Evaluation) -> int:
            return sum(len(r.failures) for r in ev.results)

        return {"schools": schools, "ledger": rows(solved), "edited_ledger": rows(edited),
                "original_ledger": rows(self.original), "totals": self.totals(solved),
                "edited_totals": self.totals(edited), "original_totals": self.totals(self.original),
                "fails": fails(solved), "edited_fails": fails(edited), "original_fails": fails(self.original),
                "locked_edits": len(self.edits)}

    def free_name(self, stem: str) -> str:
        name, i = stem, 2
        while (self.source.parent / name).exists():
            name, i = f"{stem}_{i}", i + 1
        return name

    def _resolve(self, job: ResolveJob, scenario, edited: Evaluation) -> None:
        t0 = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(prefix="zoning-edit-") as tmp:
                path = write_scenario(scenario, Path(tmp) / "scenario.toml")
                job.messages.append(f"锁定 {len(self.edits)} 处修改，重新优化其余单元……")
                outcome = run_plan(self.data_dir, job.out_dir, scenario_path=path, coords=self.coords,
                                   mapping=self.mapping, progress=job.messages.append)
            job.summary = outcome.summary
            job.path = str(outcome.out_dir)
            job.result = self.resolved_figures(outcome.out_dir, scenario, edited)
            job.messages.append(f"完成（{time.perf_counter() - t0:.0f} 秒）：新方案已写出到 {outcome.out_dir}")
        except (DataError, ScenarioError, PlanError, OutputRefused, OutputUnwritable, EditError) as exc:
            job.error = _message(exc)
        except Exception as exc:  # a bug: shown in the page, logged with its traceback
            log.exception("重新优化失败")
            job.error = f"程序内部错误（{type(exc).__name__}：{exc}）"
        finally:
            job.running = False


def _message(exc: Exception) -> str:
    """One Chinese message for an error of the data, the scenario or the plan."""
    if isinstance(exc, DataError):
        return "；".join(f"{p.problem}（{p.fix}）" for p in exc.problems)
    if isinstance(exc, ScenarioError):
        return "情景设置有误：" + "；".join(str(p) for p in exc.problems)
    return str(exc)
