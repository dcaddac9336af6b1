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
// on a phone the open card would sit under the zoom and 城区/全县 buttons: hide them while it is open
map.on("popupopen", function () { map.getContainer().classList.add("zoning-card-open"); });
map.on("popupclose", function () { map.getContainer().classList.remove("zoning-card-open"); });

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

// How well a query answers a name or an alias, in tiers (smaller is better; -1 not at all):
// the name exactly, the name without its 小区/花园/村 suffix, the name's start, part of the name.
// An exact name always beats a suffix-stripped one: 东城家园 finds 东城家园, not 东城花园.
var TIER = {exact: 0, exactAlias: 1, key: 2, keyAlias: 3, schoolAddress: 3.5, numbered: 4,
            prefix: 5, prefixAlias: 6, part: 7, partAlias: 8, street: 9};

function nameTier(name, q, kq, alias) {
  var n = norm(name), kn = key(name);
  if (!n) { return -1; }
  if (n === q) { return alias ? TIER.exactAlias : TIER.exact; }
  if (kn === kq) { return alias ? TIER.keyAlias : TIER.key; }
  if (n.indexOf(q) === 0 || kn.indexOf(kq) === 0) { return alias ? TIER.prefixAlias : TIER.prefix; }
  if (n.indexOf(q) >= 0 || (kq && kn.indexOf(kq) >= 0)) { return alias ? TIER.partAlias : TIER.part; }
  if (kn.length >= 2 && q.indexOf(kn) === 0) {  // e.g. 平罗花园小区3号楼, not 鼓楼南街101号 for 鼓楼小区
    var rest = q.slice(kn.length);
    SUFFIXES.forEach(function (sfx) { if (rest.indexOf(sfx) === 0) { rest = rest.slice(sfx.length); } });
    if (rest === "" || /^\d/.test(rest)) { return alias ? TIER.partAlias : TIER.part; }
  }
  return -1;
}

function better(a, b) { return b < 0 || (a >= 0 && a < b); }

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

function unitMatch(u, q, kq, pq) {
  var best = nameTier(u.name, q, kq, false), via = null;
  if (best < 0 && norm(u.township + u.name).indexOf(q) >= 0) { best = TIER.part; }
  (u.aliases || []).forEach(function (a) {
    var t = nameTier(a, q, kq, true);
    if (t >= 0 && better(t, best)) { best = t; via = "别名：" + a; }
  });
  // a street and house number inside a unit's range beats a name merely contained in the query
  var addrTier = (pq && pq.street) ? TIER.numbered : TIER.street;
  (u.addresses || []).forEach(function (a) {
    if (better(addrTier, best) && addressMatch(a, q, pq)) { best = addrTier; via = "地址：" + a.text; }
  });
  return best < 0 ? null : {kind: "unit", item: u, score: best, via: via};
}

// A school is found by its name and by its own address (城关镇鼓楼南街1号, or 鼓楼南街1号).
function schoolMatch(s, q, kq) {
  var best = nameTier(s.name, q, kq, false), via = null;
  var addr = norm(s.address);
  if (addr && q.length >= 3) {
    var t = -1;
    if (addr === q || (q.length >= 4 && addr.slice(-q.length) === q) || q.slice(-addr.length) === addr) { t = TIER.schoolAddress; }
    else if (q.length >= 3 && addr.indexOf(q) >= 0) { t = TIER.street; }
    if (t >= 0 && better(t, best)) { best = t; via = "地址：" + s.address; }
  }
  return best < 0 ? null : {kind: "school", item: s, score: best, via: via};
}

function searchable(s) { return LEVELS.some(function (lv) { return serves(s, lv); }); }

// Every unit and school the query finds, best first; equal scores keep their order in the data
// but are never decided silently (see the Enter handler).
function search(raw) {
  var q = norm(raw);
  if (!q) { return []; }
  var kq = key(raw), pq = parseQuery(q);
  var found = [];
  DATA.units.forEach(function (u, i) { var m = unitMatch(u, q, kq, pq); if (m) { m.i = i; found.push(m); } });
  (DATA.schools || []).forEach(function (s, i) {
    if (!searchable(s)) { return; }
    var m = schoolMatch(s, q, kq); if (m) { m.i = DATA.units.length + i; found.push(m); }
  });
  found.sort(function (a, b) { return a.score - b.score || a.i - b.i; });
  return found.slice(0, MAX_RESULTS);
}

// The units a query finds (kept for callers of the first version): units only, best first.
function matches(raw) {
  return search(raw).filter(function (m) { return m.kind === "unit"; })
    .map(function (m) { m.item._via = m.via; return m.item; });
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

// The one card of a chosen unit: a popup whose tip sits on the top edge of the unit's outline, the
// map fitted so that the whole outline is visible below the popup (phone and desktop alike).
function openCardAbove(content, bb, anchor) {
  var opts = popupOptions();
  opts.autoPan = false;
  opts.className = "zoning-unit-popup";
  var pop = L.popup(opts).setLatLng(anchor).setContent(content).openOn(map);
  var h = pop.getElement() ? pop.getElement().offsetHeight : 200;
  var size = map.getSize();
  var top = Math.min(h + 40, Math.max(60, size.y - 120));
  map.fitBounds(bbox(bb), {maxZoom: 16, paddingTopLeft: [24, top], paddingBottomRight: [24, 24], animate: false});
  pop.update();
  return pop;
}

function announce(text) { if (panel) { panel.textContent = text; } }

function choose(u) {
  list.textContent = "";
  list.hidden = true;
  input.value = u.name;
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
  var b = u.bbox;
  openCardAbove(unitCard(u), b, [b[3], (b[0] + b[2]) / 2]);
  var sid = (u.schools || {})[current];
  announce("已选中" + u.name + "：" + LEVEL_ZH[current] + "对口学校 " + (sid ? schoolName(sid) : "未划片"));
}

function zoneBounds(lv, schoolId) {
  var out = null;
  zoneLayers[lv].eachLayer(function (layer) {
    if (layer.feature.properties.school_id === schoolId) { out = layer.getBounds(); }
  });
  return out;
}

function chooseSchool(s) {
  list.textContent = "";
  list.hidden = true;
  input.value = s.name;
  chosen.clearLayers();
  chosenUnit = null;
  var lv = serves(s, current) ? current : (LEVELS.indexOf(s.level) >= 0 ? s.level : current);
  if (lv !== current) { setLevel(lv); }
  map.closePopup();
  highlight(lv, s.school_id);
  var zb = zoneBounds(lv, s.school_id);
  var b = zb ? [zb.getWest(), zb.getSouth(), zb.getEast(), zb.getNorth()] : [s.lon, s.lat, s.lon, s.lat];
  b = [Math.min(b[0], s.lon), Math.min(b[1], s.lat), Math.max(b[2], s.lon), Math.max(b[3], s.lat)];
  openCardAbove(schoolCard(s.school_id, lv), b, [s.lat, s.lon]);
  announce("已选中学校" + s.name);
}

function pick(m) { if (m.kind === "school") { chooseSchool(m.item); } else { choose(m.item); } }

function showResults(note) {
  var res = search(input.value);
  list.textContent = "";
  if (!norm(input.value)) { list.hidden = true; return res; }
  if (!res.length) {
    list.appendChild(el("li", "zoning-none", "没有找到“" + input.value + "”，请换个关键字（如只输入小区或村名中的两三个字，或“街道名+门牌号”）。"));
  }
  if (note) { list.appendChild(el("li", "zoning-ambiguous", note)); }
  res.forEach(function (m) {
    var li = el("li", "zoning-result" + (m.kind === "school" ? " zoning-result-is-school" : ""));
    li.appendChild(el("span", "zoning-result-name", m.item.name));
    if (m.kind === "school") {
      li.appendChild(el("span", "zoning-result-town", "学校"));
      if (m.via) { li.appendChild(el("span", "zoning-result-via", m.via)); }
    } else {
      var u = m.item;
      if (u.township) { li.appendChild(el("span", "zoning-result-town", u.township)); }
      if (m.via) { li.appendChild(el("span", "zoning-result-via", m.via)); }
      var sid = (u.schools || {})[current];
      li.appendChild(el("span", "zoning-result-school", LEVEL_ZH[current] + "：" + (sid ? schoolName(sid) : "未划片")));
    }
    li.tabIndex = 0;
    li.onclick = function () { pick(m); };
    li.onkeydown = function (ev) { if (ev.key === "Enter") { pick(m); } };
    list.appendChild(li);
  });
  list.hidden = false;
  return res;
}

// Enter opens the best answer only when it is the only one at its score; otherwise the candidates
// stay listed with a note (two units both called 东城 after their suffixes are gone, two 团结村).
function onEnter() {
  var res = search(input.value);
  if (!res.length) { showResults(); return; }
  var tied = res.filter(function (m) { return m.score === res[0].score; });
  if (tied.length === 1) { pick(res[0]); return; }
  showResults("与“" + input.value + "”同样最接近的有 " + tied.length + " 个（列在最前），请从下面选择：");
}

if (input) {
  input.addEventListener("input", function () { showResults(); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { onEnter(); }
    if (ev.key === "Escape") { list.hidden = true; }
  });
}

setLevel(LEVELS[0]);
map.fitBounds(bbox(DATA.views.town), {padding: [8, 8], animate: false});
labelsByZoom();
window.zoningPage = {map: map, setLevel: setLevel, level: function () { return current; }, matches: matches,
                     search: search, showView: showView, choose: choose, chooseSchool: chooseSchool};
