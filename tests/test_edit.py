"""``zoning edit`` without the browser (issue 21): the session's figures are those of
``zoning project`` and ``zoning check-plan`` on the saved proposal; bad input is refused with a
Chinese message; the source proposal is never written."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from _edit_fixtures import COMPARED, MOVES, folder_digest, sample_proposal
from cli import main
from pipelines.edit_session import EditError, EditSession
from pipelines.project import run_project


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return sample_proposal(tmp_path_factory.mktemp("edit"))


@pytest.fixture()
def session(source):
    return EditSession(source)


def test_three_units_to_jiuxiao_lower_baxiao_every_year_and_save_equals_project(session, source):
    before_files = folder_digest(source)
    orig = session.original.ledger.set_index(["school_id", "year"])["students"]
    for unit, level, school in MOVES:
        session.assign(unit, level, school)
    led = session.current.ledger.set_index(["school_id", "year"])["students"]
    years = [y for y in session.scenario.years if y >= session.final_year["primary"]]
    assert all(led[("P08", y)] < orig[("P08", y)] for y in years)
    assert all(led[("P09", y)] > orig[("P09", y)] for y in years)
    assert set(session.state()["changed_schools"]) == {"P08", "P09"}

    out = session.save("方案甲_手工调整")
    assert out.parent == source.parent
    projected, _ = run_project(zones_dir=out)
    panel = session.current.ledger
    assert projected[COMPARED].reset_index(drop=True).equals(panel[COMPARED].reset_index(drop=True))
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert [e["unit_id"] for e in run["edits"]] == [m[0] for m in MOVES]
    assert run["edited_from"]["path"] == str(source.resolve())
    assert folder_digest(source) == before_files  # the source is never written

    res = CliRunner().invoke(main, ["check-plan", str(out)])
    assert res.exit_code == 0, res.output + res.stderr
    res = CliRunner().invoke(main, ["compare", str(source), str(out), "--out", str(source.parent / "对比")])
    assert res.exit_code in (0, 1), res.output + res.stderr


def test_undo_restores_the_original_figures_exactly_and_redo_repeats(session):
    original = session.state()
    for unit, level, school in MOVES:
        session.assign(unit, level, school)
    edited = session.state()
    for _ in MOVES:
        session.undo()
    again = session.state()
    assert again["ledger"] == original["ledger"] and again["totals"] == original["totals"]
    assert again["changed_schools"] == [] and again["can_redo"]
    for _ in MOVES:
        session.redo()
    assert session.state()["ledger"] == edited["ledger"]
    with pytest.raises(EditError, match="没有可以重做"):
        session.redo()


@pytest.mark.parametrize("unit, level, school, words", [
    ("NOPE", "primary", "P09", "没有编号为“NOPE”的小区"),
    ("C080", "primary", "NOPE", "没有编号为“NOPE”的学校"),
    ("C080", "junior", "P09", "不招收初中"),
    ("C080", "senior", "P09", "学段“senior”不在本方案中"),
])
def test_bad_input_is_a_chinese_message_and_changes_nothing(session, unit, level, school, words):
    with pytest.raises(EditError, match=words):
        session.assign(unit, level, school)
    assert session.edits == [] and session.current is session.original


def test_a_closed_school_is_refused(session):
    """A school closing within the horizon cannot take a zone (城关九小 made to close in 2026)."""
    s = session.sidx["P09"]
    session.problem.close_year[s] = 2026
    session.rules["primary"].usable[s] = False
    with pytest.raises(EditError, match="2026 年停办"):
        session.assign("C080", "primary", "P09")


def test_broken_rules_are_shown_not_refused(session):
    """A unit sent far away breaks the distance cap (and makes an enclave): the edit stands and the
    checks name it."""
    far = [c for c in session.candidates("C080")["levels"]["primary"] if not c["within_cap"]]
    target = far[0]["school_id"] if far else session.candidates("C080")["levels"]["primary"][-1]["school_id"]
    state = session.assign("C080", "primary", target)
    failed = {c["name"] for c in state["checks"] if not c["ok"]}
    assert failed & {"distance_caps", "contiguity", "barriers"}
    assert "C080" in state["flagged_units"]


def test_save_never_into_the_source_or_over_a_folder(session, source):
    for name in ("", "../x", source.name, "a/b"):
        with pytest.raises(EditError):
            session.save(name)
    (source.parent / "已有").mkdir()
    with pytest.raises(EditError, match="已存在"):
        session.save("已有")


def test_cli_edit_on_a_missing_or_broken_folder_is_exit_2(tmp_path):
    res = CliRunner().invoke(main, ["edit", str(tmp_path / "nope"), "--no-browser"])
    assert res.exit_code == 2
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(main, ["edit", str(tmp_path / "empty"), "--no-browser"])
    assert res.exit_code == 2 and "Traceback" not in res.output + res.stderr
