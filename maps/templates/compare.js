// Comparison map: zones of proposal A and B as switchable layers, the units that differ highlighted.
var LEVELS = DATA.levels;
var groups = {a: L.featureGroup(), b: L.featureGroup(), diff: L.featureGroup(), schools: L.featureGroup()};
var perLevel = {};
var current = null;

function zoneLayer(fc, lv, which) {
  return L.geoJSON(fc, {
    style: function (f) {
      return which === "a"
        ? {color: "#333", weight: 1.5, fillColor: f.properties.color, fillOpacity: 0.45, className: "zone-polygon zone-a zone-a-" + lv}
        : {color: "#333", weight: 1.5, dashArray: "6 4", fillColor: f.properties.color, fillOpacity: 0.45, className: "zone-polygon zone-b zone-b-" + lv};
    },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(el("span", null, DATA.meta.names[which] + "：" + f.properties.name + "片区"), {sticky: true});
    }
  });
}

function diffCard(p, lv) {
  var div = el("div", "zoning-card");
  div.appendChild(el("div", "zoning-card-title", p.name));
  var t = el("table", "zoning-kv");
  var x = p[lv] || {};
  row(t, DATA.meta.names.a, schoolName(x.a));
  row(t, DATA.meta.names.b, schoolName(x.b));
  div.appendChild(t);
  return div;
}

LEVELS.forEach(function (lv) {
  var P = {};
  P.a = zoneLayer(DATA.zones_a[lv], lv, "a");
  P.b = zoneLayer(DATA.zones_b[lv], lv, "b");
  var diff = {type: "FeatureCollection", features: DATA.units.features.filter(function (f) {
    var x = f.properties[lv]; return x && x.a !== x.b;
  })};
  P.count = diff.features.length;
  P.diff = L.geoJSON(diff, {
    pointToLayer: unitPoint,
    style: {color: "#d0021b", weight: 3, fillColor: "#d0021b", fillOpacity: 0.3, className: "diff-unit diff-" + lv},
    onEachFeature: function (f, layer) {
      var x = f.properties[lv];
      layer.bindTooltip(el("span", null, f.properties.name + "：" + schoolName(x.a) + " → " + schoolName(x.b)), {sticky: true});
      layer.bindPopup(function () { return diffCard(f.properties, lv); });
    }
  });
  P.schools = L.featureGroup();
  (DATA.schools || []).forEach(function (s) {
    if (!serves(s, lv)) { return; }
    var mk = schoolMarker(s, "school-marker school-" + lv);
    mk.bindTooltip(el("span", null, s.name));
    mk.bindPopup(function () { return schoolCard(s.school_id, lv); });
    P.schools.addLayer(mk);
  });
  perLevel[lv] = P;
});

groups.a.addTo(map); groups.diff.addTo(map); groups.schools.addTo(map);
var base = {};  // layer-control names are HTML in Leaflet: escape the proposal names
base[escapeHtml(DATA.meta.names.a + " 的片区")] = groups.a;
base[escapeHtml(DATA.meta.names.b + " 的片区（虚线）")] = groups.b;
L.control.layers(base, {"两方案不同的小区/村": groups.diff, "学校": groups.schools}, {collapsed: false}).addTo(map);

var legend = L.control({position: "bottomright"});
legend.onAdd = function () { this._div = el("div", "zoning-legend"); L.DomEvent.disableClickPropagation(this._div); return this._div; };
legend.addTo(map);
function drawLegend(lv) {
  var div = legend._div;
  div.textContent = "";
  div.appendChild(el("div", "zoning-legend-title", "方案比较（" + LEVEL_ZH[lv] + "）"));
  div.appendChild(el("div", "zoning-diff-count", "两方案不同的小区/村：" + perLevel[lv].count + " 个"));
  var seen = {};
  DATA.zones_a[lv].features.concat(DATA.zones_b[lv].features).forEach(function (f) {
    if (seen[f.properties.school_id]) { return; }
    seen[f.properties.school_id] = true;
    var it = el("div", "zoning-legend-item");
    var sw = el("span", "zoning-swatch"); sw.style.background = f.properties.color;
    it.appendChild(sw); it.appendChild(el("span", null, f.properties.name));
    div.appendChild(it);
  });
  var it = el("div", "zoning-legend-item");
  var sw = el("span", "zoning-swatch"); sw.style.background = "#d0021b"; sw.style.opacity = 0.6;
  it.appendChild(sw); it.appendChild(el("span", null, "两方案不同的小区/村"));
  div.appendChild(it);
}

var switcher = addLevelSwitch(LEVELS, setLevel);
function setLevel(lv) {
  current = lv;
  ["a", "b", "diff", "schools"].forEach(function (k) { groups[k].clearLayers(); groups[k].addLayer(perLevel[lv][k]); });
  map.closePopup();
  switcher.mark(lv);
  drawLegend(lv);
}
addNotice("bottomleft");
setLevel(LEVELS[0]);
window.zoningPage = {map: map, setLevel: setLevel, level: function () { return current; },
  diffCount: function (lv) { return perLevel[lv || current].count; }};
