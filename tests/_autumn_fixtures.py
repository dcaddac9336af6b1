"""Tiny schools, zones and rosters for the autumn-check tests (test_autumn_*.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from zoning.autumn import zones_from_units

#: Four schools: two town schools (城关镇), a rural nine-year school and a rural primary school.
SCHOOLS = pd.DataFrame({
    "school_id": ["P1", "J1", "N1", "P2"],
    "name": ["城关一小", "平罗四中", "黄渠桥九年制", "姚伏小学"],
    "level": ["primary", "junior", "nine_year", "primary"],
    "size_limit": [np.nan, np.nan, np.nan, np.nan],
    "class_limit": [np.nan, np.nan, np.nan, np.nan],
})

#: Units and their current zones; U5 has no zone at all.
UNITS = pd.DataFrame({
    "unit_id": ["U1", "U2", "U3", "U4", "U5"],
    "name": ["鼓楼小区", "玉皇阁小区", "黄渠桥村", "姚伏村", "新建小区"],
    "township": ["城关镇", "城关镇", "黄渠桥镇", "姚伏镇", "城关镇"],
    "primary_school": ["P1", "P1", "N1", "P2", None],
    "junior_school": ["J1", "J1", "N1", "N1", None],
})


def schools(**overrides) -> pd.DataFrame:
    """A copy of :data:`SCHOOLS`; ``overrides`` maps school_id -> {column: value}."""
    s = SCHOOLS.copy()
    for sid, cols in overrides.items():
        for col, val in cols.items():
            s.loc[s["school_id"] == sid, col] = val
    return s


def zones() -> pd.DataFrame:
    return zones_from_units(UNITS)


def pupils(school: str, grade: int, class_id: str, n: int, entry: str = "continuing",
           unit: str | None = "U1", prefix: str | None = None, entry_date=None) -> list[dict]:
    """``n`` roster rows of one class (ids ``<prefix>-<k>``, unique per call prefix)."""
    prefix = prefix or f"{school}-{grade}-{class_id}-{entry}-{unit}"
    return [dict(student_id=f"{prefix}-{k}", school_id=school, grade=grade, class_id=class_id,
                 entry=entry, unit_id=unit, entry_date=entry_date) for k in range(n)]


def roster(*groups: list[dict]) -> pd.DataFrame:
    rows = [r for g in groups for r in g]
    return pd.DataFrame(rows, columns=["student_id", "school_id", "grade", "class_id", "entry",
                                       "unit_id", "entry_date"])


def big_school(school: str, n: int, grades=range(1, 7), class_size: int = 40, unit: str = "U1"
               ) -> list[dict]:
    """``n`` continuing pupils spread over classes of ``class_size`` in ``grades``."""
    rows, k = [], 0
    grades = list(grades)
    c = 0
    while k < n:
        m = min(class_size, n - k)
        g = grades[c % len(grades)]
        rows += pupils(school, g, f"c{c}", m, unit=unit, prefix=f"{school}-big{c}")
        k += m
        c += 1
    return rows


def findings_result(schools_frame=None):
    """A check that breaks every rule once, with malformed rows carrying personal columns."""
    from pathlib import Path

    from zoning.autumn import check_enrollment

    data = Path(__file__).resolve().parent / "data"
    r = roster(pupils("P1", 1, "A", 46, "new"),
               pupils("P1", 1, "A", 1, "new", unit="U3", prefix="far"),
               pupils("P1", 1, "A", 1, "transfer_in", prefix="tr", entry_date="2023-10-10"),
               pupils("J1", 8, "B", 66))
    bad = pd.read_csv(data / "autumn_malformed" / "roster.csv", dtype=str, keep_default_na=False)
    r = pd.concat([r, bad], ignore_index=True)
    plan = pd.DataFrame({"school_id": ["P1"], "year": [2023], "grade": [1], "planned_classes": [1],
                         "planned_students": [45]})
    return check_enrollment(r, schools() if schools_frame is None else schools_frame, zones(), plan,
                            2023, roster_file="roster.csv")
