"""A school the scenario closes (``[schools] close``) in the editor (issue 21 item 7): it is not
offered as a candidate, and picking it anyway is refused with a clear Chinese message, in the
session and in the page; nothing changes."""
from __future__ import annotations

from pathlib import Path

import pytest

from _edit_fixtures import closed_school_proposal
from pipelines.edit import start_editor
from pipelines.edit_session import EditError, EditSession

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WORDS = "崇岗小学（P13）2026 年停办，不能接收"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return closed_school_proposal(tmp_path_factory.mktemp("closed"))


def test_the_closed_school_is_no_candidate_and_picking_it_is_refused(source):
    session = EditSession(source)
    assert session.scenario.close_schools == {"P13": 2026}
    for unit in ("C080", session.problem.unit_ids[-1]):
        offered = {c["school_id"] for c in session.candidates(unit)["levels"]["primary"]}
        assert "P13" not in offered
        with pytest.raises(EditError, match=WORDS):
            session.assign(unit, "primary", "P13")
    assert session.edits == [] and session.current is session.original
    assert session.state()["changed_schools"] == []


@pytest.mark.browser
def test_picking_the_closed_school_in_the_page_shows_the_message(source):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed at /usr/bin/chromium")
    server = start_editor(source)
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server.url) else r.abort())
            page.goto(server.url)
            page.wait_for_function("document.body.dataset.ready === '1'")
            err = page.evaluate("window.zoningEditor.assign('C080', 'primary', 'P13').then(() => '', e => e.message)")
            assert WORDS in err
            box = page.locator("#message")
            assert box.is_visible() and WORDS in box.inner_text()
            assert page.evaluate("window.zoningEditor.state().edits.length") == 0
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
