"""Stability first (issue 18), through the CLI on the bundled sample: with default settings no
zone has more pieces than today on plain adjacency, at most 5 unit-levels move between schools no
limit concerns, every moved unit has a reason (assignments.csv, zone table), pupils moved are given
per intake year, and a lock does not ripple into unrelated units."""
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from geodata.adjacency import unit_adjacency
from geodata.dataset import load_dataset
from zoning.pairs import zone_pieces

REASONS = ("为化解", "新片区", "撤并", "原学校不在可选范围")


def _plan(out, *extra, codes=(0,)):
    res = CliRunner().invoke(main, ["plan", "--out", str(out), "--no-map", *extra])
    assert res.exit_code in codes, res.output
    a = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False)
    return a, json.loads((out / "metrics.json").read_text(encoding="utf-8")), res.output


@pytest.fixture(scope="module")
def sample_plan(tmp_path_factory):
    return _plan(tmp_path_factory.mktemp("stab") / "p")


def _pieces(members, nb):
    return len(zone_pieces(np.array(members, dtype=int), nb)) if members else 0


def test_no_zone_has_more_pieces_than_today_on_plain_adjacency(sample_plan):
    a, _, _ = sample_plan
    units = load_dataset().units.reset_index(drop=True)
    adj = unit_adjacency(units)  # plain: no barrier cuts
    nb = [[] for _ in range(len(units))]
    for i, j in adj.edges[["i", "j"]].itertuples(index=False):
        nb[i].append(j)
        nb[j].append(i)
    idx = {u: k for k, u in enumerate(units["unit_id"].astype(str))}
    for level, col in (("primary", "primary_school"), ("junior", "junior_school")):
        new = a[a["level"] == level]
        cur = dict(zip(units["unit_id"].astype(str), units[col].astype(str)))
        for s in sorted(set(new["school_id"])):
            now = [idx[u] for u, v in cur.items() if v == s]
            if not now:
                continue  # an opening school: its first zone
            after = [idx[u] for u in new.loc[new["school_id"] == s, "unit_id"]]
            assert _pieces(after, nb) <= _pieces(now, nb), (level, s)


def test_moves_are_few_and_every_one_has_a_reason(sample_plan, tmp_path):
    a, m, out = sample_plan
    moved = a[a["school_id"] != a["previous_school_id"]]
    assert len(moved) and (moved["reason"] != "").all()
    assert (a.loc[a["school_id"] == a["previous_school_id"], "reason"] == "").all()
    unconcerned = moved[~moved["reason"].str.contains("|".join(REASONS))]
    assert len(unconcerned) <= 5, unconcerned
    assert sum(m["change_reasons"].values()) == len(moved)
    # per intake year, labelled
    assert sum(m["students_moved_by_year"].values()) == m["students_moved"]
    assert "按入学年份" in out


def test_the_zone_table_names_each_joined_unit_and_why(sample_plan, tmp_path):
    out = tmp_path / "z"
    a, _, _ = _plan(out)
    table = pd.read_csv(out / "zone_table.csv", dtype=str, keep_default_na=False)
    joined = a[(a["school_id"] != a["previous_school_id"])]
    for r in joined.itertuples():
        cell = table.loc[table["学校代码"] == r.school_id, "调整说明"].iloc[0]
        assert r.unit_name in cell and r.reason in cell


def test_a_lock_does_not_ripple_into_unrelated_units(sample_plan, tmp_path):
    a, _, _ = sample_plan
    # lock one unit that stayed to a neighbouring school of its level
    row = a[(a["level"] == "primary") & (a["school_id"] == "P07") & (a["school_id"] == a["previous_school_id"])].iloc[0]
    b, _, _ = _plan(tmp_path / "lock", "--lock", f"{row.unit_id}=P06", codes=(0, 1))  # 1: the lock is reported
    key = ["unit_id", "level"]
    both = a.merge(b, on=key, suffixes=("_a", "_b"))
    changed = both[both["school_id_a"] != both["school_id_b"]]
    assert row.unit_id in set(changed["unit_id"])
    others = changed[changed["unit_id"] != row.unit_id]
    # no unit that no limit, opening or closing concerns follows it: every other unit that differs
    # moves for a reason in one plan or the other (a choice among the concerned moves)
    assert ((others["reason_a"] != "") | (others["reason_b"] != "")).all(), others
