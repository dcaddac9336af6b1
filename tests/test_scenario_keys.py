"""Every model setting of the scenario changes something observable, or is rejected (issue 16).

Observable here: the LP of the model, the ledger or the checks, on a tiny problem. ``phase_in`` was
parsed and written back but never read: it is gone, and a file that still has it is told so.
"""
import dataclasses
import tempfile
from pathlib import Path

import pytest

from conftest import grid_problem
from zoning.checks import check_limits
from zoning.model import build_model
from zoning.projection import ZoneMaps, ledger, project
from zoning.scenario import Scenario, ScenarioError, scenario_from_dict

ROWS = ["AAAB", "AAAB", "ABBB"]
SCHOOLS = {"A": {"cell": (0, 0), "enrolled": {g: 300 for g in range(1, 7)},
                 "classes": {g: 6 for g in range(1, 7)}, "classrooms": 40, "size_limit": 1500},
           "B": {"cell": (2, 3), "enrolled": {g: 40 for g in range(1, 7)},
                 "classes": {g: 1 for g in range(1, 7)}, "classrooms": 30}}
BASE = {"base_year": 2022, "target_year": 2024, "horizon": 2025, "levels": ["primary"]}


def observed(settings: dict) -> tuple:
    sc = scenario_from_dict({**BASE, **settings})
    problem = grid_problem(ROWS, SCHOOLS, sc, per_cohort=40)
    with tempfile.TemporaryDirectory() as tmp:
        build_model(problem, sc, reduce=False).prob.writeLP(f"{tmp}/m.lp")
        lp = Path(tmp, "m.lp").read_text()
    led = ledger(problem, project(problem, ZoneMaps.current(problem), sc.years))
    checks = [(r.name, len(r.failures), len(r.accepted)) for r in check_limits(problem, led, sc)]
    return lp, led.to_csv(), checks


CHANGES = [
    ({"target_year": 2025}),
    ({"horizon": 2026}),
    ({"first_intake": 2024}),
    ({"contiguity": False}),
    ({"second_change_year": 2025}),
    ({"weights": {"distance": 3.0}}),
    ({"weights": {"moved": 7.0}}),
    ({"caps": {"primary": {"max_km": 0.6}}}),
    ({"locks": {"U00": "B"}}),
    ({"schools": {"close": {"B": 2025}}}),
    ({"survival": {"g1-g2": 0.9}}),
]


@pytest.mark.parametrize("settings", CHANGES, ids=lambda s: ".".join(str(k) for k in s))
def test_setting_changes_the_model_ledger_or_checks(settings):
    assert observed(settings) != observed({})


def test_phase_in_is_rejected_as_unknown():
    with pytest.raises(ScenarioError, match="phase_in"):
        scenario_from_dict({**BASE, "phase_in": True})
    assert "phase_in" not in {f.name for f in dataclasses.fields(Scenario)}
