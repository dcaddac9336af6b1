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
from types import SimpleNamespace

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from shapely.geometry import box

from geodata.coords import utm_crs_of
from maps.palette import zone_colors
from maps.proposal import LEVEL_ZH, SAMPLE_NOTICE, Proposal
from maps.publication import footer_lines, level_title
from maps.town import town_units
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


# ------------------------------------------------------------------------------- what is drawn
def drawable(gdf) -> pd.Series:
    """True for the rows whose geometry can be drawn and labelled (not missing, not empty, with a
    representative point)."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    for i in np.flatnonzero(ok):
        try:
            pt = shapely.make_valid(geoms[i]).representative_point()
            ok[i] = not pt.is_empty and np.isfinite([pt.x, pt.y]).all()
        except shapely.errors.GEOSException:
            ok[i] = False
    return pd.Series(ok, index=gdf.index)


def skipped_units(p: Proposal) -> list[str]:
    """Names of the units the pictures leave out: no outline or an empty one (sorted by id)."""
    u = p.units.sort_values("unit_id")
    bad = u[~drawable(u)]
    return [f"{r['name']}（{r['unit_id']}）" if str(r.get("name") or "") else str(r["unit_id"])
            for _, r in bad.iterrows()]


def _skip_note(skipped: list[str]) -> str:
    if not skipped:
        return ""
    shown = "、".join(skipped[:8]) + (f" 等 {len(skipped)} 个" if len(skipped) > 8 else "")
    return f"未画出的小区/村（没有有效边界，请核对单元图层）：{shown}"


# ------------------------------------------------------------------------------- labels
#: Directions a label may move in from its anchor (unit vectors, x right, y up); first the spot
#: right above, then around; at the larger distances a leader line joins label and anchor.
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
DISTANCES = (9, 24, 42, 62)


def _box_style(color: str) -> dict:
    return dict(boxstyle="round,pad=0.25", facecolor="white", edgecolor=color, linewidth=1.6, alpha=0.92)


def place_label(ax, text: str, xy, color: str, placed: list, fontsize=9, leader_from: int = 1):
    """Put a boxed label near ``xy`` where it overlaps no box in ``placed`` and stays inside the axes.

    Tries the spots of :data:`DIRECTIONS` at each of :data:`DISTANCES` (points); from the
    ``leader_from``-th distance on, a leader line joins the label to ``xy``. Returns the text, or
    None when no spot is free (the legend still names it).
    """
    renderer = _renderer(ax)
    frame = ax.get_window_extent(renderer)
    for k, dist in enumerate(DISTANCES):
        for ux, uy in DIRECTIONS:
            dx, dy = ux * dist, uy * dist
            ha = "center" if ux == 0 else ("left" if ux > 0 else "right")
            va = "center" if uy == 0 else ("bottom" if uy > 0 else "top")
            arrow = dict(arrowstyle="-", color="#333", linewidth=0.7, shrinkA=0, shrinkB=2) if k >= leader_from else None
            t = ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                            fontsize=fontsize, fontweight="bold", zorder=9, bbox=_box_style(color),
                            arrowprops=arrow, parse_math=False, annotation_clip=True)
            box = t.get_window_extent(renderer).expanded(1.04, 1.08)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            if inside and not any(box.overlaps(b) for b in placed):
                placed.append(box)
                return t
            t.remove()
    return None


def _largest_part(geom):
    parts = getattr(geom, "geoms", None)
    return max(parts, key=lambda g: g.area) if parts else geom


def label_zones(ax, z, schools, colors: dict, placed: list, extent=None, fontsize=9) -> dict:
    """One boxed label per zone, edged in the zone's colour: at its school when the school lies in
    the zone (and in view), else inside the zone's largest part. ``extent`` (minx, miny, maxx, maxy)
    limits the labels to zones seen there. Returns school_id -> text (None when left out)."""
    view = box(*extent) if extent is not None else None
    at = {r["school_id"]: r.geometry for _, r in schools.iterrows()}
    out = {}
    for _, zr in z.assign(_a=z.geometry.area).sort_values(["_a", "school_id"], ascending=[False, True]).iterrows():
        sid, geom = zr["school_id"], shapely.make_valid(zr.geometry)
        shown = geom if view is None else geom.intersection(view)
        if shown.is_empty or shown.area <= 0:
            continue
        pt = at.get(sid)
        if pt is None or not (geom.buffer(50).contains(pt) and (view is None or view.contains(pt))):
            pt = _largest_part(shown).representative_point()
        out[sid] = place_label(ax, str(zr["name"]), (pt.x, pt.y), colors.get(sid, "#333"), placed, fontsize)
    return out


def _label_units(ax, units, placed: list, fontsize=6.5, extent=None) -> int:
    """Label units, largest first, leaving out labels that would overlap one already drawn."""
    renderer = _renderer(ax)
    frame = ax.get_window_extent(renderer)
    n0 = len(placed)
    u = units if extent is None else units.cx[extent[0]:extent[2], extent[1]:extent[3]]
    order = u.assign(_area=u.geometry.area).sort_values(["_area", "unit_id"], ascending=[False, True])
    for _, r in order.iterrows():
        pt = r.geometry.representative_point()
        t = ax.text(pt.x, pt.y, str(r["name"]), fontsize=fontsize, ha="center", va="center", color="#222",
                    zorder=7, path_effects=[patheffects.withStroke(linewidth=2, foreground="white")],
                    parse_math=False, clip_on=True)
        bb = t.get_window_extent(renderer).expanded(1.05, 1.15)
        if not (frame.contains(bb.x0, bb.y0) and frame.contains(bb.x1, bb.y1)) or any(bb.overlaps(b) for b in placed):
            t.remove()
        else:
            placed.append(bb)
    return len(placed) - n0


def _school_marks(ax, schools, colors: dict) -> None:
    for _, s in schools.iterrows():
        ax.scatter([s.geometry.x], [s.geometry.y], s=60, color=colors.get(s["school_id"], "#ffffff"),
                   edgecolors="black", linewidths=1.0, zorder=8, marker="^")


# ------------------------------------------------------------------------------- pictures
#: the town is enlarged in an inset when its extent is at most this share of the county's width
TOWN_INSET_SHARE = 0.35


def town_extent(units_m, z_bounds) -> tuple | None:
    """The town's extent (metres, padded) when it is small beside the county, else None."""
    mask = town_units(SimpleNamespace(units=units_m))
    if mask.all() or not mask.any():
        return None
    minx, miny, maxx, maxy = units_m[mask].total_bounds
    pad = max(maxx - minx, maxy - miny) * 0.08
    ext = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    if (ext[2] - ext[0]) > TOWN_INSET_SHARE * (z_bounds[2] - z_bounds[0]):
        return None
    return ext


def _base(ax, z, colors, units, barriers, linewidth=1.2):
    z.plot(ax=ax, color=[colors.get(i, "#cccccc") for i in z["school_id"]], edgecolor="#222",
           linewidth=linewidth, alpha=0.6)
    if len(units):
        units.boundary.plot(ax=ax, color="#777", linewidth=0.3)
    if barriers is not None:
        barriers.plot(ax=ax, color="#7b1fa2", linewidth=1.5)


def county_figure(p: Proposal, level: str, z, colors: dict, units, schools, barriers, info: Publish,
                  footer: str):
    """The county picture of one level: zones in their public colours, one boxed label per zone, the
    town enlarged in an inset when it is small, the legend naming every zone.

    Returns (figure, {"county": [texts], "town": [texts]}) — the zone labels drawn on each axes.
    """
    lz = LEVEL_ZH[level]
    bounds = z.total_bounds
    town = town_extent(units, bounds) if len(units) else None
    fig = Figure(figsize=(15, 9) if town else (10, 10), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0.0, 0.05, 0.6, 0.87] if town else [0.0, 0.05, 0.8, 0.87])
    _base(ax, z, colors, units, barriers)
    _pad(ax, bounds)
    ax.set_aspect("equal")
    ax.set_axis_off()
    placed: list = []
    labels = {"county": [], "town": []}
    if town:
        tb = box(*town)
        ax.add_patch(Rectangle((town[0], town[1]), town[2] - town[0], town[3] - town[1], fill=False,
                               edgecolor="#111", linewidth=1.4, linestyle="--", zorder=9))
        outside = schools[~schools.geometry.within(tb)]
        _school_marks(ax, schools, colors)
        zone_out = z[~z.geometry.apply(lambda g: shapely.make_valid(g).within(tb))]
        placed.append(ax.annotate("城区（见右侧放大图）", (town[2], town[3]), xytext=(4, 4), textcoords="offset points",
                                  fontsize=8, zorder=9, path_effects=HALO).get_window_extent(_renderer(ax)))
        texts = label_zones(ax, zone_out, outside, colors, placed)
        labels["county"] = [t for t in texts.values() if t is not None]
        tax = fig.add_axes([0.62, 0.33, 0.37, 0.59])
        _base(tax, z, colors, units, barriers, linewidth=1.6)
        tax.set_xlim(town[0], town[2])
        tax.set_ylim(town[1], town[3])
        tax.set_aspect("equal")
        tax.set_xticks([])
        tax.set_yticks([])
        tax.set_xlabel("")
        tax.set_ylabel("")
        for side in tax.spines.values():
            side.set_linestyle("--")
            side.set_linewidth(1.4)
        tax.set_title("城区放大图", fontsize=11, fontweight="bold")
        inside = schools[schools.geometry.within(tb)]
        _school_marks(tax, inside, colors)
        tplaced: list = []
        texts = label_zones(tax, z, inside, colors, tplaced, extent=town)
        labels["town"] = [t for t in texts.values() if t is not None]
        if len(units) <= MAX_UNIT_LABELS:
            _label_units(tax, units, tplaced, fontsize=6, extent=town)
        scale_bar(tax)
        legend_at = dict(loc="upper left", bbox_to_anchor=(0.62, 0.31), bbox_transform=fig.transFigure, ncol=3)
    else:
        _school_marks(ax, schools, colors)
        texts = label_zones(ax, z, schools, colors, placed)
        labels["county"] = [t for t in texts.values() if t is not None]
        legend_at = dict(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if len(units) <= MAX_UNIT_LABELS:
        _label_units(ax, units[~units.geometry.within(box(*town))] if town else units, placed)
    handles = [Patch(facecolor=colors.get(r["school_id"], "#ccc"), edgecolor="#222", alpha=0.6, label=str(r["name"]))
               for _, r in z.sort_values("name").iterrows()]
    handles.append(Line2D([], [], marker="^", color="none", markerfacecolor="white", markeredgecolor="black",
                          markersize=8, label="学校"))
    legend = ax.legend(handles=handles, fontsize=8, title=f"{lz}片区（按学校）", title_fontsize=9, framealpha=0.9,
                       **legend_at)
    for text in legend.get_texts():  # names are data: never matplotlib mathtext
        text.set_parse_math(False)
    _decorate(fig, ax, level_title(info, level, "招生片区划分图"), p, footer)
    return fig, labels


def school_figure(p: Proposal, level: str, zr, z, colors: dict, zone_units, schools, barriers,
                  info: Publish, footer: str):
    """One school's zone: the zone in its colour, the others grey, its units named."""
    lz = LEVEL_ZH[level]
    sid = zr["school_id"]
    fig = Figure(figsize=(8, 8), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    z.plot(ax=ax, color="#e6e6e6", edgecolor="#999", linewidth=0.8)
    gpd.GeoSeries([zr.geometry], crs=z.crs).plot(ax=ax, color=colors.get(sid, "#cccccc"), edgecolor="#111",
                                                 linewidth=1.8, alpha=0.6)
    if len(zone_units):
        zone_units.boundary.plot(ax=ax, color="#555", linewidth=0.4)
    if barriers is not None:
        barriers.plot(ax=ax, color="#7b1fa2", linewidth=1.5)
    _pad(ax, zr.geometry.bounds, frac=0.15)
    ax.set_aspect("equal")
    own = schools[schools["school_id"] == sid]
    _school_marks(ax, own, colors)
    placed: list = []
    label_zones(ax, z[z["school_id"] == sid], own, colors, placed, fontsize=10)
    _label_units(ax, zone_units, placed, fontsize=8)
    _decorate(fig, ax, f"{info.county}{info.school_year}{zr['name']}（{lz}）招生片区", p, footer)
    return fig


def write_images(p: Proposal, out_dir, info: Publish | None = None) -> dict[str, Path]:
    """Write the county picture (PNG + PDF) of each level and one PNG per school zone.

    Parameters
    ----------
    p : Proposal
    out_dir : str or Path
    info : Publish, optional
        Who publishes: county and school year in the titles, office, phone and 审图号 at the foot.
        The county pictures are ``小学招生片区总图.png/.pdf``, the schools' ``城关八小_小学片区图.png``.

    Units without a drawable outline (missing or empty geometry) are left out and named under each
    picture (:func:`skipped_units`); zones are coloured by :func:`maps.palette.zone_colors`, the
    colouring of the parents' page.

    Returns
    -------
    dict
        File name -> path.
    """
    out_dir = Path(out_dir)
    written: dict[str, Path] = {}
    crs = utm_crs_of(p.zones if len(p.zones) else p.units)
    zones = p.zones[drawable(p.zones)].to_crs(crs) if len(p.zones) else p.zones.to_crs(crs)
    units = p.units[drawable(p.units)].to_crs(crs) if len(p.units) else p.units.to_crs(crs)
    schools = p.schools[p.schools.geometry.notna()]
    schools = schools[~schools.geometry.is_empty].to_crs(crs)
    schools = schools.assign(geometry=schools.geometry.representative_point())
    barriers = p.barriers.to_crs(crs) if p.barriers is not None and len(p.barriers) else None
    assign = p.assignments
    info = info or Publish()
    skipped = skipped_units(p)
    footer = "　".join(footer_lines(info)) + (f"\n{_skip_note(skipped)}" if skipped else "")
    with matplotlib.rc_context(FONTS):
        for level in p.levels:
            z = zones[zones["level"] == level].sort_values("school_id")
            if z.empty:
                continue
            colors = zone_colors(z)
            s = schools[schools["level"].isin([level, "nine_year"]) & schools["school_id"].isin(z["school_id"])]
            lz = LEVEL_ZH[level]
            fig, _ = county_figure(p, level, z, colors, units, s, barriers, info, footer)
            for ext in ("png", "pdf"):
                f = out_dir / f"{lz}招生片区总图.{ext}"
                fig.savefig(f, bbox_inches="tight", metadata={"CreationDate": None} if ext == "pdf" else None)
                written[f.name] = f
            files = picture_names(z, level)
            for _, zr in z.iterrows():
                sid = zr["school_id"]
                members = assign[(assign["level"] == level) & (assign["school_id"] == sid)]["unit_id"]
                fig = school_figure(p, level, zr, z, colors, units[units["unit_id"].isin(members)], s, barriers,
                                    info, footer)
                f = out_dir / files[sid]
                fig.savefig(f, bbox_inches="tight")
                written[f.name] = f
    log.info("已绘制 %d 张片区图", len(written))
    return written
