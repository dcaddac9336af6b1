"""The optimizer on real blocks (Santa Rosa elementary zones, ../shared/realdata): contiguity holds."""
import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main


@pytest.mark.realdata
@pytest.mark.slow
def test_santa_rosa_plan_is_contiguous_and_checked(realdata, tmp_path):
    data = tmp_path / "sr"
    data.mkdir()
    for name in ("units.geojson", "schools.geojson"):
        shutil.copy(realdata / "santa_rosa_2025" / name, data / name)
    (data / "scenario.toml").write_text(
        'base_year = 2024\ntarget_year = 2026\nhorizon = 2027\nlevels = ["primary"]\n'
        "[caps.primary]\nmax_km = 8.0\nk_nearest = 4\n[solver]\ntime_limit = 120\n", encoding="utf-8")
    out = tmp_path / "plan"
    res = CliRunner().invoke(main, ["plan", str(data), "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert m["status"] in ("optimal", "feasible") and m["gap"] is not None
    assert m["objective_parts"]["exemptions"] == 0
    checks = (out / "checks.txt").read_text(encoding="utf-8")
    assert "[✗]" not in checks, checks
    a = pd.read_csv(out / "assignments.csv", dtype=str)
    assert len(a) == 967 and a["unit_id"].is_unique
    # the independent check-plan agrees
    ok = CliRunner().invoke(main, ["check-plan", str(out)])
    assert ok.exit_code == 0, ok.output
