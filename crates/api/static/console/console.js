// Switchyard console: draws the overview's charts with uPlot from /console/overview/data and
// refreshes them every 10 s. Everything else is plain HTML forms, boosted by htmx.
(function () {
  "use strict";
  var COLORS = ["#0a58ca", "#116329", "#a40e26", "#7d4e00", "#6f42c1", "#57606a", "#d63384"];
  var timer = null;
  var plots = [];

  function seriesOf(names) {
    return [{}].concat(names.map(function (n, i) {
      return { label: n, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true };
    }));
  }

  function build(el, names, rows) {
    var width = Math.max(280, el.clientWidth || 400);
    var opts = { width: width, height: 220, series: seriesOf(names), scales: { x: { time: true } },
                 axes: [{}, { size: 50 }] };
    el.textContent = "";
    return new uPlot(opts, rows, el);
  }

  function draw(data) {
    plots.forEach(function (p) { p.destroy(); });
    plots = [];
    var t = data.t;
    document.querySelectorAll("#charts .chart").forEach(function (el) {
      var kind = el.getAttribute("data-chart");
      var names, rows;
      if (kind === "depth") {
        names = Object.keys(data.depth);
        rows = [t].concat(names.map(function (n) { return data.depth[n]; }));
      } else if (kind === "rate") {
        names = Object.keys(data.rate);
        rows = [t].concat(names.map(function (n) { return data.rate[n]; }));
      } else {
        names = ["mean latency (ms)"];
        rows = [t, data.latencyMs];
      }
      plots.push(build(el, names, rows));
    });
  }

  function load() {
    var charts = document.getElementById("charts");
    if (!charts || typeof uPlot === "undefined") { return; }
    fetch("/console/overview/data", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { draw(data); } });
  }

  function start() {
    if (timer) { clearInterval(timer); timer = null; }
    if (document.getElementById("charts")) {
      load();
      timer = setInterval(function () {
        if (document.getElementById("charts")) { load(); } else { clearInterval(timer); timer = null; }
      }, 10000);
    }
  }

  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSettle", start);
})();
