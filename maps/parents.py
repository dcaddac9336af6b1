"""The published material for parents (``zoning publish``, SPEC §4, issue 19): the parents' page, the
zone table 招生片区划分表, the 征求意见 change list, the 招生范围 notice and the pictures.

Public by construction: the page holds zone polygons, unit outlines and names (with aliases and
address ranges when the units carry them), school names and addresses, roads, barriers and
township outlines, and the publisher's settings — no household, child or per-unit count, no school
enrollment figure, no internal wording (solver status, objective, proposal id).
"""
from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from geodata.coords import wgs84_to_gcj02
from geodata.outputs import proposal_folder
from geodata.tabular import save_workbook, write_csv
from maps import images, layers, notice, page
from maps.palette import ZONE_PALETTE as PUBLIC_PALETTE  # noqa: F401  (the page's palette)
from maps.palette import zone_colors as public_colors
from maps.palette import zone_neighbours  # noqa: F401
from maps.proposal import LEVEL_ZH, SAMPLE_NOTICE, Proposal, load_proposal
from maps.town import has_shape, town_units
from maps.publication import (CHANGE_COLUMNS_ZH, change_list, change_sentence, footer_lines, level_title,
                              publish_settings, title, unit_search_fields, unit_word)
from zoning.scenario import Publish

log = logging.getLogger(__name__)

TABLE_COLUMNS = ["学段", "学校代码", "学校名称", "地址", "片区范围（小区/村）"]
TABLE_NAME = "招生片区划分表"
CHANGES_NAME = "片区调整情况"
TABLE_WIDTHS = (8, 14, 18, 28, 80)
CHANGE_WIDTHS = (22, 14, 8, 18, 18, 12, 10, 40)
PARENTS_CSS = """
html, body { height: auto !important; }
body { display: grid; grid-template-columns: minmax(0, 1fr); grid-template-rows: auto 62vh auto; margin: 0; }
#zoning-head { grid-row: 1; padding: 6px 10px; background: #f6f8fa; border-bottom: 1px solid #ddd; position: relative; z-index: 1100; }
#zoning-head h1 { font-size: 17px; margin: 2px 0 2px 0; line-height: 1.3; }
.zoning-issuer { font-size: 12px; color: #333; margin-bottom: 4px; }
.zoning-issuer a { color: #1f6feb; }
#map_parents { grid-row: 2; height: 62vh !important; width: 100% !important; }
#zoning-table { grid-row: 3; padding: 8px 10px 24px 10px; font-size: 14px; }
#zoning-search { width: 100%; box-sizing: border-box; font-size: 16px; padding: 8px; border: 1px solid #999; border-radius: 6px; }
#zoning-results { list-style: none; margin: 0; padding: 0; position: absolute; left: 10px; right: 10px; background: #fff;
  border: 1px solid #ccc; max-height: 50vh; overflow-y: auto; z-index: 1200; box-shadow: 0 2px 6px rgba(0,0,0,.3); }
.zoning-result, .zoning-none { padding: 8px 10px; border-bottom: 1px solid #eee; cursor: pointer; }
.zoning-result-town, .zoning-result-via { color: #777; margin-left: 8px; font-size: 12px; }
.zoning-result-school { color: #1f6feb; margin-left: 8px; font-size: 13px; }
#zoning-found { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.zoning-ambiguous { padding: 6px 10px; background: #fff5e0; color: #8a4b00; font-size: 13px; }
.zoning-unit-popup .zoning-change { font-size: 13px; }
.zoning-change { color: #8a4b00; background: #fff5e0; border-left: 3px solid #f0a020; padding: 4px 6px; margin-top: 4px; }
.zoning-zone-table { border-collapse: collapse; width: 100%; margin-bottom: 12px; }
.zoning-zone-table th, .zoning-zone-table td { border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; text-align: left; }
.zoning-zone-table th { background: #eef3f8; white-space: nowrap; }
#zoning-table h2 { font-size: 17px; margin: 6px 0; }
#zoning-table h3 { font-size: 15px; margin: 8px 0 4px 0; }
.zoning-head-sample { color: #b00020; font-weight: bold; }
.zoning-footer { border-top: 1px solid #ddd; margin-top: 10px; padding-top: 6px; color: #333; font-size: 13px; }
.zoning-view { background: #fff; border: 0; padding: 6px 10px; font-size: 14px; cursor: pointer; }
.zoning-legend-toggle { border: 0; background: #fff; font-size: 13px; padding: 4px 8px; cursor: pointer; width: 100%; text-align: left; }
.zoning-legend.collapsed .zoning-legend-body { display: none; }
.zoning-town-label { background: transparent; border: 0; box-shadow: none; color: #555; font-size: 12px; font-weight: bold; }
.zoning-school-label { background: rgba(255,255,255,.85); border: 0; box-shadow: none; font-size: 11px; padding: 0 3px; }
.zoning-scroll { overflow-x: auto; max-width: 100%; }
.zoning-far .zoning-school-label { display: none; }
.zoning-review-no { color: #333; font-size: 12px; }
@media (min-width: 900px) {
  html, body { height: 100% !important; }
  body { grid-template-columns: minmax(0, 1fr) 440px; grid-template-rows: auto 1fr; height: 100vh; }
  #zoning-head { grid-column: 1 / span 2; }
  #map_parents { grid-row: 2; grid-column: 1; height: 100% !important; }
  #zoning-table { grid-row: 2; grid-column: 2; overflow-y: auto; border-left: 1px solid #ddd; }
}
"""


# ---------------------------------------------------------------------------------- the tables
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


def _titled_sheet(wb: Workbook, name: str, heading: str, df: pd.DataFrame, widths) -> None:
    """A sheet with a bold title row (county, school year, level) above the Chinese headers."""
    ws = wb.create_sheet(name[:31])
    ws.append([heading])
    ws["A1"].font = Font(bold=True, size=14)
    if len(df.columns) > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(df.columns))
    ws.append(list(df.columns))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in df.itertuples(index=False, name=None):
        ws.append(["" if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in row])
    for col in ws.iter_cols(min_row=3):
        for cell in col:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, w in enumerate(widths):
        ws.column_dimensions[ws.cell(row=2, column=i + 1).column_letter].width = w
    ws.freeze_panes = "A3"


def write_zone_table(table: pd.DataFrame, info: Publish, out_dir: Path) -> dict[str, Path]:
    """``招生片区划分表.xlsx`` (one titled sheet per level) and ``.csv`` (one header row, for machines).

    Both go through :mod:`geodata.tabular`: formula-like cells stay text, the same table gives the
    same bytes.
    """
    out_dir = Path(out_dir)
    csv, xlsx = out_dir / f"{TABLE_NAME}.csv", out_dir / f"{TABLE_NAME}.xlsx"
    write_csv(table, csv)
    wb = Workbook()
    wb.remove(wb.active)
    level_of = {v: k for k, v in LEVEL_ZH.items()}
    for lz in table["学段"].unique() if len(table) else ["小学"]:
        sub = table[table["学段"] == lz]
        _titled_sheet(wb, lz, level_title(info, level_of.get(lz, lz)), sub, TABLE_WIDTHS)
    save_workbook(wb, xlsx)
    return {csv.name: csv, xlsx.name: xlsx}


def changes_for_people(changes: pd.DataFrame) -> pd.DataFrame:
    """The change list with Chinese headers (no ids): what the XLSX and the page show."""
    df = changes[list(CHANGE_COLUMNS_ZH)].rename(columns=CHANGE_COLUMNS_ZH).copy()
    df["起始招生年份"] = [f"{int(v)}年秋季" if pd.notna(v) else "" for v in changes["first_intake_year"]]
    return df


def write_changes(changes: pd.DataFrame, info: Publish, out_dir: Path) -> dict[str, Path]:
    """``片区调整情况.csv`` (contract names) and ``.xlsx`` (titled, Chinese headers)."""
    out_dir = Path(out_dir)
    csv, xlsx = out_dir / f"{CHANGES_NAME}.csv", out_dir / f"{CHANGES_NAME}.xlsx"
    out = changes.copy()
    out["first_intake_year"] = out["first_intake_year"].map(lambda v: "" if pd.isna(v) else int(v))
    write_csv(out, csv)
    wb = Workbook()
    wb.remove(wb.active)
    _titled_sheet(wb, CHANGES_NAME, title(info, "义务教育学校招生片区调整情况（征求意见稿）"),
                  changes_for_people(changes), CHANGE_WIDTHS)
    save_workbook(wb, xlsx)
    return {csv.name: csv, xlsx.name: xlsx}


# ------------------------------------------------------------------------------- the page data
def _shift_bounds(b, gcj02: bool):
    if not gcj02:
        return [round(float(v), 5) for v in b]
    x, y = wgs84_to_gcj02(np.array([b[0], b[2]]), np.array([b[1], b[3]]))
    return [round(float(x[0]), 5), round(float(y[0]), 5), round(float(x[1]), 5), round(float(y[1]), 5)]


def public_units(p: Proposal, gcj02: bool, changes: pd.DataFrame | None = None) -> list[dict]:
    """Units for the search box: id, name, township, aliases, address ranges, outline, a point, the
    school per level and, where it changes, the sentence for the family. No counts."""
    changes = change_list(p) if changes is None else changes
    said: dict[tuple, str] = {}
    level_of = {v: k for k, v in LEVEL_ZH.items()}
    for r in changes.to_dict("records"):
        key = (r["unit_id"], level_of.get(r["level"], r["level"]))
        said[key] = (said[key] + "；" if key in said else "") + change_sentence(unit_word(r["unit_name"]), r)
    per: dict[str, dict] = {}
    for _, r in p.assignments.iterrows():
        per.setdefault(r["unit_id"], {})[r["level"]] = r["school_id"]
    fields = unit_search_fields(p)
    u = p.units[has_shape(p.units)].sort_values("unit_id")
    shapes = page.prepare(u, gcj02=gcj02)
    shape_of = {f["properties"]["unit_id"]: f["geometry"]
                for f in page.features(shapes, ["unit_id"])["features"]}
    pts = u.geometry.representative_point()
    px, py = pts.x.to_numpy(dtype=float, copy=True), pts.y.to_numpy(dtype=float, copy=True)
    if gcj02:
        px, py = wgs84_to_gcj02(px, py)
    bounds = u.geometry.bounds.to_numpy(dtype=float)
    out = []
    for i, (_, r) in enumerate(u.iterrows()):
        uid = r["unit_id"]
        f = fields.get(str(uid), {"aliases": [], "addresses": []})
        out.append({"unit_id": uid, "name": r["name"], "township": page.plain(r.get("township")) or "",
                    "aliases": f["aliases"], "addresses": f["addresses"],
                    "bbox": _shift_bounds(bounds[i], gcj02),
                    "point": [round(float(py[i]), 5), round(float(px[i]), 5)],
                    "shape": shape_of.get(uid), "schools": per.get(uid, {}),
                    "changes": {lv: said[(uid, lv)] for lv in ("primary", "junior") if (uid, lv) in said}})
    return out


def townships(p: Proposal, gcj02: bool) -> dict | None:
    """Township outlines (the units dissolved by 乡镇/街道) with their names, when there are two or more."""
    u = p.units
    if "township" not in u.columns:
        return None
    u = u[has_shape(u) & u["township"].notna() & (u["township"].astype(str).str.strip() != "")]
    if u["township"].nunique() < 2:
        return None
    rows = []
    for town, g in u.groupby("township", sort=True):
        rows.append({"name": str(town), "geometry": shapely.union_all(shapely.make_valid(g.geometry.values))})
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    return page.features(page.prepare(gdf, gcj02=gcj02, tolerance=2 * page.SIMPLIFY_DEG), ["name"])


def _view_bounds(p: Proposal, gcj02: bool) -> dict:
    every = page.prepare(p.zones if len(p.zones) else p.units, gcj02=gcj02)
    county = page.bounds_of(every)
    town = p.units[town_units(p)]
    town_b = page.bounds_of(page.prepare(town, gcj02=gcj02)) if len(town) else county
    r = lambda b: [round(float(v), 5) for v in b]  # noqa: E731
    return {"county": r(county), "town": r(town_b)}


def parents_payload(p: Proposal, info: Publish | None = None, gcj02: bool = False, tiles: str = "none") -> dict:
    """The data the parents' page draws: names, addresses, ids, shapes and the publisher's settings."""
    info = info or Publish()
    levels = p.levels
    changes = change_list(p)
    zones, colors = {}, {}
    for lv in levels:
        z = p.zones[p.zones["level"] == lv]
        colors[lv] = public_colors(z)
        fc = layers.zones(p, lv, gcj02, page.SIMPLIFY_DEG, public=True)
        for f in fc["features"]:
            f["properties"]["color"] = colors[lv].get(str(f["properties"]["school_id"]), f["properties"]["color"])
        zones[lv] = fc
    return {
        "meta": {"title": title(info), "is_sample": p.is_sample, "sample_notice": SAMPLE_NOTICE,
                 "footer": footer_lines(info, tiles), "source_line": ""},
        "icons": layers.icons(),
        "levels": levels,
        "schools": layers.public_schools(p, gcj02),
        "colors": colors,
        "zones": zones,
        "units": public_units(p, gcj02, changes),
        "townships": townships(p, gcj02),
        "roads": layers.lines(p.roads, gcj02, ["name"]),
        "barriers": layers.lines(p.barriers, gcj02, ["name"]),
        "views": _view_bounds(p, gcj02),
    }


def body_html(table: pd.DataFrame, changes: pd.DataFrame, p: Proposal, info: Publish, tiles: str,
              with_downloads: bool) -> str:
    """The page outside the map (header, search box, zone table, change list, footer), autoescaped."""
    level_of = {v: k for k, v in LEVEL_ZH.items()}
    levels = [{"name": level_title(info, level_of.get(lz, lz)),
               "rows": [{"school": str(r["学校名称"]), "address": str(r["地址"]), "units": str(r["片区范围（小区/村）"])}
                        for _, r in table[table["学段"] == lz].iterrows()]}
              for lz in table["学段"].unique()]
    people = changes_for_people(changes)
    downloads = None
    if with_downloads:
        downloads = [(f"{TABLE_NAME}.xlsx", "片区划分表（Excel）"), (f"{TABLE_NAME}.csv", "片区划分表（CSV）"),
                     (f"{CHANGES_NAME}.xlsx", "片区调整情况（Excel）"), (f"{CHANGES_NAME}.csv", "片区调整情况（CSV）"),
                     ("招生范围公告.pdf", "招生范围公告（PDF，可打印）"), ("招生范围公告.docx", "招生范围公告（Word）")]
    return page.html_part("parents_body.html", title=title(info), info=info, is_sample=p.is_sample,
                          sample_notice=SAMPLE_NOTICE, levels=levels,
                          changes_title=title(info, "义务教育学校招生片区调整情况（征求意见稿）"),
                          changes=people.to_dict("records"), change_headers=list(people.columns),
                          downloads=downloads, footer=footer_lines(info, tiles))


def parents_html(p: Proposal, tiles: str = "none", tianditu_key: str | None = None,
                 asset_base: str | None = None, with_downloads: bool = True, info: Publish | None = None) -> str:
    """The parents' page as HTML text (no tiles by default: the proposal's own layers)."""
    info = info if info is not None else publish_settings(p)
    gcj = page.uses_gcj02(tiles)
    data = parents_payload(p, info, gcj02=gcj, tiles=tiles)
    minx, miny, maxx, maxy = data["views"]["town"]
    m = page.new_map((minx, miny, maxx, maxy), tiles=tiles, tianditu_key=tianditu_key, name="parents",
                     review_no=info.map_review_no)
    body = body_html(zone_table(p), change_list(p), p, info, tiles, with_downloads)
    page.add_page(m, "parents.js", data, css=PARENTS_CSS, html=body)
    return page.set_title(page.render(m, asset_base=asset_base), data["meta"]["title"])


def check_review_no(tiles: str, info: Publish) -> None:
    """A public page on 天地图 must show its 审图号: raise :class:`maps.page.MapOptionError` (with the
    fix, in Chinese) when ``tiles`` is ``tianditu`` and ``map_review_no`` is blank."""
    if tiles == "tianditu" and not (info.map_review_no or "").strip():
        raise page.MapOptionError(
            "使用天地图底图公布的地图须注明审图号：请在 scenario.toml 的 [publish] 中填写 map_review_no"
            "（如 map_review_no = \"宁S〔2024〕001号\"），或加上 --map-review-no 审图号；"
            "没有审图号时请用默认的 --tiles none（只画方案自身的图层，无需审图）")


def publish(proposal_dir, out_dir=None, tiles: str = "none", tianditu_key: str | None = None,
            asset_base: str | None = None, info: Publish | None = None) -> dict[str, Path]:
    """Write what is published: the parents' page, the zone table, the change list, the notice, the pictures.

    Parameters
    ----------
    proposal_dir : str or Path
        A proposal folder.
    out_dir : str or Path, optional
        Default ``proposal_dir/publish``. Written atomically by :func:`geodata.outputs.proposal_folder`
        (a temporary folder renamed at the end, with the tool's marker file); on an error nothing changes.
    tiles, tianditu_key, asset_base
        As for :func:`maps.planner.write_planner_map`; the default ``none`` loads nothing from the internet.
    info : Publish, optional
        Who publishes; default the ``[publish]`` settings recorded in the proposal's run.json.

    Returns
    -------
    dict
        File name -> final path: ``parents.html``, ``招生片区划分表.csv/.xlsx``, ``片区调整情况.csv/.xlsx``,
        ``招生范围公告.pdf/.docx``, ``小学招生片区总图.png/.pdf`` (per level) and ``<学校>_<学段>片区图.png``;
        with a relative ``asset_base`` also the Leaflet files under it.
    """
    page.check_tiles(tiles, tianditu_key)
    p = load_proposal(proposal_dir)
    info = info if info is not None else publish_settings(p)
    check_review_no(tiles, info)
    out_dir = Path(out_dir) if out_dir is not None else p.path / "publish"
    names: list[str] = []
    with proposal_folder(out_dir) as tmp:
        (tmp / "parents.html").write_text(parents_html(p, tiles, tianditu_key, asset_base, info=info),
                                          encoding="utf-8")
        names.append("parents.html")
        names += list(write_zone_table(zone_table(p), info, tmp))
        names += list(write_changes(change_list(p), info, tmp))
        names += list(notice.write_notice(p, info, tmp))
        names += list(images.write_images(p, tmp, info))
        assets = page.copy_assets_beside(asset_base, tmp)
        if assets is not None:
            names += [f.relative_to(tmp).as_posix() for f in sorted(assets.rglob("*")) if f.is_file()]
    final = {name: out_dir / name for name in names}
    log.info("已发布 %d 个文件到 %s", len(final), out_dir)
    return final
