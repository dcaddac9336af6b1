"""CI must have everything the tests need: a browser test that skips there hides a missing install.

On a developer's machine the browser tests may skip (no Chromium); under CI (``CI`` set, as
``.ci/run`` runs) the pieces they need must be there, so that a skip cannot pass as green.
"""
import importlib.util
import os
from pathlib import Path

import pytest

ON_CI = bool(os.environ.get("CI"))


@pytest.mark.skipif(not ON_CI, reason="only CI must have every optional piece installed")
@pytest.mark.parametrize("module", ["playwright.sync_api", "hypothesis", "networkx", "tomli_w"])
def test_ci_has_python_module(module):
    assert importlib.util.find_spec(module.split(".")[0]) is not None, f"{module} is not installed"


@pytest.mark.skipif(not ON_CI, reason="only CI must have every optional piece installed")
def test_ci_has_chromium_and_cjk_fonts():
    assert Path("/usr/bin/chromium").exists(), "Debian's chromium is not installed"
    fonts = list(Path("/usr/share/fonts").rglob("NotoSansCJK*")) + list(Path("/usr/share/fonts").rglob("NotoSerifCJK*"))
    assert fonts, "fonts-noto-cjk is not installed"
