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

/// `len` zeros written into fresh memory (not `vec![0; len]`: calloc's untouched pages are
/// first mapped to the shared zero page when read, then copied on the first write, and with
/// other threads running each copy flushes their TLBs by interrupt).
pub(crate) fn written_zeros<T: Copy + Default>(len: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    v.resize(len, T::default());
    v
}

/// `size` zeros in the memory of `slots` when it holds enough (pages already written: none is
/// faulted in again, nor given back to the system), else in new memory zeroed by writing.
pub(crate) fn zeros_in<T: Copy + Default>(mut slots: Vec<T>, size: usize) -> Vec<T> {
    if slots.capacity() >= size {
        slots.clear();
        slots.resize(size, T::default());
        slots
    } else {
        written_zeros(size)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_set() {
        assert!(!super::VERSION.is_empty());
    }

    #[test]
    fn written_zeros_are_zeros_of_the_length_asked() {
        for len in [0, 1, 7, 1 << 20] {
            let v: Vec<u64> = super::written_zeros(len);
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|&x| x == 0));
            let w: Vec<i128> = super::written_zeros(len);
            assert_eq!(w.len(), len);
            assert!(w.iter().all(|&x| x == 0));
        }
    }
}
