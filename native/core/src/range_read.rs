//! Reading a file by byte ranges that start and end at record boundaries, for threads that each
//! read their own range with `pread` (no memory map, so a file truncated while it is read cannot
//! crash the process). The perf folder's records end with a blank line (`perf::pool`), the
//! folded reader's with a line break (`folded::file`).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Fill `buf` from `file` at offset `at`; fewer bytes only at the end of the file.
pub fn read_full(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let got = file.read_at(&mut buf[n..], at + n as u64)?;
        if got == 0 {
            break;
        }
        n += got;
    }
    Ok(n)
}

/// Finds where records start: just after a record's terminator (`end`), reading `step` bytes at
/// a time into a buffer kept from one search to the next.
pub struct Boundaries {
    end: &'static [u8],
    step: usize,
    scan: Vec<u8>,
}

impl Boundaries {
    /// Boundaries of records that end with `end` (not empty), searched `step` bytes at a time.
    pub fn new(end: &'static [u8], step: usize) -> Boundaries {
        assert!(!end.is_empty(), "a record ends with some bytes");
        Boundaries {
            end,
            step: step.max(1),
            scan: Vec::new(),
        }
    }

    /// The first record start at or after `offset` in a file of `size` bytes (0 is one; `size`
    /// when no record starts after `offset`); None when no record ends within `max_record` bytes
    /// of `offset`.
    pub fn at_or_after(
        &mut self,
        file: &File,
        size: u64,
        offset: u64,
        max_record: u64,
    ) -> io::Result<Option<u64>> {
        if offset == 0 || offset >= size {
            return Ok(Some(offset.min(size)));
        }
        // a record starts at `offset` when the bytes before it end one
        let origin = offset.saturating_sub(self.end.len() as u64);
        let overlap = self.end.len() - 1; // so that an `end` across two reads is found
        self.scan.resize(self.step + overlap, 0);
        let mut start = origin;
        while start < size {
            if start - origin > max_record {
                return Ok(None);
            }
            let want = self.scan.len().min((size - start) as usize);
            let n = read_full(file, &mut self.scan[..want], start)?;
            if n == 0 {
                break; // the file shrank while it was read
            }
            if let Some(i) = memchr::memmem::find(&self.scan[..n], self.end) {
                return Ok(Some(start + (i + self.end.len()) as u64));
            }
            if start + n as u64 >= size {
                break; // searched to the end
            }
            start += n.saturating_sub(overlap).max(1) as u64;
        }
        Ok(Some(size))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn file_with(text: &[u8]) -> File {
        let path = std::env::temp_dir().join(format!(
            "foldkit-range-read-{}-{}",
            std::process::id(),
            text.len()
        ));
        File::create(&path).unwrap().write_all(text).unwrap();
        let file = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        file
    }

    #[test]
    fn every_offset_finds_the_next_record_start() {
        let text = b"a 1\n\nbb 2\ncc 3\n\n\nd 4\n";
        let file = file_with(text);
        let size = text.len() as u64;
        for (end, step) in [(&b"\n"[..], 1), (b"\n", 3), (b"\n\n", 1), (b"\n\n", 4)] {
            let mut boundaries = Boundaries::new(end, step);
            for offset in 0..=size + 1 {
                let found = boundaries.at_or_after(&file, size, offset, 100).unwrap();
                let expected = if offset == 0 {
                    0
                } else {
                    (offset..size)
                        .find(|&at| text[..at as usize].ends_with(end))
                        .unwrap_or(size)
                };
                assert_eq!(found, Some(expected), "{end:?} step {step} offset {offset}");
            }
        }
    }

    #[test]
    fn a_record_longer_than_allowed_has_no_start() {
        let text = [b"x".repeat(100), b"\n\ny 1\n".to_vec()].concat();
        let file = file_with(&text);
        let size = text.len() as u64;
        let mut boundaries = Boundaries::new(b"\n\n", 8);
        assert_eq!(boundaries.at_or_after(&file, size, 10, 20).unwrap(), None);
        assert_eq!(
            boundaries.at_or_after(&file, size, 10, 200).unwrap(),
            Some(102)
        );
    }
}
