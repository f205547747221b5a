//! What the profiling examples share: this process's CPU time and page faults from
//! /proc/self/stat, and a sink that counts the bytes written to it.

use std::io;

/// The fields of /proc/self/stat after the command's name, as numbers (0 where unreadable).
fn stat(fields: &[usize]) -> Vec<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let all: Vec<&str> = after.split_whitespace().collect();
    fields
        .iter()
        .map(|&i| {
            all.get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        })
        .collect()
}

/// CPU seconds of this process so far (user and system, every thread).
pub fn cpu() -> f64 {
    stat(&[11, 12]).iter().sum::<f64>() / 100.0
}

/// Minor page faults of this process so far.
#[allow(dead_code)] // (not every example prints them)
pub fn faults() -> u64 {
    stat(&[7])[0] as u64
}

/// A sink that counts the bytes it is given.
pub struct Counted(pub usize);

impl io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
