//! Python face of the bpftrace reader (`foldkit_core::bpf`): `BpftraceReader` reads the chunks,
//! says what it found (maps, unrecognised lines, cut entries) for `foldkit.ingest.bpftrace` to
//! word as its Python twin does, and folds the chosen maps into a `FoldedStacks` table.

use std::collections::HashMap;

use foldkit_core::bpf::bcc::{Event, Line, Options as BccOptions, Reader as BccCore};
use foldkit_core::bpf::bpftrace::{Options, Parser, StackMap};
use foldkit_core::bpf::json::{JsonLines, Step};
use foldkit_core::bpf::names::{Frame, Mode};
use foldkit_core::folded::file::FileStacks;
use foldkit_core::folded::FoldedReader;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::convert::{guard, int};
use crate::folded::FoldedStacks;

/// A bpftrace text output read natively (see `foldkit_core::bpf::bpftrace`).
#[pyclass(module = "foldkit._native")]
pub struct BpftraceReader {
    inner: Parser,
    json: JsonLines,
    opts: Options,
    classified: HashMap<usize, Option<StackMap>>,
}

fn bytes_or_none<'py>(py: Python<'py>, b: Option<&Vec<u8>>) -> Bound<'py, PyAny> {
    match b {
        Some(b) => PyBytes::new(py, b).into_any(),
        None => py.None().into_bound(py),
    }
}

#[pymethods]
impl BpftraceReader {
    #[new]
    fn new(addrs: bool, kernel: bool, inline: bool, skip_after: Vec<Vec<u8>>) -> Self {
        BpftraceReader {
            inner: Parser::new(),
            json: JsonLines::new(),
            opts: Options {
                addrs,
                kernel,
                inline,
                skip_after,
            },
            classified: HashMap::new(),
        }
    }

    /// Read a chunk of whole lines.
    fn feed(&mut self, chunk: &[u8]) -> PyResult<()> {
        guard("bpftrace reader", || self.inner.feed(chunk))
    }

    /// Read `-f json` lines of `chunk` (whole lines) from byte `pos`: None when all were read,
    /// else `(start, end, next, line number)` of a line for the Python twin to read (it hands
    /// in what the line holds with `text_lines`, `json_skip` or `bad_line`; reading goes on
    /// from `next`).
    fn feed_json(
        &mut self,
        chunk: &[u8],
        pos: usize,
    ) -> PyResult<Option<(usize, usize, usize, u64)>> {
        let (parser, json) = (&mut self.inner, &mut self.json);
        let step = guard("bpftrace reader", || json.feed(parser, chunk, pos))?;
        Ok(match step {
            Step::Done => None,
            Step::Decline {
                start,
                end,
                next,
                lineno,
            } => Some((start, end, next, lineno)),
        })
    }

    /// Read lines of text that stand for the input (a JSON line the twin read), numbered on.
    fn text_lines(&mut self, lines: Vec<Vec<u8>>) -> PyResult<()> {
        let parser = &mut self.inner;
        guard("bpftrace reader", || {
            for line in &lines {
                parser.text_line(line);
            }
        })
    }

    /// Count an unrecognised line (`lineno`, `text`).
    fn bad_line(&mut self, lineno: u64, text: &[u8]) {
        self.inner.report.bad_line(lineno, text);
    }

    /// Count one print of map `name` that is not a stack map (`-f json`).
    fn json_skip(&mut self, name: &[u8]) {
        self.json.skip(name);
    }

    /// Maps printed as something other than stacks in `-f json`: `[(name, prints)]`, in order of
    /// the first.
    fn json_skipped<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for (name, count) in self.json.skipped() {
            out.append((PyBytes::new(py, name), *count))?;
        }
        Ok(out)
    }

    /// End of input: an entry left open is reported.
    fn finish(&mut self) -> PyResult<()> {
        guard("bpftrace reader", || self.inner.finish_input())
    }

    /// The distinct frame lines that are not printable ASCII: the caller names them with the
    /// Python namer and hands the names to `name_lines`, in this order.
    fn odd_lines<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for id in self.inner.odd_lines() {
            out.append(PyBytes::new(py, self.inner.lines.get(id)))?;
        }
        Ok(out)
    }

    /// Name every frame line; `named` are `(name, evidence, inlined, mode, exact)` of `odd_lines`.
    fn name_lines(&mut self, named: Vec<(Vec<u8>, i8, bool, String, bool)>) -> PyResult<()> {
        let mut frames = Vec::with_capacity(named.len());
        for (name, evidence, inlined, mode, exact) in named {
            let mode = Mode::from_name(&mode)
                .ok_or_else(|| PyValueError::new_err(format!("no stack mode {mode:?}")))?;
            frames.push(Frame {
                name,
                evidence,
                inlined,
                mode,
                exact,
            });
        }
        let opts = self.opts.clone();
        guard("bpftrace reader", || self.inner.name_lines(&opts, frames))
    }

    /// What was read beside the maps: `(bad lines, [(line, text)] quoted, [(entry line, entry
    /// text, line that cut it or None)], error lines, first error line, other lines,
    /// [(line, text)] quoted, first text line, lines)`.
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let r = &self.inner.report;
        let quoted = |list: &Vec<(u64, Vec<u8>)>| -> PyResult<Bound<'py, PyList>> {
            let out = PyList::empty(py);
            for (lineno, text) in list {
                out.append((*lineno, PyBytes::new(py, text)))?;
            }
            Ok(out)
        };
        let cuts = PyList::empty(py);
        for cut in &r.cuts {
            cuts.append((cut.entry_line, PyBytes::new(py, &cut.entry_text), cut.at))?;
        }
        (
            r.bad_lines,
            quoted(&r.bad_examples)?,
            cuts,
            r.errors,
            bytes_or_none(py, r.first_error.as_ref()),
            r.other_lines,
            quoted(&r.other_examples)?,
            bytes_or_none(py, r.first_text.as_ref()),
            r.lines,
        )
            .into_pyobject(py)
    }

    /// Every map in first-printed order: `(name, first line, entries printed, other values,
    /// other value with a stack key, scalar, total, distinct entries, stack positions)`.
    fn maps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for (at, dump) in self.inner.maps.iter().enumerate() {
            out.append((
                PyBytes::new(py, &dump.name),
                dump.first_line,
                dump.printed,
                dump.other_values,
                dump.other_stack,
                dump.scalar,
                int(py, self.inner.total(at))?,
                dump.entries.len(),
                self.inner.stack_positions(at),
            ))?;
        }
        Ok(out)
    }

    /// Map `at` classified: `(positions, kinds, modes, arity, scalar kinds by position)`, or
    /// None when it has no stack key.
    fn classify<'py>(
        &mut self,
        py: Python<'py>,
        at: usize,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let inner = &self.inner;
        let found = guard("bpftrace reader", || inner.classify(at))?;
        let out = match &found {
            None => None,
            Some(m) => {
                let kinds: Vec<&str> = m.kinds.iter().map(|k| k.name()).collect();
                let modes: Vec<&str> = m.modes.iter().map(|k| k.name()).collect();
                let scalar_kinds: Vec<&str> =
                    (0..m.arity).map(|i| inner.scalar_kind(at, i)).collect();
                Some((m.positions.clone(), kinds, modes, m.arity, scalar_kinds).into_pyobject(py)?)
            }
        };
        self.classified.insert(at, found);
        Ok(out)
    }

    /// The entries of the classified maps `chosen` folded into a table, each map's name as its
    /// stacks' root frame when `several`.
    fn fold(&self, py: Python<'_>, chosen: Vec<usize>, several: bool) -> PyResult<FoldedStacks> {
        let maps: Vec<StackMap> = chosen
            .iter()
            .map(|at| self.classified.get(at).cloned().flatten())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                PyValueError::new_err("a map not classified (or without a stack) was chosen")
            })?;
        let (inner, opts) = (&self.inner, &self.opts);
        let stacks = py.detach(|| {
            guard("bpftrace reader", || {
                let mut out = FoldedReader::new();
                inner.fold(&maps, several, opts, &mut out);
                let utf8 = out.utf8();
                let (stacks, floats) = out.into_items();
                FileStacks {
                    stacks,
                    floats,
                    deferred: Vec::new(),
                    lines: inner.report.lines,
                    utf8,
                    offsets: false,
                }
            })
        })?;
        Ok(FoldedStacks::new(stacks))
    }
}

/// BCC's multi-line output read natively (see `foldkit_core::bpf::bcc`).
#[pyclass(module = "foldkit._native")]
pub struct BccReader {
    inner: Option<BccCore>,
}

impl BccReader {
    fn core(&mut self) -> PyResult<&mut BccCore> {
        self.inner
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("the BCC reader was emptied by `table`"))
    }
}

#[pymethods]
impl BccReader {
    #[new]
    fn new(
        addrs: bool,
        kernel: bool,
        pid: bool,
        keep_bpf_frames: bool,
        skip_after: Vec<Vec<u8>>,
    ) -> Self {
        BccReader {
            inner: Some(BccCore::new(BccOptions {
                addrs,
                kernel,
                pid,
                keep_bpf_frames,
                skip_after,
            })),
        }
    }

    /// Read `chunk` from byte `pos` until the caller must act: None when all was read, else
    /// `(kind, line number, bytes, number, next)`: `"outside"` (a line not indented; bytes its
    /// text), `"cut"` (a block without a value: its first line number and text, and the number of
    /// the line that cut it), `"bad"` (a block line no pattern reads), `"name"` (a distinct line
    /// to name with `set_name`; number is its id).
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        chunk: &[u8],
        pos: usize,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let core = self.core()?;
        let event = guard("BCC reader", || core.feed(chunk, pos))?;
        let out = match event {
            Event::Done => return Ok(None),
            Event::Outside {
                lineno,
                start,
                end,
                next,
            } => (
                "outside",
                lineno,
                PyBytes::new(py, &chunk[start..end]),
                0u64,
                next,
            ),
            Event::Cut {
                start,
                first,
                lineno,
                next,
            } => ("cut", start, PyBytes::new(py, &first), lineno, next),
            Event::Bad { lineno, text, next } => ("bad", lineno, PyBytes::new(py, &text), 0, next),
            Event::Name { id, text, next } => {
                ("name", 0, PyBytes::new(py, &text), u64::from(id), next)
            }
        };
        Ok(Some(out.into_pyobject(py)?))
    }

    /// Name line `id`: `(name, frame, address kind)`, or None when it is not a block line.
    fn set_name(&mut self, id: u32, line: Option<(Vec<u8>, bool, i8)>) -> PyResult<()> {
        let core = self.core()?;
        core.set_name(
            id,
            line.map(|(name, frame, address_kind)| Line {
                name,
                frame,
                address_kind,
            }),
        );
        Ok(())
    }

    /// `(first line, [line texts])` of the block still open.
    fn open_block<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let core = self.core()?;
        let (start, lines) = core.open_block();
        let texts = PyList::empty(py);
        for line in lines {
            texts.append(PyBytes::new(py, line))?;
        }
        (start, texts).into_pyobject(py)
    }

    /// `(blocks folded, distinct stacks, first leaf, trimmed stacks, their weight, blocks with
    /// a task root, without)`.
    fn summary<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let core = self.core()?;
        let (trimmed, share) = core.trimmed_share();
        (
            core.folded_blocks,
            core.out.len(),
            bytes_or_none(py, core.first_leaf.as_ref()),
            trimmed,
            int(py, share)?,
            core.with_task,
            core.without_task,
        )
            .into_pyobject(py)
    }

    /// The stacks as a table (the reader is emptied).
    fn table(&mut self, lines: u64) -> PyResult<FoldedStacks> {
        let core = self
            .inner
            .take()
            .ok_or_else(|| PyValueError::new_err("the BCC reader was emptied by `table`"))?;
        let out = core.out;
        let utf8 = out.utf8();
        let (stacks, floats) = out.into_items();
        Ok(FoldedStacks::new(FileStacks {
            stacks,
            floats,
            deferred: Vec::new(),
            lines,
            utf8,
            offsets: false,
        }))
    }
}

/// Register this file's classes in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<BpftraceReader>()?;
    m.add_class::<BccReader>()?;
    Ok(())
}
