"""Data problems collected in one pass and raised together (after osmnx's ``_errors``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "说明"}
COLUMNS_ZH = ("文件", "行", "编号", "列", "问题", "修改建议")


@dataclass(frozen=True)
class Problem:
    """One row of a validation report.

    Parameters
    ----------
    file : str
        The file as the user named it (e.g. ``schools.csv``).
    row : int or None
        1-based data row (the first row below the header is 1): the position the checks use;
        None for a whole-file problem.
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
    sheet_row : int or None
        The row as a spreadsheet program shows it (the header row counts, and so do title and
        blank rows above it): what the report prints for CSV and XLSX files. None for files
        without rows of their own (GeoJSON, GeoPackage, Shapefile: the report prints ``row``, the
        feature number).
    header : str or None
        The user's own header of ``column`` when it differs (e.g. ``一年级人数``).
    """

    file: str
    row: int | None
    id: str | None
    column: str | None
    problem: str
    fix: str
    severity: str = "error"
    sheet_row: int | None = None
    header: str | None = None

    @property
    def shown_row(self) -> int | None:
        """The row number the report prints (spreadsheet row when known, else ``row``)."""
        return self.sheet_row if self.sheet_row is not None else self.row

    @property
    def shown_column(self) -> str | None:
        """The column as the report prints it: the user's header, with the standard name."""
        if self.header and self.column and self.header != self.column:
            return f"{self.header}（{self.column}）"
        return self.column

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
            "" if p.shown_row is None else str(p.shown_row),
            p.id or "",
            p.shown_column or "",
            p.problem,
            p.fix,
            SEVERITY_ZH.get(p.severity, p.severity),
        ))
    return "\n".join(" | ".join(r) for r in rows)
