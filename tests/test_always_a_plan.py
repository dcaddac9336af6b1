"""Always a plan, never an invalid one (issue 18, item 3): on random point sets (Delaunay
adjacency, tight caps, a barrier with no crossing) the plan pipeline's :func:`whole_plan` returns
a plan the independent checker passes; the fallbacks (the current zones repaired, the current zones
mended) pass it too on their own."""
import time

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from _county import point_problem
from pipelines.plan import assignments_table, whole_plan
from zoning.checks import run_checks, structural_failures
from zoning.model import build_model, current_mended, current_repaired
from zoning.scenario import Caps, Scenario


def _scenario(cap_km, time_limit=10):
    sc = Scenario(base_year=2022, target_year=2024, horizon=2025, levels=("primary",),
                  caps={"primary": Caps(max_km=cap_km, max_ratio=1.2, free_km=0.2, k_nearest=2),
                        "junior": Caps()})
    sc.solver.time_limit = time_limit
    return sc


def _random(seed, n, rooms, cap_km, cut):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 3000, size=(n, 2))
    sc = _scenario(cap_km)
    p = point_problem(xy, [0, 1, 2, 3], sc, cut_x=1500.0 if cut else None)
    p.classrooms[:] = rooms
    return p, sc


def _whole(p, sc, zones) -> list:
    results, *_ = run_checks(p, assignments_table(p, zones, sc), sc)
    return [f for r in structural_failures(results) for f in r.failures]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 100_000), n=st.integers(15, 45), rooms=st.integers(4, 30),
       cap_km=st.floats(0.3, 2.0), cut=st.booleans())
def test_random_point_sets_always_give_a_whole_checked_plan(seed, n, rooms, cap_km, cut):
    p, sc = _random(seed, n, rooms, cap_km, cut)
    plan = whole_plan(build_model(p, sc))
    assert plan.source in ("solved", "current_repaired", "current")
    assert not structural_failures(plan.results)
    a = plan.assignments
    assert len(a) == p.n_units and (a["school_id"] != "").all()
    if plan.source != "solved":
        assert plan.rejected  # an honest reason


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 100_000), rooms=st.integers(4, 30), cap_km=st.floats(0.3, 2.0), cut=st.booleans())
def test_the_fallbacks_are_whole_on_their_own(seed, rooms, cap_km, cut):
    p, sc = _random(seed, 30, rooms, cap_km, cut)
    model = build_model(p, sc)
    assert not _whole(p, sc, current_mended(model))
    repaired = current_repaired(model, time.perf_counter() + 3.0)
    assert repaired is not None and repaired.result.status == "current_repaired"
    assert not _whole(p, sc, repaired.zones)
    # the repair never leaves a limit broken that the current zones keep
    assert repaired.result.objective is not None
