//! Frame lines of `perf script` (`\t  addr sym+0xoff (dso)`): the naming rules of
//! `foldkit/ingest/perf_frames.py`, for ASCII lines. A line holding other bytes is named by the
//! Python twin (Unicode whitespace and digits would otherwise differ), see [`is_plain_ascii`].

/// Naming options (the fields of `FoldOptions` that affect frame names).
#[derive(Clone, Debug, Default)]
pub struct NameOptions {
    pub kernel: bool,
    pub jit: bool,
    pub inline: bool,
    pub addrs: bool,
    pub demangle: bool,
}

/// One parsed frame line: address (may be empty), raw symbol and dso (None when not printed).
#[derive(Debug, PartialEq, Eq)]
pub struct FrameLine<'a> {
    pub pc: &'a [u8],
    pub sym: &'a [u8],
    pub dso: Option<&'a [u8]>,
}

/// True when every byte is printable ASCII or a tab: such lines are named natively.
pub fn is_plain_ascii(line: &[u8]) -> bool {
    let mut words = line.chunks_exact(8);
    for word in &mut words {
        if !is_plain_word(u64::from_le_bytes(word.try_into().expect("8 bytes"))) {
            return false;
        }
    }
    words
        .remainder()
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// [`is_plain_ascii`] of 8 bytes at once (no carry crosses bytes: each is below 0x80 when
/// the sums are taken).
#[inline]
fn is_plain_word(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES << 7;
    if w & HIGH != 0 {
        return false;
    }
    // 0x80 where the byte is at least 0x20 / is `c`
    let printable = (w | HIGH).wrapping_sub(ONES * 0x20) & HIGH;
    let equal = |c: u8| {
        let x = w ^ (ONES * u64::from(c));
        !((x + !HIGH) | x) & HIGH
    };
    (printable & !equal(0x7f)) | equal(b'\t') == HIGH
}

fn is_py_space(b: u8) -> bool {
    // str.isspace() for ASCII (lines reaching here are printable ASCII and tabs)
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f)
}

/// `str.strip()` for ASCII text.
pub fn strip(s: &[u8]) -> &[u8] {
    rstrip(lstrip(s))
}

fn lstrip(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_py_space(b)).unwrap_or(s.len());
    &s[start..]
}

fn rstrip(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&b| !is_py_space(b))
        .map_or(0, |i| i + 1);
    &s[..end]
}

/// Bytes of the whitespace character (`str.isspace()`) that `s` starts with, if any, reading `s`
/// as Python decodes it (UTF-8, undecodable bytes escaped: never whitespace).
fn leading_space(s: &[u8]) -> Option<usize> {
    let first = *s.first()?;
    let len = match first {
        0..=0x7f => return is_py_space(first).then_some(1),
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let c = std::str::from_utf8(s.get(..len)?).ok()?.chars().next()?;
    c.is_whitespace().then_some(len)
}

/// Bytes of the whitespace character that `s` ends with, if any (see [`leading_space`]): a
/// character decoded backwards from its lead byte is the one Python decodes there, since no
/// sequence decoded or escaped before it can take in a lead byte.
fn trailing_space(s: &[u8]) -> Option<usize> {
    let last = *s.last()?;
    if last < 0x80 {
        return is_py_space(last).then_some(1);
    }
    let lead = (s.len().saturating_sub(4)..s.len())
        .rev()
        .find(|&i| s[i] & 0xc0 != 0x80)?;
    let len = s.len() - lead;
    (leading_space(&s[lead..]) == Some(len)).then_some(len)
}

/// `str.strip()` of the text `s` decodes to (UTF-8 with surrogate escapes), as bytes: ASCII
/// whitespace as [`strip`] and the non-ASCII whitespace characters (`U+00A0`, `U+2003`, ...).
pub fn strip_decoded(s: &[u8]) -> &[u8] {
    let mut s = s;
    while let Some(n) = leading_space(s) {
        s = &s[n..];
    }
    while let Some(n) = trailing_space(s) {
        s = &s[..s.len() - n];
    }
    s
}

fn is_hex(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_hexdigit)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

/// Split a trailing ` (dso)` group (parentheses may nest: `(/x.so (deleted))`).
fn split_dso(text: &[u8]) -> (&[u8], Option<&[u8]>) {
    if text.last() != Some(&b')') {
        return (text, None);
    }
    let mut depth = 0i64;
    for i in (0..text.len()).rev() {
        match text[i] {
            b')' => depth += 1,
            b'(' => {
                depth -= 1;
                if depth == 0 {
                    if i == 0 {
                        return (&[], Some(&text[1..text.len() - 1]));
                    }
                    if text[i - 1] == b' ' {
                        return (&text[..i - 1], Some(&text[i + 1..text.len() - 1]));
                    }
                    return (text, None);
                }
            }
            _ => {}
        }
    }
    (text, None)
}

/// Parse a frame line; None if it is not one.
pub fn parse_frame_line(line: &[u8]) -> Option<FrameLine<'_>> {
    let text = strip(line);
    if text.is_empty() {
        return None;
    }
    let sp = text.iter().position(|&b| b == b' ');
    let first = &text[..sp.unwrap_or(text.len())];
    if let Some(sp) = sp {
        if is_hex(first) {
            let rest = &text[sp + 1..];
            let (sym, dso) = split_dso(rest);
            if !sym.is_empty() || dso.is_none() || rest.first() == Some(&b' ') {
                return Some(FrameLine {
                    pc: first,
                    sym: strip(sym),
                    dso,
                });
            }
        }
    } else if is_hex(first) && first.len() >= 4 {
        return Some(FrameLine {
            pc: first,
            sym: &[],
            dso: None,
        });
    }
    let (sym, dso) = split_dso(text);
    let dso = dso?;
    Some(FrameLine {
        pc: &[],
        sym: strip(sym),
        dso: Some(dso),
    })
}

/// True for kernel dsos: `[kernel.kallsyms]`, `[module]`, `vmlinux*`, `*.ko`.
pub fn is_kernel_dso(dso: &[u8]) -> bool {
    if dso.starts_with(b"[JIT") {
        return false;
    }
    if dso.starts_with(b"[") {
        return !contains(dso, b"unknown");
    }
    let base = base_name(dso);
    base.starts_with(b"vmlinux")
        || [&b".ko"[..], b".ko.xz", b".ko.zst", b".ko.gz"]
            .iter()
            .any(|s| base.ends_with(s))
}

fn base_name(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Length of a run of ASCII digits at the start of `s`.
fn digits(s: &[u8]) -> usize {
    s.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// True for JIT code: perf map files (`/tmp/perf-PID.map`), jitdump dsos (`jitted-PID-N.so`).
pub fn is_jit_dso(dso: &[u8]) -> bool {
    if dso.starts_with(b"[JIT") {
        return true;
    }
    // /tmp/perf-\d+\.map anywhere
    let mut from = 0;
    while let Some(i) = find(&dso[from..], b"/tmp/perf-") {
        let at = from + i + b"/tmp/perf-".len();
        let n = digits(&dso[at..]);
        if n > 0 && dso[at + n..].starts_with(b".map") {
            return true;
        }
        from = from + i + 1;
    }
    // jitted-\d+-\d+\.so at the end
    if let Some(stem) = dso.strip_suffix(b".so") {
        let n2 = stem.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        if n2 > 0 {
            let stem = &stem[..stem.len() - n2];
            if let Some(stem) = stem.strip_suffix(b"-") {
                let n1 = stem.iter().rev().take_while(|b| b.is_ascii_digit()).count();
                if n1 > 0 && stem[..stem.len() - n1].ends_with(b"jitted-") {
                    return true;
                }
            }
        }
    }
    false
}

/// `\.\(\*?[^()]*\)\.` matched at `p`.
fn go_method_at(name: &[u8], p: usize) -> bool {
    if name.get(p) != Some(&b'.') || name.get(p + 1) != Some(&b'(') {
        return false;
    }
    match name[p + 2..].iter().position(|&b| b == b'(' || b == b')') {
        Some(j) => {
            let j = p + 2 + j;
            name[j] == b')' && name.get(j + 1) == Some(&b'.')
        }
        None => false,
    }
}

fn go_method_anywhere(name: &[u8]) -> bool {
    (0..name.len()).any(|p| go_method_at(name, p))
}

/// Index just after the parenthesised group opening at `name[i]`, or None if it never closes.
fn skip_group(name: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0i64;
    for (j, &c) in name.iter().enumerate().skip(i) {
        if c == b'(' {
            depth += 1;
        } else if c == b')' {
            depth -= 1;
            if depth == 0 {
                return Some(j + 1);
            }
        }
    }
    None
}

/// Drop a function's argument list, keeping `(anonymous namespace)`, Go `.(*T).` methods,
/// `operator()`, and parentheses inside templates `<...>` or lambdas `{...}`.
pub fn cut_arguments(name: &[u8]) -> &[u8] {
    if !name.contains(&b'(') {
        return name;
    }
    if go_method_anywhere(name) && name.last() != Some(&b')') {
        return name;
    }
    let mut depth = 0i64;
    let mut i = 0;
    let n = name.len();
    while i < n {
        let c = name[i];
        if matches!(c, b'<' | b'{' | b'[') {
            depth += 1;
        } else if matches!(c, b'>' | b'}' | b']') {
            if depth > 0 && !(c == b'>' && i > 0 && name[i - 1] == b'-') {
                depth -= 1;
            }
        } else if c == b'(' && depth == 0 {
            const ANON: &[u8] = b"(anonymous namespace)";
            if name[i..].starts_with(ANON) {
                i += ANON.len();
                continue;
            }
            if i > 0 && name[i - 1] == b'.' && go_method_at(name, i - 1) {
                i = skip_group(name, i).unwrap_or(n);
                continue;
            }
            if name[..i].ends_with(b"operator") && name[i..].starts_with(b"()") {
                i += 2;
                continue;
            }
            if let Some(end) = skip_group(name, i) {
                if name[end..].starts_with(b"::") {
                    i = end;
                    continue;
                }
            }
            return rstrip(&name[..i]);
        }
        i += 1;
    }
    name
}

/// Strip one trailing `+0x<hex>` (the offset into the symbol).
fn strip_offset(sym: &[u8]) -> &[u8] {
    if let Some(i) = sym.windows(3).rposition(|w| w == b"+0x") {
        if is_hex(&sym[i + 3..]) {
            return &sym[..i];
        }
    }
    sym
}

fn remove_bytes(s: &[u8], drop: &[u8]) -> Vec<u8> {
    s.iter().copied().filter(|b| !drop.contains(b)).collect()
}

/// Names for one parsed frame, joined caller-first with `;` (an `a->b` inline chain gives `a;b_[i]`).
pub fn frame_names(frame: &FrameLine<'_>, java: bool, opts: &NameOptions) -> Vec<u8> {
    let dso = frame.dso.unwrap_or(b"");
    let raw = strip_offset(frame.sym);
    let tidied;
    let raw = if opts.demangle {
        tidied = crate::demangle::demangle_symbol(raw);
        &tidied[..]
    } else {
        tidied = crate::demangle::tidy_rust(raw);
        &tidied[..]
    };
    let inlined = dso == b"inlined";
    let mut out: Vec<u8> = Vec::with_capacity(raw.len() + 8);
    let mut rest = raw;
    let mut index = 0;
    loop {
        let (func_raw, next) = match find(rest, b"->") {
            Some(i) => (&rest[..i], Some(&rest[i + 2..])),
            None => (rest, None),
        };
        if index > 0 {
            out.push(b';');
        }
        let start = out.len();
        if func_raw == b"[unknown]" || func_raw.is_empty() {
            let label: &[u8] = if !dso.is_empty() && dso != b"[unknown]" && dso != b"inlined" {
                base_name(dso.strip_suffix(b" (deleted)").unwrap_or(dso))
            } else {
                b"unknown"
            };
            out.push(b'[');
            out.extend_from_slice(label);
            if opts.addrs && !frame.pc.is_empty() {
                out.extend_from_slice(b" <");
                out.extend_from_slice(frame.pc);
                out.push(b'>');
            }
            out.push(b']');
        } else {
            let semi: Vec<u8> = func_raw
                .iter()
                .map(|&b| if b == b';' { b':' } else { b })
                .collect();
            let cut = cut_arguments(&semi);
            let mut func = remove_bytes(cut, b"\"'");
            if java && func.contains(&b'/') && func.first() == Some(&b'L') {
                func.remove(0);
            }
            out.extend_from_slice(&func);
        }
        let func = &out[start..];
        if index > 0 || (inlined && opts.inline) {
            if !func.ends_with(b"_[i]") {
                out.extend_from_slice(b"_[i]");
            }
        } else if opts.kernel && !dso.is_empty() && is_kernel_dso(dso) {
            out.extend_from_slice(b"_[k]");
        } else if opts.jit && !dso.is_empty() && is_jit_dso(dso) && !func.ends_with(b"_[j]") {
            out.extend_from_slice(b"_[j]");
        }
        index += 1;
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    out
}

/// The names of a frame line joined caller-first, or None when the line is no frame.
pub fn name_line(line: &[u8], java: bool, opts: &NameOptions) -> Option<Vec<u8>> {
    parse_frame_line(line).map(|f| frame_names(&f, java, opts))
}

/// True for a line in perf's usual `\t%16lx sym (dso)` layout; its name (without `--addrs`) then
/// depends only on the text after the address column, `line[18..]`.
#[inline]
pub fn has_address_column(line: &[u8]) -> bool {
    let Some(head) = line.get(..19) else {
        return false;
    };
    if head[17] != b' ' || matches!(head[18], b'(' | b' ') {
        return false;
    }
    let word = |at: usize| u64::from_le_bytes(head[at..at + 8].try_into().expect("8 bytes"));
    is_padded_hex(word(1), word(9))
}

/// The 16 bytes (`lo`'s first byte first) are spaces, then at least one hex digit, then hex
/// digits only: checked a word at a time, as this runs for every frame line.
#[inline]
fn is_padded_hex(lo: u64, hi: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES << 7;
    if (lo | hi) & HIGH != 0 {
        return false;
    }
    // per byte (all < 0x80, so no carry crosses bytes): 0x80 where the byte is >= c
    let at_least = |x: u64, c: u8| x.wrapping_add(ONES * u64::from(0x80 - c)) & HIGH;
    // 0x80 where the byte is a space / a hex digit
    let space = |w: u64| {
        let x = w ^ (ONES * u64::from(b' '));
        !((x + !HIGH) | x) & HIGH
    };
    let hex = |w: u64| {
        let folded = w | (ONES * 0x20);
        (at_least(w, b'0') & !at_least(w, b'9' + 1))
            | (at_least(folded, b'a') & !at_least(folded, b'f' + 1))
    };
    let (space_lo, space_hi) = (space(lo), space(hi));
    if (space_lo | hex(lo)) != HIGH || (space_hi | hex(hi)) != HIGH {
        return false;
    }
    // spaces as 0xff bytes: a run from the first byte on, not all 16
    let (run_lo, run_hi) = ((space_lo >> 7) * 0xff, (space_hi >> 7) * 0xff);
    if run_lo & run_lo.wrapping_add(1) != 0 {
        return false;
    }
    match run_hi {
        0 => true,
        u64::MAX => false,
        _ => run_lo == u64::MAX && run_hi & (run_hi + 1) == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strip_decoded_strips_what_python_strips() {
        let cases: [(&[u8], &[u8]); 8] = [
            ("\u{a0}\u{2003} x y\u{3000}\x1c".as_bytes(), b"x y"),
            ("\u{85}caf\u{e9}\u{2029}".as_bytes(), "caf\u{e9}".as_bytes()),
            (b"\xc2 x \xc2", b"\xc2 x \xc2"), // lone lead bytes: escaped, not blank
            (b"\xa0x\xe2\x80", b"\xa0x\xe2\x80"), // a lone continuation, a cut sequence
            ("\u{2020}".as_bytes(), "\u{2020}".as_bytes()), // a dagger, no space
            (b"x\xe2\xc2\xa0", b"x\xe2"),     // a space after an escaped byte
            (b"\xe0\x80\xa0x", b"\xe0\x80\xa0x"), // an overlong space: escaped bytes
            (b" \t\n", b""),
        ];
        for (text, want) in cases {
            assert_eq!(strip_decoded(text), want, "{text:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn plain_ascii_is_found_as_plainly_written(
            line in proptest::collection::vec(
                prop_oneof![Just(b' '), Just(b'\t'), Just(b'a'), Just(0x1fu8), Just(0x7eu8),
                    Just(0x7fu8), Just(0x80u8), Just(0x09u8), Just(0x0au8), any::<u8>()],
                0..40,
            ),
        ) {
            let plain = line.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b));
            prop_assert_eq!(is_plain_ascii(&line), plain);
        }
    }

    /// [`has_address_column`] written plainly.
    fn has_address_column_plain(line: &[u8]) -> bool {
        if line.len() < 19 || line[17] != b' ' || matches!(line[18], b'(' | b' ') {
            return false;
        }
        let column = &line[1..17];
        let start = column.iter().position(|&b| b != b' ').unwrap_or(16);
        is_hex(&column[start..])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn address_columns_are_found_as_plainly_written(
            column in proptest::collection::vec(
                prop_oneof![Just(b' '), Just(b'0'), Just(b'9'), Just(b'a'), Just(b'f'), Just(b'F'),
                    Just(b'g'), Just(b'/'), Just(b':'), Just(b'@'), Just(b'`'), Just(0xe9u8), any::<u8>()],
                16..=16,
            ),
            pad in 0usize..16,
            after in prop_oneof![Just(b"x".to_vec()), Just(b"(".to_vec()), Just(b" ".to_vec()), Just(Vec::new())],
        ) {
            let mut line = b"\t".to_vec();
            line.extend(std::iter::repeat_n(b' ', pad));
            line.extend_from_slice(&column[pad..]);
            line.push(b' ');
            line.extend_from_slice(&after);
            prop_assert_eq!(has_address_column(&line), has_address_column_plain(&line));
        }
    }

    fn named(line: &str, opts: &NameOptions) -> Option<String> {
        name_line(line.as_bytes(), false, opts).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn frames_are_named_like_the_python_twin() {
        let o = NameOptions::default();
        let all = NameOptions {
            kernel: true,
            jit: true,
            inline: true,
            ..o.clone()
        };
        assert_eq!(
            named(
                "\tffffffff815d6c20 mod_lruvec_state+0x20 ([kernel.kallsyms])",
                &all
            )
            .unwrap(),
            "mod_lruvec_state_[k]"
        );
        assert_eq!(
            named("\t    7f1e2215d0c0  (/lib/libc-2.15.so)", &o).unwrap(),
            "[libc-2.15.so]"
        );
        assert_eq!(
            named(
                "\t40a1b2 work::run<(anonymous namespace)::Shape>(int)+0x12 (/tmp/t)",
                &o
            )
            .unwrap(),
            "work::run<(anonymous namespace)::Shape>"
        );
        assert_eq!(
            named(
                "\t7f LCounter;::countTo->LFoo;::bar+0x50 (/tmp/perf-1234.map)",
                &all
            )
            .unwrap(),
            "LCounter:::countTo_[j];LFoo:::bar_[i]"
        );
        assert_eq!(
            named(
                "\t1a2b JS:*regexPhase /tmp/w.js:24:20+0x548 (/tmp/jd/jitted-32340-2183.so)",
                &all
            )
            .unwrap(),
            "JS:*regexPhase /tmp/w.js:24:20_[j]"
        );
        assert_eq!(
            named(
                "\t    7f12aa000000 [unknown] (/memfd:sealed-9117 (deleted))",
                &o
            )
            .unwrap(),
            "[memfd:sealed-9117]"
        );
        assert_eq!(named("THIS_IS_NOT_A_FRAME", &o), None);
        assert_eq!(named("\tdeadbeef", &o).unwrap(), "[unknown]");
        assert_eq!(
            named("\tmain.(*T).run(0x1)+0x1 (/x)", &o).unwrap(),
            "main.(*T).run"
        );
        assert_eq!(
            named("\tf()::{lambda(int)#1}::operator()(int) const+0x9 (/x)", &o).unwrap(),
            "f()::{lambda(int)#1}::operator()"
        );
    }

    #[test]
    fn address_column() {
        assert!(has_address_column(b"\tffffffff815d6c20 x (y)"));
        assert!(has_address_column(b"\t          40a1b2 x (y)"));
        assert!(!has_address_column(b"\t                x (y)"));
        assert!(!has_address_column(b"\t   ab cd 7f1e2215 x"));
        assert!(!has_address_column(b"\tffffffff815d6c20  (y)"));
    }
}
