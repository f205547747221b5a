//! Frame colours of `foldkit.render.palette` (its Python twin and reference) for names of ASCII
//! text: the `default` palette's hue from what the name says, the hue palettes, `wakeup` and
//! `chain`, and the shade from a BLAKE2b hash of the name without its annotation (or, with
//! `hash_start`, from its first and last characters). Other palettes and names are coloured by
//! the twin.

use std::sync::OnceLock;

use regex::bytes::Regex;

use crate::folded::text::decimal;

/// Per channel (base, span, which shade): value = base + int(span * shade[which]).
type Hue = [(u32, u32, usize); 3];

/// The hue palettes (flamegraph.pl's ranges), as `palette._HUES`.
fn hue(name: &str) -> Option<Hue> {
    Some(match name {
        "red" => [(200, 55, 0), (50, 80, 0), (50, 80, 0)],
        "green" => [(50, 60, 0), (200, 55, 0), (50, 60, 0)],
        "blue" => [(80, 60, 0), (80, 60, 0), (205, 50, 0)],
        "aqua" => [(50, 60, 0), (165, 55, 0), (165, 55, 0)],
        "yellow" => [(175, 55, 0), (175, 55, 0), (50, 20, 0)],
        "purple" => [(190, 65, 0), (80, 60, 0), (190, 65, 0)],
        "orange" => [(190, 65, 0), (90, 65, 0), (0, 0, 0)],
        "hot" => [(205, 50, 2), (0, 230, 0), (0, 55, 1)],
        "mem" => [(0, 0, 0), (190, 50, 1), (0, 210, 0)],
        "io" => [(80, 60, 0), (80, 60, 0), (190, 55, 1)],
        _ => return None,
    })
}

/// True when this module colours names of `palette` (the twin colours the others).
pub fn knows(palette: &str) -> bool {
    matches!(palette, "default" | "wakeup" | "chain") || hue(palette).is_some()
}

struct Patterns {
    jit_start: Regex,
    jit_anywhere: Regex,
    kernel_start: Regex,
}

/// The `default` palette's patterns (Python's `$`, which also matches before a final newline,
/// written `\n?\z`; ASCII classes, as names here are ASCII).
fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let java_start = r"L?(?:java|javax|jdk|net|org|com|io|sun)[/.]|[\w$.\[\]<>]+ [\w$]+(?:\.[\w$<>]+)+\n?\z|(?:Interpreter|StubRoutines)\b";
        let js_start = r"(?:JS|LazyCompile|Function|Builtin|BytecodeHandler|Script|RegExp|Eval):";
        let anywhere =
            r":::|\.js:\d|\.m?js\n?\z|\[perf-\d+\.map|\bjitted-\d+-\d+\.so|\[JIT\]";
        let kernel = r"entry_SYSCALL|do_syscall_|__x64_sys_|__arm64_sys_|__do_sys_|asm_(?:exc|sysvec|common)_|ret_from_fork";
        let compile = |p: String| Regex::new(&format!("(?-u){p}")).expect("a valid pattern");
        Patterns {
            jit_start: compile(format!(r"\A(?:{java_start}|{js_start})")),
            jit_anywhere: compile(anywhere.to_string()),
            kernel_start: compile(format!(r"\A(?:{kernel})")),
        }
    })
}

/// The annotation suffix (`_[k]`, `_[j]`, `_[i]`, `_[w]`) and where it starts, as Python's
/// `_\[[kjiw]\]$` finds it: at the end, or before a final newline.
fn annotation(name: &[u8]) -> Option<(usize, u8)> {
    let body = name.strip_suffix(b"\n").unwrap_or(name);
    let n = body.len();
    if n >= 4 && &body[n - 4..n - 2] == b"_[" && body[n - 1] == b']' {
        let kind = body[n - 2];
        if matches!(kind, b'k' | b'j' | b'i' | b'w') {
            return Some((n - 4, kind));
        }
    }
    None
}

/// `name` without its annotation suffix (`ANNOTATION.sub("", name)`).
pub fn without_annotation(name: &[u8]) -> Vec<u8> {
    match annotation(name) {
        Some((at, _)) => [&name[..at], &name[at + 4..]].concat(),
        None => name.to_vec(),
    }
}

/// The `default` palette's hue for `name`.
fn default_hue(name: &[u8]) -> &'static str {
    if name.ends_with(b"]") {
        if let Some((_, kind)) = annotation(name) {
            return match kind {
                b'k' => "orange",
                b'j' => "green",
                _ => "aqua",
            };
        }
    }
    if name.starts_with(b"[off-cpu:") {
        return "blue";
    }
    let p = patterns();
    if p.jit_start.is_match(name) || p.jit_anywhere.is_match(name) {
        return "green";
    }
    if memchr::memmem::find(name, b"[kernel.kallsyms]").is_some() || p.kernel_start.is_match(name) {
        return "orange";
    }
    if name.starts_with(b"py::") {
        return "green";
    }
    if memchr::memmem::find(name, b"::").is_some() {
        return "yellow";
    }
    "red"
}

/// `_start_weighted`: the first eight characters' digits mod 10, each weighing 0.7 of the one
/// before.
fn start_weighted(chars: impl Iterator<Item = u8>) -> f64 {
    let (mut value, mut scale, mut weight) = (0.0f64, 0.0f64, 1.0f64);
    for ch in chars.take(8) {
        value += f64::from(ch % 10) / 9.0 * weight;
        scale += weight;
        weight *= 0.7;
    }
    if scale != 0.0 {
        value / scale
    } else {
        0.0
    }
}

/// Three shades in [0, 1) of a name without its annotation.
fn shades(name: &[u8], hash_start: bool) -> [f64; 3] {
    if hash_start {
        let v1 = start_weighted(name.iter().copied());
        let v2 = start_weighted(name.iter().rev().copied());
        return [v1, v2, v2];
    }
    let d = blake2b(name, 6);
    let part = |i: usize| f64::from(u16::from_be_bytes([d[i], d[i + 1]])) / 65536.0;
    [part(0), part(2), part(4)]
}

/// The fill of a frame called `name` (ASCII) in `palette` (one `knows` accepts), as
/// `palette.frame_color`.
pub fn frame_color(name: &[u8], palette: &str, hash_start: bool) -> String {
    let hue_name = match palette {
        "default" => default_hue(name),
        "wakeup" => "aqua",
        "chain" => {
            if memchr::memmem::find(name, b"_[w]").is_some() {
                "aqua"
            } else {
                "blue"
            }
        }
        other => other,
    };
    let channels = hue(hue_name).unwrap_or([(0, 0, 0); 3]);
    let v = shades(&without_annotation(name), hash_start);
    // base + int(span * v): truncation of a non-negative float
    let c = |(base, span, i): (u32, u32, usize)| base + (f64::from(span) * v[i]) as u32;
    let mut fill = String::with_capacity(16);
    fill.push_str("rgb(");
    for (i, channel) in channels.into_iter().enumerate() {
        if i > 0 {
            fill.push(',');
        }
        let mut buf = [0u8; 48];
        fill.push_str(
            std::str::from_utf8(decimal(i128::from(c(channel)), &mut buf)).unwrap_or_default(),
        );
    }
    fill.push(')');
    fill
}

/// BLAKE2b (RFC 7693) of `data`, unkeyed, `out` bytes long (1..=64).
pub fn blake2b(data: &[u8], out: usize) -> Vec<u8> {
    const IV: [u64; 8] = [
        0x6a09e667f3bcc908,
        0xbb67ae8584caa73b,
        0x3c6ef372fe94f82b,
        0xa54ff53a5f1d36f1,
        0x510e527fade682d1,
        0x9b05688c2b3e6c1f,
        0x1f83d9abfb41bd6b,
        0x5be0cd19137e2179,
    ];
    const SIGMA: [[usize; 16]; 10] = [
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
    let out = out.clamp(1, 64);
    let mut h = IV;
    h[0] ^= 0x0101_0000 ^ out as u64;
    let compress = |h: &mut [u64; 8], block: &[u8; 128], counter: u128, last: bool| {
        let mut m = [0u64; 16];
        for (i, word) in m.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&block[i * 8..i * 8 + 8]);
            *word = u64::from_le_bytes(b);
        }
        let mut v = [0u64; 16];
        v[..8].copy_from_slice(h);
        v[8..].copy_from_slice(&IV);
        v[12] ^= counter as u64;
        v[13] ^= (counter >> 64) as u64;
        if last {
            v[14] = !v[14];
        }
        let g = |v: &mut [u64; 16], a: usize, b: usize, c: usize, d: usize, x: u64, y: u64| {
            v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
            v[d] = (v[d] ^ v[a]).rotate_right(32);
            v[c] = v[c].wrapping_add(v[d]);
            v[b] = (v[b] ^ v[c]).rotate_right(24);
            v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
            v[d] = (v[d] ^ v[a]).rotate_right(16);
            v[c] = v[c].wrapping_add(v[d]);
            v[b] = (v[b] ^ v[c]).rotate_right(63);
        };
        for round in 0..12 {
            let s = &SIGMA[round % 10];
            g(&mut v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
            g(&mut v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
            g(&mut v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
            g(&mut v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
            g(&mut v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
            g(&mut v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
            g(&mut v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
            g(&mut v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
        }
        for i in 0..8 {
            h[i] ^= v[i] ^ v[i + 8];
        }
    };
    let mut counter: u128 = 0;
    let mut rest = data;
    while rest.len() > 128 {
        let mut block = [0u8; 128];
        block.copy_from_slice(&rest[..128]);
        counter += 128;
        compress(&mut h, &block, counter, false);
        rest = &rest[128..];
    }
    let mut block = [0u8; 128];
    block[..rest.len()].copy_from_slice(rest);
    counter += rest.len() as u128;
    compress(&mut h, &block, counter, true);
    h.iter().flat_map(|w| w.to_le_bytes()).take(out).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn blake2b_as_hashlib() {
        // hashlib.blake2b(data, digest_size=6).hexdigest()
        assert_eq!(hex(&blake2b(b"", 6)), "ddd9c40767f9");
        assert_eq!(hex(&blake2b(b"abc", 6)), "13c9497c2425");
        assert_eq!(hex(&blake2b(b"function_0_0", 6)), "250732198408");
        assert_eq!(hex(&blake2b(&[b'x'; 200], 6)), "9a84c02a613b");
    }

    #[test]
    fn hues_of_the_default_palette() {
        for (name, hue) in [
            ("read_[k]", "orange"),
            ("foo_[j]", "green"),
            ("[off-cpu:S]", "blue"),
            ("java/lang/Thread.run", "green"),
            ("LazyCompile:foo", "green"),
            ("x.js:12", "green"),
            ("do_syscall_64", "orange"),
            ("a [kernel.kallsyms]", "orange"),
            ("py::f", "green"),
            ("std::vector", "yellow"),
            ("main", "red"),
        ] {
            assert_eq!(default_hue(name.as_bytes()), hue, "{name}");
        }
    }

    #[test]
    fn annotations_are_found_as_python_finds_them() {
        assert_eq!(without_annotation(b"read_[k]"), b"read");
        assert_eq!(without_annotation(b"read_[k]\n"), b"read\n");
        assert_eq!(without_annotation(b"read_[x]"), b"read_[x]");
        assert_eq!(without_annotation(b"_[k]"), b"");
    }
}
