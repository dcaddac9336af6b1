"""Stable school colours: a school keeps its colour across proposals and maps.

The colour is a hash of the school id (not Python's salted ``hash``) into a fixed palette of
distinguishable colours (Tableau 20 without the greys), so two runs, two proposals and two
machines give the same school the same colour.
"""
from __future__ import annotations

import hashlib

import numpy as np
import shapely

from geodata.coords import utm_crs_of

#: Distinguishable colours: Tableau 20 without its greys, then six dark, saturated colours from
#: Kelly's list of maximum contrast (yellow, brown, olive, rust, navy, wine).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2",
    "#dbdb8d", "#9edae5", "#f3c300", "#654522", "#2b3d26", "#882d17", "#00429d", "#93003a",
)


def color_for(school_id) -> str:
    """The colour of a school.

    Parameters
    ----------
    school_id : str or int
        The school's id (学校代码); ``123`` and ``"123"`` give the same colour.

    Returns
    -------
    str
        ``"#rrggbb"``, one of :data:`PALETTE`.
    """
    return PALETTE[_slot(school_id)]


def _slot(school_id) -> int:
    digest = hashlib.sha256(str(school_id).strip().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % len(PALETTE)


def school_colors(school_ids) -> dict[str, str]:
    """Colours for a set of schools, without two schools sharing one while the palette lasts.

    Each school gets :func:`color_for` unless a school with a smaller id already took that colour;
    it then takes the next free colour of the palette. The result depends only on the set of ids,
    so the maps of every proposal built from the same schools file colour each school alike.

    Parameters
    ----------
    school_ids : iterable
        All schools of the data (not only those with a zone), e.g. schools.geojson's ids.

    Returns
    -------
    dict
        school id (str) -> ``"#rrggbb"``.
    """
    ids = sorted({str(s).strip() for s in school_ids})
    taken: set[int] = set()
    out = {}
    for sid in ids:
        slot = _slot(sid)
        if len(taken) < len(PALETTE):
            while slot in taken:
                slot = (slot + 1) % len(PALETTE)
        taken.add(slot)
        out[sid] = PALETTE[slot]
    return out


# ------------------------------------------------------------------ zone colours (public maps)
#: Fills of one level's zones on the parents' page and the published pictures: 24 colours far apart
#: (every pair at least 74 apart in RGB; Trubetskoy's distinct colours without the palest, then
#: dark and saturated ones picked by farthest-first). Each zone gets its own colour while they last,
#: so the legend names every zone; neighbours always differ.
ZONE_PALETTE = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
    "#469990", "#9a6324", "#800000", "#000075", "#ffe119", "#fabed4", "#aaffc3", "#a9a9a9",
    "#006400", "#0067a5", "#e377c2", "#4b0082", "#00ff7f", "#ff1493", "#7fff00", "#008856",
)


#: RGB distance at which two neighbouring fills count as clearly different
FAR_ENOUGH = 150.0


def _rgb(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def colour_distance(a: str, b: str) -> float:
    """Euclidean distance of two ``#rrggbb`` colours in RGB."""
    return sum((x - y) ** 2 for x, y in zip(_rgb(a), _rgb(b))) ** 0.5


def zone_neighbours(zones, touch_m: float = 5.0) -> dict[str, set]:
    """school_id -> the school ids whose zone touches it (within ``touch_m`` metres), one level's zones.

    Empty or missing zone geometries have no neighbours.
    """
    if zones is None or len(zones) == 0:
        return {}
    z = zones.to_crs(utm_crs_of(zones))
    ids = z["school_id"].astype(str).tolist()
    geoms = np.asarray(z.geometry.values, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = np.where(ok, geoms, shapely.Point())
    geoms = shapely.buffer(shapely.make_valid(geoms), touch_m)
    out = {i: set() for i in ids}
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    for a, b in zip(left, right):
        if a != b and ok[a] and ok[b] and ids[a] != ids[b]:
            out[ids[a]].add(ids[b])
    return out


def zone_colors(zones, palette=ZONE_PALETTE) -> dict[str, str]:
    """Fill colours of one level's zones: the one colouring the parents' page and the pictures use.

    Zones are coloured most neighbours first (ties by id). Each takes a colour no zone has yet while
    the palette lasts (so the legend can name each zone), else a colour none of its neighbours has;
    among those, the first in palette order (least used first) at least :data:`FAR_ENOUGH` from every
    coloured neighbour's colour, else the one farthest from them. Neighbouring zones never share a colour while any colour is left; the result
    depends only on the zones, so the same zones always get the same colours.
    """
    nb = zone_neighbours(zones)
    order = sorted(nb, key=lambda s: (-len(nb[s]), s))
    out: dict[str, str] = {}
    used: dict[str, int] = {}
    for sid in order:
        near = [out[n] for n in nb[sid] if n in out]
        fresh = [c for c in palette if c not in used]
        pool = fresh or [c for c in palette if c not in near] or list(palette)

        def rank(c, near=near):
            far = min((colour_distance(c, n) for n in near), default=1e9)
            return (far < FAR_ENOUGH, -far if far < FAR_ENOUGH else 0, used.get(c, 0), palette.index(c))

        out[sid] = min(pool, key=rank)
        used[out[sid]] = used.get(out[sid], 0) + 1
    return out
