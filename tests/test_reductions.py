"""The model's exact reductions: limits that cannot bind, units settled at their cheapest school."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from conftest import grid_problem, random_grid
from pipelines.plan import assignments_table
from zoning.checks import run_checks, structural_failures
from zoning.model import build_model, settled_pairs, solve_model
from zoning.scenario import Scenario


def scenario(**kw):
    base = dict(base_year=2022, target_year=2024, horizon=2025, levels=("primary",), reoptimise=True,
                steady_state=False)
    base.update(kw)
    sc = Scenario(**base)
    sc.solver.gap = 0.0  # compared as proven optima
    return sc


def pairs_of(model):
    p = model.maps[0].pairs["primary"]
    return {u: sorted(g["school"].tolist()) for u, g in p.groupby("unit")}


#  A A A A B B B B     200 m cells. A sits on unit 0, B on unit 7; today units 0-3 go to A, 4-7 to B.
#  0 1 2 3 4 5 6 7     Unit 1 has no children; 0, 2 and 3 have 20 entrants each, 4-7 have 10.
#  A has one classroom (45 seats): a limit 0, 2 and 3 alone break. B has 30: nothing breaks it.
ROW = ["AAAABBBB"]
SCHOOLS = {"A": {"cell": (0, 0), "classrooms": 1}, "B": {"cell": (0, 7), "classrooms": 30}}


def CHILDREN(i, r, c):
    return 0 if i == 1 else 20 if i < 4 else 10


def test_units_whose_cheapest_school_cannot_overflow_keep_one_pair():
    sc = scenario(target_year=2023, horizon=2023, contiguity=False)
    p = grid_problem(ROW, SCHOOLS, sc, per_cohort=CHILDREN, cell_m=200.0)
    a, b = p.school_index()["A"], p.school_index()["B"]
    full, reduced = build_model(p, sc, reduce=False), build_model(p, sc)
    kept, every = pairs_of(reduced), pairs_of(full)
    assert all(len(every[u]) == 2 for u in every)  # both schools are candidates of every unit
    assert kept[1] == [a]  # no entrants: its nearest school, whatever the limits
    for u in (4, 5, 6, 7):  # cheapest is B, whose limits nothing can break
        assert kept[u] == [b]
    for u in (0, 2, 3):  # cheapest is A, whose classroom may run out: the choice stays open
        assert kept[u] == every[u]
    # only A's classroom limit is a constraint; the full model also carries B's and the size limits
    assert [(s["kind"], s["school"]) for s in reduced.slacks] == [("rooms", a)]
    assert {(s["kind"], s["school"]) for s in full.slacks} >= {("rooms", a), ("rooms", b)}
    sol_full, sol_red = solve_model(full), solve_model(reduced)
    assert sol_red.result.objective == pytest.approx(sol_full.result.objective, rel=1e-9)
    assert list(sol_red.zones.final("primary")) == list(sol_full.zones.final("primary"))
    assert list(sol_red.zones.final("primary")) == [a, a, a, b, b, b, b, b]  # unit 3 makes room at A


def test_settling_repeats_once_a_limit_can_no_longer_bind():
    # with 10 entrants in units 0, 2 and 3, A's classroom holds them once 4-7 are settled at B:
    # the second round settles 0, 2 and 3 at A, and no limit is left to model
    sc = scenario(target_year=2023, horizon=2023, contiguity=False)
    p = grid_problem(ROW, SCHOOLS, sc, per_cohort=lambda i, r, c: 0 if i == 1 else 10, cell_m=200.0)
    model = build_model(p, sc)
    assert all(len(v) == 1 for v in pairs_of(model).values())
    assert model.slacks == []
    sol = solve_model(model)
    assert sol.result.status == "optimal"
    assert sol.result.objective == pytest.approx(solve_model(build_model(p, sc, reduce=False)).result.objective)


def test_contiguity_or_a_second_map_keeps_the_full_model():
    p = grid_problem(ROW, SCHOOLS, scenario(), per_cohort=CHILDREN, cell_m=200.0)
    for sc in (scenario(contiguity=True), scenario(contiguity=False, second_change_year=2024)):
        reduced, full = build_model(p, sc), build_model(p, sc, reduce=False)
        assert pairs_of(reduced) == pairs_of(full)
        assert [(s["kind"], s["school"], s["year"]) for s in reduced.slacks] == \
            [(s["kind"], s["school"], s["year"]) for s in full.slacks]


def test_settled_pairs_breaks_ties_by_school_and_keeps_units_at_binding_schools():
    from zoning.model import LimitRow

    cost = np.array([1.0, 1.0, 2.0, 1.0, 1.0, 3.0])
    weight = np.array([5.0, 5.0, 0.0])
    binding = LimitRow("rooms", 1, 2023, {}, rhs=1.0, limit=1.0, most=2.0)
    idle = LimitRow("rooms", 0, 2023, {}, rhs=5.0, limit=5.0, most=2.0)
    keep = settled_pairs([0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1], cost, weight, [binding, idle])
    # unit 0 ties between 0 and 1: school 0 (lower index), which cannot overflow -> settled there;
    # unit 1's cheapest is school 1, which can -> both kept; unit 2 has no entrants -> its cheapest
    assert keep.tolist() == [True, False, True, True, True, False]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_grid())
def test_reduced_and_full_models_have_the_same_optimum(case):
    rows, schools, counts = case
    for contiguity in (False, True):
        sc = scenario(contiguity=contiguity)
        p = grid_problem(rows, schools, sc, per_cohort=lambda i, r, c: counts[i])
        full = solve_model(build_model(p, sc, reduce=False))
        reduced_model = build_model(p, sc)
        reduced = solve_model(reduced_model)
        assert full.result.status == reduced.result.status == "optimal"
        assert reduced.result.objective == pytest.approx(full.result.objective, rel=1e-7, abs=1e-6)
        assert reduced_model.prob.numVariables() <= build_model(p, sc, reduce=False).prob.numVariables()
        results, *_ = run_checks(p, assignments_table(p, reduced.zones, sc), sc)
        assert not structural_failures(results), [r.failures for r in structural_failures(results)]
