"""A corpus of broken inputs (issue 15, item 11), each with the outcome the tool owes it.

How it works
------------
Every case is built at test time in a temporary folder, from a copy of the bundled sample
(``geodata/sample/data``) or from part of it, then edited by small functions: a value set, a column
dropped, a layer rewritten in another format (GeoJSON, GeoPackage, Shapefile, CSV, XLSX), a
``scenario.toml`` rewritten or re-encoded. Nothing is copied into the repository.

Bases
    ``lite``  schools.geojson, units.geojson and scenario.toml of the sample (fast to validate);
    ``full``  the whole sample folder (households, roster, plan, barriers, roads …);
    ``empty`` an empty folder.

Outcomes (what ``tests/test_corpus.py`` asserts, besides: no traceback, inputs byte-identical)
    ``rejected``  exit code :data:`REJECTED_EXIT` of the command and every entry of ``names`` in the output;
    ``warned``    exit code 0 or 1 and every entry of ``names`` in the output;
    ``accepted``  exit code 0.

An entry of ``names`` is a string, or a tuple of strings of which one must appear (the file name,
the column, key or id concerned). Expectations follow issue 15 and SPEC §2, not what the tool does
today: a failing case is a bug to fix, never a case to relax.

Commands: most cases run ``zoning validate DATA``; a few (scenario and lock cases) run ``zoning plan
DATA --time-limit 20 --no-map --out OUT`` and must be refused before any solve.

Add a case: append to one of the ``_*_cases`` functions below with a readable id
(``area-defect-format``).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import shapely
from shapely import affinity
from shapely.geometry import Point

from geodata.sample import sample_dir

SAMPLE = Path(sample_dir())
LITE_FILES = ("schools.geojson", "units.geojson", "scenario.toml")
#: ``zoning validate`` reports data problems as a finding (exit 1); a command that cannot run on
#: the input (``zoning plan`` refusing before the solve) exits 2 (README, 退出码).
REJECTED_EXIT = {"validate": 1, "plan": 2}
OUTCOMES = ("rejected", "warned", "accepted")
PLAN_ARGS = ("--time-limit", "20", "--no-map")
ID_COLUMN = {"schools": "school_id", "units": "unit_id", "households": "household_id",
             "plan": "school_id", "roster": "student_id"}
#: Exit payloads: text that would run if rendered as a template or as HTML.
PAYLOADS = ("{{7*7}}", "{% for i in range(3) %}x{% endfor %}", "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>')
UTM = 32648  # the sample lies in UTM zone 48N

Edit = Callable[[Path], None]
Transform = Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]


@dataclass(frozen=True)
class Case:
    """One broken (or awkward but valid) input and the outcome it must get."""

    id: str
    outcome: str
    names: tuple = ()
    edits: tuple = ()
    base: str = "lite"
    command: str = "validate"
    args: tuple = ()

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"{self.id}: outcome {self.outcome!r} not in {OUTCOMES}")
        if self.outcome != "accepted" and not self.names:
            raise ValueError(f"{self.id}: a {self.outcome} case must name what is wrong")

    def cli_args(self, folder: Path, out: Path) -> list[str]:
        """Arguments for ``cli.main``."""
        if self.command == "plan":
            return ["plan", str(folder), *PLAN_ARGS, "--out", str(out), *self.args]
        return [self.command, str(folder), *self.args]


# ----------------------------------------------------------------------------------------------
# building a folder


def build_folder(case: Case, root: Path) -> Path:
    """Make the case's data folder under ``root`` and return it."""
    folder = root / "data"
    folder.mkdir(parents=True)
    if case.base == "full":
        shutil.copytree(SAMPLE, folder, dirs_exist_ok=True)
    elif case.base == "lite":
        for name in LITE_FILES:
            shutil.copy2(SAMPLE / name, folder / name)
    for edit in case.edits:
        edit(folder)
    return folder


def layer_path(folder: Path, layer: str) -> Path:
    """The one file of ``layer`` in the folder (any format)."""
    found = sorted(p for p in folder.iterdir() if p.stem == layer and p.suffix in
                   (".geojson", ".gpkg", ".shp", ".csv", ".xlsx"))
    return found[0]


def read_layer(folder: Path, layer: str) -> pd.DataFrame:
    """The layer as the sample stores it (GeoJSON or CSV)."""
    path = layer_path(folder, layer)
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=object)
    return gpd.read_file(path)


def remove_layer(folder: Path, layer: str) -> None:
    """Delete every file of ``layer`` (all formats, shapefile sidecars)."""
    for p in folder.iterdir():
        if p.stem == layer:
            p.unlink()


# ----------------------------------------------------------------------------------------------
# writers


def _uniform_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns holding both numbers and text become text (GIS formats need one type per field)."""
    frame = frame.copy()
    for col in frame.columns:
        if col == "geometry":
            continue
        kinds = {type(v) for v in frame[col] if not _missing(v)}
        if len(kinds) > 1 and str in kinds:
            frame[col] = [None if _missing(v) else str(v) for v in frame[col]]
    return frame


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def plain_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A GeoDataFrame as a table: lon/lat columns for points, a wkt column otherwise."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return frame.copy()
    table = pd.DataFrame(frame.drop(columns="geometry"))
    geoms = frame.geometry
    if len(geoms) and all(g is not None and g.geom_type == "Point" for g in geoms):
        table["lon"] = [round(g.x, 7) for g in geoms]
        table["lat"] = [round(g.y, 7) for g in geoms]
    else:
        table["wkt"] = [None if g is None else shapely.to_wkt(g, rounding_precision=7) for g in geoms]
    return table


def write_geo(frame: gpd.GeoDataFrame, path: Path, encoding: str | None = None) -> None:
    """GeoJSON, GeoPackage or Shapefile through pyogrio (shapefile names cut by GDAL)."""
    driver = {".geojson": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}[path.suffix]
    kwargs = {"encoding": encoding} if encoding else {}
    _uniform_columns(frame).to_file(path, driver=driver, engine="pyogrio", **kwargs)


def write_csv_input(frame: pd.DataFrame, path: Path, encoding: str = "utf-8") -> None:
    """A CSV as an office would save it (no inert-cell treatment: this is input)."""
    plain_table(frame).to_csv(path, index=False, encoding=encoding)


def write_xlsx_input(frame: pd.DataFrame, path: Path, title: str | None = None,
                     formulas: dict | None = None) -> None:
    """An XLSX written by openpyxl: optional title row above the header; ``formulas`` maps
    (row position, column) -> formula text, saved without a cached value as openpyxl does."""
    table = plain_table(frame)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    if title:
        ws.append([title])
    ws.append(list(table.columns))
    for pos, row in enumerate(table.itertuples(index=False)):
        values = [None if _missing(v) else v for v in row]
        for (fpos, col), text in (formulas or {}).items():
            if fpos == pos:
                values[list(table.columns).index(col)] = text
        ws.append(values)
    wb.save(path)


def write_layer(folder: Path, layer: str, frame: pd.DataFrame, fmt: str, **options) -> None:
    """Replace ``layer`` in the folder by ``frame`` written as ``fmt``."""
    remove_layer(folder, layer)
    path = folder / f"{layer}.{fmt}"
    if fmt in ("geojson", "gpkg", "shp"):
        write_geo(frame, path, **options)
    elif fmt == "csv":
        write_csv_input(frame, path, **options)
    else:
        write_xlsx_input(frame, path, **options)


# ----------------------------------------------------------------------------------------------
# frame transforms


def _row(frame: pd.DataFrame, layer: str, row_id: str):
    col = ID_COLUMN[layer]
    return frame.index[frame[col].astype(str) == row_id][0]


def set_cell(layer: str, row_id: str, col: str, value) -> Transform:
    """Set one cell of the row whose id is ``row_id`` (column made object if the value is text)."""

    def apply(frame):
        frame = frame.copy()
        if isinstance(value, str) or value is None:
            frame[col] = frame[col].astype(object)
        else:
            frame[col] = frame[col].astype(float) if isinstance(value, float) else frame[col]
        frame.loc[_row(frame, layer, row_id), col] = value
        return frame

    return apply


def set_column(col: str, value) -> Transform:
    """Set a whole column to one value."""

    def apply(frame):
        frame = frame.copy()
        frame[col] = [value] * len(frame)
        return frame

    return apply


def drop_columns(*cols: str) -> Transform:
    return lambda frame: frame.drop(columns=list(cols))


def keep_columns(*cols: str) -> Transform:
    return lambda frame: frame[[c for c in frame.columns if c in cols or c == "geometry"]]


def rename_columns(mapping: dict) -> Transform:
    return lambda frame: frame.rename(columns=mapping)


def duplicate_id(layer: str, source: str, target: str) -> Transform:
    """The row ``target`` takes the id ``source`` (so ``source`` appears twice)."""
    return set_cell(layer, target, ID_COLUMN[layer], source)


def set_geometry(layer: str, row_id: str, geom_fn) -> Transform:
    """Replace a row's geometry by ``geom_fn(frame, old_geometry)``."""

    def apply(frame):
        frame = frame.copy()
        i = _row(frame, layer, row_id)
        frame.loc[i, "geometry"] = geom_fn(frame, frame.geometry[i])
        return frame

    return apply


def add_row(values: dict, geom_fn) -> Transform:
    """Append a row with ``values`` and the geometry ``geom_fn(frame)``."""

    def apply(frame):
        row = {c: None for c in frame.columns}
        row.update(values)
        row["geometry"] = geom_fn(frame)
        extra = gpd.GeoDataFrame([row], geometry="geometry", crs=frame.crs)
        return gpd.GeoDataFrame(pd.concat([frame, extra], ignore_index=True), geometry="geometry", crs=frame.crs)

    return apply


def to_crs(epsg: int) -> Transform:
    return lambda frame: frame.to_crs(epsg)


def buffered_m(metres: float):
    """Geometry function: the old geometry grown by ``metres``."""

    def geom(frame, old):
        grown = gpd.GeoSeries([old], crs=frame.crs).to_crs(UTM).buffer(metres)
        return grown.to_crs(frame.crs).iloc[0]

    return geom


def same_as(layer: str, other_id: str):
    """Geometry function: a copy of another row's geometry."""
    return lambda frame, old: frame.geometry[_row(frame, layer, other_id)]


def moved_by(dlon: float, dlat: float):
    return lambda frame, old: affinity.translate(old, dlon, dlat)


def point_at(lon: float, lat: float):
    return lambda frame, old: Point(lon, lat)


def covering_all(frame) -> shapely.Geometry:
    """A county-sized stray polygon: the hull of every unit."""
    return frame.geometry.union_all().convex_hull


# ----------------------------------------------------------------------------------------------
# edits (folder -> None)


def edit_layer(layer: str, *transforms: Transform, fmt: str | None = None, **options) -> Edit:
    """Read ``layer``, apply ``transforms``, write it back (as ``fmt``, default its own format)."""

    def apply(folder: Path):
        path = layer_path(folder, layer)
        frame = read_layer(folder, layer)
        for t in transforms:
            frame = t(frame)
        write_layer(folder, layer, frame, fmt or path.suffix[1:], **options)

    return apply


def delete_files(*names: str) -> Edit:
    def apply(folder: Path):
        for n in names:
            (folder / n).unlink()

    return apply


def write_bytes(name: str, data: bytes) -> Edit:
    def apply(folder: Path):
        (folder / name).write_bytes(data)

    return apply


def truncated_copy(name: str, n_bytes: int) -> Edit:
    """The sample's file cut after ``n_bytes`` (an interrupted copy)."""
    return write_bytes(name, (SAMPLE / name).read_bytes()[:n_bytes])


def sample_scenario() -> str:
    return (SAMPLE / "scenario.toml").read_text(encoding="utf-8")


def scenario(replace: dict | None = None, append: str = "", encoding: str = "utf-8",
             bom: bool = False) -> Edit:
    """Rewrite scenario.toml from the sample's: ``replace`` old -> new text, ``append`` at the end
    (that is, inside its last table, ``[solver]``), saved in ``encoding``."""

    def apply(folder: Path):
        text = sample_scenario()
        for old, new in (replace or {}).items():
            if old not in text:
                raise AssertionError(f"scenario edit: {old!r} not in the sample scenario")
            text = text.replace(old, new)
        data = (text + append).encode(encoding)
        (folder / "scenario.toml").write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)

    return apply


def scenario_top(lines: str) -> Edit:
    """Top-level keys added before the first table."""
    return scenario(replace={"barrier_rule = \"forbid\"": f"barrier_rule = \"forbid\"\n{lines}"})


def scenario_table(text: str) -> Edit:
    """A table (or more) appended at the end of the sample scenario."""
    return scenario(append=f"\n{text}\n")


# ----------------------------------------------------------------------------------------------
# shapefile-safe frames (fields of at most 10 bytes) and Chinese headers

UNITS_SHORT = {**{f"students_g{g}": f"g{g}" for g in range(1, 10)},
               "primary_school": "小学", "junior_school": "初中"}
UNITS_ZH = {"unit_id": "单元代码", "name": "小区名称", "township": "乡镇",
            **{f"students_g{g}": n for g, n in zip(range(1, 10), (
                "一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "七年级", "八年级", "九年级"))},
            **{f"age_{a}": f"{a}岁" for a in range(6)},
            "primary_school": "小学", "junior_school": "初中"}
SCHOOLS_ZH = {"school_id": "学校代码", "name": "学校名称", "level": "学段", "township": "乡镇",
              "address": "地址", "classrooms": "教室数", "capacity": "学位数", "open_year": "开办年份",
              "close_year": "停办年份"}


def short_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """Fields that a shapefile keeps whole (<= 10 bytes in UTF-8), after the short unit aliases."""
    frame = frame.rename(columns=UNITS_SHORT)
    keep = [c for c in frame.columns if c == "geometry" or len(c.encode("utf-8")) <= 10]
    return frame[keep]


def shp_safe(*transforms: Transform) -> tuple:
    """Transforms then :func:`short_fields`, for shapefile cases that are not about name cuts."""
    return (*transforms, short_fields)


def zh_schools(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns=SCHOOLS_ZH)


def zh_units(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns=UNITS_ZH)


def units_as_points(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["geometry"] = frame.geometry.representative_point()
    return frame


def truncate_rows(n: int) -> Transform:
    return lambda frame: frame.iloc[:n]


def school_formulas(column: str, rows=(0, 1)) -> dict:
    """Formulas (no cached value) in ``column`` of the first rows: ``=44*45`` style."""
    return {(r, column): f"={40 + r}*45" for r in rows}


def unit_formulas(column: str, rows=(0, 1)) -> dict:
    return {(r, column): f"=5+{r}" for r in rows}


# ----------------------------------------------------------------------------------------------
# the cases

FORMATS = ("geojson", "gpkg", "shp", "csv", "xlsx")


def _fmt_file(layer: str, fmt: str):
    """The file the user sees (a shapefile's .dbf holds its fields, so either name is fine)."""
    return (f"{layer}.shp", f"{layer}.dbf") if fmt == "shp" else f"{layer}.{fmt}"


def _layer_defect(layer: str, fmt: str, *transforms: Transform, **options) -> Edit:
    if fmt == "shp":
        return edit_layer(layer, *shp_safe(*transforms), fmt=fmt, **options)
    return edit_layer(layer, *transforms, fmt=fmt, **options)


def rej(cid: str, edit: Edit, *names) -> Case:
    """A scenario case that must be rejected naming scenario.toml and ``names``."""
    return Case(f"scenario-{cid}", "rejected", ("scenario.toml", *names), (edit,))


def one_layer(layer: str, *transforms: Transform) -> tuple:
    """The edits of a case that changes one layer in place."""
    return (edit_layer(layer, *transforms),)


def _scenario_cases() -> list[Case]:
    sc = "scenario.toml"
    zh = "# 情景：城关九小 2023 年开办（办公室用记事本保存）\n"
    return [
        Case("scenario-gbk", "accepted", (), (scenario(replace={"# 示例数据": zh + "# 示例数据"}, encoding="gbk"),)),
        Case("scenario-gb18030", "accepted", (), (scenario(encoding="gb18030"),)),
        Case("scenario-utf8-bom", "accepted", (), (scenario(bom=True),)),
        Case("scenario-empty-file", "accepted", (), (write_bytes(sc, b""),)),
        Case("scenario-utf16-notepad-unicode", "warned", (sc, ("UTF-16", "utf-16")), (scenario(encoding="utf-16"),)),
        rej("toml-syntax", scenario(replace={'barrier_rule = "forbid"': 'barrier_rule = "forbid'})),
        rej("weights-number", scenario_top("weights = 5"), "weights"),
        rej("caps-primary-number", scenario_table("[caps]\nprimary = 3"), "primary"),
        rej("schools-open-year", scenario(replace={"open = { P09 = 2023 }": "open = 2023"}), "open"),
        rej("survival-text", scenario_table('[survival]\n"g1-g2" = "高"'), "g1-g2"),
        rej("barrier-detour-text", scenario_top('barrier_detour = "abc"'), "barrier_detour"),
        rej("solver-threads-text", scenario(append='threads = "many"\n'), "threads"),
        rej("solver-time-limit-text", scenario(replace={"time_limit = 120": 'time_limit = "2分钟"'}), "time_limit"),
        rej("solver-gap-negative", scenario(replace={"gap = 0.005": "gap = -1"}), "gap"),
        rej("solver-time-limit-zero", scenario(replace={"time_limit = 120": "time_limit = 0"}), "time_limit"),
        rej("solver-name-unknown", scenario(replace={'name = "highs"': 'name = "gurobi"'}), "gurobi"),
        rej("base-year-1800", scenario(replace={"base_year = 2022": "base_year = 1800"}), "base_year"),
        rej("base-year-text", scenario(replace={"base_year = 2022": 'base_year = "二〇二二"'}), "base_year"),
        rej("target-before-base", scenario(replace={"target_year = 2025": "target_year = 2020"}), "target_year"),
        rej("horizon-2200", scenario(replace={"horizon = 2027": "horizon = 2200"}), "horizon"),
        rej("survival-50", scenario_table('[survival]\n"g1-g2" = 50'), "g1-g2"),
        rej("survival-negative", scenario_table('[survival]\n"g3-g4" = -0.5'), "g3-g4"),
        rej("survival-bad-key", scenario_table('[survival]\n"一年级" = 0.98'), "一年级"),
        rej("max-km-zero", scenario_table("[caps.primary]\nmax_km = 0"), "max_km"),
        rej("k-nearest-zero", scenario_table("[caps.junior]\nk_nearest = 0"), "k_nearest"),
        rej("weights-distance-negative", scenario_table("[weights]\ndistance = -1"), "distance"),
        rej("levels-empty", scenario(replace={'levels = ["primary", "junior"]': "levels = []"}), "levels"),
        rej("levels-unknown", scenario(replace={'levels = ["primary", "junior"]': 'levels = ["senior"]'}), "senior"),
        rej("contiguity-text", scenario(replace={"contiguity = true": 'contiguity = "yes"'}), "contiguity"),
        rej("barrier-rule-unknown", scenario(replace={'barrier_rule = "forbid"': 'barrier_rule = "maybe"'}),
            "barrier_rule"),
        rej("unknown-top-key", scenario_top('colour = "red"'), "colour"),
        rej("unknown-solver-key", scenario(append="timelimit = 60\n"), "timelimit"),
        rej("unknown-table", scenario_table("[foo]\nbar = 1"), "foo"),
        rej("open-year-1800", scenario(replace={"open = { P09 = 2023 }": "open = { P09 = 1800 }"}), "P09"),
        rej("close-unknown-school", scenario(replace={"open = { P09 = 2023 }":
                                                      "open = { P09 = 2023 }\nclose = { P99 = 2025 }"}), "P99"),
        rej("lock-unknown-unit", scenario_table('[locks]\nZZ999 = "P01"'), "ZZ999"),
        rej("lock-unknown-school", scenario_table('[locks]\nC001 = "P99"'), "P99"),
        rej("lock-value-number", scenario_table("[locks]\nC001 = 7"), "C001"),
    ]


def _plan_cases() -> list[Case]:
    """Refused by ``zoning plan`` before any solve."""
    sc = "scenario.toml"
    return [
        Case("plan-barrier-detour-text", "rejected", (sc, "barrier_detour"),
             (scenario_top('barrier_detour = "abc"'),), base="full", command="plan"),
        Case("plan-solver-threads-text", "rejected", (sc, "threads"),
             (scenario(append='threads = "many"\n'),), base="full", command="plan"),
        Case("plan-levels-empty", "rejected", (sc, "levels"),
             (scenario(replace={'levels = ["primary", "junior"]': "levels = []"}),), base="full", command="plan"),
        Case("plan-lock-option-unknown-unit", "rejected", ("ZZ999",), (), base="full", command="plan",
             args=("--lock", "ZZ999=P01")),
        Case("plan-lock-option-unknown-school", "rejected", ("P99",), (), base="full", command="plan",
             args=("--lock", "C001=P99")),
        Case("plan-scenario-lock-unknown-unit", "rejected", (sc, "ZZ999"),
             (scenario_table('[locks]\nZZ999 = "P01"'),), base="full", command="plan"),
        Case("plan-scenario-close-unknown-school", "rejected", (sc, "P99"),
             (scenario(replace={"open = { P09 = 2023 }": "open = { P09 = 2023 }\nclose = { P99 = 2025 }"}),),
             base="full", command="plan"),
    ]


def _school_format_cases() -> list[Case]:
    """One defect of the schools file in every format."""
    cases = []
    for fmt in FORMATS:
        f = _fmt_file("schools", fmt)
        cases += [
            Case(f"schools-duplicate-id-{fmt}", "rejected", (f, "school_id", "P01"),
                 (_layer_defect("schools", fmt, duplicate_id("schools", "P01", "P02")),)),
            Case(f"schools-missing-level-{fmt}", "rejected", (f, "level"),
                 (_layer_defect("schools", fmt, drop_columns("level")),)),
            Case(f"schools-negative-classrooms-{fmt}", "rejected", (f, "classrooms", "P03"),
                 (_layer_defect("schools", fmt, set_cell("schools", "P03", "classrooms", -4)),)),
        ]
    for fmt in ("geojson", "csv", "xlsx", "gpkg"):
        f = _fmt_file("schools", fmt)
        cases += [
            Case(f"schools-unknown-level-{fmt}", "rejected", (f, "level", "P04"),
                 (_layer_defect("schools", fmt, set_cell("schools", "P04", "level", "high_school")),)),
            Case(f"schools-text-classrooms-{fmt}", "rejected", (f, "classrooms", "P05"),
                 (_layer_defect("schools", fmt, set_cell("schools", "P05", "classrooms", "四十间")),)),
            Case(f"schools-500-classes-{fmt}", "rejected", (f, "classes_g1", "P01"),
                 (_layer_defect("schools", fmt, set_cell("schools", "P01", "classes_g1", 500)),)),
            Case(f"schools-grade8-in-primary-{fmt}", "rejected", (f, "enrolled_g8", "P01"),
                 (_layer_defect("schools", fmt, set_cell("schools", "P01", "enrolled_g8", 300)),)),
        ]
    for fmt in ("geojson", "csv", "xlsx"):
        f = _fmt_file("schools", fmt)
        cases += [
            Case(f"schools-no-classrooms-no-capacity-{fmt}", "rejected", (f, "P02", ("classrooms", "capacity")),
                 (_layer_defect("schools", fmt, set_cell("schools", "P02", "classrooms", 0),
                                set_cell("schools", "P02", "capacity", None)),)),
            Case(f"schools-blank-enrolled-{fmt}", "warned", (f, "enrolled_g3", "P06"),
                 (_layer_defect("schools", fmt, set_cell("schools", "P06", "enrolled_g3", None)),)),
            Case(f"schools-enrolled-1e12-{fmt}", "rejected", (f, "enrolled_g1", "P07"),
                 (_layer_defect("schools", fmt, set_cell("schools", "P07", "enrolled_g1", 1e12)),)),
        ]
    return cases


def _school_cases() -> list[Case]:
    g = "schools.geojson"
    def one(*t):
        return one_layer("schools", *t)

    return [
        Case("schools-missing-file", "rejected", (("schools", "学校"),), (delete_files(g),)),
        Case("schools-empty-csv-0-bytes", "rejected", ("schools.csv",), (delete_files(g), write_bytes("schools.csv", b""))),
        Case("schools-csv-header-only", "rejected", ("schools.csv",),
             (edit_layer("schools", truncate_rows(0), fmt="csv"),)),
        Case("schools-geojson-no-features", "rejected", (g,),
             (write_bytes(g, b'{"type": "FeatureCollection", "features": []}'),)),
        Case("schools-geojson-truncated", "rejected", (g,),
             (truncated_copy(g, 5000),)),
        Case("schools-blank-id", "rejected", (g, "school_id"), one(set_cell("schools", "P03", "school_id", None))),
        Case("schools-missing-school-id-column", "rejected", (g, "school_id"), one(drop_columns("school_id"))),
        Case("schools-negative-capacity", "rejected", (g, "capacity", "P04"),
             one(set_cell("schools", "P04", "capacity", -1710))),
        Case("schools-open-year-1800", "rejected", (g, "open_year", "P09"),
             one(set_cell("schools", "P09", "open_year", 1800.0))),
        Case("schools-close-before-open", "rejected", (g, "close_year", "P09"),
             one(set_cell("schools", "P09", "close_year", 2020))),
        Case("schools-point-new-york", "rejected", (g, "P01"), one(set_geometry("schools", "P01", point_at(-74.0, 40.7)))),
        Case("schools-point-null-island", "rejected", (g, "P02"), one(set_geometry("schools", "P02", point_at(0.0, 0.0)))),
        Case("schools-point-lat-out-of-range", "rejected", (g, "J04"),
             one(set_geometry("schools", "J04", point_at(38.9, 106.5)))),
        Case("schools-csv-swapped-lonlat", "rejected", ("schools.csv", "J05"),
             (edit_layer("schools", set_geometry("schools", "J05", point_at(38.91, 106.52)), fmt="csv"),)),
        Case("schools-csv-missing-lonlat", "rejected", ("schools.csv", ("lon", "经度")),
             (edit_layer("schools", plain_table, drop_columns("lon", "lat"), fmt="csv"),)),
        Case("schools-csv-gbk", "accepted", (), (edit_layer("schools", fmt="csv", encoding="gbk"),)),
        Case("schools-csv-utf8-bom", "accepted", (), (edit_layer("schools", fmt="csv", encoding="utf-8-sig"),)),
        Case("schools-csv-chinese-headers-gbk", "accepted", (),
             (edit_layer("schools", zh_schools, fmt="csv", encoding="gbk"),)),
        Case("schools-xlsx-title-row", "accepted", (), (edit_layer("schools", fmt="xlsx", title="平罗县学校名单（2022年秋季）"),)),
        Case("schools-xlsx-formula-capacity", "rejected", ("schools.xlsx", "capacity"),
             (edit_layer("schools", fmt="xlsx", formulas=school_formulas("capacity")),)),
        Case("schools-xlsx-formula-classrooms-title-row", "rejected", ("schools.xlsx", "classrooms"),
             (edit_layer("schools", fmt="xlsx", title="学校名单", formulas=school_formulas("classrooms", (3,))),)),
        Case("schools-xlsx-formula-enrolled", "rejected", ("schools.xlsx", "enrolled_g2"),
             (edit_layer("schools", fmt="xlsx", formulas=school_formulas("enrolled_g2", (0,))),)),
        Case("schools-shp-full-names-cut", "rejected", (("schools.shp", "schools.dbf"), "enrolled_g"),
             (edit_layer("schools", fmt="shp"),)),
        Case("schools-shp-indicators-cut-unambiguous", "accepted", (),
             (edit_layer("schools", drop_columns(*[f"enrolled_g{k}" for k in range(1, 10)]), fmt="shp"),)),
        Case("schools-shp-indicator-cut-negative", "rejected",
             (("schools.shp", "schools.dbf"), ("teaching_a", "teaching_area_m2"), "P08"),
             (edit_layer("schools", drop_columns(*[f"enrolled_g{k}" for k in range(1, 10)]),
                         set_cell("schools", "P08", "teaching_area_m2", -5), fmt="shp"),)),
        Case("schools-shp-no-prj-lonlat", "warned", (("schools.shp", "schools.prj"), "prj"),
             (edit_layer("schools", short_fields, fmt="shp"), delete_files("schools.prj"))),
        Case("schools-shp-gbk-chinese-headers", "accepted", (),
             (edit_layer("schools", keep_columns(*SCHOOLS_ZH), zh_schools, fmt="shp", encoding="GBK"),)),
        *[Case(f"schools-payload-name-{i}", "accepted", (),
               one(set_cell("schools", "P0" + str(i + 1), "name", p), set_cell("schools", "J04", "address", p)))
          for i, p in enumerate(PAYLOADS)],
        Case("schools-payload-formula-name-csv", "accepted", (),
             (edit_layer("schools", set_cell("schools", "P05", "name", '=HYPERLINK("http://example.com","点此")'),
                         fmt="csv"),)),
        Case("schools-level-chinese", "accepted", (), one(set_cell("schools", "N01", "level", "九年一贯制"))),
    ]


def _unit_format_cases() -> list[Case]:
    cases = []
    for fmt in FORMATS:
        f = _fmt_file("units", fmt)
        cases += [
            Case(f"units-duplicate-id-{fmt}", "rejected", (f, "unit_id", "C001"),
                 (_layer_defect("units", fmt, duplicate_id("units", "C001", "C002")),)),
            Case(f"units-unknown-current-school-{fmt}", "rejected", (f, "P99", ("primary_school", "小学")),
                 (_layer_defect("units", fmt, set_cell("units", "C010", "primary_school", "P99")),)),
            Case(f"units-negative-pupils-{fmt}", "rejected", (f, "C003", ("students_g3", "g3")),
                 (_layer_defect("units", fmt, set_cell("units", "C003", "students_g3", -7)),)),
        ]
    for fmt in ("geojson", "gpkg", "csv", "xlsx"):
        f = _fmt_file("units", fmt)
        cases += [
            Case(f"units-pupils-1e12-{fmt}", "rejected", (f, "students_g1", "C004"),
                 (_layer_defect("units", fmt, set_cell("units", "C004", "students_g1", 1e12)),)),
            Case(f"units-blank-pupils-{fmt}", "warned", (f, "students_g2", "C005"),
                 (_layer_defect("units", fmt, set_cell("units", "C005", "students_g2", None)),)),
            Case(f"units-text-pupils-{fmt}", "rejected", (f, "students_g4", "C006"),
                 (_layer_defect("units", fmt, set_cell("units", "C006", "students_g4", "十二人")),)),
            Case(f"units-blank-current-school-{fmt}", "accepted", (),
                 (_layer_defect("units", fmt, set_cell("units", "C007", "primary_school", None)),)),
            Case(f"units-missing-unit-id-{fmt}", "rejected", (f, "unit_id"),
                 (_layer_defect("units", fmt, drop_columns("unit_id")),)),
        ]
    for fmt in ("geojson", "gpkg", "shp"):
        f = _fmt_file("units", fmt)
        cases += [
            Case(f"units-overlap-identical-{fmt}", "warned", (f, "C011", "C012"),
                 (_layer_defect("units", fmt, set_geometry("units", "C012", same_as("units", "C011"))),)),
            Case(f"units-overlap-grown-250m-{fmt}", "warned", (f, "C020"),
                 (_layer_defect("units", fmt, set_geometry("units", "C020", buffered_m(250))),)),
        ]
    return cases


def _unit_cases() -> list[Case]:
    g = "units.geojson"
    def one(*t):
        return one_layer("units", *t)

    no_g = [f"students_g{k}" for k in range(1, 10)]
    return [
        Case("units-missing-file", "rejected", (("units", "片区单元"),), (delete_files(g),)),
        Case("units-geojson-0-bytes", "rejected", (g,), (write_bytes(g, b""),)),
        Case("units-geojson-no-features", "rejected", (g,),
             (write_bytes(g, b'{"type": "FeatureCollection", "features": []}'),)),
        Case("units-blank-both-schools", "accepted", (),
             one(set_cell("units", "C030", "primary_school", None), set_cell("units", "C030", "junior_school", None))),
        Case("units-fractional-pupils", "rejected", (g, "students_g5", "C008"),
             one(set_cell("units", "C008", "students_g5", 2.5))),
        Case("units-negative-age", "rejected", (g, "age_2", "C009"), one(set_cell("units", "C009", "age_2", -3))),
        Case("units-junior-zone-primary-school", "rejected", (g, "junior_school", "C013"),
             one(set_cell("units", "C013", "junior_school", "P01"))),
        Case("units-unknown-junior-school", "rejected", (g, "J99"), one(set_cell("units", "C014", "junior_school", "J99"))),
        Case("units-null-geometry", "rejected", (g, "C015"), one(set_geometry("units", "C015", lambda fr, old: None))),
        Case("units-polygon-in-america", "rejected", (g, "C016"), one(set_geometry("units", "C016", moved_by(-180, 2)))),
        Case("units-stray-county-polygon", "warned", (g, "Z999"),
             one(add_row({"unit_id": "Z999", "name": "误画的大面", "township": "城关镇", "primary_school": "P01",
                          "junior_school": "J04", **{c: 1 for c in no_g}}, covering_all))),
        Case("units-stray-county-polygon-households", "warned", (g, "Z999"),
             one(add_row({"unit_id": "Z999", "name": "误画的大面", "township": "城关镇", "primary_school": "P01",
                          "junior_school": "J04", **{c: 1 for c in no_g}}, covering_all)), base="full"),
        Case("units-overlap-households", "warned", (g, "C020"),
             one(set_geometry("units", "C020", buffered_m(250))), base="full"),
        Case("units-points-csv", "accepted", (), (edit_layer("units", units_as_points, fmt="csv"),)),
        Case("units-csv-gbk-chinese-headers", "accepted", (),
             (edit_layer("units", zh_units, fmt="csv", encoding="gbk"),)),
        Case("units-xlsx-title-row", "accepted", (), (edit_layer("units", fmt="xlsx", title="城关镇小区名单"),)),
        Case("units-xlsx-formula-pupils", "rejected", ("units.xlsx", "students_g1"),
             (edit_layer("units", fmt="xlsx", formulas=unit_formulas("students_g1")),)),
        Case("units-shp-full-names-ambiguous", "rejected", (("units.shp", "units.dbf"), "students_g"),
             (edit_layer("units", fmt="shp"),)),
        Case("units-shp-totals-cut-unambiguous", "accepted", (),
             (edit_layer("units", _to_totals, drop_columns(*no_g), fmt="shp"),)),
        Case("units-shp-cut-zone-unknown-school", "rejected",
             (("units.shp", "units.dbf"), "P99", ("primary_sc", "primary_school")),
             (edit_layer("units", _to_totals, drop_columns(*no_g),
                         set_cell("units", "C017", "primary_school", "P99"), fmt="shp"),)),
        Case("units-shp-gbk-chinese-headers", "accepted", (), (edit_layer("units", zh_units, fmt="shp", encoding="GBK"),)),
        Case("units-shp-gbk-no-cpg", "accepted", (),
             (edit_layer("units", zh_units, fmt="shp", encoding="GBK"), delete_files("units.cpg"))),
        Case("units-shp-utm-no-prj", "rejected", (("units.shp", "units.prj"), "prj"),
             (edit_layer("units", to_crs(UTM), short_fields, fmt="shp", encoding="UTF-8"), delete_files("units.prj"))),
        Case("units-gpkg-utm", "accepted", (), (edit_layer("units", to_crs(UTM), fmt="gpkg"),)),
        *[Case(f"units-payload-name-{i}", "accepted", (),
               one(set_cell("units", "C02" + str(i), "name", p), set_cell("units", "C03" + str(i), "township", p)))
          for i, p in enumerate(PAYLOADS)],
    ]


def _to_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """students_primary/students_junior totals instead of grades (cut to students_p/students_j)."""
    frame = frame.copy()
    frame["students_primary"] = sum(frame[f"students_g{g}"].astype(int) for g in range(1, 7))
    frame["students_junior"] = sum(frame[f"students_g{g}"].astype(int) for g in range(7, 10))
    return frame


def _other_input_cases() -> list[Case]:
    h, p, r = "households.csv", "plan.csv", "roster.csv"
    return [
        Case("households-duplicate-id", "accepted", (),  # siblings share their household_id (SPEC §2)
             (edit_layer("households", duplicate_id("households", "H000001", "H000002")),), base="full"),
        Case("households-birth-date-text", "rejected", (h, "birth_date", "H000003"),
             (edit_layer("households", set_cell("households", "H000003", "birth_date", "明年春天")),), base="full"),
        Case("households-birth-1800", "rejected", (h, "birth_date", "H000004"),
             (edit_layer("households", set_cell("households", "H000004", "birth_date", "1800-01-01")),), base="full"),
        Case("households-grade-12", "rejected", (h, "grade", "H000005"),
             (edit_layer("households", set_cell("households", "H000005", "grade", "12")),), base="full"),
        Case("households-missing-lonlat", "rejected", (h, ("lon", "经度")),
             (edit_layer("households", drop_columns("lon")),), base="full"),
        Case("households-0-bytes", "warned", (h,), (write_bytes(h, b""),), base="full"),
        Case("plan-unknown-school", "rejected", (p, "P99"),
             (edit_layer("plan", set_cell("plan", "J04", "school_id", "P99")),), base="full"),
        Case("plan-text-students", "rejected", (p, "planned_students"),
             (edit_layer("plan", set_cell("plan", "J05", "planned_students", "三百七十")),), base="full"),
        Case("plan-year-1800", "rejected", (p, "year"),
             (edit_layer("plan", set_cell("plan", "J04", "year", "1800")),), base="full"),
        Case("plan-missing-school-id", "rejected", (p, "school_id"),
             (edit_layer("plan", drop_columns("school_id")),), base="full"),
        Case("plan-xlsx-title-row", "accepted", (), (edit_layer("plan", fmt="xlsx", title="2023年招生计划"),), base="full"),
        Case("roster-missing-student-id", "rejected", (r, "student_id"),
             (edit_layer("roster", drop_columns("student_id")),), base="full"),
        Case("barriers-0-bytes", "rejected", ("barriers.geojson",), (write_bytes("barriers.geojson", b""),), base="full"),
        Case("full-sample-unchanged", "accepted", (), (), base="full"),
        Case("empty-folder", "rejected", (("schools", "学校"), ("units", "片区单元")), (), base="empty"),
    ]


def all_cases() -> list[Case]:
    """Every case of the corpus, ids unique."""
    return [*_scenario_cases(), *_plan_cases(), *_school_format_cases(), *_school_cases(),
            *_unit_format_cases(), *_unit_cases(), *_other_input_cases()]
