"""Shared pieces of the spring-command tests (test_warn.py, test_enrollment_plan.py)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

import cli

SAMPLE = Path(__file__).resolve().parents[1] / "geodata" / "sample" / "data"


def invoke(*args):
    """Run the real command line; never a traceback."""
    result = CliRunner().invoke(cli.main, [str(a) for a in args])
    said = result.output + (result.stderr or "")
    assert "Traceback" not in said, said
    return result


def default_plan(folder: Path) -> Path:
    """The default proposal on the sample (`zoning plan`, real solver)."""
    res = invoke("plan", "--out", folder, "--no-map")
    assert res.exit_code in (0, 1), res.output + res.stderr
    return folder


def project_ledger(tmp: Path, *args) -> pd.DataFrame:
    """The ledger `zoning project` writes (the numbers both spring commands must share)."""
    out = tmp / "ledger.csv"
    res = invoke("project", *args, "--out", out)
    assert res.exit_code == 0, res.output + res.stderr
    return pd.read_csv(out, encoding="utf-8-sig", dtype={"school_id": str})


def other_data_folder(tmp: Path) -> Path:
    """A copy of the sample with one school's classrooms changed: another data folder."""
    folder = tmp / "other"
    shutil.copytree(SAMPLE, folder)
    path = folder / "schools.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["features"][0]["properties"]["classrooms"] = int(doc["features"][0]["properties"]["classrooms"]) + 5
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return folder
