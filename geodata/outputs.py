"""Writing a proposal folder: atomic folder swap, zones, units/schools layers and the zone table.

Nothing personal is written: no household, child or roster row, and no per-unit head count in
``units.geojson`` (the parents' map searches it).
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zoning import policy

log = logging.getLogger(__name__)

ZONE_TABLE_COLUMNS = ["学段", "学校代码", "学校名称", "地址", "片区范围（小区/村）"]
PRECISION = 1e-6
SAMPLE_NOTE = "本表由虚构的示例数据生成，仅供演示，不是平罗县真实的招生片区。"
LEVEL_ORDER = {"primary": 0, "junior": 1}


def final_name(tmp) -> str:
    """The final name of a folder being written by :func:`proposal_folder` (``.NAME.tmp-XXXX``)."""
    name = Path(tmp).name
    if name.startswith(".") and ".tmp-" in name:
        return name[1:name.rindex(".tmp-")]
    return name


@contextmanager
def proposal_folder(path):
    """Write a proposal folder atomically.

    Yields a temporary folder next to ``path`` (``.<name>.tmp-XXXX`` in the same parent). When the
    ``with`` block ends normally the temporary folder replaces ``path`` (an existing proposal is
    swapped out and removed only then); on an exception it is deleted and ``path`` is untouched.

    Parameters
    ----------
    path : path
        The final proposal folder.

    Yields
    ------
    Path
        The temporary folder to write into.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"输出位置 {path} 已有同名文件（不是文件夹），请换一个输出文件夹名")
    parent = path.parent if str(path.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        os.chmod(tmp, 0o755)
        for f in tmp.rglob("*"):
            os.chmod(f, 0o755 if f.is_dir() else 0o644)
        if path.exists():
            old = parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(path, old)
            try:
                os.replace(tmp, path)
            except BaseException:
                os.replace(old, path)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("方案已写入 %s", path)


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
    out = units[["unit_id", "name", "township"]].copy()
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
    """招生片区划分表: one row per school and level with a zone; unit names sorted, joined by "、"."""
    a = _check_assignments(assignments, dataset)
    a = a[a["school_id"].notna()]
    names = _unique_labels(dataset.units)
    schools = dataset.schools.set_index("school_id")
    rows = []
    for (level, sid), grp in a.groupby(["level", "school_id"]):
        unit_names = sorted(names[u] for u in grp["unit_id"])
        s = schools.loc[sid]
        rows.append({"_order": (LEVEL_ORDER.get(level, 9), sid),
                     "学段": policy.LEVEL_NAMES_ZH.get(level, level), "学校代码": sid, "学校名称": s["name"],
                     "地址": s.get("address", "") or "", "片区范围（小区/村）": "、".join(unit_names)})
    rows.sort(key=lambda r: r["_order"])
    return pd.DataFrame(rows, columns=["_order", *ZONE_TABLE_COLUMNS]).drop(columns="_order")


def write_zone_table(table: pd.DataFrame, folder: Path, stem: str = "zone_table", is_sample: bool = False) -> None:
    """Write the zone table as CSV (UTF-8 with BOM, for Excel) and XLSX."""
    folder = Path(folder)
    table.to_csv(folder / f"{stem}.csv", index=False, encoding="utf-8-sig")
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "招生片区划分表"
    ws.append(ZONE_TABLE_COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in table.itertuples(index=False):
        ws.append(list(row))
    for col, width in zip("ABCDE", (10, 14, 18, 24, 80)):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        row[4].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    if is_sample:
        note = wb.create_sheet("说明")
        note.append([SAMPLE_NOTE])
    wb.save(folder / f"{stem}.xlsx")


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
