"""Data problems collected in one pass and raised together (after osmnx's ``_errors``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

COLUMNS_ZH = ("文件", "行", "编号", "列", "问题", "修改建议")


@dataclass(frozen=True)
class Problem:
    """One row of a validation report.

    Parameters
    ----------
    file : str
        The file as the user named it (e.g. ``schools.csv``).
    row : int or None
        1-based data row (the header is row 0); None for a whole-file problem.
    id : str or None
        The id of the row (school_id, unit_id, ...), when known.
    column : str or None
        The column concerned.
    problem : str
        What is wrong, in Chinese.
    fix : str
        How to fix it, in Chinese.
    severity : str
        ``"error"`` (stops the run) or ``"warning"`` (repaired or worth a look).
    """

    file: str
    row: int | None
    id: str | None
    column: str | None
    problem: str
    fix: str
    severity: str = "error"

    def as_dict(self) -> dict:
        return asdict(self)


class DataError(Exception):
    """Raised with every problem found, so that the user fixes them all in one go."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        n = sum(p.severity == "error" for p in self.problems)
        super().__init__(f"输入数据有 {n} 处错误：\n" + format_problems(self.problems))


def errors(problems: list[Problem]) -> list[Problem]:
    """The problems of severity ``error``."""
    return [p for p in problems if p.severity == "error"]


def raise_if_errors(problems: list[Problem]) -> None:
    """Raise :class:`DataError` with all problems when any is an error."""
    if errors(problems):
        raise DataError(problems)


def format_problems(problems: list[Problem]) -> str:
    """Render problems as a plain-text table (文件, 行, 编号, 列, 问题, 修改建议)."""
    if not problems:
        return "没有发现问题。"
    rows = [COLUMNS_ZH + ("级别",)]
    for p in problems:
        rows.append((
            p.file,
            "" if p.row is None else str(p.row),
            p.id or "",
            p.column or "",
            p.problem,
            p.fix,
            "错误" if p.severity == "error" else "警告",
        ))
    return "\n".join(" | ".join(r) for r in rows)
