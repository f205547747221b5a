//! Python face of the scheduler-event pairing (`fold --off-cpu` / `--wall`): `SchedEvents`, the
//! samples a `PerfFolder` folding for it kept, handed out by its `finish()` under `sched`.

use foldkit_core::perf::sched::{self, OnCpu, PairOptions, SchedChunk, NOT_ASCII};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::convert::{int, text};

/// The timed samples of a capture kept for the pairing, with the event names their ids index.
#[pyclass(module = "foldkit._native", frozen)]
pub struct SchedEvents {
    chunks: Vec<(usize, SchedChunk)>,
    events: Vec<Vec<u8>>,
}

impl SchedEvents {
    pub fn new(chunks: Vec<(usize, SchedChunk)>, events: Vec<Vec<u8>>) -> Self {
        SchedEvents { chunks, events }
    }
}

#[pymethods]
impl SchedEvents {
    /// `sched:sched_switch` events read.
    #[getter]
    fn switches(&self) -> usize {
        sched::switches(&self.chunks)
    }

    /// Samples without a timestamp (left out).
    #[getter]
    fn untimed(&self) -> usize {
        self.chunks.iter().map(|c| c.1.untimed).sum()
    }

    /// The on-CPU events' names (before any `/`), each once.
    fn on_cpu_events<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let names = sched::on_cpu_names(&self.chunks, &self.events)
            .iter()
            .map(|n| text(py, n, "surrogateescape"))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, names)
    }

    /// Pair the switches in time order: `(charges, still_off, missing)`, the charges in the
    /// order first made as `(stack id, state or None for on-CPU time, waker stack id or None,
    /// ns, intervals or samples)`. `states`: the letters charged (None: all); `on_cpu`: the
    /// on-CPU event charged (`--wall`), each sample for its period or `each` ns.
    #[pyo3(signature = (states, wakeups, on_cpu = None, each = None))]
    fn pair<'py>(
        &self,
        py: Python<'py>,
        states: Option<Vec<u8>>,
        wakeups: bool,
        on_cpu: Option<Vec<u8>>,
        each: Option<u64>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let paired = py.detach(|| {
            let opts = PairOptions {
                states: states.as_deref(),
                wakeups,
                on_cpu: on_cpu.as_deref().map(|name| OnCpu { name, each }),
            };
            sched::pair(&self.chunks, &self.events, &opts)
        });
        let charges = paired
            .charges
            .iter()
            .map(|c| {
                let state = match c.off {
                    None => py.None().into_bound(py),
                    Some(off) if off.state == NOT_ASCII => "\u{FFFD}".into_pyobject(py)?.into_any(),
                    Some(off) => char::from(off.state)
                        .to_string()
                        .into_pyobject(py)?
                        .into_any(),
                };
                let waker = c.off.and_then(|off| off.waker);
                PyTuple::new(
                    py,
                    [
                        c.stack.into_pyobject(py)?.into_any(),
                        state,
                        waker.into_pyobject(py)?.into_any(),
                        int(py, c.weight)?,
                        c.count.into_pyobject(py)?.into_any(),
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(
            py,
            [
                PyList::new(py, charges)?.into_any(),
                paired.still_off.into_pyobject(py)?.into_any(),
                paired.missing.into_pyobject(py)?.into_any(),
            ],
        )
    }
}

/// Register the class in the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SchedEvents>()
}
