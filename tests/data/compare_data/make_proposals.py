"""Writes the hand-made test proposals tests/data/compare_a and compare_b (run once, by hand).

A toy county: three schools (城关八小 primary, over its limits; 城关九小 primary, opening 2023;
平罗四中 junior) and four units in a 2 x 2 block near 38.91 N, 106.52 E. Proposal A keeps the
current zones (城关八小 stays over its limits); proposal B moves unit U3 to 城关九小 from 2023,
so 城关八小 is back within limits from 2024. The ledger numbers are made up by hand (below);
indicators.csv / coefficients.csv are computed from schools.csv of this folder with
zoning.indicators. Files and columns follow docs/ARCHITECTURE.md.

    python tests/data/compare_data/make_proposals.py
"""
import json
import sys
from pathlib import Path

import pandas as pd
from shapely.geometry import box, mapping
from shapely.ops import unary_union

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))
from zoning.indicators import county_coefficients, proposal_indicators  # noqa: E402

SCHOOLS = pd.read_csv(HERE / "schools.csv", dtype={"school_id": str})
UNITS = pd.read_csv(HERE / "units.csv", dtype={"unit_id": str})
D = 0.01
CELLS = {"U1": (0, 1), "U2": (1, 1), "U3": (0, 0), "U4": (1, 0)}
X0, Y0 = 106.50, 38.90

# (students, classes, largest_class, over_size, over_class) by school and year
LEDGER = {
    "A": {
        "S08": {2023: (2150, 44, 58, True, True), 2024: (2120, 46, 52, True, True), 2025: (2080, 46, 47, True, True)},
        "S09": {2023: (300, 8, 40, False, False), 2024: (600, 15, 42, False, False), 2025: (900, 21, 44, False, False)},
        "J04": {2023: (1500, 32, 48, False, False), 2024: (1520, 32, 48, False, False), 2025: (1540, 32, 49, False, False)},
    },
    "B": {
        "S08": {2023: (2050, 44, 52, True, True), 2024: (1950, 44, 45, False, False), 2025: (1850, 42, 45, False, False)},
        "S09": {2023: (400, 10, 42, False, False), 2024: (770, 18, 44, False, False), 2025: (1130, 26, 45, False, False)},
        "J04": {2023: (1500, 32, 48, False, False), 2024: (1520, 32, 48, False, False), 2025: (1540, 32, 49, False, False)},
    },
}
METRICS = {
    "A": dict(status="optimal", gap=0.0, objective=812.5, students_moved=0, mean_distance_m=905.0,
              max_distance_m=2480.0, compactness=0.62, within_radius_share={"primary": 0.41, "junior": 0.55}),
    "B": dict(status="feasible", gap=0.004, objective=790.1, students_moved=180, mean_distance_m=820.0,
              max_distance_m=2310.0, compactness=0.58, within_radius_share={"primary": 0.47, "junior": 0.55}),
}
ZONES = {"A": {"U1": "S08", "U2": "S08", "U3": "S08", "U4": "S09"},
         "B": {"U1": "S08", "U2": "S08", "U3": "S09", "U4": "S09"}}
CURRENT = {"U1": "S08", "U2": "S08", "U3": "S08", "U4": "S09"}


def split(total, n):
    return [total // n + (1 if i < total % n else 0) for i in range(n)]


def ledger(name):
    rows = []
    for sid, years in LEDGER[name].items():
        s = SCHOOLS.set_index("school_id").loc[sid]
        grades = range(1, 7) if s["level"] == "primary" else range(7, 10)
        first_ok = None
        for y in sorted(years, reverse=True):
            if years[y][3] or years[y][4]:
                break
            first_ok = y
        for y, (st, cl, big, osz, ocl) in years.items():
            r = dict(school_id=sid, name=s["name"], level=s["level"], year=y, students=st, classes=cl,
                     largest_class=big, large_classes=int(big >= 56), huge_classes=int(big >= 66),
                     over_size_limit=osz, over_class_limit=ocl, over_classrooms=False,
                     closed_to_transfers=osz or ocl, intake_seats=0 if osz else 45 * 2,
                     intake_classes=cl // len(grades))
            ss, cc = split(st, len(grades)), split(cl, len(grades))
            for g in range(1, 10):
                r[f"students_g{g}"] = ss[list(grades).index(g)] if g in grades else 0
            for g in range(1, 10):
                r[f"classes_g{g}"] = cc[list(grades).index(g)] if g in grades else 0
            r["first_year_within_limits"] = first_ok
            rows.append(r)
    return pd.DataFrame(rows)


def write(name):
    out = ROOT / "tests" / "data" / f"compare_{name.lower()}"
    out.mkdir(exist_ok=True)
    geoms = {u: box(X0 + i * D, Y0 + j * D, X0 + (i + 1) * D, Y0 + (j + 1) * D) for u, (i, j) in CELLS.items()}
    names = UNITS.set_index("unit_id")["name"]
    sch = SCHOOLS.set_index("school_id")
    rows = []
    for u in CELLS:
        n_p = int(UNITS.set_index("unit_id").loc[u, [f"students_g{g}" for g in range(1, 7)]].sum())
        n_j = int(UNITS.set_index("unit_id").loc[u, [f"students_g{g}" for g in range(7, 10)]].sum())
        rows.append(dict(unit_id=u, unit_name=names[u], level="primary", school_id=ZONES[name][u],
                         school_name=sch.loc[ZONES[name][u], "name"], previous_school_id=CURRENT[u],
                         students=n_p, change_year=2023))
        rows.append(dict(unit_id=u, unit_name=names[u], level="junior", school_id="J04",
                         school_name=sch.loc["J04", "name"], previous_school_id="J04", students=n_j,
                         change_year=2023))
    pd.DataFrame(rows).to_csv(out / "assignments.csv", index=False)
    led = ledger(name)
    led.to_csv(out / "ledger.csv", index=False)
    feats = []
    for level, zmap in (("primary", ZONES[name]), ("junior", {u: "J04" for u in CELLS})):
        for sid in sorted(set(zmap.values())):
            us = [u for u in CELLS if zmap[u] == sid]
            m = led[(led.school_id == sid) & (led.year == 2025)].iloc[0]
            feats.append(dict(type="Feature", geometry=mapping(unary_union([geoms[u] for u in us])), properties=dict(
                school_id=sid, name=sch.loc[sid, "name"], level=level, address=sch.loc[sid, "address"], n_units=len(us),
                students=int(m.students), classes=int(m.classes), largest_class=int(m.largest_class),
                utilisation=round(float(m.students) / float(sch.loc[sid, "capacity"]), 3))))
    fc = lambda fs: json.dumps({"type": "FeatureCollection", "features": fs}, ensure_ascii=False, indent=1)
    (out / "zones.geojson").write_text(fc(feats), encoding="utf-8")
    ufeats = [dict(type="Feature", geometry=mapping(geoms[u]), properties=dict(
        unit_id=u, name=names[u], township="城关镇", primary_school=ZONES[name][u], junior_school="J04",
        previous_primary_school=CURRENT[u], previous_junior_school="J04")) for u in CELLS]
    (out / "units.geojson").write_text(fc(ufeats), encoding="utf-8")
    sfeats = [dict(type="Feature", geometry={"type": "Point", "coordinates": [float(r.lon), float(r.lat)]}, properties=dict(
        school_id=r.school_id, name=r["name"], level=r.level, address=r.address, classrooms=int(r.classrooms),
        capacity=int(r.capacity), open_year=None if pd.isna(r.open_year) else int(r.open_year), close_year=None))
        for _, r in SCHOOLS.iterrows()]
    (out / "schools.geojson").write_text(fc(sfeats), encoding="utf-8")
    zt = []
    for level, zmap in (("primary", ZONES[name]), ("junior", {u: "J04" for u in CELLS})):
        for sid in sorted(set(zmap.values())):
            zt.append({"学段": "小学" if level == "primary" else "初中", "学校代码": sid, "学校名称": sch.loc[sid, "name"],
                       "地址": sch.loc[sid, "address"], "片区范围（小区/村）": "、".join(names[u] for u in CELLS if zmap[u] == sid)})
    pd.DataFrame(zt).to_csv(out / "zone_table.csv", index=False, encoding="utf-8-sig")
    metrics = dict(METRICS[name])
    metrics["violations"] = [] if name == "B" else [dict(
        school_id="S08", name="城关八小", year=2025, grade=None, limit="size", short_by=80, unit="人",
        fix="城关八小 2025 年超出校额 80 人")]
    metrics["over_limits_before"] = 1
    metrics["over_limits_after"] = 1 if name == "A" else 0
    metrics["is_sample"] = False
    (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    run = dict(tool_version="0.1.0+test", created="2026-11-28", source="tests/data/compare_data",
               inputs={}, scenario={"base_year": 2022, "target_year": 2025, "horizon": 2025},
               solver=dict(name="highs", version="hand-made", time_limit=60, gap=0.005, log="solver.log"),
               model="model.lp")
    (out / "run.json").write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
    ind = proposal_indicators(SCHOOLS, led)
    ind.to_csv(out / "indicators.csv", index=False)
    county_coefficients(ind).to_csv(out / "coefficients.csv", index=False)


if __name__ == "__main__":
    for n in ("A", "B"):
        write(n)
