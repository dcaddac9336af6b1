"""The steady state (issue 17 item 3): each school's load once every grade has entered under the
new zones is checked in metrics.json and held by the model by default; ``steady_state = false``
turns the model's rows off."""
from conftest import grid_problem
from zoning.model import build_model, solve_model
from zoning.projection import ZoneMaps, steady_state
from zoning.scenario import Scenario, scenario_from_dict

ROWS = ["AAAB", "AAAB"]
SCHOOLS = {"A": {"cell": (0, 0), "classrooms": 200, "size_limit": 300},
           "B": {"cell": (1, 3), "classrooms": 200}}


def _sc(**kw):
    return Scenario(base_year=2022, target_year=2024, horizon=2025, levels=("primary",), **kw)


def test_steady_state_sums_every_grade_of_the_last_intake():
    p = grid_problem(ROWS, SCHOOLS, _sc(), per_cohort=10)
    st = steady_state(p, ZoneMaps.current(p), 2025, ("primary",))
    a = st.set_index("school_id").loc["A"]
    assert a["steady_students"] == 6 * 6 * 10  # 6 units × 6 grades × 10 pupils
    assert a["over_size_limit"] and a["over_by"] == 60


def test_the_model_holds_the_steady_state_unless_turned_off():
    held = _sc()
    p = grid_problem(ROWS, SCHOOLS, held, per_cohort=10)
    sol = solve_model(build_model(p, held))
    st = steady_state(p, sol.zones, 2025, ("primary",)).set_index("school_id")
    assert not st.loc["A", "over_size_limit"]
    off = _sc(steady_state=False)
    lp_on = build_model(p, held).prob.constraints.keys()
    lp_off = build_model(p, off).prob.constraints.keys()
    assert any(k.startswith("steady_size") for k in lp_on)
    assert not any(k.startswith("steady_size") for k in lp_off)


def test_settings_are_validated():
    assert scenario_from_dict({"steady_state": False}).steady_state is False
    assert scenario_from_dict({}).reoptimise is False
