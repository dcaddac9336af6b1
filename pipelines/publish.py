"""``zoning map``, ``zoning publish``, ``zoning compare-map``: the output guard, then the drawing
by :mod:`maps` (which reads the proposal through :mod:`geodata.proposal`)."""
from __future__ import annotations

from pathlib import Path

from maps.compare import write_comparison_map
from maps.page import MapOptionError, check_tiles
from maps.parents import publish as publish_pages
from maps.planner import write_planner_map
from pipelines.inputs import guard_output, prepare_output_folder

__all__ = ["MapOptionError", "check_map_options", "planner_map", "publish", "comparison_map"]


def check_map_options(tiles: str, tianditu_key: str | None) -> None:
    """Raise :class:`MapOptionError` for an unknown tile choice or 天地图 without a key."""
    check_tiles(tiles, tianditu_key)


def planner_map(proposal_dir, out=None, tiles: str = "osm", tianditu_key=None, asset_base=None) -> Path:
    """``zoning map``: the planner's map (``map.html`` in the proposal folder by default)."""
    proposal_dir = Path(proposal_dir)
    check_tiles(tiles, tianditu_key)
    guard_output(out or proposal_dir / "map.html", "file", proposals=(proposal_dir,), suffix=".html")
    return write_planner_map(proposal_dir, out=out, tiles=tiles, tianditu_key=tianditu_key, asset_base=asset_base)


def publish(proposal_dir, out=None, tiles: str = "osm", tianditu_key=None, asset_base=None) -> dict[str, Path]:
    """``zoning publish``: parents' page, zone table, pictures (``publish/`` in the proposal folder)."""
    proposal_dir = Path(proposal_dir)
    check_tiles(tiles, tianditu_key)
    out = Path(out) if out else proposal_dir / "publish"
    guard_output(out, "folder", proposals=(proposal_dir,))
    prepare_output_folder(out)
    return publish_pages(proposal_dir, out_dir=out, tiles=tiles, tianditu_key=tianditu_key, asset_base=asset_base)


def comparison_map(a, b, out=None, tiles: str = "osm", tianditu_key=None, asset_base=None) -> Path:
    """``zoning compare-map``: two proposals on one map (``compare_<B>.html`` in A by default)."""
    a, b = Path(a), Path(b)
    check_tiles(tiles, tianditu_key)
    out = Path(out) if out else a / f"compare_{b.resolve().name}.html"
    guard_output(out, "file", proposals=(a, b), suffix=".html")
    return write_comparison_map(a, b, out, tiles=tiles, tianditu_key=tianditu_key, asset_base=asset_base)
