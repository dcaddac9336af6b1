"""Fuzzing the scenario reader: whatever the file holds, a Scenario or one ScenarioError, never a traceback.

Documents are built from the known keys (and near misses) with values of every TOML type, random
nesting, then saved in a random encoding and sometimes damaged byte by byte; plain random bytes too.
Every ScenarioError item names a key or a line, and its text shows it. A file that is accepted
passes :func:`validate_scenario` and survives a write -> read round trip.
"""
from __future__ import annotations

import datetime as dt
import re

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoning.scenario import (
    ScenarioError,
    apply_settings,
    known_keys,
    load_scenario,
    scenario_to_toml,
    validate_scenario,
    with_overrides,
    Scenario,
)

KEYS = known_keys() + ["locks.U1", "locks.小区 1", "schools.open.P09", "schools.close.P05", "survival.g1-g2",
                       "survival.3", "survival.g9-g10", "caps.middle.max_km", "horizn", "weights.moverd",
                       "solver.nmae", "publish.county", "schools.other", "colour"]
WORDS = ["primary", "junior", "highs", "cbc", "forbid", "penalise", "allow", "城关八小", "none", "", "abc",
         "{{7*7}}", "=1+2", "g1-g2"]

plausible = st.one_of(
    st.integers(1990, 2110), st.floats(-1, 3), st.sampled_from([0, 1, 5, 50, 200, 201]),
    st.sampled_from(WORDS), st.booleans(),
    st.lists(st.sampled_from(["primary", "junior", "senior"]), max_size=3),
)
scalar = st.one_of(
    plausible,
    st.integers(), st.integers(-(10**30), 10**30), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.datetimes(), st.dates(), st.times(),
)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(["primary", "junior", "open", "close", "max_km",
                                                             "U1", "x", "g1-g2", "1"]), inner, max_size=4)),
    max_leaves=12,
)


def build(assignments: list[tuple[str, object]]) -> dict:
    """A nested TOML document from dotted keys (a key clashing with an earlier value is skipped)."""
    doc: dict = {}
    for path, v in assignments:
        parts = path.split(".")
        node = doc
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            if parts[-1] not in node:
                node[parts[-1]] = v
    return doc


documents = st.lists(st.tuples(st.sampled_from(KEYS), value), max_size=12).map(build)
ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "latin-1", "utf-32"]


@st.composite
def damaged(draw, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        if not out:
            break
        i = draw(st.integers(0, len(out) - 1))
        op = draw(st.sampled_from(["flip", "insert", "delete"]))
        b = draw(st.integers(0, 255))
        if op == "flip":
            out[i] = b
        elif op == "insert":
            out.insert(i, b)
        else:
            del out[i]
    return bytes(out)


@st.composite
def files(draw) -> bytes:
    kind = draw(st.sampled_from(["document", "document", "damaged", "text", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "text":
        text = draw(st.text(alphabet=st.sampled_from(list("[]{}=\"'.:#,\n \t-_0123456789abcgx平罗县＝“”")),
                            max_size=80))
    else:
        try:
            text = tomli_w.dumps(draw(documents))
        except (TypeError, ValueError):  # tomli_w cannot write some shapes (e.g. lists of tables mixed)
            text = "base_year = 2022\n"
    raw = text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    return draw(damaged(raw)) if kind == "damaged" else raw


def assert_located(err: ScenarioError) -> None:
    assert err.items, err
    for item, text in zip(err.items, err.problems):
        assert item.key or item.line, text
        if item.key:
            assert text.startswith(item.key), text
        else:
            assert re.match(rf"第 {item.line} 行", text), text
        assert item.need.strip(), text


def check_accepted(sc: Scenario, tmp) -> None:
    assert validate_scenario(sc) == []
    p = tmp / "round.toml"
    p.write_text(scenario_to_toml(sc), encoding="utf-8")
    assert load_scenario(p) == sc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(raw=files())
def test_reader_never_raises_anything_but_a_located_scenario_error(tmp_path, raw):
    p = tmp_path / "scenario.toml"
    p.write_bytes(raw)
    try:
        sc = load_scenario(p)
    except ScenarioError as err:
        assert err.source == "scenario.toml"
        assert_located(err)
    else:
        check_accepted(sc, tmp_path)


@settings(max_examples=300, deadline=None)
@given(settings_=st.dictionaries(st.sampled_from(KEYS + ["levels.x", "caps.primary.max_km.x"]), value,
                                 max_size=6))
def test_dotted_settings_and_overrides_never_crash(settings_):
    sc, problems = apply_settings(Scenario(), settings_)
    for p in problems:
        assert p.key, p
    if not problems:
        assert validate_scenario(sc) == []
    top = {k: v for k, v in settings_.items() if "." not in k}
    try:
        out = with_overrides(Scenario(), **top)
    except ScenarioError as err:
        assert_located(err)
    else:
        assert validate_scenario(out) == []


def test_the_fuzzer_reaches_both_outcomes(tmp_path):
    """The generators are not degenerate: a valid document is accepted, a broken one refused."""
    good = tomli_w.dumps({"base_year": 2022, "caps": {"primary": {"max_km": 3}}, "survival": {"g1-g2": 0.9},
                          "schools": {"open": {"P09": 2023}}, "publish": {"county": "平罗县"}})
    for enc in ENCODINGS[:5]:
        p = tmp_path / "s.toml"
        p.write_bytes(good.encode(enc))
        check_accepted(load_scenario(p), tmp_path)
    p.write_bytes(tomli_w.dumps({"caps": {"primary": dt.date(2023, 1, 1)}}).encode())
    try:
        load_scenario(p)
    except ScenarioError as err:
        assert_located(err)
        assert err.items[0].key == "caps.primary"
    else:
        raise AssertionError("a date as caps.primary was accepted")
