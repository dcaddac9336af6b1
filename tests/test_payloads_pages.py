"""Data is data (issue 15, items 1 and 10): a received proposal folder whose every text field holds a
payload (Jinja2, HTML, script, formula, mathtext) is built into every page through the real CLI and
opened in headless Chromium, offline. Every payload must be shown as the text it is and nothing of it
may run: no template evaluation, no script, no dialog, no console error, no live spreadsheet formula.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from _maps_fixtures import SMALL_B
from _payload_pages import (EVALUATED, PAYLOADS, RUN_NAME, SCHOOL_ADDRESSES, SCHOOL_NAMES, TOWNSHIP,
                            UNIT_NAMES, payload_copy)
from test_maps_browser import Page, browser  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser

HYPERLINK = PAYLOADS[5]
PRIMARY_SCHOOLS = (SCHOOL_NAMES["640221001"], SCHOOL_NAMES["640221008"])


def _cli(*args: str) -> None:
    from cli import main

    res = CliRunner().invoke(main, list(args))
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert "Traceback" not in res.output


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """The payload proposal (A), a payload copy of proposal_small_b (B) and every page built from them."""
    root = tmp_path_factory.mktemp("payloads")
    a = payload_copy(root / "received {{7*7}} proposal")
    b = payload_copy(root / "b", src=SMALL_B)
    out = root / "out"
    _cli("map", str(a), "--out", str(out / "map.html"), "--tiles", "none")
    _cli("publish", str(a), "--out", str(out / "publish"), "--tiles", "none")
    _cli("compare-map", str(a), str(b), "--out", str(out / "compare.html"), "--tiles", "none")
    return {"map": out / "map.html", "parents": out / "publish" / "parents.html",
            "compare": out / "compare.html", "publish": out / "publish"}


def _nothing_ran(pg: Page) -> None:
    """No script, handler, dialog or console error came from the data; no request left the page."""
    assert pg.js("typeof window.__pwned") == "undefined"
    assert pg.js("document.querySelectorAll('img[src=\"x\"], img[onerror]').length") == 0
    assert pg.dialogs == [] and pg.errors == [] and pg.console_errors == [] and pg.requests == []


def _text(pg: Page, selector: str) -> str:
    return pg.page.locator(selector).inner_text()


def test_files_hold_no_evaluated_payload(built):
    cwd = str(Path.cwd())
    for key in ("map", "parents", "compare"):
        html = built[key].read_text("utf-8")
        assert cwd not in html and "</script><script>window.__pwned" not in html, key
        assert "{{7*7}}" in html and "{% for x in range(3) %}X{% endfor %}" in html, key  # not evaluated


def test_planner_map_shows_payloads_as_text(browser, built):
    pg = Page(browser, built["map"])
    try:
        _nothing_ran(pg)
        legend = _text(pg, ".zoning-legend")
        for name in PRIMARY_SCHOOLS:
            assert name in legend
        assert not any(e in legend for e in EVALUATED)
        title = _text(pg, "#zoning-title")
        assert title.startswith("招生片区方案") and RUN_NAME not in title  # no folder or run name
        notice = _text(pg, ".zoning-notice")
        assert PAYLOADS[3] in notice and PAYLOADS[0] not in notice  # source folder shown; no date
        # unit U01 (south-west square): popup title is its payload name, literally
        pg.click_latlng(38.9025, 106.518)
        assert pg.page.locator(".leaflet-popup-content .zoning-card-title").last.inner_text() == UNIT_NAMES["U01"]
        popup = pg.popup_text()
        assert TOWNSHIP in popup and SCHOOL_NAMES["640221001"] in popup
        _nothing_ran(pg)
        pg.js("window.zoningPage.map.closePopup()")
        pg.page.wait_for_timeout(300)  # the closed popup fades out for 200 ms
        pg.page.locator("path.school-primary").first.click(force=True)
        pg.page.wait_for_timeout(300)
        popup = pg.popup_text()
        assert "逐年台账" in popup  # the school's card, not the unit's
        card = pg.page.locator(".leaflet-popup-content .zoning-card-title").last.inner_text()
        assert card in PRIMARY_SCHOOLS
        assert SCHOOL_ADDRESSES[next(k for k, v in SCHOOL_NAMES.items() if v == card)] in popup
        pg.page.locator("button.zoning-level[data-level=junior]").click()
        assert SCHOOL_NAMES["640221104"] in _text(pg, ".zoning-legend")
        pg.shot("payload_planner.png")
        _nothing_ran(pg)
    finally:
        pg.close()


def test_parents_page_shows_payloads_as_text(browser, built):
    pg = Page(browser, built["parents"])
    try:
        _nothing_ran(pg)
        assert _text(pg, "#zoning-head h1") == PAYLOADS[0] + PAYLOADS[1] + "义务教育学校招生片区"  # [publish], as text
        issuer = _text(pg, ".zoning-issuer")
        assert PAYLOADS[2] in issuer and PAYLOADS[5] in issuer  # office and phone
        assert PAYLOADS[4] in _text(pg, ".zoning-footer")  # the notice
        table = _text(pg, "#zoning-table")
        for text in PAYLOADS:
            assert text in table, text
        for text in (*SCHOOL_NAMES.values(), *SCHOOL_ADDRESSES.values()):
            assert text in table
        assert not any(e in table for e in EVALUATED)
        # the search box finds a payload name and shows it literally
        pg.page.locator("#zoning-search").fill("{{7")
        first = pg.page.locator("#zoning-results li.zoning-result .zoning-result-name").first
        assert first.inner_text() == UNIT_NAMES["U01"]
        pg.page.locator("#zoning-results li.zoning-result").first.click()
        pg.page.wait_for_timeout(400)
        assert pg.page.locator(".leaflet-popup .zoning-card-title").inner_text() == UNIT_NAMES["U01"]  # the one card
        assert TOWNSHIP in _text(pg, ".leaflet-popup")
        assert UNIT_NAMES["U01"] in _text(pg, "#zoning-found")  # the screen-reader line, as text
        _nothing_ran(pg)
        for query in ("<script>", "\"><img", "</script>", "{%", "=HYPER", "$\\foo"):
            pg.page.locator("#zoning-search").fill(query)
            names = pg.page.locator("#zoning-results .zoning-result-name").all_inner_texts()
            assert any(query in n for n in names), query  # (the township matches every unit)
        pg.page.locator("#zoning-search").fill("<b>{{7*7}}</b>")  # no match: the query is echoed as text
        assert "<b>{{7*7}}</b>" in _text(pg, "#zoning-results")
        pg.shot("payload_parents.png")
        _nothing_ran(pg)
    finally:
        pg.close()


def test_comparison_map_shows_payloads_as_text(browser, built):
    pg = Page(browser, built["compare"])
    try:
        _nothing_ran(pg)
        control = _text(pg, ".leaflet-control-layers")
        assert RUN_NAME in control  # Leaflet's layer control takes HTML: the name was escaped
        legend = _text(pg, ".zoning-legend")
        for name in PRIMARY_SCHOOLS:
            assert name in legend
        # U03 (row 0, column 2) is zoned differently in A and B
        pg.click_latlng(38.9025, 106.530)
        assert pg.page.locator(".leaflet-popup-content .zoning-card-title").last.inner_text() == UNIT_NAMES["U03"]
        pg.shot("payload_compare.png")
        _nothing_ran(pg)
    finally:
        pg.close()


def test_published_tables_are_inert(built):
    wb = load_workbook(built["publish"] / "招生片区划分表.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith("=")]
    assert [c.value for c in cells] == [HYPERLINK]  # the address of 城关一小's payload copy
    assert cells[0].data_type == "s" and cells[0].quotePrefix  # text, not a formula
    csv = (built["publish"] / "招生片区划分表.csv").read_text("utf-8-sig")
    assert "'" + HYPERLINK.replace('"', '""') in csv
    assert "\n=" not in csv and ",=" not in csv and ',"=' not in csv
    for name in ("片区调整情况.xlsx",):
        wb = load_workbook(built["publish"] / name)
        live = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=") and not c.quotePrefix]
        assert live == [], name
