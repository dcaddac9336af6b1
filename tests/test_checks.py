"""The independent checker catches what a hand edit can break."""
import pandas as pd
import pytest

from conftest import grid_problem
from zoning.checks import run_checks, structural_failures
from zoning.model import build_model, solve_model
from zoning.scenario import Scenario
from pipelines.plan import assignments_table

ROWS = ["AAAB",
        "AABB",
        "AABB"]


@pytest.fixture
def solved():
    sc = Scenario(base_year=2022, target_year=2024, horizon=2025, levels=("primary",))
    p = grid_problem(ROWS, {"A": {"cell": (0, 0)}, "B": {"cell": (2, 3)}}, sc)
    sol = solve_model(build_model(p, sc))
    return p, sc, assignments_table(p, sol.zones, sc)


def failed(p, sc, a):
    results, *_ = run_checks(p, a, sc)
    return {r.name: r.failures for r in results if not r.ok}


def test_the_solved_plan_passes_everything(solved):
    p, sc, a = solved
    assert failed(p, sc, a) == {}


def test_split_zone_is_caught(solved):
    p, sc, a = solved
    a = a.copy()
    # send the far corner unit (row 2, col 0 = U20) to B: it touches no other B unit
    a.loc[a["unit_id"] == "U20", "school_id"] = "B"
    f = failed(p, sc, a)
    assert "contiguity" in f
    assert any("U20" in x["unit_id"] for x in f["contiguity"])


def test_double_assignment_is_caught(solved):
    p, sc, a = solved
    extra = a[a["unit_id"] == "U11"].assign(school_id="B")
    f = failed(p, sc, pd.concat([a, extra], ignore_index=True))
    assert [x["unit_id"] for x in f["assigned_once"]] == ["U11"]


def test_lost_student_is_caught(solved):
    p, sc, a = solved
    a = a.copy()
    a.loc[a["unit_id"] == "U01", "students"] -= 1
    f = failed(p, sc, a)
    assert [x["unit_id"] for x in f["students_conserved"]] == ["U01"]


def test_missing_unit_is_caught_twice(solved):
    p, sc, a = solved
    f = failed(p, sc, a[a["unit_id"] != "U12"])
    assert any(x["unit_id"] == "U12" for x in f["assigned_once"])
    assert any(x["unit_id"] == "U12" for x in f["students_conserved"])


def test_unknown_school_and_wrong_level(solved):
    p, sc, a = solved
    a = a.copy()
    a.loc[a["unit_id"] == "U00", "school_id"] = "ZZ"
    f = failed(p, sc, a)
    assert any(x.get("school_id") == "ZZ" for x in f["known_ids"])


def test_distance_cap_breach_is_caught(solved):
    p, sc, a = solved
    sc.caps["primary"].max_km = 0.6
    a = a.copy()
    a["school_id"] = a["previous_school_id"]
    a.loc[a["unit_id"] == "U12", "school_id"] = "A"  # U12 is 1.12 km from A, zoned to B today
    f = failed(p, sc, a)
    assert [x["unit_id"] for x in f["distance_caps"]] == ["U12"]


def test_lock_breach_is_caught(solved):
    p, sc, a = solved
    sc.locks = {"U03": "A"}
    f = failed(p, sc, a)
    assert [x["unit_id"] for x in f["locks"]] == ["U03"]


def test_enclave_kept_from_the_current_zones_is_listed_not_failed():
    from zoning.projection import ZoneMaps

    sc = Scenario(base_year=2022, target_year=2024, horizon=2025, levels=("primary",))
    # A A B B A : the last unit is an enclave of A today
    p = grid_problem(["AABBA"], {"A": {"cell": (0, 0)}, "B": {"cell": (0, 2)}}, sc)
    a = assignments_table(p, ZoneMaps.current(p), sc)
    results, *_ = run_checks(p, a, sc)
    cont = [r for r in results if r.name == "contiguity"][0]
    assert cont.ok and any("飞地" in n and "单元0-4" in n for n in cont.notes)
    # the optimizer may keep it (at a price) or give it to B, but never makes a new one
    sol = solve_model(build_model(p, sc))
    results, *_ = run_checks(p, assignments_table(p, sol.zones, sc), sc)
    assert not structural_failures(results)
