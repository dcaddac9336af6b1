"""A proposal's settings (scenario.toml): dataclasses, defaults, the one reader and the one writer.

Every key is checked for its type and range in one pass, and every problem is reported at once
(:class:`ScenarioError`, one :class:`ScenarioProblem` per key: the key path such as
``caps.primary.max_km``, the value given and what it should be). Unknown keys are an error naming
the nearest known key (a misspelt key would otherwise be silently ignored). Command-line options
(:func:`with_overrides`) and the sweep's dotted keys (:func:`apply_settings`) go through the same
checks. The file may be UTF-8 (with or without BOM) or GBK/GB18030 (Notepad on a Chinese Windows).

Example ``scenario.toml``::

    base_year = 2022
    target_year = 2025
    horizon = 2027
    levels = ["primary", "junior"]
    contiguity = true
    reoptimise = false    # default: move units only to mend a broken limit, fill an opening school
                          # or empty a closing one (true: also for shorter trips)
    steady_state = true   # hold every school's load once all grades entered under the new zones

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

    [survival]
    "g1-g2" = 0.98        # share of grade-1 pupils found in grade 2 a year later

    [solver]
    name = "highs"
    time_limit = 120
    gap = 0.005

    [privacy]
    id_salt = "县教育局自定的一串字"   # pupil ids in reports are salted hashes
    show_ids = false

    [publish]
    county = "平罗县"
    school_year = "2023—2024学年"

    [warnings]
    red = 1.0             # demand / seats from which a school is red
    yellow = 0.9
"""
from __future__ import annotations

import codecs
import dataclasses
import difflib
import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import tomli_w

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

log = logging.getLogger(__name__)

LEVELS = ("primary", "junior")
BARRIER_RULES = ("forbid", "penalise", "allow")
SOLVERS = ("highs", "cbc")
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_SPAN = 30  # horizon - base_year
#: words the sweep and the command line use for "no value" (an optional setting left out)
NONE_WORDS = ("none", "无", "null", "")


@dataclass(frozen=True)
class ScenarioProblem:
    """One problem of a scenario: where (a key path or a line), the value given, what is needed."""

    key: str  # dotted key path, e.g. "caps.primary.max_km"; "" for a problem of the file itself
    need: str  # what the value should be, in Chinese (the fix)
    value: Any = None
    shown: str = ""  # the value as written ("" when there is none to show)
    line: int | None = None  # 1-based line of the file (syntax and encoding problems)

    @property
    def text(self) -> str:
        given = f"，而不是 {self.shown}" if self.shown else ""
        if self.key:
            return f"{self.key} {self.need}{given}"
        if self.line:
            return f"第 {self.line} 行{self.need}{given}"
        return self.need + given


class ScenarioError(ValueError):
    """A scenario file or option that cannot be used; the message lists every problem.

    ``problems`` holds the problems as text (one line each); ``items`` the same as
    :class:`ScenarioProblem` (key path, value, fix) for reports that show them as a table.
    """

    def __init__(self, problems: list, source: str = "scenario.toml"):
        self.items = [p if isinstance(p, ScenarioProblem) else ScenarioProblem("", str(p)) for p in problems]
        self.problems = [p.text for p in self.items]
        self.source = source
        super().__init__(f"{source}: " + "；".join(self.problems))


@dataclass
class Caps:
    """Distance caps and pruning for one level."""

    max_km: float = 4.0
    max_ratio: float = 2.5
    free_km: float = 1.5
    k_nearest: int = 6
    #: soft caps (``zoning plan --relax-caps``): the nearest ``RELAX_NEAREST`` usable schools of a
    #: unit stay candidates beyond the caps, at a penalty per pupil-km beyond (zoning.model)
    relax: bool = False


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
class Privacy:
    """How pupil identifiers appear in reports."""

    id_salt: str = ""  # the office's salt for the pseudonymous ids (a salted hash of the 学籍号)
    show_ids: bool = False  # show the real ids (internal use only)


@dataclass
class Publish:
    """What the published material says about its issuer (SPEC §2)."""

    county: str = ""
    school_year: str = ""
    office: str = ""
    phone: str = ""
    notice: str = ""
    map_review_no: str = ""  # 审图号 of the base map


@dataclass
class Warnings:
    """Thresholds of the spring warnings (demand / seats)."""

    red: float = 1.0
    yellow: float = 0.9


@dataclass
class Scenario:
    """All settings of one proposal."""

    base_year: int = 2022
    target_year: int = 2025
    horizon: int = 2027
    first_intake: int | None = None  # the first intake the new zones apply to; default base_year + 1
    levels: tuple[str, ...] = ("primary", "junior")
    contiguity: bool = True
    #: false (default): a unit changes school only to mend a broken limit (the steady state
    #: included), to give an opening school its zone or to empty a closing one; true: any move
    #: the weights favour (shorter trips)
    reoptimise: bool = False
    #: hold each school's load once every grade has entered under the new zones (the steady state
    #: of the horizon's intake) within its limits, as the years of the ledger are held
    steady_state: bool = True
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
    privacy: Privacy = field(default_factory=Privacy)
    publish: Publish = field(default_factory=Publish)
    warnings: Warnings = field(default_factory=Warnings)

    @property
    def intake_year(self) -> int:
        return self.first_intake if self.first_intake is not None else self.base_year + 1

    @property
    def years(self) -> list[int]:
        """The projected years, base year excluded."""
        return list(range(self.base_year + 1, self.horizon + 1))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def public_dict(self) -> dict:
        """:meth:`to_dict` without the privacy salt (for run.json and other files that travel)."""
        d = self.to_dict()
        d["privacy"]["id_salt"] = "（已设置，不写出）" if self.privacy.id_salt else ""
        return d


# --------------------------------------------------------------------------------------------
# value checks: each returns the value to store or raises _Invalid with what is needed


class _Invalid(Exception):
    def __init__(self, need: str):
        super().__init__(need)
        self.need = need


Check = Callable[[Any], Any]


def show_value(value) -> str:
    """A value as the user wrote it in TOML (shortened)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = '"' + value.replace("\n", "\\n") + '"'
    elif isinstance(value, dict):
        text = "一个表 {" + ", ".join(str(k) for k in list(value)[:5]) + ("…" if len(value) > 5 else "") + "}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(show_value(v) for v in list(value)[:5]) + (", …" if len(value) > 5 else "") + "]"
    elif isinstance(value, int) and abs(value) > 10**15:
        text = "一个过大的整数"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float(value) -> float:
    try:
        out = float(value)
    except OverflowError:
        out = math.inf
    return out


def number(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
           hi_open: bool = False, unit: str = "") -> Check:
    """A finite number (not true/false) in [lo, hi] (open ends as asked), stored as float."""
    parts = []
    if lo is not None:
        parts.append(f"{'大于' if lo_open else '不小于'} {lo:g}")
    if hi is not None:
        parts.append(f"{'小于' if hi_open else '不大于'} {hi:g}")
    need = "应为" + (" 且".join(parts) + " 的" if parts else "") + "数字" + unit

    def check(value):
        if not _is_number(value):
            raise _Invalid(need + "（数字不加引号）")
        v = _float(value)
        if not math.isfinite(v) or (lo is not None and (v <= lo if lo_open else v < lo)) or (
                hi is not None and (v >= hi if hi_open else v > hi)):
            raise _Invalid(need)
        return v
    return check


def integer(lo: int, hi: int, what: str = "整数") -> Check:
    need = f"应为 {lo} 到 {hi} 之间的{what}"

    def check(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(need + "（不加引号、不带小数点）")
        if not lo <= value <= hi:
            raise _Invalid(need)
        return value
    return check


year = integer(FIRST_YEAR, LAST_YEAR, "年份（整数，如 2025）")


def boolean(value):
    if not isinstance(value, bool):
        raise _Invalid("应为 true/false（小写，不加引号）")
    return value


def string(value):
    if not isinstance(value, str):
        raise _Invalid("应为文字（用英文双引号括起来，如 \"平罗县\"）")
    return value


def choice(options: tuple[str, ...]) -> Check:
    need = "应为 " + "、".join(f'"{o}"' for o in options) + " 之一"

    def check(value):
        if not isinstance(value, str) or value not in options:
            raise _Invalid(need)
        return value
    return check


def levels_list(value):
    need = '应为非空列表，取 "primary"、"junior"，如 ["primary", "junior"]'
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
        raise _Invalid(need)
    if any(v not in LEVELS for v in value) or len(set(value)) != len(value):
        raise _Invalid(need + "（不重复）")
    return tuple(value)


def text_list(value):
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise _Invalid('应为文字的列表，如 ["城关镇"]')
    return tuple(value)


TOP: dict[str, Check] = {
    "base_year": year, "target_year": year, "horizon": year, "first_intake": year,
    "levels": levels_list, "contiguity": boolean, "second_change_year": year,
    "reoptimise": boolean, "steady_state": boolean,
    "barrier_rule": choice(BARRIER_RULES), "barrier_detour": number(1, unit="（网络路程与直线距离之比）"),
    "use_roads": boolean, "keep_indicators": boolean, "town_townships": text_list,
}
#: dataclass tables: name -> (class, checks of its fields)
TABLES: dict[str, tuple[type, dict[str, Check]]] = {
    "weights": (Weights, {k: number(0) for k in ("distance", "moved", "second_change", "barrier")}),
    "solver": (Solver, {
        "name": choice(SOLVERS), "time_limit": number(0, lo_open=True, unit="（秒）"),
        "gap": number(0, 1, hi_open=True, unit="（如 0.005 即 0.5%）"),
        "threads": integer(1, 1024, "整数（线程数；不写则自动）"), "msg": boolean,
        "heuristic_effort": number(0, 1), "decompose": boolean,
        "polish": number(0, 1, hi_open=True, unit="（求解时限中留给邻域修补的比例）"),
    }),
    "privacy": (Privacy, {"id_salt": string, "show_ids": boolean}),
    "publish": (Publish, {f.name: string for f in dataclasses.fields(Publish)}),
    "warnings": (Warnings, {"red": number(0, 2, lo_open=True), "yellow": number(0, 2, lo_open=True)}),
}
CAPS: dict[str, Check] = {
    "max_km": number(0, 200, lo_open=True, unit="（公里）"), "max_ratio": number(1),
    "free_km": number(0, 200, unit="（公里）"), "k_nearest": integer(1, 50), "relax": boolean,
}
#: top-level settings that may be left out (None)
OPTIONAL = {"first_intake", "second_change_year", "solver.threads"}
SPECIAL = ("caps", "locks", "schools", "survival")
_SURVIVAL_KEY = re.compile(r"^\s*g?(\d{1,3})\s*(?:-\s*g?(\d{1,3}))?\s*$", re.IGNORECASE)


def known_keys() -> list[str]:
    """Every key path a scenario may hold (tables by their fields; maps by their name)."""
    keys = list(TOP) + list(SPECIAL) + ["schools.open", "schools.close"]
    keys += [f"caps.{lv}.{k}" for lv in LEVELS for k in CAPS]
    keys += [f"{t}.{k}" for t, (_, checks) in TABLES.items() for k in checks] + list(TABLES)
    return keys


def _unknown(path: str, value) -> ScenarioProblem:
    """An unknown key, with the nearest known key when one is close."""
    keys = known_keys()
    by_last = {}
    for k in keys:
        by_last.setdefault(k.split(".")[-1], k)
    near = difflib.get_close_matches(path, keys, n=1, cutoff=0.6)
    if not near:
        near = [by_last[m] for m in difflib.get_close_matches(path.split(".")[-1], list(by_last), n=1, cutoff=0.6)]
    if near:
        return ScenarioProblem(path, f"是未知设置项：是否想写 {near[0]}？")
    return ScenarioProblem(path, "是未知设置项（可用：" + "、".join(list(TOP) + list(SPECIAL) + list(TABLES)) + "）")


def _table_need(path: str, example: str) -> str:
    return f"应为一个表 [{path}]，例如 {example}"


# --------------------------------------------------------------------------------------------
# parsing a TOML document (a dict) into a Scenario


def _check_table(path: str, table, checks: dict[str, Check], out: dict, problems: list) -> None:
    """Check each key of ``table`` against ``checks``; good values go to ``out``."""
    for key, value in table.items():
        key_path = f"{path}.{key}" if path else str(key)
        if key not in checks:
            problems.append(_unknown(key_path, value))
            continue
        try:
            out[key] = checks[key](value)
        except _Invalid as bad:
            problems.append(ScenarioProblem(key_path, bad.need, value, show_value(value)))


def _is_table(path: str, value, example: str, problems: list) -> bool:
    if isinstance(value, dict):
        return True
    problems.append(ScenarioProblem(path, _table_need(path, example), value, show_value(value)))
    return False


def _parse_caps(value, sc: Scenario, problems: list) -> None:
    if not _is_table("caps", value, "[caps.primary] max_km = 4.0", problems):
        return
    for level, table in value.items():
        path = f"caps.{level}"
        if level not in LEVELS:
            problems.append(ScenarioProblem(path, "的学段应为 primary 或 junior（写成 [caps.primary] 或 [caps.junior]）"))
            continue
        if not _is_table(path, table, f"[{path}] 下写 max_km = 4.0", problems):
            continue
        good = dataclasses.asdict(sc.caps.get(level, Caps()))
        _check_table(path, table, CAPS, good, problems)
        sc.caps[level] = Caps(**good)


def _parse_locks(value, sc: Scenario, problems: list) -> None:
    if not _is_table("locks", value, '[locks] 下写 U0001 = "S08"（单元代码 = 学校代码）', problems):
        return
    for uid, sid in value.items():
        if not isinstance(sid, str) or not sid.strip():
            problems.append(ScenarioProblem(f"locks.{uid}", '应为学校代码（文字，加英文双引号，如 "S08"）',
                                            sid, show_value(sid)))
        else:
            sc.locks[str(uid)] = sid.strip()


def _parse_schools(value, sc: Scenario, problems: list) -> None:
    if not _is_table("schools", value, "[schools] 下写 open = { S20 = 2023 }", problems):
        return
    for key, table in value.items():
        path = f"schools.{key}"
        if key not in ("open", "close"):
            problems.append(_unknown(path, table))
            continue
        if not _is_table(path, table, f"{key} = {{ S20 = 2023 }}（学校代码 = 年份）", problems):
            continue
        target = sc.open_schools if key == "open" else sc.close_schools
        for sid, when in table.items():
            try:
                target[str(sid)] = year(when)
            except _Invalid as bad:
                problems.append(ScenarioProblem(f"{path}.{sid}", bad.need, when, show_value(when)))


def survival_grade(key: str) -> int | None:
    """The grade a survival key starts from (``"g1-g2"``, ``"g1"`` or ``"1"`` -> 1), or None."""
    m = _SURVIVAL_KEY.match(str(key))
    if not m:
        return None
    g = int(m.group(1))
    if not 1 <= g <= 8 or (m.group(2) is not None and int(m.group(2)) != g + 1):
        return None
    return g


def _parse_survival(value, sc: Scenario, problems: list) -> None:
    if not _is_table("survival", value, '[survival] 下写 "g1-g2" = 0.98', problems):
        return
    ratio = number(0, 1.5, lo_open=True, unit="（升一个年级后留下的比例，如 0.98）")
    seen: dict[int, str] = {}
    for key, v in value.items():
        path = f"survival.{key}"
        g = survival_grade(key)
        if g is None:
            problems.append(ScenarioProblem(path, '的键应为年级过渡 "g1-g2" … "g8-g9"（或 1 … 8）'))
            continue
        if g in seen:
            problems.append(ScenarioProblem(path, f"与 survival.{seen[g]} 是同一个年级过渡，删去其一"))
            continue
        try:
            sc.survival[str(key)] = ratio(v)
            seen[g] = str(key)
        except _Invalid as bad:
            problems.append(ScenarioProblem(path, bad.need, v, show_value(v)))


def _relations(sc: Scenario, bad: set[str]) -> list[ScenarioProblem]:
    """Problems between settings (only among settings that are themselves valid)."""
    out = []
    if not bad & {"base_year", "horizon", "target_year"}:
        if not sc.base_year < sc.horizon:
            out.append(ScenarioProblem("horizon", f"应晚于 base_year（{sc.base_year}）", sc.horizon, str(sc.horizon)))
        elif sc.horizon - sc.base_year > MAX_SPAN:
            out.append(ScenarioProblem("horizon", f"与 base_year（{sc.base_year}）相差不应超过 {MAX_SPAN} 年",
                                       sc.horizon, str(sc.horizon)))
        if not sc.base_year < sc.target_year <= max(sc.horizon, sc.base_year + 1):
            out.append(ScenarioProblem(
                "target_year", f"应晚于 base_year（{sc.base_year}），且不晚于 horizon（{sc.horizon}）",
                sc.target_year, str(sc.target_year)))
    if sc.first_intake is not None and not bad & {"base_year", "target_year", "first_intake"}:
        if not sc.base_year < sc.first_intake <= sc.target_year:
            out.append(ScenarioProblem(
                "first_intake", f"应晚于 base_year（{sc.base_year}），且不晚于 target_year（{sc.target_year}）",
                sc.first_intake, str(sc.first_intake)))
    if sc.second_change_year is not None and not bad & {"base_year", "horizon", "first_intake",
                                                        "second_change_year"}:
        if not sc.intake_year < sc.second_change_year <= sc.horizon:
            out.append(ScenarioProblem(
                "second_change_year", f"应晚于首次招生年份 {sc.intake_year}，且不晚于 horizon（{sc.horizon}）",
                sc.second_change_year, str(sc.second_change_year)))
    if not bad & {"warnings.red", "warnings.yellow"} and not sc.warnings.yellow < sc.warnings.red:
        out.append(ScenarioProblem("warnings.yellow", f"应小于 warnings.red（{sc.warnings.red:g}）",
                                   sc.warnings.yellow, f"{sc.warnings.yellow:g}"))
    return out


def parse_scenario(data, relations: bool = True) -> tuple[Scenario, list[ScenarioProblem]]:
    """A :class:`Scenario` from a TOML document and every problem found (the defaults where bad).

    With ``relations`` the settings are also checked against each other (years in order, ...).
    """
    problems: list[ScenarioProblem] = []
    sc = Scenario()
    if not isinstance(data, dict):
        return sc, [ScenarioProblem("", "情景文件的内容应为 TOML 设置项（键 = 值）")]
    top: dict = {}
    for key, value in data.items():
        if key in TABLES:
            cls, checks = TABLES[key]
            if _is_table(key, value, f"[{key}] 下逐行写 {next(iter(checks))} = …", problems):
                good = dataclasses.asdict(getattr(sc, key))
                _check_table(key, value, checks, good, problems)
                setattr(sc, key, cls(**good))
        elif key in SPECIAL:
            {"caps": _parse_caps, "locks": _parse_locks, "schools": _parse_schools,
             "survival": _parse_survival}[key](value, sc, problems)
        else:
            _check_table("", {key: value}, TOP, top, problems)
    for key, value in top.items():
        setattr(sc, key, value)
    if relations:
        problems += _relations(sc, {p.key for p in problems})
    return sc, problems


def scenario_from_dict(data: dict, source: str = "scenario.toml", relations: bool = True) -> Scenario:
    """Build a :class:`Scenario` from a parsed TOML dict; ScenarioError lists every problem."""
    sc, problems = parse_scenario(data, relations)
    if problems:
        raise ScenarioError(problems, source)
    return sc


def validate_scenario(sc: Scenario) -> list[str]:
    """Problems of a scenario built in code (empty when usable), by the same checks as the reader."""
    return [p.text for p in parse_scenario(scenario_to_doc(sc))[1]]


# --------------------------------------------------------------------------------------------
# reading a file: encodings and TOML syntax

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_ENCODING_NAMES = {"utf-16": "UTF-16（“Unicode”）", "gb18030": "GBK/GB18030"}


def decode_scenario(raw: bytes, source: str = "scenario.toml") -> tuple[str, str]:
    """The text of a scenario file and the encoding used (UTF-8, with BOM, UTF-16, GBK/GB18030)."""
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            candidates = (enc,)
            break
    else:
        candidates = ("utf-8", "gb18030")
    first_error = None
    for enc in candidates:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
    line = raw[: first_error.start].count(b"\n") + 1
    raise ScenarioError([ScenarioProblem(
        "", "有无法识别的字符：文件既不是 UTF-8 也不是 GBK 编码。用记事本打开，“另存为”时编码选 UTF-8",
        line=line)], source)


_SYNTAX_HINTS = (
    ("Invalid value", "值的写法不对：文字要加英文双引号（如 name = \"highs\"），true/false 要小写，数字不带单位"),
    ("Expected '=' after a key", "每行写成 键 = 值：用英文等号 =，不要用冒号 : 或中文符号"),
    ("Cannot overwrite", "同一个设置项写了两次，删去其中一处"),
    ("Cannot declare", "同一个表（[名称]）写了两次，合并成一处"),
    ("Unterminated string", "引号没有闭合：文字两边都要有英文双引号"),
    ("Unclosed", "括号没有闭合：[ ] 和 { } 要成对"),
    ("Expected ']'", "表名写成 [名称]，方括号要成对"),
    ("Invalid initial character for a key", "设置项名称只能用英文字母、数字、_ 和 -；含中文或点的名称要加英文双引号"),
    ("Illegal character", "有不允许的字符（控制字符或制表符混在文字里）；删去它"),
    ("Expected newline", "一行只写一个 键 = 值；值后面如要说明请用 # 开头的注释"),
)
_FULL_WIDTH = re.compile("[＝：“”‘’，［］｛｝]")


def _syntax_problem(exc: Exception, text: str) -> ScenarioProblem:
    msg = str(exc)
    lines = text.splitlines() or [""]
    m = re.search(r"at line (\d+), column (\d+)", msg)
    line, col = (int(m.group(1)), int(m.group(2))) if m else (len(lines), None)
    hint = next((h for k, h in _SYNTAX_HINTS if k in msg), "检查引号、等号和方括号（文字加英文双引号，键和值之间用 =）")
    content = lines[line - 1] if 0 < line <= len(lines) else ""
    if _FULL_WIDTH.search(content):
        hint = "这一行有中文标点（＝ ： “ ” ， ［ ］）：改用英文半角符号。" + hint
    where = f"（第 {col} 列）" if col else "（文件末尾）"
    shown = content.strip()[:60]
    return ScenarioProblem("", f"{where}TOML 格式错误：{hint}" + (f"。该行为：{shown}" if shown else ""), line=line)


_EXCESS = re.compile(r"\d[\d_]{999,}|[\[{][\s\[{]{49,}")


def _excess_problem(text: str) -> ScenarioProblem:
    """A document tomllib cannot hold (a number of thousands of digits, arrays nested hundreds deep)."""
    m = _EXCESS.search(text)
    line = text.count("\n", 0, m.start()) + 1 if m else max(1, len(text.splitlines()))
    return ScenarioProblem("", "的值过长或括号嵌套过深，无法读取：改成普通的数字或列表", line=line)


def parse_scenario_text(text: str, source: str = "scenario.toml") -> dict:
    """The TOML document of a scenario's text; ScenarioError with the line and a hint."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([_syntax_problem(exc, text)], source) from None
    except (ValueError, RecursionError):  # integers over Python's digit limit; nesting over the stack
        raise ScenarioError([_excess_problem(text)], source) from None


def load_toml(path: str | Path, what: str = "情景文件") -> dict:
    """The TOML document of a settings file (any encoding of :func:`decode_scenario`).

    Used for ``scenario.toml`` and ``sweep.toml``; ScenarioError names the line of a syntax error.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([ScenarioProblem("", f"找不到{what} {path}")], path.name) from None
    except IsADirectoryError:
        raise ScenarioError([ScenarioProblem("", f"{path} 是文件夹，应为{what}")], path.name) from None
    text, encoding = decode_scenario(raw, path.name)
    if encoding in _ENCODING_NAMES:
        log.warning("%s %s 按 %s 编码读取（建议另存为 UTF-8）", what, path.name, _ENCODING_NAMES[encoding])
    return parse_scenario_text(text, path.name)


def load_scenario(path: str | Path | None) -> Scenario:
    """Read ``scenario.toml``; the defaults when ``path`` is None."""
    if path is None:
        return Scenario()
    return scenario_from_dict(load_toml(path, "情景文件"), Path(path).name)


# --------------------------------------------------------------------------------------------
# writing


def scenario_to_doc(sc: Scenario) -> dict:
    """The TOML document of ``sc`` (what :func:`parse_scenario` reads back to an equal Scenario)."""
    d = sc.to_dict()
    doc: dict = {k: d[k] for k in TOP if d[k] is not None}
    for key in ("levels", "town_townships"):
        if isinstance(doc.get(key), tuple):
            doc[key] = list(doc[key])
    for key in TABLES:
        doc[key] = {k: v for k, v in d[key].items() if v is not None}
    doc["caps"] = dict(d["caps"])
    if d["locks"]:
        doc["locks"] = dict(d["locks"])
    schools = {k: dict(d[f"{k}_schools"]) for k in ("open", "close") if d[f"{k}_schools"]}
    if schools:
        doc["schools"] = schools
    if d["survival"]:
        doc["survival"] = {str(k): v for k, v in d["survival"].items()}
    return doc


def scenario_to_toml(sc: Scenario) -> str:
    """``scenario.toml`` text that :func:`load_scenario` reads back to ``sc``."""
    problems = parse_scenario(scenario_to_doc(sc))[1]
    if problems:
        raise ScenarioError(problems, "情景")
    return "# 情景设置（由 zoning 写出）\n" + tomli_w.dumps(scenario_to_doc(sc))


def write_scenario(sc: Scenario, path: str | Path) -> Path:
    """Write ``sc`` as UTF-8 ``scenario.toml`` (to a temporary name, then renamed)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(scenario_to_toml(sc), encoding="utf-8")
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------------------------
# command-line overrides and the sweep's dotted keys, checked by the same code

#: command-line option names -> key paths
_OVERRIDE_PATHS = {"time_limit": "solver.time_limit", "gap": "solver.gap", "threads": "solver.threads",
                   "msg": "solver.msg", "solver": "solver.name"}


#: tables whose keys are ids or grades (may hold dots): the rest of a dotted path is one key
_MAP_PREFIXES = (("schools", "open"), ("schools", "close"), ("locks",), ("survival",))


def split_path(path: str) -> tuple[str, ...]:
    """A dotted key as its parts; ids after ``locks.``, ``schools.open.`` ... stay whole."""
    parts = str(path).split(".")
    for prefix in _MAP_PREFIXES:
        n = len(prefix)
        if tuple(parts[:n]) == prefix and len(parts) > n:
            return prefix + (".".join(parts[n:]),)
    return tuple(parts)


def _set_path(doc: dict, parts: tuple[str, ...], value) -> ScenarioProblem | None:
    """Set (or with None remove) a key of a TOML document given by its parts."""
    node = doc
    for part in parts[:-1]:
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            return _unknown(".".join(parts), value)
        node = nxt
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = list(value) if isinstance(value, tuple) else value
    return None


def _apply(base: Scenario, settings: dict, relations: bool) -> tuple[Scenario, list[ScenarioProblem]]:
    """``base`` with ``settings`` ({parts: value}) applied, parsed by the reader's checks."""
    doc = scenario_to_doc(base)
    problems = []
    for parts, value in settings.items():
        bad = _set_path(doc, parts, value)
        if bad is not None:
            problems.append(bad)
    sc, found = parse_scenario(doc, relations)
    return sc, problems + found


def is_none_word(value) -> bool:
    return isinstance(value, str) and value.strip().lower() in NONE_WORDS


def apply_settings(base: Scenario, settings: dict, relations: bool = True) -> tuple[Scenario, list[ScenarioProblem]]:
    """A copy of ``base`` with dotted-key settings applied (``"caps.primary.max_km" = 3``), and the problems.

    A value of ``"none"`` (or ``"无"``) removes an optional setting, a lock or an opening/closing.
    """
    problems = []
    clean = {}
    for path, value in settings.items():
        if is_none_word(value):
            removable = path in OPTIONAL or path.startswith(("locks.", "schools.open.", "schools.close."))
            if not removable:
                problems.append(ScenarioProblem(str(path), "不能为 \"none\"（只有可省略的设置项可以写 none）",
                                                value, show_value(value)))
                continue
            value = None
        clean[split_path(path)] = value
    sc, found = _apply(base, clean, relations)
    return sc, problems + found


def with_overrides(sc: Scenario, **overrides) -> Scenario:
    """A copy of ``sc`` with command-line overrides (None values are ignored), checked like the file.

    Keys: any top-level setting, ``time_limit``, ``gap``, ``threads``, ``msg``, ``solver`` (name),
    ``locks`` (dict, merged).
    """
    settings = {}
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "locks" and isinstance(value, dict):
            settings.update({("locks", str(u)): s for u, s in value.items()})
        else:
            settings[tuple(_OVERRIDE_PATHS.get(key, key).split("."))] = value
    out, problems = _apply(sc, settings, relations=True)
    if problems:
        raise ScenarioError(problems, "命令行选项")
    return out
