"""Seeded benchmark instances: a town-and-villages county (or a city district) as plain frames.

The layout imitates a Chinese county: one or more dense towns (a grid of residential compounds,
about 180 m apart) and villages scattered around township seats. Schools sit at demand centres
(k-means on the units of each town or township); rural township seats get a nine-year school.
Current zones are each unit's nearest school of the level (a Voronoi map, contiguous-ish), and the
schools' base-year enrollment and classes are what those zones send them. A few schools are given
fewer classrooms than they need and large classes, so the optimizer has limits to restore.

Everything is drawn from one ``numpy.random.default_rng(seed)``: the same (size, seed) gives the
same frames on every machine. No geometry library is used; the frames are the ones
:meth:`zoning.problem.ZoningProblem.from_frames` takes (docs/ARCHITECTURE.md).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.cluster.vq import kmeans2
from scipy.spatial import Delaunay, cKDTree

from zoning import policy
from zoning.problem import ZoningProblem, euclidean_pairs
from zoning.scenario import Scenario

log = logging.getLogger(__name__)

#: Pupils per school on average (grades 1-9); sets the children per unit.
PUPILS_PER_SCHOOL = 650.0

#: Named sizes of issue 9: (units, schools).
SIZES = {
    "XS": (120, 8),  # for smoke tests only
    "S": (500, 25),
    "M": (2_000, 60),
    "L": (10_000, 200),
    "XL": (50_000, 600),
}


@dataclass
class Instance:
    """One generated instance: the plain frames and how they were made."""

    name: str
    seed: int
    units: pd.DataFrame
    schools: pd.DataFrame
    adjacency: pd.DataFrame
    pairs: pd.DataFrame
    info: dict = field(default_factory=dict)

    def problem(self, scenario: Scenario) -> ZoningProblem:
        """The :class:`ZoningProblem` of this instance under ``scenario``."""
        return ZoningProblem.from_frames(self.units, self.schools, self.adjacency, self.pairs, scenario)


def parse_size(size: str) -> tuple[int, int]:
    """``"M"`` or ``"2000x60"`` -> (units, schools)."""
    key = size.strip()
    if key.upper() in SIZES:
        return SIZES[key.upper()]
    if "x" in key.lower():
        a, b = key.lower().split("x", 1)
        return int(a), int(b)
    raise ValueError(f"未知的规模 '{size}'：可用 {', '.join(SIZES)} 或 '单元数x学校数'（例如 2000x60）")


def _areas(n_units: int, rng: np.random.Generator):
    """Towns and townships: (kind, centre xy, n units) for a county of ``n_units`` units."""
    urban_share = 0.4 if n_units <= 5_000 else 0.6
    n_towns = max(1, int(round(n_units / 4_000)))
    n_town_units = int(round(n_units * urban_share))
    n_rural_units = n_units - n_town_units
    n_townships = max(3, int(round(n_rural_units / 60)) // 3 + 2)
    n_townships = min(n_townships, max(3, n_rural_units // 20))
    # county extent grows with the rural population (villages ~1.2 km apart)
    extent = 1_200.0 * math.sqrt(max(n_rural_units, 1)) * 1.2 + 6_000.0
    areas = []
    town_sizes = np.full(n_towns, n_town_units // n_towns)
    town_sizes[: n_town_units - town_sizes.sum()] += 1
    town_centres = [(0.0, 0.0)] + [tuple(rng.uniform(-0.4, 0.4, 2) * extent) for _ in range(n_towns - 1)]
    for c, n in zip(town_centres, town_sizes):
        areas.append(("town", np.array(c, float), int(n)))
    weights = rng.gamma(3.0, 1.0, n_townships)
    rural = np.floor(weights / weights.sum() * n_rural_units).astype(int)
    rural[: n_rural_units - rural.sum()] += 1
    for n in rural:
        # township seats on a ring around the county seat, away from the towns
        while True:
            c = rng.uniform(-0.5, 0.5, 2) * extent
            if min(np.hypot(*(c - np.array(t))) for t in town_centres) > 4_000:
                break
        areas.append(("township", c, int(n)))
    return areas


def _town_points(centre, n, rng, cell=180.0):
    side = int(math.ceil(math.sqrt(n)))
    r, c = np.divmod(np.arange(side * side), side)
    xy = np.column_stack([c, r]).astype(float) * cell
    xy -= xy.mean(axis=0)
    # keep the n cells closest to the centre (a roughly round town)
    keep = np.argsort(np.hypot(xy[:, 0], xy[:, 1]), kind="stable")[:n]
    xy = xy[np.sort(keep)] + rng.normal(0, cell * 0.08, (n, 2))
    return xy + centre


def _village_points(centre, n, rng, spacing=1_200.0):
    radius = spacing * math.sqrt(max(n, 1)) * 0.62
    ang = rng.uniform(0, 2 * math.pi, n)
    rad = radius * np.sqrt(rng.uniform(0.02, 1.0, n))
    return centre + np.column_stack([rad * np.cos(ang), rad * np.sin(ang)])


def delaunay_adjacency(xy: np.ndarray, factor: float = 2.6) -> pd.DataFrame:
    """Delaunay edges of the unit points, dropping long ones.

    An edge is kept when it is at most ``factor`` times the larger of its two endpoints'
    nearest-neighbour distances (so a town's grid links to its neighbours, villages to nearby
    villages, and the gap between a town and the countryside is not bridged by a long edge).
    """
    if len(xy) < 3:
        return pd.DataFrame({"i": np.array([0] * (len(xy) == 2), int), "j": np.array([1] * (len(xy) == 2), int)})
    tri = Delaunay(xy)
    s = tri.simplices
    e = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    e = np.sort(e, axis=1)
    e = np.unique(e, axis=0)
    nn = cKDTree(xy).query(xy, k=2)[0][:, 1]
    length = np.hypot(*(xy[e[:, 0]] - xy[e[:, 1]]).T)
    keep = length <= factor * np.maximum(nn[e[:, 0]], nn[e[:, 1]])
    e = e[keep]
    return pd.DataFrame({"i": e[:, 0].astype(int), "j": e[:, 1].astype(int)})


def _allocate(total: int, shares: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    """Largest-remainder allocation of ``total`` over ``shares`` with per-area minimums."""
    out = minimum.astype(int).copy()
    rest = total - out.sum()
    if rest <= 0:
        return out
    raw = shares / shares.sum() * rest
    add = np.floor(raw).astype(int)
    out += add
    rem = rest - add.sum()
    order = np.argsort(-(raw - add), kind="stable")
    out[order[:rem]] += 1
    return out


def generate(size: str = "S", seed: int = 1, k: int = 6) -> Instance:
    """Generate the instance of ``size`` (``S``, ``M``, ``L``, ``XL`` or ``"UxS"``) with ``seed``.

    Returns frames with the columns of docs/ARCHITECTURE.md: units (``unit_id, name, township, x,
    y, students_g1..g9, age_0..age_5, primary_school, junior_school``), schools (``school_id, name,
    level, classrooms, capacity, open_year, close_year, size_limit, class_limit, x, y,
    enrolled_g1..g9, classes_g1..g9``), adjacency (``i, j``) and candidate pairs (the ``k``
    nearest schools of each level plus the current school, from :func:`euclidean_pairs`).
    """
    n_units, n_schools = parse_size(size)
    if n_schools < 3 or n_units < n_schools:
        raise ValueError(f"规模太小：{n_units} 个单元、{n_schools} 所学校（至少 3 所学校，单元数不少于学校数）")
    rng = np.random.default_rng(seed)
    areas = _areas(n_units, rng)

    # ---------------------------------------------------------------- units
    xy_parts, area_of, names, towns = [], [], [], []
    for a, (kind, centre, n) in enumerate(areas):
        pts = _town_points(centre, n, rng) if kind == "town" else _village_points(centre, n, rng)
        xy_parts.append(pts)
        area_of += [a] * n
        label = f"城区{a + 1}" if kind == "town" else f"乡镇{a + 1}"
        towns += [label] * n
        names += [f"{label}{'小区' if kind == 'town' else '村'}{i + 1}" for i in range(n)]
    xy = np.vstack(xy_parts)
    area_of = np.array(area_of)
    is_town = np.array([areas[a][0] == "town" for a in area_of])
    # pupils per grade: about 650 pupils per school in all, a town compound ~2.5x a village group,
    # younger cohorts a little smaller (falling births)
    factor = np.where(is_town, 1.6, 0.65) * rng.gamma(4.0, 0.25, n_units)
    mean = factor * PUPILS_PER_SCHOOL * n_schools / (9.0 * factor.sum())
    students = rng.poisson(mean[:, None] * np.ones(9))
    ages = rng.poisson(mean[:, None] * np.linspace(0.88, 1.0, 6)[None, :])
    units = pd.DataFrame({
        "unit_id": [f"U{i:06d}" for i in range(n_units)],
        "name": names,
        "township": towns,
        "x": xy[:, 0].round(1),
        "y": xy[:, 1].round(1),
    })
    for g in range(1, 10):
        units[f"students_g{g}"] = students[:, g - 1]
    for a in range(6):
        units[f"age_{a}"] = ages[:, a]

    # ---------------------------------------------------------------- schools
    n_areas = len(areas)
    rural_idx = [a for a in range(n_areas) if areas[a][0] == "township"]
    n_nine = min(len(rural_idx), max(1, int(round(0.08 * n_schools))))
    n_jun = max(1, int(round(0.27 * n_schools)))
    n_prim = n_schools - n_nine - n_jun
    children = np.bincount(area_of, weights=students.sum(axis=1), minlength=n_areas)
    nine_areas = sorted(rural_idx, key=lambda a: -children[a])[:n_nine]
    has_nine = np.isin(np.arange(n_areas), nine_areas)
    # every area needs a primary-serving school; towns also a junior school
    prim_min = np.where(has_nine, 0, 1)
    jun_min = np.array([1 if areas[a][0] == "town" else 0 for a in range(n_areas)])
    prim_alloc = _allocate(n_prim, children.astype(float) + 1e-9, prim_min)
    is_town_area = np.array([k == "town" for k, _, _ in areas])
    jun_share = np.where(is_town_area, children * 1.6, children)  # towns draw more junior pupils
    jun_alloc = _allocate(n_jun, jun_share.astype(float) + 1e-9, jun_min)
    srows = []

    def place(a, count):
        pts = xy[area_of == a]
        if count == 1 or len(pts) <= count:
            return pts.mean(axis=0, keepdims=True) if count == 1 else pts[:count]
        cent, _ = kmeans2(pts, count, minit="++", seed=rng, iter=20)
        return cent

    for a in range(n_areas):
        kind_a, centre, _ = areas[a]
        if has_nine[a]:
            srows.append((a, "nine_year", centre + rng.normal(0, 150, 2)))
        for p in place(a, prim_alloc[a]) if prim_alloc[a] else []:
            srows.append((a, "primary", p))
        for p in place(a, jun_alloc[a]) if jun_alloc[a] else []:
            srows.append((a, "junior", p))
    skind = np.array([r[1] for r in srows])
    sxy = np.array([r[2] for r in srows], float).round(1)
    S = len(srows)
    sids = [f"S{i:04d}" for i in range(S)]
    snames = []
    counter = {}
    for a, kind, _ in srows:
        counter[(a, kind)] = counter.get((a, kind), 0) + 1
        label = f"城区{a + 1}" if areas[a][0] == "town" else f"乡镇{a + 1}"
        suffix = {"primary": "小学", "junior": "中学", "nine_year": "九年制学校"}[kind]
        snames.append(f"{label}第{counter[(a, kind)]}{suffix}")

    # ---------------------------------------------------------------- current zones
    current = {}
    for level in policy.LEVELS:
        idx = np.flatnonzero([level in policy.SERVES[k_] for k_ in skind])
        _, nn = cKDTree(sxy[idx]).query(xy, k=1)
        current[level] = idx[nn]
    units["primary_school"] = [sids[s] for s in current["primary"]]
    units["junior_school"] = [sids[s] for s in current["junior"]]

    # ---------------------------------------------------------------- enrollment, classes, rooms
    enrolled = np.zeros((S, 9))
    for g in range(1, 10):
        lv = "primary" if g <= 6 else "junior"
        enrolled[:, g - 1] = np.bincount(current[lv], weights=students[:, g - 1], minlength=S)
    limit = np.array([policy.class_limit_for_grade(g) for g in range(1, 10)], float)
    crowded = np.zeros(S, dtype=bool)
    # a few busy schools run large classes and have no spare room (the county's problem)
    busy = np.argsort(-enrolled.sum(axis=1), kind="stable")[: max(1, S // 12)]
    crowded[busy] = True
    per_class = np.where(crowded[:, None], rng.uniform(54, 62, (S, 1)), rng.uniform(36, 44, (S, 1)))
    classes = np.where(enrolled > 0, np.ceil(enrolled / np.minimum(per_class, limit * 1.4)), 0)
    teaches = np.array([[g in policy.SCHOOL_GRADES[k_] for g in range(1, 10)] for k_ in skind])
    enrolled *= teaches
    classes *= teaches
    need = np.ceil(enrolled / limit).sum(axis=1)  # classes needed at the class limit
    spare = rng.uniform(0.12, 0.45, S)
    classrooms = np.where(crowded, np.maximum(classes.sum(axis=1), 1),
                          np.ceil(np.maximum(need, 6) * (1 + spare)))
    schools = pd.DataFrame({
        "school_id": sids,
        "name": snames,
        "level": skind,
        "classrooms": classrooms.astype(int),
        "capacity": np.nan,
        "open_year": np.nan,
        "close_year": np.nan,
        "size_limit": np.nan,
        "class_limit": np.nan,
        "x": sxy[:, 0],
        "y": sxy[:, 1],
    })
    for g in range(1, 10):
        schools[f"enrolled_g{g}"] = enrolled[:, g - 1].astype(int)
    for g in range(1, 10):
        schools[f"classes_g{g}"] = classes[:, g - 1].astype(int)

    adjacency = delaunay_adjacency(xy)
    pairs = euclidean_pairs(xy, sxy, skind, k=k, current=current)
    info = {
        "units": n_units, "schools": S, "towns": int(is_town_area.sum()),
        "townships": len(rural_idx), "edges": len(adjacency), "pairs": len(pairs),
        "primary_schools": int(sum(k_ in ("primary", "nine_year") for k_ in skind)),
        "junior_schools": int(sum(k_ in ("junior", "nine_year") for k_ in skind)),
        "crowded_schools": int(crowded.sum()),
    }
    log.info("instance %s seed %d: %s", size, seed, info)
    return Instance(str(size), seed, units, schools, adjacency, pairs, info)
