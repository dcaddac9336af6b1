"""Run the corpus of broken inputs (tests/_corpus.py) through the CLI, in process.

Every case: no traceback (an exception other than SystemExit fails with its text), the input
files byte-identical after the run, and the case's outcome — rejected (exit 2, the file and the
key/column/id named), warned (exit 0 or 1, the thing named) or accepted (exit 0). A ``zoning plan``
case must be refused before the solve: no model or solver log in its output folder.
"""
from __future__ import annotations

import hashlib
import traceback
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from _corpus import OUTCOMES, REJECTED_EXIT, Case, all_cases, build_folder

CASES = all_cases()
SOLVE_TRACES = ("model.lp", "solver.log")


def tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative path -> digest)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def missing_names(case: Case, output: str) -> list:
    """The entries of ``case.names`` that the output does not mention."""
    wanted = [n if isinstance(n, tuple) else (n,) for n in case.names]
    return [n for n in wanted if not any(alt in output for alt in n)]


def run_case(case: Case, root: Path):
    folder = build_folder(case, root)
    before = tree_hashes(folder)
    result = CliRunner().invoke(cli.main, case.cli_args(folder, root / "out"))
    return folder, before, result


def crash_text(result) -> str:
    if result.exc_info is None:
        return repr(result.exception)
    return "".join(traceback.format_exception(*result.exc_info))


def outcome_problem(case: Case, code: int, output: str) -> str | None:
    """Why the run does not give the case its outcome (None when it does): the exit code and the
    things left unnamed, both reported so that one run shows everything that is off."""
    allowed = {"rejected": (REJECTED_EXIT[case.command],), "warned": (0, 1), "accepted": (0,)}[case.outcome]
    wrong = [] if code in allowed else [f"exit {code}, expected {'/'.join(map(str, allowed))}"]
    absent = missing_names(case, output)
    if absent:
        wrong.append(f"output does not name {absent}")
    return f"{case.outcome}: " + "; ".join(wrong) if wrong else None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus_case(case: Case, tmp_path: Path):
    folder, before, result = run_case(case, tmp_path)
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), crash_text(result)
    assert "Traceback" not in output, output[-3000:]
    assert tree_hashes(folder) == before, "an input file was changed, added or removed"
    if case.command == "plan":
        out = tmp_path / "out"
        written = sorted(p.name for p in out.rglob("*")) if out.exists() else []
        assert not set(written) & set(SOLVE_TRACES), f"solved before refusing: {written}"
    problem = outcome_problem(case, result.exit_code, output)
    assert problem is None, f"{problem}\n--- output (end) ---\n{output[-3000:]}"


def test_corpus_shape():
    """At least 110 cases, unique ids, every outcome present, at most 8 plan runs."""
    ids = Counter(c.id for c in CASES)
    assert len(CASES) >= 110
    assert [i for i, n in ids.items() if n > 1] == []
    assert {c.outcome for c in CASES} == set(OUTCOMES)
    assert sum(c.command == "plan" for c in CASES) <= 8


def test_names_check_is_strict():
    """The output check fails when a named thing is absent (guards the runner itself)."""
    case = Case("probe", "rejected", ("schools.csv", ("classrooms", "教室数")))
    assert outcome_problem(case, REJECTED_EXIT[case.command], "schools.csv | 3 | P01 | 教室数 | 不是数字") is None
    assert outcome_problem(case, REJECTED_EXIT[case.command], "schools.csv | 3 | P01 | capacity") is not None
    assert outcome_problem(case, 2, "schools.csv classrooms") is not None
