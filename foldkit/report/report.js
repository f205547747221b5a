// foldkit report pages: click a column header to sort the table by it (again to reverse), type in
// the filter box to show only the rows whose text contains it. No data is embedded in this script:
// it reads the table it finds, and numeric cells carry their value in a data-sort attribute.
"use strict";
(function () {
  function sortValue(cell, numeric) {
    if (!cell) {
      return numeric ? NaN : "";
    }
    var raw = cell.getAttribute("data-sort");
    if (numeric) {
      return raw === null || raw === "" ? NaN : Number(raw);
    }
    return raw !== null ? raw : cell.textContent.trim();
  }

  function compare(a, b, numeric) {
    if (numeric) {
      var an = isNaN(a), bn = isNaN(b);
      if (an || bn) {
        return an === bn ? 0 : an ? 1 : -1; // cells without a value always sort last
      }
      return a - b;
    }
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortTable(table, column, header) {
    var numeric = header.getAttribute("data-type") === "number";
    var current = header.getAttribute("aria-sort");
    var descending = current === "none" || current === null ? numeric : current === "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
      return { row: row, index: index, value: sortValue(row.cells[column], numeric) };
    });
    rows.sort(function (x, y) {
      var c = compare(x.value, y.value, numeric);
      if (descending && !(numeric && (isNaN(x.value) || isNaN(y.value)))) {
        c = -c;
      }
      return c || x.index - y.index; // stable: ties keep their previous order
    });
    rows.forEach(function (r) {
      body.appendChild(r.row);
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      if (th.hasAttribute("aria-sort")) {
        th.setAttribute("aria-sort", "none");
      }
    });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  function makeSortable(table) {
    if (!table.tHead || !table.tBodies.length) {
      return;
    }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      var button = th.querySelector("button");
      if (button) {
        button.addEventListener("click", function () {
          sortTable(table, column, th);
        });
      }
    });
  }

  function connectFilter(input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    if (!table) {
      return;
    }
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var hit = !needle || row.textContent.toLowerCase().indexOf(needle) >= 0;
        row.classList.toggle("hidden", !hit);
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
  Array.prototype.forEach.call(document.querySelectorAll("input[data-table]"), connectFilter);
})();
