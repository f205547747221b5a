//! Frame colours of `foldkit/render/palette.py` (the twin and the reference), written once for
//! both native writers: the SVG's frames (`svg_frames`, through `svg_palette`) and the viewer's
//! fills (`viewer`). The `default` palette's hue from what the name says, the hue palettes,
//! `wakeup` and `chain`, and each name's shade from the BLAKE2b hash of the name without its
//! annotation suffix (or, with `hash_start`, from its first and last characters). Names are
//! ASCII here: the patterns are the twin's in ASCII mode, where Python's and this crate's `\w`,
//! `\d` and `\b` agree, and Python's `$` (which also matches before a final newline) is written
//! `\n?\z`. Other palettes and options (`--random`, `--cp`) and other names are coloured by the
//! twin.

use std::borrow::Cow;
use std::sync::OnceLock;

use memchr::memmem::Finder;
use regex::bytes::Regex;

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
    /// What a name that may be JIT'd code holds (palette.py's `_might_be_jit`): only such names
    /// are searched with `jit_anywhere`.
    jit_hints: [Finder<'static>; 5],
    /// `[kernel.kallsyms]` and `::`, searched in every name.
    kallsyms: Finder<'static>,
    colons: Finder<'static>,
}

/// The first bytes a match of `jit_start` can begin with (`L?(?:java|javax|jdk|net|org|com|io|sun)`,
/// `Interpreter`, `StubRoutines` and the JavaScript prefixes), the other way to match it being a
/// name holding a space: names that do neither are not searched.
const JIT_START_FIRST: &[u8] = b"LjnocisISJFBRE";
/// The first bytes a match of `kernel_start` can begin with.
const KERNEL_START_FIRST: &[u8] = b"ed_ar";

/// The `default` palette's patterns, compiled once.
fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let java_start = r"L?(?:java|javax|jdk|net|org|com|io|sun)[/.]|[\w$.\[\]<>]+ [\w$]+(?:\.[\w$<>]+)+\n?\z|(?:Interpreter|StubRoutines)\b";
        let js_start = r"(?:JS|LazyCompile|Function|Builtin|BytecodeHandler|Script|RegExp|Eval):";
        let anywhere =
            r":::|\.js:\d|\.m?js\n?\z|\[perf-\d+\.map|\bjitted-\d+-\d+\.so|\[JIT\]";
        let kernel = r"entry_SYSCALL|do_syscall_|__x64_sys_|__arm64_sys_|__do_sys_|asm_(?:exc|sysvec|common)_|ret_from_fork";
        // the patterns are constants: a failure here is a bug caught by every test
        let compile = |p: String| Regex::new(&format!("(?-u){p}")).expect("a valid pattern");
        Patterns {
            jit_start: compile(format!(r"\A(?:{java_start}|{js_start})")),
            jit_anywhere: compile(anywhere.to_string()),
            kernel_start: compile(format!(r"\A(?:{kernel})")),
            jit_hints: [
                Finder::new(b":::"),
                Finder::new(b"js"),
                Finder::new(b"[perf-"),
                Finder::new(b"jitted-"),
                Finder::new(b"[JIT]"),
            ],
            kallsyms: Finder::new(b"[kernel.kallsyms]"),
            colons: Finder::new(b"::"),
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

/// `name` without its annotation suffix (`ANNOTATION.sub("", name)`), borrowed unless the
/// suffix stands before a final newline.
fn strip_annotation(name: &[u8]) -> Cow<'_, [u8]> {
    match annotation(name) {
        Some((at, _)) if at + 4 == name.len() => Cow::Borrowed(&name[..at]),
        Some((at, _)) => Cow::Owned([&name[..at], &name[at + 4..]].concat()),
        None => Cow::Borrowed(name),
    }
}

/// `name` without its annotation suffix (`ANNOTATION.sub("", name)`).
pub fn without_annotation(name: &[u8]) -> Vec<u8> {
    strip_annotation(name).into_owned()
}

/// The `default` palette's hue for `name` (palette.py's `_default`).
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
    let first = name.first().copied().unwrap_or(0);
    let might_start_jit = JIT_START_FIRST.contains(&first) || memchr::memchr(b' ', name).is_some();
    // every hint, `[kernel.kallsyms]` and `::` hold one of these: names without any (most
    // native code) are not searched for them
    let searched = memchr::memchr3(b':', b'j', b'[', name).is_some();
    let might_be_jit = || searched && p.jit_hints.iter().any(|f| f.find(name).is_some());
    if (might_start_jit && p.jit_start.is_match(name))
        || (might_be_jit() && p.jit_anywhere.is_match(name))
    {
        return "green";
    }
    if (searched && p.kallsyms.find(name).is_some())
        || (KERNEL_START_FIRST.contains(&first) && p.kernel_start.is_match(name))
    {
        return "orange";
    }
    if name.starts_with(b"py::") {
        return "green";
    }
    if searched && p.colons.find(name).is_some() {
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

/// Three shades in [0, 1) of a name without its annotation: from the first 48 bits of its
/// 6-byte BLAKE2b digest, or with `hash_start` from its first and last characters.
fn shades(name: &[u8], hash_start: bool) -> [f64; 3] {
    if hash_start {
        let v1 = start_weighted(name.iter().copied());
        let v2 = start_weighted(name.iter().rev().copied());
        return [v1, v2, v2];
    }
    let d = blake2b_48(name);
    let part = |i: usize| f64::from(u16::from_be_bytes([d[i], d[i + 1]])) / 65536.0;
    [part(0), part(2), part(4)]
}

/// BLAKE2b of `data` with a 6-byte digest (`hashlib.blake2b(data, digest_size=6)`), with the
/// vector instructions the processor has (`blake2b_simd`: a third of the portable code's
/// instructions on one short name). The hash stays: it is how every flame graph drawn before
/// coloured its frames (Python's `palette.frame_color` and the viewer's `palette.js` too).
fn blake2b_48(data: &[u8]) -> [u8; 6] {
    let hash = blake2b_simd::Params::new().hash_length(6).hash(data);
    let mut digest = [0u8; 6];
    digest.copy_from_slice(hash.as_bytes());
    digest
}

/// The fill (r, g, b) of a frame called `name` (ASCII) in `palette` (one `knows` accepts), as
/// `palette.frame_color` computes it.
pub fn rgb(name: &[u8], palette: &str, hash_start: bool) -> [u8; 3] {
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
    let v = shades(&strip_annotation(name), hash_start);
    // base + int(span * v): truncation of a non-negative float, at most 254
    let c = |(base, span, i): (u32, u32, usize)| {
        (base + (f64::from(span) * v[i]) as u32).min(255) as u8
    };
    [c(channels[0]), c(channels[1]), c(channels[2])]
}

/// A palette the viewer page colours names with itself (`foldkit/render/viewer/palette.js`, the
/// twin of this module for these palettes): `default` or a hue palette, with the name's BLAKE2b
/// shade (the viewer has no `--hash`). The page's data gives the fills of the names it does not
/// colour (`colours`).
pub struct Palette {
    name: &'static str,
}

impl Palette {
    /// The palette called `name`, or None when the viewer leaves it to the twin.
    pub fn new(name: &str) -> Option<Palette> {
        const VIEWER: [&str; 11] = [
            "default", "red", "green", "blue", "aqua", "yellow", "purple", "orange", "hot", "mem",
            "io",
        ];
        VIEWER
            .iter()
            .find(|known| **known == name)
            .map(|known| Palette { name: known })
    }

    /// True when this palette colours `name` (printable ASCII; the twin colours the rest, and
    /// the page is given their fills).
    pub fn colours(&self, name: &[u8]) -> bool {
        plain(name)
    }

    /// The fill (r, g, b) of a frame called `name`, or None when the name is not printable
    /// ASCII (the twin colours it).
    pub fn fill(&self, name: &[u8]) -> Option<[u8; 3]> {
        plain(name).then(|| rgb(name, self.name, false))
    }
}

/// True when every byte of `name` is printable ASCII (a name `text.visible` keeps as it is).
pub fn plain(name: &[u8]) -> bool {
    name.iter().all(|&b| (0x20..0x7f).contains(&b))
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
        assert_eq!(hex(&blake2b_48(b"")), "ddd9c40767f9");
        assert_eq!(hex(&blake2b_48(b"abc")), "13c9497c2425");
        assert_eq!(hex(&blake2b_48(b"function_0_0")), "250732198408");
        assert_eq!(hex(&blake2b_48(&[b'x'; 200])), "9a84c02a613b");
    }

    #[test]
    fn hues_of_the_default_palette() {
        for (name, hue) in [
            ("read_[k]", "orange"),
            ("schedule_[k]", "orange"),
            ("foo_[j]", "green"),
            ("foo_[i]", "aqua"),
            ("[off-cpu:S]", "blue"),
            ("java/lang/Thread.run", "green"),
            ("LazyCompile:foo", "green"),
            ("x.js:12", "green"),
            ("x [perf-12.map]", "green"),
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

    #[test]
    fn the_viewer_takes_plain_names_of_its_palettes() {
        let p = Palette::new("red").unwrap();
        assert!(p.fill(b"caf\xc3\xa9").is_none());
        assert!(p.fill(b"a\tb").is_none());
        assert!(p.fill(b"main").is_some());
        assert!(Palette::new("java").is_none());
        assert!(Palette::new("wakeup").is_none());
        let default = Palette::new("default").unwrap();
        assert_eq!(default.fill(b"main"), Some(rgb(b"main", "default", false)));
    }

    /// `default_hue` without the prefilters (every pattern searched in every name).
    fn default_hue_searching_all(name: &[u8]) -> &'static str {
        if let Some((_, kind)) = annotation(name).filter(|_| name.ends_with(b"]")) {
            return match kind {
                b'k' => "orange",
                b'j' => "green",
                _ => "aqua",
            };
        }
        if name.starts_with(b"[off-cpu:") {
            return "blue";
        }
        let p = patterns();
        if p.jit_start.is_match(name) || p.jit_anywhere.is_match(name) {
            return "green";
        }
        if memchr::memmem::find(name, b"[kernel.kallsyms]").is_some()
            || p.kernel_start.is_match(name)
        {
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

    proptest::proptest! {
        #[test]
        fn prefilters_change_no_hue(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "java/", "Ljava.", "Interpreter", "StubRoutines", "JS:", "LazyCompile:", "Eval:",
                "a.b c.d", " ", ":::", ".js:1", ".mjs", "[perf-1.map", "jitted-1-2.so", "[JIT]",
                "[kernel.kallsyms]", "entry_SYSCALL", "__x64_sys_", "asm_exc_", "ret_from_fork",
                "py::", "::", "_[k]", "_[j]", "_[i]", "x", "f", "S", "sun.", "io/", "$", "<>", "9",
            ]), 0..5)
        ) {
            let name = parts.concat();
            proptest::prop_assert_eq!(default_hue(name.as_bytes()), default_hue_searching_all(name.as_bytes()));
        }
    }
}
