"""No command can delete or overwrite an input (issue 15, item 2).

Every writing command is pointed with ``--out`` at the data folder, its parent, an input proposal,
a folder holding a file of the user's, the current folder and an input file: each is refused with
exit code 2 and one message naming the path, before any work, and every file is byte-identical
afterwards.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from geodata.outputs import (MARKER, OutputRefused, OutputUnwritable, check_output_target, command_inputs,
                             proposal_folder)

TINY = Path(__file__).parent / "data" / "plan_tiny"


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """base/data (a data folder with a note of the user's), base/proposal (solved once), base/mine."""
    base = tmp_path_factory.mktemp("safety")
    data = base / "data"
    shutil.copytree(TINY, data)
    (data / "说明.docx").write_bytes(b"PK the office's note")
    res = CliRunner().invoke(main, ["plan", str(data), "--out", str(base / "proposal"), "--no-map",
                                    "--time-limit", "30"])
    assert res.exit_code == 0, res.output
    mine = base / "mine"
    mine.mkdir()
    (mine / "说明.docx").write_bytes(b"PK another note")
    (base / "sweep.toml").write_text("[grid]\n", encoding="utf-8")
    return base


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def folder_commands(base: Path) -> dict:
    """Each folder-writing command, as a function of its --out."""
    data, prop = str(base / "data"), str(base / "proposal")
    return {
        "plan": lambda out: ["plan", data, "--no-map", "--out", out],
        "plan --sweep": lambda out: ["plan", data, "--sweep", str(base / "sweep.toml"), "--out", out],
        "publish": lambda out: ["publish", prop, "--tiles", "none", "--out", out],
        "check": lambda out: ["check", data, "--year", "2023", "--out", out],
        "indicators": lambda out: ["indicators", data, "--out", out],
        "compare": lambda out: ["compare", prop, prop, "--out", out],
    }


def file_commands(base: Path) -> dict:
    data, prop = str(base / "data"), str(base / "proposal")
    return {
        "project": lambda out: ["project", data, "--out", out],
        "project --zones": lambda out: ["project", "--zones", prop, "--out", out],
        "map": lambda out: ["map", prop, "--tiles", "none", "--out", out],
        "compare-map": lambda out: ["compare-map", prop, prop, "--tiles", "none", "--out", out],
    }


FOLDER_TARGETS = {
    "the data folder": "data",
    "the data folder's parent": ".",
    "the input proposal": "proposal",
    "a folder of the user's": "mine",
    "an input file": "data/schools.csv",
}
FILE_TARGETS = {
    "a data file": "data/schools.csv",
    "the scenario": "data/scenario.toml",
    "the user's document": "data/说明.docx",
    "the proposal's assignments": "proposal/assignments.csv",
    "the proposal's run.json": "proposal/run.json",
    "the data folder": "data",
}


@pytest.mark.parametrize("target", FOLDER_TARGETS)
@pytest.mark.parametrize("command", ["plan", "plan --sweep", "publish", "check", "indicators", "compare"])
def test_folder_outputs_never_destroy(place, command, target):
    if target == "the input proposal" and command not in ("publish", "compare"):
        pytest.skip("the proposal is an input of publish and compare only (plan may replace its own output)")
    before = snapshot(place)
    out = place / FOLDER_TARGETS[target] if FOLDER_TARGETS[target] != "." else place
    res = CliRunner().invoke(main, folder_commands(place)[command](str(out)))
    assert res.exit_code == 2, (command, target, res.output)
    if target == "an input file":  # click's own check of a folder option may answer first
        assert str(out) in res.stderr
    else:
        assert f"不能写到 {out}" in res.stderr and "请换一个" in res.stderr
    assert "Traceback" not in res.output + res.stderr
    assert snapshot(place) == before


@pytest.mark.parametrize("target", FILE_TARGETS)
@pytest.mark.parametrize("command", ["project", "project --zones", "map", "compare-map"])
def test_file_outputs_never_replace_an_input(place, command, target):
    before = snapshot(place)
    out = place / FILE_TARGETS[target]
    res = CliRunner().invoke(main, file_commands(place)[command](str(out)))
    assert res.exit_code == 2, (command, target, res.output)
    # a folder given for a file: click's own check of the option may answer first
    assert (f"不能写到 {out}" in res.stderr) or (target == "the data folder" and str(out) in res.stderr)
    assert snapshot(place) == before


def test_the_current_folder_is_refused(place, monkeypatch):
    work = place / "mine"
    monkeypatch.chdir(work)
    before = snapshot(place)
    res = CliRunner().invoke(main, ["plan", str(place / "data"), "--out", ".", "--no-map"])
    assert res.exit_code == 2 and "当前工作文件夹" in res.stderr
    assert snapshot(place) == before


def test_a_folder_the_tool_wrote_is_replaced_and_the_defaults_work(place, tmp_path):
    """The guard does not get in the way: re-running into its own output, or the default places."""
    prop = place / "proposal"
    res = CliRunner().invoke(main, ["project", "--zones", str(prop)])  # default: proposal/ledger_project.csv
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["map", str(prop), "--tiles", "none"])  # default: proposal/map.html
    assert res.exit_code == 0, res.output
    out = tmp_path / "cmp"
    for _ in range(2):  # the second run replaces the first (the marker says this tool wrote it)
        res = CliRunner().invoke(main, ["compare", str(prop), str(prop), "--out", str(out)])
        assert res.exit_code == 0, res.output
    assert (out / MARKER).is_file() and (out / "compare.html").is_file()


def test_guard_rules(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "units.csv").write_text("x")
    inputs = command_inputs(data)
    for bad in (data, tmp_path, Path(tmp_path.anchor), Path.home()):
        with pytest.raises(OutputRefused):
            check_output_target(bad, inputs)
    with pytest.raises(OutputRefused):
        check_output_target(data / "units.csv", inputs, kind="file")
    # a symlink to an input is the input
    (tmp_path / "link.csv").symlink_to(data / "units.csv")
    with pytest.raises(OutputRefused):
        check_output_target(tmp_path / "link.csv", inputs, kind="file")
    # new folders, inside the data folder too, and empty ones are fine
    assert check_output_target(data / "proposals" / "p1", inputs) == (data / "proposals" / "p1").resolve()
    (tmp_path / "empty").mkdir()
    check_output_target(tmp_path / "empty", inputs)
    with proposal_folder(tmp_path / "ours") as tmp:
        (tmp / "a.csv").write_text("1")
    check_output_target(tmp_path / "ours", inputs)
    # a file in place of a folder above the output: the place cannot be written (exit 3)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputUnwritable):
        check_output_target(tmp_path / "afile" / "out", inputs)
