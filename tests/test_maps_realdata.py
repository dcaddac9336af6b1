"""Maps on real geometry: the Santa Rosa elementary zones (967 census blocks, 7 schools) from
../shared/realdata, turned into a proposal folder. Skipped where that folder is absent."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "santa_rosa_2025"

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def proposal(tmp_path_factory) -> Path:
    """A proposal folder whose zones are the district's 2025-26 zones (nothing moved)."""
    if not (REAL / "units.geojson").exists():
        pytest.skip("../shared/realdata/santa_rosa_2025 not present")
    out = tmp_path_factory.mktemp("santa_rosa") / "proposal"
    out.mkdir()
    u = gpd.read_file(REAL / "units.geojson")
    s = gpd.read_file(REAL / "schools.geojson")
    a = pd.DataFrame({"unit_id": u.unit_id, "unit_name": u.name, "level": "primary",
                      "school_id": u.primary_school, "school_name": u.primary_school.map(dict(zip(s.school_id, s.name))),
                      "previous_school_id": u.primary_school, "students": u.students_primary.astype(int),
                      "change_year": ""})
    a.to_csv(out / "assignments.csv", index=False, encoding="utf-8-sig")
    units = gpd.GeoDataFrame({"unit_id": u.unit_id, "name": u.name, "township": "", "primary_school": u.primary_school,
                              "junior_school": None, "previous_primary_school": u.primary_school,
                              "previous_junior_school": None}, geometry=u.geometry, crs=4326)
    units.to_file(out / "units.geojson", driver="GeoJSON")
    rows = []
    for sid, g in u.groupby("primary_school"):
        rows.append({"school_id": sid, "name": dict(zip(s.school_id, s.name))[sid], "level": "primary", "address": "",
                     "n_units": len(g), "students": int(g.students_primary.sum()), "classes": 0,
                     "largest_class": 0, "utilisation": 0.9,
                     "geometry": shapely.union_all(shapely.make_valid(g.geometry.values))})
    gpd.GeoDataFrame(rows, geometry="geometry", crs=4326).to_file(out / "zones.geojson", driver="GeoJSON")
    sch = s[["school_id", "name", "geometry"]].copy()
    sch["level"], sch["address"] = "primary", ""
    sch.to_file(out / "schools.geojson", driver="GeoJSON")
    (out / "run.json").write_text(json.dumps({"source": str(REAL)}), encoding="utf-8")
    return out


def test_parents_map_is_small_and_complete(proposal, tmp_path):
    from maps.parents import parents_html, zone_table
    from maps.proposal import load_proposal

    p = load_proposal(proposal)
    html = parents_html(p, tiles="none")
    size = len(html.encode("utf-8"))
    assert size < 3_000_000, size
    table = zone_table(p)
    assert len(table) == 7
    listed = [n for cell in table["片区范围（小区/村）"] for n in cell.split("、")]
    assert len(listed) == len(set(listed)) == 967  # duplicate block names are made unique
    (tmp_path / "parents.html").write_text(html, encoding="utf-8")


@pytest.mark.browser
def test_parents_map_in_browser(proposal, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from test_maps_browser import ARGS, CHROMIUM, Page, parents_page

    from maps.proposal import load_proposal

    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium")
    p = load_proposal(proposal)
    # a point deep inside one zone: the representative point of the zone shrunk by 150 m
    z = p.zones.to_crs(p.zones.estimate_utm_crs())
    target = z.iloc[0]
    inner = target.geometry.buffer(-150)
    pt = gpd.GeoSeries([inner.representative_point()], crs=z.crs).to_crs(4326).iloc[0]
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            pg = Page(b, parents_page(proposal, tmp_path / "parents.html"))
            assert pg.js("document.querySelectorAll('path.zone-primary').length") == 7
            pg.js(f"window.zoningPage.map.setView([{pt.y}, {pt.x}], 15)")
            pg.page.wait_for_timeout(300)
            pg.click_latlng(pt.y, pt.x)
            assert target["name"] in pg.popup_text()
            pg.page.locator("#zoning-search").fill("block 10")
            assert pg.page.locator("#zoning-results li.zoning-result").count() == 30  # capped list
            pg.shot("realdata_parents.png")
            assert pg.requests == [] and pg.errors == []
        finally:
            b.close()
