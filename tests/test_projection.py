"""Projection year by year (issue 4): hand-computed ledgers, grandfathering, openings, phase-in."""
import numpy as np
import pandas as pd
import pytest

from conftest import grid_problem
from zoning.checks import run_checks, structural_failures
from zoning.model import build_model, solve_model
from zoning.projection import ZoneMaps, ledger, project
from zoning.scenario import Scenario
from pipelines.plan import assignments_table


def test_two_school_three_year_projection_by_hand():
    # Two units; unit 0 zoned to A, unit 1 to B. Children aged 5, 4, 3 in unit 0: 50, 60, 70;
    # in unit 1: 20 each (grid_problem puts the same count in every age, so build by hand).
    sc = Scenario(base_year=2022, target_year=2024, horizon=2025, levels=("primary",))
    p = grid_problem(["AB"], {"A": {"cell": (0, 0), "enrolled": {g: 90 for g in range(1, 7)},
                                    "classes": {g: 2 for g in range(1, 7)}},
                              "B": {"cell": (0, 1), "enrolled": {g: 40 for g in range(1, 7)},
                                    "classes": {g: 1 for g in range(1, 7)}}}, sc, per_cohort=0)
    p.ages[0, 5], p.ages[0, 4], p.ages[0, 3] = 50, 60, 70
    p.ages[1, 5], p.ages[1, 4], p.ages[1, 3] = 20, 20, 20
    proj = project(p, ZoneMaps.current(p), [2023, 2024, 2025])
    led = ledger(p, proj).set_index(["school_id", "year"])
    # 2023: A's grade 6 of 2022 left; grades 2–6 are the 2022 grades 1–5 (5 × 90); grade 1 = 50.
    assert led.loc[("A", 2023), "students"] == 5 * 90 + 50
    assert led.loc[("A", 2023), "classes_g1"] == 2  # ceil(50 / 45)
    assert led.loc[("A", 2023), "largest_class"] == 45
    # 2024: 4 × 90 + 50 + 60; 2025: 3 × 90 + 50 + 60 + 70
    assert led.loc[("A", 2024), "students"] == 4 * 90 + 110
    assert led.loc[("A", 2025), "students"] == 3 * 90 + 180
    assert led.loc[("A", 2025), "students_g3"] == 50 and led.loc[("A", 2025), "students_g1"] == 70
    assert led.loc[("B", 2025), "students"] == 3 * 40 + 60
    # the base year is in the ledger too
    assert led.loc[("A", 2022), "students"] == 540 and led.loc[("A", 2022), "classes"] == 12


def test_a_new_zone_moves_only_new_entrants():
    sc = Scenario(base_year=2022, target_year=2024, horizon=2024, levels=("primary",))
    p = grid_problem(["AB"], {"A": {"cell": (0, 0), "enrolled": {g: 45 for g in range(1, 7)},
                                    "classes": {g: 1 for g in range(1, 7)}},
                              "B": {"cell": (0, 1)}}, sc, per_cohort=10)
    moved = ZoneMaps.single(p, 2023, {"primary": np.array([1, 1])})  # unit 0 moves to B
    led = ledger(p, project(p, moved, [2023, 2024])).set_index(["school_id", "year"])
    # A keeps its enrolled pupils (5 cohorts in 2023, 4 in 2024) and gets no new entrants
    assert led.loc[("A", 2023), "students"] == 5 * 45
    assert led.loc[("A", 2024), "students"] == 4 * 45
    assert led.loc[("A", 2023), "students_g1"] == 0
    assert led.loc[("B", 2024), "students"] == 2 * 20


def test_a_school_opening_in_year_two_takes_entrants_only_from_then():
    sc = Scenario(base_year=2022, target_year=2024, horizon=2025, levels=("primary",),
                  second_change_year=2024)
    p = grid_problem(["AAB"], {"A": {"cell": (0, 0)}, "B": {"cell": (0, 2), "open_year": 2024}},
                     sc, per_cohort=10)
    # B opens in 2024: no map starting in 2023 may use it, the second map may.
    model = build_model(p, sc)
    assert 1 not in set(model.maps[0].pairs["primary"]["school"])
    assert 1 in set(model.maps[1].pairs["primary"]["school"])
    sol = solve_model(model)
    led = ledger(p, project(p, sol.zones, sc.years)).set_index(["school_id", "year"])
    assert led.loc[("B", 2023), "students"] == 0
    assert led.loc[("B", 2024), "students"] > 0
    a = assignments_table(p, sol.zones, sc)
    results, *_ = run_checks(p, a, sc)
    assert not structural_failures(results)


def test_size_limit_holds_from_the_target_year_not_before_when_that_is_the_best():
    # A is over its size limit of 300 with 6 × 60 = 360 pupils. Its 2022 grades 1–3 (all of them
    # still there in 2023–2025) keep it over the limit until the big cohorts leave; B can take every
    # new entrant. 2023: 5 × 60 = 300 enrolled alone, 2024: 240, 2025: 180. With new entrants sent
    # to B, A meets the limit in 2023 already (300 ≤ 300). Make A's limit 250: 2023 cannot be met
    # (300 enrolled) but that is before the target year (2024), where 240 ≤ 250 holds.
    sc = Scenario(base_year=2022, target_year=2024, horizon=2025, levels=("primary",))
    p = grid_problem(["AAB"], {"A": {"cell": (0, 0), "size_limit": 250, "enrolled": {g: 60 for g in range(1, 7)},
                                     "classes": {g: 2 for g in range(1, 7)}},
                               "B": {"cell": (0, 2), "classrooms": 30}}, sc, per_cohort=10)
    model = build_model(p, sc)
    sol = solve_model(model)
    assert sol.result.status == "optimal"
    led = ledger(p, project(p, sol.zones, sc.years)).set_index(["school_id", "year"])
    assert led.loc[("A", 2023), "over_size_limit"]  # over the plain limit, allowed before target
    assert not led.loc[("A", 2024), "over_size_limit"] and not led.loc[("A", 2025), "over_size_limit"]
    assert led.loc[("A", 2024), "first_year_within_limits"] == 2024
    a = assignments_table(p, sol.zones, sc)
    results, *_ = run_checks(p, a, sc)
    assert all(r.ok for r in results), [r.failures for r in results if not r.ok]
    assert not sol.slacks


def test_plan_ledger_equals_projection_of_its_assignments():
    # one code path: the ledger of a solution equals the ledger rebuilt from its assignment table
    sc = Scenario(base_year=2022, target_year=2024, horizon=2026, levels=("primary",), second_change_year=2025)
    p = grid_problem(["AAAB", "AABB"], {"A": {"cell": (0, 0)}, "B": {"cell": (1, 3)}}, sc, per_cohort=12)
    sol = solve_model(build_model(p, sc))
    led1 = ledger(p, project(p, sol.zones, sc.years))
    a = assignments_table(p, sol.zones, sc)
    _, _, _, led2 = run_checks(p, a, sc)
    pd.testing.assert_frame_equal(led1, led2)


def test_survival_ratios_are_estimated_from_history():
    from zoning.projection import estimate_survival

    hist = pd.DataFrame({
        "school_id": ["A", "A", "B", "A", "A", "B"],
        "year": [2020, 2020, 2020, 2021, 2021, 2021],
        "grade": [1, 2, 1, 2, 3, 2],
        "students": [100, 90, 50, 141, 88, 0],
    })
    ratios, table = estimate_survival(hist)
    # grade 1 → 2: (141 + 0) / (100 + 50); grade 2 → 3: 88 / 90; others stay 1.0
    assert ratios[0] == pytest.approx(141 / 150)
    assert ratios[1] == pytest.approx(88 / 90)
    assert ratios[2:].tolist() == [1.0] * 7
    assert list(table["from_grade"]) == [1, 2]


def test_survival_moves_enrolled_cohorts_and_entrants():
    sc = Scenario(base_year=2022, target_year=2024, horizon=2023, levels=("primary",))
    p = grid_problem(["A"], {"A": {"cell": (0, 0), "enrolled": {1: 100}, "classes": {1: 3}}}, sc, per_cohort=0)
    p.survival[0] = 0.9
    led = ledger(p, project(p, ZoneMaps.current(p), [2023])).set_index(["school_id", "year"])
    assert led.loc[("A", 2023), "students_g2"] == 90
