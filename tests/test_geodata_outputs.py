"""Proposal folder atomicity, zones/units/schools layers and the zone table."""
from __future__ import annotations

import json
import os

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook

from geodata.dataset import load_dataset
from geodata.outputs import (MARKER, ZONE_TABLE_COLUMNS, OutputRefused, is_tool_output, proposal_folder,
                             write_geo_outputs, zone_layer)
from tests._geodata_fixtures import write_clean_folder


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return load_dataset(write_clean_folder(tmp_path_factory.mktemp("o")))


def assignments_for(ds, move=()):
    rows = []
    for u in ds.units.itertuples():
        for level, cur in (("primary", u.primary_school), ("junior", u.junior_school)):
            new = "S02" if (u.unit_id in move and level == "primary") else cur
            rows.append({"unit_id": u.unit_id, "level": level, "school_id": new, "previous_school_id": cur})
    return pd.DataFrame(rows)


def test_atomic_success_replaces_only_what_it_wrote(tmp_path):
    out = tmp_path / "proposal"
    with proposal_folder(out) as tmp:
        (tmp / "old.txt").write_text("old")
    assert is_tool_output(out) and sorted(os.listdir(out)) == [MARKER, "old.txt"]
    with proposal_folder(out) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".proposal.tmp-")
        (tmp / "new.txt").write_text("new")
        assert (out / "old.txt").exists()  # untouched until success
    assert sorted(os.listdir(out)) == [MARKER, "new.txt"]
    assert sorted(os.listdir(tmp_path)) == ["proposal"]  # no temporary or old folder left


def test_atomic_writer_never_removes_a_folder_of_the_users(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "说明.docx").write_bytes(b"the user's")
    with pytest.raises(OutputRefused, match="mine"):
        with proposal_folder(out) as tmp:
            (tmp / "new.txt").write_text("new")
    assert os.listdir(out) == ["说明.docx"] and sorted(os.listdir(tmp_path)) == ["mine"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with proposal_folder(empty) as tmp:  # an empty folder holds nothing to lose
        (tmp / "new.txt").write_text("new")
    assert sorted(os.listdir(empty)) == [MARKER, "new.txt"]


def test_atomic_failure_leaves_nothing(tmp_path):
    out = tmp_path / "proposal"
    with pytest.raises(RuntimeError):
        with proposal_folder(out) as tmp:
            (tmp / "half.txt").write_text("half")
            raise RuntimeError("solver failed")
    assert os.listdir(tmp_path) == []
    with proposal_folder(out) as tmp:
        (tmp / "keep.txt").write_text("keep")
    with pytest.raises(KeyboardInterrupt):
        with proposal_folder(out) as tmp:
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == ["proposal"] and sorted(os.listdir(out)) == [MARKER, "keep.txt"]


def test_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "p").write_text("x")
    with pytest.raises(OutputRefused):
        with proposal_folder(tmp_path / "p"):
            pass
    assert (tmp_path / "p").read_text() == "x"


def test_geo_outputs(ds, tmp_path):
    a = assignments_for(ds, move={"U02"})
    metrics = pd.DataFrame({"school_id": ["S01", "S02"], "level": ["primary", "primary"], "students": [300, 420],
                            "classes": [8, 10], "largest_class": [42, 45], "utilisation": [0.81, 0.93]})
    out = tmp_path / "p"
    with proposal_folder(out) as tmp:
        written = write_geo_outputs(tmp, ds, a, metrics)
    names = sorted(p.name for p in written)
    assert names == sorted(["zones.geojson", "units.geojson", "schools.geojson", "barriers.geojson",
                            "roads.geojson", "zone_table.csv", "zone_table.xlsx"])
    assert sorted(os.listdir(out)) == sorted([*names, MARKER])

    zones = gpd.read_file(out / "zones.geojson")
    assert zones.crs.to_epsg() == 4326
    assert sorted(zip(zones["level"], zones["school_id"])) == [
        ("junior", "S03"), ("junior", "S04"), ("primary", "S01"), ("primary", "S02")]
    z = zones.set_index(["level", "school_id"])
    assert z.loc[("primary", "S02"), "n_units"] == 7 and z.loc[("primary", "S01"), "n_units"] == 5
    assert z.loc[("primary", "S02"), "students"] == 420 and pd.isna(z.loc[("junior", "S03"), "students"])
    # zones of one level tile the units: total area equals the units' area
    units_area = ds.units.geometry.area.sum()
    for level in ("primary", "junior"):
        area = zones[zones["level"] == level].to_crs(ds.crs).geometry.area.sum()
        assert area == pytest.approx(units_area, rel=1e-3)
    # coordinates rounded to 1e-6 degrees
    raw = json.loads((out / "zones.geojson").read_text(encoding="utf-8"))
    coords = shapely.get_coordinates(shapely.from_geojson(json.dumps(raw["features"][0]["geometry"])))
    assert (abs(coords * 1e6 - (coords * 1e6).round()) < 1e-6).all()

    units = gpd.read_file(out / "units.geojson")
    assert set(units.columns) == {"unit_id", "name", "township", "primary_school", "junior_school",
                                  "previous_primary_school", "previous_junior_school", "geometry"}
    u2 = units.set_index("unit_id").loc["U02"]
    assert u2["primary_school"] == "S02" and u2["previous_primary_school"] == "S01"
    text = (out / "units.geojson").read_text(encoding="utf-8")
    assert "students" not in text and "age_" not in text
    for f in os.listdir(out):  # no personal data anywhere
        if f.endswith((".geojson", ".csv")):
            body = (out / f).read_text(encoding="utf-8-sig")
            assert "H000" not in body and "household" not in body and "birth" not in body

    schools = gpd.read_file(out / "schools.geojson")
    assert schools["school_id"].tolist() == ["S01", "S02", "S03", "S04"]
    assert {"address", "classrooms", "capacity", "open_year", "close_year"} <= set(schools.columns)


def test_zone_table_lists_each_unit_once_per_level(ds, tmp_path):
    a = assignments_for(ds, move={"U02", "U05"})
    with proposal_folder(tmp_path / "p") as tmp:
        write_geo_outputs(tmp, ds, a)
    raw = (tmp_path / "p" / "zone_table.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM so that Excel opens UTF-8
    table = pd.read_csv(tmp_path / "p" / "zone_table.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(table.columns) == ZONE_TABLE_COLUMNS
    assert table["学段"].tolist() == ["小学", "小学", "初中", "初中"]
    names = set(ds.units["name"])
    for level in ("小学", "初中"):
        listed = [n for cell in table.loc[table["学段"] == level, "片区范围（小区/村）"] for n in cell.split("、")]
        assert sorted(listed) == sorted(names) and len(listed) == len(set(listed))
    for cell in table["片区范围（小区/村）"]:
        parts = cell.split("、")
        assert parts == sorted(parts)
    row = table[(table["学段"] == "小学") & (table["学校代码"] == "S02")].iloc[0]
    assert "测试小区02" in row["片区范围（小区/村）"] and row["地址"] == "城关镇测试路2号"
    wb = load_workbook(tmp_path / "p" / "zone_table.xlsx")
    ws = wb["招生片区划分表"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == ZONE_TABLE_COLUMNS
    assert [[("" if v is None else v) for v in r] for r in rows[1:]] == table.values.tolist()
    assert "说明" not in wb.sheetnames  # not the sample
    sample_like = type(ds)(**{**ds.__dict__, "is_sample": True})
    with proposal_folder(tmp_path / "s") as tmp:
        write_geo_outputs(tmp, sample_like, a)
    wb = load_workbook(tmp_path / "s" / "zone_table.xlsx")
    assert "虚构" in wb["说明"]["A1"].value


def test_point_units_get_areas(ds):
    pts = ds.units.copy()
    pts["geometry"] = pts.geometry.representative_point()
    d2 = type(ds)(**{**ds.__dict__, "units": pts})
    zones = zone_layer(d2, assignments_for(d2))
    assert zones.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert zones.geometry.area.min() > 100_000


def test_unknown_ids_rejected(ds):
    a = assignments_for(ds)
    a.loc[0, "school_id"] = "NOPE"
    with pytest.raises(ValueError):
        zone_layer(ds, a)
