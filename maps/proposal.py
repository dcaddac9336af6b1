"""Read a finished proposal folder (docs/ARCHITECTURE.md, "The proposal folder") for rendering.

Only files are read; nothing from ``zoning.model`` or the geodata readers is used. Required:
``assignments.csv``, ``zones.geojson``, ``units.geojson``, ``schools.geojson``. Everything else
(``ledger.csv``, ``metrics.json``, ``run.json``, ``barriers/roads/routes.geojson``) is optional and
the maps leave out what is missing. Every problem is reported at once as a :class:`DataError`.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

import geopandas as gpd
import pandas as pd

from zoning.errors import DataError, Problem
from maps.palette import color_for, school_colors

log = logging.getLogger(__name__)

REQUIRED = {
    "assignments.csv": ["unit_id", "level", "school_id", "previous_school_id"],
    "zones.geojson": ["school_id", "name", "level"],
    "units.geojson": ["unit_id", "name"],
    "schools.geojson": ["school_id", "name", "level"],
}
OPTIONAL_LAYERS = ("barriers", "roads", "routes")
ID_COLUMNS = ("unit_id", "school_id", "previous_school_id", "primary_school", "junior_school",
              "previous_primary_school", "previous_junior_school")
LEVEL_ZH = {"primary": "小学", "junior": "初中", "nine_year": "九年一贯制"}
SAMPLE_NOTICE = "示例数据，仅供演示，非官方数据"


@dataclass
class Proposal:
    """The content of one proposal folder, geometries in WGS84 (EPSG:4326)."""

    path: Path
    assignments: pd.DataFrame
    zones: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    ledger: pd.DataFrame | None = None
    metrics: dict = field(default_factory=dict)
    run: dict = field(default_factory=dict)
    barriers: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    routes: gpd.GeoDataFrame | None = None
    colors: dict = field(default_factory=dict)

    def color(self, school_id) -> str:
        """The school's colour on this proposal's maps (see :func:`maps.palette.school_colors`)."""
        return self.colors.get(str(school_id)) or color_for(school_id)

    @property
    def is_sample(self) -> bool:
        """True when metrics.json or run.json mark the proposal as built from the sample."""
        return bool(self.metrics.get("is_sample")) or str(self.run.get("source", "")) == "sample"

    @property
    def name(self) -> str:
        """The proposal's name: recorded in run.json (the folder name it was written under)."""
        return str(self.run.get("name") or self.path.name)

    @property
    def levels(self) -> list[str]:
        """Zoning levels present in the proposal, primary first."""
        present = set(self.zones["level"]) | set(self.assignments["level"])
        return [lv for lv in ("primary", "junior") if lv in present]

    @property
    def fingerprint(self) -> str:
        """A short code of the proposal's content (which unit goes to which school, per level).

        Shown on the pages instead of the folder name or the date, so that the same proposal gives
        the same page whatever its folder is called and whenever the page is built.
        """
        cols = [c for c in ("unit_id", "level", "school_id") if c in self.assignments.columns]
        rows = sorted("\t".join("" if v is None else str(v) for v in r)
                      for r in self.assignments[cols].itertuples(index=False, name=None))
        return hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()[:8]

    def source_line(self) -> str:
        """The data-source line shown on every map (Chinese): no path, folder name or date."""
        src = self.run.get("source") or "未注明"
        if src == "sample":
            src = "内置平罗县示例数据"
        else:  # the folder's name only: no path of the planner's machine on a published page
            src = PureWindowsPath(str(src)).name or str(src)
        parts = [f"数据来源：{src}"]
        if self.metrics.get("status"):
            parts.append(f"求解状态：{self.metrics.get('status_zh') or self.metrics['status']}")
        parts.append(f"方案编号：{self.fingerprint}")
        return "；".join(parts)


def _norm_ids(df: pd.DataFrame) -> pd.DataFrame:
    for c in ID_COLUMNS:
        if c in df.columns:
            df[c] = df[c].map(lambda v: None if pd.isna(v) or str(v).strip() == "" else str(v).strip())
    if "name" in df.columns:
        df["name"] = df["name"].map(lambda v: "" if pd.isna(v) else str(v))
    return df


def _read_geo(path: Path, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        problems.append(Problem(path.name, None, None, None, f"无法读取文件：{exc}",
                                "请确认文件是完整的 GeoJSON（可重新运行生成方案的命令）"))
        return None
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    return _norm_ids(gdf)


def load_proposal(proposal_dir) -> Proposal:
    """Read a proposal folder.

    Parameters
    ----------
    proposal_dir : str or Path
        The folder written by ``zoning plan`` (or by hand in the same format).

    Returns
    -------
    Proposal

    Raises
    ------
    FileNotFoundError
        When the folder does not exist.
    DataError
        With every missing file or column, in Chinese.
    """
    path = Path(proposal_dir)
    if not path.is_dir():
        raise FileNotFoundError(2, "方案文件夹不存在", str(path))
    problems: list[Problem] = []
    tables: dict[str, object] = {}
    for name, cols in REQUIRED.items():
        f = path / name
        if not f.exists():
            problems.append(Problem(name, None, None, None, f"方案文件夹 {path} 中缺少 {name}",
                                    "请先用 zoning plan 生成完整的方案文件夹，或补齐该文件"))
            continue
        if name.endswith(".csv"):
            try:
                df = _norm_ids(pd.read_csv(f, dtype=str, encoding="utf-8-sig", keep_default_na=False))
            except Exception as exc:
                problems.append(Problem(name, None, None, None, f"无法读取文件：{exc}",
                                        "请用 UTF-8 编码的 CSV 保存"))
                continue
        else:
            df = _read_geo(f, problems)
            if df is None:
                continue
        missing = [c for c in cols if c not in df.columns]
        for c in missing:
            problems.append(Problem(name, None, None, c, f"缺少列 {c}",
                                    f"请补上 {c} 列（列名见 docs/ARCHITECTURE.md“方案文件夹”）"))
        tables[name] = df
    if "assignments.csv" in tables and not problems:
        a = tables["assignments.csv"]
        if "students" in a.columns:
            a["students"] = pd.to_numeric(a["students"], errors="coerce").fillna(0).astype(int)
        if "unit_name" not in a.columns:
            a["unit_name"] = ""
        for i, row in a.iterrows():
            if row["level"] not in ("primary", "junior"):
                problems.append(Problem("assignments.csv", i + 1, row["unit_id"], "level",
                                        f"学段取值未知：'{row['level']}'",
                                        "学段应为 primary 或 junior（小学/初中）"))
        dup = a[a.duplicated(["unit_id", "level"], keep="first")]
        for i, row in dup.iterrows():
            problems.append(Problem("assignments.csv", i + 1, row["unit_id"], "unit_id",
                                    f"小区/村 {row['unit_id']} 在学段 {row['level']} 出现了不止一次",
                                    "每个小区/村每个学段只能划入一所学校，请删去重复行"))
    if problems:
        raise DataError(problems)

    ledger = None
    if (path / "ledger.csv").exists():
        ledger = _norm_ids(pd.read_csv(path / "ledger.csv", dtype={"school_id": str}, encoding="utf-8-sig"))
    else:
        log.warning("%s 中没有 ledger.csv：学校弹窗中不显示逐年台账", path)
    metrics = _read_json(path / "metrics.json")
    run = _read_json(path / "run.json")
    layers = {}
    for name in OPTIONAL_LAYERS:
        f = path / f"{name}.geojson"
        if f.exists():
            sub: list[Problem] = []
            layers[name] = _read_geo(f, sub)
            if sub:
                raise DataError(sub)
    ids = (set(tables["schools.geojson"]["school_id"].dropna()) | set(tables["zones.geojson"]["school_id"].dropna())
           | set(tables["assignments.csv"]["school_id"].dropna()))
    return Proposal(path=path, assignments=tables["assignments.csv"], zones=tables["zones.geojson"],
                    units=tables["units.geojson"], schools=tables["schools.geojson"], ledger=ledger,
                    metrics=metrics, run=run, colors=school_colors(ids), **layers)


def _read_json(f: Path) -> dict:
    if not f.exists():
        log.info("没有 %s", f)
        return {}
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError([Problem(f.name, None, None, None, f"JSON 格式错误：{exc}",
                                 "请重新生成方案，或用文本编辑器修正该文件")]) from None
