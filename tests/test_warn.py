"""``zoning warn`` (学位预警, issue 20) through the real command line on the bundled sample, and its rules."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest
from openpyxl import load_workbook

from tests._spring_fixtures import SAMPLE, default_plan, invoke, other_data_folder, project_ledger
from zoning.warnings import GREEN, RED, YELLOW, warning_level

COLUMNS = ["school_id", "name", "level", "year", "demand", "seats", "ratio", "warning", "reason", "suggestion"]


@pytest.mark.parametrize("demand,seats,level", [
    (100, 100, RED), (101, 100, RED), (99, 100, YELLOW), (90, 100, YELLOW), (89, 100, GREEN),
    (0, 100, GREEN), (1, 0, RED), (0, 0, GREEN)])
def test_warning_thresholds_at_their_boundaries(demand, seats, level):
    assert warning_level(demand, seats, 1.0, 0.9) == level


def read(out):
    return pd.read_csv(out / "warnings.csv", encoding="utf-8-sig", dtype={"school_id": str})


@pytest.fixture(scope="module")
def current(tmp_path_factory):
    out = tmp_path_factory.mktemp("warn") / "current"
    res = invoke("warn", "--years", "2023-2025", "--out", out)
    assert res.exit_code == 0, res.output + res.stderr
    return out, res


def test_current_zones_bayi_red_and_qi_green_in_2023(current):
    out, res = current
    w = read(out)
    assert list(w.columns) == COLUMNS
    y = w[w["year"] == 2023].set_index("name")
    assert y.at["城关八小", "warning"] == "红" and y.at["城关八小", "ratio"] > 1
    assert y.at["城关七小", "warning"] == "绿"
    assert "城关八小" in res.output
    assert set(w["year"]) == {2023, 2024, 2025}
    # a red school's suggestion names somewhere to send pupils; every red reason gives the figures
    assert "城关九小" in y.at["城关八小", "suggestion"]
    assert "360" in y.at["城关八小", "reason"]


def test_warnings_use_the_projection_of_zoning_project(current, tmp_path):
    out, _ = current
    led = project_ledger(tmp_path)
    w = read(out).merge(led, on=["school_id", "year"], suffixes=("", "_ledger"))
    assert len(w) == len(read(out))
    single = w[w["school_id"] != "N01"]
    assert (single["seats"] == single["intake_seats"]).all()
    assert (single["demand"] == single["students_g1"] + single["students_g7"]).all()
    # the nine-year school: one row per level, grade-1 demand and grade-7 demand, each within the seats
    nine = w[w["school_id"] == "N01"].set_index(["year", "level"])
    assert sorted(set(nine.index.get_level_values("level"))) == ["junior", "primary"]
    for (year, level), r in nine.iterrows():
        assert r["demand"] == r["students_g1" if level == "primary" else "students_g7"]
        assert 0 < r["seats"] <= r["intake_seats"]


def test_report_files_are_written_and_labelled(current):
    out, _ = current
    html = (out / "warnings.html").read_text(encoding="utf-8")
    assert "学位预警" in html and "示例数据" in html and "城关八小" in html
    wb = load_workbook(out / "warnings.xlsx")
    assert "学位预警" in wb.sheetnames
    head = [c.value for c in wb["学位预警"][1]]
    assert "预警" in head and "可招学位" in head


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    return default_plan(tmp_path_factory.mktemp("plan") / "default")


def test_default_plan_has_no_primary_school_over_its_seats_2025_2027(tmp_path, plan):
    out = tmp_path / "w"
    res = invoke("warn", "--zones", plan, "--years", "2025-2027", "--out", out)
    assert res.exit_code == 0, res.output + res.stderr
    w = read(out)
    primary = w[w["level"] == "primary"]
    assert len(primary) and (primary["ratio"].fillna(0) <= 1.0 + 1e-9).all(), primary.sort_values("ratio").tail()
    # the XLSX and the page set the current zones and the proposal side by side
    wb = load_workbook(out / "warnings.xlsx")
    side = wb["现行片区与方案对照"]
    head = [c.value for c in side[1]]
    assert "现行片区：预警" in head and "方案：预警" in head
    rows = [dict(zip(head, [c.value for c in r])) for r in side.iter_rows(min_row=2)]
    bayi = [r for r in rows if r["学校名称"] == "城关八小" and r["年份"] == 2025][0]
    assert bayi["现行片区：预警"] == "红" and bayi["方案：预警"] != "红"
    assert "现行片区与方案对照" in (out / "warnings.html").read_text(encoding="utf-8")
    # the proposal's numbers are those `zoning project --zones` gives
    led = project_ledger(tmp_path, "--zones", plan)
    m = w.merge(led, on=["school_id", "year"])
    assert len(m) == len(w) and (m["seats"] <= m["intake_seats"]).all()
    assert (m.loc[m["school_id"] != "N01", "seats"] == m.loc[m["school_id"] != "N01", "intake_seats"]).all()


def test_thresholds_come_from_the_scenario(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("households.*"))
    with open(folder / "scenario.toml", "a", encoding="utf-8") as f:
        f.write("\n[warnings]\nred = 0.7\nyellow = 0.5\n")
    out = tmp_path / "w"
    res = invoke("warn", folder, "--years", "2023", "--out", out)
    assert res.exit_code == 0, res.output + res.stderr
    y = read(out).set_index("name")
    assert 0.7 <= y.at["城关七小", "ratio"] < 1 and y.at["城关七小", "warning"] == "红"


def test_year_outside_the_projection_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "w"
    res = invoke("warn", "--years", "2026-2030", "--out", out)
    assert res.exit_code == 2
    assert "2028" in res.stderr and "预测范围" in res.stderr
    assert not out.exists()


def test_malformed_years_option_exits_2(tmp_path):
    res = invoke("warn", "--years", "二〇二三", "--out", tmp_path / "w")
    assert res.exit_code == 2 and "--years" in res.output + res.stderr


def test_proposal_of_another_data_folder_exits_2(tmp_path, plan):
    other = other_data_folder(tmp_path)
    out = tmp_path / "w"
    res = invoke("warn", other, "--zones", plan, "--years", "2023", "--out", out)
    assert res.exit_code == 2, res.output + res.stderr
    assert "哈希" in res.stderr and "schools.geojson" in res.stderr
    assert not out.exists()


def test_a_nine_year_schools_primary_shortfall_does_not_hide_behind_the_combined_figure():
    from zoning.warnings import warnings_table
    row = {"school_id": "N", "name": "九年制", "level": "nine_year", "year": 2024, "intake_seats": 400,
           "intake_classes": 8, **{f"students_g{g}": 0 for g in range(1, 10)},
           **{f"classes_g{g}": 0 for g in range(1, 10)}}
    row.update(students_g1=185, students_g7=151)
    # combined: 336 of 400 seats (84%, green); but grade 7 needs 4 of the 8 rooms, leaving grade 1
    # four classes of 45 = 180 seats for 185 pupils: red
    w = warnings_table(pd.DataFrame([row]), [2024]).set_index("level")
    assert list(w.index) == ["primary", "junior"]
    assert w.at["primary", "demand"] == 185 and w.at["primary", "seats"] == 180
    assert w.at["primary", "warning"] == RED and "一年级" in w.at["primary", "reason"]
    # and grade 1's five classes leave grade 7 three classes of 50 for 151 pupils: both levels are
    # short (the rooms cannot hold both intakes), where the combined ratio said green
    assert w.at["junior", "demand"] == 151 and w.at["junior", "seats"] == min(400 - 185, (8 - 5) * 50)
    assert w.at["junior", "warning"] == RED
    assert (185 + 151) / 400 < 0.9
    # with room for both, each level is judged on its own grade
    row.update(intake_classes=9, intake_seats=450)
    w = warnings_table(pd.DataFrame([row]), [2024]).set_index("level")
    assert w.at["primary", "seats"] == 225 and w.at["primary", "warning"] == GREEN
    assert w.at["junior", "seats"] == 200 and w.at["junior", "warning"] == GREEN
