// Parents' map: zones and schools only, a search over 小区/村 names, a click shows the zone's school.
var LEVELS = DATA.levels;
var zoneLayers = {}, schoolLayers = {};
var current = null;
var shown = L.featureGroup().addTo(map);
var found = L.featureGroup().addTo(map);

LEVELS.forEach(function (lv) {
  zoneLayers[lv] = L.geoJSON(DATA.zones[lv], {
    style: function (f) { return {color: "#333", weight: 1.5, fillColor: f.properties.color, fillOpacity: 0.42, className: "zone-polygon zone-" + lv}; },
    onEachFeature: function (f, layer) {
      layer.bindPopup(function () { return schoolCard(f.properties.school_id, lv); });
      layer.bindTooltip(el("span", null, f.properties.name + "片区"), {sticky: true});
    }
  });
  schoolLayers[lv] = L.featureGroup();
  (DATA.schools || []).forEach(function (s) {
    if (!serves(s, lv)) { return; }
    var mk = schoolMarker(s, "school-marker school-" + lv);
    mk.bindTooltip(el("span", null, s.name), {direction: "top", offset: [0, -8]});
    mk.bindPopup(function () { return schoolCard(s.school_id, lv); });
    schoolLayers[lv].addLayer(mk);
  });
});

var switcher = addLevelSwitch(LEVELS, setLevel, "topright");
function setLevel(lv) {
  current = lv;
  shown.clearLayers();
  shown.addLayer(zoneLayers[lv]);
  shown.addLayer(schoolLayers[lv]);
  map.closePopup();
  switcher.mark(lv);
  drawLegend(lv);
}

var legend = L.control({position: "bottomright"});
legend.onAdd = function () { this._div = el("div", "zoning-legend"); L.DomEvent.disableClickPropagation(this._div); return this._div; };
legend.addTo(map);
function drawLegend(lv) {
  var div = legend._div;
  div.textContent = "";
  div.appendChild(el("div", "zoning-legend-title", LEVEL_ZH[lv] + "招生片区"));
  DATA.zones[lv].features.forEach(function (f) {
    var it = el("div", "zoning-legend-item");
    var sw = el("span", "zoning-swatch"); sw.style.background = f.properties.color;
    it.appendChild(sw); it.appendChild(el("span", null, f.properties.name));
    div.appendChild(it);
  });
}

// ---- search ----
var input = document.getElementById("zoning-search");
var list = document.getElementById("zoning-results");
var panel = document.getElementById("zoning-found");
var MAX_RESULTS = 30;

function norm(s) { return String(s || "").replace(/\s+/g, "").toLowerCase(); }

function matches(q) {
  q = norm(q);
  if (!q) { return []; }
  var out = [];
  for (var i = 0; i < DATA.units.length && out.length < MAX_RESULTS; i++) {
    var u = DATA.units[i];
    if (norm(u.name).indexOf(q) >= 0 || norm(u.township + u.name).indexOf(q) >= 0) { out.push(u); }
  }
  return out;
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
  return div;
}

function choose(u) {
  list.textContent = "";
  list.hidden = true;
  input.value = u.name;
  panel.textContent = "";
  panel.appendChild(unitCard(u));
  panel.hidden = false;
  found.clearLayers();
  var b = u.bbox;
  map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {maxZoom: 16, padding: [30, 30]});
  var mk = L.marker(u.point, {title: u.name}).addTo(found);
  mk.bindPopup(unitCard(u)).openPopup();
}

function showResults() {
  var res = matches(input.value);
  list.textContent = "";
  if (!norm(input.value)) { list.hidden = true; return res; }
  if (!res.length) {
    list.appendChild(el("li", "zoning-none", "没有找到名称含“" + input.value + "”的小区或村，请换个关键字（如只输入其中两三个字）。"));
  }
  res.forEach(function (u) {
    var li = el("li", "zoning-result");
    li.appendChild(el("span", "zoning-result-name", u.name));
    if (u.township) { li.appendChild(el("span", "zoning-result-town", u.township)); }
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

addNotice("bottomleft");
setLevel(LEVELS[0]);
window.zoningPage = {map: map, setLevel: setLevel, level: function () { return current; }, matches: matches};
