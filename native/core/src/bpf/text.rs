//! Python's text rules where the readers' decisions depend on them: `str.isspace`/`\s`, `\w`
//! and `\d` over Unicode, and `parse_count`. Bytes that are not UTF-8 stand for the surrogate
//! escapes Python decodes them to, which are none of these classes.

use std::sync::OnceLock;

use regex::Regex;

/// The line of `chunk` starting at `pos`: (its end, without a `\r` before the `\n`, and where
/// the next line starts). The last line may lack its newline.
pub fn line_at(chunk: &[u8], pos: usize) -> (usize, usize) {
    let (mut end, next) = match memchr::memchr(b'\n', &chunk[pos..]) {
        Some(n) => (pos + n, pos + n + 1),
        None => (chunk.len(), chunk.len()),
    };
    if next > end && end > pos && chunk[end - 1] == b'\r' {
        end -= 1;
    }
    (end, next)
}

/// `str.isspace()` (and `re`'s `\s` on str), as of Python 3.11.
pub fn is_py_space_char(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\x1c'..='\x20'
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// The characters of `text` (None for a byte that is not UTF-8) with their byte offsets.
pub fn chars(text: &[u8]) -> impl Iterator<Item = (usize, usize, Option<char>)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= text.len() {
            return None;
        }
        let b = text[at];
        let len = if b < 0x80 {
            1
        } else if b >= 0xf0 {
            4
        } else if b >= 0xe0 {
            3
        } else {
            2
        };
        let item = match text.get(at..at + len).map(std::str::from_utf8) {
            Some(Ok(s)) if !(0x80..0xc0).contains(&b) => (at, len, s.chars().next()),
            _ => (at, 1, None),
        };
        at += item.1;
        Some(item)
    })
}

/// `str.strip()` (surrogate escapes are not space).
pub fn py_strip(text: &[u8]) -> &[u8] {
    if text.is_ascii() {
        let space = |b: &u8| b.is_ascii() && is_py_space_char(*b as char);
        let start = text.iter().position(|b| !space(b)).unwrap_or(text.len());
        let end = text
            .iter()
            .rposition(|b| !space(b))
            .map_or(start, |i| i + 1);
        return &text[start..end.max(start)];
    }
    let mut start = None;
    let mut end = 0;
    for (at, len, c) in chars(text) {
        if !c.is_some_and(is_py_space_char) {
            start.get_or_insert(at);
            end = at + len;
        }
    }
    match start {
        Some(s) => &text[s..end],
        None => &text[text.len()..],
    }
}

/// True when `text.strip()` is empty.
pub fn is_blank(text: &[u8]) -> bool {
    py_strip(text).is_empty()
}

fn word() -> &'static Regex {
    static WORD: OnceLock<Regex> = OnceLock::new();
    WORD.get_or_init(|| Regex::new(r"^[\p{L}\p{N}_]*").expect("word pattern"))
}

/// Bytes of the longest run of `\w` (Python's: letters, numbers, `_`) at the start of `text`.
pub fn word_run(text: &[u8]) -> usize {
    let n = text
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or(text.len());
    if n == text.len() || text[n] < 0x80 {
        return n;
    }
    let valid = match std::str::from_utf8(text) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&text[..e.valid_up_to()]).unwrap_or(""),
    };
    word().find(valid).map_or(0, |m| m.end())
}

/// The value of a Unicode decimal digit (`\d`, category Nd), or None.
pub fn digit_value(c: char) -> Option<u32> {
    if c.is_ascii_digit() {
        return Some(c as u32 - '0' as u32);
    }
    if c.is_ascii() || !is_nd(c) {
        return None;
    }
    // Nd characters come in runs of ten, zero first: count back to the run's start
    let mut first = c as u32;
    while let Some(prev) = first.checked_sub(1).and_then(char::from_u32) {
        if !is_nd(prev) {
            break;
        }
        first -= 1;
    }
    Some((c as u32 - first) % 10)
}

fn is_nd(c: char) -> bool {
    static ND: OnceLock<Regex> = OnceLock::new();
    let mut buf = [0u8; 4];
    ND.get_or_init(|| Regex::new(r"^\p{Nd}$").expect("digit pattern"))
        .is_match(c.encode_utf8(&mut buf))
}

/// True when all of `text` is `-?\d+` (Unicode digits).
pub fn is_count(text: &[u8]) -> bool {
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    if digits.iter().all(u8::is_ascii_digit) {
        return !digits.is_empty();
    }
    chars(digits).all(|(_, _, c)| c.and_then(digit_value).is_some())
}

/// Largest weight (`foldkit.profile.MAX_WEIGHT`).
pub const MAX_WEIGHT: i128 = i64::MAX as i128;
/// Digits beyond which `parse_count` does not convert (`foldkit.profile._MAX_DIGITS`).
const MAX_DIGITS: usize = 20;

/// `foldkit.profile.parse_count` of a `-?\d+` text (see [`is_count`]).
pub fn parse_count(text: &[u8]) -> i128 {
    let sign = if text.first() == Some(&b'-') { -1 } else { 1 };
    let start = text
        .iter()
        .position(|&b| b != b'+' && b != b'-')
        .unwrap_or(text.len());
    let rest = &text[start..];
    let zeros = rest.iter().position(|&b| b != b'0').unwrap_or(rest.len());
    let significant = &rest[zeros..];
    if significant.iter().all(u8::is_ascii_digit) && significant.len() <= MAX_DIGITS {
        let value = significant
            .iter()
            .fold(0i128, |v, &b| v * 10 + i128::from(b - b'0'));
        return sign * value;
    }
    let count = chars(significant).count();
    if count > MAX_DIGITS {
        return sign * (MAX_WEIGHT + 1) * 4;
    }
    let mut value: i128 = 0;
    for (_, _, c) in chars(significant) {
        value = value * 10 + i128::from(c.and_then(digit_value).unwrap_or(0));
    }
    sign * value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_as_python() {
        assert_eq!(py_strip(b"  a b \t"), b"a b");
        assert_eq!(py_strip(" \u{3000}x\u{a0}".as_bytes()), b"x");
        assert_eq!(py_strip(b"\x1c\x1fx\xff "), b"x\xff");
        assert!(is_blank(" \u{2028} ".as_bytes()));
        assert!(!is_blank(b" \xa0 "));
    }

    #[test]
    fn words_and_digits() {
        assert_eq!(word_run(b"abc_1[x"), 5);
        assert_eq!(word_run("stäck[".as_bytes()), 6);
        assert_eq!(word_run("a\u{301}b".as_bytes()), 1); // a combining mark is not \w
        assert_eq!(digit_value('\u{663}'), Some(3));
        assert_eq!(digit_value('\u{1d7d9}'), Some(1));
        assert!(is_count("-\u{663}2".as_bytes()));
        assert!(!is_count(b"-"));
        assert_eq!(parse_count("\u{663}2".as_bytes()), 32);
        assert_eq!(parse_count(b"-0012"), -12);
        assert_eq!(parse_count(b"123456789012345678901"), (MAX_WEIGHT + 1) * 4);
    }
}
