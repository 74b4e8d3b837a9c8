// yishi: sorting, search and paging for the pages' tables. Served by yishi itself at
// /assets/tables.js (the pages' CSP allows this site's scripts; no inline script, no CDN:
// county networks are often offline). Without script the tables stay whole and readable.
// Every table header sorts on click (numbers as numbers, "—" last, text by Chinese
// collation); a table of more than SEARCH rows gets a search box, and one of more than
// PAGE rows shows PAGE rows a page with 上一页 / 下一页.
(function () {
  "use strict";
  var SEARCH = 10;
  var PAGE = 50;

  function cellText(row, col) {
    var cell = row.cells[col];
    return cell ? cell.innerText.trim() : "";
  }

  // "88.9%", "1,234", "100.00" as numbers; anything else (names, "—") is not one.
  function number(text) {
    if (!/^[+-]?[\d,]*\.?\d+%?$/.test(text)) return null;
    return parseFloat(text.replace(/[,%]/g, ""));
  }

  function compare(x, y) {
    var nx = number(x), ny = number(y);
    if (nx !== null && ny !== null) return nx - ny;
    if (nx !== null) return -1;
    if (ny !== null) return 1;
    return x.localeCompare(y, "zh-CN");
  }

  function setup(table) {
    var body = table.tBodies[0];
    var head = table.tHead;
    if (!body || !head || !head.rows.length) return;
    var rows = Array.prototype.slice.call(body.rows);
    if (rows.length < 2) return;
    var state = { query: "", page: 0 };
    var bar = null;

    function render() {
      var q = state.query;
      var shown = rows.filter(function (r) { return !q || r.innerText.toLowerCase().indexOf(q) >= 0; });
      var pages = Math.max(1, Math.ceil(shown.length / PAGE));
      state.page = Math.min(state.page, pages - 1);
      rows.forEach(function (r) { r.hidden = true; });
      shown.forEach(function (r, i) { r.hidden = Math.floor(i / PAGE) !== state.page; });
      if (bar) {
        bar.info.textContent = "共 " + shown.length + " 行" + (pages > 1 ? "，第 " + (state.page + 1) + "/" + pages + " 页" : "");
        bar.prev.disabled = state.page === 0;
        bar.next.disabled = state.page >= pages - 1;
      }
    }

    Array.prototype.forEach.call(head.rows[0].cells, function (th, col) {
      th.classList.add("sortable");
      th.title = "点击排序";
      th.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(head.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = cellText(a, col), y = cellText(b, col);
          // "—" (no value) stays last either way.
          if ((x === "—") !== (y === "—")) return x === "—" ? 1 : -1;
          return ascending ? compare(x, y) : compare(y, x);
        });
        rows.forEach(function (r) { body.appendChild(r); });
        state.page = 0;
        render();
      });
    });

    if (rows.length > SEARCH) {
      var box = document.createElement("div");
      box.className = "table-tools no-print";
      var search = document.createElement("input");
      search.type = "search";
      search.placeholder = "搜索本表…";
      search.setAttribute("aria-label", "搜索本表");
      var prev = document.createElement("button");
      prev.type = "button";
      prev.textContent = "上一页";
      var next = document.createElement("button");
      next.type = "button";
      next.textContent = "下一页";
      var info = document.createElement("span");
      info.className = "note";
      box.appendChild(search);
      if (rows.length > PAGE) {
        box.appendChild(prev);
        box.appendChild(next);
      }
      box.appendChild(info);
      var wrapper = table.parentElement && table.parentElement.classList.contains("scroll") ? table.parentElement : table;
      wrapper.parentElement.insertBefore(box, wrapper);
      bar = { info: info, prev: prev, next: next };
      search.addEventListener("input", function () {
        state.query = search.value.trim().toLowerCase();
        state.page = 0;
        render();
      });
      prev.addEventListener("click", function () { state.page -= 1; render(); });
      next.addEventListener("click", function () { state.page += 1; render(); });
    }
    render();
    renders.push(render);
  }

  var renders = [];
  // Print shows every row, whatever the page or search; after it, the page as it was.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("main tbody tr[hidden]").forEach(function (r) { r.hidden = false; });
  });
  window.addEventListener("afterprint", function () { renders.forEach(function (r) { r(); }); });
  document.querySelectorAll("main table").forEach(setup);
})();
