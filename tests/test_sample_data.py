"""The bundled sample's files, checked independently of the generator (geopandas/pandas only)."""
from __future__ import annotations

import math
from datetime import date

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata.sample import sample_dir

GRADES = range(1, 10)
TAUGHT = {"primary": set(range(1, 7)), "junior": {7, 8, 9}, "nine_year": set(range(1, 10))}
LIMIT = {g: 45 if g <= 6 else 50 for g in GRADES}
# SPEC §5.3 thresholds, typed in here again on purpose (an independent check of the generator).
THRESHOLDS = {
    "teachers_above_degree": (4.2, 5.3, 100), "backbone_teachers": (1.0, 1.0, 100),
    "pe_art_teachers": (0.9, 0.9, 100), "teaching_area_m2": (4.5, 5.8, 1),
    "sports_area_m2": (7.5, 10.2, 1), "equipment_value_yuan": (2000, 2500, 1),
    "multimedia_classrooms": (2.3, 2.4, 100),
}
EXPECTED_SHORTFALLS = {
    ("P08", "teaching_area_m2"), ("J04", "teaching_area_m2"),
    ("P01", "sports_area_m2"), ("P03", "sports_area_m2"),
    ("P04", "pe_art_teachers"), ("J07", "pe_art_teachers"), ("J04", "pe_art_teachers"),
    ("J05", "music_rooms"), ("J06", "art_rooms"), ("N01", "music_rooms"), ("N01", "art_rooms"),
}
PLANTED_HOUSEHOLDS = {"H900001", "H900002", "H900003"}


@pytest.fixture(scope="module")
def d():
    root = sample_dir()
    out = {
        "schools": gpd.read_file(root / "schools.geojson"),
        "units": gpd.read_file(root / "units.geojson"),
        "barriers": gpd.read_file(root / "barriers.geojson"),
        "crossings": gpd.read_file(root / "crossings.geojson"),
        "roads": gpd.read_file(root / "roads.geojson"),
        "households": pd.read_csv(root / "households.csv", dtype={"school_id": str}),
        "plan": pd.read_csv(root / "plan.csv"),
        "roster": pd.read_csv(root / "roster.csv", dtype=str, keep_default_na=False),
        "planted": pd.read_csv(root / "planted_violations.csv", dtype=str, keep_default_na=False),
    }
    out["roster"]["grade"] = out["roster"]["grade"].astype(int)
    out["planted"]["grade"] = out["planted"]["grade"].astype(int)
    return out


def _utm(gdf):
    return gdf.to_crs(32648)


# --- schema -----------------------------------------------------------------------------------


def test_columns_follow_the_contract(d):
    s, u = d["schools"], d["units"]
    for c in (["school_id", "name", "level", "classrooms", "capacity", "open_year", "close_year",
               "address", "township"] + [f"enrolled_g{g}" for g in GRADES]
              + [f"classes_g{g}" for g in GRADES] + list(THRESHOLDS) + ["music_rooms", "art_rooms"]):
        assert c in s.columns, c
    for c in (["unit_id", "name", "township", "primary_school", "junior_school"]
              + [f"students_g{g}" for g in GRADES] + [f"age_{a}" for a in range(6)]):
        assert c in u.columns, c
    assert list(d["plan"].columns) == ["school_id", "year", "grade", "planned_classes", "planned_students"]
    assert list(d["roster"].columns) == ["student_id", "school_id", "grade", "class_id", "entry",
                                         "unit_id", "entry_date"]
    assert list(d["households"].columns) == ["household_id", "birth_date", "grade", "school_id", "lon", "lat"]
    assert set(d["barriers"].columns) >= {"name", "kind", "geometry"}
    assert set(d["crossings"].columns) >= {"name", "kind", "barrier", "geometry"}
    assert set(d["crossings"].kind) <= {"bridge", "underpass", "level_crossing"}
    assert set(d["crossings"].barrier) <= set(d["barriers"].name)


def test_schools_ids_levels_and_zero_for_untaught_grades(d):
    s = d["schools"]
    assert s.school_id.is_unique and s.name.is_unique
    assert set(s.level) == {"primary", "junior", "nine_year"}
    names = dict(zip(s.school_id, s.name))
    for i, n in enumerate("一二三四五六七八九", start=1):
        assert names[f"P0{i}"] == f"城关{n}小"
    assert [names[j] for j in ("J04", "J05", "J06", "J07")] == ["平罗四中", "平罗五中", "平罗六中", "平罗七中"]
    assert names["N01"] == "黄渠桥九年制学校" and s.set_index("school_id").level["N01"] == "nine_year"
    assert 18 <= (s.level == "primary").sum() <= 22
    for r in s.itertuples():
        for g in GRADES:
            if g not in TAUGHT[r.level]:
                assert getattr(r, f"enrolled_g{g}") == 0 and getattr(r, f"classes_g{g}") == 0
    p09 = s.set_index("school_id").loc["P09"]
    assert p09.open_year == 2023 and 36 <= p09.classrooms <= 42
    assert sum(p09[f"enrolled_g{g}"] for g in GRADES) == 0
    assert s.address.str.startswith("平罗县").all()


def test_units_geometry(d):
    u = d["units"]
    assert str(u.crs).endswith("4326")
    assert u.unit_id.is_unique
    assert 300 <= len(u) <= 450
    town = u[u.township == "城关镇"]
    assert 120 <= len(town) <= 200
    assert u.geometry.is_valid.all() and (u.geom_type == "Polygon").all()
    b = u.total_bounds
    assert 105.96 <= b[0] and b[2] <= 106.98 and 38.59 <= b[1] and b[3] <= 39.11
    c = town.union_all().centroid
    assert 106.50 <= c.x <= 106.56 and 38.89 <= c.y <= 38.93
    m = _utm(u)
    # no overlaps, no gaps: the union's area equals the sum of the areas, and it is one piece
    union = m.union_all()
    assert abs(union.area - m.area.sum()) < 1.0
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    # town compounds are rook-adjacent to their neighbours (shared edges, not corners)
    tm = _utm(town).reset_index(drop=True)
    tree = shapely.STRtree(tm.geometry.values)
    for i, g in enumerate(tm.geometry):
        shared = [j for j in tree.query(g) if j != i and g.intersection(tm.geometry[j]).length > 50]
        assert len(shared) >= 2, tm.unit_id[i]
    assert town.name.is_unique and {"鼓楼小区", "玉皇阁花园", "沙湖名苑"} <= set(town.name)
    assert u[u.township != "城关镇"].name.str.endswith("村").all()


def test_every_unit_has_known_zones(d):
    s, u = d["schools"].set_index("school_id"), d["units"]
    for col, ok in (("primary_school", {"primary", "nine_year"}), ("junior_school", {"junior", "nine_year"})):
        assert u[col].isin(s.index).all()
        assert set(s.level[u[col]]) <= ok
    assert "P09" not in set(u.primary_school)  # 九小 has no zone yet in 2022


# --- counts ------------------------------------------------------------------------------------


def test_school_enrollment_is_the_sum_over_its_zone(d):
    s, u = d["schools"], d["units"]
    for r in s.itertuples():
        for g in GRADES:
            col = "primary_school" if g <= 6 else "junior_school"
            zone_sum = int(u.loc[u[col] == r.school_id, f"students_g{g}"].sum())
            expected = getattr(r, f"enrolled_g{g}") if g in TAUGHT[r.level] else 0
            assert zone_sum == expected, (r.school_id, g)


def _age(birth: str) -> int:
    b = date.fromisoformat(birth)
    ref = date(2022, 8, 31)
    return ref.year - b.year - ((ref.month, ref.day) < (b.month, b.day))


def test_households_aggregate_to_the_unit_counts(d):
    h, u = d["households"], d["units"]
    pts = gpd.GeoDataFrame(h, geometry=gpd.points_from_xy(h.lon, h.lat), crs=4326)
    joined = gpd.sjoin(pts, u[["unit_id", "primary_school", "junior_school", "geometry"]],
                       how="left", predicate="within")
    assert len(joined) == len(h)  # no point on two units
    outside = joined[joined.unit_id.isna()]
    assert set(outside.household_id) == PLANTED_HOUSEHOLDS
    inside = joined[joined.unit_id.notna()].copy()
    inside["age"] = inside.birth_date.map(_age)
    pupils = inside[inside.grade.notna()]
    assert (pupils.age == 5 + pupils.grade).all()  # grade g in autumn 2022 <=> age 5 + g
    zone = np.where(pupils.grade <= 6, pupils.primary_school, pupils.junior_school)
    assert (pupils.school_id == zone).all()
    covered = sorted(set(inside.unit_id))
    assert set(covered) == set(u.unit_id[u.township == "城关镇"])
    ui = u.set_index("unit_id").loc[covered]
    for g in GRADES:
        got = pupils[pupils.grade == g].groupby("unit_id").size().reindex(covered, fill_value=0)
        assert (got.to_numpy() == ui[f"students_g{g}"].to_numpy()).all(), g
    pre = inside[inside.grade.isna()]
    assert pre.age.between(0, 5).all()
    for a in range(6):
        got = pre[pre.age == a].groupby("unit_id").size().reindex(covered, fill_value=0)
        assert (got.to_numpy() == ui[f"age_{a}"].to_numpy()).all(), a
    assert h.household_id.str.match(r"^H\d{6}$").all()


def test_base_year_problems_and_everything_else_within_limits(d):
    s = d["schools"].set_index("school_id")
    total = s[[f"enrolled_g{g}" for g in GRADES]].sum(axis=1)
    classes = s[[f"classes_g{g}" for g in GRADES]].sum(axis=1)
    for sid in ("P08", "J04"):
        assert total[sid] > 2000
        avg = [s.at[sid, f"enrolled_g{g}"] / s.at[sid, f"classes_g{g}"]
               for g in GRADES if s.at[sid, f"classes_g{g}"]]
        assert max(avg) >= 56  # 大班额 on average in some grade
    assert 2200 <= total["J04"] <= 2300
    for sid, r in s.iterrows():
        assert classes[sid] <= r.classrooms, sid
        if sid in ("P08", "J04"):
            continue
        assert total[sid] <= (2500 if r.level == "nine_year" else 2000)
        assert total[sid] <= r.capacity, sid
        for g in GRADES:
            if r[f"classes_g{g}"]:
                assert math.ceil(r[f"enrolled_g{g}"] / r[f"classes_g{g}"]) <= LIMIT[g], (sid, g)


def test_town_cohorts_flat_or_growing_rural_shrinking(d):
    u = d["units"]
    for town, sign in ((True, 1), (False, -1)):
        sub = u[(u.township == "城关镇") == town]
        # intakes 2017..2022 (grades 6..1) then 2023..2028 (ages 5..0)
        series = [sub[f"students_g{g}"].sum() for g in range(6, 0, -1)]
        series += [sub[f"age_{a}"].sum() for a in range(5, -1, -1)]
        slope = np.polyfit(np.arange(len(series)), series, 1)[0]
        assert sign * slope > 0 if not town else slope > -0.002 * np.mean(series)


def test_indicator_shortfalls_are_exactly_the_planted_ones(d):
    s = d["schools"]
    found = set()
    for r in s.itertuples():
        enrolled = {g: getattr(r, f"enrolled_g{g}") for g in GRADES}
        n = sum(enrolled.values())
        if n == 0:
            continue
        n_prim = sum(enrolled[g] for g in range(1, 7))
        n_jun = n - n_prim
        classes = sum(getattr(r, f"classes_g{g}") for g in GRADES)
        for key, (tp, tj, per) in THRESHOLDS.items():
            value = getattr(r, key) / n * per
            # a nine-year school: both the level-weighted and the junior thresholds must agree
            variants = [tp] if r.level == "primary" else [tj] if r.level == "junior" else [
                (n_prim * tp + n_jun * tj) / n, tj]
            verdicts = {value < t for t in variants}
            assert len(verdicts) == 1, (r.school_id, key)
            if verdicts.pop():
                found.add((r.school_id, key))
                assert value >= 0.85 * min(variants) or r.school_id == "J04", (r.school_id, key)
            else:
                assert value >= 1.15 * max(variants), (r.school_id, key, value)
        need = math.ceil(classes / 12)
        for key in ("music_rooms", "art_rooms"):
            have = getattr(r, key)
            if have < need:
                found.add((r.school_id, key))
            else:
                assert have >= 1.15 * need, (r.school_id, key)
    assert found == EXPECTED_SHORTFALLS


# --- barriers, crossings, roads -----------------------------------------------------------------


def test_town_barriers_split_the_town_and_every_side_has_primary_schools(d):
    u, s, b = d["units"], d["schools"], d["barriers"]
    assert set(b.kind) >= {"railway", "canal", "trunk_road"}
    assert {"包兰铁路", "唐徕渠", "惠农渠"} <= set(b.name)
    town = _utm(u[u.township == "城关镇"]).reset_index(drop=True)
    bm = _utm(b)
    cut = bm.union_all()
    g = nx.Graph()
    g.add_nodes_from(range(len(town)))
    tree = shapely.STRtree(town.geometry.values)
    n_cut = 0
    for i, geom in enumerate(town.geometry):
        for j in tree.query(geom):
            if j <= i:
                continue
            edge = geom.intersection(town.geometry[j])
            if edge.length > 50:
                if edge.buffer(0.5).intersection(cut).length > 0.9 * edge.length:
                    n_cut += 1
                else:
                    g.add_edge(i, j)
    assert n_cut >= 3 * 10  # three barriers along the full height of the grid
    sides = list(nx.connected_components(g))
    assert len(sides) >= 3
    sm = _utm(s[(s.level == "primary") & s.open_year.isna()])
    for side in sides:
        area = town.geometry[sorted(side)].union_all()
        assert sm.within(area.buffer(1)).any(), "a side of a barrier without a primary school"
    # there are zones that never cross a barrier: every current primary zone is within one side
    side_of = {town.unit_id[i]: k for k, side in enumerate(sides) for i in side}
    for sid, grp in town.groupby("primary_school"):
        assert len({side_of[x] for x in grp.unit_id}) == 1, sid


def test_streets_cross_barriers_only_at_named_crossings(d):
    r, b, c = _utm(d["roads"]), _utm(d["barriers"]), _utm(d["crossings"])
    assert "street" in set(r.kind) and "county_road" in set(r.kind)
    cross_pts = c.geometry.union_all()
    n_inter = 0
    for line in r.geometry:
        for bl in b.geometry:
            inter = line.intersection(bl)
            if inter.is_empty:
                continue
            pts = [p for p in getattr(inter, "geoms", [inter])]
            for p in pts:
                assert p.geom_type == "Point"
                assert p.distance(cross_pts) < 2.0, p
                n_inter += 1
    assert n_inter >= len(c)  # each crossing is used by a road
    assert c.name.is_unique
    town_c = d["crossings"][d["crossings"].barrier.isin(["包兰铁路", "唐徕渠", "惠农渠"])]
    assert {"bridge", "underpass"} <= set(town_c.kind)


def test_road_network_is_one_connected_graph(d):
    g = nx.Graph()
    for line in d["roads"].geometry:
        coords = list(line.coords)
        g.add_edge(tuple(np.round(coords[0], 6)), tuple(np.round(coords[-1], 6)))
    assert nx.number_connected_components(g) == 1
    assert g.number_of_edges() == len(d["roads"])


# --- plan, roster, planted violations -------------------------------------------------------------


def _recomputed_violations(d) -> set[tuple]:
    """Every violation of the roster, computed here without the generator."""
    s = d["schools"].set_index("school_id")
    u = d["units"].set_index("unit_id")
    ro = d["roster"]
    plan = d["plan"]
    out = set()
    bad_school = ~ro.school_id.isin(s.index)
    for r in ro[bad_school].itertuples():
        out.add(("unknown_school_id", r.school_id, r.grade, r.class_id, r.student_id))
    for r in ro[~ro.unit_id.isin(u.index)].itertuples():
        out.add(("unknown_unit_id", r.school_id, r.grade, r.class_id, r.student_id))
    dup = ro[ro.student_id.duplicated(keep="first")]
    for r in dup.itertuples():
        out.add(("duplicate_student_id", r.school_id, r.grade, r.class_id, r.student_id))
    known = ro[~bad_school]
    not_taught = [g not in TAUGHT[s.level[sid]] for sid, g in zip(known.school_id, known.grade)]
    for r in known[not_taught].itertuples():
        out.add(("grade_not_taught", r.school_id, r.grade, r.class_id, r.student_id))
    for r in ro[ro.class_id == ""].itertuples():
        out.add(("missing_class_id", r.school_id, r.grade, r.class_id, r.student_id))
    ok = known[(known.class_id != "") & ~pd.Series(not_taught, index=known.index)]
    for (sid, g, cid), grp in ok.groupby(["school_id", "grade", "class_id"]):
        n = len(grp)
        if (grp.entry == "new").all():
            if n > LIMIT[g]:
                out.add(("new_class_over_limit", sid, g, cid, ""))
        elif n >= 66:
            out.add(("huge_class", sid, g, cid, ""))
        elif n >= 56:
            out.add(("large_class", sid, g, cid, ""))
        else:
            assert n <= LIMIT[g], ("a continuing class over the limit that is not 大班额", cid, n)
    new = ok[(ok.entry == "new") & ok.unit_id.isin(u.index)]
    for r in new.itertuples():
        zone = u.at[r.unit_id, "primary_school" if r.grade <= 6 else "junior_school"]
        if zone != r.school_id:
            out.add(("out_of_zone", r.school_id, r.grade, r.class_id, r.student_id))
    size = ok.groupby("school_id").size()
    for r in ok[ok.entry == "transfer_in"].itertuples():
        limit = 2500 if s.level[r.school_id] == "nine_year" else 2000
        if size[r.school_id] > limit:
            out.add(("transfer_into_over_limit", r.school_id, r.grade, r.class_id, r.student_id))
    actual = ok[ok.entry == "new"].groupby(["school_id", "grade"]).agg(
        students=("student_id", "size"), classes=("class_id", "nunique"))
    p = plan.set_index(["school_id", "grade"])
    for key, a in actual.iterrows():
        assert key in p.index, f"intake without a plan row: {key}"
        if a.classes > p.at[key, "planned_classes"]:
            out.add(("over_plan_classes", key[0], key[1], "", ""))
        if a.students > p.at[key, "planned_students"]:
            out.add(("over_plan_students", key[0], key[1], "", ""))
    return out


def test_planted_violations_are_all_and_only_the_violations(d):
    planted = {(r.rule, r.school_id, r.grade, r.class_id, r.student_id) for r in d["planted"].itertuples()}
    assert len(planted) == len(d["planted"])
    assert _recomputed_violations(d) == planted


def test_planted_violation_counts_match_the_brief(d):
    by_rule = d["planted"].groupby("rule").size().to_dict()
    assert by_rule["new_class_over_limit"] == 2
    assert by_rule["huge_class"] == 1 and by_rule["large_class"] >= 3
    assert 10 <= by_rule["out_of_zone"] <= 16
    assert d["planted"][d["planted"].rule == "out_of_zone"].school_id.nunique() == 2
    assert by_rule["transfer_into_over_limit"] == 3
    for rule in ("unknown_school_id", "unknown_unit_id", "duplicate_student_id", "grade_not_taught",
                 "missing_class_id", "over_plan_classes", "over_plan_students"):
        assert by_rule[rule] == 1, rule
    big = d["planted"][d["planted"].rule.isin(["large_class", "huge_class"])]
    assert set(big.school_id) == {"P08", "J04"}
    assert d["planted"].rule_zh.ne("").all() and d["planted"].detail.ne("").all()


def test_planted_rows_refer_to_real_roster_rows(d):
    ro = d["roster"]
    for r in d["planted"].itertuples():
        if r.student_id:
            hit = ro[(ro.student_id == r.student_id) & (ro.school_id == r.school_id)
                     & (ro.grade == r.grade) & (ro.class_id == r.class_id)]
            assert len(hit) == 1, r
        elif r.class_id:
            hit = ro[(ro.school_id == r.school_id) & (ro.grade == r.grade) & (ro.class_id == r.class_id)]
            assert len(hit) > 0, r
        else:  # plan rows
            assert ((d["plan"].school_id == r.school_id) & (d["plan"].grade == r.grade)).sum() == 1


def test_roster_shape(d):
    ro, s, u = d["roster"], d["schools"], d["units"]
    assert set(ro.entry) == {"new", "continuing", "transfer_in"}
    assert ro.student_id.str.match(r"^X2023\d{6}$").all()
    ok = ro[ro.school_id.isin(s.school_id) & (ro.class_id != "")]
    assert ok.class_id.str.match(r"^[PJN]\d\d-20\d\d-\d\d$").all()
    assert (ok.class_id.str[:3] == ok.school_id).all()
    new = ro[ro.entry == "new"]
    assert set(new.grade) == {1, 7} and (new.entry_date == "2023-09-01").all()
    # continuing pupils: the 2022 cohorts one grade up at the same school (minus planted rows)
    si = s.set_index("school_id")
    cont = ro[ro.entry == "continuing"].groupby(["school_id", "grade"]).size()
    for (sid, g), n in cont.items():
        if sid in si.index and g in TAUGHT[si.level[sid]]:
            assert abs(n - si.at[sid, f"enrolled_g{g - 1}"]) <= 1, (sid, g)
    # boundaries that are not violations: a new class of exactly 45 and one of exactly 50
    sizes = new.groupby(["school_id", "grade", "class_id"]).size()
    assert any(n == 45 for (sid, g, c), n in sizes.items() if g == 1)
    assert any(n == 50 for (sid, g, c), n in sizes.items() if g == 7)
    # 九小 has no zone under the current zones, so no pupils in the 2023 roster and no plan row
    assert "P09" not in set(ro.school_id) and "P09" not in set(d["plan"].school_id)
    assert (d["plan"].year == 2023).all() and set(d["plan"].grade) == {1, 7}
