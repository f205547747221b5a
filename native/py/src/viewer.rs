//! Python face of the viewer's tree and payload (`foldkit.render.viewer.tree` and `payload` call
//! these; their Python twins stay the reference).

use std::collections::HashMap;

use foldkit_core::palette::Palette;
use foldkit_core::viewer::{build, pack, Shown, ViewTree};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::convert::{guard, text, Texts};
use crate::folded::FoldedStacks;
use crate::layout::weighed;

/// The viewer's merged tree, held here until it is packed.
#[pyclass(module = "foldkit._native", frozen)]
pub struct ViewerTree {
    tree: ViewTree,
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

fn pairs<'a>(side: &'a Side<'_, '_>) -> PyResult<Option<Pairs<'a>>> {
    Ok(match side {
        Side::Table(table) => {
            let inner = &table.inner;
            if !inner.utf8 || !inner.floats.is_empty() {
                return Ok(None);
            }
            let mut out = Vec::with_capacity(inner.stacks.len());
            for (stack, weight) in inner.stacks.iter() {
                let Ok(w) = i64::try_from(weight) else {
                    return Ok(None);
                };
                out.push((stack, w));
            }
            Some(out)
        }
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
/// (the Python twin builds those).
#[pyfunction]
pub fn viewer_tree(
    py: Python<'_>,
    sides: &Bound<'_, PyList>,
    root: &str,
) -> PyResult<Option<ViewerTree>> {
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
    let tree = py.detach(|| guard("viewer tree", || build(lists, root)))?;
    Ok(Some(ViewerTree { tree }))
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
        self.tree.selfs.len()
    }

    /// Stacks left out because their weight was zero or negative.
    #[getter]
    fn nonpositive(&self) -> usize {
        self.tree.nonpositive
    }

    /// `[(name id, name)]` of the names `palette` does not colour here (every name when it is
    /// None or a palette this core does not know): the twin gives their shown form and fill.
    #[pyo3(signature = (palette = None))]
    fn names_for_twin<'py>(
        &self,
        py: Python<'py>,
        palette: Option<&str>,
    ) -> PyResult<Bound<'py, PyList>> {
        let palette = palette.and_then(Palette::new);
        let out = PyList::empty(py);
        for i in 0..self.tree.name_count() {
            let name = self.tree.name(i);
            if !palette.as_ref().is_some_and(|p| p.colours(name)) {
                out.append((i, text(py, name, "surrogatepass")?))?;
            }
        }
        Ok(out)
    }

    /// `(names_bytes, raw_bytes, (selfs, name_ids, depths types), base64 data)` of the payload,
    /// fills from `palette` (None: every name from `given`), `given` `{name id: (shown name, rgb
    /// bytes)}` for the names `names_for_twin` listed, gzip at `level`.
    #[pyo3(signature = (palette, given, level))]
    fn pack<'py>(
        &self,
        py: Python<'py>,
        palette: Option<&str>,
        given: &Bound<'py, PyDict>,
        level: u32,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let palette = palette.and_then(Palette::new);
        let mut shown: HashMap<u32, Shown> = HashMap::with_capacity(given.len());
        for (id, value) in given.iter() {
            let (name, fill): (String, Vec<u8>) = value.extract()?;
            let rgb = <[u8; 3]>::try_from(fill.as_slice())
                .map_err(|_| pyo3::exceptions::PyValueError::new_err("a fill is three bytes"))?;
            shown.insert(id.extract()?, (name.into_bytes(), rgb));
        }
        let tree = &self.tree;
        let packed = py.detach(|| {
            guard("viewer payload", || {
                pack(tree, palette.as_ref(), |i| shown.get(&i).cloned(), level)
            })
        })?;
        let Some(packed) = packed else {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "a name has no fill",
            ));
        };
        (
            packed.names_bytes,
            packed.raw_bytes,
            PyTuple::new(py, packed.types)?,
            PyBytes::new(py, &packed.data),
        )
            .into_pyobject(py)
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
        for side in &tree.selfs {
            let raw: Vec<u8> = side.iter().flat_map(|v| v.to_ne_bytes()).collect();
            selfs.append(PyBytes::new(py, &raw))?;
        }
        (
            names,
            PyBytes::new(py, &ne(&tree.name_ids)),
            PyBytes::new(py, &ne(&tree.depths)),
            selfs,
        )
            .into_pyobject(py)
    }
}

/// Register this file's classes and functions in `foldkit._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ViewerTree>()?;
    m.add_function(wrap_pyfunction!(viewer_tree, m)?)?;
    Ok(())
}
