"""Writing a proposal folder: atomic folder swap, zones, units/schools layers and the zone table.

Nothing personal is written: no household, child or roster row, and no per-unit head count in
``units.geojson`` (the parents' map searches it).
"""
from __future__ import annotations

import errno
import fnmatch
import logging
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from geodata.tabular import save_workbook, write_csv
from zoning import policy

log = logging.getLogger(__name__)

ZONE_TABLE_COLUMNS = ["学段", "学校代码", "学校名称", "地址", "片区范围（小区/村）", "调整说明"]
PRECISION = 1e-6
SAMPLE_NOTE = "本表由虚构的示例数据生成，仅供演示，不是平罗县真实的招生片区。"
LEVEL_ORDER = {"primary": 0, "junior": 1}


#: written by :func:`proposal_folder` into every folder it creates: "this tool wrote it, it may be replaced"
MARKER = ".pingluo-zoning-output"
MARKER_TEXT = ("此文件夹由 zoning（划片招生工具）写出，再次运行同一命令时会被整体替换。\n"
               "请不要把其他文件放在这里。\n")
#: files that commands write into a proposal folder besides the proposal itself (never read back)
GENERATED_IN_PROPOSAL = ("map.html", "ledger_project.csv", "compare_*.html")
NEW_FOLDER_FIX = "请换一个新的文件夹名（例如 --out proposals/方案2）"


class OutputRefused(Exception):
    """An output location that would destroy or replace something of the user's (exit code 2).

    ``str(exc)`` is the one Chinese message: the path, why, and the fix.
    """

    def __init__(self, path, reason: str, fix: str = NEW_FOLDER_FIX):
        self.path, self.reason, self.fix = Path(path), reason, fix
        super().__init__(f"不能写到 {path}：{reason}。{fix}。")


class OutputUnwritable(OSError):
    """The place an output goes cannot be written (read-only, no permission, not a folder): exit 3."""

    def __init__(self, path, cause: OSError):
        self.cause = cause
        super().__init__(cause.errno, cause.strerror or str(cause), str(path))


@dataclass(frozen=True)
class Inputs:
    """What a command reads: folders (the data folder, proposal folders) and single files."""

    folders: tuple[Path, ...] = ()
    files: tuple[Path, ...] = ()
    proposals: tuple[Path, ...] = ()


def command_inputs(data_dir=None, proposals=(), files=(), sample_dir=None) -> Inputs:
    """The inputs of one command; ``data_dir`` None means the bundled sample (``sample_dir``)."""
    folders = [Path(data_dir)] if data_dir is not None else ([Path(sample_dir)] if sample_dir else [])
    return Inputs(tuple(folders), tuple(Path(f) for f in files if f is not None),
                  tuple(Path(p) for p in proposals if p is not None))


def _resolved(path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def _is_generated(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pat) for pat in GENERATED_IN_PROPOSAL)


def _top_files(folder: Path, skip_generated: bool) -> list[Path]:
    if not folder.is_dir():
        return []
    return [f for f in folder.iterdir()
            if f.is_file() and f.name != MARKER and not (skip_generated and _is_generated(f.name))]


def input_files(inputs: Inputs) -> list[Path]:
    """Every file an output must never replace: the files of the data folder, of the proposal
    folders given as input (except the pages commands write into them) and the single files."""
    out = [_resolved(f) for f in inputs.files]
    for folder in inputs.folders:
        out += [_resolved(f) for f in _top_files(Path(folder), skip_generated=False)]
    for folder in inputs.proposals:
        out += [_resolved(f) for f in _top_files(Path(folder), skip_generated=True)]
    return out


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a == b or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def is_tool_output(folder) -> bool:
    """True when ``folder`` carries the marker :func:`proposal_folder` writes."""
    return (Path(folder) / MARKER).is_file()


def _refuse_special(target: Path, shown) -> None:
    home = _resolved(Path.home())
    if target == Path(target.anchor):
        raise OutputRefused(shown, "这是文件系统的根目录")
    if target == home:
        raise OutputRefused(shown, "这是用户主目录")
    if target == _resolved(Path.cwd()):
        raise OutputRefused(shown, "这是当前工作文件夹")


def _check_folder_target(target: Path, shown, inputs: Inputs) -> None:
    _refuse_special(target, shown)
    if target.exists() and not target.is_dir():
        raise OutputRefused(shown, "这里已有一个同名文件（不是文件夹）")
    for folder in inputs.folders:
        if _inside(_resolved(folder), target):
            raise OutputRefused(shown, f"它是数据文件夹 {folder}" if _resolved(folder) == target
                                else f"它包含数据文件夹 {folder}，写出时会替换其中的文件")
    for folder in inputs.proposals:
        if _inside(_resolved(folder), target):
            raise OutputRefused(shown, f"它是作为输入的方案文件夹 {folder}" if _resolved(folder) == target
                                else f"它包含作为输入的方案文件夹 {folder}")
    for f in input_files(inputs):
        if _inside(f, target):
            raise OutputRefused(shown, f"它包含输入文件 {f.name}")
    if target.is_dir() and not is_tool_output(target) and any(target.iterdir()):
        names = sorted(p.name for p in target.iterdir())[:3]
        raise OutputRefused(shown, f"这个文件夹已存在且有其他文件（如 {'、'.join(names)}），不是本工具写出的")


def _check_file_target(target: Path, shown, inputs: Inputs, suffix: str | None) -> None:
    if target.is_dir():
        raise OutputRefused(shown, "这里已有一个同名文件夹", "请给出文件名（例如 --out 结果/ledger.csv）")
    for f in input_files(inputs):
        if _same_file(f, target):
            raise OutputRefused(shown, "它是输入文件，写出会覆盖它", "请换一个新的文件名")
    for folder in (*inputs.folders, *inputs.proposals):
        if _same_file(_resolved(folder), target):
            raise OutputRefused(shown, "它是输入文件夹", "请换一个新的文件名")
    if target.is_file() and is_tool_output(target.parent) and not _is_generated(target.name):
        raise OutputRefused(shown, f"它是本工具写出的文件夹 {target.parent.name} 中的文件（方案或报告的一部分）",
                            "请换一个新的文件名")
    if suffix and target.exists() and target.suffix.lower() != suffix:
        raise OutputRefused(shown, f"已有同名文件且不是 {suffix} 文件", f"请换一个以 {suffix} 结尾的新文件名")


def _existing_ancestor(path: Path) -> Path:
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            return p
    return Path(path.anchor)


def check_writable(path) -> None:
    """Raise :class:`OutputUnwritable` unless a file can be created where ``path`` will be written.

    The nearest existing folder above ``path`` is probed with a real (removed) temporary file, so
    that a read-only disk, a missing permission or a file in place of a folder is found before the work.
    """
    parent = _resolved(path).parent
    probe_dir = _existing_ancestor(parent)
    if not probe_dir.is_dir():
        raise OutputUnwritable(probe_dir, NotADirectoryError(errno.ENOTDIR, "不是文件夹", str(probe_dir)))
    try:
        fd, name = tempfile.mkstemp(prefix=".zoning-write-test-", dir=probe_dir)
    except OSError as exc:
        raise OutputUnwritable(probe_dir, exc) from None
    os.close(fd)
    os.unlink(name)


def check_output_target(path, inputs: Inputs | None = None, kind: str = "folder",
                        suffix: str | None = None) -> Path:
    """Refuse, before any work, an output that would destroy or replace something of the user's.

    Parameters
    ----------
    path : path
        Where the command will write: a folder (``kind="folder"``) or one file (``kind="file"``).
    inputs : Inputs
        What the command reads (:func:`command_inputs`).
    kind : {"folder", "file"}
    suffix : str, optional
        For a file: an existing file with another suffix is never replaced (e.g. ``".csv"``).

    A folder must be new, empty, or one this tool wrote (:data:`MARKER`); never the data folder, a
    folder containing it or any input file, an input proposal folder, ``.``, the root or home.
    A file never replaces an input file. Then the place must be writable.

    Raises
    ------
    OutputRefused
        Exit code 2: the message names the path and the fix.
    OutputUnwritable
        Exit code 3: the place cannot be written.
    """
    inputs = inputs or Inputs()
    target = _resolved(path)
    if kind == "folder":
        _check_folder_target(target, path, inputs)
    elif kind == "file":
        _check_file_target(target, path, inputs, suffix)
    else:
        raise ValueError(f"kind must be 'folder' or 'file', not {kind!r}")
    check_writable(target)
    return target


def mark_output_folder(path) -> Path:
    """Create ``path`` (when new) and mark it as this tool's output (for writers that fill a folder
    file by file rather than through :func:`proposal_folder`)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    return path


def final_name(tmp) -> str:
    """The final name of a folder being written by :func:`proposal_folder` (``.NAME.tmp-XXXX``)."""
    name = Path(tmp).name
    if name.startswith(".") and ".tmp-" in name:
        return name[1:name.rindex(".tmp-")]
    return name


def _swap_in(tmp: Path, path: Path, parent: Path) -> None:
    """Rename ``tmp`` to ``path``; an existing ``path`` is removed only when this tool wrote it."""
    if not path.exists():
        os.replace(tmp, path)
        return
    if not is_tool_output(path):
        os.rmdir(path)  # only an empty folder: anything else of the user's stays (OSError)
        os.replace(tmp, path)
        return
    old = parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
    os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def proposal_folder(path):
    """Write an output folder atomically.

    Yields a temporary folder next to ``path`` (``.<name>.tmp-XXXX`` in the same parent). When the
    ``with`` block ends normally the marker :data:`MARKER` is written into it and it replaces
    ``path``; on an exception it is deleted and ``path`` is untouched. An existing ``path`` is
    replaced only when it is empty or carries the marker (this tool wrote it); otherwise
    :class:`OutputRefused` is raised before anything is written.

    Parameters
    ----------
    path : path
        The final folder.

    Yields
    ------
    Path
        The temporary folder to write into.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputRefused(path, "这里已有一个同名文件（不是文件夹）")
    if path.is_dir() and not is_tool_output(path) and any(path.iterdir()):
        raise OutputRefused(path, "这个文件夹已存在且有其他文件，不是本工具写出的")
    parent = path.parent if str(path.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        (tmp / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        os.chmod(tmp, 0o755)
        for f in tmp.rglob("*"):
            os.chmod(f, 0o755 if f.is_dir() else 0o644)
        _swap_in(tmp, path, parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("已写入 %s", path)


def _round(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.to_crs(4326)
    geoms = out.geometry.to_numpy()
    has = ~(shapely.is_missing(geoms))
    rounded = geoms.copy()
    rounded[has] = shapely.set_precision(geoms[has], PRECISION)
    out = out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=4326))
    return out


def _write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    gdf.to_file(path, driver="GeoJSON", engine="pyogrio", COORDINATE_PRECISION=6)


def _areal_units(units: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Unit areas: polygons as given; point units get Voronoi cells clipped to the units' hull
    (buffered 500 m), so that zones of point units are still areas on a map."""
    geoms = units.geometry.to_numpy()
    is_point = shapely.get_type_id(geoms) == 0
    if not is_point.any():
        return units.geometry
    pts = geoms[is_point]
    hull = shapely.buffer(shapely.convex_hull(shapely.union_all(geoms)), 500.0)
    cells = np.asarray(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=hull).geoms, dtype=object)
    tree = shapely.STRtree(cells)
    pt_idx, cell_idx = tree.query(pts, predicate="within")
    cell_of = np.full(len(pts), -1)
    cell_of[pt_idx] = cell_idx
    out = geoms.copy()
    for k, pos in enumerate(np.flatnonzero(is_point)):
        out[pos] = (shapely.intersection(cells[cell_of[k]], hull) if cell_of[k] >= 0
                    else shapely.buffer(pts[k], 100.0))  # duplicate points share one cell
    return gpd.GeoSeries(out, index=units.index, crs=units.crs)


def _check_assignments(assignments: pd.DataFrame, dataset) -> pd.DataFrame:
    need = {"unit_id", "level", "school_id"}
    missing = need - set(assignments.columns)
    if missing:
        raise ValueError(f"assignments lacks columns {sorted(missing)}")
    a = assignments.copy()
    for col in ("unit_id", "school_id", "previous_school_id"):
        if col in a.columns:
            a[col] = a[col].map(lambda v: None if pd.isna(v) else str(v))
    unknown_u = set(a["unit_id"]) - set(dataset.units["unit_id"])
    unknown_s = set(a["school_id"].dropna()) - set(dataset.schools["school_id"])
    if unknown_u or unknown_s:
        raise ValueError(f"assignments name unknown units {sorted(unknown_u)[:5]} or schools {sorted(unknown_s)[:5]}")
    return a


def zone_layer(dataset, assignments: pd.DataFrame, school_metrics: pd.DataFrame | None = None
               ) -> gpd.GeoDataFrame:
    """One dissolved zone per school and level (in the dataset's CRS)."""
    a = _check_assignments(assignments, dataset)
    a = a[a["school_id"].notna()]
    units = dataset.units.reset_index(drop=True)
    areas = _areal_units(units)
    area_of = dict(zip(units["unit_id"], areas))
    schools = dataset.schools.set_index("school_id")
    rows = []
    for (level, sid), grp in a.groupby(["level", "school_id"], sort=False):
        geom = shapely.union_all([area_of[u] for u in grp["unit_id"] if area_of.get(u) is not None])
        s = schools.loc[sid]
        rows.append({"school_id": sid, "name": s["name"], "level": level, "address": s.get("address", "") or "",
                     "n_units": int(len(grp)), "geometry": geom})
    zones = gpd.GeoDataFrame(rows, columns=["school_id", "name", "level", "address", "n_units", "geometry"],
                             geometry="geometry", crs=dataset.crs)
    zones = zones.sort_values(["level", "school_id"], key=lambda c: c.map(LEVEL_ORDER).fillna(9)
                              if c.name == "level" else c).reset_index(drop=True)
    metric_cols = ["students", "classes", "largest_class", "utilisation"]
    if school_metrics is not None and len(school_metrics):
        m = school_metrics.copy()
        m["school_id"] = m["school_id"].astype(str)
        keep = ["school_id", "level"] + [c for c in metric_cols if c in m.columns]
        zones = zones.merge(m[keep].drop_duplicates(["school_id", "level"]), on=["school_id", "level"], how="left")
    for c in metric_cols:
        if c not in zones.columns:
            zones[c] = np.nan
    return zones


def units_layer(dataset, assignments: pd.DataFrame) -> gpd.GeoDataFrame:
    """Units with their new and previous zone schools — no counts (used by the parents' search)."""
    a = _check_assignments(assignments, dataset)
    units = dataset.units.reset_index(drop=True)
    out = units[["unit_id", "name", "township"] + [c for c in ("aliases", "addresses") if c in units.columns]].copy()
    for level in ("primary", "junior"):
        cur = units[f"{level}_school"]
        sub = a[a["level"] == level].drop_duplicates("unit_id").set_index("unit_id")
        new = units["unit_id"].map(sub["school_id"]) if len(sub) else pd.Series(np.nan, index=units.index)
        prev = (units["unit_id"].map(sub["previous_school_id"])
                if len(sub) and "previous_school_id" in sub.columns else pd.Series(np.nan, index=units.index))
        has = units["unit_id"].isin(sub.index)
        out[f"{level}_school"] = [(n if h else c) for n, c, h in zip(new, cur, has)]
        out[f"previous_{level}_school"] = [(p if h else c) for p, c, h in zip(prev, cur, has)]
        for col in (f"{level}_school", f"previous_{level}_school"):
            out[col] = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in out[col]]
    return gpd.GeoDataFrame(out, geometry=units.geometry.to_numpy(), crs=dataset.crs)


def _unique_labels(units) -> dict:
    """unit_id -> the name a parent reads; names that repeat get the township, then the id."""
    ids = units["unit_id"].astype(str).tolist()
    names = units["name"].astype(str).tolist()
    towns = units["township"].astype(str).tolist() if "township" in units else [""] * len(ids)
    count = pd.Series(names).value_counts()
    labels = [f"{n}（{t}）" if count[n] > 1 and t not in ("", "nan", "None") else n for n, t in zip(names, towns)]
    count2 = pd.Series(labels).value_counts()
    labels = [f"{lab}［{i}］" if count2[lab] > 1 else lab for lab, i in zip(labels, ids)]
    return dict(zip(ids, labels))


def zone_table(dataset, assignments: pd.DataFrame) -> pd.DataFrame:
    """招生片区划分表: one row per school and level with a zone; unit names sorted, joined by "、";
    调整说明: the units that joined the zone, each with the school it came from and its reason
    (``reason`` of assignments.csv), e.g. "润园新村（原城关八小；为化解城关八小超额）"."""
    a = _check_assignments(assignments, dataset)
    a = a[a["school_id"].notna()]
    names = _unique_labels(dataset.units)
    schools = dataset.schools.set_index("school_id")
    school_names = schools["name"].astype(str).to_dict()
    rows = []
    for (level, sid), grp in a.groupby(["level", "school_id"]):
        unit_names = sorted(names[u] for u in grp["unit_id"])
        s = schools.loc[sid]
        rows.append({"_order": (LEVEL_ORDER.get(level, 9), sid),
                     "学段": policy.LEVEL_NAMES_ZH.get(level, level), "学校代码": sid, "学校名称": s["name"],
                     "地址": s.get("address", "") or "", "片区范围（小区/村）": "、".join(unit_names),
                     "调整说明": _joined_units(grp, names, school_names)})
    rows.sort(key=lambda r: r["_order"])
    return pd.DataFrame(rows, columns=["_order", *ZONE_TABLE_COLUMNS]).drop(columns="_order")


def _joined_units(grp: pd.DataFrame, names: dict, school_names: dict) -> str:
    """The units of a zone that came from another school, with where from and why ("" for none)."""
    if "previous_school_id" not in grp.columns:
        return ""
    prev = grp["previous_school_id"].fillna("").astype(str)
    moved = grp[(prev != "") & (prev != grp["school_id"].astype(str))]
    reason = moved["reason"].fillna("").astype(str) if "reason" in moved.columns else pd.Series("", moved.index)
    items = sorted(
        f"{names[u]}（原{school_names.get(p, p)}" + (f"；{r}" if r else "") + "）"
        for u, p, r in zip(moved["unit_id"], moved["previous_school_id"].astype(str), reason))
    return "、".join(items)


def write_zone_table(table: pd.DataFrame, folder: Path, stem: str = "zone_table", is_sample: bool = False) -> None:
    """Write the zone table as CSV (UTF-8 with BOM, for Excel) and XLSX, through :mod:`geodata.tabular`
    (formula-like names inert, the same bytes for the same table)."""
    folder = Path(folder)
    write_csv(table, folder / f"{stem}.csv")
    wb = Workbook()
    ws = wb.active
    ws.title = "招生片区划分表"
    ws.append(ZONE_TABLE_COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in table.itertuples(index=False):
        ws.append(list(row))
    for col, width in zip("ABCDEF", (10, 14, 18, 24, 80, 60)):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row[4:6]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    if is_sample:
        note = wb.create_sheet("说明")
        note.append([SAMPLE_NOTE])
    save_workbook(wb, folder / f"{stem}.xlsx")


def write_geo_outputs(folder, dataset, assignments: pd.DataFrame, school_metrics: pd.DataFrame | None = None
                      ) -> list[Path]:
    """Write the geographic files of a proposal into ``folder`` (normally a :func:`proposal_folder`).

    Parameters
    ----------
    folder : path
        Existing folder.
    dataset : Dataset
    assignments : DataFrame
        ``unit_id, level, school_id, previous_school_id`` (one row per unit and level).
    school_metrics : DataFrame, optional
        ``school_id, level, students, classes, largest_class, utilisation`` (first target year).

    Returns
    -------
    list of Path
        The files written: zones.geojson, units.geojson, schools.geojson, barriers.geojson and
        roads.geojson (when given), zone_table.csv, zone_table.xlsx.
    """
    folder = Path(folder)
    written = []
    zones = _round(zone_layer(dataset, assignments, school_metrics))
    _write_geojson(zones, folder / "zones.geojson")
    written.append(folder / "zones.geojson")
    _write_geojson(_round(units_layer(dataset, assignments)), folder / "units.geojson")
    written.append(folder / "units.geojson")
    cols = ["school_id", "name", "level", "address", "classrooms", "capacity", "open_year", "close_year"]
    schools = dataset.schools[[c for c in cols if c in dataset.schools.columns] + ["geometry"]]
    _write_geojson(_round(schools), folder / "schools.geojson")
    written.append(folder / "schools.geojson")
    for name in ("barriers", "roads"):
        layer = getattr(dataset, name)
        if layer is not None and len(layer):
            keep = [c for c in ("name", "kind") if c in layer.columns] + ["geometry"]
            _write_geojson(_round(layer[keep]), folder / f"{name}.geojson")
            written.append(folder / f"{name}.geojson")
    write_zone_table(zone_table(dataset, assignments), folder, is_sample=dataset.is_sample)
    written += [folder / "zone_table.csv", folder / "zone_table.xlsx"]
    log.info("写出 %d 个地图与划分表文件", len(written))
    return written


def compactness(dataset, assignments: pd.DataFrame) -> dict:
    """Polsby–Popper compactness (4πA / P², 1 for a disc) of the zones, mean per level and overall.

    Computed on the dissolved zones in the dataset's metric CRS; point units use their Voronoi cells.
    """
    zones = zone_layer(dataset, assignments)
    if zones.empty:
        return {"mean": None}
    area, perim = zones.geometry.area.to_numpy(), zones.geometry.length.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        pp = np.where(perim > 0, 4 * np.pi * area / perim ** 2, np.nan)
    zones = zones.assign(pp=pp)
    out = {lv: round(float(g["pp"].mean()), 4) for lv, g in zones.groupby("level")}
    out["mean"] = round(float(np.nanmean(pp)), 4)
    return out
