//! Frame-name rules of `foldkit/ingest/bpf_frames.py` and the bpftrace frame namer
//! (`bpftrace.FrameNamer`), for lines of printable ASCII (the caller names the others with the
//! Python twin).

use std::sync::OnceLock;

use regex::bytes::Regex;

use crate::perf::frames::{parse_frame_line, strip};

/// Frame of an entry whose stacks are all empty (`bpf_frames.NO_STACK`).
pub const NO_STACK: &[u8] = b"[no stack]";
/// Frame of an unresolved address (`bpf_frames.UNKNOWN`).
pub const UNKNOWN: &[u8] = b"[unknown]";
/// Suffix of kernel frames.
pub const KERNEL_SUFFIX: &[u8] = b"_[k]";
/// Suffix of inlined frames.
pub const INLINE_SUFFIX: &[u8] = b"_[i]";

/// `bpf_frames.KERNEL_NAME`, whole names only.
const KERNEL_NAME: &str = concat!(
    r"^(?:",
    r"entry_SYSCALL\w*|entry_SYSENTER\w*|entry_INT80\w*|system_call\w*|",
    r"do_syscall_(?:64|32\w*)|x64_sys_call|__x64_sys_\w+|__ia32_sys_\w+|__arm64_sys_\w+|",
    r"__do_sys_\w+|__se_sys_\w+|ksys_\w+|syscall_exit_to_user_mode\w*|",
    r"asm_\w+|sysvec_\w+|__sysvec_\w+|irqentry_\w+|__irq_exit_rcu|irq_exit_rcu|handle_softirqs|",
    r"__do_softirq|exc_page_fault|do_user_addr_fault|ret_from_intr|common_interrupt|",
    r"ret_from_fork(?:_asm)?|kthread|worker_thread|smpboot_thread_fn|",
    r"secondary_startup_64\w*|common_startup_64|start_kernel|x86_64_start_\w+|start_secondary|",
    r"cpu_startup_entry|do_idle|default_idle\w*|pv_native_safe_halt|native_safe_halt|",
    r"__schedule|schedule_hrtimeout\w*|finish_task_switch(?:\.\w+)*|",
    r"bpf_prog_[0-9a-f]{16}_\w*|bpf_trace_run\d+|",
    r"el0t_64_\w+|el1h_64_\w+|el0_svc\w*|el0_da|el0_ia|__secondary_switched|secondary_start_kernel|",
    r"\[Missed Kernel Stack\]",
    r")(?:\+(?:0x[0-9a-fA-F]+|\d+))?(?:_\[k\])?$"
);

/// `bpftrace._USER_NAME` (matched at the start).
const USER_NAME: &str = r"^(?:(?:JS:|Builtins_)|.*(?:::|\(|\s|@plt|\.so\b|\[clone)|(?:_start|main|__libc_start\w*|start_thread|clone3?|_dl_\w+)$)";

/// `bpftrace._BPFTRACE_FRAME`, whole text (what [`bpftrace_symbol`] does, tested against it).
#[cfg(test)]
const BPFTRACE_FRAME: &str = r"^(\[inlined\] )?(.*?)(\+(?:0x[0-9a-fA-F]+|\d+))?(?:@[^@\s]*:\d+)?$";

struct Patterns {
    kernel: Regex,
    user: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        kernel: Regex::new(&python_classes(KERNEL_NAME)).expect("kernel names"),
        user: Regex::new(&format!("(?-u){USER_NAME}")).expect("user names"),
    })
}

/// `pattern` with Python's Unicode `\w` and `\d` (bytes that are not UTF-8 match neither, as
/// the surrogate escapes Python has for them do not).
pub fn python_classes(pattern: &str) -> String {
    pattern
        .replace(r"\w", r"[\p{L}\p{N}_]")
        .replace(r"\d", r"\p{Nd}")
}

/// `bpf_frames.strip_offset`: `foo+123` / `foo+0x7b` -> `foo`.
pub fn strip_offset(sym: &[u8]) -> &[u8] {
    let Some(plus) = sym.iter().rposition(|&b| b == b'+') else {
        return sym;
    };
    let tail = &sym[plus + 1..];
    let hex = tail
        .strip_prefix(b"0x")
        .is_some_and(|h| !h.is_empty() && h.iter().all(u8::is_ascii_hexdigit));
    let dec = !tail.is_empty() && tail.iter().all(u8::is_ascii_digit);
    if hex || dec {
        &sym[..plus]
    } else {
        sym
    }
}

/// `bpf_frames.tidy`: offset stripped, `;` made `:`.
pub fn tidy(sym: &[u8]) -> Vec<u8> {
    strip_offset(strip(sym))
        .iter()
        .map(|&b| if b == b';' { b':' } else { b })
        .collect()
}

/// `bpf_frames.parse_address` then `is_kernel_address`: None when `text` is no hex address,
/// else whether it is in the kernel half (at or above 0xffff000000000000).
pub fn address_kind(text: &[u8]) -> Option<bool> {
    let digits = text.strip_prefix(b"0x").filter(|d| !d.is_empty());
    let digits = match digits {
        Some(d) if d.iter().all(u8::is_ascii_hexdigit) => d,
        _ if !text.is_empty() && text.iter().all(u8::is_ascii_hexdigit) => text,
        _ => return None,
    };
    let significant = &digits[digits
        .iter()
        .position(|&b| b != b'0')
        .unwrap_or(digits.len())..];
    if significant.len() != 16 {
        return Some(significant.len() > 16);
    }
    Some(significant[..4].eq_ignore_ascii_case(b"ffff"))
}

/// `bpf_frames.unresolved`: `[module]` or `[unknown]`, with `<addr>` when `addrs`.
pub fn unresolved(address: &[u8], addrs: bool, module: Option<&[u8]>) -> Vec<u8> {
    let base = match module {
        Some(m) if !m.is_empty() && m != b"[unknown]" && m != b"unknown" => {
            &m[m.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1)..]
        }
        _ => b"unknown".as_slice(),
    };
    let mut out = Vec::with_capacity(base.len() + address.len() + 5);
    out.push(b'[');
    out.extend_from_slice(base);
    if addrs && !address.is_empty() {
        out.extend_from_slice(b" <");
        out.extend_from_slice(address.strip_prefix(b"0x").unwrap_or(address));
        out.push(b'>');
    }
    out.push(b']');
    out
}

/// `bpf_frames.is_kernel_name`.
pub fn is_kernel_name(name: &[u8]) -> bool {
    name.ends_with(KERNEL_SUFFIX) || patterns().kernel.is_match(name)
}

/// `bpf_frames.annotate_kernel`: `name_[k]` (once).
pub fn annotate_kernel(name: &mut Vec<u8>) {
    if !name.ends_with(KERNEL_SUFFIX) {
        name.extend_from_slice(KERNEL_SUFFIX);
    }
}

/// `bpf_frames.cut_after`: the frames from the leafmost one named in `names` (or its `_[k]`
/// form), after the first `keep` root frames; all when none is.
pub fn cut_after<'a>(frames: &[&'a [u8]], names: &[Vec<u8>], keep: usize) -> Option<Vec<&'a [u8]>> {
    if names.is_empty() {
        return None;
    }
    for i in (keep..frames.len()).rev() {
        let name = frames[i];
        let bare = name.strip_suffix(KERNEL_SUFFIX).unwrap_or(name);
        if names
            .iter()
            .any(|n| n.as_slice() == name || n.as_slice() == bare)
        {
            let mut out = frames[..keep].to_vec();
            out.extend_from_slice(&frames[i..]);
            return Some(out);
        }
    }
    None
}

/// A bpftrace stack mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    Bpftrace,
    Perf,
    Raw,
}

impl Mode {
    /// The mode's name as the Python twin says it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Bpftrace => "bpftrace",
            Mode::Perf => "perf",
            Mode::Raw => "raw",
        }
    }

    /// The mode of a name (`bpftrace`, `perf`, `raw`).
    pub fn from_name(name: &str) -> Option<Mode> {
        match name {
            "bpftrace" => Some(Mode::Bpftrace),
            "perf" => Some(Mode::Perf),
            "raw" => Some(Mode::Raw),
            _ => None,
        }
    }
}

/// One frame line named (`bpftrace.Frame`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub name: Vec<u8>,
    /// +1 kernel, -1 user, 0 no evidence
    pub evidence: i8,
    pub inlined: bool,
    pub mode: Mode,
    /// the evidence came from the frame's address
    pub exact: bool,
}

fn evidence_of(kernel: bool) -> i8 {
    if kernel {
        1
    } else {
        -1
    }
}

fn is_unresolved(text: &[u8]) -> bool {
    text.strip_prefix(b"0x")
        .is_some_and(|h| !h.is_empty() && h.iter().all(u8::is_ascii_hexdigit))
}

fn address_frame(text: &[u8], mode: Mode, addrs: bool, module: Option<&[u8]>) -> Frame {
    let kind = address_kind(text);
    Frame {
        name: unresolved(&text.to_ascii_lowercase(), addrs, module),
        evidence: kind.map_or(0, evidence_of),
        inlined: false,
        mode,
        exact: kind.is_some(),
    }
}

fn perf_mode(line: &[u8], addrs: bool) -> Option<Frame> {
    let parsed = parse_frame_line(line)?;
    let (pc, sym, module) = (parsed.pc, parsed.sym, parsed.dso);
    let inlined = module == Some(b"inlined".as_slice());
    let kind = if pc.is_empty() {
        None
    } else {
        address_kind(pc)
    };
    let evidence = match kind {
        Some(k) => evidence_of(k),
        None => evidence_of(module.is_none()),
    };
    let exact = kind.is_some();
    if sym.is_empty() || sym == UNKNOWN || is_unresolved(sym) {
        let text = if pc.is_empty() { sym } else { pc };
        let frame = address_frame(text, Mode::Perf, addrs, if inlined { None } else { module });
        return Some(Frame {
            name: frame.name,
            evidence,
            inlined: false,
            mode: Mode::Perf,
            exact,
        });
    }
    let mut name = tidy(sym);
    if name.is_empty() {
        name = UNKNOWN.to_vec();
    }
    Some(Frame {
        name,
        evidence,
        inlined,
        mode: Mode::Perf,
        exact,
    })
}

/// True for `@[^@\s]*:\d+` in full, or nothing.
fn debug_info(r: &[u8]) -> bool {
    let Some(body) = r.strip_prefix(b"@") else {
        return r.is_empty();
    };
    if body
        .iter()
        .any(|&b| b == b'@' || b.is_ascii_whitespace() || (0x1c..=0x1f).contains(&b))
    {
        return false;
    }
    body.iter()
        .rposition(|&b| b == b':')
        .is_some_and(|j| j + 1 < body.len() && body[j + 1..].iter().all(u8::is_ascii_digit))
}

/// True for `(\+(?:0x[0-9a-fA-F]+|\d+))?(?:@[^@\s]*:\d+)?` in full.
fn offset_and_debug_info(r: &[u8]) -> bool {
    let Some(off) = r.strip_prefix(b"+") else {
        return debug_info(r);
    };
    if let Some(hex) = off.strip_prefix(b"0x") {
        let n = hex.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if n > 0 && debug_info(&hex[n..]) {
            return true;
        }
    }
    let n = off.iter().take_while(|b| b.is_ascii_digit()).count();
    n > 0 && debug_info(&off[n..])
}

/// `bpftrace._BPFTRACE_FRAME` in full on ASCII `text`: (inlined, symbol), the symbol being the
/// shortest start after which an offset and debug info (each optional) end the text.
pub fn bpftrace_symbol(text: &[u8]) -> (bool, &[u8]) {
    let (inlined, rest) = match text.strip_prefix(b"[inlined] ") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let end = (0..rest.len())
        .find(|&k| matches!(rest[k], b'+' | b'@') && offset_and_debug_info(&rest[k..]))
        .unwrap_or(rest.len());
    (inlined, &rest[..end])
}

/// `bpftrace.FrameNamer._name` of a line of printable ASCII and tabs.
pub fn name_bpftrace_line(line: &[u8], addrs: bool) -> Frame {
    if line.first() == Some(&b'\t') {
        let hex = line[1..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if hex > 0 && line.get(1 + hex) == Some(&b' ') {
            if let Some(frame) = perf_mode(line, addrs) {
                return frame;
            }
        }
    }
    if !line.is_empty() && line[0] != b' ' && line.iter().all(u8::is_ascii_hexdigit) {
        let kernel = address_kind(line).unwrap_or(false);
        let mut name = b"0x".to_vec();
        name.extend(line.iter().map(u8::to_ascii_lowercase));
        return Frame {
            name,
            evidence: evidence_of(kernel),
            inlined: false,
            mode: Mode::Raw,
            exact: true,
        };
    }
    let text = strip(line);
    if is_unresolved(text) {
        return address_frame(text, Mode::Bpftrace, addrs, None);
    }
    let (inlined, sym) = bpftrace_symbol(text);
    let mut name = tidy(sym);
    if name.is_empty() {
        name = UNKNOWN.to_vec();
    }
    let evidence = if is_kernel_name(&name) {
        1
    } else if patterns().user.is_match(&name) {
        -1
    } else {
        0
    };
    Frame {
        name,
        evidence,
        inlined,
        mode: Mode::Bpftrace,
        exact: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(line: &str) -> (String, i8, bool, Mode, bool) {
        let f = name_bpftrace_line(line.as_bytes(), false);
        (
            String::from_utf8(f.name).unwrap(),
            f.evidence,
            f.inlined,
            f.mode,
            f.exact,
        )
    }

    #[test]
    fn names_each_mode() {
        assert_eq!(
            named("    do_nanosleep+1"),
            ("do_nanosleep".into(), 0, false, Mode::Bpftrace, false)
        );
        assert_eq!(named("        entry_SYSCALL_64_after_hwframe+68").1, 1);
        assert_eq!(named("    std::vector<int>::push(int)+3").1, -1);
        assert_eq!(named("    [inlined] foo@/x/y.c:14").0, "foo");
        assert!(named("    [inlined] foo@/x/y.c:14").2);
        assert_eq!(
            named("    0x7f12ab"),
            ("[unknown]".into(), -1, false, Mode::Bpftrace, true)
        );
        assert_eq!(
            named("ffffffff81000010"),
            ("0xffffffff81000010".into(), 1, false, Mode::Raw, true)
        );
        assert_eq!(
            named("\t7f2724ec8c91 0x7f2724ec8c91 ([unknown])"),
            ("[unknown]".into(), -1, false, Mode::Perf, true)
        );
        assert_eq!(
            named("\t7faa1e35a1f3 malloc_consolidate+179 (/usr/lib/libc.so.6)").0,
            "malloc_consolidate"
        );
        assert_eq!(named("    a;b+0x1f").0, "a:b");
    }

    #[test]
    fn symbols_as_the_pattern_finds_them() {
        let frame = Regex::new(&format!("(?-u){BPFTRACE_FRAME}")).unwrap();
        let pieces = [
            "f",
            "+",
            "0x",
            "1f",
            "12",
            "@",
            ":",
            "a.c",
            " ",
            "[inlined] ",
            "g",
            "@x:3",
            "z",
        ];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for t in &texts {
                for p in pieces {
                    next.push(format!("{t}{p}"));
                }
            }
            texts.extend(next);
            texts.dedup();
        }
        for t in &texts {
            let caps = frame.captures(t.as_bytes()).unwrap();
            let want = (
                caps.get(1).is_some(),
                caps.get(2).map_or(&b""[..], |m| m.as_bytes()),
            );
            assert_eq!(bpftrace_symbol(t.as_bytes()), want, "{t:?}");
        }
    }

    #[test]
    fn addresses_and_offsets() {
        assert_eq!(address_kind(b"0xffff000000000000"), Some(true));
        assert_eq!(address_kind(b"fffeffffffffffff"), Some(false));
        assert_eq!(address_kind(b"0x"), None);
        assert_eq!(address_kind(b"1ffff000000000000"), Some(true));
        assert_eq!(strip_offset(b"f+0x1g"), b"f+0x1g");
        assert_eq!(strip_offset(b"f+12"), b"f");
        assert_eq!(
            unresolved(b"0x7f", true, Some(b"/lib/x.so")),
            b"[x.so <7f>]"
        );
    }
}
