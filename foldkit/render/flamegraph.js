/* foldkit flame graph: details on hover, click to zoom (ancestors stay visible), Reset Zoom,
   search by regular expression (Ctrl-F or the Search button; "ic" toggles case) with the matched
   share, and the view kept in the URL fragment (#zoom=N&search=RE&ignorecase=1).

   A frame is a <rect> in <g id="frames"> (optionally followed by its <text> label); everything
   is read from its attributes (data-name, data-depth, data-start, data-weight) and settings
   from data-* attributes of the svg element. Names are only ever
   set as textContent or attribute values, never parsed as markup. No recursion: frames are in
   depth-first pre-order, so a frame's subtree is the run of frames after it that are deeper. */
(function () {
  "use strict";

  var SVGNS = "http://www.w3.org/2000/svg";
  var ANNOTATION = /_\[[kjiw]\]$/;
  var script = document.currentScript;
  var svg = script && script.parentNode && script.parentNode.localName === "svg"
    ? script.parentNode : document.documentElement;

  function byId(id) { return svg.querySelector("#" + id); }
  function num(name, fallback) {
    var v = parseFloat(svg.getAttribute(name));
    return isFinite(v) ? v : fallback;
  }

  var framesGroup = byId("frames");
  if (!framesGroup) { return; }
  var details = byId("details");
  var unzoomButton = byId("unzoom");
  var searchButton = byId("search");
  var caseButton = byId("ignorecase");
  var matchedText = byId("matched");
  var matchedX = matchedText ? matchedText.getAttribute("x") : "0";

  var span = num("data-span", 0);
  var xpad = num("data-xpad", 10);
  var plotWidth = num("width", 1200) - 2 * xpad;
  var fontSize = num("font-size", 12);
  var charWidth = fontSize * num("data-font-width", 0.59);
  var minChars = num("data-min-label-chars", 3);
  var labelPad = num("data-label-pad", 3);
  var nameType = svg.getAttribute("data-name-type") || "";
  var searchColor = svg.getAttribute("data-search-color") || "rgb(230,0,230)";
  var truncateRight = svg.getAttribute("data-truncate") !== "left";

  var rects = [];
  var labels = [];
  for (var el = framesGroup.firstElementChild; el; el = el.nextElementSibling) {
    if (el.localName === "rect") {
      rects.push(el);
      labels.push(null);
    } else if (el.localName === "text" && rects.length) {
      labels[rects.length - 1] = el;
    }
  }
  var n = rects.length;
  var depth = new Int32Array(n);
  var start = new Float64Array(n);
  var weight = new Float64Array(n);
  var subtreeEnd = new Int32Array(n);
  var parent = new Int32Array(n);
  var names = new Array(n);
  var shownNames = new Array(n);  // without the _[k] _[j] _[i] _[w] annotation, as in labels
  var fills = new Array(n);
  var indexOf = new WeakMap();

  var i, k;
  for (i = 0; i < n; i++) {
    var r = rects[i];
    indexOf.set(r, i);
    depth[i] = parseInt(r.getAttribute("data-depth"), 10) || 0;
    start[i] = parseFloat(r.getAttribute("data-start")) || 0;
    weight[i] = parseFloat(r.getAttribute("data-weight")) || 0;
    names[i] = r.getAttribute("data-name") || "";
    shownNames[i] = names[i].replace(ANNOTATION, "");
    fills[i] = r.getAttribute("fill");
  }
  var open = [];
  for (i = 0; i < n; i++) {
    while (open.length && depth[open[open.length - 1]] >= depth[i]) { subtreeEnd[open.pop()] = i; }
    parent[i] = open.length ? open[open.length - 1] : -1;
    open.push(i);
  }
  while (open.length) { subtreeEnd[open.pop()] = n; }

  var zoomed = -1;
  var moved = new Uint8Array(n);  // frames whose geometry differs from the drawn one
  var hidden = new Uint8Array(n);
  var searchTerm = null;
  var ignoreCase = false;

  function frameOf(target) {
    for (var node = target; node && node !== framesGroup; node = node.parentNode) {
      var idx = indexOf.get(node);
      if (idx !== undefined) { return idx; }
    }
    return -1;
  }

  function labelFor(idx, width) {
    var chars = Math.floor((width - labelPad) / charWidth);
    if (chars < minChars) { return ""; }
    var text = shownNames[idx];
    if (text.length <= chars) { return text; }
    var keep = chars - 2;
    return truncateRight ? text.substring(0, keep) + ".." : ".." + text.substring(text.length - keep);
  }

  function place(idx, x, width) {
    var rect = rects[idx];
    moved[idx] = 1;
    rect.setAttribute("x", x.toFixed(2));
    rect.setAttribute("width", width.toFixed(2));
    var text = labelFor(idx, width);
    var label = labels[idx];
    if (!label && text) {
      label = document.createElementNS(SVGNS, "text");
      var h = parseFloat(rect.getAttribute("height")) || 0;
      label.setAttribute("y", (parseFloat(rect.getAttribute("y")) + h / 2 + fontSize / 4).toFixed(2));
      var cls = rect.getAttribute("class");
      if (cls) { label.setAttribute("class", cls); }
      framesGroup.insertBefore(label, rect.nextSibling);
      labels[idx] = label;
    }
    if (label) {
      label.setAttribute("x", (x + labelPad).toFixed(2));
      label.textContent = text;
    }
  }

  function setClass(idx, cls) {
    hidden[idx] = cls === "hide" ? 1 : 0;
    var els = labels[idx] ? [rects[idx], labels[idx]] : [rects[idx]];
    for (var e = 0; e < els.length; e++) {
      if (cls) { els[e].setAttribute("class", cls); }
      else if (els[e].hasAttribute("class")) { els[e].removeAttribute("class"); }
    }
  }

  function zoom(idx) {
    if (idx <= 0 || idx >= n) { unzoom(); return; }
    zoomed = idx;
    var left = start[idx];
    var scale = weight[idx] > 0 ? plotWidth / weight[idx] : 0;
    var last = subtreeEnd[idx];
    for (k = 0; k < n; k++) {
      if (k >= idx && k < last) {
        setClass(k, null);
        place(k, xpad + (start[k] - left) * scale, weight[k] * scale);
      } else if (!hidden[k]) {
        setClass(k, "hide");
      }
    }
    for (k = parent[idx]; k >= 0; k = parent[k]) {
      setClass(k, "parent");
      place(k, xpad, plotWidth);
    }
    unzoomButton.classList.remove("hide");
    saveState();
  }

  function unzoom() {
    zoomed = -1;
    var scale = span > 0 ? plotWidth / span : 0;
    for (k = 0; k < n; k++) {
      if (hidden[k] || moved[k]) { setClass(k, null); }
      if (moved[k]) {
        place(k, xpad + start[k] * scale, weight[k] * scale);
        moved[k] = 0;
      }
    }
    unzoomButton.classList.add("hide");
    saveState();
  }

  /* Fills frames whose name matched (hits: one flag per frame, or null for none); returns their
     weight, a frame inside another match counted once. */
  function paintSearch(hits) {
    var matchedWeight = 0;
    var coveredUntil = 0;
    for (k = 0; k < n; k++) {
      var hit = k > 0 && hits !== null && hits[k] === 1;
      rects[k].setAttribute("fill", hit ? searchColor : fills[k]);
      if (hit && k >= coveredUntil) {
        matchedWeight += weight[k];  // nested matches are inside this one: counted once
        coveredUntil = subtreeEnd[k];
      }
    }
    return matchedWeight;
  }

  /* A message in the "Matched" place; a long one (an error) ends at the right margin. */
  function showMatched(message, long) {
    matchedText.textContent = message;
    if (long) {
      matchedText.setAttribute("text-anchor", "end");
      matchedText.setAttribute("x", (xpad + plotWidth).toFixed(2));
    } else {
      matchedText.removeAttribute("text-anchor");
      matchedText.setAttribute("x", matchedX);
    }
  }

  function search(term) {
    // the name as shown, or with its annotation (so that _\[k\]$ finds kernel frames); the
    // search is bounded (search.js): a pattern it cannot run in linear time is refused
    var compiled = foldkitSearch.compile(term, ignoreCase);
    if (compiled.error) {
      showMatched(compiled.error, true);
      return;
    }
    searchTerm = term;
    var found = foldkitSearch.searchAll(compiled.matcher, shownNames, names);
    var matchedWeight = paintSearch(found.hits);
    searchButton.classList.add("show");
    searchButton.textContent = "Reset Search";
    var share = (span > 0 ? 100 * matchedWeight / span : 0).toFixed(2) + "%";
    if (found.stopped) {
      showMatched(foldkitSearch.stoppedMessage(found.searched, n, "frames", share), true);
    } else {
      showMatched("Matched: " + share, false);
    }
    saveState();
  }

  function resetSearch() {
    searchTerm = null;
    paintSearch(null);
    searchButton.classList.remove("show");
    searchButton.textContent = "Search";
    showMatched(" ", false);
    saveState();
  }

  function askSearch() {
    var term = window.prompt("Search frames (regular expression, e.g. ^ext4_ or _\\[k\\]$)", searchTerm || "");
    if (term === null) { return; }
    if (term === "") { resetSearch(); } else { search(term); }
  }

  function toggleCase() {
    ignoreCase = !ignoreCase;
    caseButton.classList.toggle("show", ignoreCase);
    if (searchTerm !== null) { search(searchTerm); } else { saveState(); }
  }

  function saveState() {
    var parts = [];
    if (zoomed > 0) { parts.push("zoom=" + zoomed); }
    if (searchTerm !== null) { parts.push("search=" + encodeURIComponent(searchTerm)); }
    if (ignoreCase) { parts.push("ignorecase=1"); }
    var hash = parts.length ? "#" + parts.join("&") : "";
    if (hash === location.hash || (hash === "" && location.hash === "#")) { return; }
    try {
      history.replaceState(null, "", location.href.split("#")[0] + hash);
    } catch (err) {
      location.replace(hash || "#");
    }
  }

  function loadState() {
    var params = {};
    var pairs = location.hash.replace(/^#/, "").split("&");
    for (var p = 0; p < pairs.length; p++) {
      var eq = pairs[p].indexOf("=");
      if (eq <= 0) { continue; }
      try {
        params[pairs[p].substring(0, eq)] = decodeURIComponent(pairs[p].substring(eq + 1));
      } catch (err) {
        // a malformed escape in a hand-edited URL: ignore that parameter
      }
    }
    ignoreCase = params.ignorecase === "1";
    caseButton.classList.toggle("show", ignoreCase);
    var z = parseInt(params.zoom, 10);
    if (z > 0 && z < n) { zoom(z); } else if (zoomed > 0) { unzoom(); }
    if (params.search) { search(params.search); } else if (searchTerm !== null) { resetSearch(); }
  }

  framesGroup.addEventListener("mouseover", function (e) {
    var idx = frameOf(e.target);
    if (idx < 0) { return; }
    var title = rects[idx].querySelector("title");
    details.textContent = nameType + " " + (title ? title.textContent : names[idx]);
  });
  framesGroup.addEventListener("mouseout", function () { details.textContent = " "; });
  framesGroup.addEventListener("click", function (e) {
    var idx = frameOf(e.target);
    if (idx < 0) { return; }
    e.preventDefault();
    if (idx === 0) { unzoom(); } else { zoom(idx); }
  });
  unzoomButton.addEventListener("click", function () { unzoom(); });
  searchButton.addEventListener("click", function () {
    if (searchTerm !== null) { resetSearch(); } else { askSearch(); }
  });
  caseButton.addEventListener("click", toggleCase);
  window.addEventListener("keydown", function (e) {
    var key = (e.key || "").toLowerCase();
    if ((e.ctrlKey || e.metaKey) && !e.altKey && key === "f") {
      e.preventDefault();
      askSearch();
    } else if (e.ctrlKey && !e.altKey && key === "i") {
      e.preventDefault();
      toggleCase();
    } else if (key === "escape" && (zoomed > 0 || searchTerm !== null)) {
      if (searchTerm !== null) { resetSearch(); } else { unzoom(); }
    }
  });
  window.addEventListener("hashchange", loadState);

  svg.foldkit = { zoom: zoom, unzoom: unzoom, search: search, resetSearch: resetSearch };
  if (location.hash.length > 1) { loadState(); }
})();
