//! The bpftrace and BCC readers (`foldkit/ingest/bpftrace.py`, `bcc.py` are their Python twins
//! and stay the reference): lines are read here, distinct frame lines, stacks and keys are
//! interned once, and the chosen stacks are folded into one [`crate::table::Stacks`] arena.
//!
//! Frame lines of printable ASCII are named here; any other line is named by the Python twin
//! (the caller hands its names in), so Unicode rules never differ.

pub mod bcc;
pub mod bpftrace;
pub mod intern;
pub mod json;
pub mod names;
pub mod text;
