"""A proposal of the bundled sample, solved once per test module, for the editor's tests."""
from __future__ import annotations

import hashlib
from pathlib import Path

from click.testing import CliRunner

from cli import main

#: three 城关八小 (P08) compounds next to the 城关九小 (P09) zone in the sample's default plan
MOVES = [("C080", "primary", "P09"), ("C093", "primary", "P09"), ("C106", "primary", "P09")]
COMPARED = ["school_id", "year", "students", "classes", "largest_class", "over_size_limit", "over_class_limit"]


def sample_proposal(base: Path) -> Path:
    out = base / "方案甲"
    res = CliRunner().invoke(main, ["plan", "--out", str(out), "--no-map"])
    assert res.exit_code == 0, res.output + res.stderr
    return out


def folder_digest(folder: Path) -> dict:
    """File name -> sha256 of every file in a folder (to prove the source is never written)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).iterdir())}


def closed_school_proposal(base: Path, school_id: str = "P13", year: int = 2026) -> Path:
    """A sample proposal whose scenario closes ``school_id`` in ``year`` (``[schools] close``)."""
    text = (Path(__file__).resolve().parents[1] / "geodata" / "sample" / "data" / "scenario.toml").read_text(
        encoding="utf-8")
    assert "[schools]\nopen = { P09 = 2023 }" in text
    text = text.replace("[schools]\nopen = { P09 = 2023 }",
                        f"[schools]\nopen = {{ P09 = 2023 }}\nclose = {{ {school_id} = {year} }}")
    scenario = base / "scenario_close.toml"
    scenario.write_text(text, encoding="utf-8")
    out = base / "方案_停办"
    res = CliRunner().invoke(main, ["plan", "--scenario", str(scenario), "--out", str(out), "--no-map"])
    assert res.exit_code in (0, 1), res.output + res.stderr
    return out
