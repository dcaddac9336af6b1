"""Chinese web-map coordinates (GCJ-02, BD-09) to and from WGS84, and the UTM zone of the data.

GCJ-02 is the obfuscated datum every map service licensed in China uses (AutoNavi/高德, Tencent);
BD-09 is Baidu's further offset of GCJ-02. The forward formulas are the public ones (the same as the
``coordtransform`` packages); the inverse GCJ-02 -> WGS84 is solved by fixed-point iteration to
well below 1e-6 degrees. All functions take and return ``(lon, lat)`` and work on scalars or numpy
arrays. Outside China's bounding box GCJ-02 equals WGS84 (BD-09 is offset everywhere).
"""
from __future__ import annotations

import numpy as np
import pyproj

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0


def out_of_china(lon, lat):
    """True where a point lies outside the rough bounding box in which GCJ-02 applies."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return ~((lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55))


def _dlat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _dlon(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _offset(lon, lat):
    """The GCJ-02 shift (dlon, dlat) in degrees at WGS84 position (lon, lat)."""
    dlat = _dlat(lon - 105.0, lat - 35.0)
    dlon = _dlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _out(lon, lat, scalar):
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def _prep(lon, lat):
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), scalar


def wgs84_to_gcj02(lon, lat):
    """WGS84 -> GCJ-02.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS84 degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02 (floats for scalar input, arrays otherwise).
    """
    lon, lat, scalar = _prep(lon, lat)
    dlon, dlat = _offset(lon, lat)
    outside = out_of_china(lon, lat)
    return _out(np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat), scalar)


def gcj02_to_wgs84(lon, lat, tol: float = 1e-9, max_iter: int = 30):
    """GCJ-02 -> WGS84 by fixed-point iteration (error well below 1e-6 degrees).

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 degrees.
    tol : float
        Stop when every point's residual is below this many degrees.
    max_iter : int
        Iteration cap (convergence is geometric; about 5 iterations reach 1e-9).
    """
    lon, lat, scalar = _prep(lon, lat)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(max_iter):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        rlon, rlat = np.asarray(glon) - lon, np.asarray(glat) - lat
        wlon = wlon - rlon
        wlat = wlat - rlat
        if np.all(np.abs(rlon[np.isfinite(rlon)]) < tol) and np.all(np.abs(rlat[np.isfinite(rlat)]) < tol):
            break
    outside = out_of_china(lon, lat)
    return _out(np.where(outside, lon, wlon), np.where(outside, lat, wlat), scalar)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 -> BD-09 (Baidu)."""
    lon, lat, scalar = _prep(lon, lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006, scalar)


def bd09_to_gcj02(lon, lat):
    """BD-09 (Baidu) -> GCJ-02 (the published closed-form inverse, error about 1e-6 degrees)."""
    lon, lat, scalar = _prep(lon, lat)
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _out(z * np.cos(theta), z * np.sin(theta), scalar)


def wgs84_to_bd09(lon, lat):
    """WGS84 -> BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """BD-09 -> WGS84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon, lat, system: str | None):
    """Convert from ``system`` (None/"wgs84", "gcj02", "bd09") to WGS84."""
    if system in (None, "wgs84", "cgcs2000"):
        return lon, lat
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if system == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"未知坐标系 {system!r}（可用 wgs84、gcj02、bd09）")


def utm_crs_for(lon, lat) -> pyproj.CRS:
    """The WGS84 UTM zone containing the median of the given points (Pingluo -> EPSG:32648).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 degrees; NaN values are ignored.
    """
    lon = np.asarray(lon, dtype=float).ravel()
    lat = np.asarray(lat, dtype=float).ravel()
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        raise ValueError("no finite coordinates to choose a UTM zone from")
    mlon = float(np.median(lon[ok]))
    mlat = float(np.median(lat[ok]))
    zone = int(np.floor((mlon + 180.0) / 6.0)) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if mlat >= 0 else 32700) + zone)


def utm_crs_of(layer) -> pyproj.CRS:
    """The UTM zone of a layer (GeoDataFrame or GeoSeries with a CRS): :func:`utm_crs_for` of its
    features' representative points in WGS84. The one UTM chooser of the project."""
    pts = layer.geometry[layer.geometry.notna() & ~layer.geometry.is_empty].representative_point().to_crs(4326)
    return utm_crs_for(pts.x.to_numpy(), pts.y.to_numpy())


def transform_geometries(geoms, func):
    """Apply a ``(lon, lat) -> (lon, lat)`` array function to every vertex of shapely geometries."""
    import shapely

    def _f(coords):
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])

    return shapely.transform(np.asarray(geoms, dtype=object), _f)
