//! Between Python and the core: Python ints and strs from the core's numbers and bytes, the
//! bytes of Python strs for the core, and panics turned into Python errors. Every binding
//! converts through here.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use pyo3::BoundObject;

/// Run `f`, turning a panic into a `RuntimeError`.
pub(crate) fn guard<T>(what: &str, f: impl FnOnce() -> T) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        PyRuntimeError::new_err(format!("internal error in the native {what}: {detail}"))
    })
}

/// A Python int from any integer (through i64, the common case, when it fits).
pub(crate) fn int<'py, T>(py: Python<'py>, value: T) -> PyResult<Bound<'py, PyAny>>
where
    T: Copy + TryInto<i64> + IntoPyObject<'py>,
    PyErr: From<<T as IntoPyObject<'py>>::Error>,
{
    match value.try_into() {
        Ok(small) => Ok(small.into_pyobject(py)?.into_any()),
        Err(_) => Ok(value.into_pyobject(py)?.into_bound().into_any()),
    }
}

/// `bytes.decode("utf-8", errors)` as a str (a plain copy when the bytes are valid UTF-8).
pub(crate) fn text<'py>(py: Python<'py>, raw: &[u8], errors: &str) -> PyResult<Bound<'py, PyAny>> {
    match std::str::from_utf8(raw) {
        Ok(s) => Ok(PyString::new(py, s).into_any()),
        Err(_) => PyBytes::new(py, raw).call_method1("decode", ("utf-8", errors)),
    }
}

/// Keeps the UTF-8 of Python strings alive: the str itself, or (for a str holding surrogates)
/// its encoding with the `errors` handler (`surrogatepass`, `surrogateescape`).
pub(crate) struct Texts<'py> {
    held: Vec<Bound<'py, PyAny>>,
    errors: &'static str,
}

impl<'py> Texts<'py> {
    pub(crate) fn new(errors: &'static str) -> Self {
        Texts {
            held: Vec::new(),
            errors,
        }
    }

    pub(crate) fn hold(&mut self, s: &Bound<'py, PyAny>) -> PyResult<()> {
        let s = s.cast::<PyString>()?;
        if s.to_str().is_ok() {
            self.held.push(s.clone().into_any());
        } else {
            self.held
                .push(s.call_method1("encode", ("utf-8", self.errors))?);
        }
        Ok(())
    }

    pub(crate) fn bytes(&self) -> PyResult<Vec<&[u8]>> {
        self.held
            .iter()
            .map(|h| match h.cast::<PyString>() {
                Ok(s) => Ok(s.to_str()?.as_bytes()),
                Err(_) => Ok(h.cast::<PyBytes>()?.as_bytes()),
            })
            .collect()
    }
}
