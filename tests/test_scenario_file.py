"""The scenario file: encodings, syntax errors, every key checked in one pass, writing and overrides.

Each measured failure of issue 15 item 5 has a test here; the fuzzing is in test_scenario_fuzz.py.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from zoning.scenario import (
    Caps,
    Privacy,
    Publish,
    Scenario,
    ScenarioError,
    Warnings,
    apply_settings,
    load_scenario,
    scenario_to_toml,
    validate_scenario,
    with_overrides,
    write_scenario,
)

DATA = Path(__file__).resolve().parent / "data"
GOOD = """\
# 平罗县示例情景
base_year = 2022
target_year = 2025
horizon = 2027

[schools]
open = { P09 = 2023 }

[publish]
county = "平罗县"
office = "教育管理室"
"""


def write(tmp_path, text: str, encoding: str = "utf-8", name: str = "scenario.toml") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def problems_of(tmp_path, text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(write(tmp_path, text))
    return exc.value


def keys_of(err: ScenarioError) -> list[str]:
    return [p.key for p in err.items]


# --- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_reads_every_encoding_notepad_saves(tmp_path, encoding):
    sc = load_scenario(write(tmp_path, GOOD, encoding))
    assert sc.publish.county == "平罗县" and sc.publish.office == "教育管理室"
    assert sc.open_schools == {"P09": 2023}


def test_gbk_is_said_utf8_is_not(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="zoning.scenario"):
        load_scenario(write(tmp_path, GOOD, "utf-8"))
    assert not caplog.records
    with caplog.at_level("WARNING", logger="zoning.scenario"):
        load_scenario(write(tmp_path, GOOD, "gbk"))
    assert any("GBK" in r.getMessage() for r in caplog.records)


def test_undecodable_bytes_name_the_line(tmp_path):
    p = tmp_path / "scenario.toml"
    p.write_bytes(b"base_year = 2022\nhorizon = 2027\n# \xff\xfe\x80\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    assert exc.value.items[0].line == 3
    assert "第 3 行" in str(exc.value) and "UTF-8" in str(exc.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ScenarioError, match="找不到情景文件"):
        load_scenario(tmp_path / "nothing.toml")
    with pytest.raises(ScenarioError, match="文件夹"):
        load_scenario(tmp_path)


# --- syntax -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, line, col, hint", [
    ("base_year = 2022\nname: 1\n", 2, 5, "用英文等号 ="),
    ("base_year = 2022\n[solver]\nname = highs\n", 3, 8, "文字要加英文双引号"),
    ("[caps.primary\nmax_km = 3\n", 1, 14, "方括号要成对"),
    ("horizon ＝ 2027\n", 1, 9, "中文标点"),
])
def test_syntax_errors_give_line_column_and_hint(tmp_path, text, line, col, hint):
    err = problems_of(tmp_path, text)
    assert len(err.items) == 1 and err.items[0].line == line
    msg = err.problems[0]
    assert f"第 {line} 行（第 {col} 列）" in msg and hint in msg and "TOML" in msg


def test_duplicate_key_and_huge_values_are_messages(tmp_path):
    assert "写了两次" in str(problems_of(tmp_path, "horizon = 2027\nhorizon = 2028\n"))
    err = problems_of(tmp_path, "base_year = 2022\nhorizon = " + "9" * 5000 + "\n")
    assert err.items[0].line == 2
    err = problems_of(tmp_path, "a = 1\nb = " + "[" * 5000 + "]" * 5000 + "\n")
    assert err.items[0].line == 2


# --- the measured cases: types ------------------------------------------------------------------


@pytest.mark.parametrize("text, key, needle", [
    ("weights = 5\n", "weights", "weights 应为一个表 [weights]"),
    ("[caps]\nprimary = 3\n", "caps.primary", "应为一个表 [caps.primary]"),
    ("[schools]\nopen = 2023\n", "schools.open", "应为一个表 [schools.open]"),
    ('[survival]\n"g1-g2" = "很多"\n', "survival.g1-g2", "数字"),
    ('barrier_detour = "abc"\n', "barrier_detour", "不小于 1"),
    ('[solver]\nthreads = "many"\n', "solver.threads", "整数"),
    ("[solver]\nthreads = 2.5\n", "solver.threads", "整数"),
    ("contiguity = 1\n", "contiguity", "true/false"),
    ("[weights]\nmoved = true\n", "weights.moved", "数字"),  # a bool is not a number
    ("[locks]\nU1 = 8\n", "locks.U1", "学校代码"),
    ('[schools.close]\nP05 = "2026"\n', "schools.close.P05", "年份"),
    ("[privacy]\nid_salt = 123\n", "privacy.id_salt", "文字"),
    ('[privacy]\nshow_ids = "yes"\n', "privacy.show_ids", "true/false"),
    ("[publish]\nphone = 5550123\n", "publish.phone", "文字"),
    ('levels = "primary"\n', "levels", "非空列表"),
    ("town_townships = [1, 2]\n", "town_townships", "文字的列表"),
])
def test_wrong_types_name_key_value_and_fix(tmp_path, text, key, needle):
    err = problems_of(tmp_path, text)
    assert keys_of(err) == [key]
    assert needle in err.problems[0] and err.problems[0].startswith(key)
    assert err.source == "scenario.toml"


# --- the measured cases: ranges -----------------------------------------------------------------


@pytest.mark.parametrize("text, key", [
    ("base_year = 1800\n", "base_year"),
    ("horizon = 2101\n", "horizon"),
    ("base_year = 2022\nhorizon = 2060\ntarget_year = 2025\n", "horizon"),  # more than 30 years
    ("target_year = 2030\n", "target_year"),  # after the horizon
    ("first_intake = 2022\n", "first_intake"),
    ("first_intake = 2026\n", "first_intake"),  # after the target year
    ("second_change_year = 2023\nfirst_intake = 2023\n", "second_change_year"),
    ('[survival]\n"g1-g2" = 50\n', "survival.g1-g2"),
    ('[survival]\n"g1-g2" = 0\n', "survival.g1-g2"),
    ('[survival]\n"g9-g10" = 0.9\n', "survival.g9-g10"),
    ('[survival]\n"g1-g3" = 0.9\n', "survival.g1-g3"),
    ('[survival]\nfirst = 0.9\n', "survival.first"),
    ("[caps.primary]\nmax_km = 0\n", "caps.primary.max_km"),
    ("[caps.junior]\nmax_km = 500\n", "caps.junior.max_km"),
    ("[caps.primary]\nmax_ratio = 0.5\n", "caps.primary.max_ratio"),
    ("[caps.primary]\nfree_km = -1\n", "caps.primary.free_km"),
    ("[caps.primary]\nk_nearest = 0\n", "caps.primary.k_nearest"),
    ("[caps.primary]\nk_nearest = 51\n", "caps.primary.k_nearest"),
    ("levels = []\n", "levels"),
    ('levels = ["primary", "senior"]\n', "levels"),
    ('levels = ["primary", "primary"]\n', "levels"),
    ("[weights]\nmoved = -0.1\n", "weights.moved"),
    ("[weights]\ndistance = inf\n", "weights.distance"),
    ("[weights]\nbarrier = nan\n", "weights.barrier"),
    ('barrier_rule = "maybe"\n', "barrier_rule"),
    ("barrier_detour = 0.5\n", "barrier_detour"),
    ('[solver]\nname = "gurobi"\n', "solver.name"),
    ("[solver]\ntime_limit = 0\n", "solver.time_limit"),
    ("[solver]\ngap = 1\n", "solver.gap"),
    ("[solver]\nthreads = 0\n", "solver.threads"),
    ("[solver]\nheuristic_effort = 1.5\n", "solver.heuristic_effort"),
    ("[solver]\npolish = 1\n", "solver.polish"),
    ("[warnings]\nred = 3\n", "warnings.red"),
    ("[warnings]\nyellow = 0\n", "warnings.yellow"),
    ("[warnings]\nred = 0.8\n", "warnings.yellow"),  # yellow 0.9 must stay below red
    ("[schools]\nopen = { P09 = 1999 }\n", "schools.open.P09"),
])
def test_absurd_values_are_refused(tmp_path, text, key):
    err = problems_of(tmp_path, text)
    assert keys_of(err) == [key], err.problems


def test_edges_that_are_allowed(tmp_path):
    text = """\
base_year = 2000
target_year = 2030
horizon = 2030
first_intake = 2030
levels = ["junior"]
town_townships = []
barrier_detour = 1
[caps.primary]
max_km = 200
max_ratio = 1
free_km = 0
k_nearest = 50
[survival]
"g8-g9" = 1.5
1 = 0.97
[solver]
gap = 0
heuristic_effort = 1
polish = 0
threads = 1
[warnings]
red = 2
yellow = 1.99
"""
    sc = load_scenario(write(tmp_path, text))
    assert sc.caps["primary"] == Caps(max_km=200.0, max_ratio=1.0, free_km=0.0, k_nearest=50)
    assert sc.caps["junior"] == Scenario().caps["junior"]  # the other level keeps its defaults
    assert sc.survival == {"g8-g9": 1.5, "1": 0.97} and sc.levels == ("junior",)
    assert isinstance(sc.barrier_detour, float) and sc.solver.threads == 1


def test_every_problem_in_one_pass(tmp_path):
    text = """\
weights = 5
base_year = 1800
barrier_detour = "abc"
levels = []
horizn = 2027
[caps]
primary = 3
[caps.junior]
max_km = 0
[schools]
open = 2023
[survival]
"g1-g2" = 50
[solver]
threads = "many"
nmae = "highs"
"""
    err = problems_of(tmp_path, text)
    assert sorted(keys_of(err)) == sorted([
        "weights", "base_year", "barrier_detour", "levels", "horizn", "caps.primary", "caps.junior.max_km",
        "schools.open", "survival.g1-g2", "solver.threads", "solver.nmae"])
    for item in err.items:
        assert item.key and item.need


def test_unknown_keys_name_the_nearest_known_key(tmp_path):
    err = problems_of(tmp_path, "horizn = 2027\n[solver]\ntimelimit = 3\n[caps.primary]\nmax_kms = 3\n[colour]\n")
    text = "\n".join(err.problems)
    assert "horizn 是未知设置项：是否想写 horizon？" in text
    assert "solver.timelimit 是未知设置项：是否想写 solver.time_limit？" in text
    assert "caps.primary.max_kms 是未知设置项：是否想写 caps.primary.max_km？" in text
    assert "colour 是未知设置项" in text
    assert "caps.middle" in str(problems_of(tmp_path, "[caps.middle]\nmax_km = 3\n"))


def test_scenario_error_lists_file_key_value_and_fix(tmp_path):
    err = problems_of(tmp_path, "[caps.primary]\nmax_km = 0\n")
    item = err.items[0]
    assert (item.key, item.value, item.shown) == ("caps.primary.max_km", 0, "0")
    assert "大于 0" in item.need and "200" in item.need
    assert str(err).startswith("scenario.toml: caps.primary.max_km ")


# --- the new tables ------------------------------------------------------------------------------


def test_privacy_publish_and_warnings_tables(tmp_path):
    text = """\
[privacy]
id_salt = "平罗-2023"
show_ids = true
[publish]
county = "平罗县"
school_year = "2023—2024学年"
office = "教育管理室"
phone = "0952-1234567"
notice = "以最终公告为准"
map_review_no = "宁S〔2023〕001号"
[warnings]
red = 1.1
yellow = 0.95
"""
    sc = load_scenario(write(tmp_path, text, "gbk"))
    assert sc.privacy == Privacy(id_salt="平罗-2023", show_ids=True)
    assert sc.publish == Publish("平罗县", "2023—2024学年", "教育管理室", "0952-1234567", "以最终公告为准",
                                 "宁S〔2023〕001号")
    assert sc.warnings == Warnings(red=1.1, yellow=0.95)
    assert Scenario().privacy == Privacy() and Scenario().warnings == Warnings(1.0, 0.9)
    public = sc.public_dict()
    assert "平罗-2023" not in str(public) and public["privacy"]["show_ids"] is True


# --- writing --------------------------------------------------------------------------------------


def full_scenario() -> Scenario:
    sc = Scenario(base_year=2021, target_year=2024, horizon=2030, first_intake=2023, levels=("primary",),
                  contiguity=False, second_change_year=2026, barrier_rule="penalise",
                  barrier_detour=2.0, use_roads=False, keep_indicators=True,
                  locks={"U.01": "S08", "小区7": "城关八小"}, open_schools={"P09": 2023},
                  close_schools={"P05": 2026}, survival={"g1-g2": 0.98, "6": 1.02},
                  town_townships=("城关镇", "姚伏镇"), privacy=Privacy("盐", True),
                  publish=Publish(county="平罗县", notice='含"引号"和\n换行'), warnings=Warnings(1.2, 0.8))
    sc.caps["junior"].k_nearest = 3
    sc.weights.moved = 0.75
    sc.solver = dataclasses.replace(sc.solver, name="cbc", threads=2, msg=True, gap=0.0, decompose=False)
    return sc


@pytest.mark.parametrize("make", [Scenario, full_scenario])
def test_write_read_round_trip(tmp_path, make):
    sc = make()
    path = write_scenario(sc, tmp_path / "scenario.toml")
    assert load_scenario(path) == sc
    assert path.read_text(encoding="utf-8") == scenario_to_toml(sc)
    assert [p.name for p in tmp_path.iterdir()] == ["scenario.toml"]  # no temporary file left


def test_writer_refuses_an_invalid_scenario(tmp_path):
    sc = Scenario(barrier_detour="abc")
    with pytest.raises(ScenarioError, match="barrier_detour"):
        write_scenario(sc, tmp_path / "scenario.toml")
    assert not (tmp_path / "scenario.toml").exists()


def test_validate_scenario_uses_the_same_checks():
    assert validate_scenario(Scenario()) == []
    probs = validate_scenario(Scenario(barrier_detour="abc", levels=(), base_year=1800,
                                       solver=dataclasses.replace(Scenario().solver, threads="many")))
    assert [p.split(" ")[0] for p in probs] == ["base_year", "levels", "barrier_detour", "solver.threads"]


# --- command-line overrides and dotted settings -------------------------------------------------


def test_overrides_are_checked_like_the_file():
    sc = with_overrides(Scenario(), time_limit=30, gap=0.01, solver="cbc", threads=2, levels=("junior",),
                        locks={"U.1": "S2"}, second_change_year=None)
    assert (sc.solver.time_limit, sc.solver.gap, sc.solver.name, sc.solver.threads) == (30.0, 0.01, "cbc", 2)
    assert sc.levels == ("junior",) and sc.locks == {"U.1": "S2"}
    with pytest.raises(ScenarioError) as exc:
        with_overrides(Scenario(), time_limit=-1, gap=2, threads="many", second_change_year=1990,
                       barrier_detour="abc", colour=1)
    assert exc.value.source == "命令行选项"
    assert sorted(keys_of(exc.value)) == sorted(["solver.time_limit", "solver.gap", "solver.threads",
                                                 "second_change_year", "barrier_detour", "colour"])
    base = Scenario(locks={"U1": "S1"})
    assert with_overrides(base, locks={"U2": "S2"}).locks == {"U1": "S1", "U2": "S2"}
    assert base.locks == {"U1": "S1"}


def test_dotted_settings_of_the_sweep():
    base = Scenario(locks={"U1": "S08"}, second_change_year=2025)
    sc, probs = apply_settings(base, {"caps.primary.max_km": 3, "weights.moved": 1, "locks.U1": "none",
                                      "second_change_year": "无", "schools.open.P.9": 2024,
                                      "survival.g1-g2": 0.9, "solver.threads": "none"})
    assert probs == []
    assert sc.caps["primary"].max_km == 3.0 and sc.weights.moved == 1.0 and sc.locks == {}
    assert sc.second_change_year is None and sc.open_schools == {"P.9": 2024} and sc.survival == {"g1-g2": 0.9}
    assert base.locks == {"U1": "S08"}
    _, probs = apply_settings(base, {"weights.moverd": 0.1, "caps.primary.max_km": "far",
                                     "caps.middle.max_km": 1, "horizon": "none", "levels.x": 1})
    assert sorted(p.key for p in probs) == sorted(["weights.moverd", "caps.primary.max_km", "caps.middle",
                                                   "horizon", "levels.x"])
    _, probs = apply_settings(Scenario(), {"base_year": 2030}, relations=False)
    assert probs == []


# --- end to end from the CLI ---------------------------------------------------------------------


def test_cli_validate_reports_every_scenario_problem_and_reads_gbk(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA / "plan_tiny", data)
    (data / "scenario.toml").write_bytes(
        'weights = 5\nbase_year = 1800\n[solver]\nthreads = "many"\n[publish]\ncounty = "平罗县"\n'.encode("gbk"))
    res = CliRunner().invoke(main, ["validate", str(data)])
    assert res.exit_code in (1, 2), res.output
    for needle in ("weights 应为一个表", "base_year 应为 2000 到 2100", "solver.threads"):
        assert needle in res.output
    assert "Traceback" not in res.output
    (data / "scenario.toml").write_bytes(
        'base_year = 2022\ntarget_year = 2024\nhorizon = 2025\n[publish]\ncounty = "平罗县"\n'.encode("gbk"))
    res = CliRunner().invoke(main, ["validate", str(data)])
    assert res.exit_code == 0, res.output
