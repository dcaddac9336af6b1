"""The editor's fast path can never drift from a full run (issue 21, performance).

``zoning edit`` keeps a :class:`zoning.checks.CheckMemo` between edits and recomputes the ledger
rows only of the schools whose projected figures changed. On random sequences of edits, undos and
redos (hypothesis), every state the panel shows must equal a fresh
:func:`zoning.checks.run_checks` (no memo, full ledger) and :func:`zoning.metrics.plan_metrics` on the
same assignments table: each check's failures, notes and accepted limits, the ledger (values and
column types) and the plan figures.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from _edit_fixtures import sample_proposal
from pipelines.edit_session import EditError, EditSession, _ledger_key
from zoning.checks import run_checks
from zoning.metrics import plan_metrics


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    return EditSession(sample_proposal(tmp_path_factory.mktemp("incr")))


def fresh(session: EditSession):
    """The figures of the session's edits by a full run: no memo, no previous state."""
    a = session.assignments_for(session.edits)
    results, zones, _proj, led = run_checks(session.problem, a, session.scenario)
    return results, led, plan_metrics(session.problem, zones, session.scenario)


def assert_same_as_full(session: EditSession) -> None:
    results, led, metrics = fresh(session)
    ev = session.current
    got = [(r.name, r.failures, r.notes, r.accepted) for r in ev.results]
    want = [(r.name, r.failures, r.notes, r.accepted) for r in results]
    assert got == want
    assert ev.ledger.dtypes.to_dict() == led.dtypes.to_dict()
    pd.testing.assert_frame_equal(ev.ledger, led, check_exact=True)
    assert {k: v for k, v in ev.metrics.items() if k != "moved_by_year"} == metrics
    key, orig = _ledger_key(ev.ledger), session.original_key
    assert session.changed_schools() == [sid for sid in key if key[sid] != orig.get(sid)]


def reset(session: EditSession) -> None:
    session.edits.clear()
    session.redo_stack.clear()
    session.current = session.original


def targets(session: EditSession, unit_id: str, level: str) -> list[str]:
    """Every school the unit may be sent to: its listed candidates (allowed or not, near and far)
    and any other school of the level that takes a zone (a pair the problem does not list)."""
    listed = [c["school_id"] for c in session.candidates(unit_id)["levels"][level]]
    usable = np.flatnonzero(session.rules[level].usable)
    return listed + [session.problem.school_ids[s] for s in usable if session.problem.school_ids[s] not in listed]


op = st.one_of(
    st.tuples(st.just("assign"), st.integers(0, 10_000), st.sampled_from(["primary", "junior"]),
              st.integers(0, 10_000)),
    st.tuples(st.just("undo"), st.just(0), st.just(""), st.just(0)),
    st.tuples(st.just("redo"), st.just(0), st.just(""), st.just(0)),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=5))
def test_random_edits_equal_a_full_run(session, ops):
    reset(session)
    for kind, u, level, k in ops:
        try:
            if kind == "assign":
                unit_id = session.problem.unit_ids[u % session.problem.n_units]
                if level not in session.levels:
                    continue
                choices = targets(session, unit_id, level)
                session.assign(unit_id, level, choices[k % len(choices)])
            elif kind == "undo":
                session.undo()
            else:
                session.redo()
        except EditError:
            continue  # nothing to undo or redo: the state is unchanged, still compared below
        assert_same_as_full(session)


def test_many_moves_out_of_one_zone_break_it_and_equal_a_full_run(session):
    """A zone cut in two by hand (a 飞地 the checker must name) is judged as a full run judges it."""
    reset(session)
    level = "primary"
    final = session.original.zones.final(level)
    p8 = session.sidx["P08"]
    units = [session.problem.unit_ids[u] for u in np.flatnonzero(final == p8)][:8]
    for uid in units:
        session.assign(uid, level, "P09")
        assert_same_as_full(session)
    while session.edits:
        session.undo()
        assert_same_as_full(session)
    assert session.current.ledger.equals(session.original.ledger)
