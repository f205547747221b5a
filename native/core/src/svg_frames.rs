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

/// `text` escaped (as `push_escaped`), without a copy when nothing needs escaping.
fn escaped(text: Cow<'_, str>, attribute: bool) -> String {
    if !needs_escaping(&text, attribute) {
        return text.into_owned();
    }
    let mut out = String::with_capacity(text.len() + 16);
    push_escaped(&mut out, &text, attribute);
    out
}

/// Append `text` escaped as lxml escapes it: `&`, `<`, `>` and carriage returns everywhere;
/// in an attribute value (`attribute`) also `"`, newlines and tabs (whitespace controls cannot
/// occur after `visible` anyway).
pub(crate) fn push_escaped(out: &mut String, text: &str, attribute: bool) {
    if !needs_escaping(text, attribute) {
        out.push_str(text);
        return;
    }
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'\r' => "&#13;",
            b'"' if attribute => "&quot;",
            b'\n' if attribute => "&#10;",
            b'\t' if attribute => "&#9;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(entity);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

/// Append `text` escaped as a text node.
pub(crate) fn push_text(out: &mut String, text: &str) {
    push_escaped(out, text, false);
}

/// Append `n` in decimal (without `fmt`: these are most of an SVG's numbers).
fn push_int(out: &mut String, n: i128) {
    let mut buf = [0u8; 48];
    out.push_str(ascii(decimal(n, &mut buf)));
}

/// ASCII bytes as text.
fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// Python's `f"{value:.2f}"` (both round the exact binary value half to even).
fn fixed2(value: f64) -> String {
    let mut out = String::new();
    push_fixed2(&mut out, value);
    out
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
fn push_fixed2(out: &mut String, value: f64) {
    let mut buf = [0u8; 48];
    match fixed2_digits(value, &mut buf) {
        Some(digits) => out.push_str(ascii(digits)),
        None => {
            let _ = write!(out, "{value:.2}");
        }
    }
}

/// `format_px`: two decimals without trailing zeros.
pub fn format_px(value: f64) -> String {
    let mut out = String::new();
    push_px(&mut out, value);
    out
}

/// Append `format_px(value)`.
fn push_px(out: &mut String, value: f64) {
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
        out.push_str(ascii(&digits[..n]));
        return;
    }
    let from = out.len();
    push_fixed2(out, value);
    let kept = out[from..].trim_end_matches('0').len();
    out.truncate(from + kept);
    if out.ends_with('.') {
        out.pop();
    }
}

/// Digits with a comma every three (`f"{n:,}"` of the integer part of a number as text).
fn grouped(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    push_grouped_digits(&mut out, digits);
    out
}

/// Append `digits` (ASCII, an optional `-` first) with a comma every three.
fn push_grouped_digits(out: &mut String, digits: &str) {
    let digits = match digits.strip_prefix('-') {
        Some(d) => {
            out.push('-');
            d
        }
        None => digits,
    };
    let n = digits.len();
    let first = match n % 3 {
        0 => 3.min(n),
        r => r,
    };
    out.push_str(&digits[..first]);
    let mut at = first;
    while at < n {
        out.push(',');
        out.push_str(&digits[at..at + 3]);
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
fn push_grouped(out: &mut String, n: i128) {
    let mut buf = [0u8; 48];
    push_grouped_digits(
        out,
        std::str::from_utf8(decimal(n, &mut buf)).unwrap_or_default(),
    );
}

/// What the frames of one name share.
struct Named {
    /// `data-name`, escaped.
    attr: String,
    /// The display name, unescaped (labels are cut from it) and escaped.
    display: String,
    display_text: String,
    /// The fill, escaped.
    fill: String,
}

/// The frames' markup (see the module docstring); `fills` gives the fill of names the palette
/// here does not colour (every name without a fill must be ASCII and the palette one
/// `palette::knows`). None when a count cannot be formatted exactly here.
pub fn write_frames(
    frames: &[Frame<'_>],
    fills: &HashMap<&str, String>,
    style: &Style,
) -> Option<String> {
    let mut out = String::with_capacity(frames.len() * 256);
    write_frames_into(&mut out, frames, fills, style)?;
    Some(out)
}

/// `write_frames`, appended to `out` (which may hold what comes before the frames); None as
/// there (`out` then holds part of them).
pub fn write_frames_into(
    out: &mut String,
    frames: &[Frame<'_>],
    fills: &HashMap<&str, String>,
    style: &Style,
) -> Option<()> {
    let mut names: FxHashMap<&str, Named> = FxHashMap::default();
    let mut rows: Vec<Option<(String, String)>> = Vec::new();
    let mut unit = String::new();
    push_text(&mut unit, &style.unit);
    let out = &mut *out;
    for f in frames {
        let named = names.entry(f.name).or_insert_with(|| {
            let fill = match fills.get(f.name) {
                Some(fill) => Cow::Borrowed(fill.as_str()),
                None => Cow::Owned(palette::frame_color(
                    f.name.as_bytes(),
                    &style.palette,
                    style.hash_start,
                )),
            };
            let display = display_name(f.name);
            Named {
                attr: escaped(visible(f.name), true),
                display_text: escaped(Cow::Borrowed(&display), false),
                fill: escaped(fill, true),
                display,
            }
        });
        let depth = f.depth as usize;
        if rows.len() <= depth {
            rows.resize(depth + 1, None);
        }
        let row = rows[depth].get_or_insert_with(|| {
            let depth = f64::from(f.depth);
            let y = if style.inverted {
                style.top + depth * style.frame_height
            } else {
                style.height - style.bottom - (depth + 1.0) * style.frame_height + style.frame_pad
            };
            (format_px(y), format_px(y + style.label_dy))
        });
        let x = style.xpad + f.start as f64 * style.scale;
        let width = f.weight as f64 * style.scale;
        out.push_str("<rect data-name=\"");
        out.push_str(&named.attr);
        out.push_str("\" data-depth=\"");
        push_int(out, i128::from(f.depth));
        out.push_str("\" data-start=\"");
        push_int(out, i128::from(f.start));
        out.push_str("\" data-weight=\"");
        push_int(out, i128::from(f.weight));
        out.push_str("\" x=\"");
        push_px(out, x);
        out.push_str("\" y=\"");
        out.push_str(&row.0);
        out.push_str("\" width=\"");
        push_px(out, width);
        out.push_str("\" height=\"");
        out.push_str(&style.rect_height);
        out.push_str("\" fill=\"");
        out.push_str(&named.fill);
        out.push_str("\"><title>");
        out.push_str(&named.display_text);
        out.push_str(" (");
        let count = f.weight as f64 * style.factor;
        if count.fract() == 0.0 && count.abs() < 1e30 {
            push_grouped(out, count as i128);
        } else {
            out.push_str(&format_count(count)?);
        }
        out.push(' ');
        out.push_str(&unit);
        out.push_str(", ");
        push_fixed2(out, 100.0 * f.weight as f64 / style.span);
        out.push_str("%)</title></rect>");
        if width >= style.min_label_px {
            let label = fit_label(&named.display, width - style.label_pad, style);
            if !label.is_empty() {
                out.push_str("<text x=\"");
                push_px(out, x + style.label_pad);
                out.push_str("\" y=\"");
                out.push_str(&row.1);
                out.push_str("\">");
                match label {
                    Cow::Borrowed(_) => out.push_str(&named.display_text),
                    Cow::Owned(cut) => push_text(out, &cut),
                }
                out.push_str("</text>");
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            assert_eq!(format_px(v), s, "{v}");
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
            let mut out = String::new();
            push_grouped(&mut out, n);
            assert_eq!(out, text, "{n}");
            let mut plain = String::new();
            push_int(&mut plain, n);
            assert_eq!(plain, n.to_string());
        }
    }

    #[test]
    fn names_are_made_visible_and_escaped() {
        assert_eq!(
            visible("a\u{1}b\u{7f}\u{85}\u{202e}"),
            "a\u{2401}b\u{2421}\\u0085\\u202e"
        );
        assert_eq!(
            escaped(Cow::Borrowed("<a&\"b\">"), true),
            "&lt;a&amp;&quot;b&quot;&gt;"
        );
        assert_eq!(escaped(Cow::Borrowed("a\"b"), false), "a\"b");
    }
}
