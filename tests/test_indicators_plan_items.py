"""SPEC §5.4 report items flow from a data folder's school table to `zoning indicators`."""
import shutil

import geopandas as gpd
import pandas as pd
from click.testing import CliRunner

from cli import main
from geodata.sample import sample_dir


def test_training_and_rotation_items_are_reported_from_chinese_headers(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_dir(), data)
    s = gpd.read_file(data / "schools.geojson")
    s["公用经费预算"] = 1_000_000.0
    s["教师培训经费"] = [30000.0 if i == 0 else 60000.0 for i in range(len(s))]  # the first is short by 20,000
    s["符合交流条件教师数"] = 40
    s["交流轮岗教师数"] = 5
    s["交流轮岗骨干教师数"] = 1
    s.to_file(data / "schools.geojson", driver="GeoJSON")
    res = CliRunner().invoke(main, ["indicators", str(data), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "out" / "indicators.html").read_text(encoding="utf-8")
    assert "教师培训经费占公用经费比例" in html and "培训经费还差 20,000 元" in html
    assert html.count("培训经费还差") == 1
    assert "交流" in html
