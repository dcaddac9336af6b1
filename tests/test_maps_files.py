"""Maps without a browser: palette, proposal reading, zone table, what the pages contain."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner

from zoning.errors import DataError
from maps import page
from maps.compare import differences, write_comparison_map
from maps.palette import PALETTE, color_for, school_colors
from maps.parents import parents_html, publish, zone_table
from maps.planner import write_planner_map
from maps.proposal import load_proposal

from _maps_fixtures import (JUNIOR_STUDENTS, PRIMARY_STUDENTS, SMALL, SMALL_B, XSS, write_proposal,
                            xss_copy)


@pytest.fixture()
def small(tmp_path) -> Path:
    """A private copy of proposal_small (tests must not write into tests/data)."""
    dst = tmp_path / "proposal_small"
    shutil.copytree(SMALL, dst)
    return dst


def strip_vendored(html: str) -> str:
    """The page without the inlined Leaflet JS/CSS (what our code generated)."""
    html = re.sub(r"<script>/\* leaflet/leaflet\.js.*?</script>", "", html, flags=re.S)
    return re.sub(r"<style>/\* leaflet/leaflet\.css.*?</style>", "", html, flags=re.S)


# ---- palette -------------------------------------------------------------------------------

def test_color_is_stable_and_from_palette():
    assert color_for("640221001") == color_for("640221001") == color_for(" 640221001")
    assert color_for(640221001) == color_for("640221001")
    assert re.fullmatch(r"#[0-9a-f]{6}", color_for("x"))
    colours = {color_for(f"6402210{i:02d}") for i in range(60)}
    assert colours <= set(PALETTE)
    assert len(colours) >= 20  # the hash spreads ids over the palette (about 26 of 30 expected)


def test_fixture_is_current():
    """tests/data/proposal_small* are what _maps_fixtures writes (regenerate them if this fails)."""
    for src, moved in ((SMALL, True), (SMALL_B, False)):
        a = pd.read_csv(src / "assignments.csv", dtype=str)
        assert len(a) == 24 and set(a["level"]) == {"primary", "junior"}
        moved_units = a[(a.level == "primary") & (a.school_id != a.previous_school_id)]["unit_id"].tolist()
        assert moved_units == (["U03", "U07"] if moved else [])


def test_school_colors_distinct_and_stable():
    ids = [f"6402210{i:02d}" for i in range(len(PALETTE))]
    colours = school_colors(ids)
    assert len(set(colours.values())) == len(PALETTE)  # no two schools share while the palette lasts
    assert school_colors(reversed(ids)) == colours  # depends on the set, not the order
    smallest = min(ids)
    assert colours[smallest] == color_for(smallest)  # the first id always keeps its hashed colour
    many = school_colors([f"S{i}" for i in range(2 * len(PALETTE))])
    assert set(many.values()) == set(PALETTE)


# ---- reading -------------------------------------------------------------------------------

def test_missing_files_and_columns_reported_together(small):
    (small / "zones.geojson").unlink()
    a = pd.read_csv(small / "assignments.csv", dtype=str).drop(columns=["previous_school_id"])
    a.to_csv(small / "assignments.csv", index=False)
    with pytest.raises(DataError) as err:
        load_proposal(small)
    probs = err.value.problems
    assert {(p.file, p.column) for p in probs} == {("zones.geojson", None),
                                                   ("assignments.csv", "previous_school_id")}
    assert all(p.fix for p in probs)


def test_bad_level_and_duplicate_rows(small):
    a = pd.read_csv(small / "assignments.csv", dtype=str, keep_default_na=False)
    a.loc[0, "level"] = "高中"
    a = pd.concat([a, a.iloc[[3]]])
    a.to_csv(small / "assignments.csv", index=False)
    with pytest.raises(DataError) as err:
        load_proposal(small)
    text = [p.problem for p in err.value.problems]
    assert any("高中" in t for t in text) and any("不止一次" in t for t in text)


def test_optional_files_may_be_absent(small, tmp_path):
    for name in ("barriers.geojson", "roads.geojson", "routes.geojson", "ledger.csv", "metrics.json",
                 "run.json", "zone_table.csv", "zone_table.xlsx"):
        (small / name).unlink()
    p = load_proposal(small)
    assert p.barriers is None and p.ledger is None and not p.is_sample
    out = write_planner_map(small, tiles="none")
    html = out.read_text(encoding="utf-8")
    assert out == small / "map.html"
    assert '"barriers":null' in html and '"routes":null' in html
    assert '"is_sample":false' in html
    written = publish(small, out_dir=tmp_path / "pub", tiles="none")
    assert "parents.html" in written


# ---- zone table ----------------------------------------------------------------------------

def test_zone_table_lists_every_unit_once_per_level():
    p = load_proposal(SMALL)
    table = zone_table(p)
    a = pd.read_csv(SMALL / "assignments.csv", dtype=str)
    for level_zh, level in (("小学", "primary"), ("初中", "junior")):
        rows = table[table["学段"] == level_zh]
        listed = [(r["学校代码"], n) for _, r in rows.iterrows() for n in r["片区范围（小区/村）"].split("、")]
        names = [n for _, n in listed]
        assert len(names) == len(set(names)) == 12
        expected = {(r.school_id, r.unit_name) for r in a[a.level == level].itertuples()}
        assert set(listed) == expected


def test_zone_table_disambiguates_duplicate_names(small):
    write_proposal(small, names={"U02": "鼓楼小区"})  # U01 and U02 share a name
    table = zone_table(load_proposal(small))
    cell = table.loc[table["学校代码"] == "640221001", "片区范围（小区/村）"].iloc[0]
    assert "鼓楼小区（城关镇）〔U01〕" in cell and "鼓楼小区（城关镇）〔U02〕" in cell


# ---- parents' page: nothing but names and shapes -------------------------------------------

def test_parents_page_has_no_counts():
    html = parents_html(load_proposal(SMALL), tiles="none")
    ours = strip_vendored(html)
    for key in ("students", "enrolled", "age_", "classes", "largest_class", "utilisation", "capacity",
                "classrooms", "household", "n_units", "distance_m"):
        assert key not in ours, key
    for n in set(PRIMARY_STUDENTS) | set(JUNIOR_STUDENTS):
        assert not re.search(rf"(?<![\d.#\w-]){n}(?![\d\w])", ours), n


def test_planner_page_carries_counts_the_scan_would_find(tmp_path):
    ours = strip_vendored(write_planner_map(SMALL, out=tmp_path / "m.html", tiles="none").read_text("utf-8"))
    assert '"students":137' in ours and "largest_class" in ours


def test_names_are_escaped_in_the_file(tmp_path):
    src = xss_copy(tmp_path / "xss")
    for html in (parents_html(load_proposal(src), tiles="none"),
                 write_planner_map(src, tiles="none").read_text("utf-8")):
        assert XSS not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html or "\\u003cimg src=x" in html


# ---- assets, tiles, determinism ------------------------------------------------------------

def test_no_external_assets_and_deterministic(tmp_path):
    a = write_planner_map(SMALL, out=tmp_path / "a.html", tiles="osm").read_text("utf-8")
    b = write_planner_map(SMALL, out=tmp_path / "b.html", tiles="osm").read_text("utf-8")
    assert a == b
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", a)
    assert "cdn.jsdelivr" not in a and "code.jquery" not in a and "cdnjs" not in a
    assert "tile.openstreetmap.org" in a


def test_asset_base_links_instead_of_inlining(tmp_path):
    html = write_planner_map(SMALL, out=tmp_path / "a.html", tiles="none",
                             asset_base="https://gis.example.gov.cn/static/").read_text("utf-8")
    assert '<script src="https://gis.example.gov.cn/static/leaflet/leaflet.js"></script>' in html
    assert '<link rel="stylesheet" href="https://gis.example.gov.cn/static/leaflet/leaflet.css"/>' in html
    assert "Leaflet 1.9.4" not in html
    assert (page.asset_path("leaflet/leaflet.js")).exists()
    assert (page.asset_path("leaflet/LICENSE")).exists()


def test_tianditu_needs_key_and_uses_it(tmp_path):
    with pytest.raises(page.MapOptionError, match="天地图"):
        write_planner_map(SMALL, out=tmp_path / "t.html", tiles="tianditu")
    assert not (tmp_path / "t.html").exists()
    html = write_planner_map(SMALL, out=tmp_path / "t.html", tiles="tianditu",
                             tianditu_key="abc123").read_text("utf-8")
    assert "tianditu.gov.cn/vec_w/wmts" in html and "tk=abc123" in html and "cva_w" in html


def test_gcj02_tiles_shift_the_data(tmp_path):
    from geodata.coords import wgs84_to_gcj02

    def first_zone_xy(html):
        m = re.search(r'var DATA = (\{.*?\});\n', html, flags=re.S)
        data = json.loads(m.group(1))
        ring = data["zones"]["primary"]["features"][0]["geometry"]["coordinates"][0]
        school = data["schools"][0]
        unit = data["units"][0]["point"]
        return ring[0] + [school["lon"], school["lat"], unit[1], unit[0]]

    plain = first_zone_xy(parents_html(load_proposal(SMALL), tiles="none"))
    shifted = first_zone_xy(parents_html(load_proposal(SMALL), tiles="amap"))
    for k in (0, 2, 4):  # zone vertex, school, unit search point
        lon, lat = wgs84_to_gcj02(plain[k], plain[k + 1])
        assert shifted[k:k + 2] == pytest.approx([float(lon), float(lat)], abs=2e-5)
        assert abs(shifted[k] - plain[k]) > 1e-3  # hundreds of metres, not rounding


# ---- publish, compare, CLI -----------------------------------------------------------------

def test_publish_writes_everything(small):
    written = publish(small, tiles="none")
    out = small / "publish"
    expected = {"parents.html", "招生片区划分表.csv", "招生片区划分表.xlsx", "片区调整情况.csv", "片区调整情况.xlsx",
                "招生范围公告.pdf", "招生范围公告.docx", "小学招生片区总图.png", "小学招生片区总图.pdf",
                "初中招生片区总图.png", "初中招生片区总图.pdf", "城关一小_小学片区图.png", "城关八小_小学片区图.png",
                "平罗四中_初中片区图.png"}
    assert set(written) == expected
    assert {f.name for f in out.iterdir()} == expected | {".pingluo-zoning-output"}  # the tool's marker, no leftovers
    assert not [f for f in small.iterdir() if f.name.startswith(".publish")]
    for f in written.values():
        assert f.stat().st_size > 300, f
    assert (out / "小学招生片区总图.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("小学招生片区总图.pdf", "招生范围公告.pdf"):
        pdf = (out / name).read_bytes()
        assert pdf.startswith(b"%PDF") and b"NotoSansCJK" in pdf  # the Chinese font is embedded
    xl = pd.read_excel(out / "招生片区划分表.xlsx", sheet_name=None, dtype=str, header=1)
    assert list(xl) == ["小学", "初中"]
    csv = pd.read_csv(out / "招生片区划分表.csv", dtype=str, encoding="utf-8-sig")
    assert list(xl["小学"].columns) == ["学段", "学校代码", "学校名称", "地址", "片区范围（小区/村）"]
    pd.testing.assert_frame_equal(pd.concat(xl.values(), ignore_index=True), csv)


def test_publish_failure_leaves_nothing(small, monkeypatch):
    from maps import images

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(images, "write_images", boom)
    with pytest.raises(RuntimeError):
        publish(small, tiles="none")
    assert not (small / "publish").exists()
    assert not [f for f in small.iterdir() if f.name.startswith(".publish")]


def test_differences():
    d = differences(load_proposal(SMALL), load_proposal(SMALL_B))
    assert d.to_dict("records") == [
        {"unit_id": "U03", "level": "primary", "school_a": "640221008", "school_b": "640221001"},
        {"unit_id": "U07", "level": "primary", "school_a": "640221008", "school_b": "640221001"}]


def test_cli_commands(tmp_path):
    from cli import main

    r = CliRunner()
    res = r.invoke(main, ["map", str(SMALL), "--out", str(tmp_path / "m.html"), "--tiles", "none"])
    assert res.exit_code == 0, res.output + str(res.exception)
    assert (tmp_path / "m.html").exists()
    res = r.invoke(main, ["compare-map", str(SMALL), str(SMALL_B), "--out", str(tmp_path / "c.html"),
                          "--tiles", "none"])
    assert res.exit_code == 0 and (tmp_path / "c.html").exists()
    res = r.invoke(main, ["map", str(SMALL), "--out", str(tmp_path / "t.html"), "--tiles", "tianditu"],
                   env={"TIANDITU_KEY": ""})
    assert res.exit_code == 2 and "--tianditu-key" in res.output
    res = r.invoke(main, ["publish", str(tmp_path), "--tiles", "none"])  # not a proposal folder
    assert res.exit_code == 2
    assert "缺少 assignments.csv" in res.stderr and "Traceback" not in res.stderr


# ---- data is data, NaN, determinism (issue 15) ---------------------------------------------

def _page_data(html: str) -> dict:
    """The page's embedded JSON, parsed strictly (NaN or Infinity in it is an error)."""
    m = re.search(r'var DATA = (\{.*?\});\n', html, flags=re.S)

    def refuse(name):
        raise ValueError(f"invalid JSON constant {name}")

    return json.loads(m.group(1), parse_constant=refuse)


def test_blank_current_school_and_blank_numbers_become_null(small, tmp_path):
    a = pd.read_csv(small / "assignments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    a.loc[(a["unit_id"] == "U01") & (a["level"] == "primary"), "previous_school_id"] = ""
    a.to_csv(small / "assignments.csv", index=False, encoding="utf-8-sig")
    fc = json.loads((small / "schools.geojson").read_text("utf-8"))
    fc["features"][0]["properties"].update(capacity=None, classrooms=None, address=None)
    (small / "schools.geojson").write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    fc = json.loads((small / "units.geojson").read_text("utf-8"))
    fc["features"][0]["properties"]["township"] = None
    (small / "units.geojson").write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    planner = _page_data(write_planner_map(small, out=tmp_path / "m.html", tiles="none").read_text("utf-8"))
    u01 = next(f["properties"] for f in planner["units"]["features"] if f["properties"]["unit_id"] == "U01")
    assert u01["primary"]["previous"] is None and u01["primary"]["school"] == "640221001"
    school = next(s for s in planner["schools"] if s["school_id"] == "640221001")
    assert school["capacity"] is None and school["classrooms"] is None and school["address"] == ""
    parents = _page_data(parents_html(load_proposal(small), tiles="none"))
    assert next(u for u in parents["units"] if u["unit_id"] == "U01")["township"] == ""


def test_safe_json_cannot_end_the_script_and_has_no_nan():
    import numpy as np

    s = page.safe_json({"a": [float("nan"), np.float64("inf"), np.int64(3), pd.NA, "</script><!--"]})
    assert "</" not in s and "<!--" not in s and "NaN" not in s and "Infinity" not in s
    assert json.loads(s) == {"a": [None, None, 3, None, "</script><!--"]}


def test_template_syntax_in_data_is_not_evaluated(tmp_path):
    src = write_proposal(tmp_path / "p", names={"U01": "{{7*7}}", "640221001": "{{ lipsum.__globals__.os.getcwd() }}"})
    for html in (parents_html(load_proposal(src), tiles="none"),
                 write_planner_map(src, tiles="none").read_text("utf-8")):
        assert "{{7*7}}" in html and "{{ lipsum.__globals__.os.getcwd() }}" in html
        assert str(Path.cwd()) not in html


def test_a_folium_element_that_compiles_data_is_refused():
    import folium

    m = page.new_map((106.5, 38.9, 106.6, 39.0), tiles="none")
    folium.Marker([38.95, 106.55], tooltip="{{7*7}}").add_to(m)
    with pytest.raises(RuntimeError, match="SafeMacro"):
        page.render(m)


def test_same_proposal_same_bytes_whatever_the_folder_and_the_date(tmp_path):
    from cli import main

    first = shutil.copytree(SMALL, tmp_path / "方案一")
    second = shutil.copytree(SMALL, tmp_path / "another name")
    for folder, created in ((first, "2026-11-28"), (second, "2031-05-06")):  # as zoning plan writes run.json
        run = json.loads((folder / "run.json").read_text("utf-8"))
        run.update(name=folder.name, created=created)
        (folder / "run.json").write_text(json.dumps(run, ensure_ascii=False), encoding="utf-8")
    outs = []
    for folder, out in ((first, tmp_path / "out1"), (second, tmp_path / "elsewhere" / "x")):
        r = CliRunner()
        for args in (["map", str(folder), "--out", str(out / "map.html"), "--tiles", "none"],
                     ["publish", str(folder), "--out", str(out / "publish"), "--tiles", "none"]):
            res = r.invoke(main, args)
            assert res.exit_code == 0, res.output + repr(res.exception)
        outs.append(out)
    files = sorted(f.relative_to(outs[0]) for f in outs[0].rglob("*") if f.is_file())
    assert {"map.html", "publish/parents.html", "publish/招生片区划分表.xlsx", "publish/招生片区划分表.csv",
            "publish/招生范围公告.pdf", "publish/招生范围公告.docx", "publish/片区调整情况.xlsx"} <= {f.as_posix() for f in files}
    for f in files:
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes(), f
    html = (outs[0] / "map.html").read_text("utf-8")
    for leak in ("方案一", "another name", "2026-11-28", "2031", str(tmp_path)):
        assert leak not in html, leak


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
@settings(max_examples=300, deadline=None)
def test_picture_names_are_safe_and_distinct(a, b):
    from maps.images import _safe

    assert re.fullmatch(r"[0-9A-Za-z_.-]+", _safe(a)) and not _safe(a).startswith(".")
    if a != b:
        assert _safe(a) != _safe(b)
