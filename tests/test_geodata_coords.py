"""GCJ-02 / BD-09 conversions against published reference values, round trips, UTM choice."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata import coords

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"

# Reference values published with wandergis/coordtransform (test/app.js, "result" comments), also
# used verbatim by the Rust port coordtransform_rs: input (116.404, 39.915) for every function.
WANDERGIS = {
    "wgs84_to_gcj02": (116.41024449916938, 39.91640428150164),
    "gcj02_to_bd09": (116.41036949371029, 39.92133699351021),
    "bd09_to_gcj02": (116.39762729119315, 39.90865673957631),
}
# hujiulong/gcoord, test/unit/crs/GCJ02.spec.js: GCJ02 -> WGS84 and GCJ02 -> BD09 of (123, 45),
# checked there to 5 decimals; (183, 45) is outside China and unchanged.
GCOORD_GCJ_TO_WGS = ((123.0, 45.0), (122.99395597, 44.99804071))
GCOORD_GCJ_TO_BD = ((123.0, 45.0), (123.00636499, 45.00636899))
# A geotool CLI test (Rust, assert_cmd): WGS84 -> GCJ02 -> BD09 of a point near Jiaxing.
GEOTOOL = ((121.0917077, 30.6107779), (121.09626935575027, 30.608604331756705),
           (121.10271732371203, 30.61484572185035))


@pytest.mark.parametrize("name", sorted(WANDERGIS))
def test_wandergis_reference_values(name):
    lon, lat = getattr(coords, name)(116.404, 39.915)
    assert lon == pytest.approx(WANDERGIS[name][0], abs=1e-9)
    assert lat == pytest.approx(WANDERGIS[name][1], abs=1e-9)


def test_gcoord_reference_values():
    (lon, lat), (elon, elat) = GCOORD_GCJ_TO_WGS
    got = coords.gcj02_to_wgs84(lon, lat)
    assert got == pytest.approx((elon, elat), abs=1e-5)
    (lon, lat), (elon, elat) = GCOORD_GCJ_TO_BD
    assert coords.gcj02_to_bd09(lon, lat) == pytest.approx((elon, elat), abs=1e-5)
    assert coords.gcj02_to_wgs84(183.0, 45.0) == (183.0, 45.0)
    assert coords.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)  # Paris: outside China


def test_geotool_reference_values():
    wgs, gcj, bd = GEOTOOL
    assert coords.wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-6)
    assert coords.wgs84_to_bd09(*wgs) == pytest.approx(bd, abs=1e-6)


def test_offset_near_pingluo_is_a_few_hundred_metres():
    lon, lat = 106.54, 38.91
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    dx = (glon - lon) * 111_320 * np.cos(np.radians(lat))
    dy = (glat - lat) * 110_540
    assert 200 < np.hypot(dx, dy) < 800


@settings(max_examples=200, deadline=None)
@given(st.floats(74.0, 134.0), st.floats(4.0, 53.0))
def test_round_trips_inside_china(lon, lat):
    back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat))
    assert abs(back[0] - lon) < 1e-6 and abs(back[1] - lat) < 1e-6
    back = coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat))
    assert abs(back[0] - lon) < 1e-5 and abs(back[1] - lat) < 1e-5


def test_vectorised_matches_scalar_and_keeps_shape():
    lon = np.array([106.5, 116.404, 0.0, 121.0917077])
    lat = np.array([38.9, 39.915, 0.0, 30.6107779])
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    assert glon.shape == lon.shape
    for k in range(len(lon)):
        assert (glon[k], glat[k]) == pytest.approx(coords.wgs84_to_gcj02(float(lon[k]), float(lat[k])))
    wlon, wlat = coords.gcj02_to_wgs84(glon, glat)
    assert np.max(np.abs(wlon - lon)) < 1e-6 and np.max(np.abs(wlat - lat)) < 1e-6
    assert glon[2] == 0.0 and glat[2] == 0.0


def test_utm_crs_for_pingluo():
    assert coords.utm_crs_for([106.3, 106.5, 106.9], [38.6, 38.9, 39.1]).to_epsg() == 32648
    assert coords.utm_crs_for([-122.7], [38.44]).to_epsg() == 32610  # Santa Rosa
    assert coords.utm_crs_for([151.2], [-33.9]).to_epsg() == 32756  # southern hemisphere
    with pytest.raises(ValueError):
        coords.utm_crs_for([np.nan], [np.nan])


@pytest.mark.realdata
def test_realdata_boundary_gcj02_moves_a_few_hundred_metres():
    path = REALDATA / "pingluo_county" / "boundary_gcj02.geojson"
    if not path.exists():
        pytest.skip("../shared/realdata is absent")
    import geopandas as gpd
    import shapely

    gcj = gpd.read_file(path)
    wgs = gcj.copy()
    wgs["geometry"] = coords.transform_geometries(gcj.geometry.to_numpy(), coords.gcj02_to_wgs84)
    crs = coords.utm_crs_for(*np.asarray(shapely.get_coordinates(gcj.geometry.to_numpy())).T)
    assert crs.to_epsg() == 32648
    a = gcj.to_crs(crs).geometry.to_numpy()
    b = wgs.set_crs(4326, allow_override=True).to_crs(crs).geometry.to_numpy()
    ca, cb = shapely.get_coordinates(a), shapely.get_coordinates(b)
    shift = np.hypot(*(ca - cb).T)
    assert 200 < shift.min() and shift.max() < 800, (shift.min(), shift.max())
    area_km2 = shapely.area(b).sum() / 1e6
    assert 1800 < area_km2 < 2300  # about 2,067 km2 (README of realdata)
    # converting back gives the published GCJ-02 outline again
    back = coords.transform_geometries(wgs.geometry.to_numpy(), coords.wgs84_to_gcj02)
    assert np.abs(shapely.get_coordinates(back) - shapely.get_coordinates(gcj.geometry.to_numpy())).max() < 1e-6
