"""Load a data folder (or the bundled sample) into one checked, projected :class:`Dataset`."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyproj

from zoning.errors import DataError, Problem, errors
from geodata.readers import find_history, read_history, unused_files
from geodata.sample import sample_dir
from geodata.validate import check_folder

log = logging.getLogger(__name__)

GEO_LAYERS = ("schools", "units", "households", "barriers", "crossings", "roads")


@dataclass
class Dataset:
    """All inputs of one data folder, normalised (SPEC §2 names) and in one metric CRS.

    See ``docs/ARCHITECTURE.md`` for the columns of each layer. ``schools.classrooms`` and
    ``schools.capacity`` are float with NaN where not given (at least one of the two is present);
    ``open_year``/``close_year`` are nullable Int64; count columns are int64.
    """

    source: str
    is_sample: bool
    crs: pyproj.CRS
    schools: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    households: gpd.GeoDataFrame | None = None
    plan: pd.DataFrame | None = None
    roster: pd.DataFrame | None = None
    barriers: gpd.GeoDataFrame | None = None
    crossings: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    history: pd.DataFrame | None = None   # 历年在校生: school_id, year, grade, students
    scenario_path: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    base_year: int = 2022
    #: where the schools' base enrollment came from: "schools" (enrolled_g*) or "zones" (current zones' pupils)
    enrollment_rule: str = "schools"
    #: households read / counted / outside units / unusable (None without households)
    households_totals: dict | None = None
    #: files shifted from GCJ-02/BD-09 by --coords
    shifted: list = field(default_factory=list)

    def wgs84(self, layer: str) -> gpd.GeoDataFrame | None:
        """A copy of a geographic layer in EPSG:4326 (None when the layer is absent).

        Parameters
        ----------
        layer : str
            One of ``schools, units, households, barriers, crossings, roads``.
        """
        if layer not in GEO_LAYERS:
            raise ValueError(f"unknown layer {layer!r}; one of {', '.join(GEO_LAYERS)}")
        frame = getattr(self, layer)
        return None if frame is None else frame.to_crs(4326)


def _sample_dir() -> Path:
    return Path(sample_dir())


def _folder(data_dir) -> Path:
    return _sample_dir() if data_dir is None else Path(data_dir)


def _history(folder: Path, schools) -> tuple[Path | None, pd.DataFrame | None, list[Problem]]:
    """The folder's history table (历年在校生), checked against the schools read."""
    path = find_history(folder)
    if path is None:
        return None, None, []
    ids = None if schools is None else schools["school_id"].astype(str)
    frame, problems = read_history(path, ids)
    return path, frame, problems


def validate_data(data_dir=None, coords: str | None = None, mapping=None) -> list[Problem]:
    """Every problem of a data folder (the bundled sample when None), history included: errors
    first in file order, then warnings (what ``zoning validate`` reports)."""
    return validate_checked(data_dir, coords=coords, mapping=mapping)[0]


def validate_checked(data_dir=None, coords: str | None = None, mapping=None):
    """:func:`validate_data` and the :class:`geodata.validate.Checked` it came from."""
    folder = _folder(data_dir)
    checked = check_folder(folder, coords=coords, mapping=mapping)
    history_path, _, history_problems = _history(folder, checked.layers.get("schools"))
    extra = [p for p in (checked.scenario_path, history_path, mapping) if p is not None]
    unused = unused_files(folder, checked.files, extra) if folder.is_dir() else []
    problems = list(checked.problems) + history_problems + unused
    order = {"error": 0, "warning": 1}
    return sorted(problems, key=lambda p: order.get(p.severity, 2)), checked


def households_totals(aggregation) -> dict | None:
    """``read, counted, outside, unusable`` of a household aggregation (None without one)."""
    if aggregation is None:
        return None
    t = aggregation.totals()
    return {"read": t["in"], "counted": t["counted"], "outside": t["outside"], "unusable": t["skipped"]}


def load_dataset(data_dir: str | Path | None = None, coords: str | None = None,
                 mapping: str | Path | None = None, base_year: int | None = None) -> Dataset:
    """Read, check and project a data folder.

    Parameters
    ----------
    data_dir : path or None
        The data folder; None loads the bundled Pingluo sample (``is_sample`` True).
    coords : {None, "wgs84", "gcj02", "bd09"}
        System of longitude/latitude input, converted to WGS84.
    mapping : path, optional
        Column-mapping CSV (``file,source,target``).
    base_year : int, optional
        Overrides the scenario's base year (ages on 31 August of it).

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        With every problem (errors and warnings) when any error was found.
    """
    is_sample = data_dir is None
    folder = _folder(data_dir)
    checked = check_folder(folder, coords=coords, mapping=mapping, base_year=base_year)
    history_path, history, history_problems = _history(folder, checked.layers.get("schools"))
    if errors(checked.problems + history_problems):
        raise DataError(checked.problems + history_problems)
    layers = checked.layers
    for name in ("schools", "units"):
        layers[name] = layers[name].reset_index(drop=True)
    ds = Dataset(
        source="sample" if is_sample else str(data_dir),
        is_sample=is_sample,
        crs=checked.crs,
        schools=layers["schools"],
        units=layers["units"],
        households=layers.get("households"),
        plan=layers.get("plan"),
        roster=layers.get("roster"),
        barriers=_nonempty(layers.get("barriers")),
        crossings=_nonempty(layers.get("crossings")),
        roads=_nonempty(layers.get("roads")),
        history=history,
        scenario_path=checked.scenario_path,
        files=dict(checked.files),
        warnings=list(checked.problems),
        base_year=checked.base_year,
        enrollment_rule=checked.enrollment_rule,
        households_totals=households_totals(checked.aggregation),
        shifted=list(checked.shifted),
    )
    if checked.scenario_path is not None:
        ds.files["scenario"] = checked.scenario_path
    if history_path is not None:
        ds.files["history"] = history_path
    log.info("读取 %s：学校 %d 所，片区单元 %d 个，坐标系 %s，警告 %d 条", ds.source, len(ds.schools),
             len(ds.units), ds.crs.to_string(), len(ds.warnings))
    return ds


def _nonempty(frame):
    if frame is None:
        return None
    frame = frame[frame.geometry.notna()].reset_index(drop=True)
    return frame if len(frame) else None


def file_hashes(dataset: Dataset) -> dict[str, str]:
    """sha256 of every input file read (shapefiles: of the .shp, .dbf, .shx, .prj, .cpg together).

    Returns
    -------
    dict
        Input name -> hex digest.
    """
    out = {}
    for name, path in sorted(dataset.files.items()):
        path = Path(path)
        h = hashlib.sha256()
        parts = [path]
        if path.suffix.lower() == ".shp":
            parts = [p for p in (path.with_suffix(s) for s in (".shp", ".shx", ".dbf", ".prj", ".cpg"))
                     if p.exists()]
        for part in parts:
            h.update(part.read_bytes())
        out[name] = h.hexdigest()
    return out
