"""``zoning enrollment-plan`` (招生计划, issue 20) through the real command line, and its rules."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from openpyxl import load_workbook

from tests._spring_fixtures import SAMPLE, invoke, other_data_folder, project_ledger
from zoning.warnings import enrollment_plan, split_within

PLAN_COLUMNS = ["school_id", "year", "grade", "planned_classes", "planned_students"]


@pytest.fixture(scope="module")
def plan2023(tmp_path_factory):
    out = tmp_path_factory.mktemp("ep") / "招生计划2023.xlsx"
    res = invoke("enrollment-plan", "--year", 2023, "--out", out)
    assert res.exit_code == 0, res.output + res.stderr
    return out, res


def test_split_within_never_gives_more_than_wanted_or_than_the_total():
    assert split_within(10, [3, 4]) == [3, 4]
    assert split_within(5, [6, 4]) == [3, 2]
    assert split_within(0, [2, 2]) == [0, 0]
    assert sum(split_within(7, [9, 9, 9])) == 7


def test_nine_year_school_shares_its_seats_between_grades_1_and_7():
    row = {"school_id": "N", "name": "九年制", "level": "nine_year", "year": 2023, "intake_seats": 200,
           "intake_classes": 4, **{f"students_g{g}": 0 for g in range(1, 10)},
           **{f"classes_g{g}": 0 for g in range(1, 10)}}
    row.update(students_g1=135, classes_g1=3, students_g7=150, classes_g7=3)
    plan = enrollment_plan(pd.DataFrame([row]), 2023).set_index("grade")
    assert plan["planned_classes"].sum() <= 4 and plan["planned_students"].sum() <= 200
    assert (plan["planned_students"] <= plan["planned_classes"] * pd.Series({1: 45, 7: 50})).all()
    assert (plan["shortfall"] == plan["demand"] - plan["planned_students"]).all()
    assert plan["shortfall"].sum() == 285 - plan["planned_students"].sum() > 0
    assert "无学位可去" in plan["destination"].iat[0] + plan["destination"].iat[1]


def test_plan_is_within_the_ledgers_seats_and_names_the_shortfall(plan2023, tmp_path):
    out, res = plan2023
    csv = pd.read_csv(out.with_suffix(".csv"), encoding="utf-8-sig", dtype={"school_id": str})
    assert list(csv.columns) == PLAN_COLUMNS
    assert set(csv["grade"]) == {1, 7} and set(csv["year"]) == {2023}
    led = project_ledger(tmp_path)
    per_school = csv.groupby("school_id")[["planned_classes", "planned_students"]].sum()
    m = per_school.join(led[led["year"] == 2023].set_index("school_id"))
    assert (m["planned_classes"] <= m["intake_classes"]).all()
    assert (m["planned_students"] <= m["intake_seats"]).all()
    bayi = csv[csv["school_id"] == "P08"].iloc[0]
    assert bayi["planned_students"] == led[(led["school_id"] == "P08") & (led["year"] == 2023)]["intake_seats"].iat[0]
    assert "城关八小" in res.output and "缺口" in res.output and "城关九小" in res.output


def test_xlsx_is_titled_signable_and_chinese(plan2023):
    out, _ = plan2023
    wb = load_workbook(out)
    ws = wb.worksheets[0]
    assert ws.title == "招生计划"
    assert "2023 年义务教育学校招生计划" in ws["A1"].value
    assert any("批准" in str(c.value) and "签" in str(c.value) or "盖章" in str(c.value)
               for row in ws.iter_rows(max_row=5) for c in row if c.value)
    assert [c.value for c in ws[5]] == ["学校代码", "学校名称", "年份", "年级", "计划班数", "计划人数"]
    basis = wb["测算依据"]
    head = [c.value for c in basis[2]]
    assert "学位缺口" in head and "缺口去向（建议）" in head


@pytest.mark.parametrize("which", ["csv", "xlsx"])
def test_generated_plan_passes_validate(plan2023, tmp_path, which):
    out, _ = plan2023
    folder = tmp_path / "data"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("households.*", "plan.*"))
    if which == "csv":
        shutil.copy(out.with_suffix(".csv"), folder / "plan.csv")
    else:
        shutil.copy(out, folder / "招生计划.xlsx")
    res = invoke("validate", folder)
    assert res.exit_code == 0, res.output + res.stderr
    assert "共 0 处错误" in res.output
    assert "未使用的列" not in res.output  # 学校名称 is a known column of the plan


@pytest.mark.parametrize("which", ["csv", "xlsx"])
def test_generated_plan_drives_the_autumn_check(plan2023, tmp_path, which):
    out, _ = plan2023
    path = out.with_suffix(".csv") if which == "csv" else out
    plan = pd.read_csv(out.with_suffix(".csv"), encoding="utf-8-sig")
    res = invoke("check", "--year", 2023, "--plan", path, "--out", tmp_path / "chk")
    assert res.exit_code == 1, res.output + res.stderr  # the sample roster's planted findings, not exit 2
    summary = json.loads((tmp_path / "chk" / "summary.json").read_text(encoding="utf-8"))
    plan_rows = pd.read_csv(tmp_path / "chk" / "plan.csv", encoding="utf-8-sig")
    assert len(plan_rows) >= len(plan)  # every plan row is compared
    problems = pd.read_csv(tmp_path / "chk" / "data_problems.csv", encoding="utf-8-sig")
    assert set(problems["文件"]) == {"roster.csv"}  # the roster's planted problems only: the plan has none
    assert summary["over_plan"] == int((plan_rows["是否违规"] == "是").sum())


def test_plan_pupils_per_start_grade_add_up_to_the_projected_intake(plan2023, tmp_path):
    out, _ = plan2023
    csv = pd.read_csv(out.with_suffix(".csv"), encoding="utf-8-sig", dtype={"school_id": str})
    led = project_ledger(tmp_path)
    y = led[led["year"] == 2023]
    admitting = y[(y["intake_seats"] > 0) | (y["students_g1"] + y["students_g7"] > 0)]
    for grade in (1, 7):
        intake = int(admitting[f"students_g{grade}"].sum())
        assert csv.loc[csv["grade"] == grade, "planned_students"].sum() == intake, grade
    # the redirected pupils are planned at the receiving schools, within their seats
    basis = pd.read_excel(out, sheet_name="测算依据", header=1, dtype={"学校代码": str}).dropna(subset=["学校名称"])
    liuzhong = basis[basis["学校名称"] == "平罗六中"].iloc[0]
    assert "接收调剂 平罗四中" in liuzhong["缺口去向（建议）"]
    assert liuzhong["计划人数"] > liuzhong["片区预计新生"]
    assert liuzhong["计划人数"] <= liuzhong["计划班数"] * 50


def test_receiving_schools_are_not_over_their_plan_in_the_autumn_check(plan2023, tmp_path):
    out, _ = plan2023
    res = invoke("check", "--year", 2023, "--plan", out.with_suffix(".csv"), "--out", tmp_path / "chk")
    assert res.exit_code == 1, res.output + res.stderr
    rows = pd.read_csv(tmp_path / "chk" / "plan.csv", encoding="utf-8-sig", dtype={"学校代码": str})
    over = set(rows.loc[rows["是否违规"] == "是", "学校名称"])
    # the sample roster admitted 平罗四中's whole zone (a planted finding); the schools that take its
    # shortfall in the plan are not 超计划 for it
    assert "平罗四中" in over and not over & {"平罗五中", "平罗六中", "平罗七中", "城关九小"}


def test_redirect_fills_the_neighbour_within_its_free_places():
    def row(sid, seats, classes, demand):
        r = {"school_id": sid, "name": sid, "level": "junior", "year": 2023, "intake_seats": seats,
             "intake_classes": classes, **{f"students_g{g}": 0 for g in range(1, 10)},
             **{f"classes_g{g}": 0 for g in range(1, 10)}}
        r.update(students_g7=demand, classes_g7=-(-demand // 50))
        return r
    plan = enrollment_plan(pd.DataFrame([row("A", 100, 2, 180), row("B", 150, 3, 90)]), 2023,
                           neighbours={"A": ["B"], "B": ["A"]}).set_index("school_id")
    assert plan.at["A", "planned_students"] == 100 and plan.at["A", "shortfall"] == 80
    assert plan.at["B", "planned_students"] == 150 and plan.at["B", "planned_classes"] == 3
    assert "调剂到 B 60 人" in plan.at["A", "destination"] and "另有 20 人无学位可去" in plan.at["A", "destination"]
    assert plan.at["B", "destination"] == "接收调剂 A 60 人"


def test_year_outside_the_projection_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "p.xlsx"
    res = invoke("enrollment-plan", "--year", 2031, "--out", out)
    assert res.exit_code == 2 and "预测范围" in res.stderr
    assert not out.exists() and not out.with_suffix(".csv").exists()


def test_proposal_of_another_data_folder_exits_2(tmp_path):
    from tests._spring_fixtures import default_plan

    plan = default_plan(tmp_path / "plan")
    out = tmp_path / "p.xlsx"
    res = invoke("enrollment-plan", other_data_folder(tmp_path), "--zones", plan, "--year", 2023, "--out", out)
    assert res.exit_code == 2 and "哈希" in res.stderr
    assert not out.exists()
