"""``zoning edit`` in headless Chromium with the network blocked (issue 21): three edits through
``window.zoningEditor``, the panel's figures equal ``zoning project`` on the saved proposal; undo
restores the original figures exactly; bad input is a Chinese message in the page."""
from __future__ import annotations

from pathlib import Path

import pytest

from _edit_fixtures import COMPARED, MOVES, folder_digest, sample_proposal
from pipelines.edit import start_editor
from pipelines.project import run_project

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


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return sample_proposal(tmp_path_factory.mktemp("editb"))


@pytest.fixture()
def editor(browser, source):
    server = start_editor(source)
    outside, errors = [], []
    page = browser.new_page(viewport={"width": 1400, "height": 900})

    def route(r):
        if r.request.url.startswith(server.url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url)
    page.wait_for_function("document.body.dataset.ready === '1'")
    yield page, server
    page.close()
    server.shutdown()
    server.server_close()
    assert not errors, errors
    assert not outside, outside


def _rows(ledger) -> list[tuple]:
    return [tuple(r[c] for c in COMPARED) for r in ledger]


def test_three_edits_equal_project_on_the_saved_proposal_and_undo_restores(editor, source):
    page, server = editor
    before_files = folder_digest(source)
    original = page.evaluate("window.zoningEditor.ledger()")
    for unit, level, school in MOVES:
        page.evaluate("([u, l, s]) => window.zoningEditor.assign(u, l, s)", [unit, level, school])
    panel = page.evaluate("window.zoningEditor.ledger()")
    assert page.locator("#edits li").count() == 3
    assert page.locator("table[data-school='P08']").count() == 1  # the changed school is on the panel
    was = {(r["school_id"], r["year"]): r["students"] for r in original}
    now = {(r["school_id"], r["year"]): r["students"] for r in panel}
    assert all(now[("P08", y)] < was[("P08", y)] for y in range(2023, 2028))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "editor_three_edits.png"))

    path = page.evaluate("window.zoningEditor.save('方案甲_浏览器调整')")
    assert Path(path).parent == source.parent and "已另存为新方案" in page.inner_text("#message")
    projected, _ = run_project(zones_dir=path)
    expected = [tuple(r) for r in projected[COMPARED].itertuples(index=False, name=None)]
    assert _rows(panel) == [tuple(v.item() if hasattr(v, "item") else v for v in r) for r in expected]

    for left in (2, 1, 0):
        page.click("#undo")
        page.wait_for_function(f"window.zoningEditor.state().edits.length === {left}")
    assert page.evaluate("window.zoningEditor.ledger()") == original
    assert page.evaluate("window.zoningEditor.changedSchools()") == []
    assert folder_digest(source) == before_files


def test_bad_input_shows_a_chinese_message_in_the_page(editor):
    page, _ = editor
    for args, words in ((["NOPE", "primary", "P09"], "没有编号为“NOPE”的小区"),
                        (["C080", "junior", "P09"], "不招收初中"),
                        (["C080", "primary", "ZZZ"], "没有编号为“ZZZ”的学校")):
        err = page.evaluate("([u, l, s]) => window.zoningEditor.assign(u, l, s).then(() => 'ok', e => e.message)", args)
        assert words in err
        assert words in page.inner_text("#message")
    assert page.evaluate("window.zoningEditor.state().edits.length") == 0


def test_click_a_unit_lists_candidates_and_a_pick_recolours(editor):
    page, _ = editor
    page.evaluate("window.zoningEditor.zoomTo('C080')")
    page.click("path[data-unit='C080']")
    button = page.locator("#unit button[data-level='primary'][data-school='P09']")
    button.wait_for()
    assert "城关九小" in button.inner_text() and "公里" in button.inner_text()
    assert page.locator("#unit button[data-level='junior']").count() >= 1
    button.click()
    page.wait_for_function("window.zoningEditor.state().edits.length === 1")
    fill = page.get_attribute("path[data-unit='C080']", "fill")
    colour = page.evaluate("fetch('/api/data').then(r => r.json()).then(d => d.colors.P09)")
    assert fill.lower() == colour.lower()
    assert "永安苑" in page.inner_text("#edits") and "城关九小" in page.inner_text("#edits")
    page.click("#undo")
    page.wait_for_function("window.zoningEditor.state().edits.length === 0")
