"""优质均衡 indicators on hand-made tables: the worked example of SPEC §5.3, a three-school toy
(each indicator, the 6-of-7 rule, the 85% floor, the room steps), nine-year schools, coefficients,
ledgers, enrollment ceilings, plan items, data checks and the report files."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoning.errors import DataError
from zoning import policy
from zoning.indicators import (
    INDICATOR_KEYS,
    base_enrollment,
    check_indicator_data,
    county_coefficients,
    difference_coefficient,
    enrollment_ceilings,
    plan_items,
    proposal_indicators,
    rooms_needed,
    school_indicators,
    thresholds_for,
)
from pipelines import indicators as indicator_pipeline
from pipelines.indicators import write_indicator_report

# --------------------------------------------------------------------------------------------
# the worked example (SPEC §5.3)

BOOKS = [(45, 279), (37, 137), (89, 935), (76, 160), (55, 402)]


def test_worked_example_weighted_cv():
    students = [p for p, _ in BOOKS]
    per_student = [b / p for p, b in BOOKS]
    cv = difference_coefficient(per_student, students)
    assert cv == pytest.approx(0.515, abs=5e-4)
    # the intermediate numbers of the example
    mean = sum(b for _, b in BOOKS) / sum(students)
    assert mean == pytest.approx(1913 / 302)
    assert cv * mean == pytest.approx(3.26, abs=5e-3)


def test_worked_example_unweighted_differs():
    per_student = [b / p for p, b in BOOKS]
    unweighted = difference_coefficient(per_student, [1] * 5)
    assert unweighted == pytest.approx(0.489, abs=5e-4)
    assert abs(unweighted - difference_coefficient(per_student, [p for p, _ in BOOKS])) > 0.02


def test_cv_edge_cases():
    assert difference_coefficient([5, 5, 5], [10, 20, 30]) == 0
    assert math.isnan(difference_coefficient([1, 2], [0, 0]))
    assert math.isnan(difference_coefficient([0, 0], [1, 1]))
    # a missing value is left out, not counted as 0
    assert difference_coefficient([2, np.nan, 4], [1, 5, 1]) == pytest.approx(difference_coefficient([2, 4], [1, 1]))
    with pytest.raises(ValueError):
        difference_coefficient([1, 2], [1])
    with pytest.raises(ValueError):
        difference_coefficient([1, 2], [1, -1])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.1, 100), st.integers(1, 3000)), min_size=1, max_size=12),
    st.floats(0.01, 100),
    st.integers(1, 50),
)
def test_cv_is_scale_free(rows, scale, wscale):
    x = [v for v, _ in rows]
    p = [w for _, w in rows]
    cv = difference_coefficient(x, p)
    assert cv >= 0
    assert difference_coefficient([v * scale for v in x], p) == pytest.approx(cv, rel=1e-6, abs=1e-9)
    assert difference_coefficient(x, [w * wscale for w in p]) == pytest.approx(cv, rel=1e-6, abs=1e-9)


# --------------------------------------------------------------------------------------------
# the three-school toy: 1,000 students each, resources exactly at the primary/junior standards


def _at_standard(level_index: int, students: int = 1000) -> dict:
    row = {}
    for k, (tp, tj, _) in policy.INDICATORS.items():
        t = (tp, tj)[level_index]
        per = 100 if k in policy.PER_100 else 1
        row[k] = t * students / per
    return row


def toy_schools() -> pd.DataFrame:
    rows = [
        {"school_id": "P1", "name": "甲小学", "level": "primary", **_at_standard(0), "music_rooms": 2, "art_rooms": 2},
        {"school_id": "J1", "name": "乙中学", "level": "junior", **_at_standard(1), "music_rooms": 2, "art_rooms": 2},
        {"school_id": "N1", "name": "丙九年制", "level": "nine_year", **_at_standard(0), "music_rooms": 2, "art_rooms": 2},
    ]
    return pd.DataFrame(rows)


def toy_enrollment(classes=(24, 24, 24)) -> pd.DataFrame:
    return pd.DataFrame({
        "school_id": ["P1", "J1", "N1"], "students": [1000, 1000, 1000], "classes": list(classes),
        "students_primary": [1000, 0, 1000], "students_junior": [0, 1000, 0],
    })


def _row(df, sid):
    return df.set_index("school_id").loc[sid]


def test_toy_at_standard_passes():
    ind = school_indicators(toy_schools(), toy_enrollment())
    assert list(ind["school_id"]) == ["P1", "J1", "N1"]
    assert (ind["n_met"] == 7).all() and ind["passes"].all() and ind["rooms_ok"].all()
    assert (ind["fix"] == "").all()
    for k in INDICATOR_KEYS:
        assert _row(ind, "P1")[f"{k}_threshold"] == policy.INDICATORS[k][0]
        assert _row(ind, "J1")[f"{k}_threshold"] == policy.INDICATORS[k][1]
        assert _row(ind, "P1")[f"{k}_value"] == pytest.approx(policy.INDICATORS[k][0])


@pytest.mark.parametrize("key", INDICATOR_KEYS)
def test_each_indicator_value_and_miss(key):
    sch = toy_schools()
    sch.loc[sch["school_id"] == "J1", key] *= 0.9  # 90% of the standard
    ind = school_indicators(sch, toy_enrollment())
    j = _row(ind, "J1")
    per = 100 if key in policy.PER_100 else 1
    expected = sch.set_index("school_id").loc["J1", key] / 1000 * per
    assert j[f"{key}_value"] == pytest.approx(expected)
    assert j[f"{key}_ratio"] == pytest.approx(0.9)
    assert not j[f"{key}_met"]
    assert j["n_met"] == 6 and j["passes"]  # one miss at 90% is allowed
    assert j["fix"].count("还差") == 1 and "已满足" in j["fix"]
    # the other schools are untouched
    assert _row(ind, "P1")["n_met"] == 7


def test_85_percent_floor():
    sch = toy_schools()
    key = "sports_area_m2"
    sid = sch["school_id"] == "P1"
    base = sch.loc[sid, key].iloc[0]
    for share, passes in ((0.86, True), (0.85, True), (0.84, False), (0.5, False)):
        s2 = sch.copy()
        s2.loc[sid, key] = base * share
        p = _row(school_indicators(s2, toy_enrollment()), "P1")
        assert p["n_met"] == 6
        assert bool(p["passes"]) is passes, share


def test_six_of_seven_rule():
    sch = toy_schools()
    sid = sch["school_id"] == "P1"
    sch.loc[sid, "pe_art_teachers"] *= 0.99
    sch.loc[sid, "equipment_value_yuan"] *= 0.99
    p = _row(school_indicators(sch, toy_enrollment()), "P1")
    assert p["n_met"] == 5 and not p["passes"] and not p["all_ok"]
    assert "未满足" in p["fix"]


def test_fix_text_counts():
    sch = toy_schools()
    sid = sch["school_id"] == "P1"
    sch.loc[sid, "pe_art_teachers"] = 6        # needs 9 for 1000 pupils
    sch.loc[sid, "teaching_area_m2"] = 4000    # needs 4500
    p = _row(school_indicators(sch, toy_enrollment()), "P1")
    assert "体育、艺术专任教师还差 3 人" in p["fix"]
    assert "教学及辅助用房还差 500 平方米" in p["fix"]
    assert "在校生不超过 888 人" in p["fix"]   # 4000 / 4.5 = 888.9
    assert "在校生不超过 666 人" in p["fix"]   # 6 / 0.9 * 100 = 666.7


@pytest.mark.parametrize("classes,need", [(0, 0), (1, 1), (12, 1), (13, 2), (24, 2), (25, 3), (36, 3)])
def test_room_steps(classes, need):
    assert rooms_needed(classes) == need


def test_rooms_cross_a_step():
    # 2 music and 2 art rooms: enough for 24 classes, not for 25
    ok = _row(school_indicators(toy_schools(), toy_enrollment((24, 24, 24))), "P1")
    assert ok["music_rooms_needed"] == 2 and ok["rooms_ok"]
    short = _row(school_indicators(toy_schools(), toy_enrollment((25, 24, 24))), "P1")
    assert short["music_rooms_needed"] == 3 and short["art_rooms_needed"] == 3
    assert not short["rooms_ok"] and short["passes"] and not short["all_ok"]
    assert "音乐教室还差 1 间" in short["fix"] and "美术教室还差 1 间" in short["fix"]
    twelve = _row(school_indicators(toy_schools().assign(music_rooms=1, art_rooms=1),
                                    toy_enrollment((12, 12, 13))), "P1")
    assert twelve["rooms_ok"]
    thirteen = _row(school_indicators(toy_schools().assign(music_rooms=1, art_rooms=1),
                                      toy_enrollment((13, 12, 12))), "P1")
    assert not thirteen["rooms_ok"]


def test_nine_year_thresholds_are_enrollment_weighted():
    t = thresholds_for("nine_year", 600, 400)
    for k, (tp, tj, _) in policy.INDICATORS.items():
        assert t[k] == pytest.approx(0.6 * tp + 0.4 * tj)
    # unknown split: six ninths primary
    t0 = thresholds_for("nine_year", 0, 0)
    assert t0["sports_area_m2"] == pytest.approx(6 / 9 * 7.5 + 3 / 9 * 10.2)
    enr = toy_enrollment()
    enr.loc[enr["school_id"] == "N1", ["students_primary", "students_junior"]] = [600, 400]
    n = _row(school_indicators(toy_schools(), enr), "N1")
    # resources at the primary standard fall short of the mixed one where the junior one is higher
    assert n["sports_area_m2_threshold"] == pytest.approx(0.6 * 7.5 + 0.4 * 10.2)
    assert not n["sports_area_m2_met"] and n["backbone_teachers_met"]


def test_schools_without_students_are_skipped_and_missing_data_flagged():
    sch = toy_schools()
    sch.loc[sch["school_id"] == "J1", "backbone_teachers"] = np.nan
    enr = toy_enrollment()
    enr.loc[enr["school_id"] == "N1", "students"] = 0
    ind = school_indicators(sch, enr)
    assert list(ind["school_id"]) == ["P1", "J1"]
    j = _row(ind, "J1")
    assert j["n_met"] == 6 and not j["passes"] and "缺少数据" in j["fix"]
    assert "县级及以上骨干教师数" in j["missing"]


def test_small_school_funded_as_100():
    enr = toy_enrollment()
    enr.loc[enr["school_id"] == "P1", "students"] = 60
    ind = school_indicators(toy_schools(), enr)
    assert _row(ind, "P1")["funded_students"] == 100
    assert _row(ind, "J1")["funded_students"] == 1000
    items = plan_items(toy_schools(), ind)
    small = items[items["item"].str.contains("100 人")]
    assert list(small["scope"]) == ["甲小学"] and list(small["value"]) == [60]


def test_plan_items_from_optional_columns():
    sch = toy_schools().assign(
        public_funds_budget_yuan=[1_000_000, 1_000_000, 500_000],
        training_funds_yuan=[60_000, 40_000, 25_000],
        rotation_eligible_teachers=[40, 40, 20],
        rotated_teachers=[4, 3, 2],
        rotated_backbone_teachers=[1, 0, 0],
    )
    items = plan_items(sch, school_indicators(sch, toy_enrollment()))
    train = items[items["item"] == "教师培训经费占公用经费比例"].set_index("scope")
    assert bool(train.loc["甲小学", "ok"]) and not bool(train.loc["乙中学", "ok"])
    assert bool(train.loc["丙九年制", "ok"])  # exactly 5%
    assert "10,000 元" in train.loc["乙中学", "note"]
    rot = items[items["item"] == "教师交流轮岗比例"].iloc[0]
    assert rot["value"] == pytest.approx(9 / 100) and not bool(rot["ok"])
    bb = items[items["item"] == "交流轮岗教师中骨干教师比例"].iloc[0]
    assert bb["value"] == pytest.approx(1 / 9) and not bool(bb["ok"])
    # without the optional columns only the small-school item is reported
    assert set(plan_items(toy_schools(), school_indicators(toy_schools(), toy_enrollment()))["item"]) == {
        "不足 100 人的学校按 100 人核定公用经费"}


# --------------------------------------------------------------------------------------------
# county coefficients


def test_county_coefficients_weighted_and_nine_year_in_both_levels():
    sch = toy_schools()
    sch.loc[sch["school_id"] == "N1", "equipment_value_yuan"] = 4_000_000  # 4000 yuan per pupil
    enr = toy_enrollment()
    enr.loc[enr["school_id"] == "N1", ["students", "students_primary", "students_junior"]] = [1000, 700, 300]
    ind = school_indicators(sch, enr)
    co = county_coefficients(ind).set_index(["level", "indicator"])
    p = ind.set_index("school_id")
    # primary: P1 (1000 pupils) and N1 (700 primary pupils)
    expected = difference_coefficient([p.loc["P1", "equipment_value_yuan_value"], 4000.0], [1000, 700])
    assert co.loc[("primary", "equipment_value_yuan"), "cv"] == pytest.approx(expected)
    assert co.loc[("primary", "equipment_value_yuan"), "students"] == 1700
    expected_j = difference_coefficient([2500.0, 4000.0], [1000, 300])
    assert co.loc[("junior", "equipment_value_yuan"), "cv"] == pytest.approx(expected_j)
    assert co.loc[("junior", "equipment_value_yuan"), "n_schools"] == 2
    assert co.loc[("primary", "equipment_value_yuan"), "limit"] == 0.50
    assert co.loc[("junior", "equipment_value_yuan"), "limit"] == 0.45
    assert bool(co.loc[("primary", "backbone_teachers"), "ok"])


def test_coefficient_limit_breached():
    sch = pd.concat([toy_schools()] * 1, ignore_index=True)
    sch.loc[sch["school_id"] == "N1", "level"] = "primary"
    sch.loc[sch["school_id"] == "N1", "sports_area_m2"] = 30000  # 30 m² per pupil vs 7.5
    ind = school_indicators(sch, toy_enrollment())
    co = county_coefficients(ind).set_index(["level", "indicator"])
    cv = co.loc[("primary", "sports_area_m2"), "cv"]
    assert cv == pytest.approx(difference_coefficient([7.5, 30.0], [1000, 1000]))
    assert cv > 0.5 and not bool(co.loc[("primary", "sports_area_m2"), "ok"])


# --------------------------------------------------------------------------------------------
# ledgers, base enrollment, ceilings


def _ledger(students_p1: dict, classes=24) -> pd.DataFrame:
    rows = []
    for year, n in students_p1.items():
        for sid, level, total in (("P1", "primary", n), ("J1", "junior", 1000)):
            r = {"school_id": sid, "name": sid, "level": level, "year": year, "students": total, "classes": classes}
            grades = range(1, 7) if level == "primary" else range(7, 10)
            for g in range(1, 10):
                r[f"students_g{g}"] = total // len(grades) + (total % len(grades) if g == grades[0] else 0) if g in grades else 0
            rows.append(r)
    return pd.DataFrame(rows)


def test_proposal_indicators_per_year():
    led = _ledger({2024: 1000, 2025: 1200})
    ind = proposal_indicators(toy_schools(), led)
    assert list(ind.columns[:4]) == ["school_id", "name", "level", "year"]
    assert sorted(ind["year"].unique()) == [2024, 2025]
    p25 = ind[(ind["school_id"] == "P1") & (ind["year"] == 2025)].iloc[0]
    assert p25["students"] == 1200 and p25["n_met"] == 0  # every per-pupil value drops by 1/6
    assert p25["students_primary"] == 1200
    assert len(proposal_indicators(toy_schools(), led, years=[2025])) == 2
    co = county_coefficients(ind)
    assert set(co["year"]) == {2024, 2025} and {"level", "year", "indicator", "cv", "limit", "ok"} <= set(co.columns)


def test_proposal_indicators_without_indicator_columns_is_empty():
    sch = toy_schools()[["school_id", "name", "level"]]
    out = proposal_indicators(sch, _ledger({2024: 1000}))
    assert out.empty and "passes" in out.columns and "year" in out.columns


def test_base_enrollment_and_ceilings():
    sch = toy_schools()
    for g in range(1, 10):
        sch[f"enrolled_g{g}"] = 0
        sch[f"classes_g{g}"] = 0
    sch.loc[sch["school_id"] == "P1", [f"enrolled_g{g}" for g in range(1, 7)]] = 150   # 900 pupils
    sch.loc[sch["school_id"] == "P1", "classes_g1"] = 20
    sch.loc[sch["school_id"] == "J1", [f"enrolled_g{g}" for g in range(7, 10)]] = 400  # 1200 > 1000
    sch.loc[sch["school_id"] == "N1", "enrolled_g1"] = 500
    sch.loc[sch["school_id"] == "N1", "enrolled_g7"] = 100
    enr = base_enrollment(sch).set_index("school_id")
    assert enr.loc["P1", "students"] == 900 and enr.loc["P1", "classes"] == 20
    assert enr.loc["N1", "students_primary"] == 500 and enr.loc["N1", "students_junior"] == 100
    ceil = enrollment_ceilings(sch).set_index("school_id")
    # P1: 4500 m² / 4.5 = 1000 and 7500 / 7.5 = 1000
    assert ceil.loc["P1", "max_students"] == 1000
    assert "4.5" in ceil.loc["P1", "reason"]
    # J1 is over its standards already (1200 pupils on space for 1000): not listed
    assert "J1" not in ceil.index
    # N1 has primary-standard space; at 5/6 primary the junior sixth raises the mixed standard
    t = thresholds_for("nine_year", 500, 100)
    expect = min(math.floor(4500 / t["teaching_area_m2"]), math.floor(7500 / t["sports_area_m2"]))
    assert ceil.loc["N1", "max_students"] == expect
    assert (ceil["max_students"] >= pd.Series(enr["students"])[ceil.index]).all()


# --------------------------------------------------------------------------------------------
# data checks and the report


def test_check_indicator_data_reports_everything_at_once():
    sch = toy_schools()
    sch["teaching_area_m2"] = sch["teaching_area_m2"].astype(object)
    sch.loc[0, "teaching_area_m2"] = "三千"
    sch.loc[1, "sports_area_m2"] = -5
    sch.loc[2, "backbone_teachers"] = np.nan
    sch = sch.drop(columns="art_rooms")
    probs = check_indicator_data(sch, "schools.csv")
    errors = [p for p in probs if p.severity == "error"]
    warnings = [p for p in probs if p.severity == "warning"]
    assert {(p.row, p.id, p.column) for p in errors} == {(1, "P1", "teaching_area_m2"), (2, "J1", "sports_area_m2")}
    assert {(p.row, p.column) for p in warnings} == {(None, "art_rooms"), (3, "backbone_teachers")}
    assert all(p.file == "schools.csv" and p.fix for p in probs)
    none = check_indicator_data(sch[["school_id", "name", "level"]], "schools.csv")
    assert len(none) == 1 and none[0].severity == "error" and "teachers_above_degree" in none[0].fix


def test_report_files_escaped_and_atomic(tmp_path):
    sch = toy_schools()
    sch.loc[0, "name"] = "<script>alert(1)</script>小学"
    sch.loc[0, "pe_art_teachers"] = 5
    ind = school_indicators(sch, toy_enrollment())
    ind.insert(3, "year", 2022)
    co = county_coefficients(ind)
    items = plan_items(sch, ind)
    out = tmp_path / "report"
    write_indicator_report(out, ind, co, items, source="测试", is_sample=True, basis="基准年")
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["coefficients.csv", "indicators.csv", "indicators.html", "indicators.xlsx"]
    page = (out / "indicators.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "示例数据" in page and "体育、艺术专任教师还差 4 人" in page
    xl = pd.read_excel(out / "indicators.xlsx", sheet_name=None)
    assert set(xl) == {"学校指标", "差异系数", "其他督导项目", "说明"}
    assert len(xl["学校指标"]) == 3 and "改进建议" in xl["学校指标"].columns
    back = pd.read_csv(out / "indicators.csv")
    assert list(back["school_id"]) == ["P1", "J1", "N1"]
    # a failing write leaves the previous report in place and no temporary folder behind
    bad = ind.drop(columns="fix")
    with pytest.raises(KeyError):
        write_indicator_report(out, bad, co, items)
    assert (out / "indicators.html").read_text(encoding="utf-8") == page
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_data_error_class_is_the_shared_one():
    # the CLI catches zoning.errors.DataError; run_indicators raises it for unusable data
    assert indicator_pipeline.DataError is DataError
