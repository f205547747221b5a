//! Folds a perf script file as `foldkit fold` does (threads reading byte ranges, then the
//! merge), several times; prints the phases of the best run.
//! `cargo run --release --example fold_pool -- FILE [JOBS] [RUNS] [tid,addrs,pid,kernel] [RANGE]`
//! (RANGE: bytes per range, 8 MiB unless given; a
//! profiling aid, not a benchmark against other tools: see benchmarks/bench_fold.py).

use std::fs::File;
use std::sync::Arc;
use std::time::{Duration, Instant};

use foldkit_core::perf::pool::{ranges, Hooks, Pool, Pushed, Task};
use foldkit_core::perf::FoldConfig;

/// No line is left to Python here; a chunk for the line path is counted.
struct NoPython;

impl Hooks for NoPython {
    fn name_line(&self, _: &[u8], _: bool) -> Option<Option<Vec<u8>>> {
        None
    }
    fn fallback(&self, index: usize, _: &[u8]) -> Result<(), String> {
        eprintln!("chunk {index} left to the line path");
        Ok(())
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: fold_pool FILE [JOBS] [RUNS]");
        std::process::exit(2);
    };
    let jobs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(2);
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let flags = args.next().unwrap_or_default();
    let step: u64 = args.next().and_then(|r| r.parse().ok()).unwrap_or(8 << 20);
    let mut cfg = FoldConfig::default();
    for flag in flags.split(',').filter(|f| !f.is_empty()) {
        match flag {
            "tid" => cfg.tid = true,
            "pid" => cfg.pid = true,
            "addrs" => cfg.names.addrs = true,
            "kernel" => cfg.names.kernel = true,
            _ => panic!("unknown flag {flag}"),
        }
    }
    let file = Arc::new(File::open(&path).expect("open"));
    let size = file.metadata().expect("size").len();
    let mut best = (f64::INFINITY, 0.0, 0.0);
    for _ in 0..runs {
        let start = Instant::now();
        let mut pool = Pool::new(&cfg, jobs, Arc::new(NoPython));
        for (index, (first, last)) in ranges(size, step, jobs).enumerate() {
            let mut task = Task::Range {
                index,
                file: file.clone(),
                size,
                first,
                last,
                max_record: 64 << 20,
                lines: false,
            };
            loop {
                match pool.push(task, Duration::from_millis(50)) {
                    Pushed::Sent => break,
                    Pushed::Full(back) => task = back,
                    Pushed::Stopped => panic!("stopped"),
                }
            }
        }
        pool.close();
        while !pool.wait(Duration::from_millis(50)) {}
        let folded_at = start.elapsed().as_secs_f64();
        let folded = pool.join().expect("fold");
        let total = start.elapsed().as_secs_f64();
        eprintln!(
            "{total:.3} s (fold {folded_at:.3} s, join+merge {:.3} s), {} stacks",
            total - folded_at,
            folded.stacks.len()
        );
        if total < best.0 {
            best = (total, folded_at, total - folded_at);
        }
    }
    println!(
        "best {:.3} s (fold {:.3}, join+merge {:.3}): {:.0} MB/s",
        best.0,
        best.1,
        best.2,
        size as f64 / 1e6 / best.0
    );
}
