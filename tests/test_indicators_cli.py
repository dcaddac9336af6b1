"""``zoning indicators`` end to end on the small data folder tests/data/compare_data (read with the
real geodata reader) and the hand-made proposals compare_a / compare_b."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from cli import main

DATA = Path(__file__).resolve().parent / "data"
FOLDER = DATA / "compare_data"


def run(*args):
    return CliRunner().invoke(main, ["indicators", *map(str, args)])


def _shortfalls(ind: pd.DataFrame) -> set:
    from zoning import policy

    out = set()
    for _, r in ind.iterrows():
        for k in policy.INDICATORS:
            if str(r[f"{k}_met"]) in ("False", "false", "0"):
                out.add((r["name"], k))
        for room in ("music_rooms", "art_rooms"):
            if r[room] < r[f"{room}_needed"]:
                out.add((r["name"], room))
    return out


def test_base_year_report(tmp_path):
    r = run(FOLDER, "--out", tmp_path / "rep")
    assert r.exit_code == 0, r.output + str(r.exception)
    ind = pd.read_csv(tmp_path / "rep" / "indicators.csv")
    # 城关九小 opens in 2023: no pupils in the base year, skipped
    assert list(ind["name"]) == ["城关八小", "平罗四中"]
    assert set(ind["year"]) == {2022}
    # schools.csv: 城关八小 2,120 pupils on 9,400 m² (4.43 < 4.5) and 15,800 m² (7.45 < 7.5);
    # 平罗四中 1,500 pupils with 12 PE/arts teachers (0.8 < 0.9) and 2 art rooms for 30 classes
    assert _shortfalls(ind) == {("城关八小", "teaching_area_m2"), ("城关八小", "sports_area_m2"),
                                ("平罗四中", "pe_art_teachers"), ("平罗四中", "art_rooms")}
    page = (tmp_path / "rep" / "indicators.html").read_text(encoding="utf-8")
    assert "城关九小" in page  # listed as not counted
    assert "体育、艺术专任教师还差 2 人" in page


def test_proposal_year_report(tmp_path):
    r = run(FOLDER, "--zones", DATA / "compare_b", "--year", 2024, "--out", tmp_path / "b")
    assert r.exit_code == 0, r.output + str(r.exception)
    ind = pd.read_csv(tmp_path / "b" / "indicators.csv")
    assert set(ind["year"]) == {2024} and len(ind) == 3
    assert ind.set_index("name").loc["城关八小", "passes"]
    co = pd.read_csv(tmp_path / "b" / "coefficients.csv")
    assert set(co["level"]) == {"primary", "junior"} and len(co) == 14


def test_proposal_all_years_default_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run(FOLDER, "--zones", DATA / "compare_a")
    assert r.exit_code == 0, r.output + str(r.exception)
    ind = pd.read_csv(tmp_path / "indicators_all" / "indicators.csv")
    assert sorted(ind["year"].unique()) == [2023, 2024, 2025]


def test_bad_year_and_no_indicator_columns(tmp_path):
    r = run(FOLDER, "--zones", DATA / "compare_a", "--year", 2030, "--out", tmp_path / "x")
    assert r.exit_code == 2 and "台账中没有 2030 年" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x").exists()
    bare = tmp_path / "bare"
    shutil.copytree(FOLDER, bare)
    s = pd.read_csv(bare / "schools.csv")
    s.drop(columns=[c for c in s.columns if c.endswith(("_teachers", "_m2", "_yuan", "_classrooms", "_rooms"))
                    or c == "teachers_above_degree"]).to_csv(bare / "schools.csv", index=False)
    r = run(bare, "--out", tmp_path / "y")
    assert r.exit_code == 2 and "优质均衡资源指标列" in r.stderr
    assert not (tmp_path / "y").exists()


def test_proposal_source_missing_and_ledger_of_other_data(tmp_path):
    import json
    import shutil as sh

    prop = tmp_path / "p"
    sh.copytree(DATA / "compare_a", prop)
    run_json = json.loads((prop / "run.json").read_text(encoding="utf-8"))
    run_json["source"] = str(tmp_path / "gone")
    (prop / "run.json").write_text(json.dumps(run_json, ensure_ascii=False), encoding="utf-8")
    r = run("--zones", prop, "--out", tmp_path / "x")
    assert r.exit_code == 2 and "不存在" in r.stderr and "zoning indicators 数据文件夹" in r.stderr
    # with an explicit data folder whose schools are not those of the ledger: one line per school
    other = tmp_path / "other"
    sh.copytree(FOLDER, other)
    s = pd.read_csv(other / "schools.csv")
    s["school_id"] = s["school_id"].str.replace("S0", "X0")
    s.to_csv(other / "schools.csv", index=False)
    u = pd.read_csv(other / "units.csv")
    u["primary_school"] = u["primary_school"].str.replace("S0", "X0")
    u.to_csv(other / "units.csv", index=False)
    r = run(other, "--zones", prop, "--out", tmp_path / "y")
    assert r.exit_code == 2, r.output
    assert r.stderr.count("不在数据文件夹的学校表中") == 2  # S08 and S09, once each


def test_other_year_without_a_proposal_uses_the_current_zones(tmp_path):
    """--year without --zones: the lead's projection of the current zones (workflow.baseline_ledger)."""
    r = run(FOLDER, "--year", 2024, "--out", tmp_path / "b")
    assert r.exit_code == 0, r.output + str(r.exception)
    ind = pd.read_csv(tmp_path / "b" / "indicators.csv")
    assert set(ind["year"]) == {2024} and "城关九小" in set(ind["name"])  # open from 2023
    r = run(FOLDER, "--year", 2040, "--out", tmp_path / "c")
    assert r.exit_code == 2 and "2040" in r.stderr and not (tmp_path / "c").exists()
