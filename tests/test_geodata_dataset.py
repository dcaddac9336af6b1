"""load_dataset: normalised dtypes, projection, households replacing unit counts, hashes."""
from __future__ import annotations

import pandas as pd
import pytest

from geodata.dataset import file_hashes, load_dataset
from tests._geodata_fixtures import households_frame, write_clean_folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_clean_folder(tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="module")
def ds(folder):
    return load_dataset(folder)


def test_layers_projected_and_normalised(ds, folder):
    assert ds.crs.to_epsg() == 32648 and not ds.is_sample and ds.source == str(folder)
    for layer in (ds.schools, ds.units, ds.households, ds.barriers, ds.roads):
        assert layer.crs.to_epsg() == 32648
    s = ds.schools
    assert s["school_id"].tolist() == ["S01", "S02", "S03", "S04"]
    assert str(s["open_year"].dtype) == "Int64" and pd.isna(s.loc[3, "open_year"])
    assert s["classes_g1"].dtype == "int64" and (s["classes_g1"] == 0).all()  # not given -> 0
    assert s["level"].tolist() == ["primary", "primary", "junior", "nine_year"]
    u = ds.units
    assert all(u[f"students_g{g}"].dtype == "int64" for g in range(1, 10))
    assert all(u[f"age_{a}"].dtype == "int64" for a in range(6))
    assert u["unit_id"].map(type).eq(str).all()
    assert ds.plan["year"].dtype == "Int64" and ds.roster["entry"].tolist() == ["new", "transfer_in", "continuing"]
    assert ds.base_year == 2022


def test_households_replace_unit_counts(ds):
    hh = households_frame()
    total_units = int(ds.units[[f"students_g{g}" for g in range(1, 10)] + [f"age_{a}" for a in range(6)]].sum().sum())
    assert total_units == len(hh) - 2  # two children outside every unit, reported as warnings
    outside = [p for p in ds.warnings if p.file == "households.csv"]
    assert [p.id for p in outside] == ["H000", "H001"]


def test_wgs84_copy(ds):
    w = ds.wgs84("schools")
    assert w.crs.to_epsg() == 4326 and 106.3 < w.geometry.x.min() < 106.5
    assert ds.schools.crs.to_epsg() == 32648  # original untouched
    assert ds.wgs84("crossings") is None
    with pytest.raises(ValueError):
        ds.wgs84("plan")


def test_file_hashes_change_with_content(ds, folder, tmp_path):
    h = file_hashes(ds)
    assert set(h) == {"schools", "units", "households", "plan", "roster", "barriers", "roads", "scenario"}
    assert all(len(v) == 64 for v in h.values())
    other = write_clean_folder(tmp_path / "o")
    (other / "plan.csv").write_text("school_id,year,grade,planned_classes\nS01,2024,1,3\n", encoding="utf-8")
    h2 = file_hashes(load_dataset(other))
    assert h2["plan"] != h["plan"] and h2["schools"] == h["schools"]


def test_base_year_override_changes_ages(folder):
    hh = households_frame().iloc[2:]  # the first two are outside every unit
    born = hh["birth_date"].str[:4].astype(int)
    no_grade = hh["grade"].eq("")
    ages = [f"age_{k}" for k in range(6)]
    for base in (2022, 2023):
        ds = load_dataset(folder, base_year=base)
        assert ds.base_year == base
        expected = int((no_grade & born.between(base - 5, base)).sum())  # born in March: age = base - year
        assert int(ds.units[ages].to_numpy().sum()) == expected


@pytest.mark.slow
def test_sample_when_no_folder():
    try:
        from geodata.sample import sample_dir
    except ImportError:
        pytest.skip("no sample package")
    from pathlib import Path

    if not (Path(sample_dir()) / "schools.geojson").exists():
        pytest.skip("bundled sample not generated yet")
    ds = load_dataset()
    assert ds.is_sample and ds.source == "sample" and ds.crs.to_epsg() == 32648
    assert len(ds.schools) >= 20 and len(ds.units) >= 100
