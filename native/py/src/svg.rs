//! Python face of the SVG frame writer (`foldkit.render.svg` calls it; its lxml writer stays the
//! reference): the frames of a layout as the markup lxml would write, or None when the writer
//! here cannot give exactly that (the caller then writes them itself).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use foldkit_core::svg_document::{document_writable, write_document, write_document_to, Page};
use foldkit_core::svg_frames::{write_frames, Frame, Style};
use foldkit_core::svg_palette as palette;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyInt, PyList, PyString};

use crate::convert::guard;
use crate::folded::FoldedStacks;

/// Weights (and starts) above this are left to the twin: `100 * w` and every other float the
/// twin computes from them stays exact.
const EXACT: i64 = 1 << 46;

/// An int of a layout list within `EXACT`, else None.
fn exact(item: &Bound<'_, PyAny>) -> Option<i64> {
    if !item.is_exact_instance_of::<PyInt>() {
        return None;
    }
    item.extract::<i64>().ok().filter(|v| v.abs() < EXACT)
}

/// A style entry of `style` (a dict from `foldkit.render.svg`).
fn get<'py, T: FromPyObjectOwned<'py>>(style: &Bound<'py, PyDict>, key: &str) -> PyResult<T> {
    match style.get_item(key)? {
        Some(value) => value.extract::<T>().map_err(Into::into),
        None => Err(pyo3::exceptions::PyKeyError::new_err(key.to_owned())),
    }
}

/// The `<rect>`/`<text>` markup of the frames `names`, `depths`, `starts`, `weights` (a
/// `Layout`'s lists) drawn with `style` (see `foldkit_core::svg_frames::Style`; its keys are the
/// field names); `fills` gives the fill of names the native palette does not colour (every name
/// not ASCII). None when a name is not valid UTF-8, a weight not an int within 2^46, the
/// palette not one the native core knows, or a count not exactly formattable.
#[pyfunction]
pub fn svg_frames<'py>(
    py: Python<'py>,
    names: &Bound<'py, PyList>,
    depths: &Bound<'py, PyList>,
    starts: &Bound<'py, PyList>,
    weights: &Bound<'py, PyList>,
    fills: &Bound<'py, PyDict>,
    style: &Bound<'py, PyDict>,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let style = Style {
        scale: get(style, "scale")?,
        span: get(style, "span")?,
        factor: get(style, "factor")?,
        unit: get(style, "unit")?,
        xpad: get(style, "xpad")?,
        inverted: get(style, "inverted")?,
        top: get(style, "top")?,
        height: get(style, "height")?,
        bottom: get(style, "bottom")?,
        frame_height: get(style, "frame_height")?,
        frame_pad: get(style, "frame_pad")?,
        rect_height: get(style, "rect_height")?,
        label_dy: get(style, "label_dy")?,
        char_px: get(style, "char_px")?,
        min_label_px: get(style, "min_label_px")?,
        label_pad: get(style, "label_pad")?,
        min_chars: get(style, "min_chars")?,
        truncate_right: get(style, "truncate_right")?,
        palette: get(style, "palette")?,
        hash_start: get(style, "hash_start")?,
    };
    let n = names.len();
    if depths.len() != n || starts.len() != n || weights.len() != n {
        return Ok(None);
    }
    let mut given: HashMap<&str, String> = HashMap::new();
    let mut held = Vec::with_capacity(fills.len());
    for (name, fill) in fills.iter() {
        held.push((name.cast_into::<PyString>()?, fill.extract::<String>()?));
    }
    for (name, fill) in &held {
        let Ok(name) = name.to_str() else {
            return Ok(None);
        };
        given.insert(name, fill.clone());
    }
    let known = palette::knows(&style.palette);
    let mut strings = Vec::with_capacity(n);
    for name in names.iter() {
        strings.push(name.cast_into::<PyString>()?);
    }
    let mut frames = Vec::with_capacity(n);
    for (i, name) in strings.iter().enumerate() {
        let Ok(name) = name.to_str() else {
            return Ok(None);
        };
        if !(given.contains_key(name) || known && name.is_ascii()) {
            return Ok(None);
        }
        let (Some(start), Some(weight)) =
            (exact(&starts.get_item(i)?), exact(&weights.get_item(i)?))
        else {
            return Ok(None);
        };
        let depth: u32 = depths.get_item(i)?.extract()?;
        frames.push(Frame {
            name,
            depth,
            start,
            weight,
        });
    }
    let markup = guard("SVG writer", || write_frames(&frames, &given, &style))?;
    Ok(markup.map(|m| PyBytes::new(py, &m)))
}

/// The plain picture's page from `page` (a dict from `foldkit.cli.plain`).
fn plain_page(page: &Bound<'_, PyDict>) -> PyResult<Page> {
    Ok(Page {
        width: get(page, "width")?,
        frame_height: get(page, "frame_height")?,
        frame_pad: get(page, "frame_pad")?,
        xpad: get(page, "xpad")?,
        font_type: get(page, "font_type")?,
        font_size: get(page, "font_size")?,
        font_width_repr: get(page, "font_width_repr")?,
        font_width: get(page, "font_width")?,
        name_type: get(page, "name_type")?,
        search_color: get(page, "search_color")?,
        title: get(page, "title")?,
        root: get(page, "root")?,
        unit: get(page, "unit")?,
        min_label_chars: get(page, "min_label_chars")?,
        label_pad: get(page, "label_pad")?,
        truncate_right: get(page, "truncate_right")?,
        factor: get(page, "factor")?,
        palette: get(page, "palette")?,
        background: get(page, "background")?,
        css: get(page, "css")?,
        script: get(page, "script")?,
    })
}

/// `draw(page, frames, span)` of the plain picture of `table` (see `table_svg`), or None when
/// it is not a plain one.
fn with_plain_frames<R>(
    py: Python<'_>,
    table: &FoldedStacks,
    threshold: i128,
    max_frames: usize,
    page: &Bound<'_, PyDict>,
    draw: impl FnOnce(&Page, &[Frame<'_>], i64) -> PyResult<Option<R>>,
) -> PyResult<Option<R>> {
    let page = plain_page(page)?;
    if !palette::knows(&page.palette) {
        return Ok(None);
    }
    let Some((tree, laid)) = table.laid_out(py, threshold, max_frames, false)? else {
        return Ok(None);
    };
    if laid.cut.is_some() || tree.nonpositive > 0 || laid.nodes.is_empty() {
        return Ok(None);
    }
    let span = laid.weights[0];
    if !(0 < span && span < i128::from(EXACT)) {
        return Ok(None);
    }
    let mut frames = Vec::with_capacity(laid.nodes.len());
    for (i, &node) in laid.nodes.iter().enumerate() {
        let raw: &[u8] = if i == 0 {
            page.root.as_bytes()
        } else {
            tree.names[node as usize]
        };
        if !raw.is_ascii() {
            return Ok(None);
        }
        let Ok(name) = std::str::from_utf8(raw) else {
            return Ok(None);
        };
        frames.push(Frame {
            name,
            depth: laid.depths[i],
            // within the span, which is within 2^46
            start: laid.starts[i] as i64,
            weight: laid.weights[i] as i64,
        });
    }
    draw(&page, &frames, span as i64)
}

/// The whole SVG of the plain flame graph of `table` (every picture flag at its default:
/// `foldkit.cli.plain`), laid out with `threshold` and `max_frames` as `FoldedStacks.layout`
/// lays it out, around the frames `svg_frames` writes; `page` gives the defaults and package
/// files (see `foldkit_core::svg_document::Page`; its keys are the field names, `background` a
/// pair). None when the picture is not a plain one: nothing to draw, a stack left out (zero or
/// negative weight), the frame budget reached, a name not ASCII, weights beyond 2^46 (the
/// caller then draws it as every other picture).
#[pyfunction]
pub fn table_svg<'py>(
    py: Python<'py>,
    table: PyRef<'py, FoldedStacks>,
    threshold: i128,
    max_frames: usize,
    page: &Bound<'py, PyDict>,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    with_plain_frames(
        py,
        &table,
        threshold,
        max_frames,
        page,
        |page, frames, span| {
            let document =
                py.detach(|| guard("SVG writer", || write_document(page, frames, span)))?;
            Ok(document.map(|d| PyBytes::new(py, &d)))
        },
    )
}

/// `table_svg`'s document written by the native core to the file named `path`, or to the
/// process's standard output when `path` is None, a piece at a time (the document is not held
/// whole, nor copied into Python): the file is made (it must not exist; readable by its owner
/// only) when `new`, else opened for writing as `open(path, "wb")` opens it (a device, a FIFO).
/// False, having made and written nothing, when the picture is not a plain one; an `OSError`
/// (with the errno and its text, as Python's own calls raise them) when the file cannot be made
/// or written.
#[pyfunction]
#[pyo3(signature = (table, threshold, max_frames, page, path, new))]
pub fn table_svg_write<'py>(
    py: Python<'py>,
    table: PyRef<'py, FoldedStacks>,
    threshold: i128,
    max_frames: usize,
    page: &Bound<'py, PyDict>,
    path: Option<PathBuf>,
    new: bool,
) -> PyResult<bool> {
    let written = with_plain_frames(
        py,
        &table,
        threshold,
        max_frames,
        page,
        |page, frames, span| {
            if !document_writable(page, frames, span) {
                return Ok(None);
            }
            let result = py.detach(|| {
                guard("SVG writer", || -> io::Result<()> {
                    let mut file = output_file(path.as_deref(), new)?;
                    write_document_to(&mut file, page, frames, span)
                })
            })?;
            result.map(Some).map_err(|err| os_error(py, &err))
        },
    )?;
    Ok(written.is_some())
}

/// The output file `path` ([`open_output`]), or standard output (`path` None) as a descriptor
/// of its own (a `dup`, sharing the offset): written a piece at a time, where `io::stdout()`
/// would scan every piece for line ends.
pub(crate) fn output_file(path: Option<&Path>, new: bool) -> io::Result<File> {
    match path {
        None => Ok(File::from(io::stdout().as_fd().try_clone_to_owned()?)),
        Some(path) => open_output(path, new),
    }
}

/// The output file `path`, made (`new`: it must not exist) or opened for writing and truncated.
pub(crate) fn open_output(path: &Path, new: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true);
    if new {
        options.create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
    } else {
        options.create(true).truncate(true);
    }
    options.open(path)
}

/// `err` as the `OSError` Python raises for it: `OSError(errno, os.strerror(errno))`, which is
/// the subclass of that errno (`FileExistsError`, `BrokenPipeError`, ...).
pub(crate) fn os_error(py: Python<'_>, err: &io::Error) -> PyErr {
    let Some(code) = err.raw_os_error() else {
        return PyOSError::new_err(err.to_string());
    };
    let text = py
        .import("os")
        .and_then(|os| os.getattr("strerror")?.call1((code,))?.extract::<String>())
        .unwrap_or_else(|_| err.to_string());
    PyOSError::new_err((code, text))
}

/// Register this file's functions in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(table_svg, m)?)?;
    m.add_function(wrap_pyfunction!(table_svg_write, m)?)?;
    m.add_function(wrap_pyfunction!(svg_frames, m)?)?;
    Ok(())
}
