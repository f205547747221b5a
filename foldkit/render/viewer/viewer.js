/* foldkit flame-graph viewer: every frame of the embedded call tree drawn on a canvas.

   Data: #foldkit-meta (JSON settings and sizes) and #foldkit-data (base64 of the gzip-compressed
   arrays described in payload.py). The tree is in depth-first pre-order, so a node's subtree is
   the index range [i, end[i]) and its children are i+1, end[i+1], ... No recursion anywhere.

   Views: flame graph (root at the bottom), icicle (root at the top), sandwich (callers above,
   callees below a function, merged over every place it occurs) and a top table. Frames narrower
   than a pixel are merged when drawn; the data keeps every one. Names are only ever set as text
   (textContent, canvas fillText), never parsed as markup. The state lives in the URL fragment:
   #view=flame&zoom=N&search=RE&ignorecase=1&fn=NAME&basis=union&range=A-B&proc=NAME.

   Time view (when #foldkit-time holds samples by stack and 20 ms bucket, timeline.py): a
   FlameScope-style heatmap, a column per second and a row per 20 ms; a range of buckets (drag, or
   two clicks) becomes the tree every other view shows, optionally of one process; under it, a
   flame chart of that range (time from left to right, 20 ms columns). */
(function () {
  "use strict";

  const doc = document;
  const meta = JSON.parse(doc.getElementById("foldkit-meta").textContent);
  const ROW = meta.frameHeight || 16;
  const FONT_SIZE = meta.fontSize || 12;
  const FONT = FONT_SIZE + "px " + (meta.fontFamily || "Verdana") + ", sans-serif";
  const CHAR_WIDTH = FONT_SIZE * 0.59;
  const XPAD = 10;
  const LABEL_PAD = 3;
  const MIN_LABEL_CHARS = 3;
  const MIN_PX = 1;            // narrower frames are merged with their narrow neighbours when drawn
  const TOP_ROWS = 500;        // rows of the top table drawn at once
  const NOISE = 1e-9;          // relative change below which a diff frame counts as unchanged
  const ANNOTATION = /_\[[kjiw]\]$/;
  const SEARCH_COLOR = meta.searchColor || "rgb(230,0,230)";
  const UNIT = meta.unit || "samples";
  const FACTOR = meta.factor || 1;
  const TIME = meta.time || null;
  const VIEWS = ["flame", "icicle", "sandwich", "top"].concat(TIME ? ["time"] : []);
  const STRIDE = 1024;         // levels between the ancestors a deep tree jumps through (Tree.ancestorAt)
  const CRUMBS_HEAD = 3;       // callers shown after the root in a long breadcrumb trail...
  const CRUMBS_TAIL = 8;       // ...and frames shown at its end, the zoomed one last
  const CALLERS_SHOWN = 3;     // callers left in view below a zoomed frame (above it in the icicle)

  // ---------------------------------------------------------------- small helpers
  function el(tag, attrs) {
    const node = doc.createElement(tag);
    if (attrs) {
      for (const key of Object.keys(attrs)) { node.setAttribute(key, attrs[key]); }
    }
    for (let k = 2; k < arguments.length; k++) {
      const child = arguments[k];
      if (child !== null && child !== undefined) { node.append(child); }
    }
    return node;
  }
  function fmt(value) {
    return (value * FACTOR).toLocaleString("en-US", { maximumFractionDigits: 2 });
  }
  function pct(part, whole) {
    return whole ? (100 * part / whole).toFixed(2) + "%" : "—";
  }
  function signed(value, digits) {
    return (value >= 0 ? "+" : "−") + Math.abs(value).toFixed(digits);
  }

  // ---------------------------------------------------------------- data
  const ARRAYS = { u16: Uint16Array, u32: Uint32Array, f64: Float64Array };
  const TIME_ARRAYS = { u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, f64: Float64Array };
  /* The bytes of an embedded base64 (gzip) block, checked against their expected length and
     aligned for typed arrays. */
  async function decodeBlock(id, rawBytes) {
    const text = doc.getElementById(id).textContent.trim();
    let bytes;
    if (typeof Uint8Array.fromBase64 === "function") {
      bytes = Uint8Array.fromBase64(text);
    } else {
      const bin = atob(text);
      bytes = new Uint8Array(bin.length);
      for (let k = 0; k < bin.length; k++) { bytes[k] = bin.charCodeAt(k); }
    }
    if (meta.compression === "gzip") {
      if (typeof DecompressionStream !== "function") {
        throw new Error("this browser cannot decompress the embedded profile (no DecompressionStream)");
      }
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    }
    if (bytes.length !== rawBytes) { throw new Error("the embedded profile is damaged"); }
    if (bytes.byteOffset % 8) { bytes = bytes.slice(); }  // typed arrays need aligned views
    return bytes;
  }

  async function loadData() {
    let bytes = await decodeBlock("foldkit-data", meta.rawBytes);
    const n = meta.nodes;
    let offset = bytes.byteOffset;
    const types = meta.types || ["f64", "u32", "u32"];
    function take(type) {
      const Type = ARRAYS[type];
      const view = new Type(bytes.buffer, offset, n);
      offset += Type.BYTES_PER_ELEMENT * n;
      return view;
    }
    const selfs = [];
    for (let s = 0; s < meta.sides; s++) { selfs.push(take(types[0])); }
    // with a palette the page colours names itself; the data gives the other names' fills
    const palette = meta.palette || null, given = palette ? meta.given : meta.names;
    const givenIds = palette ? new Uint32Array(bytes.buffer, offset, given) : null;
    offset += palette ? 4 * given : 0;
    const nameId = take(types[1]);
    for (let i = 0, fresh = 0; i < n; i++) {  // codes to ids: 0 is the next new name, else id + 1
      nameId[i] = nameId[i] === 0 ? fresh++ : nameId[i] - 1;
    }
    const depth = take(types[2]);
    const colorBytes = new Uint8Array(bytes.buffer, offset, 3 * given);
    offset += 3 * given;
    const names = new TextDecoder().decode(new Uint8Array(bytes.buffer, offset, meta.namesBytes)).split("\n");
    names.length = meta.names;
    const colors = new Array(meta.names);  // fills as CSS colours, made when first drawn
    let fillAt = null;  // name id -> its given fill's index
    if (givenIds) {
      fillAt = new Map();
      for (let k = 0; k < given; k++) { fillAt.set(givenIds[k], k); }
    }
    const fill = function (nid) {
      const k = fillAt ? fillAt.get(nid) : nid;
      if (k === undefined) { return foldkitPalette.fill(names[nid], palette); }
      return "rgb(" + colorBytes[3 * k] + "," + colorBytes[3 * k + 1] + "," + colorBytes[3 * k + 2] + ")";
    };
    const shown = names.map(function (name) { return ANNOTATION.test(name) ? name.replace(ANNOTATION, "") : name; });
    let time = null;
    if (TIME) {
      const tb = await decodeBlock("foldkit-time", TIME.rawBytes), m = TIME.cells;
      let at = 0;
      const parts = TIME.types.map(function (type) {  // each array stored as byte planes (timeline.py)
        const Type = TIME_ARRAYS[type], size = Type.BYTES_PER_ELEMENT, items = new Uint8Array(size * m);
        for (let j = 0; j < size; j++, at += m) {
          for (let k = 0; k < m; k++) { items[k * size + j] = tb[at + k]; }
        }
        return new Type(items.buffer);
      });
      const node = new Uint32Array(m), bucket = new Uint32Array(m), nodeStep = parts[1], bucketStep = parts[2];
      const weight = new Float64Array(m), scale = TIME.scale || 1;
      for (let k = 0; k < m; k++) {  // undo the steps and the scale (timeline.py)
        node[k] = (k ? node[k - 1] : 0) + nodeStep[k];
        bucket[k] = k && nodeStep[k] === 0 ? bucket[k - 1] + bucketStep[k] : bucketStep[k];
        weight[k] = parts[0][k] * scale;
      }
      time = { weight: weight, bucket: bucket, node: node };
    }
    return { nameId: nameId, depth: depth, selfs: selfs, names: names, shown: shown, colors: colors, fill: fill, time: time };
  }

  // ---------------------------------------------------------------- trees
  /* A tree over the shared string table: pre-order nameId/depth arrays and one self-weight array
     per side (side 0 is AFTER in a diff, side 1 BEFORE). */
  function Tree(nameId, depth, selfs) {
    const n = nameId.length;
    this.n = n;
    this.nameId = nameId;
    this.depth = depth;
    this.selfs = selfs;
    const end = this.end = new Int32Array(n);
    const parent = this.parent = new Int32Array(n);
    const open = new Int32Array(n > 0 ? 1 + maxOf(depth) : 1);  // open[d]: the node at depth d on the current path
    let top = -1;  // deepest open depth
    for (let i = 0; i < n; i++) {
      const d = depth[i];
      while (top >= d) { end[open[top--]] = i; }
      parent[i] = top >= 0 ? open[top] : -1;
      open[++top] = i;
    }
    while (top >= 0) { end[open[top--]] = n; }
    this.maxDepth = n > 0 ? open.length - 1 : 0;
    this.totals = selfs.map(this.inclusive, this);
    this.setBasis(state.basis);
  }
  function maxOf(values) {
    let max = 0;
    for (let k = 0; k < values.length; k++) { if (values[k] > max) { max = values[k]; } }
    return max;
  }
  Tree.prototype.inclusive = function (self) {
    const total = Float64Array.from(self);
    const parent = this.parent;
    for (let i = this.n - 1; i > 0; i--) { total[parent[i]] += total[i]; }
    return total;
  };
  /* Widths from AFTER, BEFORE or the larger of the two per stack (a diff); the one side otherwise. */
  Tree.prototype.setBasis = function (basis) {
    if (this.selfs.length === 1 || basis === "after") {
      this.width = this.totals[0];
    } else if (basis === "before") {
      this.width = this.totals[1];
    } else {
      const a = this.selfs[0], b = this.selfs[1];
      const larger = new Float64Array(this.n);
      for (let i = 0; i < this.n; i++) { larger[i] = a[i] > b[i] ? a[i] : b[i]; }
      this.width = this.inclusive(larger);
    }
    if (this.selfs.length === 2) {
      // colour by the change of each frame's own (self) weight, as flamegraph.pl and inferno do,
      // or of its inclusive (total) weight with meta.colorBy "total"
      const byTotal = meta.colorBy === "total";
      const after = byTotal ? this.totals[0] : this.selfs[0], before = byTotal ? this.totals[1] : this.selfs[1];
      const noise = NOISE * Math.max(this.totals[0][0], this.totals[1][0]);
      this.delta = new Float64Array(this.n);
      let max = 0;
      for (let i = 0; i < this.n; i++) {
        const d = after[i] - before[i];
        this.delta[i] = Math.abs(d) <= noise ? 0 : d;
        if (i > 0 && Math.abs(this.delta[i]) > max) { max = Math.abs(this.delta[i]); }
      }
      this.maxDelta = max;
    }
  };
  Tree.prototype.subtreeDepth = function (i) {
    if (i === 0) { return this.maxDepth; }
    let max = this.depth[i];
    for (let k = i + 1; k < this.end[i]; k++) { if (this.depth[k] > max) { max = this.depth[k]; } }
    return max;
  };
  Tree.prototype.children = function (i) {
    const out = [];
    for (let c = i + 1; c < this.end[i]; c = this.end[c]) { out.push(c); }
    return out;
  };
  /* The ancestor of node i at depth d (i itself when d is its depth). On a deep tree the walk
     jumps STRIDE levels at a time through `up` (each node's nearest proper ancestor at a depth
     that is a multiple of STRIDE, made on first use), so it takes at most depth / STRIDE jumps
     and STRIDE steps. */
  Tree.prototype.ancestorAt = function (i, d) {
    const depth = this.depth, parent = this.parent;
    if (depth[i] - d > STRIDE) {
      const up = this.jumps();
      while (up[i] >= 0 && depth[up[i]] >= d) { i = up[i]; }
    }
    while (depth[i] > d) { i = parent[i]; }
    return i;
  };
  Tree.prototype.jumps = function () {
    if (!this.up) {
      const n = this.n, parent = this.parent, depth = this.depth;
      const up = new Int32Array(n);
      for (let i = 0; i < n; i++) {  // pre-order: a parent comes before its children
        const p = parent[i];
        up[i] = p < 0 ? -1 : depth[p] % STRIDE === 0 ? p : up[p];
      }
      this.up = up;
    }
    return this.up;
  };

  /* Builds a merged tree by inserting paths; `finish` returns it in pre-order, siblings by name. */
  function TreeBuilder(rootName, sides) {
    this.name = [rootName];
    this.parent = [-1];
    this.selfs = [];
    for (let s = 0; s < sides; s++) { this.selfs.push([0]); }
    this.index = new Map();
  }
  TreeBuilder.prototype.child = function (p, nid) {
    const key = p * data.names.length + nid;
    let c = this.index.get(key);
    if (c === undefined) {
      c = this.name.length;
      this.index.set(key, c);
      this.name.push(nid);
      this.parent.push(p);
      for (const s of this.selfs) { s.push(0); }
    }
    return c;
  };
  TreeBuilder.prototype.add = function (node, weights) {
    for (let s = 0; s < this.selfs.length; s++) { this.selfs[s][node] += weights[s]; }
  };
  TreeBuilder.prototype.finish = function () {
    const n = this.name.length;
    const kids = new Array(n);
    for (let c = 1; c < n; c++) { (kids[this.parent[c]] || (kids[this.parent[c]] = [])).push(c); }
    const names = data.names, nm = this.name;
    const byName = function (a, b) { const x = names[nm[a]], y = names[nm[b]]; return x < y ? -1 : x > y ? 1 : 0; };
    const nameId = new Uint32Array(n), depth = new Uint32Array(n);
    const selfs = this.selfs.map(function () { return new Float64Array(n); });
    const stack = [0], depths = [0];
    let k = 0;
    while (stack.length) {
      const i = stack.pop(), d = depths.pop();
      nameId[k] = nm[i];
      depth[k] = d;
      for (let s = 0; s < selfs.length; s++) { selfs[s][k] = this.selfs[s][i]; }
      k++;
      const list = kids[i];
      if (list) {
        list.sort(byName);
        for (let j = list.length - 1; j >= 0; j--) { stack.push(list[j]); depths.push(d + 1); }
      }
    }
    return new Tree(nameId, depth, selfs);
  };

  /* Occurrences of function `nid` that are not inside another occurrence of it. */
  function outermost(tree, nid) {
    const out = [];
    let coverEnd = 0;
    for (let i = 1; i < tree.n; i++) {
      if (i >= coverEnd && tree.nameId[i] === nid) { out.push(i); coverEnd = tree.end[i]; }
    }
    return out;
  }

  function sandwichTrees(tree, nid) {
    const sides = tree.selfs.length;
    const callers = new TreeBuilder(nid, sides), callees = new TreeBuilder(nid, sides);
    const mapped = new Int32Array(tree.n);
    const weights = new Array(sides);
    for (const o of outermost(tree, nid)) {
      let node = 0;
      for (let a = tree.parent[o]; a > 0; a = tree.parent[a]) { node = callers.child(node, tree.nameId[a]); }
      for (let s = 0; s < sides; s++) { weights[s] = tree.totals[s][o]; }
      callers.add(node, weights);
      mapped[o] = 0;
      for (let s = 0; s < sides; s++) { weights[s] = tree.selfs[s][o]; }
      callees.add(0, weights);
      for (let j = o + 1; j < tree.end[o]; j++) {
        const m = callees.child(mapped[tree.parent[j]], tree.nameId[j]);
        mapped[j] = m;
        for (let s = 0; s < sides; s++) { weights[s] = tree.selfs[s][j]; }
        callees.add(m, weights);
      }
    }
    return { callers: callers.finish(), callees: callees.finish() };
  }

  /* Self and total weight of every function (total counts nested recursion once), per side. The
     first meta.rootFrames frames of every stack hold comm/PID/TID, not code: they are no function. */
  function functionTable(tree) {
    const count = data.names.length, sides = tree.selfs.length, roots = meta.rootFrames || 0;
    const self = [], total = [];
    for (let s = 0; s < sides; s++) { self.push(new Float64Array(count)); total.push(new Float64Array(count)); }
    const onStack = new Int32Array(count);
    const stack = [];
    for (let i = 1; i < tree.n; i++) {
      if (tree.depth[i] <= roots) { continue; }
      while (stack.length && tree.end[stack[stack.length - 1]] <= i) { onStack[tree.nameId[stack.pop()]]--; }
      const nid = tree.nameId[i];
      for (let s = 0; s < sides; s++) {
        self[s][nid] += tree.selfs[s][i];
        if (onStack[nid] === 0) { total[s][nid] += tree.totals[s][i]; }
      }
      onStack[nid]++;
      stack.push(i);
    }
    return { self: self, total: total };
  }

  // ---------------------------------------------------------------- state
  let data = null;
  let tree = null;
  const state = { view: "flame", search: "", ignoreCase: false, fn: -1, basis: meta.basis || "union", range: null, proc: -1 };
  let matcher = null;       // Uint8Array over names: 1 where the search matches
  let diffFills = null;

  function diffFill(delta, max) {
    if (meta.negate) { delta = -delta; }
    if (delta === 0 || max <= 0) { return "rgb(255,255,255)"; }
    const pale = Math.round(255 * (1 - Math.min(Math.abs(delta) / max, 1)));
    if (!diffFills) { diffFills = new Map(); }
    const key = delta > 0 ? pale : -1 - pale;
    let fill = diffFills.get(key);
    if (fill === undefined) {
      fill = delta > 0 ? "rgb(255," + pale + "," + pale + ")" : "rgb(" + pale + "," + pale + ",255)";
      diffFills.set(key, fill);
    }
    return fill;
  }

  // ---------------------------------------------------------------- canvas view
  function FlameView(scroller, inverted) {
    this.scroller = scroller;
    this.canvas = el("canvas", { "aria-label": "flame graph", role: "img" });
    this.spacer = el("div");
    scroller.append(this.canvas, this.spacer);
    this.ctx = this.canvas.getContext("2d", { alpha: false });
    this.inverted = inverted;
    this.tree = null;
    this.zoomed = 0;
    this.focus = -1;
    this.rows = 1;
    this.width = 0;
    this.height = 0;
    this.pending = false;
    this.lastDraw = 0;
    const view = this;
    scroller.addEventListener("scroll", function () { view.schedule(); });
    scroller.addEventListener("mousemove", function (e) { onHover(view, e); });
    scroller.addEventListener("mouseleave", function () { hideTooltip(); });
    scroller.addEventListener("click", function (e) { onClick(view, e); });
  }
  FlameView.prototype.setTree = function (t) {
    this.tree = t;
    this.zoomed = 0;
    this.focus = -1;
    this.layout(true);
  };
  /* Content height: every row plus half a row of margin at each end; at least the window, with
     the root at the bottom of it in a flame graph. */
  FlameView.prototype.contentHeight = function () {
    const rows = (this.rows + 1) * ROW;
    return this.inverted ? rows : Math.max(rows, this.height);
  };
  /* Sizes the canvas to the window and draws; toZoomed: scrolls to the zoomed frame (the root
     when not zoomed). */
  FlameView.prototype.layout = function (toZoomed) {
    if (!this.tree) { return; }
    this.rows = this.tree.subtreeDepth(this.zoomed) + 1;
    const w = this.scroller.clientWidth, h = this.scroller.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    this.width = w;
    this.height = h;
    this.canvas.style.width = w + "px";
    this.canvas.style.height = h + "px";
    this.canvas.width = Math.max(1, Math.round(w * dpr));
    this.canvas.height = Math.max(1, Math.round(h * dpr));
    this.dpr = dpr;
    this.spacer.style.height = Math.max(0, this.contentHeight() - h) + "px";
    if (toZoomed) {  // the zoomed frame's caller CALLERS_SHOWN levels up where the root is on opening
      const d = Math.max(0, this.tree.depth[this.zoomed] - CALLERS_SHOWN) * ROW;
      this.scroller.scrollTop = this.inverted ? d : this.scroller.scrollHeight - h - d;
    }
    this.draw();
  };
  FlameView.prototype.rowTop = function (d) {   // content coordinates
    return this.inverted ? (d + 0.5) * ROW : this.contentHeight() - (d + 1.5) * ROW;
  };
  FlameView.prototype.schedule = function () {
    if (this.pending) { return; }
    this.pending = true;
    const view = this;
    requestAnimationFrame(function () { view.pending = false; view.draw(); });
  };
  FlameView.prototype.scale = function () {
    const w = this.tree.width[this.zoomed];
    return w > 0 ? (this.width - 2 * XPAD) / w : 0;
  };
  FlameView.prototype.fillOf = function (i) {
    const t = this.tree, nid = t.nameId[i];
    if (matcher && matcher[nid]) { return SEARCH_COLOR; }
    if (t.delta) { return diffFill(t.delta[i], t.maxDelta); }
    return data.colors[nid] || (data.colors[nid] = data.fill(nid));
  };
  FlameView.prototype.draw = function () {
    const start = performance.now();
    const ctx = this.ctx, t = this.tree;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const grad = ctx.createLinearGradient(0, 0, 0, this.height);
    grad.addColorStop(0.05, meta.background[0]);
    grad.addColorStop(0.95, meta.background[1]);
    ctx.fillStyle = grad;
    ctx.fillRect(0, 0, this.width, this.height);
    if (!t || t.width[this.zoomed] <= 0) {
      ctx.fillStyle = "#555";
      ctx.font = FONT;
      ctx.fillText("no samples", XPAD, ROW * 2);
      return;
    }
    ctx.font = FONT;
    ctx.textBaseline = "middle";
    const top = this.scroller.scrollTop, ch = this.contentHeight();
    let lo, hi;
    if (this.inverted) {
      lo = Math.floor(top / ROW) - 1;
      hi = Math.ceil((top + this.height) / ROW);
    } else {
      lo = Math.floor((ch - top - this.height) / ROW) - 2;
      hi = Math.ceil((ch - top) / ROW);
    }
    const z = this.zoomed, width = t.width, end = t.end, depth = t.depth;
    const scale = this.scale();
    this.offset = top;
    const from = Math.min(hi, depth[z] - 1);  // the ancestors in the window only, deepest first
    for (let a = from >= 0 && from >= lo ? t.ancestorAt(z, from) : -1; a >= 0 && depth[a] >= lo; a = t.parent[a]) {
      this.frame(a, XPAD, this.width - 2 * XPAD, true);
    }
    const nodes = [z], xs = [XPAD];
    while (nodes.length) {
      const i = nodes.pop(), x = xs.pop();
      const d = depth[i];
      if (d >= lo) { this.frame(i, x, width[i] * scale, false); }
      if (d >= hi) { continue; }
      let cx = x, runX = 0, runW = 0, best = -1, bestW = 0;
      for (let c = i + 1; c < end[i]; c = end[c]) {
        const cw = width[c] * scale;
        if (cw >= MIN_PX) {
          if (best >= 0) { if (d + 1 >= lo) { this.run(best, runX, runW); } best = -1; }
          nodes.push(c);
          xs.push(cx);
        } else if (cw > 0) {
          if (best < 0) { runX = cx; runW = 0; bestW = -1; }
          runW += cw;
          if (cw > bestW) { best = c; bestW = cw; }
        }
        cx += cw;
      }
      if (best >= 0 && d + 1 >= lo) { this.run(best, runX, runW); }
    }
    if (this.focus >= 0) { this.outline(this.focus, "#000", 2); }
    this.lastDraw = performance.now() - start;
    timings.draws.push(this.lastDraw);
  };
  FlameView.prototype.frameTop = function (d) { return this.rowTop(d) - this.offset; };
  FlameView.prototype.frame = function (i, x, w, ancestor) {
    const ctx = this.ctx, y = this.frameTop(this.tree.depth[i]);
    ctx.globalAlpha = ancestor ? 0.6 : 1;
    ctx.fillStyle = this.fillOf(i);
    ctx.fillRect(x, y, w, ROW - 1);
    const nid = this.tree.nameId[i];
    if (state.fn === nid && !ancestor) {
      ctx.strokeStyle = "#202080";
      ctx.lineWidth = 1.5;
      ctx.strokeRect(x + 0.75, y + 0.75, Math.max(0, w - 1.5), ROW - 2.5);
    }
    if (w >= CHAR_WIDTH * MIN_LABEL_CHARS + LABEL_PAD) {
      const label = fitLabel(data.shown[nid], w - LABEL_PAD);
      if (label) {
        ctx.fillStyle = "#000";
        ctx.fillText(label, x + LABEL_PAD, y + (ROW - 1) / 2 + 0.5);
      }
    }
    ctx.globalAlpha = 1;
  };
  FlameView.prototype.run = function (best, x, w) {
    const ctx = this.ctx;
    ctx.fillStyle = this.fillOf(best);
    ctx.fillRect(x, this.frameTop(this.tree.depth[best]), Math.max(w, 0.5), ROW - 1);
  };
  FlameView.prototype.outline = function (i, color, lineWidth) {
    const g = this.geometry(i);
    if (!g) { return; }
    const ctx = this.ctx;
    ctx.strokeStyle = color;
    ctx.lineWidth = lineWidth;
    ctx.strokeRect(g.x + 1, g.y + 1, Math.max(0, g.w - 2), ROW - 3);
  };
  /* Where node i is drawn, in canvas coordinates, or null when it is not in the zoomed view. */
  FlameView.prototype.geometry = function (i) {
    const t = this.tree, z = this.zoomed;
    if (i < 0 || i >= t.n) { return null; }
    const y = this.rowTop(t.depth[i]) - this.scroller.scrollTop;
    if (i < z && t.end[i] >= t.end[z]) { return { x: XPAD, y: y, w: this.width - 2 * XPAD }; }
    if (i < z || i >= t.end[z]) { return null; }
    const scale = this.scale();
    let x = XPAD;
    for (let k = i; k !== z; k = t.parent[k]) {
      for (let c = t.parent[k] + 1; c < k; c = t.end[c]) { x += t.width[c] * scale; }
    }
    return { x: x, y: y, w: t.width[i] * scale };
  };
  /* The frame (or merged run) under canvas point (px, py): {node, run: [first, last] or null}. */
  FlameView.prototype.hit = function (px, py) {
    const t = this.tree;
    if (!t) { return null; }
    const cy = py + this.scroller.scrollTop;
    const d = this.inverted ? Math.floor(cy / ROW - 0.5) : Math.floor((this.contentHeight() - cy) / ROW - 0.5);
    const z = this.zoomed;
    if (d < 0 || px < XPAD || px >= this.width - XPAD) { return null; }
    if (d < t.depth[z]) { return { node: t.ancestorAt(z, d), run: null }; }
    const scale = this.scale();
    let i = z, x = XPAD;
    if (px >= x + t.width[z] * scale) { return null; }
    while (t.depth[i] < d) {
      let found = -1, fx = 0, cx = x;
      for (let c = i + 1; c < t.end[i]; c = t.end[c]) {
        const cw = t.width[c] * scale;
        if (px >= cx && px < cx + cw) { found = c; fx = cx; break; }
        cx += cw;
      }
      if (found < 0) { return null; }
      if (t.width[found] * scale < MIN_PX) {
        if (t.depth[found] !== d) { return null; }
        return { node: found, run: this.runAround(found) };
      }
      i = found;
      x = fx;
    }
    return { node: i, run: null };
  };
  FlameView.prototype.runAround = function (c) {
    const t = this.tree, scale = this.scale(), p = t.parent[c];
    const members = [];
    let current = [];
    for (let k = p + 1; k < t.end[p]; k = t.end[k]) {
      const w = t.width[k] * scale;
      if (w > 0 && w < MIN_PX) { current.push(k); } else if (w >= MIN_PX) { if (current.indexOf(c) >= 0) { break; } current = []; }
    }
    for (const k of current) { members.push(k); }
    return members;
  };

  function fitLabel(text, width) {
    const chars = Math.floor(width / CHAR_WIDTH);
    if (chars < MIN_LABEL_CHARS) { return ""; }
    if (text.length <= chars) { return text; }
    return meta.truncate === "left" ? ".." + text.substring(text.length - chars + 2) : text.substring(0, chars - 2) + "..";
  }

  // ---------------------------------------------------------------- describing frames
  function describe(view, node) {
    const t = view.tree, nid = t.nameId[node];
    const lines = [];
    const root = t.width[0], parent = t.parent[node];
    if (t.delta) {
      const after = t.totals[0][node], before = t.totals[1][node];
      const sides = meta.sideNames || ["before", "after"];
      const pp = 100 * (after / (t.totals[0][0] || 1) - before / (t.totals[1][0] || 1));
      lines.push(sides[0] + " " + fmt(before) + ", " + sides[1] + " " + fmt(after) + " " + UNIT);
      lines.push("change " + (after >= before ? "+" : "−") + fmt(Math.abs(after - before)) + " " + UNIT + " (" + signed(pp, 2) + " pp of the total)");
      if (before === 0) { lines.push("only in " + sides[1]); } else if (after === 0) { lines.push("only in " + sides[0]); }
    } else {
      const w = t.width[node];
      lines.push(fmt(w) + " " + UNIT + ", " + pct(w, root) + " of the total" +
        (parent >= 0 ? ", " + pct(w, t.width[parent]) + " of " + data.shown[t.nameId[parent]] : ""));
      const self = t.selfs[0][node];
      if (self > 0) { lines.push("self " + fmt(self) + " " + UNIT + " (" + pct(self, root) + ")"); }
    }
    return { name: data.names[nid], lines: lines };
  }

  function describeRun(view, run) {
    const t = view.tree;
    let w = 0;
    for (const k of run) { w += t.width[k]; }
    return {
      name: run.length + " frames narrower than a pixel",
      lines: [fmt(w) + " " + UNIT + " together, " + pct(w, t.width[0]) + " of the total; click to zoom into the widest"],
    };
  }

  const tooltip = el("div", { id: "tooltip", role: "tooltip", hidden: "" });
  const details = el("div", { id: "details", "aria-live": "polite" }, "\u00a0");

  function showTooltip(info, x, y) {
    tooltip.replaceChildren(el("span", { class: "name" }, info.name), info.lines.join("\n"));
    tooltip.hidden = false;
    const w = tooltip.offsetWidth, h = tooltip.offsetHeight;
    const left = x + 14 + w > window.innerWidth ? Math.max(0, x - 14 - w) : x + 14;
    const topPos = y + 16 + h > window.innerHeight ? Math.max(0, y - 10 - h) : y + 16;
    tooltip.style.left = left + "px";
    tooltip.style.top = topPos + "px";
    details.textContent = info.name + " — " + info.lines.join("; ");
  }
  function hideTooltip() {
    tooltip.hidden = true;
  }

  function pointer(view, e) {
    const r = view.canvas.getBoundingClientRect();
    return view.hit(e.clientX - r.left, e.clientY - r.top);
  }
  function onHover(view, e) {
    const hit = pointer(view, e);
    if (!hit) { hideTooltip(); return; }
    view.hovered = hit.node;
    showTooltip(hit.run ? describeRun(view, hit.run) : describe(view, hit.node), e.clientX, e.clientY);
  }
  function onClick(view, e) {
    const hit = pointer(view, e);
    if (!hit) { return; }
    let node = hit.node;
    if (hit.run) {
      for (const k of hit.run) { if (view.tree.width[k] > view.tree.width[node]) { node = k; } }
    }
    if (view === graph) {
      zoomTo(node);
    } else {
      selectFunction(view.tree.nameId[node], "sandwich");  // the sandwich of what was clicked
    }
  }

  // ---------------------------------------------------------------- page
  const tabs = {};
  const tabBar = el("div", { class: "tabs", role: "tablist" });
  const TAB_TEXT = { flame: "Flame graph", icicle: "Icicle", sandwich: "Sandwich", top: "Top table", time: "Time" };
  const TAB_KEY = { flame: "f", icicle: "i", sandwich: "s", top: "t", time: "m" };
  for (const v of VIEWS) {
    tabs[v] = el("button", { type: "button", role: "tab", id: "tab-" + v, title: TAB_TEXT[v] + " (key " + TAB_KEY[v] + ")", "aria-selected": "false" }, TAB_TEXT[v]);
    tabs[v].addEventListener("click", function () { setView(v); });
    tabBar.append(tabs[v]);
  }
  const searchBox = el("input", { type: "search", id: "search", placeholder: "Search (regular expression): Ctrl-F", "aria-label": "Search frames by regular expression", spellcheck: "false" });
  const caseBox = el("input", { type: "checkbox", id: "ignorecase" });
  const matchedText = el("span", { id: "matched", "aria-live": "polite" });
  const resetButton = el("button", { type: "button", id: "reset", title: "Show the whole graph (Escape)" }, "Reset zoom");
  const copyButton = el("button", { type: "button", id: "copy", title: "Copy the stack of the selected frame, leaf first (key c)" }, "Copy stack");
  const status = el("span", { id: "status" });
  const bar = el("div", { class: "bar" }, tabBar, searchBox, el("label", null, caseBox, " ignore case"), matchedText, resetButton, copyButton);
  let basisSelect = null;
  if (meta.diff) {
    basisSelect = el("select", { id: "basis", "aria-label": "Frame widths from" });
    for (const b of [["union", "larger of before and after"], ["after", "after"], ["before", "before"]]) {
      basisSelect.append(el("option", { value: b[0] }, "widths: " + b[1]));
    }
    bar.append(basisSelect);
  }
  bar.append(status);
  const header = el("header", null, el("h1", null, meta.title), meta.subtitle ? el("span", { class: "subtitle" }, meta.subtitle) : null, bar);
  if (meta.diff) {
    header.append(el("div", { class: "subtitle" }, (meta.negate ? "blue: grew, red: shrank" : "red: grew, blue: shrank") + " from " + meta.sideNames[0] + " to " + meta.sideNames[1] + "; frames only in " + meta.sideNames[0] + " are kept"));
  }
  const crumbs = el("nav", { id: "crumbs", "aria-label": "Zoomed frame and its callers" });
  const graphScroller = el("div", { class: "scroller", id: "graph", tabindex: "0" });
  const graphPane = el("section", { class: "pane", id: "graph-pane" }, graphScroller);
  const callersTitle = el("h2");
  const calleesTitle = el("h2");
  const callersScroller = el("div", { class: "scroller", id: "callers" });
  const calleesScroller = el("div", { class: "scroller", id: "callees" });
  const sandwichPane = el("section", { class: "pane", id: "sandwich-pane", hidden: "" },
    el("div", { class: "half" }, callersTitle, callersScroller),
    el("div", { class: "half" }, calleesTitle, calleesScroller));
  const topNote = el("p", { class: "note" });
  const topTable = el("table", { id: "top-table" });
  const topPane = el("section", { class: "pane", id: "top-pane", hidden: "" }, topNote, topTable);
  const timeNote = el("p", { class: "note", id: "time-note" });
  const timeProcess = el("select", { id: "time-process", "aria-label": "Process shown in the heatmap and the range" });
  const timeClear = el("button", { type: "button", id: "time-clear", title: "Show every sample again" }, "Whole capture");
  const timeInfo = el("span", { id: "time-info", "aria-live": "polite" });
  const timeCanvas = el("canvas", { id: "heatmap", "aria-label": "samples over time: a column per second, a row per 20 ms", role: "img" });
  const timeScroller = el("div", { class: "heat-scroller" }, timeCanvas);
  const chartNote = el("p", { class: "note", id: "chart-note" });
  const chartCanvas = el("canvas", { id: "flamechart", "aria-label": "flame chart of the selection: time from left to right, 20 ms columns", role: "img" });
  const chartScroller = el("div", { class: "chart-scroller" }, chartCanvas);
  const timePane = el("section", { class: "pane", id: "time-pane", hidden: "" },
    el("div", { class: "time-bar" }, timeProcess, timeClear, timeInfo), timeNote, timeScroller, chartNote, chartScroller);
  const main = el("main", null, graphPane, sandwichPane, topPane, timePane);
  doc.body.append(header, crumbs, main, details, tooltip);

  const graph = new FlameView(graphScroller, false);
  const callersView = new FlameView(callersScroller, false);
  const calleesView = new FlameView(calleesScroller, true);
  const timings = { start: performance.now(), decoded: null, tree: null, firstPaint: null, draws: [], search: null };
  let functions = null;
  let sandwichFn = -1;
  let topSort = { column: 1, descending: true };

  function zoomTo(node) {
    graph.zoomed = node > 0 && node < tree.n ? node : 0;
    graph.focus = graph.zoomed;
    updateCrumbs();  // first: the trail's height is taken from the graph's
    graph.layout(true);
    saveState();
  }

  /* The breadcrumb trail: the root and its first callees, then the zoomed frame and its nearest
     callers; the levels between are one element saying how many (a trail of any depth is at most
     CRUMBS_HEAD + CRUMBS_TAIL + 2 crumbs). */
  function updateCrumbs() {
    const z = graph.zoomed, dz = tree.depth[z];
    const head = Math.min(dz, CRUMBS_HEAD);
    const tail = Math.max(head + 1, dz - CRUMBS_TAIL + 1);
    const nodes = [];
    for (let d = 0; d <= head; d++) { nodes.push(tree.ancestorAt(z, d)); }
    if (tail > head + 1) { nodes.push(-(tail - head - 1)); }  // this many levels left out
    const last = [];
    for (let k = z, d = dz; d >= tail; k = tree.parent[k], d--) { last.push(k); }
    for (let k = last.length - 1; k >= 0; k--) { nodes.push(last[k]); }
    const trail = doc.createDocumentFragment();
    nodes.forEach(function (node, k) {
      if (k) { trail.append(el("span", { class: "sep" }, "›")); }
      if (node < 0) {
        trail.append(el("span", { class: "elided", title: "callers between these frames" }, "… " + (-node).toLocaleString("en-US") + " levels …"));
        return;
      }
      const b = el("button", { type: "button", title: data.names[tree.nameId[node]] }, data.shown[tree.nameId[node]]);
      b.addEventListener("click", function () { zoomTo(node); });
      trail.append(b);
    });
    crumbs.replaceChildren(trail);
  }

  function setView(v) {
    if (VIEWS.indexOf(v) < 0) { v = "flame"; }
    state.view = v;
    for (const name of VIEWS) { tabs[name].setAttribute("aria-selected", String(name === v)); }
    graphPane.hidden = v !== "flame" && v !== "icicle";
    sandwichPane.hidden = v !== "sandwich";
    topPane.hidden = v !== "top";
    timePane.hidden = v !== "time";
    hideTooltip();
    if (v === "flame" || v === "icicle") {
      const inverted = v === "icicle";
      const flip = graph.inverted !== inverted || restoring;
      graph.inverted = inverted;
      graph.layout(flip);
    } else if (v === "sandwich") {
      showSandwich(state.fn >= 0 ? state.fn : heaviestSelf());
    } else if (v === "time") {
      drawHeatmap();
    } else {
      renderTop();
    }
    saveState();
  }

  function ensureFunctions() {
    if (!functions) { functions = functionTable(tree); }
    return functions;
  }
  function heaviestSelf() {
    const f = ensureFunctions(), s = f.self[0];
    let best = -1;
    for (let k = 0; k < s.length; k++) { if (best < 0 || s[k] > s[best]) { best = k; } }
    return best;
  }

  function showSandwich(nid) {
    if (nid < 0) { return; }
    if (sandwichFn !== nid) {
      const trees = sandwichTrees(tree, nid);
      sandwichFn = nid;
      callersTitle.textContent = "Callers of " + data.shown[nid] + " (it at the bottom, its callers above)";
      calleesTitle.textContent = "Callees of " + data.shown[nid] + " (it at the top, what it calls below)";
      callersView.setTree(trees.callers);
      calleesView.setTree(trees.callees);
    } else {
      callersView.layout(false);
      calleesView.layout(false);
    }
  }

  function selectFunction(nid, view) {
    state.fn = nid;
    setView(view || state.view);
    graph.draw();
    if (!topPane.hidden) { renderTop(); }
    saveState();
  }

  // ---------------------------------------------------------------- search
  function applySearch(quiet) {
    const start = performance.now();
    matchedText.classList.remove("error");
    if (!state.search) {
      matcher = null;
      matchedText.textContent = "";
    } else {
      const compiled = foldkitSearch.compile(state.search, state.ignoreCase);
      if (compiled.error) {
        matcher = null;
        matchedText.textContent = compiled.error;
        matchedText.classList.add("error");
        if (!quiet) { redrawAll(); }
        return;
      }
      const found = foldkitSearch.searchAll(compiled.matcher, data.shown, data.names);
      matcher = found.hits;
      let sum = 0, coverEnd = 0;
      for (let i = 1; i < tree.n; i++) {
        if (i >= coverEnd && matcher[tree.nameId[i]]) { sum += tree.width[i]; coverEnd = tree.end[i]; }
      }
      if (found.stopped) {
        matchedText.textContent = foldkitSearch.stoppedMessage(found.searched, data.names.length, "names", pct(sum, tree.width[0]));
        matchedText.classList.add("error");
      } else {
        matchedText.textContent = "Matched: " + pct(sum, tree.width[0]);
      }
    }
    if (!quiet) { redrawAll(); }
    timings.search = performance.now() - start;
    if (!topPane.hidden) { renderTop(); }
  }
  function redrawAll() {
    graph.draw();
    if (!sandwichPane.hidden) { callersView.draw(); calleesView.draw(); }
  }
  function setSearch(text, ignoreCase) {
    state.search = text || "";
    if (ignoreCase !== undefined) { state.ignoreCase = !!ignoreCase; }
    searchBox.value = state.search;
    caseBox.checked = state.ignoreCase;
    applySearch();
    saveState();
  }

  // ---------------------------------------------------------------- top table
  function renderTop() {
    const f = ensureFunctions();
    const diff = f.self.length === 2;
    const total = diff ? [tree.totals[1][0], tree.totals[0][0]] : [tree.totals[0][0]];
    const sidesOrder = diff ? [1, 0] : [0];  // before, after
    const columns = [{ title: "Function", value: null }];
    const label = diff ? meta.sideNames : [""];
    ["self", "total"].forEach(function (kind) {
      sidesOrder.forEach(function (side, k) {
        const head = (kind === "self" ? "Self" : "Total") + (diff ? " " + label[k] : "");
        columns.push({ title: head + " (" + UNIT + ")", value: function (nid) { return f[kind][side][nid]; }, format: fmt });
        columns.push({ title: head + " %", value: function (nid) { return f[kind][side][nid] / (total[k] || 1) * 100; }, format: function (v) { return v.toFixed(2); } });
      });
      if (diff) {
        columns.push({
          title: "Δ " + kind + " (pp)",
          value: function (nid) { return (f[kind][0][nid] / (total[1] || 1) - f[kind][1][nid] / (total[0] || 1)) * 100; },
          format: function (v) { return signed(v, 2); },
        });
      }
    });
    const count = data.names.length;
    let ids = [];
    for (let k = 0; k < count; k++) {
      let any = false;
      for (let s = 0; s < f.total.length; s++) { if (f.total[s][k] > 0) { any = true; } }
      if (any && (!matcher || matcher[k])) { ids.push(k); }
    }
    const col = columns[topSort.column] || columns[1];
    const key = new Float64Array(count);
    for (const k of ids) { key[k] = col.value(k); }
    const dir = topSort.descending ? -1 : 1;
    ids.sort(function (a, b) { return dir * (key[a] - key[b]) || (data.names[a] < data.names[b] ? -1 : 1); });
    const shownCount = Math.min(ids.length, TOP_ROWS);
    topNote.textContent = (shownCount < ids.length ? shownCount + " of " : "") + ids.length + " functions" +
      (matcher ? " matching the search" : "") + "; click a header to sort, a row to select the function in the graphs" +
      " (s: its sandwich).";
    const headRow = el("tr");
    columns.forEach(function (c, k) {
      const th = el("th", { scope: "col", class: k ? "num" : "" });
      if (k) {
        th.setAttribute("aria-sort", k === topSort.column ? (topSort.descending ? "descending" : "ascending") : "none");
        const b = el("button", { type: "button" }, c.title);
        b.addEventListener("click", function () {
          topSort = { column: k, descending: k === topSort.column ? !topSort.descending : true };
          renderTop();
        });
        th.append(b);
      } else {
        th.textContent = c.title;
      }
      headRow.append(th);
    });
    const body = el("tbody");
    for (let r = 0; r < shownCount; r++) {
      const nid = ids[r];
      const tr = el("tr", { "data-fn": String(nid) });
      if (nid === state.fn) { tr.className = "selected"; }
      tr.append(el("td", { class: "name", title: data.names[nid] }, data.names[nid]));
      for (let k = 1; k < columns.length; k++) { tr.append(el("td", { class: "num" }, columns[k].format(columns[k].value(nid)))); }
      tr.addEventListener("click", function () { selectFunction(nid, "flame"); });
      body.append(tr);
    }
    topTable.replaceChildren(el("thead", null, headRow), body);
  }

  // ---------------------------------------------------------------- time view
  let fullTree = null;         // the tree of every sample; `tree` is the range's while one is chosen
  let topOf = null;            // node -> its depth-1 ancestor (the process frame), 0 for the root
  let heat = null;             // per bucket, the weight shown in the heatmap (of the chosen process)
  let pick = -1;               // first bucket of a two-click selection, or -1
  let fullStatus = "";         // the status line of the whole profile
  const HEAT_ROW = 8;          // px per 20 ms row
  function heatCellWidth() {
    const cols = Math.ceil(TIME.buckets / TIME.rows);
    return Math.max(6, Math.min(28, Math.floor((timeScroller.clientWidth - 60) / Math.max(1, cols))));
  }
  function processWeights() {
    heat = new Float64Array(TIME.buckets);
    const t = data.time;
    for (let k = 0; k < t.weight.length; k++) {
      if (state.proc < 0 || topOf[t.node[k]] === state.proc) { heat[t.bucket[k]] += t.weight[k]; }
    }
  }
  function bucketText(b) {
    return "+" + (b * TIME.bucket).toFixed(2) + " s";
  }
  function rangeText() {
    if (!state.range) { return "whole capture"; }
    return bucketText(state.range[0]) + " to " + bucketText(state.range[1] + 1);
  }
  /* `canvas` sized to w x h CSS pixels at the screen's pixel ratio; its 2-D context, scaled so
     drawing is in CSS pixels. */
  function sizedContext(canvas, w, h) {
    const dpr = window.devicePixelRatio || 1;
    canvas.style.width = w + "px";
    canvas.style.height = h + "px";
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return ctx;
  }
  function drawHeatmap() {
    if (!TIME || timePane.hidden) { return; }
    if (!heat) { processWeights(); }
    const cols = Math.ceil(TIME.buckets / TIME.rows), cw = heatCellWidth();
    const w = 50 + cols * cw, h = 20 + TIME.rows * HEAT_ROW;
    const ctx = sizedContext(timeCanvas, w, h);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
    let max = 0;
    for (let b = 0; b < heat.length; b++) { if (heat[b] > max) { max = heat[b]; } }
    const lo = state.range ? state.range[0] : -1, hi = state.range ? state.range[1] : -1;
    for (let b = 0; b < TIME.buckets; b++) {
      const x = 50 + Math.floor(b / TIME.rows) * cw, y = (b % TIME.rows) * HEAT_ROW;
      const v = max > 0 ? heat[b] / max : 0;
      ctx.fillStyle = v > 0 ? "rgb(255," + Math.round(235 * (1 - v)) + "," + Math.round(200 * (1 - v)) + ")" : "#f2f2f2";
      ctx.fillRect(x, y, cw - 1, HEAT_ROW - 1);
      if ((b >= lo && b <= hi) || b === pick) {
        ctx.strokeStyle = b === pick ? "#0645ad" : "#202080";
        ctx.lineWidth = 1;
        ctx.strokeRect(x + 0.5, y + 0.5, cw - 2, HEAT_ROW - 2);
      }
    }
    ctx.fillStyle = "#555";
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "top";
    for (let c = 0; c < cols; c += Math.max(1, Math.ceil(40 / cw))) { ctx.fillText(String(c) + " s", 50 + c * cw, TIME.rows * HEAT_ROW + 4); }
    ctx.fillText("0 ms", 4, 0);
    ctx.fillText("980 ms", 4, (TIME.rows - 1) * HEAT_ROW - 2);
    timeNote.textContent = "Each cell is 20 ms (columns: seconds, rows: the 50 parts of a second, from the top); " +
      "darker means more " + UNIT + ". Drag over cells, or click two, to see that range in every other view. Shown: " + rangeText() + ".";
    drawChart();
  }
  /* The flame chart of the selection (range and process): time from left to right, a column per
     20 ms bucket; in each column the stacks sampled in it laid out as a flame graph (children in
     tree order) as wide as the column. A frame that ends one column and starts the next is one
     bar, so a thread that stays in a function draws it once for as long as it stays. Bars are
     {node, depth (from the chart's root), from, to} in buckets from the range's first. */
  let chart = null, chartKey = "";
  function chartBars() {
    const key = (state.range ? state.range.join("-") : "all") + "/" + state.proc;
    if (chart && chartKey === key) { return chart; }
    const t = data.time, m = t.weight.length, nb = TIME.buckets;
    if (!t.byBucket) {  // cell indices ordered by bucket (a counting sort), made once
      const start = new Uint32Array(nb + 1), order = new Uint32Array(m);
      for (let k = 0; k < m; k++) { start[t.bucket[k] + 1]++; }
      for (let b = 0; b < nb; b++) { start[b + 1] += start[b]; }
      const fill = start.slice(0, nb);
      for (let k = 0; k < m; k++) { order[fill[t.bucket[k]]++] = k; }
      t.byBucket = { start: start, order: order };
    }
    const full = fullTree, parent = full.parent, base = state.proc >= 0 ? state.proc : 0;
    const lo = state.range ? state.range[0] : 0, hi = state.range ? state.range[1] : nb - 1;
    const acc = new Float64Array(full.n), cur = new Float64Array(full.n);  // cur: where the next child goes
    const open = new Int32Array(full.n).fill(-1), barOf = new Int32Array(full.n);
    const bars = [];
    let opened = [];
    for (let b = lo; b <= hi; b++) {
      const touched = [];
      for (let q = t.byBucket.start[b]; q < t.byBucket.start[b + 1]; q++) {
        const k = t.byBucket.order[q], w = t.weight[k];
        if (state.proc >= 0 && topOf[t.node[k]] !== state.proc) { continue; }
        for (let i = t.node[k]; ; i = parent[i]) {
          if (acc[i] === 0) { touched.push(i); }
          acc[i] += w;
          if (i === base) { break; }
        }
      }
      const total = acc[base], next = [];
      touched.sort(function (a, c) { return a - c; });  // pre-order: a parent before its children
      for (const i of touched) {
        const s0 = i === base ? 0 : cur[parent[i]];
        if (i !== base) { cur[parent[i]] += acc[i]; }
        cur[i] = s0;
        const from = b - lo + s0 / total, to = from + acc[i] / total;
        if (open[i] >= 0 && s0 === 0) {  // it ended the last column at its end and starts this one
          bars[open[i]].to = to;
          barOf[i] = open[i];
        } else {
          bars.push({ node: i, depth: full.depth[i] - full.depth[base], from: from, to: to });
          barOf[i] = bars.length - 1;
        }
        if (Math.abs(s0 + acc[i] - total) <= 1e-9 * total) { next.push(i); }
      }
      for (const i of opened) { open[i] = -1; }
      for (const i of next) { open[i] = barOf[i]; }
      opened = next;
      for (const i of touched) { acc[i] = 0; }
    }
    chart = bars;
    chartKey = key;
    return bars;
  }
  function drawChart() {
    const bars = chartBars(), nb = state.range ? state.range[1] - state.range[0] + 1 : TIME.buckets;
    let depth = 0;
    for (const bar of bars) { if (bar.depth > depth) { depth = bar.depth; } }
    const w = Math.max(300, chartScroller.clientWidth || timeScroller.clientWidth || 800), h = (depth + 1) * ROW;
    const px = (w - 2 * XPAD) / nb;
    const ctx = sizedContext(chartCanvas, w, h);
    ctx.clearRect(0, 0, w, h);
    ctx.font = FONT;
    ctx.textBaseline = "middle";
    for (const bar of bars) {
      const bx = XPAD + bar.from * px, bw = (bar.to - bar.from) * px, by = h - (bar.depth + 1) * ROW;
      if (bw < 0.3) { continue; }
      const nid = fullTree.nameId[bar.node];
      ctx.fillStyle = matcher && matcher[nid] ? SEARCH_COLOR : data.colors[nid] || (data.colors[nid] = data.fill(nid));
      ctx.fillRect(bx, by, Math.max(bw - 0.5, 0.3), ROW - 1);
      const chars = Math.floor((bw - 2 * LABEL_PAD) / CHAR_WIDTH);
      if (chars >= MIN_LABEL_CHARS) {
        const name = data.shown[nid];
        ctx.fillStyle = "#000";
        ctx.fillText(name.length > chars ? name.slice(0, chars - 2) + ".." : name, bx + LABEL_PAD, by + ROW / 2);
      }
    }
    chartCanvas.dataset.px = String(px);
    chartNote.textContent = "Flame chart of " + rangeText() + (state.proc >= 0 ? ", " + data.shown[fullTree.nameId[state.proc]] : "") +
      ": time runs from left to right in 20 ms columns; each column shows the stacks sampled in it (root at the bottom), " +
      "and a frame that ends one column and starts the next is drawn as one bar.";
  }
  function chartBarAt(e) {
    const r = chartCanvas.getBoundingClientRect(), px = parseFloat(chartCanvas.dataset.px || "0");
    if (!chart || !(px > 0)) { return null; }
    const depth = Math.floor((r.height - (e.clientY - r.top)) / ROW), at = (e.clientX - r.left - XPAD) / px;
    for (const bar of chart) { if (bar.depth === depth && bar.from <= at && at < bar.to) { return bar; } }
    return null;
  }
  function bucketAt(e) {
    const r = timeCanvas.getBoundingClientRect(), cw = heatCellWidth();
    const col = Math.floor((e.clientX - r.left - 50) / cw), row = Math.floor((e.clientY - r.top) / HEAT_ROW);
    if (col < 0 || row < 0 || row >= TIME.rows) { return -1; }
    const b = col * TIME.rows + row;
    return b < TIME.buckets ? b : -1;
  }
  /* Show only the samples of buckets first..last (inclusive) of process `proc` (-1: all); no range: all. */
  function setRange(range, proc) {
    if (!TIME) { return; }
    state.proc = proc === undefined ? state.proc : proc;
    state.range = range && range[0] <= range[1] && range[0] >= 0 && range[1] < TIME.buckets ? [range[0], range[1]] : null;
    heat = null;
    pick = -1;
    if (!state.range && state.proc < 0) {
      tree = fullTree;
    } else {
      const selfs = new Float64Array(fullTree.n), t = data.time;
      const lo = state.range ? state.range[0] : 0, hi = state.range ? state.range[1] : TIME.buckets - 1;
      for (let k = 0; k < t.weight.length; k++) {
        const b = t.bucket[k];
        if (b >= lo && b <= hi && (state.proc < 0 || topOf[t.node[k]] === state.proc)) { selfs[t.node[k]] += t.weight[k]; }
      }
      tree = new Tree(fullTree.nameId, fullTree.depth, [selfs]);
    }
    functions = null;
    sandwichFn = -1;
    graph.setTree(tree);
    updateCrumbs();
    if (state.search) { applySearch(true); }
    const shownText = rangeText() + (state.proc >= 0 ? ", " + data.shown[fullTree.nameId[state.proc]] : "");
    timeInfo.textContent = "Shown: " + shownText + " — " + fmt(tree.width[0]) + " " + UNIT;
    status.textContent = state.range || state.proc >= 0 ? "Time view selection: " + shownText : fullStatus;
    drawHeatmap();
    saveState();
  }
  function setupTime() {
    if (!TIME) { return; }
    fullTree = tree;
    topOf = new Int32Array(tree.n);
    for (let i = 1; i < tree.n; i++) { topOf[i] = tree.depth[i] === 1 ? i : topOf[tree.parent[i]]; }
    const procs = tree.children(0).sort(function (a, b) { return tree.width[b] - tree.width[a]; });
    timeProcess.append(el("option", { value: "-1" }, "every process"));
    for (const c of procs) { timeProcess.append(el("option", { value: String(c) }, data.shown[tree.nameId[c]] + " (" + pct(tree.width[c], tree.width[0]) + ")")); }
    timeProcess.addEventListener("change", function () { setRange(state.range, parseInt(timeProcess.value, 10)); });
    timeClear.addEventListener("click", function () { setRange(null, -1); timeProcess.value = "-1"; });
    let down = -1;
    timeCanvas.addEventListener("mousedown", function (e) { down = bucketAt(e); });
    timeCanvas.addEventListener("mousemove", function (e) {
      const b = bucketAt(e);
      if (b >= 0) { timeInfo.textContent = bucketText(b) + ": " + fmt(heat ? heat[b] : 0) + " " + UNIT; }
    });
    chartCanvas.addEventListener("mousemove", function (e) {
      const bar = chartBarAt(e), lo = state.range ? state.range[0] : 0;
      if (bar) {
        timeInfo.textContent = data.shown[fullTree.nameId[bar.node]] + ": " + bucketText(lo + bar.from) + " to " + bucketText(lo + bar.to);
      }
    });
    timeCanvas.addEventListener("mouseup", function (e) {
      const b = bucketAt(e);
      if (b < 0 || down < 0) { down = -1; return; }
      if (b !== down) {
        setRange([Math.min(b, down), Math.max(b, down)]);
      } else if (pick >= 0) {
        setRange([Math.min(b, pick), Math.max(b, pick)]);
      } else {
        pick = b;
        drawHeatmap();
      }
      down = -1;
    });
  }

  // ---------------------------------------------------------------- keyboard
  function moveFocus(key) {
    const view = graph, t = view.tree;
    let f = view.focus >= 0 ? view.focus : view.zoomed;
    const towardsLeaf = view.inverted ? "ArrowDown" : "ArrowUp";
    const towardsRoot = view.inverted ? "ArrowUp" : "ArrowDown";
    if (key === towardsLeaf) {
      let best = -1;
      for (const c of t.children(f)) { if (best < 0 || t.width[c] > t.width[best]) { best = c; } }
      if (best >= 0) { f = best; }
    } else if (key === towardsRoot) {
      if (t.parent[f] >= 0) { f = t.parent[f]; }
    } else if (t.parent[f] >= 0) {
      const siblings = t.children(t.parent[f]);
      const k = siblings.indexOf(f) + (key === "ArrowLeft" ? -1 : 1);
      if (k >= 0 && k < siblings.length) { f = siblings[k]; }
    }
    view.focus = f;
    const g = view.geometry(f);
    if (g && (g.y < 0 || g.y + ROW > view.height)) {
      view.scroller.scrollTop += g.y - view.height / 2;
    }
    view.draw();
    const info = describe(view, f);
    details.textContent = info.name + " — " + info.lines.join("; ");
  }

  function stackText(node) {
    const out = [];
    for (let k = node; k > 0; k = tree.parent[k]) { out.push(data.names[tree.nameId[k]]); }
    return out.join("\n");
  }
  function copyStack() {
    const node = graph.focus > 0 ? graph.focus : graph.zoomed;
    if (node <= 0) { status.textContent = "Select a frame first (click or arrow keys)"; return; }
    const text = stackText(node);
    const frames = text.split("\n").length;
    const done = function () { status.textContent = "Copied " + frames + " frame(s)"; };
    const fallback = function () {
      const area = el("textarea", { readonly: "" });
      area.value = text;
      doc.body.append(area);
      area.select();
      const ok = doc.execCommand && doc.execCommand("copy");
      area.remove();
      status.textContent = ok ? "Copied " + frames + " frame(s)" : "Copy failed: the browser refused";
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }

  doc.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "f") {
      e.preventDefault();
      searchBox.focus();
      searchBox.select();
      return;
    }
    const typing = e.target === searchBox || e.target.tagName === "SELECT";
    if (typing) {
      if (e.key === "Escape") { searchBox.blur(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    const views = { f: "flame", i: "icicle", s: "sandwich", t: "top", 1: "flame", 2: "icicle", 3: "sandwich", 4: "top" };
    if (TIME) { views.m = views[5] = "time"; }
    if (e.key === "/") {
      e.preventDefault();
      searchBox.focus();
    } else if (views[e.key]) {
      if (e.key === "s" || e.key === "3") {
        const f = graph.focus > 0 ? tree.nameId[graph.focus] : graph.hovered > 0 ? tree.nameId[graph.hovered] : state.fn;
        if (f >= 0 && f !== state.fn) { state.fn = f; }
      }
      setView(views[e.key]);
    } else if (state.view === "flame" || state.view === "icicle") {
      if (e.key.startsWith("Arrow")) {
        e.preventDefault();
        moveFocus(e.key);
      } else if (e.key === "Enter") {
        zoomTo(graph.focus >= 0 ? graph.focus : graph.zoomed);
      } else if (e.key === "Escape") {
        zoomTo(0);
      } else if (e.key === "Backspace") {
        zoomTo(Math.max(0, tree.parent[graph.zoomed]));
      } else if (e.key === "c") {
        copyStack();
      }
    }
  });

  let searchTimer = 0;
  searchBox.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { setSearch(searchBox.value); }, 150);
  });
  searchBox.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { clearTimeout(searchTimer); setSearch(searchBox.value); }
  });
  caseBox.addEventListener("change", function () { setSearch(searchBox.value, caseBox.checked); });
  resetButton.addEventListener("click", function () { zoomTo(0); });
  copyButton.addEventListener("click", copyStack);
  if (basisSelect) {
    basisSelect.addEventListener("change", function () { setBasis(basisSelect.value); });
  }
  function setBasis(basis) {
    state.basis = ["union", "after", "before"].indexOf(basis) >= 0 ? basis : "union";
    if (basisSelect) { basisSelect.value = state.basis; }
    tree.setBasis(state.basis);
    sandwichFn = -1;
    graph.layout(false);
    if (state.search) { applySearch(); }
    saveState();
  }

  // ---------------------------------------------------------------- URL fragment
  let restoring = false;
  function saveState() {
    if (restoring || !tree) { return; }
    const p = new URLSearchParams();
    if (state.view !== meta.view) { p.set("view", state.view); }
    if (graph.zoomed > 0) { p.set("zoom", String(graph.zoomed)); }
    if (state.search) { p.set("search", state.search); }
    if (state.ignoreCase) { p.set("ignorecase", "1"); }
    if (state.fn >= 0) { p.set("fn", data.names[state.fn]); }
    if (meta.diff && state.basis !== meta.basis) { p.set("basis", state.basis); }
    if (state.range) { p.set("range", state.range[0] + "-" + state.range[1]); }
    if (state.proc > 0) { p.set("proc", data.names[fullTree.nameId[state.proc]]); }
    const hash = p.toString();
    const url = location.href.replace(/#.*$/, "") + (hash ? "#" + hash : "");
    if (url !== location.href) { history.replaceState(null, "", url); }
  }
  function restoreState() {
    const p = new URLSearchParams(location.hash.replace(/^#/, ""));
    restoring = true;
    try {
      if (meta.diff && p.has("basis")) { setBasis(p.get("basis")); }
      if (TIME) {
        const r = /^(\d+)-(\d+)$/.exec(p.get("range") || "");
        const procName = p.get("proc");
        let proc = -1;
        if (procName !== null) { for (const c of fullTree.children(0)) { if (data.names[fullTree.nameId[c]] === procName) { proc = c; } } }
        const same = (r ? state.range && state.range[0] === +r[1] && state.range[1] === +r[2] : !state.range) && proc === state.proc;
        if (!same) { setRange(r ? [+r[1], +r[2]] : null, proc); }
        timeProcess.value = String(state.proc);
      }
      const fn = p.get("fn");
      state.fn = fn === null ? -1 : data.names.indexOf(fn);
      state.search = p.get("search") || "";
      state.ignoreCase = p.get("ignorecase") === "1";
      searchBox.value = state.search;
      caseBox.checked = state.ignoreCase;
      applySearch(true);
      const z = parseInt(p.get("zoom") || "0", 10);
      graph.zoomed = z > 0 && z < tree.n ? z : 0;
      graph.focus = graph.zoomed > 0 ? graph.zoomed : -1;
      updateCrumbs();
      const view = p.get("view") || meta.view;
      graph.inverted = view === "icicle";
      setView(view);  // lays out and draws the view, once
      if (view !== "flame" && view !== "icicle") { graph.layout(true); }
    } finally {
      restoring = false;
    }
  }
  window.addEventListener("hashchange", restoreState);
  window.addEventListener("resize", function () {
    graph.layout(false);
    if (!sandwichPane.hidden) { callersView.layout(false); calleesView.layout(false); }
  });

  // ---------------------------------------------------------------- start
  loadData().then(function (loaded) {
    timings.decoded = performance.now();
    data = loaded;
    tree = new Tree(loaded.nameId, loaded.depth, loaded.selfs);
    timings.tree = performance.now();
    if (basisSelect) { basisSelect.value = state.basis; }
    graph.tree = tree;
    fullStatus = tree.n.toLocaleString("en-US") + " frames, " + data.names.length.toLocaleString("en-US") + " functions";
    // before the first layout: the status may take the bar to a second line, and the graph's height is measured
    status.textContent = fullStatus;
    setupTime();
    restoreState();
    timings.firstPaint = performance.now();
    doc.body.setAttribute("data-state", "ready");
    if (status.textContent === "") { status.textContent = fullStatus; }
  }).catch(function (err) {
    doc.body.setAttribute("data-state", "error");
    main.replaceChildren(el("p", { class: "error-box" }, "Cannot show this profile: " + err.message));
  });

  /* For tests and benchmarks: the state and a few actions, no data that is not already shown. */
  window.foldkit = {
    timings: timings,
    get tree() { return tree; },
    get names() { return data && data.names; },
    /* The fill name id nid is drawn in (given in the data, or from the page's palette). */
    fill: function (nid) { return data.fill(nid); },
    graph: graph,
    callers: callersView,
    callees: calleesView,
    zoom: zoomTo,
    /* Time view: show buckets first..last (null: all) of process node `proc` (-1: all). */
    range: setRange,
    get timeState() { return { range: state.range, proc: state.proc, buckets: TIME ? TIME.buckets : 0 }; },
    /* The Time view's flame chart: [name, depth, from, to] per bar (buckets from the range's first). */
    chart: function () { return chartBars().map(function (bar) { return [data.names[fullTree.nameId[bar.node]], bar.depth, bar.from, bar.to]; }); },
    /* Where bucket b's cell is drawn, in page coordinates (the Time view must be shown). */
    cell: function (b) {
      const r = timeCanvas.getBoundingClientRect(), cw = heatCellWidth();
      return { x: r.left + 50 + Math.floor(b / TIME.rows) * cw + cw / 2, y: r.top + (b % TIME.rows) * HEAT_ROW + HEAT_ROW / 2 };
    },
    search: setSearch,
    view: setView,
    select: selectFunction,
    stackText: stackText,
    /* The node of a folded path ("a;b;c"), or -1. */
    find: function (path) {
      let node = 0;
      for (const part of path.split(";")) {
        let next = -1;
        for (const c of tree.children(node)) { if (data.names[tree.nameId[c]] === part) { next = c; break; } }
        if (next < 0) { return -1; }
        node = next;
      }
      return node;
    },
    /* Where node i of view v is drawn, in page coordinates, or null. */
    rect: function (i, v) {
      const view = v || graph, g = view.geometry(i);
      if (!g) { return null; }
      const r = view.canvas.getBoundingClientRect();
      return { x: r.left + g.x, y: r.top + g.y, w: g.w, h: ROW - 1 };
    },
  };
})();
