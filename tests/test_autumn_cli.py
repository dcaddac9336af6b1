"""``zoning check`` through the real command line on small data folders."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

import cli

DATA = Path(__file__).resolve().parent / "data"
SMALL = DATA / "autumn_small"


def check(*args):
    result = CliRunner().invoke(cli.main, ["check", *map(str, args)])
    assert "Traceback" not in (result.output + (result.stderr or ""))
    return result


def test_clean_folder_exits_0_and_writes_the_report(tmp_path):
    out = tmp_path / "out"
    res = check(SMALL, "--year", 2023, "--out", out)
    assert res.exit_code == 0, res.output + res.stderr
    assert "全部符合" in res.output
    assert (out / "report.html").exists() and (out / "autumn_check_2023.xlsx").exists()
    school_size = pd.read_csv(out / "school_size.csv", encoding="utf-8-sig")
    assert school_size["在校生数"].sum() == 288


def test_a_broken_rule_exits_1(tmp_path):
    roster = pd.read_csv(SMALL / "roster.csv", dtype=str, keep_default_na=False)
    extra = roster[roster["school_id"] == "P1"].head(2).copy()
    extra["student_id"] = ["X1", "X2"]  # P1 grade 1 class: 44 -> 46 pupils, 46 new entrants
    path = tmp_path / "学籍.csv"
    pd.concat([roster, extra]).to_csv(path, index=False)
    out = tmp_path / "out"
    res = check(SMALL, "--year", 2023, "--roster", path, "--out", out)
    assert res.exit_code == 1
    classes = pd.read_csv(out / "class_size.csv", encoding="utf-8-sig", dtype=str)
    assert list(classes["学校代码"]) == ["P1"] and list(classes["人数"]) == ["46"]
    plan = pd.read_csv(out / "plan.csv", encoding="utf-8-sig", dtype=str)
    assert plan.loc[plan["学校代码"] == "P1", "超计划人数"].tolist() == ["1"]


def test_malformed_roster_is_reported_row_by_row_with_exit_1(tmp_path):
    out = tmp_path / "out"
    res = check(SMALL, "--year", 2023, "--roster", DATA / "autumn_malformed" / "roster.csv",
                "--out", out)
    assert res.exit_code == 1
    problems = pd.read_csv(out / "data_problems.csv", encoding="utf-8-sig", dtype=str)
    rows = set(problems["行"].astype(int))
    # data rows 1 and 15 are fine, and so is row 2 (grade 一年级, entry 新生: values as offices write
    # them); rows are given as Excel shows them (the header is row 1, data row n is row n + 1)
    assert rows == set(range(4, 16)) | {17}
    assert "读入 16 = 核查 3 + 有数据问题 13" in res.output
    text = "".join(f.read_text(encoding="utf-8-sig") for f in out.glob("*.csv"))
    text += (out / "report.html").read_text(encoding="utf-8")
    for personal in ("王小明", "2016-03-04", "鼓楼街"):
        assert personal not in text


def test_unusable_roster_exits_2_and_writes_nothing(tmp_path):
    roster = pd.read_csv(SMALL / "roster.csv", dtype=str).drop(columns=["class_id"])
    path = tmp_path / "roster_no_class.csv"
    roster.to_csv(path, index=False)
    out = tmp_path / "out"
    res = check(SMALL, "--year", 2023, "--roster", path, "--out", out)
    assert res.exit_code == 2
    assert "class_id" in res.stderr and "roster_no_class.csv" in res.stderr
    assert not out.exists()


def test_proposal_zones_make_pupils_out_of_zone(tmp_path):
    proposal = tmp_path / "proposal"
    proposal.mkdir()
    pd.DataFrame({"unit_id": ["U1", "U1", "U2", "U2", "U3", "U3"],
                  "level": ["primary", "junior"] * 3,
                  "school_id": ["P1", "J1", "P1", "N1", "N1", "N1"],
                  "previous_school_id": ["P1", "J1", "P1", "J1", "N1", "N1"],
                  "students": [40, 30, 30, 20, 10, 10], "change_year": [2023] * 6}).to_csv(
        proposal / "assignments.csv", index=False)
    out = tmp_path / "out"
    res = check(SMALL, "--year", 2023, "--zones", proposal, "--out", out)
    assert res.exit_code == 1
    ooz = pd.read_csv(out / "out_of_zone.csv", encoding="utf-8-sig", dtype=str)
    assert len(ooz) == 48 and set(ooz["片区学校代码"]) == {"N1"}  # J1's 48 new pupils live in U2
    rate = pd.read_csv(out / "nearby_rate.csv", encoding="utf-8-sig", dtype=str)
    assert rate.loc[rate["学校代码"] == "J1", "是否违规"].tolist() == ["是"]


def test_second_change_proposal_checks_the_map_of_the_year(tmp_path):
    """A proposal with a second change (two zone maps, told apart by change_year): the autumn of
    2023 is checked against the first map, 2025 would be against the second."""
    proposal = tmp_path / "proposal"
    proposal.mkdir()
    first = {"unit_id": ["U1", "U1", "U2", "U2", "U3", "U3"], "level": ["primary", "junior"] * 3,
             "school_id": ["P1", "J1", "P1", "J1", "N1", "N1"], "students": [40, 30, 30, 20, 10, 10],
             "previous_school_id": ["P1", "J1", "P1", "J1", "N1", "N1"], "change_year": [2023] * 6}
    second = dict(first, school_id=["P1", "J1", "P1", "N1", "N1", "N1"], change_year=[2025] * 6)
    pd.concat([pd.DataFrame(first), pd.DataFrame(second)]).to_csv(proposal / "assignments.csv", index=False)
    res = check(SMALL, "--year", 2023, "--zones", proposal, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output + res.stderr
    assert len(pd.read_csv(tmp_path / "out" / "out_of_zone.csv", encoding="utf-8-sig")) == 0
    res = check(SMALL, "--year", 2025, "--zones", proposal, "--out", tmp_path / "out2025")
    ooz = pd.read_csv(tmp_path / "out2025" / "out_of_zone.csv", encoding="utf-8-sig", dtype=str)
    assert res.exit_code == 1 and len(ooz) == 48 and set(ooz["片区学校代码"]) == {"N1"}


def test_plan_file_overrides_the_folder_plan(tmp_path):
    plan = tmp_path / "招生计划.csv"
    pd.DataFrame({"学校代码": ["P1"], "年份": [2023], "年级": [1], "计划班数": [1],
                  "计划人数": [40]}).to_csv(plan, index=False)
    out = tmp_path / "out"
    res = check(SMALL, "--year", 2023, "--plan", plan, "--out", out)
    assert res.exit_code == 1
    got = pd.read_csv(out / "plan.csv", encoding="utf-8-sig", dtype=str)
    # the folder's plan is not used: the other schools' intakes are now unplanned (计划 0)
    assert got[["学校代码", "年级", "计划人数", "超计划人数"]].values.tolist() == [
        ["J1", "7", "0", "48"], ["N1", "1", "0", "30"], ["N1", "7", "0", "38"], ["P1", "1", "40", "4"]]


def test_input_folder_is_not_modified(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(SMALL, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    check(folder, "--year", 2023, "--out", tmp_path / "out")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_transfer_into_a_school_with_another_class_over_the_limit_is_flagged(tmp_path):
    """Issue 20: 城关一小's grade 2 class gets 46 pupils; a pupil transferred into its grade 1 class
    (44, within the limit) is still forbidden, and the report names the class that closes the school."""
    folder = tmp_path / "data"
    shutil.copytree(SMALL, folder)
    roster = pd.read_csv(folder / "roster.csv", dtype=str, keep_default_na=False)
    extra = [{"student_id": f"X{k}", "school_id": "P1", "grade": "2", "class_id": "1班", "entry": "continuing",
              "unit_id": "U1", "entry_date": ""} for k in range(6)]  # 40 + 6 (A0085 joins on the 9th too)
    extra.append({"student_id": "T900", "school_id": "P1", "grade": "1", "class_id": "1班", "entry": "transfer_in",
                  "unit_id": "U1", "entry_date": "2023-10-09"})
    pd.concat([roster, pd.DataFrame(extra)], ignore_index=True).to_csv(folder / "roster.csv", index=False)
    out = tmp_path / "out"
    res = check(folder, "--year", 2023, "--out", out, "--show-ids")
    assert res.exit_code == 1, res.output + res.stderr
    transfers = pd.read_csv(out / "transfers.csv", encoding="utf-8-sig", dtype=str)
    row = transfers[transfers["学籍号"] == "T900"]
    assert len(row) == 1
    assert "2 年级 1班（46 人，班额 45）" in row["违规原因"].iat[0]
    assert "2 年级 1班（46 人，班额 45）" in (out / "report.html").read_text(encoding="utf-8")


def test_a_school_at_its_seat_capacity_is_over_size_like_the_ledger(tmp_path):
    """The school-size rule is the ledger's size cap: the lesser of the size limit and capacity."""
    folder = tmp_path / "data"
    shutil.copytree(SMALL, folder)
    schools = pd.read_csv(folder / "schools.csv", dtype=str)
    schools.loc[schools["school_id"] == "P1", "capacity"] = "80"  # P1 has 85 pupils
    schools.to_csv(folder / "schools.csv", index=False)
    out = tmp_path / "out"
    res = check(folder, "--year", 2023, "--out", out)
    assert res.exit_code == 1
    size = pd.read_csv(out / "school_size.csv", encoding="utf-8-sig", dtype={"学校代码": str})
    p1 = size[size["学校代码"] == "P1"].iloc[0]
    assert int(p1["校额上限"]) == 80 and p1["是否超校额"] == "是"
