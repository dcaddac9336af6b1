// Parents' map (issue 19): the proposal's own vector layers (zones, township outlines, roads,
// barriers, labels), no tiles unless chosen; opens on the town with a 全县 button; search by name,
// alias or address; the chosen unit outlined and its zone highlighted in one popup.
var LEVELS = DATA.levels;
var zoneLayers = {}, schoolLayers = {};
var current = null;
var shown = L.featureGroup().addTo(map);
var chosen = L.featureGroup().addTo(map);
var chosenUnit = null;
var PHONE = window.innerWidth < 600;

function bbox(b) { return [[b[1], b[0]], [b[3], b[2]]]; }

// ---- base layers of our own: township outlines and names, roads, barriers (above the zone fills) ----
var linePane = map.createPane("zoning-lines");
linePane.style.zIndex = 450;
linePane.style.pointerEvents = "none";
if (DATA.townships) {
  L.geoJSON(DATA.townships, {
    style: function () { return {color: "#666", weight: 1.5, dashArray: "6 4", fill: false, interactive: false, pane: "zoning-lines", className: "township-outline"}; },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(el("span", null, f.properties.name), {permanent: true, direction: "center", className: "zoning-town-label"});
    }
  }).addTo(map);
}
if (DATA.roads) {
  L.geoJSON(DATA.roads, {style: function () { return {color: "#9a9a9a", weight: 2, opacity: 0.8, interactive: false, pane: "zoning-lines", className: "road-line"}; }}).addTo(map);
}
if (DATA.barriers) {
  L.geoJSON(DATA.barriers, {style: function () { return {color: "#7b1fa2", weight: 2.5, interactive: false, pane: "zoning-lines", className: "barrier-line"}; }}).addTo(map);
}

function zoneStyle(f, lv, mode) {
  var base = {color: "#333", weight: 1.5, fillColor: f.properties.color, fillOpacity: 0.42, className: "zone-polygon zone-" + lv};
  if (mode === "on") { base.weight = 4; base.color = "#111"; base.fillOpacity = 0.6; }
  if (mode === "off") { base.fillOpacity = 0.15; base.color = "#888"; }
  return base;
}

LEVELS.forEach(function (lv) {
  zoneLayers[lv] = L.geoJSON(DATA.zones[lv], {
    style: function (f) { return zoneStyle(f, lv, null); },
    onEachFeature: function (f, layer) {
      layer.bindPopup(function () { return schoolCard(f.properties.school_id, lv); }, popupOptions());
      layer.bindTooltip(el("span", null, f.properties.name + "片区"), {sticky: true});
    }
  });
  schoolLayers[lv] = L.featureGroup();
  (DATA.schools || []).forEach(function (s) {
    if (!serves(s, lv)) { return; }
    var shown_s = {lat: s.lat, lon: s.lon, color: (DATA.colors[lv] || {})[s.school_id] || s.color};
    var mk = schoolMarker(shown_s, "school-marker school-" + lv);
    mk.bindTooltip(el("span", null, s.name), {permanent: true, direction: "top", offset: [0, -8], className: "zoning-school-label"});
    mk.bindPopup(function () { return schoolCard(s.school_id, lv); }, popupOptions());
    schoolLayers[lv].addLayer(mk);
  });
});

function popupOptions() {
  return {maxWidth: Math.min(300, window.innerWidth - 60), autoPanPaddingTopLeft: [10, 140], autoPanPaddingBottomRight: [10, 40]};
}

function highlight(lv, schoolId) {
  zoneLayers[lv].eachLayer(function (layer) {
    var mode = schoolId ? (layer.feature.properties.school_id === schoolId ? "on" : "off") : null;
    layer.setStyle(zoneStyle(layer.feature, lv, mode));
  });
}

var switcher = addLevelSwitch(LEVELS, setLevel, "topright");
function setLevel(lv) {
  current = lv;
  shown.clearLayers();
  shown.addLayer(zoneLayers[lv]);
  shown.addLayer(schoolLayers[lv]);
  map.closePopup();
  switcher.mark(lv);
  drawLegend(lv);
  if (chosenUnit) { highlight(lv, (chosenUnit.schools || {})[lv]); } else { highlight(lv, null); }
}

// ---- views: the town, the whole county ----
var views = L.control({position: "topleft"});
views.onAdd = function () {
  var div = el("div", "zoning-views leaflet-bar");
  [["town", "城区"], ["county", "全县"]].forEach(function (v) {
    var b = el("button", "zoning-view", v[1]);
    b.type = "button";
    b.setAttribute("data-view", v[0]);
    b.onclick = function (ev) { L.DomEvent.stop(ev); showView(v[0]); };
    div.appendChild(b);
  });
  L.DomEvent.disableClickPropagation(div);
  return div;
};
views.addTo(map);
function showView(name) { map.fitBounds(bbox(DATA.views[name]), {padding: [8, 8], animate: false}); }

// School labels only when zoomed in enough to read them.
function labelsByZoom() {
  map.getContainer().classList.toggle("zoning-far", map.getZoom() < 13);
}
map.on("zoomend", labelsByZoom);

// ---- legend (collapses; collapsed at first on a phone) ----
var legend = L.control({position: "bottomright"});
legend.onAdd = function () {
  var div = el("div", "zoning-legend" + (PHONE ? " collapsed" : ""));
  var toggle = el("button", "zoning-legend-toggle", "图例");
  toggle.type = "button";
  toggle.onclick = function (ev) { L.DomEvent.stop(ev); div.classList.toggle("collapsed"); };
  div.appendChild(toggle);
  this._body = el("div", "zoning-legend-body");
  div.appendChild(this._body);
  this._div = div;
  L.DomEvent.disableClickPropagation(div);
  L.DomEvent.disableScrollPropagation(div);
  return div;
};
legend.addTo(map);
function drawLegend(lv) {
  var div = legend._body;
  div.textContent = "";
  div.appendChild(el("div", "zoning-legend-title", LEVEL_ZH[lv] + "招生片区"));
  DATA.zones[lv].features.forEach(function (f) {
    var it = el("div", "zoning-legend-item");
    var sw = el("span", "zoning-swatch"); sw.style.background = f.properties.color;
    it.appendChild(sw); it.appendChild(el("span", null, f.properties.name));
    it.style.cursor = "pointer";
    it.onclick = function () { highlight(current, f.properties.school_id); };
    div.appendChild(it);
  });
  if (DATA.townships) {
    var it = el("div", "zoning-legend-item");
    var ln = el("span", "zoning-line"); ln.style.borderTop = "2px dashed #666";
    it.appendChild(ln); it.appendChild(el("span", null, "乡镇/街道界线"));
    div.appendChild(it);
  }
  if (DATA.barriers) {
    var bi = el("div", "zoning-legend-item");
    var bl = el("span", "zoning-line"); bl.style.borderTopColor = "#7b1fa2";
    bi.appendChild(bl); bi.appendChild(el("span", null, "铁路、干道、水渠"));
    div.appendChild(bi);
  }
}

// ---- on-map notice: sample warning and the 审图号 ----
var note = L.control({position: "bottomleft"});
note.onAdd = function () {
  var div = el("div", "zoning-notice");
  if (DATA.meta.is_sample) { div.appendChild(el("div", "zoning-sample", DATA.meta.sample_notice)); }
  (DATA.meta.footer || []).forEach(function (line) {
    if (line.indexOf("审图号") === 0) { div.appendChild(el("div", "zoning-review-no", line)); }
  });
  L.DomEvent.disableClickPropagation(div);
  return div;
};
note.addTo(map);

// ---- search: names, aliases (小区/花园/村 suffixes tolerated) and address ranges ----
var input = document.getElementById("zoning-search");
var list = document.getElementById("zoning-results");
var panel = document.getElementById("zoning-found");
var MAX_RESULTS = 30;
var SUFFIXES = ["村民委员会", "村委会", "居委会", "社区", "小区", "花园", "家园", "村"];

function norm(s) {
  return String(s || "").replace(/[\s\u3000]+/g, "").replace(/[０-９]/g, function (c) {
    return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
  }).toLowerCase();
}

function key(s) {
  var k = norm(s), again = true;
  while (again) {
    again = false;
    for (var i = 0; i < SUFFIXES.length; i++) {
      var sfx = SUFFIXES[i];
      if (k.length - sfx.length >= 2 && k.slice(-sfx.length) === sfx) { k = k.slice(0, -sfx.length); again = true; break; }
    }
  }
  return k;
}

// How well a name (or alias) answers the query: 0 best, -1 not at all.
function nameScore(name, q, kq) {
  var n = norm(name), kn = key(name);
  if (!n) { return -1; }
  if (n === q || kn === kq) { return 0; }
  if (n.indexOf(q) === 0 || kn.indexOf(kq) === 0) { return 1; }
  if (n.indexOf(q) >= 0 || (kq && kn.indexOf(kq) >= 0)) { return 2; }
  if (kn.length >= 2 && q.indexOf(kn) === 0) {  // e.g. 平罗花园小区3号楼, not 鼓楼南街101号 for 鼓楼小区
    var rest = q.slice(kn.length);
    SUFFIXES.forEach(function (sfx) { if (rest.indexOf(sfx) === 0) { rest = rest.slice(sfx.length); } });
    if (rest === "" || /^\d/.test(rest)) { return 2; }
  }
  return -1;
}

function parseQuery(q) {
  var m = q.match(/^(.*?)(\d+)号?/);
  return m ? {street: m[1], number: parseInt(m[2], 10)} : null;
}

function addressMatch(entry, q, pq) {
  var street = norm(entry.street);
  if (pq && pq.street && entry.from !== null && entry.from !== undefined) {
    var s = pq.street;
    if (!(street.indexOf(s) >= 0 || s.indexOf(street) >= 0)) { return false; }
    if (pq.number < entry.from || pq.number > entry.to) { return false; }
    if (entry.parity === "odd" && pq.number % 2 === 0) { return false; }
    if (entry.parity === "even" && pq.number % 2 === 1) { return false; }
    return true;
  }
  return q.length >= 2 && norm(entry.text).indexOf(q) >= 0;
}

function matches(raw) {
  var q = norm(raw);
  if (!q) { return []; }
  var kq = key(raw), pq = parseQuery(q);
  var scored = [];
  DATA.units.forEach(function (u, i) {
    var best = nameScore(u.name, q, kq), via = null;
    if (best < 0 && norm(u.township + u.name).indexOf(q) >= 0) { best = 2; }
    (u.aliases || []).forEach(function (a) {
      var s = nameScore(a, q, kq);
      if (s >= 0 && (best < 0 || s + 3 < best)) { best = s + 3; via = "别名：" + a; }
    });
    // a street and house number inside a unit's range beats a name merely contained in the query
    var addrScore = (pq && pq.street) ? 1.5 : 6;
    (u.addresses || []).forEach(function (a) {
      if ((best < 0 || addrScore < best) && addressMatch(a, q, pq)) { best = addrScore; via = "地址：" + a.text; }
    });
    if (best >= 0) { scored.push({u: u, score: best, via: via, i: i}); }
  });
  scored.sort(function (a, b) { return a.score - b.score || a.i - b.i; });
  return scored.slice(0, MAX_RESULTS).map(function (s) { s.u._via = s.via; return s.u; });
}

function unitCard(u) {
  var div = el("div", "zoning-card");
  div.appendChild(el("div", "zoning-card-title", u.name));
  var t = el("table", "zoning-kv");
  if (u.township) { row(t, "乡镇/街道", u.township); }
  LEVELS.forEach(function (lv) {
    var id = (u.schools || {})[lv];
    var s = SCHOOLS[id];
    row(t, LEVEL_ZH[lv] + "对口学校", id ? schoolName(id) : "未划片");
    if (s && s.address) { row(t, LEVEL_ZH[lv] + "学校地址", s.address); }
  });
  div.appendChild(t);
  LEVELS.forEach(function (lv) {
    if ((u.changes || {})[lv]) { div.appendChild(el("div", "zoning-change", u.changes[lv])); }
  });
  return div;
}

function choose(u) {
  list.textContent = "";
  list.hidden = true;
  input.value = u.name;
  panel.textContent = "";
  panel.appendChild(unitCard(u));
  panel.hidden = false;
  chosen.clearLayers();
  map.closePopup();
  chosenUnit = u;
  highlight(current, (u.schools || {})[current]);
  if (u.shape) {
    L.geoJSON({type: "Feature", properties: {}, geometry: u.shape}, {
      pointToLayer: function (f, ll) { return L.circleMarker(ll, {radius: 8}); },
      style: function () { return {color: "#d00", weight: 4, fillOpacity: 0.05, dashArray: null, className: "zoning-chosen-unit"}; },
      interactive: false
    }).addTo(chosen);
  }
  map.fitBounds(bbox(u.bbox), {maxZoom: 16, paddingTopLeft: [40, 180], paddingBottomRight: [40, 40], animate: false});
  L.popup(popupOptions()).setLatLng(u.point).setContent(unitCard(u)).openOn(map);
}

function showResults() {
  var res = matches(input.value);
  list.textContent = "";
  if (!norm(input.value)) { list.hidden = true; return res; }
  if (!res.length) {
    list.appendChild(el("li", "zoning-none", "没有找到“" + input.value + "”，请换个关键字（如只输入小区或村名中的两三个字，或“街道名+门牌号”）。"));
  }
  res.forEach(function (u) {
    var li = el("li", "zoning-result");
    li.appendChild(el("span", "zoning-result-name", u.name));
    if (u.township) { li.appendChild(el("span", "zoning-result-town", u.township)); }
    if (u._via) { li.appendChild(el("span", "zoning-result-via", u._via)); }
    var sid = (u.schools || {})[current];
    li.appendChild(el("span", "zoning-result-school", LEVEL_ZH[current] + "：" + (sid ? schoolName(sid) : "未划片")));
    li.tabIndex = 0;
    li.onclick = function () { choose(u); };
    li.onkeydown = function (ev) { if (ev.key === "Enter") { choose(u); } };
    list.appendChild(li);
  });
  list.hidden = false;
  return res;
}

if (input) {
  input.addEventListener("input", showResults);
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { var r = matches(input.value); if (r.length) { choose(r[0]); } }
    if (ev.key === "Escape") { list.hidden = true; }
  });
}

setLevel(LEVELS[0]);
map.fitBounds(bbox(DATA.views.town), {padding: [8, 8], animate: false});
labelsByZoom();
window.zoningPage = {map: map, setLevel: setLevel, level: function () { return current; }, matches: matches,
                     showView: showView, choose: choose};
