/* foldkit palette: the fills of foldkit/render/palette.py (the reference) for the palettes the
   viewer page colours itself, so a page need not carry three bytes per name: `default` (hue from
   what the name says: annotations, JIT, kernel, C++) and the hue palettes, each name's shade from
   the BLAKE2b digest (6 bytes) of the name without its annotation suffix.

   Only names of printable ASCII are coloured here (the page is given the fills of the others), so
   the patterns' \w, \d and \b mean what they mean in Python's patterns, and `$` (which in Python
   also matches before a final newline) can only match at the end. BLAKE2b is written from RFC 7693
   on 32-bit halves of its 64-bit words. */
var foldkitPalette = (function () {
  "use strict";

  // per channel [base, span, which shade]: value = base + floor(span * shade)
  const HUES = {
    red: [[200, 55, 0], [50, 80, 0], [50, 80, 0]],
    green: [[50, 60, 0], [200, 55, 0], [50, 60, 0]],
    blue: [[80, 60, 0], [80, 60, 0], [205, 50, 0]],
    aqua: [[50, 60, 0], [165, 55, 0], [165, 55, 0]],
    yellow: [[175, 55, 0], [175, 55, 0], [50, 20, 0]],
    purple: [[190, 65, 0], [80, 60, 0], [190, 65, 0]],
    orange: [[190, 65, 0], [90, 65, 0], [0, 0, 0]],
    hot: [[205, 50, 2], [0, 230, 0], [0, 55, 1]],
    mem: [[0, 0, 0], [190, 50, 1], [0, 210, 0]],
    io: [[80, 60, 0], [80, 60, 0], [190, 55, 1]],
  };

  const ANNOTATION = /_\[[kjiw]\]$/;
  const JAVA_START = "L?(?:java|javax|jdk|net|org|com|io|sun)[/.]|[\\w$.\\[\\]<>]+ [\\w$]+(?:\\.[\\w$<>]+)+$|(?:Interpreter|StubRoutines)\\b";
  const JS_START = "(?:JS|LazyCompile|Function|Builtin|BytecodeHandler|Script|RegExp|Eval):";
  const JIT_START = new RegExp("^(?:" + JAVA_START + "|" + JS_START + ")");
  const JIT_ANYWHERE = /:::|\.js:\d|\.m?js$|\[perf-\d+\.map|\bjitted-\d+-\d+\.so|\[JIT\]/;
  const KERNEL_START = /^(?:entry_SYSCALL|do_syscall_|__x64_sys_|__arm64_sys_|__do_sys_|asm_(?:exc|sysvec|common)_|ret_from_fork)/;
  const KINDS = { k: "orange", j: "green", i: "aqua", w: "aqua" };

  function mightBeJit(name) {
    return name.includes(":::") || name.includes("js") || name.includes("[perf-") || name.includes("jitted-") || name.includes("[JIT]");
  }

  /* The `default` palette's hue of a name (palette.py's `_default`). */
  function defaultHue(name) {
    if (name.endsWith("]") && ANNOTATION.test(name)) { return KINDS[name[name.length - 2]]; }
    if (name.startsWith("[off-cpu:")) { return "blue"; }
    if (JIT_START.test(name) || (mightBeJit(name) && JIT_ANYWHERE.test(name))) { return "green"; }
    if (name.includes("[kernel.kallsyms]") || KERNEL_START.test(name)) { return "orange"; }
    if (name.startsWith("py::")) { return "green"; }
    if (name.includes("::")) { return "yellow"; }
    return "red";
  }

  // ------------------------------------------------------------ BLAKE2b, 6-byte digest, no key
  // the initial words as [low, high] 32-bit halves
  const IV = new Uint32Array([
    0xf3bcc908, 0x6a09e667, 0x84caa73b, 0xbb67ae85, 0xfe94f82b, 0x3c6ef372, 0x5f1d36f1, 0xa54ff53a,
    0xade682d1, 0x510e527f, 0x2b3e6c1f, 0x9b05688c, 0xfb41bd6b, 0x1f83d9ab, 0x137e2179, 0x5be0cd19,
  ]);
  const SIGMA = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
  ];
  const v = new Uint32Array(32), m = new Uint32Array(32), h = new Uint32Array(16);

  // word i of v += word j of v (+ message word k when k >= 0), modulo 2**64
  function add(i, j) {
    const lo = v[2 * i] + v[2 * j];
    v[2 * i + 1] = v[2 * i + 1] + v[2 * j + 1] + (lo > 0xffffffff ? 1 : 0);
    v[2 * i] = lo;
  }
  function addMessage(i, k) {
    const lo = v[2 * i] + m[2 * k];
    v[2 * i + 1] = v[2 * i + 1] + m[2 * k + 1] + (lo > 0xffffffff ? 1 : 0);
    v[2 * i] = lo;
  }
  // word i = (word i ^ word j) rotated right by n (32, 24, 16 or 63)
  function xorRotate(i, j, n) {
    const lo = v[2 * i] ^ v[2 * j], hi = v[2 * i + 1] ^ v[2 * j + 1];
    if (n === 32) {
      v[2 * i] = hi; v[2 * i + 1] = lo;
    } else if (n === 63) {
      v[2 * i] = (lo << 1) | (hi >>> 31); v[2 * i + 1] = (hi << 1) | (lo >>> 31);
    } else {
      v[2 * i] = (lo >>> n) | (hi << (32 - n)); v[2 * i + 1] = (hi >>> n) | (lo << (32 - n));
    }
  }
  function mix(a, b, c, d, x, y) {
    add(a, b); addMessage(a, x); xorRotate(d, a, 32);
    add(c, d); xorRotate(b, c, 24);
    add(a, b); addMessage(a, y); xorRotate(d, a, 16);
    add(c, d); xorRotate(b, c, 63);
  }
  function compress(block, at, counted, last) {
    for (let k = 0; k < 32; k++) {
      const p = at + 4 * k;
      m[k] = block[p] | (block[p + 1] << 8) | (block[p + 2] << 16) | (block[p + 3] << 24);
    }
    v.set(h, 0);
    v.set(IV, 16);
    v[24] ^= counted;  // the byte counter's low word (names shorter than 4 GiB)
    if (last) { v[28] = ~v[28]; v[29] = ~v[29]; }
    for (let r = 0; r < 12; r++) {
      const s = SIGMA[r % 10];
      mix(0, 4, 8, 12, s[0], s[1]);
      mix(1, 5, 9, 13, s[2], s[3]);
      mix(2, 6, 10, 14, s[4], s[5]);
      mix(3, 7, 11, 15, s[6], s[7]);
      mix(0, 5, 10, 15, s[8], s[9]);
      mix(1, 6, 11, 12, s[10], s[11]);
      mix(2, 7, 8, 13, s[12], s[13]);
      mix(3, 4, 9, 14, s[14], s[15]);
    }
    for (let k = 0; k < 16; k++) { h[k] ^= v[k] ^ v[k + 16]; }
  }
  /* The 6-byte BLAKE2b digest of `bytes` (hashlib.blake2b(bytes, digest_size=6).digest()). */
  function blake2b48(bytes) {
    h.set(IV);
    h[0] ^= 0x01010000 ^ 6;  // digest length 6, no key, fanout and depth 1
    const blocks = Math.max(1, Math.ceil(bytes.length / 128));
    const padded = new Uint8Array(128 * blocks);
    padded.set(bytes);
    for (let b = 0; b < blocks; b++) {
      const last = b === blocks - 1;
      compress(padded, 128 * b, last ? bytes.length : 128 * (b + 1), last);
    }
    const out = new Uint8Array(6);
    for (let k = 0; k < 6; k++) { out[k] = h[k >> 2] >>> (8 * (k & 3)); }
    return out;
  }

  const encoder = new TextEncoder();

  /* The fill `rgb(r,g,b)` of a frame called `name` (printable ASCII) in `palette` (one of
     `palettes`), as palette.frame_color computes it. */
  function fill(name, palette) {
    const hue = HUES[palette === "default" ? defaultHue(name) : palette];
    const d = blake2b48(encoder.encode(name.replace(ANNOTATION, "")));
    const shade = [(d[0] << 8 | d[1]) / 65536, (d[2] << 8 | d[3]) / 65536, (d[4] << 8 | d[5]) / 65536];
    const channel = function (c) { return c[0] + Math.floor(c[1] * shade[c[2]]); };
    return "rgb(" + channel(hue[0]) + "," + channel(hue[1]) + "," + channel(hue[2]) + ")";
  }

  return { fill: fill, palettes: ["default"].concat(Object.keys(HUES)), blake2b48: blake2b48 };
})();
