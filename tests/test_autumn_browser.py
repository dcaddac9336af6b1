"""The autumn-check report opened in headless Chromium: renders offline, escapes data."""
from __future__ import annotations

import shutil

import pytest

from tests import _autumn_fixtures as fx
from pipelines import autumn as rep

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
def test_report_renders_offline_with_escaped_data(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM) and not __import__("os").path.exists(CHROMIUM):
        pytest.skip("chromium is not installed")
    schools = fx.schools(J1={"name": "<img src=x onerror=alert(1)>四中"})
    out = rep.write_report(fx.findings_result(schools), tmp_path / "check", is_sample=True)
    requests, dialogs, errors = [], [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((out / "report.html").as_uri())
        title = page.title()
        headings = page.locator("h2").all_inner_texts()
        text = page.inner_text("body")
        n_tables = page.locator("table").count()
        bad_rows = page.locator("tr.bad").count()
        browser.close()
    assert "秋季招生核查报告" in title and "示例数据" in title
    assert headings[0] == "汇总" and len(headings) == 1 + len(rep.FINDINGS)
    assert n_tables == 1 + len(rep.FINDINGS) and bad_rows > 0
    assert "<img src=x onerror=alert(1)>四中" in text  # shown as text, not run
    assert not dialogs and not errors
    assert all(u.startswith("file://") for u in requests), requests
