//! A whole flame-graph SVG for the plain picture (every picture flag at its default): the
//! document `foldkit.render.svg.write_svg` writes with lxml (its twin and reference) around the
//! frames `svg_frames` writes, byte for byte: the XML declaration, the `<svg>` element and its
//! settings, the background, style, title and controls, the frames and the script. The caller
//! (`foldkit.cli.plain`, through `_native.table_svg`) gives the defaults and package files;
//! every text is made visible and escaped here as lxml escapes it.

use std::collections::HashMap;

use crate::svg_frames::{format_px, push_escaped, visible, write_frames_into, Frame, Style};

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

/// The whole SVG of `frames` (the plain flame graph of a profile of `span`, frames in the
/// layout's order, frame 0 the root), or None when a count cannot be formatted exactly.
pub fn write_document(page: &Page, frames: &[Frame<'_>], span: i64) -> Option<Vec<u8>> {
    let max_depth = frames.iter().map(|f| f.depth).max().unwrap_or(0);
    let (style, height) = style(page, span, max_depth, !frames.is_empty());
    let fs = page.font_size;
    let width = page.width as f64;
    let height_px = format_px(height);
    let mut out =
        Vec::with_capacity(frames.len() * 300 + page.css.len() + page.script.len() + 4096);
    push(&mut out, "<?xml version='1.0' encoding='UTF-8'?>\n");
    push(&mut out, "<svg xmlns=\"http://www.w3.org/2000/svg\"");
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
        attr(&mut out, name, value);
    }
    push(&mut out, "><defs><linearGradient id=\"background\" x1=\"0\" x2=\"0\" y1=\"0\" y2=\"1\"><stop offset=\"5%\"");
    attr(&mut out, "stop-color", &page.background.0);
    push(&mut out, "/><stop offset=\"95%\"");
    attr(&mut out, "stop-color", &page.background.1);
    push(
        &mut out,
        "/></linearGradient></defs><style type=\"text/css\">",
    );
    push_escaped(&mut out, &page.css, false);
    push(&mut out, "</style><rect x=\"0\" y=\"0\"");
    attr(&mut out, "width", &page.width.to_string());
    attr(&mut out, "height", &height_px);
    push(&mut out, " fill=\"url(#background)\"/>");
    let font = format_px(fs + 5.0);
    text_element(
        &mut out,
        width / 2.0,
        fs * 2.0,
        &[("id", "title"), ("font-size", &font)],
        &visible(&page.title),
    );
    let xpad = page.xpad as f64;
    let low = height - style.bottom / 2.0;
    text_element(&mut out, xpad, low, &[("id", "details")], " ");
    text_element(
        &mut out,
        xpad,
        fs * 2.0,
        &[("id", "unzoom"), ("class", "hide")],
        "Reset Zoom",
    );
    text_element(
        &mut out,
        width - xpad - SEARCH_X,
        fs * 2.0,
        &[("id", "search")],
        "Search",
    );
    text_element(
        &mut out,
        width - xpad - IGNORECASE_X,
        fs * 2.0,
        &[("id", "ignorecase")],
        "ic",
    );
    text_element(
        &mut out,
        width - xpad - SEARCH_X,
        low,
        &[("id", "matched")],
        " ",
    );
    if frames.is_empty() {
        push(&mut out, "<g id=\"frames\"/>");
    } else {
        push(&mut out, "<g id=\"frames\">");
        write_frames_into(&mut out, frames, &HashMap::new(), &style)?;
        push(&mut out, "</g>");
    }
    if page.script.contains("]]>") {
        return None; // lxml refuses such a CDATA section; the twin says so
    }
    push(&mut out, "<script type=\"text/ecmascript\"><![CDATA[");
    push(&mut out, &page.script);
    push(&mut out, "]]></script></svg>\n");
    Some(out)
}
