//! Python face of the scheduler-event pairing (`fold --off-cpu` / `--wall`): `SchedEvents`, the
//! samples a `PerfFolder` folding for it kept, handed out by its `finish()` under `sched`.

use foldkit_core::perf::sched::{self, Kind, OnCpu, PairOptions, SchedChunk, NOT_ASCII};
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

    /// The samples kept, for the twin's pairing (when the core handed a chunk back): per chunk,
    /// `(chunk index, untimed samples, latest time, rows)`, each row in file order one of
    /// `(time, "switch", prev, next, stack id, state)`, `(time, "wakeup", 0, target, stack id, "")`
    /// and `(time, "sample", thread, period, stack id, on-CPU event name)`.
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let names = self
            .events
            .iter()
            .map(|n| text(py, sched::on_cpu_name(n), "surrogateescape"))
            .collect::<PyResult<Vec<_>>>()?;
        let mut out = Vec::with_capacity(self.chunks.len());
        for (index, chunk) in &self.chunks {
            let mut rows = Vec::with_capacity(chunk.events.len());
            for e in &chunk.events {
                let (kind, a, b, extra) = match e.kind {
                    Kind::Switch { prev, next, state } => (
                        "switch",
                        int(py, prev)?,
                        int(py, next)?,
                        state_text(py, state)?,
                    ),
                    Kind::Wakeup { target } => (
                        "wakeup",
                        int(py, 0)?,
                        int(py, target)?,
                        "".into_pyobject(py)?.into_any(),
                    ),
                    Kind::Sample {
                        event,
                        thread,
                        period,
                    } => (
                        "sample",
                        int(py, thread)?,
                        int(py, period)?,
                        names[event as usize].clone(),
                    ),
                };
                rows.push(PyTuple::new(
                    py,
                    [
                        int(py, e.time)?,
                        kind.into_pyobject(py)?.into_any(),
                        a,
                        b,
                        e.stack.into_pyobject(py)?.into_any(),
                        extra,
                    ],
                )?);
            }
            out.push(PyTuple::new(
                py,
                [
                    index.into_pyobject(py)?.into_any(),
                    chunk.untimed.into_pyobject(py)?.into_any(),
                    int(py, chunk.last)?,
                    PyList::new(py, rows)?.into_any(),
                ],
            )?);
        }
        PyList::new(py, out)
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
                    Some(off) => state_text(py, off.state)?,
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

/// A state letter as the twin writes it (U+FFFD for one that is not ASCII).
fn state_text(py: Python<'_>, state: u8) -> PyResult<Bound<'_, PyAny>> {
    let letter = if state == NOT_ASCII {
        '\u{FFFD}'
    } else {
        char::from(state)
    };
    Ok(letter.to_string().into_pyobject(py)?.into_any())
}

/// Register the class in the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SchedEvents>()
}
