//! `foldkit._native`: the Python face of `foldkit-core`.

use pyo3::prelude::*;

mod perf;
mod render;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", foldkit_core::VERSION)?;
    perf::register(m)?;
    render::register(m)?;
    Ok(())
}
