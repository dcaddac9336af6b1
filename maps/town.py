"""The town a public map opens on (or enlarges): the densest cluster of zoning units."""
from __future__ import annotations

import numpy as np
import shapely

from geodata.coords import utm_crs_of

#: neighbourhood radius (metres) of the densest-cluster search that picks the opening view
TOWN_RADIUS_M = 1500.0


def has_shape(gdf) -> np.ndarray:
    """True for the rows with a geometry that is neither missing nor empty."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


def _utm_points(gdf):
    crs = utm_crs_of(gdf)
    pts = gdf.to_crs(crs).geometry.representative_point()
    return np.column_stack([pts.x.to_numpy(dtype=float), pts.y.to_numpy(dtype=float)])


def town_units(p: Proposal, radius_m: float = TOWN_RADIUS_M) -> np.ndarray:
    """Boolean mask of the units of the densest cluster (the town the page opens on).

    The unit with the most neighbours within ``radius_m`` seeds it; dense units (at least a quarter
    of that count) linked to it by steps of at most ``radius_m`` join. All units when the cluster
    covers most of the data (a city) or there are few units.
    """
    u = p.units[has_shape(p.units)]
    n = len(u)
    mask = np.ones(len(p.units), dtype=bool)
    if n < 8:
        return mask
    xy = _utm_points(u)
    d2 = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2) if n <= 4000 else None
    if d2 is None:
        return mask
    near = d2 <= radius_m ** 2
    count = near.sum(axis=1)
    order = np.lexsort((u["unit_id"].astype(str).to_numpy(), -count))
    seed = order[0]
    dense = count >= max(3, count[seed] / 4)
    member = np.zeros(n, dtype=bool)
    member[seed] = True
    frontier = [seed]
    while frontier:
        i = frontier.pop()
        new = np.flatnonzero(near[i] & dense & ~member)
        member[new] = True
        frontier.extend(new.tolist())
    span = lambda pts: np.ptp(pts[:, 0]) * np.ptp(pts[:, 1])  # noqa: E731
    if member.sum() < 3 or span(xy[member]) > 0.6 * span(xy):
        return mask
    out = np.zeros(len(p.units), dtype=bool)
    out[np.flatnonzero(has_shape(p.units))[member]] = True
    return out
