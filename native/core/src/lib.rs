//! foldkit's hot loops in plain Rust: no Python types here, so `cargo test` and fuzzing need no
//! interpreter. The `foldkit-native` crate wraps these functions for Python.

#![forbid(unsafe_code)]

pub mod demangle;
pub mod folded;
pub mod folded_file;
pub mod folded_text;
pub mod layout;
pub mod perf;
pub mod perf_frames;
pub mod perf_header;
pub mod perf_pool;
pub mod perf_stream;
pub mod pprof;
pub mod table;

/// Version of the native core (the crate's version), shown by `foldkit --version -v`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_set() {
        assert!(!super::VERSION.is_empty());
    }
}
