"""One "new cohort" rule with one reference, the first intake the new zones apply to (issue 16).

The model builds class, classroom and size rows for the cohorts that enter from the first intake
on; the checker judges the classes of exactly those cohorts (:func:`zoning.policy.is_new_cohort`).
With ``first_intake = base_year + 2`` the cohort of ``base_year + 1`` enters under the current
zones: neither the model nor the checker holds the plan to its classes.
"""
from conftest import grid_problem
from zoning import policy
from zoning.checks import limit_verdicts, run_checks
from zoning.model import build_model, solve_model
from zoning.scenario import Scenario
from pipelines.plan import assignments_table

BASE = 2022
# A's zone (10 units x 10 children a cohort = 100 entrants a year) and B's, in one row
ROWS = ["AAAAAAAAAABBB"]


def test_new_cohort_is_counted_from_the_first_intake():
    # grade 2 in 2024 entered in 2023; grade 1 in 2024 entered in 2024; grade 8 in 2025 in 2024
    assert not policy.is_new_cohort(2, 2024, 2024) and policy.is_new_cohort(1, 2024, 2024)
    assert policy.is_new_cohort(8, 2025, 2024) and not policy.is_new_cohort(9, 2025, 2024)
    # the default first intake (base year + 1) gives the cohorts that entered after the base year
    for grade in range(1, 10):
        for year in range(BASE + 1, BASE + 6):
            assert policy.is_new_cohort(grade, year, BASE + 1) == (not policy.in_base_data(grade, year, BASE))


def _problem(first_intake):
    """A has 6 classrooms and one class in each grade in the base year; its 2023 intake under the
    current zones (100 entrants, 3 classes) fills them: 4 + 3 = 7 classes in 2024 and 3 + 3 = 6 in
    2025, so A can open no class for a new cohort. B has room for everyone."""
    sc = Scenario(base_year=BASE, target_year=BASE + 2, horizon=BASE + 3, levels=("primary",),
                  first_intake=first_intake)
    a = {"cell": (0, 0), "classrooms": 6, "enrolled": {g: 40 for g in range(1, 7)},
         "classes": {g: 1 for g in range(1, 7)}}
    b = {"cell": (0, 12), "classrooms": 40}
    sc.caps["primary"].max_km = 10.0
    sc.caps["primary"].max_ratio = 20.0
    return grid_problem(ROWS, {"A": a, "B": b}, sc, cell_m=100.0), sc


def verdicts_of(results):
    return limit_verdicts(results)


def _a_rooms(led, year):
    row = led[(led["school_id"] == "A") & (led["year"] == year)].iloc[0]
    return int(row["classes"]), bool(row["over_classrooms"])


def test_model_and_checker_agree_when_the_first_intake_is_two_years_after_the_base_year():
    p, sc = _problem(BASE + 2)
    assert sc.intake_year == BASE + 2
    sol = solve_model(build_model(p, sc))
    assert sol.result.status == "optimal"
    assert not sol.slacks  # the model meets every limit it holds the plan to
    a = assignments_table(p, sol.zones, sc)
    assert set(a["change_year"]) == {BASE + 2}
    results, _, _, led = run_checks(p, a, sc)
    failures = {r.name: r.failures for r in results if r.failures}
    assert failures == {}  # ... and the checker agrees: nothing the plan decides is over a limit
    # A is over its classrooms in 2024 only through the 2023 intake (current zones): accepted
    assert _a_rooms(led, BASE + 2) == (7, True)
    assert verdicts_of(results)[("classrooms", "A", BASE + 2)] == "accepted"
    assert set(verdicts_of(results).values()) == {"accepted"}
    # the new cohorts all went to B: A opens no class for them
    for year in (BASE + 2, BASE + 3):
        row = led[(led["school_id"] == "A") & (led["year"] == year)].iloc[0]
        assert row["classes_g1"] == 0


def test_the_checker_still_fails_a_new_class_the_plan_puts_in_a_full_school():
    p, sc = _problem(BASE + 2)
    sol = solve_model(build_model(p, sc))
    a = assignments_table(p, sol.zones, sc)
    a.loc[a["unit_id"] == "U00", "school_id"] = "A"  # a hand edit: one unit of 10 entrants back to A
    results, _, _, led = run_checks(p, a, sc)
    rooms = next(r for r in results if r.name == "classrooms")
    # 2024: 4 + 3 + 1 = 8 classes in 6 rooms, 2025: 3 + 3 + 1 + 1 = 8: the plan's own classes are
    # short of rooms (1 in 2024, 2 in 2025), the 2023 intake's are not counted against it
    assert [(f["school_id"], f["year"], f["short_by"]) for f in rooms.failures] == [
        ("A", BASE + 2, 1), ("A", BASE + 3, 2)]


def test_the_default_first_intake_keeps_the_rule_of_the_base_year():
    """first_intake = base_year + 1: every cohort after the base year is new, as before."""
    p, sc = _problem(None)
    assert sc.intake_year == BASE + 1
    sol = solve_model(build_model(p, sc))
    assert sol.result.status == "optimal" and not sol.slacks
    results, _, _, led = run_checks(p, assignments_table(p, sol.zones, sc), sc)
    assert {r.name: r.failures for r in results if r.failures} == {}
