// Planner map: proposed zones, current zones, moved units, schools with their ledger, layers.
var LEVELS = DATA.levels;
var groups = {
  zones: L.featureGroup(), previous: L.featureGroup(), moved: L.featureGroup(),
  units: L.featureGroup(), schools: L.featureGroup(), route: L.featureGroup()
};
var perLevel = {};
var current = null;

function ledgerTable(id, level) {
  var rows = (DATA.ledger[id] || []).filter(function (r) { return !r.level || !level || r.level === level || SCHOOLS[id].level === "nine_year"; });
  if (!rows.length) { return el("div", "zoning-muted", "（无逐年台账）"); }
  var t = el("table", "zoning-ledger");
  var head = el("tr");
  ["年份", "在校生", "班数", "最大班额", "大班额班数", "超校额", "超班额"].forEach(function (h) { head.appendChild(el("th", null, h)); });
  t.appendChild(head);
  rows.forEach(function (r) {
    var tr = el("tr");
    tr.appendChild(el("td", null, r.year));
    tr.appendChild(el("td", null, r.students));
    tr.appendChild(el("td", null, r.classes));
    tr.appendChild(el("td", r.over_class_limit ? "bad" : null, r.largest_class));
    tr.appendChild(el("td", null, r.large_classes));
    tr.appendChild(el("td", r.over_size_limit ? "bad" : null, yesno(r.over_size_limit)));
    tr.appendChild(el("td", r.over_class_limit ? "bad" : null, yesno(r.over_class_limit)));
    t.appendChild(tr);
  });
  return t;
}

function plannerSchoolCard(id, level) {
  var s = SCHOOLS[id] || {name: schoolName(id), level: level, metrics: {}};
  var m = (s.metrics || {})[level] || {};
  var div = el("div", "zoning-card");
  div.appendChild(el("div", "zoning-card-title", s.name));
  var t = el("table", "zoning-kv");
  row(t, "学校代码", s.school_id);
  row(t, "学段", LEVEL_ZH[s.level] || s.level);
  row(t, "地址", s.address);
  row(t, "在校生（目标年）", m.students);
  row(t, "班数", m.classes);
  row(t, "最大班额", m.largest_class);
  row(t, "利用率", pct(m.utilisation));
  row(t, "片区小区/村数", m.n_units);
  row(t, "教室数 / 学位数", (s.classrooms === null ? "—" : s.classrooms) + " / " + (s.capacity === null ? "—" : s.capacity));
  if (s.first_year_within_limits) { row(t, "首个达标年份", s.first_year_within_limits); }
  div.appendChild(t);
  div.appendChild(el("div", "zoning-card-sub", "逐年台账"));
  div.appendChild(ledgerTable(id, level));
  return div;
}

function unitCard(p, level) {
  var div = el("div", "zoning-card");
  div.appendChild(el("div", "zoning-card-title", p.name));
  var t = el("table", "zoning-kv");
  row(t, "编号", p.unit_id);
  row(t, "乡镇/街道", p.township);
  var a = p[level] || {};
  row(t, LEVEL_ZH[level] + "（方案）", schoolName(a.school));
  row(t, LEVEL_ZH[level] + "（现行）", a.previous ? schoolName(a.previous) : "（无）");
  row(t, LEVEL_ZH[level] + "学生数", a.students);
  if (a.previous && a.school && a.previous !== a.school) { row(t, "调整原因", a.reason || "（未注明）").className = "zoning-reason"; }
  var route = routeFor(p.unit_id, level);
  if (route) { row(t, "路线距离", Math.round(route.properties.distance_m) + " 米"); }
  div.appendChild(t);
  return div;
}

function routeFor(unitId, level) {
  var fc = DATA.routes;
  if (!fc) { return null; }
  for (var i = 0; i < fc.features.length; i++) {
    var f = fc.features[i];
    if (f.properties.unit_id === unitId && f.properties.level === level) { return f; }
  }
  return null;
}

function buildLevel(lv) {
  var L1 = {};
  L1.zones = L.geoJSON(DATA.zones[lv], {
    style: function (f) { return {color: "#333", weight: 1.5, fillColor: f.properties.color, fillOpacity: 0.45, className: "zone-polygon zone-" + lv}; },
    onEachFeature: function (f, layer) { layer.bindPopup(function () { return plannerSchoolCard(f.properties.school_id, lv); }); }
  });
  L1.previous = L.geoJSON(DATA.previous[lv], {
    style: function (f) { return {color: f.properties.color, weight: 5, opacity: 0.9, dashArray: "10 6", fill: false, className: "previous-zone previous-" + lv}; },
    onEachFeature: function (f, layer) { layer.bindTooltip(el("span", null, "现行片区：" + f.properties.name), {sticky: true}); }
  });
  var moved = {type: "FeatureCollection", features: DATA.units.features.filter(function (f) {
    var a = f.properties[lv]; return a && a.previous && a.school && a.previous !== a.school;
  })};
  L1.moved = L.geoJSON(moved, {
    pointToLayer: unitPoint,
    style: function () { return {color: "#111111", weight: 3.5, fillColor: "#ffffff", fillOpacity: 0.45, dashArray: "6 4", className: "moved-unit moved-" + lv}; },
    onEachFeature: function (f, layer) {
      var a = f.properties[lv];
      layer.bindTooltip(el("span", null, f.properties.name + "：" + schoolName(a.previous) + " → " + schoolName(a.school) + (a.reason ? "（" + a.reason + "）" : "")), {sticky: true});
      layer.on("click", function (e) { showUnit(f, lv, e.latlng); });
    }
  });
  L1.units = L.geoJSON(DATA.units, {
    pointToLayer: unitPoint,
    style: function () { return {color: "#666", weight: 0.6, fillOpacity: 0, className: "unit-outline"}; },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(el("span", null, f.properties.name), {sticky: true});
      layer.on("click", function (e) { showUnit(f, lv, e.latlng); });
    }
  });
  L1.schools = L.featureGroup();
  (DATA.schools || []).forEach(function (s) {
    if (!serves(s, lv)) { return; }
    var mk = schoolMarker(s, "school-marker school-" + lv);
    mk.bindTooltip(el("span", null, s.name));
    mk.bindPopup(function () { return plannerSchoolCard(s.school_id, lv); }, {maxWidth: 460});
    L1.schools.addLayer(mk);
  });
  L1.count = moved.features.length;
  return L1;
}

function showUnit(f, lv, latlng) {
  groups.route.clearLayers();
  var r = routeFor(f.properties.unit_id, lv);
  if (r) {
    L.geoJSON(r, {style: {color: "#000", weight: 4, dashArray: "8 6", className: "unit-route"}}).addTo(groups.route);
  }
  L.popup({maxWidth: 360}).setLatLng(latlng).setContent(unitCard(f.properties, lv)).openOn(map);
}

LEVELS.forEach(function (lv) { perLevel[lv] = buildLevel(lv); });

var extra = {};
if (DATA.barriers) {
  extra["障碍线（铁路、干道、水渠）"] = L.geoJSON(DATA.barriers, {
    style: {color: "#7b1fa2", weight: 4, className: "barrier-line"},
    onEachFeature: function (f, layer) { layer.bindTooltip(el("span", null, f.properties.name || "障碍线")); }
  });
}
if (DATA.roads) {
  extra["道路"] = L.geoJSON(DATA.roads, {
    style: {color: "#888", weight: 2, className: "road-line"},
    onEachFeature: function (f, layer) { if (f.properties.name) { layer.bindTooltip(el("span", null, f.properties.name)); } }
  });
}

var overlays = {
  "方案片区": groups.zones,
  "现行片区（虚线）": groups.previous,
  "调整的小区/村（原学校 → 新学校）": groups.moved,
  "小区/村边界（点击看路线）": groups.units,
  "学校": groups.schools
};
Object.keys(extra).forEach(function (k) { overlays[k] = extra[k]; });
overlays["路线"] = groups.route;
["zones", "units", "moved", "schools", "route"].forEach(function (k) { groups[k].addTo(map); });
if (extra["障碍线（铁路、干道、水渠）"]) { extra["障碍线（铁路、干道、水渠）"].addTo(map); }
L.control.layers(null, overlays, {collapsed: window.innerWidth < 700}).addTo(map);

var legend = L.control({position: "bottomright"});
legend.onAdd = function () { this._div = el("div", "zoning-legend"); L.DomEvent.disableClickPropagation(this._div); return this._div; };
legend.addTo(map);
function drawLegend(lv) {
  var div = legend._div;
  div.textContent = "";
  div.appendChild(el("div", "zoning-legend-title", "图例（" + LEVEL_ZH[lv] + "）"));
  DATA.zones[lv].features.forEach(function (f) {
    var it = el("div", "zoning-legend-item");
    var sw = el("span", "zoning-swatch"); sw.style.background = f.properties.color;
    it.appendChild(sw); it.appendChild(el("span", null, f.properties.name));
    div.appendChild(it);
  });
  [["moved", "#ffffff", "调整的小区/村（" + perLevel[lv].count + " 个，黑色虚线框）"], ["line", "#333", "现行片区边界（彩色虚线）"],
   ["line", "#7b1fa2", "障碍线"], ["line", "#888", "道路"], ["line", "#000", "小区/村到学校的路线"]].forEach(function (x) {
    var it = el("div", "zoning-legend-item");
    var sw = el("span", x[0] === "line" ? "zoning-line" : "zoning-swatch");
    if (x[0] === "line") { sw.style.borderTopColor = x[1]; } else { sw.style.background = x[1]; sw.style.border = "2px dashed #111"; }
    it.appendChild(sw); it.appendChild(el("span", null, x[2]));
    div.appendChild(it);
  });
}

var switcher = addLevelSwitch(LEVELS, setLevel);
function setLevel(lv) {
  current = lv;
  ["zones", "previous", "units", "moved", "schools"].forEach(function (k) {
    groups[k].clearLayers();
    groups[k].addLayer(perLevel[lv][k]);
  });
  groups.route.clearLayers();
  map.closePopup();
  switcher.mark(lv);
  drawLegend(lv);
}
addNotice("bottomleft");
setLevel(LEVELS[0]);
window.zoningPage = {map: map, setLevel: setLevel, level: function () { return current; }};
