"""Generate the bundled, made-up Pingluo sample data folder (SPEC §2, §6).

Usage::

    python -m geodata.sample.generate [--out DIR] [--seed N]

Everything is invented (shapes, names, counts) and only *shaped like* 平罗县: the county seat
城关镇 near 106.53° E, 38.91° N, a street grid of compounds cut by 唐徕渠, the Baotou–Lanzhou
railway and 惠农渠, villages of eleven other townships as Voronoi cells inside an invented county
outline. The numbers reproduce the problems of the county's 2023 action plan (see README.md).
The output is deterministic: the same seed gives byte-identical files.

Geometry is built in a local metric frame (metres east/north of the seat) and converted to WGS84
lon/lat by a fixed linear map (rounded to 1e-7 degrees), so shared vertices stay shared.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon, mapping
from shapely.ops import unary_union

from geodata.sample import SAMPLE_NOTICE, SAMPLE_NOTICE_EN, sample_dir
from zoning.policy import CLASS_LIMIT, CLASSES_PER_ARTS_ROOM, INDICATORS, PER_100, SIZE_LIMIT

log = logging.getLogger(__name__)

DEFAULT_SEED = 20220831
BASE_YEAR, TARGET_YEAR, HORIZON = 2022, 2025, 2027
ROSTER_YEAR = BASE_YEAR + 1

# Local metric frame centred on the (made-up) county seat.
LON0, LAT0 = 106.53, 38.91
KX = 111_320.0 * math.cos(math.radians(LAT0))  # metres per degree of longitude
KY = 111_000.0  # metres per degree of latitude
DECIMALS = 7

# ---------------------------------------------------------------------------------------------
# Fixed invented parameters (documented in README.md)
# ---------------------------------------------------------------------------------------------

#: Invented county outline (lon, lat), NOT the real boundary.
OUTLINE_LONLAT = [
    (106.05, 38.62), (106.35, 38.60), (106.62, 38.63), (106.80, 38.69), (106.95, 38.80),
    (106.97, 38.93), (106.89, 39.05), (106.70, 39.10), (106.50, 39.08), (106.30, 39.04),
    (106.11, 38.98), (105.97, 38.86), (105.99, 38.72),
]

#: Townships other than the seat: name, centre (lon, lat), villages, primary school, junior school.
TOWNSHIPS = [
    ("姚伏镇", 106.47, 38.80, 26, "P10", "J11"),
    ("黄渠桥镇", 106.58, 39.03, 22, "N01", "N01"),
    ("宝丰镇", 106.66, 39.00, 18, "P11", "J12"),
    ("头闸镇", 106.42, 38.98, 20, "P12", "J14"),
    ("崇岗镇", 106.22, 38.92, 14, "P13", "J14"),
    ("陶乐镇", 106.83, 38.85, 18, "P14", "J13"),
    ("高庄乡", 106.61, 38.90, 18, "P15", "J07"),
    ("灵沙乡", 106.43, 38.88, 16, "P16", "J06"),
    ("渠口乡", 106.40, 38.72, 16, "P17", "J11"),
    ("通伏乡", 106.58, 38.76, 16, "P18", "J11"),
    ("红崖子乡", 106.86, 39.02, 10, "P19", "J12"),
    ("高仁乡", 106.78, 38.70, 10, "P20", "J13"),
]
#: Pupils per grade and village in the base year (rural intake of 2022 = villages x this).
RURAL_PER_VILLAGE = 6.0
RURAL_GROWTH = -0.035  # rural cohorts shrink 3.5 % a year
TOWN_GROWTH = 0.008  # town cohorts grow 0.8 % a year

SEAT = "城关镇"
NX, NY = 14, 12  # town blocks: columns x rows
CANAL_W_LINE, RAIL_LINE, CANAL_E_LINE = 3, 10, 12  # x grid lines carrying the barriers
REGION_OF_COLUMN = ["W"] * 3 + ["C"] * 7 + ["E1"] * 2 + ["E2"] * 2

#: Town primary schools: id, name, block (column, row), region, base intake, zone weight.
TOWN_PRIMARY = [
    ("P01", "城关一小", (1, 3), 280, 1.0),
    ("P02", "城关二小", (5, 10), 310, 1.0),
    ("P03", "城关三小", (1, 9), 230, 1.0),
    ("P04", "城关四小", (10, 6), 250, 1.0),
    ("P05", "城关五小", (8, 2), 200, 1.0),
    ("P06", "城关六小", (4, 2), 190, 1.0),
    ("P07", "城关七小", (13, 6), 170, 1.0),
    ("P08", "城关八小", (6, 6), None, 1.9),
    ("P09", "城关九小", (8, 7), None, None),
]
#: 城关八小's zone, by intake year (grade 1 in autumn of that year); 2017–2022 are the 2022
#: grades 6..1, 2023–2028 the children aged 5..0 on 31 August 2022.
P08_COHORTS = {
    2017: 410, 2018: 406, 2019: 392, 2020: 335, 2021: 330, 2022: 325,
    2023: 360, 2024: 364, 2025: 368, 2026: 371, 2027: 375, 2028: 378,
}
P08_CLASSES = {1: 8, 2: 8, 3: 8, 4: 7, 5: 7, 6: 7}
P08_CLASSROOMS = 46
P09_CLASSROOMS = 36
#: Town junior schools: id, name, block, the primary zones they take.
TOWN_JUNIOR = [
    ("J04", "平罗四中", (6, 9), ("P08", "P02")),
    ("J05", "平罗五中", (6, 1), ("P05", "P06")),
    ("J06", "平罗六中", (0, 6), ("P01", "P03")),
    ("J07", "平罗七中", (11, 3), ("P04", "P07")),
]
J04_ENROLLED = {7: 720, 8: 840, 9: 740}
J04_CLASSES = {7: 15, 8: 15, 9: 15}
J04_CLASSROOMS = 45
RURAL_SCHOOLS = [  # id, name, level, township
    ("P10", "姚伏小学", "primary", "姚伏镇"), ("P11", "宝丰小学", "primary", "宝丰镇"),
    ("P12", "头闸小学", "primary", "头闸镇"), ("P13", "崇岗小学", "primary", "崇岗镇"),
    ("P14", "陶乐小学", "primary", "陶乐镇"), ("P15", "高庄小学", "primary", "高庄乡"),
    ("P16", "灵沙小学", "primary", "灵沙乡"), ("P17", "渠口小学", "primary", "渠口乡"),
    ("P18", "通伏小学", "primary", "通伏乡"), ("P19", "红崖子小学", "primary", "红崖子乡"),
    ("P20", "高仁小学", "primary", "高仁乡"),
    ("J11", "姚伏中学", "junior", "姚伏镇"), ("J12", "宝丰中学", "junior", "宝丰镇"),
    ("J13", "陶乐中学", "junior", "陶乐镇"), ("J14", "头闸中学", "junior", "头闸镇"),
    ("N01", "黄渠桥九年制学校", "nine_year", "黄渠桥镇"),
]
#: Which indicators each school is short of on the 2022 enrollment (SPEC §6).
SHORTFALLS = {
    "P08": ("teaching_area_m2",),
    "J04": ("teaching_area_m2", "pe_art_teachers"),
    "P01": ("sports_area_m2",),
    "P03": ("sports_area_m2",),
    "P04": ("pe_art_teachers",),
    "J07": ("pe_art_teachers",),
    "J05": ("music_rooms",),
    "J06": ("art_rooms",),
    "N01": ("music_rooms", "art_rooms"),
}

EW_STREETS = ["育才街", "团结街", "民族街", "鼓楼南街", "新华街", "解放街", "鼓楼街", "平安街",
              "振兴街", "光明街", "建设街", "文化街", "北环街"]
NS_STREETS = ["西环路", "贺兰路", "中山路", None, "宁安路", "玉皇阁路", "教育路", "人民路", "利民路",
              "新民路", None, "惠民路", None, "沙湖路", "东环路"]
TOWN_CROSSINGS = {  # barrier line -> {street row: crossing kind}
    CANAL_W_LINE: {2: "bridge", 6: "bridge", 10: "bridge"},
    RAIL_LINE: {3: "underpass", 8: "underpass"},
    CANAL_E_LINE: {4: "bridge", 9: "bridge"},
}
BARRIER_NAMES = {CANAL_W_LINE: "唐徕渠", RAIL_LINE: "包兰铁路", CANAL_E_LINE: "惠农渠"}

COMPOUND_PREFIXES = [
    "金城", "锦绣", "阳光", "康乐", "富民", "兴平", "怡景", "南湖", "北湖", "文化", "民生", "德胜",
    "世纪", "华夏", "凤凰", "天河", "泰和", "嘉禾", "丽景", "翠柳", "紫荆", "银河", "东城", "西城",
    "明珠", "新华", "振兴", "金岸", "润园", "星海", "贺兰", "塞上", "宁安", "永安", "长城", "国泰",
    "福兴", "湖畔", "唐徕", "惠农", "平安", "幸福", "和谐", "滨河", "水岸", "书香", "育才", "康居",
    "盛世", "悦海", "清华", "东方", "中央", "馨悦", "景泰", "富康", "宏达", "兴庆", "学府", "田园",
]
COMPOUND_SUFFIXES = ["小区", "花园", "名苑", "家园", "佳苑", "雅居", "新村", "公寓", "华府", "苑"]
VILLAGE_FIRST = ["东", "西", "南", "北", "新", "永", "红", "金", "兴", "丰", "宝", "星", "胜", "前",
                 "高", "双", "六", "八", "黎", "联", "常", "立", "正", "富", "光", "团", "民", "沙"]
VILLAGE_SECOND = ["丰", "星", "光", "胜", "安", "渠", "湖", "河", "庄", "堡", "湾", "明", "进", "和",
                  "乐", "林", "泉", "滩", "园", "峰", "桥", "柳"]

# ---------------------------------------------------------------------------------------------
# Coordinates
# ---------------------------------------------------------------------------------------------


def _to_lonlat_array(xy: np.ndarray) -> np.ndarray:
    out = np.empty_like(xy, dtype=float)
    out[:, 0] = np.round(LON0 + xy[:, 0] / KX, DECIMALS)
    out[:, 1] = np.round(LAT0 + xy[:, 1] / KY, DECIMALS)
    return out


def to_wgs84(geom):
    """Map a geometry of the local metric frame to WGS84 lon/lat (rounded to 1e-7°)."""
    return shapely.transform(geom, _to_lonlat_array)


def from_lonlat(lon: float, lat: float) -> tuple[float, float]:
    """Local metres of a lon/lat pair."""
    return ((lon - LON0) * KX, (lat - LAT0) * KY)


# ---------------------------------------------------------------------------------------------
# Geography
# ---------------------------------------------------------------------------------------------


def town_grid(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Street grid lines (metres): x of the NX+1 north–south lines, y of the NY+1 east–west lines."""
    dx = np.round(rng.uniform(255, 330, NX))
    dy = np.round(rng.uniform(250, 320, NY))
    xs = np.concatenate([[0.0], np.cumsum(dx)])
    ys = np.concatenate([[0.0], np.cumsum(dy)])
    xs -= np.round(xs[-1] / 2)
    ys -= np.round(ys[-1] / 2)
    return xs, ys


def _unique_names(rng, firsts, seconds, n, fixed=(), suffix=""):
    combos = [a + b + suffix for a in firsts for b in seconds if a != b]
    combos = [c for c in combos if c not in fixed]
    picked = list(fixed) + [combos[i] for i in rng.permutation(len(combos))[: n - len(fixed)]]
    return picked[:n]


def build_town(rng, xs, ys) -> pd.DataFrame:
    """Compound polygons (one per block) with region and names."""
    n = NX * NY
    fixed = ["鼓楼小区", "玉皇阁花园", "沙湖名苑"]
    names = _unique_names(rng, COMPOUND_PREFIXES, COMPOUND_SUFFIXES, n, fixed=fixed)
    order = rng.permutation(n)  # where the fixed names land
    rows = []
    k = 0
    for r in range(NY):
        for c in range(NX):
            poly = Polygon([(xs[c], ys[r]), (xs[c + 1], ys[r]), (xs[c + 1], ys[r + 1]),
                            (xs[c], ys[r + 1])])
            rows.append({"col": c, "row": r, "region": REGION_OF_COLUMN[c], "geometry": poly,
                         "name": names[order[k]]})
            k += 1
    df = pd.DataFrame(rows)
    df["township"] = SEAT
    return df


def town_outline(xs, ys) -> Polygon:
    """The town rectangle with every boundary grid node as a vertex."""
    ring = [(x, ys[0]) for x in xs] + [(xs[-1], y) for y in ys[1:]]
    ring += [(x, ys[-1]) for x in xs[::-1][1:]] + [(xs[0], y) for y in ys[::-1][1:-1]]
    return Polygon(ring)


def county_outline() -> Polygon:
    return Polygon([from_lonlat(lon, lat) for lon, lat in OUTLINE_LONLAT])


def build_villages(rng, outline: Polygon, town: Polygon) -> pd.DataFrame:
    """Village polygons: Voronoi cells of seeds around township centres, clipped to the outline."""
    centres = np.array([from_lonlat(t[1], t[2]) for t in TOWNSHIPS])
    river = barrier_lines_metric(None, None)["黄河"]
    avoid = town.buffer(1200)
    seeds, owner = [], []
    for ti, t in enumerate(TOWNSHIPS):  # centre first: it becomes the township's central village
        seeds.append(tuple(centres[ti]))
        owner.append(ti)
    for ti, t in enumerate(TOWNSHIPS):
        cx, cy = centres[ti]
        east = _east_of(river, cx, cy)
        need, tries = t[3] - 1, 0
        while need > 0 and tries < 5000:
            tries += 1
            x, y = cx + rng.normal(0, 5200), cy + rng.normal(0, 5200)
            p = Point(x, y)
            if not outline.buffer(-600).contains(p) or avoid.contains(p):
                continue
            d = np.hypot(centres[:, 0] - x, centres[:, 1] - y)
            if int(np.argmin(d)) != ti or _east_of(river, x, y) != east:
                continue
            if min(math.hypot(x - sx, y - sy) for sx, sy in seeds) < 1700:
                continue
            seeds.append((round(x, 1), round(y, 1)))
            owner.append(ti)
            need -= 1
    rural = outline.difference(town)
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=outline.buffer(20000),
                                     ordered=True)
    pieces = []
    for i, cell in enumerate(cells.geoms):
        part = cell.intersection(rural)
        seed = Point(seeds[i])
        geoms = list(getattr(part, "geoms", [part]))
        main = [g for g in geoms if g.contains(seed)]
        pieces.append(main[0])
        for g in geoms:
            if not g.contains(seed) and g.area > 0:
                pieces.append(("orphan", g))
    cells_out = [p for p in pieces if not isinstance(p, tuple)]
    orphans = [p[1] for p in pieces if isinstance(p, tuple)]
    for g in orphans:  # give stray pieces to the neighbour with the longest shared edge
        shared = [cells_out[k].boundary.intersection(g.boundary).length for k in range(len(cells_out))]
        k = int(np.argmax(shared))
        cells_out[k] = cells_out[k].union(g)
    names = _unique_names(rng, VILLAGE_FIRST, VILLAGE_SECOND, len(seeds), suffix="村",
                          fixed=[TOWNSHIPS[o][0].rstrip("镇乡") + "村" for o in range(len(TOWNSHIPS))])
    rows = []
    for i, geom in enumerate(cells_out):
        if geom.distance(town) < 1.0:  # take every grid node of the town edge as a vertex
            geom = shapely.snap(geom, town, 0.5)
        geom = shapely.normalize(geom)
        if geom.geom_type != "Polygon":
            geom = max(geom.geoms, key=lambda g: g.area)
        rows.append({"township": TOWNSHIPS[owner[i]][0], "geometry": geom, "name": names[i],
                     "seed": seeds[i], "central": i < len(TOWNSHIPS)})
    df = pd.DataFrame(rows)
    # stable order: township as listed, central village first, then west to east
    df["t_order"] = [next(k for k, t in enumerate(TOWNSHIPS) if t[0] == tw) for tw in df.township]
    df["sx"] = [s[0] for s in df.seed]
    df = df.sort_values(["t_order", "central", "sx"], ascending=[True, False, True])
    return df.reset_index(drop=True)


def _east_of(line: LineString, x: float, y: float) -> bool:
    """Whether (x, y) lies east of a roughly north–south line."""
    ys = np.array([c[1] for c in line.coords])
    xs = np.array([c[0] for c in line.coords])
    return x > float(np.interp(y, ys, xs))


def _vertical_barrier(x_town, ys, slope, amp, phase):
    y0, y1 = ys[0] - 800, ys[-1] + 800
    pts = []
    for y in np.arange(-44000, y0, 4000.0):
        w = amp * math.sin(y / 6000 + phase) * min(1.0, (y0 - y) / 3000)
        pts.append((round(x_town + slope * (y - y0) + w, 1), float(y)))
    pts.append((x_town, y0))
    pts += [(x_town, float(y)) for y in ys]
    pts.append((x_town, y1))
    for y in np.arange(y1 + 4000, 34000, 4000.0):
        w = amp * math.sin(y / 6000 + phase) * min(1.0, (y - y1) / 3000)
        pts.append((round(x_town + slope * (y - y1) + w, 1), float(y)))
    return LineString(pts)


def barrier_lines_metric(xs, ys) -> dict[str, LineString]:
    """Barrier lines in metres (the river alone when the grid is not given)."""
    river = LineString([(round(18200 + 0.25 * y + 800 * math.sin(y / 9000), 1), float(y))
                        for y in np.arange(-44000, 34001, 2000.0)])
    out = {"黄河": river}
    if xs is None:
        return out
    out["包兰铁路"] = _vertical_barrier(xs[RAIL_LINE], ys, 0.09, 0.0, 0.0)
    out["唐徕渠"] = _vertical_barrier(xs[CANAL_W_LINE], ys, 0.06, 300.0, 0.7)
    out["惠农渠"] = _vertical_barrier(xs[CANAL_E_LINE], ys, 0.09, 180.0, 2.1)
    out["国道109线"] = _vertical_barrier(xs[0] - 700, ys, 0.06, 0.0, 0.0)
    return out


BARRIER_KIND = {"包兰铁路": "railway", "唐徕渠": "canal", "惠农渠": "canal", "国道109线": "trunk_road",
                "黄河": "river"}


def build_streets(xs, ys) -> tuple[list[dict], list[dict]]:
    """Town street segments (split at intersections) and the named town crossings."""
    streets, crossings = [], []
    for i, x in enumerate(xs):
        if NS_STREETS[i] is None:
            continue
        for j in range(NY):
            streets.append({"name": NS_STREETS[i], "kind": "street",
                            "geometry": LineString([(x, ys[j]), (x, ys[j + 1])])})
    for j, y in enumerate(ys):
        i = 0
        while i < NX:
            a, b = xs[i], xs[i + 1]
            if i + 1 in BARRIER_NAMES:  # the segment ends on a barrier line
                line = i + 1
                kind = TOWN_CROSSINGS[line].get(j)
                if kind:  # crossing: one segment straight over the barrier
                    streets.append({"name": EW_STREETS[j], "kind": "street",
                                    "geometry": LineString([(a, y), (xs[line], y), (xs[i + 2], y)])})
                    bname = BARRIER_NAMES[line]
                    label = {"bridge": f"{EW_STREETS[j]}{bname}桥",
                             "underpass": f"{EW_STREETS[j]}铁路下穿通道"}[kind]
                    crossings.append({"name": label, "kind": kind, "barrier": bname,
                                      "geometry": Point(xs[line], y)})
                else:  # dead ends 20 m short of the barrier on both sides
                    streets.append({"name": EW_STREETS[j], "kind": "street",
                                    "geometry": LineString([(a, y), (b - 20, y)])})
                    streets.append({"name": EW_STREETS[j], "kind": "street",
                                    "geometry": LineString([(b + 20, y), (xs[i + 2], y)])})
                i += 2
                continue
            streets.append({"name": EW_STREETS[j], "kind": "street",
                            "geometry": LineString([(a, y), (b, y)])})
            i += 1
    return streets, crossings


SEAT_ROADS = ["黄渠桥镇", "宝丰镇", "头闸镇", "崇岗镇", "姚伏镇", "灵沙乡", "高庄乡", "通伏乡", "渠口乡",
              "陶乐镇"]
LINK_ROADS = [("姚伏镇", "渠口乡"), ("姚伏镇", "通伏乡"), ("黄渠桥镇", "宝丰镇"), ("宝丰镇", "红崖子乡"),
              ("陶乐镇", "红崖子乡"), ("陶乐镇", "高仁乡"), ("通伏乡", "高仁乡"), ("头闸镇", "崇岗镇"),
              ("头闸镇", "黄渠桥镇")]


def build_rural_roads(rng, xs, ys, centres: dict[str, tuple[float, float]]) -> list[dict]:
    """Main roads from the seat to the townships and between townships (not yet noded)."""
    town = town_outline(xs, ys)
    inner = town.buffer(-1)
    nodes = [(xs[0], y) for y in ys] + [(xs[-1], y) for y in ys]
    nodes += [(x, ys[0]) for i, x in enumerate(xs) if i not in BARRIER_NAMES]
    nodes += [(x, ys[-1]) for i, x in enumerate(xs) if i not in BARRIER_NAMES]
    roads = []
    for tw in SEAT_ROADS:
        tx, ty = centres[tw]
        start = min(nodes, key=lambda p: (math.hypot(p[0] - tx, p[1] - ty), p))
        roads.append({"name": f"平{tw[0]}公路", "kind": "county_road",
                      "geometry": _jittered(rng, start, (tx, ty), inner)})
    for a, b in LINK_ROADS:
        roads.append({"name": f"{a[0]}{b[0]}公路", "kind": "county_road",
                      "geometry": _jittered(rng, centres[a], centres[b], inner)})
    return roads


def _jittered(rng, a, b, inner) -> LineString:
    ax, ay = a
    bx, by = b
    length = math.hypot(bx - ax, by - ay)
    off = rng.uniform(-0.06, 0.06) * length
    nx, ny = -(by - ay) / length, (bx - ax) / length
    mid = (round((ax + bx) / 2 + off * nx, 1), round((ay + by) / 2 + off * ny, 1))
    line = LineString([a, mid, b])
    if line.intersects(inner):
        line = LineString([a, b])
    assert not line.intersects(inner), "rural road runs through the town"
    return line


def rural_crossings(roads: list[dict], barriers: dict[str, LineString]) -> list[dict]:
    """A named crossing at every point where a main road meets a barrier."""
    out = []
    for r in roads:
        for bname, bline in barriers.items():
            # intersect the lines as written (WGS84, rounded): exact even at shallow angles
            inter = to_wgs84(r["geometry"]).intersection(to_wgs84(bline))
            pts = [g for g in getattr(inter, "geoms", [inter]) if g.geom_type == "Point"]
            pts.sort(key=lambda p: (p.y, p.x))  # lon/lat
            for k, p in enumerate(pts):
                kind = BARRIER_KIND[bname]
                suffix = "" if len(pts) == 1 else f"（{k + 1}）"
                if kind in ("canal", "river"):
                    label, ckind = f"{r['name']}{bname}{'大' if kind == 'river' else ''}桥", "bridge"
                elif kind == "railway":
                    label, ckind = f"{r['name']}下穿包兰铁路通道", "underpass"
                else:
                    label, ckind = f"{r['name']}与国道109线平交口", "level_crossing"
                out.append({"name": label + suffix, "kind": ckind, "barrier": bname,
                            "wgs84": Point(round(p.x, DECIMALS), round(p.y, DECIMALS))})
    return out


def node_lines(roads: list[dict]) -> list[dict]:
    """Split roads where they meet, keeping each piece's name and kind."""
    merged = unary_union([r["geometry"] for r in roads])
    out = []
    for piece in getattr(merged, "geoms", [merged]):
        mid = piece.interpolate(0.5, normalized=True)
        k = min(range(len(roads)), key=lambda i: (roads[i]["geometry"].distance(mid), i))
        out.append({"name": roads[k]["name"], "kind": roads[k]["kind"], "geometry": piece})
    out.sort(key=lambda r: (r["name"], r["geometry"].coords[0]))
    return out


# ---------------------------------------------------------------------------------------------
# Zones and counts
# ---------------------------------------------------------------------------------------------


def assign_town_zones(town: pd.DataFrame, xs, ys) -> None:
    """Current primary and junior zones of the compounds (weighted nearest school in region)."""
    centre = {sid: _block_centre(xs, ys, blk) for sid, _, blk, _, _ in TOWN_PRIMARY}
    region = {sid: REGION_OF_COLUMN[blk[0]] for sid, _, blk, _, _ in TOWN_PRIMARY}
    weight = {sid: w for sid, _, _, _, w in TOWN_PRIMARY}
    prim = []
    for _, u in town.iterrows():
        c = u.geometry.centroid
        cands = [s for s in centre if region[s] == u.region and weight[s] is not None]
        prim.append(min(cands, key=lambda s: (math.hypot(c.x - centre[s][0], c.y - centre[s][1])
                                              / weight[s], s)))
    town["primary_school"] = prim
    junior_of = {p: j for j, _, _, ps in TOWN_JUNIOR for p in ps}
    town["junior_school"] = [junior_of[p] for p in prim]


def _block_centre(xs, ys, blk) -> tuple[float, float]:
    c, r = blk
    return ((xs[c] + xs[c + 1]) / 2, (ys[r] + ys[r + 1]) / 2)


def cohort_tables(rng) -> dict[str, dict[int, int]]:
    """Children of each primary zone by intake year 2014..2028 (grade 1 in autumn of the year)."""
    out = {}
    for sid, _, _, base, _ in TOWN_PRIMARY:
        if sid == "P08":
            out[sid] = dict(P08_COHORTS)
        elif base is not None:
            out[sid] = {y: int(round(base * (1 + TOWN_GROWTH) ** (y - BASE_YEAR)
                                     * math.exp(rng.normal(0, 0.025)))) for y in range(2014, 2029)}
    for t in TOWNSHIPS:
        base = t[3] * RURAL_PER_VILLAGE
        out[t[0]] = {y: int(round(base * (1 + RURAL_GROWTH) ** (y - BASE_YEAR)
                                  * math.exp(rng.normal(0, 0.04)))) for y in range(2014, 2029)}
    return out


def _split(rng, total: int, weights: np.ndarray) -> np.ndarray:
    if total == 0:
        return np.zeros(len(weights), dtype=int)
    return rng.multinomial(total, weights / weights.sum())


def fill_unit_counts(rng, units: pd.DataFrame, cohorts, junior_totals) -> None:
    """students_g1..g9 and age_0..age_5 of every unit, consistent with its zones' totals."""
    zone_key = np.where(units.township == SEAT, units.primary_school, units.township)
    w = units["weight"].to_numpy()
    for g in range(1, 10):
        units[f"students_g{g}"] = 0
    for a in range(6):
        units[f"age_{a}"] = 0
    for key in dict.fromkeys(zone_key):  # keeps first-seen order: deterministic
        idx = np.flatnonzero(zone_key == key)
        for g in range(1, 7):
            n = cohorts[key][BASE_YEAR + 1 - g]  # grade g in 2022 entered in 2023 - g
            units.loc[units.index[idx], f"students_g{g}"] = _split(rng, n, w[idx])
        for a in range(6):
            n = cohorts[key][BASE_YEAR + 6 - a]  # aged a on 31 August 2022: grade 1 in 2028 - a
            units.loc[units.index[idx], f"age_{a}"] = _split(rng, n, w[idx])
    prim_total = units[[f"students_g{g}" for g in range(1, 7)]].sum(axis=1).to_numpy() + 1.0
    for jid, totals in junior_totals.items():
        idx = np.flatnonzero(units.junior_school.to_numpy() == jid)
        for g in (7, 8, 9):
            weights = prim_total[idx] * w[idx] ** 0.2
            units.loc[units.index[idx], f"students_g{g}"] = _split(rng, totals[g], weights)


def junior_enrolment(cohorts, units) -> dict[str, dict[int, int]]:
    """2022 grades 7–9 of each junior zone (J04 fixed, others: their primary zones' cohorts)."""
    out = {}
    keys_of = {}
    for _, u in units.drop_duplicates(["junior_school", "primary_school", "township"]).iterrows():
        key = u.primary_school if u.township == SEAT else u.township
        keys_of.setdefault(u.junior_school, [])
        if key not in keys_of[u.junior_school]:
            keys_of[u.junior_school].append(key)
    for jid, keys in keys_of.items():
        if jid == "J04":
            out[jid] = dict(J04_ENROLLED)
        else:
            out[jid] = {g: sum(cohorts[k][BASE_YEAR + 1 - g] for k in keys) for g in (7, 8, 9)}
    return out


def teaches(level: str, g: int) -> bool:
    return level == "nine_year" or (level == "primary") == (g <= 6)


def project_current(schools: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Students and classes of each school, 2022–2027, under the current zones (no moves)."""
    rows = []
    for _, s in schools.iterrows():
        pz = units[units.primary_school == s.school_id]
        jz = units[units.junior_school == s.school_id]
        for year in range(BASE_YEAR, HORIZON + 1):
            n_tot = c_tot = 0
            for g in range(1, 10):
                if not teaches(s.level, g):
                    continue
                g0 = g - (year - BASE_YEAR)  # the cohort's grade in the base year
                lim = CLASS_LIMIT["primary" if g <= 6 else "junior"]
                if g0 >= 1 and (g <= 6 or g0 >= 7 or s.level == "nine_year"):
                    n, c = int(s[f"enrolled_g{g0}"]), int(s[f"classes_g{g0}"])
                elif g <= 6:  # entered grade 1 after the base year: children aged a in the base year
                    n = int(pz[f"age_{5 - (year - BASE_YEAR) + g}"].sum())
                    c = math.ceil(n / lim)
                else:  # entered grade 7 after the base year: the zone's pupils of grade g0
                    n = int(jz[f"students_g{g0}"].sum())
                    c = math.ceil(n / lim)
                n_tot += n
                c_tot += c
            rows.append({"school_id": s.school_id, "year": year, "students": n_tot, "classes": c_tot})
    return pd.DataFrame(rows)


def _classes_for(rng, n: int, limit: int) -> int:
    if n == 0:
        return 0
    return math.ceil(n / (limit * rng.uniform(0.86, 0.95)))


def build_schools(rng, units, cohorts, junior_totals, town_points, rural_points) -> pd.DataFrame:
    """The school table with 2022 enrollment, classes, classrooms, capacity and addresses."""
    rows = []
    for sid, name, blk, _, _ in TOWN_PRIMARY:
        rows.append({"school_id": sid, "name": name, "level": "primary", "township": SEAT,
                     "geometry": town_points[sid]})
    for jid, name, blk, _ in TOWN_JUNIOR:
        rows.append({"school_id": jid, "name": name, "level": "junior", "township": SEAT,
                     "geometry": town_points[jid]})
    for sid, name, level, tw in RURAL_SCHOOLS:
        rows.append({"school_id": sid, "name": name, "level": level, "township": tw,
                     "geometry": rural_points[sid]})
    schools = pd.DataFrame(rows)
    for g in range(1, 10):
        enr, cls = [], []
        for _, s in schools.iterrows():
            if not teaches(s.level, g):
                enr.append(0)
                cls.append(0)
                continue
            zone = units[(units.primary_school if g <= 6 else units.junior_school) == s.school_id]
            n = int(zone[f"students_g{g}"].sum())
            enr.append(n)
            if s.school_id == "P08":
                cls.append(P08_CLASSES[g])
            elif s.school_id == "J04":
                cls.append(J04_CLASSES[g])
            else:
                cls.append(_classes_for(rng, n, CLASS_LIMIT["primary" if g <= 6 else "junior"]))
        schools[f"enrolled_g{g}"] = enr
        schools[f"classes_g{g}"] = cls
    schools["open_year"] = [2023 if s == "P09" else None for s in schools.school_id]
    schools["close_year"] = None
    schools["classrooms"] = 0
    proj = project_current(schools, units)
    peak = proj.groupby("school_id").classes.max()
    rooms = []
    for _, s in schools.iterrows():
        if s.school_id == "P08":
            rooms.append(P08_CLASSROOMS)
        elif s.school_id == "J04":
            rooms.append(J04_CLASSROOMS)
        elif s.school_id == "P09":
            rooms.append(P09_CLASSROOMS)
        else:
            rooms.append(int(peak[s.school_id]) + int(rng.integers(1, 3)))
    schools["classrooms"] = rooms
    peak_students = proj.groupby("school_id").students.max()
    cap = []
    for _, s in schools.iterrows():
        rooms_seats = s.classrooms * CLASS_LIMIT["primary" if s.level != "junior" else "junior"]
        if s.school_id in ("P08", "J04", "P09"):
            cap.append(int(rooms_seats))
            continue
        if s.level == "nine_year":
            jun = sum(int(s[f"classes_g{g}"]) for g in (7, 8, 9)) + 1
            rooms_seats = (s.classrooms - jun) * 45 + jun * 50
        # seats: a little above the peak under the current zones (town primaries tightest)
        spare = (rng.uniform(1.0, 1.025) if s.township == SEAT and s.level == "primary"
                 else rng.uniform(1.10, 1.15) if s.township == SEAT else rng.uniform(1.05, 1.12))
        cap.append(int(min(rooms_seats, math.ceil(peak_students[s.school_id] * spare / 10) * 10)))
    schools["capacity"] = cap
    return schools


def set_indicators(rng, schools: pd.DataFrame) -> None:
    """Indicator columns: comfortably above threshold except the planted shortfalls.

    Values are absolute (teachers, rooms, m², yuan) computed from the 2022 enrollment: 1.22–1.6 x
    the threshold, or 0.86–0.93 x for a planted shortfall. A nine-year school uses the junior
    thresholds (the stricter ones), so it meets a level-weighted threshold as well.
    """
    cols = {k: [] for k in list(INDICATORS) + ["music_rooms", "art_rooms"]}
    for _, s in schools.iterrows():
        n = sum(int(s[f"enrolled_g{g}"]) for g in range(1, 10))
        classes = sum(int(s[f"classes_g{g}"]) for g in range(1, 10))
        if n == 0:  # a school not yet open: equipped for its capacity
            n, classes = int(s.capacity), int(s.classrooms)
        short = SHORTFALLS.get(s.school_id, ())
        for key, (tp, tj, _) in INDICATORS.items():
            thr = tp if s.level == "primary" else tj  # nine-year: the stricter (junior) threshold
            factor = rng.uniform(0.86, 0.93) if key in short else rng.uniform(1.22, 1.6)
            if key in PER_100:  # whole teachers / rooms; a shortfall stays within 85-99 %
                target = thr * n / 100
                value = math.ceil(target * factor)
                if key in short and value >= target:
                    value = math.ceil(target) - 1
            else:
                value = thr * n * factor
                step = 1000 if key == "equipment_value_yuan" else 10
                value = (math.floor(value / step) if key in short else math.ceil(value / step)) * step
            cols[key].append(int(value))
        need = math.ceil(classes / CLASSES_PER_ARTS_ROOM)
        for key in ("music_rooms", "art_rooms"):
            cols[key].append(need - 1 if key in short else math.ceil(need * 1.2))
    for key, values in cols.items():
        schools[key] = values


# ---------------------------------------------------------------------------------------------
# Households
# ---------------------------------------------------------------------------------------------


def _birth_date(rng, age: int) -> str:
    """A birth date giving ``age`` on 31 August of the base year."""
    start = dt.date(BASE_YEAR - age - 1, 9, 1)
    return (start + dt.timedelta(days=int(rng.integers(0, 365)))).isoformat()


def build_households(rng, units: pd.DataFrame, outline: Polygon) -> tuple[pd.DataFrame, list[dict]]:
    """One row per child of the seat's units; plus three planted children outside every unit."""
    rows = []
    hh = 0
    for _, u in units[units.township == SEAT].iterrows():
        kids = []
        for g in range(1, 10):
            school = u.primary_school if g <= 6 else u.junior_school
            kids += [(5 + g, g, school)] * int(u[f"students_g{g}"])
        for a in range(6):
            kids += [(a, None, None)] * int(u[f"age_{a}"])
        order = rng.permutation(len(kids))
        x0, y0, x1, y1 = u.geometry.bounds
        k = 0
        while k < len(order):
            size = min(int(rng.choice([1, 1, 1, 1, 1, 1, 1, 2, 2, 3])), len(order) - k)
            hh += 1
            x, y = rng.uniform(x0 + 15, x1 - 15), rng.uniform(y0 + 15, y1 - 15)
            for j in order[k:k + size]:
                age, grade, school = kids[j]
                rows.append({"household_id": f"H{hh:06d}", "birth_date": _birth_date(rng, age),
                             "grade": grade, "school_id": school, "x": x, "y": y})
            k += size
    planted = []
    bx, by = outline.bounds[0], outline.centroid.y
    for i, (dxm, dym, age, grade, school) in enumerate([
        (-3000, 2000, 7, 2, "P01"), (-4500, -3000, 3, None, None), (-2500, 9000, 1, None, None),
    ]):
        x, y = bx + dxm, by + dym
        assert not outline.contains(Point(x, y))
        hid = f"H9{i + 1:05d}"
        rows.append({"household_id": hid, "birth_date": _birth_date(rng, age), "grade": grade,
                     "school_id": school, "x": x, "y": y})
        planted.append({"household_id": hid, "x": x, "y": y, "grade": grade})
    df = pd.DataFrame(rows)
    ll = _to_lonlat_array(df[["x", "y"]].to_numpy())
    df["lon"] = np.round(ll[:, 0], 6)
    df["lat"] = np.round(ll[:, 1], 6)
    df["grade"] = df["grade"].astype("Int64")
    for p in planted:
        r = df[df.household_id == p["household_id"]].iloc[0]
        p["lon"], p["lat"] = float(r.lon), float(r.lat)
    return df[["household_id", "birth_date", "grade", "school_id", "lon", "lat"]], planted


# ---------------------------------------------------------------------------------------------
# The 2023 roster, the plan and the planted violations
# ---------------------------------------------------------------------------------------------

#: New entrants enrolled outside their zone: (school, zone whose children come, how many).
OUT_OF_ZONE = [("P02", "P06", 6), ("P04", "P07", 5)]
OVER_PLAN_SCHOOL = "P05"  # grade 1: one class and 12 students over the plan
NEW_CLASS_46 = "P03"  # one grade-1 class of 46
NEW_CLASS_51 = "J06"  # one grade-7 class of 51
NEW_CLASS_50 = "J07"  # one grade-7 class of exactly 50 (a boundary, not a violation)
HUGE_CLASS = ("P08", 6, [66, 57, 57, 57, 57, 56, 56])  # continuing grade 6 of 城关八小
TRANSFERS = [("P08", 3, "2023-10-16"), ("P08", 4, "2023-11-06"), ("J04", 8, "2023-10-23")]
RULES_ZH = {
    "over_plan_classes": "招生班数超过计划",
    "over_plan_students": "招生人数超过计划",
    "new_class_over_limit": "新生班额超过上限",
    "large_class": "大班额（56–65人）",
    "huge_class": "超大班额（66人及以上）",
    "out_of_zone": "新生不在本校片区（就近入学）",
    "transfer_into_over_limit": "超规模学校接收转入",
    "unknown_school_id": "学校代码不存在",
    "unknown_unit_id": "住址单元编号不存在",
    "duplicate_student_id": "学籍号重复",
    "grade_not_taught": "年级不属于该校学段",
    "missing_class_id": "缺少班级编号",
}


def _sizes(n: int, k: int) -> list[int]:
    base, extra = divmod(n, k)
    return [base + 1] * extra + [base] * (k - extra)


def _with_one(n: int, k: int, first: int) -> list[int]:
    """k class sizes summing to n with one class of ``first`` and the rest as even as possible."""
    return [first] + _sizes(n - first, k - 1)


def _cohort_year(g: int) -> int:
    return ROSTER_YEAR - (g - 1) if g <= 6 else ROSTER_YEAR - (g - 7)


def build_roster(rng, schools: pd.DataFrame, units: pd.DataFrame):
    """The autumn-2023 roster (current zones), the 2023 plan and the planted violations."""
    level = dict(zip(schools.school_id, schools.level))
    name = dict(zip(schools.school_id, schools.name))
    pos = {r.school_id: r.geometry for r in schools.itertuples()}
    pupils: dict[tuple[str, int], list[tuple[str, str]]] = {}  # (school, grade) -> [(unit, entry)]

    def add(sid, g, unit, entry, count=1):
        pupils.setdefault((sid, g), []).extend([(unit, entry)] * count)

    moved = {}  # unit -> pupils who enrolled outside the zone
    for target, source, k in OUT_OF_ZONE:
        src = units[(units.primary_school == source) & (units.age_5 > 0)].copy()
        src["d"] = [g.centroid.distance(pos[target]) for g in src.geometry]
        for uid in src.sort_values(["d", "unit_id"]).unit_id.head(k):
            moved[uid] = target
    for u in units.itertuples():
        n1 = int(u.age_5)
        if u.unit_id in moved:
            add(moved[u.unit_id], 1, u.unit_id, "new")
            n1 -= 1
        add(u.primary_school, 1, u.unit_id, "new", n1)
        add(u.junior_school, 7, u.unit_id, "new", int(u.students_g6))
        for g in range(2, 7):
            add(u.primary_school, g, u.unit_id, "continuing", int(getattr(u, f"students_g{g - 1}")))
        for g in (8, 9):
            add(u.junior_school, g, u.unit_id, "continuing", int(getattr(u, f"students_g{g - 1}")))
    sched = schools.set_index("school_id")
    rows = []
    for (sid, g) in sorted(pupils):
        plist = pupils[(sid, g)]
        n = len(plist)
        lim = CLASS_LIMIT["primary" if g <= 6 else "junior"]
        if g in (1, 7):
            k = math.ceil(n / lim)
            sizes = _sizes(n, k)
            if (sid, g) == (NEW_CLASS_46, 1):
                sizes = _with_one(n, k, 46)
            elif (sid, g) == (NEW_CLASS_51, 7):
                sizes = _with_one(n, k, 51)
            elif (sid, g) == (NEW_CLASS_50, 7):
                sizes = _with_one(n, k, 50)
            elif (sid, g) == (OVER_PLAN_SCHOOL, 1):  # one class more than the plan allows
                sizes = _sizes(n, math.ceil((n - 12) / lim) + 1)
        else:
            k = int(sched.loc[sid, f"classes_g{g - 1}"])
            sizes = _sizes(n, k)
            if (sid, g) == HUGE_CLASS[:2]:
                assert sum(HUGE_CLASS[2]) == n, (n, HUGE_CLASS)
                sizes = list(HUGE_CLASS[2])
        assert sum(sizes) == n and max(sizes) - min(sizes) <= 25, (sid, g, sizes)
        cy = _cohort_year(g)
        order = rng.permutation(n)
        k0 = 0
        for ci, size in enumerate(sizes):
            cid = f"{sid}-{cy}-{ci + 1:02d}"
            for j in order[k0:k0 + size]:
                unit, entry = plist[j]
                rows.append({"school_id": sid, "grade": g, "class_id": cid, "entry": entry,
                             "unit_id": unit, "entry_date": f"{cy}-09-01"})
            k0 += size
    roster = pd.DataFrame(rows)
    # transfers into schools over a limit
    transfer_rows = []
    for sid, g, date in TRANSFERS:
        sub = roster[(roster.school_id == sid) & (roster.grade == g)]
        sizes = sub.class_id.value_counts()
        cid = sorted(sizes.index, key=lambda c: (sizes[c], c))[0]
        zone_units = sorted(units.unit_id[(units.primary_school if g <= 6 else units.junior_school) == sid])
        unit = zone_units[int(rng.integers(len(zone_units)))]
        transfer_rows.append({"school_id": sid, "grade": g, "class_id": cid, "entry": "transfer_in",
                              "unit_id": unit, "entry_date": date})
    roster = pd.concat([roster, pd.DataFrame(transfer_rows)], ignore_index=True)
    ids = rng.permutation(len(roster)) + 1
    roster.insert(0, "student_id", [f"X{ROSTER_YEAR}{i:06d}" for i in ids])

    violations = []

    def viol(rule, sid, g, cid="", stu="", detail=""):
        violations.append({"rule": rule, "school_id": sid, "grade": g, "class_id": cid,
                           "student_id": stu, "detail": detail})

    # class sizes before the data problems are planted (those rows stay in their classes)
    sizes = roster.groupby(["school_id", "grade", "class_id"]).size()
    new_sizes = roster[roster.entry == "new"].groupby(["school_id", "grade", "class_id"]).size()
    for (sid, g, cid), size in sizes.items():
        lim = CLASS_LIMIT["primary" if g <= 6 else "junior"]
        is_new = (sid, g, cid) in new_sizes.index
        if is_new and size > lim:
            viol("new_class_over_limit", sid, g, cid,
                 detail=f"{name[sid]}{g}年级新生班 {cid} 有 {size} 人，超过班额上限 {lim} 人")
        elif size >= 66:
            viol("huge_class", sid, g, cid, detail=f"{name[sid]} {cid} 有 {size} 人（超大班额）")
        elif size >= 56:
            viol("large_class", sid, g, cid, detail=f"{name[sid]} {cid} 有 {size} 人（大班额）")
        else:
            assert size <= lim, f"unplanned class over the limit: {sid} {cid} {size}"
    zone_of = {1: dict(zip(units.unit_id, units.primary_school)),
               7: dict(zip(units.unit_id, units.junior_school))}
    uname = dict(zip(units.unit_id, units.name))
    for r in roster[roster.entry == "new"].itertuples():
        zone = zone_of[r.grade][r.unit_id]
        if zone != r.school_id:
            viol("out_of_zone", r.school_id, r.grade, r.class_id, r.student_id,
                 f"住址单元 {r.unit_id}（{uname[r.unit_id]}）属于 {name[zone]} 片区，却在 {name[r.school_id]} 入学")
    for r in roster[roster.entry == "transfer_in"].itertuples():
        n_school = int((roster.school_id == r.school_id).sum())
        viol("transfer_into_over_limit", r.school_id, r.grade, r.class_id, r.student_id,
             f"{name[r.school_id]} 在校生 {n_school} 人，超过校额上限 {SIZE_LIMIT[level[r.school_id]]} 人，不应接收转入")
    # the plan: at or above the actual intake, except one school
    plan_rows = []
    for (sid, g), grp in roster[roster.entry == "new"].groupby(["school_id", "grade"]):
        lim = CLASS_LIMIT["primary" if g <= 6 else "junior"]
        n, k = len(grp), grp.class_id.nunique()
        if (sid, g) == (OVER_PLAN_SCHOOL, 1):
            pk, pn = k - 1, n - 12
            assert pn <= pk * lim
            viol("over_plan_classes", sid, g, detail=f"{name[sid]}一年级实际 {k} 个班，计划 {pk} 个班")
            viol("over_plan_students", sid, g, detail=f"{name[sid]}一年级实际 {n} 人，计划 {pn} 人")
        else:
            pk, pn = k, min(n + int(rng.integers(0, 9)), k * lim)
        plan_rows.append({"school_id": sid, "year": ROSTER_YEAR, "grade": int(g),
                          "planned_classes": int(pk), "planned_students": int(pn)})
    plan = pd.DataFrame(plan_rows)
    # data problems on continuing pupils (chosen deterministically)
    roster = roster.sort_values(["school_id", "grade", "class_id", "student_id"]).reset_index(drop=True)

    def pick(sid, g):
        sub = roster[(roster.school_id == sid) & (roster.grade == g) & (roster.entry == "continuing")]
        return sub.index[len(sub) // 2]

    i = pick("P01", 3)
    viol("unknown_school_id", "PO1", 3, roster.at[i, "class_id"], roster.at[i, "student_id"],
         "学校代码 PO1 不存在（疑为 P01 误录，字母 O 与数字 0 混淆）")
    roster.at[i, "school_id"] = "PO1"
    i = pick("P03", 4)
    viol("unknown_unit_id", "P03", 4, roster.at[i, "class_id"], roster.at[i, "student_id"],
         "住址单元 V999 不存在")
    roster.at[i, "unit_id"] = "V999"
    i, j = pick("P06", 5), pick("J05", 8)
    roster.at[i, "student_id"] = roster.at[j, "student_id"]
    viol("duplicate_student_id", "P06", 5, roster.at[i, "class_id"], roster.at[i, "student_id"],
         f"学籍号 {roster.at[j, 'student_id']} 同时出现在平罗五中 {roster.at[j, 'class_id']}"
         f" 和城关六小 {roster.at[i, 'class_id']}")
    i = pick("P07", 6)
    roster.at[i, "grade"] = 7
    viol("grade_not_taught", "P07", 7, roster.at[i, "class_id"], roster.at[i, "student_id"],
         "城关七小是小学（1–6年级），名册中却有7年级学生")
    i = pick("J07", 9)
    viol("missing_class_id", "J07", 9, "", roster.at[i, "student_id"], "班级编号为空")
    roster.at[i, "class_id"] = ""
    roster = roster[["student_id", "school_id", "grade", "class_id", "entry", "unit_id", "entry_date"]]
    roster = roster.sort_values(["school_id", "grade", "class_id", "student_id"], kind="stable")
    vdf = pd.DataFrame(violations)
    vdf["rule_zh"] = vdf.rule.map(RULES_ZH)
    vdf = vdf.sort_values(["rule", "school_id", "grade", "class_id", "student_id"], kind="stable")
    vdf = vdf[["rule", "rule_zh", "school_id", "grade", "class_id", "student_id", "detail"]]
    return roster.reset_index(drop=True), plan, vdf.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _plain(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def write_geojson(path: Path, layer: str, records: list[dict]) -> None:
    """A deterministic GeoJSON FeatureCollection (WGS84, one feature per line)."""
    head = {"type": "FeatureCollection", "name": layer, "notice": SAMPLE_NOTICE}
    lines = []
    for rec in records:
        props = {k: _plain(v) for k, v in rec.items() if k not in ("geometry", "wgs84")}
        geom = rec["wgs84"] if "wgs84" in rec else to_wgs84(rec["geometry"])
        feat = {"type": "Feature", "properties": props, "geometry": mapping(geom)}
        lines.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
    text = json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")


def write_csv(path: Path, df: pd.DataFrame) -> None:
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


SCENARIO_TOML = f"""\
# {SAMPLE_NOTICE}
# 平罗县示例情景：以 {BASE_YEAR} 年秋季在校生为基数，城关九小 {ROSTER_YEAR} 年秋季开始招生，
# 新片区从 {ROSTER_YEAR} 年新生起执行，{TARGET_YEAR} 年起各校校额、班额全部达标并保持到 {HORIZON} 年。
base_year = {BASE_YEAR}
target_year = {TARGET_YEAR}
horizon = {HORIZON}
levels = ["primary", "junior"]
contiguity = true
barrier_rule = "forbid"

[schools]
open = {{ P09 = {ROSTER_YEAR} }}

[solver]
name = "highs"
time_limit = 120
gap = 0.005

[publish]
# 示例的发布信息（虚构）：实际使用时填写本县名称、招生年度、发布单位和咨询电话
county = "平罗县（示例）"
school_year = "{ROSTER_YEAR}年秋季"
office = "示例教育局教育管理室（虚构）"
phone = "0000-0000000（示例）"
"""


def build(seed: int = DEFAULT_SEED) -> dict:
    """Build every table of the sample in memory (metric geometry)."""
    rng = np.random.default_rng(seed)
    xs, ys = town_grid(rng)
    town = build_town(rng, xs, ys)
    assign_town_zones(town, xs, ys)
    outline, rect = county_outline(), town_outline(xs, ys)
    villages = build_villages(rng, outline, rect)
    # village corners that fall on a compound's edge become vertices of the compound too
    edge_pts = [Point(c) for c in shapely.get_coordinates(villages.geometry.values)
                if rect.exterior.distance(Point(c)) < 0.01]
    ref = MultiPoint(sorted({p.coords[0] for p in edge_pts}))
    town["geometry"] = [shapely.snap(g, ref, 0.01) if g.distance(rect.exterior) == 0 else g
                        for g in town.geometry]
    tw = {t[0]: t for t in TOWNSHIPS}
    villages["primary_school"] = [tw[t][4] for t in villages.township]
    villages["junior_school"] = [tw[t][5] for t in villages.township]
    town["unit_id"] = [f"C{i + 1:03d}" for i in range(len(town))]
    villages["unit_id"] = [f"V{i + 1:03d}" for i in range(len(villages))]
    town["weight"] = [g.area / 90_000 * math.exp(rng.normal(0, 0.35)) for g in town.geometry]
    villages["weight"] = [(g.area / 1e7) ** 0.3 * math.exp(rng.normal(0, 0.3)) for g in villages.geometry]
    cols = ["unit_id", "name", "township", "primary_school", "junior_school", "weight", "geometry"]
    units = pd.concat([town[cols], villages[cols]], ignore_index=True)
    cohorts = cohort_tables(rng)
    junior_totals = junior_enrolment(cohorts, units)
    fill_unit_counts(rng, units, cohorts, junior_totals)

    town_points, address = {}, {}
    for sid, _, blk, *_ in TOWN_PRIMARY + [(j, n, b, None, None) for j, n, b, _ in TOWN_JUNIOR]:
        cx, cy = _block_centre(xs, ys, blk)
        town_points[sid] = Point(round(cx + rng.uniform(-60, 60), 1), round(cy + rng.uniform(-60, 60), 1))
        address[sid] = f"平罗县城关镇{EW_STREETS[blk[1]]}{int(rng.integers(2, 300))}号"
    rural_points = {}
    central = villages[villages.central].set_index("township")
    for sid, _, _, twn in RURAL_SCHOOLS:
        sx, sy = central.loc[twn, "seed"]
        off = 80 if sid.startswith("J") else 0
        rural_points[sid] = Point(sx + 40 + off, sy + 30 - off)
        address[sid] = f"平罗县{twn}{central.loc[twn, 'name']}"
    schools = build_schools(rng, units, cohorts, junior_totals, town_points, rural_points)
    schools["address"] = schools.school_id.map(address)
    set_indicators(rng, schools)

    clip = outline.buffer(1500)
    barriers = {k: v.intersection(clip) for k, v in barrier_lines_metric(xs, ys).items()}
    for k, v in barriers.items():
        if v.geom_type != "LineString":
            v = max(v.geoms, key=lambda g: g.length)
        barriers[k] = shapely.segmentize(v, 500.0)  # short segments: straight in any projection
    streets, crossings = build_streets(xs, ys)
    centres = {t[0]: from_lonlat(t[1], t[2]) for t in TOWNSHIPS}
    rural = build_rural_roads(rng, xs, ys, centres)
    for r in rural:
        r["geometry"] = shapely.segmentize(r["geometry"], 500.0)
    crossings += rural_crossings(rural, barriers)
    roads = streets + node_lines(rural)
    households, planted = build_households(rng, units, outline)
    roster, plan, violations = build_roster(rng, schools, units)
    return {"xs": xs, "ys": ys, "units": units, "schools": schools, "barriers": barriers,
            "crossings": crossings, "roads": roads, "households": households,
            "planted_households": planted, "roster": roster, "plan": plan,
            "violations": violations, "outline": outline}


SCHOOL_COLUMNS = (["school_id", "name", "level", "township", "address", "classrooms", "capacity",
                   "open_year", "close_year"] + [f"enrolled_g{g}" for g in range(1, 10)]
                  + [f"classes_g{g}" for g in range(1, 10)] + list(INDICATORS)
                  + ["music_rooms", "art_rooms"])
UNIT_COLUMNS = (["unit_id", "name", "township"] + [f"students_g{g}" for g in range(1, 10)]
                + [f"age_{a}" for a in range(6)] + ["primary_school", "junior_school"])


def write_folder(data: dict, out: Path) -> None:
    """Write the sample files into ``out`` (an empty or new folder)."""
    out.mkdir(parents=True, exist_ok=True)
    s = data["schools"]
    write_geojson(out / "schools.geojson", "schools",
                  [{**{c: r[c] for c in SCHOOL_COLUMNS}, "geometry": r["geometry"]} for _, r in s.iterrows()])
    u = data["units"]
    write_geojson(out / "units.geojson", "units",
                  [{**{c: r[c] for c in UNIT_COLUMNS}, "geometry": r["geometry"]} for _, r in u.iterrows()])
    write_geojson(out / "barriers.geojson", "barriers",
                  [{"name": k, "kind": BARRIER_KIND[k], "geometry": v} for k, v in data["barriers"].items()])
    write_geojson(out / "crossings.geojson", "crossings", data["crossings"])
    write_geojson(out / "roads.geojson", "roads", data["roads"])
    write_csv(out / "households.csv", data["households"])
    write_csv(out / "plan.csv", data["plan"])
    write_csv(out / "roster.csv", data["roster"])
    write_csv(out / "planted_violations.csv", data["violations"])
    (out / "scenario.toml").write_text(SCENARIO_TOML, encoding="utf-8")


def generate(out: str | Path | None = None, seed: int = DEFAULT_SEED) -> Path:
    """Generate the sample folder atomically (a temporary sibling renamed at the end).

    Parameters
    ----------
    out : path, optional
        Target folder; the bundled ``geodata/sample/data`` when None. Replaced if it exists.
    seed : int
        Random seed; the default gives the shipped files.

    Returns
    -------
    pathlib.Path
        The folder written.
    """
    out = Path(out) if out is not None else sample_dir()
    out.parent.mkdir(parents=True, exist_ok=True)
    data = build(seed)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        write_folder(data, tmp)
        tmp.chmod(0o755)  # mkdtemp creates it private
        if out.exists():
            old = out.with_name(f".{out.name}.old-{tmp.name.rsplit('-', 1)[-1]}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("sample written to %s", out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m geodata.sample.generate",
        description="生成内置的平罗县示例数据（虚构，非官方数据）。" + SAMPLE_NOTICE_EN)
    parser.add_argument("--out", type=Path, default=None, help="输出文件夹（默认：geodata/sample/data）")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"随机种子（默认 {DEFAULT_SEED}）")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    path = generate(args.out, args.seed)
    print(f"示例数据已写入：{path}")
    print(SAMPLE_NOTICE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
