"""No dead setting: every field of the scenario is read somewhere outside the scenario module.

``tests/test_scenario_keys.py`` shows the model settings change the LP, the ledger or the checks;
this test covers every key, including those only later stages use (solver, privacy, publish,
warnings): a field nobody reads (as ``phase_in`` was) fails here by name.
"""
import dataclasses
import re
from pathlib import Path

import pytest

from zoning.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for pkg in ("zoning", "geodata", "maps", "pipelines") for p in (ROOT / pkg).rglob("*.py")
           if p.name != "scenario.py"] + [ROOT / "cli.py"]
TEXT = "\n".join(p.read_text(encoding="utf-8") for p in SOURCES)


def field_paths(cls, prefix=""):
    """``(path, attribute)`` of every field, nested dataclasses (and the per-level caps) included."""
    default = cls()
    for f in dataclasses.fields(cls):
        value = getattr(default, f.name)
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            yield from field_paths(type(value), path + ".")
        elif isinstance(value, dict) and value and all(dataclasses.is_dataclass(v) for v in value.values()):
            yield path, f.name
            yield from field_paths(type(next(iter(value.values()))), path + ".*.")
        else:
            yield path, f.name


PATHS = sorted(set(field_paths(Scenario)))


def is_read(attribute: str) -> bool:
    """``.attribute`` read as an attribute, or ``"attribute"`` looked up by name, outside scenario.py."""
    return bool(re.search(rf"\.{attribute}\b|[\"']{attribute}[\"']", TEXT))


@pytest.mark.parametrize("path,attribute", PATHS, ids=[p for p, _ in PATHS])
def test_every_setting_is_read_somewhere(path, attribute):
    assert is_read(attribute), f"scenario setting {path} is parsed but nothing outside zoning/scenario.py reads it"


def test_the_check_catches_a_dead_name():
    assert not is_read("phase_in_never_read_anywhere")
