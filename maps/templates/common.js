// Shared helpers of the zoning map pages. Every text from the data goes through textContent.
var LEVEL_ZH = {primary: "小学", junior: "初中", nine_year: "九年一贯制"};

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) { e.className = cls; }
  if (text !== undefined && text !== null) { e.textContent = String(text); }
  return e;
}

// Leaflet puts layer-control names in with innerHTML: data shown there must be escaped first.
function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
  });
}

function row(table, label, value) {
  var tr = el("tr");
  tr.appendChild(el("th", null, label));
  tr.appendChild(el("td", null, value === null || value === undefined || value === "" ? "—" : value));
  table.appendChild(tr);
  return tr;
}

function pct(v) { return (v === null || v === undefined) ? "—" : (Math.round(v * 1000) / 10) + "%"; }

function yesno(v) { return v === true || v === "True" || v === "true" || v === 1 ? "是" : "否"; }

// No flag, no link in the corner: Leaflet's attribution prefix is removed on every page.
if (map.attributionControl) { map.attributionControl.setPrefix(false); }

// Scale bar: metric only (no miles or feet), in 米 / 公里.
(function () {
  var scale = L.control.scale({metric: true, imperial: false, maxWidth: 120, position: "bottomleft"});
  scale._updateMetric = function (maxMeters) {
    var meters = this._getRoundNum(maxMeters);
    var label = meters < 1000 ? meters + " 米" : (meters / 1000) + " 公里";
    this._updateScale(this._mScale, label, meters / maxMeters);
  };
  scale.addTo(map);
})();

if (DATA.icons) {
  L.Icon.Default.imagePath = "";
  L.Icon.Default.mergeOptions(DATA.icons);
}

function schoolsById() {
  var out = {};
  (DATA.schools || []).forEach(function (s) { out[s.school_id] = s; });
  return out;
}

function serves(school, level) {
  return school.level === level || school.level === "nine_year";
}

function schoolName(id) {
  var s = SCHOOLS[id];
  return s ? s.name : (id ? "学校 " + id : "（无）");
}

var SCHOOLS = schoolsById();

// Notice panel: title, data source, and the sample warning.
function addNotice(position) {
  var ctl = L.control({position: position || "bottomleft"});
  ctl.onAdd = function () {
    var div = el("div", "zoning-notice");
    if (DATA.meta.is_sample) { div.appendChild(el("div", "zoning-sample", DATA.meta.sample_notice)); }
    div.appendChild(el("div", "zoning-source", DATA.meta.source_line));
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  ctl.addTo(map);
  return ctl;
}

// Level switch (小学 / 初中): buttons calling onChange(level).
function addLevelSwitch(levels, onChange, position) {
  var ctl = L.control({position: position || "topright"});
  var buttons = {};
  ctl.onAdd = function () {
    var div = el("div", "zoning-levels leaflet-bar");
    levels.forEach(function (lv) {
      var b = el("button", "zoning-level", LEVEL_ZH[lv] + "片区");
      b.type = "button";
      b.setAttribute("data-level", lv);
      b.onclick = function (ev) { L.DomEvent.stop(ev); onChange(lv); };
      buttons[lv] = b;
      div.appendChild(b);
    });
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  ctl.addTo(map);
  ctl.mark = function (lv) {
    Object.keys(buttons).forEach(function (k) { buttons[k].classList.toggle("active", k === lv); });
  };
  return ctl;
}

function schoolMarker(s, className) {
  return L.circleMarker([s.lat, s.lon], {
    radius: 8, color: "#ffffff", weight: 2, fillColor: s.color, fillOpacity: 1,
    className: className || "school-marker"
  });
}

// A card for parents: name, level, address.
function schoolCard(id, level) {
  var s = SCHOOLS[id] || {name: schoolName(id), level: level, address: ""};
  var div = el("div", "zoning-card");
  div.appendChild(el("div", "zoning-card-title", s.name));
  var t = el("table", "zoning-kv");
  row(t, "学段", LEVEL_ZH[s.level] || s.level);
  if (level && s.level === "nine_year") { row(t, "本片区", LEVEL_ZH[level] + "学段"); }
  row(t, "地址", s.address);
  div.appendChild(t);
  return div;
}

(function () {
  var t = document.getElementById("zoning-title");
  if (t) { t.textContent = DATA.meta.title; }
})();

// Units given as points (no polygons) are drawn as small circles, not as default markers.
function unitPoint(f, latlng) { return L.circleMarker(latlng, {radius: 5}); }
