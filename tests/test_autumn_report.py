"""The autumn-check writers (pipelines.autumn): HTML, CSV, XLSX, atomic folder, privacy."""
from __future__ import annotations

import hashlib
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from zoning.errors import Problem
from tests import _autumn_fixtures as fx
from pipelines import autumn as rep
from zoning.autumn import check_enrollment

DATA = Path(__file__).resolve().parent / "data"
PERSONAL = ("王小明", "2016-03-04", "鼓楼街12号", "陈九", "南街9号")


def findings_result():
    return fx.findings_result()


def report_files(folder: Path) -> list[Path]:
    """The files of a report folder (not the tool's hidden marker)."""
    return [f for f in sorted(folder.iterdir()) if not f.name.startswith(".")]


def expected_columns(name: str) -> list[str]:
    """A finding's headers by default: the 学籍号 column holds pseudonyms and says so."""
    cols = dict(rep.COLUMNS_ZH[name])
    if name in rep.ID_COLUMNS:
        cols[rep.ID_COLUMNS[name]] = rep.PSEUDONYM_HEADER
    return list(cols.values())


def sha_alias(salt: str, student_id: str) -> str:
    """The documented pseudonym: "S" + the first 10 hex digits of sha256(salt + 学籍号)."""
    return "S" + hashlib.sha256((salt + student_id).encode("utf-8")).hexdigest()[:10]


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.parts.append(data)


def page_text(page: str) -> tuple[str, list[str]]:
    """The text a browser shows and the elements of an HTML page."""
    parser = _Text()
    parser.feed(page)
    return "".join(parser.parts), parser.tags


def all_text(folder: Path) -> dict[str, str]:
    out = {}
    for f in report_files(folder):
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
    names = {f.name for f in report_files(out)}
    assert names == {"report.html", "summary.csv", "summary.json", "autumn_check_2023.xlsx",
                     *(f"{stem}.csv" for _t, stem, _s in rep.FINDINGS.values())}
    for name, (_title, stem, sheet) in rep.FINDINGS.items():
        raw = (out / f"{stem}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), stem  # UTF-8 with BOM for Excel
        csv = pd.read_csv(out / f"{stem}.csv", encoding="utf-8-sig", dtype=str)
        assert len(csv) == len(res.findings()[name]), stem
        assert list(csv.columns) == expected_columns(name)
        xl = pd.read_excel(out / "autumn_check_2023.xlsx", sheet_name=sheet, dtype=str)
        assert len(xl) == len(csv), sheet
    salt = rep.StudentIds().salt
    ooz = pd.read_csv(out / "out_of_zone.csv", encoding="utf-8-sig", dtype=str)
    assert list(ooz[rep.PSEUDONYM_HEADER]) == [sha_alias(salt, "far-0")]
    transfers = pd.read_csv(out / "transfers.csv", encoding="utf-8-sig", dtype=str)
    assert list(transfers[rep.PSEUDONYM_HEADER]) == [sha_alias(salt, "tr-0")]
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
    # each finding row is traceable: pseudonyms (never the 学籍号) and class ids appear
    ids = rep.StudentIds()
    assert ids.pseudonym("far-0") in page and ids.pseudonym("tr-0") in page and ">B<" in page
    assert "far-0" not in page and "tr-0" not in page
    assert "--show-ids" in page and "id_salt" in page  # how to map back; the salt is advised
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
    text, tags = page_text(page)
    assert "<script>alert('x')</script>&小学" in text and "<b>A</b>" in text
    assert "script" not in tags and "b" not in tags


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
    files = report_files(a)
    assert {f.suffix for f in files} == {".csv", ".html", ".json", ".xlsx"}
    for f in files:
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name


# --- pupils' ids: pseudonyms by default, the 学籍号 only in an internal report ---------------------


def test_pseudonyms_follow_the_salt_and_hide_ids_quoted_in_problem_texts(tmp_path):
    r = fx.roster(fx.pupils("P1", 1, "A", 1, "new", unit="U3", prefix="G640221201605041234"))
    quoted = Problem("roster.csv", 1, "G640221201605041234-0", "unit_id",
                     "学籍号 G640221201605041234-0 的居住单元无法识别", "请核对")
    res = check_enrollment(r, fx.schools(), fx.zones(), None, 2023, roster_file="roster.csv",
                           extra_problems=[quoted])
    ids = rep.StudentIds(salt="本局密钥", salt_is_default=False)
    out = rep.write_report(res, tmp_path / "check", ids=ids)
    alias = sha_alias("本局密钥", "G640221201605041234-0")
    problems = pd.read_csv(out / "data_problems.csv", encoding="utf-8-sig", dtype=str)
    assert list(problems[rep.PSEUDONYM_HEADER]) == [alias]
    assert list(problems["问题"]) == [f"学籍号 {alias} 的居住单元无法识别"]
    for name, text in all_text(out).items():
        assert "G640221201605041234" not in text, name
        assert "id_salt" not in text, name  # a salt is set: no advice to set one
    other = rep.StudentIds(salt="另一密钥", salt_is_default=False).pseudonym("G640221201605041234-0")
    assert other != alias and other.startswith("S") and len(other) == 11


def test_internal_report_lists_ids_next_to_their_pseudonyms(tmp_path):
    ids = rep.StudentIds(salt="k", show=True, salt_is_default=False)
    out = rep.write_report(findings_result(), tmp_path / "check", ids=ids)
    ooz = pd.read_csv(out / "out_of_zone.csv", encoding="utf-8-sig", dtype=str)
    assert list(ooz.columns[:2]) == ["学籍号", rep.PSEUDONYM_HEADER]
    assert list(ooz["学籍号"]) == ["far-0"] and list(ooz[rep.PSEUDONYM_HEADER]) == [sha_alias("k", "far-0")]
    text, _tags = page_text((out / "report.html").read_text(encoding="utf-8"))
    assert "内部报告" in text and "不得外传" in text and "far-0" in text
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["ids_shown"] is True


def _folder_with_scenario(tmp_path: Path, toml: str) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DATA / "autumn_small", folder)
    (folder / "scenario.toml").write_text(toml, encoding="utf-8")
    return folder


def test_run_check_reads_the_privacy_settings_and_the_arguments_override_them(tmp_path):
    roster = pd.read_csv(DATA / "autumn_small" / "roster.csv", dtype=str)
    raw_ids = set(roster["student_id"])
    folder = _folder_with_scenario(tmp_path, '[privacy]\nid_salt = "平罗教育局"\n')
    extra = roster.head(1).assign(student_id="Z9", unit_id="U3")  # an out-of-zone new entrant
    path = tmp_path / "学籍.csv"
    pd.concat([roster, extra]).to_csv(path, index=False)
    result, out = rep.run_check(folder, 2023, roster_file=path, out_dir=tmp_path / "a")
    ooz = pd.read_csv(out / "out_of_zone.csv", encoding="utf-8-sig", dtype=str)
    assert list(ooz[rep.PSEUDONYM_HEADER]) == [sha_alias("平罗教育局", "Z9")]
    assert not any(i in t for t in all_text(out).values() for i in raw_ids | {"Z9"})
    _res, out = rep.run_check(folder, 2023, roster_file=path, out_dir=tmp_path / "b", show_ids=True)
    ooz = pd.read_csv(out / "out_of_zone.csv", encoding="utf-8-sig", dtype=str)
    assert list(ooz["学籍号"]) == ["Z9"] and list(ooz[rep.PSEUDONYM_HEADER]) == [sha_alias("平罗教育局", "Z9")]


def test_without_a_salt_the_default_is_fixed_per_folder_and_advised_against(tmp_path):
    folder = _folder_with_scenario(tmp_path, "[privacy]\nshow_ids = false\n")
    _res, a = rep.run_check(folder, 2023, out_dir=tmp_path / "a")
    _res, b = rep.run_check(folder, 2023, out_dir=tmp_path / "b", id_salt="")
    assert (a / "report.html").read_bytes() == (b / "report.html").read_bytes()
    page, _tags = page_text((a / "report.html").read_text(encoding="utf-8"))
    assert "化名" in page and "id_salt" in page and "--show-ids" in page
    salt = rep.default_salt(str(folder.resolve()))
    assert salt != rep.default_salt(str((tmp_path / "其他").resolve()))
    inputs_salt = rep.student_ids(rep.load_inputs(folder)).salt
    assert inputs_salt == salt
