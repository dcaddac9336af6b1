"""Writers of the autumn check (秋季招生核查): a Chinese HTML report, CSV files and one XLSX.

Everything a person reads is Chinese. Real 学籍号 embed the ID-card number and birth date, so pupils
appear by a salted-hash pseudonym (:class:`StudentIds`, the salt from ``[privacy] id_salt``); only an
internal report (``--show-ids`` / ``[privacy] show_ids``) lists the 学籍号, next to the pseudonym. The
core (:mod:`zoning.autumn`) never copies any other roster column, and the writers only write the
columns listed in :data:`COLUMNS_ZH`. The page is the template ``pipelines/templates/autumn_report.html``
(data as escaped variables only); every table goes through :mod:`geodata.tabular` (formula-like
cells inert, the same bytes for the same input). The output folder is written under a temporary name
and renamed when complete, so it is either complete or absent.

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

:func:`run_check` is the pipeline of ``zoning check``: it reads and checks the data folder with
:func:`geodata.validate.check_folder`, a proposal's zones through :mod:`geodata.proposal`, runs
:func:`zoning.autumn.check_enrollment` (the same rules the library gives) and writes the folder.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geodata import proposal, readers, validate
from geodata.outputs import proposal_folder
from geodata.sample import SAMPLE_NOTICE as SAMPLE_NOTE  # the wording every output of the sample shares
from geodata.sample import sample_dir
from geodata.tabular import write_csv, write_xlsx
from pipelines.inputs import reconciliation
from pipelines.project import project_zones
from pipelines.render import render_page
from zoning import policy
from zoning.autumn import (CATEGORY_NAMES_ZH, DEFAULT_TOWN_TOWNSHIPS, AutumnResult, FileLayout, check_enrollment,
                           zones_from_assignments, zones_from_units)
from zoning.errors import DataError, Problem
from zoning.scenario import Privacy

log = logging.getLogger(__name__)

SAMPLE_LABEL = "示例数据"
#: the autumn checked when none is given (``zoning check --year`` is required; the library's default)
DEFAULT_YEAR = 2023

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

#: the columns holding a pupil's 学籍号 (in every finding that lists pupils)
ID_COLUMNS = {"out_of_zone": "student_id", "transfers": "student_id", "data_problems": "id"}
PSEUDONYM_HEADER = "学生编号（化名）"
#: the salt's stand-in when the office has set none: fixed per data folder (see :func:`default_salt`)
_DEFAULT_SALT_PREFIX = "pingluo-zoning/autumn-check/"


def default_salt(folder_key: str) -> str:
    """The salt used when ``[privacy] id_salt`` is not set: fixed for one data folder.

    ``folder_key`` is ``"sample"`` for the bundled sample, else the data folder's absolute path, so
    the same folder gives the same pseudonyms run after run (and ``--show-ids`` can map them back).
    """
    return hashlib.sha256((_DEFAULT_SALT_PREFIX + folder_key).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StudentIds:
    """How pupils are named in the outputs: a salted-hash pseudonym, or (internally) the 学籍号 too.

    Real 学籍号 embed the ID-card number and birth date, so by default every output shows only
    ``"S" + the first 10 hex digits of sha256(salt + 学籍号)``: the same pupil gets the same
    pseudonym in every table of one report, and nobody without the salt can compute it.
    """

    salt: str = _DEFAULT_SALT_PREFIX
    show: bool = False  # internal report: the 学籍号 and its pseudonym side by side
    salt_is_default: bool = True  # the office set no ``[privacy] id_salt``

    def pseudonym(self, student_id) -> str:
        """The pupil's pseudonym ("" for a missing id)."""
        if _missing(student_id) or str(student_id) == "":
            return ""
        digest = hashlib.sha256((self.salt + str(student_id)).encode("utf-8")).hexdigest()
        return "S" + digest[:10]

    def notes(self) -> list[str]:
        """What the outputs say about the pupils' ids (Chinese)."""
        if self.show:
            return ["“学籍号”列为真实学籍号，“学生编号（化名）”列为对外报告中使用的化名编号，可据此对照。"]
        notes = ["学生以化名编号（S 开头）标识，由学籍号加密计算得出，不能由化名编号反推学籍号；"
                 "同一学生在本报告各表中的化名编号相同。",
                 "需要查对具体学生时，请在本局电脑上对同一数据文件夹加 --show-ids 重新运行 zoning check："
                 "内部报告同时列出学籍号和化名编号（内部报告不得外传）。"]
        if self.salt_is_default:
            notes.append("尚未设置化名密钥：当前使用按数据文件夹生成的默认值。建议在 scenario.toml 中加入 "
                         "[privacy] id_salt = \"只有本局知道的一串字符\"，以免他人由学籍号推算出化名编号。")
        return notes

    def internal_warning(self) -> str:
        """The banner of an internal report (real ids shown)."""
        return ("内部报告：本报告含真实学籍号（学籍号含身份证号和出生日期），仅限本局内部查对使用，"
                "不得外传、公开或上传。对外请使用不加 --show-ids 生成的报告。")

    def footer(self) -> str:
        """The last line of the page."""
        if self.show:
            return "本报告含真实学籍号，仅限内部使用；报告不含姓名、出生日期、住址等其他个人信息。"
        return "学生仅以化名编号标识；报告不含学籍号、姓名、出生日期、住址等个人信息。"


def id_summary(ids: StudentIds) -> dict:
    """What the summary (and summary.json) records about pupils' ids."""
    return {"ids_shown": ids.show, "id_notes": ids.notes(),
            "id_warning": ids.internal_warning() if ids.show else ""}


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, (float, np.floating)) and math.isnan(value))


def _cell(col: str, value):
    """A value as people read it (Chinese yes/no, level names, percentages, dates)."""
    if _missing(value):
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


def display_table(result: AutumnResult, name: str, is_sample: bool = False,
                  ids: StudentIds | None = None) -> pd.DataFrame:
    """The finding ``name`` with Chinese headers and values, restricted to its listed columns.

    Pupils appear by their pseudonym (``ids``, default: pseudonyms with the default salt); an
    internal report (``ids.show``) has the 学籍号 followed by the pseudonym.
    """
    ids = ids or StudentIds()
    cols = COLUMNS_ZH[name]
    frame = result.findings()[name]
    out = pd.DataFrame({zh: [_cell(en, v) for v in frame[en]] if en in frame.columns else []
                        for en, zh in cols.items()}, columns=list(cols.values()))
    if name in ID_COLUMNS:
        out = _with_pseudonyms(out, frame, cols[ID_COLUMNS[name]], ID_COLUMNS[name], ids)
    if is_sample:
        out.insert(0, SAMPLE_LABEL, "示例数据（虚构）")
    return out


def _with_pseudonyms(out: pd.DataFrame, frame: pd.DataFrame, header: str, col: str,
                     ids: StudentIds) -> pd.DataFrame:
    """Replace the 学籍号 column by the pseudonyms (or add them after it, internally).

    A data problem's text that quotes its pupil's 学籍号 quotes the pseudonym instead.
    """
    raw = list(frame[col]) if col in frame.columns else []
    names = [ids.pseudonym(v) for v in raw]
    out = out.copy()
    problem = COLUMNS_ZH["data_problems"]["problem"]
    if problem in out.columns and not ids.show:
        out[problem] = [_hide_id(str(text), sid, alias) for text, sid, alias in zip(out[problem], raw, names)]
    position = list(out.columns).index(header)
    if ids.show:
        out.insert(position + 1, PSEUDONYM_HEADER, names)
        return out
    out[header] = names
    return out.rename(columns={header: PSEUDONYM_HEADER})


def _hide_id(text: str, student_id, alias: str) -> str:
    """``text`` with the pupil's 学籍号 replaced by the pseudonym."""
    if _missing(student_id) or not str(student_id):
        return text
    return text.replace(str(student_id), alias)


def summary_rows(result: AutumnResult, is_sample: bool | None = None, source: str | None = None,
                 ids: StudentIds | None = None, id_notes: bool = True) -> list[tuple[str, str]]:
    """The summary as (item, value) pairs, in report order.

    ``is_sample``, ``source`` and the notes on pupils' ids default to the summary's own (set by
    :func:`run_check`); ``id_notes=False`` leaves the notes out (the page shows them in its header).
    """
    s = result.summary
    is_sample = bool(s.get("is_sample", False)) if is_sample is None else is_sample
    source = s.get("source", "") if source is None else source
    rows = []
    if is_sample:
        rows.append(("数据说明", SAMPLE_NOTE))
    if source:
        rows.append(("数据来源", source))
    if id_notes:
        rows += _id_rows(s, ids)
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
    for line in s.get("reconciliation", []):
        rows.append(("人数核对", line))
    for line in s.get("reconciliation_schools", []):
        rows.append(("人数核对（各校基年）", line))
    for note in s.get("notes", []):
        rows.append(("说明", note))
    return rows


def pupil_accounts(data_dir=None, zones_dir=None, coords=None, mapping=None) -> tuple[list[str], list[str]]:
    """The reconciliation of the data the check reads: pupils read -> modelled per level, and per
    school for the base year (:func:`pipelines.inputs.reconciliation` on the ledger of
    :func:`pipelines.project.project_zones`, the one projection). A gap, or data the model cannot
    read, is stated ("不符：…"), never dropped."""
    try:
        projected = project_zones(data_dir, zones_dir, None, coords, mapping)
        rec = reconciliation(projected.loaded, projected.ledger)
    except DataError as err:
        return [f"不符：{p.problem}" for p in err.problems], []
    per_school = [f"{r.name}（{policy.LEVEL_NAMES_ZH.get(r.level, r.level)}）：学校表读入 {r.read:,.0f} 人 → "
                  f"台账基年 {r.modelled:,.0f} 人" for r in rec.schools.itertuples() if not pd.isna(r.modelled)]
    return rec.lines(), per_school


_RULES_ZH = [
    "超计划：某校某年级的新生人数多于计划人数，或该年级班数多于计划班数。",
    "超班额：小学（1–6 年级）每班不超过 45 人，初中（7–9 年级）不超过 50 人（九年一贯制学校分别适用）；"
    "56–65 人为大班额，66 人以上为超大班额。",
    "超校额：小学、初中不超过 2000 人，九年一贯制不超过 2500 人（学校表另有上限时从其规定）；学校的学位数更小时以学位数为限（与台账相同）。",
    "就近入学率：新生居住单元划入本校片区的比例；城区学校小学须达 100%，初中不低于 95%。",
    "违规转入（已存在超标准校额、班额的学校禁止转入学生）：转入当日学校已超校额（或学位数）、任何一个班已超班额"
    "（不论该生转入哪个班）或班数多于教室数，原因中写明是哪个班或哪个数字。转入当日人数＝全部新生和在读生＋转入日期早于"
    "该生的其他转入生；未填转入日期的按学年初人数判断。",
    "有数据问题的学籍行不参与上述核查，逐行列在“学籍数据问题”中，请更正后重新核查。",
]

#: findings whose every row is a finding (highlighted); the others are highlighted by their flags
_ALL_BAD = ("transfers", "data_problems")


def _bad_rows(name: str, raw: pd.DataFrame) -> list[bool]:
    """Which rows of a finding the page highlights."""
    if name == "class_summary":
        return list((raw["over_limit"] > 0).to_numpy())
    if "violation" in raw.columns:
        return list(raw["violation"].to_numpy(dtype=bool))
    return [name in _ALL_BAD] * len(raw)


def _page_table(table: pd.DataFrame, bad: list[bool]) -> dict:
    """A display table as the template's table (every value as text)."""
    return {"head": [str(c) for c in table.columns],
            "rows": [{"cls": "bad" if flag else "",
                      "cells": [{"text": str(v), "cls": ""} for v in row]}
                     for flag, row in zip(bad, table.itertuples(index=False))]}


def _id_rows(summary: dict, ids: StudentIds | None) -> list[tuple[str, str]]:
    """The summary rows on pupils' ids: from ``ids``, else from the summary (set by run_check)."""
    info = id_summary(ids) if ids is not None else summary
    rows = [("内部报告", info.get("id_warning", ""))] if info.get("ids_shown") else []
    return rows + [("学生编号", note) for note in info.get("id_notes", [])]


def render_html(result: AutumnResult, is_sample: bool = False, source: str = "",
                ids: StudentIds | None = None) -> str:
    """The report as one self-contained HTML page (pipelines/templates/autumn_report.html).

    Every data string reaches the page as an escaped template variable.
    """
    ids = ids or StudentIds()
    title = f"{result.year} 年秋季招生核查报告" + (f"（{SAMPLE_LABEL}）" if is_sample else "")
    frames = result.findings()
    sections = [{"heading": heading,
                 "table": _page_table(display_table(result, name, ids=ids), _bad_rows(name, frames[name]))}
                for name, (heading, _stem, _sheet) in FINDINGS.items()]
    return render_page(
        "autumn_report.html", title=title, sample_note=SAMPLE_NOTE if is_sample else "",
        privacy_banners=[ids.internal_warning()] if ids.show else [],
        privacy_notes=ids.notes(), ok=result.exit_code == 0,
        summary=summary_rows(result, is_sample, source, ids, id_notes=False), rules=_RULES_ZH, sections=sections,
        footer=ids.footer())


def _atomic_folder(out_dir: Path, write) -> Path:
    """Call ``write(tmp_dir)`` inside :func:`geodata.outputs.proposal_folder` (written whole or not at all)."""
    with proposal_folder(out_dir) as tmp:
        write(Path(tmp))
    return Path(out_dir)


def write_report(result: AutumnResult, out_dir: str | Path, is_sample: bool = False,
                 source: str = "", ids: StudentIds | None = None) -> Path:
    """Write the HTML report, the CSV files, the XLSX workbook and summary.json atomically.

    Every table goes through :mod:`geodata.tabular` (formula-like cells inert, the same bytes for
    the same result); nothing depends on the output folder's name or the date.

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
    ids : StudentIds, optional
        How pupils are named (default: pseudonyms with the default salt).

    Returns
    -------
    Path
        ``out_dir``.
    """
    ids = ids or StudentIds()
    summary = pd.DataFrame(summary_rows(result, is_sample, source, ids), columns=["项目", "数值"])
    if is_sample:
        summary.insert(0, SAMPLE_LABEL, "示例数据（虚构）")
    tables = {name: display_table(result, name, is_sample, ids) for name in FINDINGS}
    page = render_html(result, is_sample, source, ids)

    def write(tmp: Path) -> None:
        (tmp / "report.html").write_text(page, encoding="utf-8")
        write_csv(summary, tmp / "summary.csv")
        for name, table in tables.items():
            write_csv(table, tmp / f"{FINDINGS[name][1]}.csv")
        sheets = {"汇总": summary, **{FINDINGS[name][2]: table for name, table in tables.items()}}
        write_xlsx(tmp / f"autumn_check_{result.year}.xlsx", sheets)
        payload = {k: v for k, v in result.summary.items()}
        payload.update(is_sample=is_sample, source=source, exit_code=result.exit_code,
                       **id_summary(ids))
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
    id_salt: str = ""  # the scenario's [privacy] id_salt
    show_ids: bool = False  # the scenario's [privacy] show_ids
    folder_key: str = "sample"  # what the default salt is made of (see default_salt)
    roster_layout: FileLayout | None = None  # spreadsheet rows and the office's headers
    plan_layout: FileLayout | None = None


def file_layout(layer, frame) -> FileLayout | None:
    """How ``layer``'s file shows rows and headers (:class:`zoning.autumn.FileLayout`), for the
    table ``frame`` read from it (rows are located only when the two have the same rows)."""
    if layer is None or frame is None:
        return None
    rows = layer.sheet_rows if layer.sheet_rows is not None and len(layer.sheet_rows) == len(frame) else None
    headers = {spec: header for header, spec in layer.renamed.items() if header != spec}
    return FileLayout(None if rows is None else tuple(int(r) for r in rows), headers)


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
    parsed, problems = readers.read_mapping(mapping) if mapping else ({}, [])
    frame, problems, _ = read_roster_or_plan_layout(path, name, coords, mapping, units, crs)
    return frame, problems


def read_roster_or_plan_layout(path: Path, name: str, coords=None, mapping=None, units=None, crs=None
                               ) -> tuple[pd.DataFrame, list[Problem], FileLayout | None]:
    """:func:`read_roster_or_plan` with the file's :class:`~zoning.autumn.FileLayout`."""
    parsed, problems = readers.read_mapping(mapping) if mapping else ({}, [])
    layer, more = readers.read_layer(path, name, coords=coords, mapping=parsed)
    problems = [*problems, *more]
    if layer is None:
        raise DataError(problems)
    check = validate.check_roster if name == "roster" else validate.check_plan
    frame = check(layer, problems)
    if name == "roster" and hasattr(frame, "geometry") and units is not None and crs is not None:
        frame = validate._roster_units(frame.to_crs(crs), units)
    problems = validate.located_for_user(problems, {name: layer})
    _raise_whole_file(problems, name != "roster")
    return _plain(frame), problems, file_layout(layer, frame)


def _raise_whole_file(problems: list[Problem], any_error: bool = False) -> None:
    """Raise DataError for whole-file errors (or for any error when ``any_error``)."""
    bad = [p for p in problems if p.severity == "error" and (any_error or p.row is None)]
    if bad:
        raise DataError(bad)


def proposal_zones(zones_dir: Path, year: int, units: pd.DataFrame) -> pd.DataFrame:
    """The zones a proposal applies to the intake of ``year`` (:func:`zoning.autumn.zones_from_assignments`).

    The proposal is read by :func:`geodata.proposal.read_assignments`. With a second change
    (two zone maps) the map of ``year`` is the last one whose first intake is not after ``year``
    (the first map before any).
    """
    rows = zones_map_of_year(proposal.read_assignments(Path(zones_dir)), year)
    rows = rows.assign(school_id=rows["school_id"].replace({"": None}))
    return zones_from_assignments(rows, units)


def zones_map_of_year(assignments: pd.DataFrame, year: int) -> pd.DataFrame:
    """One row per unit and level: the zone map in force for the intake of ``year``."""
    ordered = assignments.sort_values("change_year", kind="stable")
    started = ordered[ordered["change_year"].fillna(year) <= year]
    first = ordered.drop_duplicates(["unit_id", "level"], keep="first")
    latest = started.drop_duplicates(["unit_id", "level"], keep="last")
    return pd.concat([latest, first], ignore_index=True).drop_duplicates(["unit_id", "level"], keep="first")


def load_inputs(data_dir=None, zones_dir=None, plan_file=None, roster_file=None, coords=None,
                mapping=None, year: int | None = None) -> CheckInputs:
    """Load the tables of a check from a data folder (None = the bundled sample) and overrides.

    The folder is read and checked by :func:`geodata.validate.check_folder`. Errors in the schools,
    units and plan stop the check (:class:`DataError`, exit code 2); problems of inputs the check
    does not read (households, barriers, crossings, roads, scenario) are logged and ignored; the
    roster's row problems are handed to :func:`check_enrollment`, which lists them per pupil.
    """
    is_sample = data_dir is None
    folder = Path(sample_dir()) if is_sample else Path(data_dir)
    checked = validate.check_folder(folder, coords=coords, mapping=mapping)
    files = checked.files
    names = {k: Path(v).name for k, v in files.items()}

    def belongs(p: Problem, name: str) -> bool:
        return name in names and p.file == names[name]

    # problems of inputs this check does not read do not stop it (``zoning validate`` lists them)
    unused = [p for p in checked.problems if p.severity in ("error", "warning")
              and (any(belongs(p, n) for n in ("households", "barriers", "crossings", "roads"))
              or (checked.scenario_path is not None and p.file == Path(checked.scenario_path).name))]
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
    roster_layout = file_layout(checked.read.get("roster"), roster)
    plan_layout = file_layout(checked.read.get("plan"), plan)
    if roster_file is not None:
        roster, roster_problems, roster_layout = read_roster_or_plan_layout(
            Path(roster_file), "roster", coords, mapping, layers["units"], checked.crs)
        roster_name = Path(roster_file).name
    if plan_file is not None:
        plan, _, plan_layout = read_roster_or_plan_layout(Path(plan_file), "plan", coords, mapping)
        plan_name = Path(plan_file).name
    if roster is None:
        raise DataError([Problem("roster", None, None, None, "没有学籍数据（roster）",
                                 "在数据文件夹中放入 roster.csv（或 学籍.xlsx），或用 --roster 指定文件")])
    if zones_dir is not None:
        zones = proposal_zones(Path(zones_dir), DEFAULT_YEAR if year is None else year, units)
    else:
        zones = zones_from_units(units)
    privacy = _privacy_settings(checked)
    return CheckInputs(roster=roster, schools=schools, zones=zones, plan=plan, is_sample=is_sample,
                       source="sample" if is_sample else str(data_dir), roster_file=roster_name,
                       plan_file=plan_name, roster_problems=roster_problems,
                       id_salt=privacy.id_salt, show_ids=privacy.show_ids,
                       folder_key="sample" if is_sample else str(folder.resolve()),
                       roster_layout=roster_layout, plan_layout=plan_layout)


def _privacy_settings(checked) -> Privacy:
    """The folder's ``[privacy]`` settings; the safe defaults when its scenario is absent or invalid."""
    scenario = checked.scenario
    if scenario is None:
        if checked.scenario_path is not None:
            log.warning("%s 有错误，未能读取 [privacy] 设置：学生编号按默认方式化名",
                        Path(checked.scenario_path).name)
        return Privacy()
    return scenario.privacy


def student_ids(inputs: CheckInputs, show_ids: bool | None = None, id_salt: str | None = None
                ) -> StudentIds:
    """How the report names pupils: the scenario's [privacy] settings, overridden by the arguments."""
    salt = inputs.id_salt if id_salt is None else id_salt
    show = inputs.show_ids if show_ids is None else bool(show_ids)
    if salt:
        return StudentIds(salt=salt, show=show, salt_is_default=False)
    return StudentIds(salt=default_salt(inputs.folder_key), show=show, salt_is_default=True)


def run_check(data_dir=None, year: int = DEFAULT_YEAR, zones_dir=None, plan_file=None, roster_file=None,
              out_dir=None, coords=None, mapping=None, town_townships=DEFAULT_TOWN_TOWNSHIPS, *,
              show_ids: bool | None = None, id_salt: str | None = None
              ) -> tuple[AutumnResult, Path]:
    """Load, check and write: the work behind ``zoning check``.

    Pupils appear by salted-hash pseudonyms unless ``show_ids`` (``zoning check --show-ids``, for
    internal use) or the scenario's ``[privacy] show_ids`` says otherwise; ``show_ids`` and
    ``id_salt`` override the scenario's ``[privacy]`` settings when given.

    Returns
    -------
    result : AutumnResult
    out_dir : Path
        The folder written (default ``autumn_check_<year>`` in the working directory).
    """
    inputs = load_inputs(data_dir, zones_dir, plan_file, roster_file, coords, mapping, year)
    result = check_enrollment(inputs.roster, inputs.schools, inputs.zones, inputs.plan, year,
                              town_townships=tuple(town_townships), roster_file=inputs.roster_file,
                              plan_file=inputs.plan_file, extra_problems=inputs.roster_problems,
                              roster_layout=inputs.roster_layout, plan_layout=inputs.plan_layout)
    out = Path(out_dir) if out_dir is not None else Path(f"autumn_check_{year}")
    source = "内置示例" if inputs.is_sample else inputs.source
    ids = student_ids(inputs, show_ids, id_salt)
    accounts, per_school = pupil_accounts(data_dir, zones_dir, coords, mapping)
    result.summary.update(is_sample=inputs.is_sample, source=source, reconciliation=accounts,
                          reconciliation_schools=per_school, **id_summary(ids))
    write_report(result, out, is_sample=inputs.is_sample, source=source, ids=ids)
    return result, out
