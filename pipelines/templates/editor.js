/* zoning edit: the page. Every figure comes from the server (the same Python code as
   `zoning project` and `zoning check-plan`); this script only draws it. Data reach the DOM as text. */
(function () {
  "use strict";
  var DATA = null, STATE = null, level = null, unitLayer = null, selected = null;
  var map = L.map("map", {attributionControl: false, preferCanvas: false});
  var LEVEL_ZH = {primary: "小学", junior: "初中"};

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function byId(id) { return document.getElementById(id); }
  function km(m) { return m === null || m === undefined ? "—" : (m / 1000).toFixed(2) + " 公里"; }

  function message(text, ok) {
    var m = byId("message");
    m.hidden = !text;
    m.textContent = text || "";
    m.className = ok ? "ok" : "";
  }

  function request(method, url, body) {
    var opts = {method: method, headers: {}};
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok || (j && j.error)) { throw new Error((j && j.error) || ("请求失败：" + r.status)); }
        return j;
      });
    });
  }

  function schoolName(id) {
    for (var i = 0; i < DATA.schools.length; i++) if (DATA.schools[i].school_id === id) return DATA.schools[i].name;
    return id;
  }

  // ---------------------------------------------------------------- map
  function unitStyle(feature) {
    var uid = feature.properties.unit_id;
    var sid = STATE ? STATE.assignment[level][uid] : null;
    var flagged = STATE && STATE.flagged_units.indexOf(uid) >= 0;
    var edited = STATE && STATE.edits.some(function (e) { return e.unit_id === uid && e.level === level; });
    return {color: flagged ? "#d00" : (edited ? "#000" : "#555"), weight: flagged || edited ? 3 : 0.6,
            dashArray: flagged ? "4 3" : null, fillColor: (sid && DATA.colors[sid]) || "#bbb",
            fillOpacity: uid === selected ? 0.85 : 0.55};
  }

  function drawMap() {
    unitLayer = L.geoJSON(DATA.units, {style: unitStyle, onEachFeature: function (f, layer) {
      layer.on("click", function () { showUnit(f.properties.unit_id); });
      layer.bindTooltip(function () { return f.properties.name + "（" + f.properties.unit_id + "）"; }, {sticky: true});
    }});
    map.fitBounds(unitLayer.getBounds());  // the view first: a layer added to a map without one fails
    unitLayer.addTo(map);
    unitLayer.eachLayer(function (layer) {  // a handle for people's tools and tests
      var e = layer.getElement && layer.getElement();
      if (e) e.setAttribute("data-unit", layer.feature.properties.unit_id);
    });
    if (DATA.barriers) {
      L.geoJSON(DATA.barriers, {style: {color: "#333", weight: 2, dashArray: "6 4"}, interactive: false}).addTo(map);
    }
    DATA.schools.forEach(function (s) {
      var m = L.circleMarker([s.lat, s.lon], {radius: 6, color: "#000", weight: 1, fillColor: s.color, fillOpacity: 1});
      m.bindTooltip(function () { return s.name + "（" + s.school_id + "）"; });
      m.addTo(map);
    });
  }

  function restyle() { if (unitLayer) unitLayer.setStyle(unitStyle); }

  // ---------------------------------------------------------------- unit panel
  function showUnit(uid) {
    selected = uid;
    restyle();
    return request("GET", "/api/candidates?unit=" + encodeURIComponent(uid)).then(function (c) {
      var box = byId("unit");
      clear(box);
      box.hidden = false;
      box.appendChild(el("h2", c.name + "（" + c.unit_id + "）的候选学校"));
      Object.keys(c.levels).forEach(function (lv) {
        box.appendChild(el("div", LEVEL_ZH[lv] || lv, "school-label"));
        var list = el("div", null, "cand");
        c.levels[lv].forEach(function (s) {
          var b = el("button");
          b.type = "button";
          b.dataset.school = s.school_id;
          b.dataset.level = lv;
          var text = s.name + "　" + km(s.distance_m) + (s.current_zone ? "　（现行片区）" : "");
          if (s.assigned) { text += "　← 当前方案"; b.className = "assigned"; }
          if (!s.within_cap) text += "　超过距离上限";
          if (!s.barrier_ok) text += "　需穿越障碍";
          b.textContent = text;
          if (!s.within_cap || !s.barrier_ok) b.classList.add("warn");
          b.addEventListener("click", function () { api.assign(c.unit_id, lv, s.school_id).catch(function () {}); });
          list.appendChild(b);
        });
        box.appendChild(list);
      });
    }).catch(function (e) { message(e.message); });
  }

  // ---------------------------------------------------------------- state panel
  function render() {
    byId("undo").disabled = !STATE.can_undo;
    byId("redo").disabled = !STATE.can_redo;
    byId("resolve").disabled = !STATE.edits.length || (STATE.job && STATE.job.running);
    byId("timing").textContent = "重算用时 " + STATE.compute_ms + " 毫秒";
    var edits = byId("edits");
    clear(edits);
    STATE.edits.forEach(function (e) {
      edits.appendChild(el("li", e.unit_name + "（" + (LEVEL_ZH[e.level] || e.level) + "）：" + (e.from_name || "无") +
                                 " → " + e.school_name + "。" + e.effect));
    });
    byId("no-edits").hidden = STATE.edits.length > 0;
    renderTotals();
    renderChecks();
    renderLedger();
    renderJob(STATE.job);
    restyle();
    if (STATE.note) message(STATE.note, true);
  }

  function renderTotals() {
    var box = byId("totals"), t = STATE.totals, o = STATE.original_totals;
    clear(box);
    var table = el("table"), head = el("tr");
    ["", "本方案（编辑后）", "原方案"].forEach(function (h) { head.appendChild(el("th", h)); });
    table.appendChild(head);
    function row(label, a, b) {
      var tr = el("tr");
      tr.appendChild(el("td", label)); tr.appendChild(el("td", a)); tr.appendChild(el("td", b));
      table.appendChild(tr);
    }
    row("改变学校的新生（人）", t.students_moved, o.students_moved);
    row("改变学校的单元（个）", t.units_moved, o.units_moved);
    row("平均上学距离", km(t.mean_distance_m), km(o.mean_distance_m));
    row("最远上学距离", km(t.max_distance_m), km(o.max_distance_m));
    Object.keys(t.moved_by_year).forEach(function (lv) {
      Object.keys(t.moved_by_year[lv]).forEach(function (y) {
        row(y + " 年" + (LEVEL_ZH[lv] || lv) + "新生改变学校", t.moved_by_year[lv][y], o.moved_by_year[lv][y]);
      });
    });
    box.appendChild(table);
  }

  function renderChecks() {
    var ul = byId("checks");
    clear(ul);
    STATE.checks.forEach(function (c) {
      var li = el("li", (c.ok ? "✓ " : "✗ ") + c.title + (c.ok ? "：通过" : "：未通过 " + c.failures.length + " 处"),
                  c.ok ? "pass" : "fail");
      li.dataset.check = c.name;
      if (c.failures.length || c.notes.length) {
        var sub = el("ul");
        c.failures.slice(0, 30).forEach(function (f) { sub.appendChild(el("li", f.detail)); });
        c.notes.slice(0, 10).forEach(function (n) { sub.appendChild(el("li", "说明：" + n)); });
        li.appendChild(sub);
      }
      ul.appendChild(li);
    });
  }

  function renderLedger() {
    var box = byId("ledger");
    clear(box);
    var all = byId("show-all").checked;
    var shown = all ? null : STATE.changed_schools;
    var was = {};
    STATE.original_ledger.forEach(function (r) { was[r.school_id + "|" + r.year] = r; });
    var bySchool = {}, order = [];
    STATE.ledger.forEach(function (r) {
      if (shown && shown.indexOf(r.school_id) < 0) return;
      if (!bySchool[r.school_id]) { bySchool[r.school_id] = []; order.push(r.school_id); }
      bySchool[r.school_id].push(r);
    });
    if (!order.length) { box.appendChild(el("p", "没有数字变化的学校。")); return; }
    order.forEach(function (sid) {
      var rows = bySchool[sid];
      var fy = rows[0].first_year_within_limits;
      var w0 = was[sid + "|" + rows[0].year];
      var fyText = "首次全部达标：" + (fy === null ? "规划期内未达标" : fy + " 年");
      if (w0 && w0.first_year_within_limits !== fy) {
        fyText += "（原方案 " + (w0.first_year_within_limits === null ? "未达标" : w0.first_year_within_limits + " 年") + "）";
      }
      var label = el("div", rows[0].name + "（" + sid + "）　" + fyText, "school-label");
      box.appendChild(label);
      var table = el("table");
      table.dataset.school = sid;
      var head = el("tr");
      head.appendChild(el("th", "年份"));
      rows.forEach(function (r) { head.appendChild(el("th", r.year)); });
      table.appendChild(head);
      [["students", "在校生"], ["classes", "班数"], ["largest_class", "最大班额"]].forEach(function (k) {
        var tr = el("tr");
        tr.appendChild(el("td", k[1]));
        rows.forEach(function (r) {
          var td = el("td", r[k[0]]);
          td.dataset.field = k[0];
          td.dataset.year = r.year;
          var w = was[sid + "|" + r.year];
          if (w && w[k[0]] !== r[k[0]]) {
            var d = r[k[0]] - w[k[0]];
            td.appendChild(el("div", (d > 0 ? "+" : "") + d + "（原 " + w[k[0]] + "）", "was " + (d > 0 ? "up" : "down")));
          }
          tr.appendChild(td);
        });
        table.appendChild(tr);
      });
      var tr = el("tr");
      tr.appendChild(el("td", "超限"));
      rows.forEach(function (r) {
        var f = (r.over_size_limit ? "校额 " : "") + (r.over_class_limit ? "班额 " : "") + (r.over_classrooms ? "教室" : "");
        tr.appendChild(el("td", f || "—", f ? "over" : ""));
      });
      table.appendChild(tr);
      box.appendChild(table);
    });
  }

  // ---------------------------------------------------------------- re-solve
  var polling = null;
  function renderJob(job) {
    var box = byId("job");
    if (!job) { box.hidden = true; return; }
    box.hidden = false;
    var lines = job.messages.slice(-12);
    if (job.running) lines.push("正在重新优化……");
    if (job.error) lines.push("重新优化失败：" + job.error);
    if (job.path) lines.push("新方案：" + job.path + "（可用 zoning edit 打开它继续编辑）");
    box.textContent = lines.join("\n");
    renderResolved(job);
    if (job.running && !polling) {
      polling = setInterval(function () {
        request("GET", "/api/job").then(function (j) {
          renderJob(j);
          if (!j || !j.running) { clearInterval(polling); polling = null; byId("resolve").disabled = !STATE.edits.length; }
        });
      }, 1000);
    }
  }

  // The re-solved proposal beside the edited one: totals and, for every school whose figures
  // changed in either, pupils / classes / largest class per year in the three proposals.
  function renderResolved(job) {
    var box = byId("resolved");
    clear(box);
    var r = job && !job.running && job.result;
    if (!r) { box.hidden = true; return; }
    box.hidden = false;
    box.appendChild(el("h2", "重新优化的结果：" + job.name));
    var actions = el("div", null, "actions");
    var open = el("button", "在编辑器中打开新方案");
    open.type = "button"; open.id = "open-resolved";
    open.addEventListener("click", function () { api.openResolved().catch(function () {}); });
    actions.appendChild(open);
    var link = el("a", "查看新方案的规划图");
    link.href = "/resolved/map.html"; link.target = "_blank"; link.id = "resolved-map";
    actions.appendChild(link);
    box.appendChild(actions);
    if (STATE && STATE.edits.length) {
      box.appendChild(el("p", "打开新方案后，本页的修改不会保留；需要保留请先“另存为新方案”。", "was"));
    }
    var t = el("table"), head = el("tr");
    t.id = "resolved-totals";
    ["", "重新优化", "编辑后", "原方案"].forEach(function (h) { head.appendChild(el("th", h)); });
    t.appendChild(head);
    function row(label, a, b, c) {
      var tr = el("tr");
      [label, a, b, c].forEach(function (v) { tr.appendChild(el("td", v === undefined ? "—" : v)); });
      t.appendChild(tr);
    }
    var s = r.totals, e = r.edited_totals, o = r.original_totals;
    row("检查未通过（处）", r.fails, r.edited_fails, r.original_fails);
    row("改变学校的新生（人）", s.students_moved, e.students_moved, o.students_moved);
    row("改变学校的单元（个）", s.units_moved, e.units_moved, o.units_moved);
    row("平均上学距离", km(s.mean_distance_m), km(e.mean_distance_m), km(o.mean_distance_m));
    row("最远上学距离", km(s.max_distance_m), km(e.max_distance_m), km(o.max_distance_m));
    Object.keys(s.moved_by_year).forEach(function (lv) {
      Object.keys(s.moved_by_year[lv]).forEach(function (y) {
        row(y + " 年" + (LEVEL_ZH[lv] || lv) + "新生改变学校", s.moved_by_year[lv][y],
            (e.moved_by_year[lv] || {})[y], (o.moved_by_year[lv] || {})[y]);
      });
    });
    box.appendChild(t);
    function index(rows) { var m = {}; rows.forEach(function (x) { m[x.school_id + "|" + x.year] = x; }); return m; }
    var ed = index(r.edited_ledger), orig = index(r.original_ledger), bySchool = {}, order = [];
    r.ledger.forEach(function (x) {
      if (!bySchool[x.school_id]) { bySchool[x.school_id] = []; order.push(x.school_id); }
      bySchool[x.school_id].push(x);
    });
    if (!order.length) { box.appendChild(el("p", "重新优化后各校数字与原方案相同。")); return; }
    order.forEach(function (sid) {
      var rows = bySchool[sid], fy = rows[0].first_year_within_limits;
      box.appendChild(el("div", rows[0].name + "（" + sid + "）　首次全部达标：" +
                         (fy === null ? "规划期内未达标" : fy + " 年"), "school-label"));
      var table = el("table"), hr = el("tr");
      table.dataset.resolvedSchool = sid;
      hr.appendChild(el("th", "年份"));
      rows.forEach(function (x) { hr.appendChild(el("th", x.year)); });
      table.appendChild(hr);
      [["students", "在校生"], ["classes", "班数"], ["largest_class", "最大班额"]].forEach(function (k) {
        [["重新优化", null], ["编辑后", ed], ["原方案", orig]].forEach(function (src, i) {
          var tr = el("tr");
          tr.appendChild(el("td", k[1] + "（" + src[0] + "）", i ? "was" : ""));
          rows.forEach(function (x) {
            var v = src[1] ? (src[1][sid + "|" + x.year] || {})[k[0]] : x[k[0]];
            var td = el("td", v === undefined ? "—" : v, i ? "was" : "");
            if (!i) { td.dataset.field = k[0]; td.dataset.year = x.year; }
            tr.appendChild(td);
          });
          table.appendChild(tr);
        });
      });
      var tr = el("tr");
      tr.appendChild(el("td", "超限（重新优化）"));
      rows.forEach(function (x) {
        var f = (x.over_size_limit ? "校额 " : "") + (x.over_class_limit ? "班额 " : "") + (x.over_classrooms ? "教室" : "");
        tr.appendChild(el("td", f || "—", f ? "over" : ""));
      });
      table.appendChild(tr);
      box.appendChild(table);
    });
  }

  // ---------------------------------------------------------------- the API for people and tests
  function apply(state) { STATE = state; render(); return state; }
  var api = {
    assign: function (unitId, lv, schoolId) {
      message("");
      return request("POST", "/api/assign", {unit_id: unitId, level: lv, school_id: schoolId})
        .then(apply)
        .then(function (s) { if (selected === unitId) return showUnit(unitId).then(function () { return s; }); return s; })
        .catch(function (e) { message(e.message); throw e; });
    },
    undo: function () { message(""); return request("POST", "/api/undo", {}).then(apply).catch(function (e) { message(e.message); throw e; }); },
    redo: function () { message(""); return request("POST", "/api/redo", {}).then(apply).catch(function (e) { message(e.message); throw e; }); },
    ledger: function () {
      return STATE.ledger.map(function (r) {
        return {school_id: r.school_id, year: r.year, students: r.students, classes: r.classes,
                largest_class: r.largest_class, over_size_limit: r.over_size_limit,
                over_class_limit: r.over_class_limit, over_classrooms: r.over_classrooms,
                first_year_within_limits: r.first_year_within_limits};
      });
    },
    select: function (unitId) { return showUnit(unitId); },
    zoomTo: function (unitId) {  // show one unit large (the county view draws a compound a few pixels wide)
      unitLayer.eachLayer(function (layer) {
        if (layer.feature.properties.unit_id === unitId) map.fitBounds(layer.getBounds(), {animate: false, maxZoom: 17});
      });
    },
    changedSchools: function () { return STATE.changed_schools.slice(); },
    state: function () { return STATE; },
    save: function (name) {
      message("");
      return request("POST", "/api/save", {name: name}).then(function (r) {
        message("已另存为新方案：" + r.path, true);
        return r.path;
      }).catch(function (e) { message(e.message); throw e; });
    },
    resolve: function (name) {
      message("");
      return request("POST", "/api/resolve", name ? {name: name} : {}).then(function (j) {
        STATE.job = j; render(); return j;
      }).catch(function (e) { message(e.message); throw e; });
    },
    job: function () { return request("GET", "/api/job"); },
    openResolved: function () {  // the editor reopens on the re-solved proposal (the page reloads)
      message("");
      return request("POST", "/api/open-resolved", {}).then(function (r) {
        window.location.reload(); return r.path;
      }).catch(function (e) { message(e.message); throw e; });
    },
    map: map,
    ready: null
  };
  window.zoningEditor = api;

  byId("undo").addEventListener("click", function () { api.undo().catch(function () {}); });
  byId("redo").addEventListener("click", function () { api.redo().catch(function () {}); });
  byId("save").addEventListener("click", function () { api.save(byId("save-name").value).catch(function () {}); });
  byId("resolve").addEventListener("click", function () { api.resolve().catch(function () {}); });
  byId("show-all").addEventListener("change", renderLedger);
  byId("level").addEventListener("change", function () { level = this.value; restyle(); });

  api.ready = request("GET", "/api/data").then(function (d) {
    DATA = d;
    var sel = byId("level");
    d.levels.forEach(function (lv) {
      var o = el("option", lv.name + "（" + lv.change_year + " 年起）");
      o.value = lv.level;
      sel.appendChild(o);
    });
    level = d.levels[0].level;
    return request("GET", "/api/state");
  }).then(function (s) {
    STATE = s;
    drawMap();
    render();
    document.body.dataset.ready = "1";
    return s;
  }).catch(function (e) { message("编辑器载入失败：" + e.message); });
})();
