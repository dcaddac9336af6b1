"""The bundled sample: regeneration is byte-identical, the notice and the scenario are usable."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geodata.sample import SAMPLE_NOTICE, sample_dir
from geodata.sample.generate import DEFAULT_SEED, generate
from zoning.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
EXPECTED_FILES = {
    "schools.geojson", "units.geojson", "households.csv", "plan.csv", "roster.csv",
    "barriers.geojson", "crossings.geojson", "roads.geojson", "scenario.toml",
    "planted_violations.csv",
}


def test_sample_dir_holds_the_contract_files():
    d = sample_dir()
    assert d.is_dir()
    assert {p.name for p in d.iterdir()} == EXPECTED_FILES
    assert "不是官方数据" in SAMPLE_NOTICE


@pytest.mark.slow
def test_regeneration_is_byte_identical(tmp_path):
    out = generate(tmp_path / "sample", seed=DEFAULT_SEED)
    assert {p.name for p in out.iterdir()} == EXPECTED_FILES
    for name in sorted(EXPECTED_FILES):
        assert (out / name).read_bytes() == (sample_dir() / name).read_bytes(), (
            f"{name} differs from the shipped file: run `python -m geodata.sample.generate`")
    # no temporary folder is left next to the output, and the folder is readable by others
    assert [p.name for p in tmp_path.iterdir()] == ["sample"]
    assert os.stat(out).st_mode & 0o055 == 0o055


@pytest.mark.slow
def test_command_line_with_another_seed(tmp_path):
    res = subprocess.run([sys.executable, "-m", "geodata.sample.generate", "--out", str(tmp_path / "x"),
                          "--seed", "7"], capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0, res.stderr
    assert "示例数据已写入" in res.stdout and "不是官方数据" in res.stdout
    out = tmp_path / "x"
    assert {p.name for p in out.iterdir()} == EXPECTED_FILES
    assert (out / "units.geojson").read_bytes() != (sample_dir() / "units.geojson").read_bytes()


def test_notice_in_every_geojson_and_the_scenario():
    for name in EXPECTED_FILES:
        path = sample_dir() / name
        if name.endswith(".geojson"):
            assert json.loads(path.read_text(encoding="utf-8"))["notice"] == SAMPLE_NOTICE
    assert SAMPLE_NOTICE in (sample_dir() / "scenario.toml").read_text(encoding="utf-8")


def test_scenario_loads_with_the_strict_reader():
    sc = load_scenario(sample_dir() / "scenario.toml")
    assert (sc.base_year, sc.target_year, sc.horizon) == (2022, 2025, 2027)
    assert sc.open_schools == {"P09": 2023}
    assert sc.levels == ("primary", "junior")


@pytest.mark.parametrize("name", ["households.csv", "roster.csv"])
def test_files_stay_small(name):
    assert (sample_dir() / name).stat().st_size < 3_000_000
