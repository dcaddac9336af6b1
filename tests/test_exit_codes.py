"""Exit codes (issue 15, item 9): 0 all well, 1 a finding, 2 unusable input or settings,
3 the environment (cannot write, disk full), 4 an internal error; one message, never a traceback.

The environment cases are provoked for real: a read-only bind mount and a full tmpfs (both need
root, as in CI here; skipped elsewhere), a file in place of a folder, a path under /proc and a cache
folder that cannot be created.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import cli
from cli import main
from tests._geodata_fixtures import write_clean_folder

REPO = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "data" / "plan_tiny"


def mounted(target: Path, *args: str):
    target.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount here: {res.stderr.strip()}")
    return target


@pytest.fixture
def read_only(tmp_path):
    """A folder on a read-only bind mount of itself (the office's read-only share)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "existing").mkdir()
    target = mounted(ro, "--bind", "-o", "ro", str(ro))
    if os.access(target, os.W_OK) and subprocess.run(["touch", str(target / "x")]).returncode == 0:
        subprocess.run(["umount", str(target)])
        pytest.skip("the bind mount is not read-only here")
    yield target
    subprocess.run(["umount", str(target)], check=True)


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs: a proposal does not fit (ENOSPC while writing)."""
    target = mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=64k", "tmpfs")
    yield target
    subprocess.run(["umount", str(target)], check=True)


@pytest.fixture(scope="module")
def proposal(tmp_path_factory):
    out = tmp_path_factory.mktemp("exit") / "p"
    res = CliRunner().invoke(main, ["plan", str(TINY), "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    return out


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output + res.stderr
    return res


def writing_commands(proposal: Path, out: Path) -> dict:
    return {
        "plan": ["plan", TINY, "--no-map", "--out", out / "plan"],
        "project": ["project", TINY, "--out", out / "ledger.csv"],
        "map": ["map", proposal, "--tiles", "none", "--out", out / "map.html"],
        "publish": ["publish", proposal, "--tiles", "none", "--out", out / "publish"],
        "compare-map": ["compare-map", proposal, proposal, "--tiles", "none", "--out", out / "c.html"],
        "check": ["check", TINY, "--year", "2023", "--out", out / "check"],
        "indicators": ["indicators", TINY, "--out", out / "ind"],
        "compare": ["compare", proposal, proposal, "--out", out / "cmp"],
    }


COMMANDS = ["plan", "project", "map", "publish", "compare-map", "check", "indicators", "compare"]


@pytest.mark.parametrize("command", COMMANDS)
def test_read_only_output_is_exit_3_before_any_work(proposal, read_only, command):
    res = run(*writing_commands(proposal, read_only / "existing")[command])
    assert res.exit_code == 3, res.output + res.stderr
    assert "只读" in res.stderr and str(read_only / "existing") in res.stderr
    assert "求解中" not in res.stderr  # found before the solve


@pytest.mark.parametrize("command", COMMANDS)
def test_a_file_in_place_of_a_folder_is_exit_3(proposal, tmp_path, command):
    (tmp_path / "afile").write_text("x")
    res = run(*writing_commands(proposal, tmp_path / "afile")[command])
    assert res.exit_code == 3, res.output + res.stderr
    assert "afile" in res.stderr and "不是文件夹" in res.stderr


def test_a_path_under_proc_is_exit_3_before_the_solve():
    res = run("plan", TINY, "--no-map", "--out", "/proc/zoning-out/p")
    assert res.exit_code == 3 and "/proc" in res.stderr and "求解中" not in res.stderr


def test_a_full_disk_is_exit_3_and_leaves_nothing(full_disk):
    res = run("plan", TINY, "--no-map", "--out", full_disk / "p")
    assert res.exit_code == 3, res.output + res.stderr
    assert "磁盘空间已满" in res.stderr
    assert os.listdir(full_disk) == []  # the temporary folder is gone, nothing half-written


def test_an_unwritable_cache_folder_is_exit_3_naming_the_fix(tmp_path):
    data = write_clean_folder(tmp_path / "data")  # has roads: network distances are cached
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    res = subprocess.run([sys.executable, "cli.py", "plan", str(data), "--no-map", "--out", str(tmp_path / "p"),
                          "--time-limit", "20"], capture_output=True, text=True, cwd=REPO, env=env)
    assert res.returncode == 3, res.stderr
    assert "XDG_CACHE_HOME" in res.stderr and "Traceback" not in res.stderr


def test_input_and_settings_errors_are_exit_2(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    (data / "schools.csv").write_text("school_id,name\nA,\n", encoding="utf-8")
    assert run("validate", data).exit_code == 1  # validate's finding: problems listed
    assert run("plan", data, "--out", tmp_path / "o").exit_code == 2
    shutil.copy(TINY / "schools.csv", data / "schools.csv")
    (data / "scenario.toml").write_text("horizn = 2027\n", encoding="utf-8")
    res = run("plan", data, "--out", tmp_path / "o")
    assert res.exit_code == 2 and "horizn" in res.stderr
    assert run("plan", data, "--lock", "no-equals-sign").exit_code == 2  # a bad option
    assert run("compare", data).exit_code == 2
    assert not (tmp_path / "o").exists()


def test_an_internal_error_is_one_line_and_exit_4():
    @click.command()
    @cli.exit_codes
    def broken():
        raise ZeroDivisionError("a bug")

    res = CliRunner().invoke(broken, [])
    assert res.exit_code == 4
    assert "程序内部错误" in res.stderr and "ZeroDivisionError" in res.stderr and "Traceback" not in res.stderr
