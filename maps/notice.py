"""The 招生范围 notice (招生范围公告) as county bureaus publish it: for each level and school, its
address, then its 乡镇/街道 with their 小区/村 (and address ranges where the units carry them).

Written as a printable A4 PDF (matplotlib's PDF backend, the Chinese font embedded as TrueType)
and as DOCX (python-docx). Both come from :func:`notice_blocks`, so they say the same thing. Names
are data: matplotlib draws them with ``parse_math=False``. The files are deterministic (no dates).
"""
from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import docx
import matplotlib
import pandas as pd
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from maps import layers
from maps.images import FONTS
from maps.proposal import LEVEL_ZH, SAMPLE_NOTICE, Proposal
from maps.publication import split_list, title
from zoning.scenario import Publish

CN_NUMBERS = "一二三四五六七八九十"
A4_INCHES = (8.27, 11.69)
MARGIN_IN = 0.95
FIXED_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
STYLE = {"title": (16, "bold", "center"), "h1": (13, "bold", "left"), "h2": (11.5, "bold", "left"),
         "para": (10.5, "normal", "left"), "sign": (10.5, "normal", "right"), "warn": (11, "bold", "center")}


def _cn(i: int) -> str:
    if i < 10:
        return CN_NUMBERS[i]
    tens, ones = divmod(i + 1, 10)
    return (CN_NUMBERS[tens - 1] if tens > 1 else "") + "十" + (CN_NUMBERS[ones - 1] if ones else "")


def _unit_text(name: str, addresses) -> str:
    parts = split_list(addresses)
    return f"{name}（{'、'.join(parts)}）" if parts else name


def notice_blocks(p: Proposal, info: Publish) -> list[tuple[str, str]]:
    """The notice as (style, text) blocks: title, preamble, one section per level and school, signature."""
    blocks: list[tuple[str, str]] = [("title", title(info, "义务教育学校招生范围"))]
    if p.is_sample:
        blocks.append(("warn", SAMPLE_NOTICE))
    who = info.county or "本县"
    blocks.append(("para", f"根据义务教育“免试、就近、划片”入学的规定，现将{who}{info.school_year}"
                           "公办义务教育学校招生范围公布如下。适龄儿童、少年按户籍（或居住证）所在的小区/村到对口学校报名。"))
    if info.notice:
        blocks.append(("para", info.notice))
    a = layers.assignment_table(p)
    extra = p.units.drop(columns="geometry").drop_duplicates("unit_id").set_index("unit_id")
    addr = extra["addresses"] if "addresses" in extra.columns else pd.Series(dtype=object)
    schools = p.schools.drop_duplicates("school_id").set_index("school_id")
    for li, level in enumerate(p.levels):
        blocks.append(("h1", f"{_cn(li)}、{LEVEL_ZH[level]}"))
        sub = a[(a["level"] == level) & a["school_id"].notna()]
        for si, (sid, g) in enumerate(sub.groupby("school_id", sort=True)):
            name = schools["name"].get(sid, sid) if "name" in schools.columns else sid
            address = schools["address"].get(sid) if "address" in schools.columns else None
            head = f"（{_cn(si)}）{name}"
            if isinstance(address, str) and address.strip():
                head += f"　地址：{address.strip()}"
            blocks.append(("h2", head))
            for town, tg in g.groupby(g["township"].replace("", "其他"), sort=True):
                names = [_unit_text(str(n), addr.get(u)) for u, n in
                         sorted(zip(tg["unit_id"], tg["name"]), key=lambda t: (str(t[1]), str(t[0])))]
                blocks.append(("para", f"{town}：{'、'.join(names)}。"))
    blocks.append(("para", "已在校学生不受片区调整影响。"))
    if info.phone:
        blocks.append(("para", f"咨询电话：{info.phone}"))
    if info.office:
        blocks.append(("sign", info.office))
    if info.school_year:
        blocks.append(("sign", info.school_year))
    return blocks


# ----------------------------------------------------------------------------------------- PDF
def _char_em(ch: str) -> float:
    return 0.55 if ord(ch) < 0x2E80 else 1.0


def wrap(text: str, width_em: float) -> list[str]:
    """Break ``text`` into lines of at most ``width_em`` (CJK characters 1 em, others about half)."""
    lines, cur, w = [], "", 0.0
    for ch in text:
        cw = _char_em(ch)
        if w + cw > width_em and cur:
            if ch in "，。、；：）」』”！？" and w + cw <= width_em + 1:  # no line starts with punctuation
                cur += ch
                lines.append(cur)
                cur, w = "", 0.0
                continue
            lines.append(cur)
            cur, w = "", 0.0
        cur += ch
        w += cw
    if cur:
        lines.append(cur)
    return lines or [""]


def _laid_out(blocks) -> list[list[tuple[str, str, float]]]:
    """Pages of (style, line, y in inches from the top)."""
    usable_w = A4_INCHES[0] - 2 * MARGIN_IN
    bottom = A4_INCHES[1] - MARGIN_IN
    pages, page, y = [], [], MARGIN_IN
    for style, text in blocks:
        size, _, _ = STYLE[style]
        em_in = size / 72
        indent = 2 if style == "para" else 0
        lines = wrap("\u3000" * indent + text, usable_w / em_in)
        gap = em_in * (0.9 if style in ("title", "h1") else 0.35)
        for k, line in enumerate(lines):
            step = em_in * 1.65
            if y + step > bottom:
                pages.append(page)
                page, y = [], MARGIN_IN
            page.append((style, line, y + em_in))
            y += step
        y += gap
    pages.append(page)
    return pages


def write_notice_pdf(blocks, path) -> Path:
    """A4 pages, page numbers at the foot, the Chinese font embedded (TrueType, ``pdf.fonttype`` 42)."""
    path = Path(path)
    pages = _laid_out(blocks)
    with matplotlib.rc_context(FONTS), PdfPages(path, metadata={"CreationDate": None, "Creator": "zoning"}) as pdf:
        for n, lines in enumerate(pages, start=1):
            fig = Figure(figsize=A4_INCHES)
            for style, line, y in lines:
                size, weight, align = STYLE[style]
                x = {"left": MARGIN_IN, "center": A4_INCHES[0] / 2, "right": A4_INCHES[0] - MARGIN_IN}[align]
                fig.text(x / A4_INCHES[0], 1 - y / A4_INCHES[1], line, fontsize=size, fontweight=weight,
                         ha=align, va="baseline", color="#b00020" if style == "warn" else "black",
                         parse_math=False)
            fig.text(0.5, 0.5 * MARGIN_IN / A4_INCHES[1], f"第 {n} 页，共 {len(pages)} 页", fontsize=9,
                     ha="center", va="center", color="#444")
            pdf.savefig(fig)
    return path


# ---------------------------------------------------------------------------------------- DOCX
def _fixed_zip(data: bytes) -> bytes:
    """The same archive with fixed entry times (the same notice gives the same bytes)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in sorted(src.infolist(), key=lambda i: (i.filename != "[Content_Types].xml", i.filename)):
            info = zipfile.ZipInfo(item.filename, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()


def write_notice_docx(blocks, path) -> Path:
    """The notice as a Word document (A4, 宋体/Noto for Chinese), for the office to edit before posting."""
    path = Path(path)
    d = docx.Document()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Cm(2.4))
    align = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}
    for style, text in blocks:
        size, weight, where = STYLE[style]
        par = d.add_paragraph()
        par.alignment = align[where]
        if style == "para":
            par.paragraph_format.first_line_indent = Pt(size * 2)
        run = par.add_run(text)
        run.font.size = Pt(size)
        run.bold = weight == "bold"
        run.font.name = "SimSun"
        run._element.rPr.rFonts.set(docx.oxml.ns.qn("w:eastAsia"), "宋体")
    props = d.core_properties
    props.author = props.last_modified_by = "zoning"
    props.created = props.modified = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1
    buf = io.BytesIO()
    d.save(buf)
    path.write_bytes(_fixed_zip(buf.getvalue()))
    return path


def write_notice(p: Proposal, info: Publish, out_dir, stem: str = "招生范围公告") -> dict[str, Path]:
    """Write ``招生范围公告.pdf`` and ``招生范围公告.docx``; returns file name -> path."""
    blocks = notice_blocks(p, info)
    out_dir = Path(out_dir)
    pdf = write_notice_pdf(blocks, out_dir / f"{stem}.pdf")
    doc = write_notice_docx(blocks, out_dir / f"{stem}.docx")
    return {pdf.name: pdf, doc.name: doc}
