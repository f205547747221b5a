/* foldkit search: the regular expressions of the flame graphs' search, matched in time linear in
   the text, with a bounded total cost. Shared by the SVG's script and the HTML viewer (each page
   embeds this file before its own script).

   A pattern is checked by the browser's RegExp (so a syntax error reads as the browser words it),
   then parsed again here and compiled to an automaton (Thompson's construction) that is run as a
   lazily built DFA: each character of a name costs one table look-up once its transition is
   known, and working a transition out costs at most the size of the program. No backtracking, so
   `(a+)+$`, `(a|aa)*b` or `(.*a){20}` cost what `a` costs. What cannot be matched that way is
   refused before anything runs: backreferences, lookahead and lookbehind, a program larger than
   LIMITS.program steps once counted repeats are expanded, nesting deeper than LIMITS.nesting. A
   search spends at most LIMITS.budget steps over all the names it tests (one step per character,
   more for each new transition), then stops and says so; so does one very long name.

   Semantics are those of RegExp without flags or with "i" (no "m", "s", "u"): `.` matches any
   code unit but a line terminator, `^` and `$` only at the ends of the name, `\b` between a word
   character [A-Za-z0-9_] and a non-word one. Only whether a name matches is asked, so greedy and
   lazy quantifiers are the same. */
var foldkitSearch = (function () {
  "use strict";

  const LIMITS = {
    program: 5000,      // instructions once repeats are expanded
    nesting: 200,       // groups inside groups
    budget: 25000000,   // steps of one search over all names (README: what that costs)
    states: 2000,       // DFA states kept before the cache is emptied and built again
  };
  const NEW_STATE_COST = 128;  // steps charged for working out one transition, plus 4 per instruction visited
  const PREFILTER_CHARS = 16;  // literal characters looked for before a name is read by the automaton
  const CHAR = 1, SPLIT = 2, JMP = 3, ASSERT = 4, MATCH = 5;
  const BOL = 1, EOL = 2, WORD_BOUNDARY = 3, NOT_WORD_BOUNDARY = 4;
  const UNKNOWN = -1, MATCHED = -2;

  function Refused(message) { this.message = message; }

  // ---------------------------------------------------------------- character sets
  /* A set of code units: sorted inclusive ranges [lo, hi, lo, hi, ...], sets it includes the
     complement of (\D inside a class), and an overall negation ([^...]). */
  function CharSet(ranges, negate, excluded) {
    this.ranges = ranges;
    this.negate = !!negate;
    this.excluded = excluded || [];
  }
  /* Whether c is one of the characters listed, before the overall negation. */
  CharSet.prototype.lists = function (c) {
    const r = this.ranges;
    for (let k = 0; k < r.length; k += 2) { if (c >= r[k] && c <= r[k + 1]) { return true; } }
    for (let k = 0; k < this.excluded.length; k++) { if (!this.excluded[k].lists(c)) { return true; } }
    return false;
  };
  const DIGITS = [48, 57];
  const WORD = [48, 57, 65, 90, 95, 95, 97, 122];
  const SPACE = [9, 13, 32, 32, 160, 160, 5760, 5760, 8192, 8202, 8232, 8233, 8239, 8239, 8287, 8287, 12288, 12288, 65279, 65279];
  const LINE_END = [10, 10, 13, 13, 8232, 8233];
  function isWord(c) { return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122); }

  /* RegExp's case folding without the u flag: the upper case of a code unit when it is one code
     unit and does not take a non-ASCII letter to ASCII. */
  function canonical(c) {
    const u = String.fromCharCode(c).toUpperCase();
    if (u.length !== 1) { return c; }
    const v = u.charCodeAt(0);
    return c >= 128 && v < 128 ? c : v;
  }
  function caseVariants(c) {
    const out = [c];
    const canon = canonical(c);
    if (canon !== c) { out.push(canon); }
    const lower = String.fromCharCode(c).toLowerCase();
    if (lower.length === 1) {
      const l = lower.charCodeAt(0);
      if (l !== c && canonical(l) === canon) { out.push(l); }
    }
    return out;
  }

  // ---------------------------------------------------------------- parser
  /* Syntax trees: {t: "set", set}, {t: "cat", items}, {t: "alt", items}, {t: "rep", item, min,
     max}, {t: "assert", kind}, {t: "empty"}. */
  function Parser(source) {
    this.s = source;
    this.i = 0;
    this.depth = 0;
  }
  Parser.prototype.peek = function (k) { return this.s.charAt(this.i + (k || 0)); };
  Parser.prototype.parse = function () {
    const node = this.disjunction();
    if (this.i < this.s.length) { throw new Refused("unexpected " + this.peek() + " in the pattern"); }
    return node;
  };
  Parser.prototype.disjunction = function () {
    const items = [this.alternative()];
    while (this.peek() === "|") {
      this.i++;
      items.push(this.alternative());
    }
    return items.length === 1 ? items[0] : { t: "alt", items: items };
  };
  Parser.prototype.alternative = function () {
    const items = [];
    while (this.i < this.s.length && this.peek() !== "|" && this.peek() !== ")") {
      const group = this.peek() === "(";  // a group may be quantified, even one holding only ^ or $
      const atom = this.term();
      items.push(atom.t === "assert" && !group ? atom : this.quantified(atom));
    }
    return items.length === 1 ? items[0] : { t: "cat", items: items };
  };
  Parser.prototype.term = function () {
    const ch = this.peek();
    if (ch === "^") { this.i++; return { t: "assert", kind: BOL }; }
    if (ch === "$") { this.i++; return { t: "assert", kind: EOL }; }
    if (ch === "\\" && (this.peek(1) === "b" || this.peek(1) === "B")) {
      this.i += 2;
      return { t: "assert", kind: this.s.charAt(this.i - 1) === "b" ? WORD_BOUNDARY : NOT_WORD_BOUNDARY };
    }
    if (ch === "(") { return this.group(); }
    if (ch === ".") { this.i++; return { t: "set", set: new CharSet(LINE_END, true) }; }
    if (ch === "[") { return { t: "set", set: this.charClass() }; }
    if (ch === "\\") { return { t: "set", set: this.escape(false) }; }
    this.i++;
    return { t: "set", set: new CharSet([ch.charCodeAt(0), ch.charCodeAt(0)]) };
  };
  Parser.prototype.group = function () {
    this.i++;
    if (this.peek() === "?") {
      const kind = this.s.substring(this.i, this.i + 3);
      if (kind.startsWith("?=") || kind.startsWith("?!") || kind === "?<=" || kind === "?<!") {
        throw new Refused("lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported");
      }
      if (kind.startsWith("?:")) {
        this.i += 2;
      } else if (kind.startsWith("?<")) {
        const close = this.s.indexOf(">", this.i);
        if (close < 0) { throw new Refused("an unfinished group name"); }
        this.i = close + 1;
      } else {
        throw new Refused("the group (" + kind + " is not supported");
      }
    }
    if (++this.depth > LIMITS.nesting) { throw new Refused("groups are nested more than " + LIMITS.nesting + " deep"); }
    const node = this.disjunction();
    this.depth--;
    if (this.peek() !== ")") { throw new Refused("an unclosed group"); }
    this.i++;
    return node;
  };
  /* A quantifier after `atom`, if there is one ({ not followed by a valid count is a literal). */
  Parser.prototype.quantified = function (atom) {
    const ch = this.peek();
    let min, max;
    if (ch === "*") { min = 0; max = Infinity; this.i++; }
    else if (ch === "+") { min = 1; max = Infinity; this.i++; }
    else if (ch === "?") { min = 0; max = 1; this.i++; }
    else if (ch === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.substring(this.i, this.i + 64));
      if (!m) { return atom; }
      min = parseInt(m[1], 10);
      max = m[2] === undefined ? min : m[3] === "" ? Infinity : parseInt(m[3], 10);
      this.i += m[0].length;
    } else {
      return atom;
    }
    if (this.peek() === "?") { this.i++; }  // lazy: the same for whether a name matches
    return { t: "rep", item: atom, min: min, max: max };
  };
  Parser.prototype.hex = function (digits) {
    const text = this.s.substring(this.i, this.i + digits);
    if (text.length !== digits || !/^[0-9a-fA-F]+$/.test(text)) { return -1; }
    this.i += digits;
    return parseInt(text, 16);
  };
  /* The escape at the current position (at its backslash) as a set; inClass: inside [...]. */
  Parser.prototype.escape = function (inClass) {
    this.i++;
    const ch = this.peek();
    if (ch === "") { throw new Refused("a pattern ending in a backslash"); }
    this.i++;
    const one = function (c) { return new CharSet([c, c]); };
    switch (ch) {
      case "d": return new CharSet(DIGITS);
      case "D": return new CharSet(DIGITS, true);
      case "w": return new CharSet(WORD);
      case "W": return new CharSet(WORD, true);
      case "s": return new CharSet(SPACE);
      case "S": return new CharSet(SPACE, true);
      case "t": return one(9);
      case "n": return one(10);
      case "v": return one(11);
      case "f": return one(12);
      case "r": return one(13);
      case "b": return one(8);  // only inside a class; outside it is \b, an assertion
      case "c": {
        const letter = this.peek();
        if (/^[A-Za-z]$/.test(letter) || (inClass && /^[0-9_]$/.test(letter))) {
          this.i++;
          return one(letter.charCodeAt(0) % 32);
        }
        this.i--;  // a backslash, then c
        return one(92);
      }
      case "x": {
        const v = this.hex(2);
        return one(v >= 0 ? v : 120);
      }
      case "u": {
        const v = this.hex(4);
        return one(v >= 0 ? v : 117);
      }
      case "k":
        if (this.peek() === "<" && /\(\?<[^=!]/.test(this.s)) { throw new Refused("backreferences (\\1, \\k<name>) are not supported"); }
        return one(107);
      default:
        break;
    }
    if (ch >= "0" && ch <= "9") {
      if (ch === "0" && !/[0-9]/.test(this.peek())) { return one(0); }
      if (!inClass || ch > "7") { throw new Refused("backreferences (\\1, \\k<name>) are not supported"); }
      let value = ch.charCodeAt(0) - 48;  // a legacy octal escape in a class, up to \377
      while (/[0-7]/.test(this.peek()) && value * 8 + (this.peek().charCodeAt(0) - 48) <= 255) {
        value = value * 8 + (this.peek().charCodeAt(0) - 48);
        this.i++;
      }
      return one(value);
    }
    return one(ch.charCodeAt(0));
  };
  Parser.prototype.classAtom = function () {
    if (this.peek() === "\\") { return this.escape(true); }
    const c = this.s.charCodeAt(this.i++);
    return new CharSet([c, c]);
  };
  Parser.prototype.charClass = function () {
    this.i++;
    let negate = false;
    if (this.peek() === "^") { negate = true; this.i++; }
    const ranges = [], excluded = [];
    const add = function (set) {
      if (set.negate) { excluded.push(new CharSet(set.ranges)); } else { for (const v of set.ranges) { ranges.push(v); } }
    };
    while (this.peek() !== "]") {
      if (this.i >= this.s.length) { throw new Refused("an unclosed character class"); }
      const first = this.classAtom();
      const single = !first.negate && first.ranges.length === 2 && first.ranges[0] === first.ranges[1];
      if (single && this.peek() === "-" && this.peek(1) !== "]" && this.peek(1) !== "") {
        const save = this.i;
        this.i++;
        const last = this.classAtom();
        if (!last.negate && last.ranges.length === 2 && last.ranges[0] === last.ranges[1]) {
          if (last.ranges[0] < first.ranges[0]) { throw new Refused("a character class range out of order"); }
          ranges.push(first.ranges[0], last.ranges[0]);
          continue;
        }
        this.i = save;  // [\d-x] and the like: the dash is a character
      }
      add(first);
    }
    this.i++;
    return new CharSet(ranges, negate, excluded);
  };

  // ---------------------------------------------------------------- compiler
  function size(node) {
    switch (node.t) {
      case "set": return 1;
      case "assert": return 1;
      case "empty": return 0;
      case "cat": return node.items.reduce(function (s, n) { return s + size(n); }, 0);
      case "alt": return node.items.reduce(function (s, n) { return s + size(n) + 2; }, 0);
      default: {
        const body = size(node.item) + 2;
        const copies = node.max === Infinity ? node.min + 1 : node.max;
        return body * copies;
      }
    }
  }

  function Program() {
    this.op = [];
    this.x = [];
    this.y = [];
    this.sets = [];
  }
  Program.prototype.emit = function (op, x, y, set) {
    this.op.push(op);
    this.x.push(x);
    this.y.push(y);
    this.sets.push(set || null);
    return this.op.length - 1;
  };
  Program.prototype.compile = function (node) {
    switch (node.t) {
      case "set": {
        const pc = this.emit(CHAR, 0, 0, node.set);
        this.x[pc] = pc + 1;
        return;
      }
      case "assert": {
        const pc = this.emit(ASSERT, node.kind, 0);
        this.y[pc] = pc + 1;
        return;
      }
      case "empty": return;
      case "cat":
        for (const item of node.items) { this.compile(item); }
        return;
      case "alt": {
        const jumps = [];
        for (let k = 0; k < node.items.length; k++) {
          if (k < node.items.length - 1) {
            const split = this.emit(SPLIT, 0, 0);
            this.x[split] = split + 1;
            this.compile(node.items[k]);
            jumps.push(this.emit(JMP, 0, 0));
            this.y[split] = this.op.length;
          } else {
            this.compile(node.items[k]);
          }
        }
        for (const j of jumps) { this.x[j] = this.op.length; }
        return;
      }
      default: {
        for (let k = 0; k < node.min; k++) { this.compile(node.item); }
        if (node.max === Infinity) {
          const split = this.emit(SPLIT, 0, 0);
          this.x[split] = split + 1;
          this.compile(node.item);
          this.emit(JMP, split, 0);
          this.y[split] = this.op.length;
        } else {
          const splits = [];
          for (let k = node.min; k < node.max; k++) {
            const split = this.emit(SPLIT, 0, 0);
            this.x[split] = split + 1;
            splits.push(split);
            this.compile(node.item);
          }
          for (const s of splits) { this.y[s] = this.op.length; }
        }
      }
    }
  };

  // ---------------------------------------------------------------- matcher
  /* A literal every match contains (the longest run of single characters in the pattern's
     top-level sequence), so that names without it are passed over quickly; "" when none. */
  function requiredLiteral(node) {
    const items = node.t === "cat" ? node.items : [node];
    let best = "", run = "";
    for (const item of items) {
      const r = item.t === "set" && !item.set.negate && item.set.excluded.length === 0 ? item.set.ranges : null;
      if (r && r.length === 2 && r[0] === r[1]) {
        run += String.fromCharCode(r[0]);
        if (run.length > best.length) { best = run; }
      } else if (item.t !== "assert") {
        run = "";
      }
    }
    return best;
  }
  /* A test that is false for every name without `literal`: indexOf, or with case ignored a
     RegExp of at most PREFILTER_CHARS literal characters (no quantifier, so it cannot run away). */
  function prefilter(literal, ignoreCase) {
    if (!literal) { return null; }
    if (!ignoreCase) { return function (text) { return text.indexOf(literal) >= 0; }; }
    const re = new RegExp(literal.substring(0, PREFILTER_CHARS).replace(/[\\^$.*+?()[\]{}|\/]/g, "\\$&"), "i");
    return function (text) { return re.test(text); };
  }

  /* A compiled pattern. test(text) is 1 when the text matches, 0 when not, -1 once the search's
     budget is spent (from then on every test is -1). DFA state s has its transitions on ASCII
     code units at trans[s * 128 + c] (UNKNOWN until worked out, MATCHED when a match ends
     before c), the others in `wide`. */
  function Matcher(program, ignoreCase, literal) {
    this.program = program;
    this.ignoreCase = ignoreCase;
    this.contains = prefilter(literal, ignoreCase);
    this.left = LIMITS.budget;
    this.stopped = false;
    this.mark = new Int32Array(program.op.length);
    this.generation = 0;
    this.stack = new Int32Array(3 * program.op.length + 2);  // each instruction pushes at most two
    this.deadStart = false;
    this.trans = new Int32Array(128 * 16);
    this.dead = new Uint8Array(16);
    this.ends = new Int8Array(16);
    this.reset();
    this.deadStart = this.startIsDead();
  }
  Matcher.prototype.reset = function () {
    this.info = [];       // per state: {pcs, atStart, prevWord}
    this.index = new Map();
    this.wide = new Map();
    this.trans.fill(UNKNOWN);
    this.ends.fill(UNKNOWN);
    this.start = this.state([], true, false);
  };
  Matcher.prototype.state = function (pcs, atStart, prevWord) {
    const key = pcs.join(",") + (atStart ? "^" : "") + (prevWord ? "w" : "");
    let id = this.index.get(key);
    if (id === undefined) {
      id = this.info.length;
      if (id >= this.dead.length) {  // room for twice as many states
        const trans = new Int32Array(this.trans.length * 2).fill(UNKNOWN);
        trans.set(this.trans);
        this.trans = trans;
        const dead = new Uint8Array(this.dead.length * 2);
        dead.set(this.dead);
        this.dead = dead;
        const ends = new Int8Array(this.ends.length * 2).fill(UNKNOWN);
        ends.set(this.ends);
        this.ends = ends;
      }
      this.info.push({ pcs: pcs, atStart: atStart, prevWord: prevWord });
      this.dead[id] = pcs.length === 0 && !atStart && this.deadStart ? 1 : 0;
      this.index.set(key, id);
    }
    return id;
  };
  Matcher.prototype.accepts = function (set, c) {
    let listed = set.lists(c);
    if (!listed && this.ignoreCase) {
      const variants = caseVariants(c);
      for (let k = 1; k < variants.length && !listed; k++) { listed = set.lists(variants[k]); }
      // a listed character of another case that folds to the same one (small ranges only)
      const canon = canonical(c);
      const r = set.ranges;
      for (let k = 0; k < r.length && !listed; k += 2) {
        if (r[k + 1] - r[k] < 64) {
          for (let m = r[k]; m <= r[k + 1] && !listed; m++) { listed = canonical(m) === canon; }
        }
      }
    }
    return listed !== set.negate;
  };
  /* The CHAR and MATCH instructions reached from `pcs` and the start without reading a character,
     given what is around the current position. */
  Matcher.prototype.closure = function (pcs, atStart, atEnd, prevWord, nextWord) {
    const p = this.program, mark = this.mark, stack = this.stack;
    const gen = ++this.generation;
    const out = [];
    let top = 0, visited = 0;
    stack[top++] = 0;
    for (let k = pcs.length - 1; k >= 0; k--) { stack[top++] = pcs[k]; }
    while (top > 0) {
      const pc = stack[--top];
      if (mark[pc] === gen) { continue; }
      mark[pc] = gen;
      visited++;
      const op = p.op[pc];
      if (op === CHAR || op === MATCH) { out.push(pc); }
      else if (op === JMP) { stack[top++] = p.x[pc]; }
      else if (op === SPLIT) { stack[top++] = p.y[pc]; stack[top++] = p.x[pc]; }
      else {
        const kind = p.x[pc];
        const ok = kind === BOL ? atStart : kind === EOL ? atEnd
          : kind === WORD_BOUNDARY ? prevWord !== nextWord : prevWord === nextWord;
        if (ok) { stack[top++] = p.y[pc]; }
      }
    }
    this.left -= NEW_STATE_COST + 4 * visited;
    return out;
  };
  /* True when nothing can match once past the first character with no thread alive (a pattern
     that starts with ^): the rest of a name need not be read. */
  Matcher.prototype.startIsDead = function () {
    for (const prev of [false, true]) {
      for (const next of [false, true]) {
        for (const end of [false, true]) {
          if (this.closure([], false, end, prev, next && !end).length) { return false; }
        }
      }
    }
    return true;
  };
  /* The state after state s reads c (MATCHED when a match ends before c), worked out and kept. */
  Matcher.prototype.step = function (s, c) {
    const p = this.program, st = this.info[s];
    const reached = this.closure(st.pcs, st.atStart, false, st.prevWord, isWord(c));
    let to = MATCHED;
    if (!reached.some(function (pc) { return p.op[pc] === MATCH; })) {
      const next = [];
      for (const pc of reached) { if (this.accepts(p.sets[pc], c)) { next.push(p.x[pc]); } }
      next.sort(function (a, b) { return a - b; });
      if (this.info.length >= LIMITS.states) {
        this.reset();  // memory stays bounded; states are worked out again as they are needed
        return this.state(next, false, isWord(c));  // s is gone, so its transition is not kept
      }
      to = this.state(next, false, isWord(c));
    }
    if (c < 128) { this.trans[s * 128 + c] = to; } else { this.wide.set(s * 65536 + c, to); }
    return to;
  };
  Matcher.prototype.atEnd = function (s) {
    if (this.ends[s] === UNKNOWN) {
      const st = this.info[s];
      const reached = this.closure(st.pcs, st.atStart, true, st.prevWord, false);
      this.ends[s] = reached.some(function (pc) { return this.program.op[pc] === MATCH; }, this) ? 1 : 0;
    }
    return this.ends[s];
  };
  Matcher.prototype.test = function (text) {
    if (this.left < 0) { this.stopped = true; return -1; }
    const n = text.length;
    if (this.contains !== null && !this.contains(text)) {
      this.left -= n + 1;
      return 0;
    }
    let s = this.start, trans = this.trans;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      let next = c < 128 ? trans[s * 128 + c] : (this.wide.get(s * 65536 + c) ?? UNKNOWN);
      if (next === UNKNOWN) {
        next = this.step(s, c);
        trans = this.trans;
        if (this.left < 0) { this.stopped = true; return -1; }
      }
      if (next === MATCHED) { this.left -= (i & 4095) + 1; return 1; }
      s = next;
      if (this.dead[s]) { this.left -= (i & 4095) + 1; return 0; }
      if ((i & 4095) === 4095 && (this.left -= 4096) < 0) { this.stopped = true; return -1; }  // one long name
    }
    this.left -= (n & 4095) + 1;
    if (this.left < 0) { this.stopped = true; return -1; }
    return this.atEnd(s);
  };

  /* {matcher} for `source`, or {error, refused}: error is the message to show, refused is true
     when the pattern is a valid regular expression this search does not run. */
  function compile(source, ignoreCase) {
    try {
      new RegExp(source, ignoreCase ? "i" : "");
    } catch (err) {
      return { error: "Not a regular expression: " + err.message, refused: false };
    }
    try {
      const tree = new Parser(source).parse();
      if (size(tree) + 1 > LIMITS.program) {
        throw new Refused("the pattern is too large once its repeats are counted out (more than " + LIMITS.program + " steps)");
      }
      const program = new Program();
      program.compile(tree);
      program.emit(MATCH, 0, 0);
      return { matcher: new Matcher(program, !!ignoreCase, requiredLiteral(tree)) };
    } catch (err) {
      if (err instanceof Refused) { return { error: "Search refused: " + err.message, refused: true }; }
      throw err;
    }
  }

  /* Runs `matcher` over every name: name k matches when shown[k] (the name as shown) or, when it
     differs, full[k] (with its annotation) does. Returns {hits: Uint8Array, searched: names
     tested before the budget ran out, stopped}. */
  function searchAll(matcher, shown, full) {
    const count = shown.length;
    const hits = new Uint8Array(count);
    for (let k = 0; k < count; k++) {
      let r = matcher.test(shown[k]);
      if (r === 0 && full[k] !== shown[k]) { r = matcher.test(full[k]); }
      if (r < 0) { return { hits: hits, searched: k, stopped: true }; }
      hits[k] = r;
    }
    return { hits: hits, searched: count, stopped: false };
  }

  /* What a page says when a search stopped at its budget; `share` is the matched share so far. */
  function stoppedMessage(searched, count, noun, share) {
    return "Search stopped at its limit (" + LIMITS.budget.toLocaleString("en-US") + " steps) after " +
      searched.toLocaleString("en-US") + " of " + count.toLocaleString("en-US") + " " + noun + "; matched so far: " + share;
  }

  return { compile: compile, searchAll: searchAll, stoppedMessage: stoppedMessage, LIMITS: LIMITS };
})();
