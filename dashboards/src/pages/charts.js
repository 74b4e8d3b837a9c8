// yishi: the pages' charts as Apache ECharts charts. Served by yishi itself at
// /assets/charts.js after /assets/echarts.min.js (same origin, as the pages' CSP allows; no
// inline script, no CDN: county networks are often offline).
//
// Each chart card (<figure class="chart" data-live="{…}">) names the report JSON its
// figures come from and which columns to plot, with their Chinese names and units; the
// spec is written by dashboards/src/pages/live.rs. This script fetches the rows (same
// origin, the session cookie), draws them with the SVG renderer (crisp, and it uses the
// page's fonts), shows each mark's value and unit on hover and, on click, opens the page
// the mark stands for (the same URLs as the tables' rows). Until a chart is drawn, and
// without script, the card shows its static image; print shows the static image too (drawn
// for A4). A card gets data-ready="1" when drawn, "empty" when the period has no rows and
// "error" when the rows could not be read (both keep the image).
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;
  var RED = "#c8102e";
  var COLOURS = [RED, "#1f5fa8", "#2c8a3c", "#d08c00", "#7a3ea1", "#00838f", "#8d6e63", "#546e7a"];
  var ROW = 22; // px per bar of a horizontal bar chart
  var MOST_ROWS = 40; // more bars than this scroll inside the chart
  var charts = [];

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // "{key}" of a template replaced by the row's values ("" for a missing one).
  function fill(template, row, encode) {
    if (!template) return "";
    return template.replace(/\{([a-z0-9_]+)\}/g, function (_, key) {
      var v = row[key] === null || row[key] === undefined ? "" : String(row[key]);
      return encode ? encodeURIComponent(v) : v;
    });
  }

  function number(row, value) {
    var v = row[value.key];
    return typeof v === "number" && isFinite(v) ? v : null;
  }

  // `v` with `digits` decimals as Rust's {:.N} writes it (the tables): a tie goes to the
  // even digit, where toFixed would round up (78.125 is 78.12 in the table, not 78.13).
  function fixed(v, digits) {
    var scale = Math.pow(10, digits);
    var n = v * scale;
    var low = Math.floor(n);
    if (n - low === 0.5) return ((low % 2 === 0 ? low : low + 1) / scale).toFixed(digits);
    return v.toFixed(digits);
  }

  // As the pages' tables show a figure: 93.3%, 100.00分, 12个.
  function shown(v, value) {
    if (v === null || v === undefined || v === "-") return "—";
    if (value.format === "percent") return fixed(v * 100, 1) + "%";
    if (value.format === "count") return Math.round(v) + value.unit;
    return fixed(v, 2) + value.unit;
  }

  // Percentages are plotted ×100 so the axis reads 0–100.
  function plotted(v, value) {
    if (v === null) return "-";
    return value.format === "percent" ? Math.round(v * 1000) / 10 : v;
  }

  function tip(title, lines) {
    return "<b>" + escapeHtml(title) + "</b>" + lines.map(function (l) { return "<br>" + escapeHtml(l); }).join("");
  }

  function tooltip() {
    return {
      trigger: "item",
      confine: true,
      textStyle: { fontFamily: "inherit", fontSize: 14 },
      extraCssText: "line-height: 1.5;",
      formatter: function (p) { return p.data && p.data.tip ? p.data.tip : ""; },
    };
  }

  function base(spec) {
    return {
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      color: COLOURS,
      animation: false,
      tooltip: tooltip(),
    };
  }

  function item(spec, row, value, v) {
    var lines = [value.name + " " + shown(v, value)];
    if (spec.detail) lines.push(fill(spec.detail, row));
    return {
      value: plotted(v, value),
      tip: tip(fill(spec.label, row), lines),
      href: spec.link ? fill(spec.link, row, true) : null,
    };
  }

  // One horizontal bar per row, largest on top.
  function bar(spec, rows) {
    var value = spec.values[0];
    rows = rows.filter(function (r) { return number(r, value) !== null; });
    rows.sort(function (a, b) { return number(b, value) - number(a, value); });
    var option = base(spec);
    option.grid = { left: 8, right: 48, top: 28, bottom: 8, containLabel: true };
    option.xAxis = { type: "value", name: spec.axis, nameLocation: "middle", nameGap: 22, position: "top" };
    option.yAxis = {
      type: "category",
      inverse: true,
      data: rows.map(function (r) { return fill(spec.label, r); }),
      axisLabel: { interval: 0, width: 160, overflow: "truncate" },
    };
    option.series = [{
      type: "bar",
      name: value.name,
      data: rows.map(function (r) { return item(spec, r, value, number(r, value)); }),
      label: { show: true, position: "right", formatter: function (p) { return shown(number(rows[p.dataIndex], value), value); } },
    }];
    if (rows.length > MOST_ROWS) {
      option.dataZoom = [
        { type: "slider", yAxisIndex: 0, startValue: 0, endValue: MOST_ROWS - 1, right: 0, width: 16, showDetail: false },
        { type: "inside", yAxisIndex: 0, zoomOnMouseWheel: false, moveOnMouseWheel: true },
      ];
      option.grid.right = 64;
    }
    return { option: option, height: 60 + ROW * Math.min(Math.max(rows.length, 5), MOST_ROWS) };
  }

  // A group of columns per row, one per value.
  function bars(spec, rows) {
    var option = base(spec);
    // The legend below the plot: at a phone's width the axis name above fills the top line.
    option.legend = { type: "scroll", bottom: 0 };
    option.grid = { left: 8, right: 8, top: 36, bottom: 32, containLabel: true };
    option.xAxis = {
      type: "category",
      data: rows.map(function (r) { return fill(spec.label, r); }),
      axisLabel: { interval: 0, rotate: rows.length > 4 ? 30 : 0, width: 120, overflow: "truncate" },
    };
    option.yAxis = { type: "value", name: spec.axis, nameTextStyle: { align: "left" } };
    option.series = spec.values.map(function (value) {
      return {
        type: "bar",
        name: value.name,
        data: rows.map(function (r) { return item(spec, r, value, number(r, value)); }),
      };
    });
    return { option: option, height: 360 };
  }

  // The `x` categories in the order they first appear, sorted when they are quarters.
  function categories(template, rows) {
    var seen = [];
    rows.forEach(function (r) {
      var c = fill(template, r);
      if (seen.indexOf(c) < 0) seen.push(c);
    });
    return seen.sort(function (a, b) { return a.localeCompare(b, "zh-CN", { numeric: true }); });
  }

  // One series per `series` name over the `x` categories; a stack adds up the rows of a
  // cell (the topics of every community of a quarter).
  function lines(spec, rows, stacked) {
    var value = spec.values[0];
    var xs = categories(spec.x, rows);
    var names = categories(spec.series, rows);
    var option = base(spec);
    option.legend = { type: "scroll", bottom: 0 };
    option.grid = { left: 8, right: 16, top: 36, bottom: 32, containLabel: true };
    option.xAxis = { type: "category", data: xs };
    option.yAxis = { type: "value", name: spec.axis, nameTextStyle: { align: "left" }, scale: !stacked };
    option.series = names.map(function (name) {
      var data = xs.map(function (x) {
        var cell = rows.filter(function (r) { return fill(spec.series, r) === name && fill(spec.x, r) === x; });
        var known = cell.filter(function (r) { return number(r, value) !== null; });
        if (!known.length) return { value: "-" };
        if (stacked) {
          var sum = known.reduce(function (s, r) { return s + number(r, value); }, 0);
          return { value: sum, tip: tip(name + " · " + x, [value.name + " " + shown(sum, value)]) };
        }
        var d = item(spec, known[0], value, number(known[0], value));
        d.tip = tip(name + " · " + x, [value.name + " " + shown(number(known[0], value), value)]);
        return d;
      });
      return stacked
        ? { type: "bar", stack: "all", name: name, data: data }
        : { type: "line", name: name, data: data, connectNulls: false, symbolSize: 8 };
    });
    return { option: option, height: 360 };
  }

  // `x` across, one row per `label`, each cell coloured by its value.
  function heatmap(spec, rows) {
    var value = spec.values[0];
    var xs = categories(spec.x, rows);
    var ys = [];
    rows.forEach(function (r) {
      var y = fill(spec.label, r);
      if (ys.indexOf(y) < 0) ys.push(y);
    });
    var known = rows.filter(function (r) { return number(r, value) !== null; });
    var values = known.map(function (r) { return number(r, value); });
    var option = base(spec);
    option.grid = { left: 8, right: 8, top: 8, bottom: 56, containLabel: true };
    option.xAxis = { type: "category", data: xs, splitArea: { show: true } };
    option.yAxis = { type: "category", data: ys, inverse: true, axisLabel: { interval: 0, width: 140, overflow: "truncate" } };
    option.visualMap = {
      min: values.length ? Math.floor(Math.min.apply(null, values)) : 0,
      max: values.length ? Math.ceil(Math.max.apply(null, values)) : 100,
      calculable: true,
      orient: "horizontal",
      left: "center",
      bottom: 0,
      text: [value.name, ""],
      inRange: { color: ["#f7e1e4", RED] },
    };
    option.series = [{
      type: "heatmap",
      name: value.name,
      label: { show: ys.length <= 30, formatter: function (p) { return shown(p.data.raw, value); } },
      data: known.map(function (r) {
        var d = item(spec, r, value, number(r, value));
        d.tip = tip(fill(spec.label, r) + " · " + fill(spec.x, r), [value.name + " " + shown(number(r, value), value)]);
        d.raw = number(r, value);
        d.value = [xs.indexOf(fill(spec.x, r)), ys.indexOf(fill(spec.label, r)), d.raw];
        return d;
      }),
    }];
    return { option: option, height: 80 + ROW * Math.min(Math.max(ys.length, 4), MOST_ROWS) };
  }

  var SHAPES = {
    bar: bar,
    bars: bars,
    line: function (spec, rows) { return lines(spec, rows, false); },
    stack: function (spec, rows) { return lines(spec, rows, true); },
    heatmap: heatmap,
  };

  function draw(figure, spec, rows) {
    var made = SHAPES[spec.shape](spec, rows);
    var box = document.createElement("div");
    box.className = "live";
    box.style.height = made.height + "px";
    var img = figure.querySelector("img.static");
    figure.insertBefore(box, img);
    figure.classList.add("live-on");
    var chart = echarts.init(box, null, { renderer: "svg" });
    chart.setOption(made.option);
    chart.on("click", function (p) {
      if (p.data && p.data.href) window.location.href = p.data.href;
    });
    charts.push(chart);
  }

  function setup(figure) {
    var spec;
    try {
      spec = JSON.parse(figure.getAttribute("data-live"));
    } catch (e) {
      figure.setAttribute("data-ready", "error");
      return;
    }
    if (!SHAPES[spec.shape]) return;
    fetch(spec.report, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (rows) {
        if (!Array.isArray(rows)) throw new Error("not rows");
        // No rows in the period: the static image says so.
        if (!rows.length) return figure.setAttribute("data-ready", "empty");
        draw(figure, spec, rows);
        figure.setAttribute("data-ready", "1");
      })
      .catch(function () {
        // The static image stays.
        figure.setAttribute("data-ready", "error");
      });
  }

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
  document.querySelectorAll("figure.chart[data-live]").forEach(setup);
})();
