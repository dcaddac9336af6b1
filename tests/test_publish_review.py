"""The reviewer's gaps in issue 19's publication, each tested where it shows: search that prefers an
exact name and never breaks a tie silently, one card that leaves the chosen outline visible, a
metric-only scale, 天地图 without 审图号 refused, pictures coloured like the page (every zone its own
colour, neighbours apart, every zone labelled, no overlapping labels), units without an outline left
out and named, and the moved units' reasons (internal on the planner's map, public wording for parents).

Browser tests run in headless Chromium at 390×844 and 1366×768 with the network cut off.
"""
from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from _maps_fixtures import SMALL, XSS, broken_geometry_copy, lookalike_copy, publish_copy, with_reasons
from test_maps_browser import Page, browser  # noqa: F401  (browser is a fixture)

SIZES = {"phone": (390, 844), "office": (1366, 768)}


def _cli(*args):
    from cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def _page(tmp_path, src):
    from maps.parents import parents_html
    from maps.proposal import load_proposal

    out = tmp_path / "parents.html"
    out.write_text(parents_html(load_proposal(src), tiles="none"), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def lookalike_page(tmp_path_factory):
    root = tmp_path_factory.mktemp("lookalike")
    return _page(root, lookalike_copy(root / "proposal"))


def _enter(pg, text):
    search = pg.page.locator("#zoning-search")
    search.fill(text)
    search.press("Enter")
    pg.page.wait_for_timeout(300)


def _popups(pg):
    return pg.js("document.querySelectorAll('.leaflet-popup').length")


# ------------------------------------------------------------------------------------ search
@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_exact_name_wins_over_a_suffix_stripped_one(browser, lookalike_page, size):
    pg = Page(browser, lookalike_page, *SIZES[size])
    try:
        for query in ("东城家园", "东城花园", "书香家园", "书香小区"):
            _enter(pg, query)
            assert _popups(pg) == 1, query
            assert pg.page.locator(".leaflet-popup .zoning-card-title").inner_text() == query
        assert pg.requests == [] and pg.errors == []
    finally:
        pg.close()


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_a_tie_lists_the_candidates_instead_of_choosing_one(browser, lookalike_page, size):
    pg = Page(browser, lookalike_page, *SIZES[size])
    try:
        pg.js("window.zoningPage.map.closePopup()")
        _enter(pg, "东城")
        assert _popups(pg) == 0  # nothing opened by list order
        note = pg.page.locator("#zoning-results .zoning-ambiguous")
        assert note.count() == 1 and "2 个" in note.inner_text()
        names = pg.page.locator("#zoning-results li.zoning-result .zoning-result-name").all_inner_texts()
        assert set(names[:2]) == {"东城花园", "东城家园"}
        pg.page.locator("#zoning-results li.zoning-result", has_text="东城家园").click()
        pg.page.wait_for_timeout(300)
        assert pg.page.locator(".leaflet-popup .zoning-card-title").inner_text() == "东城家园"
    finally:
        pg.close()


@pytest.mark.browser
@pytest.mark.parametrize("query", ["城关镇鼓楼南街1号", "鼓楼南街1号", "东环路8号", "城关八小"])
def test_a_school_is_found_by_its_own_address_and_name(browser, lookalike_page, query):
    expected = "城关八小" if ("东环路" in query or "八小" in query) else "城关一小"
    pg = Page(browser, lookalike_page, *SIZES["phone"])
    try:
        pg.page.locator("#zoning-search").fill(query)
        first = pg.page.locator("#zoning-results li.zoning-result").first
        assert first.locator(".zoning-result-name").inner_text() == expected
        assert "学校" in first.inner_text()
        _enter(pg, query)
        assert _popups(pg) == 1
        card = pg.page.locator(".leaflet-popup").inner_text()
        assert expected in card and "地址" in card
        weights = pg.js("Array.from(document.querySelectorAll('path.zone-primary')).map(p => p.getAttribute('stroke-width'))")
        assert sorted(weights) == ["1.5", "4"]  # the school's zone highlighted
    finally:
        pg.close()


# ------------------------------------------------------------------------------ one card, visible outline
def _rect(pg, selector):
    return pg.js(f"(() => {{ var r = document.querySelector({selector!r}).getBoundingClientRect();"
                 " return [r.left, r.top, r.right, r.bottom]; })()")


def _overlap(a, b):
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("query", ["文化苑", "鼓楼小区", "星海湾小区", "东城家园"])
def test_one_card_and_the_outline_stays_visible(browser, lookalike_page, size, query):
    pg = Page(browser, lookalike_page, *SIZES[size])
    try:
        _enter(pg, query)
        pg.wait_still()
        assert _popups(pg) == 1
        outline = _rect(pg, "path.zoning-chosen-unit")
        popup = _rect(pg, ".leaflet-popup-content-wrapper")
        mapbox = _rect(pg, ".folium-map")
        assert _overlap(outline, popup) == 0, (outline, popup)
        assert mapbox[0] <= outline[0] and outline[2] <= mapbox[2] and mapbox[1] <= outline[1] and outline[3] <= mapbox[3]
        assert mapbox[1] <= popup[1]  # the card starts inside the map, not above it
        found = _rect(pg, "#zoning-found")  # no second card in the header (a screen-reader line only)
        assert (found[2] - found[0]) <= 1 and (found[3] - found[1]) <= 1
        assert pg.page.locator(".zoning-card:visible").count() == 1
        pg.shot(f"review_card_{size}_{query}.png")
        assert pg.requests == [] and pg.errors == []
    finally:
        pg.close()


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
def test_scale_bar_is_metric_only(browser, lookalike_page, size):
    pg = Page(browser, lookalike_page, *SIZES[size])
    try:
        lines = pg.page.locator(".leaflet-control-scale-line").all_inner_texts()
        assert len(lines) == 1 and re.fullmatch(r"\d+(\.\d+)? (米|公里)", lines[0]), lines
    finally:
        pg.close()


# ------------------------------------------------------------------------------------ 审图号
def test_tianditu_without_review_number_is_refused(tmp_path):
    bare = publish_copy(tmp_path / "bare", settings={"county": "平罗县"})
    res = _cli("publish", bare, "--out", tmp_path / "pub", "--tiles", "tianditu", "--tianditu-key", "k")
    assert res.exit_code == 2, res.output
    assert "审图号" in res.output and "map_review_no" in res.output and "--tiles none" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "pub").exists()
    res = _cli("publish", bare, "--out", tmp_path / "pub", "--tiles", "tianditu", "--tianditu-key", "k",
               "--map-review-no", "宁S〔2024〕001号")
    assert res.exit_code == 0, res.output
    html = (tmp_path / "pub" / "parents.html").read_text("utf-8")
    assert "审图号：宁S〔2024〕001号" in html and "请在 [publish]" not in html and "map_review_no" not in html


def test_no_developer_text_in_the_footer():
    from maps.publication import footer_lines
    from zoning.scenario import Publish

    for tiles in ("none", "tianditu", "osm"):
        assert not any("map_review_no" in line or "[publish]" in line for line in footer_lines(Publish(), tiles))


# ------------------------------------------------------------------------------------ pictures
def test_zone_colours_name_every_zone_and_keep_neighbours_apart():
    """24 zones on a grid: each its own colour (the legend can name each), every pair of neighbours
    at least FAR_ENOUGH apart where the palette allows; 30 zones: colours repeat, neighbours never."""
    import geopandas as gpd
    from shapely.geometry import box

    from maps.palette import FAR_ENOUGH, colour_distance, zone_colors, zone_neighbours

    def grid(n, cols):
        rows = [{"school_id": f"S{k:02d}", "geometry": box(106.5 + (k % cols) * 0.01, 38.9 + (k // cols) * 0.01,
                                                           106.51 + (k % cols) * 0.01, 38.91 + (k // cols) * 0.01)}
                for k in range(n)]
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)

    z = grid(24, 6)
    c = zone_colors(z)
    assert len(set(c.values())) == 24
    two = zone_colors(grid(2, 2))
    assert colour_distance(*two.values()) >= FAR_ENOUGH
    z30 = grid(30, 6)
    c30 = zone_colors(z30)
    for a, others in zone_neighbours(z30).items():
        assert all(c30[a] != c30[b] for b in others)
    assert zone_colors(z30) == c30  # deterministic


def test_pictures_use_the_page_colours_and_label_every_zone_without_overlap(tmp_path):
    import matplotlib

    from maps import images
    from maps.parents import parents_payload
    from maps.proposal import load_proposal
    from maps.publication import publish_settings

    p = load_proposal(publish_copy(tmp_path / "p"))
    info = publish_settings(p)
    data = parents_payload(p, info)
    crs = images.utm_crs_of(p.zones)
    units, schools = p.units.to_crs(crs), p.schools.to_crs(crs)
    for level in p.levels:
        z = p.zones[p.zones.level == level].to_crs(crs).sort_values("school_id")
        colours = images.zone_colors(z)
        page_colours = {f["properties"]["school_id"]: f["properties"]["color"] for f in data["zones"][level]["features"]}
        assert colours == page_colours
        s = schools[schools.school_id.isin(z.school_id)]
        with matplotlib.rc_context(images.FONTS):
            fig, labels = images.county_figure(p, level, z, colours, units, s, None, info, "")
            texts = labels["county"] + labels["town"]
            assert sorted(t.get_text() for t in texts) == sorted(z.name)
            r = fig.canvas.get_renderer()
            boxes = [t.get_window_extent(r) for t in labels["county"]]
            assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
            for t in texts:  # each label edged in its zone's colour
                edge = matplotlib.colors.to_hex(t.get_bbox_patch().get_edgecolor())
                assert edge == colours[z.set_index("name").loc[t.get_text(), "school_id"]]


def test_town_inset_when_the_town_is_small():
    """30 compounds in a town and 10 villages 10–30 km out: the town is enlarged in an inset."""
    import geopandas as gpd
    from shapely.geometry import box

    from maps.images import town_extent

    rows = [{"unit_id": f"C{k:02d}", "geometry": box(106.52 + (k % 6) * 0.003, 38.91 + (k // 6) * 0.003,
                                                       106.5225 + (k % 6) * 0.003, 38.9125 + (k // 6) * 0.003)}
            for k in range(30)]
    rows += [{"unit_id": f"V{k:02d}", "geometry": box(106.65 + k * 0.03, 38.7 + (k % 3) * 0.05,
                                                       106.67 + k * 0.03, 38.72 + (k % 3) * 0.05)} for k in range(10)]
    u = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    u = u.to_crs(u.estimate_utm_crs())
    ext = town_extent(u, u.total_bounds)
    assert ext is not None
    town = u[u.unit_id.str.startswith("C")].total_bounds
    assert ext[0] <= town[0] and ext[2] >= town[2] and (ext[2] - ext[0]) < 0.35 * (u.total_bounds[2] - u.total_bounds[0])
    assert town_extent(u[u.unit_id.str.startswith("C")], town) is None  # all town: no inset


def test_empty_and_multipart_units_are_drawn_or_named(tmp_path):
    src = broken_geometry_copy(tmp_path / "broken")
    res = _cli("publish", src, "--out", tmp_path / "pub")
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert "八里桥村（U11）" in res.stderr and "空几何" in res.stderr
    pub = tmp_path / "pub"
    for name in ("小学招生片区总图.png", "小学招生片区总图.pdf", "城关八小_小学片区图.png", "初中招生片区总图.png"):
        assert (pub / name).stat().st_size > 10_000, name
    from maps.images import skipped_units
    from maps.proposal import load_proposal

    p = load_proposal(src)
    assert skipped_units(p) == ["八里桥村（U11）"]  # the two-part 星海湾小区 is drawn, not skipped
    html = (pub / "parents.html").read_text("utf-8")
    assert "星海湾小区" in html


# ------------------------------------------------------------------------------------ reasons
def test_parents_read_public_reasons(tmp_path):
    src = with_reasons(publish_copy(tmp_path / "p"))
    res = _cli("publish", src, "--out", tmp_path / "pub")
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(tmp_path / "pub" / "片区调整情况.csv", dtype=str, encoding="utf-8-sig")
    assert dict(zip(csv.unit_id, csv.reason)) == {"U03": "调整为就近学校", "U07": "为化解城关一小超额"}
    for f in (tmp_path / "pub").iterdir():
        if f.suffix in (".html", ".csv"):
            assert "原学校不在可选范围" not in f.read_text("utf-8-sig"), f.name
    assert "调整为就近学校" in (tmp_path / "pub" / "parents.html").read_text("utf-8")


@pytest.mark.browser
def test_planner_popup_shows_the_reason_escaped(browser, tmp_path):
    from maps.planner import write_planner_map

    src = tmp_path / "p"
    shutil.copytree(SMALL, src)
    with_reasons(src)
    a = pd.read_csv(src / "assignments.csv", dtype=str, keep_default_na=False)
    a.loc[(a.unit_id == "U07") & (a.level == "primary"), "reason"] = XSS
    a.to_csv(src / "assignments.csv", index=False, encoding="utf-8-sig")
    pg = Page(browser, write_planner_map(src, tiles="none"), 1366, 768)
    try:
        for uid, lat, lon, reason in (("U03", 38.9025, 106.530, "原学校不在可选范围"), ("U07", 38.9065, 106.531, XSS)):
            pg.js("window.zoningPage.map.closePopup()")
            pg.page.wait_for_timeout(300)  # the closing popup fades out and would take the click
            pg.click_latlng(lat, lon)
            text = pg.popup_text()
            assert "调整原因" in text and reason in text, (uid, text)
        pg.js("window.zoningPage.map.closePopup(); window.zoningPage.map.setView([38.9025, 106.518], 15, {animate: false})")
        pg.page.wait_for_timeout(300)
        pg.click_latlng(38.9025, 106.518)  # U01 did not move: no reason row
        assert "调整原因" not in pg.popup_text()
        assert pg.dialogs == [] and pg.js("document.querySelectorAll('img[src=x]').length") == 0
        assert pg.requests == [] and pg.errors == []
    finally:
        pg.close()


@pytest.mark.browser
def test_on_a_phone_the_open_card_is_not_under_the_map_buttons(browser, lookalike_page):
    pg = Page(browser, lookalike_page, *SIZES["phone"])
    try:
        _enter(pg, "东城家园")
        assert _popups(pg) == 1
        hidden = "getComputedStyle(document.querySelector('.leaflet-top.leaflet-left')).visibility"
        assert pg.js(hidden) == "hidden"
        pg.js("window.zoningPage.map.closePopup()")
        pg.page.wait_for_timeout(200)
        assert pg.js(hidden) == "visible"
    finally:
        pg.close()
