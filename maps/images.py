"""Pictures of the zones for notices and social media (``zoning publish``): one PNG + PDF of the
county per level and one PNG per school zone, with Chinese labels, a scale bar and a north arrow.

Drawn with matplotlib's object API (no pyplot state) in the data's UTM zone, so the scale bar is in
metres. No counts are drawn: the pictures are published. Names are data: every text is drawn with
``parse_math=False`` (a name with ``$`` is not mathtext), and file names use the ids made safe.
"""
from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import geopandas as gpd
import matplotlib
import pandas as pd
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from geodata.coords import utm_crs_of
from maps.proposal import LEVEL_ZH, SAMPLE_NOTICE, Proposal
from maps.publication import footer_lines, level_title
from zoning.scenario import Publish

log = logging.getLogger(__name__)

FONTS = {"font.sans-serif": ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "DejaVu Sans"],
         "font.family": "sans-serif", "axes.unicode_minus": False, "pdf.fonttype": 42}
NICE_LENGTHS = (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000, 100000)
MAX_UNIT_LABELS = 1500
HALO = [patheffects.withStroke(linewidth=3, foreground="white")]


def _safe(s: str) -> str:
    """A file-name part for an id: the id itself, or its safe characters plus a short hash of it
    (two ids that differ only in unsafe characters never share a file)."""
    text = str(s)
    safe = re.sub(r"[^0-9A-Za-z_.-]", "_", text)
    if safe == text and not text.startswith("."):
        return text
    return f"{safe.strip('.')[:40]}_{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


def scale_bar(ax, length_hint_fraction: float = 0.2) -> None:
    """Draw a two-segment scale bar in the lower left of a metric axes."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width = x1 - x0
    target = width * length_hint_fraction
    length = min(NICE_LENGTHS, key=lambda v: abs(v - target))
    h = (y1 - y0) * 0.012
    bx, by = x0 + width * 0.04, y0 + (y1 - y0) * 0.05
    for i in range(2):
        ax.add_patch(Rectangle((bx + i * length / 2, by), length / 2, h, facecolor="black" if i == 0 else "white",
                               edgecolor="black", linewidth=0.8, zorder=10))
    label = f"{length / 1000:g} 公里" if length >= 1000 else f"{length} 米"
    ax.text(bx, by + h * 1.8, "0", fontsize=8, ha="center", zorder=10, path_effects=HALO)
    ax.text(bx + length, by + h * 1.8, label, fontsize=8, ha="center", zorder=10, path_effects=HALO)


def north_arrow(ax) -> None:
    """Draw a north arrow with the character 北 in the upper right (axes are north-up)."""
    ax.annotate("北", xy=(0.95, 0.95), xytext=(0.95, 0.83), xycoords="axes fraction",
                textcoords="axes fraction", ha="center", va="center", fontsize=13, fontweight="bold",
                arrowprops=dict(facecolor="black", edgecolor="black", width=3, headwidth=10, headlength=10),
                zorder=11)


def file_part(name) -> str:
    """A school name made safe for a file name on Windows, macOS and Linux (Chinese kept)."""
    text = re.sub(r'[\x00-\x1f<>:"/\\|?*\s]+', "_", str(name)).strip("._ ")
    return text[:60] or "学校"


def picture_names(z, level: str) -> dict:
    """school_id -> ``城关八小_小学片区图.png``; a name shared by two schools (or made equal by
    :func:`file_part`) gets the school's id added."""
    lz = LEVEL_ZH.get(level, level)
    base = {sid: f"{file_part(name)}_{lz}片区图" for sid, name in zip(z["school_id"], z["name"])}
    count = pd.Series(list(base.values())).value_counts()
    return {sid: (f"{b}_{_safe(sid)}" if count[b] > 1 else b) + ".png" for sid, b in base.items()}


def _decorate(fig, ax, title: str, p: Proposal, footer: str = "") -> None:
    ax.set_title(title, fontsize=15, fontweight="bold", pad=20 if p.is_sample else 8, parse_math=False)
    if p.is_sample:
        ax.text(0.5, 1.005, SAMPLE_NOTICE, transform=ax.transAxes, ha="center", va="bottom",
                color="#b00020", fontsize=10)
    ax.text(0.0, -0.01, footer, transform=ax.transAxes, ha="left", va="top", fontsize=6.5,
            color="#444", parse_math=False)
    ax.set_axis_off()
    ax.set_aspect("equal")
    scale_bar(ax)
    north_arrow(ax)


def _pad(ax, bounds, frac=0.06):
    minx, miny, maxx, maxy = bounds
    dx, dy = (maxx - minx) or 500, (maxy - miny) or 500
    ax.set_xlim(minx - dx * frac, maxx + dx * frac)
    ax.set_ylim(miny - dy * frac, maxy + dy * frac)


def _renderer(ax):
    fig = ax.figure
    if fig.canvas is None or not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
    ax.apply_aspect()
    return fig.canvas.get_renderer()


#: Where a school's label may go: (dx, dy) in points, horizontal and vertical alignment.
LABEL_SPOTS = ((0, 7, "center", "bottom"), (0, -8, "center", "top"), (8, 0, "left", "center"),
               (-8, 0, "right", "center"))


def _label_schools(ax, schools, p: Proposal) -> list:
    """Mark schools and label them, moving a label around its school to avoid overlaps.

    A label that fits nowhere is left out (the legend still names the school).
    """
    for _, s in schools.iterrows():
        ax.scatter([s.geometry.x], [s.geometry.y], s=60, color=p.color(s["school_id"]), edgecolors="black",
                   linewidths=1.0, zorder=8, marker="^")
    renderer = _renderer(ax)
    texts, boxes = [], []
    for _, s in schools.sort_values("school_id").iterrows():
        for dx, dy, ha, va in LABEL_SPOTS:
            t = ax.annotate(str(s["name"]), (s.geometry.x, s.geometry.y), xytext=(dx, dy),
                            textcoords="offset points", ha=ha, va=va, fontsize=9, fontweight="bold",
                            zorder=9, path_effects=HALO, parse_math=False)
            box = t.get_window_extent(renderer)
            if not any(box.overlaps(b) for b in boxes):
                texts.append(t)
                boxes.append(box)
                break
            t.remove()
    return texts


def _label_units(ax, units, fontsize=6.5, avoid=()) -> int:
    """Label units, largest first, leaving out labels that would overlap one already drawn.

    Returns the number of labels drawn.
    """
    renderer = _renderer(ax)
    placed = [t.get_window_extent(renderer) for t in avoid]
    n_avoid = len(placed)
    order = units.assign(_area=units.geometry.area).sort_values(["_area", "unit_id"], ascending=[False, True])
    for _, u in order.iterrows():
        pt = u.geometry.representative_point()
        t = ax.text(pt.x, pt.y, str(u["name"]), fontsize=fontsize, ha="center", va="center", color="#222",
                    zorder=7, path_effects=[patheffects.withStroke(linewidth=2, foreground="white")],
                    parse_math=False)
        box = t.get_window_extent(renderer).expanded(1.05, 1.15)
        if any(box.overlaps(b) for b in placed):
            t.remove()
        else:
            placed.append(box)
    return len(placed) - n_avoid


def write_images(p: Proposal, out_dir, info: Publish | None = None) -> dict[str, Path]:
    """Write the county picture (PNG + PDF) of each level and one PNG per school zone.

    Parameters
    ----------
    p : Proposal
    out_dir : str or Path
    info : Publish, optional
        Who publishes: county and school year in the titles, office, phone and 审图号 at the foot.
        The county pictures are ``小学招生片区总图.png/.pdf``, the schools' ``城关八小_小学片区图.png``.

    Returns
    -------
    dict
        File name -> path.
    """
    out_dir = Path(out_dir)
    written: dict[str, Path] = {}
    crs = utm_crs_of(p.zones if len(p.zones) else p.units)
    zones = p.zones.to_crs(crs)
    units = p.units.to_crs(crs)
    schools = p.schools[p.schools.geometry.notna()].to_crs(crs)
    barriers = p.barriers.to_crs(crs) if p.barriers is not None and len(p.barriers) else None
    assign = p.assignments
    info = info or Publish()
    footer = "　".join(footer_lines(info))
    with matplotlib.rc_context(FONTS):
        for level in p.levels:
            z = zones[zones["level"] == level].sort_values("school_id")
            if z.empty:
                continue
            s = schools[schools["level"].isin([level, "nine_year"]) & schools["school_id"].isin(z["school_id"])]
            lz = LEVEL_ZH[level]
            # county picture
            fig = Figure(figsize=(10, 10), dpi=150)
            ax = fig.subplots()
            z.plot(ax=ax, color=[p.color(i) for i in z["school_id"]], edgecolor="#222", linewidth=1.2, alpha=0.6)
            units.boundary.plot(ax=ax, color="#777", linewidth=0.3)
            if barriers is not None:
                barriers.plot(ax=ax, color="#7b1fa2", linewidth=1.5)
            _pad(ax, z.total_bounds)
            school_texts = _label_schools(ax, s, p)
            if len(units) <= MAX_UNIT_LABELS:
                _label_units(ax, units, avoid=school_texts)
            legend = ax.legend(handles=[Patch(facecolor=p.color(r["school_id"]), edgecolor="#222", alpha=0.6,
                                              label=str(r["name"])) for _, r in z.iterrows()],
                               loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title=f"{lz}片区",
                               title_fontsize=9, framealpha=0.9)
            for text in legend.get_texts():  # names are data: never matplotlib mathtext
                text.set_parse_math(False)
            _decorate(fig, ax, level_title(info, level, "招生片区划分图"), p, footer)
            for ext in ("png", "pdf"):
                f = out_dir / f"{lz}招生片区总图.{ext}"
                fig.savefig(f, bbox_inches="tight", metadata={"CreationDate": None} if ext == "pdf" else None)
                written[f.name] = f
            # one picture per school zone
            files = picture_names(z, level)
            for _, zr in z.iterrows():
                sid = zr["school_id"]
                members = assign[(assign["level"] == level) & (assign["school_id"] == sid)]["unit_id"]
                zu = units[units["unit_id"].isin(members)]
                fig = Figure(figsize=(8, 8), dpi=150)
                ax = fig.subplots()
                z.plot(ax=ax, color="#e6e6e6", edgecolor="#999", linewidth=0.8)
                gpd.GeoSeries([zr.geometry], crs=crs).plot(ax=ax, color=p.color(sid), edgecolor="#111",
                                                            linewidth=1.8, alpha=0.6)
                zu.boundary.plot(ax=ax, color="#555", linewidth=0.4)
                if barriers is not None:
                    barriers.plot(ax=ax, color="#7b1fa2", linewidth=1.5)
                _pad(ax, zr.geometry.bounds, frac=0.15)
                school_texts = _label_schools(ax, s[s["school_id"] == sid], p)
                _label_units(ax, zu, fontsize=8, avoid=school_texts)
                _decorate(fig, ax, f"{info.county}{info.school_year}{zr['name']}（{lz}）招生片区", p, footer)
                f = out_dir / files[sid]
                fig.savefig(f, bbox_inches="tight")
                written[f.name] = f
    log.info("已绘制 %d 张片区图", len(written))
    return written
