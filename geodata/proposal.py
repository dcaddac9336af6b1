"""The proposal folder (docs/ARCHITECTURE.md, "The proposal folder"): its schema, its one reader and
its one writer of tables.

Every command that reads a proposal (``map``, ``publish``, ``check-plan``, ``project --zones``,
``compare``, ``indicators``, the autumn check) reads it here, with the same rules; ``zoning plan``
writes its tables here (inside :func:`geodata.outputs.proposal_folder`): ``assignments.csv``,
``ledger.csv``, ``metrics.json``, ``run.json``, ``checks.txt``, ``indicators.csv``,
``coefficients.csv``, ``routes.geojson``, and ``solver.log`` / ``model.lp`` from what the model
returns (it writes no file itself). A problem raises
:class:`zoning.errors.DataError` naming the file, the row as a spreadsheet shows it (header = row
1), the column and the fix, every problem of the file at once.

A proposal made with a second change (``--second-change``) has two zone maps: ``assignments.csv``
then holds one row per unit, level and map, told apart by ``change_year`` (the first intake the
map applies to). :func:`final_assignments` is the zones as finally drawn; :func:`zone_map_years`
lists the maps.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.tabular import write_csv
from zoning.errors import DataError, Problem

ASSIGNMENTS = "assignments.csv"
LEDGER = "ledger.csv"
METRICS = "metrics.json"
RUN = "run.json"
CHECKS = "checks.txt"
ZONES = "zones.geojson"
UNITS = "units.geojson"
SCHOOLS = "schools.geojson"
ROUTES = "routes.geojson"
OPTIONAL_LAYERS = ("barriers", "roads", "routes")
INDICATORS = "indicators.csv"
COEFFICIENTS = "coefficients.csv"
SOLVER_LOG = "solver.log"
MODEL_LP = "model.lp"

PLAN_LEVELS = ("primary", "junior")
#: columns every assignments.csv has (a hand-edited file too)
ASSIGNMENT_REQUIRED = ("unit_id", "level", "school_id", "previous_school_id", "students", "change_year")
#: columns zoning plan writes; the optional ones are filled with "" when a hand-made file lacks them
ASSIGNMENT_COLUMNS = ("unit_id", "unit_name", "level", "school_id", "school_name", "previous_school_id",
                      "students", "change_year", "reason")
#: ``reason`` (optional when read: older proposals have none): why a unit changed school — 为化解…超额,
#: …新片区, 撤并 or 距离更近; empty where it did not
LEDGER_REQUIRED = ("school_id", "name", "year", "students", "classes")
#: columns of routes.geojson (WGS84 lines from each unit to its school along the roads)
ROUTE_COLUMNS = ("unit_id", "level", "school_id", "distance_m", "on_network")
#: the key columns of indicators.csv (one row per school and year; then each indicator's value,
#: threshold, ratio and verdict: zoning.indicators.indicator_columns) and of coefficients.csv
INDICATOR_REQUIRED = ("school_id", "name", "level", "year")
COEFFICIENT_REQUIRED = ("level", "year", "indicator", "cv", "limit", "ok")
LAYER_REQUIRED = {
    ZONES: ("school_id", "name", "level"),
    UNITS: ("unit_id", "name"),
    SCHOOLS: ("school_id", "name", "level"),
}
ID_COLUMNS = ("unit_id", "school_id", "previous_school_id", "primary_school", "junior_school",
              "previous_primary_school", "previous_junior_school")

REGENERATE = "用 zoning plan 重新生成该方案"
CSV_FIX = "用 zoning plan 重新生成该方案，或在 Excel 中打开、核对后另存为 CSV（UTF-8）"
RUN_FIX = "用 zoning plan 重新生成该方案（run.json 记录了方案所用的数据文件夹、坐标系和情景设置）"


# ------------------------------------------------------------------------------------------ reading
def _missing_folder(folder: Path, name: str) -> DataError:
    if not folder.is_dir():
        text = f"方案文件夹 {folder} 不存在"
    else:
        text = f"方案文件夹 {folder} 中缺少 {name}（这不是 zoning plan 写出的完整方案文件夹）"
    return DataError([Problem(name, None, None, None, text, "请给出 zoning plan 写出的方案文件夹（" + REGENERATE + "）")])


def _read_csv(path: Path, **read_kw) -> pd.DataFrame:
    """A CSV of the proposal, or a DataError naming what is wrong (encoding, empty, cut short)."""
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **read_kw)
    except UnicodeDecodeError:
        raise DataError([Problem(path.name, None, None, None, "文件不是 UTF-8 编码的文本", CSV_FIX)]) from None
    except pd.errors.EmptyDataError:
        raise DataError([Problem(path.name, None, None, None, "文件是空的", CSV_FIX)]) from None
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))
        row = int(line.group(1)) if line else None
        raise DataError([Problem(path.name, None if row is None else row - 1, None, None,
                                 "这一行的列数与表头不符（文件可能被截断或手工改坏）", CSV_FIX,
                                 sheet_row=row)]) from None


def _read_csv_text(path: Path) -> pd.DataFrame:
    """A CSV of the proposal as text cells ("" for empty)."""
    return _read_csv(path, dtype=str, keep_default_na=False)


def _row_problem(name: str, pos: int, uid, column: str, text: str, fix: str) -> Problem:
    """A problem of data row ``pos`` (0-based): row 1-based, sheet row counting the header."""
    return Problem(name, pos + 1, uid, column, text, fix, sheet_row=pos + 2)


def _missing_columns(df: pd.DataFrame, name: str, required) -> list[Problem]:
    missing = [c for c in required if c not in df.columns]
    return [Problem(name, None, None, c, f"缺少列：{c}",
                    f"表头应包含 {', '.join(required)}（{REGENERATE}）") for c in missing]


def _is_count(text: str) -> bool:
    return re.fullmatch(r"\d+", text.strip()) is not None


def _is_year(text: str) -> bool:
    return re.fullmatch(r"\d{4}", text.strip()) is not None


def assignment_problems(df: pd.DataFrame, name: str = ASSIGNMENTS) -> list[Problem]:
    """Every problem of an assignments table (text cells).

    Rules: the required columns; at least one row; a unit id on every row; level primary or
    junior; students a non-negative integer; change_year a four-digit year (may be empty only on a
    row whose school did not change, or that had no current zone). A unit listed twice for one
    level and map is left to the checker (``zoning check-plan`` reports it as a finding);
    :func:`duplicate_problems` makes it an error for drawing.
    """
    missing = _missing_columns(df, name, ASSIGNMENT_REQUIRED)
    if missing:
        return missing
    if df.empty:
        return [Problem(name, None, None, None, "文件只有表头，没有任何划片行", REGENERATE)]
    problems = []
    for pos, r in enumerate(df.itertuples(index=False)):
        uid = str(r.unit_id).strip() or None
        if uid is None:
            problems.append(_row_problem(name, pos, None, "unit_id", "单元代码为空", "填写该行的单元代码（unit_id）"))
        if r.level not in PLAN_LEVELS:
            problems.append(_row_problem(name, pos, uid, "level", f"学段取值未知：“{r.level}”",
                                         "学段应为 primary（小学）或 junior（初中）"))
        if not _is_count(str(r.students)):
            problems.append(_row_problem(name, pos, uid, "students", f"学生数不是非负整数：“{r.students}”",
                                         "填写整数人数（文件可能被截断：请重新生成）"))
        year = str(r.change_year).strip()
        previous = str(r.previous_school_id).strip()
        unchanged = previous in ("", str(r.school_id).strip())  # no current zone: nothing moved
        if not (_is_year(year) or (year == "" and unchanged)):
            problems.append(_row_problem(name, pos, uid, "change_year", f"调整年份不是四位年份：“{r.change_year}”",
                                         "填写四位年份，例如 2023（学校未变或原无片区的行可以留空）"))
    return problems


def duplicate_problems(df: pd.DataFrame, name: str = ASSIGNMENTS) -> list[Problem]:
    """A unit listed more than once for one level and zone map (``change_year``)."""
    problems = []
    seen: dict[tuple, int] = {}
    for pos, r in enumerate(df.itertuples(index=False)):
        uid = str(r.unit_id).strip()
        year = "" if pd.isna(r.change_year) else str(r.change_year).strip()
        key = (uid, r.level, year)
        if key in seen:
            problems.append(_row_problem(
                name, pos, uid, "unit_id",
                f"小区/村 {uid} 在学段 {r.level}" + (f"（{year} 年起的片区图）" if year else "") +
                f"出现了不止一次（与第 {seen[key] + 2} 行重复）",
                "每个小区/村每个学段、每张片区图只能划入一所学校，请删去重复行"))
        seen.setdefault(key, pos)
    return problems


def _typed_assignments(df: pd.DataFrame) -> pd.DataFrame:
    for c in ASSIGNMENT_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    for c in ("unit_id", "school_id", "previous_school_id"):
        df[c] = df[c].str.strip()
    df["students"] = pd.to_numeric(df["students"]).astype(int)
    years = pd.to_numeric(df["change_year"].str.strip().replace("", np.nan))
    first = years.min()
    df["change_year"] = (years.fillna(first) if pd.notna(first) else years).astype("Int64")
    return df


def read_assignments(folder) -> pd.DataFrame:
    """A proposal's ``assignments.csv`` (maybe edited by hand), every row checked.

    Returns text id columns ("" for none: a unit no school serves), ``students`` int and
    ``change_year`` Int64 (an empty cell on an unchanged row takes the file's first change year).
    With a second change there is one row per unit, level and zone map.

    Raises
    ------
    DataError
        With every problem of a missing, unreadable, truncated or mistyped file.
    """
    folder = Path(folder)
    path = folder / ASSIGNMENTS
    if not path.is_file():
        raise _missing_folder(folder, ASSIGNMENTS)
    df = _read_csv_text(path)
    problems = assignment_problems(df, path.name)
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    return _typed_assignments(df)


def final_assignments(assignments: pd.DataFrame) -> pd.DataFrame:
    """The last zone map's row of each unit and level (the zones as finally drawn)."""
    return (assignments.sort_values("change_year", kind="stable")
            .drop_duplicates(["unit_id", "level"], keep="last").sort_index())


def zone_map_years(assignments: pd.DataFrame) -> dict[str, list[int]]:
    """The first intake year of each zone map, per level (two years with a second change)."""
    out = {}
    for level, g in assignments.groupby("level", sort=False):
        out[level] = sorted(int(y) for y in g["change_year"].dropna().unique())
    return out


def ledger_problems(df: pd.DataFrame, name: str = LEDGER) -> list[Problem]:
    """Every problem of a ledger table (text cells): columns, one school and year per row, numbers."""
    missing = _missing_columns(df, name, LEDGER_REQUIRED)
    if missing:
        return missing
    if df.empty:
        return [Problem(name, None, None, None, "台账只有表头，没有任何学校", REGENERATE)]
    problems = []
    seen = set()
    for pos, r in enumerate(df.itertuples(index=False)):
        sid = str(r.school_id).strip() or None
        if sid is None:
            problems.append(_row_problem(name, pos, None, "school_id", "学校代码为空", REGENERATE))
        if not _is_year(str(r.year)):
            problems.append(_row_problem(name, pos, sid, "year", f"年份不是四位年份：“{r.year}”", REGENERATE))
        for col in ("students", "classes"):
            if not _is_count(str(getattr(r, col))):
                problems.append(_row_problem(name, pos, sid, col, f"{col} 不是非负整数：“{getattr(r, col)}”",
                                             "填写整数（文件可能被截断：" + REGENERATE + "）"))
        key = (sid, str(r.year).strip())
        if sid is not None and key in seen:
            problems.append(_row_problem(name, pos, sid, "school_id", f"学校 {sid} 的 {r.year} 年出现了不止一次",
                                         "每所学校每年只能有一行：" + REGENERATE))
        seen.add(key)
    return problems


def _typed_ledger(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["school_id"] = out["school_id"].str.strip()
    for c in out.columns:
        if c in ("school_id", "name", "level"):
            continue
        values = out[c].str.strip()
        if values.str.lower().isin(["true", "false"]).all():
            out[c] = values.str.lower() == "true"
            continue
        num = pd.to_numeric(values.replace("", np.nan), errors="coerce")
        if num.notna().sum() == (values != "").sum():
            out[c] = num
    for c in ("year", "students", "classes"):
        out[c] = out[c].astype(int)
    return out


def read_ledger(folder) -> pd.DataFrame:
    """A proposal's ``ledger.csv``: one row per school and year (numbers typed, ids as text).

    Raises
    ------
    DataError
        When the file is missing, unreadable, lacks a column or has a malformed row.
    """
    folder = Path(folder)
    path = folder / LEDGER
    if not path.is_file():
        raise _missing_folder(folder, LEDGER)
    df = _read_csv_text(path)
    problems = ledger_problems(df, path.name)
    if problems:
        raise DataError(problems)
    return _typed_ledger(df)


def _read_json_object(path: Path, fix: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise DataError([Problem(path.name, line, None, None, f"{path.name} 已损坏，无法读取（{exc}）", fix)]) from None
    if not isinstance(data, dict):
        raise DataError([Problem(path.name, None, None, None, f"{path.name} 不是一个 JSON 对象", fix)])
    return data


def read_run(folder) -> dict:
    """A proposal's ``run.json`` (its data source and scenario are required)."""
    folder = Path(folder)
    path = folder / RUN
    if not path.is_file():
        raise DataError([Problem(RUN, None, None, None,
                                 f"方案文件夹 {folder} 中没有 run.json，无法知道方案依据的数据", RUN_FIX)])
    run = _read_json_object(path, RUN_FIX)
    problems = [Problem(RUN, None, None, key, f"run.json 缺少{what}（{key}）", RUN_FIX)
                for key, what, ok in (("source", "数据来源", bool(run.get("source"))),
                                      ("scenario", "情景设置", isinstance(run.get("scenario"), dict)))
                if not ok]
    if problems:
        raise DataError(problems)
    return run


def read_metrics(folder) -> dict:
    """A proposal's ``metrics.json`` (a JSON object with ``status``)."""
    folder = Path(folder)
    path = folder / METRICS
    if not path.is_file():
        raise _missing_folder(folder, METRICS)
    metrics = _read_json_object(path, REGENERATE)
    if "status" not in metrics:
        raise DataError([Problem(METRICS, None, None, "status", "metrics.json 缺少求解状态（status）", REGENERATE)])
    return metrics


def _norm_ids(df: pd.DataFrame) -> pd.DataFrame:
    """Ids as stripped text or None; names as text."""
    for c in ID_COLUMNS:
        if c in df.columns:
            df[c] = df[c].map(lambda v: None if v is None or pd.isna(v) or str(v).strip() == "" else str(v).strip())
    if "name" in df.columns:
        df["name"] = df["name"].map(lambda v: "" if v is None or pd.isna(v) else str(v))
    return df


def read_layer(folder, name: str, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    """One GeoJSON layer of a proposal in WGS84 (None and a problem when missing or unreadable)."""
    path = Path(folder) / name
    if not path.is_file():
        problems.append(Problem(name, None, None, None, f"方案文件夹 {folder} 中缺少 {name}",
                                "请先用 zoning plan 生成完整的方案文件夹，或补齐该文件"))
        return None
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        problems.append(Problem(name, None, None, None, f"无法读取文件：{exc}",
                                "请确认文件是完整的 GeoJSON（可重新运行生成方案的命令）"))
        return None
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    for c in LAYER_REQUIRED.get(name, ()):
        if c not in gdf.columns:
            problems.append(Problem(name, None, None, c, f"缺少列：{c}",
                                    f"请补上 {c} 列（列名见 docs/ARCHITECTURE.md“方案文件夹”）"))
    return _norm_ids(gdf)


def _read_csv_typed(path: Path) -> pd.DataFrame:
    """A report table of the proposal with its numbers typed and ``school_id`` as text."""
    return _read_csv(path, dtype={"school_id": str})


def _read_report(folder, name: str, required) -> pd.DataFrame:
    folder = Path(folder)
    path = folder / name
    if not path.is_file():
        raise _missing_folder(folder, name)
    df = _read_csv_typed(path)
    problems = _missing_columns(df, name, required)
    if problems:
        raise DataError(problems)
    return df


def read_indicators(folder) -> pd.DataFrame:
    """A proposal's ``indicators.csv``: the 优质均衡 indicators of each school and year.

    Raises
    ------
    DataError
        When the file is missing, unreadable or lacks a key column (``school_id, name, level, year``).
    """
    return _read_report(folder, INDICATORS, INDICATOR_REQUIRED)


def read_coefficients(folder) -> pd.DataFrame:
    """A proposal's ``coefficients.csv``: the county's difference coefficient of each indicator,
    level and year.

    Raises
    ------
    DataError
        When the file is missing, unreadable or lacks a key column.
    """
    return _read_report(folder, COEFFICIENTS, COEFFICIENT_REQUIRED)


def optional_indicators(folder) -> pd.DataFrame:
    """:func:`read_indicators`, or an empty table with the key columns when the file is absent."""
    if not (Path(folder) / INDICATORS).is_file():
        return pd.DataFrame(columns=list(INDICATOR_REQUIRED))
    return read_indicators(folder)


def optional_coefficients(folder) -> pd.DataFrame:
    """:func:`read_coefficients`, or an empty table with the key columns when the file is absent."""
    if not (Path(folder) / COEFFICIENTS).is_file():
        return pd.DataFrame(columns=list(COEFFICIENT_REQUIRED))
    return read_coefficients(folder)


def optional_metrics(folder) -> dict:
    """:func:`read_metrics`, or ``{}`` when the proposal has no ``metrics.json``."""
    return read_metrics(folder) if (Path(folder) / METRICS).is_file() else {}


def optional_run(folder) -> dict:
    """:func:`read_run`, or ``{}`` when the proposal has no ``run.json``."""
    return read_run(folder) if (Path(folder) / RUN).is_file() else {}


@dataclass
class ProposalFiles:
    """The content of a proposal folder, geometries in WGS84 (EPSG:4326): the one definition of its
    fields (``maps.proposal.Proposal`` extends it with the maps' display pieces).

    ``assignments`` are the zones as finally drawn (one row per unit and level, index 0..n-1);
    ``zone_maps`` every zone map (one row per unit, level and map: two maps with a second change).
    Ids are text or None.
    """

    path: Path
    assignments: pd.DataFrame
    zone_maps: pd.DataFrame
    zones: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    ledger: pd.DataFrame | None = None
    metrics: dict = field(default_factory=dict)
    run: dict = field(default_factory=dict)
    barriers: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    routes: gpd.GeoDataFrame | None = None


def _optional_json(path: Path) -> dict:
    return _read_json_object(path, REGENERATE) if path.is_file() else {}


def _assignments_for_drawing(folder: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """assignments.csv with the drawing's rules (no unit twice in one map); problems appended."""
    path = folder / ASSIGNMENTS
    if not path.is_file():
        problems.extend(_missing_folder(folder, ASSIGNMENTS).problems)
        return None
    try:
        df = _read_csv_text(path)
    except DataError as exc:
        problems.extend(exc.problems)
        return None
    found = assignment_problems(df, path.name)
    if all(c in df.columns for c in ASSIGNMENT_REQUIRED):
        found += duplicate_problems(df, path.name)
    problems.extend(found)
    return None if found else _typed_assignments(df)


def read_proposal(folder) -> ProposalFiles:
    """Read a whole proposal folder for drawing (maps, publish).

    Required: ``assignments.csv``, ``zones.geojson``, ``units.geojson``, ``schools.geojson``;
    ``ledger.csv``, ``metrics.json``, ``run.json`` and the barrier/road/route layers are read when
    present. Every problem of the required files is raised at once.

    Raises
    ------
    FileNotFoundError
        When the folder does not exist.
    DataError
        With every missing file or column and every bad row.
    """
    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(2, "方案文件夹不存在", str(path))
    problems: list[Problem] = []
    assignments = _assignments_for_drawing(path, problems)
    layers = {name: read_layer(path, name, problems) for name in LAYER_REQUIRED}
    if problems:
        raise DataError(problems)
    ledger = read_ledger(path) if (path / LEDGER).is_file() else None
    extra: list[Problem] = []
    optional = {name: read_layer(path, f"{name}.geojson", extra)
                for name in OPTIONAL_LAYERS if (path / f"{name}.geojson").is_file()}
    if extra:
        raise DataError(extra)
    shown = _norm_ids(assignments.copy())
    return ProposalFiles(path=path, assignments=final_assignments(shown).reset_index(drop=True), zone_maps=shown,
                         zones=layers[ZONES], units=layers[UNITS], schools=layers[SCHOOLS], ledger=ledger,
                         metrics=_optional_json(path / METRICS), run=_optional_json(path / RUN), **optional)


# ------------------------------------------------------------------------------------------ writing
def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o))


def write_json(path, data) -> None:
    """A JSON file as the proposal writes them (UTF-8, readable Chinese, numpy numbers as plain)."""
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")


def write_assignments(folder, assignments: pd.DataFrame) -> Path:
    """``assignments.csv`` in the schema's column order (every zone map's rows)."""
    return write_csv(assignments.loc[:, list(ASSIGNMENT_COLUMNS)], Path(folder) / ASSIGNMENTS)


def write_ledger(folder, ledger: pd.DataFrame) -> Path:
    """``ledger.csv``: one row per school and year."""
    return write_csv(ledger, Path(folder) / LEDGER)


def write_metrics(folder, metrics: dict) -> Path:
    path = Path(folder) / METRICS
    write_json(path, metrics)
    return path


def write_run(folder, run: dict) -> Path:
    path = Path(folder) / RUN
    write_json(path, run)
    return path


def write_checks(folder, text: str) -> Path:
    """``checks.txt``: the independent checker's report."""
    path = Path(folder) / CHECKS
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    return path


def write_solver_log(folder, text: str) -> Path:
    """``solver.log``: the solver's log of every round, as :func:`zoning.model.solve_model` returns it."""
    path = Path(folder) / SOLVER_LOG
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)
    return path


def write_model_lp(folder, problem) -> Path:
    """``model.lp``: the model as solved, in CPLEX LP format, written by the problem's own writer
    (``problem.writeLP``, PuLP's, so the file is byte for byte what PuLP writes)."""
    path = Path(folder) / MODEL_LP
    problem.writeLP(str(path))
    return path


def write_indicators(folder, indicators: pd.DataFrame) -> Path:
    """``indicators.csv``: the 优质均衡 indicators of each school and year (``zoning.indicators``)."""
    return write_csv(indicators, Path(folder) / INDICATORS)


def write_coefficients(folder, coefficients: pd.DataFrame) -> Path:
    """``coefficients.csv``: the county's difference coefficients per level, year and indicator."""
    return write_csv(coefficients, Path(folder) / COEFFICIENTS)


def write_routes(folder, routes: gpd.GeoDataFrame) -> Path:
    """``routes.geojson``: WGS84 lines from each unit to its school (:data:`ROUTE_COLUMNS`)."""
    path = Path(folder) / ROUTES
    missing = [c for c in ROUTE_COLUMNS if c not in routes.columns]
    if missing:
        raise ValueError(f"routes lack columns {missing}")
    routes[list(ROUTE_COLUMNS) + [routes.geometry.name]].to_file(path, driver="GeoJSON")
    return path
