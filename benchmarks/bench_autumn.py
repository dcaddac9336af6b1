"""Benchmark of the autumn check: a seeded 40,000-pupil roster.

Run ``python benchmarks/bench_autumn.py [--pupils 40000] [--seed 7] [--no-reference]``. Prints the
time of :func:`zoning.autumn.check_enrollment` beside a reference: a naive row-by-row pandas loop
over the same rules (class sizes, school sizes, out-of-zone new entrants, transfers judged on the
start-of-year state plus earlier dated transfers), and their ratio. The two must agree on the
counts, which the script asserts.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zoning import policy  # noqa: E402
from zoning.autumn import check_enrollment, zones_from_units  # noqa: E402


def make_data(n_pupils: int = 40_000, seed: int = 7):
    """Schools, units (with current zones) and a roster of about ``n_pupils`` pupils."""
    rng = np.random.default_rng(seed)
    levels = ["primary"] * 30 + ["junior"] * 8 + ["nine_year"] * 2
    schools = pd.DataFrame({"school_id": [f"S{i:03d}" for i in range(len(levels))],
                            "name": [f"学校{i}" for i in range(len(levels))], "level": levels,
                            "size_limit": np.nan, "class_limit": np.nan})
    prim = schools.loc[schools["level"] != "junior", "school_id"].to_numpy()
    jun = schools.loc[schools["level"] != "primary", "school_id"].to_numpy()
    n_units = 400
    units = pd.DataFrame({"unit_id": [f"U{i:04d}" for i in range(n_units)],
                          "township": np.where(np.arange(n_units) < 250, "城关镇", "黄渠桥镇"),
                          "primary_school": prim[np.arange(n_units) % len(prim)],
                          "junior_school": jun[np.arange(n_units) % len(jun)]})
    zone_units = {(s, lv): units.loc[units[col] == s, "unit_id"].to_numpy()
                  for lv, col in (("primary", "primary_school"), ("junior", "junior_school"))
                  for s in units[col].unique()}
    rows = []
    scales = {"S000": 2.3, "S039": 2.8}  # two schools far over the size limit
    per_school = n_pupils / (len(schools) + sum(v - 1 for v in scales.values()))
    for s in schools.itertuples():
        grades = policy.SCHOOL_GRADES[s.level]
        scale = scales.get(s.school_id, 1.0)
        per_grade = scale * per_school / len(grades)
        for g in grades:
            lv = "primary" if g <= 6 else "junior"
            n_classes = max(1, int(round(per_grade / 42)))
            for c in range(n_classes):
                size = int(np.clip(rng.normal(per_grade / n_classes, 5), 20, 70))
                home = zone_units[(s.school_id, lv)]
                for k in range(size):
                    u = rng.random()
                    entry = ("new" if g in (1, 7) and u < 0.95 else
                             "transfer_in" if u > 0.97 else "continuing")
                    unit = home[rng.integers(len(home))] if rng.random() > 0.03 else \
                        units["unit_id"].iat[rng.integers(n_units)]
                    date = (f"2023-{rng.integers(9, 13):02d}-{rng.integers(1, 29):02d}"
                            if entry == "transfer_in" and rng.random() < 0.8 else None)
                    rows.append((s.school_id, g, f"{g}-{c + 1}", entry, unit, date))
    roster = pd.DataFrame(rows, columns=["school_id", "grade", "class_id", "entry", "unit_id",
                                         "entry_date"])
    roster.insert(0, "student_id", [f"P{i:06d}" for i in range(len(roster))])
    return schools, units, roster


def reference(roster, schools, zones):
    """The same rules, row by row (the naive way; kept obviously correct, not fast)."""
    school = schools.set_index("school_id")
    class_n, school_n, base_class, base_school = {}, {}, {}, {}
    for _, p in roster.iterrows():
        key = (p["school_id"], p["grade"], p["class_id"])
        class_n[key] = class_n.get(key, 0) + 1
        school_n[p["school_id"]] = school_n.get(p["school_id"], 0) + 1
        if p["entry"] != "transfer_in":
            base_class[key] = base_class.get(key, 0) + 1
            base_school[p["school_id"]] = base_school.get(p["school_id"], 0) + 1
    over_classes = sum(n > policy.class_limit_for_grade(k[1]) for k, n in class_n.items())
    over_schools = sum(n > policy.SIZE_LIMIT[school.loc[s, "level"]] for s, n in school_n.items())
    out_of_zone = 0
    transfers = roster[roster["entry"] == "transfer_in"].copy()
    transfers["entry_date"] = pd.to_datetime(transfers["entry_date"])
    forbidden = 0
    for _, p in roster.iterrows():
        if p["entry"] == "new":
            lv = "primary" if p["grade"] <= 6 else "junior"
            z = zones[(zones["unit_id"] == p["unit_id"]) & (zones["level"] == lv)]
            if len(z) and z["school_id"].iat[0] != p["school_id"]:
                out_of_zone += 1
        elif p["entry"] == "transfer_in":
            key = (p["school_id"], p["grade"], p["class_id"])
            date = pd.Timestamp(p["entry_date"]) if p["entry_date"] is not None else None
            earlier = transfers[(transfers["school_id"] == p["school_id"])
                                & (transfers["entry_date"] < date)] \
                if date is not None else transfers.iloc[:0]
            in_class = earlier[(earlier["grade"] == p["grade"]) & (earlier["class_id"] == p["class_id"])]
            s_n = base_school.get(p["school_id"], 0) + len(earlier)
            c_n = base_class.get(key, 0) + len(in_class)
            if s_n > policy.SIZE_LIMIT[school.loc[p["school_id"], "level"]] or \
                    c_n > policy.class_limit_for_grade(p["grade"]):
                forbidden += 1
    return {"over_limit_classes": over_classes, "over_size_schools": over_schools,
            "out_of_zone_pupils": out_of_zone, "forbidden_transfers": forbidden}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pupils", type=int, default=40_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-reference", action="store_true", help="skip the slow row-by-row loop")
    args = ap.parse_args(argv)
    schools, units, roster = make_data(args.pupils, args.seed)
    zones = zones_from_units(units)
    t0 = time.perf_counter()
    res = check_enrollment(roster, schools, zones, None, 2023)
    t_fast = time.perf_counter() - t0
    print(f"学籍 {len(roster)} 人，{res.summary['classes']} 个班：check_enrollment {t_fast:.2f} s")
    print({k: res.summary[k] for k in ("over_limit_classes", "over_size_schools",
                                        "out_of_zone_pupils", "forbidden_transfers", "violations")})
    if args.no_reference:
        return
    t0 = time.perf_counter()
    ref = reference(roster, schools, zones)
    t_ref = time.perf_counter() - t0
    mine = {k: res.summary[k] for k in ref}
    assert mine == ref, (mine, ref)
    print(f"逐行参考实现 {t_ref:.2f} s；加速比 {t_ref / t_fast:.1f} 倍（结果一致）")


if __name__ == "__main__":
    main()
