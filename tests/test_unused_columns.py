"""Every column is read, known to be ignored, or named as unused with the nearest known header."""
import pandas as pd

from geodata.readers import read_layer


def test_unused_columns_are_named_with_the_nearest_known_header(tmp_path):
    path = tmp_path / "schools.csv"
    pd.DataFrame({"学校代码": ["P01"], "学校名称": ["城关一小"], "学段": ["小学"], "教师数": [40], "教室数目": [30],
                  "序号": [1], "备注": ["无"], "lon": [106.5], "lat": [38.9]}).to_csv(path, index=False)
    layer, problems = read_layer(path, "schools")
    notes = [p for p in problems if p.severity == "info" and "未使用的列" in p.problem]
    assert len(notes) == 1
    text = notes[0].problem
    assert "“教师数”" in text and "“教室数目”（是否想写" in text
    assert "序号" not in text and "备注" not in text  # known-ignored office columns are not listed
    assert {"school_id", "name", "level"} <= set(layer.frame.columns)


def test_a_table_of_known_columns_has_no_note(tmp_path):
    path = tmp_path / "schools.csv"
    pd.DataFrame({"school_id": ["P01"], "name": ["城关一小"], "level": ["primary"], "classrooms": [30],
                  "lon": [106.5], "lat": [38.9]}).to_csv(path, index=False)
    _layer, problems = read_layer(path, "schools")
    assert not [p for p in problems if "未使用的列" in p.problem]
