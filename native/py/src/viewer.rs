//! Python face of the viewer's tree and payload (`foldkit.render.viewer.tree` and `payload` call
//! these; their Python twins stay the reference).

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use crate::convert::{guard, text, Texts};
use crate::folded::FoldedStacks;
use crate::layout::weighed;
use foldkit_core::folded::file::FileStacks;
use foldkit_core::palette::Palette;
use foldkit_core::viewer::{build, prepare, write, Prepared, Shown, TooLarge, ViewTree};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

/// The viewer's merged tree, held here until it is packed.
#[pyclass(module = "foldkit._native", frozen)]
pub struct ViewerTree {
    tree: ViewTree,
    /// True when the tree was built ahead, as its table was read (`keep_ahead`).
    built_ahead: bool,
}

/// A tree built ahead from a table read ahead (`read_ahead.rs`), held until `viewer_tree` is
/// asked for that table's tree: the table itself (held, so that no other object takes its
/// address while the tree waits), the root's name, the tree.
type Ahead = (Py<FoldedStacks>, Vec<u8>, ViewTree);

/// The tree built ahead, if any (one: a command line reads ahead the one file it draws).
static AHEAD: Mutex<Option<Ahead>> = Mutex::new(None);

/// Hold `tree`, built by `build_ahead` from `table`'s stacks with the root `root`, for
/// `viewer_tree`.
pub(crate) fn keep_ahead(table: Py<FoldedStacks>, root: Vec<u8>, tree: ViewTree) {
    if let Ok(mut held) = AHEAD.lock() {
        *held = Some((table, root, tree));
    }
}

/// The tree `viewer_tree(sides, root)` builds, built by `build_ahead` from `table` (the stacks
/// of a table `read_folded_file_later` read): None when the table's stacks are not the core's to
/// build (`table_pairs`: the twin builds them) or the tree is beyond the payload's limits (then
/// built again, to say so).
pub(crate) fn build_ahead(table: &FileStacks, root: &[u8]) -> Option<ViewTree> {
    if table.offsets {
        return None; // the stacks are rewritten before they are drawn
    }
    build(vec![table_pairs(table)?], root).ok()
}

/// The tree held for `sides` (one table, the one it was built from, without scales other than 1
/// and `reverse`, the same root); whatever is held is let go (a tree held for another table is
/// never asked for again).
fn take_ahead(sides: &Bound<'_, PyList>, root: &str, reverse: bool) -> Option<ViewTree> {
    let (table, built_root, tree) = AHEAD.lock().ok()?.take()?;
    let side = match sides.len() {
        1 => sides.get_item(0).ok()?,
        _ => return None,
    };
    (!reverse && side.is(table.bind(sides.py())) && built_root == root.as_bytes()).then_some(tree)
}

impl ViewerTree {
    /// The core's tree (for the Time view's stack nodes, `timeline.rs`).
    pub(crate) fn view(&self) -> &ViewTree {
        &self.tree
    }
}

/// One side's stacks as byte strings and i64 weights: a table's (None when a stack is not UTF-8
/// or a sum not an integer within i64) or a dict's (None when a weight is not such an int).
enum Side<'a, 'py> {
    Table(&'a FoldedStacks),
    Dict(Texts<'py>, Vec<i64>),
}

/// Stacks and weights, as the core takes them.
type Pairs<'a> = Vec<(&'a [u8], i64)>;

/// A table's stacks and weights as the core takes them; None when a stack is not UTF-8 or a
/// sum not an integer within i64.
fn table_pairs(inner: &FileStacks) -> Option<Pairs<'_>> {
    if !inner.utf8 || !inner.floats.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(inner.stacks.len());
    for (stack, weight) in inner.stacks.iter() {
        out.push((stack, i64::try_from(weight).ok()?));
    }
    Some(out)
}

fn pairs<'a>(side: &'a Side<'_, '_>) -> PyResult<Option<Pairs<'a>>> {
    Ok(match side {
        Side::Table(table) => table_pairs(&table.inner),
        Side::Dict(texts, weights) => Some(
            texts
                .bytes()?
                .into_iter()
                .zip(weights.iter().copied())
                .collect(),
        ),
    })
}

/// The merged tree of `sides` (each a `{stack: int}` dict or a `FoldedStacks` table), the root
/// called `root`; None when a weight is not an int within i64 or a table's stack is not UTF-8
/// (the Python twin builds those); a ValueError when the tree is beyond the payload's limits.
/// `scales`, one per side: what the payload multiplies that side's weights by (None when a
/// scale is not finite and above zero: the twin builds those from scaled dicts). With
/// `reverse`, every stack's frames in the opposite order (leaf first, the twin's
/// `reverse_stack`).
#[pyfunction]
#[pyo3(signature = (sides, root, scales = None, reverse = false))]
pub fn viewer_tree(
    py: Python<'_>,
    sides: &Bound<'_, PyList>,
    root: &str,
    scales: Option<Vec<f64>>,
    reverse: bool,
) -> PyResult<Option<ViewerTree>> {
    let scales = scales.unwrap_or_else(|| vec![1.0; sides.len()]);
    if scales.len() != sides.len() {
        return Err(PyValueError::new_err("one scale per side"));
    }
    if !scales.iter().all(|s| s.is_finite() && *s > 0.0) {
        return Ok(None);
    }
    let ahead = take_ahead(sides, root, reverse);
    if let Some(tree) = ahead {
        // built from the table while Python started (`built_ahead`): the same `build`, the
        // same stacks; only the scales are left
        let mut tree = tree;
        for (side, &factor) in scales.iter().enumerate() {
            tree.scale(side, factor);
        }
        return Ok(Some(ViewerTree {
            tree,
            built_ahead: true,
        }));
    }
    let mut held: Vec<Bound<'_, PyAny>> = Vec::new();
    for side in sides.iter() {
        held.push(side);
    }
    let mut parts: Vec<Side<'_, '_>> = Vec::new();
    let tables: Vec<Option<PyRef<'_, FoldedStacks>>> = held
        .iter()
        .map(|s| s.extract::<PyRef<'_, FoldedStacks>>().ok())
        .collect();
    for (side, table) in held.iter().zip(&tables) {
        match table {
            Some(t) => parts.push(Side::Table(t)),
            None => match weighed(side.cast::<PyDict>()?.iter())? {
                Some((texts, weights)) => parts.push(Side::Dict(texts, weights)),
                None => return Ok(None),
            },
        }
    }
    let mut lists = Vec::with_capacity(parts.len());
    for part in &parts {
        match pairs(part)? {
            Some(p) => lists.push(p),
            None => return Ok(None),
        }
    }
    let root = root.as_bytes();
    let built = py.detach(|| {
        guard("viewer tree", || {
            if !reverse {
                return build(lists, root);
            }
            let arenas: Vec<Reversed> = lists.iter().map(|side| reversed(side)).collect();
            drop(lists);
            build(arenas.iter().map(Reversed::pairs).collect(), root)
        })
    })?;
    match built {
        Ok(mut tree) => {
            for (side, &factor) in scales.iter().enumerate() {
                tree.scale(side, factor);
            }
            Ok(Some(ViewerTree {
                tree,
                built_ahead: false,
            }))
        }
        Err(TooLarge::Names) => Err(PyValueError::new_err(
            "the profile's distinct frame names take more than 4 GiB: too many for the viewer; write an SVG",
        )),
        Err(TooLarge::Nodes) => Err(PyValueError::new_err(
            "the profile has more than 4,294,967,295 distinct stack prefixes: too many for the viewer; write an SVG",
        )),
    }
}

/// One side's stacks with their frames in the opposite order, in one arena: where each ends, and
/// its weight.
struct Reversed {
    bytes: Vec<u8>,
    ends: Vec<(usize, i64)>,
}

impl Reversed {
    fn pairs(&self) -> Pairs<'_> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&(end, w)| {
                let stack = &self.bytes[start..end];
                start = end;
                (stack, w)
            })
            .collect()
    }
}

/// `side`'s stacks reversed: the frames between `;` in the opposite order, as the twin's
/// `";".join(reversed(stack.split(";")))` (`;` is never inside a UTF-8 sequence, so bytes split
/// where the text does). Distinct stacks stay distinct.
fn reversed(side: &[(&[u8], i64)]) -> Reversed {
    let mut bytes = Vec::with_capacity(side.iter().map(|(s, _)| s.len()).sum());
    let mut ends = Vec::with_capacity(side.len());
    for &(stack, w) in side {
        for (k, frame) in stack.rsplit(|&b| b == b';').enumerate() {
            if k > 0 {
                bytes.push(b';');
            }
            bytes.extend_from_slice(frame);
        }
        ends.push((bytes.len(), w));
    }
    Reversed { bytes, ends }
}

/// `{name id: (shown name, rgb bytes)}` as the core takes it.
fn given_fills(given: &Bound<'_, PyDict>) -> PyResult<HashMap<u32, Shown>> {
    let mut shown: HashMap<u32, Shown> = HashMap::with_capacity(given.len());
    for (id, value) in given.iter() {
        let (name, fill): (String, Vec<u8>) = value.extract()?;
        let rgb = <[u8; 3]>::try_from(fill.as_slice())
            .map_err(|_| PyValueError::new_err("a fill is three bytes"))?;
        shown.insert(id.extract()?, (name.into_bytes(), rgb));
    }
    Ok(shown)
}

/// A sink that hands each chunk of base64 text to the thread that holds the GIL.
struct Chunks(SyncSender<Vec<u8>>);

impl Write for Chunks {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .send(buf.to_vec())
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the writer stopped"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The next chunk, waited for without the GIL.
fn next_chunk(py: Python<'_>, rx: Receiver<Vec<u8>>) -> (Option<Vec<u8>>, Receiver<Vec<u8>>) {
    py.detach(move || (rx.recv().ok(), rx))
}

#[pymethods]
impl ViewerTree {
    fn __len__(&self) -> usize {
        self.tree.len()
    }

    /// Distinct names.
    #[getter]
    fn name_count(&self) -> usize {
        self.tree.name_count()
    }

    /// Sides (profiles) merged: one per self-weight array.
    #[getter]
    fn sides(&self) -> usize {
        self.tree.sides()
    }

    /// Stacks left out because their weight was zero or negative.
    #[getter]
    fn nonpositive(&self) -> usize {
        self.tree.nonpositive
    }

    /// True when the tree was built as its table was read ahead (`read_folded_file_later` with
    /// `viewer_root`), while Python started.
    #[getter]
    fn built_ahead(&self) -> bool {
        self.built_ahead
    }

    /// `[(name id, name)]` of the names the page does not colour with `palette` (every name
    /// when it is None or a palette the page does not know): the twin gives their shown form
    /// and fill.
    #[pyo3(signature = (palette = None))]
    fn names_for_twin<'py>(
        &self,
        py: Python<'py>,
        palette: Option<&str>,
    ) -> PyResult<Bound<'py, PyList>> {
        let palette = palette.and_then(Palette::new);
        let out = PyList::empty(py);
        for &i in self.tree.uncoloured(palette.as_ref()).iter() {
            out.append((i, text(py, self.tree.name(i as usize), "surrogatepass")?))?;
        }
        Ok(out)
    }

    /// `(names_bytes, raw_bytes, (selfs, name_ids, depths types), fills given)` of the payload
    /// of a page that colours names with `palette` (None: every fill from `given`), `given`
    /// `{name id: (shown name, rgb bytes)}` for the names `names_for_twin` listed.
    fn header<'py>(
        &self,
        py: Python<'py>,
        palette: Option<&str>,
        given: &Bound<'py, PyDict>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let prepared = self.prepared(palette, given)?;
        (
            prepared.names_bytes,
            prepared.raw_bytes,
            PyTuple::new(py, prepared.types)?,
            prepared.given(),
        )
            .into_pyobject(py)
    }

    /// Write the payload (base64 text of the gzip stream at `level`) to `out` (anything with a
    /// `write(bytes)` method) in chunks of about a megabyte; `palette` and `given` as for
    /// `header`. The data is compressed on another thread while `out.write` takes each chunk.
    fn write(
        &self,
        py: Python<'_>,
        out: &Bound<'_, PyAny>,
        palette: Option<&str>,
        given: &Bound<'_, PyDict>,
        level: u32,
    ) -> PyResult<()> {
        let prepared = self.prepared(palette, given)?;
        let tree = &self.tree;
        let (tx, mut rx) = sync_channel::<Vec<u8>>(2);
        std::thread::scope(|scope| {
            let prepared = &prepared;
            let worker = scope.spawn(move || {
                guard("viewer payload", || {
                    write(tree, prepared, level, Chunks(tx))
                })
            });
            let mut failed: Option<PyErr> = None;
            loop {
                let (chunk, back) = next_chunk(py, rx);
                rx = back;
                let Some(chunk) = chunk else { break };
                if let Err(err) =
                    out.call_method1(intern!(py, "write"), (PyBytes::new(py, &chunk),))
                {
                    failed = Some(err);
                    break;
                }
            }
            drop(rx); // a writer still sending stops
            let done = py.detach(|| worker.join());
            if let Some(err) = failed {
                return Err(err);
            }
            match done {
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(err))) => Err(PyOSError::new_err(err.to_string())),
                Ok(Err(err)) => Err(err),
                Err(_) => Err(PyRuntimeError::new_err(
                    "internal error in the native viewer payload",
                )),
            }
        })
    }

    /// `(names, name_ids, depths, selfs)` for `FrameTree`: names as str, the arrays as native
    /// bytes (uint32, uint32, one float64 array per side).
    fn arrays<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let tree = &self.tree;
        let names = PyList::empty(py);
        for i in 0..tree.name_count() {
            names.append(text(py, tree.name(i), "surrogatepass")?)?;
        }
        let ne = |values: &[u32]| {
            values
                .iter()
                .flat_map(|v| v.to_ne_bytes())
                .collect::<Vec<u8>>()
        };
        let selfs = PyList::empty(py);
        for side in 0..tree.sides() {
            let raw: Vec<u8> = tree.shown_selfs(side).flat_map(f64::to_ne_bytes).collect();
            selfs.append(PyBytes::new(py, &raw))?;
        }
        (
            names,
            PyBytes::new(py, &ne(&tree.name_ids)),
            PyBytes::new(py, &ne(&tree.depths.to_vec())),
            selfs,
        )
            .into_pyobject(py)
    }
}

impl ViewerTree {
    fn prepared(&self, palette: Option<&str>, given: &Bound<'_, PyDict>) -> PyResult<Prepared> {
        let palette = palette.and_then(Palette::new);
        let shown = given_fills(given)?;
        prepare(&self.tree, palette.as_ref(), |i| shown.get(&i).cloned())
            .ok_or_else(|| PyValueError::new_err("a name has no fill"))
    }
}

/// Register this file's classes and functions in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ViewerTree>()?;
    m.add_function(wrap_pyfunction!(viewer_tree, m)?)?;
    Ok(())
}
