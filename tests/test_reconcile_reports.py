"""Issue 17 item 1: ``zoning indicators`` and ``zoning check`` state the pupils' accounts (read ->
modelled per level; the check also per school for the base year) on screen and in their reports,
computed by zoning.reconcile through pipelines.inputs.reconciliation (one copy)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

import cli

DATA = Path(__file__).resolve().parent / "data"


def _invoke(*args):
    res = CliRunner().invoke(cli.main, [*map(str, args)])
    assert "Traceback" not in (res.output + (res.stderr or "")), res.output + str(res.exception)
    return res


def test_indicators_state_pupils_read_and_modelled(tmp_path):
    res = _invoke("indicators", DATA / "compare_data", "--out", tmp_path / "rep")
    assert res.exit_code == 0, res.output + str(res.exception)
    line = next(ln for ln in res.output.splitlines() if ln.strip().startswith("小学：单元读入"))
    assert "→ 模型计入" in line and "→ 台账基年" in line
    notes = pd.read_excel(tmp_path / "rep" / "indicators.xlsx", sheet_name="说明")["说明"].tolist()
    assert any(str(n).startswith("人数核对：小学：单元读入") for n in notes)
    page = (tmp_path / "rep" / "indicators.html").read_text(encoding="utf-8")
    assert "人数核对" in page and line.strip() in page


def test_check_states_the_accounts_per_level_and_per_school(tmp_path):
    out = tmp_path / "out"
    res = _invoke("check", DATA / "autumn_small", "--year", 2023, "--out", out)
    assert res.exit_code in (0, 1), res.output + str(res.exception)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    levels = [ln for ln in summary["reconciliation"] if "单元读入" in ln]
    assert levels and all("→" in ln for ln in levels), summary["reconciliation"]
    assert summary["reconciliation_schools"], summary
    # the per-school accounts balance on this folder: read equals the ledger's base year
    for ln in summary["reconciliation_schools"]:
        read, modelled = ln.split("学校表读入 ")[1].split(" 人 → 台账基年 ")
        assert read == modelled.rstrip(" 人"), ln
    assert "人数核对（各校基年）" in res.output
    table = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert (table["项目"] == "人数核对").any() and (table["项目"] == "人数核对（各校基年）").any()
    assert "人数核对（各校基年）" in (out / "report.html").read_text(encoding="utf-8")
