"""Payloads in the data of the three reports (issue 15, "data is data"; issue 16, templates).

Copies of a small autumn data folder, of the indicators' data folder and of three received proposal
folders get payloads in school names, unit names, townships, student ids, class ids, folder names,
indicator tables and solver statuses: strings that would do something if they were template
source, HTML, a script or a spreadsheet formula. The real commands (``zoning check``, ``zoning
indicators``, ``zoning compare``) run on them twice, into differently named folders; then:

* every HTML page, opened in headless Chromium with the network cut, shows each payload literally
  and runs nothing (no ``window.__pwned``, no dialog, no script or image element, no request);
* every XLSX cell holding a formula-like payload is text, every such CSV cell starts with ``'``;
* both runs give the same bytes;
* the autumn report never shows a raw 学籍号 unless asked to (``show_ids``), and then as inert text.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from jinja2 import UndefinedError

import cli
from pipelines.render import render_page
from pipelines import autumn as rep

DATA = Path(__file__).resolve().parent / "data"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

PAYLOADS = (
    "{{7*7}}",
    "{% if true %}X{% endif %}",
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=1">',
    '=HYPERLINK("http://e.x","y")',
    "=1+2",
)
FORMULAS = tuple(p for p in PAYLOADS if p.startswith("="))
#: the autumn folder: school names, the rural township, class ids and student ids
AUTUMN_SCHOOLS = {"P1": PAYLOADS[4], "J1": PAYLOADS[0], "N1": PAYLOADS[3]}
AUTUMN_TOWNSHIP = PAYLOADS[5]  # of U3, the rural unit (城关镇 stays the town)
CLASS_IDS = [f"{p}班" for p in PAYLOADS]
STUDENT_IDS = [f"{p}#{k}" for k, p in enumerate(PAYLOADS)]
DUPLICATE_ID = f"{PAYLOADS[2]}#dup"  # two roster rows: a data problem naming the pupil
#: the indicators' data folder: school names (S09 opens in 2023: it is in the 2024 tables)
INDICATOR_SCHOOLS = {"S08": PAYLOADS[4], "S09": PAYLOADS[5], "J04": "".join(PAYLOADS[:4])}
#: received proposals: folder name (a column of the comparison), source, solver status
PROPOSALS = (("=1+2", "compare_a", PAYLOADS[2]),
             ('"><img src=x onerror="window.__pwned=1">', "compare_b", PAYLOADS[0]),
             ("{% if true %}X{% endif %}", "compare_a", PAYLOADS[1]))
#: the proposals' indicators.csv names (shown in "低于标准的学校与项目")
PROPOSAL_SCHOOLS = {"S08": PAYLOADS[4], "S09": PAYLOADS[5], "J04": PAYLOADS[3]}


# --- the payload copies ---------------------------------------------------------------------------


def autumn_folder(root: Path) -> Path:
    """tests/data/autumn_small with payloads; six new P1 pupils moved to U3 (out of zone)."""
    folder = root / "autumn"
    shutil.copytree(DATA / "autumn_small", folder)
    schools = pd.read_csv(folder / "schools.csv", dtype=str, keep_default_na=False)
    schools["name"] = schools["school_id"].map(AUTUMN_SCHOOLS)
    schools.to_csv(folder / "schools.csv", index=False)
    units = pd.read_csv(folder / "units.csv", dtype=str, keep_default_na=False)
    units["name"] = [PAYLOADS[k % len(PAYLOADS)] for k in range(len(units))]
    units.loc[units["unit_id"] == "U3", "township"] = AUTUMN_TOWNSHIP
    units.to_csv(folder / "units.csv", index=False)
    roster = pd.read_csv(folder / "roster.csv", dtype=str, keep_default_na=False)
    new_p1 = roster.index[(roster["school_id"] == "P1") & (roster["entry"] == "new")]
    for k, i in enumerate(new_p1[:len(PAYLOADS)]):
        roster.loc[i, ["student_id", "class_id", "unit_id"]] = [STUDENT_IDS[k], CLASS_IDS[k], "U3"]
    roster.loc[new_p1[len(PAYLOADS):len(PAYLOADS) + 2], "student_id"] = DUPLICATE_ID
    roster.to_csv(folder / "roster.csv", index=False)
    return folder


def indicators_folder(root: Path) -> Path:
    folder = root / "indicators"
    shutil.copytree(DATA / "compare_data", folder)
    schools = pd.read_csv(folder / "schools.csv", dtype=str, keep_default_na=False)
    schools["name"] = schools["school_id"].map(INDICATOR_SCHOOLS)
    schools.to_csv(folder / "schools.csv", index=False)
    return folder


def proposal_folders(root: Path) -> list[Path]:
    out = []
    for name, source, status in PROPOSALS:
        folder = root / "received" / name
        shutil.copytree(DATA / source, folder)
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        metrics["status"] = status
        (folder / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False), encoding="utf-8")
        ind = pd.read_csv(folder / "indicators.csv", dtype=str, keep_default_na=False)
        ind["name"] = ind["school_id"].map(PROPOSAL_SCHOOLS)
        ind.to_csv(folder / "indicators.csv", index=False)
        out.append(folder)
    return out


def zoning(*args) -> None:
    """Run one real command; it must end without a traceback (exit 0 or 1: a finding)."""
    result = CliRunner().invoke(cli.main, [str(a) for a in args])
    assert result.exit_code in (0, 1), result.output + (result.stderr or "") + repr(result.exception)
    assert "Traceback" not in result.output + (result.stderr or "")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Each report written twice, into folders of different names: name -> (first, second)."""
    root = tmp_path_factory.mktemp("payloads")
    autumn, data, proposals = autumn_folder(root), indicators_folder(root), proposal_folders(root)
    commands = {
        "check": ["check", autumn, "--year", 2023],
        "indicators": ["indicators", data],
        "indicators_2024": ["indicators", data, "--zones", proposals[1], "--year", 2024],
        "compare": ["compare", *proposals],
    }
    out = {}
    for name, args in commands.items():
        first, second = root / f"{name}_first", root / "elsewhere" / f"另一个{name}"
        for folder in (first, second):
            zoning(*args, "--out", folder)
        out[name] = (first, second)
    return out


#: what each page must show literally
SHOWN = {
    "check": [*AUTUMN_SCHOOLS.values(), AUTUMN_TOWNSHIP, *CLASS_IDS],
    "indicators": list(INDICATOR_SCHOOLS.values()),  # S09 (no pupils yet) in the notes
    "indicators_2024": list(INDICATOR_SCHOOLS.values()),
    "compare": [p[0] for p in PROPOSALS] + [p[2] for p in PROPOSALS] + list(PROPOSAL_SCHOOLS.values()),
}
#: the formula-like payloads each report's tables hold (S09 has no pupils in the base year)
IN_TABLES = {"check": set(FORMULAS), "indicators": {PAYLOADS[4]}, "indicators_2024": set(FORMULAS),
             "compare": set(FORMULAS)}
PAGES = {"check": "report.html", "indicators": "indicators.html", "indicators_2024": "indicators.html",
         "compare": "compare.html"}


def files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.is_file())


# --- pages ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, path: Path) -> dict:
    """Open a page offline; what it shows and what it tried to do."""
    page = browser.new_page()
    seen = {"requests": [], "dialogs": [], "errors": []}

    def route(r):
        seen["requests"].append(r.request.url)
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            r.abort()

    page.route("**/*", route)
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    seen["text"] = page.inner_text("body")
    seen["pwned"] = page.evaluate("() => window.__pwned === undefined ? null : window.__pwned")
    seen["active"] = page.evaluate(
        "() => document.querySelectorAll('script, img, iframe, object, embed, [onerror]').length")
    page.close()
    return seen


@pytest.mark.browser
@pytest.mark.parametrize("name", list(PAGES))
def test_pages_show_payloads_literally_and_run_nothing(runs, browser, name):
    seen = open_page(browser, runs[name][0] / PAGES[name])
    for value in SHOWN[name]:
        assert value in seen["text"], (name, value)
    assert seen["pwned"] is None and seen["active"] == 0, (name, seen["pwned"], seen["active"])
    assert not seen["dialogs"] and not seen["errors"], seen
    assert all(u.startswith("file://") for u in seen["requests"]), seen["requests"]


@pytest.mark.browser
def test_comparison_map_runs_nothing(runs, browser):
    """The comparison's map (maps.compare) shows received proposals too: nothing of theirs runs."""
    path = runs["compare"][0] / "compare_map.html"
    assert path.exists()
    seen = open_page(browser, path)
    assert seen["pwned"] is None and not seen["dialogs"], seen


# --- spreadsheets -------------------------------------------------------------------------------------


def xlsx_cells(path: Path) -> list:
    wb = openpyxl.load_workbook(path)
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None]


def csv_cells(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [v for row in csv.reader(fh) for v in row]


@pytest.mark.parametrize("name", list(PAGES))
def test_formula_like_cells_are_text(runs, name):
    folder = runs[name][0]
    books, tables = list(folder.glob("*.xlsx")), list(folder.glob("*.csv"))
    assert books and tables
    found_xlsx, found_csv = set(), set()
    for book in books:
        for cell in xlsx_cells(book):
            assert cell.data_type != "f", (book.name, cell.coordinate, cell.value)
            if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "@")):
                assert cell.data_type == "s" and cell.quotePrefix, (book.name, cell.coordinate)
                found_xlsx.update(f for f in FORMULAS if cell.value.startswith(f))
    for table in tables:
        for value in csv_cells(table):
            assert not value.startswith(("=", "+", "@")), (table.name, value)
            found_csv.update(f for f in FORMULAS if value.startswith("'" + f))
    assert found_xlsx == IN_TABLES[name], (name, found_xlsx)  # the payloads were there, and inert
    assert found_csv == IN_TABLES[name], (name, found_csv)


# --- the same bytes whatever the output folder is called --------------------------------------------


@pytest.mark.parametrize("name", list(PAGES))
def test_same_input_same_bytes_in_differently_named_folders(runs, name):
    first, second = runs[name]
    assert [f.name for f in files(first)] == [f.name for f in files(second)]
    for f in files(first):
        assert f.read_bytes() == (second / f.name).read_bytes(), (name, f.name)
        if f.suffix in (".html", ".csv", ".json"):
            assert first.name not in f.read_text(encoding="utf-8-sig"), (name, f.name)


# --- the pupils' ids ---------------------------------------------------------------------------------


def readable(folder: Path) -> dict[str, str]:
    """Every file of a report as the text a person could read from it."""
    out = {}
    for f in files(folder):
        if f.suffix == ".xlsx":
            out[f.name] = "\n".join(str(c.value) for c in xlsx_cells(f))
        else:
            out[f.name] = f.read_text(encoding="utf-8-sig")
    return out


def test_raw_student_ids_appear_nowhere_by_default(runs):
    roster = pd.read_csv(runs["check"][0].parent / "autumn" / "roster.csv", dtype=str,
                         keep_default_na=False)
    ids = set(roster["student_id"])
    assert set(STUDENT_IDS) | {DUPLICATE_ID} <= ids
    texts = readable(runs["check"][0])
    for name, text in texts.items():
        leaked = [i for i in ids if i in text]
        assert not leaked, (name, leaked[:5])
    # the findings still name the pupils, by pseudonym: the six out-of-zone pupils and the duplicate
    ooz = pd.read_csv(runs["check"][0] / "out_of_zone.csv", encoding="utf-8-sig", dtype=str)
    assert len(ooz) == len(STUDENT_IDS) and ooz[rep.PSEUDONYM_HEADER].str.fullmatch(r"S[0-9a-f]{10}").all()
    problems = pd.read_csv(runs["check"][0] / "data_problems.csv", encoding="utf-8-sig", dtype=str)
    assert problems[rep.PSEUDONYM_HEADER].nunique() == 1 and len(problems) == 2


@pytest.mark.browser
def test_internal_report_shows_ids_literally_and_inert(runs, browser, tmp_path):
    folder = runs["check"][0].parent / "autumn"
    _result, out = rep.run_check(folder, 2023, out_dir=tmp_path / "internal", show_ids=True)
    seen = open_page(browser, out / "report.html")
    for student_id in STUDENT_IDS:
        assert student_id in seen["text"], student_id
    assert seen["pwned"] is None and seen["active"] == 0 and not seen["dialogs"]
    default = pd.read_csv(runs["check"][0] / "out_of_zone.csv", encoding="utf-8-sig", dtype=str)
    internal = pd.read_csv(out / "out_of_zone.csv", encoding="utf-8-sig", dtype=str)
    # the same pupils under the same pseudonyms, now next to their 学籍号 (inert where formula-like)
    assert sorted(internal[rep.PSEUDONYM_HEADER]) == sorted(default[rep.PSEUDONYM_HEADER])
    expected = {("'" + i) if i.startswith("=") else i for i in STUDENT_IDS}
    assert set(internal["学籍号"]) == expected
    cells = [c for c in xlsx_cells(out / "autumn_check_2023.xlsx") if c.value in STUDENT_IDS]
    assert {c.value for c in cells} == set(STUDENT_IDS)
    assert all(c.data_type == "s" for c in cells)


def test_templates_take_data_as_escaped_variables_and_refuse_missing_ones():
    page = render_page("compare.html", proposals=[{"name": "{{7*7}}", "dir": '<b onclick="x">'}],
                       map_file="", notes=["{% if true %}X{% endif %}"], columns=[], rows=[])
    assert "{{7*7}}" in page and "{% if true %}X{% endif %}" in page
    assert "&lt;b onclick=&#34;x&#34;&gt;" in page and "<b " not in page
    with pytest.raises(UndefinedError):
        render_page("compare.html", proposals=[], map_file="", notes=[], columns=[])  # no rows
