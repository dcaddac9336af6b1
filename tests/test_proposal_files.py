"""Every file of a proposal folder through geodata/proposal.py, and a model that writes no file
(issue 16, items 3, 4 and 7).

``zoning plan`` writes ``solver.log`` and ``model.lp`` through :mod:`geodata.proposal` from what the
model returns (the log as text, the problem as solved); ``indicators.csv``, ``coefficients.csv`` and
``routes.geojson`` have one writer and one reader there; the maps' ``Proposal`` is the reader's
``ProposalFiles`` with colours added.
"""
from __future__ import annotations

import ast
import dataclasses
import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString

from cli import main
from conftest import grid_problem
from geodata import proposal
from maps.proposal import Proposal, load_proposal
from zoning.errors import DataError
from zoning.model import build_model, solve_model
from zoning.scenario import Scenario

REPO = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "data" / "plan_tiny"


@pytest.fixture(scope="module")
def sample_plan(tmp_path_factory):
    """The bundled sample (it has roads, so routes.geojson is written)."""
    out = tmp_path_factory.mktemp("files") / "sample"
    res = CliRunner().invoke(main, ["plan", "--out", str(out), "--no-map"])
    assert res.exit_code in (0, 1), res.output + str(res.exception)
    return out


# ------------------------------------------------------------------------------ solver.log, model.lp
def test_the_model_writes_no_file_and_returns_its_log(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sc = Scenario(base_year=2022, target_year=2024, horizon=2025, levels=("primary",))
    p = grid_problem(["AAB", "ABB"], {"A": {"cell": (0, 0)}, "B": {"cell": (1, 2)}}, sc)
    kept = solve_model(build_model(p, sc), keep_log=True)
    assert kept.result.status == "optimal" and kept.log.startswith("MIP has")
    assert solve_model(build_model(p, sc)).log == ""
    assert not list(tmp_path.iterdir())


WRITERS = {"write_text", "write_bytes", "to_csv", "to_file", "to_excel", "to_parquet", "writeLP", "writeMPS",
           "savefig", "mkdir", "touch", "unlink", "rmtree", "makedirs"}


def _file_calls(path: Path) -> list[str]:
    """Calls in ``path`` that write or move files: the writer methods above, ``open`` for writing."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in WRITERS:
            found.append(f"{path.name}:{node.lineno} .{f.attr}()")
        if isinstance(f, ast.Name) and f.id == "open":
            mode = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "mode"), None)
            if isinstance(mode, ast.Constant) and set(str(mode.value)) & set("wax+"):
                found.append(f"{path.name}:{node.lineno} open(..., {mode.value!r})")
    return found


KERNEL = {"policy.py", "scenario.py", "errors.py"}  # scenario.py is the one scenario.toml reader and writer


def test_no_module_of_zoning_writes_a_file():
    """zoning/ is the model on plain tables: every file is written by geodata (ARCHITECTURE.md)."""
    found = [c for p in sorted((REPO / "zoning").glob("*.py")) if p.name not in KERNEL for c in _file_calls(p)]
    assert found == []
    # the check sees a writer when there is one
    assert _file_calls(REPO / "geodata" / "proposal.py")


def test_plan_writes_the_log_and_the_model_through_geodata(sample_plan):
    log = (sample_plan / proposal.SOLVER_LOG).read_text(encoding="utf-8")
    assert "MIP has" in log and "Solving report" in log  # one block, or a header per block of the model
    lp = (sample_plan / proposal.MODEL_LP).read_text()
    assert lp.startswith("\\* zoning *\\\nMinimize\n") and "Binaries" in lp
    run = proposal.read_run(sample_plan)
    assert run["solver"]["log"] == proposal.SOLVER_LOG and run["model"] == proposal.MODEL_LP


# ------------------------------------------------------------------------------ indicators, coefficients
def test_indicator_tables_round_trip(sample_plan, tmp_path):
    ind = proposal.read_indicators(sample_plan)
    coef = proposal.read_coefficients(sample_plan)
    assert set(proposal.INDICATOR_REQUIRED) <= set(ind.columns) and len(ind)
    assert set(proposal.COEFFICIENT_REQUIRED) <= set(coef.columns) and len(coef)
    assert ind["school_id"].map(type).eq(str).all()  # ids as text, numbers typed
    assert pd.api.types.is_numeric_dtype(ind["students"]) and pd.api.types.is_numeric_dtype(coef["cv"])
    # one writer: the same table written again gives the same bytes as the plan's
    proposal.write_indicators(tmp_path, ind)
    proposal.write_coefficients(tmp_path, coef)
    for name in (proposal.INDICATORS, proposal.COEFFICIENTS):
        assert (tmp_path / name).read_bytes() == (sample_plan / name).read_bytes(), name


def test_optional_readers_give_empty_tables_when_absent(tmp_path):
    assert proposal.optional_indicators(tmp_path).empty
    assert list(proposal.optional_indicators(tmp_path).columns) == list(proposal.INDICATOR_REQUIRED)
    assert list(proposal.optional_coefficients(tmp_path).columns) == list(proposal.COEFFICIENT_REQUIRED)
    assert proposal.optional_metrics(tmp_path) == {} and proposal.optional_run(tmp_path) == {}
    with pytest.raises(DataError) as exc:
        proposal.read_indicators(tmp_path)
    assert exc.value.problems[0].file == proposal.INDICATORS


def test_a_broken_indicator_table_is_named_with_its_row_and_column(sample_plan, tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(sample_plan, folder)
    text = (folder / proposal.INDICATORS).read_text(encoding="utf-8-sig").splitlines()
    (folder / proposal.INDICATORS).write_text("\n".join(text[:3] + [text[3] + ",多余,多余"]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        proposal.read_indicators(folder)
    assert exc.value.problems[0].sheet_row == 4
    coef = pd.read_csv(folder / proposal.COEFFICIENTS).drop(columns=["cv"])
    coef.to_csv(folder / proposal.COEFFICIENTS, index=False)
    with pytest.raises(DataError) as exc:
        proposal.read_coefficients(folder)
    assert [(p.file, p.column) for p in exc.value.problems] == [(proposal.COEFFICIENTS, "cv")]


def test_compare_names_a_broken_table_of_each_folder(sample_plan, tmp_path):
    from pipelines.compare import compare_proposals

    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(sample_plan, a)
    shutil.copytree(sample_plan, b)
    (b / proposal.INDICATORS).unlink()  # absent: the comparison shows "—"
    (b / proposal.COEFFICIENTS).unlink()
    table = compare_proposals([a, b])
    row = next(r for r in table.index if r.startswith("未达到“6 项达标"))
    assert table.at[row, "b"] == "—" and isinstance(table.at[row, "a"], int)
    (b / proposal.COEFFICIENTS).write_text("level,year\nprimary,2023\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        compare_proposals([a, b])
    assert {p.file for p in exc.value.problems} == {f"b/{proposal.COEFFICIENTS}"}


# ------------------------------------------------------------------------------ routes.geojson
def test_routes_have_one_schema(sample_plan, tmp_path):
    routes = gpd.read_file(sample_plan / proposal.ROUTES)
    assert list(routes.columns) == list(proposal.ROUTE_COLUMNS) + ["geometry"]
    assert routes.crs.to_epsg() == 4326
    p = load_proposal_files(sample_plan)
    assert p.routes is not None and len(p.routes) == len(routes)
    bad = gpd.GeoDataFrame({"unit_id": ["U1"], "level": ["primary"]},
                           geometry=[LineString([(106.5, 38.9), (106.51, 38.91)])], crs=4326)
    with pytest.raises(ValueError, match="school_id"):
        proposal.write_routes(tmp_path, bad)
    assert not (tmp_path / proposal.ROUTES).exists()


def load_proposal_files(folder):
    return proposal.read_proposal(folder)


# ------------------------------------------------------------------------------ maps' Proposal
def test_the_maps_proposal_extends_the_readers_fields(tmp_path):
    own = {f.name for f in dataclasses.fields(Proposal)} - {f.name for f in dataclasses.fields(proposal.ProposalFiles)}
    assert issubclass(Proposal, proposal.ProposalFiles) and own == {"colors"}
    out = tmp_path / "tiny"
    res = CliRunner().invoke(main, ["plan", str(TINY), "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    files = proposal.read_proposal(out)
    p = load_proposal(out)
    for f in dataclasses.fields(proposal.ProposalFiles):
        mine, theirs = getattr(p, f.name), getattr(files, f.name)
        if isinstance(theirs, pd.DataFrame):
            pd.testing.assert_frame_equal(pd.DataFrame(mine), pd.DataFrame(theirs))
        else:
            assert mine == theirs, f.name
    # the maps' names: assignments = the zones as drawn (a unit once per level), zone_maps = every map
    assert not p.assignments.duplicated(["unit_id", "level"]).any()
    assert list(p.assignments.index) == list(range(len(p.assignments)))
    assert len(p.zone_maps) == len(p.assignments)  # one map
    assert p.color("A").startswith("#") and p.name == "tiny"
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["name"] == "tiny"
