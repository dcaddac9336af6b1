"""The rules of the autumn check on tiny hand-made rosters (zoning.autumn)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zoning.errors import DataError
from tests import _autumn_fixtures as fx
from zoning.autumn import check_enrollment, parse_grade, zones_from_assignments

DATA = Path(__file__).resolve().parent / "data"


def run(*groups, schools=None, plan=None, zones="default", year=2023, **kw):
    z = fx.zones() if isinstance(zones, str) else zones
    return check_enrollment(fx.roster(*groups), fx.schools() if schools is None else schools, z,
                            plan, year, **kw)


def classes_over(res):
    return {(r.school_id, r.grade, r.class_id): r.over_by
            for r in res.class_size.itertuples() if r.violation}


# --- class size ------------------------------------------------------------------------------


def test_primary_45_is_within_the_limit_and_46_is_over():
    res = run(fx.pupils("P1", 3, "A", 45), fx.pupils("P1", 3, "B", 46))
    assert classes_over(res) == {("P1", 3, "B"): 1}
    assert res.summary["over_limit_classes"] == 1
    assert res.violations_count == 1
    assert res.exit_code == 1


def test_junior_50_is_within_the_limit_and_51_is_over():
    res = run(fx.pupils("J1", 8, "A", 50), fx.pupils("J1", 8, "B", 51))
    assert classes_over(res) == {("J1", 8, "B"): 1}
    limits = dict(zip(res.class_size["class_id"], res.class_size["limit"]))
    assert limits == {"B": 50}


def test_nine_year_school_has_45_in_grade_6_and_50_in_grade_7():
    res = run(fx.pupils("N1", 6, "A", 45, unit="U3"), fx.pupils("N1", 6, "B", 46, unit="U3"),
              fx.pupils("N1", 7, "A", 50, unit="U3"), fx.pupils("N1", 7, "B", 51, unit="U3"),
              fx.pupils("N1", 7, "C", 48, unit="U3"))
    assert classes_over(res) == {("N1", 6, "B"): 1, ("N1", 7, "B"): 1}
    summary = res.class_summary.set_index("grade")
    assert summary.loc[6, "over_limit"] == 1 and summary.loc[7, "over_limit"] == 1
    assert summary.loc[7, "classes"] == 3 and summary.loc[7, "largest_class"] == 51


def test_class_limit_override_of_a_school():
    s = fx.schools(P1={"class_limit": 40})
    res = run(fx.pupils("P1", 2, "A", 40), fx.pupils("P1", 2, "B", 41), schools=s)
    assert classes_over(res) == {("P1", 2, "B"): 1}


@pytest.mark.parametrize("size, category", [(55, "normal"), (56, "large"), (65, "large"),
                                            (66, "huge")])
def test_class_categories_at_their_boundaries(size, category):
    res = run(fx.pupils("J1", 9, "A", size), fx.pupils("J1", 9, "B", 30))
    row = res.class_size[res.class_size["class_id"] == "A"]
    assert len(row) == 1  # every one of these is over the junior limit of 50
    assert row["category"].iat[0] == category
    assert res.summary["large_classes"] == (category == "large")
    assert res.summary["huge_classes"] == (category == "huge")
    expected_share = 0.5 if category != "normal" else 0.0
    assert res.summary["large_class_share"] == pytest.approx(expected_share)


def test_large_class_counts_per_school_and_grade_and_county_share():
    res = run(fx.pupils("J1", 7, "A", 56), fx.pupils("J1", 7, "B", 66), fx.pupils("J1", 7, "C", 40),
              fx.pupils("P1", 1, "A", 60), fx.pupils("P1", 1, "B", 30))
    s = res.class_summary.set_index(["school_id", "grade"])
    assert s.loc[("J1", 7), "large_classes"] == 1 and s.loc[("J1", 7), "huge_classes"] == 1
    assert s.loc[("P1", 1), "large_classes"] == 1 and s.loc[("P1", 1), "huge_classes"] == 0
    assert res.summary["large_class_share"] == pytest.approx(3 / 5)
    # a normal-sized class within the limit is not a finding
    assert "C" not in set(res.class_size.loc[res.class_size["school_id"] == "J1", "class_id"])


# --- school size -----------------------------------------------------------------------------


def test_school_size_2000_vs_2001_and_nine_year_2500_vs_2501():
    res = run(fx.big_school("P1", 2000), fx.big_school("P2", 2001, unit="U4"),
              fx.big_school("N1", 2500, grades=range(1, 10), unit="U3"))
    size = res.school_size.set_index("school_id")
    assert not size.loc["P1", "violation"] and size.loc["P1", "students"] == 2000
    assert size.loc["P2", "violation"] and size.loc["P2", "over_by"] == 1
    assert not size.loc["N1", "violation"] and size.loc["N1", "limit"] == 2500
    assert res.summary["over_size_schools"] == 1
    res2 = run(fx.big_school("N1", 2501, grades=range(1, 10), unit="U3"))
    assert res2.school_size.set_index("school_id").loc["N1", "over_by"] == 1


# --- plan ------------------------------------------------------------------------------------


def plan(rows):
    return pd.DataFrame(rows, columns=["school_id", "year", "grade", "planned_classes",
                                       "planned_students"])


def test_plan_met_exactly_is_not_a_violation():
    p = plan([("P1", 2023, 1, 2, 90), ("P1", 2022, 1, 1, 10)])
    res = run(fx.pupils("P1", 1, "1", 45, "new"), fx.pupils("P1", 1, "2", 45, "new"), plan=p)
    assert len(res.plan) == 1  # other years are ignored
    row = res.plan.iloc[0]
    assert (row.actual_students, row.actual_classes, row.violation) == (90, 2, False)
    assert res.exit_code == 0


def test_over_plan_by_students_and_by_classes():
    p = plan([("P1", 2023, 1, 2, 90), ("J1", 2023, 7, 2, 100)])
    res = run(fx.pupils("P1", 1, "1", 45, "new"), fx.pupils("P1", 1, "2", 46, "new"),
              fx.pupils("J1", 7, "1", 30, "new"), fx.pupils("J1", 7, "2", 30, "new"),
              fx.pupils("J1", 7, "3", 30, "new"), plan=p)
    rows = res.plan.set_index("school_id")
    assert rows.loc["P1", "over_students"] == 1 and rows.loc["P1", "over_classes"] == 0
    assert rows.loc["J1", "over_students"] == 0 and rows.loc["J1", "over_classes"] == 1
    assert res.summary["over_plan"] == 2


def test_plan_counts_new_entrants_only_and_unplanned_intake_is_over_plan():
    p = plan([("P1", 2023, 1, 1, 40)])
    res = run(fx.pupils("P1", 1, "1", 40, "new"), fx.pupils("P1", 1, "1", 2, "transfer_in"),
              fx.pupils("P2", 1, "1", 5, "new", unit="U4"), plan=p)
    rows = res.plan.set_index("school_id")
    assert rows.loc["P1", "actual_students"] == 40 and not rows.loc["P1", "violation"]
    assert rows.loc["P2", "planned_students"] == 0 and rows.loc["P2", "over_students"] == 5
    assert rows.loc["P2", "violation"]


def test_blank_planned_classes_are_not_compared():
    p = plan([("P1", 2023, 1, None, 40)])
    res = run(fx.pupils("P1", 1, "1", 30, "new"), fx.pupils("P1", 1, "2", 10, "new"), plan=p)
    row = res.plan.iloc[0]
    assert pd.isna(row.planned_classes) and row.over_classes == 0 and not row.violation
    res = run(fx.pupils("P1", 1, "1", 41, "new"), plan=p)
    assert res.plan["over_students"].iat[0] == 1


def test_plan_with_bad_values_is_unusable_input():
    p = plan([("P1", 2023, 1, "两个", 90), ("PX", 2023, 1, 1, 10)])
    with pytest.raises(DataError) as err:
        run(fx.pupils("P1", 1, "1", 5, "new"), plan=p)
    cols = {(q.row, q.column) for q in err.value.problems}
    assert cols == {(1, "planned_classes"), (2, "school_id")}


# --- zones and 就近入学 -----------------------------------------------------------------------


def test_town_primary_needs_100_percent_in_zone():
    res = run(fx.pupils("P1", 1, "1", 30, "new", unit="U1"),
              fx.pupils("P1", 1, "1", 1, "new", unit="U3", prefix="far"))
    assert list(res.out_of_zone["student_id"]) == ["far-0"]
    ooz = res.out_of_zone.iloc[0]
    assert ooz.zoned_school_id == "N1" and ooz.row == 31
    rate = res.nearby_rate.set_index(["school_id", "level"]).loc[("P1", "primary")]
    assert rate.rate == pytest.approx(30 / 31) and rate.town and rate.violation
    assert res.summary["nearby_failures"] == 1


def test_town_junior_95_percent_boundary():
    ok = run(fx.pupils("J1", 7, "1", 19, "new"), fx.pupils("J1", 7, "1", 1, "new", unit="U4"))
    assert ok.nearby_rate["rate"].iat[0] == pytest.approx(0.95)
    assert not ok.nearby_rate["violation"].iat[0] and ok.violations_count == 0
    assert len(ok.out_of_zone) == 1  # listed, but within the 5 % allowed
    bad = run(fx.pupils("J1", 7, "1", 18, "new"), fx.pupils("J1", 7, "1", 2, "new", unit="U4"))
    assert bad.nearby_rate["violation"].iat[0] and bad.violations_count == 1


def test_rural_school_out_of_zone_is_listed_not_a_violation_unless_its_township_is_town():
    groups = (fx.pupils("P2", 1, "1", 10, "new", unit="U4"),
              fx.pupils("P2", 1, "1", 1, "new", unit="U1", prefix="town"))
    res = run(*groups)
    assert list(res.out_of_zone["student_id"]) == ["town-0"]
    rate = res.nearby_rate.iloc[0]
    assert not rate.town and not rate.violation and np.isnan(rate.required)
    res2 = run(*groups, town_townships=("城关镇", "姚伏镇"))
    assert res2.nearby_rate["violation"].iat[0]


def test_only_new_entrants_are_checked_and_unzoned_units_count_neither_way():
    res = run(fx.pupils("P1", 3, "1", 5, "continuing", unit="U3"),
              fx.pupils("P1", 3, "1", 1, "transfer_in", unit="U3", prefix="tr"),
              fx.pupils("P1", 1, "1", 4, "new", unit="U5"), fx.pupils("P1", 1, "1", 4, "new"))
    assert res.out_of_zone.empty
    rate = res.nearby_rate.iloc[0]
    assert (rate.new_entrants, rate.in_zone, rate.no_zone, rate.rate) == (8, 4, 4, 1.0)


def test_nine_year_school_zone_level_follows_the_grade():
    z = fx.zones()
    # U4 is zoned to P2 for primary and N1 for junior
    res = run(fx.pupils("N1", 1, "1", 1, "new", unit="U4", prefix="g1"),
              fx.pupils("N1", 7, "1", 1, "new", unit="U4", prefix="g7"), zones=z)
    assert list(res.out_of_zone["student_id"]) == ["g1-0"]


def test_proposal_zones_replace_the_current_ones():
    assignments = pd.DataFrame({"unit_id": ["U1", "U1", "U3", "U3"],
                                "level": ["primary", "junior", "primary", "junior"],
                                "school_id": ["P2", "J1", "N1", "N1"]})
    z = zones_from_assignments(assignments, fx.UNITS)
    res = run(fx.pupils("P1", 1, "1", 3, "new"), zones=z)
    assert len(res.out_of_zone) == 3 and set(res.out_of_zone["zoned_school_id"]) == {"P2"}
    # U2 is not in the proposal: a known unit without a zone, not a data problem
    res = run(fx.pupils("P1", 1, "1", 3, "new", unit="U2"), zones=z)
    assert res.data_problems.empty and res.out_of_zone.empty
    assert res.nearby_rate["no_zone"].iat[0] == 3


def test_without_zones_the_zone_rule_is_skipped_with_a_note():
    res = run(fx.pupils("P1", 1, "1", 3, "new", unit="anything"), zones=None)
    assert res.out_of_zone.empty and res.exit_code == 0
    assert any("片区" in n for n in res.summary["notes"])


# --- transfers -------------------------------------------------------------------------------


def test_transfer_into_a_school_over_the_size_limit():
    res = run(fx.big_school("P1", 2001), fx.pupils("P1", 2, "X", 1, "transfer_in",
                                                   prefix="tr", entry_date="2023-10-08"))
    t = res.transfers
    assert list(t["student_id"]) == ["tr-0"]
    assert t["school_students"].iat[0] == 2001 and "校额" in t["reason"].iat[0]


def test_transfer_into_a_school_at_exactly_the_size_limit_is_allowed_by_this_rule():
    res = run(fx.big_school("P1", 2000), fx.pupils("P1", 2, "X", 1, "transfer_in", prefix="tr"))
    assert res.transfers.empty
    assert res.summary["over_size_schools"] == 1  # 2001 now: the size rule catches it


def test_transfer_into_a_class_over_the_limit_and_into_another_class_of_that_school():
    # issue 20: a school that has a class over the limit takes no transfer at all, whatever class
    # the pupil joins (tb joins a class at the limit, but class A of the school has 46)
    res = run(fx.pupils("P1", 4, "A", 46), fx.pupils("P1", 4, "B", 45),
              fx.pupils("P1", 4, "A", 1, "transfer_in", prefix="ta"),
              fx.pupils("P1", 4, "B", 1, "transfer_in", prefix="tb"))
    t = res.transfers.set_index("student_id")
    assert list(t.index) == ["ta-0", "tb-0"]
    assert t.at["ta-0", "class_students"] == 46 and "所在班已有 46 人" in t.at["ta-0", "reason"]
    assert t.at["tb-0", "class_students"] == 45
    assert "4 年级 A（46 人，班额 45）" in t.at["tb-0", "reason"]


def test_transfer_into_a_class_of_30_at_a_school_with_a_class_of_46_in_another_grade():
    res = run(fx.pupils("P1", 2, "A", 46), fx.pupils("P1", 5, "C", 30),
              fx.pupils("P1", 5, "C", 1, "transfer_in", prefix="tr", entry_date="2023-10-08"))
    assert list(res.transfers["student_id"]) == ["tr-0"]
    assert "2 年级 A（46 人，班额 45）" in res.transfers["reason"].iat[0]


def test_a_school_within_every_limit_takes_transfers():
    res = run(fx.pupils("P1", 2, "A", 45), fx.pupils("P1", 5, "C", 30),
              fx.pupils("P1", 5, "C", 1, "transfer_in", prefix="tr"),
              fx.pupils("P1", 2, "A", 1, "transfer_in", prefix="tz", entry_date="2023-10-01"))
    assert res.transfers.empty


def test_earlier_transfers_that_push_another_class_over_close_the_school():
    base = fx.pupils("P1", 4, "A", 45) + fx.pupils("P1", 3, "B", 20)
    t1 = fx.pupils("P1", 4, "A", 1, "transfer_in", prefix="t1", entry_date="2023-10-01")
    t2 = fx.pupils("P1", 3, "B", 1, "transfer_in", prefix="t2", entry_date="2023-10-02")
    res = run(base, t1, t2)
    assert list(res.transfers["student_id"]) == ["t2-0"]
    assert "4 年级 A（46 人" in res.transfers["reason"].iat[0]


def test_size_cap_is_the_ledgers_the_lesser_of_size_limit_and_capacity():
    sch = fx.schools(P1={"capacity": 100})
    res = run(fx.big_school("P1", 101), fx.pupils("P1", 2, "X", 1, "transfer_in", prefix="tr"),
              schools=sch)
    size = res.school_size.set_index("school_id")
    assert size.at["P1", "limit"] == 100 and bool(size.at["P1", "violation"])
    assert list(res.transfers["student_id"]) == ["tr-0"]
    assert "超过学位数 100" in res.transfers["reason"].iat[0]
    at_cap = run(fx.big_school("P1", 99), fx.pupils("P1", 2, "X", 1, "transfer_in", prefix="tr"),
                 schools=sch)
    assert at_cap.transfers.empty and at_cap.summary["over_size_schools"] == 0


def test_more_classes_than_classrooms_closes_the_school():
    sch = fx.schools(P1={"classrooms": 2})
    res = run(fx.pupils("P1", 1, "A", 20), fx.pupils("P1", 2, "B", 20), fx.pupils("P1", 3, "C", 20),
              fx.pupils("P1", 3, "C", 1, "transfer_in", prefix="tr"), schools=sch)
    assert list(res.transfers["student_id"]) == ["tr-0"]
    assert "超过教室数 2" in res.transfers["reason"].iat[0]


def test_transfer_rule_is_the_ledgers_kernel_rule():
    """The autumn check closes a school exactly when zoning.policy.closed_to_transfers does."""
    from zoning import policy

    for a_size, rooms in [(46, 10), (45, 10), (45, 1), (40, np.nan)]:
        sch = fx.schools(P1={"classrooms": rooms})
        res = run(fx.pupils("P1", 2, "A", a_size), fx.pupils("P1", 5, "C", 30),
                  fx.pupils("P1", 5, "C", 1, "transfer_in", prefix="tr"), schools=sch)
        expected = policy.closed_to_transfers(policy.over_size(a_size + 30, 2000),
                                              policy.over_class_limit(a_size, 1, 45),
                                              policy.over_classrooms(2, np.inf if rooms != rooms else rooms))
        assert (len(res.transfers) == 1) == expected, (a_size, rooms)


def test_transfers_count_earlier_dated_transfers_only():
    base = fx.pupils("P1", 4, "A", 45)
    t1 = fx.pupils("P1", 4, "A", 1, "transfer_in", prefix="t1", entry_date="2023-10-01")
    t2 = fx.pupils("P1", 4, "A", 1, "transfer_in", prefix="t2", entry_date="2023-10-15")
    t3 = fx.pupils("P1", 4, "A", 1, "transfer_in", prefix="t3", entry_date="2023-10-01")
    undated = fx.pupils("P1", 4, "A", 1, "transfer_in", prefix="t4")
    res = run(base, t2, t1, t3, undated)
    # t1 and t3 (same day) see 45 -> allowed; t2 sees 45 + 2 = 47 -> forbidden; t4 sees 45
    assert list(res.transfers["student_id"]) == ["t2-0"]
    assert res.transfers["class_students"].iat[0] == 47
    assert res.transfers["entry_date"].iat[0] == pd.Timestamp("2023-10-15")


# --- data problems ---------------------------------------------------------------------------


def malformed():
    return pd.read_csv(DATA / "autumn_malformed" / "roster.csv", dtype=str, keep_default_na=False)


def test_malformed_rows_are_listed_with_row_numbers_and_reconciled():
    res = check_enrollment(malformed(), fx.schools(), fx.zones(), None, 2023,
                           roster_file="roster.csv")
    dp = res.data_problems
    found = {(int(r), c) for r, c in zip(dp["row"], dp["column"])}
    assert found == {(3, "school_id"), (4, "grade"), (5, "grade"), (6, "class_id"),
                     (7, "entry"), (8, "unit_id"), (9, "unit_id"), (10, "entry_date"),
                     (11, "student_id"), (12, "student_id"), (13, "student_id"), (14, "grade"),
                     (16, "entry")}
    assert set(dp["file"]) == {"roster.csv"}
    dup = dp[dp["row"] == 11]["problem"].iat[0]
    assert "11" in dup and "12" in dup
    s = res.summary
    assert (s["pupils_read"], s["pupils_checked"], s["pupils_with_problems"]) == (16, 3, 13)
    assert s["pupils_read"] == s["pupils_checked"] + s["pupils_with_problems"]
    assert res.violations_count == 0 and res.exit_code == 1
    # every message and fix is Chinese text
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in dp["problem"])
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in dp["fix"])


def test_personal_columns_never_reach_a_result():
    res = check_enrollment(malformed(), fx.schools(), fx.zones(), None, 2023)
    for name, frame in res.findings().items():
        assert not {"姓名", "birth_date", "address"} & set(frame.columns), name
        text = frame.astype(str).to_csv()
        for value in ("王小明", "2016-03-04", "鼓楼街", "陈九"):
            assert value not in text, (name, value)


def test_missing_roster_columns_are_unusable_input():
    r = fx.roster(fx.pupils("P1", 1, "1", 2, "new")).drop(columns=["class_id", "entry"])
    with pytest.raises(DataError) as err:
        check_enrollment(r, fx.schools(), fx.zones(), None, 2023)
    assert {p.column for p in err.value.problems} == {"class_id", "entry"}


def test_unknown_school_level_is_unusable_input():
    with pytest.raises(DataError):
        run(fx.pupils("P1", 1, "1", 2, "new"), schools=fx.schools(P1={"level": "高中"}))


@pytest.mark.parametrize("raw, grade", [(3, 3), ("3", 3), ("3.0", 3), (3.0, 3), ("三年级", 3),
                                        ("初一", 7), ("初三", 9), ("九年级", 9), ("10", None),
                                        ("0", None), ("", None), ("x", None), (2.5, None)])
def test_parse_grade(raw, grade):
    assert parse_grade(raw) == grade


def test_numeric_ids_match_text_ids():
    s = fx.schools()
    s["school_id"] = s["school_id"].replace({"P1": "101"})
    r = fx.roster(fx.pupils("P1", 1, "1", 3, "new"))
    r["school_id"] = 101.0
    z = fx.zones()
    z["school_id"] = z["school_id"].replace({"P1": "101"})
    res = check_enrollment(r, s, z, None, 2023)
    assert res.summary["pupils_checked"] == 3 and res.exit_code == 0


def test_clean_roster_gives_no_findings_and_is_deterministic():
    groups = (fx.pupils("P1", 1, "1", 40, "new"), fx.pupils("J1", 7, "1", 45, "new"),
              fx.pupils("N1", 3, "1", 30, unit="U3"), fx.pupils("P2", 2, "1", 20, unit="U4"))
    a, b = run(*groups), run(*groups)
    assert a.exit_code == 0 and a.violations_count == 0
    for name, frame in a.findings().items():
        pd.testing.assert_frame_equal(frame, b.findings()[name])
    assert a.summary == b.summary
