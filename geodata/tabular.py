"""Every table a person opens in Excel is written here: CSV and XLSX, inert and reproducible.

* **Inert.** A text cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) would
  be taken by Excel or WPS as a formula: ``=HYPERLINK(...)`` in a 小区 name becomes a live link in a
  published zone table. CSV cells of that kind get a leading apostrophe (the usual defence); XLSX
  cells are stored as text with Excel's "quote prefix" flag, so they show exactly what the data holds.
* **Reproducible.** The same table gives the same bytes: the XLSX's document properties and the
  zip entries' timestamps are fixed, CSV line endings are ``\\n``.

Only strings are touched: numbers, including negative numbers, stay numbers.
"""
from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from pathlib import Path

import pandas as pd
from openpyxl import Workbook, load_workbook

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: the fixed creation / modification time written into every XLSX (1980-01-01 is the zip epoch)
FIXED_TIME = _dt.datetime(1980, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_TIME = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def is_formula_like(value) -> bool:
    """True for a string a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def inert_text(value):
    """The CSV form of one cell: a formula-like string gets a leading apostrophe."""
    return "'" + value if is_formula_like(value) else value


def inert_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and headers cannot run as formulas in a CSV."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(inert_text)
    out.columns = [inert_text(c) for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path, index: bool = False) -> Path:
    """Write a table as UTF-8 CSV with BOM (Excel opens it directly), formula-like cells inert."""
    path = Path(path)
    inert_frame(df).to_csv(path, index=index, encoding="utf-8-sig", lineterminator="\n")
    return path


def make_inert(wb: Workbook) -> Workbook:
    """Store every formula-like cell of ``wb`` as plain text (the project writes no formulas)."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or is_formula_like(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
    return wb


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite an XLSX (a zip) with fixed entry timestamps and fixed document times."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_TIME.sub(rb"\g<1>1980-01-01T00:00:00Z\g<2>", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, content)
    return buf.getvalue()


def save_workbook(wb: Workbook, path) -> Path:
    """Save an openpyxl workbook: inert cells, fixed metadata, the same bytes for the same content."""
    path = Path(path)
    make_inert(wb)
    wb.properties.creator = "pingluo-zoning"
    wb.properties.lastModifiedBy = "pingluo-zoning"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_fixed_zip(buf.getvalue()))
    return path


def write_xlsx(path, sheets: dict[str, pd.DataFrame], index: bool = False, widths: dict | None = None,
               freeze_header: bool = True) -> Path:
    """Write one sheet per table (name -> DataFrame) through :func:`save_workbook`.

    ``widths`` maps a sheet name to a list of column widths (characters), for tables people read.
    """
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, sheet_name=name, index=index)
            ws = xw.sheets[name]
            if freeze_header and len(df.columns):
                ws.freeze_panes = "A2"
            for i, width in enumerate((widths or {}).get(name, [])):
                ws.column_dimensions[ws.cell(row=1, column=i + 1).column_letter].width = width
        make_inert(xw.book)
    # pandas saved the workbook into buf with the time of day in it: load it and save it fixed
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    return save_workbook(wb, path)
