"""``zoning publish`` without a browser (issue 19): settings, change list, notice, names, privacy,
the atomic folder, determinism and the CLI."""
from __future__ import annotations

import json
import re
import shutil
import zipfile

import docx
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from maps.parents import PUBLIC_PALETTE, public_colors, zone_neighbours
from maps.proposal import load_proposal
from maps.publication import change_list, parse_address, publish_settings

from _maps_fixtures import JUNIOR_STUDENTS, PRIMARY_STUDENTS, SETTINGS, SMALL, publish_copy

INTERNAL = ("求解状态", "方案编号", "objective", "目标函数", '"status"', "optimal", "solver")


def _cli(*args):
    from cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture()
def prop(tmp_path):
    return publish_copy(tmp_path / "proposal")


@pytest.fixture()
def out(prop, tmp_path):
    res = _cli("publish", prop, "--out", tmp_path / "pub")
    assert res.exit_code == 0, res.output + repr(res.exception)
    return tmp_path / "pub"


def _no_geometry(obj):
    """The page data without shapes, positions and icons (numbers there are coordinates)."""
    if isinstance(obj, dict):
        return {k: _no_geometry(v) for k, v in obj.items()
                if k not in ("geometry", "shape", "bbox", "point", "views", "icons", "lat", "lon")}
    if isinstance(obj, list):
        return [_no_geometry(v) for v in obj]
    return obj


def _texts(folder) -> dict[str, str]:
    """Every published file as text (XLSX and DOCX cells/paragraphs, PDF bytes as latin-1)."""
    out = {}
    for f in sorted(folder.rglob("*")):
        if f.suffix == ".html":
            html = f.read_text("utf-8")
            body = html[html.index('<div id="zoning-head">'):html.index("</section>")]
            data = json.loads(re.search(r"var DATA = (\{.*?\});\n", html, flags=re.S).group(1))
            out[f.name] = body + json.dumps(_no_geometry(data), ensure_ascii=False)
        elif f.suffix == ".csv":
            out[f.name] = f.read_text("utf-8-sig")
        elif f.suffix == ".xlsx":
            wb = load_workbook(f)
            out[f.name] = "\n".join(str(c.value) for ws in wb.worksheets for r in ws.iter_rows() for c in r
                                    if c.value is not None)
        elif f.suffix == ".docx":
            out[f.name] = "\n".join(p.text for p in docx.Document(str(f)).paragraphs)
    return out


def test_default_publish_is_offline_and_shows_the_settings(out):
    html = (out / "parents.html").read_text("utf-8")
    ours = re.sub(r"<script>/\* leaflet/leaflet\.js.*?</script>", "", html, flags=re.S)  # Leaflet's own text
    ours = re.sub(r"<style>/\* leaflet/leaflet\.css.*?</style>", "", ours, flags=re.S)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", ours)  # nothing from outside
    assert "https://" not in ours and "http://" not in ours
    assert "tile.openstreetmap" not in html and "tianditu.gov.cn" not in html and "autonavi" not in html
    for key in ("county", "school_year", "office", "phone", "notice"):
        assert SETTINGS[key] in html, key
    assert "<title>平罗县2024年秋季义务教育学校招生片区</title>" in html
    assert (out / ".pingluo-zoning-output").is_file()  # written by geodata.outputs.proposal_folder


def test_no_internal_wording_and_no_counts_anywhere(out):
    """Privacy (SPEC §4): no per-unit or per-school head count, no household, no internal wording."""
    counts = {str(n) for n in PRIMARY_STUDENTS + JUNIOR_STUDENTS}
    for name, text in _texts(out).items():
        for word in INTERNAL:
            assert word not in text, (name, word)
        numbers = set(re.findall(r"(?<![\d.])\d{2,3}(?![\d.])", text))
        assert not numbers & counts, (name, numbers & counts)
        for word in ("students", "household", "utilisation", "学生数", "人数", "在校生"):
            assert word not in text, (name, word)
    data = re.search(r"var DATA = (\{.*?\});\n", (out / "parents.html").read_text("utf-8"), flags=re.S).group(1)
    assert "鼓楼小区" in data and "城关八小" in data  # the check above looked at the real data
    assert '"students"' not in data and '"classes"' not in data and '"capacity"' not in data


def test_change_list_lists_every_changed_unit(out, prop):
    a = pd.read_csv(prop / "assignments.csv", dtype=str, keep_default_na=False)
    moved = a[a.school_id != a.previous_school_id]
    csv = pd.read_csv(out / "片区调整情况.csv", dtype=str, encoding="utf-8-sig")
    assert sorted(zip(csv.unit_id, csv.previous_school_id, csv.school_id, csv.first_intake_year)) == sorted(
        zip(moved.unit_id, moved.previous_school_id, moved.school_id, moved.change_year))
    assert set(csv.first_grade) == {"一年级"} and csv.reason.str.len().min() > 3
    wb = load_workbook(out / "片区调整情况.xlsx")
    ws = wb.active
    assert ws["A1"].value == "平罗县2024年秋季义务教育学校招生片区调整情况（征求意见稿）"
    headers = [c.value for c in ws[2]]
    assert headers[:5] == ["小区/村", "乡镇/街道", "学段", "原对口学校", "调整后对口学校"] and "起始招生年份" in headers
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert sorted(r[0] for r in rows) == ["平罗花园", "文化苑"]
    assert all(r[3] == "城关一小" and r[4] == "城关八小" and r[5] == "2023年秋季" for r in rows)


def test_second_change_is_listed_from_its_own_year(tmp_path):
    src = publish_copy(tmp_path / "p")
    a = pd.read_csv(src / "assignments.csv", dtype=str, keep_default_na=False)
    later = a.copy()
    later["change_year"] = "2025"
    later.loc[(later.unit_id == "U07") & (later.level == "primary"), "school_id"] = "640221001"
    later.loc[later.school_id == "640221001", "school_name"] = "城关一小"
    pd.concat([a.assign(change_year="2023"), later]).to_csv(src / "assignments.csv", index=False)
    ch = change_list(load_proposal(src))
    u07 = ch[ch.unit_id == "U07"]
    assert list(zip(u07.previous_school, u07.school, u07.first_intake_year)) == [
        ("城关一小", "城关八小", 2023), ("城关八小", "城关一小", 2025)]


def test_tables_are_titled_with_county_year_and_level(out):
    wb = load_workbook(out / "招生片区划分表.xlsx")
    assert wb.sheetnames == ["小学", "初中"]
    assert wb["小学"]["A1"].value == "平罗县2024年秋季小学招生片区划分表"
    assert wb["初中"]["A1"].value == "平罗县2024年秋季初中招生片区划分表"
    assert [c.value for c in wb["小学"][2]] == ["学段", "学校代码", "学校名称", "地址", "片区范围（小区/村）"]


def test_notice_pdf_and_docx(out):
    pdf = (out / "招生范围公告.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"NotoSansCJK" in pdf and b"/FontFile" in pdf  # embedded font
    assert b"/MediaBox [ 0 0 595" in pdf  # A4 (595 x 842 pt)
    text = _texts(out)["招生范围公告.docx"]
    lines = text.splitlines()
    assert lines[0] == "平罗县2024年秋季义务教育学校招生范围"
    assert "一、小学" in lines and "二、初中" in lines
    assert any(line.startswith("（一）城关一小　地址：城关镇鼓楼南街1号") for line in lines)
    assert any("城关镇：" in line and "鼓楼小区（鼓楼南街1-99号（单号）、北大街2-40号（双号））" in line for line in lines)
    assert "咨询电话：0952-6012345" in lines and lines[-2:] == ["平罗县教育体育局", "2024年秋季"]


def test_pictures_are_named_by_school(out):
    names = {f.name for f in out.glob("*.png")}
    assert {"城关一小_小学片区图.png", "城关八小_小学片区图.png", "平罗四中_初中片区图.png",
            "小学招生片区总图.png", "初中招生片区总图.png"} == names


def test_same_input_same_bytes(prop, tmp_path):
    for o in ("a", "b"):
        assert _cli("publish", prop, "--out", tmp_path / o).exit_code == 0
    files = sorted(f.name for f in (tmp_path / "a").iterdir())
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    with zipfile.ZipFile(tmp_path / "a" / "招生范围公告.docx") as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}


def test_settings_options_win_over_scenario_over_run_json(prop, tmp_path):
    p = load_proposal(prop)
    assert publish_settings(p).county == "平罗县"
    sc = tmp_path / "scenario.toml"
    sc.write_text('[publish]\ncounty = "惠农区"\nphone = ""\n', encoding="utf-8")
    info = publish_settings(p, sc, school_year="2025年秋季")
    assert (info.county, info.school_year, info.phone) == ("惠农区", "2025年秋季", SETTINGS["phone"])
    res = _cli("publish", prop, "--out", tmp_path / "pub", "--scenario", sc, "--phone", "0952-1111111")
    assert res.exit_code == 0, res.output
    html = (tmp_path / "pub" / "parents.html").read_text("utf-8")
    assert "惠农区2024年秋季" in html and "0952-1111111" in html and SETTINGS["phone"] not in html


def test_missing_settings_are_named_and_tianditu_shows_the_review_number(tmp_path):
    bare = publish_copy(tmp_path / "bare", settings={})
    res = _cli("publish", bare, "--out", tmp_path / "pub")
    assert res.exit_code == 0 and "县（区）名称" in res.stderr and "咨询电话" in res.stderr
    res = _cli("publish", bare, "--out", tmp_path / "pub2", "--tiles", "tianditu", "--tianditu-key", "k",
               "--map-review-no", "宁S〔2024〕001号")
    assert res.exit_code == 0, res.output
    html = (tmp_path / "pub2" / "parents.html").read_text("utf-8")
    assert "审图号：宁S〔2024〕001号" in html and "tile.openstreetmap" not in html
    assert _cli("publish", bare, "--out", tmp_path / "pub3", "--tiles", "tianditu").exit_code == 2


def test_publish_refuses_a_folder_of_the_users(prop, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    res = _cli("publish", prop, "--out", mine)
    assert res.exit_code == 2 and (mine / "notes.txt").read_text("utf-8") == "mine"
    assert "Traceback" not in res.output


def test_adjacent_zones_get_clearly_different_colours():
    """A 5×5 grid of zones (every one touching up to 8): no two neighbours share a colour, and the
    palette's colours are far apart."""
    import geopandas as gpd
    from shapely.geometry import box

    rows = [{"school_id": f"S{i}{j}", "geometry": box(106.5 + i * 0.01, 38.9 + j * 0.01, 106.51 + i * 0.01, 38.91 + j * 0.01)}
            for i in range(5) for j in range(5)]
    z = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    nb = zone_neighbours(z)
    assert len(nb["S22"]) == 8  # corners touch too
    colours = public_colors(z)
    for a, others in nb.items():
        for b in others:
            assert colours[a] != colours[b], (a, b)
    rgb = [tuple(int(c[k:k + 2], 16) for k in (1, 3, 5)) for c in PUBLIC_PALETTE]
    dist = min(sum((x - y) ** 2 for x, y in zip(p, q)) ** 0.5 for i, p in enumerate(rgb) for q in rgb[i + 1:])
    assert dist > 60, dist


@pytest.mark.parametrize("text,expected", [
    ("鼓楼南街1-99号（单号）", ("鼓楼南街", 1, 99, "odd")),
    ("北大街 2～40 号(双)", ("北大街", 2, 40, "even")),
    ("光明街23号", ("光明街", 23, 23, None)),
    ("星海路", ("星海路", None, None, None)),
])
def test_address_ranges(text, expected):
    a = parse_address(text)
    assert (a["street"], a["from"], a["to"], a["parity"]) == expected


def test_sample_notice_on_sample_material(out):
    """The fixture is marked as sample data: every public file says so."""
    texts = _texts(out)
    for name in ("parents.html", "招生范围公告.docx"):
        assert "示例数据，仅供演示，非官方数据" in texts[name], name
