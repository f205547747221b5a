//! Symbol names: tidying Rust names that perf printed half demangled (by default), and full
//! demangling of mangled C++ (`_Z…`) and Rust (legacy and v0) names (`--demangle`).

use std::borrow::Cow;

/// Length of a Rust legacy hash suffix, `::h` and 16 hex digits.
const HASH_LEN: usize = 3 + 16;

fn strip_rust_hash(sym: &[u8]) -> Option<&[u8]> {
    if sym.len() <= HASH_LEN {
        return None;
    }
    let (head, tail) = sym.split_at(sym.len() - HASH_LEN);
    let is_hash = tail.starts_with(b"::h")
        && tail[3..]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
    is_hash.then_some(head)
}

/// The character a Rust legacy `$…$` escape stands for (`LT` → `<`, `u7b` → `{`).
fn escape_char(code: &[u8]) -> Option<char> {
    Some(match code {
        b"SP" => '@',
        b"BP" => '*',
        b"RF" => '&',
        b"LT" => '<',
        b"GT" => '>',
        b"LP" => '(',
        b"RP" => ')',
        b"C" => ',',
        _ => {
            let hex = code.strip_prefix(b"u")?;
            if hex.is_empty() || hex.len() > 6 || !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let value = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            let c = char::from_u32(value)?;
            if c.is_control() {
                return None;
            }
            c
        }
    })
}

/// Replace every complete `$…$` escape; None when the name holds none.
fn unescape(sym: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(sym.len());
    let mut found = false;
    let mut i = 0;
    while i < sym.len() {
        if sym[i] == b'$' {
            if let Some(len) = sym[i + 1..].iter().take(8).position(|&b| b == b'$') {
                if let Some(c) = escape_char(&sym[i + 1..i + 1 + len]) {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += len + 2;
                    found = true;
                    continue;
                }
            }
        }
        out.push(sym[i]);
        i += 1;
    }
    found.then_some(out)
}

/// A Rust symbol that perf printed half demangled, tidied: `$LT$T$GT$` → `<T>`,
/// `_$u7b$$u7b$closure$u7d$$u7d$` → `{{closure}}`, `..` → `::`, the `::h0123456789abcdef` hash
/// dropped. Other names are returned unchanged.
pub fn tidy_rust(sym: &[u8]) -> Cow<'_, [u8]> {
    let unhashed = strip_rust_hash(sym);
    let base = unhashed.unwrap_or(sym);
    if !base.contains(&b'$') {
        return match unhashed {
            Some(h) => Cow::Borrowed(h),
            None => Cow::Borrowed(sym),
        };
    }
    if unescape(base).is_none() {
        return match unhashed {
            Some(h) => Cow::Borrowed(h),
            None => Cow::Borrowed(sym),
        };
    }
    // `_$` starts a path segment whose identifier begins with an escape
    let mut segments: Vec<u8> = Vec::with_capacity(base.len());
    let mut i = 0;
    while i < base.len() {
        if base[i..].starts_with(b"..") {
            segments.extend_from_slice(b"::");
            i += 2;
            continue;
        }
        let at_segment_start =
            i == 0 || matches!(segments.last(), Some(b':') | Some(b'<') | Some(b' '));
        if at_segment_start && base[i..].starts_with(b"_$") {
            i += 1;
            continue;
        }
        segments.push(base[i]);
        i += 1;
    }
    Cow::Owned(unescape(&segments).unwrap_or(segments))
}

/// A symbol demangled when it is a mangled C++ (`_Z…`) or Rust (legacy `_ZN…E`, v0 `_R…`) name,
/// else tidied as [`tidy_rust`] does. Rust hashes are dropped; C++ argument lists are kept (the
/// caller cuts them as it does for names perf demangled).
pub fn demangle_symbol(sym: &[u8]) -> Cow<'_, [u8]> {
    if let Some(name) = demangle_mangled(sym) {
        return Cow::Owned(name.into_bytes());
    }
    tidy_rust(sym)
}

fn demangle_mangled(sym: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(sym).ok()?;
    let stripped = text.trim_start_matches('_');
    if !(stripped.starts_with('Z') || stripped.starts_with('R')) {
        return None;
    }
    if let Ok(d) = rustc_demangle::try_demangle(text) {
        return Some(format!("{d:#}"));
    }
    if text.starts_with("_Z") {
        // a demangler bug on hostile input must not take the process down: keep the name
        let demangled = std::panic::catch_unwind(|| {
            let symbol = cpp_demangle::Symbol::new(text).ok()?;
            symbol
                .demangle(&cpp_demangle::DemangleOptions::new().no_return_type())
                .ok()
        });
        return demangled.ok().flatten().map(|name| gnu_literals(&name));
    }
    None
}

/// Integer literal types that GNU's demangler (perf, `c++filt`) spells with a suffix, where
/// `cpp_demangle` writes a cast: `(unsigned long)32` is `32ul`. Longest type names first.
const LITERAL_SUFFIXES: [(&str, &str); 5] = [
    ("(unsigned long long)", "ull"),
    ("(unsigned long)", "ul"),
    ("(unsigned int)", "u"),
    ("(long long)", "ll"),
    ("(long)", "l"),
];

/// `name` with integer literals of the types in [`LITERAL_SUFFIXES`] spelled as GNU's
/// demangler spells them (`mix<(long)-3, (unsigned int)7>` → `mix<-3l, 7u>`), so names that
/// foldkit demangles equal the names perf demangled. Literals of other types (`(char)65`,
/// `(short)-4`) are spelled alike by both.
pub fn gnu_literals(name: &str) -> String {
    if !name.contains(')') {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let literal = LITERAL_SUFFIXES.iter().find_map(|&(cast, suffix)| {
            let after = rest.strip_prefix(cast)?;
            let sign = usize::from(after.starts_with('-'));
            let digits = after[sign..].bytes().take_while(u8::is_ascii_digit).count();
            let end = sign + digits;
            let next = after[end..].chars().next();
            let ends = !next.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
            (digits > 0 && ends).then(|| (&after[..end], suffix, cast.len() + end))
        });
        match literal {
            Some((number, suffix, len)) => {
                out.push_str(number);
                out.push_str(suffix);
                rest = &rest[len..];
            }
            None => {
                out.push('(');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(name: Cow<'_, [u8]>) -> String {
        String::from_utf8(name.into_owned()).unwrap()
    }

    fn tidy(s: &str) -> String {
        text(tidy_rust(s.as_bytes()))
    }

    fn dem(s: &str) -> String {
        text(demangle_symbol(s.as_bytes()))
    }

    #[test]
    fn rust_names_are_tidied() {
        let cases = [
            ("std::rt::lang_start::_$u7b$$u7b$closure$u7d$$u7d$::h0123456789abcdef", "std::rt::lang_start::{{closure}}"),
            ("_$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$core..ops..Drop$GT$::drop::h3ab4e1c5e3a0b2c1", "<alloc::vec::Vec<T> as core::ops::Drop>::drop"),
            ("core::fmt::write::h9d7c9e5f0a1b2c3d", "core::fmt::write"),
            ("plain_c_function", "plain_c_function"),
            ("a..b", "a..b"),
            ("$notanescape$", "$notanescape$"),
        ];
        for (raw, tidied) in cases {
            assert_eq!(tidy(raw), tidied);
        }
    }

    #[test]
    fn integer_literals_are_spelled_as_gnu_spells_them() {
        // expected names from c++filt (binutils 2.40), return types left out
        let cases = [
            (
                "_Z10accumulateIdLm4096ELb1EET_RKSt5arrayIS0_XT0_EEi",
                "accumulate<double, 4096ul, true>(std::array<double, 4096ul> const&, int)",
            ),
            (
                "_Z3mixILl42ELj3000000000ELy18446744073709551615EEmmi",
                "mix<42l, 3000000000u, 18446744073709551615ull>(unsigned long, int)",
            ),
            (
                "_Z3mixILln3ELj7ELy11EEmmi",
                "mix<-3l, 7u, 11ull>(unsigned long, int)",
            ),
            ("_Z1fILx7EEvv", "f<7ll>()"),
            ("_Z1fILl0EEvv", "f<0l>()"),
            (
                "_Z10count_charILc10ELin2EElRKSt6vectorIcSaIcEEi",
                "count_char<(char)10, -2>(std::vector<char, std::allocator<char> > const&, int)",
            ),
            (
                "_ZN6WorkerIL4Mode1ELsn4ELh200ELb1EE3runEi",
                "Worker<(Mode)1, (short)-4, (unsigned char)200, true>::run(int)",
            ),
            ("_Z1fILt7EEvv", "f<(unsigned short)7>()"),
        ];
        for (raw, gnu) in cases {
            assert_eq!(dem(raw), gnu);
        }
        // only a cast of digits is a literal
        for kept in [
            "f((long)x)",
            "g<(long)>",
            "h((unsigned long)1e3)",
            "(long)",
            "(long)2a",
        ] {
            assert_eq!(gnu_literals(kept), kept);
        }
        assert_eq!(gnu_literals("a<(long long)-1>(long)"), "a<-1ll>(long)");
    }

    #[test]
    fn mangled_names_are_demangled() {
        let cases = [
            ("_ZN4work3runEi", "work::run(int)"),
            (
                "_ZN3std2rt10lang_start17h0123456789abcdefE",
                "std::rt::lang_start",
            ),
            ("_RNvCs1234_7mycrate3foo", "mycrate::foo"),
            ("_Znotvalid", "_Znotvalid"),
            ("main", "main"),
        ];
        for (raw, demangled) in cases {
            assert_eq!(dem(raw), demangled);
        }
    }
}
