"""``zoning validate``: every problem of a data folder, history (历年在校生) included.

The screen shows one line per file and kind of problem (count and first rows); ``--out 问题清单.xlsx``
writes every problem (file, row as Excel shows it, the user's header, problem, fix); the pupils
read are reconciled (:mod:`zoning.reconcile`) and printed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geodata.dataset import households_totals, validate_checked
from geodata.sample import sample_dir
from geodata.tabular import write_xlsx
from zoning.errors import DataError, Problem, errors, format_problems
from zoning.reconcile import reconcile

SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "说明"}
#: Rows listed on screen per group before "…".
FIRST_ROWS = 5
_NUMBERS = re.compile(r"[“\"].*?[”\"]|\d[\d,.]*")


@dataclass
class ValidateOutcome:
    problems: list[Problem]
    is_sample: bool
    reconciliation: list[str] = field(default_factory=list)
    written: Path | None = None

    @property
    def n_errors(self) -> int:
        return len(errors(self.problems))

    @property
    def n_warnings(self) -> int:
        return sum(p.severity == "warning" for p in self.problems)

    @property
    def n_notes(self) -> int:
        return sum(p.severity == "info" for p in self.problems)

    def report(self) -> str:
        """The full problems table (文件, 行, 编号, 列, 问题, 修改建议)."""
        return format_problems(self.problems)

    def grouped(self) -> str:
        """One line per file, severity and kind of problem: count, first rows, fix."""
        return grouped_report(self.problems)


def problem_kind(p: Problem) -> str:
    """A problem's text with the row's own values taken out (quoted values and numbers)."""
    return _NUMBERS.sub("…", p.problem)


def grouped_report(problems: list[Problem]) -> str:
    if not problems:
        return "没有发现问题。"
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.severity, p.file, p.shown_column or "", problem_kind(p)), []).append(p)
    order = {"error": 0, "warning": 1, "info": 2}
    lines = []
    for key in sorted(groups, key=lambda k: (order.get(k[0], 3), k[1])):
        items = groups[key]
        sev, file, column, _ = key
        first = items[0]
        where = f"{file}" + (f" 列 {column}" if column else "")
        if len(items) == 1:
            row = "" if first.shown_row is None else f" 第 {first.shown_row} 行"
            row += f"（{first.id}）" if first.id else ""
            lines.append(f"[{SEVERITY_ZH.get(sev, sev)}] {where}{row}：{first.problem}。{first.fix}")
            continue
        rows = [f"{p.shown_row}" + (f"（{p.id}）" if p.id else "") for p in items if p.shown_row is not None]
        shown = "、".join(rows[:FIRST_ROWS]) + ("…" if len(rows) > FIRST_ROWS else "")
        lines.append(f"[{SEVERITY_ZH.get(sev, sev)}] {where}：{len(items)} 处，如第 {shown} 行：{first.problem}。{first.fix}")
    return "\n".join(lines)


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Every problem as the XLSX lists it (the user's header and Excel's row)."""
    return pd.DataFrame([{
        "级别": SEVERITY_ZH.get(p.severity, p.severity), "文件": p.file,
        "行（Excel）": p.shown_row, "编号": p.id or "", "列": p.header or p.column or "",
        "标准列名": p.column or "", "问题": p.problem, "修改建议": p.fix,
    } for p in problems], columns=["级别", "文件", "行（Excel）", "编号", "列", "标准列名", "问题", "修改建议"])


def write_problem_list(problems: list[Problem], out, data_dir) -> Path:
    """Write ``问题清单.xlsx``; never inside the data folder (it would become one of its files)."""
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise DataError([Problem(str(out), None, None, "--out", "问题清单应为 .xlsx 文件", "例如 --out 问题清单.xlsx")])
    folder = Path(data_dir).resolve()
    if folder == out.resolve().parent or folder in out.resolve().parents:
        raise DataError([Problem(str(out), None, None, "--out", "问题清单不能写在数据文件夹里",
                                 "写到数据文件夹之外，例如 --out ../问题清单.xlsx")])
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_xlsx(out, {"问题清单": problems_frame(problems)},
                      widths={"问题清单": [6, 22, 10, 14, 22, 18, 60, 50]})


def reconciliation_lines(checked) -> list[str]:
    """Pupils read -> in the schools' base year, per level (what validate can say before a model)."""
    schools, units = checked.layers.get("schools"), checked.layers.get("units")
    if schools is None or units is None:
        return []
    rec = reconcile(pd.DataFrame(schools.drop(columns="geometry")), pd.DataFrame(units.drop(columns="geometry")),
                    rule=checked.enrollment_rule, households=households_totals(checked.aggregation))
    return rec.lines()


def run_validate(data_dir=None, coords=None, mapping=None, out=None) -> ValidateOutcome:
    """Check a data folder (the bundled sample when None) and collect every problem at once."""
    problems, checked = validate_checked(data_dir, coords=coords, mapping=mapping)
    outcome = ValidateOutcome(problems, data_dir is None)
    try:
        outcome.reconciliation = reconciliation_lines(checked)
    except (KeyError, ValueError):  # columns missing: already reported as problems
        outcome.reconciliation = []
    if out is not None:
        outcome.written = write_problem_list(problems, out, data_dir if data_dir is not None else sample_dir())
    return outcome
