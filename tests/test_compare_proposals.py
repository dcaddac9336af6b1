"""Comparing proposal folders: the hand-made folders tests/data/compare_a and compare_b.

A keeps the current zones (城关八小 stays over its limits, short of floor area and sports ground);
B moves one unit to the new 城关九小 (城关八小 within limits from 2024, its indicators met). See
tests/data/compare_data/make_proposals.py for how the folders were made.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from zoning.errors import DataError
from pipelines.compare import compare_proposals, write_comparison
from zoning.compare import best_marks, first_year_within_limits, proposal_names

DATA = Path(__file__).resolve().parent / "data"
A, B = DATA / "compare_a", DATA / "compare_b"


@pytest.fixture(scope="module")
def table():
    return compare_proposals([A, B])


def test_columns_and_limit_rows(table):
    assert list(table.columns) == ["compare_a", "compare_b"]
    assert table.at["超出校额的学校数（2023 年）", "compare_a"] == 1
    assert table.at["超出校额的学校数（2024 年）", "compare_a"] == 1
    assert table.at["超出校额的学校数（2024 年）", "compare_b"] == 0
    assert table.at["有超班额班级的学校数（2025 年）", "compare_b"] == 0
    assert table.at["所有限额均满足的首个年份", "compare_a"] is None
    assert table.at["所有限额均满足的首个年份", "compare_b"] == 2024
    assert table.at["最大班额（2023 年）", "compare_a"] == 58


def test_metric_rows(table):
    assert table.at["调整片区的学生数", "compare_b"] == 180
    assert table.at["平均上学距离（米）", "compare_a"] == 905
    assert table.at["最远上学距离（米）", "compare_b"] == 2310
    assert table.at["小学生在服务半径（500 米）内的比例", "compare_b"] == pytest.approx(0.47)
    assert table.at["片区紧凑度", "compare_a"] == pytest.approx(0.62)
    assert table.at["求解状态", "compare_b"].startswith("可行解")


def test_indicator_rows_show_how_each_changes_them(table):
    assert table.at["未达到“6 项达标、其余≥85%”的学校数（2023 年）", "compare_a"] == 1
    assert table.at["未达到“6 项达标、其余≥85%”的学校数（2023 年）", "compare_b"] == 0
    a_text = table.at["低于标准的学校与项目（2023 年）", "compare_a"]
    b_text = table.at["低于标准的学校与项目（2023 年）", "compare_b"]
    assert "城关八小（未达要求）" in a_text and "生均体育运动场馆面积" in a_text
    assert "城关八小" not in b_text and "平罗四中" in b_text
    # the coefficient rows come from coefficients.csv, counted here from the file itself
    co = pd.read_csv(A / "coefficients.csv")
    n_bad = int((co[co["year"] == 2023]["ok"].astype(str) == "False").sum())
    assert table.at["差异系数超限的项数（2023 年）", "compare_a"] == n_bad
    assert table.at["小学最大差异系数（上限 0.50）（2024 年）", "compare_a"] == pytest.approx(
        co[(co["year"] == 2024) & (co["level"] == "primary")]["cv"].max())


def test_best_marks(table):
    marks = best_marks(table)
    assert marks.at["超出校额的学校数（2024 年）", "compare_b"]
    assert not marks.at["超出校额的学校数（2024 年）", "compare_a"]
    assert marks.at["所有限额均满足的首个年份", "compare_b"]
    assert marks.at["调整片区的学生数", "compare_a"]           # lower is better
    assert marks.at["小学生在服务半径（500 米）内的比例", "compare_b"]  # higher is better
    assert marks.at["片区紧凑度", "compare_a"]
    # equal values and text rows are not marked
    assert not marks.loc["超出校额的学校数（2023 年）"].any()
    assert not marks.loc["初中生在服务半径（1000 米）内的比例"].any()
    assert not marks.loc["求解状态"].any()


def test_first_year_within_limits_rules():
    led = pd.DataFrame({"year": [2023, 2024, 2025, 2026], "over_size_limit": [True, False, True, False],
                        "over_class_limit": [False, False, False, False]})
    assert first_year_within_limits(led) == 2026  # 2024 is clean but 2025 is not
    led["over_size_limit"] = False
    assert first_year_within_limits(led) == 2023
    led.loc[3, "over_class_limit"] = True
    assert first_year_within_limits(led) is None
    led2 = pd.DataFrame({"year": [2023], "over_size_limit": ["False"], "over_class_limit": ["True"]})
    assert first_year_within_limits(led2) is None


def test_missing_optional_files_give_dashes(tmp_path):
    c = tmp_path / "bare"
    c.mkdir()
    shutil.copy(A / "ledger.csv", c / "ledger.csv")
    t = compare_proposals([A, c])
    assert t.at["调整片区的学生数", "bare"] == "—"
    assert t.at["未达到“6 项达标、其余≥85%”的学校数（2023 年）", "bare"] == "—"
    assert not best_marks(t).loc["调整片区的学生数"].any()  # one comparable value only


def test_within_radius_absent_and_compactness_per_level(tmp_path):
    c = tmp_path / "c"
    shutil.copytree(B, c)
    m = json.loads((c / "metrics.json").read_text(encoding="utf-8"))
    del m["within_radius_share"]
    m["compactness"] = {"primary": 0.7, "junior": 0.5}
    (c / "metrics.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    t = compare_proposals([A, c])
    assert t.at["小学生在服务半径（500 米）内的比例", "c"] == "—"
    assert t.at["片区紧凑度（小学）", "c"] == pytest.approx(0.7)


def test_every_problem_at_once(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken"
    shutil.copytree(A, broken)
    (broken / "metrics.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        compare_proposals([empty, broken, tmp_path / "nowhere"])
    files = [p.file for p in exc.value.problems]
    assert "empty/ledger.csv" in files and "broken/metrics.json" in files
    assert any("不存在" in p.problem for p in exc.value.problems)
    assert all(p.fix for p in exc.value.problems)


def test_duplicate_folder_names(tmp_path):
    (tmp_path / "x" / "plan").mkdir(parents=True)
    (tmp_path / "y" / "plan").mkdir(parents=True)
    assert proposal_names([tmp_path / "x" / "plan", tmp_path / "y" / "plan"]) == ["x/plan", "y/plan"]


def test_write_comparison_files(tmp_path):
    c = tmp_path / "方案<二>&"
    shutil.copytree(B, c)
    out = write_comparison([A, c], tmp_path / "cmp")
    files = {p.name for p in out.iterdir()}
    assert {"compare.html", "compare.xlsx", "compare.csv"} <= files
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert "方案<二>&" not in page and "方案&lt;二&gt;&amp;" in page
    assert "★" in page and "所有限额均满足的首个年份" in page
    if "compare_map.html" in files:
        assert 'href="compare_map.html"' in page
    else:
        assert "对比地图" in page  # the note saying why there is no map
    xl = pd.read_excel(out / "compare.xlsx", sheet_name="方案比较", index_col=0)
    assert xl.loc["所有限额均满足的首个年份", "方案<二>&"] == "★ 2024"
    assert xl.loc["所有限额均满足的首个年份", "compare_a"] == "未达到"
    import openpyxl

    ws = openpyxl.load_workbook(out / "compare.xlsx")["方案比较"]
    bold = [ws.cell(row=r, column=c).value for r in range(2, ws.max_row + 1) for c in (3, 4)
            if ws.cell(row=r, column=c).font.bold]
    assert bold and all(str(v).startswith("★") for v in bold)
    assert not list(tmp_path.glob(".cmp*"))


def test_cli_compare(tmp_path):
    from cli import main

    r = CliRunner().invoke(main, ["compare", str(A), str(B), "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output + str(r.exception)
    assert (tmp_path / "o" / "compare.html").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    r = CliRunner().invoke(main, ["compare", str(A), str(empty), "--out", str(tmp_path / "o2")])
    assert r.exit_code == 2 and "ledger.csv" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o2").exists()


def test_base_year_rows_left_out_when_shared(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(A, a)
    shutil.copytree(B, b)
    for d in (a, b):
        m = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
        m["base_year"] = 2023
        (d / "metrics.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    t = compare_proposals([a, b])
    assert "超出校额的学校数（2023 年）" not in t.index and "超出校额的学校数（2024 年）" in t.index
    assert not any("2023 年" in i for i in t.index)
    assert t.at["所有限额均满足的首个年份", "b"] == 2024


@pytest.mark.browser
def test_comparison_page_in_chromium(tmp_path):
    """The page renders in headless Chromium, marks best values and links the comparison map."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("chromium is not installed")
    out = write_comparison([A, B], tmp_path / "cmp")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                       else route.abort())
            page.goto((out / "compare.html").as_uri())
            assert page.title() == "方案比较"
            best = page.locator("td.best")
            assert best.count() >= 5 and all(t.startswith("★") for t in best.all_inner_texts())
            link = page.locator('a[href="compare_map.html"]')
            if (out / "compare_map.html").exists():
                link.click()
                page.wait_for_load_state("load")
                assert page.url.endswith("compare_map.html")
                assert page.locator(".leaflet-container").count() >= 1
            else:
                assert link.count() == 0
        finally:
            browser.close()


def test_empty_indicator_files_give_dashes(tmp_path):
    """A proposal of data without indicator columns has empty indicators.csv / coefficients.csv."""
    a = tmp_path / "a"
    shutil.copytree(A, a)
    for name in ("indicators.csv", "coefficients.csv"):
        cols = pd.read_csv(a / name, nrows=0).columns
        pd.DataFrame(columns=cols).to_csv(a / name, index=False)
    t = compare_proposals([a, B])
    assert t.at["差异系数超限的项数（2025 年）", "a"] == "—"
    assert t.at["未达到“6 项达标、其余≥85%”的学校数（2025 年）", "a"] == "—"
    assert t.at["未达到“6 项达标、其余≥85%”的学校数（2025 年）", "compare_b"] == 1
