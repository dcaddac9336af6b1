"""The seam of the autumn check: ``zoning check`` (the CLI) and :func:`zoning.autumn.check_enrollment`
(the library) give the same findings on the same data folder and roster (issue 16, item 7).

The roster is the office's table as written: entries in English (new / transfer_in / continuing) or in
Chinese (新生 / 转入 / 插班 / 在读). 城关一小 gets a size limit it is over, so that its transfers in
are forbidden and the transfer rule has something to find. The CLI runs with ``--show-ids`` so that
its tables name the same 学籍号 the library does.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import cli
from geodata.dataset import load_dataset
from zoning.autumn import check_enrollment, zones_from_units

SMALL = Path(__file__).resolve().parent / "data" / "autumn_small"
YEAR = 2023

#: the English entries and the Chinese words an office writes for them
CHINESE_ENTRY = {"new": "新生", "transfer_in": "转入", "continuing": "在读"}


def _transfers(roster: pd.DataFrame, entry_words: list[str]) -> pd.DataFrame:
    """Pupils transferred into 城关一小 grade 2 during the year, one per entry word."""
    rows = [{"student_id": f"T{k:03d}", "school_id": "P1", "grade": "2", "class_id": "1班",
             "entry": word, "unit_id": "U2", "entry_date": f"2023-10-{k + 1:02d}"}
            for k, word in enumerate(entry_words)]
    return pd.concat([roster, pd.DataFrame(rows)], ignore_index=True)


def _folder(tmp_path: Path, chinese: bool) -> Path:
    """autumn_small with 城关一小 limited to 80 pupils (it has 85) and a roster with transfers in."""
    folder = tmp_path / "data"
    shutil.copytree(SMALL, folder)
    schools = pd.read_csv(folder / "schools.csv", dtype=str, keep_default_na=False)
    schools["size_limit"] = ["80" if sid == "P1" else "" for sid in schools["school_id"]]
    schools.to_csv(folder / "schools.csv", index=False)
    roster = pd.read_csv(folder / "roster.csv", dtype=str, keep_default_na=False)
    if chinese:
        roster["entry"] = roster["entry"].map(CHINESE_ENTRY).fillna(roster["entry"])
        roster = _transfers(roster, ["插班", "转入", "插班"])
    else:
        roster = _transfers(roster, ["transfer_in", "transfer_in", "transfer_in"])
    roster.to_csv(folder / "roster.csv", index=False)
    return folder


def _cli(folder: Path, out: Path):
    result = CliRunner().invoke(cli.main, ["check", str(folder), "--year", str(YEAR), "--out", str(out),
                                           "--show-ids"])
    said = result.output + (result.stderr or "")
    assert "Traceback" not in said and result.exit_code in (0, 1), said
    return result


def _library(folder: Path):
    """The library on the same folder: the data set's tables, the roster as the office wrote it."""
    ds = load_dataset(folder)
    plain = {name: pd.DataFrame(getattr(ds, name).drop(columns="geometry", errors="ignore"))
             for name in ("schools", "units")}
    roster = pd.read_csv(folder / "roster.csv", dtype=str, keep_default_na=False)
    plan = pd.read_csv(folder / "plan.csv")
    return check_enrollment(roster, plain["schools"], zones_from_units(plain["units"]), plan, YEAR)


def _ids(out: Path, stem: str, column: str) -> list[str]:
    table = pd.read_csv(out / f"{stem}.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    return sorted(table[column]) if len(table) else []


COUNTS = ("pupils_read", "pupils_checked", "pupils_with_problems", "data_problems", "over_plan",
          "over_limit_classes", "over_size_schools", "nearby_failures", "forbidden_transfers",
          "out_of_zone_pupils", "classes", "large_classes", "huge_classes", "violations")


@pytest.mark.parametrize("chinese", [False, True], ids=["english_entries", "chinese_entries"])
def test_cli_and_library_give_the_same_findings(tmp_path, chinese):
    folder = _folder(tmp_path, chinese)
    out = tmp_path / "out"
    run = _cli(folder, out)
    lib = _library(folder)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {k: summary[k] for k in COUNTS} == {k: lib.summary[k] for k in COUNTS}
    assert run.exit_code == lib.exit_code
    assert _ids(out, "transfers", "学籍号") == sorted(lib.transfers["student_id"])
    assert _ids(out, "out_of_zone", "学籍号") == sorted(lib.out_of_zone["student_id"])
    assert _ids(out, "data_problems", "学籍号") == sorted(lib.data_problems["id"].astype(str))
    classes = pd.read_csv(out / "class_size.csv", encoding="utf-8-sig", dtype=str)
    assert sorted(zip(classes["学校代码"], classes["班级"])) == sorted(
        zip(lib.class_size["school_id"], lib.class_size["class_id"]))


def test_transfers_written_in_chinese_are_transfers(tmp_path):
    """插班 and 转入 are transfers in, through the CLI too: no data problem; every transfer into the
    over-size 城关一小 (the folder's own A0085 and the three added) is forbidden."""
    folder = _folder(tmp_path, chinese=True)
    out = tmp_path / "out"
    run = _cli(folder, out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["pupils_with_problems"] == 0 and summary["data_problems"] == 0
    assert _ids(out, "transfers", "学籍号") == ["A0085", "T000", "T001", "T002"]
    assert summary["over_size_schools"] == 1
    assert run.exit_code == 1
