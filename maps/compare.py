"""The comparison map of two proposals: zones of A and B as switchable layers, units that differ."""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from maps import layers, page
from maps.palette import school_colors
from maps.proposal import Proposal, load_proposal

log = logging.getLogger(__name__)


def differences(a: Proposal, b: Proposal) -> pd.DataFrame:
    """Units whose school differs between the proposals.

    Returns
    -------
    pandas.DataFrame
        ``unit_id, level, school_a, school_b`` (a missing side is None), sorted by level and unit.
    """
    ka = a.assignments.set_index(["unit_id", "level"])["school_id"]
    kb = b.assignments.set_index(["unit_id", "level"])["school_id"]
    both = pd.concat([ka.rename("school_a"), kb.rename("school_b")], axis=1)
    both = both.astype(object).where(both.notna(), None)
    diff = both[both["school_a"] != both["school_b"]].reset_index()
    return diff.sort_values(["level", "unit_id"]).reset_index(drop=True)


def compare_payload(a: Proposal, b: Proposal, gcj02: bool = False) -> dict:
    """The data the comparison page draws."""
    levels = [lv for lv in ("primary", "junior") if lv in set(a.levels) | set(b.levels)]
    colors = school_colors(set(a.colors) | set(b.colors))  # one colour per school on both sides
    a.colors, b.colors = colors, colors
    tol = page.SIMPLIFY_DEG
    schools = {s["school_id"]: s for s in layers.public_schools(b, gcj02)}
    schools.update({s["school_id"]: s for s in layers.public_schools(a, gcj02)})
    # unit shapes: A's units plus any only B has
    units = pd.concat([a.units, b.units[~b.units["unit_id"].isin(a.units["unit_id"])]], ignore_index=True)
    fc = page.features(page.prepare(units.set_crs(4326, allow_override=True), gcj02=gcj02, tolerance=tol),
                       ["unit_id", "name", "township"])
    sa = a.assignments.set_index(["unit_id", "level"])["school_id"].to_dict()
    sb = b.assignments.set_index(["unit_id", "level"])["school_id"].to_dict()
    for f in fc["features"]:
        uid = f["properties"]["unit_id"]
        for lv in levels:
            f["properties"][lv] = {"a": sa.get((uid, lv)), "b": sb.get((uid, lv))}
    name_a, name_b = f"方案 A（{a.name}）", f"方案 B（{b.name}）"
    meta = layers.meta(a, f"方案比较：{a.name} 与 {b.name}")
    meta["is_sample"] = a.is_sample or b.is_sample
    meta["source_line"] = f"A：{a.source_line()}　B：{b.source_line()}"
    meta["names"] = {"a": name_a, "b": name_b}
    return {
        "meta": meta, "icons": layers.icons(), "levels": levels,
        "schools": [schools[k] for k in sorted(schools)],
        "zones_a": {lv: layers.zones(a, lv, gcj02, tol, public=True) for lv in levels},
        "zones_b": {lv: layers.zones(b, lv, gcj02, tol, public=True) for lv in levels},
        "units": fc,
    }


def write_comparison_map(dir_a, dir_b, out, tiles: str = "osm", tianditu_key: str | None = None,
                         asset_base: str | None = None) -> Path:
    """Write the comparison map of two proposal folders.

    Parameters
    ----------
    dir_a, dir_b : str or Path
        The two proposal folders (A is drawn filled, B dashed; switch between them in the page).
    out : str or Path
        The HTML file to write.
    tiles, tianditu_key, asset_base
        As for :func:`maps.planner.write_planner_map`.

    Returns
    -------
    Path
    """
    page.check_tiles(tiles, tianditu_key)
    a, b = load_proposal(dir_a), load_proposal(dir_b)
    gcj = page.uses_gcj02(tiles)
    data = compare_payload(a, b, gcj02=gcj)
    shown = page.prepare(pd.concat([a.zones, b.zones], ignore_index=True), gcj02=gcj)
    m = page.new_map(page.bounds_of(shown), tiles=tiles, tianditu_key=tianditu_key, name="compare")
    page.add_page(m, "compare.js", data, html=page.html_part(page.TITLE_TEMPLATE),
                  css=".zoning-title { position: absolute; top: 8px; left: 50px; z-index: 1000; "
                      "background: rgba(255,255,255,.92); padding: 4px 10px; border-radius: 4px; "
                      "font-size: 16px; font-weight: bold; }")
    html = page.set_title(page.render(m, asset_base=asset_base), data["meta"]["title"])
    n = len(differences(a, b))
    log.info("两方案共有 %d 个小区/村（按学段计）划入不同学校", n)
    page.copy_assets_beside(asset_base, Path(out).parent)
    return page.write_html(html, Path(out))
