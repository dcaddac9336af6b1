"""What a county posts (issue 19): who publishes (the ``[publish]`` settings), the titles, the
征求意见 change list and the public search entries (names, aliases, address ranges).

Everything here is public: names, addresses, schools and years only — never a count of pupils,
households or children (``students`` of assignments.csv is never read here).
"""
from __future__ import annotations

import dataclasses
import logging
import re

import pandas as pd

from maps.proposal import LEVEL_ZH, Proposal
from zoning.scenario import Publish, load_scenario, scenario_from_dict

log = logging.getLogger(__name__)

#: the settings a parent needs to see; missing ones are reported by ``zoning publish``
NEEDED = {"county": "县（区）名称", "school_year": "招生年度", "office": "发布单位", "phone": "咨询电话"}
FIRST_GRADE = {"primary": 1, "junior": 7}
GRADE_ZH = {1: "一年级", 7: "七年级"}
LIST_SEPARATORS = r"[；;、，,|/／\n]+"

#: The optimizer's internal reasons (assignments.csv ``reason``) in the words a parent reads; other
#: reasons (为化解城关八小超额, 城关九小新片区, 撤并, 距离更近) are public wording already.
PUBLIC_REASONS = {"原学校不在可选范围": "调整为就近学校"}

CHANGE_COLUMNS = ["unit_id", "unit_name", "township", "level", "previous_school_id", "previous_school",
                  "school_id", "school", "first_intake_year", "first_grade", "reason"]
CHANGE_COLUMNS_ZH = {"unit_name": "小区/村", "township": "乡镇/街道", "level": "学段", "previous_school": "原对口学校",
                     "school": "调整后对口学校", "first_intake_year": "起始招生年份", "first_grade": "起始年级",
                     "reason": "调整原因"}


# ------------------------------------------------------------------------------------ settings
def recorded_publish(p: Proposal) -> Publish:
    """The ``[publish]`` table the proposal's run.json recorded (empty settings when none)."""
    table = (p.run.get("scenario") or {}).get("publish") if isinstance(p.run.get("scenario"), dict) else None
    if not isinstance(table, dict):
        return Publish()
    return scenario_from_dict({"publish": table}, "run.json", relations=False).publish


def publish_settings(p: Proposal, scenario_path=None, **options) -> Publish:
    """The publication settings: run.json's, then the scenario file's, then the options given.

    Parameters
    ----------
    p : Proposal
    scenario_path : path, optional
        A ``scenario.toml`` whose ``[publish]`` values (those not blank) replace the recorded ones.
    **options
        ``county``, ``school_year``, ``office``, ``phone``, ``notice``, ``map_review_no``: a value that
        is not None wins over both.
    """
    merged = dataclasses.asdict(recorded_publish(p))
    if scenario_path is not None:
        given = dataclasses.asdict(load_scenario(scenario_path).publish)
        merged.update({k: v for k, v in given.items() if v})
    unknown = set(options) - set(merged)
    if unknown:
        raise TypeError(f"unknown publish settings: {sorted(unknown)}")
    merged.update({k: v for k, v in options.items() if v is not None})
    return Publish(**{k: str(v).strip() for k, v in merged.items()})


def missing_settings(info: Publish) -> list[str]:
    """Chinese names of the settings parents need that are blank."""
    return [zh for key, zh in NEEDED.items() if not getattr(info, key)]


def title(info: Publish, what: str = "义务教育学校招生片区") -> str:
    """e.g. 平罗县2024年秋季义务教育学校招生片区 (county and school year when given)."""
    return f"{info.county}{info.school_year}{what}"


def level_title(info: Publish, level: str, what: str = "招生片区划分表") -> str:
    """e.g. 平罗县2024年秋季小学招生片区划分表."""
    return f"{info.county}{info.school_year}{LEVEL_ZH.get(level, level)}{what}"


def footer_lines(info: Publish, tiles: str = "none") -> list[str]:
    """Issuer, enquiry phone, 审图号 (on a reviewed base map) and the notice: what pages end with."""
    lines = []
    if info.office:
        lines.append(f"发布单位：{info.office}")
    if info.phone:
        lines.append(f"咨询电话：{info.phone}")
    if info.map_review_no:
        lines.append(f"审图号：{info.map_review_no}")
    if info.notice:
        lines.append(info.notice)
    return lines


# ------------------------------------------------------------------------------- search entries
def split_list(value) -> list[str]:
    """A cell holding several aliases or addresses (separated by ；、，| / or new lines)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return []
    return [s.strip() for s in re.split(LIST_SEPARATORS, str(value)) if s.strip()]


_RANGE = re.compile(r"^(?P<street>.*?)(?P<a>\d+)\s*(?:号)?\s*(?:[-–—~～至到]\s*(?P<b>\d+)\s*号?)?"
                    r"\s*(?:[（(]?\s*(?P<parity>单|双)\s*号?\s*[)）]?)?\s*$")


def parse_address(text: str) -> dict:
    """An address entry: ``鼓楼南街1-99号（单号）`` -> street, from, to, parity; a bare street has no range."""
    m = _RANGE.match(text.strip())
    if not m or not m.group("street").strip():
        return {"text": text, "street": text.strip(), "from": None, "to": None, "parity": None}
    a = int(m.group("a"))
    b = int(m.group("b")) if m.group("b") else a
    parity = {"单": "odd", "双": "even"}.get(m.group("parity") or "")
    return {"text": text, "street": m.group("street").strip(), "from": min(a, b), "to": max(a, b), "parity": parity}


def unit_search_fields(p: Proposal) -> dict[str, dict]:
    """unit_id -> {"aliases": [...], "addresses": [parsed entries]} from units.geojson's optional
    ``aliases`` / ``addresses`` columns."""
    u = p.units
    out = {}
    for _, r in u.iterrows():
        aliases = split_list(r.get("aliases")) if "aliases" in u.columns else []
        addresses = [parse_address(t) for t in split_list(r.get("addresses"))] if "addresses" in u.columns else []
        out[str(r["unit_id"])] = {"aliases": aliases, "addresses": addresses}
    return out


# -------------------------------------------------------------------------------- change list
def _school_names(p: Proposal) -> dict:
    names = dict(zip(p.schools["school_id"], p.schools["name"]))
    a = p.zone_maps if p.zone_maps is not None else p.assignments
    if "school_name" in a.columns:
        for sid, name in zip(a["school_id"], a["school_name"]):
            names.setdefault(sid, name)
    return names


def _year(v):
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


def _reason(p: Proposal, old, new, year, given) -> str:
    """Why a unit moves: the proposal's own reason when it has one, else what the data say."""
    if isinstance(given, str) and given.strip():
        return public_reason(given)
    s = p.schools.drop_duplicates("school_id").set_index("school_id")
    names = _school_names(p)
    opens = _year(s["open_year"].get(new)) if "open_year" in s.columns else None
    closes = _year(s["close_year"].get(old)) if "close_year" in s.columns else None
    over = {str(r.get("school_id")) for r in p.metrics.get("over_limits_before") or [] if isinstance(r, dict)}
    if opens is not None and year is not None and opens >= year - 1:
        return f"{names.get(new, new)}{opens}年秋季开始招生，就近划入其片区"
    if closes is not None:
        return f"{names.get(old, old)}{closes}年停止招生"
    if old in over:
        return f"化解{names.get(old, old)}超规模、大班额（分年度回到国家标准）"
    return "按就近入学原则调整片区"


def public_reason(reason: str) -> str:
    """A reason of assignments.csv as published: internal wording mapped by :data:`PUBLIC_REASONS`
    (also inside a longer reason: "原学校不在可选范围；…"), the rest unchanged."""
    text = str(reason).strip()
    for internal, public in PUBLIC_REASONS.items():
        text = text.replace(internal, public)
    return text


def change_list(p: Proposal) -> pd.DataFrame:
    """The 征求意见 change list: every unit and level whose school changes, old and new school, the
    first intake year and grade it applies to, and why. No counts.

    With a second zone change (two maps in assignments.csv) each change is listed from its own year.
    """
    a = (p.zone_maps if p.zone_maps is not None else p.assignments).copy()
    units = p.units.drop(columns="geometry").drop_duplicates("unit_id").set_index("unit_id")
    names = _school_names(p)
    a["_year"] = a["change_year"].map(_year)
    rows = []
    for (uid, level), g in a.sort_values(["unit_id", "level", "_year"], na_position="first").groupby(
            ["unit_id", "level"], sort=True):
        before = g["previous_school_id"].iloc[0]
        for _, r in g.iterrows():
            new = r["school_id"]
            if before is not None and new is not None and new != before:
                unit_name = units["name"].get(uid) if "name" in units.columns else None
                unit_name = unit_name or r.get("unit_name") or uid
                rows.append({"unit_id": uid, "unit_name": str(unit_name),
                             "township": str(units["township"].get(uid) or "") if "township" in units.columns else "",
                             "level": LEVEL_ZH.get(level, level), "previous_school_id": before,
                             "previous_school": names.get(before, before), "school_id": new,
                             "school": names.get(new, new), "first_intake_year": r["_year"],
                             "first_grade": GRADE_ZH.get(FIRST_GRADE.get(level), ""),
                             "reason": _reason(p, before, new, r["_year"], r.get("reason"))})
            if new is not None:
                before = new
    df = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    df["township"] = df["township"].replace({"None": "", "nan": ""})
    order = {"小学": 0, "初中": 1}
    df["_o"] = df["level"].map(order).fillna(2)
    df = df.sort_values(["_o", "first_intake_year", "township", "unit_name", "unit_id"]).drop(columns="_o")
    return df.reset_index(drop=True)


def change_sentence(unit_word: str, row: dict) -> str:
    """您所在的小区自 2024 年秋季起小学对口学校由 A 调整为 B；已在校学生不受影响."""
    year = row.get("first_intake_year")
    when = f"自 {year} 年秋季起" if year else ""
    return (f"您所在的{unit_word}{when}{row['level']}对口学校由 {row['previous_school']} 调整为 {row['school']}；"
            f"已在校学生不受影响")


def unit_word(name: str) -> str:
    """村 for a village, 小区 otherwise (how the sentence addresses the family)."""
    return "村" if str(name).rstrip().endswith(("村", "组", "队")) else "小区"
