"""The planner's map of a proposal (``map.html``, SPEC §4): zones by school, moved units, current
zones, school popups with the year-by-year ledger, barriers, roads, routes, legend, level switch."""
from __future__ import annotations

import logging
from pathlib import Path

from maps import layers, page
from maps.proposal import load_proposal

log = logging.getLogger(__name__)

PLANNER_CSS = """
.zoning-card-sub { font-weight: bold; margin-top: 6px; }
.zoning-title { position: absolute; top: 8px; left: 50px; z-index: 1000; background: rgba(255,255,255,.92);
  padding: 4px 10px; border-radius: 4px; font-size: 16px; font-weight: bold; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
"""


def planner_payload(proposal, gcj02: bool = False) -> dict:
    """The data the planner page draws (internal map: counts and ledger are included)."""
    p = proposal
    tol = page.SIMPLIFY_DEG
    levels = p.levels
    return {
        "meta": layers.meta(p, f"招生片区方案（方案编号 {p.fingerprint}）"),
        "icons": layers.icons(),
        "levels": levels,
        "schools": layers.planner_schools(p, gcj02),
        "ledger": layers.ledger(p),
        "zones": {lv: layers.zones(p, lv, gcj02, tol, public=False) for lv in levels},
        "previous": {lv: layers.previous_zones(p, lv, gcj02, tol) for lv in levels},
        "units": layers.planner_units(p, gcj02, tol),
        "barriers": layers.lines(p.barriers, gcj02, ["name", "kind"]),
        "roads": layers.lines(p.roads, gcj02, ["name"]),
        "routes": layers.lines(p.routes, gcj02, ["unit_id", "level", "school_id", "distance_m"]),
    }


def write_planner_map(proposal_dir, out=None, tiles: str = "osm", tianditu_key: str | None = None,
                      asset_base: str | None = None) -> Path:
    """Write the planner's map of a proposal folder.

    Parameters
    ----------
    proposal_dir : str or Path
        A proposal folder (docs/ARCHITECTURE.md).
    out : str or Path, optional
        The HTML file; default ``proposal_dir/map.html``.
    tiles : {"osm", "tianditu", "amap", "none"}
        Base map. ``amap`` (高德) is GCJ-02: the data are shifted onto it.
    tianditu_key : str, optional
        The user's 天地图 key (required for ``tiles="tianditu"``).
    asset_base : str, optional
        URL or path under which ``maps/assets`` is served; default: inline the assets. A relative
        path (e.g. ``"assets"``) is filled with the vendored files beside the page.

    Returns
    -------
    Path
        The file written.
    """
    page.check_tiles(tiles, tianditu_key)
    p = load_proposal(proposal_dir)
    out = Path(out) if out is not None else p.path / "map.html"
    gcj = page.uses_gcj02(tiles)
    data = planner_payload(p, gcj02=gcj)
    shown = page.prepare(p.zones, gcj02=gcj) if len(p.zones) else page.prepare(p.units, gcj02=gcj)
    m = page.new_map(page.bounds_of(shown), tiles=tiles, tianditu_key=tianditu_key, name="planner")
    page.add_page(m, "planner.js", data, css=PLANNER_CSS, html=page.html_part(page.TITLE_TEMPLATE))
    html = page.render(m, asset_base=asset_base)
    html = page.set_title(html, data["meta"]["title"])
    page.copy_assets_beside(asset_base, out.parent)
    return page.write_html(html, out)

