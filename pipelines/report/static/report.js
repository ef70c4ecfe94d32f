/* Client-side behaviour of the feedback reports: charts, sorting, filters and search.
   Patient text is only ever written with textContent (never innerHTML), and all data is read
   from JSON blocks, so no comment can inject markup or script. */
(function () {
  "use strict";

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  /* ---------------------------------------------------------------- charts */
  /* Plotly figures share one template, sent once per page (server-side SVG charts need nothing). */
  function drawCharts() {
    var data = readJson("chart-data");
    if (!data || typeof Plotly === "undefined") { return; }
    data.charts.forEach(function (chart) {
      var target = document.getElementById(chart.id);
      if (!target) { return; }
      var layout = chart.figure.layout;
      if (data.template) { layout.template = data.template; }
      Plotly.newPlot(target, chart.figure.data, layout,
        { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud", "select2d", "lasso2d"] });
    });
  }

  /* ---------------------------------------------------------------- theme ranking sort */
  function setupSorting() {
    var table = document.getElementById("theme-ranking");
    if (!table) { return; }
    var body = table.tBodies[0];
    var buttons = document.querySelectorAll("button[data-sort]");
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        var key = button.getAttribute("data-sort");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var ra = parseFloat(a.getAttribute("data-rank-" + key)), rb = parseFloat(b.getAttribute("data-rank-" + key));
          if (isNaN(ra)) { ra = 1e9; }
          if (isNaN(rb)) { rb = 1e9; }
          return ra - rb;
        });
        rows.forEach(function (row, i) {
          body.appendChild(row);
          var cell = row.querySelector("td.rank");
          if (cell) { cell.textContent = String(i + 1); }
        });
        buttons.forEach(function (b) { b.setAttribute("aria-pressed", b === button ? "true" : "false"); });
        var status = document.getElementById("sort-status");
        if (status) { status.textContent = "Themes sorted by " + key + "."; }
      });
    });
  }

  /* ---------------------------------------------------------------- comments explorer */
  function setupExplorer() {
    var data = readJson("comments-data");
    if (!data) { return; }
    var comments = data.comments, themes = data.themes, limit = data.page_size || 200;
    var f = {
      month: document.getElementById("f-month"), site: document.getElementById("f-site"),
      service: document.getElementById("f-service"), channel: document.getElementById("f-channel"),
      theme: document.getElementById("f-theme"), search: document.getElementById("f-search"),
      needs: document.getElementById("f-needs")
    };
    var body = document.getElementById("comments-body");
    var status = document.getElementById("comments-status");

    function fill(select, values, labels) {
      values.forEach(function (v) {
        var opt = el("option", labels ? labels[v] || v : v);
        opt.value = v;
        select.appendChild(opt);
      });
    }
    function distinct(key) {
      var seen = {};
      comments.forEach(function (c) { if (c[key]) { seen[c[key]] = true; } });
      return Object.keys(seen).sort();
    }
    /* A period longer than a month (a quarter, the last N months) is one extra choice, the default. */
    var periodMonths = data.period_months || [];
    if (periodMonths.length > 1) {
      var whole = el("option", data.period_label);
      whole.value = data.period;
      f.month.appendChild(whole);
    }
    fill(f.month, distinct("m").reverse());
    fill(f.site, distinct("site"));
    fill(f.service, distinct("service"));
    fill(f.channel, distinct("ch"));
    fill(f.theme, Object.keys(themes).sort(function (a, b) { return themes[a] < themes[b] ? -1 : 1; }), themes);
    f.month.value = data.period;

    var lowered = comments.map(function (c) { return (c.text || "").toLowerCase(); });

    function render() {
      var terms = f.search.value.toLowerCase().split(/\s+/).filter(Boolean);
      var matches = [];
      for (var i = 0; i < comments.length; i++) {
        var c = comments[i];
        if (f.month.value === data.period && periodMonths.length > 1) {
          if (periodMonths.indexOf(c.m) < 0) { continue; }
        } else if (f.month.value && c.m !== f.month.value) { continue; }
        if (f.site.value && c.site !== f.site.value) { continue; }
        if (f.service.value && c.service !== f.service.value) { continue; }
        if (f.channel.value && c.ch !== f.channel.value) { continue; }
        if (f.theme.value && (c.themes || []).indexOf(f.theme.value) < 0) { continue; }
        if (f.needs.checked && !c.needs) { continue; }
        var ok = true;
        for (var t = 0; t < terms.length; t++) { if (lowered[i].indexOf(terms[t]) < 0) { ok = false; break; } }
        if (ok) { matches.push(c); }
      }
      while (body.firstChild) { body.removeChild(body.firstChild); }
      matches.slice(0, limit).forEach(function (c) {
        var tr = document.createElement("tr");
        tr.appendChild(el("td", c.d, "num"));
        tr.appendChild(el("td", c.site));
        tr.appendChild(el("td", c.service));
        tr.appendChild(el("td", c.ch));
        var sent = el("td");
        sent.appendChild(el("span", c.sent || "not scored",
          "badge" + (/negative/.test(c.sent || "") ? " neg" : /positive/.test(c.sent || "") ? " pos" : "")));
        tr.appendChild(sent);
        tr.appendChild(el("td", (c.themes || []).map(function (id) { return themes[id] || id; }).join(", ")));
        var text = el("td", null, "text");
        text.appendChild(el("span", c.text));
        if (c.needs) { text.appendChild(document.createTextNode(" ")); text.appendChild(el("span", "needs a response: " + c.needs, "badge alert")); }
        tr.appendChild(text);
        body.appendChild(tr);
      });
      status.textContent = "Showing " + Math.min(matches.length, limit) + " of " + matches.length +
        " matching comments (" + comments.length + " in this report" +
        (data.truncated ? ", the newest only: every comment is in the comments export" : "") + ").";
      body.setAttribute("data-count", String(matches.length));
    }

    var timer = null;
    f.search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(render, 120); });
    [f.month, f.site, f.service, f.channel, f.theme, f.needs].forEach(function (s) { s.addEventListener("change", render); });
    document.getElementById("f-reset").addEventListener("click", function () {
      [f.site, f.service, f.channel, f.theme].forEach(function (s) { s.value = ""; });
      f.month.value = data.period; f.search.value = ""; f.needs.checked = false; render();
    });
    document.querySelectorAll("button[data-theme-filter]").forEach(function (button) {
      button.addEventListener("click", function () {
        f.theme.value = button.getAttribute("data-theme-filter");
        f.month.value = data.period;
        render();
        document.getElementById("comments").scrollIntoView();
        f.theme.focus();
      });
    });
    render();
  }

  function start() {
    drawCharts();
    setupSorting();
    setupExplorer();
    document.body.setAttribute("data-ready", "true");
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
