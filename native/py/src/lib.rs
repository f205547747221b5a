//! `foldkit._native`: the Python face of `foldkit-core`.

use pyo3::prelude::*;

mod bpf;
mod check;
mod convert;
mod folded;
mod folded_text;
mod layout;
mod perf;
mod pprof;
mod read_ahead;
mod sched;
mod svg;
mod table;
mod table_diff;
mod timeline;
mod viewer;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", foldkit_core::VERSION)?;
    m.add("MAX_DEFERRED", foldkit_core::folded::file::MAX_DEFERRED)?;
    // a panic in a folding thread is caught and reported as an input error with its message;
    // the default hook would also print it raw to stderr (this module's own std, not Python's)
    std::panic::set_hook(Box::new(|_| {}));
    bpf::register(m)?;
    check::register(m)?;
    folded_text::register(m)?;
    perf::register(m)?;
    pprof::register(m)?;
    folded::register(m)?;
    layout::register(m)?;
    read_ahead::register(m)?;
    sched::register(m)?;
    viewer::register(m)?;
    svg::register(m)?;
    table::register(m)?;
    table_diff::register(m)?;
    timeline::register(m)?;
    Ok(())
}
