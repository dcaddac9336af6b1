"""A proposal's settings (scenario.toml): dataclasses, defaults and a strict reader.

Unknown keys are an error (a misspelt key would otherwise be silently ignored). Command-line options
override the file through :func:`with_overrides`.

Example ``scenario.toml``::

    base_year = 2022
    target_year = 2025
    horizon = 2027
    levels = ["primary", "junior"]
    contiguity = true

    [weights]
    distance = 1.0        # per student and kilometre of trip
    moved = 0.3           # per student moved from the current zone (kilometre-equivalents)

    [caps.primary]
    max_km = 3.0          # no trip longer than this (straight line or network)
    max_ratio = 2.0       # nor longer than ratio x the current trip ...
    free_km = 1.0         # ... unless it is shorter than this anyway
    k_nearest = 5         # candidate schools per unit

    [locks]
    U0001 = "S08"

    [schools]
    open = { S20 = 2023 }
    close = { S05 = 2026 }

    [solver]
    name = "highs"
    time_limit = 120
    gap = 0.005
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


class ScenarioError(ValueError):
    """A scenario file or option that cannot be used; the message lists every problem."""

    def __init__(self, problems: list[str], source: str = "scenario.toml"):
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: " + "；".join(problems))


@dataclass
class Caps:
    """Distance caps and pruning for one level."""

    max_km: float = 4.0
    max_ratio: float = 2.5
    free_km: float = 1.5
    k_nearest: int = 6


@dataclass
class Weights:
    """Objective weights (kilometre-equivalents per student)."""

    distance: float = 1.0
    moved: float = 0.3
    second_change: float = 0.5
    barrier: float = 5.0


@dataclass
class Solver:
    name: str = "highs"
    time_limit: float = 120.0
    gap: float = 0.005
    threads: int | None = None
    msg: bool = False
    #: HiGHS's share of effort on primal heuristics (its default 0.05); more finds plans that break
    #: no limit sooner on large instances (benchmarks/README.md).
    heuristic_effort: float = 0.3
    #: solve the blocks of the model that share no school separately (HiGHS)
    decompose: bool = True
    #: share of the time limit kept for repairing the plan neighbourhood by neighbourhood when HiGHS
    #: stops before proving its gap (zoning/polish.py); 0 turns the repair off
    polish: float = 0.15


@dataclass
class Scenario:
    """All settings of one proposal."""

    base_year: int = 2022
    target_year: int = 2025
    horizon: int = 2027
    first_intake: int | None = None  # the first intake the new zones apply to; default base_year + 1
    levels: tuple[str, ...] = ("primary", "junior")
    contiguity: bool = True
    phase_in: bool = True
    second_change_year: int | None = None  # allow a second zone map from this intake on
    barrier_rule: str = "forbid"  # primary pupils across a barrier: forbid | penalise | allow
    barrier_detour: float = 1.5  # a crossing counts if the network trip <= detour x straight line
    use_roads: bool = True
    weights: Weights = field(default_factory=Weights)
    caps: dict[str, Caps] = field(
        default_factory=lambda: {
            "primary": Caps(max_km=4.0, max_ratio=2.5, free_km=1.5, k_nearest=6),
            "junior": Caps(max_km=30.0, max_ratio=3.0, free_km=3.0, k_nearest=5),
        }
    )
    locks: dict[str, str] = field(default_factory=dict)  # unit_id -> school_id
    open_schools: dict[str, int] = field(default_factory=dict)  # school_id -> open_year
    close_schools: dict[str, int] = field(default_factory=dict)  # school_id -> close_year
    keep_indicators: bool = False  # keep per-student area indicators where the base meets them
    survival: dict[str, float] = field(default_factory=dict)  # "g1-g2" -> ratio, default 1.0
    town_townships: tuple[str, ...] = ("城关镇",)  # townships counted as town (service radius, nearby rate)
    solver: Solver = field(default_factory=Solver)

    @property
    def intake_year(self) -> int:
        return self.first_intake if self.first_intake is not None else self.base_year + 1

    @property
    def years(self) -> list[int]:
        """The projected years, base year excluded."""
        return list(range(self.base_year + 1, self.horizon + 1))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


_TOP_KEYS = {
    "base_year": int, "target_year": int, "horizon": int, "first_intake": int, "levels": list,
    "contiguity": bool, "phase_in": bool, "second_change_year": int, "barrier_rule": str,
    "barrier_detour": (int, float), "use_roads": bool, "keep_indicators": bool, "town_townships": list,
}
_TABLES = {"weights", "caps", "locks", "schools", "solver", "survival"}


def _check_fields(obj_cls, data: dict, where: str, problems: list[str]) -> dict:
    names = {f.name: f for f in dataclasses.fields(obj_cls)}
    out = {}
    for key, value in data.items():
        if key not in names:
            problems.append(f"[{where}] 未知设置项 '{key}'（可用：{', '.join(names)}）")
            continue
        default = getattr(obj_cls(), key)
        if isinstance(default, bool) and not isinstance(value, bool):
            problems.append(f"[{where}] {key} 应为 true/false，而不是 {value!r}")
        elif isinstance(default, (int, float)) and not isinstance(default, bool) and (
            isinstance(value, bool) or not isinstance(value, (int, float))
        ):
            problems.append(f"[{where}] {key} 应为数字，而不是 {value!r}")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            problems.append(f"[{where}] {key} 不能为负数：{value}")
        else:
            out[key] = value
    return out


def scenario_from_dict(data: dict, source: str = "scenario.toml") -> Scenario:
    """Build a :class:`Scenario` from a parsed TOML dict, collecting every problem."""
    problems: list[str] = []
    sc = Scenario()
    for key, value in data.items():
        if key in _TABLES:
            continue
        if key not in _TOP_KEYS:
            problems.append(f"未知设置项 '{key}'（可用：{', '.join(sorted(set(_TOP_KEYS) | _TABLES))}）")
            continue
        typ = _TOP_KEYS[key]
        if typ is int and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(f"{key} 应为整数年份或整数，而不是 {value!r}")
            continue
        if typ is bool and not isinstance(value, bool):
            problems.append(f"{key} 应为 true/false，而不是 {value!r}")
            continue
        if typ is list and not isinstance(value, list):
            problems.append(f"{key} 应为列表，例如 [\"primary\", \"junior\"]")
            continue
        setattr(sc, key, tuple(value) if typ is list else value)
    if "weights" in data:
        sc.weights = Weights(**_check_fields(Weights, data["weights"], "weights", problems))
    if "solver" in data:
        sc.solver = Solver(**_check_fields(Solver, data["solver"], "solver", problems))
    if "caps" in data:
        for level, table in data["caps"].items():
            if level not in ("primary", "junior"):
                problems.append(f"[caps.{level}] 学段应为 primary 或 junior")
                continue
            base = dataclasses.asdict(sc.caps[level])
            base.update(_check_fields(Caps, table, f"caps.{level}", problems))
            sc.caps[level] = Caps(**base)
    if "locks" in data:
        sc.locks = {str(k): str(v) for k, v in data["locks"].items()}
    if "schools" in data:
        for key, table in data["schools"].items():
            if key not in ("open", "close"):
                problems.append(f"[schools] 未知设置项 '{key}'（可用：open, close）")
                continue
            target = sc.open_schools if key == "open" else sc.close_schools
            for sid, year in table.items():
                if isinstance(year, bool) or not isinstance(year, int):
                    problems.append(f"[schools.{key}] {sid} 的年份应为整数，而不是 {year!r}")
                else:
                    target[str(sid)] = year
    if "survival" in data:
        sc.survival = {str(k): float(v) for k, v in data["survival"].items()}
    problems.extend(validate_scenario(sc))
    if problems:
        raise ScenarioError(problems, source)
    return sc


def validate_scenario(sc: Scenario) -> list[str]:
    """Consistency problems of a scenario (empty when usable)."""
    problems = []
    for lv in sc.levels:
        if lv not in ("primary", "junior"):
            problems.append(f"levels 中的 '{lv}' 不是 primary 或 junior")
    if not sc.base_year < sc.horizon:
        problems.append(f"horizon（{sc.horizon}）应晚于 base_year（{sc.base_year}）")
    if not sc.base_year < sc.target_year <= max(sc.horizon, sc.base_year + 1):
        problems.append(
            f"target_year（{sc.target_year}）应在 base_year（{sc.base_year}）之后、不晚于 horizon（{sc.horizon}）"
        )
    if sc.first_intake is not None and not sc.base_year < sc.first_intake <= sc.horizon:
        problems.append(f"first_intake（{sc.first_intake}）应在 base_year 与 horizon 之间")
    if sc.second_change_year is not None and not sc.intake_year < sc.second_change_year <= sc.horizon:
        problems.append(
            f"second_change_year（{sc.second_change_year}）应晚于首次招生年份 {sc.intake_year}，且不晚于 horizon"
        )
    if sc.barrier_rule not in ("forbid", "penalise", "allow"):
        problems.append(f"barrier_rule 应为 forbid、penalise 或 allow，而不是 '{sc.barrier_rule}'")
    if sc.solver.name not in ("highs", "cbc"):
        problems.append(f"[solver] name 应为 highs 或 cbc，而不是 '{sc.solver.name}'")
    if not 0 <= sc.solver.heuristic_effort <= 1:
        problems.append(f"[solver] heuristic_effort 应在 0 与 1 之间，而不是 {sc.solver.heuristic_effort}")
    if not 0 <= sc.solver.polish < 1:
        problems.append(f"[solver] polish 应不小于 0 且小于 1（求解时限中留给邻域修补的比例），而不是 {sc.solver.polish}")
    if not 0 <= sc.solver.gap < 1:
        problems.append(f"[solver] gap 应在 0 与 1 之间（例如 0.005 表示 0.5%），而不是 {sc.solver.gap}")
    for lv, caps in sc.caps.items():
        if caps.k_nearest < 1:
            problems.append(f"[caps.{lv}] k_nearest 至少为 1")
    return problems


def load_scenario(path: str | Path | None) -> Scenario:
    """Read ``scenario.toml``; the defaults when ``path`` is None."""
    if path is None:
        return Scenario()
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioError([f"找不到情景文件 {path}"], str(path.name)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"TOML 格式错误：{exc}（检查引号、等号和方括号）"], path.name) from None
    return scenario_from_dict(data, path.name)


def with_overrides(sc: Scenario, **overrides) -> Scenario:
    """A copy of ``sc`` with command-line overrides (None values are ignored).

    Keys: any top-level field, ``time_limit``, ``gap``, ``solver`` (name), ``locks`` (dict, merged).
    """
    out = copy.deepcopy(sc)
    for key, value in overrides.items():
        if value is None:
            continue
        if key in ("time_limit", "gap", "threads", "msg"):
            setattr(out.solver, key, value)
        elif key == "solver":
            out.solver.name = value
        elif key == "locks":
            out.locks.update(value)
        elif hasattr(out, key):
            setattr(out, key, value)
        else:
            raise KeyError(key)
    problems = validate_scenario(out)
    if problems:
        raise ScenarioError(problems, "命令行选项")
    return out
