"""Shared fixtures: tiny hand-drawn grids for the model (after GerryChain's conftest).

A grid is drawn as rows of characters; each character is one unit, and the letter is the school
its current (primary) zone names. Schools sit in the cell given by ``cell=(row, col)``. Units are
square cells ``cell_m`` metres wide, rook-adjacent to their neighbours.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import strategies as st

from zoning.problem import ZoningProblem, euclidean_pairs
from zoning.scenario import Scenario

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REALDATA = SHARED / "realdata"


def grid_frames(rows: list[str], schools: dict, per_cohort=None, cell_m: float = 500.0,
                junior_zone: str | None = None, cut: set | None = None):
    """Units, schools and adjacency frames for a drawn grid.

    ``per_cohort`` is a number of children per unit and cohort, or a dict unit letter-position ->
    number; ``cut`` is a set of (i, j) unit pairs whose shared edge a barrier removes.
    """
    cells = [(r, c, ch) for r, line in enumerate(rows) for c, ch in enumerate(line) if ch not in " ."]
    pos = {(r, c): i for i, (r, c, _) in enumerate(cells)}
    units = []
    for i, (r, c, ch) in enumerate(cells):
        n = per_cohort(i, r, c) if callable(per_cohort) else (10 if per_cohort is None else per_cohort)
        row = {"unit_id": f"U{r}{c}", "name": f"单元{r}-{c}", "township": "城关镇",
               "x": c * cell_m, "y": -r * cell_m, "primary_school": ch, "junior_school": junior_zone}
        for g in range(1, 10):
            row[f"students_g{g}"] = n
        for a in range(6):
            row[f"age_{a}"] = n
        units.append(row)
    units = pd.DataFrame(units)
    edges = []
    for (r, c), i in pos.items():
        for dr, dc in ((0, 1), (1, 0)):
            j = pos.get((r + dr, c + dc))
            if j is not None and not (cut and ((i, j) in cut or (j, i) in cut)):
                edges.append((min(i, j), max(i, j)))
    adjacency = pd.DataFrame(sorted(edges), columns=["i", "j"])
    srows = []
    for sid, spec in schools.items():
        r, c = spec["cell"]
        row = {"school_id": sid, "name": spec.get("name", f"学校{sid}"), "level": spec.get("kind", "primary"),
               "classrooms": spec.get("classrooms", 30), "capacity": spec.get("capacity", np.nan),
               "open_year": spec.get("open_year", np.nan), "close_year": np.nan,
               "size_limit": spec.get("size_limit", np.nan), "class_limit": np.nan,
               "x": c * cell_m, "y": -r * cell_m}
        for g in range(1, 10):
            row[f"enrolled_g{g}"] = spec.get("enrolled", {}).get(g, 0)
            row[f"classes_g{g}"] = spec.get("classes", {}).get(g, 0)
        srows.append(row)
    return units, pd.DataFrame(srows), adjacency


def grid_problem(rows, schools, scenario: Scenario | None = None, k: int = 6, **kw) -> ZoningProblem:
    scenario = scenario or Scenario(base_year=2022, target_year=2024, horizon=2025, levels=("primary",))
    units, sch, adj = grid_frames(rows, schools, **kw)
    sidx = {s: i for i, s in enumerate(sch["school_id"])}
    current = {"primary": units["primary_school"].map(sidx).fillna(-1).astype(int).to_numpy()}
    pairs = euclidean_pairs(units[["x", "y"]].to_numpy(float), sch[["x", "y"]].to_numpy(float),
                            sch["level"].to_numpy(), k=k, current=current)
    return ZoningProblem.from_frames(units, sch, adj, pairs, scenario)


@pytest.fixture
def realdata() -> Path:
    if not REALDATA.exists():
        pytest.skip("../shared/realdata is not present")
    return REALDATA


@st.composite
def random_grid(draw):
    """A random small grid: rows (current zones = nearest school), schools with classrooms, children
    per unit and cohort."""
    h = draw(st.integers(2, 4))
    w = draw(st.integers(2, 5))
    n_schools = draw(st.integers(2, 3))
    cells = draw(st.lists(st.tuples(st.integers(0, h - 1), st.integers(0, w - 1)),
                          min_size=n_schools, max_size=n_schools, unique=True))
    letters = "ABC"[:n_schools]
    # current zones: nearest school (a contiguous Voronoi-like map)
    rows = []
    for r in range(h):
        line = ""
        for c in range(w):
            d = [abs(r - rr) + abs(c - cc) + 0.001 * i for i, (rr, cc) in enumerate(cells)]
            line += letters[int(np.argmin(d))]
        rows.append(line)
    counts = draw(st.lists(st.integers(0, 30), min_size=h * w, max_size=h * w))
    rooms = draw(st.lists(st.integers(2, 12), min_size=n_schools, max_size=n_schools))
    schools = {letters[i]: {"cell": cells[i], "classrooms": rooms[i]} for i in range(n_schools)}
    return rows, schools, counts
