"""Shared page machinery: base map and tiles, vendored assets, data preparation, safe embedding.

Every page is a folium map whose Leaflet JS/CSS come from ``maps/assets`` (inlined, or linked under
``asset_base``), never from a CDN. Data from the proposal are embedded as JSON that cannot close a
``<script>`` element, and the page scripts put names into the DOM with ``textContent`` only.

Data never reach a template's *source*. branca's ``MacroElement.render`` wraps what each macro
produced in ``Element(text)``, which compiles ``text`` as Jinja2 once more: a unit named ``{{7*7}}``
became ``49`` and ``{{ lipsum.__globals__.os.getcwd() }}`` ran. Every element of our pages is
therefore a :class:`SafeMacro` (its output goes into the figure verbatim, as :class:`RawElement`)
and :func:`render` refuses a tree holding any other macro element. Page HTML made from data is
rendered by the autoescaping :data:`HTML_ENV` and handed over as a :class:`RawElement`.
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
from importlib import resources
from pathlib import Path

import folium
import jinja2
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.map import FitBounds
from jinja2 import Template

from geodata.coords import wgs84_to_gcj02

log = logging.getLogger(__name__)

ASSET_SCHEME = "zoning-asset:"
#: Vendored files every page loads (in this order).
PAGE_JS = ("leaflet/leaflet.js",)
PAGE_CSS = ("leaflet/leaflet.css",)

TILE_CHOICES = ("osm", "tianditu", "amap", "none")
TIANDITU_URL = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}"
                "&TILEROW={y}&TILECOL={x}&tk={key}")
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
AMAP_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"

#: Simplification tolerance (degrees, about 5 m) and coordinate grid (1e-5 degrees, about 1 m).
SIMPLIFY_DEG = 5e-5
GRID_DEG = 1e-5


#: Autoescaping environment for the HTML parts of the pages (``maps/templates/*.html``).
HTML_ENV = jinja2.Environment(loader=jinja2.PackageLoader("maps", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=False)

#: The title box of the planner and comparison maps (filled by common.js with textContent).
TITLE_TEMPLATE = "title_box.html"


class MapOptionError(ValueError):
    """A map option the user gave cannot be used (message in Chinese)."""


class RawElement(Element):
    """Text put into the page exactly as given: it is a template *variable*, never template source.

    Only for text that is already safe HTML/JS (rendered by :data:`HTML_ENV`, or our own macros).
    """

    _template = Template("{{ this.text }}")

    def __init__(self, text: str):
        super().__init__()
        self._name = "RawElement"
        self.text = text


class SafeMacro(MacroElement):
    """A macro element whose header/html/script output is added verbatim (not compiled again)."""

    def render(self, **kwargs):
        """Like ``MacroElement.render``, with :class:`RawElement` in place of ``Element``."""
        figure = self.get_root()
        module = self._template.module
        for part, target in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
            macro = module.__dict__.get(part)
            if macro is not None:
                target.add_child(RawElement(macro(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class SafeMap(folium.Map, SafeMacro):
    """``folium.Map`` rendered through :class:`SafeMacro`."""


class SafeTileLayer(folium.TileLayer, SafeMacro):
    """``folium.TileLayer`` rendered through :class:`SafeMacro`."""


class SafeFitBounds(FitBounds, SafeMacro):
    """``folium.map.FitBounds`` rendered through :class:`SafeMacro`."""


def asset_path(name: str) -> Path:
    """Path of a vendored asset file (e.g. ``leaflet/leaflet.js``)."""
    return Path(str(resources.files("maps") / "assets" / name))


def template_text(name: str) -> str:
    """Text of a file in ``maps/templates``."""
    return (resources.files("maps") / "templates" / name).read_text(encoding="utf-8")


def uses_gcj02(tiles: str) -> bool:
    """True for tile layers drawn in GCJ-02 (the data must be shifted onto them)."""
    return tiles == "amap"


def check_tiles(tiles: str, tianditu_key: str | None) -> None:
    """Raise :class:`MapOptionError` for an unknown tile choice or 天地图 without a key."""
    if tiles not in TILE_CHOICES:
        raise MapOptionError(f"底图选项未知：{tiles!r}；可选 osm、tianditu、amap、none")
    if tiles == "tianditu" and not (tianditu_key or "").strip():
        raise MapOptionError("使用天地图底图需要密钥：请加上 --tianditu-key 您的密钥"
                             "（在 https://console.tianditu.gov.cn 申请“浏览器端”密钥），或改用 --tiles none")


def new_map(bounds, tiles: str = "osm", tianditu_key: str | None = None, name: str = "map",
            review_no: str = "") -> folium.Map:
    """A folium map fitted to ``bounds`` with the chosen tile layer and local assets only.

    Parameters
    ----------
    bounds : sequence of float
        (minx, miny, maxx, maxy) in degrees, already in the map's datum.
    tiles : {"osm", "tianditu", "amap", "none"}
    tianditu_key : str, optional
        Required for ``tiles="tianditu"``.
    name : str
        Element id of the map (pages are deterministic: no random ids).
    review_no : str
        The 审图号 shown in the 天地图 attribution (a posted map on a reviewed base map shows it).

    Leaflet's attribution prefix (a link with a flag) is removed by ``common.js``, which also adds
    the scale bar: metric only, in 米 / 公里.
    """
    check_tiles(tiles, tianditu_key)
    minx, miny, maxx, maxy = bounds
    m = SafeMap(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=13, tiles=None,
                control_scale=False, prefer_canvas=False)  # the metric-only scale is common.js's
    m._id = name
    m.default_js = [(f"zoning_js_{i}", ASSET_SCHEME + a) for i, a in enumerate(PAGE_JS)]
    m.default_css = [(f"zoning_css_{i}", ASSET_SCHEME + a) for i, a in enumerate(PAGE_CSS)]
    if tiles == "osm":
        SafeTileLayer(OSM_URL, attr="© OpenStreetMap 贡献者", name="OpenStreetMap", max_zoom=19).add_to(m)
    elif tiles == "tianditu":
        key = tianditu_key.strip()
        attr = "© 天地图 国家地理信息公共服务平台" + (f" 审图号：{review_no}" if review_no else "")
        attr = attr.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # Leaflet shows it as HTML
        for layer, label in (("vec", "天地图矢量"), ("cva", "天地图注记")):
            SafeTileLayer(TIANDITU_URL.replace("{layer}", layer).replace("{key}", key),
                          attr=attr, name=label, subdomains="01234567",
                          max_zoom=18, overlay=layer == "cva").add_to(m)
    elif tiles == "amap":
        SafeTileLayer(AMAP_URL, attr="© 高德地图（GCJ-02，数据已转换）", name="高德地图",
                      subdomains="1234", max_zoom=18).add_to(m)
    SafeFitBounds([[miny, minx], [maxy, maxx]]).add_to(m)
    return m


def prepare(gdf, gcj02: bool = False, tolerance: float = SIMPLIFY_DEG):
    """Geometries ready for a web page: simplified, shifted to GCJ-02 if asked, on a 1e-5° grid.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        WGS84 geometries.
    gcj02 : bool
        Shift the coordinates with ``geodata.coords.wgs84_to_gcj02`` (for GCJ-02 tiles).
    tolerance : float
        ``simplify(preserve_topology=True)`` tolerance in degrees; 0 keeps every vertex.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy; empty geometries are dropped.
    """
    out = gdf.copy()
    geoms = out.geometry.values
    geoms = shapely.make_valid(np.asarray(geoms, dtype=object))
    if tolerance:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    if gcj02:
        def _shift(xy):
            lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
            return np.column_stack([lon, lat])

        geoms = shapely.transform(geoms, _shift)
    geoms = shapely.set_precision(geoms, GRID_DEG)
    out = out.set_geometry(list(geoms), crs=gdf.crs)
    arr = np.asarray(out.geometry.values, dtype=object)
    return out[~(shapely.is_missing(arr) | shapely.is_empty(arr))]


def _round_coords(obj):
    if isinstance(obj, float):
        return round(obj, 5)
    if isinstance(obj, (list, tuple)):
        return [_round_coords(v) for v in obj]
    return obj


def features(gdf, columns) -> dict:
    """A GeoJSON FeatureCollection with only ``columns`` as properties (missing ones are None)."""
    feats = []
    for _, row in gdf.iterrows():
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        gj = shapely.geometry.mapping(geom)
        props = {}
        for c in columns:
            v = row[c] if c in gdf.columns else None
            props[c] = plain(v)
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": gj["type"], "coordinates": _round_coords(gj["coordinates"])}})
    return {"type": "FeatureCollection", "features": feats}


def plain(v):
    """A JSON-safe Python value (numpy scalars; NaN, infinity, NaT and pandas NA -> None)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def json_ready(obj):
    """``obj`` with every leaf made :func:`plain` (dict keys as text): a blank value becomes null."""
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    return plain(obj)


def safe_json(obj) -> str:
    """JSON for a ``<script>`` element: NaN is null; ``<``, ``>``, ``&`` and line separators are escaped.

    No ``</script>`` or ``<!--`` in the data can end the script element, and nothing in it is
    template source (see :class:`SafeMacro`).
    """
    s = json.dumps(json_ready(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class PageScript(SafeMacro):
    """Page JavaScript run after the map exists: ``common.js`` + the page's script + its data."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
var map = {{ this._parent.get_name() }};
var DATA = {{ this.data_json }};
{{ this.common_js }}
{{ this.page_js }}
})();
{% endmacro %}
""")

    def __init__(self, page_js_name: str, data: dict):
        super().__init__()
        self._name = "PageScript"
        self.data_json = safe_json(data)
        self.common_js = template_text("common.js")
        self.page_js = template_text(page_js_name)


def html_part(template_name: str, **context) -> str:
    """An HTML fragment rendered by the autoescaping :data:`HTML_ENV` (data are variables)."""
    return HTML_ENV.get_template(template_name).render(**context)


def add_page(m: folium.Map, page_js_name: str, data: dict, css: str = "", html: str = "") -> None:
    """Attach the page's CSS (header), HTML (body) and script (after the map) to ``m``.

    ``html`` must be safe HTML (from :func:`html_part`); it is inserted verbatim, never compiled.
    """
    root = m.get_root()
    style = html_part("style.html", css=template_text("common.css") + "\n" + css)
    root.header.add_child(RawElement(style), name="zoning_css")
    if html:
        root.html.add_child(RawElement(html), name="zoning_html")
    PageScript(page_js_name, data).add_to(m)


def check_safe_tree(root) -> None:
    """Raise ``RuntimeError`` when an element would compile its output as a template again."""
    stack = [root]
    while stack:
        el = stack.pop()
        if isinstance(el, MacroElement) and not isinstance(el, SafeMacro):
            raise RuntimeError(f"page element {type(el).__name__} is not a SafeMacro: data could run as a template")
        stack.extend(getattr(el, "_children", {}).values())


def _deterministic_ids(root) -> None:
    seen = 0
    stack = [root]
    while stack:
        el = stack.pop(0)
        if not isinstance(el, folium.Map) and hasattr(el, "_id"):
            seen += 1
            el._id = f"{seen:04d}"
        stack.extend(getattr(el, "_children", {}).values())


_TAG_JS = re.compile(r'<script src="' + re.escape(ASSET_SCHEME) + r'([^"]+)"></script>')
_TAG_CSS = re.compile(r'<link rel="stylesheet" href="' + re.escape(ASSET_SCHEME) + r'([^"]+)"/>')
_EXTERNAL = re.compile(r'<(?:script|link)\b[^>]*(?:src|href)\s*=\s*["\']?(?:https?:)?//', re.I)


def render(m: folium.Map, asset_base: str | None = None) -> str:
    """The page's HTML with the vendored assets inlined (or linked under ``asset_base``)."""
    check_safe_tree(m.get_root())
    _deterministic_ids(m.get_root())
    html = m.get_root().render()
    base = None if asset_base is None else asset_base.rstrip("/") + "/"

    def js(match):
        name = match.group(1)
        if base is not None:
            return f'<script src="{base}{name}"></script>'
        text = asset_path(name).read_text(encoding="utf-8").replace("</script", "<\\/script")
        return f"<script>/* {name} (vendored, see maps/assets/README.md) */\n{text}\n</script>"

    def css(match):
        name = match.group(1)
        if base is not None:
            return f'<link rel="stylesheet" href="{base}{name}"/>'
        return f"<style>/* {name} */\n{asset_path(name).read_text(encoding='utf-8')}\n</style>"

    html = _TAG_JS.sub(js, html)
    html = _TAG_CSS.sub(css, html)
    if base is None or not re.match(r"^(?:https?:)?//", base):
        bad = _EXTERNAL.findall(html)
        if bad:  # a folium default or plugin slipped in: never ship a CDN link
            raise RuntimeError(f"page would load external assets: {bad[:3]}")
    return html


def copy_assets_beside(asset_base: str | None, html_dir: Path) -> Path | None:
    """When ``asset_base`` is a relative path (e.g. ``assets``), copy the vendored files there.

    The page then works from that folder (or a web server) without inlined scripts. URLs and
    absolute paths are left alone: the user serves the files there. Returns the folder written.
    """
    if not asset_base or re.match(r"^([a-z][a-z0-9+.-]*:|/|\\\\)", asset_base, flags=re.I):
        return None
    dest = Path(html_dir) / asset_base
    for name in PAGE_JS + PAGE_CSS + ("leaflet/LICENSE",):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(asset_path(name).read_bytes())
    return dest


def write_html(html: str, out: Path) -> Path:
    """Write ``html`` atomically (temporary file in the same folder, then rename)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("已写出 %s（%.1f KB）", out, out.stat().st_size / 1024)
    return out


def bounds_of(*gdfs) -> tuple[float, float, float, float]:
    """Total bounds (minx, miny, maxx, maxy) of the non-empty frames."""
    arr = np.array([g.total_bounds for g in gdfs if g is not None and len(g)])
    return float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()), float(arr[:, 3].max())


def set_title(html: str, title: str) -> str:
    """Insert an escaped ``<title>`` into the page head."""
    return html.replace("<head>", "<head>\n" + html_part("title.html", title=title), 1)
