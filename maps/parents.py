"""The published map for parents (``zoning publish``, SPEC §4) and the zone table 招生片区划分表.

The page holds zone polygons, school markers (name, level, address) and the unit names for the
search box, nothing else: no household, child or per-unit count, no school enrollment figures.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from geodata.coords import wgs84_to_gcj02
from geodata.tabular import write_csv, write_xlsx
from maps import images, layers, page
from maps.proposal import LEVEL_ZH, SAMPLE_NOTICE, Proposal, load_proposal

log = logging.getLogger(__name__)

TABLE_COLUMNS = ["学段", "学校代码", "学校名称", "地址", "片区范围（小区/村）"]
TABLE_NAME = "parents_zone_table"
SHEET_NAME = "招生片区划分表"
TABLE_WIDTHS = (8, 14, 18, 28, 80)

PARENTS_CSS = """
html, body { height: auto !important; }
body { display: grid; grid-template-columns: 100%; grid-template-rows: auto 64vh auto; }
#zoning-head { grid-row: 1; padding: 6px 10px; background: #f6f8fa; border-bottom: 1px solid #ddd; position: relative; z-index: 1100; }
#zoning-head h1 { font-size: 18px; margin: 2px 0 4px 0; }
#map_parents { grid-row: 2; height: 64vh !important; width: 100% !important; }
#zoning-table { grid-row: 3; padding: 8px 10px 24px 10px; font-size: 14px; }
#zoning-search { width: 100%; box-sizing: border-box; font-size: 16px; padding: 8px; border: 1px solid #999; border-radius: 6px; }
#zoning-results { list-style: none; margin: 0; padding: 0; position: absolute; left: 10px; right: 10px; background: #fff;
  border: 1px solid #ccc; max-height: 50vh; overflow-y: auto; z-index: 1200; box-shadow: 0 2px 6px rgba(0,0,0,.3); }
.zoning-result, .zoning-none { padding: 8px 10px; border-bottom: 1px solid #eee; cursor: pointer; }
.zoning-result-town { color: #777; margin-left: 8px; font-size: 12px; }
.zoning-result-school { color: #1f6feb; margin-left: 8px; font-size: 13px; }
#zoning-found { margin-top: 6px; background: #fff; border: 1px solid #cde; border-radius: 6px; padding: 6px 8px; }
.zoning-zone-table { border-collapse: collapse; width: 100%; margin-bottom: 12px; }
.zoning-zone-table th, .zoning-zone-table td { border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; text-align: left; }
.zoning-zone-table th { background: #eef3f8; white-space: nowrap; }
#zoning-table h2 { font-size: 17px; margin: 6px 0; }
#zoning-table h3 { font-size: 15px; margin: 8px 0 4px 0; }
.zoning-head-sample { color: #b00020; font-weight: bold; }
@media (min-width: 900px) {
  html, body { height: 100% !important; }
  body { grid-template-columns: 1fr 420px; grid-template-rows: auto 1fr; height: 100vh; }
  #zoning-head { grid-column: 1 / span 2; }
  #map_parents { grid-row: 2; grid-column: 1; height: 100% !important; }
  #zoning-table { grid-row: 2; grid-column: 2; overflow-y: auto; border-left: 1px solid #ddd; }
}
"""


def _unit_labels(a: pd.DataFrame) -> pd.Series:
    """Unit names for the table; a name used twice in a level gets its township (or id) added."""
    label = a["name"].fillna("").astype(str)
    dup = label.duplicated(keep=False)
    with_town = label.where(~dup | (a["township"] == ""), label + "（" + a["township"] + "）")
    dup2 = with_town.duplicated(keep=False)
    return with_town.where(~dup2, with_town + "〔" + a["unit_id"] + "〕")


def zone_table(p: Proposal) -> pd.DataFrame:
    """The 招生片区划分表: one row per school and level, the unit names joined with "、".

    Every unit of assignments.csv appears exactly once per level.
    """
    a = layers.assignment_table(p)
    school = p.schools.drop(columns="geometry").drop_duplicates("school_id").set_index("school_id")
    rows = []
    for level in p.levels:
        sub = a[a["level"] == level].copy()
        sub["label"] = _unit_labels(sub)
        for sid, g in sub.groupby("school_id", sort=True):
            name = school["name"].get(sid) if "name" in school.columns else None
            name = name or (g["school_name"].iloc[0] if "school_name" in g.columns else sid)
            addr = school["address"].get(sid, "") if "address" in school.columns else ""
            rows.append({"学段": LEVEL_ZH[level], "学校代码": sid, "学校名称": name,
                         "地址": "" if pd.isna(addr) else addr, "片区范围（小区/村）": "、".join(g["label"])})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def body_html(table: pd.DataFrame, p: Proposal, title: str, with_downloads: bool) -> str:
    """The page outside the map (header with the search box, the zone table), autoescaped."""
    levels = [{"name": level,
               "rows": [{"school": str(r["学校名称"]), "address": str(r["地址"]), "units": str(r["片区范围（小区/村）"])}
                        for _, r in table[table["学段"] == level].iterrows()]}
              for level in table["学段"].unique()]
    downloads = {"xlsx": f"{TABLE_NAME}.xlsx", "csv": f"{TABLE_NAME}.csv"} if with_downloads else None
    return page.html_part("parents_body.html", title=title, is_sample=p.is_sample, sample_notice=SAMPLE_NOTICE,
                          levels=levels, downloads=downloads, source_line=p.source_line())


def public_units(p: Proposal, gcj02: bool) -> list[dict]:
    """Units for the search box: id, name, township, bounding box, a point and the school per level."""
    a = p.assignments
    per: dict[str, dict] = {}
    for _, r in a.iterrows():
        per.setdefault(r["unit_id"], {})[r["level"]] = r["school_id"]
    u = p.units[p.units.geometry.notna() & ~p.units.geometry.is_empty].sort_values("unit_id")
    bounds = u.geometry.bounds.to_numpy(dtype=float, copy=True)
    pts = u.geometry.representative_point()
    px, py = pts.x.to_numpy(dtype=float, copy=True), pts.y.to_numpy(dtype=float, copy=True)
    if gcj02:
        bounds[:, 0], bounds[:, 1] = wgs84_to_gcj02(bounds[:, 0], bounds[:, 1])
        bounds[:, 2], bounds[:, 3] = wgs84_to_gcj02(bounds[:, 2], bounds[:, 3])
        px, py = wgs84_to_gcj02(px, py)
    out = []
    for i, (_, r) in enumerate(u.iterrows()):
        out.append({"unit_id": r["unit_id"], "name": r["name"],
                    "township": page.plain(r.get("township")) or "",
                    "bbox": [round(float(v), 5) for v in bounds[i]],
                    "point": [round(float(py[i]), 5), round(float(px[i]), 5)],
                    "schools": per.get(r["unit_id"], {})})
    return out


def parents_payload(p: Proposal, gcj02: bool = False) -> dict:
    """The data the parents' page draws: names, addresses, ids and shapes only."""
    levels = p.levels
    return {
        "meta": layers.meta(p, "义务教育招生片区查询"),
        "icons": layers.icons(),
        "levels": levels,
        "schools": layers.public_schools(p, gcj02),
        "zones": {lv: layers.zones(p, lv, gcj02, page.SIMPLIFY_DEG, public=True) for lv in levels},
        "units": public_units(p, gcj02),
    }


def parents_html(p: Proposal, tiles: str = "osm", tianditu_key: str | None = None,
                 asset_base: str | None = None, with_downloads: bool = True) -> str:
    """The parents' page as HTML text."""
    gcj = page.uses_gcj02(tiles)
    data = parents_payload(p, gcj02=gcj)
    title = "义务教育招生片区查询"
    shown = page.prepare(p.zones, gcj02=gcj) if len(p.zones) else page.prepare(p.units, gcj02=gcj)
    m = page.new_map(page.bounds_of(shown), tiles=tiles, tianditu_key=tianditu_key, name="parents")
    body = body_html(zone_table(p), p, title, with_downloads)
    page.add_page(m, "parents.js", data, css=PARENTS_CSS, html=body)
    return page.set_title(page.render(m, asset_base=asset_base), title)


def write_zone_table(table: pd.DataFrame, out_dir: Path, stem: str = TABLE_NAME) -> dict[str, Path]:
    """Write the zone table as ``stem.csv`` (UTF-8 with BOM, opens in Excel) and ``stem.xlsx``.

    Both go through :mod:`geodata.tabular`: a name like ``=HYPERLINK(...)`` stays text, and the same
    table gives the same bytes.
    """
    out_dir = Path(out_dir)
    csv, xlsx = out_dir / f"{stem}.csv", out_dir / f"{stem}.xlsx"
    write_csv(table, csv)
    write_xlsx(xlsx, {SHEET_NAME: table}, widths={SHEET_NAME: list(TABLE_WIDTHS)})
    return {csv.name: csv, xlsx.name: xlsx}


def publish(proposal_dir, out_dir=None, tiles: str = "osm", tianditu_key: str | None = None,
            asset_base: str | None = None) -> dict[str, Path]:
    """Write what is published for parents: the map, the zone table, the notice images.

    Parameters
    ----------
    proposal_dir : str or Path
        A proposal folder.
    out_dir : str or Path, optional
        Default ``proposal_dir/publish``. Files already there with the same names are replaced.
    tiles, tianditu_key, asset_base
        As for :func:`maps.planner.write_planner_map`.

    Returns
    -------
    dict
        File name -> path of every file written: ``parents.html``, ``parents_zone_table.csv``,
        ``parents_zone_table.xlsx``, ``zones_<level>.png`` / ``.pdf`` and ``zone_<level>_<school_id>.png``;
        with a relative ``asset_base`` (e.g. ``"assets"``) also the Leaflet files under it.
        Everything is built in a temporary folder first: on an error nothing is written.
    """
    page.check_tiles(tiles, tianditu_key)
    p = load_proposal(proposal_dir)
    out_dir = Path(out_dir) if out_dir is not None else p.path / "publish"
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        written = {}
        (tmp / "parents.html").write_text(parents_html(p, tiles, tianditu_key, asset_base), encoding="utf-8")
        written["parents.html"] = tmp / "parents.html"
        written.update(write_zone_table(zone_table(p), tmp))
        written.update(images.write_images(p, tmp))
        assets = page.copy_assets_beside(asset_base, tmp)
        if assets is not None:
            written.update({f.relative_to(tmp).as_posix(): f for f in sorted(assets.rglob("*")) if f.is_file()})
        out_dir.mkdir(parents=True, exist_ok=True)
        final = {}
        for name, path in written.items():
            (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, out_dir / name)
            final[name] = out_dir / name
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("已发布 %d 个文件到 %s", len(final), out_dir)
    return final
