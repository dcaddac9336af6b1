"""Hand-made proposal folders for the map tests (tests/data/proposal_small, proposal_small_b).

The folders are committed; this module documents how they were made and rewrites them with
``python tests/_maps_fixtures.py``. The data are invented (12 square units near the Pingluo county
seat, two primary schools and one junior school, a canal as barrier) and follow the proposal folder
of docs/ARCHITECTURE.md column by column. ``xss_copy`` makes a copy whose names contain HTML.
"""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
from shapely.geometry import LineString, Point, box, mapping
from shapely.ops import unary_union

HERE = Path(__file__).resolve().parent
SMALL = HERE / "data" / "proposal_small"
SMALL_B = HERE / "data" / "proposal_small_b"

XSS = "<img src=x onerror=alert(1)>"

LON0, LAT0, DLON, DLAT = 106.515, 38.900, 0.006, 0.005
UNIT_NAMES = [
    "鼓楼小区", "玉皇阁小区", "平罗花园", "怡馨苑",
    "南街社区", "北街社区", "文化苑", "东方明珠小区",
    "城西村", "南关村", "八里桥村", "星海湾小区",
]
TOWNSHIP = "城关镇"
SCHOOLS = [
    # school_id, name, level, lon, lat, address, classrooms, capacity
    ("640221001", "城关一小", "primary", 106.5205, 38.9075, "城关镇鼓楼南街1号", 48, 2000),
    ("640221008", "城关八小", "primary", 106.5325, 38.9075, "城关镇东环路8号", 40, 1800),
    ("640221104", "平罗四中", "junior", 106.5245, 38.9135, "城关镇北大街4号", 44, 2000),
]
# Distinctive per-unit counts (the parents' map test looks for them in the HTML).
PRIMARY_STUDENTS = [137, 149, 163, 171, 187, 193, 211, 229, 241, 257, 269, 283]
JUNIOR_STUDENTS = [67, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127]
BARRIER_LON = 106.527  # 唐徕渠, between unit columns 1 and 2


def unit_geoms():
    """The 12 unit squares, row-major from the south-west corner (U01 … U12)."""
    out = []
    for k in range(12):
        row, col = divmod(k, 4)
        x0, y0 = LON0 + col * DLON, LAT0 + row * DLAT
        out.append(box(round(x0, 6), round(y0, 6), round(x0 + DLON, 6), round(y0 + DLAT, 6)))
    return out


def _fc(features):
    return {"type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
            "features": features}


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")


def _metres(p: Point, q: Point) -> float:
    dx = (p.x - q.x) * 111320 * math.cos(math.radians(38.91))
    dy = (p.y - q.y) * 110540
    return math.hypot(dx, dy)


def write_proposal(out: Path, moved_to_p2: bool = True, names: dict | None = None) -> Path:
    """Write one proposal folder.

    Parameters
    ----------
    out : Path
        Folder to (re)create.
    moved_to_p2 : bool
        True: units U03 and U07 (east of the canal, formerly 城关一小) move to 城关八小 (proposal A);
        False: they stay with 城关一小 (proposal B, which differs from A in exactly these 2 units).
    names : dict, optional
        Overrides of unit or school names by id (used for the escaping test).
    """
    names = names or {}
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    geoms = unit_geoms()
    p1, p2, j1 = (s[0] for s in SCHOOLS)
    sname = {s[0]: names.get(s[0], s[1]) for s in SCHOOLS}
    spoint = {s[0]: Point(s[3], s[4]) for s in SCHOOLS}
    units = []
    for k, g in enumerate(geoms):
        uid = f"U{k + 1:02d}"
        col = k % 4
        prev_p = p1 if col <= 1 or uid in ("U03", "U07") else p2
        if uid in ("U03", "U07"):
            cur_p = p2 if moved_to_p2 else p1
        else:
            cur_p = prev_p
        units.append(dict(unit_id=uid, name=names.get(uid, UNIT_NAMES[k]), township=TOWNSHIP,
                          primary_school=cur_p, junior_school=j1,
                          previous_primary_school=prev_p, previous_junior_school=j1, geometry=g))

    # units.geojson (no counts)
    _write_json(out / "units.geojson", _fc([
        {"type": "Feature", "properties": {k: v for k, v in u.items() if k != "geometry"},
         "geometry": mapping(u["geometry"])} for u in units]))

    # assignments.csv
    rows = []
    for k, u in enumerate(units):
        for level, cur, prev, n in (
            ("primary", u["primary_school"], u["previous_primary_school"], PRIMARY_STUDENTS[k]),
            ("junior", u["junior_school"], u["previous_junior_school"], JUNIOR_STUDENTS[k]),
        ):
            rows.append(dict(unit_id=u["unit_id"], unit_name=u["name"], level=level, school_id=cur,
                             school_name=sname[cur], previous_school_id=prev, students=n,
                             change_year=2023 if cur != prev else ""))
    assign = pd.DataFrame(rows)
    assign.to_csv(out / "assignments.csv", index=False, encoding="utf-8-sig")

    # schools.geojson
    _write_json(out / "schools.geojson", _fc([
        {"type": "Feature", "properties": dict(school_id=s[0], name=sname[s[0]], level=s[2],
                                               address=s[5], classrooms=s[6], capacity=s[7],
                                               open_year=None, close_year=None),
         "geometry": mapping(spoint[s[0]])} for s in SCHOOLS]))

    # zones.geojson
    zones = []
    for s in SCHOOLS:
        level = s[2]
        key = "primary_school" if level == "primary" else "junior_school"
        members = [i for i, u in enumerate(units) if u[key] == s[0]]
        counts = PRIMARY_STUDENTS if level == "primary" else JUNIOR_STUDENTS
        students = sum(counts[i] for i in members)
        limit = 45 if level == "primary" else 50
        classes = math.ceil(students / limit) + 2
        zones.append({"type": "Feature", "properties": dict(
            school_id=s[0], name=sname[s[0]], level=level, address=s[5], n_units=len(members),
            students=students, classes=classes, largest_class=limit + 3 - len(members) % 4,
            utilisation=round(students / s[7], 3)),
            "geometry": mapping(unary_union([geoms[i] for i in members]).normalize())})
    _write_json(out / "zones.geojson", _fc(zones))

    # ledger.csv
    led = []
    for s in SCHOOLS:
        level = s[2]
        zone = next(z["properties"] for z in zones if z["properties"]["school_id"] == s[0])
        grades = range(1, 7) if level == "primary" else range(7, 10)
        limit = 45 if level == "primary" else 50
        for y, year in enumerate(range(2022, 2028)):
            students = int(zone["students"] * (1.12 - 0.04 * y))
            classes = zone["classes"] + 1
            largest = limit + 8 - 3 * y
            row = dict(school_id=s[0], name=sname[s[0]], level=level, year=year, students=students,
                       classes=classes, largest_class=largest,
                       large_classes=max(0, 3 - y), huge_classes=0,
                       over_size_limit=students > s[7], over_class_limit=largest > limit,
                       over_classrooms=classes > s[6], closed_to_transfers=students > s[7],
                       intake_seats=limit * 4, intake_classes=4)
            for g in range(1, 10):
                row[f"students_g{g}"] = students // len(grades) if g in grades else 0
                row[f"classes_g{g}"] = classes // len(grades) if g in grades else 0
            row["first_year_within_limits"] = 2025
            led.append(row)
    pd.DataFrame(led).to_csv(out / "ledger.csv", index=False, encoding="utf-8-sig")

    # barriers, roads, routes
    _write_json(out / "barriers.geojson", _fc([{"type": "Feature",
        "properties": {"name": "唐徕渠", "kind": "canal"},
        "geometry": mapping(LineString([(BARRIER_LON, LAT0 - 0.003), (BARRIER_LON + 0.0005, LAT0 + 3 * DLAT + 0.003)]))}]))
    _write_json(out / "roads.geojson", _fc([
        {"type": "Feature", "properties": {"name": "鼓楼南街"},
         "geometry": mapping(LineString([(LON0, 38.9075), (LON0 + 4 * DLON, 38.9075)]))},
        {"type": "Feature", "properties": {"name": "北大街"},
         "geometry": mapping(LineString([(106.5245, LAT0), (106.5245, LAT0 + 3 * DLAT)]))}]))
    routes = []
    for u in units:
        c = u["geometry"].centroid
        for level, key in (("primary", "primary_school"), ("junior", "junior_school")):
            sp = spoint[u[key]]
            routes.append({"type": "Feature", "properties": dict(
                unit_id=u["unit_id"], level=level, school_id=u[key], distance_m=round(_metres(c, sp), 1)),
                "geometry": mapping(LineString([(round(c.x, 6), round(c.y, 6)), (c.x, sp.y), (sp.x, sp.y)]))})
    _write_json(out / "routes.geojson", _fc(routes))

    # zone_table.csv / .xlsx (as geodata.outputs writes it)
    zt = []
    for s in SCHOOLS:
        sub = assign[(assign.school_id == s[0]) & (assign.level == ("primary" if s[2] == "primary" else "junior"))]
        zt.append({"学段": "小学" if s[2] == "primary" else "初中", "学校代码": s[0], "学校名称": sname[s[0]],
                   "地址": s[5], "片区范围（小区/村）": "、".join(sub.unit_name)})
    pd.DataFrame(zt).to_csv(out / "zone_table.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame(zt).to_excel(out / "zone_table.xlsx", index=False)

    moved = int((assign.school_id != assign.previous_school_id).sum())
    _write_json(out / "metrics.json", dict(
        status="optimal", gap=0.0, objective=12345.6, students_moved=int(
            assign.loc[assign.school_id != assign.previous_school_id, "students"].sum()),
        mean_distance_m=812.4, max_distance_m=1890.2, compactness=0.81,
        violations=[], over_limits_before=[{"school_id": p2, "name": sname[p2], "year": 2022}] if moved else [],
        over_limits_after=[], is_sample=True))
    _write_json(out / "run.json", dict(
        tool_version="0.1.0", created="2026-11-28", source="sample", inputs={"units": "0" * 64},
        scenario={"base_year": 2022, "target_year": 2025, "horizon": 2027},
        solver={"name": "HiGHS", "version": "1.16", "time_limit": 60, "gap": 0.0, "log": "solver.log"},
        model="model.lp"))
    (out / "solver.log").write_text("手工制作的测试方案，无求解日志。\n", encoding="utf-8")
    return out


def xss_copy(dst: Path) -> Path:
    """A proposal whose unit U01 and school 城关一小 are named ``<img src=x onerror=alert(1)>``."""
    return write_proposal(dst, names={"U01": XSS, "640221001": XSS})


if __name__ == "__main__":
    write_proposal(SMALL, moved_to_p2=True)
    write_proposal(SMALL_B, moved_to_p2=False)
    print("written", SMALL, SMALL_B)


#: aliases and address ranges added to units.geojson by :func:`publish_copy` (issue 19's search)
ALIASES = {"U04": "怡馨家园；老粮站小区", "U08": "明珠花园"}
ADDRESSES = {"U01": "鼓楼南街1-99号（单号）；北大街2-40号（双号）", "U02": "鼓楼南街2-98号（双号）",
             "U12": "星海路"}
SETTINGS = {"county": "平罗县", "school_year": "2024年秋季", "office": "平罗县教育体育局",
            "phone": "0952-6012345", "notice": "最终以正式公告为准。", "map_review_no": ""}


def publish_copy(dst: Path, src: Path = SMALL, settings: dict | None = None) -> Path:
    """A copy of ``src`` whose units carry ``aliases`` / ``addresses`` and whose run.json records
    the ``[publish]`` settings (as zoning plan records the scenario)."""
    shutil.copytree(src, dst)
    fc = json.loads((dst / "units.geojson").read_text("utf-8"))
    for f in fc["features"]:
        uid = f["properties"]["unit_id"]
        f["properties"]["aliases"] = ALIASES.get(uid)
        f["properties"]["addresses"] = ADDRESSES.get(uid)
    _write_json(dst / "units.geojson", fc)
    run = json.loads((dst / "run.json").read_text("utf-8"))
    run["scenario"]["publish"] = dict(SETTINGS if settings is None else settings)
    _write_json(dst / "run.json", run)
    return dst


#: units renamed by :func:`lookalike_copy`: names that differ only by a 小区/花园/家园 suffix (issue 19
#: review: 东城家园 + Enter opened 东城花园, the one listed first)
LOOKALIKES = {"U05": "东城花园", "U06": "东城家园", "U09": "书香小区", "U10": "书香家园"}
#: reasons written into assignments.csv by :func:`with_reasons` (the optimizer's wording)
REASONS = {"U03": "原学校不在可选范围", "U07": "为化解城关一小超额"}


def lookalike_copy(dst: Path) -> Path:
    """A publish copy (aliases, addresses, settings) whose units U05/U06 and U09/U10 are named alike."""
    src = dst.parent / f"{dst.name}_src"
    write_proposal(src, moved_to_p2=True, names=LOOKALIKES)
    return publish_copy(dst, src=src)


def with_reasons(folder: Path) -> Path:
    """Add the ``reason`` column (as zoning plan writes it) to a proposal's assignments.csv."""
    a = pd.read_csv(folder / "assignments.csv", dtype=str, keep_default_na=False)
    moved = a["school_id"] != a["previous_school_id"]
    a["reason"] = [REASONS.get(u, "") if m else "" for u, m in zip(a["unit_id"], moved)]
    a.to_csv(folder / "assignments.csv", index=False, encoding="utf-8-sig")
    return folder


def broken_geometry_copy(dst: Path) -> Path:
    """A publish copy whose unit U11 (八里桥村) has an empty outline and U12 (星海湾小区) is in two parts."""
    publish_copy(dst)
    fc = json.loads((dst / "units.geojson").read_text("utf-8"))
    for f in fc["features"]:
        uid = f["properties"]["unit_id"]
        if uid == "U11":
            f["geometry"] = {"type": "Polygon", "coordinates": []}
        elif uid == "U12":
            g = box(*unit_geoms()[11].bounds)
            x0, y0, x1, y1 = g.bounds
            f["geometry"] = mapping(box(x0, y0, x1, (y0 + y1) / 2 - 0.0005).union(box(x0, (y0 + y1) / 2 + 0.0005, x1, y1)))
    _write_json(dst / "units.geojson", fc)
    return dst
