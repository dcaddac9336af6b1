"""Check a data folder and collect every problem in one pass.

:func:`check_folder` reads every input (:mod:`geodata.readers`), checks and normalises each one
(types, ids, values, geometry), cross-checks them (zones, plan and roster schools, extents,
scenario), projects everything to the data's UTM zone and aggregates households into units. It
never stops at the first problem: each check runs on what could be read, and the result carries the
full list. :func:`validate_folder` returns just that list (``zoning validate``);
:func:`geodata.dataset.load_dataset` raises it as a :class:`~zoning.errors.DataError` when any is
an error.

Row numbers are 1-based data rows (the first row below the header is 1); problems of CSV and
XLSX files also carry the row as the spreadsheet shows it (``Problem.sheet_row``: header row and
any title rows above it counted) and the user's own header, which the report prints.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geodata import aggregate, aliases, coords as coords_mod, readers
from geodata.sample import sample_dir
from zoning.errors import Problem
from zoning import policy
from zoning.scenario import Scenario, ScenarioError, load_scenario

log = logging.getLogger(__name__)

FAR_KM = 50.0
YEAR_MIN, YEAR_MAX = 1900, 2100
#: A school closing before this year is no school of the data's time.
CLOSE_YEAR_MIN = 2000
#: Ceilings of plausible values (above them a value is a typing or unit error).
MAX_PUPILS_PER_GRADE = 5000      # pupils of one grade in one unit or school
MAX_CLASSES_PER_GRADE = 100
MAX_CLASSROOMS = 500
MAX_CAPACITY = 20_000
CLASS_LIMIT_RANGE = (10, 100)
SIZE_LIMIT_RANGE = (50, 20_000)
#: Pupils per class below which a grade's classes are implausibly many (classes > pupils/10 + 1).
MIN_PUPILS_PER_CLASS = 10
#: Overlaps of unit polygons smaller than both of these are drawing slack, not overlaps.
OVERLAP_MIN_M2 = 1.0
OVERLAP_MIN_SHARE = 0.01
#: An overlap above this share of the smaller unit (or one covering its centre) is an error.
OVERLAP_ERROR_SHARE = 0.5
INDICATOR_COLUMNS = list(policy.INDICATORS) + ["music_rooms", "art_rooms"]
#: Optional report items of SPEC §5.4 (funding, training, rotation), kept when given.
PLAN_ITEM_COLUMNS = ["public_funds_budget_yuan", "training_funds_yuan", "rotation_eligible_teachers",
                     "rotated_teachers", "rotated_backbone_teachers"]
LEVEL_FIX = "学段应为 primary、junior 或 nine_year（小学、初中、九年一贯制）"


@dataclass
class Checked:
    """Everything :func:`check_folder` found.

    Attributes
    ----------
    layers : dict
        Input name -> normalised frame (GeoDataFrames in :attr:`crs`; plan and roster plain).
    files : dict
        Input name -> path read.
    crs : pyproj.CRS or None
        The UTM CRS chosen from the data (None when no coordinates could be read).
    scenario : Scenario or None
        The folder's scenario (None when absent or invalid).
    scenario_path : Path or None
    base_year : int
    aggregation : Aggregation or None
        Households -> units, when households were given.
    problems : list of Problem
    """

    layers: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    crs: pyproj.CRS | None = None
    scenario: Scenario | None = None
    scenario_path: Path | None = None
    base_year: int = 2022
    aggregation: aggregate.Aggregation | None = None
    problems: list[Problem] = field(default_factory=list)
    enrollment_rule: str = "schools"
    shifted: list = field(default_factory=list)
    #: input name -> the :class:`geodata.readers.Layer` as read (spreadsheet rows, the user's headers)
    read: dict = field(default_factory=dict)


class _Report:
    """Problems of one file."""

    def __init__(self, file: str, problems: list[Problem], default_severity: str = "error",
                 layer: readers.Layer | None = None):
        self.file = file
        self.problems = problems
        self.default_severity = default_severity
        self.layer = layer

    def shown(self, row: int) -> int:
        """The number of data row ``row`` as the user's program shows it (for message text)."""
        sheet_row = self.layer.sheet_row(row) if self.layer is not None else None
        return row if sheet_row is None else sheet_row

    def add(self, row, id_, column, problem, fix, severity=None):
        severity = severity or self.default_severity
        self.problems.append(Problem(self.file, None if row is None else int(row), None if id_ is None else str(id_),
                                     column, problem, fix, severity))


# ----------------------------------------------------------------------------------------------
# value helpers


def _blank(v) -> bool:
    if v is None:
        return True
    try:
        if pd.isna(v):
            return True
    except (TypeError, ValueError):
        return False
    return str(v).strip() == ""


def id_text(v) -> str | None:
    """An id as text: None for blank, ``12.0`` -> ``"12"``, surrounding spaces removed."""
    if _blank(v):
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    s = str(v).strip()
    if re.fullmatch(r"-?\d+\.0+", s):
        s = s.split(".")[0]
    return s


def _obj(values, index) -> pd.Series:
    """An object column (None stays None; pandas 3 would turn a list of str/None into str + NaN)."""
    if values is None:
        values = [None] * len(index)
    return pd.Series(list(values), index=index, dtype=object)


def _lists(frame: pd.DataFrame) -> dict:
    """Columns as plain lists (row access by position is much faster than ``.at``)."""
    return {c: frame[c].tolist() for c in frame.columns if c != "geometry"}


def _text(series: pd.Series) -> pd.Series:
    return pd.Series([None if _blank(v) else str(v).strip() for v in series], index=series.index, dtype=object)


def _row_ids(frame: pd.DataFrame, col: str) -> pd.Series:
    if col in frame.columns:
        return pd.Series([id_text(v) for v in frame[col]], index=frame.index, dtype=object)
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _require(frame, cols, rep: _Report, what: str) -> bool:
    ok = True
    for col in cols:
        if col not in frame.columns:
            rep.add(None, None, col, f"缺少必填列 {col}（{what}）",
                    f"添加 {col} 列（或中文表头，如 {_zh_hint(col)}），或用 --mapping 对照文件指明", "error")
            ok = False
    return ok


def _zh_hint(col: str) -> str:
    for table in (*aliases.PER_INPUT.values(), aliases.COMMON):
        if col in table and table[col]:
            return "、".join(table[col][:2])
    return col


def _check_ids(frame, col, rep: _Report, label: str) -> pd.Series:
    ids = _row_ids(frame, col)
    if col not in frame.columns:
        return ids
    first: dict[str, int] = {}
    for i, v in ids.items():
        if v is None:
            rep.add(i + 1, None, col, f"{label}为空", f"每行都要填写{label}，且不能重复")
        elif v in first:
            rep.add(i + 1, v, col, f"{label}重复：“{v}”（第 {rep.shown(first[v])} 行已出现）", f"改为唯一的{label}，或删除重复行")
        else:
            first[v] = i + 1
    return ids


_NUM_SPACES = re.compile(r"\s")
#: a number written with thousands separators: 2,000 / 1,234,567 / 1，234.5 (full-width comma too)
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:[,，]\d{3})+(?:\.\d+)?")


def _numbers(frame, col, rep: _Report, ids, *, integer=True, positive=False, label=None) -> pd.Series:
    """Numeric column (float, NaN for blank) with problems for text, negative, fractional values."""
    label = label or col
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    raw = frame[col]
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        vals = raw.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(vals)
        bad = (~finite & ~np.isnan(vals)) | (finite & ((vals < 0) | (positive & (vals == 0))
                                                      | (integer & (vals != np.round(vals)))))
        if not bad.any():
            return pd.Series(vals, index=frame.index)
    out = np.full(len(frame), np.nan)
    converted = []
    for pos, (i, v) in enumerate(raw.items()):
        if _blank(v):
            continue
        try:
            x, separated = _number_text(v)
        except ValueError:
            rep.add(i + 1, ids[i], col, f"{label}不是数字：“{v}”", "只填阿拉伯数字，不要带单位或文字（如“45人”写作 45）")
            continue
        if not np.isfinite(x):
            rep.add(i + 1, ids[i], col, f"{label}不是有限数字：“{v}”", "填写实际数值")
            continue
        if x < 0 or (positive and x == 0):
            rep.add(i + 1, ids[i], col, f"{label}不能为{'负数' if x < 0 else '零'}：{v}",
                    "填写不小于 0 的数" if not positive else "填写大于 0 的数")
            continue
        if integer and not float(x).is_integer():
            rep.add(i + 1, ids[i], col, f"{label}应为整数：{v}", "人数、班数、教室数填整数")
            continue
        out[pos] = x
        if separated:
            converted.append((i + 1, str(v).strip(), f"{x:g}" if not x.is_integer() else str(int(x))))
    note_conversions(rep, col, converted, f"{label}（去掉千分位分隔符）")
    return pd.Series(out, index=frame.index)


def _number_text(v) -> tuple[float, bool]:
    """A cell as a number, and whether thousands separators were removed ("2,000", "1,234,567",
    "2 000"); a comma anywhere else ("1,5") is not a number (ValueError)."""
    if isinstance(v, (int, float, np.number)):
        return float(v), False
    text = str(v).strip()
    if _THOUSANDS.fullmatch(text):
        return float(text.replace(",", "").replace("，", "")), True
    squeezed = _NUM_SPACES.sub("", text)
    return float(squeezed), squeezed != text


def _grades(frame, rep: _Report, ids, col: str = "grade") -> pd.Series:
    """A grade column as offices write it (1, 一年级, 1年级, 初一, 七年级) as numbers (NaN where
    blank or unreadable, reported); words converted are counted in one note."""
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    out = np.full(len(frame), np.nan)
    converted = []
    for pos, (i, v) in enumerate(frame[col].items()):
        if _blank(v):
            continue
        g, was_word = aliases.grade_number(v)
        if g is None:
            rep.add(i + 1, ids[i], col, f"年级无法识别：“{v}”", "填写 1–9，或 一年级…六年级、初一…初三（七年级…九年级）")
            continue
        out[pos] = g
        if was_word:
            converted.append((i + 1, str(v).strip(), g))
    note_conversions(rep, col, converted, "年级")
    return pd.Series(out, index=frame.index)


def note_conversions(rep: _Report, col: str, converted: list, what: str) -> None:
    """One note counting the values converted in a column (row, text as written, value used)."""
    if not converted:
        return
    kinds = sorted({f"“{t}”→{g}" for _, t, g in converted})
    rows = "、".join(str(rep.shown(r)) for r, _, _ in converted[:5]) + ("…" if len(converted) > 5 else "")
    rep.add(None, None, col, f"{what}：{len(converted)} 处按常用写法转换（{'，'.join(kinds[:6])}"
            f"{'…' if len(kinds) > 6 else ''}；第 {rows} 行）", "核对转换结果；无需修改", "info")


def _blank_cells(frame, col) -> np.ndarray:
    """True where column ``col`` is present and the cell is empty."""
    if col not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return np.array([_blank(v) for v in frame[col].tolist()], dtype=bool)


def _above(values: pd.Series, ceiling: float, rep: _Report, ids, col: str, label: str, fix: str) -> pd.Series:
    """Values above ``ceiling`` reported as errors and set to NaN."""
    over = (values > ceiling).to_numpy()
    for pos in np.flatnonzero(over):
        i = values.index[pos]
        rep.add(i + 1, ids[i], col, f"{label}为 {values.iat[pos]:,.0f}，超过合理上限 {ceiling:,}", fix)
    return values.mask(over)


def _years(frame, col, rep: _Report, ids, label) -> pd.Series:
    out = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    if col not in frame.columns:
        return out
    for i, v in frame[col].items():
        if _blank(v):
            continue
        s = str(v).strip()
        m = re.fullmatch(r"(\d{4})(?:\.0+|年)?", s)
        year = int(m.group(1)) if m else None
        if year is None or not YEAR_MIN <= year <= YEAR_MAX:
            rep.add(i + 1, ids[i], col, f"{label}不是有效年份：“{v}”", "填写四位年份，例如 2023")
            continue
        out[i] = year
    return out


_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]?\s*(\d{1,2})?\s*[-/.月]?\s*(\d{1,2})?\s*日?(?:[ T].*)?$")


def parse_birth(value) -> tuple[int | None, int | None, int | None] | None:
    """(year, month, day) of a birth date such as 2016-05-03, 2016/5/3, 20160503, 2016年5月;
    None when it cannot be read."""
    if _blank(value):
        return (None, None, None)
    s = str(value).strip()
    if re.fullmatch(r"\d{8}", s):
        y, m, d = int(s[:4]), int(s[4:6]), int(s[6:])
    else:
        mt = _DATE.match(s)
        if not mt:
            return None
        y = int(mt.group(1))
        m = int(mt.group(2)) if mt.group(2) else None
        d = int(mt.group(3)) if mt.group(3) else None
    if not YEAR_MIN <= y <= YEAR_MAX or (m is not None and not 1 <= m <= 12) or (d is not None and not 1 <= d <= 31):
        return None
    return (y, m, d)


# ----------------------------------------------------------------------------------------------
# geometry


_KINDS = {
    "point": ({"Point"}, "点"),
    "line": ({"LineString", "MultiLineString"}, "线"),
    "areal": ({"Polygon", "MultiPolygon", "Point"}, "面（或点）"),
}


def _lonlat_problem(geom) -> str | None:
    """Why a WGS84 geometry's coordinates are impossible (None when they are fine)."""
    minx, miny, maxx, maxy = geom.bounds
    if -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90:
        return None
    if max(abs(minx), abs(maxx), abs(miny), abs(maxy)) > 1000:
        return "坐标像是以米为单位的投影坐标，却没有声明坐标系（Shapefile 缺少 .prj 文件？）"
    if -90 <= minx and maxx <= 90 and -180 <= miny and maxy <= 180:
        return "纬度超出 ±90°，经度和纬度可能填反了"
    return "坐标超出经纬度范围"


def _check_geometry(frame, rep: _Report, ids, kind: str, label: str) -> gpd.GeoSeries:
    """Check presence, type, coordinate range and validity; returns the usable geometries
    (None where unusable; invalid polygons repaired)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return gpd.GeoSeries([None] * len(frame), index=frame.index, crs=readers.WGS84)
    allowed, kind_zh = _KINDS[kind]
    out = []
    for i, g in frame.geometry.items():
        if g is None or g.is_empty:
            rep.add(i + 1, ids[i], "geometry", f"{label}没有几何（坐标或范围为空）",
                    "补全经纬度或范围；点数据填 lon/lat（经度/纬度）两列")
            out.append(None)
            continue
        why = _lonlat_problem(g)
        if why:
            rep.add(i + 1, ids[i], "geometry", f"{why}（{g.bounds[0]:.4g}, {g.bounds[1]:.4g}）",
                    "经度在前、纬度在后（平罗约为 106.5, 38.9）；投影坐标请用带坐标系的 shp/gpkg")
            out.append(None)
            continue
        gtype = g.geom_type
        if kind == "line" and gtype == "Polygon":
            g = g.boundary
            gtype = g.geom_type
        if gtype == "MultiPoint" and kind in ("point", "areal") and len(g.geoms) == 1:
            g = g.geoms[0]
            gtype = "Point"
        if gtype not in allowed:
            if kind == "point" and gtype in ("Polygon", "MultiPolygon"):
                rep.add(i + 1, ids[i], "geometry", f"{label}应为{kind_zh}，却是{gtype}；已取面内一点代替",
                        "学校用点表示（校门或教学楼位置）", "warning")
                g = g.representative_point()
            else:
                rep.add(i + 1, ids[i], "geometry", f"{label}的几何类型应为{kind_zh}，却是 {gtype}",
                        f"改为{kind_zh}数据")
                out.append(None)
                continue
        if gtype in ("Polygon", "MultiPolygon") and not g.is_valid:
            reason = shapely.is_valid_reason(g)
            fixed = shapely.make_valid(g)
            if fixed.geom_type == "GeometryCollection":
                polys = [p for p in fixed.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
                fixed = shapely.union_all(polys) if polys else None
            if fixed is None or fixed.is_empty:
                rep.add(i + 1, ids[i], "geometry", f"{label}的范围无效且无法修复（{reason}）", "重新绘制该范围")
                out.append(None)
                continue
            rep.add(i + 1, ids[i], "geometry", f"{label}的范围自相交或无效（{reason}），已自动修复",
                    "在 GIS 软件中检查并重新绘制该范围", "warning")
            g = fixed
        out.append(g)
    return gpd.GeoSeries(out, index=frame.index, crs=readers.WGS84)


# ----------------------------------------------------------------------------------------------
# per-input checks


def check_schools(layer: readers.Layer, problems: list[Problem]) -> gpd.GeoDataFrame:
    """Check and normalise the schools input (SPEC §2)."""
    f = layer.frame
    F = _lists(f)
    rep = _Report(layer.file, problems, layer=layer)
    _require(f, ["school_id", "name", "level"], rep, "学校代码、学校名称、学段")
    if not isinstance(f, gpd.GeoDataFrame):
        _require(f, ["lon", "lat"], rep, "学校位置的经度、纬度")
    ids = _check_ids(f, "school_id", rep, "学校代码")
    out = pd.DataFrame({"school_id": ids}, index=f.index)
    names = _text(f["name"]) if "name" in f.columns else pd.Series([None] * len(f), index=f.index, dtype=object)
    for i, v in names.items():
        if v is None and "name" in f.columns:
            rep.add(i + 1, ids[i], "name", "学校名称为空", "填写学校名称（如 城关八小）")
    out["name"] = [n if n is not None else (ids[i] or "") for i, n in names.items()]
    levels = []
    for i in f.index:
        raw = F["level"][i] if "level" in f.columns else None
        lv = aliases.normalise_value(raw, aliases.LEVEL_VALUES)
        if lv is None and "level" in f.columns:
            rep.add(i + 1, ids[i], "level", f"学段取值未知：“{'' if _blank(raw) else raw}”", LEVEL_FIX)
        levels.append(lv)
    out["level"] = _obj(levels, f.index)
    out["classrooms"] = _above(_numbers(f, "classrooms", rep, ids, label="教室数"), MAX_CLASSROOMS, rep, ids,
                               "classrooms", "教室数", "填写普通教室的间数（不是面积或人数）")
    out["capacity"] = _above(_numbers(f, "capacity", rep, ids, label="学位数"), MAX_CAPACITY, rep, ids,
                             "capacity", "学位数", "填写学校的学位数（可容纳学生人数）")
    for i in f.index:
        if np.isnan(out["classrooms"].iat[i]) and np.isnan(out["capacity"].iat[i]) and not any(
                c in f.columns and not _blank(F[c][i]) for c in ("classrooms", "capacity")):
            rep.add(i + 1, ids[i], "classrooms", "教室数和学位数都没有填写", "至少填写教室数（classrooms）或学位数（capacity）之一")
    out["open_year"] = _years(f, "open_year", rep, ids, "开办年份")
    out["close_year"] = _years(f, "close_year", rep, ids, "停办年份")
    for i in f.index:
        o, c = out["open_year"].iat[i], out["close_year"].iat[i]
        if not pd.isna(o) and not pd.isna(c) and c <= o:
            rep.add(i + 1, ids[i], "close_year", f"停办年份 {c} 不晚于开办年份 {o}", "核对开办、停办年份")
    for i in f.index:
        c = out["close_year"].iat[i]
        if not pd.isna(c) and c < CLOSE_YEAR_MIN:
            rep.add(i + 1, ids[i], "close_year", f"停办年份 {c} 早于 {CLOSE_YEAR_MIN} 年",
                    f"填写计划停办的年份（{CLOSE_YEAR_MIN}–{YEAR_MAX}）；已停办的学校从学校表中删除")
    read = {}  # count columns with NaN where blank or invalid
    for g in range(1, 10):
        for prefix, label, ceiling in (("enrolled_g", f"{g} 年级在校生", MAX_PUPILS_PER_GRADE),
                                       ("classes_g", f"{g} 年级班数", MAX_CLASSES_PER_GRADE)):
            col = f"{prefix}{g}"
            vals = _above(_numbers(f, col, rep, ids, label=label), ceiling, rep, ids, col, label,
                          "核对该数（是否多打了几位，或填成了全校合计）")
            read[col] = vals
            out[col] = vals.fillna(0).astype("int64")
    for col, label, (lo, hi) in (("size_limit", "校额上限", SIZE_LIMIT_RANGE),
                                 ("class_limit", "班额上限", CLASS_LIMIT_RANGE)):
        vals = _numbers(f, col, rep, ids, positive=True, label=label)
        odd = (vals < lo) | (vals > hi)
        for pos in np.flatnonzero(odd.to_numpy()):
            i = f.index[pos]
            rep.add(i + 1, ids[i], col, f"{label} {vals.iat[pos]:g} 不合理（应在 {lo}–{hi} 之间）",
                    "留空则使用国家标准（班额小学 45、初中 50；校额 2000，九年一贯制 2500）")
        out[col] = vals.mask(odd)
    check_school_plausibility(f, out, pd.DataFrame(read, index=f.index), rep, ids)
    out["address"] = [a or "" for a in _text(f["address"])] if "address" in f.columns else ""
    for col in INDICATOR_COLUMNS + PLAN_ITEM_COLUMNS:
        if col in f.columns:
            integer = col in ("teachers_above_degree", "backbone_teachers", "pe_art_teachers",
                              "multimedia_classrooms", "music_rooms", "art_rooms")
            out[col] = _numbers(f, col, rep, ids, integer=integer, label=policy.INDICATOR_NAMES.get(col, col))
    geoms = _check_geometry(f, rep, ids, "point", "学校位置")
    return gpd.GeoDataFrame(out, geometry=geoms.values, crs=readers.WGS84)


def check_school_plausibility(f: pd.DataFrame, out: pd.DataFrame, counts: pd.DataFrame, rep: _Report, ids) -> None:
    """Enrollment and classes against the school's level, each other and its classrooms.

    ``f`` is the school table as read (to tell a blank cell from a 0), ``out`` the normalised one,
    ``counts`` its enrolled/classes columns with NaN where blank or invalid (not compared).
    """
    enrolled_given = [f"enrolled_g{g}" in f.columns for g in range(1, 10)]
    classes_given = [f"classes_g{g}" in f.columns for g in range(1, 10)]
    blank = {c: _blank_cells(f, c) for g in range(1, 10) for c in (f"enrolled_g{g}", f"classes_g{g}")}
    usable = counts.notna().to_numpy()
    col_pos = {c: k for k, c in enumerate(counts.columns)}
    enrolled = out[[f"enrolled_g{g}" for g in range(1, 10)]].to_numpy()
    classes = out[[f"classes_g{g}" for g in range(1, 10)]].to_numpy()
    for pos, i in enumerate(f.index):
        level = out["level"].iat[pos]
        taught = policy.SCHOOL_GRADES.get(level, range(1, 10))
        for g in range(1, 10):
            n, k = int(enrolled[pos, g - 1]), int(classes[pos, g - 1])
            if g not in taught and (n or k):
                col = f"enrolled_g{g}" if n else f"classes_g{g}"
                what = f"{n} 名在校生" if n else f"{k} 个班"
                rep.add(i + 1, ids[i], col, f"{policy.LEVEL_NAMES_ZH[level]}没有 {g} 年级，却填了 {what}",
                        "核对学段或该列（不教的年级填 0 或留空）")
                continue
            if g not in taught:
                continue
            if enrolled_given[g - 1] and blank[f"enrolled_g{g}"][pos] and _row_has_any(blank, "enrolled_g", pos):
                rep.add(i + 1, ids[i], f"enrolled_g{g}", f"{g} 年级在校生为空，按 0 人计算",
                        "填写该年级在校生人数（没有学生填 0）", "warning")
            if not (enrolled_given[g - 1] and classes_given[g - 1]) or not (
                    usable[pos, col_pos[f"enrolled_g{g}"]] and usable[pos, col_pos[f"classes_g{g}"]]):
                continue
            if k > n:
                rep.add(i + 1, ids[i], f"classes_g{g}", f"{g} 年级 {k} 个班，却只有 {n} 名在校生（班数多于学生数）",
                        "核对班数和在校生人数（是否两列填反或多打了数字）")
            elif k > n / MIN_PUPILS_PER_CLASS + 1:
                rep.add(i + 1, ids[i], f"classes_g{g}",
                        f"{g} 年级 {k} 个班只有 {n} 名在校生（平均每班不到 {MIN_PUPILS_PER_CLASS} 人）",
                        "核对班数和在校生人数", "warning")
        total_classes = int(classes[pos].sum())
        rooms, seats = out["classrooms"].iat[pos], out["capacity"].iat[pos]
        if not np.isnan(rooms) and rooms > 0 and total_classes > rooms:
            rep.add(i + 1, ids[i], "classrooms", f"全校 {total_classes} 个班，只有 {int(rooms)} 间教室",
                    "核对教室数（普通教室间数）和各年级班数", "warning")
        pupils = int(enrolled[pos].sum())
        if pupils and (np.isnan(rooms) or rooms == 0) and (np.isnan(seats) or seats == 0) \
                and not (np.isnan(rooms) and np.isnan(seats)):
            rep.add(i + 1, ids[i], "classrooms", f"有 {pupils} 名在校生，但教室数为 0、没有学位数",
                    "填写教室数（普通教室间数）或学位数")


def _row_has_any(blank: dict, prefix: str, pos: int) -> bool:
    """True when the row has any non-blank cell in the ``prefix`` columns given."""
    return any(not b[pos] for c, b in blank.items() if c.startswith(prefix))


def check_units(layer: readers.Layer, problems: list[Problem], has_households: bool) -> gpd.GeoDataFrame:
    """Check and normalise the units input (SPEC §2)."""
    f = layer.frame
    F = _lists(f)
    rep = _Report(layer.file, problems, layer=layer)
    _require(f, ["unit_id", "name"], rep, "单元代码、小区/村名称")
    ids = _check_ids(f, "unit_id", rep, "单元代码")
    out = pd.DataFrame({"unit_id": ids}, index=f.index)
    names = _text(f["name"]) if "name" in f.columns else pd.Series([None] * len(f), index=f.index, dtype=object)
    for i, v in names.items():
        if v is None and "name" in f.columns:
            rep.add(i + 1, ids[i], "name", "小区/村名称为空", "填写名称（招生片区划分表要列出它）")
    out["name"] = [n if n is not None else (ids[i] or "") for i, n in names.items()]
    out["township"] = [t or "" for t in _text(f["township"])] if "township" in f.columns else ""
    for col in ("aliases", "addresses"):  # optional text for the parents' search (别名、门牌范围)
        if col in f.columns:
            out[col] = [t or "" for t in _text(f[col])]
    grade_cols = [c for c in aggregate.GRADE_COLUMNS if c in f.columns]
    totals = [c for c in ("students_primary", "students_junior") if c in f.columns]
    if not grade_cols and not totals and not has_households:
        rep.add(None, None, "students_g1", "没有学生人数列（students_g1…g9 或 students_primary/students_junior）",
                "添加各年级人数列（如“一年级人数”），或提供住户/适龄儿童数据")
    for col in aggregate.GRADE_COLUMNS:
        g = col[-1]
        out[col] = _unit_counts(f, col, rep, ids, f"{g} 年级人数", MAX_PUPILS_PER_GRADE).fillna(0).astype("int64")
    _blank_unit_counts(f, rep, ids, has_households)
    for tcol, grades in (("students_primary", range(1, 7)), ("students_junior", range(7, 10))):
        if tcol not in f.columns:
            continue
        tot = _unit_counts(f, tcol, rep, ids, "小学生数" if tcol.endswith("primary") else "初中生数",
                           MAX_PUPILS_PER_GRADE * len(grades))
        cols = [f"students_g{g}" for g in grades]
        # an even split, fractions kept: every year's intake is total / grades, so the level keeps
        # exactly the pupils read in every year of the ledger (issue 17)
        out[cols] = out[cols].astype(float)
        for i in f.index:
            if np.isnan(tot[i]) or out.loc[i, cols].sum() > 0:
                continue
            out.loc[i, cols] = float(tot[i]) / len(cols)
        log.info("%s: 按 %s 总数平均分到各年级（有分年级人数的单元不变）", layer.file, tcol)
    for col in aggregate.AGE_COLUMNS:
        out[col] = _unit_counts(f, col, rep, ids, f"{col[-1]} 岁儿童数", MAX_PUPILS_PER_GRADE).fillna(0).astype("int64")
    for col in ("primary_school", "junior_school"):
        out[col] = _obj([id_text(v) for v in f[col]] if col in f.columns else None, f.index)
    geoms = _check_geometry(f, rep, ids, "areal", "片区单元")
    if not isinstance(f, gpd.GeoDataFrame):
        rep.add(None, None, "geometry", "片区单元没有范围或位置（没有几何列或 lon/lat 列）",
                "用 shp/gpkg/geojson 提供小区/村范围，或在表格中填经纬度")
    return gpd.GeoDataFrame(out, geometry=geoms.values, crs=readers.WGS84)


def _unit_counts(f, col, rep: _Report, ids, label: str, ceiling: int) -> pd.Series:
    """A unit's count column: a whole number, not negative, below ``ceiling`` (NaN when blank)."""
    return _above(_numbers(f, col, rep, ids, label=label), ceiling, rep, ids, col, label,
                  "核对该数（是否多打了几位，或填成了乡镇合计）")


def _blank_unit_counts(f, rep: _Report, ids, has_households: bool) -> None:
    """Empty pupil counts: never read as 0 in silence.

    An empty ``students_g<g>`` is an error unless the unit's level total (``students_primary`` /
    ``students_junior``) is given; with households the counts come from them (a warning). An empty
    ``age_<a>`` is a warning (ages are optional; it counts as 0).
    """
    totals = {"primary": _blank_cells(f, "students_primary") if "students_primary" in f.columns else None,
              "junior": _blank_cells(f, "students_junior") if "students_junior" in f.columns else None}
    for col in aggregate.GRADE_COLUMNS + aggregate.AGE_COLUMNS:
        blank = _blank_cells(f, col)
        if not blank.any():
            continue
        is_grade = col.startswith("students_g")
        if is_grade:
            total_blank = totals["primary" if int(col[-1]) <= 6 else "junior"]
            if total_blank is not None:
                blank = blank & total_blank
        label = f"{col[-1]} 年级人数" if is_grade else f"{col[-1]} 岁儿童数"
        severity = "error" if is_grade and not has_households else "warning"
        why = ("为空（不会当作 0 人）" if severity == "error"
               else "为空，按 0 人计算" + ("（有住户数据的单元按住户汇总）" if has_households else ""))
        for pos in np.flatnonzero(blank):
            i = f.index[pos]
            rep.add(i + 1, ids[i], col, f"{label}{why}", "填写人数；没有该年级（年龄）儿童的单元填 0", severity)


def check_households(layer: readers.Layer, problems: list[Problem]) -> gpd.GeoDataFrame:
    """Check and normalise households (one row per child). Personal data: never written out."""
    f = layer.frame
    F = _lists(f)
    rep = _Report(layer.file, problems, layer=layer)
    _require(f, ["household_id"], rep, "住户/儿童编号")
    if not isinstance(f, gpd.GeoDataFrame):
        _require(f, ["lon", "lat"], rep, "住址经度、纬度")
    if "birth_date" not in f.columns and "birth_year" not in f.columns and "grade" not in f.columns:
        rep.add(None, None, "birth_date", "缺少出生日期（birth_date）或出生年份（birth_year）列",
                "添加“出生日期”或“出生年份”列")
    # household_id names the household: several children of one family share it
    ids = _row_ids(f, "household_id")
    out = pd.DataFrame({"household_id": ids}, index=f.index)
    by, bm, bd = [], [], []
    has_birth_col = "birth_date" in f.columns or "birth_year" in f.columns
    for i in f.index:
        y = m = d = None
        bad = False
        if "birth_date" in f.columns and not _blank(F["birth_date"][i]):
            parsed = parse_birth(F["birth_date"][i])
            if parsed is None:
                bad = True
                rep.add(i + 1, ids[i], "birth_date", f"出生日期无法识别：“{F['birth_date'][i]}”",
                        "写作 2016-05-03 或 2016/5/3")
            else:
                y, m, d = parsed
        if y is None and "birth_year" in f.columns and not _blank(F["birth_year"][i]):
            parsed = parse_birth(F["birth_year"][i])
            if parsed is None or parsed[0] is None:
                bad = True
                rep.add(i + 1, ids[i], "birth_year", f"出生年份不是有效年份：“{F['birth_year'][i]}”",
                        "填写四位年份，例如 2016")
            else:
                y, bad = parsed[0], False
        has_grade = "grade" in f.columns and not _blank(F["grade"][i])
        if y is None and not bad and not has_grade and has_birth_col:
            rep.add(i + 1, ids[i], "birth_date", "出生日期和年级都为空，无法计入任何年级或年龄",
                    "填写出生日期（如 2016-05-03）；已在读的儿童填写年级")
        by.append(y)
        bm.append(m)
        bd.append(d)
    out["birth_year"] = pd.array(by, dtype="Int64")
    out["birth_month"] = pd.array(bm, dtype="Int64")
    out["birth_day"] = pd.array(bd, dtype="Int64")
    grade = _grades(f, rep, ids)
    for i, g in grade.items():
        if not np.isnan(g) and not 1 <= g <= 9:
            rep.add(i + 1, ids[i], "grade", f"年级应在 1–9 之间：{int(g)}", "义务教育年级填 1–9；未入学的儿童留空")
            grade[i] = np.nan
    out["grade"] = pd.array([None if np.isnan(g) else int(g) for g in grade], dtype="Int64")
    out["school_id"] = _obj([id_text(v) for v in f["school_id"]] if "school_id" in f.columns else None, f.index)
    geoms = _check_geometry(f, rep, ids, "point", "住址")
    return gpd.GeoDataFrame(out, geometry=geoms.values, crs=readers.WGS84)


def check_plan(layer: readers.Layer, problems: list[Problem]) -> pd.DataFrame:
    """Check and normalise the enrollment plan (招生计划)."""
    f = layer.frame
    F = _lists(f)
    rep = _Report(layer.file, problems, layer=layer)
    _require(f, ["school_id", "year", "grade"], rep, "学校代码、年份、年级")
    if "planned_classes" not in f.columns and "planned_students" not in f.columns:
        rep.add(None, None, "planned_classes", "缺少计划班数（planned_classes）和计划人数（planned_students）列",
                "至少填写计划班数或计划人数之一")
    ids = _row_ids(f, "school_id")
    for i, v in ids.items():
        if v is None and "school_id" in f.columns:
            rep.add(i + 1, None, "school_id", "学校代码为空", "每行填写学校代码")
    out = pd.DataFrame({"school_id": ids}, index=f.index)
    out["year"] = _years(f, "year", rep, ids, "年份")
    grade = _grades(f, rep, ids)
    for i, g in grade.items():
        if not np.isnan(g) and not 1 <= g <= 9:
            rep.add(i + 1, ids[i], "grade", f"年级应在 1–9 之间：{int(g)}", "招生年级通常为 1（小学）或 7（初中）")
            grade[i] = np.nan
    out["grade"] = pd.array([None if np.isnan(g) else int(g) for g in grade], dtype="Int64")
    for col, label in (("planned_classes", "计划班数"), ("planned_students", "计划人数")):
        vals = _numbers(f, col, rep, ids, label=label)
        out[col] = pd.array([None if np.isnan(v) else int(v) for v in vals], dtype="Int64")
    seen: dict[tuple, int] = {}
    for i in f.index:
        key = (out["school_id"].iat[i], out["year"].iat[i], out["grade"].iat[i])
        if key[0] is None or pd.isna(key[1]) or pd.isna(key[2]):
            continue
        if key in seen:
            rep.add(i + 1, key[0], None, f"同一学校、年份、年级的计划重复（第 {rep.shown(seen[key])} 行已有）", "合并或删除重复行")
        else:
            seen[key] = i + 1
    return out


def check_roster(layer: readers.Layer, problems: list[Problem]) -> pd.DataFrame:
    """Check and normalise the autumn roster (学籍 export).

    Row-level problems of a roster (duplicate or blank student ids, unknown entry, grade) are
    warnings: the roster is what the autumn check examines, and it reports them per pupil; only
    missing columns stop a run.
    """
    f = layer.frame
    F = _lists(f)
    rep = _Report(layer.file, problems, default_severity="warning", layer=layer)
    _require(f, ["student_id", "school_id", "grade"], rep, "学生编号、学校代码、年级")
    ids = _check_ids(f, "student_id", rep, "学生编号")
    out = pd.DataFrame({"student_id": ids}, index=f.index)
    out["school_id"] = _obj([id_text(v) for v in f["school_id"]] if "school_id" in f.columns else None, f.index)
    for i, v in out["school_id"].items():
        if v is None and "school_id" in f.columns:
            rep.add(i + 1, ids[i], "school_id", "学校代码为空", "填写学生就读学校的学校代码")
    grade = _grades(f, rep, ids)
    for i, g in grade.items():
        if not np.isnan(g) and not 1 <= g <= 9:
            rep.add(i + 1, ids[i], "grade", f"年级应在 1–9 之间：{int(g)}", "填写 1–9")
            grade[i] = np.nan
    out["grade"] = pd.array([None if np.isnan(g) else int(g) for g in grade], dtype="Int64")
    out["class_id"] = _obj([id_text(v) for v in f["class_id"]] if "class_id" in f.columns else None, f.index)
    entries = []
    for i in f.index:
        raw = F["entry"][i] if "entry" in f.columns else None
        if _blank(raw):
            entries.append(None)
            if "entry" in f.columns:
                rep.add(i + 1, ids[i], "entry", "入学方式为空", "填写 新生、转入 或 在读（new/transfer_in/continuing）")
            continue
        e = policy.entry_kind(raw)
        if e is None:
            rep.add(i + 1, ids[i], "entry", f"入学方式取值未知：“{raw}”", "填写 新生、转入 或 在读（new/transfer_in/continuing）")
        entries.append(e)
    out["entry"] = _obj(entries, f.index)
    out["unit_id"] = _obj([id_text(v) for v in f["unit_id"]] if "unit_id" in f.columns else None, f.index)
    out["entry_date"] = _text(f["entry_date"]) if "entry_date" in f.columns else _obj(None, f.index)
    if isinstance(f, gpd.GeoDataFrame):
        geoms = _check_geometry(f, rep, ids, "point", "家庭住址")
        out = gpd.GeoDataFrame(out, geometry=geoms.values, crs=readers.WGS84)
    return out


def check_lines(layer: readers.Layer, problems: list[Problem], label: str) -> gpd.GeoDataFrame:
    """Check barriers or roads (lines, optional name and kind)."""
    f = layer.frame
    F = _lists(f)
    rep = _Report(layer.file, problems, layer=layer)
    if not isinstance(f, gpd.GeoDataFrame):
        rep.add(None, None, "geometry", f"{label}没有几何（应为线数据）", f"用 shp/gpkg/geojson 提供{label}线")
    ids = _row_ids(f, "name")
    out = pd.DataFrame(index=f.index)
    out["name"] = [n or "" for n in _text(f["name"])] if "name" in f.columns else ""
    out["kind"] = [k or "" for k in _text(f["kind"])] if "kind" in f.columns else ""
    for col in ("oneway", "speed_kmh", "walk", "drive", "layer", "bridge", "tunnel"):
        if col in f.columns:
            out[col] = f[col].to_numpy()
    geoms = _check_geometry(f, rep, ids, "line", label)
    return gpd.GeoDataFrame(out, geometry=geoms.values, crs=readers.WGS84)


def check_crossings(layer: readers.Layer, problems: list[Problem]) -> gpd.GeoDataFrame:
    """Check named crossings of barriers (points)."""
    f = layer.frame
    F = _lists(f)
    rep = _Report(layer.file, problems, layer=layer)
    ids = _row_ids(f, "name")
    out = pd.DataFrame(index=f.index)
    out["name"] = [n or "" for n in _text(f["name"])] if "name" in f.columns else ""
    out["kind"] = [k or "" for k in _text(f["kind"])] if "kind" in f.columns else ""
    if "barrier" in f.columns:
        out["barrier"] = [n or "" for n in _text(f["barrier"])]
    geoms = _check_geometry(f, rep, ids, "point", "通道")
    return gpd.GeoDataFrame(out, geometry=geoms.values, crs=readers.WGS84)


# ----------------------------------------------------------------------------------------------
# cross checks


def choose_crs(layers: dict) -> pyproj.CRS | None:
    """UTM zone from the units' (else the schools') WGS84 positions."""
    for name in ("units", "schools", "households"):
        g = layers.get(name)
        if g is None or not isinstance(g, gpd.GeoDataFrame):
            continue
        geoms = g.geometry[g.geometry.notna()].to_numpy()
        if len(geoms):
            c = shapely.centroid(geoms)
            return coords_mod.utm_crs_for(shapely.get_x(c), shapely.get_y(c))
    return None


def _core_box(units_m: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    geoms = units_m.geometry[units_m.geometry.notna()].to_numpy()
    if not len(geoms):
        return None
    c = shapely.centroid(geoms)
    x, y = shapely.get_x(c), shapely.get_y(c)
    mx, my = np.median(x), np.median(y)
    core = np.hypot(x - mx, y - my) <= 100_000
    b = shapely.total_bounds(geoms[core])
    return tuple(b)


def check_extents(layers: dict, crs: pyproj.CRS, files: dict, problems: list[Problem]) -> None:
    """Units, schools and crossings more than FAR_KM beyond the units' extent (swapped lon/lat,
    wrong CRS). Offending geometries are set to None so later steps do not use them."""
    ref = layers.get("units")
    if ref is None or ref.geometry.notna().sum() == 0:
        ref = layers.get("schools")
    if ref is None or ref.geometry.notna().sum() == 0:
        return
    box = _core_box(ref.to_crs(crs))
    if box is None:
        return
    pad = FAR_KM * 1000
    minx, miny, maxx, maxy = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    to_m = pyproj.Transformer.from_crs(readers.WGS84, crs, always_xy=True)
    for name, idcol, label in (("units", "unit_id", "片区单元"), ("schools", "school_id", "学校"),
                               ("crossings", "name", "通道")):
        g = layers.get(name)
        if g is None:
            continue
        rep = _Report(files[name].name, problems)
        for i, geom in g.geometry.items():
            if geom is None:
                continue
            p = geom.representative_point() if geom.geom_type != "Point" else geom
            x, y = to_m.transform(p.x, p.y)
            if minx <= x <= maxx and miny <= y <= maxy:
                continue
            d_km = max(minx - x, x - maxx, miny - y, y - maxy, 0) / 1000 + FAR_KM
            sx, sy = to_m.transform(p.y, p.x) if abs(p.x) <= 90 else (np.inf, np.inf)
            if minx <= sx <= maxx and miny <= sy <= maxy:
                why = "经度和纬度填反了"
            else:
                why = "坐标或坐标系可能有误（GCJ-02/BD-09 偏移只有几百米，不会这么远）"
            rep.add(i + 1, g.at[i, idcol] or None, "geometry",
                    f"{label}位置在其他数据范围之外约 {d_km:.0f} 公里：{why}（{p.x:.5f}, {p.y:.5f}）",
                    "核对经纬度（平罗约为经度 106.5、纬度 38.9）及文件的坐标系")
            g.at[i, "geometry"] = None


def check_overlaps(units: gpd.GeoDataFrame, file: str) -> list[Problem]:
    """Overlapping unit polygons (units in a metric CRS, index 0..n-1 = data rows).

    A child in an overlap would belong to two units (aggregation places it in the smaller one,
    :mod:`geodata.aggregate`). An overlap of more than :data:`OVERLAP_MIN_M2` and
    :data:`OVERLAP_MIN_SHARE` of the smaller unit is a warning; one over
    :data:`OVERLAP_ERROR_SHARE` of the smaller unit, or covering its centre, is an error (a stray
    or duplicated polygon). One problem per pair, on the smaller unit's row.
    """
    geoms = units.geometry.to_numpy()
    areal = np.array([g is not None and g.geom_type in ("Polygon", "MultiPolygon") for g in geoms], dtype=bool)
    pos = np.flatnonzero(areal)
    if len(pos) < 2:
        return []
    polys = geoms[pos]
    left, right = shapely.STRtree(polys).query(polys, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return []
    a, b = polys[left], polys[right]
    shared = shapely.area(shapely.intersection(a, b))
    area_a, area_b = shapely.area(a), shapely.area(b)
    a_small = area_a <= area_b
    small_geom = np.where(a_small, a, b)
    big_geom = np.where(a_small, b, a)
    centre = shapely.centroid(small_geom)
    covers_centre = shapely.covers(big_geom, centre) & shapely.covers(small_geom, centre)
    share = shared / np.maximum(np.minimum(area_a, area_b), 1e-9)
    worth = (shared > OVERLAP_MIN_M2) & (share > OVERLAP_MIN_SHARE)
    error = worth & ((share > OVERLAP_ERROR_SHARE) | covers_centre)
    uid = units["unit_id"].tolist()
    out = []
    for k in np.flatnonzero(worth):
        small, big = (left[k], right[k]) if a_small[k] else (right[k], left[k])
        i, j = int(pos[small]), int(pos[big])
        detail = f"重叠 {shared[k]:,.0f} 平方米，占“{uid[i]}”面积的 {share[k]:.0%}"
        if covers_centre[k]:
            detail += "，覆盖了它的中心"
        fix = ("删除或重画误画/重复的范围，使相邻小区/村共用边界、互不重叠" if error[k]
               else "在 GIS 软件中修整边界，使相邻单元共用边界、互不重叠")
        out.append(Problem(file, i + 1, uid[i], "geometry",
                           f"片区单元“{uid[i]}”与“{uid[j]}”范围重叠：{detail}；"
                           f"重叠处的儿童只计入较小的单元",
                           fix, "error" if error[k] else "warning"))
    return out


def resolve_school_names(layers: dict, files: dict, problems: list[Problem], raw: dict | None = None) -> None:
    """School references written as names (对口小学 = 城关七小) turned into school codes.

    A value that is a school code stays; one that is exactly one school's name becomes its code
    (counted in one note per column); a name two schools share is an error naming both. Applies to
    the units' zone columns and the school columns of plan, roster and households.
    """
    schools = layers.get("schools")
    if schools is None:
        return
    ids = {sid for sid in schools["school_id"] if sid is not None}
    by_name: dict[str, list[str]] = {}
    for sid, name in zip(schools["school_id"], schools["name"]):
        if sid is not None and name:
            by_name.setdefault(str(name).strip(), []).append(sid)
    for name, cols in (("units", ("primary_school", "junior_school")), ("plan", ("school_id",)),
                       ("roster", ("school_id",)), ("households", ("school_id",))):
        frame = layers.get(name)
        if frame is None or name not in files:
            continue
        rep = _Report(files[name].name, problems, layer=(raw or {}).get(name))
        idcol = {"units": "unit_id", "plan": "school_id", "roster": "student_id", "households": "household_id"}[name]
        row_ids = frame[idcol].tolist() if idcol in frame.columns else [None] * len(frame)
        for col in cols:
            if col not in frame.columns:
                continue
            values = frame[col].tolist()
            converted = []
            for k, v in enumerate(values):
                if v is None or v in ids or v not in by_name:
                    continue
                hits = by_name[v]
                if len(hits) > 1:
                    rep.add(k + 1, row_ids[k], col, f"学校名称“{v}”对应多所学校：{'、'.join(hits)}",
                            "改填学校代码，或在学校表中把重名的学校改成不同的名称")
                    continue
                values[k] = hits[0]
                converted.append((k + 1, v, hits[0]))
            if converted:
                frame[col] = _obj(values, frame.index)
                note_conversions(rep, col, converted, "学校名称转换为学校代码")


def check_references(layers: dict, files: dict, problems: list[Problem]) -> None:
    """Zones, plan, roster and households that name schools or units that do not exist."""
    schools = layers.get("schools")
    level_of = {}
    if schools is not None:
        level_of = {sid: lv for sid, lv in zip(schools["school_id"], schools["level"]) if sid is not None}
    units = layers.get("units")
    if units is not None and schools is not None:
        rep = _Report(files["units"].name, problems)
        for col, level in (("primary_school", "primary"), ("junior_school", "junior")):
            uids_list = units["unit_id"].tolist()
            for i, sid in enumerate(units[col].tolist()):
                if sid is None:
                    continue
                uid = uids_list[i]
                if sid not in level_of:
                    rep.add(i + 1, uid, col, f"现划片学校“{sid}”在学校表中不存在",
                            "填写学校表中的学校代码，或留空表示尚未划片")
                elif level_of[sid] is not None and level not in policy.SERVES[level_of[sid]]:
                    rep.add(i + 1, uid, col,
                            f"现划片学校“{sid}”是{policy.LEVEL_NAMES_ZH[level_of[sid]]}，不招收{policy.LEVEL_NAMES_ZH[level]}",
                            f"{col} 应填{policy.LEVEL_NAMES_ZH[level]}或九年一贯制学校的代码")
    unit_ids = set(units["unit_id"].dropna()) if units is not None else set()
    for name, severity in (("plan", "error"), ("roster", "warning"), ("households", "warning")):
        frame = layers.get(name)
        if frame is None or schools is None or "school_id" not in frame.columns:
            continue
        rep = _Report(files[name].name, problems)
        idcol = {"plan": "school_id", "roster": "student_id", "households": "household_id"}[name]
        row_ids = frame[idcol].tolist()
        grades = frame["grade"].tolist() if "grade" in frame.columns else [None] * len(frame)
        for i, sid in enumerate(frame["school_id"].tolist()):
            if sid is None:
                continue
            if sid not in level_of:
                rep.add(i + 1, row_ids[i], "school_id", f"学校代码“{sid}”在学校表中不存在",
                        "填写学校表中的学校代码", severity)
            elif name in ("plan", "roster") and not pd.isna(grades[i]):
                g = int(grades[i])
                lv = level_of[sid]
                if lv is not None and g not in policy.SCHOOL_GRADES[lv]:
                    rep.add(i + 1, row_ids[i], "grade",
                            f"学校“{sid}”是{policy.LEVEL_NAMES_ZH[lv]}，没有 {g} 年级", "核对学校代码或年级", severity)
    roster = layers.get("roster")
    if roster is not None and units is not None and "unit_id" in roster.columns:
        rep = _Report(files["roster"].name, problems)
        students = roster["student_id"].tolist()
        for i, uid in enumerate(roster["unit_id"].tolist()):
            if uid is not None and uid not in unit_ids:
                rep.add(i + 1, students[i], "unit_id", f"居住单元“{uid}”在片区单元表中不存在",
                        "填写片区单元表中的单元代码", "warning")


def check_scenario(scenario_path: Path | None, layers: dict, problems: list[Problem]) -> Scenario | None:
    """Load scenario.toml, turning ScenarioError into Problems; check its ids against the data."""
    if scenario_path is None:
        return None
    try:
        sc = load_scenario(scenario_path)
    except ScenarioError as exc:
        for item in exc.items:
            problems.append(Problem(scenario_path.name, item.line, None, item.key or None, item.text, item.need,
                                    sheet_row=item.line))
        return None
    schools = layers.get("schools")
    units = layers.get("units")
    sids = set(schools["school_id"].dropna()) if schools is not None else None
    uids = set(units["unit_id"].dropna()) if units is not None else None
    for uid, sid in sc.locks.items():
        if uids is not None and uid not in uids:
            problems.append(Problem(scenario_path.name, None, uid, "locks", f"锁定的片区单元“{uid}”不存在",
                                    "[locks] 中填写片区单元表里的单元代码"))
        if sids is not None and sid not in sids:
            problems.append(Problem(scenario_path.name, None, uid, "locks", f"锁定到的学校“{sid}”不存在",
                                    "[locks] 中填写学校表里的学校代码"))
    for key, table in (("schools.open", sc.open_schools), ("schools.close", sc.close_schools)):
        for sid in table:
            if sids is not None and sid not in sids:
                problems.append(Problem(scenario_path.name, None, sid, key, f"[{key}] 中的学校“{sid}”不存在",
                                        "填写学校表里的学校代码（新校也要先列入学校表）"))
    return sc


# ----------------------------------------------------------------------------------------------
# the whole folder


def check_folder(data_dir: str | Path, coords: str | None = None, mapping: str | Path | None = None,
                 base_year: int | None = None) -> Checked:
    """Read, check, normalise, project and aggregate a data folder, collecting every problem.

    Each problem of a CSV or XLSX file carries the row as the spreadsheet shows it
    (``Problem.sheet_row``) and the user's own header (``Problem.header``); see
    :func:`_check_folder` for the parameters.
    """
    raw: dict = {}
    checked = _check_folder(data_dir, coords, mapping, base_year, raw)
    checked.problems[:] = located_for_user(checked.problems, raw)
    checked.read = dict(raw)
    return checked


def located_for_user(problems: list[Problem], layers: dict) -> list[Problem]:
    """Problems with the spreadsheet row and the user's header filled in from the layers read.

    Parameters
    ----------
    problems : list of Problem
    layers : dict
        Input name -> :class:`geodata.readers.Layer`.
    """
    by_file = {layer.file: layer for layer in layers.values()}
    out = []
    for p in problems:
        layer = by_file.get(p.file)
        if layer is None:
            out.append(p)
            continue
        sheet_row = p.sheet_row if p.sheet_row is not None else layer.sheet_row(p.row)
        header = p.header if p.header is not None else layer.header_of(p.column)
        out.append(dataclasses.replace(p, sheet_row=sheet_row, header=header))
    return out


def _check_folder(data_dir: str | Path, coords: str | None, mapping: str | Path | None,
                  base_year: int | None, read: dict) -> Checked:
    """Read, check, normalise, project and aggregate a data folder, collecting every problem.

    Parameters
    ----------
    data_dir : path
        The data folder.
    coords : {None, "wgs84", "gcj02", "bd09"}
        System of longitude/latitude input.
    mapping : path, optional
        Column-mapping CSV (``file,source,target``).
    base_year : int, optional
        Overrides the scenario's base year (ages are taken on 31 August of it).
    read : dict
        Filled with the layers as read (input name -> Layer), for :func:`located_for_user`.

    Returns
    -------
    Checked
    """
    data_dir = Path(data_dir)
    raw, scenario_path, problems = readers.read_folder(data_dir, coords=coords, mapping=mapping)
    read.update(raw)
    files = {name: layer.path for name, layer in raw.items()}
    if not data_dir.is_dir():
        return Checked(problems=problems)
    present, _ = readers.find_inputs(data_dir)
    for name in ("schools", "units"):
        if name not in present:
            problems.append(Problem(f"{name}.*", None, None, None,
                                    f"缺少{aliases.INPUT_NAMES_ZH[name]}文件（必需）",
                                    f"放入 {name}.gpkg/.shp/.geojson/.csv/.xlsx（或中文名，如 "
                                    f"{aliases.FILE_STEMS[name][2]}.xlsx）"))
    for name, layer in list(raw.items()):
        if len(layer.frame) == 0:
            required = name in ("schools", "units")
            problems.append(Problem(layer.file, None, None, None, "文件没有数据行",
                                    "填入数据，或删除这个空文件" if not required else "填入数据（此文件必需）",
                                    "error" if required else "warning"))
            del raw[name]  # nothing to check in it (and an empty optional input is simply absent)
    layers: dict = {}
    if "schools" in raw:
        layers["schools"] = check_schools(raw["schools"], problems)
    if "units" in raw:
        layers["units"] = check_units(raw["units"], problems, has_households="households" in raw)
    if "households" in raw:
        layers["households"] = check_households(raw["households"], problems)
    if "plan" in raw:
        layers["plan"] = check_plan(raw["plan"], problems)
    if "roster" in raw:
        layers["roster"] = check_roster(raw["roster"], problems)
    for name, label in (("barriers", "障碍线"), ("roads", "道路")):
        if name in raw:
            layers[name] = check_lines(raw[name], problems, label)
    if "crossings" in raw:
        layers["crossings"] = check_crossings(raw["crossings"], problems)

    scenario = check_scenario(scenario_path, layers, problems)
    if base_year is None:
        base_year = scenario.base_year if scenario is not None else Scenario().base_year
    resolve_school_names(layers, files, problems, read)
    check_references(layers, files, problems)
    crs = choose_crs(layers)
    checked = Checked(layers=layers, files=files, crs=crs, scenario=scenario, scenario_path=scenario_path,
                      base_year=int(base_year), problems=problems)
    checked.shifted = [layer.file for layer in read.values() if layer.converted]
    problems.extend(coords_notes(read, coords))
    if crs is None:
        return checked
    check_extents(layers, crs, files, problems)
    problems.extend(offset_warnings(layers, files, crs))
    for name, frame in list(layers.items()):
        if isinstance(frame, gpd.GeoDataFrame):
            layers[name] = frame.to_crs(crs)
    if "units" in layers:
        problems.extend(check_overlaps(layers["units"], files["units"].name))
    shifted_tables = lonlat_offset_warning(read, layers, files, coords) if coords is None else None
    if shifted_tables is not None:
        problems.append(shifted_tables)
    if "households" in layers and "units" in layers and shifted_tables is None:
        agg = aggregate.aggregate_households(layers["households"], layers["units"], checked.base_year,
                                             files["households"].name)
        flagged = {(p.file, p.row) for p in problems if p.severity == "error"}
        problems.extend(p for p in agg.problems if (p.file, p.row) not in flagged)
        checked.aggregation = agg
        units, probs = aggregate.apply_aggregation(layers["units"], agg, files["units"].name)
        problems.extend(probs)
        layers["units"] = units
    roster = layers.get("roster")
    if isinstance(roster, gpd.GeoDataFrame) and "units" in layers:
        layers["roster"] = _roster_units(roster, layers["units"])
    if "schools" in layers and "units" in layers and "schools" in raw:
        given = any(str(c).startswith("enrolled_g") for c in raw["schools"].frame.columns)
        if not given:
            layers["schools"] = base_enrollment_from_zones(layers["schools"], layers["units"])
            checked.enrollment_rule = "zones"
            problems.append(Problem(files["schools"].name, None, None, "enrolled_g1", ENROLLMENT_FROM_ZONES,
                                    "如有各校各年级在校生数，填入 enrolled_g1…g9（一年级在校生…）列", "info"))
    return checked


ENROLLMENT_FROM_ZONES = ("学校表没有各年级在校生（enrolled_g1…g9）：各校基年在校生按现行片区内各单元的学生人数计算"
                         "（只给学段总数的单元平均分到该学段各年级）")


def base_enrollment_from_zones(schools: gpd.GeoDataFrame, units: pd.DataFrame) -> gpd.GeoDataFrame:
    """Each school's base-year enrollment = the pupils of its current zone (SPEC §2, issue 17).

    Grades 1–6 come from the units whose ``primary_school`` is the school, grades 7–9 from those
    whose ``junior_school`` is; a grade the school does not teach stays 0. Pupils of units with no
    current zone are in no school (:mod:`zoning.reconcile` names them).
    """
    out = schools.copy()
    for level, col, grades in (("primary", "primary_school", range(1, 7)), ("junior", "junior_school", range(7, 10))):
        zone = units[col] if col in units.columns else pd.Series([None] * len(units), index=units.index)
        for g in grades:
            sums = pd.to_numeric(units[f"students_g{g}"], errors="coerce").fillna(0).groupby(zone.to_numpy()).sum()
            teaches = [g in policy.SCHOOL_GRADES.get(lv, ()) for lv in out["level"]]
            vals = [float(sums.get(sid, 0.0)) if t else 0.0 for sid, t in zip(out["school_id"], teaches)]
            out[f"enrolled_g{g}"] = vals
    return out


def coords_notes(read: dict, coords: str | None) -> list[Problem]:
    """Which files ``--coords`` shifted, and which it left alone because they declare a CRS."""
    if coords not in ("gcj02", "bd09"):
        return []
    label = {"gcj02": "GCJ-02（高德/腾讯）", "bd09": "BD-09（百度）"}[coords]
    out = []
    for layer in read.values():
        if layer.converted:
            out.append(Problem(layer.file, None, None, None, f"经纬度按 {label} 转换为 WGS84",
                               "无需修改；这些坐标若本来就是 WGS84/CGCS2000，去掉 --coords", "info"))
        elif isinstance(layer.frame, gpd.GeoDataFrame):
            out.append(Problem(layer.file, None, None, None,
                               f"文件声明了坐标系，按其坐标系转换，未做 {label} 偏移", "无需修改", "info"))
    return out


#: A layer whose median offset from the others is in this range (metres) looks GCJ-02-shifted.
OFFSET_RANGE_M = (150.0, 1500.0)


def offset_warnings(layers: dict, files: dict, crs) -> list[Problem]:
    """Warn when schools sit a few hundred metres off the units they lie among (the GCJ-02
    signature: one layer from a web map, the other from a survey), or when the data lie outside China."""
    out = []
    units, schools = layers.get("units"), layers.get("schools")
    if units is None or schools is None:
        return out
    u = units.to_crs(crs).geometry
    s = schools.to_crs(crs).geometry
    u = u[u.notna()]
    s = s[s.notna()]
    if not len(u) or not len(s):
        return out
    lon, lat = shapely.get_x(shapely.centroid(units.geometry[units.geometry.notna()].to_numpy())), \
        shapely.get_y(shapely.centroid(units.geometry[units.geometry.notna()].to_numpy()))
    if not (73 <= np.median(lon) <= 135 and 18 <= np.median(lat) <= 54):
        out.append(Problem(files["units"].name, None, None, None,
                           f"数据位于中国境外（经度 {np.median(lon):.2f}，纬度 {np.median(lat):.2f}）",
                           "核对坐标系；若数据本就在境外可忽略（此时不要用 --coords）", "warning"))
        return out
    areal = u[u.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(areal) < 10:
        return out
    union = shapely.union_all(areal.to_numpy())
    d = shapely.distance(s.to_numpy(), union)
    inside = float(np.mean(d == 0))
    outside = d[d > 0]
    if inside < 0.5 and len(outside) and OFFSET_RANGE_M[0] <= np.median(outside) <= OFFSET_RANGE_M[1]:
        out.append(Problem(files["schools"].name, None, None, None,
                           f"学校点位与片区单元相差约 {np.median(outside):.0f} 米（只有 {inside:.0%} 的学校落在单元内），"
                           "像是 GCJ-02/BD-09 偏移：一个文件取自网络地图，另一个不是",
                           "取自高德/腾讯地图的经纬度加 --coords gcj02（百度加 bd09）；带坐标系的文件不会被偏移", "warning"))
    return out


#: Households placed after undoing a web-map offset must differ from the units' own counts by at
#: most this share of the difference as read for the tables to be called offset (GCJ-02 signature).
OFFSET_GAIN = 0.75


def _units_hit(points_lonlat: tuple, units_m: gpd.GeoDataFrame) -> np.ndarray:
    """The unit (row position) each lon/lat point lies in, -1 for none."""
    pts = gpd.GeoSeries(gpd.points_from_xy(*points_lonlat), crs=readers.WGS84).to_crs(units_m.crs).to_numpy()
    out = np.full(len(pts), -1)
    hit = shapely.STRtree(units_m.geometry.to_numpy()).query(pts, predicate="within")
    out[hit[0]] = hit[1]
    return out


def lonlat_offset_warning(read: dict, layers: dict, files: dict, coords=None) -> Problem | None:
    """One warning when the tables' longitude/latitude sit a few hundred metres off the GIS layers
    (the GCJ-02 / BD-09 signature of coordinates taken from a web map, read without ``--coords``).

    The test: the households (a table with lon/lat) placed into the units (a GIS layer declaring its
    CRS) as read, and again after undoing a GCJ-02 (or BD-09) offset; when undoing it brings the
    households per unit much closer to the units' own pupil and child counts (at most
    :data:`OFFSET_GAIN` of the difference as read), the tables are offset. Every table with lon/lat
    (schools, households, roster points) is named, and the households are then not used to replace
    the units' counts (the units keep their own figures), so the one cause gives one warning, not
    one per unit. None when there is nothing to compare or no offset.
    """
    if coords is not None or "households" not in layers or "units" not in layers:
        return None
    units_layer, hh_layer = read.get("units"), read.get("households")
    if units_layer is None or hh_layer is None or units_layer.path.suffix.lower() in readers.TABLE_EXTENSIONS \
            or hh_layer.path.suffix.lower() not in readers.TABLE_EXTENSIONS:
        return None
    units = layers["units"]
    count_cols = [c for c in units.columns if c.startswith(("students_g", "age_"))]
    totals = units[count_cols].apply(pd.to_numeric, errors="coerce").fillna(0).sum(axis=1).to_numpy() \
        if count_cols else np.zeros(len(units))
    hh = layers["households"]
    hh = hh[hh.geometry.notna() & ~hh.geometry.is_empty] if isinstance(hh, gpd.GeoDataFrame) else None
    if hh is None or len(hh) < 50 or totals.sum() <= 0 or units.geometry.isna().any():
        return None
    units_m = units.reset_index(drop=True)
    hh = hh.to_crs(readers.WGS84)
    lon, lat = hh.geometry.x.to_numpy(), hh.geometry.y.to_numpy()

    def gap(points) -> float:
        hit = _units_hit(points, units_m)
        return float(np.abs(np.bincount(hit[hit >= 0], minlength=len(units_m)) - totals).sum())

    as_read = gap((lon, lat))
    best = min(((gap(f(lon, lat)), label, f) for label, f in
                (("gcj02", coords_mod.gcj02_to_wgs84), ("bd09", coords_mod.bd09_to_wgs84))), key=lambda t: t[0])
    if as_read <= 0 or best[0] > OFFSET_GAIN * as_read:
        return None
    back = best[2](lon, lat)
    geod = pyproj.Geod(ellps="WGS84")
    metres = float(np.median(geod.inv(lon, lat, back[0], back[1])[2]))
    tables = [layer.file for name, layer in read.items()
              if layer.path.suffix.lower() in readers.TABLE_EXTENSIONS and isinstance(layers.get(name), gpd.GeoDataFrame)]
    label = {"gcj02": "GCJ-02（高德/腾讯地图）", "bd09": "BD-09（百度地图）"}[best[1]]
    return Problem(
        hh_layer.file, None, None, None,
        f"表格中的经纬度（{'、'.join(tables)}）与带坐标系的图层（{units_layer.file}）相差约 {metres:.0f} 米，"
        f"像是取自网络地图的 {label} 坐标：按 {best[1]} 还原后，各单元的住户儿童数与单元自带人数之差从 "
        f"{as_read:,.0f} 降到 {best[0]:,.0f}。住户数据未用于替换单元人数（各单元保留自带人数）",
        f"加 --coords {best[1]} 重新运行（只转换表格中的经纬度；带坐标系的图层不会被偏移）", "warning")


def _roster_units(roster: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> pd.DataFrame:
    """Fill a roster's missing unit_id from its home points, then drop the points."""
    missing = roster["unit_id"].isna() & roster.geometry.notna()
    out = pd.DataFrame(roster.drop(columns="geometry"))
    if missing.any():
        hh = roster.loc[missing, ["geometry"]].copy()
        hh["household_id"] = roster.loc[missing, "student_id"]
        unit_of, _ = aggregate._locate(hh, units)
        out.loc[missing, "unit_id"] = unit_of.to_numpy()
    return out


def validate_folder(data_dir: str | Path | None, coords: str | None = None,
                    mapping: str | Path | None = None) -> list[Problem]:
    """Every problem of a data folder (the bundled sample when ``data_dir`` is None), errors first
    in file order, then warnings.

    Parameters
    ----------
    data_dir : path or None
    coords : {None, "wgs84", "gcj02", "bd09"}
    mapping : path, optional

    Returns
    -------
    list of Problem
    """
    if data_dir is None:
        data_dir = sample_dir()
    problems = check_folder(data_dir, coords=coords, mapping=mapping).problems
    return sorted(problems, key=lambda p: (p.severity != "error",))
