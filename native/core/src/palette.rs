//! Frame fills for names of printable ASCII (`foldkit/render/palette.py` is the twin and the
//! reference): the `default` semantic palette and the plain hue palettes, each name's shade from
//! the BLAKE2b hash of the name without its annotation suffix. Names with any other byte, and
//! every other palette or option (`--hash`, `--random`, `--cp`), are coloured by the twin: the
//! patterns here are the twin's in ASCII mode, where Python's and this crate's `\w`, `\d` and
//! `\b` agree.

use blake2::digest::{Update, VariableOutput};
use blake2::Blake2bVar;
use memchr::memmem::Finder;
use regex::bytes::Regex;

/// Per channel (base, span, which hash value): value = base + int(span * v[which]).
type Channels = [(u16, u16, usize); 3];

/// The hue palettes (palette.py's `_HUES`, flamegraph.pl's ranges).
const HUES: [(&str, Channels); 10] = [
    ("red", [(200, 55, 0), (50, 80, 0), (50, 80, 0)]),
    ("green", [(50, 60, 0), (200, 55, 0), (50, 60, 0)]),
    ("blue", [(80, 60, 0), (80, 60, 0), (205, 50, 0)]),
    ("aqua", [(50, 60, 0), (165, 55, 0), (165, 55, 0)]),
    ("yellow", [(175, 55, 0), (175, 55, 0), (50, 20, 0)]),
    ("purple", [(190, 65, 0), (80, 60, 0), (190, 65, 0)]),
    ("orange", [(190, 65, 0), (90, 65, 0), (0, 0, 0)]),
    ("hot", [(205, 50, 2), (0, 230, 0), (0, 55, 1)]),
    ("mem", [(0, 0, 0), (190, 50, 1), (0, 210, 0)]),
    ("io", [(80, 60, 0), (80, 60, 0), (190, 55, 1)]),
];

const JAVA_START: &str = r"L?(?:java|javax|jdk|net|org|com|io|sun)[/.]|[\w$.\[\]<>]+ [\w$]+(?:\.[\w$<>]+)+$|(?:Interpreter|StubRoutines)\b";
const JS_START: &str = r"(?:JS|LazyCompile|Function|Builtin|BytecodeHandler|Script|RegExp|Eval):";
const JIT_ANYWHERE: &str = r":::|\.js:\d|\.m?js$|\[perf-\d+\.map|\bjitted-\d+-\d+\.so|\[JIT\]";
const KERNEL_START: &str = r"^(?:entry_SYSCALL|do_syscall_|__x64_sys_|__arm64_sys_|__do_sys_|asm_(?:exc|sysvec|common)_|ret_from_fork)";
const OFF_CPU_PREFIX: &[u8] = b"[off-cpu:";
const KERNEL_MODULE: &[u8] = b"[kernel.kallsyms]";

/// A palette this module colours.
pub struct Palette {
    /// The `default` semantic palette's patterns; None for a plain hue palette.
    semantic: Option<Patterns>,
    /// The hue of a plain hue palette.
    hue: usize,
}

struct Patterns {
    jit_start: Regex,
    jit_anywhere: Regex,
    kernel_start: Regex,
    /// What a name that may be JIT'd code holds (palette.py's `_might_be_jit`).
    jit_hints: [Finder<'static>; 5],
    kernel_module: Finder<'static>,
    scope: Finder<'static>,
}

fn hue_index(name: &str) -> Option<usize> {
    HUES.iter().position(|(n, _)| *n == name)
}

fn ascii(pattern: &str) -> Regex {
    // the patterns are constants: a failure here is a bug caught by every test
    Regex::new(&format!("(?-u){pattern}")).expect("a valid pattern")
}

impl Palette {
    /// The palette called `name`, or None when this module does not colour it.
    pub fn new(name: &str) -> Option<Palette> {
        if name == "default" {
            let hue = hue_index("red")?;
            let semantic = Patterns {
                jit_start: ascii(&format!("^(?:{JAVA_START}|{JS_START})")),
                jit_anywhere: ascii(JIT_ANYWHERE),
                kernel_start: ascii(KERNEL_START),
                jit_hints: [
                    Finder::new(b":::"),
                    Finder::new(b"js"),
                    Finder::new(b"[perf-"),
                    Finder::new(b"jitted-"),
                    Finder::new(b"[JIT]"),
                ],
                kernel_module: Finder::new(KERNEL_MODULE),
                scope: Finder::new(b"::"),
            };
            return Some(Palette {
                semantic: Some(semantic),
                hue,
            });
        }
        hue_index(name).map(|hue| Palette {
            semantic: None,
            hue,
        })
    }

    /// True when this palette colours `name` (printable ASCII; the twin colours the rest).
    pub fn colours(&self, name: &[u8]) -> bool {
        plain(name)
    }

    /// The fill (r, g, b) of a frame called `name`, or None when the name is not printable
    /// ASCII (the twin colours it).
    pub fn fill(&self, name: &[u8]) -> Option<[u8; 3]> {
        if !plain(name) {
            return None;
        }
        let hue = match &self.semantic {
            Some(p) => p.hue(name),
            None => self.hue,
        };
        Some(rgb(hue, shades(strip_annotation(name))))
    }
}

/// True when every byte of `name` is printable ASCII (a name `text.visible` keeps as it is).
pub fn plain(name: &[u8]) -> bool {
    name.iter().all(|&b| (0x20..0x7f).contains(&b))
}

/// The annotation letter (`k`, `j`, `i`, `w` of `_[k]`...) that `name` ends with.
fn annotation(name: &[u8]) -> Option<u8> {
    match name {
        [.., b'_', b'[', c @ (b'k' | b'j' | b'i' | b'w'), b']'] => Some(*c),
        _ => None,
    }
}

fn strip_annotation(name: &[u8]) -> &[u8] {
    match annotation(name) {
        Some(_) => &name[..name.len() - 4],
        None => name,
    }
}

fn hue(name: &str) -> usize {
    hue_index(name).unwrap_or(0)
}

impl Patterns {
    /// palette.py's `_default`.
    fn hue(&self, name: &[u8]) -> usize {
        if let Some(letter) = annotation(name) {
            return hue(match letter {
                b'k' => "orange",
                b'j' => "green",
                _ => "aqua",
            });
        }
        if name.starts_with(OFF_CPU_PREFIX) {
            return hue("blue");
        }
        let might_be_jit = self.jit_hints.iter().any(|f| f.find(name).is_some());
        if self.jit_start.is_match(name) || (might_be_jit && self.jit_anywhere.is_match(name)) {
            return hue("green");
        }
        if self.kernel_module.find(name).is_some() || self.kernel_start.is_match(name) {
            return hue("orange");
        }
        if name.starts_with(b"py::") {
            return hue("green");
        }
        if self.scope.find(name).is_some() {
            return hue("yellow");
        }
        hue("red")
    }
}

/// Three shades in [0, 1) from the first 48 bits of the name's 6-byte BLAKE2b digest.
fn shades(name: &[u8]) -> [f64; 3] {
    let mut digest = [0u8; 6];
    let mut hasher = Blake2bVar::new(6).expect("6 is a valid BLAKE2b digest size");
    hasher.update(name);
    hasher
        .finalize_variable(&mut digest)
        .expect("the buffer has the digest's size");
    let part = |i: usize| f64::from(u16::from_be_bytes([digest[i], digest[i + 1]])) / 65536.0;
    [part(0), part(2), part(4)]
}

fn rgb(hue: usize, v: [f64; 3]) -> [u8; 3] {
    let channel = |(base, span, which): (u16, u16, usize)| {
        let value = f64::from(span) * v[which];
        (base + value as u16).min(255) as u8
    };
    let [r, g, b] = HUES[hue].1;
    [channel(r), channel(g), channel(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_hues() {
        let p = Palette::new("default").unwrap();
        let hue_of = |n: &[u8]| HUES[p.semantic.as_ref().unwrap().hue(n)].0;
        assert_eq!(hue_of(b"main"), "red");
        assert_eq!(hue_of(b"std::vec::Vec"), "yellow");
        assert_eq!(hue_of(b"schedule_[k]"), "orange");
        assert_eq!(hue_of(b"do_syscall_64"), "orange");
        assert_eq!(hue_of(b"java/lang/Thread.run"), "green");
        assert_eq!(hue_of(b"LazyCompile:foo"), "green");
        assert_eq!(hue_of(b"x [perf-12.map]"), "green");
        assert_eq!(hue_of(b"[off-cpu:S]"), "blue");
    }

    #[test]
    fn only_plain_names() {
        let p = Palette::new("red").unwrap();
        assert!(p.fill(b"caf\xc3\xa9").is_none());
        assert!(p.fill(b"a\tb").is_none());
        assert!(p.fill(b"main").is_some());
        assert!(Palette::new("java").is_none());
    }
}
