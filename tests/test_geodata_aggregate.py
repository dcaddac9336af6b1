"""Households -> unit counts: every child is counted or reported (in = counted + outside + skipped)."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.aggregate import (AGE_COLUMNS, GRADE_COLUMNS, age_on_reference, aggregate_households,
                               apply_aggregation)

CRS = 32648


def grid_units(nx=3, ny=2, size=100.0):
    rows = []
    for j in range(ny):
        for i in range(nx):
            rows.append({"unit_id": f"U{j}{i}", "geometry": shapely.box(i * size, j * size, (i + 1) * size, (j + 1) * size),
                         **{c: 0 for c in GRADE_COLUMNS + AGE_COLUMNS}})
    return gpd.GeoDataFrame(rows, crs=CRS)


def kids(xy, birth_year, grade=None, month=None):
    n = len(xy)
    return gpd.GeoDataFrame({
        "household_id": [f"H{k}" for k in range(n)],
        "birth_year": pd.array(birth_year, dtype="Int64"),
        "birth_month": pd.array(month if month is not None else [None] * n, dtype="Int64"),
        "birth_day": pd.array([None] * n, dtype="Int64"),
        "grade": pd.array(grade if grade is not None else [None] * n, dtype="Int64"),
    }, geometry=[shapely.Point(x, y) for x, y in xy], crs=CRS)


def test_counts_by_grade_and_age_and_outside():
    units = grid_units()
    hh = kids([(50, 50), (150, 50), (150, 60), (250, 150), (500, 500), (50, 150)],
              birth_year=[2014, 2019, 2020, 2010, 2018, 2023], grade=[3, None, None, None, None, None])
    agg = aggregate_households(hh, units, base_year=2022, file="households.csv")
    assert agg.totals() == {"in": 6, "counted": 4, "outside": 1, "skipped": 1}
    assert agg.balanced
    c = agg.counts
    assert c.loc["U00", "students_g3"] == 1
    assert c.loc["U01", "age_3"] == 1 and c.loc["U01", "age_2"] == 1
    assert c.loc["U12", "students_g7"] == 1  # 12 years old, no grade -> grade 7
    out = [p for p in agg.problems if "不在任何片区单元内" in p.problem]
    assert [(p.row, p.id, p.severity) for p in out] == [(5, "H4", "warning")]
    skipped = [p for p in agg.problems if "无法计入" in p.problem]
    assert [(p.row, p.id) for p in skipped] == [(6, "H5")]  # born after 31 August 2022


def test_age_on_31_august():
    ages = age_on_reference([2016, 2016, 2016, 2016], [8, 9, None, 1], [31, 1, None, 1], 2022)
    assert ages.tolist() == [6, 5, 6, 6]


def test_far_child_is_flagged_as_coordinate_error():
    units = grid_units()
    hh = kids([(50, 50), (200_000, 50)], birth_year=[2018, 2018])
    agg = aggregate_households(hh, units, 2022)
    assert agg.n_outside == 1 and "坐标可能有误" in agg.problems[0].problem


def test_overlapping_units_count_a_child_once():
    units = grid_units(nx=2, ny=1)
    units.loc[1, "geometry"] = shapely.box(50, 0, 200, 100)  # overlaps U00
    hh = kids([(75, 50)], birth_year=[2019])
    agg = aggregate_households(hh, units, 2022)
    assert agg.n_counted == 1 and int(agg.counts.to_numpy().sum()) == 1
    assert agg.counts.index.tolist() == ["U00"]


def test_point_units_take_the_nearest_within_radius():
    units = gpd.GeoDataFrame({"unit_id": ["A", "B"]}, geometry=[shapely.Point(0, 0), shapely.Point(800, 0)], crs=CRS)
    hh = kids([(100, 0), (700, 0), (5000, 0)], birth_year=[2019, 2019, 2019])
    agg = aggregate_households(hh, units, 2022)
    assert agg.unit_of.tolist()[:2] == ["A", "B"] and agg.n_outside == 1


def test_apply_replaces_and_warns_on_differences():
    units = grid_units()
    units.loc[0, "students_g1"] = 5
    units.loc[2, "students_g1"] = 9  # no household there: kept
    hh = kids([(50, 50), (60, 60)], birth_year=[2015, 2015], grade=[1, 1])
    agg = aggregate_households(hh, units, 2022)
    new, problems = apply_aggregation(units, agg, "units.shp")
    assert new.loc[0, "students_g1"] == 2 and new.loc[2, "students_g1"] == 9
    assert [(p.row, p.id, p.severity) for p in problems] == [(1, "U00", "warning")]
    assert units.loc[0, "students_g1"] == 5  # input frame untouched


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-150, 450), st.floats(-150, 350), st.integers(2004, 2024),
                          st.one_of(st.none(), st.integers(1, 9))), min_size=0, max_size=40))
def test_every_child_is_accounted_for(children):
    units = grid_units()
    hh = kids([(x, y) for x, y, _, _ in children], [b for _, _, b, _ in children], [g for *_, g in children])
    agg = aggregate_households(hh, units, 2022)
    assert agg.n_in == len(children)
    assert agg.n_in == agg.n_counted + agg.n_outside + agg.n_skipped
    assert int(agg.counts.to_numpy().sum()) == agg.n_counted
    inside = sum(0 <= x <= 300 and 0 <= y <= 200 for x, y, _, _ in children)
    assert agg.n_outside == len(children) - inside
    # each child outside or skipped has its own warning naming it
    assert len(agg.problems) == agg.n_outside + agg.n_skipped
    assert len({p.id for p in agg.problems}) == len(agg.problems)
