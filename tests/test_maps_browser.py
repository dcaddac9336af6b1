"""The maps in headless Chromium, offline: every request that is not file:/data: is aborted and
recorded. Screenshots go to tests/artifacts/ (look at them)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from _maps_fixtures import SMALL, SMALL_B, XSS, xss_copy

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed at /usr/bin/chromium")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A page with the network cut off, recording outside requests, dialogs and script errors."""

    def __init__(self, browser, path: Path, width=1200, height=800):
        self.requests, self.dialogs, self.errors, self.console_errors = [], [], [], []
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.page.route("**/*", self._route)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("window.zoningPage !== undefined")
        self.wait_still()

    def wait_still(self):
        """Wait for the map's opening fitBounds zoom/pan animation to end: a click computed from
        lat/lon mid-animation lands beside its target (it once hit a school marker)."""
        self.page.wait_for_function(
            "(() => { var m = window.zoningPage.map;"
            " return !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress); })()")

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def js(self, expr):
        return self.page.evaluate(expr)

    def click_latlng(self, lat, lon):
        """Click the map at a geographic position."""
        self.wait_still()
        x, y = self.js(f"(() => {{ var p = window.zoningPage.map.latLngToContainerPoint([{lat}, {lon}]);"
                       f" return [p.x, p.y]; }})()")
        box = self.page.locator(".folium-map").bounding_box()
        self.page.mouse.click(box["x"] + x, box["y"] + y)
        self.page.wait_for_timeout(300)  # closing popups fade out for 200 ms

    def popup_text(self):
        return self.page.locator(".leaflet-popup-content").last.inner_text()

    def shot(self, name):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name))

    def close(self):
        self.page.close()


def _zone_count(pg, cls):
    return pg.js(f"document.querySelectorAll('path.{cls}').length")


def parents_page(src: Path, out: Path) -> Path:
    """Only the parents' page (publish() also draws the images, which the browser does not need)."""
    from maps.parents import parents_html
    from maps.proposal import load_proposal

    out.write_text(parents_html(load_proposal(src), tiles="none"), encoding="utf-8")
    return out


@pytest.fixture()
def small(tmp_path):
    dst = tmp_path / "proposal_small"
    shutil.copytree(SMALL, dst)
    return dst


def test_planner_map(browser, small):
    from maps.planner import write_planner_map

    pg = Page(browser, write_planner_map(small, tiles="none"))
    try:
        assert pg.js("typeof L") == "object" and pg.page.locator(".leaflet-container").count() == 1
        # number of zone polygons == schools with a zone, per level
        assert _zone_count(pg, "zone-primary") == 2
        assert _zone_count(pg, "moved-primary") == 2
        legend = pg.page.locator(".zoning-legend").inner_text()
        assert "城关一小" in legend and "城关八小" in legend and "调整的小区/村（2 个" in legend
        notice = pg.page.locator(".zoning-notice").inner_text()
        assert "示例数据，仅供演示，非官方数据" in notice and "数据来源" in notice
        pg.shot("planner_primary.png")
        # current zones: a toggle layer, off at first
        assert _zone_count(pg, "previous-primary") == 0
        pg.page.locator(".leaflet-control-layers-overlays label", has_text="现行片区").locator("input").check()
        assert _zone_count(pg, "previous-primary") == 2
        pg.shot("planner_current_zones.png")
        # a moved unit (U07, 文化苑, row 1 col 2) shows old -> new school and its route
        pg.click_latlng(38.9075, 106.530)
        text = pg.popup_text()
        assert "文化苑" in text and "城关八小" in text and "城关一小" in text and "路线距离" in text
        assert pg.js("document.querySelectorAll('path.unit-route').length") == 1
        pg.shot("planner_unit_route.png")
        # school popup with ledger
        pg.js("window.zoningPage.map.closePopup()")
        pg.page.locator("path.school-primary").first.click(force=True)
        text = pg.popup_text()
        assert "逐年台账" in text and "2027" in text and "最大班额" in text and "利用率" in text
        pg.shot("planner_school_popup.png")
        # level switch
        pg.page.locator("button.zoning-level[data-level=junior]").click()
        assert _zone_count(pg, "zone-junior") == 1 and _zone_count(pg, "zone-primary") == 0
        assert _zone_count(pg, "moved-junior") == 0
        # barrier layer present
        assert pg.js("document.querySelectorAll('path.barrier-line').length") == 1
        pg.shot("planner_junior.png")
        assert pg.requests == [] and pg.dialogs == [] and pg.errors == []
    finally:
        pg.close()


def test_parents_map_search_and_click(browser, small, tmp_path):
    pg = Page(browser, parents_page(small, tmp_path / "parents.html"))
    try:
        assert _zone_count(pg, "zone-primary") == 2
        # search, partial Chinese match
        pg.page.locator("#zoning-search").fill("明珠")
        items = pg.page.locator("#zoning-results li.zoning-result")
        assert items.count() == 1 and "东方明珠小区" in items.first.inner_text()
        items.first.click()
        pg.page.wait_for_timeout(400)
        card = pg.popup_text()  # one card, in the popup (the header holds a screen-reader line only)
        assert "东方明珠小区" in card and "城关八小" in card and "平罗四中" in card
        assert pg.page.locator(".zoning-card:visible").count() == 1
        pg.shot("parents_search.png")
        # a search that matches several units, and one that matches none
        pg.page.locator("#zoning-search").fill("小区")
        assert pg.page.locator("#zoning-results li.zoning-result").count() == 4
        pg.page.locator("#zoning-search").fill("不存在的村")
        assert "没有找到" in pg.page.locator("#zoning-results").inner_text()
        pg.page.locator("#zoning-search").fill("")
        # click inside a zone (城西村, west of the canal: 城关一小)
        pg.js("window.zoningPage.map.closePopup(); window.zoningPage.map.fitBounds([[38.9, 106.515], [38.915, 106.539]])")
        pg.page.wait_for_timeout(300)
        pg.click_latlng(38.9115, 106.5175)
        text = pg.popup_text()
        assert "城关一小" in text and "城关镇鼓楼南街1号" in text and "小学" in text
        pg.shot("parents_click_zone.png")
        pg.page.locator("button.zoning-level[data-level=junior]").click()
        assert _zone_count(pg, "zone-junior") == 1
        pg.click_latlng(38.9115, 106.5175)
        assert "平罗四中" in pg.popup_text()
        # the zone table is on the page
        table = pg.page.locator("#zoning-table").inner_text()
        assert "招生片区划分表" in table and "星海湾小区" in table
        assert pg.requests == [] and pg.dialogs == [] and pg.errors == []
    finally:
        pg.close()


def test_parents_map_on_a_phone(browser, small, tmp_path):
    path = parents_page(small, tmp_path / "parents.html")
    html = path.read_text("utf-8")
    assert 'name="viewport"' in html and "width=device-width" in html
    pg = Page(browser, path, width=375, height=740)
    try:
        assert pg.js("document.documentElement.scrollWidth") <= 375
        box = pg.page.locator(".folium-map").bounding_box()
        assert box["width"] >= 370 and box["height"] >= 300
        assert pg.page.locator("#zoning-search").is_visible()
        pg.page.locator("#zoning-search").fill("鼓楼")
        pg.page.locator("#zoning-results li.zoning-result").first.click()
        pg.page.wait_for_timeout(400)
        assert "城关一小" in pg.popup_text()  # on a phone the answer is one popup on the map
        assert pg.js("document.querySelectorAll('.leaflet-popup').length") == 1
        found = pg.page.locator("#zoning-found").bounding_box()
        assert found["width"] <= 1 and found["height"] <= 1  # no second card in the header
        pg.shot("parents_phone.png")
        pg.page.screenshot(path=str(ARTIFACTS / "parents_phone_full.png"), full_page=True)
        assert pg.requests == [] and pg.errors == []
    finally:
        pg.close()


def test_html_in_names_is_shown_as_text(browser, tmp_path):
    from maps.parents import publish
    from maps.planner import write_planner_map

    src = xss_copy(tmp_path / "xss")
    pages = [publish(src, out_dir=tmp_path / "pub", tiles="none")["parents.html"],
             write_planner_map(src, tiles="none")]
    for path in pages:
        pg = Page(browser, path)
        try:
            assert pg.js("document.querySelectorAll('img[src=\"x\"]').length") == 0
            legend = pg.page.locator(".zoning-legend").inner_text()
            assert XSS in legend  # the school's name, literally
            if path.name == "parents.html":
                assert XSS in pg.page.locator("#zoning-table").inner_text()
                pg.page.locator("#zoning-search").fill("<img")
                pg.page.locator("#zoning-results li.zoning-result").first.click()
                assert XSS in pg.page.locator("#zoning-found").inner_text()
            else:
                pg.page.locator("path.school-primary").first.click(force=True)
            pg.page.wait_for_timeout(200)
            assert pg.js("document.querySelectorAll('img[src=\"x\"]').length") == 0
            pg.shot(f"xss_{path.stem}.png")
            assert pg.dialogs == [] and pg.errors == [] and pg.requests == []
        finally:
            pg.close()


def test_tile_requests_go_only_to_the_chosen_host(browser, small):
    from maps.planner import write_planner_map

    pg = Page(browser, write_planner_map(small, tiles="tianditu", tianditu_key="testkey"))
    try:
        pg.page.wait_for_timeout(300)
        assert pg.requests, "tile requests expected"
        hosts = {u.split("/")[2] for u in pg.requests}
        assert all(h.endswith(".tianditu.gov.cn") for h in hosts), hosts
    finally:
        pg.close()


def test_comparison_map(browser, tmp_path):
    from maps.compare import write_comparison_map

    out = write_comparison_map(SMALL, SMALL_B, tmp_path / "compare.html", tiles="none")
    pg = Page(browser, out)
    try:
        counts = lambda *cls: {c: _zone_count(pg, c) for c in cls}  # noqa: E731 (messages on failure)
        assert counts("zone-a-primary", "diff-primary") == {"zone-a-primary": 2, "diff-primary": 2}
        legend = pg.page.locator(".zoning-legend").inner_text()
        assert "两方案不同的小区/村：2 个" in legend, legend
        pg.click_latlng(38.9075, 106.530)
        text = pg.popup_text()
        assert "文化苑" in text and "城关八小" in text and "城关一小" in text, text
        pg.page.locator(".leaflet-control-layers-base input").nth(1).check()
        assert counts("zone-b-primary", "zone-a-primary") == {"zone-b-primary": 2, "zone-a-primary": 0}
        pg.shot("compare.png")
        pg.page.locator("button.zoning-level[data-level=junior]").click()
        assert counts("diff-junior") == {"diff-junior": 0}
        assert (pg.requests, pg.errors) == ([], [])
    finally:
        pg.close()


def test_page_with_assets_in_a_folder_beside_it(browser, small, tmp_path):
    """--asset-base assets: Leaflet comes from ./assets, copied there; the page still works offline."""
    from maps.planner import write_planner_map

    out = write_planner_map(small, out=tmp_path / "site" / "map.html", tiles="none", asset_base="assets")
    assert (tmp_path / "site" / "assets" / "leaflet" / "leaflet.js").exists()
    assert "Leaflet 1.9.4, a JS library" not in out.read_text("utf-8")  # linked, not inlined
    pg = Page(browser, out)
    try:
        assert _zone_count(pg, "zone-primary") == 2
        assert pg.requests == [] and pg.errors == []
    finally:
        pg.close()
