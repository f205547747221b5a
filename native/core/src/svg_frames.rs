//! The frames of a flame-graph SVG (`foldkit.render.svg._write_frames`, its Python twin and
//! reference, writes them with lxml): one `<rect>` with its `<title>` per frame, then its `<text>`
//! label when one fits, byte for byte as lxml's incremental writer puts them in the open
//! `<g id="frames">`. Names are made visible (`foldkit.text.visible`) and escaped here; numbers
//! are formatted as Python formats them (`format_px`, `format_count`, `{:.2f}`).
//!
//! Only the exact cases are taken: integer weights below 2^53 (so every float the twin computes
//! from them is the same float here), names of valid UTF-8. The caller checks.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use rustc_hash::FxHashMap;

use crate::folded::text::decimal;
use crate::svg_palette as palette;

/// Everything about the picture the frames need, computed by the caller as the twin does.
#[derive(Debug, Clone)]
pub struct Style {
    /// Pixels per weight unit (`plot_width / span`, 0 when the span is 0).
    pub scale: f64,
    /// The weight of the full width for percentages (`span or 1`).
    pub span: f64,
    /// Tooltip weights are multiplied by this.
    pub factor: f64,
    /// The unit after the tooltip's count, already made visible.
    pub unit: String,
    /// Left margin, px.
    pub xpad: f64,
    /// Row geometry: `top + depth * fh` (inverted) or `height - bottom - (depth + 1) * fh + pad`.
    pub inverted: bool,
    pub top: f64,
    pub height: f64,
    pub bottom: f64,
    pub frame_height: f64,
    pub frame_pad: f64,
    /// The `height` attribute of every rect (`format_px(fh - pad)`).
    pub rect_height: String,
    /// From a row's y to its labels' y.
    pub label_dy: f64,
    /// Label geometry: a label needs `min_label_px`, starts `label_pad` px in, fits
    /// `(width - label_pad) / char_px` characters, at least `min_chars`.
    pub char_px: f64,
    pub min_label_px: f64,
    pub label_pad: f64,
    pub min_chars: usize,
    pub truncate_right: bool,
    /// The palette for names the caller gave no fill for, and its `--hash` mode.
    pub palette: String,
    pub hash_start: bool,
}

/// One frame to draw.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub name: &'a str,
    pub depth: u32,
    pub start: i64,
    pub weight: i64,
}

/// `foldkit.text.visible`: characters XML cannot carry, or that hide or reorder text, replaced
/// by a visible stand-in (control pictures for C0 and DEL, `\uXXXX` for C1 controls,
/// bidirectional controls and U+FFFE/U+FFFF).
pub fn visible(text: &str) -> Cow<'_, str> {
    let needs = |c: char| {
        let u = c as u32;
        u < 0x20
            || (0x7F..0xA0).contains(&u)
            || matches!(u, 0x061C | 0x200E | 0x200F | 0xFFFE | 0xFFFF)
            || (0x202A..0x202F).contains(&u)
            || (0x2066..0x206A).contains(&u)
    };
    // printable ASCII (most names) needs nothing: a byte test, no character decoding
    if text.bytes().all(|b| (0x20..0x7F).contains(&b)) || !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        let u = c as u32;
        if u < 0x20 {
            out.push(char::from_u32(0x2400 + u).unwrap_or(c));
        } else if u == 0x7F {
            out.push('\u{2421}');
        } else if needs(c) {
            let _ = write!(out, "\\u{u:04x}");
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `display_name`: the annotation suffix removed, made visible.
fn display_name(name: &str) -> String {
    if !name.ends_with(']') && !name.ends_with("]\n") {
        return visible(name).into_owned(); // no annotation suffix to remove
    }
    let bare = palette::without_annotation(name.as_bytes());
    let bare = String::from_utf8(bare).unwrap_or_else(|_| name.to_owned());
    visible(&bare).into_owned()
}

/// Whether `push_escaped` would change `text`.
fn needs_escaping(text: &str, attribute: bool) -> bool {
    text.bytes().any(|b| {
        matches!(b, b'&' | b'<' | b'>' | b'\r') || attribute && matches!(b, b'"' | b'\n' | b'\t')
    })
}

/// Append `text` escaped as lxml escapes it: `&`, `<`, `>` and carriage returns everywhere;
/// in an attribute value (`attribute`) also `"`, newlines and tabs (whitespace controls cannot
/// occur after `visible` anyway).
pub(crate) fn push_escaped(out: &mut Vec<u8>, text: &str, attribute: bool) {
    if !needs_escaping(text, attribute) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#13;",
            b'"' if attribute => b"&quot;",
            b'\n' if attribute => b"&#10;",
            b'\t' if attribute => b"&#9;",
            _ => continue,
        };
        out.extend_from_slice(&text.as_bytes()[last..i]);
        out.extend_from_slice(entity);
        last = i + 1;
    }
    out.extend_from_slice(&text.as_bytes()[last..]);
}

/// Append `text` escaped as a text node.
fn push_text(out: &mut Vec<u8>, text: &str) {
    push_escaped(out, text, false);
}

/// Append `n` in decimal (without `fmt`: these are most of an SVG's numbers).
fn push_int(out: &mut Vec<u8>, n: i128) {
    if let Ok(small) = u64::try_from(n) {
        push_u64(out, small);
        return;
    }
    let mut buf = [0u8; 48];
    out.extend_from_slice(decimal(n, &mut buf));
}

/// The two digits of every number below 100.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Append `n` in decimal (two digits a step: most of an SVG's numbers go through here).
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + n as u8;
    }
    out.extend_from_slice(&buf[at..]);
}

/// `value` as an integer when it is one that `f"{value:.2f}"` writes as its digits and `.00`
/// (not negative zero), else None.
fn integral(value: f64) -> Option<u64> {
    (value.fract() == 0.0 && (0.0..1e15).contains(&value) && value.is_sign_positive())
        .then_some(value as u64)
}

/// Python's `f"{value:.2f}"` (both round the exact binary value half to even).
fn fixed2(value: f64) -> String {
    let mut out = Vec::new();
    push_fixed2(&mut out, value);
    String::from_utf8(out).unwrap_or_default()
}

/// `f"{value:.2f}"` in the common case, written from the end of `buf`: `value * 100` (rounded
/// to a float) within 2^40 and not near a half, so the exact `value * 100`, less than 2^-13
/// away from it, rounds to the same integer. None otherwise.
fn fixed2_digits(value: f64, buf: &mut [u8; 48]) -> Option<&[u8]> {
    let hundred = value * 100.0;
    let nearest = hundred.round();
    if !(hundred.abs() < (1u64 << 40) as f64 && (hundred - nearest).abs() < 0.49) {
        return None;
    }
    let k = nearest as i64;
    let negative = k < 0 || (k == 0 && value.is_sign_negative());
    let mut rest = k.unsigned_abs();
    let mut at = buf.len();
    for _ in 0..2 {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    at -= 1;
    buf[at] = b'.';
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if negative {
        at -= 1;
        buf[at] = b'-';
    }
    Some(&buf[at..])
}

/// Append `f"{value:.2f}"`.
fn push_fixed2(out: &mut Vec<u8>, value: f64) {
    if let Some(n) = integral(value) {
        push_u64(out, n);
        out.extend_from_slice(b".00");
        return;
    }
    let mut buf = [0u8; 48];
    match fixed2_digits(value, &mut buf) {
        Some(digits) => out.extend_from_slice(digits),
        None => out.extend_from_slice(format!("{value:.2}").as_bytes()),
    }
}

/// `format_px`: two decimals without trailing zeros.
pub fn format_px(value: f64) -> String {
    let mut out = Vec::new();
    push_px(&mut out, value);
    String::from_utf8(out).unwrap_or_default()
}

/// Append `format_px(value)`.
pub(crate) fn push_px(out: &mut Vec<u8>, value: f64) {
    if let Some(n) = integral(value) {
        push_u64(out, n); // `.00` and then the point stripped
        return;
    }
    let mut buf = [0u8; 48];
    if let Some(digits) = fixed2_digits(value, &mut buf) {
        // at most two zeros after the point, then the point itself
        let mut n = digits.len();
        while digits[n - 1] == b'0' && digits[n - 3..n].contains(&b'.') {
            n -= 1;
        }
        if digits[n - 1] == b'.' {
            n -= 1;
        }
        out.extend_from_slice(&digits[..n]);
        return;
    }
    let from = out.len();
    push_fixed2(out, value);
    while out.len() > from && out.last() == Some(&b'0') {
        out.pop();
    }
    if out.last() == Some(&b'.') {
        out.pop();
    }
}

/// Digits with a comma every three (`f"{n:,}"` of the integer part of a number as text).
fn grouped(digits: &str) -> String {
    let mut out = Vec::with_capacity(digits.len() + digits.len() / 3 + 1);
    push_grouped_digits(&mut out, digits.as_bytes());
    String::from_utf8(out).unwrap_or_default()
}

/// Append `digits` (ASCII, an optional `-` first) with a comma every three.
fn push_grouped_digits(out: &mut Vec<u8>, digits: &[u8]) {
    let digits = match digits.strip_prefix(b"-") {
        Some(d) => {
            out.push(b'-');
            d
        }
        None => digits,
    };
    let n = digits.len();
    let first = match n % 3 {
        0 => 3.min(n),
        r => r,
    };
    out.extend_from_slice(&digits[..first]);
    let mut at = first;
    while at < n {
        out.push(b',');
        out.extend_from_slice(&digits[at..at + 3]);
        at += 3;
    }
}

/// `format_count` of a float: `f"{int(v):,}"` when integral, else `f"{v:,.2f}"` without trailing
/// zeros. None when it is not finite or too large for the exact integer formatting here.
pub fn format_count(value: f64) -> Option<String> {
    if !value.is_finite() || value.abs() >= 1e30 {
        return None;
    }
    if value.fract() == 0.0 {
        return Some(grouped(&(value as i128).to_string()));
    }
    let s = fixed2(value);
    let (int_part, frac) = s.split_once('.').unwrap_or((&s, ""));
    let frac = frac.trim_end_matches('0');
    let int_part = grouped(int_part);
    Some(if frac.is_empty() {
        int_part
    } else {
        format!("{int_part}.{frac}")
    })
}

/// `fit_label`: the part of `name` that fits in `width_px`.
fn fit_label<'n>(name: &'n str, width_px: f64, style: &Style) -> Cow<'n, str> {
    let chars = if style.char_px > 0.0 {
        (width_px / style.char_px) as i64
    } else {
        0
    };
    if chars < style.min_chars as i64 {
        return Cow::Borrowed("");
    }
    let count = if name.is_ascii() {
        name.len()
    } else {
        name.chars().count()
    } as i64;
    if count <= chars {
        return Cow::Borrowed(name);
    }
    let keep = (chars - 2).max(0) as usize;
    if style.truncate_right {
        let cut: String = name.chars().take(keep).collect();
        Cow::Owned(cut + "..")
    } else {
        let skip = count as usize - keep;
        let cut: String = name.chars().skip(skip).collect();
        Cow::Owned(format!("..{cut}"))
    }
}

/// Append `f"{n:,}"`.
fn push_grouped(out: &mut Vec<u8>, n: i128) {
    let mut buf = [0u8; 48];
    push_grouped_digits(out, decimal(n, &mut buf));
}

/// What the frames of one name share, when the name is not a plain one (`plain`).
struct Named {
    /// `data-name`, escaped.
    attr: String,
    /// The display name, unescaped (labels are cut from it) and escaped.
    display: String,
    display_text: String,
}

impl Named {
    fn of(name: &str) -> Named {
        let display = display_name(name);
        let mut attr = Vec::new();
        push_escaped(&mut attr, &visible(name), true);
        let mut display_text = Vec::new();
        push_text(&mut display_text, &display);
        Named {
            attr: String::from_utf8(attr).unwrap_or_default(),
            display_text: String::from_utf8(display_text).unwrap_or_default(),
            display,
        }
    }
}

/// True when `name` is printable ASCII without a character to escape and without an
/// annotation suffix to remove: its `data-name`, display name and their escaped forms are the
/// name itself (most names).
fn plain(name: &str) -> bool {
    !name.ends_with(']')
        && name
            .bytes()
            .all(|b| (0x20..0x7F).contains(&b) && !matches!(b, b'&' | b'<' | b'>' | b'"'))
}

/// A frame's fill: given by the caller (escaped: its index among the given fills' texts), or
/// the palette's colour. Small (8 bytes): a tower's every name is one more entry in the map of
/// fills, and a big entry there cost more page faults than the colours cost to compute.
#[derive(Clone, Copy)]
enum Fill {
    Given(u32),
    Rgb([u8; 3]),
}

/// The frames' markup (see the module docstring); `fills` gives the fill of names the palette
/// here does not colour (every name without a fill must be ASCII and the palette one
/// `palette::knows`). None when a count cannot be formatted exactly here.
pub fn write_frames(
    frames: &[Frame<'_>],
    fills: &HashMap<&str, String>,
    style: &Style,
) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(frames.len() * 256);
    write_frames_into(&mut out, frames, fills, style)?;
    Some(out)
}

/// `write_frames`, appended to `out` (which may hold what comes before the frames); None as
/// there (and nothing appended).
pub fn write_frames_into(
    out: &mut Vec<u8>,
    frames: &[Frame<'_>],
    fills: &HashMap<&str, String>,
    style: &Style,
) -> Option<()> {
    if !counts_formattable(frames, style) {
        return None;
    }
    out.reserve(frames.len() * 240);
    write_frames_spilling(out, frames, fills, style, usize::MAX, &mut |_| Ok(())).ok()
}

/// Whether every frame's count (its weight times `style.factor`) can be formatted exactly here:
/// `write_frames` gives None otherwise, and a writer that streams asks before writing anything.
pub fn counts_formattable(frames: &[Frame<'_>], style: &Style) -> bool {
    frames.iter().all(|f| {
        let count = f.weight as f64 * style.factor;
        count.is_finite() && count.abs() < 1e30
    })
}

/// `write_frames_into` for frames whose counts are formattable (`counts_formattable`), handing
/// `out` to `spill` whenever it holds `spill_at` bytes or more (which empties it: the document
/// written to a file a piece at a time, `svg_document::write_document_to`); an error of
/// `spill` stops it.
pub fn write_frames_spilling(
    out: &mut Vec<u8>,
    frames: &[Frame<'_>],
    fills: &HashMap<&str, String>,
    style: &Style,
    spill_at: usize,
    spill: &mut dyn FnMut(&mut Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    // one fill per name (a hash each), and the texts of names that are not plain
    let mut colours: FxHashMap<&str, Fill> = FxHashMap::default();
    let mut given_texts: Vec<String> = Vec::new();
    colours.reserve(frames.len().min(1 << 20));
    let mut named: FxHashMap<&str, Named> = FxHashMap::default();
    let mut unit = Vec::new();
    push_text(&mut unit, &style.unit);
    for f in frames {
        if out.len() >= spill_at {
            spill(out)?;
        }
        let fill = *colours
            .entry(f.name)
            .or_insert_with(|| match fills.get(f.name) {
                Some(given) => {
                    let mut escaped = Vec::new();
                    push_escaped(&mut escaped, given, true);
                    given_texts.push(String::from_utf8(escaped).unwrap_or_default());
                    Fill::Given((given_texts.len() - 1) as u32)
                }
                None => Fill::Rgb(palette::frame_rgb(
                    f.name.as_bytes(),
                    &style.palette,
                    style.hash_start,
                )),
            });
        let (attr, display, display_text) = if plain(f.name) {
            (f.name, f.name, f.name)
        } else {
            let n = named.entry(f.name).or_insert_with(|| Named::of(f.name));
            (n.attr.as_str(), n.display.as_str(), n.display_text.as_str())
        };
        let depth = f64::from(f.depth);
        let y = if style.inverted {
            style.top + depth * style.frame_height
        } else {
            style.height - style.bottom - (depth + 1.0) * style.frame_height + style.frame_pad
        };
        let x = style.xpad + f.start as f64 * style.scale;
        let width = f.weight as f64 * style.scale;
        out.extend_from_slice(b"<rect data-name=\"");
        out.extend_from_slice(attr.as_bytes());
        out.extend_from_slice(b"\" data-depth=\"");
        push_u64(out, u64::from(f.depth));
        out.extend_from_slice(b"\" data-start=\"");
        push_int(out, i128::from(f.start));
        out.extend_from_slice(b"\" data-weight=\"");
        push_int(out, i128::from(f.weight));
        out.extend_from_slice(b"\" x=\"");
        push_px(out, x);
        out.extend_from_slice(b"\" y=\"");
        push_px(out, y);
        out.extend_from_slice(b"\" width=\"");
        push_px(out, width);
        out.extend_from_slice(b"\" height=\"");
        out.extend_from_slice(style.rect_height.as_bytes());
        out.extend_from_slice(b"\" fill=\"");
        match fill {
            Fill::Given(i) => out.extend_from_slice(given_texts[i as usize].as_bytes()),
            Fill::Rgb([r, g, b]) => {
                out.extend_from_slice(b"rgb(");
                push_u64(out, u64::from(r));
                out.push(b',');
                push_u64(out, u64::from(g));
                out.push(b',');
                push_u64(out, u64::from(b));
                out.push(b')');
            }
        }
        out.extend_from_slice(b"\"><title>");
        out.extend_from_slice(display_text.as_bytes());
        out.extend_from_slice(b" (");
        let count = f.weight as f64 * style.factor;
        if count.fract() == 0.0 && count.abs() < 1e30 {
            push_grouped(out, count as i128);
        } else {
            let text = format_count(count).ok_or_else(|| {
                std::io::Error::other("a count not formattable (counts_formattable not asked)")
            })?;
            out.extend_from_slice(text.as_bytes());
        }
        out.push(b' ');
        out.extend_from_slice(&unit);
        out.extend_from_slice(b", ");
        push_fixed2(out, 100.0 * f.weight as f64 / style.span);
        out.extend_from_slice(b"%)</title></rect>");
        if width >= style.min_label_px {
            let label = fit_label(display, width - style.label_pad, style);
            if !label.is_empty() {
                out.extend_from_slice(b"<text x=\"");
                push_px(out, x + style.label_pad);
                out.extend_from_slice(b"\" y=\"");
                push_px(out, y + style.label_dy);
                out.extend_from_slice(b"\">");
                match label {
                    Cow::Borrowed(_) => out.extend_from_slice(display_text.as_bytes()),
                    Cow::Owned(cut) => push_text(out, &cut),
                }
                out.extend_from_slice(b"</text>");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_decimal() {
        let mut values: Vec<u64> = (0..2000).collect();
        values.extend([9_999, 10_000, 99_999, 123_456_789, u64::MAX / 10, u64::MAX]);
        values.extend((0..64).map(|p| 1u64 << p));
        for v in values {
            let mut out = Vec::new();
            push_u64(&mut out, v);
            assert_eq!(out, v.to_string().into_bytes());
        }
    }

    #[test]
    fn numbers_as_python_formats_them() {
        // f"{v:.2f}".rstrip("0").rstrip(".")
        for (v, s) in [
            (0.125, "0.12"),
            (0.375, "0.38"),
            (2.675, "2.67"),
            (10.0, "10"),
            (10.5, "10.5"),
            (1180.0, "1180"),
            (0.001, "0"),
            (1e20, "100000000000000000000"),
            (-0.0, "-0"),
            (0.0, "0"),
            (-3.0, "-3"),
            (1e15, "1000000000000000"),
            (123456789012345.0, "123456789012345"),
        ] {
            assert_eq!(format_px(v), s, "{v}");
        }
        // f"{v:.2f}"
        for (v, s) in [
            (100.0, "100.00"),
            (-0.0, "-0.00"),
            (0.0, "0.00"),
            (2.675, "2.67"),
            (7.0, "7.00"),
        ] {
            assert_eq!(fixed2(v), s, "{v}");
        }
        assert_eq!(format_count(1234567.0).as_deref(), Some("1,234,567"));
        assert_eq!(format_count(1234.5).as_deref(), Some("1,234.5"));
        assert_eq!(format_count(0.004).as_deref(), Some("0"));
        assert_eq!(format_count(-1234.25).as_deref(), Some("-1,234.25"));
        for (n, text) in [
            (0i128, "0"),
            (7, "7"),
            (100, "100"),
            (1000, "1,000"),
            (-1000, "-1,000"),
            (123456, "123,456"),
            (-12345678, "-12,345,678"),
            (100_000_000_000_000_000_000, "100,000,000,000,000,000,000"),
            (
                i128::MIN,
                "-170,141,183,460,469,231,731,687,303,715,884,105,728",
            ),
        ] {
            let mut out = Vec::new();
            push_grouped(&mut out, n);
            assert_eq!(out, text.as_bytes(), "{n}");
            let mut plain = Vec::new();
            push_int(&mut plain, n);
            assert_eq!(plain, n.to_string().as_bytes());
        }
    }

    #[test]
    fn names_are_made_visible_and_escaped() {
        assert_eq!(
            visible("a\u{1}b\u{7f}\u{85}\u{202e}"),
            "a\u{2401}b\u{2421}\\u0085\\u202e"
        );
        let escaped = |text: &str, attribute: bool| {
            let mut out = Vec::new();
            push_escaped(&mut out, text, attribute);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(escaped("<a&\"b\">", true), "&lt;a&amp;&quot;b&quot;&gt;");
        assert_eq!(escaped("a\"b", false), "a\"b");
    }
}
