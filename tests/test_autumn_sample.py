"""The autumn check on the bundled sample's 2023 roster: exactly the planted violations.

The sample generator (geodata/sample/generate.py) writes ``planted_violations.csv`` with one row per
planted violation (rule, school_id, grade, class_id, student_id, detail). These tests compare the
check's findings with that list rule by rule, and check that a cleaned copy of the roster passes.
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import cli
from zoning import policy
from pipelines.autumn import summary_rows

SAMPLE = Path(__file__).resolve().parents[1] / "geodata" / "sample" / "data"
pytestmark = pytest.mark.skipif(
    not (SAMPLE / "roster.csv").exists() or not (SAMPLE / "planted_violations.csv").exists(),
    reason="the sample's 2023 roster has not been generated")

DATA_PROBLEM_RULES = {"unknown_school_id": "school_id", "unknown_unit_id": "unit_id",
                      "duplicate_student_id": "student_id", "grade_not_taught": "grade",
                      "missing_class_id": "class_id"}
CLASS_RULES = ("new_class_over_limit", "large_class", "huge_class")


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    p = pd.read_csv(SAMPLE / "planted_violations.csv", dtype=str, keep_default_na=False)
    p["grade"] = p["grade"].astype(int)
    return p


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    from pipelines.autumn import run_check

    out = tmp_path_factory.mktemp("sample") / "check"
    result, folder = run_check(None, 2023, out_dir=out)
    return result, folder


def rows(planted, *rules):
    return planted[planted["rule"].isin(rules)]


def test_every_planted_rule_is_known(planted):
    known = {"over_plan_classes", "over_plan_students", "out_of_zone", "transfer_into_over_limit",
             *CLASS_RULES, *DATA_PROBLEM_RULES}
    assert set(planted["rule"]) <= known, set(planted["rule"]) - known


def test_plan_findings_are_exactly_the_planted_ones(checked, planted):
    res, _ = checked
    got = res.plan[res.plan["violation"]]
    exp_cls = {(r.school_id, r.grade) for r in rows(planted, "over_plan_classes").itertuples()}
    exp_stu = {(r.school_id, r.grade) for r in rows(planted, "over_plan_students").itertuples()}
    assert {(r.school_id, r.grade) for r in got.itertuples() if r.over_classes > 0} == exp_cls
    assert {(r.school_id, r.grade) for r in got.itertuples() if r.over_students > 0} == exp_stu
    assert len(got) == len(exp_cls | exp_stu)


def test_class_findings_are_exactly_the_planted_ones(checked, planted):
    res, _ = checked
    cs = res.class_size

    def keyset(frame):
        return {(r.school_id, int(r.grade), r.class_id) for r in frame.itertuples()}

    assert keyset(cs) == keyset(rows(planted, *CLASS_RULES))
    assert keyset(cs[cs["category"] == "large"]) == keyset(rows(planted, "large_class"))
    assert keyset(cs[cs["category"] == "huge"]) == keyset(rows(planted, "huge_class"))
    new_over = cs[cs["new_class"] & cs["violation"]]
    assert keyset(new_over) == keyset(rows(planted, "new_class_over_limit"))
    # every planted large or huge class is also over the class limit of its grade
    assert cs["violation"].all()
    assert res.summary["large_classes"] == len(rows(planted, "large_class"))
    assert res.summary["huge_classes"] == len(rows(planted, "huge_class"))


def test_out_of_zone_findings_are_exactly_the_planted_ones(checked, planted):
    res, _ = checked
    exp = rows(planted, "out_of_zone")
    assert set(res.out_of_zone["student_id"]) == set(exp["student_id"])
    assert len(res.out_of_zone) == len(exp)
    failing = set(res.nearby_rate.loc[res.nearby_rate["violation"], "school_id"])
    assert failing == set(exp["school_id"])  # town primary schools: 100 % required


def test_transfer_findings_are_exactly_the_planted_ones(checked, planted):
    res, _ = checked
    exp = rows(planted, "transfer_into_over_limit")
    assert sorted(res.transfers["student_id"]) == sorted(exp["student_id"])


def test_school_size_findings_are_the_schools_the_transfer_plants_name(checked, planted):
    # planted_violations.csv has no rule of its own for school size; its transfer plants name
    # their schools as over the size limit ("超过校额上限"), which is what the check must find.
    res, _ = checked
    exp = rows(planted, "transfer_into_over_limit")
    assert all("超过校额上限" in d for d in exp["detail"])
    got = set(res.school_size.loc[res.school_size["violation"], "school_id"])
    assert got == set(exp["school_id"])


def test_data_problems_are_exactly_the_planted_ones(checked, planted):
    res, _ = checked
    dp = res.data_problems
    exp = rows(planted, *DATA_PROBLEM_RULES)
    assert set(dp["id"]) == set(exp["student_id"])
    for r in exp.itertuples():
        cols = set(dp.loc[dp["id"] == r.student_id, "column"])
        assert DATA_PROBLEM_RULES[r.rule] in cols, (r.rule, r.student_id, cols)
    s = res.summary
    assert s["pupils_read"] == s["pupils_checked"] + s["pupils_with_problems"]
    # both copies of the duplicated id are set aside; every other planted problem is one row
    n_dup = len(rows(planted, "duplicate_student_id"))
    assert s["pupils_with_problems"] == len(exp) + n_dup


def test_violation_count_adds_up(checked, planted):
    res, _ = checked
    s = res.summary
    expected = (len(rows(planted, "over_plan_classes", "over_plan_students")
                    .drop_duplicates(["school_id", "grade"]))
                + len(rows(planted, *CLASS_RULES))
                + len(set(rows(planted, "transfer_into_over_limit")["school_id"]))  # school size
                + len(set(rows(planted, "out_of_zone")["school_id"]))               # 就近入学率
                + len(rows(planted, "transfer_into_over_limit")))
    assert res.violations_count == expected and res.exit_code == 1


def test_sample_outputs_are_labelled_sample_data(checked):
    res, folder = checked
    assert res.summary["is_sample"] and "示例数据" in "".join(v for _k, v in summary_rows(res))
    for f in folder.iterdir():
        if f.suffix in (".csv", ".html", ".json"):
            assert "示例数据" in f.read_text(encoding="utf-8-sig"), f.name


# --- a cleaned copy of the roster passes ----------------------------------------------------


def cleaned_folder(tmp: Path, planted: pd.DataFrame) -> Path:
    """A copy of the sample folder whose roster and plan have every planted violation undone."""
    from geodata.readers import find_inputs, read_layer

    folder = tmp / "clean"
    # households are not read by the check: leaving them out keeps the test fast
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("households.*"))
    roster = pd.read_csv(SAMPLE / "roster.csv", dtype=str, keep_default_na=False)
    plan = pd.read_csv(SAMPLE / "plan.csv", dtype=str, keep_default_na=False)
    paths, _ = find_inputs(SAMPLE)
    schools = read_layer(paths["schools"], "schools")[0].frame
    units = read_layer(paths["units"], "units")[0].frame
    level = dict(zip(schools["school_id"], schools["level"]))
    # data problems and forbidden transfers: remove the rows
    drop_ids = set(rows(planted, *DATA_PROBLEM_RULES, "transfer_into_over_limit")["student_id"])
    roster = roster[~roster["student_id"].isin(drop_ids)].copy()
    # out of zone: the pupil lives in its school's zone after all
    for r in rows(planted, "out_of_zone").itertuples():
        home = sorted(units.loc[units["primary_school"] == r.school_id, "unit_id"])[0]
        roster.loc[roster["student_id"] == r.student_id, "unit_id"] = home
    roster["grade_n"] = roster["grade"].astype(int)
    # schools over the size limit: fewer continuing pupils
    for sid in set(rows(planted, "transfer_into_over_limit")["school_id"]):
        mine = roster[(roster["school_id"] == sid) & (roster["entry"] == "continuing")]
        excess = int((roster["school_id"] == sid).sum()) - policy.SIZE_LIMIT[level[sid]]
        if excess > 0:
            roster = roster.drop(mine.sort_values("student_id").index[:excess])
    # classes over the limit: the grade re-divided into enough even classes
    for sid, grade in {(r.school_id, r.grade) for r in rows(planted, *CLASS_RULES).itertuples()}:
        idx = roster.index[(roster["school_id"] == sid) & (roster["grade_n"] == grade)]
        limit = policy.class_limit_for_grade(grade)
        k = math.ceil(len(idx) / limit)
        ordered = roster.loc[idx].sort_values("student_id").index
        for j, i in enumerate(ordered):
            roster.at[i, "class_id"] = f"{sid}-{grade}-R{j % k + 1:02d}"
    # the plan follows the actual intake where it was planted short (and after re-division)
    new = roster[roster["entry"] == "new"]
    for i, p in plan.iterrows():
        sub = new[(new["school_id"] == p["school_id"]) & (new["grade_n"] == int(p["grade"]))]
        plan.at[i, "planned_students"] = str(max(int(p["planned_students"]), len(sub)))
        plan.at[i, "planned_classes"] = str(max(int(p["planned_classes"]), sub["class_id"].nunique()))
    roster.drop(columns="grade_n").to_csv(folder / "roster.csv", index=False)
    plan.to_csv(folder / "plan.csv", index=False)
    return folder


@pytest.mark.slow
def test_cleaned_sample_roster_exits_0_through_the_cli(tmp_path, planted):
    folder = cleaned_folder(tmp_path, planted)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli.main, ["check", str(folder), "--year", "2023", "--out", str(out)])
    assert res.exit_code == 0, res.output + (res.stderr or "")
    assert "全部符合" in res.output
