"""Shapefile field names (issue 15, item 4): DBF names hold 10 characters, so GDAL cuts the
contract's longer names when a Shapefile is written. Cuts of exactly one contract name are
recognised; the cuts several names share (``students_g``, ``students_1`` …) are an error naming the
file, the columns and the fix. The shapefiles here are written by pyogrio from contract-named
tables, so the laundering is GDAL's own."""
from __future__ import annotations

import warnings
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner

from cli import main
from geodata import aliases
from zoning.errors import errors
from geodata.validate import check_folder
from tests._geodata_fixtures import school_frame, unit_frame, write_clean_folder

ZH = ["一", "二", "三", "四", "五", "六", "七", "八", "九"]


def write_shapefile(frame, path: Path, encoding: str = "UTF-8") -> list[str]:
    """Write ``frame`` as a Shapefile (GDAL launders the names); returns the names it wrote."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Normalized/laundered field name": the point of the test
        pyogrio.write_dataframe(frame, path, encoding=encoding)
    return [c for c in pyogrio.read_info(path)["fields"]]


def folder_with_units_shp(tmp_path: Path, units) -> tuple[Path, list[str]]:
    folder = write_clean_folder(tmp_path / "d", households=False, extras=False)
    (folder / "units.geojson").unlink()
    return folder, write_shapefile(units, folder / "units.shp")


def test_gdal_cuts_the_contract_names_as_documented(tmp_path):
    _, names = folder_with_units_shp(tmp_path, unit_frame())
    assert names[3:12] == ["students_g"] + [f"students_{k}" for k in range(1, 9)]
    assert "primary_sc" in names and "junior_sch" in names


def test_numbered_cuts_are_an_error_naming_file_columns_and_fix(tmp_path):
    folder, _ = folder_with_units_shp(tmp_path, unit_frame())
    problems = check_folder(folder).problems
    [p] = [p for p in errors(problems) if p.file == "units.shp" and "截断" in p.problem]
    for name in ["students_g"] + [f"students_{k}" for k in range(1, 9)]:
        assert name in p.column and name in p.problem
    assert "一年级人数" in p.fix and "--mapping" in p.fix
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 1 and "units.shp" in result.output and "Traceback" not in result.output
    assert "students_1" in result.output


def test_unambiguous_cuts_are_recognised_with_chinese_grade_headers(tmp_path):
    units = unit_frame().rename(columns={f"students_g{g}": f"{ZH[g - 1]}年级人数" for g in range(1, 10)})
    folder = write_clean_folder(tmp_path / "d", households=False, extras=False)
    (folder / "units.geojson").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(units, folder / "units.shp", encoding="GBK")  # 5 汉字 = 10 bytes in GBK
    checked = check_folder(folder)
    assert not errors(checked.problems), [p.problem for p in errors(checked.problems)]
    note = [p for p in checked.problems if "截断" in p.problem]
    assert note and note[0].severity == "warning" and "primary_sc → primary_school" in note[0].problem
    got = checked.layers["units"]
    want = unit_frame()
    assert got["primary_school"].tolist() == want["primary_school"].tolist()  # the zones did not vanish
    assert got["junior_school"].tolist() == want["junior_school"].tolist()
    assert got["students_g5"].tolist() == want["students_g5"].tolist()


def test_a_mapping_file_resolves_the_numbered_cuts(tmp_path):
    folder, names = folder_with_units_shp(tmp_path, unit_frame())
    cut = names[3:12]
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("file,source,target\n" + "".join(
        f"units,{c},students_g{g}\n" for g, c in enumerate(cut, start=1)), encoding="utf-8")
    checked = check_folder(folder, mapping=mapping)
    assert not errors(checked.problems)
    want = unit_frame()
    for g in (1, 2, 9):
        assert checked.layers["units"][f"students_g{g}"].tolist() == want[f"students_g{g}"].tolist()


def test_school_cuts(tmp_path):
    schools = school_frame()
    schools["class_limit"] = [45, 45, 50, 45]
    schools["teachers_above_degree"] = [30, 40, 50, 20]
    schools["teaching_area_m2"] = [5000.0, 6000.0, 9000.0, 4000.0]
    folder = write_clean_folder(tmp_path / "d", households=False, extras=False)
    (folder / "schools.geojson").unlink()
    names = write_shapefile(schools, folder / "schools.shp")
    assert {"class_limi", "teachers_a", "teaching_a", "enrolled_g", "enrolled_1"} <= set(names)
    checked = check_folder(folder)
    bad = [p for p in errors(checked.problems) if p.file == "schools.shp"]
    assert len(bad) == 1 and "enrolled_g" in bad[0].column and "enrolled_1" in bad[0].column
    got = checked.layers["schools"]
    assert got["class_limit"].tolist() == [45, 45, 50, 45]
    assert got["teachers_above_degree"].tolist() == [30, 40, 50, 20]


@pytest.mark.parametrize("input_name", aliases.INPUTS)
def test_each_cut_names_one_contract_name_or_is_called_ambiguous(input_name):
    names = aliases.contract_names(input_name)
    long_names = [n for n in names if len(n) > aliases.DBF_NAME_BYTES]
    cuts = {n[: aliases.DBF_NAME_BYTES] for n in long_names}
    renames, ambiguous = aliases.recognise_cut_names(sorted(cuts), input_name)
    for cut in cuts:
        owners = [n for n in long_names if n.startswith(cut)]
        if len(owners) == 1:
            assert renames[cut] == owners[0]
        else:
            assert cut in ambiguous and cut not in renames
