//! foldkit's hot loops in plain Rust: no Python types here, so `cargo test` and fuzzing need no
//! interpreter. The `foldkit-native` crate wraps these functions for Python.

#![forbid(unsafe_code)]

pub mod bpf;
pub mod check_columns;
pub mod demangle;
pub mod folded;
pub mod function_sums;
pub mod layout;
pub mod name_match;
pub mod palette;
pub mod perf;
pub mod pprof;
pub mod range_read;
pub mod speedscope;
pub mod stack_order;
pub mod svg_document;
pub mod svg_frames;
pub mod svg_palette;
pub mod table;
pub mod table_diff;
pub mod timeline;
pub mod viewer;

/// Version of the native core (the crate's version), shown by `foldkit --version -v`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_set() {
        assert!(!super::VERSION.is_empty());
    }
}
