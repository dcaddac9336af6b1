"""The autumn-check writers (zoning.autumn_report): HTML, CSV, XLSX, atomic folder, privacy."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests import _autumn_fixtures as fx
from zoning import autumn_report as rep
from zoning.autumn import check_enrollment

DATA = Path(__file__).resolve().parent / "data"
PERSONAL = ("王小明", "2016-03-04", "鼓楼街12号", "陈九", "南街9号")


def findings_result():
    return fx.findings_result()


def all_text(folder: Path) -> dict[str, str]:
    out = {}
    for f in sorted(folder.iterdir()):
        if f.suffix == ".xlsx":
            wb = openpyxl.load_workbook(f, read_only=True)
            out[f.name] = "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                                    for v in row if v is not None)
        else:
            out[f.name] = f.read_text(encoding="utf-8-sig")
    return out


def test_report_folder_has_every_file_and_matching_findings(tmp_path):
    res = findings_result()
    assert res.summary["over_plan"] == 1 and res.summary["over_limit_classes"] == 2
    assert res.summary["nearby_failures"] == 1 and res.summary["forbidden_transfers"] == 1
    out = rep.write_report(res, tmp_path / "check", source="测试")
    names = {f.name for f in out.iterdir()}
    assert names == {"report.html", "summary.csv", "summary.json", "autumn_check_2023.xlsx",
                     *(f"{stem}.csv" for _t, stem, _s in rep.FINDINGS.values())}
    for name, (_title, stem, sheet) in rep.FINDINGS.items():
        raw = (out / f"{stem}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), stem  # UTF-8 with BOM for Excel
        csv = pd.read_csv(out / f"{stem}.csv", encoding="utf-8-sig", dtype=str)
        assert len(csv) == len(res.findings()[name]), stem
        assert list(csv.columns) == list(rep.COLUMNS_ZH[name].values())
        xl = pd.read_excel(out / "autumn_check_2023.xlsx", sheet_name=sheet, dtype=str)
        assert len(xl) == len(csv), sheet
    ooz = pd.read_csv(out / "out_of_zone.csv", encoding="utf-8-sig", dtype=str)
    assert list(ooz["学籍号"]) == ["far-0"]
    transfers = pd.read_csv(out / "transfers.csv", encoding="utf-8-sig", dtype=str)
    assert list(transfers["学籍号"]) == ["tr-0"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["violations"] == res.violations_count and summary["exit_code"] == 1
    assert summary["pupils_read"] == summary["pupils_checked"] + summary["pupils_with_problems"]


def test_html_report_is_chinese_summary_first_self_contained(tmp_path):
    res = findings_result()
    out = rep.write_report(res, tmp_path / "check")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    assert page.index("<h2>汇总") < page.index("<h2>一、招生计划核对") < page.index("<h2>六、学籍数据问题")
    for marker in ("http://", "https://", "<script", "<link", "src="):
        assert marker not in page, marker
    # each finding row is traceable: student ids and class ids appear
    assert "far-0" in page and "tr-0" in page and ">B<" in page
    assert "示例数据" not in page


def test_no_personal_data_in_any_output(tmp_path):
    out = rep.write_report(findings_result(), tmp_path / "check")
    for name, text in all_text(out).items():
        for value in PERSONAL:
            assert value not in text, (name, value)
        for header in ("姓名", "birth_date", "address"):
            if name.endswith(".html"):  # the page's privacy note names 姓名 as absent
                assert f"<th>{header}</th>" not in text, (name, header)
            else:
                assert header not in text, (name, header)


def test_every_data_string_is_escaped_in_the_html(tmp_path):
    s = fx.schools(P1={"name": "<script>alert('x')</script>&小学"})
    r = fx.roster(fx.pupils("P1", 1, "<b>A</b>", 46, "new", prefix="<i>id</i>"))
    res = check_enrollment(r, s, fx.zones(), None, 2023)
    page = rep.render_html(res)
    assert "<script>" not in page and "<b>A</b>" not in page and "<i>id</i>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;小学" in page
    assert "&lt;b&gt;A&lt;/b&gt;" in page


def test_sample_outputs_say_sample_data_everywhere(tmp_path):
    out = rep.write_report(findings_result(), tmp_path / "check", is_sample=True)
    for name, text in all_text(out).items():
        assert "示例数据" in text, name


def test_clean_result_report_says_all_met(tmp_path):
    res = check_enrollment(fx.roster(fx.pupils("P1", 1, "1", 30, "new")), fx.schools(), fx.zones(),
                           None, 2023)
    out = rep.write_report(res, tmp_path / "check")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "全部符合" in page and res.exit_code == 0
    assert pd.read_csv(out / "transfers.csv", encoding="utf-8-sig").empty


def test_output_is_replaced_atomically_and_left_absent_on_failure(tmp_path, monkeypatch):
    res = findings_result()
    target = tmp_path / "check"
    rep.write_report(res, target)
    (target / "stale.txt").write_text("old")
    rep.write_report(res, target)
    assert not (target / "stale.txt").exists()  # replaced as a whole
    assert [p.name for p in tmp_path.iterdir()] == ["check"]  # no temporary leftovers

    real_to_csv = pd.DataFrame.to_csv
    calls = []

    def boom(self, *a, **k):  # fail half-way: some files are already written
        calls.append(1)
        if len(calls) % 4 == 0:
            raise RuntimeError("disk full")
        return real_to_csv(self, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    fresh = tmp_path / "fresh"
    with pytest.raises(RuntimeError):
        rep.write_report(res, fresh)
    assert not fresh.exists()
    with pytest.raises(RuntimeError):
        rep.write_report(res, target)
    assert (target / "report.html").exists()  # the previous complete folder is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["check"]


def test_outputs_are_deterministic(tmp_path):
    a = rep.write_report(findings_result(), tmp_path / "a")
    b = rep.write_report(findings_result(), tmp_path / "b")
    for f in a.iterdir():
        if f.suffix in (".csv", ".html", ".json"):
            assert f.read_bytes() == (b / f.name).read_bytes(), f.name
