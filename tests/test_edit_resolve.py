"""锁定我的修改，重新优化其余 (issue 21 item 4): when the background re-solve finishes, the page shows
the re-solved proposal's figures beside the edited one (ledger of the changed schools, totals,
failed checks) and can open it in the editor; the figures are those the new folder holds."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from _edit_fixtures import COMPARED, MOVES, sample_proposal
from geodata.proposal import read_ledger
from pipelines.edit import start_editor
from pipelines.edit_session import EditSession

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return sample_proposal(tmp_path_factory.mktemp("resolve"))


def wait(job, seconds=400):
    t0 = time.time()
    while job.running and time.time() - t0 < seconds:
        time.sleep(0.5)
    assert not job.running, job.messages[-5:]
    assert job.error is None, job.error


def test_resolved_figures_beside_the_edited_ones_equal_the_new_folder(source):
    session = EditSession(source)
    for unit, level, school in MOVES:
        session.assign(unit, level, school)
    job = session.resolve("重新优化甲")
    wait(job)
    r = job.state()["result"]
    assert {"P08", "P09"} <= set(r["schools"])
    written = read_ledger(Path(job.path))
    written = written[written["school_id"].isin(r["schools"])]
    shown = [{k: row[k] for k in COMPARED} for row in r["ledger"]]
    assert shown == [{k: (bool(v) if isinstance(v, bool) or k.startswith("over") else int(v) if k != "school_id" else v)
                      for k, v in row.items()} for row in written[COMPARED].to_dict("records")]
    edited = session.current.ledger
    edited = edited[edited["school_id"].isin(r["schools"])]
    assert [row["students"] for row in r["edited_ledger"]] == edited["students"].tolist()
    for key in ("totals", "edited_totals", "original_totals"):
        assert set(r[key]) >= {"students_moved", "units_moved", "mean_distance_m", "max_distance_m", "moved_by_year"}
    assert r["edited_totals"] == session.totals(session.current)
    assert r["locked_edits"] == len(MOVES)


@pytest.mark.browser
def test_the_page_shows_the_resolved_proposal_and_opens_it(source):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed at /usr/bin/chromium")
    server = start_editor(source)
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server.url) else r.abort())
            page.goto(server.url)
            page.wait_for_function("document.body.dataset.ready === '1'")
            for unit, level, school in MOVES:
                page.evaluate("([u, l, s]) => window.zoningEditor.assign(u, l, s)", [unit, level, school])
            page.evaluate("window.zoningEditor.resolve('重新优化乙')")
            page.wait_for_selector("#resolved:not([hidden]) #resolved-totals", timeout=400_000)
            job = server.session.job
            assert job.path and job.result
            table = page.locator("#resolved table[data-resolved-school='P08']")
            cells = table.locator("td[data-field='students']")
            want = [r["students"] for r in job.result["ledger"] if r["school_id"] == "P08"]
            assert [int(c) for c in cells.all_inner_texts()] == want
            assert page.locator("#resolved-map").get_attribute("href") == "/resolved/map.html"
            resp = page.request.get(server.url + "resolved/map.html")
            assert resp.status == 200 and "<html" in resp.text().lower()
            page.click("#open-resolved")
            page.wait_for_function("document.body.dataset.ready === '1' && document.title.includes('重新优化乙')")
            assert server.session.source == Path(job.path).resolve()
            assert page.evaluate("window.zoningEditor.state().edits.length") == 0
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
