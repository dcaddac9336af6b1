"""Turn a :class:`maps.proposal.Proposal` into the JSON payloads the page scripts draw.

The planner's payload may carry per-unit and per-school counts; the parents' payload is built from
:func:`public_units` and :func:`public_schools` only, which carry names, addresses and ids.
"""
from __future__ import annotations

import base64

import geopandas as gpd
import pandas as pd
import shapely

from maps import page
from maps.proposal import LEVEL_ZH, SAMPLE_NOTICE, Proposal

ZONE_METRICS = ("students", "classes", "largest_class", "utilisation", "n_units")
LEDGER_COLUMNS = ("level", "year", "students", "classes", "largest_class", "large_classes",
                  "huge_classes", "over_size_limit", "over_class_limit", "over_classrooms",
                  "closed_to_transfers")


def meta(p: Proposal, title: str) -> dict:
    """Title, data-source line and sample notice."""
    return {"title": title, "source_line": p.source_line(), "is_sample": p.is_sample,
            "sample_notice": SAMPLE_NOTICE}


def icons() -> dict:
    """Leaflet's default marker images as data URIs (no image request from the page)."""
    out = {}
    for key, name in (("iconUrl", "marker-icon.png"), ("iconRetinaUrl", "marker-icon-2x.png"),
                      ("shadowUrl", "marker-shadow.png")):
        b = base64.b64encode(page.asset_path(f"leaflet/images/{name}").read_bytes()).decode()
        out[key] = f"data:image/png;base64,{b}"
    return out


def school_points(p: Proposal, gcj02: bool) -> gpd.GeoDataFrame:
    """Schools as points in the map's datum."""
    s = p.schools[p.schools.geometry.notna()].copy()
    s["geometry"] = s.geometry.representative_point()
    return page.prepare(s, gcj02=gcj02, tolerance=0)


def public_schools(p: Proposal, gcj02: bool) -> list[dict]:
    """Schools with id, name, level, address, colour and position: nothing else."""
    out = []
    for _, r in school_points(p, gcj02).iterrows():
        out.append({"school_id": r["school_id"], "name": r["name"], "level": r["level"],
                    "address": page.plain(r.get("address")) or "", "color": p.color(r["school_id"]),
                    "lat": round(r.geometry.y, 5), "lon": round(r.geometry.x, 5)})
    return out


def planner_schools(p: Proposal, gcj02: bool) -> list[dict]:
    """Public school fields plus classrooms, capacity and the zone metrics of each level."""
    base = public_schools(p, gcj02)
    extra = p.schools.set_index("school_id")
    for s in base:
        row = extra.loc[s["school_id"]]
        if isinstance(row, pd.DataFrame):
            row = row.iloc[0]
        s["classrooms"] = page.plain(row.get("classrooms"))
        s["capacity"] = page.plain(row.get("capacity"))
        s["metrics"] = {}
        for _, z in p.zones[p.zones["school_id"] == s["school_id"]].iterrows():
            s["metrics"][z["level"]] = {c: page.plain(z.get(c)) for c in ZONE_METRICS if c in p.zones.columns}
        if p.ledger is not None and "first_year_within_limits" in p.ledger.columns:
            v = p.ledger.loc[p.ledger["school_id"] == s["school_id"], "first_year_within_limits"].dropna()
            s["first_year_within_limits"] = page.plain(v.iloc[0]) if len(v) else None
    return base


def ledger(p: Proposal) -> dict:
    """Ledger rows by school id, sorted by year."""
    if p.ledger is None:
        return {}
    cols = [c for c in LEDGER_COLUMNS if c in p.ledger.columns]
    out: dict[str, list] = {}
    for sid, sub in p.ledger.sort_values("year").groupby("school_id", sort=True):
        out[sid] = [{c: _boolish(page.plain(r[c])) for c in cols} for _, r in sub.iterrows()]
    return out


def _boolish(v):
    if isinstance(v, str) and v in ("True", "False"):
        return v == "True"
    return v


def zones(p: Proposal, level: str, gcj02: bool, tolerance: float, public: bool) -> dict:
    """The zone polygons of one level, with colour; metrics only when not ``public``."""
    z = p.zones[p.zones["level"] == level].sort_values("school_id").copy()
    z["color"] = z["school_id"].map(p.color)
    if "address" not in z.columns:
        z["address"] = ""
    cols = ["school_id", "name", "level", "address", "color"]
    if not public:
        cols += [c for c in ZONE_METRICS if c in z.columns]
    return page.features(page.prepare(z, gcj02=gcj02, tolerance=tolerance), cols)


def assignment_table(p: Proposal) -> pd.DataFrame:
    """assignments.csv joined to unit names and townships (one row per unit and level)."""
    a = p.assignments.copy()
    u = p.units.drop(columns="geometry")
    names = u.set_index("unit_id")["name"] if "name" in u.columns else pd.Series(dtype=str)
    towns = u.set_index("unit_id")["township"] if "township" in u.columns else pd.Series(dtype=str)
    a["name"] = a["unit_id"].map(names)
    a["name"] = a["name"].where(a["name"].notna() & (a["name"] != ""), a["unit_name"])
    a["township"] = a["unit_id"].map(towns).fillna("")
    return a


def previous_zones(p: Proposal, level: str, gcj02: bool, tolerance: float) -> dict:
    """Current (previous) zones: the units dissolved by their previous school of ``level``."""
    a = p.assignments[(p.assignments["level"] == level) & p.assignments["previous_school_id"].notna()]
    prev = a.set_index("unit_id")["previous_school_id"]
    u = p.units[p.units["unit_id"].isin(prev.index)].copy()
    if u.empty:
        return {"type": "FeatureCollection", "features": []}
    u["school_id"] = u["unit_id"].map(prev)
    rows = []
    names = dict(zip(p.schools["school_id"], p.schools["name"]))
    for sid, sub in u.groupby("school_id", sort=True):
        rows.append({"school_id": sid, "name": names.get(sid, sid), "color": p.color(sid),
                     "geometry": shapely.union_all(shapely.make_valid(sub.geometry.values))})
    g = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    return page.features(page.prepare(g, gcj02=gcj02, tolerance=tolerance), ["school_id", "name", "color"])


def planner_units(p: Proposal, gcj02: bool, tolerance: float) -> dict:
    """Unit polygons with, per level, the proposed and previous school, the pupils and why the unit
    moved (``reason`` of assignments.csv, when the proposal has one)."""
    a = p.assignments
    per: dict[str, dict] = {}
    for _, r in a.iterrows():
        reason = page.plain(r["reason"]) if "reason" in a.columns else None
        per.setdefault(r["unit_id"], {})[r["level"]] = {
            "school": r["school_id"], "previous": r["previous_school_id"],
            "students": page.plain(r["students"]) if "students" in a.columns else None,
            "reason": reason.strip() if isinstance(reason, str) and reason.strip() else None}
    u = page.prepare(p.units, gcj02=gcj02, tolerance=tolerance)
    fc = page.features(u, ["unit_id", "name", "township"])
    for f in fc["features"]:
        f["properties"].update(per.get(f["properties"]["unit_id"], {}))
    return fc


def lines(gdf, gcj02: bool, columns) -> dict | None:
    """A line layer (barriers, roads, routes) or None when absent."""
    if gdf is None or gdf.empty:
        return None
    return page.features(page.prepare(gdf, gcj02=gcj02, tolerance=page.SIMPLIFY_DEG), columns)


def level_title(level: str) -> str:
    """小学 / 初中."""
    return LEVEL_ZH.get(level, level)
