"""``zoning validate``: every problem of a data folder, history (历年在校生) included."""
from __future__ import annotations

from dataclasses import dataclass

from geodata.dataset import validate_data
from zoning.errors import Problem, errors, format_problems


@dataclass
class ValidateOutcome:
    problems: list[Problem]
    is_sample: bool

    @property
    def n_errors(self) -> int:
        return len(errors(self.problems))

    @property
    def n_warnings(self) -> int:
        return len(self.problems) - self.n_errors

    def report(self) -> str:
        """The problems table (文件, 行, 编号, 列, 问题, 修改建议)."""
        return format_problems(self.problems)


def run_validate(data_dir=None, coords=None, mapping=None) -> ValidateOutcome:
    """Check a data folder (the bundled sample when None) and collect every problem at once."""
    return ValidateOutcome(validate_data(data_dir, coords=coords, mapping=mapping), data_dir is None)
