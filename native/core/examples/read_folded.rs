//! Reads a plain folded file into the stack table with `read_file`, several times; prints each
//! run's wall time and the best. `cargo run --release --example read_folded -- FILE [THREADS]
//! [RUNS]` (a profiling aid, not a benchmark against other tools: see benchmarks/bench_scale.py).

use std::path::Path;
use std::time::Instant;

use foldkit_core::folded::file::{read_file, MAX_DEFERRED, MIN_SPLIT};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: read_folded FILE [THREADS] [RUNS]");
        std::process::exit(2);
    };
    let threads: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(1);
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let start = Instant::now();
        let read = read_file(Path::new(&path), threads, MIN_SPLIT, 1 << 30, MAX_DEFERRED);
        let took = start.elapsed().as_secs_f64();
        match read {
            Ok(Some(stacks)) => println!(
                "{} stacks, {} lines: {took:.3} s",
                stacks.stacks.len(),
                stacks.lines
            ),
            Ok(None) => println!("left to the stream reader: {took:.3} s"),
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        }
        best = best.min(took);
    }
    println!("best {best:.3} s");
}
