"""Writers of the autumn check (秋季招生核查): a Chinese HTML report, CSV files and one XLSX.

Everything a person reads is Chinese. Pupils appear only by their pseudonymous ``student_id``; the
core (:mod:`zoning.autumn`) never copies any other roster column, and the writers only write the
columns listed in :data:`COLUMNS_ZH`. The output folder is written under a temporary name and
renamed when complete, so it is either complete or absent.

Files written in the output folder:

``report.html``
    self-contained report (no external assets): summary first, then one table per finding.
``summary.csv``, ``plan.csv``, ``class_size.csv``, ``class_summary.csv``, ``school_size.csv``,
``nearby_rate.csv``, ``out_of_zone.csv``, ``transfers.csv``, ``data_problems.csv``
    the same findings, UTF-8 with BOM (opens in Excel), Chinese headers.
``autumn_check_<year>.xlsx``
    one sheet per finding.
``summary.json``
    the summary figures (for scheduled jobs).

:func:`run_check` is the glue behind ``zoning check``: it loads the data folder with
:func:`geodata.dataset.load_dataset` (imported when called, so that :mod:`zoning` itself stays
free of geometry), runs :func:`zoning.autumn.check_enrollment` and writes the folder.
"""
from __future__ import annotations

import html
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import DataError, Problem

from . import policy
from .autumn import (CATEGORY_NAMES_ZH, DEFAULT_TOWN_TOWNSHIPS, AutumnResult, check_enrollment,
                     zones_from_assignments, zones_from_units)

log = logging.getLogger(__name__)

SAMPLE_LABEL = "示例数据"
try:  # the wording every output of the sample shares
    from geodata.sample import SAMPLE_NOTICE as SAMPLE_NOTE
except ImportError:  # pragma: no cover - a source tree without the sample package
    SAMPLE_NOTE = "示例数据：本数据为按平罗县概况虚构的示意数据，不是官方数据。"

#: Finding name -> (title, file stem, sheet name).
FINDINGS = {
    "plan": ("一、招生计划核对（超计划）", "plan", "招生计划核对"),
    "class_size": ("二、超班额与大班额班级", "class_size", "超班额与大班额"),
    "class_summary": ("二（续）、各校各年级班额统计", "class_summary", "各校各年级班额"),
    "school_size": ("三、校额（学校规模）", "school_size", "校额"),
    "nearby_rate": ("四、就近入学率", "nearby_rate", "就近入学率"),
    "out_of_zone": ("四（续）、超范围招生的新生", "out_of_zone", "超范围招生"),
    "transfers": ("五、向超标学校违规转入", "transfers", "违规转入"),
    "data_problems": ("六、学籍数据问题", "data_problems", "学籍数据问题"),
}

#: Output columns of each finding, with their Chinese headers (only these are written).
COLUMNS_ZH = {
    "plan": {"school_id": "学校代码", "name": "学校名称", "grade": "年级",
             "planned_classes": "计划班数", "planned_students": "计划人数",
             "actual_classes": "实际班数", "actual_students": "实际新生人数",
             "over_classes": "超计划班数", "over_students": "超计划人数", "violation": "是否违规"},
    "class_size": {"school_id": "学校代码", "name": "学校名称", "grade": "年级", "class_id": "班级",
                   "students": "人数", "new_class": "是否新生班", "limit": "班额上限", "over_by": "超出人数",
                   "category": "班额类别", "violation": "是否超班额"},
    "class_summary": {"school_id": "学校代码", "name": "学校名称", "grade": "年级",
                      "classes": "班数", "largest_class": "最大班额", "over_limit": "超班额班数",
                      "large_classes": "大班额班数（56–65人）", "huge_classes": "超大班额班数（66人以上）"},
    "school_size": {"school_id": "学校代码", "name": "学校名称", "level": "学段", "students": "在校生数",
                    "limit": "校额上限", "over_by": "超出人数", "violation": "是否超校额"},
    "nearby_rate": {"school_id": "学校代码", "name": "学校名称", "level": "学段", "township": "乡镇",
                    "town": "是否城区学校", "new_entrants": "新生人数", "in_zone": "片区内",
                    "out_of_zone": "片区外", "no_zone": "所在单元未划片", "rate": "就近入学率（%）",
                    "required": "要求（%）", "violation": "是否违规"},
    "out_of_zone": {"student_id": "学籍号", "row": "学籍表行号", "school_id": "就读学校代码",
                    "name": "就读学校", "grade": "年级", "class_id": "班级", "unit_id": "居住单元",
                    "zoned_school_id": "片区学校代码", "zoned_school_name": "片区学校"},
    "transfers": {"student_id": "学籍号", "row": "学籍表行号", "school_id": "学校代码",
                  "name": "学校名称", "grade": "年级", "class_id": "班级", "entry_date": "转入日期",
                  "school_students": "转入时全校人数", "size_limit": "校额上限",
                  "class_students": "转入时班级人数", "class_limit": "班额上限", "reason": "违规原因"},
    "data_problems": {"file": "文件", "row": "行", "id": "学籍号", "column": "列", "problem": "问题",
                      "fix": "修改建议"},
}

_PERCENT = {"rate", "required"}


def _cell(col: str, value):
    """A value as people read it (Chinese yes/no, level names, percentages, dates)."""
    if value is None or value is pd.NA or value is pd.NaT or (
            isinstance(value, (float, np.floating)) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if col in _PERCENT:
        return round(float(value) * 100, 1)
    if col == "level":
        return policy.LEVEL_NAMES_ZH.get(value, value)
    if col == "category":
        return CATEGORY_NAMES_ZH.get(value, value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def display_table(result: AutumnResult, name: str, is_sample: bool = False) -> pd.DataFrame:
    """The finding ``name`` with Chinese headers and values, restricted to its listed columns."""
    cols = COLUMNS_ZH[name]
    frame = result.findings()[name]
    out = pd.DataFrame({zh: [_cell(en, v) for v in frame[en]] if en in frame.columns else []
                        for en, zh in cols.items()}, columns=list(cols.values()))
    if is_sample:
        out.insert(0, SAMPLE_LABEL, "示例数据（虚构）")
    return out


def summary_rows(result: AutumnResult, is_sample: bool | None = None, source: str | None = None
                 ) -> list[tuple[str, str]]:
    """The summary as (item, value) pairs, in report order.

    ``is_sample`` and ``source`` default to the summary's own (set by :func:`run_check`).
    """
    s = result.summary
    is_sample = bool(s.get("is_sample", False)) if is_sample is None else is_sample
    source = s.get("source", "") if source is None else source
    rows = []
    if is_sample:
        rows.append(("数据说明", SAMPLE_NOTE))
    if source:
        rows.append(("数据来源", source))
    verdict = ("全部符合" if result.exit_code == 0 else
               f"发现 {s['violations']} 项违规" + (f"，{s['pupils_with_problems']} 行学籍数据有问题"
                                               if s["pupils_with_problems"] else ""))
    rows += [
        ("核查年度", f"{s['year']} 年秋季"),
        ("结论", verdict),
        ("学籍读入人数", str(s["pupils_read"])),
        ("核查人数", str(s["pupils_checked"])),
        ("有数据问题的人数（未参与核查）", str(s["pupils_with_problems"])),
        ("核对", f"读入 {s['pupils_read']} = 核查 {s['pupils_checked']} + 有数据问题 "
                 f"{s['pupils_with_problems']}"),
        ("数据问题条数", str(s["data_problems"])),
        ("超计划（学校·年级）", str(s["over_plan"])),
        ("超班额班级", str(s["over_limit_classes"])),
        ("大班额班级（56–65人）", str(s["large_classes"])),
        ("超大班额班级（66人以上）", str(s["huge_classes"])),
        ("全县班级数", str(s["classes"])),
        ("全县大班额占比（含超大班额）", f"{s['large_class_share'] * 100:.1f}%"),
        ("超校额学校", str(s["over_size_schools"])),
        ("超范围招生新生", str(s["out_of_zone_pupils"])),
        ("就近入学率未达标（学校·学段）", str(s["nearby_failures"])),
        ("向超标学校违规转入", str(s["forbidden_transfers"])),
        ("城区乡镇（就近入学率考核范围）", "、".join(s["town_townships"]) or "（无）"),
    ]
    for note in s.get("notes", []):
        rows.append(("说明", note))
    return rows


_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:1.5em;
color:#222;line-height:1.5}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:2px solid #3a6ea5}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left}
th{background:#e8eef6}tr.bad td{background:#fde2e1}
.banner{background:#fff3cd;border:1px solid #e0c060;padding:.6em 1em;font-weight:bold}
.ok{color:#1a7f37;font-weight:bold}.fail{color:#c0392b;font-weight:bold}
.rules{font-size:.85em;color:#555}
"""

_RULES_ZH = [
    "超计划：某校某年级的新生人数多于计划人数，或该年级班数多于计划班数。",
    "超班额：小学（1–6 年级）每班不超过 45 人，初中（7–9 年级）不超过 50 人（九年一贯制学校分别适用）；"
    "56–65 人为大班额，66 人以上为超大班额。",
    "超校额：小学、初中不超过 2000 人，九年一贯制不超过 2500 人（学校表另有上限时从其规定）。",
    "就近入学率：新生居住单元划入本校片区的比例；城区学校小学须达 100%，初中不低于 95%。",
    "违规转入：转入当日学校已超校额，或所转入班级已超班额。转入当日人数＝全部新生和在读生＋转入日期早于"
    "该生的其他转入生；未填转入日期的按学年初人数判断。",
    "有数据问题的学籍行不参与上述核查，逐行列在“学籍数据问题”中，请更正后重新核查。",
]


def render_html(result: AutumnResult, is_sample: bool = False, source: str = "") -> str:
    """The report as one self-contained HTML page (every data string escaped)."""
    e = html.escape
    title = f"{result.year} 年秋季招生核查报告" + (f"（{SAMPLE_LABEL}）" if is_sample else "")
    parts = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body>", f"<h1>{e(title)}</h1>"]
    if is_sample:
        parts.append(f'<p class="banner">{e(SAMPLE_NOTE)}</p>')
    ok = result.exit_code == 0
    parts.append(f'<p class="{"ok" if ok else "fail"}">'
                 + e("全部符合规定。" if ok else "发现违规或数据问题，详见下表。") + "</p>")
    parts.append("<h2>汇总</h2><table>")
    for k, v in summary_rows(result, is_sample, source):
        parts.append(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>")
    parts.append("</table>")
    parts.append('<div class="rules"><p>核查规则：</p><ul>'
                 + "".join(f"<li>{e(r)}</li>" for r in _RULES_ZH) + "</ul></div>")
    frames = result.findings()
    for name, (heading, _stem, _sheet) in FINDINGS.items():
        parts.append(f"<h2>{e(heading)}</h2>")
        table = display_table(result, name)
        raw = frames[name]
        if not len(table):
            parts.append("<p>无。</p>")
            continue
        bad = (raw["violation"].to_numpy(dtype=bool) if "violation" in raw.columns
               else [name in ("out_of_zone", "transfers", "data_problems")] * len(raw))
        if name == "class_summary":
            bad = (raw["over_limit"] > 0).to_numpy()
        if name == "out_of_zone":
            bad = [False] * len(raw)
        parts.append("<table><thead><tr>" + "".join(f"<th>{e(str(c))}</th>" for c in table.columns)
                     + "</tr></thead><tbody>")
        for flag, row in zip(bad, table.itertuples(index=False)):
            cls = ' class="bad"' if flag else ""
            parts.append(f"<tr{cls}>" + "".join(f"<td>{e(str(v))}</td>" for v in row) + "</tr>")
        parts.append("</tbody></table>")
    parts.append(f'<p class="rules">{e("学生仅以学籍号（化名编号）标识；报告不含姓名、出生日期、住址等个人信息。")}'
                 "</p></body></html>")
    return "\n".join(parts)


def _atomic_folder(out_dir: Path, write) -> Path:
    """Call ``write(tmp_dir)`` inside :func:`geodata.outputs.proposal_folder` (written whole or not at all)."""
    from geodata.outputs import proposal_folder

    with proposal_folder(out_dir) as tmp:
        write(Path(tmp))
    return Path(out_dir)


def write_report(result: AutumnResult, out_dir: str | Path, is_sample: bool = False,
                 source: str = "") -> Path:
    """Write the HTML report, the CSV files, the XLSX workbook and summary.json atomically.

    Parameters
    ----------
    result : AutumnResult
        Output of :func:`zoning.autumn.check_enrollment`.
    out_dir : path
        The folder to create (replaced as a whole if it exists).
    is_sample : bool
        The data is the bundled sample: every output says 示例数据.
    source : str
        Where the data came from (shown in the summary).

    Returns
    -------
    Path
        ``out_dir``.
    """
    summary = pd.DataFrame(summary_rows(result, is_sample, source), columns=["项目", "数值"])
    if is_sample:
        summary.insert(0, SAMPLE_LABEL, "示例数据（虚构）")

    def write(tmp: Path) -> None:
        (tmp / "report.html").write_text(render_html(result, is_sample, source), encoding="utf-8")
        summary.to_csv(tmp / "summary.csv", index=False, encoding="utf-8-sig")
        tables = {name: display_table(result, name, is_sample) for name in FINDINGS}
        for name, table in tables.items():
            table.to_csv(tmp / f"{FINDINGS[name][1]}.csv", index=False, encoding="utf-8-sig")
        with pd.ExcelWriter(tmp / f"autumn_check_{result.year}.xlsx", engine="openpyxl") as xw:
            summary.to_excel(xw, sheet_name="汇总", index=False)
            for name, table in tables.items():
                table.to_excel(xw, sheet_name=FINDINGS[name][2], index=False)
        payload = {k: v for k, v in result.summary.items()}
        payload.update(is_sample=is_sample, source=source, exit_code=result.exit_code)
        if is_sample:
            payload["note"] = SAMPLE_NOTE
        (tmp / "summary.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2),
                                          encoding="utf-8")

    return _atomic_folder(Path(out_dir), write)


# --- glue for the command line ----------------------------------------------------------------


@dataclass
class CheckInputs:
    """The plain tables of one check (what :func:`check_enrollment` needs)."""

    roster: pd.DataFrame
    schools: pd.DataFrame
    zones: pd.DataFrame | None
    plan: pd.DataFrame | None
    is_sample: bool
    source: str
    roster_file: str = "roster"
    plan_file: str = "plan"
    roster_problems: list = field(default_factory=list)


def _plain(frame):
    """A (Geo)DataFrame without its geometry column, as a plain DataFrame."""
    if frame is None:
        return None
    cols = [c for c in frame.columns if c != "geometry"]
    return pd.DataFrame({c: frame[c].to_numpy() for c in cols}, index=range(len(frame)))


def read_roster_or_plan(path: Path, name: str, coords=None, mapping=None, units=None, crs=None
                        ) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a roster or plan file given on the command line with the data folder's reader.

    Returns the normalised table and the row problems found while reading (whole-file errors
    raise :class:`DataError`). A roster with home points gets its missing unit_id from ``units``.
    """
    from geodata import readers, validate  # imported here: they pull in geopandas

    parsed, problems = readers.read_mapping(mapping) if mapping else ({}, [])
    layer, more = readers.read_layer(path, name, coords=coords, mapping=parsed)
    problems = [*problems, *more]
    if layer is None:
        raise DataError(problems)
    check = validate.check_roster if name == "roster" else validate.check_plan
    frame = check(layer, problems)
    if name == "roster" and hasattr(frame, "geometry") and units is not None and crs is not None:
        frame = validate._roster_units(frame.to_crs(crs), units)
    _raise_whole_file(problems, name != "roster")
    return _plain(frame), problems


def _raise_whole_file(problems: list[Problem], any_error: bool = False) -> None:
    """Raise DataError for whole-file errors (or for any error when ``any_error``)."""
    bad = [p for p in problems if p.severity == "error" and (any_error or p.row is None)]
    if bad:
        raise DataError(bad)


def read_assignments(zones_dir: Path) -> pd.DataFrame:
    """The ``assignments.csv`` of a proposal folder."""
    path = Path(zones_dir) / "assignments.csv"
    if not path.exists():
        raise DataError([Problem(str(path), None, None, None, "方案文件夹中没有 assignments.csv",
                                 "--zones 应指向 zoning plan 生成的方案文件夹")])
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    missing = [c for c in ("unit_id", "level", "school_id") if c not in frame.columns]
    if missing:
        raise DataError([Problem("assignments.csv", None, None, c, f"缺少列“{c}”",
                                 "请使用 zoning plan 生成的 assignments.csv") for c in missing])
    return frame.replace({"": None})


def load_inputs(data_dir=None, zones_dir=None, plan_file=None, roster_file=None, coords=None,
                mapping=None) -> CheckInputs:
    """Load the tables of a check from a data folder (None = the bundled sample) and overrides.

    The folder is read and checked by :func:`geodata.validate.check_folder`. Errors in the schools,
    units and plan stop the check (:class:`DataError`, exit code 2); problems of inputs the check
    does not read (households, barriers, crossings, roads, scenario) are logged and ignored; the
    roster's row problems are handed to :func:`check_enrollment`, which lists them per pupil.
    """
    from geodata import validate  # imported here: it pulls in geopandas
    from geodata.sample import sample_dir

    is_sample = data_dir is None
    folder = Path(sample_dir()) if is_sample else Path(data_dir)
    checked = validate.check_folder(folder, coords=coords, mapping=mapping)
    files = checked.files
    names = {k: Path(v).name for k, v in files.items()}

    def belongs(p: Problem, name: str) -> bool:
        return name in names and p.file == names[name]

    # problems of inputs this check does not read do not stop it (``zoning validate`` lists them)
    unused = [p for p in checked.problems
              if any(belongs(p, n) for n in ("households", "barriers", "crossings", "roads"))
              or (checked.scenario_path is not None and p.file == Path(checked.scenario_path).name)]
    if unused:
        log.warning("与秋季核查无关的输入有 %d 处问题，已忽略（可用 zoning validate 查看）", len(unused))
    folder_problems = [p for p in checked.problems if p not in unused
                       and not belongs(p, "roster") and not (plan_file and belongs(p, "plan"))]
    roster_problems = ([p for p in checked.problems if belongs(p, "roster")]
                       if roster_file is None else [])
    folder_problems += [p for p in roster_problems if p.row is None]
    if any(p.severity == "error" for p in folder_problems):
        raise DataError(folder_problems)
    layers = checked.layers
    schools, units = _plain(layers["schools"]), _plain(layers["units"])
    roster, roster_name = _plain(layers.get("roster")), names.get("roster", "roster")
    plan, plan_name = _plain(layers.get("plan")), names.get("plan", "plan")
    if roster_file is not None:
        roster, roster_problems = read_roster_or_plan(Path(roster_file), "roster", coords, mapping,
                                                      layers["units"], checked.crs)
        roster_name = Path(roster_file).name
    if plan_file is not None:
        plan, _ = read_roster_or_plan(Path(plan_file), "plan", coords, mapping)
        plan_name = Path(plan_file).name
    if roster is None:
        raise DataError([Problem("roster", None, None, None, "没有学籍数据（roster）",
                                 "在数据文件夹中放入 roster.csv（或 学籍.xlsx），或用 --roster 指定文件")])
    if zones_dir is not None:
        zones = zones_from_assignments(read_assignments(Path(zones_dir)), units)
    else:
        zones = zones_from_units(units)
    return CheckInputs(roster=roster, schools=schools, zones=zones, plan=plan, is_sample=is_sample,
                       source="sample" if is_sample else str(data_dir), roster_file=roster_name,
                       plan_file=plan_name, roster_problems=roster_problems)


def run_check(data_dir=None, year: int = 2023, zones_dir=None, plan_file=None, roster_file=None,
              out_dir=None, coords=None, mapping=None, town_townships=DEFAULT_TOWN_TOWNSHIPS
              ) -> tuple[AutumnResult, Path]:
    """Load, check and write: the work behind ``zoning check``.

    Returns
    -------
    result : AutumnResult
    out_dir : Path
        The folder written (default ``autumn_check_<year>`` in the working directory).
    """
    inputs = load_inputs(data_dir, zones_dir, plan_file, roster_file, coords, mapping)
    result = check_enrollment(inputs.roster, inputs.schools, inputs.zones, inputs.plan, year,
                              town_townships=tuple(town_townships), roster_file=inputs.roster_file,
                              plan_file=inputs.plan_file, extra_problems=inputs.roster_problems)
    out = Path(out_dir) if out_dir is not None else Path(f"autumn_check_{year}")
    source = "内置示例" if inputs.is_sample else inputs.source
    result.summary.update(is_sample=inputs.is_sample, source=source)
    write_report(result, out, is_sample=inputs.is_sample, source=source)
    return result, out
