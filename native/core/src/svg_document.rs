//! A whole flame-graph SVG for the plain picture (every picture flag at its default): the
//! document `foldkit.render.svg.write_svg` writes with lxml (its twin and reference) around the
//! frames `svg_frames` writes, byte for byte: the XML declaration, the `<svg>` element and its
//! settings, the background, style, title and controls, the frames and the script. The caller
//! (`foldkit.cli.plain`, through `_native.table_svg`) gives the defaults and package files;
//! every text is made visible and escaped here as lxml escapes it.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::svg_frames::{
    counts_formattable, format_px, push_escaped, visible, write_frames_spilling, Frame, Style,
};

/// What the page around the frames is made of (`foldkit.render.defaults` and the package files).
#[derive(Debug, Clone)]
pub struct Page {
    /// Image width in pixels.
    pub width: i64,
    /// One row's height and the gap above a frame, in pixels.
    pub frame_height: i64,
    pub frame_pad: i64,
    /// Left and right margin, px.
    pub xpad: i64,
    pub font_type: String,
    pub font_size: f64,
    /// Python's `repr` of the font width (the `data-font-width` attribute).
    pub font_width_repr: String,
    pub font_width: f64,
    pub name_type: String,
    pub search_color: String,
    pub title: String,
    /// The root frame's name.
    pub root: String,
    /// The tooltips' unit (not yet made visible).
    pub unit: String,
    pub min_label_chars: usize,
    pub label_pad: i64,
    pub truncate_right: bool,
    pub factor: f64,
    pub palette: String,
    /// The background gradient's top and bottom colours.
    pub background: (String, String),
    /// The style sheet and the script (package files).
    pub css: String,
    pub script: String,
}

/// Distance of the search button and "Matched" line from the right edge, and of the
/// ignore-case button (`foldkit.render.svg`'s).
const SEARCH_X: f64 = 100.0;
const IGNORECASE_X: f64 = 16.0;

fn attr(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    push_escaped(out, value, true);
    out.push(b'"');
}

fn push(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
}

/// `<text x=".." y=".."[ more]>text</text>`.
fn text_element(out: &mut Vec<u8>, x: f64, y: f64, more: &[(&str, &str)], text: &str) {
    push(out, "<text");
    attr(out, "x", &format_px(x));
    attr(out, "y", &format_px(y));
    for (name, value) in more {
        attr(out, name, value);
    }
    out.push(b'>');
    push_escaped(out, text, false);
    push(out, "</text>");
}

/// The frame geometry and label rules of the plain picture (`svg._native_frames`' style).
pub fn style(page: &Page, span: i64, max_depth: u32, drawn: bool) -> (Style, f64) {
    let fs = page.font_size;
    let top = fs * 3.0;
    let bottom = fs * 2.0 + 10.0;
    let rows = if drawn { i64::from(max_depth) + 1 } else { 1 };
    let height = (rows * page.frame_height) as f64 + top + bottom;
    let plot_width = (page.width - 2 * page.xpad) as f64;
    let fh = page.frame_height as f64;
    let pad = page.frame_pad as f64;
    let char_px = fs * page.font_width;
    let style = Style {
        scale: if span != 0 {
            plot_width / span as f64
        } else {
            0.0
        },
        span: if span != 0 { span as f64 } else { 1.0 },
        factor: page.factor,
        unit: visible(&page.unit).into_owned(),
        xpad: page.xpad as f64,
        inverted: false,
        top,
        height,
        bottom,
        frame_height: fh,
        frame_pad: pad,
        rect_height: format_px(fh - pad),
        label_dy: (fh - pad) / 2.0 + fs / 4.0,
        char_px,
        min_label_px: char_px * page.min_label_chars as f64 + page.label_pad as f64,
        label_pad: page.label_pad as f64,
        min_chars: page.min_label_chars,
        truncate_right: page.truncate_right,
        palette: page.palette.clone(),
        hash_start: false,
    };
    (style, height)
}

/// Bytes of the document a streaming writer (`write_document_to`) gathers before writing them.
pub const PIECE: usize = 256 * 1024;

/// The whole SVG of `frames` (the plain flame graph of a profile of `span`, frames in the
/// layout's order, frame 0 the root), or None when it cannot be written here
/// (`document_writable`).
pub fn write_document(page: &Page, frames: &[Frame<'_>], span: i64) -> Option<Vec<u8>> {
    let mut out =
        Vec::with_capacity(frames.len() * 300 + page.css.len() + page.script.len() + 4096);
    let written = write_pieces(&mut out, page, frames, span, usize::MAX, &mut |_| Ok(()));
    written.ok()?.then_some(out)
}

/// Whether `write_document` gives the document of `frames` (a streaming writer asks before
/// it writes anything): every count formattable, a script lxml can put in a CDATA section.
pub fn document_writable(page: &Page, frames: &[Frame<'_>], span: i64) -> bool {
    writable(page, frames, &document_style(page, frames, span).0)
}

/// `write_document`'s bytes written to `sink` a piece (`PIECE`) at a time, not held whole;
/// only for a document that is `document_writable` (an error otherwise, before anything is
/// written). Flushes `sink` at the end.
pub fn write_document_to<W: Write>(
    sink: &mut W,
    page: &Page,
    frames: &[Frame<'_>],
    span: i64,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(PIECE + 64 * 1024);
    let mut spill = |out: &mut Vec<u8>| {
        sink.write_all(out)?;
        out.clear();
        Ok(())
    };
    if !write_pieces(&mut out, page, frames, span, PIECE, &mut spill)? {
        return Err(io::Error::other("the document is not writable here"));
    }
    spill(&mut out)?;
    sink.flush()
}

/// The document appended to `out`, which goes to `spill` whenever it holds `spill_at` bytes;
/// false (nothing appended) when it is not `document_writable`.
fn write_pieces(
    out: &mut Vec<u8>,
    page: &Page,
    frames: &[Frame<'_>],
    span: i64,
    spill_at: usize,
    spill: &mut dyn FnMut(&mut Vec<u8>) -> io::Result<()>,
) -> io::Result<bool> {
    let (style, height) = document_style(page, frames, span);
    if !writable(page, frames, &style) {
        return Ok(false);
    }
    document_into(out, page, frames, span, (&style, height), spill_at, spill)?;
    Ok(true)
}

/// The style of the document of `frames` and its height.
fn document_style(page: &Page, frames: &[Frame<'_>], span: i64) -> (Style, f64) {
    let max_depth = frames.iter().map(|f| f.depth).max().unwrap_or(0);
    style(page, span, max_depth, !frames.is_empty())
}

fn writable(page: &Page, frames: &[Frame<'_>], style: &Style) -> bool {
    // lxml refuses a CDATA section holding "]]>"; the twin says so
    !page.script.contains("]]>") && counts_formattable(frames, style)
}

/// The document, appended to `out`, which goes to `spill` whenever it holds `spill_at` bytes
/// (`svg_frames::write_frames_spilling`).
fn document_into(
    out: &mut Vec<u8>,
    page: &Page,
    frames: &[Frame<'_>],
    span: i64,
    (style, height): (&Style, f64),
    spill_at: usize,
    spill: &mut dyn FnMut(&mut Vec<u8>) -> io::Result<()>,
) -> io::Result<()> {
    let fs = page.font_size;
    let width = page.width as f64;
    let height_px = format_px(height);
    push(out, "<?xml version='1.0' encoding='UTF-8'?>\n");
    push(out, "<svg xmlns=\"http://www.w3.org/2000/svg\"");
    let view_box = format!("0 0 {} {height_px}", page.width);
    for (name, value) in [
        ("version", "1.1"),
        ("width", &page.width.to_string()),
        ("height", &height_px),
        ("viewBox", &view_box),
        ("font-family", &visible(&page.font_type)),
        ("font-size", &format_px(fs)),
        ("data-generator", "foldkit"),
        ("data-kind", "flamegraph"),
        ("data-span", &span.to_string()),
        ("data-xpad", &page.xpad.to_string()),
        ("data-font-width", &page.font_width_repr),
        ("data-min-label-chars", &page.min_label_chars.to_string()),
        ("data-label-pad", &page.label_pad.to_string()),
        ("data-name-type", &visible(&page.name_type)),
        ("data-search-color", &page.search_color),
        (
            "data-truncate",
            if page.truncate_right { "right" } else { "left" },
        ),
    ] {
        attr(out, name, value);
    }
    push(out, "><defs><linearGradient id=\"background\" x1=\"0\" x2=\"0\" y1=\"0\" y2=\"1\"><stop offset=\"5%\"");
    attr(out, "stop-color", &page.background.0);
    push(out, "/><stop offset=\"95%\"");
    attr(out, "stop-color", &page.background.1);
    push(out, "/></linearGradient></defs><style type=\"text/css\">");
    push_escaped(out, &page.css, false);
    push(out, "</style><rect x=\"0\" y=\"0\"");
    attr(out, "width", &page.width.to_string());
    attr(out, "height", &height_px);
    push(out, " fill=\"url(#background)\"/>");
    let font = format_px(fs + 5.0);
    text_element(
        out,
        width / 2.0,
        fs * 2.0,
        &[("id", "title"), ("font-size", &font)],
        &visible(&page.title),
    );
    let xpad = page.xpad as f64;
    let low = height - style.bottom / 2.0;
    text_element(out, xpad, low, &[("id", "details")], " ");
    text_element(
        out,
        xpad,
        fs * 2.0,
        &[("id", "unzoom"), ("class", "hide")],
        "Reset Zoom",
    );
    text_element(
        out,
        width - xpad - SEARCH_X,
        fs * 2.0,
        &[("id", "search")],
        "Search",
    );
    text_element(
        out,
        width - xpad - IGNORECASE_X,
        fs * 2.0,
        &[("id", "ignorecase")],
        "ic",
    );
    text_element(out, width - xpad - SEARCH_X, low, &[("id", "matched")], " ");
    if frames.is_empty() {
        push(out, "<g id=\"frames\"/>");
    } else {
        push(out, "<g id=\"frames\">");
        write_frames_spilling(out, frames, &HashMap::new(), style, spill_at, spill)?;
        push(out, "</g>");
    }
    push(out, "<script type=\"text/ecmascript\"><![CDATA[");
    push(out, &page.script);
    push(out, "]]></script></svg>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(script: &str) -> Page {
        Page {
            width: 1200,
            frame_height: 16,
            frame_pad: 1,
            xpad: 10,
            font_type: "Verdana".into(),
            font_size: 12.0,
            font_width_repr: "0.59".into(),
            font_width: 0.59,
            name_type: "Function:".into(),
            search_color: "rgb(230,0,230)".into(),
            title: "Flame Graph".into(),
            root: "all".into(),
            unit: "samples".into(),
            min_label_chars: 3,
            label_pad: 3,
            truncate_right: true,
            factor: 1.0,
            palette: "hot".into(),
            background: ("#eeeeee".into(), "#eeeeb0".into()),
            css: "text { }".into(),
            script: script.into(),
        }
    }

    #[test]
    fn streamed_in_pieces_as_written_whole() {
        // a tower deep enough for several pieces
        let names: Vec<String> = (0..4000).map(|i| format!("function_{i}")).collect();
        let frames: Vec<Frame<'_>> = names
            .iter()
            .enumerate()
            .map(|(depth, name)| Frame {
                name,
                depth: depth as u32,
                start: 0,
                weight: 7,
            })
            .collect();
        let page = page("var x = 1;");
        let whole = write_document(&page, &frames, 7).expect("writable");
        assert!(whole.len() > 2 * PIECE);
        let mut streamed = Vec::new();
        write_document_to(&mut streamed, &page, &frames, 7).expect("written");
        assert_eq!(streamed, whole);
    }

    #[test]
    fn nothing_written_when_not_writable() {
        let frames = [Frame {
            name: "all",
            depth: 0,
            start: 0,
            weight: 1,
        }];
        let page = page("if (a[b[0]]>1) {}");
        assert!(!document_writable(&page, &frames, 1));
        assert!(write_document(&page, &frames, 1).is_none());
        let mut out = Vec::new();
        assert!(write_document_to(&mut out, &page, &frames, 1).is_err());
        assert!(out.is_empty());
    }
}
