"""The sample as an office holds it (issue 17 item 10): read right, or named."""
from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from tests._office_data import _xlsx_with_title, build_office_copy


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    return build_office_copy(tmp_path_factory.mktemp("office") / "平罗数据")


def _run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_validate_reports_no_error_and_names_the_extra_file(office, tmp_path):
    res = _run(["validate", str(office), "--coords", "gcj02", "--out", str(tmp_path / "问题清单.xlsx")])
    assert res.exit_code == 0, res.output
    assert "共 0 处错误" in res.output
    assert "会议纪要.docx" in res.output and "未使用" in res.output
    assert "小区人数.shp" in res.output and "未做 GCJ-02" in res.output  # a CRS layer is never shifted
    listed = pd.read_excel(tmp_path / "问题清单.xlsx")
    assert "会议纪要.docx" in set(listed["文件"])
    assert (listed["行（Excel）"].dropna() >= 4).all() or listed["行（Excel）"].isna().all()


def test_indicators_and_autumn_check_match_the_sample(office, tmp_path):
    for name, folder in (("sample", None), ("office", office)):
        args = ["indicators"] + ([str(folder), "--coords", "gcj02"] if folder else []) + ["--out", str(tmp_path / f"ind_{name}")]
        assert _run(args).exit_code in (0, 1)
    a = pd.read_excel(tmp_path / "ind_sample" / "indicators.xlsx", sheet_name=None)
    b = pd.read_excel(tmp_path / "ind_office" / "indicators.xlsx", sheet_name=None)
    assert a.keys() == b.keys()
    for key in a:
        if key == "说明":  # names the data source
            continue
        pd.testing.assert_frame_equal(a[key], b[key])
    codes = []
    for name, folder in (("sample", None), ("office", office)):
        args = ["check"] + ([str(folder), "--coords", "gcj02"] if folder else []) + ["--year", "2023", "--out", str(tmp_path / f"chk_{name}")]
        res = _run(args)
        codes.append((res.exit_code, [ln for ln in res.output.splitlines() if ln.startswith("结论")]))
    assert codes[0] == codes[1]


def test_plan_gives_the_sample_assignments(office, tmp_path):
    assert _run(["plan", "--out", str(tmp_path / "a"), "--no-map"]).exit_code in (0, 1)
    assert _run(["plan", str(office), "--coords", "gcj02", "--out", str(tmp_path / "b"), "--no-map"]).exit_code in (0, 1)
    key = ["unit_id", "level", "school_id", "change_year"]
    a = pd.read_csv(tmp_path / "a" / "assignments.csv", dtype=str)[key].sort_values(key).reset_index(drop=True)
    b = pd.read_csv(tmp_path / "b" / "assignments.csv", dtype=str)[key].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_without_coords_the_gcj02_signature_is_one_warning_not_one_per_unit(office):
    res = _run(["validate", str(office)])
    assert res.exit_code == 0, res.output
    warnings = [ln for ln in res.output.splitlines() if ln.startswith("[警告]")]
    offset = [ln for ln in warnings if "相差约" in ln and "GCJ-02" in ln]
    assert len(offset) == 1, warnings
    assert "适龄儿童.csv" in offset[0] and "学校基本情况.xlsx" in offset[0] and "小区人数.shp" in offset[0]
    assert "--coords gcj02" in offset[0]
    # the units keep their own counts: no stream of "人数与住户数据汇总不一致" warnings follows
    assert not any("汇总不一致" in ln for ln in warnings), warnings
    assert len(warnings) <= 5  # the offset plus the roster's four planted rows
    # with the right option the warning is gone
    res = _run(["validate", str(office), "--coords", "gcj02"])
    assert "相差约" not in res.output


def test_thousands_separators_are_converted_and_counted(office, tmp_path):
    import shutil

    from geodata.validate import check_folder

    folder = tmp_path / "千分位"
    shutil.copytree(office, folder)
    path = folder / "学校基本情况.xlsx"
    table = pd.read_excel(path, header=2, dtype=object)  # title row, blank row, header
    area = "教学及辅助用房面积（平方米）"
    expected = pd.to_numeric(table[area]).copy()
    table[area] = [f"{int(v):,}" if pd.notna(v) else v for v in expected]
    table.loc[0, "教学仪器设备值（元）"] = "1,234,567"
    _xlsx_with_title(table, path, "学校基本情况（千分位）")
    checked = check_folder(folder, coords="gcj02")
    assert not [p for p in checked.problems if p.severity == "error"], checked.problems
    schools = checked.layers["schools"]
    assert list(schools["teaching_area_m2"]) == list(expected.astype(float))
    assert schools["equipment_value_yuan"].iat[0] == 1234567
    notes = [p for p in checked.problems if "千分位" in p.problem]
    assert {p.header for p in notes} >= {area, "教学仪器设备值（元）"}
    assert any(f"{(expected >= 1000).sum()} 处" in p.problem for p in notes if p.header == area)
