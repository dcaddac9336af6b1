"""A received proposal folder with payloads in every text field (issue 15, "data is data").

``payload_copy`` copies tests/data/proposal_small and writes a payload into each text value of its
files: unit names, townships and ids, school names, addresses and ids, zone names, the ledger's
names, barrier and road names, assignments.csv's names, the zone table, metrics.json's status and
run.json's name, source, date and scenario ``[publish]`` texts. Each payload is a string that would
do something if it were template source, HTML, a script or a spreadsheet formula.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from _maps_fixtures import SMALL

PAYLOADS = (
    "{{7*7}}",
    "{% for x in range(3) %}X{% endfor %}",
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=1">',
    "</script><script>window.__pwned=1</script>",
    '=HYPERLINK("http://e.x","y")',
    r"$\foo$ {{ lipsum.__globals__.os.getcwd() }}",  # matplotlib mathtext (crashed publish) and Jinja2
)
#: What the payloads would show if they were evaluated as templates (must never appear).
EVALUATED = ("49", "XXX")
#: Ids renamed to payloads, consistently in every file.
UNIT_IDS = {"U12": "{{7*7}}"}
SCHOOL_IDS = {"640221008": "{{ 6*7 }}&<b>"}
ID_KEYS = {"unit_id": UNIT_IDS, "school_id": SCHOOL_IDS, "previous_school_id": SCHOOL_IDS,
           "primary_school": SCHOOL_IDS, "previous_primary_school": SCHOOL_IDS,
           "junior_school": SCHOOL_IDS, "previous_junior_school": SCHOOL_IDS}
#: A proposal name (run.json) that is HTML: the comparison map shows it in Leaflet's layer control.
RUN_NAME = '<img src=x onerror="window.__pwned=1">{{7*7}}'


def payload(k: int) -> str:
    """The k-th payload (cycling)."""
    return PAYLOADS[k % len(PAYLOADS)]


def unit_name(k: int) -> str:
    """The payload name of the k-th unit (0-based): the payload itself for the first six."""
    return payload(k) if k < len(PAYLOADS) else f"{payload(k)}〔{k + 1}〕"


#: Unit names by (original) unit id, school names and addresses by (original) school id.
UNIT_NAMES = {f"U{k + 1:02d}": unit_name(k) for k in range(12)}
SCHOOL_NAMES = {"640221001": PAYLOADS[0], "640221008": PAYLOADS[3], "640221104": PAYLOADS[1]}
SCHOOL_ADDRESSES = {"640221001": PAYLOADS[5], "640221008": PAYLOADS[2], "640221104": PAYLOADS[4]}
TOWNSHIP = PAYLOADS[4]


def _ids(key: str, value):
    return ID_KEYS[key].get(value, value) if key in ID_KEYS and isinstance(value, str) else value


def _props(props: dict, names: dict, addresses: dict | None = None, id_key: str = "unit_id") -> dict:
    """Feature properties with names, addresses, townships and ids replaced by payloads."""
    out = dict(props)
    original = props.get(id_key)
    if original in names:
        out["name"] = names[original]
    if addresses and original in addresses:
        out["address"] = addresses[original]
    if "township" in out:
        out["township"] = TOWNSHIP
    return {k: _ids(k, v) for k, v in out.items()}


def _edit_geojson(path: Path, edit) -> None:
    fc = json.loads(path.read_text(encoding="utf-8"))
    for i, f in enumerate(fc["features"]):
        f["properties"] = edit(i, f["properties"])
    path.write_text(json.dumps(fc, ensure_ascii=False, indent=1), encoding="utf-8")


def _edit_csv(path: Path, edit) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df = edit(df)
    for col in df.columns:
        if col in ID_KEYS:
            df[col] = df[col].map(lambda v, c=col: _ids(c, v))
    df.to_csv(path, index=False, encoding="utf-8-sig")


def _assignments(df: pd.DataFrame) -> pd.DataFrame:
    df["unit_name"] = df["unit_id"].map(UNIT_NAMES)
    df["school_name"] = df["school_id"].map(SCHOOL_NAMES)
    return df


def _ledger(df: pd.DataFrame) -> pd.DataFrame:
    df["name"] = df["school_id"].map(SCHOOL_NAMES)
    return df


def _zone_table(df: pd.DataFrame) -> pd.DataFrame:
    df["学校名称"] = df["学校代码"].map(SCHOOL_NAMES)
    df["地址"] = df["学校代码"].map(SCHOOL_ADDRESSES)
    df["片区范围（小区/村）"] = "、".join(PAYLOADS)
    df["学校代码"] = df["学校代码"].map(lambda v: SCHOOL_IDS.get(v, v))
    return df


def _line_names(i: int, props: dict) -> dict:
    out = {k: _ids(k, v) for k, v in props.items()}
    if "name" in out:
        out["name"] = payload(i + 2)
    if "kind" in out:
        out["kind"] = payload(i + 3)
    return out


def _edit_json(path: Path, edit) -> None:
    path.write_text(json.dumps(edit(json.loads(path.read_text(encoding="utf-8"))), ensure_ascii=False,
                               indent=1), encoding="utf-8")


def _run(run: dict) -> dict:
    run.update(name=RUN_NAME, source=f"/data/{PAYLOADS[3]}", created=PAYLOADS[0])
    run["scenario"]["publish"] = {"county": PAYLOADS[0], "school_year": PAYLOADS[1], "office": PAYLOADS[2],
                                  "phone": PAYLOADS[5], "notice": PAYLOADS[4], "map_review_no": PAYLOADS[3]}
    return run


def _metrics(m: dict) -> dict:
    m.update(status=PAYLOADS[0], status_zh=PAYLOADS[3])
    m["over_limits_before"] = [dict(r, name=PAYLOADS[2], school_id=_ids("school_id", r["school_id"]))
                               for r in m.get("over_limits_before", [])]
    return m


def payload_copy(dst: Path, src: Path = SMALL) -> Path:
    """Copy the proposal folder ``src`` to ``dst`` and put payloads into every text field."""
    shutil.copytree(src, dst)
    _edit_geojson(dst / "units.geojson", lambda i, p: _props(p, UNIT_NAMES))
    _edit_geojson(dst / "schools.geojson", lambda i, p: _props(p, SCHOOL_NAMES, SCHOOL_ADDRESSES, "school_id"))
    _edit_geojson(dst / "zones.geojson", lambda i, p: _props(p, SCHOOL_NAMES, SCHOOL_ADDRESSES, "school_id"))
    _edit_geojson(dst / "routes.geojson", lambda i, p: {k: _ids(k, v) for k, v in p.items()})
    _edit_geojson(dst / "barriers.geojson", _line_names)
    _edit_geojson(dst / "roads.geojson", _line_names)
    _edit_csv(dst / "assignments.csv", _assignments)
    _edit_csv(dst / "ledger.csv", _ledger)
    _edit_csv(dst / "zone_table.csv", _zone_table)
    zt = pd.read_csv(dst / "zone_table.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    zt.to_excel(dst / "zone_table.xlsx", index=False)
    _edit_json(dst / "run.json", _run)
    _edit_json(dst / "metrics.json", _metrics)
    return dst
