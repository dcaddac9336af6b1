"""Each child counted once (issue 15, item 3): overlapping unit polygons are reported by
``zoning validate``; a household falls in exactly one unit (the smallest polygon containing it,
ties by unit_id); read = counted + outside + unusable in every case, checked in code."""
from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import main
from geodata.aggregate import (AGE_COLUMNS, GRADE_COLUMNS, Aggregation, ReconciliationError,
                               aggregate_households, check_reconciliation)
from zoning.errors import errors
from geodata.sample import sample_dir
from geodata.validate import check_folder, check_overlaps, validate_folder

CRS = 32648


def boxes(spec):
    """Units from (unit_id, minx, miny, maxx, maxy)."""
    return gpd.GeoDataFrame({"unit_id": [s[0] for s in spec], **{c: 0 for c in GRADE_COLUMNS + AGE_COLUMNS}},
                            geometry=[shapely.box(*s[1:]) for s in spec], crs=CRS)


def children(xy):
    n = len(xy)
    return gpd.GeoDataFrame({
        "household_id": [f"H{k}" for k in range(n)],
        "birth_year": pd.array([2019] * n, dtype="Int64"),
        "birth_month": pd.array([None] * n, dtype="Int64"),
        "birth_day": pd.array([None] * n, dtype="Int64"),
        "grade": pd.array([None] * n, dtype="Int64"),
    }, geometry=[shapely.Point(x, y) for x, y in xy], crs=CRS)


def test_touching_units_are_no_overlap():
    units = boxes([("A", 0, 0, 100, 100), ("B", 100, 0, 200, 100), ("C", 0, 100, 200, 200)])
    assert check_overlaps(units, "units.shp") == []


def test_small_overlap_is_a_warning_with_area_and_share():
    units = boxes([("A", 0, 0, 100, 100), ("B", 95, 0, 200, 100)])  # 5 m x 100 m = 500 m², 5% of A
    [p] = check_overlaps(units, "units.shp")
    assert p.severity == "warning" and p.id == "A" and p.row == 1
    assert "“A”" in p.problem and "“B”" in p.problem and "500 平方米" in p.problem and "5%" in p.problem


def test_slack_below_tolerance_is_ignored():
    units = boxes([("A", 0, 0, 100, 100), ("B", 99.995, 0, 200, 100)])  # 0.5 m²
    assert check_overlaps(units, "units.shp") == []


def test_stray_county_polygon_is_an_error_on_every_unit_it_covers():
    units = boxes([("A", 0, 0, 100, 100), ("B", 100, 0, 200, 100), ("Z", -5000, -5000, 5000, 5000)])
    found = check_overlaps(units, "units.shp")
    assert {(p.id, p.severity) for p in found} == {("A", "error"), ("B", "error")}
    assert all("“Z”" in p.problem and "中心" in p.problem for p in found)


def test_overlap_covering_the_centre_is_an_error_even_below_half():
    # B covers A's centre (50, 50) but only 40% of A
    units = boxes([("A", 0, 0, 100, 100), ("B", 30, 30, 70, 130)])
    [p] = check_overlaps(units, "units.shp")
    assert p.severity == "error" and "中心" in p.problem


def test_child_in_overlap_goes_to_the_smallest_unit_then_by_id():
    units = boxes([("Z", -5000, -5000, 5000, 5000), ("B", 0, 0, 100, 100), ("A", 0, 0, 100, 100),
                   ("C", 100, 0, 300, 100)])
    hh = children([(50, 50), (150, 50), (1000, 1000), (9000, 9000)])
    agg = aggregate_households(hh, units, 2022)
    assert agg.unit_of.tolist()[:3] == ["A", "C", "Z"] and pd.isna(agg.unit_of.iat[3])
    assert int(agg.counts.to_numpy().sum()) == agg.n_counted == 3
    assert agg.n_outside == 1 and agg.balanced


def test_child_without_location_is_unusable_not_outside():
    units = boxes([("A", 0, 0, 100, 100)])
    hh = children([(50, 50), (50, 50)])
    hh.loc[1, "geometry"] = None
    agg = aggregate_households(hh, units, 2022)
    assert agg.totals() == {"in": 2, "counted": 1, "outside": 0, "skipped": 1}


def test_a_mismatch_is_raised_as_a_bug():
    counts = pd.DataFrame({c: [0] for c in GRADE_COLUMNS + AGE_COLUMNS}, index=pd.Index(["A"], name="unit_id"))
    counts.loc["A", "students_g1"] = 2  # two counted, but only one child placed
    agg = Aggregation(counts=counts, unit_of=pd.Series(["A", None]), n_in=2, n_counted=2, n_outside=0)
    with pytest.raises(ReconciliationError, match="bug"):
        check_reconciliation(agg, {"A"})


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 300), st.floats(0, 300), st.floats(5, 200), st.floats(5, 200)),
                min_size=1, max_size=8),
       st.lists(st.tuples(st.floats(-50, 550), st.floats(-50, 550)), max_size=40))
def test_overlapping_units_never_count_a_child_twice(rects, points):
    units = boxes([(f"U{k}", x, y, x + w, y + h) for k, (x, y, w, h) in enumerate(rects)])
    hh = children(points)
    agg = aggregate_households(hh, units, 2022)
    assert agg.n_in == len(points) == agg.n_counted + agg.n_outside + agg.n_skipped
    assert int(agg.counts.to_numpy().sum()) == agg.n_counted
    polys = units.geometry.to_numpy()
    for k, (x, y) in enumerate(points):
        holders = [i for i, g in enumerate(polys) if g.intersects(shapely.Point(x, y))]
        got = agg.unit_of.iat[k]
        if not holders:
            assert got is None or pd.isna(got)
            continue
        best = min(holders, key=lambda i: (polys[i].area, units["unit_id"].iat[i]))
        assert got == units["unit_id"].iat[best]


# --- the sample, and broken copies of it --------------------------------------------------------


def copy_sample(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for p in Path(sample_dir()).iterdir():
        if p.is_file() and p.name != "roster.csv":
            shutil.copy(p, folder / p.name)
    return folder


@pytest.fixture(scope="module")
def sample_checked():
    return check_folder(sample_dir())


def test_sample_has_no_overlaps_and_its_pupils_are_counted_once(sample_checked):
    assert not [p for p in sample_checked.problems if "重叠" in p.problem]
    assert not errors(sample_checked.problems)
    # unchanged totals: with no overlap, "every unit containing the child" counts each child once,
    # and the units' pupils are exactly the children the aggregation counted
    units, hh = sample_checked.layers["units"], sample_checked.layers["households"]
    naive = gpd.sjoin(hh[["geometry"]], units[["unit_id", "geometry"]], predicate="intersects")
    agg = sample_checked.aggregation
    assert len(naive) == agg.n_counted + agg.n_skipped - int(hh.geometry.isna().sum())
    with_children = units[units["unit_id"].isin(agg.counts.index)]
    assert int(with_children[GRADE_COLUMNS + AGE_COLUMNS].to_numpy().sum()) == agg.n_counted
    assert agg.n_in == agg.n_counted + agg.n_outside + agg.n_skipped == len(hh)


def test_stray_polygon_in_the_sample_is_found_and_changes_no_total(tmp_path, sample_checked):
    folder = copy_sample(tmp_path / "d")
    units = gpd.read_file(folder / "units.geojson")
    first = units.iloc[[0]].copy()
    first["unit_id"] = "STRAY"
    first["name"] = "误画的全县范围"
    first["geometry"] = [shapely.box(*units.total_bounds)]
    pd.concat([units, first], ignore_index=True).to_file(folder / "units.geojson", driver="GeoJSON")
    checked = check_folder(folder)
    overlaps = [p for p in checked.problems if "重叠" in p.problem]
    assert len(overlaps) >= 300 and all(p.severity == "error" and "STRAY" in p.problem for p in overlaps)
    # each child still counted once: the stray polygon gets only children no real unit holds
    before = sample_checked.layers["units"].set_index("unit_id")[GRADE_COLUMNS].to_numpy().sum()
    after = checked.layers["units"].set_index("unit_id")
    agg = checked.aggregation
    assert agg.n_in == agg.n_counted + agg.n_outside + agg.n_skipped
    real = after.drop(index="STRAY")[GRADE_COLUMNS].to_numpy().sum()
    assert real == before
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "STRAY" in result.output and "平方米" in result.output


def test_enlarged_compound_is_reported(tmp_path):
    folder = copy_sample(tmp_path / "d")
    (folder / "households.csv").unlink()
    units = gpd.read_file(folder / "units.geojson")
    utm = units.estimate_utm_crs()
    m = units.to_crs(utm)
    m.loc[0, "geometry"] = m.geometry.iloc[0].buffer(250)
    m.to_crs(4326).to_file(folder / "units.geojson", driver="GeoJSON")
    problems = validate_folder(folder)
    found = [p for p in problems if "重叠" in p.problem]
    uid = units["unit_id"].iat[0]
    assert found and all(uid in p.problem for p in found)
    assert all("平方米" in p.problem and "%" in p.problem for p in found)
    assert np.all([p.fix for p in found])
