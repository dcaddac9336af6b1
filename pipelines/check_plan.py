"""``zoning check-plan``: the independent checks on a saved (maybe hand-edited) proposal."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geodata.proposal import read_assignments, read_run
from pipelines.inputs import input_warnings, load, reconciliation, recorded_data_dir, recorded_mapping, scenario_from_run
from zoning.checks import format_results, run_checks


@dataclass
class CheckPlanOutcome:
    """What ``zoning check-plan`` found: the checks, the ledger and warnings about the inputs."""

    results: list
    ledger: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    data_source: str = ""
    reconciliation: list[str] = field(default_factory=list)

    def report(self) -> str:
        """The checker's report, one line per check (Chinese)."""
        return format_results(self.results)

    @property
    def failed(self) -> list:
        return [r for r in self.results if not r.ok]


def check_plan(proposal_dir: Path, data_dir=None, coords=None, mapping=None) -> CheckPlanOutcome:
    """Run the independent checks on a saved proposal.

    The proposal is checked against the data folder, coordinate choice, mapping and scenario its
    ``run.json`` records (``data_dir``, ``coords``, ``mapping`` override them); input files that
    changed since the plan was made are named in the warnings. Every zone map of a proposal with
    a second change is checked.
    """
    proposal_dir = Path(proposal_dir)
    run = read_run(proposal_dir)
    data_dir = recorded_data_dir(run, data_dir)
    coords = coords or run.get("coords")
    mapping = mapping or recorded_mapping(run)
    scenario = scenario_from_run(run)
    assignments = read_assignments(proposal_dir)
    loaded = load(data_dir, None, coords, mapping, scenario=scenario)
    results, _zones, _proj, led = run_checks(loaded.problem, assignments, loaded.scenario)
    rec = reconciliation(loaded, led)  # a gap between pupils read and modelled is never a pass
    source = "内置示例数据" if data_dir is None else str(data_dir)
    return CheckPlanOutcome(results, led, input_warnings(run, loaded.dataset, data_dir), source, rec.lines())
