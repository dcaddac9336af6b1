"""``zoning map``, ``zoning publish``, ``zoning compare-map``: the output guard, then the drawing
by :mod:`maps` (which reads the proposal through :mod:`geodata.proposal`)."""
from __future__ import annotations

from pathlib import Path

from maps.compare import write_comparison_map
from maps.page import MapOptionError, check_tiles
from maps.images import skipped_units
from maps.parents import check_review_no
from maps.parents import publish as publish_pages
from maps.planner import write_planner_map
from maps.proposal import load_proposal
from maps.publication import missing_settings, publish_settings
from pipelines.inputs import guard_output

__all__ = ["MapOptionError", "check_map_options", "planner_map", "publish", "publish_material", "comparison_map"]


def check_map_options(tiles: str, tianditu_key: str | None) -> None:
    """Raise :class:`MapOptionError` for an unknown tile choice or 天地图 without a key."""
    check_tiles(tiles, tianditu_key)


def planner_map(proposal_dir, out=None, tiles: str = "osm", tianditu_key=None, asset_base=None) -> Path:
    """``zoning map``: the planner's map (``map.html`` in the proposal folder by default)."""
    proposal_dir = Path(proposal_dir)
    check_tiles(tiles, tianditu_key)
    guard_output(out or proposal_dir / "map.html", "file", proposals=(proposal_dir,), suffix=".html")
    return write_planner_map(proposal_dir, out=out, tiles=tiles, tianditu_key=tianditu_key, asset_base=asset_base)


def publish_material(proposal_dir, out=None, tiles: str = "none", tianditu_key=None, asset_base=None,
                     scenario_path=None, **settings) -> tuple[dict[str, Path], list[str], list[str]]:
    """``zoning publish``: the published material (``publish/`` in the proposal folder by default).

    The ``[publish]`` settings are run.json's, then ``scenario_path``'s, then ``settings`` (county,
    school_year, office, phone, notice, map_review_no). Returns the files written, the Chinese
    names of the settings parents need that are still blank, and the units the pictures leave out
    (no drawable outline; also noted under each picture) — the CLI warns about both.

    Raises :class:`MapOptionError` before writing anything when ``tiles`` is ``tianditu`` and no
    审图号 is set.
    """
    proposal_dir = Path(proposal_dir)
    check_tiles(tiles, tianditu_key)
    out = Path(out) if out else proposal_dir / "publish"
    files = (scenario_path,) if scenario_path is not None else ()
    guard_output(out, "folder", proposals=(proposal_dir,), files=files)
    p = load_proposal(proposal_dir)
    info = publish_settings(p, scenario_path, **settings)
    check_review_no(tiles, info)
    written = publish_pages(proposal_dir, out_dir=out, tiles=tiles, tianditu_key=tianditu_key,
                            asset_base=asset_base, info=info)
    return written, missing_settings(info), skipped_units(p)


def publish(proposal_dir, out=None, tiles: str = "none", tianditu_key=None, asset_base=None) -> dict[str, Path]:
    """``zoning publish`` with the recorded settings only (kept for callers of the first version)."""
    return publish_material(proposal_dir, out, tiles, tianditu_key, asset_base)[0]


def comparison_map(a, b, out=None, tiles: str = "osm", tianditu_key=None, asset_base=None) -> Path:
    """``zoning compare-map``: two proposals on one map (``compare_<B>.html`` in A by default)."""
    a, b = Path(a), Path(b)
    check_tiles(tiles, tianditu_key)
    out = Path(out) if out else a / f"compare_{b.resolve().name}.html"
    guard_output(out, "file", proposals=(a, b), suffix=".html")
    return write_comparison_map(a, b, out, tiles=tiles, tianditu_key=tianditu_key, asset_base=asset_base)
