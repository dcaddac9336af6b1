"""The published parents' page in headless Chromium at phone (390×844) and office (1366×768) size,
with the network cut off (issue 19): it loads nothing from the internet, shows the county, school
year and phone from the settings and no internal wording, finds units by name, alias and address,
outlines the chosen unit and highlights its zone in one popup, and lists every changed unit."""
from __future__ import annotations

import re

import pytest

from _maps_fixtures import SETTINGS, publish_copy
from test_maps_browser import Page, browser  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser

INTERNAL = ("求解状态", "方案编号", "objective", "optimal", "目标函数", "status")
SIZES = {"phone": (390, 844), "office": (1366, 768)}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from maps.parents import publish

    root = tmp_path_factory.mktemp("pub")
    src = publish_copy(root / "proposal")
    return publish(src, out_dir=root / "publish")


def _open(browser, published, size) -> Page:
    w, h = SIZES[size]
    return Page(browser, published["parents.html"], width=w, height=h)


@pytest.mark.parametrize("size", SIZES)
def test_offline_settings_and_no_internal_wording(browser, published, size):
    pg = _open(browser, published, size)
    try:
        head = pg.page.locator("#zoning-head").inner_text()
        assert "平罗县2024年秋季" in head and SETTINGS["phone"] in head and SETTINGS["office"] in head
        assert pg.page.title().startswith("平罗县2024年秋季")
        body = pg.page.locator("body").inner_text()
        for word in INTERNAL:
            assert word not in body, word
        assert SETTINGS["notice"] in pg.page.locator(".zoning-footer").inner_text()
        assert "Leaflet" not in pg.page.locator(".leaflet-control-attribution").inner_text()
        assert pg.js("document.querySelectorAll('.leaflet-control-attribution svg').length") == 0  # no flag
        assert pg.js("document.querySelectorAll('.leaflet-tile').length") == 0  # no tiles: our own layers
        assert pg.js("document.querySelectorAll('path.zone-primary').length") == 2
        assert pg.js("document.querySelectorAll('path.road-line').length") == 2
        assert pg.js("document.querySelectorAll('path.barrier-line').length") == 1
        if size == "phone":
            assert pg.js("document.documentElement.scrollWidth") <= 390
            box = pg.page.locator(".folium-map").bounding_box()
            assert box["height"] >= 400
            assert "collapsed" in pg.page.locator(".zoning-legend").get_attribute("class")
            legend = pg.page.locator(".zoning-legend").bounding_box()
            assert legend["height"] < 0.1 * 844  # collapsed: one button
            pg.page.locator(".zoning-legend-toggle").click()
            assert "城关八小" in pg.page.locator(".zoning-legend").inner_text()
        pg.shot(f"publish_{size}.png")
        assert pg.requests == [] and pg.errors == [] and pg.dialogs == []
    finally:
        pg.close()


@pytest.mark.parametrize("size", SIZES)
def test_search_by_name_alias_and_address(browser, published, size):
    pg = _open(browser, published, size)
    try:
        search = pg.page.locator("#zoning-search")
        results = pg.page.locator("#zoning-results li.zoning-result")
        cases = [("平罗花园小区", "平罗花园"),       # suffix added to a name that has none
                 ("城西", "城西村"),               # suffix left out
                 ("老粮站", "怡馨苑"),             # alias
                 ("明珠花园", "东方明珠小区"),       # alias (also a partial name)
                 ("鼓楼南街15号", "鼓楼小区"),       # odd number: U01's range
                 ("鼓楼南街16号", "玉皇阁小区"),     # even number: U02's range
                 ("北大街 12 号", "鼓楼小区"),
                 ("星海路", "星海湾小区")]          # a street without numbers
        for query, expected in cases:
            search.fill(query)
            assert results.count() >= 1, query
            assert results.first.locator(".zoning-result-name").inner_text() == expected, query
        search.fill("鼓楼南街101号")  # beyond every range: no unit
        assert "鼓楼小区" not in pg.page.locator("#zoning-results").inner_text()
        # choose by address: one popup, the unit outlined, its zone highlighted
        search.fill("鼓楼南街15号")
        results.first.click()
        pg.page.wait_for_timeout(500)
        assert pg.js("document.querySelectorAll('.leaflet-popup').length") == 1
        assert "鼓楼小区" in pg.popup_text() and "城关一小" in pg.popup_text()
        assert pg.js("document.querySelectorAll('path.zoning-chosen-unit').length") == 1
        weights = pg.js("Array.from(document.querySelectorAll('path.zone-primary')).map(p => p.getAttribute('stroke-width'))")
        assert sorted(weights) == ["1.5", "4"], weights
        pg.shot(f"publish_search_{size}.png")
        # a moved unit: the sentence for the family, in the one card (no second card in the header)
        search.fill("文化苑")
        results.first.click()
        pg.page.wait_for_timeout(500)
        sentence = "您所在的小区自 2023 年秋季起小学对口学校由 城关一小 调整为 城关八小；已在校学生不受影响"
        assert sentence in pg.popup_text() and sentence not in pg.page.locator("#zoning-head").inner_text()
        assert pg.requests == [] and pg.errors == []
    finally:
        pg.close()


def test_the_town_is_the_densest_cluster():
    """30 compounds in a town and 10 villages 10–30 km out: the page opens on the 30."""
    from types import SimpleNamespace

    import geopandas as gpd
    from shapely.geometry import box

    from maps.parents import town_units

    rows = [{"unit_id": f"C{k:02d}", "geometry": box(106.52 + (k % 6) * 0.003, 38.91 + (k // 6) * 0.003,
                                                       106.5225 + (k % 6) * 0.003, 38.9125 + (k // 6) * 0.003)}
            for k in range(30)]
    rows += [{"unit_id": f"V{k:02d}", "geometry": box(106.65 + k * 0.03, 38.7 + (k % 3) * 0.05,
                                                       106.67 + k * 0.03, 38.72 + (k % 3) * 0.05)} for k in range(10)]
    units = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    mask = town_units(SimpleNamespace(units=units))
    assert units.loc[mask, "unit_id"].tolist() == [f"C{k:02d}" for k in range(30)]


def test_county_and_town_buttons(browser, published):
    pg = _open(browser, published, "phone")
    try:
        pg.page.locator("button.zoning-view[data-view=county]").click()
        pg.wait_still()
        county = pg.js("window.zoningPage.map.getBounds().toBBoxString()")
        pg.js("window.zoningPage.map.setZoom(18, {animate: false})")
        pg.page.locator("button.zoning-view[data-view=county]").click()
        pg.wait_still()
        assert pg.js("window.zoningPage.map.getBounds().toBBoxString()") == county
        assert pg.js("window.zoningPage.map.getZoom()") < 18
        assert pg.requests == [] and pg.errors == []
    finally:
        pg.close()


@pytest.mark.parametrize("size", SIZES)
def test_change_list_on_the_page(browser, published, size):
    pg = _open(browser, published, size)
    try:
        rows = pg.page.locator("#zoning-changes tbody tr")
        assert rows.count() == 2
        text = pg.page.locator("#zoning-changes").inner_text()
        for unit in ("平罗花园", "文化苑"):
            assert unit in text
        assert text.count("城关一小") == 2 and text.count("城关八小") == 2 and text.count("2023年秋季") == 2
        assert pg.requests == []
    finally:
        pg.close()
