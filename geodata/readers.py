"""Read one input of a data folder, whatever its format, into a frame with SPEC §2 column names.

Formats: GeoPackage, GeoJSON (``.geojson``/``.json``), Shapefile (``.dbf`` in UTF-8 or GBK/GB18030;
a ``.cpg`` is honoured, without one UTF-8 is tried, then GB18030), CSV (UTF-8, UTF-8 with BOM, GBK)
and XLSX (first sheet), the last two with ``lon``/``lat`` columns (aliases 经度/纬度, x/y, lng) for
points or a ``wkt`` column for any geometry. A title line above the header (common in office
spreadsheets) is skipped: the header is the first of the top ten lines with known column names.
Blank rows are skipped; every row keeps its number as a spreadsheet program shows it
(:attr:`Layer.sheet_rows`), for the report. An XLSX cell holding a formula whose value was never
saved (files written by programs, not by Excel) is a problem: it would read as empty.

Shapefile field names hold 10 characters: names GDAL cut (``primary_sc``) are recognised when they
are the cut of exactly one SPEC name; cuts several names share (``students_g``, ``students_1``)
are an error naming the fix (:func:`geodata.aliases.recognise_cut_names`).

Files are found by stem (:data:`geodata.aliases.FILE_STEMS`), e.g. ``schools.gpkg`` or ``学校.xlsx``.

Coordinates: a file's declared CRS is used; no CRS (CSV, XLSX, GeoJSON) means WGS84 lon/lat;
CGCS2000 (EPSG:4490) is taken as WGS84 (they differ by centimetres). With ``coords="gcj02"`` or
``"bd09"`` every layer given in longitude/latitude is converted from that system to WGS84 (layers in
a projected CRS are not touched). Every frame returned is in EPSG:4326; values are left as read
(text stays text) — :mod:`geodata.validate` checks and converts them.
"""
from __future__ import annotations

import csv
import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pyproj
import shapely

from geodata import aliases, coords as coords_mod
from zoning.errors import Problem

log = logging.getLogger(__name__)

GEO_EXTENSIONS = {".gpkg", ".geojson", ".json", ".shp"}
TABLE_EXTENSIONS = {".csv", ".xlsx"}
WGS84 = pyproj.CRS.from_epsg(4326)
_GEOGRAPHIC_AS_WGS84 = {4326, 4490}
_WKT_HEADERS = {"wkt", "geometry", "geom", "几何", "空间信息"}
_ID_COLUMNS = ("school_id", "unit_id", "household_id", "student_id")


@dataclass
class Layer:
    """One input as read.

    Attributes
    ----------
    name : str
        Input name (``schools``, ``units`` …).
    path : Path
        The file read.
    frame : DataFrame or GeoDataFrame
        Columns renamed to SPEC names, index 0..n-1 (row ``i`` is data row ``i + 1``); a
        GeoDataFrame in EPSG:4326 when the input has geometry or lon/lat columns.
    renamed : dict
        Original header -> SPEC name, for the report.
    converted : str or None
        The coordinate system converted from (``"gcj02"``/``"bd09"``), if any.
    sheet_rows : list of int or None
        For CSV and XLSX: the spreadsheet row of each frame row (header row and any title or blank
        rows above it counted). None for GIS files.
    """

    name: str
    path: Path
    frame: pd.DataFrame
    renamed: dict = field(default_factory=dict)
    converted: str | None = None
    sheet_rows: list[int] | None = None

    @property
    def file(self) -> str:
        return self.path.name

    def sheet_row(self, row: int | None) -> int | None:
        """The spreadsheet row of 1-based data row ``row`` (None when not a spreadsheet row)."""
        if row is None or self.sheet_rows is None or not 1 <= row <= len(self.sheet_rows):
            return None
        return self.sheet_rows[row - 1]

    def header_of(self, column: str | None) -> str | None:
        """The user's header of SPEC column ``column`` (None when the file used the SPEC name)."""
        for header, target in self.renamed.items():
            if target == column and header != column:
                return header
        return None


@dataclass
class Sheet:
    """A CSV or XLSX table as read: text columns, the spreadsheet row of each row, and the cells
    holding a formula without a saved value (spreadsheet row, header)."""

    frame: pd.DataFrame
    sheet_rows: list[int]
    unsaved_formulas: list[tuple[int, str]] = field(default_factory=list)


def _entries(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))


def _is_reserved(path: Path) -> bool:
    """Files a folder holds besides inputs: the scenario and the history table (read elsewhere)."""
    stem = path.stem.lower()
    return path.suffix.lower() == ".toml" or (stem in HISTORY_STEMS and path.suffix.lower() in HISTORY_EXTENSIONS)


def sniff_input(path: Path) -> str | None:
    """The input a table or GIS layer is by its headers (a table with 学校代码/学校名称/学段 is the
    schools file, a ``片区.shp`` with 单元代码/小区名称 fields the units file, whatever the name);
    None when its headers name none."""
    for name, signature in aliases.HEADER_SIGNATURES:
        table = aliases.alias_table(name)
        for row in _header_rows(path):
            got = {table.get(aliases.normalise_header(v)) for v in row if not _blank(v)}
            if signature <= got:
                return name
    return None


def _header_rows(path: Path) -> list[list]:
    """Rows that may hold a file's headers: the first ten rows of a CSV/XLSX table (a title row may
    sit above the header), or the field names of a GIS layer; [] when the file cannot be read."""
    ext = path.suffix.lower()
    try:
        if ext == ".csv":
            raw = _read_csv_text(path, header_row=None, skip_blank=False).head(10)
        elif ext in TABLE_EXTENSIONS:
            raw = pd.read_excel(path, sheet_name=0, header=None, dtype=object, engine="openpyxl", nrows=10)
        elif ext in aliases.EXTENSIONS:
            return [list(_geo_field_names(path))]
        else:
            return []
    except Exception:  # noqa: BLE001 - an unreadable file is simply not recognised here
        return []
    return [list(raw.iloc[i]) for i in range(len(raw))]


def _geo_field_names(path: Path) -> list[str]:
    """The attribute field names of a GIS layer (a GBK shapefile without .cpg read as GB18030)."""
    if path.suffix.lower() == ".shp" and not path.with_suffix(".cpg").exists() \
            and not path.with_suffix(".CPG").exists():
        try:
            return list(pyogrio.read_info(path, encoding="UTF-8")["fields"])
        except UnicodeDecodeError:
            return list(pyogrio.read_info(path, encoding="GB18030")["fields"])
    return list(pyogrio.read_info(path)["fields"])


def _exact_stem_files(entries: list[Path], name: str) -> list[Path]:
    """The files of one input by exact stem (:data:`geodata.aliases.FILE_STEMS`), best first."""
    stems = [s.lower() for s in aliases.FILE_STEMS[name]]
    exact = [p for p in entries if p.stem.lower() in stems and p.suffix.lower() in aliases.EXTENSIONS]
    exact.sort(key=lambda p: (stems.index(p.stem.lower()), aliases.EXTENSIONS.index(p.suffix.lower())))
    return exact


def find_inputs(data_dir: str | Path) -> tuple[dict[str, Path], list[Problem]]:
    """Find the file of each input in ``data_dir``: by stem, else by a keyword in its name
    (学校基本情况.xlsx, 小区人数.xlsx, 2023秋季学籍导出.xlsx), else by its headers (tables and GIS
    layers alike).

    Returns
    -------
    files : dict
        Input name -> path (only inputs present; with several candidates, the first named, so
        the rest of the folder can still be checked).
    problems : list of Problem
        An error where several files are candidates for one input: two exact stems, two keyword
        names, an exact stem next to a keyword name, or (where no file names the input) two tables
        recognised by their headers; every candidate is named.
    """
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    found: dict[str, Path] = {}
    entries = _entries(data_dir)
    exact: dict[str, list[Path]] = {name: _exact_stem_files(entries, name) for name in aliases.INPUTS}
    taken = {p for cands in exact.values() for p in cands}
    by_keyword: dict[str, list[Path]] = {}
    by_headers: dict[str, list[Path]] = {}
    for p in entries:
        if p in taken or p.suffix.lower() not in aliases.EXTENSIONS or _is_reserved(p):
            continue
        name = aliases.keyword_input(p.stem)
        if name is not None:
            by_keyword.setdefault(name, []).append(p)
        elif (name := sniff_input(p)) is not None:
            by_headers.setdefault(name, []).append(p)
    for name in aliases.INPUTS:
        # a file recognised only by its headers is a candidate where no file names the input
        # (a named file wins over a table that merely looks like one: it is listed as not used)
        named = exact[name] + by_keyword.get(name, [])
        cands = named or by_headers.get(name, [])
        if not cands:
            continue
        if len(cands) > 1:
            problems.append(Problem(
                cands[0].name, None, None, None,
                f"有 {len(cands)} 个文件都像是{aliases.INPUT_NAMES_ZH[name]}文件：{'、'.join(p.name for p in cands)}",
                f"只保留一个，或把要用的文件改名为 {name}{cands[0].suffix}（或 {aliases.FILE_STEMS[name][2]}{cands[0].suffix}），"
                "其他文件移出数据文件夹"))
        found[name] = cands[0]
        if cands[0] not in taken:
            log.info("%s 按文件名或表头识别为%s文件", cands[0].name, aliases.INPUT_NAMES_ZH[name])
    return found, problems


def unused_files(data_dir: str | Path, files: dict[str, Path], extra_used=()) -> list[Problem]:
    """One note per file of the folder that is not read, with the reason (nothing is skipped in silence)."""
    data_dir = Path(data_dir)
    used = {Path(p).resolve() for p in list(files.values()) + list(extra_used) if p is not None}
    shp_stems = {Path(p).with_suffix("").name.lower() for p in used if Path(p).suffix.lower() == ".shp"}
    out = []
    for p in _entries(data_dir):
        if p.resolve() in used or _is_reserved(p):
            continue
        ext = p.suffix.lower()
        if ext in aliases.SIDE_FILES and p.with_suffix("").name.lower() in shp_stems:
            continue
        if ext in aliases.SIDE_FILES:
            reason = "是 Shapefile 的附属文件，但同名的 .shp 没有被读取"
        elif ext not in aliases.EXTENSIONS:
            reason = f"格式 {ext or '（无扩展名）'} 不是可读取的数据格式（gpkg、geojson、shp、csv、xlsx）"
        else:
            name = _input_named(p)
            if name in files:
                reason = f"也像是{aliases.INPUT_NAMES_ZH[name]}文件，但已使用 {files[name].name}"
            elif name is not None:
                reason = f"像是{aliases.INPUT_NAMES_ZH[name]}文件，但没有读取（见该输入的错误）"
            else:
                reason = "文件名和表头都不对应任何输入（学校、片区单元、住户、招生计划、学籍、障碍线、通道、道路）"
        out.append(Problem(p.name, None, None, None, f"未使用此文件：{reason}",
                           "如果它是需要的输入，按 README 的文件名改名，或让表头含有 学校代码/学校名称/学段 等标准列名",
                           "info"))
    return out


def _input_named(path: Path) -> str | None:
    """The input a file is a candidate for: by exact stem, keyword or headers (None when none)."""
    low = path.stem.lower()
    for name in aliases.INPUTS:
        if low in (s.lower() for s in aliases.FILE_STEMS[name]):
            return name
    return aliases.keyword_input(path.stem) or sniff_input(path)


def read_mapping(path: str | Path | None) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """Read a column-mapping file (CSV with columns ``file, source, target``).

    ``file`` is an input name (``schools``), a file name (``学校.xlsx``), its stem, or ``*`` (or
    empty) for every file. Headers 文件/原列名/标准列名 are accepted too.

    Returns
    -------
    mapping : dict
        Normalised file key -> {source header: target column}.
    problems : list of Problem
    """
    if path is None:
        return {}, []
    path = Path(path)
    try:
        frame = _read_csv_text(path, header_row=0)
    except (OSError, ValueError) as exc:
        return {}, [Problem(path.name, None, None, None, f"无法读取列名对照文件：{exc}",
                            "对照文件应为 CSV，三列：file,source,target")]
    cols = {aliases.normalise_header(c): c for c in frame.columns}
    want = {"file": ("file", "文件"), "source": ("source", "原列名", "原表头"),
            "target": ("target", "标准列名", "目标列名")}
    pick = {}
    problems = []
    for key, names in want.items():
        hit = next((cols[n] for n in names if n in cols), None)
        if hit is None:
            problems.append(Problem(path.name, None, None, key, f"列名对照文件缺少 {key} 列",
                                    "对照文件三列为 file,source,target（文件、原列名、标准列名）"))
        pick[key] = hit
    if problems:
        return {}, problems
    mapping: dict[str, dict[str, str]] = {}
    for i, row in frame.iterrows():
        src, tgt = row[pick["source"]], row[pick["target"]]
        if _blank(src) or _blank(tgt):
            problems.append(Problem(path.name, int(i) + 1, None, None, "原列名或标准列名为空",
                                    "每行填写 file、source、target 三项"))
            continue
        fkey = "*" if _blank(row[pick["file"]]) else str(row[pick["file"]]).strip().lower()
        mapping.setdefault(fkey, {})[str(src).strip()] = str(tgt).strip()
    return mapping, problems


def mapping_for(mapping: dict[str, dict[str, str]], name: str, path: Path) -> dict[str, str]:
    """The mapping-file entries that apply to input ``name`` read from ``path``."""
    out: dict[str, str] = {}
    for key in ("*", name, path.stem.lower(), path.name.lower()):
        out.update(mapping.get(key, {}))
    return out


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == ""


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ValueError("文件编码无法识别（既不是 UTF-8 也不是 GBK）")


def _read_csv_text(path: Path, header_row: int | None = None, skip_blank: bool = True) -> pd.DataFrame:
    text = _decode(path.read_bytes())
    if not text.strip():
        return pd.DataFrame()
    first = text.splitlines()[0]
    try:
        sep = csv.Sniffer().sniff(first, delimiters=",\t;|").delimiter if first else ","
    except csv.Error:
        sep = ","
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, header=header_row,
                       skip_blank_lines=skip_blank, keep_default_na=False, na_values=[""])


def _pick_header(raw: pd.DataFrame, name: str, explicit: dict[str, str]) -> int:
    """Index of the header line among the first ten (the one with most known names)."""
    table = aliases.alias_table(name)
    known = set(table) | {aliases.normalise_header(k) for k in explicit}
    best, best_score = 0, -1
    for i in range(min(10, len(raw))):
        score = sum(aliases.normalise_header(v) in known for v in raw.iloc[i] if not _blank(v))
        if score > best_score:
            best, best_score = i, score
    return best


def _with_header(raw: pd.DataFrame, name: str, explicit: dict[str, str]) -> tuple[pd.DataFrame, list[int], int]:
    """The table below its header line, without blank rows.

    Returns
    -------
    body : DataFrame
        Text columns named by the header, index 0..n-1.
    sheet_rows : list of int
        Spreadsheet row of each body row (raw line ``k`` is row ``k + 1``).
    header_line : int
        Position of the header among the raw lines (-1 for an empty table).
    """
    if raw.empty:
        return pd.DataFrame(), [], -1
    h = _pick_header(raw, name, explicit)
    header = [("" if _blank(v) else str(v).strip()) for v in raw.iloc[h]]
    header = [c or f"未命名列{j + 1}" for j, c in enumerate(header)]
    body = raw.iloc[h + 1:]
    filled = body.notna().to_numpy().any(axis=1)
    sheet_rows = [int(k) + h + 2 for k in np.flatnonzero(filled)]
    body = body[filled].reset_index(drop=True)
    body.columns = header
    return body, sheet_rows, h


def read_sheet(path: Path, name: str, explicit: dict[str, str] | None = None) -> Sheet:
    """Read a CSV or XLSX file as text columns (header line found among the first ten lines)."""
    explicit = explicit or {}
    if path.suffix.lower() == ".csv":
        raw = _read_csv_text(path, header_row=None, skip_blank=False)
    else:
        # keep_default_na=False: text such as "NA" or "nan" is text (reported), only empty cells are empty
        raw = pd.read_excel(path, sheet_name=0, header=None, dtype=object, engine="openpyxl",
                            keep_default_na=False, na_values=[""])
        raw = raw.map(lambda v: v if _blank(v) else _cell_text(v))
    body, sheet_rows, h = _with_header(raw, name, explicit)
    unsaved = []
    if path.suffix.lower() == ".xlsx" and h >= 0:
        header = list(body.columns)
        unsaved = [(r + 1, header[c]) for r, c in unsaved_formula_cells(path, raw)
                   if r > h and c < len(header)]
    return Sheet(body, sheet_rows, unsaved)


def read_table(path: Path, name: str, explicit: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX file as text columns (see :func:`read_sheet`)."""
    return read_sheet(path, name, explicit).frame


def unsaved_formula_cells(path: Path, values: pd.DataFrame) -> list[tuple[int, int]]:
    """Cells of the first sheet that hold a formula but no saved value (0-based line, column).

    Excel saves each formula's last value next to it; files written by other programs often do
    not, and then the value reads as empty (``values`` is the sheet read with saved values).
    """
    blank = values.isna().to_numpy()
    if not blank.any():
        return []
    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb.worksheets[0]
        found = []
        for r, row in enumerate(ws.iter_rows(min_row=1, min_col=1, values_only=True)):
            if r >= blank.shape[0]:
                break
            for c, v in enumerate(row[: blank.shape[1]]):
                text = getattr(v, "text", v)  # an ArrayFormula holds its formula in .text
                if blank[r, c] and isinstance(text, str) and text.startswith("="):
                    found.append((r, c))
        return found
    finally:
        wb.close()


def _cell_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10] if hasattr(v, "hour") and not (v.hour or v.minute) else v.isoformat()
    return str(v)


def _read_geo(path: Path) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not parse column as JSON": kept as text
        warnings.simplefilter("ignore", RuntimeWarning)
        return _read_geo_raw(path)


def _read_geo_raw(path: Path) -> gpd.GeoDataFrame:
    if path.suffix.lower() == ".shp" and not path.with_suffix(".cpg").exists() \
            and not path.with_suffix(".CPG").exists():
        try:
            return gpd.read_file(path, engine="pyogrio", encoding="UTF-8")
        except UnicodeDecodeError:
            log.info("%s: .dbf 不是 UTF-8，按 GB18030 读取", path.name)
            return gpd.read_file(path, engine="pyogrio", encoding="GB18030")
    return gpd.read_file(path, engine="pyogrio")


#: Columns offices keep in their tables that the tool never needs (and GIS software's own fields).
KNOWN_IGNORED = {"序号", "备注", "说明", "联系人", "联系电话", "电话", "填表人", "填报日期", "姓名", "性别", "身份证号",
                 "家长姓名", "家长电话", "barrier", "fid", "objectid", "shape_leng", "shape_length", "shape_area", "id"}


def _unused_columns(columns: list[str], input_name: str, file: str) -> list[Problem]:
    """One note naming the columns this tool does not use, each with the nearest known name."""
    unused = [c for c in columns
              if aliases.normalise_header(c) not in _WKT_HEADERS
              and aliases.normalise_header(c).lower() not in KNOWN_IGNORED]
    if not unused:
        return []
    parts = []
    for col in unused:
        near = aliases.nearest_name(col, input_name)
        parts.append(f"“{col}”" + (f"（是否想写“{near}”？）" if near else ""))
    return [Problem(file, None, None, None, "未使用的列：" + "、".join(parts),
                    "若其中有需要的数据，把表头改为标准列名或中文别名，或用 --mapping 对照文件指明；否则可不理会",
                    "info")]


def _missing_crs_problems(gdf: gpd.GeoDataFrame, path: Path) -> list[Problem]:
    """A GIS layer that declares no coordinate system is read as longitude/latitude: say so.

    A GeoJSON without ``crs`` is WGS84 by RFC 7946 (nothing to say); a shapefile without its
    ``.prj`` is named, so that a projected layer read as degrees is never a silent mistake.
    """
    if gdf.crs is not None or path.suffix.lower() != ".shp":
        return []
    return [Problem(path.name, None, None, None,
                    f"没有坐标系文件 {path.with_suffix('.prj').name}，按经纬度（WGS84/CGCS2000）读取",
                    f"把原始数据的 {path.with_suffix('.prj').name} 一并拷入数据文件夹，或在 GIS 软件中定义坐标系后另存",
                    "warning")]


def declares_crs(path: Path, gdf: gpd.GeoDataFrame) -> bool:
    """Whether a GIS file declares its coordinate system: a shapefile's ``.prj``, a GeoPackage, a
    GeoJSON ``crs`` member naming a projected CRS. A GeoJSON in degrees (no ``crs``, or the CRS84
    that GDAL writes into every one) is longitude/latitude of unknown datum (web-map coordinates are
    often GCJ-02), so ``--coords`` applies to it."""
    ext = path.suffix.lower()
    if gdf.crs is None:
        return False
    if ext == ".shp":
        return path.with_suffix(".prj").exists() or path.with_suffix(".PRJ").exists()
    if ext in (".geojson", ".json"):
        with open(path, "rb") as fh:
            head = fh.read(4096)
        return b'"crs"' in head and not gdf.crs.is_geographic
    return True


def _to_wgs84(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, bool]:
    """Reproject to EPSG:4326; returns (frame, was given in longitude/latitude)."""
    crs = gdf.crs
    if crs is None:
        return gdf.set_crs(WGS84, allow_override=True), True
    epsg = crs.to_epsg()
    if crs.is_geographic and epsg in _GEOGRAPHIC_AS_WGS84:
        return gdf.set_crs(WGS84, allow_override=True), True
    out = gdf.to_crs(WGS84)
    return out, bool(crs.is_geographic)


def _points_from_lonlat(frame: pd.DataFrame, file: str, problems: list[Problem]) -> gpd.GeoSeries:
    lon = pd.to_numeric(frame["lon"], errors="coerce")
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    for col, num in (("lon", lon), ("lat", lat)):
        raw = frame[col]
        bad = raw.map(lambda v: not _blank(v)).to_numpy(dtype=bool) & num.isna().to_numpy()
        for pos in np.flatnonzero(bad):
            problems.append(Problem(file, int(frame.index[pos]) + 1, None, col, f"坐标不是数字：{raw.iloc[pos]!r}",
                                    "经纬度填十进制度数，例如 106.52、38.91（不要写度分秒或“°”）"))
    ok = lon.notna() & lat.notna()
    geoms = np.full(len(frame), None, dtype=object)
    geoms[ok.to_numpy()] = shapely.points(lon[ok].to_numpy(), lat[ok].to_numpy())
    return gpd.GeoSeries(geoms, index=frame.index, crs=WGS84)


def read_layer(path: str | Path, name: str, coords: str | None = None,
               mapping: dict[str, dict[str, str]] | None = None) -> tuple[Layer | None, list[Problem]]:
    """Read one input file.

    Parameters
    ----------
    path : path
        The file.
    name : str
        The input it is (one of :data:`geodata.aliases.INPUTS`).
    coords : {None, "wgs84", "gcj02", "bd09"}
        The system of longitude/latitude input, converted to WGS84.
    mapping : dict, optional
        Parsed mapping file (:func:`read_mapping`).

    Returns
    -------
    layer : Layer or None
        None when the file cannot be read at all.
    problems : list of Problem
        Unreadable file, ambiguous headers, unparseable coordinates.
    """
    path = Path(path)
    problems: list[Problem] = []
    explicit = mapping_for(mapping or {}, name, path)
    ext = path.suffix.lower()
    sheet = None
    try:
        if ext in GEO_EXTENSIONS:
            frame = _read_geo(path)
        elif ext in TABLE_EXTENSIONS:
            sheet = read_sheet(path, name, explicit)
            frame = sheet.frame
        else:
            raise ValueError(f"不支持的文件格式 {ext}")
    except Exception as exc:  # noqa: BLE001 - any reader failure is a user-facing problem
        log.debug("reading %s failed", path, exc_info=True)
        reason = str(exc).split("; It might help")[0].replace(str(path), path.name)
        problems.append(Problem(path.name, None, None, None, f"文件无法读取：{reason}",
                                "确认文件未损坏、未被 Excel 占用；格式应为 gpkg、geojson、shp、csv 或 xlsx"))
        return None, problems
    frame = frame.reset_index(drop=True)
    columns = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
    renamed, dups = aliases.rename_columns([str(c) for c in columns], name, explicit)
    for col, other, target in dups:
        problems.append(Problem(path.name, None, None, col,
                                f"列“{col}”与“{other}”都对应标准列 {target}，只使用“{other}”",
                                "删除或改名多余的列，或用 --mapping 对照文件指明", "warning"))
    renamed.update(_cut_names([str(c) for c in columns if c not in renamed and c != "geometry"],
                              name, set(renamed.values()), path.name, problems))
    problems += _unused_columns([str(c) for c in columns if c not in renamed and c != "geometry"], name, path.name)
    if sheet is not None:
        problems += _unsaved_formula_problems(sheet, renamed, path.name)
    geo = isinstance(frame, gpd.GeoDataFrame)
    if geo:
        geom_name = frame.geometry.name
        frame = frame.rename(columns={c: t for c, t in renamed.items() if c != geom_name})
        if geom_name != "geometry":
            frame = frame.rename_geometry("geometry")
    else:
        frame = frame.rename(columns=renamed)
    converted = None
    if geo:
        problems += _missing_crs_problems(frame, path)
        declared = declares_crs(path, frame)
        frame, lonlat = _to_wgs84(frame)
        # a layer whose file declares its CRS is transformed by it and never shifted (issue 17)
        lonlat = lonlat and not declared
    else:
        wkt_col = next((c for c in frame.columns if aliases.normalise_header(c) in _WKT_HEADERS), None)
        if "lon" in frame.columns and "lat" in frame.columns:
            geoms = _points_from_lonlat(frame, path.name, problems)
        elif wkt_col is not None:
            geoms = _from_wkt(frame[wkt_col], path.name, problems)
            frame = frame.drop(columns=[wkt_col])
        else:
            geoms = None
        if geoms is not None:
            frame = gpd.GeoDataFrame(frame, geometry=geoms, crs=WGS84)
        lonlat = True
    if isinstance(frame, gpd.GeoDataFrame) and lonlat and coords in ("gcj02", "bd09"):
        func = coords_mod.gcj02_to_wgs84 if coords == "gcj02" else coords_mod.bd09_to_wgs84
        frame = frame.copy()
        has = frame.geometry.notna() & ~frame.geometry.is_empty
        frame.loc[has, "geometry"] = coords_mod.transform_geometries(frame.geometry[has].to_numpy(), func)
        if {"lon", "lat"} <= set(frame.columns):
            pts = frame.geometry
            frame["lon"] = [g.x if g is not None and g.geom_type == "Point" else np.nan for g in pts]
            frame["lat"] = [g.y if g is not None and g.geom_type == "Point" else np.nan for g in pts]
        converted = coords
        log.info("%s: 经纬度由 %s 转换为 WGS84", path.name, coords)
    return Layer(name, path, frame, renamed, converted, sheet.sheet_rows if sheet is not None else None), problems


def _cut_names(columns: list[str], name: str, taken: set[str], file: str, problems: list[Problem]
               ) -> dict[str, str]:
    """Renames of headers cut to 10 characters; a warning for those recognised, an error for the
    ambiguous ones (see :func:`geodata.aliases.recognise_cut_names`)."""
    renames, ambiguous = aliases.recognise_cut_names(columns, name, taken)
    if renames:
        problems.append(Problem(
            file, None, None, "、".join(renames),
            "列名被截断为 10 个字符（Shapefile 的限制），已按标准列名识别："
            + "，".join(f"{h} → {t}" for h, t in renames.items()),
            "核对识别结果；如有误，用 --mapping 对照文件写明每列对应的标准列名", "warning"))
    if ambiguous:
        problems.append(Problem(
            file, None, None, "、".join(ambiguous),
            f"列名 {'、'.join(ambiguous)} 是被截断到 10 个字符的标准列名（Shapefile 的列名最多 10 个字符，"
            "GDAL 截断后给重名的列编号），无法确定每列是哪个年级",
            "把这些列改用中文表头（每个不超过 5 个汉字，如 一年级人数、二年级人数 … 九年级人数），"
            "或用 --mapping 对照文件写明每列对应的标准列名（如 file=units, source=students_1, "
            "target=students_g2），或改用 GeoPackage（.gpkg）保存", "error"))
    return renames


def _unsaved_formula_problems(sheet: Sheet, renamed: dict[str, str], file: str) -> list[Problem]:
    """An error per cell holding a formula without a saved value."""
    row_of = {r: k + 1 for k, r in enumerate(sheet.sheet_rows)}
    id_header = next((h for h, t in renamed.items() if t in _ID_COLUMNS and h in sheet.frame.columns), None)
    out = []
    for sheet_row, header in sheet.unsaved_formulas:
        column = renamed.get(header, header)
        row = row_of.get(sheet_row)
        row_id = sheet.frame[id_header].iat[row - 1] if id_header is not None and row is not None else None
        out.append(Problem(
            file, row, None if _blank(row_id) else str(row_id).strip(), column,
            "单元格是公式，但文件里没有保存公式的计算结果，读出来是空的",
            "用 Excel（或 WPS）打开这个文件，保存后再运行；或把公式列复制后“选择性粘贴 → 数值”",
            "error", sheet_row=sheet_row, header=header if header != column else None))
    return out


def _from_wkt(series: pd.Series, file: str, problems: list[Problem]) -> gpd.GeoSeries:
    out = []
    for i, v in series.items():
        if _blank(v):
            out.append(None)
            continue
        try:
            out.append(shapely.from_wkt(str(v)))
        except shapely.errors.GEOSException:
            problems.append(Problem(file, int(i) + 1, None, str(series.name), "几何（WKT）无法解析",
                                    "WKT 应形如 POLYGON ((106.5 38.9, ...))，经度在前"))
            out.append(None)
    return gpd.GeoSeries(out, index=series.index, crs=WGS84)


def read_folder(data_dir: str | Path, coords: str | None = None, mapping: str | Path | None = None
                ) -> tuple[dict[str, Layer], Path | None, list[Problem]]:
    """Read every input present in a data folder.

    Returns
    -------
    layers : dict
        Input name -> :class:`Layer` (inputs that could be read).
    scenario_path : Path or None
        ``scenario.toml`` (or 情景.toml) when present.
    problems : list of Problem
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return {}, None, [Problem(str(data_dir), None, None, None, "数据文件夹不存在",
                                  "检查路径，或不给路径以使用内置示例数据")]
    mapping_dict, problems = read_mapping(mapping)
    files, found_problems = find_inputs(data_dir)
    problems += found_problems
    layers: dict[str, Layer] = {}
    for name, path in files.items():
        layer, probs = read_layer(path, name, coords=coords, mapping=mapping_dict)
        problems += probs
        if layer is not None:
            layers[name] = layer
    scenario_path = next((p for p in (data_dir / "scenario.toml", data_dir / "情景.toml") if p.exists()), None)
    return layers, scenario_path, problems


# ------------------------------------------------------------------------------ history (历年在校生)
HISTORY_STEMS = ("history", "历年在校生")
HISTORY_EXTENSIONS = (".csv", ".xlsx")
HISTORY_COLUMNS = ("school_id", "year", "grade", "students")
HISTORY_ALIASES = {"学校代码": "school_id", "年份": "year", "学年": "year", "年级": "grade",
                   "在校生": "students", "在校生数": "students", "学生数": "students", "人数": "students"}
HISTORY_FIX = "历年在校生表每行一所学校一年一个年级：school_id, year, grade, students"


def find_history(data_dir) -> Path | None:
    """The data folder's ``history.csv``/``.xlsx`` (or ``历年在校生.*``), when there is one."""
    if data_dir is None:
        return None
    for stem in HISTORY_STEMS:
        for ext in HISTORY_EXTENSIONS:
            path = Path(data_dir) / f"{stem}{ext}"
            if path.is_file():
                return path
    return None


def _history_number(text, lo: int, hi: int) -> int | None:
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    if not value.is_integer() or not lo <= value <= hi:
        return None
    return int(value)


def read_history(path: Path, school_ids=None) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read and check ``history`` (历年在校生): one row per school, year and grade.

    Rules: the four columns; a school id that the schools table knows (when ``school_ids`` is
    given); a four-digit year (1949–2100); grade 1–9; students a non-negative integer; no school,
    year and grade twice. Returns the typed frame (None when the file cannot be used) and every
    problem, rows as the spreadsheet shows them.
    """
    path = Path(path)
    try:
        sheet = read_sheet(path, "history")
    except (UnicodeDecodeError, ValueError, OSError) as exc:
        return None, [Problem(path.name, None, None, None, f"无法读取历年在校生表：{exc}", HISTORY_FIX)]
    frame = sheet.frame.rename(columns={k: v for k, v in HISTORY_ALIASES.items() if k in sheet.frame.columns})
    missing = [c for c in HISTORY_COLUMNS if c not in frame.columns]
    if missing:
        return None, [Problem(path.name, None, None, c, f"历年在校生表缺少列 {c}", HISTORY_FIX) for c in missing]
    problems: list[Problem] = []
    known = None if school_ids is None else {str(s) for s in school_ids}
    rows, seen = [], {}
    for pos, r in enumerate(frame[list(HISTORY_COLUMNS)].itertuples(index=False)):
        shown = sheet.sheet_rows[pos] if pos < len(sheet.sheet_rows) else pos + 2

        def add(column, text, fix):
            problems.append(Problem(path.name, pos + 1, sid or None, column, text, fix, sheet_row=shown))

        sid = "" if _blank(r.school_id) else str(r.school_id).strip()
        if not sid:
            add("school_id", "学校代码为空", "每行填写学校代码")
        elif known is not None and sid not in known:
            add("school_id", f"学校 {sid} 不在学校表中", "改为学校表中的学校代码，或删去该行")
        year = _history_number(r.year, 1949, 2100)
        if year is None:
            add("year", f"年份不是四位年份：“{r.year}”", "填写四位年份，例如 2021")
        grade = _history_number(r.grade, 1, 9)
        if grade is None:
            add("grade", f"年级应为 1–9 的整数：“{r.grade}”", "一年级填 1，初一填 7")
        students = _history_number(r.students, 0, 10**6)
        if students is None:
            add("students", f"在校生数不是非负整数：“{r.students}”", "填写整数人数")
        key = (sid, year, grade)
        if sid and year is not None and grade is not None:
            if key in seen:
                add(None, f"同一学校、年份、年级重复（第 {seen[key]} 行已有）", "合并或删除重复行")
            seen.setdefault(key, shown)
        rows.append({"school_id": sid, "year": year, "grade": grade, "students": students})
    if problems:
        return None, problems
    out = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    for c in ("year", "grade", "students"):
        out[c] = out[c].astype(int)
    return out, []
